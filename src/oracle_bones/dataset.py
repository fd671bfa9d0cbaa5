"""The oracle bone dataset: sources -> validated records -> honest split -> de-duplicated splits.

Split rule: for every character with two or more seed (jiaguwen) images, the image whose file
name sorts last is `test`; everything else is `train`. Extra sources only ever go to `train`,
and any extra glyph that is a near-copy of a `test` image is dropped (see `near_copies`).
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from .files import atomic_dir, atomic_file
from .glyph import GlyphError, square_glyph
from .pen import skeleton_distance, stroke
from .sources import SOURCES, Record

SEED = "jiaguwen"
DEFAULT_SOURCES = ("jiaguwen", "zjnu-chennianfu", "zihuisong")
DUPLICATE_THRESHOLD = 0.70  # see dataset_card.md: copies of test glyphs score 0.75-1.0
SIMILARITY_PEN = 2.0
STATS_FILE = "build_stats.json"


@dataclass
class BuildStats:
    """Figures the card reports; saved beside the dataset so the card can be re-rendered."""

    sources: list[str]
    images: dict[str, dict[str, int]] = field(default_factory=dict)  # source -> split -> n
    classes: dict[str, dict[str, int]] = field(default_factory=dict)
    skipped: dict[str, dict[str, int]] = field(default_factory=dict)  # source -> reason -> n
    removed_near_copies: dict[str, int] = field(default_factory=dict)
    removed_at: dict[str, int] = field(default_factory=dict)  # threshold -> n, for the card
    threshold: float = DUPLICATE_THRESHOLD
    num_classes: int = 0
    test_classes: int = 0


def split_seed(records: Sequence[Record]) -> set[int]:
    """Indices of test records: per character with >= 2 seed images, the last file name."""
    by_label: dict[str, list[int]] = defaultdict(list)
    for i, r in enumerate(records):
        if r.source == SEED:
            by_label[r.label].append(i)
    return {max(ix, key=lambda i: records[i].ref) for ix in by_label.values() if len(ix) >= 2}


def similarity_features(squares: Iterable[np.ndarray]) -> torch.Tensor:
    """Unit vectors that compare drawings, not pens: skeletons redrawn at one width, blurred.

    Fonts draw heavier strokes than the seed images, which hides copies from a plain pixel
    comparison; redrawing both at one width makes a copy score high whatever the pen.
    """
    x = torch.from_numpy(np.stack([stroke(skeleton_distance(s), SIMILARITY_PEN) for s in squares]))
    k = torch.tensor([1.0, 4.0, 6.0, 4.0, 1.0])
    k = (k[:, None] * k[None]) / 256
    x = F.conv2d(x[:, None], k[None, None], padding=2)
    return F.normalize(x.flatten(1), dim=1)


def near_copies(candidates: torch.Tensor, test: torch.Tensor) -> torch.Tensor:
    """Best cosine similarity of each candidate against every test image."""
    return torch.cat([(c @ test.T).max(1).values for c in candidates.split(2048)])


def build(data_dir: Path, sources: Sequence[str] = DEFAULT_SOURCES):
    """Read, validate, split and de-duplicate; return (DatasetDict, BuildStats)."""
    import datasets

    stats = BuildStats(sources=list(sources))
    records: list[Record] = []
    squares: list[np.ndarray] = []
    for name in sources:
        skipped: Counter[str] = Counter()
        for rec in tqdm(SOURCES[name].records(data_dir), desc=f"reading {name}", unit="glyph"):
            try:
                squares.append(square_glyph(rec.image))
            except GlyphError as e:
                skipped[type(e).__name__] += 1
                tqdm.write(f"skipped {name} {rec.ref}: {e}")
                continue
            records.append(rec)
        stats.skipped[name] = dict(skipped)

    test_ix = split_seed(records)
    extra_ix = [i for i, r in enumerate(records) if r.source != SEED]
    drop: set[int] = set()
    if extra_ix and test_ix:
        print("Looking for near-copies of test glyphs among the extra sources...")
        order = sorted(test_ix)
        sims = near_copies(
            similarity_features(squares[i] for i in tqdm(extra_ix, desc="features")),
            similarity_features(squares[i] for i in order),
        )
        drop = {i for i, s in zip(extra_ix, sims.tolist(), strict=True) if s >= stats.threshold}
        for t in (0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95):
            stats.removed_at[f"{t:.2f}"] = int((sims >= t).sum())
    for i in drop:
        stats.removed_near_copies[records[i].source] = (
            stats.removed_near_copies.get(records[i].source, 0) + 1
        )

    names = sorted({r.label for r in records})
    features = datasets.Features(
        {
            "image": datasets.Image(),
            "label": datasets.ClassLabel(names=names),
            "source": datasets.Value("string"),
            "ref": datasets.Value("string"),
        }
    )
    splits: dict[str, list[Record]] = {"train": [], "test": []}
    for i, r in enumerate(records):
        if i not in drop:
            splits["test" if i in test_ix else "train"].append(r)
    dd = datasets.DatasetDict(
        {
            split: datasets.Dataset.from_dict(
                {
                    "image": [{"bytes": r.image, "path": None} for r in rs],
                    "label": [r.label for r in rs],
                    "source": [r.source for r in rs],
                    "ref": [r.ref for r in rs],
                },
                features=features,
                split=split,
            )
            for split, rs in splits.items()
        }
    )
    stats.num_classes = len(names)
    stats.test_classes = len({r.label for r in splits["test"]})
    for name in sources:
        for split, rs in splits.items():
            stats.images.setdefault(name, {})[split] = sum(r.source == name for r in rs)
            stats.classes.setdefault(name, {})[split] = len(
                {r.label for r in rs if r.source == name}
            )
    return dd, stats


def save(dd, stats: BuildStats, out: Path) -> None:
    """Write dataset, stats and card to `out` atomically: a crash leaves the old build intact."""
    from .cards import render_dataset_card

    with atomic_dir(out) as tmp:
        dd.save_to_disk(str(tmp))
        (tmp / STATS_FILE).write_text(json.dumps(stats.__dict__, indent=2, ensure_ascii=False))
        (tmp / "README.md").write_text(render_dataset_card(stats), encoding="utf-8")


def load(source: str | Path):
    """A DatasetDict from a folder written by `save`, or from a Hub repo id."""
    import datasets

    if Path(source).is_dir():
        return datasets.load_from_disk(str(source))
    from .hub import bounded_hub

    with bounded_hub():
        return datasets.load_dataset(str(source))


@dataclass
class GlyphTensors:
    """A split normalised once: ink (uint8 0..255) and skeleton distance (float16), labels."""

    ink: torch.Tensor  # (N, 1, S, S) uint8
    distance: torch.Tensor  # (N, 1, S, S) float16
    labels: torch.Tensor  # (N,) int64

    def float_ink(self) -> torch.Tensor:
        return self.ink.float() / 255.0


def to_tensors(split, cache_dir: Path | None = None) -> GlyphTensors:
    """Normalise every image of a split exactly as serving does; cached by its fingerprint."""
    import safetensors.torch

    from .glyph import INPUT_SIZE, fit

    cache = None
    if cache_dir is not None:
        cache = Path(cache_dir) / f"{split._fingerprint}-{INPUT_SIZE}.safetensors"
        if cache.exists():
            return GlyphTensors(**safetensors.torch.load_file(str(cache)))
    ink, dist = [], []
    for image in tqdm(split["image"] if len(split) else [], desc=f"normalising {split.split}"):
        square = square_glyph(image)
        ink.append(fit(square, INPUT_SIZE))
        dist.append(skeleton_distance(square))
    t = GlyphTensors(
        ink=(torch.from_numpy(np.stack(ink))[:, None] * 255).round().to(torch.uint8),
        distance=torch.from_numpy(np.stack(dist))[:, None].half(),
        labels=torch.tensor(split["label"], dtype=torch.int64),
    )
    if cache is not None:
        with atomic_file(cache) as tmp:
            safetensors.torch.save_file(t.__dict__, str(tmp))
    return t
