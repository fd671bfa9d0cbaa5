"""Figures to look at before training: a batch as the model sees it, and class sizes per source.

The card's counts cannot show a glyph rendered inverted, a label shifted by one or strokes
clipped by the crop; a contact sheet of normalised glyphs beside their characters does. The
histograms show how unevenly each source covers its characters (how few-shot the task is).
"""

from __future__ import annotations

import random
import subprocess
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import datasets
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ..glyphs.glyph import INPUT_SIZE, GlyphError, to_tensor
from .dataset import load
from .sources.isobs import ISOBS

GRID = 8  # an 8 x 8 batch
PAD = 6
GLYPH_PX = 2 * INPUT_SIZE  # each input pixel drawn as 2 x 2: the model's view, enlarged
TEXT_W = 112  # beside the glyph: its character, large, and its source, small
CELL_W, CELL_H = PAD + GLYPH_PX + TEXT_W, 2 * PAD + GLYPH_PX
HEADER_H = 34
SHEET_SIZE = (GRID * CELL_W, HEADER_H + GRID * CELL_H)
HIST_SIZE = (900, 520)
HIST_BARS = 20  # characters with this many images or more share the last bar
FONT_HINT = "install one, e.g. `apt-get install -y fonts-noto-cjk` (listed in packages.txt)"

FontSpec = tuple[str, int]  # font file and face index (Noto CJK ships several faces per file)


class FontMissing(RuntimeError):
    """No font on this machine can draw Chinese characters: the figures would show boxes."""


def find_cjk_font() -> FontSpec:
    """A font for simplified Chinese, as fontconfig lists it; Noto Sans CJK SC when installed."""
    fields = "%{file}\t%{index}\t%{family[0]}\t%{style[0]}\n"
    try:
        listing = subprocess.run(
            ["fc-list", "-f", fields, ":lang=zh"],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError) as e:
        raise FontMissing(f"Cannot list fonts with fc-list ({e}); {FONT_HINT}.") from e
    fonts = [line.split("\t") for line in listing.splitlines() if line.count("\t") == 3]
    if not fonts:
        raise FontMissing(f"No CJK font found (`fc-list :lang=zh` lists none); {FONT_HINT}.")

    def preference(font: list[str]) -> tuple:
        """Simplified-Chinese forms (the labels' own), proportional sans, regular weight."""
        path, index, family, style = font
        return (" SC" not in family, "Mono" in family, "Sans" not in family, style != "Regular",
                path, int(index))  # fmt: skip

    path, index, _, _ = min(fonts, key=preference)
    return path, int(index)


def load_font(font: FontSpec, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(font[0], size, index=font[1])


def glyph_tile(image: Any) -> Image.Image:
    """The model's input for `image` (to_tensor), dark on white, enlarged without smoothing."""
    ink = to_tensor(image)[0].numpy()
    tile = Image.fromarray(np.round(255.0 * (1.0 - ink)).astype(np.uint8))
    return tile.resize((GLYPH_PX, GLYPH_PX), Image.Resampling.NEAREST)


def batch_indices(n: int, seed: int, size: int = GRID * GRID) -> list[int]:
    """A seeded random batch of row numbers, in drawing order (so the sources come mixed)."""
    return random.Random(seed).sample(range(n), min(size, n))


def cell_origin(k: int) -> tuple[int, int]:
    """Top-left corner of the `k`-th cell on the contact sheet, row by row."""
    return (k % GRID) * CELL_W, HEADER_H + (k // GRID) * CELL_H


def contact_sheet(split: datasets.Dataset, font: FontSpec, seed: int = 0) -> Image.Image:
    """An 8 x 8 batch of `split` as the model sees it, each glyph beside its character."""
    indices = batch_indices(len(split), seed)
    names = split.features["label"].names
    sheet = Image.new("L", SHEET_SIZE, 255)
    draw = ImageDraw.Draw(sheet)
    big, small = load_font(font, 56), load_font(font, 12)
    draw.text(
        (PAD, HEADER_H // 2),
        f"{split.split}: {len(indices)} of {len(split)} glyphs drawn with seed {seed}, "
        f"normalised to {INPUT_SIZE} x {INPUT_SIZE} (shown x2), each beside its label",
        font=small,
        fill=0,
        anchor="lm",
    )
    for k, row in enumerate(split.select(indices)):
        x, y = cell_origin(k)
        sheet.paste(glyph_tile(row["image"]), (x + PAD, y + PAD))
        frame = [x + PAD - 1, y + PAD - 1, x + PAD + GLYPH_PX, y + PAD + GLYPH_PX]
        draw.rectangle(frame, outline=190)  # the tensor's edge: shows the margin around the ink
        centre = x + PAD + GLYPH_PX + TEXT_W // 2
        draw.text((centre, y + PAD + 54), names[row["label"]], font=big, fill=0, anchor="mm")
        draw.text((centre, y + PAD + 112), row["source"], font=small, fill=90, anchor="mm")
    return sheet


def class_sizes(dd: datasets.DatasetDict) -> dict[str, Counter[int]]:
    """Per source: how many images each of its characters has (train and test together)."""
    sizes: dict[str, Counter[int]] = defaultdict(Counter)
    for split in dd.values():
        for source, label in zip(split["source"], split["label"], strict=True):
            sizes[source][label] += 1
    return dict(sizes)


def histogram(source: str, sizes: Counter[int], font: FontSpec) -> Image.Image:
    """Bar chart of characters by number of images; the last bar gathers the largest classes."""
    top = min(max(sizes.values()), HIST_BARS)
    bars = Counter(min(n, top) for n in sizes.values())
    width, height = HIST_SIZE
    left, right, upper, lower = 80, width - 24, 78, height - 64
    step = tick_step(max(bars.values()))
    y_max = step * -(-max(bars.values()) // step)
    img = Image.new("L", HIST_SIZE, 255)
    draw = ImageDraw.Draw(img)
    title, small = load_font(font, 20), load_font(font, 14)
    counts = sorted(sizes.values())
    draw.text((left, 14), f"{source}: images per character", font=title, fill=0)
    draw.text(
        (left, 42),
        f"{len(sizes)} characters, {sum(counts)} images (train + test); "
        f"median {counts[len(counts) // 2]}, largest {counts[-1]}",
        font=small,
        fill=60,
    )

    def y_at(value: float) -> float:
        return lower - (lower - upper) * value / y_max

    for tick in range(0, y_max + 1, step):
        draw.line([left, y_at(tick), right, y_at(tick)], fill=225)
        draw.text((left - 8, y_at(tick)), str(tick), font=small, fill=0, anchor="rm")
    slot = (right - left) / top
    for n in range(1, top + 1):
        x0, x1 = left + (n - 1) * slot + slot * 0.12, left + n * slot - slot * 0.12
        if bars[n]:
            draw.rectangle([x0, y_at(bars[n]), x1, lower], fill=70)
            draw.text(((x0 + x1) / 2, y_at(bars[n]) - 3), str(bars[n]), font=small, fill=0,
                      anchor="md")  # fmt: skip
        label = f"{n}+" if n == top and top < counts[-1] else str(n)
        draw.text(((x0 + x1) / 2, lower + 6), label, font=small, fill=0, anchor="mt")
    draw.line([left, upper, left, lower, right, lower], fill=0)
    draw.text(((left + right) / 2, height - 16), "images per character", font=small, fill=0,
              anchor="ms")  # fmt: skip
    draw.text((left - 8, upper - 12), "characters", font=small, fill=0, anchor="rs")
    return img


def tick_step(top: int, ticks: int = 5) -> int:
    """A round step (1, 2 or 5 times a power of ten) giving about `ticks` gridlines up to `top`."""
    magnitude = 10 ** max(0, len(str(max(1, top // ticks))) - 1)
    return next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude * ticks >= top)


def write_review(dataset: str | Path, out: Path, seed: int = 0) -> list[Path]:
    """Write the contact sheet and one class-size histogram per source to `out` (PNG)."""
    font = find_cjk_font()  # before any work: no font, no figures worth looking at
    dd = load(dataset)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    figures = {out / "train_batch.png": contact_sheet(dd["train"], font, seed)}
    for source, sizes in class_sizes(dd).items():
        figures[out / f"class_sizes_{source}.png"] = histogram(source, sizes, font)
    for path, image in figures.items():
        image.save(path, format="PNG")
    return list(figures)


AUDIT_CLASSES, AUDIT_DRAWINGS, AUDIT_FORMS, AUDIT_ROWS = 60, 3, 4, 10
TILE = INPUT_SIZE


def isobs_audit(dataset: str | Path, data_dir: Path, out: Path, seed: int = 0) -> list[Path]:
    """Contact sheets for checking the recovered IsOBS labels by eye: `AUDIT_CLASSES` random
    labelled classes, each as three of its drawings beside known forms of the assigned character
    from the other sources (the dataset's non-IsOBS glyphs), 20 classes a sheet."""
    font = find_cjk_font()
    labels = ISOBS.labels()
    chosen = sorted(random.Random(seed).sample(sorted(labels), min(AUDIT_CLASSES, len(labels))))
    drawings: dict[int, list[bytes]] = defaultdict(list)
    for d in ISOBS.drawings(data_dir):
        if d.klass in chosen and len(drawings[d.klass]) < AUDIT_DRAWINGS:
            try:
                drawings[d.klass].append(_small_tile(d.image))
            except GlyphError:  # the dozen blank IsOBS files, which the dataset skips too
                continue
    dd = load(dataset)
    wanted = {labels[k] for k in chosen}
    forms: dict[str, list[tuple[Any, str]]] = defaultdict(list)
    for split in dd.values():
        names = split.features["label"].names
        for k, (label, source) in enumerate(zip(split["label"], split["source"], strict=True)):
            char = names[label]
            if source != "isobs" and char in wanted and len(forms[char]) < AUDIT_FORMS:
                forms[char].append((split[k]["image"], source))
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    per_sheet = 2 * AUDIT_ROWS
    paths = []
    for page in range(0, len(chosen), per_sheet):
        rows = [
            (k, labels[k], drawings[k], forms[labels[k]]) for k in chosen[page : page + per_sheet]
        ]
        path = out / f"isobs_audit_{page // per_sheet + 1}.png"
        audit_sheet(rows, font).save(path, format="PNG")
        paths.append(path)
    return paths


def audit_sheet(rows, font: FontSpec) -> Image.Image:
    """Two columns of rows: class number and character | its drawings || forms from elsewhere."""
    text_w, gap = 96, 18
    col_w = text_w + (AUDIT_DRAWINGS + AUDIT_FORMS) * (TILE + 4) + gap + 24
    sheet = Image.new("L", (2 * col_w, HEADER_H + AUDIT_ROWS * (TILE + 10)), 255)
    draw = ImageDraw.Draw(sheet)
    big, small = load_font(font, 40), load_font(font, 12)
    draw.text(
        (PAD, HEADER_H // 2),
        "IsOBS class: its drawings | known forms of the assigned character from other sources",
        font=small,
        fill=0,
        anchor="lm",
    )
    for n, (klass, char, images, known) in enumerate(rows):
        x, y = (n // AUDIT_ROWS) * col_w, HEADER_H + (n % AUDIT_ROWS) * (TILE + 10)
        draw.text((x + 4, y + TILE // 2), f"{klass}", font=small, fill=60, anchor="lm")
        draw.text((x + 60, y + TILE // 2), char, font=big, fill=0, anchor="mm")
        cx = x + text_w
        for tile in images:
            sheet.paste(tile, (cx, y))
            cx += TILE + 4
        cx = x + text_w + AUDIT_DRAWINGS * (TILE + 4) + gap
        draw.line([cx - gap // 2, y, cx - gap // 2, y + TILE], fill=0, width=2)
        for image, _ in known:
            sheet.paste(_small_tile(image), (cx, y))
            cx += TILE + 4
        if not known:
            draw.text((cx, y + TILE // 2), "no other form", font=small, fill=90, anchor="lm")
    return sheet


def _small_tile(image: Any) -> Image.Image:
    ink = to_tensor(image, TILE)[0].numpy()
    return Image.fromarray(np.round(255.0 * (1.0 - ink)).astype(np.uint8))
