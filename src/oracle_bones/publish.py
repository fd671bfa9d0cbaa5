"""Publishing to the Hub: the dataset with its card, and a model folder in timm's format."""

from __future__ import annotations

import json
from pathlib import Path

import datasets
from huggingface_hub import DatasetCard

from .data.dataset import STATS_FILE
from .data.sources import SOURCES
from .hub import PUSH_TIMEOUT_S, bounded, check_token, push_folder
from .model import load


def check_publishable(sources: list[str], what: Path) -> None:
    """Refuse to publish what was built from a source whose terms forbid it (fzjgw)."""
    barred = [s for s in sources if s in SOURCES and not SOURCES[s].publishable]
    if barred:
        raise ValueError(
            f"{what} was built with {', '.join(barred)}, whose terms forbid publishing it; "
            "rebuild without it (the default sources) to publish."
        )


def push_dataset(dataset_dir: Path, repo_id: str) -> str:
    """Push the splits with `push_to_hub`, then our card, keeping the YAML `datasets` wrote.

    `push_to_hub` writes a README whose front matter (`dataset_info`, `configs`) tells
    `load_dataset` how to read the files; our card's front matter is merged over it.
    """
    stats = json.loads((Path(dataset_dir) / STATS_FILE).read_text(encoding="utf-8"))
    check_publishable(stats["sources"], Path(dataset_dir))
    check_token()
    dd = datasets.load_from_disk(str(dataset_dir))
    card = DatasetCard((Path(dataset_dir) / "README.md").read_text(encoding="utf-8"))

    def push() -> str:
        dd.push_to_hub(repo_id, commit_message="Upload oracle bone glyphs")
        pushed = DatasetCard.load(repo_id, repo_type="dataset")
        for key in ("dataset_info", "configs"):
            if key in pushed.data:
                card.data[key] = pushed.data[key]
        card.push_to_hub(repo_id, repo_type="dataset", commit_message="Dataset card")
        return f"https://huggingface.co/datasets/{repo_id}"

    return bounded(push, PUSH_TIMEOUT_S, f"pushing {dataset_dir} to {repo_id}")


def push_model(model_dir: str | Path, repo_id: str) -> str:
    """Upload config.json, model.safetensors and README.md after checking the folder loads."""
    loaded = load(Path(model_dir))  # refuse to publish a folder our own loader would reject
    check_publishable(loaded.config.get("sources", []), Path(model_dir))
    check_token()
    return push_folder(Path(model_dir), repo_id, "model", "Upload oracle bone recogniser")
