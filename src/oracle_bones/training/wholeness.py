"""Fine-tuning the model with its whole-glyph head (`model.Head`): whole glyph, part of one, or
several, which helps the inscription reader decide where one glyph ends and the next begins.

The model learnt whole glyphs only, so its top probability tells a run of two glyphs from one
glyph only where it knows both, and a fragment (a lone stroke looks like 一) from the glyph it
came from hardly at all. So once trained, the network is fine-tuned for a few epochs on two
tasks at once: its classes, on the train glyphs as in training, and a linear head on the
reader's own candidate glyphs on pages composed from `train` glyphs (`synthetic.inscription`,
and more rows, the weak layout), each labelled by its box against the known ones: whole, a part
of one, or several. The head's log-odds of whole against part and of whole against several,
to the powers `model.POWERS`, multiply into the confidence the reader weighs. A head fitted on the
frozen features told whole from several too poorly to use (it cost pages of the seed's hand):
the features had to learn it. The head lives in the model's config.json under `model.HEAD_KEY`,
so it travels with the weights through the Hub; a model without one reads as before.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import datasets
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .. import model as model_io
from ..data.cards import render_model_card
from ..data.dataset import HELD_OUT, SEED, GlyphTensors, load, to_tensors
from ..glyphs.glyph import to_tensor
from ..glyphs.synthetic import compose, drawing, glyph_ink, inscription
from ..model import HEAD_KEY, PART, SEVERAL, WHOLE, Head, pooled_features, standardise
from ..reading.inscription import Box, Found, box_iou, find_glyphs
from .augment import Augment
from .evaluate import class_map, evaluate, word_matrix
from .loop import TrainConfig, epoch_index
from .rubbings import SHARE
from .rubbings import rubbed as rubbed_glyphs

COVER = 0.5  # a candidate holds a glyph when it covers this share of the glyph's box
SAME = 0.75  # ... and is that glyph when their boxes' IoU reaches this
PAGES = 4000  # composed pages (about 57,000 candidates, 3 minutes on a core)
ROWS = 0.25  # of those pages, at least, laid out as one row
GLYPHS = 8000  # train glyphs drawn from, at random
EPOCHS = 3  # of fine-tuning, each a pass over the train glyphs as in training
LR = 3e-4  # peak learning rate of the fine-tuning, decayed to zero (cosine)
BATCH = 128  # train glyphs per step, and as many candidates
L2 = 1e-3  # of the head's first fit on the frozen features
RUBBED = BATCH // SHARE  # glyphs rendered as rubbings in each step, beside the train glyphs


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


@torch.no_grad()  # not inference_mode: the crops are trained on afterwards
def candidates(
    model: nn.Module, images: Sequence[Any], pages: int, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """Every candidate glyph the reader weighs on `pages` pages composed from `images` (one
    glyph each, any input `glyph.to_tensor` takes), as line drawings: each crop as the model
    sees it (uint8 ink, (N, 1, S, S)) and its label."""
    rng = np.random.default_rng(seed)
    device = next(model.parameters()).device
    model.eval()
    crops, labels, seen = [], [], {}

    def confidence(found: Sequence[np.ndarray]) -> list[float]:
        x = torch.stack([to_tensor(c) for c in found])
        seen.update((id(c), t) for c, t in zip(found, x, strict=True))
        return model(standardise(x.to(device))).float().softmax(1).amax(1).tolist()

    for _ in range(pages):
        chosen = rng.choice(len(images), int(rng.integers(2, 9)), replace=False)
        inks = [glyph_ink(images[i]) for i in chosen]
        if len(inks) >= 3 and rng.random() < ROWS:
            picture = drawing(*compose(inks, rng, 1, horizontal=True))
        else:
            picture = inscription(inks, rng)
        weighed: list[Found] = []
        find_glyphs(picture.data, confidence, weighed)
        crops.extend(seen[id(c.crop)] for c in weighed)  # crops alive: ids are theirs
        labels.extend(label(c.box, picture.boxes) for c in weighed)
        seen.clear()
    return (torch.stack(crops) * 255).round().to(torch.uint8), torch.tensor(labels)


@torch.no_grad()
def features(model: nn.Module, crops: torch.Tensor, batch: int = 512) -> torch.Tensor:
    """Pooled features of uint8 crops (`candidates`), on the CPU."""
    device = next(model.parameters()).device
    model.eval()
    return torch.cat(
        [
            pooled_features(model, standardise(b.to(device).float() / 255)).float().cpu()
            for b in crops.split(batch)
        ]
    )


def fit(features: torch.Tensor, labels: torch.Tensor) -> nn.Linear:
    """Multinomial logistic regression (whole, part, several) by L-BFGS. The loss is convex,
    so it starts from zero: no random initialisation, no global seed."""
    linear = nn.Linear(features.shape[1], 3)
    nn.init.zeros_(linear.weight)
    nn.init.zeros_(linear.bias)
    opt = torch.optim.LBFGS(linear.parameters(), max_iter=300, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = F.cross_entropy(linear(features), labels) + L2 * linear.weight.square().sum()
        loss.backward()
        return loss

    opt.step(closure)
    return linear


def fine_tune(
    model: nn.Module,
    glyphs: GlyphTensors,
    index: torch.Tensor,
    crops: torch.Tensor,
    labels: torch.Tensor,
    epochs: int = EPOCHS,
    seed: int = 0,
    rubbings: tuple[torch.Tensor, torch.Tensor] | None = None,
) -> Head:
    """The model's classes on `glyphs` (epochs over `index`, augmented as in training) and the
    head on the candidate `crops`, at once; the head starts from its fit on the frozen
    features. With `rubbings` (uint8 ink as the model sees it, class ids: `training.rubbings`),
    RUBBED of them join each step's glyphs. Returns the head; the model is fine-tuned in place
    and left in eval mode."""
    device = next(model.parameters()).device
    augment = Augment()
    linear = fit(features(model, crops), labels).to(device)
    opt = torch.optim.AdamW([*model.parameters(), *linear.parameters()], lr=LR, weight_decay=0.05)
    steps = max(1, len(index) // BATCH)
    total = epochs * steps
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: 0.5 * (1 + math.cos(math.pi * s / total))
    )
    for epoch in range(epochs):
        model.train()
        g = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
        order = index[torch.randperm(len(index), generator=g)]
        others = torch.randperm(len(labels), generator=g)
        rubbed = torch.randperm(len(rubbings[1]), generator=g) if rubbings else None
        for s in range(steps):
            ix = order[s * BATCH : (s + 1) * BATCH]
            jx = others[torch.arange(s * BATCH, s * BATCH + len(ix)) % len(others)]
            ink = glyphs.ink[ix].to(device).float() / 255
            drawn = augment(ink, glyphs.distance[ix].to(device).float(), g)
            truth = glyphs.labels[ix].to(device)
            if rubbed is not None:
                rx = rubbed[torch.arange(s * RUBBED, (s + 1) * RUBBED) % len(rubbed)]
                rubbed_ink = rubbings[0][rx].to(device).float() / 255
                drawn = torch.cat([drawn, augment.deform(rubbed_ink, g)])
                truth = torch.cat([truth, rubbings[1][rx].to(device)])
            x = standardise(torch.cat([drawn, crops[jx].to(device).float() / 255]))
            f = pooled_features(model, x)
            classes = model.get_classifier()(f[: len(drawn)])
            loss = F.cross_entropy(classes, truth, label_smoothing=0.1)
            loss = loss + F.cross_entropy(linear(f[len(drawn) :]), labels[jx].to(device))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
    model.eval()
    return Head(linear.weight.detach().float().cpu(), linear.bias.detach().float().cpu())


def train_images(train: Any, count: int = GLYPHS, seed: int = 0) -> list[bytes]:
    """`count` image files of a dataset's `train` split, drawn at random."""
    rows = train.cast_column("image", datasets.Image(decode=False))
    rng = np.random.default_rng(seed)
    picked = rng.choice(len(rows), min(count, len(rows)), replace=False)
    return [rows[int(i)]["image"]["bytes"] for i in sorted(picked)]


def fit_folder(
    folder: Path,
    dataset: str | Path,
    pages: int = PAGES,
    epochs: int = EPOCHS,
    cache_dir: Path | None = None,
    seed: int = 0,
    rubbings: int = 0,
    data_dir: Path | None = None,
) -> Head:
    """Fine-tune the model in `folder` with the head on `dataset`'s train glyphs (the module's
    docstring), judge it again on every held-out split, and write it back: weights, head,
    metrics and card. Glyphs of classes the model does not know are left out of both, as
    training with `limit_classes` leaves them out. With `rubbings`, that many train glyphs
    rendered as rubbings (textures from `data_dir`'s rubbings) are trained on too."""
    folder = Path(folder)
    loaded = model_io.load(folder)
    model = loaded.model.to(torch.device("cuda" if torch.cuda.is_available() else "cpu"))
    data = load(dataset)
    to_model = class_map(data["train"].features["label"].names, loaded.labels)
    train = to_tensors(data["train"], cache_dir)
    known = to_model[train.labels] >= 0
    is_seed = torch.tensor([s == SEED for s in data["train"]["source"]])[known]
    train = _known(train, to_model)
    crops, labels = candidates(model, train_images(data["train"], GLYPHS, seed), pages, seed)
    order = epoch_index(is_seed, TrainConfig.seed_repeat)
    rubbed = (
        rubbed_glyphs(data["train"], to_model, data_dir, rubbings, seed, cache_dir)
        if rubbings
        else None
    )
    head = fine_tune(model, train, order, crops, labels, epochs, seed, rubbed)
    held = {s: _known(to_tensors(data[s], cache_dir), to_model) for s in HELD_OUT if s in data}
    config = loaded.config
    before = config.get("metrics", {})  # which epoch was chosen, on which split: still true
    metrics = {k: v for k, v in before.items() if k in ("epoch", "chosen_on")}
    words = word_matrix(loaded.labels, loaded.labels)
    forms = torch.bincount(train.labels, minlength=len(loaded.labels))
    metrics |= evaluate(model, held, words=words, forms=forms) | {"whole_glyph_epochs": epochs}
    metrics["sizes"] = before.get("sizes", {}) | metrics["sizes"]
    extra = {k: config[k] for k in ("sources", "training") if k in config}
    about = {"pages": pages, "epochs": epochs} | ({"rubbings": rubbings} if rubbings else {})
    extra |= {"metrics": metrics, HEAD_KEY: head.to_config(**about)}
    model_io.save(model.cpu(), loaded.labels, folder, _card(folder, config, metrics), extra)
    return head


def _known(glyphs: GlyphTensors, to_model: torch.Tensor) -> GlyphTensors:
    """The glyphs of classes the model knows, labelled with its own class ids."""
    known = to_model[glyphs.labels] >= 0
    return type(glyphs)(glyphs.ink[known], glyphs.distance[known], to_model[glyphs.labels[known]])


def _card(folder: Path, config: dict, metrics: dict) -> str | None:
    """The model card with the new figures, when the folder says how it was trained; else the
    card it has."""
    training = config.get("training")
    if not training:
        readme = folder / "README.md"
        return readme.read_text(encoding="utf-8") if readme.exists() else None
    return render_model_card(
        training["arch"],
        config["label_names"],
        {**metrics, "training": training},
        training["dataset"],
        config.get("sources", ()),
        Path(training["baseline"]) if training.get("baseline") else None,
    )
