"""Held-out accuracy: top-1/5/10 on `test` as drawn, and on `test` re-drawn with a round pen."""

from __future__ import annotations

import json
from pathlib import Path

import torch
from torch import nn

from .dataset import GlyphTensors
from .model import standardise
from .pen import PEN_WIDTH, stroke

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


def evaluate(model: nn.Module, test: GlyphTensors, label_map: torch.Tensor | None = None) -> dict:
    """Metrics on the clean and pen-drawn test glyphs.

    `label_map` maps the dataset's class ids to the model's (models and datasets may order
    different label lists); -1 marks a class the model does not know (counted wrong).
    """
    labels = test.labels if label_map is None else label_map[test.labels]
    clean = topk_accuracy(logits_of(model, test.float_ink()), labels)
    pen = topk_accuracy(logits_of(model, stroke(test.distance.float(), PEN_WIDTH)), labels)
    return {"n": len(labels), "test": clean, "test_pen": pen}


def evaluate_model(model_source: str | None, dataset: str, out: Path | None) -> dict:
    """`python -m oracle_bones evaluate`: load, evaluate on `test`, write metrics.json."""
    from .dataset import load, to_tensors
    from .recognizer import Recognizer

    rec = Recognizer.from_pretrained(model_source)
    split = load(dataset)["test"]
    names = split.features["label"].names
    index = {name: i for i, name in enumerate(rec.labels)}
    label_map = torch.tensor([index.get(n, -1) for n in names])
    metrics = {
        "model": str(rec.source),
        "dataset": str(dataset),
        **evaluate(rec.model, to_tensors(split), label_map),
    }
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(metrics, indent=2, ensure_ascii=False))
    return metrics
