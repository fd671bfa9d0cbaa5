"""Synthetic pictures with known answers, for benchmarks and tests: a glyph (or any ink map)
photographed on paper, and inscriptions composed from single glyphs with their boxes in
reading order.

Nothing here is used for recognition; it stands in for photos and inscriptions we do not have.
"""

from __future__ import annotations

import dataclasses
import io
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from .glyph import INK_LEVEL, square_glyph

Box = tuple[int, int, int, int]  # x0, y0, x1, y1: pixels, x1 and y1 exclusive

PAPERS = [(246, 244, 238), (238, 228, 204), (214, 212, 204), (226, 232, 238), (244, 234, 186)]
RULE_COLOURS = [(150, 180, 220), (175, 175, 175), (220, 150, 150)]


@dataclasses.dataclass(frozen=True)
class Picture:
    """An encoded picture and, per glyph in reading order, its box in the picture's pixels."""

    data: bytes
    boxes: list[Box]
    size: tuple[int, int]  # width, height
    layout: str = ""  # "columns" or "row", for a composed inscription

    def image(self) -> Image.Image:
        return Image.open(io.BytesIO(self.data))


def glyph_ink(image: Any) -> np.ndarray:
    """A glyph's ink (float, ink high) cropped tight, from any input `glyph.to_tensor` takes."""
    square = square_glyph(image)
    ys, xs = np.nonzero(square > INK_LEVEL)
    return square[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]


def compose(
    inks: list[np.ndarray],
    rng: np.random.Generator,
    lines: int = 1,
    horizontal: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Glyph inks (`glyph_ink`) laid out as an inscription, in reading order: `lines` columns
    read right to left, each top to bottom (or rows read top to bottom, each left to right).

    Returns the page's ink and its labels (glyph number + 1 under each glyph's ink, else 0).
    Glyphs vary in size around a common one; the space between two glyphs of a line varies
    from nearly touching (a quarter of them, 2-4 pixels) to 0.4 of a glyph, between lines
    from 0.12 to 0.5 of one. `horizontal=True` lays out rows, of glyphs side by side.
    """
    n = len(inks)
    lines = max(1, min(lines, n))
    cuts = np.sort(rng.choice(np.arange(1, n), lines - 1, replace=False)) if lines > 1 else []
    size = rng.uniform(40, 100)
    if horizontal:
        inks = [ink[::-1].T for ink in inks]  # lay out columns, then turn the page
    glyphs = [_scaled(ink, size * rng.uniform(0.75, 1.2)) for ink in inks]
    margin = np.round(rng.uniform(0.15, 0.5, 4) * size)
    places = []  # (top, left) of each glyph, columns laid out left to right from the first
    x = margin[0]
    for members in np.split(np.arange(n), cuts):
        width = max(glyphs[i].shape[1] for i in members)
        y, lefts = int(margin[1]), []
        for i in members:
            h, w = glyphs[i].shape
            lefts.append(x + (width - w) / 2 + rng.uniform(-0.1, 0.1) * size)
            places.append((y, lefts[-1]))
            y += h + round(
                rng.uniform(2, 4) if rng.random() < 0.25 else rng.uniform(0.06, 0.4) * size
            )
        x = max(left + glyphs[i].shape[1] for i, left in zip(members, lefts, strict=True))
        x += rng.uniform(0.12, 0.5) * size
    page_w = round(x + margin[2])
    page_h = round(
        max(y + g.shape[0] for (y, _), g in zip(places, glyphs, strict=True)) + margin[3]
    )
    ink_page = np.zeros((page_h, page_w), np.float32)
    labels = np.zeros((page_h, page_w), np.int32)
    for i, ((y, x0), glyph) in enumerate(zip(places, glyphs, strict=True)):
        h, w = glyph.shape
        top, left = round(y), max(0, round(page_w - x0 - w))  # mirrored: the first on the right
        np.maximum(
            ink_page[top : top + h, left : left + w],
            glyph,
            out=ink_page[top : top + h, left : left + w],
        )
        labels[top : top + h, left : left + w][glyph > INK_LEVEL] = i + 1
    if horizontal:  # the columns become rows: right to left becomes top to bottom
        ink_page, labels = ink_page.T[::-1].copy(), labels.T[::-1].copy()
    return ink_page, labels


def _scaled(ink: np.ndarray, longer: float) -> np.ndarray:
    """`ink` resized so that its longer side is `longer` pixels."""
    h, w = ink.shape
    shape = (max(1, round(w * longer / max(h, w))), max(1, round(h * longer / max(h, w))))
    method = Image.Resampling.BOX if longer < max(h, w) else Image.Resampling.BILINEAR
    return np.asarray(Image.fromarray(ink.astype(np.float32), mode="F").resize(shape, method))


def inscription(
    inks: list[np.ndarray], rng: np.random.Generator, photo: bool = False, tilt: float = 4.0
) -> Picture:
    """A random inscription of the glyphs, in reading order: 1 to 3 columns, one of them at
    least two glyphs long (else a row of single glyphs could be read either way), or, for one
    picture in seven of three glyphs or more, a row; drawn in black on white, or photographed
    (turned by up to `tilt` degrees)."""
    row = len(inks) >= 3 and rng.random() < 1 / 7
    if row:
        ink, labels = compose(inks, rng, 1, horizontal=True)
    else:
        ink, labels = compose(inks, rng, int(rng.integers(1, min(3, max(1, len(inks) - 1)) + 1)))
    if photo:
        picture = photograph(ink, rng, labels, share=(0.6, 0.9), tilt=tilt)
    else:
        picture = drawing(ink, labels)
    return dataclasses.replace(picture, layout="row" if row else "columns")


def drawing(ink: np.ndarray, labels: np.ndarray) -> Picture:
    """A composed page as a clean line drawing: black ink on white, PNG."""
    img = Image.fromarray((255 - np.round(ink.clip(0, 1) * 255)).astype(np.uint8), mode="L")
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    boxes = [_box(labels == k + 1) for k in range(int(labels.max()))]
    return Picture(buf.getvalue(), boxes, img.size)


def photograph(
    ink: np.ndarray,
    rng: np.random.Generator,
    labels: np.ndarray | None = None,
    share: tuple[float, float] = (0.15, 0.4),
    frame: tuple[int, int] = (960, 720),
    tilt: float = 4.0,
) -> Picture:
    """`ink` written on paper and taken with a phone: a JPEG.

    The ink's longer side covers `share` of the frame's shorter side, anywhere in the frame,
    turned by up to `tilt` degrees and seen in slight perspective (corners moved by up
    to 0.75% of the frame per degree); the paper is tinted, sometimes
    ruled, lit unevenly with a shadow across it; the ink black or blue. `labels` (glyph number
    + 1 per pixel, 0 for paper; same shape as `ink`) gives the glyphs' boxes in the photo.
    """
    w, h = frame if rng.random() < 0.5 else frame[::-1]
    side = rng.uniform(*share) * min(w, h)
    scale = side / max(ink.shape)
    angle = np.deg2rad(rng.uniform(-tilt, tilt))
    ext_w, ext_h = ink.shape[1] * scale, ink.shape[0] * scale
    reach = (
        0.5 * (abs(ext_w * np.cos(angle)) + abs(ext_h * np.sin(angle))),
        0.5 * (abs(ext_w * np.sin(angle)) + abs(ext_h * np.cos(angle))),
    )
    margin = 0.04 * min(w, h)
    cx = rng.uniform(reach[0] + margin, max(reach[0] + margin, w - reach[0] - margin) + 1e-6)
    cy = rng.uniform(reach[1] + margin, max(reach[1] + margin, h - reach[1] - margin) + 1e-6)
    # Frame -> ink coordinates: undo the perspective (frame corners pulled in by up to 3%),
    # then the similarity that placed the ink.
    jitter = rng.uniform(0, 0.0075 * tilt, (4, 2)) * [w, h]
    corners = np.array([[0, 0], [w, 0], [w, h], [0, h]], float)
    pulled = corners + jitter * [[1, 1], [-1, 1], [-1, -1], [1, -1]]
    to_paper = _homography(corners, pulled)
    cos, sin = np.cos(angle) / scale, np.sin(angle) / scale
    to_ink = np.array(
        [
            [cos, sin, ink.shape[1] / 2 - cos * cx - sin * cy],
            [-sin, cos, ink.shape[0] / 2 + sin * cx - cos * cy],
            [0, 0, 1],
        ]
    )
    frame_to_ink = to_ink @ to_paper
    coeffs = tuple((frame_to_ink / frame_to_ink[2, 2]).flatten()[:8])
    sharp = Image.fromarray(ink.astype(np.float32), mode="F").transform(
        (w, h), Image.Transform.PERSPECTIVE, coeffs, Image.Resampling.BICUBIC
    )
    written = 1.0 / (1.0 + np.exp(-12.0 * (np.asarray(sharp) - 0.45)))  # a pen's edge, not a blur
    written = np.where(np.asarray(sharp) > 0.05, written, 0.0)[..., None]

    paper = np.empty((h, w, 3), np.float32)
    paper[:] = np.array(PAPERS[rng.integers(len(PAPERS))], np.float32) / 255
    if rng.random() < 0.4:  # ruled paper: lines turn with the page
        rules = Image.new("L", (w, h), 0)
        draw = ImageDraw.Draw(rules)
        gap, phase = rng.uniform(22, 40), rng.uniform(0, 40)
        colour = np.array(RULE_COLOURS[rng.integers(len(RULE_COLOURS))], np.float32) / 255
        slope = np.tan(angle)
        for y in np.arange(-h, 2 * h, gap) + phase:
            draw.line([(0, y - slope * 0), (w, y - slope * w)], fill=255, width=2)
        a = np.asarray(rules, np.float32)[..., None] / 255 * rng.uniform(0.5, 0.9)
        paper = paper * (1 - a) + colour * a
    blue = rng.random() < 0.5
    if blue:
        colour = rng.uniform([20, 35, 110], [45, 75, 170])
    else:
        colour = rng.uniform(15, 50) + rng.uniform(-4, 4, 3)  # near-neutral black
    opacity = rng.uniform(0.85, 1.0)
    picture = paper * (1 - opacity * written) + (colour / 255) * opacity * written

    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    direction = rng.uniform(0, 2 * np.pi)
    ramp = (np.cos(direction) * xx + np.sin(direction) * yy) / max(w, h)
    light = 1.0 - rng.uniform(0.1, 0.35) * (ramp - ramp.min()) / max(np.ptp(ramp), 1e-6)
    light *= 1.0 - 0.25 * (((xx - w / 2) / w) ** 2 + ((yy - h / 2) / h) ** 2)  # vignette
    if rng.random() < 0.6:  # the phone's shadow: a soft-edged half plane
        edge = rng.uniform(0.2, 0.8) * max(w, h)
        theta = rng.uniform(0, 2 * np.pi)
        dist = np.cos(theta) * (xx - w / 2) + np.sin(theta) * (yy - h / 2) + max(w, h) / 2 - edge
        soft = rng.uniform(15, 80)
        light *= 1.0 - rng.uniform(0.2, 0.45) / (1.0 + np.exp(-dist / soft))
    picture = picture * light[..., None]
    picture += rng.normal(0, rng.uniform(1.5, 4) / 255, picture.shape).astype(np.float32)
    img = Image.fromarray((picture.clip(0, 1) * 255 + 0.5).astype(np.uint8), mode="RGB")
    img = img.filter(ImageFilter.GaussianBlur(rng.uniform(0.4, 1.1)))
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=int(rng.integers(55, 91)))

    boxes: list[Box] = []
    if labels is not None:
        warped = np.asarray(
            Image.fromarray(labels.astype(np.int32), mode="I").transform(
                (w, h), Image.Transform.PERSPECTIVE, coeffs, Image.Resampling.NEAREST
            )
        )
        boxes = [_box(warped == k + 1) for k in range(int(labels.max()))]
    return Picture(buf.getvalue(), boxes, (w, h))


def _homography(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """The 3 x 3 projective map taking the four points `src` to `dst`."""
    rows = []
    for (x, y), (u, v) in zip(src, dst, strict=True):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y, -u])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y, -v])
    return np.linalg.svd(np.array(rows))[2][-1].reshape(3, 3)


def _box(mask: np.ndarray) -> Box:
    ys, xs = np.nonzero(mask)
    return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1
