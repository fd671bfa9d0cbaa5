"""The training loop behind `train.py`: accelerate for devices, one checkpoint per epoch.

Every epoch's shuffle and augmentation draw from a generator seeded by (seed, epoch), so a run
resumed from a checkpoint ends where an uninterrupted run ends.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import gather_object, set_seed
from tqdm.auto import tqdm

from .. import model as model_io
from ..data.cards import render_model_card
from ..data.dataset import CHOOSING, HELD_OUT, SEED, STATS_FILE, build, load, save, to_tensors
from ..files import atomic_file
from ..hub import HubUnavailable, bounded
from ..model import standardise
from .augment import Augment
from .evaluate import class_map, evaluate, word_matrix
from .rubbings import SHARE, rubbed, texture_files


@dataclass
class TrainConfig:
    dataset: str = "build/dataset"  # built by `build-dataset` (built here if missing), or a repo id
    data_dir: str = "../shared/data"  # the sources, when the dataset must be built first
    arch: str = model_io.DEFAULT_ARCH  # any timm name, or seed-cnn (the 2022 baseline)
    pretrained: bool = False  # ImageNet weights, when the Hub answers
    epochs: int = 24
    batch_size: int = 128
    lr: float = 3e-3
    weight_decay: float = 0.05
    warmup_epochs: int = 2
    label_smoothing: float = 0.1
    seed_repeat: int = 6  # times each seed image is seen per epoch (line drawings, like users')
    seed: int = 0
    out: str = "build/model"  # the best model folder, timm Hub format
    checkpoint: str = "build/checkpoint.pt"  # local only; never shipped
    logdir: str = "runs"
    cache_dir: str = "build/cache"
    resume: bool = False
    baseline: str = "build/seed-cnn"  # a seed-cnn model folder, for the card's comparison
    limit_classes: int = 0  # >0: train on the first N test classes only (smoke tests)
    mixed_precision: str = "no"  # "fp16" / "bf16" on a GPU
    wholeness_pages: int = 4000  # train pages for the reader's whole-glyph head (0: none)
    wholeness_epochs: int = 3  # of fine-tuning with that head, after the best epoch
    rubbings: int = 24_000  # train glyphs rendered as rubbings (`training.rubbings`); 0: none
    augment: Augment = field(default_factory=Augment)


def train(cfg: TrainConfig) -> dict:
    """Train, keep the best epoch by accuracy on the validation splits (`validation` and
    `validation_hwobc`, each clean and pen-drawn, averaged), return its metrics on every held-out
    split; a build without them (the seed alone) falls back to choosing on `test`, and says so.
    The main process alone evaluates and saves: the others return no epoch."""
    # The schedule counts optimizer steps; accelerate would step it once per process per step.
    acc = Accelerator(mixed_precision=cfg.mixed_precision, step_scheduler_with_optimizer=False)
    _check_processes(acc)
    acc.print(f"Training on {acc.device}, processes: {acc.num_processes}")
    set_seed(cfg.seed)
    if cfg.rubbings:  # missing textures: say so now, not after the normalising
        try:
            texture_files(Path(cfg.data_dir))
        except FileNotFoundError as e:
            raise SystemExit(str(e)) from None
    if cfg.dataset == TrainConfig.dataset and not Path(cfg.dataset).exists():
        acc.print(f"No dataset at {cfg.dataset}: building it from {cfg.data_dir}")
        if acc.is_main_process:
            save(*build(Path(cfg.data_dir)), Path(cfg.dataset))
        acc.wait_for_everyone()
    with acc.main_process_first():  # one process normalises and caches, the others read it
        data = load(cfg.dataset)
        train_t = to_tensors(data["train"], Path(cfg.cache_dir))
        held = {s: to_tensors(data[s], Path(cfg.cache_dir)) for s in HELD_OUT if s in data}
    names = data["train"].features["label"].names
    is_seed = torch.tensor([s == SEED for s in data["train"]["source"]])
    if cfg.limit_classes:
        train_t, held, names, is_seed = _subset(train_t, held, names, cfg.limit_classes, is_seed)
    with acc.main_process_first():  # rendered once, then read from the cache
        rubbings = _rubbings(cfg, data["train"], names)
    choose = [s for s in CHOOSING if s in held and len(held[s].labels)] or ["test"]
    acc.print(f"The best epoch is chosen on {', '.join(f'`{s}`' for s in choose)}")
    order = epoch_index(is_seed, cfg.seed_repeat)

    net = model_io.create(cfg.arch, len(names), pretrained=_pretrained_ok(cfg))
    opt = torch.optim.AdamW(net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    steps_per_epoch = len(_batch_starts(len(order), cfg.batch_size, acc.num_processes))
    total, warm = cfg.epochs * steps_per_epoch, cfg.warmup_epochs * steps_per_epoch
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: _lr_factor(s, warm, total))
    net, opt, sched = acc.prepare(net, opt, sched)

    start, best, history = 0, {"score": -1.0}, []
    ckpt = Path(cfg.checkpoint)
    if cfg.resume and ckpt.exists():
        start, best, history = _load_checkpoint(ckpt, acc, net, opt, sched)
        acc.print(f"Resumed from {ckpt} after epoch {start} (best so far {best['score']:.3f})")
    writer = _writer(cfg, acc)
    for epoch in range(start, cfg.epochs):
        t0 = time.time()
        loss = _epoch(cfg, acc, net, opt, sched, train_t, order, epoch, rubbings)
        if not acc.is_main_process:  # the main process evaluates, reports and saves
            acc.wait_for_everyone()
            continue
        # Each epoch is judged, and logged, on the choosing split alone: no other held-out
        # figure is seen before the epoch is chosen.
        metrics = evaluate(acc.unwrap_model(net), {s: _on(held[s], acc.device) for s in choose})
        score = sum(metrics[s]["top1"] + metrics[f"{s}_pen"]["top1"] for s in choose)
        score /= 2 * len(choose)
        row = {
            "epoch": epoch + 1,
            "loss": loss,
            "lr": sched.get_last_lr()[0],
            "seconds": time.time() - t0,
            **{
                f"{s}_{k}": v
                for s in metrics
                if s not in ("n", "sizes")
                for k, v in metrics[s].items()
            },
        }
        history.append(row)
        acc.print(json.dumps(row), flush=True)  # a log file or pipe sees each epoch as it ends
        if writer:
            for k, v in row.items():
                writer.add_scalar(k, v, epoch + 1)
        if score > best["score"]:  # every held-out split, for the card, once chosen
            splits = {s: _on(t, acc.device) for s, t in held.items()}
            forms = torch.bincount(train_t.labels, minlength=len(names))
            words = word_matrix(names, names)
            metrics = evaluate(acc.unwrap_model(net), splits, words=words, forms=forms)
            best = {"score": score, "epoch": epoch + 1, "chosen_on": " + ".join(choose), **metrics}
            _save_model(cfg, acc.unwrap_model(net), names, best, history)
        _save_checkpoint(ckpt, acc, net, opt, sched, epoch + 1, best, history)
        acc.wait_for_everyone()
    if writer:
        writer.close()
    _check_in_step(acc, net)
    return best


def _rubbings(
    cfg: TrainConfig, train_split, names: list[str]
) -> tuple[torch.Tensor, torch.Tensor] | None:
    """The train glyphs rendered as rubbings, labelled with the classes trained (`names`)."""
    if not cfg.rubbings:
        return None
    to_model = class_map(train_split.features["label"].names, names)
    return rubbed(
        train_split, to_model, Path(cfg.data_dir), cfg.rubbings, cfg.seed, Path(cfg.cache_dir)
    )


def _epoch(
    cfg, acc, net, opt, sched, data, index: torch.Tensor, epoch: int, rubbings=None
) -> float:
    """One pass over the shuffled epoch index; each process takes its share of each batch.
    With `rubbings` (uint8 ink as the model sees it, class ids), batch_size // SHARE of them
    join each step, bent as the drawings are (they are rendered once, so this varies them)."""
    net.train()
    g = torch.Generator().manual_seed(cfg.seed * 1_000_003 + epoch)
    order = index[torch.randperm(len(index), generator=g)]
    step = cfg.batch_size * acc.num_processes
    share = max(1, cfg.batch_size // SHARE) * acc.num_processes
    rubbed_order = torch.randperm(len(rubbings[1]), generator=g) if rubbings else None
    total, n = 0.0, 0
    bar = tqdm(
        _batch_starts(len(order), cfg.batch_size, acc.num_processes),
        desc=f"epoch {epoch + 1}/{cfg.epochs}",
        disable=None if acc.is_local_main_process else True,  # no bars in a log file
        leave=False,
    )
    for k, i in enumerate(bar):
        ix = order[i : i + step][acc.process_index :: acc.num_processes]  # never empty
        ink = data.ink[ix].to(acc.device).float() / 255.0
        dist = data.distance[ix].to(acc.device).float()
        x = cfg.augment(ink, dist, g)
        y = data.labels[ix].to(acc.device)
        if rubbed_order is not None:
            at = torch.arange(k * share, (k + 1) * share) % len(rubbed_order)
            rx = rubbed_order[at][acc.process_index :: acc.num_processes]
            x = torch.cat([x, cfg.augment.deform(rubbings[0][rx].to(acc.device).float() / 255, g)])
            y = torch.cat([y, rubbings[1][rx].to(acc.device)])
        x = standardise(x)
        with acc.autocast():
            loss = F.cross_entropy(net(x), y, label_smoothing=cfg.label_smoothing)
        opt.zero_grad(set_to_none=True)
        acc.backward(loss)
        opt.step()
        sched.step()
        total, n = total + loss.item() * len(y), n + len(y)
        bar.set_postfix(loss=f"{total / n:.3f}")
    total, n = acc.reduce(torch.tensor([total, n], device=acc.device), "sum").tolist()
    return total / max(n, 1)  # over every process's images


def _batch_starts(n: int, batch_size: int, processes: int) -> range:
    """Where each step's batch starts in an epoch of n images. A last batch too small to give
    every process an image is dropped: an empty share would crash that process's step."""
    return range(0, n - processes + 1, batch_size * processes)


def _check_processes(acc) -> None:
    """A launcher that started several processes which accelerate did not join would have each
    train alone and write the same files: on a machine without GPUs this is the default."""
    started = int(os.environ.get("WORLD_SIZE", "1"))
    if started != acc.num_processes:
        raise SystemExit(
            f"{started} processes were started, but accelerate joined {acc.num_processes}. "
            "Without a GPU, set ACCELERATE_USE_CPU=1 so that they train together over GLOO."
        )


def weights_digest(net: torch.nn.Module) -> str:
    """A SHA-256 of the parameters, to compare processes. BatchNorm's running statistics are
    left out: under DDP each process keeps its own, and the main process's are saved."""
    h = hashlib.sha256()
    for name, p in net.named_parameters():
        h.update(name.encode())
        h.update(p.detach().float().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


def _check_in_step(acc, net) -> None:
    """DDP keeps every process's weights equal to the main process's; fail loudly if not."""
    if acc.num_processes == 1:
        return
    digests = gather_object([weights_digest(acc.unwrap_model(net))])
    if len(set(digests)) > 1:
        raise RuntimeError(f"The processes ended with different weights: {digests}")
    acc.print(f"{len(digests)} processes agree on the weights: sha256 {digests[0]}")


def epoch_index(is_seed: torch.Tensor, seed_repeat: int) -> torch.Tensor:
    """Every training image once, and each seed image `seed_repeat` times in all: a weight
    against the font glyphs, so a seed-only dataset is simply seen once per epoch."""
    repeat = 1 if is_seed.all() else max(seed_repeat, 1)
    extra = torch.nonzero(is_seed).flatten().repeat(repeat - 1)
    return torch.cat([torch.arange(len(is_seed)), extra])


def _lr_factor(step: int, warm: int, total: int) -> float:
    """Linear warm-up, then cosine decay to zero."""
    if step < warm:
        return (step + 1) / warm
    return 0.5 * (1 + math.cos(math.pi * (step - warm) / max(1, total - warm)))


def _pretrained_ok(cfg: TrainConfig) -> bool:
    """ImageNet weights only when asked and the Hub answers; otherwise say so and start fresh."""
    if not cfg.pretrained or cfg.arch == "seed-cnn":
        return False
    try:
        bounded(lambda: model_io.create(cfg.arch, 1, pretrained=True), 60, "ImageNet weights")
        return True
    except HubUnavailable as e:
        print(f"--pretrained: {e}. Training from scratch instead.")
        return False


def _subset(train_t, held: dict, names, n: int, is_seed: torch.Tensor):
    """The first n classes of `test`, for quick runs: every split keeps only those classes."""
    keep = held["test"].labels.unique()[:n]
    remap = torch.full((len(names),), -1, dtype=torch.int64)
    remap[keep] = torch.arange(len(keep))

    def take(t):
        m = remap[t.labels] >= 0
        return type(t)(t.ink[m], t.distance[m], remap[t.labels[m]]), m

    train, in_train = take(train_t)
    held = {s: take(t)[0] for s, t in held.items()}
    return train, held, [names[i] for i in keep.tolist()], is_seed[in_train]


def _on(t, device):
    return type(t)(t.ink.to(device), t.distance.to(device), t.labels.to(device))


def _writer(cfg: TrainConfig, acc):
    if not (cfg.logdir and acc.is_main_process):
        return None
    from torch.utils.tensorboard import SummaryWriter

    return SummaryWriter(cfg.logdir)


def _save_model(cfg: TrainConfig, net, names: list[str], best: dict, history: list[dict]) -> None:
    stats = Path(cfg.dataset) / STATS_FILE
    extra = {
        "sources": json.loads(stats.read_text(encoding="utf-8"))["sources"]
        if stats.exists()
        else [],
        "training": {k: v for k, v in asdict(cfg).items() if k != "augment"},
        "metrics": {k: v for k, v in best.items() if k != "score"},
    }
    card_metrics = {**extra["metrics"], "training": extra["training"]}
    card = render_model_card(
        cfg.arch, names, card_metrics, cfg.dataset, extra["sources"], Path(cfg.baseline)
    )
    model_io.save(net, names, Path(cfg.out), card=card, extra=extra)


def _save_checkpoint(path: Path, acc, net, opt, sched, epoch: int, best: dict, history) -> None:
    """Everything needed to continue, written to a temporary file and renamed into place."""
    with atomic_file(path) as tmp:
        torch.save(
            {
                "model": acc.unwrap_model(net).state_dict(),
                "opt": opt.state_dict(),
                "sched": sched.state_dict(),
                "epoch": epoch,
                "best": best,
                "history": history,
            },
            tmp,
        )


def _load_checkpoint(path: Path, acc, net, opt, sched):
    """Our own checkpoint, written locally by `_save_checkpoint` (weights_only: no code runs)."""
    state = torch.load(path, map_location="cpu", weights_only=True)
    acc.unwrap_model(net).load_state_dict(state["model"])
    opt.load_state_dict(state["opt"])
    sched.load_state_dict(state["sched"])
    return state["epoch"], state["best"], state["history"]
