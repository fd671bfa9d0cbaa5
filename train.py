"""Fine-tune a timm backbone on the oracle bone dataset.

    python train.py                                   # the bundled model's recipe, and
                                                      # its whole-glyph head (training.wholeness)
    python train.py --arch seed-cnn --epochs 15 --out build/seed-cnn  # the 2022 baseline
    accelerate launch train.py --mixed-precision bf16 # one or several GPUs
    python train.py --resume                          # continue after an interruption
    python train.py --push-to-hub USER/REPO           # then upload the best model folder

Every option is a field of `oracle_bones.training.loop.TrainConfig`; the defaults are the recipe.
"""

import argparse
import dataclasses
import json
import os
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent / "src"))  # the package, without install

from oracle_bones.model import HEAD_KEY
from oracle_bones.publish import push_model
from oracle_bones.training.loop import TrainConfig, train
from oracle_bones.training.wholeness import fit_folder


def parse_args() -> tuple[TrainConfig, str | None]:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    for f in dataclasses.fields(TrainConfig):
        if f.name == "augment":
            continue
        flag = "--" + f.name.replace("_", "-")
        if f.type in (bool, "bool"):
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=f.default)
        else:
            kind = {"int": int, "float": float}.get(str(f.type), str)
            parser.add_argument(flag, type=kind, default=f.default, help=f"default: {f.default}")
    parser.add_argument("--push-to-hub", metavar="REPO_ID", help="upload the best model folder")
    parser.add_argument(
        "--threads", type=int, default=0, help="torch CPU threads (0: torch's choice)"
    )
    args = vars(parser.parse_args())
    push, threads = args.pop("push_to_hub"), args.pop("threads")
    if threads:
        torch.set_num_threads(threads)
    return TrainConfig(**args), push


def main() -> int:
    cfg, push = parse_args()
    best = train(cfg)
    if int(os.environ.get("RANK", "0")):
        return 0  # the main process evaluates, reports and pushes
    if cfg.wholeness_pages and cfg.arch != "seed-cnn":  # the reader's head: `training.wholeness`
        folder = Path(cfg.out)
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        if HEAD_KEY not in config:  # not yet (a resumed run may have done it)
            pages, epochs = cfg.wholeness_pages, cfg.wholeness_epochs
            cache, data_dir = Path(cfg.cache_dir), Path(cfg.data_dir)
            fit_folder(folder, cfg.dataset, pages, epochs, cache, cfg.seed, cfg.rubbings, data_dir)
            config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        best = config["metrics"]  # the fine-tuned weights', judged again
    print(json.dumps({k: v for k, v in best.items() if k != "score"}))
    if push:
        print(push_model(cfg.out, push))
    return 0


if __name__ == "__main__":
    sys.exit(main())
