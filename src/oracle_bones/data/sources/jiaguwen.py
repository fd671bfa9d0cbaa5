"""The seed: 1,602 line drawings of the JiaGuWen repository, `index.json` maps file -> character."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .base import Record, Source, local_or_download


@dataclass(frozen=True)
class JiaGuWen(Source):
    archive_url: str = ""

    def records(self, data_dir: Path) -> Iterator[Record]:
        root = local_or_download(
            data_dir / self.name,
            "index.json",
            self.name,
            self.archive_url,
            lambda path: path == "index.json" or path.startswith("i/"),
        )
        for item in json.loads((root / "index.json").read_text(encoding="utf-8")):
            path = root / "i" / item["image"]
            yield Record(path.read_bytes(), item["name"], self.name, item["image"])


JIAGUWEN = JiaGuWen(
    name="jiaguwen",
    title="JiaGuWen (Chinese-Traditional-Culture)",
    licence="MIT, as stated by the GitHub repository; the drawings are said elsewhere to "
    "come from oraclebone.org under CC BY-NC 4.0, so treat them as non-commercial",
    licence_id="mit",
    upstream="https://github.com/Chinese-Traditional-Culture/JiaGuWen",
    provenance="1,602 RGB 50x50 JPEG line drawings of oracle bone glyphs with index.json "
    "mapping each file to its modern simplified character (793 characters).",
    archive_url="https://github.com/Chinese-Traditional-Culture/JiaGuWen/archive/refs/heads/master.zip",
)
