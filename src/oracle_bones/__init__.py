"""Recognise a hand-drawn oracle bone script glyph (甲骨文) and name it in modern Chinese."""

from .glyphs.glyph import EmptyDrawing, GlyphError, InvalidImage, to_tensor
from .hub import DEFAULT_DATASET_REPO, DEFAULT_MODEL_REPO
from .reading.recognizer import Prediction, Recognizer

__all__ = [
    "DEFAULT_DATASET_REPO",
    "DEFAULT_MODEL_REPO",
    "EmptyDrawing",
    "GlyphError",
    "InvalidImage",
    "Prediction",
    "Recognizer",
    "to_tensor",
]
