"""Dataset and model cards: the top-level templates rendered with measured figures."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2

TEMPLATES = Path(__file__).resolve().parents[2]  # dataset_card.md and model_card.md live at the top


def render(template: str, **values: Any) -> str:
    """Render a card template; undefined figures fail loudly rather than print blanks."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env.get_template(template).render(**values)


def render_dataset_card(stats: Any) -> str:
    from .sources import SOURCES

    images = stats.images
    totals = {split: sum(images[s][split] for s in stats.sources) for split in ("train", "test")}
    n = totals["train"] + totals["test"]
    size = "1K<n<10K" if n < 10_000 else "10K<n<100K"
    licences = {SOURCES[s].licence_id for s in stats.sources}
    licence = "mit" if licences == {"mit"} else "other"
    return render(
        "dataset_card.md",
        stats=stats,
        sources=[SOURCES[s] for s in stats.sources],
        totals=totals,
        size_category=size,
        licence=licence,
    )


def render_model_card(
    arch: str, labels: list[str], metrics: dict, dataset: str, baseline: Path | None = None
) -> str:
    """The model card; `baseline` is a seed-cnn model folder whose config holds its metrics."""
    import json

    from . import DEFAULT_DATASET_REPO, DEFAULT_MODEL_REPO
    from .glyph import INPUT_SIZE

    base = None
    if baseline is not None and (baseline / "config.json").exists():
        base = json.loads((baseline / "config.json").read_text(encoding="utf-8")).get("metrics")
    training = metrics.get("training") or {}
    return render(
        "model_card.md",
        name=DEFAULT_MODEL_REPO.split("/")[-1],
        arch=arch,
        num_classes=len(labels),
        size=INPUT_SIZE,
        metrics={**metrics, "test_n": metrics.get("n", 392)},
        baseline=base,
        dataset=dataset,
        dataset_repo=DEFAULT_DATASET_REPO,
        model_repo=DEFAULT_MODEL_REPO,
        training=training,
        pct=lambda v: f"{100 * v:.1f}%",
    )
