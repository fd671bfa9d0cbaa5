"""Ink from a photo of paper: the paper's uneven light estimated and divided out.

A phone photo of ink on paper has no single paper level: light falls off across the page, a
shadow crosses it, the paper is tinted or ruled, the sensor adds grain. `glyph.ink_map` hands
such pictures here (clean drawings, whose paper is white along the edges, never come here).
The paper's brightness is estimated at every pixel by a grey closing wider than the strokes,
so each pixel is read against the paper around it; faint marks (rules, grain, the edge of a
shadow) fall below a floor set by the ink's own darkness, and specks smaller than a pen's dot
are dropped.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

INK_FLOOR = 0.25  # of the ink's darkness: fainter marks (ruled lines, shadow edges) are paper
NOISE_SIGMAS = 6.0  # a pixel this many noise deviations darker than its paper may be ink
FULL_INK = 75  # percentile of the candidate ink pixels' darkness that counts as full ink
MIN_DARKNESS = 0.15  # the ink must be this much darker than its paper (share of its light)
MIN_INK_PIXELS = 4  # as for a clean drawing: any visible stroke is a glyph


def paper_light(grey: np.ndarray, stroke_width: float) -> np.ndarray:
    """The paper's brightness under every pixel: a closing that erases strokes, smoothed."""
    k = int(2 * stroke_width) | 1
    k = max(k + 2, 7)
    light = ndimage.grey_closing(grey, size=(k, k), mode="nearest")
    return ndimage.uniform_filter(light, size=k, mode="nearest")


def stroke_width(mask: np.ndarray) -> float:
    """Mean width of the strokes in `mask`: four times the mean distance to the paper."""
    if not mask.any():
        return 3.0
    inside = ndimage.distance_transform_edt(mask)[mask]
    return float(np.clip(4 * inside.mean(), 2.0, max(mask.shape) / 8))


def photo_ink(grey: np.ndarray) -> np.ndarray | None:
    """Ink strength in [0, 1] of a photographed page (grey); None when there is no ink.

    Which of dark and light is ink is decided here again, by which stands out from the paper
    around it: under a shadow, most of a page of dark ink may be darker than half grey.
    """
    if _light_ink(grey):
        grey = 1.0 - grey
    k = max(7, round(max(grey.shape) / 24) | 1)
    coarse = paper_light(grey, k / 2)
    rough = _without_specks(_ink_candidates(1.0 - grey / np.maximum(coarse, 1e-3)), 20)
    width = stroke_width(_with_hollows_filled(rough, grey))
    darkness = 1.0 - np.minimum(grey / np.maximum(paper_light(grey, width), 1e-3), 1.0)
    candidates = _ink_candidates(darkness)
    if candidates.sum() < MIN_INK_PIXELS:
        return None
    full = float(
        np.median(darkness[candidates & (darkness > 0.5 * _ink_top(darkness, candidates))])
    )
    if full < MIN_DARKNESS:
        return None
    floor = INK_FLOOR * full
    ink = ((darkness - floor) / (full - floor)).clip(0.0, 1.0)
    keep = _without_specks(ink > 0, 0.5 * width**2)
    if not keep.any():  # all of it small (a dot, a short stroke): the parts at full ink stay
        keep = _reaching(ink > 0, ink >= 1.0)
    ink[~keep] = 0.0
    return ink.astype(np.float32) if ink.any() else None


def _ink_top(darkness: np.ndarray, candidates: np.ndarray) -> float:
    """How dark the darkest ink is: the 50th darkest candidate, robust to specks; but where the
    few darkest (MIN_INK_PIXELS) are over twice as dark as that, they are the ink (a dot or a
    short line: too little ink to fill 50 pixels, among shadow edges or ruled lines)."""
    ranked = np.sort(darkness[candidates])
    robust = float(ranked[-min(50, ranked.size)])
    few = float(ranked[-min(MIN_INK_PIXELS, ranked.size)])
    return few if few > 2 * robust else robust


def _with_hollows_filled(mask: np.ndarray, grey: np.ndarray) -> np.ndarray:
    """`mask` plus the holes in it as dark as ink: a stroke wider than the closing that found
    it comes out hollow, while the paper inside a loop (口, 田) stays light."""
    filled = ndimage.binary_fill_holes(mask)
    holes = filled & ~mask
    if not holes.any() or filled.all():
        return mask
    middle = 0.5 * (float(np.median(grey[mask])) + float(np.median(grey[~filled])))
    return mask | (holes & (grey < middle))


def _without_specks(mask: np.ndarray, min_area: float) -> np.ndarray:
    """`mask` less its connected parts smaller than `min_area` pixels."""
    labels, n = ndimage.label(mask)
    if not n:
        return mask
    area = ndimage.sum_labels(mask, labels, np.arange(1, n + 1))
    return np.concatenate([[False], area >= min_area])[labels]


def _reaching(mask: np.ndarray, seeds: np.ndarray) -> np.ndarray:
    """The connected parts of `mask` that hold a pixel of `seeds`."""
    labels, _ = ndimage.label(mask)
    return np.isin(labels, np.unique(labels[seeds & mask])) & mask


def _light_ink(grey: np.ndarray, pixels: int = 30) -> bool:
    """Whether the ink is lighter than its paper: of the pixels that stand out from the paper
    around them (the local median: paper is most of any neighbourhood), more are lighter."""
    step = max(1, max(grey.shape) // 64)
    small = ndimage.median_filter(grey[::step, ::step], size=15, mode="nearest")
    paper = np.repeat(np.repeat(small, step, 0), step, 1)[: grey.shape[0], : grey.shape[1]]
    lighter = (grey - paper).ravel()
    if lighter.size <= 2 * pixels:
        return False
    ranked = np.partition(lighter, [pixels, lighter.size - pixels])
    level = 0.5 * max(float(ranked[lighter.size - pixels]), -float(ranked[pixels]))
    return int((lighter > level).sum()) > int((lighter < -level).sum())


def _ink_candidates(darkness: np.ndarray) -> np.ndarray:
    """Pixels darker than their paper by well over the noise of the paper itself."""
    median = float(np.median(darkness))
    noise = 1.4826 * float(np.median(np.abs(darkness - median)))
    return darkness > median + max(NOISE_SIGMAS * noise, 0.04)
