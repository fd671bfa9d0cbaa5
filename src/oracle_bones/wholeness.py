"""A whole glyph or a part of one: a linear probe over the model's pooled features that helps
the inscription reader decide where one glyph ends and the next begins.

The model learnt whole glyphs only, so its top probability tells a run of two glyphs (an odd
shape) from one glyph better than it tells a fragment (a lone stroke looks like 一) from the
glyph it came from. The probe is fitted on the reader's own candidate glyphs on pages composed
from `train` glyphs (`synthetic.inscription`), each labelled by its box against the known ones:
whole, a part of one, or several. The log-odds of whole against part, times WEIGHT, multiply
into the confidence the reader weighs (whole against several made it split glyphs: tried on
validation pages). The probe lives in the model's config.json under KEY, so it travels with
the weights through the Hub; a model without one reads as before.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from . import model as model_io
from .files import atomic_file
from .glyph import to_tensor
from .inscription import Box, Found, box_iou, find_glyphs
from .model import CONFIG, pooled_features, standardise
from .synthetic import glyph_ink, inscription

KEY = "wholeness"  # config.json entry: {"weight": [...], "bias": b, "pages": n}
WEIGHT = 0.2  # of the log-odds: 0.2-0.4 read validation pages alike, 0.3 split 三 (three lines)
WHOLE, PART, SEVERAL = 0, 1, 2
COVER = 0.5  # a candidate holds a glyph when it covers this share of the glyph's box
SAME = 0.75  # ... and is that glyph when their boxes' IoU reaches this
PAGES = 1500  # composed pages to fit on (about 18,000 candidates, under 2 minutes on a core)
GLYPHS = 3000  # train glyphs drawn from, at random
L2 = 1e-3


@dataclass(frozen=True)
class Probe:
    """Log-odds that a crop holds one whole glyph rather than a part of one."""

    weight: torch.Tensor  # (num_features,)
    bias: float

    def log_odds(self, features: torch.Tensor) -> torch.Tensor:
        return features.float() @ self.weight + self.bias

    @classmethod
    def from_config(cls, config: dict) -> Probe | None:
        entry = config.get(KEY)
        if not entry:
            return None
        return cls(torch.tensor(entry["weight"], dtype=torch.float32), float(entry["bias"]))


def label(box: Box, truth: Sequence[Box]) -> int:
    """WHOLE, PART or SEVERAL: what a candidate's box holds of the page's known glyphs."""
    x0, y0, x1, y1 = box
    covered = [
        max(0, min(x1, t[2]) - max(x0, t[0]))
        * max(0, min(y1, t[3]) - max(y0, t[1]))
        / max(1, (t[2] - t[0]) * (t[3] - t[1]))
        for t in truth
    ]
    if sum(c >= COVER for c in covered) >= 2:
        return SEVERAL
    return WHOLE if box_iou(box, truth[int(np.argmax(covered))]) >= SAME else PART


@torch.no_grad()  # not inference_mode: the features are fitted on afterwards
def candidates(
    model: nn.Module, images: Sequence[Any], pages: int, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """Pooled features and labels of every candidate glyph the reader weighs on `pages` pages
    composed from `images` (one glyph each, any input `glyph.to_tensor` takes), as line
    drawings."""
    rng = np.random.default_rng(seed)
    features, labels, seen = [], [], {}

    def confidence(crops: Sequence[np.ndarray]) -> list[float]:
        x = standardise(torch.stack([to_tensor(c) for c in crops]))
        f = pooled_features(model, x).float()
        seen.update((id(c), row) for c, row in zip(crops, f, strict=True))
        return model.get_classifier()(f).softmax(1).amax(1).tolist()

    for _ in range(pages):
        chosen = rng.choice(len(images), int(rng.integers(2, 9)), replace=False)
        picture = inscription([glyph_ink(images[i]) for i in chosen], rng)
        weighed: list[Found] = []
        find_glyphs(picture.data, confidence, weighed)
        features.extend(seen[id(c.crop)] for c in weighed)  # crops alive: ids are theirs
        labels.extend(label(c.box, picture.boxes) for c in weighed)
        seen.clear()
    return torch.stack(features), torch.tensor(labels)


def fit(features: torch.Tensor, labels: torch.Tensor) -> Probe:
    """Multinomial logistic regression (whole, part, several) by L-BFGS; whole against part.
    The loss is convex, so it starts from zero: no random initialisation, no global seed."""
    linear = nn.Linear(features.shape[1], 3)
    nn.init.zeros_(linear.weight)
    nn.init.zeros_(linear.bias)
    opt = torch.optim.LBFGS(linear.parameters(), max_iter=300, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = nn.functional.cross_entropy(linear(features), labels)
        loss = loss + L2 * linear.weight.square().sum()
        loss.backward()
        return loss

    opt.step(closure)
    w, b = linear.weight.detach(), linear.bias.detach()
    return Probe(w[WHOLE] - w[PART], float(b[WHOLE] - b[PART]))


def save(folder: Path, probe: Probe, pages: int) -> None:
    """Write the probe into the model folder's config.json (atomically)."""
    path = Path(folder) / CONFIG
    config = json.loads(path.read_text(encoding="utf-8"))
    config[KEY] = {
        "weight": [round(v, 6) for v in probe.weight.tolist()],
        "bias": round(probe.bias, 6),
        "pages": pages,
    }
    with atomic_file(path) as tmp:
        tmp.write_text(json.dumps(config, ensure_ascii=False, indent=2), encoding="utf-8")


def train_images(dataset: str | Path, count: int = GLYPHS, seed: int = 0) -> list[bytes]:
    """`count` image files of the dataset's `train` split, drawn at random."""
    import datasets

    from .dataset import load

    rows = load(dataset)["train"].cast_column("image", datasets.Image(decode=False))
    rng = np.random.default_rng(seed)
    picked = rng.choice(len(rows), min(count, len(rows)), replace=False)
    return [rows[int(i)]["image"]["bytes"] for i in sorted(picked)]


def fit_folder(folder: Path, dataset: str | Path, pages: int = PAGES) -> Probe:
    """Fit the probe for the model in `folder` on pages of `train` glyphs and write it there."""
    loaded = model_io.load(folder)
    features, labels = candidates(loaded.model, train_images(dataset), pages)
    probe = fit(features, labels)
    save(folder, probe, pages)
    return probe
