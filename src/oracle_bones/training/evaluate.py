"""Held-out accuracy: top-1/5/10 on each held-out split as drawn, and re-drawn with a round pen;
for the graph (the headline: the label itself) and for the word (the label is the predicted graph
or one of the words it also wrote, `data.readings`)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import torch
from torch import nn

from ..data.dataset import HELD_OUT, GlyphTensors, load, to_tensors
from ..data.readings import readings
from ..glyphs.pen import PEN_WIDTH, stroke
from ..model import standardise
from ..reading.recognizer import Recognizer

TOP_K = (1, 5, 10)
FORM_BINS = ((1, 1), (2, 3), (4, 7), (8, 15), (16, None))  # training forms of the character


def by_forms(logits: torch.Tensor, labels: torch.Tensor, forms: torch.Tensor) -> dict[str, dict]:
    """Top-1 by how many training forms the true character has (`forms[label]`): where the
    model's knowledge runs out. Keys `1`, `2-3`, ..., `16+`, each {"top1", "n"}; 0 forms (a
    character never trained on) is `0`."""
    hit = logits.argmax(1) == labels.cpu()
    counts = forms[labels.cpu().clamp(min=0)] * (labels.cpu() >= 0)
    out = {}
    for lo, hi in ((0, 0), *FORM_BINS):
        name = str(lo) if lo == hi else f"{lo}+" if hi is None else f"{lo}-{hi}"
        m = (counts >= lo) & (counts <= (hi if hi is not None else counts.max()))
        if m.any():
            out[name] = {"top1": hit[m].float().mean().item(), "n": int(m.sum())}
    return out


def topk_accuracy(logits: torch.Tensor, labels: torch.Tensor, ks=TOP_K) -> dict[str, float]:
    top = logits.topk(max(ks), dim=1).indices
    hit = top == labels.cpu()[:, None]  # logits come back on the CPU, labels may be on a GPU
    return {f"top{k}": hit[:, :k].any(1).float().mean().item() for k in ks}


def word_accuracy(
    logits: torch.Tensor, truth: torch.Tensor, words: torch.Tensor, ks=TOP_K
) -> dict[str, float]:
    """Top-k where a guess counts when the true character is the guessed graph or one of its
    readings: `words[k, c]`, the model's class k wrote the dataset's class c."""
    top = logits.topk(max(ks), dim=1).indices
    hit = words[top, truth.cpu()[:, None]]
    return {f"word_top{k}": hit[:, :k].any(1).float().mean().item() for k in ks}


def word_matrix(model_labels: list[str], names: list[str]) -> torch.Tensor:
    """(model classes, dataset classes) booleans: the class's graph wrote that character."""
    index = {n: j for j, n in enumerate(names)}
    words = torch.zeros(len(model_labels), len(names), dtype=torch.bool)
    for k, label in enumerate(model_labels):
        for word in readings().of(label):
            if word in index:
                words[k, index[word]] = True
    return words


@torch.no_grad()
def logits_of(model: nn.Module, ink: torch.Tensor, batch: int = 256) -> torch.Tensor:
    device = next(model.parameters()).device
    model.eval()
    return torch.cat([model(standardise(x.to(device))).float().cpu() for x in ink.split(batch)])


def evaluate(
    model: nn.Module,
    splits: dict[str, GlyphTensors],
    label_map: torch.Tensor | None = None,
    words: torch.Tensor | None = None,
    forms: torch.Tensor | None = None,
) -> dict:
    """Metrics per split on the clean and pen-drawn glyphs: `{split}` and `{split}_pen`, with
    `sizes` per split and `n` the size of `test`.

    `label_map` maps the dataset's class ids to the model's (models and datasets may order
    different label lists); -1 marks a class the model does not know (counted wrong). With
    `words` (`word_matrix`), each split also has the word figures, `word_top1` ...: a class the
    model does not know can still be a word its graph wrote. With `forms` (training forms per
    model class), each clean split has `by_forms` too.
    """
    out: dict = {"sizes": {}}
    for name, t in splits.items():
        if not len(t.labels):
            continue
        labels = t.labels if label_map is None else label_map[t.labels]
        pen = stroke(t.distance.float(), PEN_WIDTH)
        for key, ink in ((name, t.float_ink()), (f"{name}_pen", pen)):
            logits = logits_of(model, ink)
            out[key] = topk_accuracy(logits, labels)
            if words is not None:
                out[key] |= word_accuracy(logits, t.labels, words)
            if forms is not None and key == name:
                out[key]["by_forms"] = by_forms(logits, labels, forms)
        out["sizes"][name] = len(labels)
    out["n"] = out["sizes"].get("test", 0)
    return out


def class_map(names: Sequence[str], model_labels: Sequence[str]) -> torch.Tensor:
    """Dataset class id -> the model's class id for the same character, -1 where it has none."""
    index = {name: i for i, name in enumerate(model_labels)}
    return torch.tensor([index.get(n, -1) for n in names])


def evaluate_model(model_source: str | None, dataset: str, out: Path | None) -> dict:
    """`python -m oracle_bones evaluate`: every held-out split of `dataset`; writes metrics.json."""
    rec = Recognizer.from_pretrained(model_source)
    data = load(dataset)
    names = data["test"].features["label"].names
    label_map = class_map(names, rec.labels)
    splits = {s: to_tensors(data[s]) for s in HELD_OUT if s in data}
    trained = label_map[torch.tensor(data["train"]["label"])]
    forms = torch.bincount(trained[trained >= 0], minlength=len(rec.labels))
    metrics = {
        "model": str(rec.source),
        "dataset": str(dataset),
        **evaluate(rec.model, splits, label_map, word_matrix(rec.labels, names), forms),
    }
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(metrics, indent=2, ensure_ascii=False))
    return metrics
