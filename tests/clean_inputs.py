"""Clean line drawings as the lead's training data holds them, and the normalisation they got
before photo handling existed: a frozen copy, so any later change to `glyph.py` that moves a
clean input's tensor shows up (the bundled model is trained on exactly these tensors).
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from typing import Any

import numpy as np
from conftest import DATA
from PIL import Image, ImageDraw, ImageFont

from oracle_bones.data.sources import SOURCES
from oracle_bones.data.sources.font import FontSource, read_table, render_glyph
from oracle_bones.glyphs.glyph import grey_array, resize

FONTS = {s.name: s.font_file for s in SOURCES.values() if isinstance(s, FontSource)}


def frozen_square_glyph(image: Any) -> np.ndarray:
    """`glyph.square_glyph` as of commit 78e2485 (ink map, crop, centre), verbatim in effect."""
    grey = grey_array(image)
    border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    paper = float(np.median(border))
    if paper < 0.5:
        grey, paper = 1.0 - grey, 1.0 - paper
    darkest = float(np.percentile(grey if grey.size < 65_536 else grey[::2, ::2], 0.5))
    if paper - darkest < 0.15:
        k = min(4, grey.size) - 1
        darkest = float(np.partition(grey, k, axis=None)[k])
    if paper - darkest < 0.15:
        raise ValueError("no ink")
    ink = ((paper - grey) / (paper - darkest)).clip(0.0, 1.0).astype(np.float32)
    ys, xs = np.nonzero(ink > 0.35)
    ink = ink[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    h, w = ink.shape
    side = max(h, w) + 2 * max(1, round(0.08 * max(h, w)))
    out = np.zeros((side, side), np.float32)
    top, left = (side - h) // 2, (side - w) // 2
    out[top : top + h, left : left + w] = ink
    return out


def frozen_to_tensor(image: Any, size: int = 64) -> np.ndarray:
    ink = resize(frozen_square_glyph(image), size)
    return ink / max(float(ink.max()), 1e-6)


def sample(per_source: int, seed: int = 0) -> Iterator[tuple[str, Any]]:
    """(name, input) for a random sample of every source's files and some Sketchpad values;
    `per_source=0` takes every file."""
    rng = random.Random(seed)

    def pick(items: list) -> list:
        if not per_source or len(items) <= per_source:
            return items
        return rng.sample(items, per_source)

    if (DATA / "jiaguwen" / "index.json").exists():
        index = json.loads((DATA / "jiaguwen" / "index.json").read_text(encoding="utf-8"))
        for item in pick(index):
            yield f"jiaguwen/{item['image']}", DATA / "jiaguwen" / "i" / item["image"]
    for name, font_file in FONTS.items():
        if not (DATA / name / font_file).exists():
            continue
        font = ImageFont.truetype(str(DATA / name / font_file), 128)
        for row in pick(read_table(DATA / name / "glyphs.csv")):
            png = render_glyph(font, chr(int(row["codepoint"][2:], 16)), 128)
            yield f"{name}/{row['codepoint']}", png
    isobs = sorted((DATA / "isobs" / "data_oct").glob("*/*/*.jpg"))
    for path in pick(isobs):
        yield f"isobs/{path.parent.name}/{path.name}", path
    for path in pick(sorted((DATA / "ayjgw" / "images").glob("*.png"))):
        yield f"ayjgw/{path.name}", path
    for name, value in sketchpad_values():
        yield name, value


def sketchpad_values() -> Iterator[tuple[str, dict]]:
    """Composites as the 400 x 400 Sketchpad sends them: RGBA, white, round black strokes."""
    rng = np.random.default_rng(0)
    for i in range(24):
        img = Image.new("RGBA", (400, 400), (255, 255, 255, 255))
        draw = ImageDraw.Draw(img)
        width = int(rng.integers(2, 20))
        for _ in range(int(rng.integers(1, 7))):
            points = [tuple(int(v) for v in rng.integers(10, 390, 2)) for _ in range(3)]
            draw.line(points, fill=(0, 0, 0, 255), width=width, joint="curve")
        value = {"background": None, "layers": [], "composite": np.asarray(img)}
        yield f"sketchpad/{i}", value
