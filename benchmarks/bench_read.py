"""Reading inscriptions, and single glyphs photographed: synthetic pictures of the held-out
`test` glyphs (392 seed drawings; see dataset.last_per_character) with known boxes and order.

    python benchmarks/bench_read.py [--pictures 200] [--threads 2] [--data-dir ../shared/data]
    python benchmarks/bench_read.py --split validation  # glyphs of a built dataset's split
    python benchmarks/bench_read.py --split validation --powers 0.3,0.1  # the head's powers

Tune the reader's constants on `--split validation` (IsOBS hand copies) and report `test`.

Inscriptions: 2 to 8 glyphs in 1 to 3 columns (one in seven a row), varied sizes and spacing, a
quarter of neighbours nearly touching (synthetic.inscription), as line drawings and as phone
photos (synthetic.photograph, turned by up to 4 degrees, and by up to 12: "askew"). Prints
detection precision / recall (IoU >= 0.5), the share of pictures read entirely right (every
glyph found, nothing extra, in reading order), the share whose glyphs found are in reading
order (grouping errors aside: the ordering alone), end-to-end top-1 / top-5 (a glyph not found
counts as wrong) beside single-glyph top-1 / top-5 on the same glyphs' own images, and time per
picture. Single glyphs: each test glyph as its seed image and photographed (small, anywhere in
a tinted, unevenly lit, sometimes ruled frame), and photographed smaller still (3-8% of a 1920
x 1440 photo's height, 11-29 pixels across in the 512-pixel working copy, which `glyph` reads
again from the photo's own pixels).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from oracle_bones.data.dataset import SEED, last_per_character
from oracle_bones.data.sources import SOURCES
from oracle_bones.glyphs.glyph import EmptyDrawing
from oracle_bones.glyphs.synthetic import glyph_ink, inscription, photograph
from oracle_bones.reading.inscription import box_iou
from oracle_bones.reading.recognizer import Recognizer

SMALL = (0.03, 0.08)  # a glyph's share of a photo's shorter side, for "small in the frame"
ASKEW = 12.0  # degrees: the most a page is turned in the photos askew (4 in the others)


def test_glyphs(data_dir: Path) -> list[tuple[str, bytes]]:
    """(character, image file) of every held-out seed glyph, by the dataset's own split rule."""
    records = list(SOURCES["jiaguwen"].records(data_dir))
    held = sorted(last_per_character(records, SEED, 2))
    return [(records[i].label, records[i].image) for i in held]


def split_glyphs(dataset: Path, split: str) -> list[tuple[str, bytes]]:
    """(character, image file) of every glyph of a built dataset's split."""
    import datasets

    rows = datasets.load_from_disk(str(dataset))[split]
    rows = rows.cast_column("image", datasets.Image(decode=False))
    name = rows.features["label"].int2str
    return [(name(r["label"]), r["image"]["bytes"]) for r in rows]


def match(found: list, truth: list) -> dict[int, int]:
    """True glyph -> found glyph, pairing the best IoU first, each at IoU >= 0.5."""
    pairs = sorted(
        ((box_iou(t, f), i, j) for i, t in enumerate(truth) for j, f in enumerate(found)),
        reverse=True,
    )
    out: dict[int, int] = {}
    for score, i, j in pairs:
        if score >= 0.5 and i not in out and j not in out.values():
            out[i] = j
    return out


def bench_inscriptions(
    rec: Recognizer, glyphs, single, n: int, seed: int, photo: bool, tilt: float = 4.0
) -> dict:
    rng = np.random.default_rng(seed)
    tp = fp = fn = right = sequence = 0
    top1 = top5 = alone1 = alone5 = 0
    times, times8, by_layout = [], [], {}
    for _ in range(n):
        chosen = rng.choice(len(glyphs), int(rng.integers(2, 9)), replace=False)
        picture = inscription([glyph_ink(glyphs[i][1]) for i in chosen], rng, photo, tilt)
        t = time.perf_counter()
        found = rec.read(picture.data, top_k=5)
        times.append(time.perf_counter() - t)
        if len(chosen) == 8:
            times8.append(times[-1])
        pairs = match([box for box, _ in found], picture.boxes)
        tp, fn, fp = tp + len(pairs), fn + len(chosen) - len(pairs), fp + len(found) - len(pairs)
        ok = len(found) == len(chosen) == len(pairs) and all(pairs[i] == i for i in pairs)
        right += ok
        matched = [pairs[i] for i in sorted(pairs)]
        sequence += matched == sorted(matched)  # what was found is in reading order
        by_layout.setdefault(picture.layout, []).append(ok)
        for k, i in enumerate(chosen):
            char = glyphs[i][0]
            names = [p.label for p in found[pairs[k]][1]] if k in pairs else []
            top1 += names[:1] == [char]
            top5 += char in names
            alone1 += single[i][:1] == [char]
            alone5 += char in single[i]
    count = tp + fn
    precision, recall = tp / max(tp + fp, 1), tp / max(count, 1)
    return {
        "pictures": n,
        "glyphs": count,
        "precision": precision,
        "recall": recall,
        "f1": 2 * precision * recall / max(precision + recall, 1e-9),
        "order": right / n,
        "sequence": sequence / n,
        "order_by_layout": {k: (float(np.mean(v)), len(v)) for k, v in by_layout.items()},
        "top1": top1 / count,
        "top5": top5 / count,
        "single_top1": alone1 / count,
        "single_top5": alone5 / count,
        "ms_mean": 1000 * statistics.mean(times),
        "ms_8_glyphs_mean": 1000 * statistics.mean(times8) if times8 else None,
        "ms_8_glyphs_max": 1000 * max(times8) if times8 else None,
    }


def accuracy(ranked: list[list[str]], chars: list[str]) -> tuple[float, float]:
    """Top-1 and top-5 of ranked labels (an empty list: read as empty, wrong)."""
    top1 = np.mean([r[:1] == [c] for r, c in zip(ranked, chars, strict=True)])
    top5 = np.mean([c in r for r, c in zip(ranked, chars, strict=True)])
    return float(top1), float(top5)


def photographed(rec: Recognizer, glyphs, rng, options: dict) -> tuple[float, float, int]:
    """Top-1, top-5 and pictures read as empty, each glyph photographed (`synthetic.photograph`
    with `options`), one at a time as an upload is."""
    ranked, empty = [], 0
    for _, image in glyphs:
        try:
            photo = photograph(glyph_ink(image), rng, **options).data
            ranked.append([p.label for p in rec.predict(photo, 5)])
        except EmptyDrawing:
            ranked.append([])
            empty += 1
    return *accuracy(ranked, [c for c, _ in glyphs]), empty


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    parser.add_argument("--model", help="Hub repo id or folder (default: bundled)")
    parser.add_argument("--pictures", type=int, default=200, help="inscriptions of each kind")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--split", default="test", help="test (seed glyphs), or a dataset split")
    parser.add_argument("--dataset", type=Path, default=Path("build/dataset"), help="for --split")
    parser.add_argument(
        "--powers", help="P,Q: the whole-glyph head's powers to try (default: the model's)"
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    rec = Recognizer.from_pretrained(args.model)
    if args.powers and rec.whole_glyph is not None:  # choosing them: on validation pages only
        powers = tuple(float(p) for p in args.powers.split(","))
        rec.whole_glyph = dataclasses.replace(rec.whole_glyph, powers=powers)
    glyphs = (
        test_glyphs(args.data_dir)
        if args.split == "test"
        else split_glyphs(args.dataset, args.split)
    )
    single = [[p.label for p in ranked] for ranked in rec.predict_batch([g for _, g in glyphs], 5)]

    chars = [c for c, _ in glyphs]
    clean1, clean5 = accuracy(single, chars)
    rng = np.random.default_rng(args.seed)
    photo1, photo5, _ = photographed(rec, glyphs, rng, {})
    small1, small5, empty = photographed(rec, glyphs, rng, {"share": SMALL, "frame": (1920, 1440)})

    rows = {
        kind: bench_inscriptions(rec, glyphs, single, args.pictures, args.seed + k, photo, tilt)
        for k, (kind, photo, tilt) in enumerate(
            (("line drawings", False, 4.0), ("photos", True, 4.0), ("photos askew", True, ASKEW))
        )
    }
    print(
        f"threads={args.threads}  model={rec.source}  {args.split} glyphs={len(glyphs)}  "
        f"seed={args.seed}  powers={rec.whole_glyph.powers if rec.whole_glyph else None}"
    )
    print(f"single glyphs: clean top-1 {clean1:.1%} top-5 {clean5:.1%} | "
          f"photographed top-1 {photo1:.1%} top-5 {photo5:.1%} | small in a 1920 x 1440 "
          f"photo top-1 {small1:.1%} top-5 {small5:.1%}, {empty} read as empty")  # fmt: skip
    print(
        "inscriptions    pictures glyphs  prec   recall F1     order  e2e@1  e2e@5  "
        "alone@1 alone@5  ms/pic  ms/8-glyph (max)"
    )
    for kind, r in rows.items():
        eight = (
            f"{r['ms_8_glyphs_mean']:.0f} ({r['ms_8_glyphs_max']:.0f})"
            if r["ms_8_glyphs_mean"]
            else "-"
        )
        print(
            f"{kind:<15} {r['pictures']:>8} {r['glyphs']:>6}  {r['precision']:.3f}  "
            f"{r['recall']:.3f}  {r['f1']:.3f}  {r['order']:.3f}  {r['top1']:.3f}  "
            f"{r['top5']:.3f}  {r['single_top1']:.3f}   {r['single_top5']:.3f}   "
            f"{r['ms_mean']:6.0f}  {eight}"
        )
        layouts = ", ".join(f"{k} {v[0]:.3f} of {v[1]}" for k, v in r["order_by_layout"].items())
        print(f"{'':<15} order by layout: {layouts}; found glyphs in order {r['sequence']:.3f}")
    summary = {"single": {"clean_top1": clean1, "clean_top5": clean5, "photo_top1": photo1,
                          "photo_top5": photo5, "small_photo_top1": small1,
                          "small_photo_top5": small5, "small_photo_empty": empty},
               "inscriptions": rows}  # fmt: skip
    print(json.dumps(summary, indent=1, default=float))


if __name__ == "__main__":
    main()
