"""Answering: the `Recognizer` (one glyph) and the inscription reader (several)."""
