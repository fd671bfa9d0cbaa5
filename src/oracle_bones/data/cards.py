"""Dataset and model cards: the top-level templates rendered with measured figures."""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import jinja2

from ..glyphs.glyph import INPUT_SIZE
from ..hub import DEFAULT_DATASET_REPO, DEFAULT_MODEL_REPO
from .sources import DEFAULT_SOURCES, SOURCES
from .sources.isobs import LABELS

TEMPLATES = Path(__file__).resolve().parents[3]  # dataset_card.md and model_card.md live at the top


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


def render_dataset_card(stats: Any, splits: Sequence[str], same_source_threshold: float) -> str:
    """The dataset's card from its build figures (`dataset.BuildStats`), split by split."""
    images = stats.images
    totals = {split: sum(images[s][split] for s in stats.sources) for split in splits}
    n = sum(totals.values())
    size = "1K<n<10K" if n < 10_000 else "10K<n<100K"
    sources = [SOURCES[s] for s in stats.sources]
    licences = {s.licence_id for s in sources}
    return render(
        "dataset_card.md",
        stats=stats,
        sources=sources,
        splits=splits,
        totals=totals,
        size_category=size,
        licence="mit" if licences == {"mit"} else "other",
        unknown=[s.name for s in sources if s.licence_id == "unknown"],
        unpublishable=[s.name for s in sources if not s.publishable],
        same_source_threshold=same_source_threshold,
        isobs=isobs_label_figures() if "isobs" in stats.sources else None,
        audit=ISOBS_AUDIT,
    )


# Written by whoever looked at the contact sheets (`python -m oracle_bones audit-isobs`, seed 0).
ISOBS_AUDIT = (
    "Audited by eye: `python -m oracle_bones audit-isobs` (seed 0) shows 60 random labelled "
    "classes, three drawings each beside up to four forms of the assigned character from the "
    "other sources. None of the 60 is clearly wrong; 4 could not be confirmed (classes 255 御, "
    "1265 系, 1453 and 1798 戈: their drawings differ from the forms elsewhere), so the label "
    "error rate is estimated at 0-7% (0 to 4 of 60)."
)


def isobs_label_figures() -> dict[str, int]:
    """What the committed IsOBS label table holds, for the card."""
    with LABELS.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    labelled = [r for r in rows if r["char"]]
    return {
        "classes": len(rows),
        "labelled": len(labelled),
        "drawings": sum(int(r["drawings"]) for r in labelled),
        "agrees": sum(r["agrees"] == "1" for r in labelled),
        "variants": sum("variant of" in r["note"] for r in labelled),
        "same_graph": sum("same graph" in r["note"] for r in labelled),
    }


def render_model_card(
    arch: str,
    labels: list[str],
    metrics: dict,
    dataset: str,
    sources: Sequence[str] = (),
    baseline: Path | None = None,
) -> str:
    """The model card; `sources` are the dataset's (the default ones when not known), `baseline`
    a seed-cnn model folder whose config holds its metrics."""
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
        metrics={
            **dict.fromkeys(("validation", "validation_hwobc", "test_isobs", "whole_glyph_epochs")),
            "chosen_on": "test",
            "sizes": {},
            **metrics,
            "test_n": metrics.get("n", 392),
        },
        baseline=base,
        dataset=dataset,
        dataset_repo=DEFAULT_DATASET_REPO,
        model_repo=DEFAULT_MODEL_REPO,
        training=training,
        sources=[SOURCES[s] for s in sources or DEFAULT_SOURCES],
        pct=lambda v: f"{100 * v:.1f}%",
    )
