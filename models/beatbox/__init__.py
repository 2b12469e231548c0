"""Vocal-percussion (beatbox) data: a generated, labelled corpus of mouth-drum hits."""
