"""Re-drawing a glyph with a uniform round pen: what a Sketchpad delivers.

The glyph is skeletonised once; any pen width is then one comparison against the distance
to the skeleton, so training can redraw thousands of glyphs per batch for free.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy import ndimage
from skimage.morphology import skeletonize

from .glyph import INPUT_SIZE, resize

SKELETON_SIDE = 256
PEN_WIDTH = 2.5  # pixels at INPUT_SIZE: a medium brush on a Sketchpad, glyph filling the canvas
MAX_DISTANCE = 16.0


def skeleton_distance(square: np.ndarray, size: int = INPUT_SIZE) -> np.ndarray:
    """Distance (in pixels at `size`) from every pixel to the glyph's centre lines."""
    hi = resize(square, SKELETON_SIDE)
    skeleton = skeletonize(hi > 0.4)
    if not skeleton.any():
        skeleton = hi >= hi.max()
    distance = ndimage.distance_transform_edt(~skeleton).astype(np.float32)
    scale = SKELETON_SIDE / size
    return resize(np.minimum(distance / scale, MAX_DISTANCE) / MAX_DISTANCE, size) * MAX_DISTANCE


def stroke(distance: np.ndarray | torch.Tensor, width: float | torch.Tensor = PEN_WIDTH):
    """Ink of a round pen of `width` pixels run along the skeleton, anti-aliased by one pixel."""
    ink = width / 2 + 0.5 - distance
    return ink.clip(0.0, 1.0) if isinstance(ink, np.ndarray) else ink.clamp(0.0, 1.0)


def pen_drawn(square: np.ndarray, size: int = INPUT_SIZE, width: float = PEN_WIDTH) -> np.ndarray:
    """The glyph as if traced with a uniform round pen, at the model's input size."""
    return stroke(skeleton_distance(square, size), width).astype(np.float32)
