"""Reference glyphs: a few known drawings of every character, for the app to show beside a guess.

One compressed `.npz` (loads with `allow_pickle=False`): `labels` (N,) unicode, `images`
(N, PER_CLASS, SIZE, SIZE) uint8 dark ink on white (unused slots white), `count` (N,). Drawn from
the train split only (seed drawings first, then fonts); the test split stays held out.
"""

from __future__ import annotations

import base64
import io
import os
from collections import defaultdict
from pathlib import Path

import numpy as np
from PIL import Image

from .files import atomic_file
from .glyph import INPUT_SIZE, GlyphError, square_glyph, to_tensor
from .pen import PEN_WIDTH, pen_drawn

SIZE = 48
PER_CLASS = 3
FILE = "references.npz"
BUNDLED = Path(__file__).resolve().parent / "pretrained" / FILE
SOURCE_ORDER = ("jiaguwen", "zjnu-chennianfu", "zihuisong")  # seed drawings first, then fonts
# Simple, visually distinct characters whose held-out (test) glyph becomes a clickable example.
EXAMPLE_CHARS = ("大", "月", "火", "田", "羊", "门")
EXAMPLE_SIDE = 256


def normalise(image, size: int = SIZE) -> np.ndarray:
    """Crop to the ink, square, resize: uint8 (size, size), dark ink on white."""
    ink = to_tensor(image, size)[0].numpy()
    return (255 - np.round(ink * 255)).astype(np.uint8)


def build(dataset_dir: str | os.PathLike, per_class: int = PER_CLASS, size: int = SIZE):
    """Up to `per_class` normalised train glyphs per class: (labels, images, count)."""
    import datasets

    train = datasets.load_from_disk(str(dataset_dir))["train"]
    names = train.features["label"].names
    rank = {s: i for i, s in enumerate(SOURCE_ORDER)}
    labels, src, ref = train["label"], train["source"], train["ref"]
    order = sorted(range(len(train)), key=lambda i: (rank.get(src[i], len(rank)), src[i], ref[i]))
    chosen: dict[int, list[np.ndarray]] = defaultdict(list)
    for i in order:
        if len(chosen[labels[i]]) >= per_class:
            continue
        try:
            chosen[labels[i]].append(normalise(train[i]["image"], size))
        except GlyphError:
            continue
    kept = [k for k in range(len(names)) if chosen.get(k)]
    images = np.full((len(kept), per_class, size, size), 255, np.uint8)
    count = np.zeros(len(kept), np.int64)
    for row, k in enumerate(kept):
        count[row] = len(chosen[k])
        images[row, : count[row]] = np.stack(chosen[k])
    return np.array([names[k] for k in kept], dtype=np.str_), images, count


def save(labels: np.ndarray, images: np.ndarray, count: np.ndarray, out: str | os.PathLike) -> None:
    """Write the `.npz` atomically."""
    with atomic_file(Path(out)) as tmp, tmp.open("wb") as f:
        np.savez_compressed(f, labels=labels, images=images, count=count)


class References:
    """Known drawings per character: `References.load().get("大")` -> list of uint8 arrays."""

    def __init__(self, labels=(), images=None, count=()) -> None:
        self._rows = {str(c): i for i, c in enumerate(labels)}
        self._images = images
        self._count = np.asarray(count)

    @classmethod
    def load(cls, path: str | os.PathLike | None = None) -> References:
        """The bundled file by default; an empty set when the file is missing or unreadable."""
        try:
            with np.load(Path(path or BUNDLED), allow_pickle=False) as z:
                return cls(z["labels"], z["images"], z["count"])
        except (OSError, ValueError, KeyError):
            return cls()

    def __len__(self) -> int:
        return len(self._rows)

    def __contains__(self, char: str) -> bool:
        return char in self._rows

    def get(self, char: str) -> list[np.ndarray]:
        row = self._rows.get(char)
        if row is None:
            return []
        return list(self._images[row, : int(self._count[row])])


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
    """Pen-drawn renderings of the test glyphs of `chars`, as `out_dir/<char>.png`."""
    import datasets

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
    return written
