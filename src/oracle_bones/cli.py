"""`python -m oracle_bones COMMAND`: the project's command line, one function per subcommand."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import DEFAULT_MODEL_REPO

DEFAULT_DATA_DIR = Path("../shared/data")


def build_dataset(args: argparse.Namespace) -> int:
    from .dataset import build, save

    dd, stats = build(args.data_dir, args.sources.split(","))
    save(dd, stats, args.out)
    print(dd)
    print(f"Wrote {args.out} ({stats.num_classes} classes); card: {args.out / 'README.md'}")
    return 0


def push_dataset(args: argparse.Namespace) -> int:
    from .publish import push_dataset as push

    print(push(args.dataset_dir, args.repo_id))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m oracle_bones", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("build-dataset", help="build the dataset (save_to_disk) with its card")
    p.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR,
                   help="folder holding one sub-folder per source (default: %(default)s)")
    p.add_argument("--sources", default="jiaguwen,zjnu-chennianfu,zihuisong")
    p.add_argument("--out", type=Path, required=True)
    p.set_defaults(fn=build_dataset)

    p = sub.add_parser("push-dataset", help="push a built dataset and its card to the Hub")
    p.add_argument("dataset_dir", type=Path)
    p.add_argument("repo_id")
    p.set_defaults(fn=push_dataset)

    args = parser.parse_args(argv)
    try:
        return args.fn(args)
    except (RuntimeError, ValueError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1


__all__ = ["DEFAULT_MODEL_REPO", "main"]
