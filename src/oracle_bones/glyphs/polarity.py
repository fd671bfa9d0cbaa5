"""Which is ink: a picture whose marks are lighter than their ground (a rubbing, chalk on a
blackboard, a negative) is turned over, so that everything after it reads dark ink on light paper.

A rubbing (拓片) is the bone black and the carved strokes white, often on a white page: the page is
light, the bone dark, the strokes light again. What tells ground from mark is thickness, not
lightness: strokes are thin, the ground they are cut into is not; and a dark ground is dark (a
shadow across a photographed page is thick too, but lighter, and holds no clear marks). Within
what is not the page (the light that reaches the picture's edge in wide areas), when the dark is
much thicker than the light inside it, the dark is the ground: the picture is turned over there,
and the page takes the ground's level, so it is read neither as ink nor as paper brighter than
the bone.
"""

from __future__ import annotations

import numpy as np
from PIL import Image
from scipy import ndimage

PROBE_SIDE = 256  # decided on a small copy (a few milliseconds) where hairlines still show,
GLANCE_SIDE = 128  # after a glance at a smaller one (well under a millisecond) ...
MIN_GROUND = 0.15  # ... finds this share of the picture dark, at least ...
MIN_THICK = 0.012  # ... and that dark this thick (median, of the side): not a drawing's strokes
MIN_MARKS = 0.001  # of the picture, at least, light inside the dark: marks to read
MIN_PARTS = 8  # separate light marks: strokes, not the holes of a heavy glyph (口, 田) ...
WIDE = 0.03  # ... unless the ground is this thick (of the picture's side): one glyph rubbed
THICKER = 2.5  # the ground's median thickness over the marks', at least
MAX_GROUND = 0.36  # a dark ground is this dark at most (a shadow on paper is lighter) ...
MIN_GAP = 0.2  # ... and its marks this much lighter (grain in a shadow is not)
PAGE_RADIUS = 3  # probe pixels: light this wide, touching the edge, is page (not a stroke)


def positive(grey: np.ndarray) -> np.ndarray:
    """`grey` (float, 0 black .. 1 white) with dark ink on light paper: as it is when it is so
    already, else turned over within its dark ground (see the module's docstring)."""
    page = _dark_ground(grey)
    if page is None:
        return grey
    flipped = 1.0 - grey
    if page.any():
        ground = float(np.median(flipped[~page]))
        flipped = np.where(page, ground, flipped)
    return flipped.astype(np.float32)


def _dark_ground(grey: np.ndarray) -> np.ndarray | None:
    """None when the marks are dark (the usual case); else the page round a dark ground, as a
    mask at `grey`'s size (empty when the ground reaches the edges)."""
    glance = _probe(grey, GLANCE_SIDE)
    dark = glance < _otsu(glance)
    if dark.mean() < MIN_GROUND:
        return None
    if np.median(ndimage.distance_transform_edt(dark)[dark]) < MIN_THICK * max(glance.shape):
        return None
    small = _probe(grey, PROBE_SIDE)
    level = _otsu(small)
    dark = small < level
    if dark.mean() < MIN_GROUND or level > 0.92 or level < 0.08:
        return None
    page = _page(~dark)
    marks = ~dark & ~page
    if marks.mean() < MIN_MARKS:
        return None
    ground = float(np.median(small[dark]))
    if ground > MAX_GROUND or float(np.median(small[marks])) - ground < MIN_GAP:
        return None
    thick_dark = np.median(ndimage.distance_transform_edt(dark)[dark])
    thick_marks = np.median(ndimage.distance_transform_edt(marks)[marks])
    if thick_dark < THICKER * thick_marks:
        return None
    if thick_dark < WIDE * max(small.shape) and ndimage.label(marks)[1] < MIN_PARTS:
        return None
    if not page.any():
        return np.zeros(grey.shape, bool)
    up = Image.fromarray(page.astype(np.uint8) * 255).resize(grey.shape[::-1], Image.NEAREST)
    return np.asarray(up) > 127


def _probe(grey: np.ndarray, side: int) -> np.ndarray:
    h, w = grey.shape
    scale = side / max(h, w)
    if scale >= 1:
        return grey
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    img = Image.fromarray(grey.astype(np.float32), mode="F").resize(size, Image.BOX)
    return np.asarray(img, dtype=np.float32)


def _otsu(grey: np.ndarray) -> float:
    """The grey level that best splits the picture in two (Otsu's threshold)."""
    hist, edges = np.histogram(grey, bins=64, range=(0.0, 1.0))
    p = hist / max(hist.sum(), 1)
    centres = (edges[:-1] + edges[1:]) / 2
    w0 = np.cumsum(p)
    m0 = np.cumsum(p * centres)
    between = (m0[-1] * w0 - m0) ** 2 / np.maximum(w0 * (1 - w0), 1e-12)
    return float(edges[int(np.argmax(between)) + 1])


def _page(light: np.ndarray) -> np.ndarray:
    """Light that reaches the picture's edge in areas wider than a stroke: the page."""
    wide = ndimage.binary_opening(light, iterations=PAGE_RADIUS)
    labels, n = ndimage.label(wide)
    if not n:
        return np.zeros_like(light)
    edge = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
    page = np.isin(labels, edge[edge > 0])
    return ndimage.binary_dilation(page, iterations=PAGE_RADIUS) & light
