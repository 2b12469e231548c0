"""Continuo: streaming transcription of a voice into notes, and the notes themselves."""
