"""Tiny copies of the real source layouts, made in a temporary folder from ../shared/data.

A build of a few glyphs takes a second where the real one takes minutes, and a copy can be broken
on purpose (a truncated file, a missing one) without touching the shared, read-only data.
"""

from __future__ import annotations

import json
import shutil
from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path

import pytest
from conftest import DATA

from oracle_bones.data.sources import SOURCES

needs_data = pytest.mark.skipif(
    not (DATA / "jiaguwen" / "index.json").exists(), reason=f"no data at {DATA}"
)


def seed_items(labels: int = 4, per_label: int = 3) -> list[dict[str, str]]:
    """Entries of the real jiaguwen index: `per_label` images of each of `labels` characters."""
    index = json.loads((DATA / "jiaguwen" / "index.json").read_text(encoding="utf-8"))
    groups: dict[str, list[dict[str, str]]] = defaultdict(list)
    for item in index:
        groups[item["name"]].append(item)
    chosen = [g[:per_label] for g in groups.values() if len(g) >= per_label][:labels]
    return [item for group in chosen for item in group]


def write_jiaguwen(
    root: Path, items: list[dict[str, str]], images: Mapping[str, bytes] | None = None
) -> Path:
    """`root/jiaguwen/` listing `items`; each image is copied from the real data unless `images`
    gives its bytes (a corrupt file, say)."""
    folder = root / "jiaguwen"
    (folder / "i").mkdir(parents=True, exist_ok=True)
    for item in items:
        target = folder / "i" / item["image"]
        if images and item["image"] in images:
            target.write_bytes(images[item["image"]])
        else:
            shutil.copyfile(DATA / "jiaguwen" / "i" / item["image"], target)
    (folder / "index.json").write_text(json.dumps(items, ensure_ascii=False), encoding="utf-8")
    return folder


def write_font_source(root: Path, name: str, rows: int) -> Path:
    """`root/name/`: the real font (linked, not copied) and the first `rows` rows of glyphs.csv."""
    folder = root / name
    folder.mkdir(parents=True, exist_ok=True)
    font = SOURCES[name].font_file
    (folder / font).symlink_to(DATA / name / font)
    lines = (DATA / name / "glyphs.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    (folder / "glyphs.csv").write_text("".join(lines[: rows + 1]), encoding="utf-8")
    return folder
