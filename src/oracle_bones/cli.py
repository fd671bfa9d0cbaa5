"""`python -m oracle_bones COMMAND`: the project's command line, one function per subcommand."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections import Counter
from pathlib import Path

import torch

from .data.dataset import build as build_glyphs
from .data.dataset import save as save_glyphs
from .data.readings import FILE as READINGS_FILE
from .data.readings import build as build_readings
from .data.readings import write as write_readings
from .data.review import isobs_audit, write_review
from .data.sources import DEFAULT_SOURCES, SOURCES
from .glyphs.glyph import GlyphError, to_tensor
from .hub import HubUnavailable
from .model import ModelFileError
from .publish import push_dataset as publish_dataset
from .publish import push_model as publish_model
from .reading.recognizer import Recognizer
from .space.forms import build as build_forms
from .space.forms import write_examples
from .training.evaluate import evaluate_model
from .training.isobs_labels import label_table, write_table
from .training.wholeness import fit_folder

DEFAULT_DATA_DIR = Path("../shared/data")


def build_dataset(args: argparse.Namespace) -> int:
    if args.feedback_dir:
        SOURCES["feedback"] = dataclasses.replace(SOURCES["feedback"], folder=args.feedback_dir)
    dd, stats = build_glyphs(args.data_dir, args.sources.split(","))
    save_glyphs(dd, stats, args.out)
    print(dd)
    print(f"Wrote {args.out} ({stats.num_classes} classes); card: {args.out / 'README.md'}")
    return 0


def push_dataset(args: argparse.Namespace) -> int:
    print(publish_dataset(args.dataset_dir, args.repo_id))
    return 0


def push_model(args: argparse.Namespace) -> int:
    print(publish_model(args.model_dir, args.repo_id))
    return 0


def evaluate(args: argparse.Namespace) -> int:
    metrics = evaluate_model(args.model, args.dataset, args.out)
    print(json.dumps(metrics, indent=2, ensure_ascii=False))
    return 0


def predict(args: argparse.Namespace) -> int:
    """Batch the readable images; report unreadable ones and still answer the rest."""
    rec = Recognizer.from_pretrained(args.model)
    tensors, errors = {}, {}
    for path in args.images:
        try:
            tensors[path] = to_tensor(path)
        except GlyphError as e:
            errors[path] = str(e)
    ranked = rec.rank(torch.stack(list(tensors.values())), args.top_k) if tensors else []
    answers = dict(zip(tensors, ranked, strict=True))
    for path in args.images:
        if args.json:
            row = {"image": path}
            if path in errors:
                row["error"] = errors[path]
            else:
                row["predictions"] = _as_json(answers[path])
            print(json.dumps(row, ensure_ascii=False))
        elif path in errors:
            print(f"{path}: error: {errors[path]}", file=sys.stderr)
        else:
            print(path)
            for rank, p in enumerate(answers[path], 1):
                print(f"  {rank:>2}. {p.label}  {p.score:7.2%}")
    return 1 if errors else 0


def read(args: argparse.Namespace) -> int:
    """Each picture's glyphs in reading order; unreadable pictures reported, the rest answered."""
    rec = Recognizer.from_pretrained(args.model)
    failed = False
    for path in args.images:
        try:
            glyphs = rec.read(path, args.top_k)
        except GlyphError as e:
            failed = True
            if args.json:
                print(json.dumps({"image": path, "error": str(e)}, ensure_ascii=False))
            else:
                print(f"{path}: error: {e}", file=sys.stderr)
            continue
        if args.json:
            rows = [{"box": list(box), "predictions": _as_json(p)} for box, p in glyphs]
            print(json.dumps({"image": path, "glyphs": rows}, ensure_ascii=False))
            continue
        print(f"{path}: {''.join(p[0].label for _, p in glyphs)}")
        for n, (box, predictions) in enumerate(glyphs, 1):
            best = "  ".join(f"{p.label} {p.score:.1%}" for p in predictions)
            print(f"  {n:>2}. {list(box)}  {best}")
    return 1 if failed else 0


def _as_json(predictions) -> list[dict]:
    """Each prediction with its readings: the graph first, then the words it also wrote."""
    return [
        {"label": p.label, "score": round(p.score, 6), "readings": list(p.readings)}
        for p in predictions
    ]


def forms(args: argparse.Namespace) -> int:
    known = build_forms(args.dataset, args.per_char, skip_sources=args.skip_sources.split(","))
    known.save(args.out)
    size = args.out.stat().st_size / 1e6
    print(f"Wrote {args.out}: {known.stored} forms of {len(known)} characters ({size:.1f} MB)")
    if args.examples:
        for path in write_examples(args.dataset, args.examples):
            print(f"Wrote {path}")
    return 0


def label_isobs(args: argparse.Namespace) -> int:
    rows = label_table(Recognizer.from_pretrained(args.model), args.data_dir)
    write_table(rows, args.out)
    labelled = [r for r in rows if r["char"]]
    drawings = sum(int(r["drawings"]) for r in labelled)
    print(
        f"Wrote {args.out}: {len(labelled)} of {len(rows)} classes labelled ({drawings} drawings); "
        f"confidence {dict(Counter(r['confidence'] for r in labelled))}; "
        f"{sum(int(r['agrees'] or 0) for r in labelled)} agree with the model's first choice"
    )
    return 0


def audit_isobs(args: argparse.Namespace) -> int:
    for path in isobs_audit(args.dataset, args.data_dir, args.out, args.seed):
        print(f"Wrote {path}")
    return 0


def review(args: argparse.Namespace) -> int:
    for path in write_review(args.dataset, args.out, args.seed):
        print(f"Wrote {path}")
    return 0


def readings(args: argparse.Namespace) -> int:
    rows = build_readings(args.data_dir)
    write_readings(rows, args.out)
    graphs = len({r.graph for r in rows})
    print(f"Wrote {args.out}: {len(rows)} readings of {graphs} graphs")
    return 0


def fit_wholeness(args: argparse.Namespace) -> int:
    head = fit_folder(
        args.model_dir,
        args.dataset,
        args.pages,
        args.epochs,
        args.cache_dir,
        rubbings=args.rubbings,
        data_dir=args.data_dir,
    )
    features = head.weight.shape[1]
    print(f"Fine-tuned {args.model_dir} with its whole-glyph head ({features} features)")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m oracle_bones", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("build-dataset", help="build the dataset (save_to_disk) with its card")
    p.add_argument(
        "--data-dir",
        type=Path,
        default=DEFAULT_DATA_DIR,
        help="folder holding one sub-folder per source (default: %(default)s)",
    )
    p.add_argument("--sources", default=",".join(DEFAULT_SOURCES), help="default: %(default)s")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--feedback-dir", type=Path, help="the app's feedback folder (source feedback)")
    p.set_defaults(fn=build_dataset)

    p = sub.add_parser("push-dataset", help="push a built dataset and its card to the Hub")
    p.add_argument("dataset_dir", type=Path)
    p.add_argument("repo_id")
    p.set_defaults(fn=push_dataset)

    p = sub.add_parser("push-model", help="upload a model folder (timm Hub format) to the Hub")
    p.add_argument("model_dir", type=Path)
    p.add_argument("repo_id")
    p.set_defaults(fn=push_model)

    p = sub.add_parser(
        "evaluate", help="top-1/5/10 on test, clean and pen-drawn; writes metrics.json"
    )
    p.add_argument("--model", help="Hub repo id or folder (default: OBS_MODEL, else bundled)")
    p.add_argument("--dataset", default="build/dataset", help="built dataset folder or Hub repo id")
    p.add_argument("--out", type=Path, default=Path("build/metrics.json"))
    p.set_defaults(fn=evaluate)

    p = sub.add_parser("predict", help="name the glyph in each image")
    p.add_argument("--model", help="Hub repo id or folder (default: OBS_MODEL, else bundled)")
    p.add_argument("--top-k", type=int, default=10)
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.add_argument("images", nargs="+")
    p.set_defaults(fn=predict)

    p = sub.add_parser("read", help="the glyphs of an inscription, in reading order")
    p.add_argument("--model", help="Hub repo id or folder (default: OBS_MODEL, else bundled)")
    p.add_argument("--top-k", type=int, default=5)
    p.add_argument("--json", action="store_true", help="one JSON object per picture")
    p.add_argument("images", nargs="+")
    p.set_defaults(fn=read)

    p = sub.add_parser(
        "fit-wholeness",
        help="fine-tune a model folder with the reader's whole-glyph head (whole, part, several)",
    )
    p.add_argument("model_dir", type=Path)
    p.add_argument("--dataset", default="build/dataset", help="built dataset folder or Hub repo id")
    p.add_argument("--pages", type=int, default=4000, help="composed pages of train glyphs")
    p.add_argument("--epochs", type=int, default=3, help="of fine-tuning")
    p.add_argument("--cache-dir", type=Path, default=Path("build/cache"), help="normalised splits")
    p.add_argument("--rubbings", type=int, default=0, help="train glyphs rendered as rubbings too")
    p.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR, help="holds rubbings/")
    p.set_defaults(fn=fit_wholeness)

    p = sub.add_parser("forms", help="known forms per character, with source and ref, for the app")
    p.add_argument("--dataset", type=Path, required=True, help="a folder written by build-dataset")
    p.add_argument("--out", type=Path, required=True, help="the .npz to write")
    p.add_argument("--per-char", type=int, default=12, help="forms stored per character")
    p.add_argument("--skip-sources", default="feedback", help="sources that are not attested forms")
    p.add_argument(
        "--examples",
        type=Path,
        help="also write pen-drawn test glyphs here as PNGs, and an inscription of them",
    )
    p.set_defaults(fn=forms)

    p = sub.add_parser(
        "label-isobs", help="recover IsOBS class labels: Shuowen order x a model's evidence"
    )
    p.add_argument("--model", help="Hub repo id or folder (default: OBS_MODEL, else bundled)")
    p.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR, help="holds isobs/, shuowen/")
    p.add_argument("--out", type=Path, required=True, help="the label table (CSV) to write")
    p.set_defaults(fn=label_isobs)

    p = sub.add_parser("readings", help="one graph, several words: the table, from the sources")
    p.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR, help="holds kushim-jiang/")
    p.add_argument("--out", type=Path, default=READINGS_FILE, help="default: %(default)s")
    p.set_defaults(fn=readings)

    p = sub.add_parser("audit-isobs", help="contact sheets to check the IsOBS labels by eye")
    p.add_argument("--dataset", default="build/dataset", help="for the other sources' forms")
    p.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR, help="holds isobs/")
    p.add_argument("--out", type=Path, default=Path("build/review"), help="folder for the PNGs")
    p.add_argument("--seed", type=int, default=0, help="which random classes the sheets show")
    p.set_defaults(fn=audit_isobs)

    p = sub.add_parser("review", help="figures to look at: a normalised train batch, class sizes")
    p.add_argument("--dataset", default="build/dataset", help="built dataset folder or Hub repo id")
    p.add_argument("--out", type=Path, default=Path("build/review"), help="folder for the PNGs")
    p.add_argument("--seed", type=int, default=0, help="which random batch the sheet shows")
    p.set_defaults(fn=review)

    args = parser.parse_args(argv)
    try:
        return args.fn(args)
    except (HubUnavailable, ModelFileError, RuntimeError, ValueError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
