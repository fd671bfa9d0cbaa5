"""Which backbones fit the budget, and (with --epochs) how they compare on the validation splits.

    python benchmarks/bench_archs.py                      # size and latency of each candidate
    python benchmarks/bench_archs.py --sizes 64,80,96     # the latency at other input sizes
    python benchmarks/bench_archs.py --epochs 24          # and train each for 24 epochs (a GPU:
    accelerate launch benchmarks/bench_archs.py --epochs 24 --mixed-precision bf16)

The budget (issue 20): at most 60 MB of fp16 weights and 10 ms a glyph (p50, one thread; the
network's share is measured here, `bench_model.py` measures the whole path). Training figures
are the chosen epoch's on `validation` and `validation_hwobc` alone: the tests choose nothing.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from oracle_bones.data.dataset import CHOOSING
from oracle_bones.glyphs.glyph import INPUT_SIZE
from oracle_bones.model import create
from oracle_bones.training.loop import TrainConfig, train

CANDIDATES = ("resnet10t", "resnet14t", "resnet18d", "resnet26d")
CLASSES = 2_700  # about the default build's


def cost(arch: str, classes: int = CLASSES, size: int = INPUT_SIZE) -> dict:
    """fp16 megabytes and the network's p50 milliseconds for one glyph on one thread."""
    net = create(arch, classes).eval()
    params = sum(p.numel() for p in net.parameters())
    x = torch.zeros(1, 1, size, size)
    with torch.inference_mode():
        for _ in range(10):
            net(x)
        times = []
        for _ in range(100):
            t = time.perf_counter()
            net(x)
            times.append(time.perf_counter() - t)
    return {
        "arch": arch,
        "input_px": size,
        "params_m": params / 1e6,
        "fp16_mb": 2 * params / 1e6,
        "ms_p50": 1000 * statistics.median(times),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--archs", default=",".join(CANDIDATES))
    parser.add_argument("--sizes", default=str(INPUT_SIZE), help="input sides to time, in px")
    parser.add_argument("--epochs", type=int, default=0, help="train each (0: costs only)")
    parser.add_argument("--dataset", default=TrainConfig.dataset)
    parser.add_argument("--mixed-precision", default="no")
    parser.add_argument("--threads", type=int, default=2, help="CPU threads for training")
    parser.add_argument("--out", default="build/archs")
    args = parser.parse_args()
    torch.set_num_threads(1)
    sizes = [int(px) for px in args.sizes.split(",")]
    rows = [cost(a, size=px) for a in args.archs.split(",") for px in sizes]
    for row in rows:
        print(json.dumps(row), flush=True)
    rows = [row for row in rows if row["input_px"] == INPUT_SIZE]  # what training can use
    if not args.epochs:
        return
    if not torch.cuda.is_available():
        torch.set_num_threads(args.threads)
    for row in rows:
        out = Path(args.out) / row["arch"]
        cfg = dataclasses.replace(
            TrainConfig(),
            arch=row["arch"],
            epochs=args.epochs,
            dataset=args.dataset,
            mixed_precision=args.mixed_precision,
            out=str(out),
            checkpoint=str(out / "checkpoint.pt"),
            logdir=str(Path(args.out) / "runs" / row["arch"]),  # saving replaces `out` whole
        )
        t0 = time.time()
        best = train(cfg)
        if best.get("epoch"):  # the main process
            row |= {"minutes": (time.time() - t0) / 60, "epoch": best["epoch"]}
            row |= {f"{s}{p}_top1": best[f"{s}{p}"]["top1"] for s in CHOOSING for p in ("", "_pen")}
            print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
