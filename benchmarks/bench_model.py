"""Accuracy, latency, throughput, load time and size: the bundled model against the 2022 baseline.

    python benchmarks/bench_model.py [--dataset build/dataset] [--baseline build/seed-cnn]

Latency is one glyph, from a 400 x 400 PNG's bytes (a Sketchpad-sized drawing) to the top 10,
decoding and normalisation included.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
import time
from pathlib import Path

import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from oracle_bones.glyphs.glyph import square_glyph
from oracle_bones.glyphs.pen import pen_drawn
from oracle_bones.reading.recognizer import BUNDLED, Recognizer
from oracle_bones.training.evaluate import evaluate_model


def measure(source: Path, dataset: str, png: bytes) -> dict:
    t0 = time.perf_counter()
    rec = Recognizer.from_pretrained(source)
    load_s = time.perf_counter() - t0
    metrics = evaluate_model(str(source), dataset, None)
    for _ in range(10):
        rec.predict(png)
    times = []
    for _ in range(200):
        t = time.perf_counter()
        rec.predict(png)
        times.append(time.perf_counter() - t)
    q = statistics.quantiles(times, n=100)
    batch = [png] * 64
    rec.predict_batch(batch)
    t = time.perf_counter()
    for _ in range(5):
        rec.predict_batch(batch)
    throughput = 5 * 64 / (time.perf_counter() - t)
    return {
        "model": str(source),
        "arch": rec.config.get("architecture"),
        "test": metrics["test"],
        "test_pen": metrics["test_pen"],
        "latency_ms_p50": 1000 * q[49],
        "latency_ms_p95": 1000 * q[94],
        "batch64_glyphs_per_s": throughput,
        "load_s": load_s,
        "size_mb": (Path(source) / "model.safetensors").stat().st_size / 1e6,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dataset", default="build/dataset")
    parser.add_argument("--baseline", type=Path, default=Path("build/seed-cnn"))
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    from datasets import load_from_disk

    # Latency input: a held-out glyph as a Sketchpad delivers it (400 x 400 PNG, round pen).
    square = square_glyph(load_from_disk(args.dataset)["test"][0]["image"])
    ink = pen_drawn(square, size=400, width=12.0)
    buf = io.BytesIO()
    Image.fromarray((255 * (1 - ink)).astype("uint8")).save(buf, format="PNG")
    rows = [
        measure(m, args.dataset, buf.getvalue()) for m in (BUNDLED, args.baseline) if m.is_dir()
    ]
    print(f"threads={args.threads}  dataset={args.dataset}")
    head = (
        "model            test@1  @5    @10   pen@1  @5    @10   p50ms  p95ms  b64/s   load_s  MB"
    )
    print(head)
    for r in rows:
        t, p = r["test"], r["test_pen"]
        words = " ".join(f"{k}={t[k]:.3f}" for k in ("word_top1", "word_top5", "word_top10"))
        print(
            f"{r['arch']:<16} {t['top1']:.3f}  {t['top5']:.3f} {t['top10']:.3f} "
            f"{p['top1']:.3f}  {p['top5']:.3f} {p['top10']:.3f} {r['latency_ms_p50']:6.2f} "
            f"{r['latency_ms_p95']:6.2f} {r['batch64_glyphs_per_s']:7.0f} {r['load_s']:6.2f} "
            f"{r['size_mb']:5.1f}"
        )
        print(f"{'':<16} word (the graph or a word it also wrote): {words}")
    print(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
