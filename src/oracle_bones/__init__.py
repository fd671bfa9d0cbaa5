"""Recognise a hand-drawn oracle bone script glyph (甲骨文) and name it in modern Chinese."""

DEFAULT_MODEL_REPO = "oracle-bones/oracle-bone-recognizer"
DEFAULT_DATASET_REPO = "oracle-bones/oracle-bone-glyphs"

from .glyph import EmptyDrawing, GlyphError, InvalidImage, to_tensor  # noqa: E402
from .recognizer import Prediction, Recognizer  # noqa: E402

__all__ = ["EmptyDrawing", "GlyphError", "InvalidImage", "Prediction", "Recognizer", "to_tensor"]
