"""Files on the ground floor: audio in, JSON in, anything out written atomically.

Every command reads and writes through here, so a bad file gets the same one-line error
whichever command meets it.
"""
