"""Renders of the Anyang oracle bone font (ApolloYH/JGW_LORA): thin pen strokes, 687 usable."""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .base import Record, Source, SourceUnavailable, local_or_download
from .simplify import simplify

IMAGES = "data/jgw_vl_total"
UPSTREAM_LABELS = "data/jgw_detail_vl_web_725.jsonl"
_WORD = re.compile(r"^(U[0-9A-F]+)(.*)$")  # `U60000人`: the file's stem, then its label


@dataclass(frozen=True)
class AnYang(Source):
    archive_url: str = ""

    def records(self, data_dir: Path) -> Iterator[Record]:
        root = data_dir / self.name
        if (root / "labels.csv").exists():
            with (root / "labels.csv").open(encoding="utf-8", newline="") as f:
                rows = [(r["file"], r["char_simplified"]) for r in csv.DictReader(f)]
            images = root / "images"
        else:
            root = local_or_download(
                root,
                UPSTREAM_LABELS,
                self.name,
                self.archive_url,
                lambda p: p == UPSTREAM_LABELS or p.startswith(IMAGES + "/"),
            )
            rows, images = upstream_labels(root / UPSTREAM_LABELS), root / IMAGES
        for file, char in rows:
            if char:  # empty where the upstream label is not one character (`尸/夷`)
                yield Record((images / file).read_bytes(), char, self.name, Path(file).stem)


def upstream_labels(jsonl: Path) -> list[tuple[str, str]]:
    """(file, simplified character) from the upstream `word` field; "" unless one character."""
    rows = []
    for line in jsonl.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        m = _WORD.match(json.loads(line).get("word", ""))
        if m is None:
            raise SourceUnavailable(f"{jsonl}: unexpected label {line[:80]!r}")
        label = m[2].strip()
        rows.append((f"{m[1]}.png", simplify(label) if len(label) == 1 else ""))
    return rows


AYJGW = AnYang(
    name="ayjgw",
    title="Anyang oracle bone font renders (安阳甲骨文, ApolloYH/JGW_LORA)",
    licence="No licence stated by the repository; the font is Anyang Normal University's",
    licence_id="unknown",
    upstream="https://github.com/ApolloYH/JGW_LORA (data/jgw_vl_total/, "
    "data/jgw_detail_vl_web_725.jsonl)",
    provenance="725 renders (200x200 RGB PNG, thin black strokes) of the Anyang oracle bone "
    "font; labels from the `word` field of the upstream JSONL, simplified; the 38 whose label "
    "is not one character (`尸/夷`) are left out, 687 used.",
    archive_url="https://github.com/ApolloYH/JGW_LORA/archive/refs/heads/main.zip",
)
