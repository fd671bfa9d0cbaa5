"""A page turned upright: the skew of a photographed inscription, found and undone.

A phone held over a page is rarely square to it: at 8 degrees a column of glyphs drifts by a
glyph's width from top to bottom, the strip of paper between two columns closes, and their
glyphs are read as one line. The skew is the angle at which the ink's projections on both axes
are sharpest (columns and the gaps between glyphs line up), searched coarse then fine over the
ink's own pixels, not by turning pictures. A page is turned only when that is clearly better
than leaving it be, and only a photo: on line drawings made square the search finds a few
degrees in glyphs' slanted strokes (past both thresholds on about 17 of 80 upright pages of
validation glyphs, once 15 degrees).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from .glyph import INK_LEVEL

MAX_SKEW = 15.0  # degrees either way: a photo turned further is retaken, not read
MIN_SKEW = 1.0  # degrees: below this, reading as it is loses nothing (glyphs tolerate 12)
MIN_GAIN = 1.05  # the upright projections must be this much sharper than the page's own
POINTS = 20_000  # ink pixels sampled for the search: enough for a page, fast for any


@dataclass(frozen=True)
class Turn:
    """A rotation about the picture's centre, and the size of the picture it makes."""

    degrees: float
    source_shape: tuple[int, int]

    @property
    def matrix(self) -> np.ndarray:
        """Maps (row, col) offsets from the upright picture's centre to the source's."""
        a = math.radians(self.degrees)
        return np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])

    @property
    def shape(self) -> tuple[int, int]:
        h, w = self.source_shape
        corners = np.array([[0, 0], [0, w], [h, 0], [h, w]], float) - [h / 2, w / 2]
        span = np.ptp(corners @ self.matrix, axis=0)  # rows of M^T applied: source -> upright
        return math.ceil(span[0]), math.ceil(span[1])

    def apply(self, image: np.ndarray, mode: str = "constant") -> np.ndarray:
        """`image` (the source's shape) turned upright; corners outside it filled by `mode`
        ("constant": 0, no ink; "nearest": the edge's own paper)."""
        centre_out = (np.array(self.shape) - 1) / 2
        centre_in = (np.array(self.source_shape) - 1) / 2
        offset = centre_in - self.matrix @ centre_out
        return ndimage.affine_transform(
            image, self.matrix, offset, output_shape=self.shape, order=1, mode=mode
        ).astype(image.dtype, copy=False)

    def to_source(self, rows: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Upright pixel coordinates -> the source's."""
        centre_out = (np.array(self.shape) - 1) / 2
        centre_in = (np.array(self.source_shape) - 1) / 2
        points = self.matrix @ np.stack([rows - centre_out[0], cols - centre_out[1]])
        return points[0] + centre_in[0], points[1] + centre_in[1]


def skew(ink: np.ndarray) -> Turn | None:
    """The turn that sets the page's ink upright, or None when it is upright enough."""
    rows, cols = np.nonzero(ink > INK_LEVEL)
    if len(rows) < 2:
        return None
    if len(rows) > POINTS:
        keep = np.random.default_rng(0).choice(len(rows), POINTS, replace=False)
        rows, cols = rows[keep], cols[keep]
    rows = rows - ink.shape[0] / 2
    cols = cols - ink.shape[1] / 2
    coarse = np.arange(-MAX_SKEW, MAX_SKEW + 0.5, 1.0)
    best = max(coarse, key=lambda a: _sharpness(rows, cols, a))
    fine = np.arange(best - 1.0, best + 1.01, 0.25)
    best = float(max(fine, key=lambda a: _sharpness(rows, cols, a)))
    if abs(best) < MIN_SKEW or _sharpness(rows, cols, best) < MIN_GAIN * _sharpness(
        rows, cols, 0.0
    ):
        return None
    return Turn(best, ink.shape)


def _sharpness(rows: np.ndarray, cols: np.ndarray, degrees: float) -> float:
    """How peaked the ink's projections are once turned by `degrees`: the sum of squares of
    both profiles (ink spread along a slanted column adds up to less than in a straight one)."""
    a = math.radians(degrees)
    up_rows = math.cos(a) * rows + math.sin(a) * cols  # M^T: source -> upright
    up_cols = -math.sin(a) * rows + math.cos(a) * cols
    total = 0.0
    for v in (up_rows, up_cols):
        counts = np.bincount(np.round(v - v.min()).astype(np.int64))
        total += float(counts @ counts)
    return total
