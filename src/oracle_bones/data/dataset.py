"""The oracle bone dataset: sources -> validated records -> honest splits -> de-duplicated splits.

Splits, each held out whole:
- `test`: for every character with two or more seed (jiaguwen) images, the image whose file
  name sorts last: the same 392 glyphs since the first build, so every figure stays comparable.
- `test_isobs`: for every labelled IsOBS class with four or more drawings, the drawing whose name
  sorts last: a second held-out test of hand copies.
- `validation`: for every labelled IsOBS class with five or more drawings, the one that sorts
  second to last; and `validation_hwobc`: for every character with three or more HWOBC pen
  drawings, the one whose name sorts last. Training chooses its epoch by these two, and every
  tuning decision is made on them alone.
- `test_feedback`: every fifth drawing shared from the app (by id), when `feedback` is a source.
Everything else is `train`. Any train glyph that is a near-copy of a held-out glyph is dropped
(see `find_near_copies`), except that seed train images are not checked against the seed's own
`test` (they never were, and `test` and its training set stay as they were defined).
"""

from __future__ import annotations

import json
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import datasets
import numpy as np
import safetensors.torch
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from ..files import atomic_dir, atomic_file
from ..glyphs.glyph import INPUT_SIZE, GlyphError, fit, square_glyph
from ..glyphs.pen import skeleton_distance, stroke
from ..hub import download_dataset
from .cards import render_dataset_card
from .sources import DEFAULT_SOURCES, SOURCES, Record

SEED = "jiaguwen"
ISOBS = "isobs"
PEN = "hwobc"
FEEDBACK = "feedback"
SPLITS = ("train", "validation", "validation_hwobc", "test", "test_isobs", "test_feedback")
HELD_OUT = SPLITS[1:]
CHOOSING = SPLITS[1:3]  # the validation splits: the epoch and every choice are made on these
DUPLICATE_THRESHOLD = 0.70  # see dataset_card.md: copies of test glyphs score 0.75-1.0
SAME_SOURCE_THRESHOLD = 0.85  # one source, one pen: copies score higher (see find_near_copies)
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
    removed_by_split: dict[str, dict[str, int]] = field(default_factory=dict)  # source -> held-out
    removed_at: dict[str, int] = field(default_factory=dict)  # threshold -> n, for the card
    threshold: float = DUPLICATE_THRESHOLD
    num_classes: int = 0
    test_classes: int = 0
    split_classes: dict[str, int] = field(default_factory=dict)  # split -> classes


def last_per_character(records: Sequence[Record], source: str, at_least: int) -> set[int]:
    """Indices of the record whose ref sorts last, per character with >= `at_least` records
    of `source`: the seed's `test` (2) and HWOBC's `validation_hwobc` (3)."""
    by_label: dict[str, list[int]] = defaultdict(list)
    for i, r in enumerate(records):
        if r.source == source:
            by_label[r.label].append(i)
    return {
        max(ix, key=lambda i: records[i].ref) for ix in by_label.values() if len(ix) >= at_least
    }


def split_isobs(records: Sequence[Record]) -> tuple[set[int], set[int]]:
    """(test_isobs, validation) indices: per labelled IsOBS class, the drawing whose name sorts
    last when it has >= 4 drawings, and the one before it when it has >= 5."""
    by_class: dict[str, list[int]] = defaultdict(list)
    for i, r in enumerate(records):
        if r.source == ISOBS:
            by_class[r.ref.split("_")[0]].append(i)
    test, validation = set(), set()
    for ix in by_class.values():
        ix = sorted(ix, key=lambda i: records[i].ref)
        if len(ix) >= 4:
            test.add(ix[-1])
        if len(ix) >= 5:
            validation.add(ix[-2])
    return test, validation


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


def read_sources(data_dir: Path, sources: Sequence[str], stats: BuildStats):
    """Every record that normalises, with its cropped square; what cannot is counted."""
    records: list[Record] = []
    squares: list[np.ndarray] = []
    for name in sources:
        skipped: Counter[str] = Counter()
        for rec in tqdm(
            SOURCES[name].records(data_dir), desc=f"reading {name}", unit="glyph", disable=None
        ):
            try:
                squares.append(square_glyph(rec.image))
            except GlyphError as e:
                skipped[type(e).__name__] += 1
                tqdm.write(f"skipped {name} {rec.ref}: {e}")
                continue
            records.append(rec)
        stats.skipped[name] = dict(skipped)
    return records, squares


def assign_splits(records: Sequence[Record]) -> list[str]:
    split = ["train"] * len(records)
    test_isobs, validation = split_isobs(records)
    for name, ix in (
        ("test", last_per_character(records, SEED, 2)),
        ("test_isobs", test_isobs),
        ("validation", validation),
        ("validation_hwobc", last_per_character(records, PEN, 3)),
    ):
        for i in ix:
            split[i] = name
    shared = sorted((r.ref, i) for i, r in enumerate(records) if r.source == FEEDBACK)
    for k, (_, i) in enumerate(shared):
        if k % 5 == 4:  # every fifth shared drawing by id
            split[i] = "test_feedback"
    return split


def find_near_copies(records, squares, split: list[str], stats: BuildStats) -> set[int]:
    """Train glyphs to drop: a near-copy of a held-out glyph, by the rules in the docstring.

    A pair drawn by one source with one pen needs SAME_SOURCE_THRESHOLD (looked at by eye: IsOBS
    pairs at 0.70-0.85 are mostly different characters alike in shape, copies score 0.85 and up);
    across sources the pens differ, and copies score from DUPLICATE_THRESHOLD up. The figures
    kept are each pair's similarity less the difference when both come from one source.
    """
    held = [i for i, s in enumerate(split) if s != "train"]
    train = [i for i, s in enumerate(split) if s == "train"]
    if not held or all(records[i].source == SEED for i in train):
        return set()
    print(f"Looking for near-copies of {len(held)} held-out glyphs among {len(train)}...")
    feats = similarity_features(
        squares[i] for i in tqdm(held + train, desc="features", disable=None)
    )
    held_f, train_f = feats[: len(held)], feats[len(held) :]
    held_source = [records[i].source for i in held]
    best = torch.full((len(train),), -1.0)
    which = torch.zeros(len(train), dtype=torch.int64)
    for source in dict.fromkeys(records[i].source for i in train):
        rows = torch.tensor([records[i].source == source for i in train])
        # the seed's own test was never de-duplicated against its train images: kept as defined
        cols = torch.tensor([h != source or source != SEED for h in held_source])
        if not cols.any():
            continue
        cols = torch.nonzero(cols).flatten()
        same = torch.tensor([held_source[c] == source for c in cols.tolist()])
        offset = same.float() * (SAME_SOURCE_THRESHOLD - stats.threshold)
        sims = torch.cat([(c @ held_f[cols].T) - offset for c in train_f[rows].split(2048)])
        b, idx = sims.max(1)
        best[rows], which[rows] = b, cols[idx]
    for t in (0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95):
        stats.removed_at[f"{t:.2f}"] = int((best >= t).sum())
    drop = set()
    for k in torch.nonzero(best >= stats.threshold).flatten().tolist():
        i, source = train[k], records[train[k]].source
        drop.add(i)
        stats.removed_near_copies[source] = stats.removed_near_copies.get(source, 0) + 1
        by = stats.removed_by_split.setdefault(source, {})
        by[split[held[int(which[k])]]] = by.get(split[held[int(which[k])]], 0) + 1
    return drop


def build(data_dir: Path, sources: Sequence[str] = DEFAULT_SOURCES):
    """Read, validate, split and de-duplicate; return (DatasetDict, BuildStats)."""
    stats = BuildStats(sources=list(sources))
    records, squares = read_sources(data_dir, sources, stats)
    split = assign_splits(records)
    drop = find_near_copies(records, squares, split, stats)

    names = sorted({r.label for r in records})
    features = datasets.Features(
        {
            "image": datasets.Image(),
            "label": datasets.ClassLabel(names=names),
            "source": datasets.Value("string"),
            "ref": datasets.Value("string"),
        }
    )
    splits: dict[str, list[Record]] = {name: [] for name in SPLITS}
    for i, r in enumerate(records):
        if i not in drop:
            splits[split[i]].append(r)
    dd = datasets.DatasetDict(
        {
            name: datasets.Dataset.from_dict(
                {
                    "image": [{"bytes": r.image, "path": None} for r in rs],
                    "label": [r.label for r in rs],
                    "source": [r.source for r in rs],
                    "ref": [r.ref for r in rs],
                },
                features=features,
                split=name,
            )
            for name, rs in splits.items()
            if rs or name in ("train", "test")  # a seed-only build has no IsOBS held-out splits
        }
    )
    stats.num_classes = len(names)
    stats.test_classes = len({r.label for r in splits["test"]})
    stats.split_classes = {name: len({r.label for r in rs}) for name, rs in splits.items()}
    for name in sources:
        for split_name, rs in splits.items():
            stats.images.setdefault(name, {})[split_name] = sum(r.source == name for r in rs)
            stats.classes.setdefault(name, {})[split_name] = len(
                {r.label for r in rs if r.source == name}
            )
    return dd, stats


def save(dd, stats: BuildStats, out: Path) -> None:
    """Write dataset, stats and card to `out` atomically: a crash leaves the old build intact."""
    with atomic_dir(out) as tmp:
        dd.save_to_disk(str(tmp))
        (tmp / STATS_FILE).write_text(json.dumps(stats.__dict__, indent=2, ensure_ascii=False))
        (tmp / "README.md").write_text(
            render_dataset_card(stats, SPLITS, SAME_SOURCE_THRESHOLD), encoding="utf-8"
        )


def load(source: str | Path):
    """A DatasetDict from a folder written by `save`, or from a Hub repo id."""
    if Path(source).is_dir():
        return datasets.load_from_disk(str(source))
    return download_dataset(str(source))


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
    cache = None
    if cache_dir is not None:
        cache = Path(cache_dir) / f"{split._fingerprint}-{INPUT_SIZE}.safetensors"
        if cache.exists():
            return GlyphTensors(**safetensors.torch.load_file(str(cache)))
    print(f"normalising {len(split)} {split.split} glyphs", file=sys.stderr, flush=True)  # logs too
    ink, dist = [], []
    for image in tqdm(
        split["image"] if len(split) else [], desc=f"normalising {split.split}", disable=None
    ):
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
