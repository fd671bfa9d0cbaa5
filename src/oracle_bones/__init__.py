"""Recognise a hand-drawn oracle bone script glyph (甲骨文) and name it in modern Chinese."""

from .glyph import EmptyDrawing, GlyphError, InvalidImage, to_tensor

__all__ = ["EmptyDrawing", "GlyphError", "InvalidImage", "to_tensor"]
DEFAULT_MODEL_REPO = "oracle-bones/oracle-bone-recognizer"
DEFAULT_DATASET_REPO = "oracle-bones/oracle-bone-glyphs"
