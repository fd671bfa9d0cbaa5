"""Known oracle bone forms of every character, with where each comes from, for the app to show.

Built from a dataset by `python -m oracle_bones forms` and shipped with the app: the look-up shows
a character's forms, and the recogniser's top candidates show theirs beside the drawing. One
compressed `.npz` that loads with `allow_pickle=False`:

- `chars` (C,) the characters, `start` (C + 1,) int: forms of `chars[i]` are rows
  `start[i]:start[i + 1]`; `total` (C,) how many forms the dataset has (at most PER_CHAR stored)
- `ink` (M, SIZE, SIZE // 4) uint8: each glyph cropped to its ink, at SIZE px, in LEVELS grey
  levels packed four pixels a byte (four levels look the same as 256 at this size and take a
  quarter of the space: ~160 bytes a form compressed)
- `source` (M,) int index into `sources` (K,), `ref` (M,) the source's own id of each form

Every split is used: a look-up shows what is known, and nothing here trains or tests a model.
"""

from __future__ import annotations

import base64
import io
import os
import zipfile
from collections import defaultdict
from collections.abc import Iterable, Sequence
from itertools import chain, zip_longest
from pathlib import Path
from typing import NamedTuple

import numpy as np
from PIL import Image

from ..data.sources import SOURCES
from ..data.sources.font import FontSource
from ..files import atomic_file
from ..glyphs.glyph import INPUT_SIZE, GlyphError, square_glyph, to_tensor
from ..glyphs.pen import PEN_WIDTH, pen_drawn
from ..glyphs.synthetic import compose, drawing, glyph_ink

SIZE = 48
PER_CHAR = 12
LEVELS = 4  # grey levels of the stored ink: 2 bits a pixel
FILE = "forms.npz"
BUNDLED = Path(__file__).resolve().parents[1] / "pretrained" / FILE
# Drawings people shared to teach the model are not attested forms: never shown as known ones.
NOT_FORMS = ("feedback",)
# Simple, visually distinct characters whose held-out (test) glyph becomes a clickable example.
EXAMPLE_CHARS = ("大", "月", "火", "田", "羊", "门")
EXAMPLE_SIDE = 256


class Form(NamedTuple):
    source: str
    ref: str
    image: np.ndarray  # uint8 (SIZE, SIZE), dark ink on white


def normalise(image, size: int = SIZE) -> np.ndarray:
    """Crop to the ink, square, resize: uint8 (size, size), dark ink on white."""
    ink = to_tensor(image, size)[0].numpy()
    return (255 - np.round(ink * 255)).astype(np.uint8)


def pack(images: np.ndarray) -> np.ndarray:
    """uint8 (..., S, S) dark on white -> LEVELS ink levels, four pixels a byte (..., S, S // 4)."""
    levels = np.round((255 - images.astype(np.float32)) * (LEVELS - 1) / 255).astype(np.uint8)
    return (
        (levels[..., 0::4] << 6)
        | (levels[..., 1::4] << 4)
        | (levels[..., 2::4] << 2)
        | (levels[..., 3::4])
    )


def unpack(packed: np.ndarray) -> np.ndarray:
    """The inverse of `pack`: uint8 (..., S, S), dark ink on white."""
    levels = np.stack([(packed >> s) & 3 for s in (6, 4, 2, 0)], axis=-1)
    levels = levels.reshape(*packed.shape[:-1], packed.shape[-1] * 4)
    return (255 - levels * (255 // (LEVELS - 1))).astype(np.uint8)


def source_order(sources: Iterable[str]) -> list[str]:
    """Drawings before font glyphs (a drawing looks most like what people draw), then by name:
    any source name works, one the project does not know counts as drawings."""
    return sorted(set(sources), key=lambda s: (isinstance(SOURCES.get(s), FontSource), s))


def interleave(by_source: dict[str, list[int]], order: Sequence[str]) -> list[int]:
    """One form from each source in turn, so the first few shown come from different sources."""
    columns = [by_source[s] for s in order if s in by_source]
    return [i for i in chain.from_iterable(zip_longest(*columns)) if i is not None]


class Forms:
    """Stored forms per character: `Forms.load().get("雨")` -> [Form(source, ref, image), ...]."""

    def __init__(self, chars=(), start=(0,), total=(), ink=None, source=(), sources=(), ref=()):
        self.chars = [str(c) for c in chars]
        self._rows = {c: i for i, c in enumerate(self.chars)}
        self._start = np.asarray(start, np.int64)
        self._total = np.asarray(total, np.int64)
        self._ink = np.zeros((0, SIZE, SIZE // 4), np.uint8) if ink is None else ink
        self._source = np.asarray(source, np.int64)
        self._sources = [str(s) for s in sources]
        self._ref = np.asarray(ref, np.str_)

    @classmethod
    def load(cls, path: str | os.PathLike | None = None) -> Forms:
        """The bundled file by default; no forms at all when the file is missing or unreadable."""
        try:
            with np.load(Path(path or BUNDLED), allow_pickle=False) as z:
                return cls(**{k: z[k] for k in ("chars", "start", "total", "ink", "source")},
                           sources=z["sources"], ref=z["ref"])  # fmt: skip
        except (OSError, EOFError, ValueError, KeyError, zipfile.BadZipFile):
            return cls()

    def save(self, out: str | os.PathLike) -> None:
        """Write the `.npz` atomically."""
        with atomic_file(Path(out)) as tmp, tmp.open("wb") as f:
            np.savez_compressed(
                f,
                chars=np.array(self.chars, np.str_),
                start=self._start.astype(np.int32),
                total=self._total.astype(np.int32),
                ink=self._ink,
                source=self._source.astype(np.int16),
                sources=np.array(self._sources, np.str_),
                ref=self._ref,
            )

    def __len__(self) -> int:
        return len(self.chars)

    def __contains__(self, char: str) -> bool:
        return char in self._rows

    @property
    def stored(self) -> int:
        """How many forms the file holds, all characters together."""
        return len(self._ink)

    def total(self, char: str) -> int:
        """How many forms the dataset had for `char`, stored or not."""
        row = self._rows.get(char)
        return 0 if row is None else int(self._total[row])

    def get(self, char: str, limit: int | None = None) -> list[Form]:
        """The stored forms of `char` in their shown order (sources take turns), up to `limit`."""
        row = self._rows.get(char)
        if row is None:
            return []
        start, end = int(self._start[row]), int(self._start[row + 1])
        end = end if limit is None else min(end, start + limit)
        images = unpack(self._ink[start:end])
        return [
            Form(self._sources[self._source[i]], str(self._ref[i]), images[i - start])
            for i in range(start, end)
        ]


def build(
    dataset_dir: str | os.PathLike,
    per_char: int = PER_CHAR,
    size: int = SIZE,
    skip_sources: Sequence[str] = NOT_FORMS,
) -> Forms:
    """Up to `per_char` forms of every character in a built dataset (any splits, any sources
    with `label`, `source` and `ref` columns), sources taking turns: see `source_order`."""
    import datasets  # a second to import: the build needs it, the app's start does not

    if size % 4:
        raise ValueError(f"size {size}: must be a multiple of 4 (four pixels a byte)")
    dd = datasets.load_from_disk(str(dataset_dir))
    splits = dd.values() if isinstance(dd, datasets.DatasetDict) else [dd]
    rows = []  # (char, source, ref, split, index)
    for split in splits:
        names = split.features["label"].names
        columns = zip(split["label"], split["source"], split["ref"], strict=True)
        for i, (k, s, r) in enumerate(columns):
            if s not in skip_sources:
                rows.append((names[k], s, r, split, i))
    by_char: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    for j in sorted(range(len(rows)), key=lambda j: rows[j][2]):  # by ref within a source
        by_char[rows[j][0]][rows[j][1]].append(j)
    order = source_order(r[1] for r in rows)
    sources = {s: k for k, s in enumerate(order)}
    chars, start, total, images, source, ref = [], [0], [], [], [], []
    for char in sorted(by_char):
        n = failed = 0
        candidates = interleave(by_char[char], order)
        for j in candidates:
            if n == per_char:
                break
            _, s, r, split, i = rows[j]
            try:
                images.append(normalise(split[i]["image"], size))
            except GlyphError:
                failed += 1
                continue
            source.append(sources[s])
            ref.append(r)
            n += 1
        if n:
            chars.append(char)
            start.append(start[-1] + n)
            total.append(len(candidates) - failed)
    ink = pack(np.stack(images)) if images else np.zeros((0, size, size // 4), np.uint8)
    return Forms(chars, start, total, ink, source, order, np.array(ref, np.str_))


def png_data_uri(image: np.ndarray) -> str:
    """A grey uint8 array as an inline `data:image/png;base64,...` URI."""
    buf = io.BytesIO()
    Image.fromarray(image, mode="L").save(buf, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def pen_rendering(image, side: int = EXAMPLE_SIDE) -> Image.Image:
    """The glyph re-drawn with a round pen, as a user would on the canvas: black on white."""
    ink = pen_drawn(square_glyph(image), side, PEN_WIDTH * side / INPUT_SIZE)
    return Image.fromarray((255 - np.round(ink * 255)).astype(np.uint8), mode="L")


def write_examples(
    dataset_dir: str | os.PathLike, out_dir: str | os.PathLike, chars=EXAMPLE_CHARS
) -> list[Path]:
    """Pen-drawn renderings of the test glyphs of `chars`, as `out_dir/<char>.png`, and the same
    glyphs as an inscription of two columns, `out_dir/inscriptions/<chars>.png`."""
    import datasets  # as in `build`

    test = datasets.load_from_disk(str(dataset_dir))["test"]
    names = test.features["label"].names
    index = {names[k]: i for i, k in enumerate(test["label"])}
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for char in chars:
        if char not in index:
            raise ValueError(f"{char}: no test glyph in {dataset_dir}")
        path = out_dir / f"{char}.png"
        pen_rendering(test[index[char]]["image"]).save(path, optimize=True)
        written.append(path)
    ink, labels = compose([glyph_ink(p) for p in written], np.random.default_rng(1), lines=2)
    page = out_dir / "inscriptions" / f"{''.join(chars)}.png"
    page.parent.mkdir(exist_ok=True)
    page.write_bytes(drawing(ink, labels).data)
    return [*written, page]
