"""Train glyphs rendered as rubbings (`glyphs.rubbing`), as the model sees them: light strokes
on a dark, grainy bone, turned over and normalised by the one path (`glyphs.glyph.to_tensor`).
The textures come from the `train` half of the real rubbings only; the benchmark's from the
other half (`benchmarks/bench_rubbings.py`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import datasets
import numpy as np
import torch

from ..glyphs.glyph import GlyphError, square_glyph, to_tensor
from ..glyphs.rubbing import render, rubbing_files, textures


def rubbed(
    train: Any, to_model: torch.Tensor, data_dir: Path, count: int, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """`count` glyphs of a dataset's `train` split, drawn at random among the classes the model
    knows (`to_model`: dataset class -> model class, -1 unknown), each rendered as a rubbing:
    (uint8 ink (N, 1, S, S), the model's class ids)."""
    files = rubbing_files(data_dir, "train")
    if not files:
        raise FileNotFoundError(
            f"no rubbings in {Path(data_dir) / 'rubbings'} to take texture from"
        )
    texture = textures(files, seed=seed)
    rows = train.cast_column("image", datasets.Image(decode=False))
    known = np.nonzero((to_model[torch.tensor(rows["label"])] >= 0).numpy())[0]
    rng = np.random.default_rng(seed)
    ink, labels = [], []
    for i in sorted(rng.choice(known, min(count, len(known)), replace=False)):
        row = rows[int(i)]
        try:
            picture = render(
                square_glyph(row["image"]["bytes"]), texture[rng.integers(len(texture))], rng
            )
            ink.append(to_tensor(picture))
        except GlyphError:  # worn away entirely: nothing left to learn from
            continue
        labels.append(int(to_model[row["label"]]))
    return (torch.stack(ink) * 255).round().to(torch.uint8), torch.tensor(labels)
