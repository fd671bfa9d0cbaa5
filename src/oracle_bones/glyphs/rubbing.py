"""Rubbings with known answers: a glyph rendered as a rubbing (拓片) of a carved bone, light
strokes on dark, on the texture of real rubbings.

There are no labelled rubbings. What a rubbing looks like is taken from real ones
(`rubbings/images/` of the shared data: 600 whole bones, unlabelled): `textures` cuts patches of
bare bone from them (dark, grainy, where no stroke is), and `render` carves a glyph into one:
its strokes light, worn and broken in places, a crack or two across, blurred, and brought down
to a low resolution (28 pixels at the least), sometimes with the white page beside the bone.
The rubbings are split in two halves by name (`half`): the training renders take their texture
from one, the benchmark from the other, so no benchmark texture was trained on.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw
from scipy import ndimage

from .glyph import WORK_SIDE, open_image, resize

RUBBINGS = Path("rubbings/images")
PATCH = 96  # texture patches, in pixels of a 512-pixel working copy of the rubbing
MAX_MARKS = 0.02  # of a patch, at most, much lighter than the bone: no stroke in it
MIN_SIDE, MAX_SIDE = 28, 96  # the render's resolution


def half(name: str) -> str:
    """ "train" or "held_out": which half of the rubbings a file is in, by its name alone."""
    return "train" if hashlib.sha1(name.encode()).digest()[0] % 2 == 0 else "held_out"


def rubbing_files(data_dir: Path, which: str) -> list[Path]:
    folder = Path(data_dir) / RUBBINGS
    return [p for p in sorted(folder.glob("*.jpg")) if half(p.name) == which]


def textures(files: Sequence[Path], per_file: int = 4, seed: int = 0) -> list[np.ndarray]:
    """Patches of bare bone (grey, dark) cut from rubbings: squares of PATCH pixels wholly on
    the bone, with no stroke in them."""
    rng = np.random.default_rng(seed)
    out = []
    for path in files:
        picture = open_image(path).convert("L")  # as rubbed: the bone dark, not turned over
        picture.thumbnail((WORK_SIDE, WORK_SIDE))
        grey = np.asarray(picture, dtype=np.float32) / 255.0
        level = float(np.median(grey))
        bone = ndimage.binary_opening(grey < min(level, 0.5), iterations=2)
        bone = ndimage.binary_erosion(bone, iterations=4)
        ground = float(np.median(grey[bone])) if bone.any() else 1.0
        marks = grey > ground + 0.35
        ys, xs = np.nonzero(bone[: -PATCH or None, : -PATCH or None])
        found = 0
        for i in rng.permutation(len(ys))[:500]:
            y, x = ys[i], xs[i]
            if bone[y : y + PATCH, x : x + PATCH].mean() < 0.95:
                continue
            if marks[y : y + PATCH, x : x + PATCH].mean() > MAX_MARKS:
                continue
            out.append(grey[y : y + PATCH, x : x + PATCH].astype(np.float32))
            found += 1
            if found == per_file:
                break
    return out


def render(ink: np.ndarray, texture: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """`ink` (a square glyph, float, ink high, such as `glyph.square_glyph` gives) carved into
    `texture` and rubbed: a grey picture (0 black .. 1 white), light strokes on the dark bone."""
    side = PATCH
    tex = _turned(texture, rng)
    glyph = resize(ink, round(side * rng.uniform(0.6, 0.85)))
    canvas = np.zeros((side, side), np.float32)
    top, left = (side - glyph.shape[0]) // 2, (side - glyph.shape[1]) // 2
    canvas[top : top + glyph.shape[0], left : left + glyph.shape[1]] = glyph
    carved = canvas > 0.35
    # worn and broken: the stroke thinned by a pixel here and there, gaps where the bone chipped
    if rng.random() < 0.5:
        carved = ndimage.binary_erosion(carved) | (carved & (rng.random(carved.shape) < 0.3))
    chips = ndimage.gaussian_filter(rng.random((side, side)), rng.uniform(1.5, 4.0))
    carved &= chips > np.quantile(chips, rng.uniform(0.0, 0.25))
    for _ in range(rng.integers(0, 3)):  # cracks run across the bone, light like strokes
        carved |= _crack(side, rng)
    light = rng.uniform(0.6, 0.95) + rng.normal(0, 0.05, (side, side))
    ground = np.clip(tex * rng.uniform(0.7, 1.3), 0.0, 0.6)
    strength = ndimage.gaussian_filter(carved.astype(np.float32), rng.uniform(0.4, 1.2))
    picture = ground * (1 - strength) + light * strength
    if rng.random() < 0.3:  # the bone's edge, and the white page beyond it
        picture = _with_page(picture, rng)
    small = int(rng.integers(MIN_SIDE, MAX_SIDE + 1))
    img = Image.fromarray(np.clip(picture, 0, 1).astype(np.float32), mode="F")
    return np.asarray(img.resize((small, small), Image.BOX), dtype=np.float32).clip(0.0, 1.0)


def _turned(texture: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    t = np.rot90(texture, int(rng.integers(4)))
    return np.ascontiguousarray(t[:, ::-1] if rng.random() < 0.5 else t)


def _crack(side: int, rng: np.random.Generator) -> np.ndarray:
    """A thin wandering line from one edge to another."""
    mask = Image.new("L", (side, side), 0)
    pts = [(rng.uniform(0, side), 0.0)]
    for k in range(1, 6):
        pts.append((pts[-1][0] + rng.normal(0, side / 8), k * side / 5))
    if rng.random() < 0.5:
        pts = [(y, x) for x, y in pts]
    ImageDraw.Draw(mask).line(pts, fill=255, width=int(rng.integers(1, 3)))
    return np.asarray(mask) > 0


def _with_page(picture: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A wavy bone edge across one side, white page beyond it."""
    side = picture.shape[0]
    depth = rng.uniform(0.05, 0.15) * side
    wave = ndimage.gaussian_filter1d(rng.normal(0, side / 30, side), 4)
    edge = depth + wave
    rows = np.arange(side)[:, None]
    page = rows < edge[None, :]
    out = np.where(page, rng.uniform(0.88, 1.0), picture)
    return np.rot90(out, int(rng.integers(4))).astype(np.float32)
