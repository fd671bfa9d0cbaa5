"""Held-out accuracy: top-1/5/10 on each held-out split as drawn, and re-drawn with a round pen."""

from __future__ import annotations

import json
from pathlib import Path

import torch
from torch import nn

from ..data.dataset import HELD_OUT, GlyphTensors, load, to_tensors
from ..glyphs.pen import PEN_WIDTH, stroke
from ..model import standardise
from ..reading.recognizer import Recognizer

TOP_K = (1, 5, 10)


def topk_accuracy(logits: torch.Tensor, labels: torch.Tensor, ks=TOP_K) -> dict[str, float]:
    top = logits.topk(max(ks), dim=1).indices
    hit = top == labels[:, None]
    return {f"top{k}": hit[:, :k].any(1).float().mean().item() for k in ks}


@torch.no_grad()
def logits_of(model: nn.Module, ink: torch.Tensor, batch: int = 256) -> torch.Tensor:
    device = next(model.parameters()).device
    model.eval()
    return torch.cat([model(standardise(x.to(device))).float().cpu() for x in ink.split(batch)])


def evaluate(
    model: nn.Module, splits: dict[str, GlyphTensors], label_map: torch.Tensor | None = None
) -> dict:
    """Metrics per split on the clean and pen-drawn glyphs: `{split}` and `{split}_pen`, with
    `sizes` per split and `n` the size of `test`.

    `label_map` maps the dataset's class ids to the model's (models and datasets may order
    different label lists); -1 marks a class the model does not know (counted wrong).
    """
    out: dict = {"sizes": {}}
    for name, t in splits.items():
        if not len(t.labels):
            continue
        labels = t.labels if label_map is None else label_map[t.labels]
        out[name] = topk_accuracy(logits_of(model, t.float_ink()), labels)
        pen = stroke(t.distance.float(), PEN_WIDTH)
        out[f"{name}_pen"] = topk_accuracy(logits_of(model, pen), labels)
        out["sizes"][name] = len(labels)
    out["n"] = out["sizes"].get("test", 0)
    return out


def evaluate_model(model_source: str | None, dataset: str, out: Path | None) -> dict:
    """`python -m oracle_bones evaluate`: every held-out split of `dataset`; writes metrics.json."""
    rec = Recognizer.from_pretrained(model_source)
    data = load(dataset)
    names = data["test"].features["label"].names
    index = {name: i for i, name in enumerate(rec.labels)}
    label_map = torch.tensor([index.get(n, -1) for n in names])
    splits = {s: to_tensors(data[s]) for s in HELD_OUT if s in data}
    metrics = {
        "model": str(rec.source),
        "dataset": str(dataset),
        **evaluate(rec.model, splits, label_map),
    }
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(metrics, indent=2, ensure_ascii=False))
    return metrics
