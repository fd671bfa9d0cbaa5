"""Rubbings: the 392 held-out `test` glyphs rendered as rubbings (light strokes on dark bone, on
texture from the held-out half of the real rubbings, which no training render used), top-1/5/10
against the same glyphs clean; and the inscription reader on real whole-bone rubbings: how many
glyphs it finds, with a picture of the boxes to check by eye.

    python benchmarks/bench_rubbings.py [--real 30] [--out build/rubbings]
    python benchmarks/bench_rubbings.py --split validation --real 0   # for choosing: a split

The real rubbings carry no labels: only what the reader finds can be counted, and looked at
(`--out`/real_boxes.png: each rubbing with its numbered boxes).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_read import split_glyphs, test_glyphs

from oracle_bones.glyphs.glyph import EmptyDrawing, GlyphError, square_glyph, to_tensor
from oracle_bones.glyphs.rubbing import render, rubbing_files, textures
from oracle_bones.reading.recognizer import Recognizer
from oracle_bones.space.annotate import numbered_boxes

TOP = (1, 5, 10)


def single(rec: Recognizer, glyphs, texture, seed: int) -> dict:
    """Top-k of each glyph clean and rubbed, and how many rubbings read as empty."""
    rng = np.random.default_rng(seed)
    hits = {"clean": np.zeros(3), "rubbing": np.zeros(3)}
    empty = failed = 0
    for label, data in glyphs:
        ink = square_glyph(data)
        picture = render(ink, texture[int(rng.integers(len(texture)))], rng)
        for kind, x in (("clean", data), ("rubbing", picture)):
            try:
                top = [p.label for p in rec.rank(to_tensor(x)[None], max(TOP))[0]]
            except EmptyDrawing:
                empty += 1
                continue
            except GlyphError:
                failed += 1
                continue
            hits[kind] += [label in top[:k] for k in TOP]
    n = len(glyphs)
    out = {f"{kind}_top{k}": float(h[i] / n) for kind, h in hits.items() for i, k in enumerate(TOP)}
    return out | {"rubbings_read_as_empty": empty, "errors": failed, "glyphs": n}


def real(rec: Recognizer, files: list[Path], out: Path | None) -> dict:
    """Glyphs the reader finds on whole real rubbings; a sheet of the boxes when `out`."""
    found, times, tiles = [], [], []
    for path in files:
        t = time.perf_counter()
        try:
            reading = rec.read(path, 1)
        except EmptyDrawing:
            reading = []
        times.append(time.perf_counter() - t)
        found.append(len(reading))
        if out is not None:
            tile = numbered_boxes(path, [box for box, _ in reading])
            tile.thumbnail((320, 320))
            tiles.append(tile)
    if out is not None and tiles:
        out.mkdir(parents=True, exist_ok=True)
        cols = 6
        sheet = Image.new("RGB", (cols * 320, -(-len(tiles) // cols) * 320), "white")
        for i, tile in enumerate(tiles):
            sheet.paste(tile, ((i % cols) * 320, (i // cols) * 320))
        sheet.save(out / "real_boxes.png")
    return {
        "rubbings": len(files),
        "glyphs_found": int(sum(found)),
        "none_found": int(sum(f == 0 for f in found)),
        "per_rubbing": found,
        "ms_mean": 1000 * float(np.mean(times)) if times else 0.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    parser.add_argument("--model", help="Hub repo id or folder (default: bundled)")
    parser.add_argument("--real", type=int, default=30, help="real rubbings the reader reads")
    parser.add_argument("--out", type=Path, default=Path("build/rubbings"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--split", default="test", help="test (seed glyphs), or a dataset split")
    parser.add_argument("--dataset", type=Path, default=Path("build/dataset"), help="for --split")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    rec = Recognizer.from_pretrained(args.model)
    held_out = rubbing_files(args.data_dir, "held_out")
    texture = textures(held_out, seed=args.seed)
    if args.split == "test":
        glyphs = test_glyphs(args.data_dir)
    else:
        glyphs = split_glyphs(args.dataset, args.split)
    result = {"single": single(rec, glyphs, texture, args.seed)}
    s = result["single"]
    print(f"threads={args.threads}  textures={len(texture)} from {len(held_out)} held-out rubbings")
    print(
        f"{args.split} glyphs ({s['glyphs']}): clean top-1/5/10 {s['clean_top1']:.3f} / "
        f"{s['clean_top5']:.3f} / {s['clean_top10']:.3f} | as rubbings {s['rubbing_top1']:.3f} / "
        f"{s['rubbing_top5']:.3f} / {s['rubbing_top10']:.3f}, {s['rubbings_read_as_empty']} read "
        f"as empty, {s['errors']} errors"
    )
    if args.real:
        result["real"] = r = real(rec, held_out[: args.real], args.out)
        print(
            f"real rubbings ({r['rubbings']}): {r['glyphs_found']} glyphs found, none on "
            f"{r['none_found']}, {r['ms_mean']:.0f} ms each; boxes: {args.out / 'real_boxes.png'}"
        )
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
