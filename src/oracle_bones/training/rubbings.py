"""Train glyphs rendered as rubbings (`glyphs.rubbing`), as the model sees them: light strokes
on a dark, grainy bone, turned over and normalised by the one path (`glyphs.glyph.to_tensor`).
The textures come from the `train` half of the real rubbings only; the benchmark's from the
other half (`benchmarks/bench_rubbings.py`)."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path
from typing import Any

import datasets
import numpy as np
import safetensors.torch
import torch
from tqdm.auto import tqdm

from ..files import atomic_file
from ..glyphs.glyph import INPUT_SIZE, GlyphError, square_glyph, to_tensor
from ..glyphs.rubbing import render, rubbing_files, textures

SHARE = 4  # one rubbing joins each step for every SHARE train glyphs in it


def texture_files(data_dir: Path) -> list[Path]:
    """The `train` half of the real rubbings, or a clear error where there are none."""
    files = rubbing_files(data_dir, "train")
    if not files:
        raise FileNotFoundError(
            f"no rubbings in {Path(data_dir) / 'rubbings' / 'images'} to take texture from "
            "(see the data README); train with --rubbings 0 to go without them"
        )
    return files


def rubbed(
    train: Any,
    to_model: torch.Tensor,
    data_dir: Path,
    count: int,
    seed: int = 0,
    cache_dir: Path | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """`count` glyphs of a dataset's `train` split, drawn at random among the classes the model
    knows (`to_model`: dataset class -> model class, -1 unknown), each rendered as a rubbing:
    (uint8 ink (N, 1, S, S), the model's class ids). Rendering takes about 10 ms a glyph, so
    with `cache_dir` they are kept, keyed by everything that decides them."""
    files = texture_files(data_dir)
    decided_by = (train._fingerprint, to_model.tolist(), [f.name for f in files], count, seed)
    key = hashlib.sha1(repr(decided_by).encode()).hexdigest()[:16]
    cache = Path(cache_dir) / f"rubbed-{key}-{INPUT_SIZE}.safetensors" if cache_dir else None
    if cache is not None and cache.exists():
        t = safetensors.torch.load_file(str(cache))
        return t["ink"], t["labels"]
    print(f"rendering {count} train glyphs as rubbings", file=sys.stderr, flush=True)
    texture = textures(files, seed=seed)
    rows = train.cast_column("image", datasets.Image(decode=False))
    known = np.nonzero((to_model[torch.tensor(rows["label"])] >= 0).numpy())[0]
    rng = np.random.default_rng(seed)
    ink, labels = [], []
    picked = sorted(rng.choice(known, min(count, len(known)), replace=False))
    for i in tqdm(picked, desc="rubbings", disable=None):
        row = rows[int(i)]
        try:
            picture = render(
                square_glyph(row["image"]["bytes"]), texture[rng.integers(len(texture))], rng
            )
            ink.append(to_tensor(picture))
        except GlyphError:  # worn away entirely: nothing left to learn from
            continue
        labels.append(int(to_model[row["label"]]))
    out = {"ink": (torch.stack(ink) * 255).round().to(torch.uint8), "labels": torch.tensor(labels)}
    if cache is not None:
        with atomic_file(cache) as tmp:
            safetensors.torch.save_file(out, str(tmp))
    return out["ink"], out["labels"]
