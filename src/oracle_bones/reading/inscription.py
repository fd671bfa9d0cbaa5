"""Reading an inscription: the glyphs of a picture of several, found and put in reading order.

Strokes are the picture's connected patches of ink (`glyph.grey_ink`, read at up to SIDE pixels,
so photos are handled as for one glyph). Lines are found where no ink crosses: columns between
empty vertical strips, read right to left, or rows, read top to bottom, when the layout is
clearly horizontal. Along a line, strokes side by side belong together; whether the next ones
start a new glyph is the hard part (the drops of 雨 lie apart from its top; two glyphs may
nearly touch), so every way of cutting the line between strokes is weighed by dynamic
programming: each candidate glyph is scored by the recogniser's own confidence in it (a
callable handed in, so this module knows nothing of the model), by how its size and shape fit
the page's glyphs, and by the blank space inside it. Neighbouring strips (the two halves of 八)
may be joined into one line the same way. A first reading tells the page's glyph size, their
length along the lines, and how sure the model is on this hand; a second reading uses them.
Columns of a single glyph each, side by side, are a row, read left to right. A photo taken
askew is first turned upright (`upright`), and each glyph found in it is read once more from
the photo round it, against its own darkness.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import numpy as np
from PIL import Image
from scipy import ndimage

from ..glyphs.glyph import INK_LEVEL, EmptyDrawing, grey_array, grey_ink, is_drawing, open_image
from ..glyphs.photo import stroke_width
from ..glyphs.upright import Turn, skew

Box = tuple[int, int, int, int]  # x0, y0, x1, y1 in the picture's pixels, x1 and y1 exclusive
Confidence = Callable[[Sequence[np.ndarray]], Sequence[float]]  # crops -> max probability each

MAX_GLYPH = 2.2  # a glyph spans at most this many glyph sizes along its line
MAX_LINE = 1.4  # strips of ink closer than this (in glyph sizes, all told) may be one line
SIZE_SIGMA = 0.3  # spread of log(glyph's longer side / the page's glyph size)
ASPECT = (-0.3, 0.5)  # mean and spread of log(width / height): glyphs stand taller than wide
ALONG_SIGMA = 0.4  # spread of log(glyph's length along its line / the page's median length)
GAP_WEIGHT = 8.0  # per glyph size of blank space inside a glyph, along its line
LINE_GAP_WEIGHT = 8.0  # the same, for blank space between strips read as one line
MIN_CONFIDENCE = 0.05  # below this the model is merely lost; the priors decide
GLYPH_BONUS = 1.0  # per glyph at least, against the sum of log-confidences favouring fewer
SIDE_BY_SIDE = 0.3  # strokes overlapping along the line by this share of the shorter are one
HORIZONTAL = 1.8  # rows must be this many times longer than high to be read as rows
STACKED = 1.6  # a column this many row heights tall holds glyphs stacked: read as columns
PAD = 2  # pixels of paper round each crop
CONTEXT = 0.5  # of a photographed glyph's size: paper round it, against which it is read again
SIDE = 1024  # pictures are read at up to this size: a page of glyphs needs more than one glyph


@dataclass(frozen=True)
class Found:
    """A glyph of the picture: its box (picture pixels) and its ink as a grey crop (ink dark
    on white) that `glyph.to_tensor` normalises like any single glyph."""

    box: Box
    crop: np.ndarray


@dataclass(frozen=True)
class _Stroke:
    index: int  # label in the component map
    x0: int
    y0: int
    x1: int
    y1: int


def find_glyphs(
    image: Any, confidence: Confidence, candidates: list[Found] | None = None
) -> list[Found]:
    """The glyphs of `image` in reading order (raises EmptyDrawing / InvalidImage); every
    candidate glyph weighed is added to `candidates` when given (to fit the scores on pages
    with known glyphs: `training.wholeness`)."""
    picture = (
        image if isinstance(image, (dict, np.ndarray, Image.Image)) else open_image(image, SIDE)
    )
    width, height = _size(picture)
    grey = grey_array(picture, SIDE)
    ink = grey_ink(grey, SIDE)
    photo, shape = not is_drawing(grey), ink.shape
    turn = skew(ink) if photo else None  # read upright; boxes put back in the photo's pixels
    if turn:
        ink, grey = turn.apply(ink), turn.apply(grey, mode="nearest")
    mask = ink > INK_LEVEL
    labels, n = ndimage.label(mask, structure=np.ones((3, 3)))
    if not n:
        raise EmptyDrawing("No ink found: draw a glyph or upload a picture of one.")
    pen = stroke_width(mask)
    area = ndimage.sum_labels(mask, labels, np.arange(1, n + 1))
    strokes = [
        _Stroke(k + 1, s[1].start, s[0].start, s[1].stop, s[0].stop)
        for k, s in enumerate(ndimage.find_objects(labels))
        if area[k] >= max(2.0, 0.25 * pen**2) or n == 1
    ]
    if not strokes:
        strokes = [_Stroke(1, 0, 0, ink.shape[1], ink.shape[0])]
    columns, rows = _bands(strokes, vertical=True), _bands(strokes, vertical=False)
    vertical = not _is_row_layout(columns, rows)
    bands = columns[::-1] if vertical else rows  # in reading order: right to left, or down
    page = _Page(ink, labels, pen, confidence)
    lines = page.read(bands, vertical, _glyph_size(bands, vertical), None, GLYPH_BONUS)
    glyphs = [g for line in lines for g in line]
    # The first reading's glyphs tell the page's glyph size better than its lines do (a glyph
    # of two halves side by side makes two thin strips), and how sure the model is of a glyph
    # on this page (less on an unfamiliar hand): read again with both.
    size = float(np.median([max(_thickness(g, True), _thickness(g, False)) for g in glyphs]))
    sure = float(np.median([math.log(max(page.scores[g], MIN_CONFIDENCE)) for g in glyphs]))
    along = float(np.median([_thickness(g, not vertical) for g in glyphs]))
    lines = page.read(bands, vertical, size, along, max(GLYPH_BONUS, -sure))
    glyphs = [g for line in lines for g in line]
    if vertical and _one_row(lines):  # columns of one glyph each, side by side: a row
        glyphs = glyphs[::-1]
    sx, sy = width / shape[1], height / shape[0]

    def box(seg: tuple[_Stroke, ...]) -> Box:  # in the picture's pixels
        x0, y0, x1, y1 = _extent(seg) if turn is None else _source_extent(seg, labels, turn)
        return (
            math.floor(x0 * sx),
            math.floor(y0 * sy),
            min(width, math.ceil(x1 * sx)),
            min(height, math.ceil(y1 * sy)),
        )

    if candidates is not None:
        candidates.extend(Found(box(seg), crop) for seg, crop in page.crops.items())
    found = [Found(box(seg), page.crops[seg]) for seg in glyphs]
    if photo:
        found = _read_again(found, glyphs, grey, labels, pen, confidence)
    return found


def _source_extent(seg: tuple[_Stroke, ...], labels: np.ndarray, turn: Turn) -> Box:
    """The box, in the picture as it was before it was turned upright, of the glyph's ink."""
    rows, cols = [], []
    for s in seg:
        r, c = np.nonzero(labels[s.y0 : s.y1, s.x0 : s.x1] == s.index)
        rows.append(r + s.y0)
        cols.append(c + s.x0)
    r, c = turn.to_source(np.concatenate(rows), np.concatenate(cols))
    h, w = turn.source_shape
    return (
        max(0, math.floor(c.min())),
        max(0, math.floor(r.min())),
        min(w, math.ceil(c.max()) + 1),
        min(h, math.ceil(r.max()) + 1),
    )


def _read_again(
    found: list[Found],
    glyphs: list[tuple[_Stroke, ...]],
    grey: np.ndarray,
    labels: np.ndarray,
    pen: float,
    confidence: Confidence,
) -> list[Found]:
    """A photo's glyphs, each read again from the photo round it as a single glyph is: its
    ink judged against its own darkness, not the page's, so that a thin or faint stroke that
    fell apart in the page's reading is whole again. The page's crop stays where that fails."""
    again = [_reread(grey, labels, seg, pen) for seg in glyphs]
    found = [f if a is None else Found(f.box, a) for f, a in zip(found, again, strict=True)]
    new = [a for a in again if a is not None]
    if new:
        confidence(new)  # every crop returned has been handed to `confidence`
    return found


def _reread(
    grey: np.ndarray, labels: np.ndarray, seg: tuple[_Stroke, ...], pen: float
) -> np.ndarray | None:
    """The glyph's ink read from the photo's own grey round it, other glyphs' strokes painted
    over with paper; None when no ink is found there."""
    x0, y0, x1, y1 = _extent(seg)
    reach = max(1, round(pen / 2))
    pad = max(2 * reach, round(CONTEXT * max(x1 - x0, y1 - y0)))
    ys = slice(max(0, y0 - pad), y1 + pad)
    xs = slice(max(0, x0 - pad), x1 + pad)
    near = labels[ys, xs]
    own = np.isin(near, [s.index for s in seg])
    hidden = ndimage.binary_dilation((near > 0) & ~own, iterations=reach + 1)
    hidden &= ~ndimage.binary_dilation(own, iterations=reach)
    region = grey[ys, xs]
    paper = float(np.median(region[(near == 0) & ~hidden]))
    try:
        ink = grey_ink(np.where(hidden, paper, region), SIDE)
    except EmptyDrawing:
        return None
    top, left = y0 - reach - ys.start, x0 - reach - xs.start
    inner = ink[max(0, top) : y1 + reach - ys.start, max(0, left) : x1 + reach - xs.start]
    if not (inner > INK_LEVEL).any():
        return None
    return np.pad(1.0 - inner, PAD, constant_values=1.0).astype(np.float32)


class _Page:
    """The picture's ink and strokes, and the recogniser's confidence in every candidate glyph
    asked about so far (crops made and scored once, whichever reading asks)."""

    def __init__(self, ink: np.ndarray, labels: np.ndarray, pen: float, confidence: Confidence):
        self.ink, self.labels, self.pen, self.confidence = ink, labels, pen, confidence
        self.crops: dict[tuple[_Stroke, ...], np.ndarray] = {}
        self.scores: dict[tuple[_Stroke, ...], float] = {}

    def read(
        self,
        bands: list[tuple[_Stroke, ...]],
        vertical: bool,
        scale: float,
        along: float | None,
        bonus: float,
    ) -> list[list[tuple[_Stroke, ...]]]:
        """The lines' glyphs in reading order, for glyphs of about `scale` pixels (and `along`
        their lines, when known), `bonus` per glyph."""
        groupings = [
            _Line(sum(bands[i:j], ()), vertical, scale, along)
            for i in range(len(bands))
            for j in range(i + 1, len(bands) + 1)
            if j == i + 1 or _thickness(sum(bands[i:j], ()), vertical) <= MAX_LINE * scale
        ]
        new = [
            seg
            for seg in dict.fromkeys(seg for line in groupings for seg in line.runs.values())
            if seg not in self.scores
        ]
        for seg in new:
            self.crops[seg] = _crop(self.ink, self.labels, seg, self.pen)
        if new:
            found = self.confidence([self.crops[seg] for seg in new])
            self.scores.update(zip(new, found, strict=True))
        cuts = {line.strokes: line.best_cut(self.scores, bonus) for line in groupings}
        across = [_span(b, vertical) for b in bands]
        gaps = [max(0, max(a[0], b[0]) - min(a[1], b[1])) / scale for a, b in pairwise(across)]
        return _best_split(bands, cuts, gaps)


def box_iou(a: Box, b: Box) -> float:
    """Intersection over union of two boxes: how a found box is matched to a true one."""
    ix = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def _size(picture: Any) -> tuple[int, int]:
    """Width and height of the picture as given, before any reduction to working size."""
    if isinstance(picture, Image.Image):
        return picture.info.get("full_size", picture.size)
    if isinstance(picture, np.ndarray):
        return picture.shape[1], picture.shape[0]
    grey = grey_array(picture)  # a Sketchpad value: its composite or layers
    return grey.shape[1], grey.shape[0]


def _bands(strokes: list[_Stroke], vertical: bool) -> list[tuple[_Stroke, ...]]:
    """Strokes grouped into lines: between two lines, a strip no stroke crosses."""
    key = (lambda s: (s.x0, s.x1)) if vertical else (lambda s: (s.y0, s.y1))
    bands, current, reach = [], [], -1
    for s in sorted(strokes, key=key):
        lo, hi = key(s)
        if current and lo >= reach:
            bands.append(tuple(current))
            current = []
        current.append(s)
        reach = max(reach, hi) if len(current) > 1 else hi
    bands.append(tuple(current))
    return bands


def _extent(strokes: Sequence[_Stroke]) -> Box:
    return (
        min(s.x0 for s in strokes),
        min(s.y0 for s in strokes),
        max(s.x1 for s in strokes),
        max(s.y1 for s in strokes),
    )


def _is_row_layout(columns: list[tuple[_Stroke, ...]], rows: list[tuple[_Stroke, ...]]) -> bool:
    """Clearly horizontal: rows at least HORIZONTAL times longer than high, and no column two
    glyphs tall (a column of one glyph each is a row; otherwise columns are the default)."""
    heights = [_thickness(r, vertical=False) for r in rows]
    lengths = [_thickness(r, vertical=True) for r in rows]
    if np.median(np.divide(lengths, heights)) < HORIZONTAL:
        return False
    tallest = max(_thickness(c, vertical=False) for c in columns)
    return tallest < STACKED * float(np.median(heights))


def _one_row(lines: list[list[tuple[_Stroke, ...]]]) -> bool:
    """Two columns or more, each of a single glyph, all sharing a horizontal band: a row."""
    if len(lines) < 2 or any(len(line) != 1 for line in lines):
        return False
    spans = [_span(line[0], along_x=False) for line in lines]
    return max(lo for lo, _ in spans) < min(hi for _, hi in spans)


def _span(strokes: Sequence[_Stroke], along_x: bool) -> tuple[int, int]:
    """The strokes' extent along x, or along y."""
    x0, y0, x1, y1 = _extent(strokes)
    return (x0, x1) if along_x else (y0, y1)


def _thickness(strokes: Sequence[_Stroke], vertical: bool) -> int:
    x0, y0, x1, y1 = _extent(strokes)
    return max(1, (x1 - x0) if vertical else (y1 - y0))


def _glyph_size(bands: list[tuple[_Stroke, ...]], vertical: bool) -> float:
    """The page's glyph size: the median line thickness, each line weighted by its length
    (a strip holding a stray stroke counts for little)."""
    thick = np.array([_thickness(b, vertical) for b in bands], float)
    length = np.array([_thickness(b, not vertical) for b in bands], float)
    order = np.argsort(thick)
    cumulative = np.cumsum(length[order])
    return float(thick[order][np.searchsorted(cumulative, cumulative[-1] / 2)])


class _Line:
    """A line's units (strokes side by side, merged) and every run of units that may be one
    glyph: at most MAX_GLYPH glyph sizes long, or a single unit."""

    def __init__(
        self, strokes: tuple[_Stroke, ...], vertical: bool, scale: float, length: float | None
    ) -> None:
        self.strokes, self.vertical, self.scale, self.length = strokes, vertical, scale, length
        along = (lambda s: (s.y0, s.y1)) if vertical else (lambda s: (s.x0, s.x1))
        units: list[list[_Stroke]] = []
        for s in sorted(strokes, key=along):
            lo, hi = along(s)
            if units:
                ulo = min(along(u)[0] for u in units[-1])
                uhi = max(along(u)[1] for u in units[-1])
                if min(hi, uhi) - max(lo, ulo) > SIDE_BY_SIDE * min(hi - lo, uhi - ulo):
                    units[-1].append(s)
                    continue
            units.append([s])
        self.n = len(units)
        ends = np.maximum.accumulate([max(along(s)[1] for s in u) for u in units])
        self.gaps = [
            max(0, min(along(s)[0] for s in u) - end)
            for u, end in zip(units[1:], ends[:-1], strict=True)
        ]
        self.runs: dict[tuple[int, int], tuple[_Stroke, ...]] = {}
        for i in range(self.n):
            for j in range(i + 1, self.n + 1):
                seg = tuple(sorted((s for u in units[i:j] for s in u), key=lambda s: s.index))
                if j > i + 1 and _thickness(seg, not vertical) > MAX_GLYPH * scale:
                    break
                self.runs[(i, j)] = seg

    def best_cut(self, scores: dict, bonus: float) -> tuple[float, list[tuple[_Stroke, ...]]]:
        """The cut into glyphs with the best total score (dynamic programming), and that score."""
        best = [0.0] + [-math.inf] * self.n
        back = [0] * (self.n + 1)
        for (i, j), seg in sorted(self.runs.items(), key=lambda kv: kv[0][1]):
            blank = max(self.gaps[i : j - 1], default=0) / self.scale
            value = best[i] + _glyph_score(seg, scores[seg], self.scale, bonus) - GAP_WEIGHT * blank
            if self.length:  # the page's glyphs' own length along their lines
                value -= (
                    0.5
                    * (math.log(_thickness(seg, not self.vertical) / self.length) / ALONG_SIGMA)
                    ** 2
                )
            if value > best[j]:
                best[j], back[j] = value, i
        cut, j = [], self.n
        while j > 0:
            cut.append(self.runs[(back[j], j)])
            j = back[j]
        return best[self.n], cut[::-1]


def _glyph_score(seg: tuple[_Stroke, ...], confidence: float, scale: float, bonus: float) -> float:
    """Log-confidence plus priors on size and shape, plus a bonus per glyph."""
    x0, y0, x1, y1 = _extent(seg)
    w, h = max(1, x1 - x0), max(1, y1 - y0)
    size = math.log(max(w, h) / scale) / SIZE_SIGMA
    aspect = (math.log(w / h) - ASPECT[0]) / ASPECT[1]
    return math.log(max(confidence, MIN_CONFIDENCE)) - 0.5 * (size**2 + aspect**2) + bonus


def _best_split(
    bands: list[tuple[_Stroke, ...]], cuts: dict, gaps: list[float]
) -> list[list[tuple[_Stroke, ...]]]:
    """Neighbouring strips grouped into lines so that the lines' cuts score best in total,
    less LINE_GAP_WEIGHT per glyph size of the widest blank (`gaps`) inside a line."""
    n = len(bands)
    best = [0.0] + [-math.inf] * n
    back = [0] * (n + 1)
    for j in range(1, n + 1):
        for i in range(j):
            key = sum(bands[i:j], ())
            if key not in cuts:
                continue
            value = best[i] + cuts[key][0] - LINE_GAP_WEIGHT * max(gaps[i : j - 1], default=0)
            if value > best[j]:
                best[j], back[j] = value, i
    lines, j = [], n
    while j > 0:
        lines.append(cuts[sum(bands[back[j] : j], ())][1])
        j = back[j]
    return lines[::-1]


def _crop(ink: np.ndarray, labels: np.ndarray, seg: tuple[_Stroke, ...], pen: float) -> np.ndarray:
    """The segment's ink alone (its strokes and their soft edges), as grey on white paper."""
    x0, y0, x1, y1 = _extent(seg)
    reach = max(1, round(pen / 2))
    ys = slice(max(0, y0 - reach), y1 + reach)
    xs = slice(max(0, x0 - reach), x1 + reach)
    own = np.isin(labels[ys, xs], [s.index for s in seg])
    near = ndimage.binary_dilation(own, iterations=reach) & ((labels[ys, xs] == 0) | own)
    crop = np.where(near, ink[ys, xs], 0.0)
    return np.pad(1.0 - crop, PAD, constant_values=1.0).astype(np.float32)
