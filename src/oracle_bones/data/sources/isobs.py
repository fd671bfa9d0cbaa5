"""THUNLP's IsOBS: 20,419 hand copies in 1,621 numbered classes, with labels this project recovers.

IsOBS names no characters, only class numbers, which follow the Shuowen Jiezi's order. The
labels come from `isobs_labels.csv` beside this module: derived by `label-isobs` (see
`oracle_bones.isobs_labels`), committed and reviewed as data. Unlabelled classes are left out.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from .base import Record, Source, local_or_download

LABELS = Path(__file__).resolve().with_name("isobs_labels.csv")
FOLDERS = ("data_oct/train_1600", "data_oct/test_1600")  # their few-shot split; both are drawings


class Drawing(NamedTuple):
    klass: int  # the IsOBS class number (its `<ID>` in `<ID>_<n>.jpg`)
    ref: str  # the file's stem, `<ID>_<n>`
    image: bytes


@dataclass(frozen=True)
class IsOBS(Source):
    archive_url: str = ""
    labels_file: Path = LABELS

    def drawings(self, data_dir: Path) -> Iterator[Drawing]:
        """Every drawing once, by class number then file (the 14 byte-identical copies dropped)."""
        root = local_or_download(
            data_dir / self.name,
            FOLDERS[0],
            self.name,
            self.archive_url,
            lambda path: path == "LICENSE" or path.startswith(tuple(f + "/" for f in FOLDERS)),
        )
        files = [p for folder in FOLDERS for p in (root / folder).glob("*/*.jpg")]
        seen: set[bytes] = set()
        for path in sorted(files, key=lambda p: (int(p.stem.split("_")[0]), p.stem)):
            data = path.read_bytes()
            digest = hashlib.sha256(data).digest()
            if digest not in seen:
                seen.add(digest)
                yield Drawing(int(path.stem.split("_")[0]), path.stem, data)

    def labels(self) -> dict[int, str]:
        """Class number -> character, for the classes the committed table labels."""
        with self.labels_file.open(encoding="utf-8", newline="") as f:
            return {int(row["class"]): row["char"] for row in csv.DictReader(f) if row["char"]}

    def records(self, data_dir: Path) -> Iterator[Record]:
        labels = self.labels()
        for d in self.drawings(data_dir):
            if d.klass in labels:
                yield Record(d.image, labels[d.klass], self.name, d.ref)


ISOBS = IsOBS(
    name="isobs",
    title="IsOBS (THUNLP), labels recovered by this project",
    licence="MIT (LICENSE, (c) 2020 THUNLP); the character labels are this project's own "
    "derived data, released with the dataset",
    licence_id="mit",
    upstream="https://github.com/thunlp/IsOBS (data_oct/train_1600, data_oct/test_1600)",
    provenance="20,419 hand-copied black-on-white JPEG line drawings in 1,621 numbered "
    "classes, ordered as the Shuowen Jiezi. Upstream ships no characters: each class's "
    "character is recovered by aligning the class order with the Shuowen's headword order, "
    "scored by a recogniser's evidence (isobs_labels.csv, audited by eye). Classes with weak "
    "evidence are left out.",
    archive_url="https://github.com/thunlp/IsOBS/archive/refs/heads/main.zip",
)
