"""HWOBC pen drawings: 3,382 glyphs written with a pen on tablets, the hand nearest a Sketchpad.

Each file is named by the Anyang font code point of the character it writes (`60000_11.png`,
U+60000 人), so its label is that code point's in the Anyang table (`anyang.graph_of`); for the
codes the table leaves empty, upstream's other table (ApolloYH/JGW_LORA's
`jgw_detail_ay_1530.jsonl`) names some. The local copy keeps both in `labels.csv` (`word`).
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .anyang import graph_of, workbook_labels
from .ayjgw import YOLO_ARCHIVE
from .base import Record, Source, SourceUnavailable, local_or_download
from .font import ARCHIVE_URL

IMAGES = "cls_cpp/input_img"  # in Laplace825/yolov8-oracle-detect
LICENCE = "cls_cpp/LICENSE"
DETAIL = "data/jgw_detail_ay_1530.jsonl"  # in ApolloYH/JGW_LORA
DETAIL_ARCHIVE = "https://github.com/ApolloYH/JGW_LORA/archive/d6547fb.zip"
_CODE = re.compile(r"U([0-9A-F]{5})")


@dataclass(frozen=True)
class PenDrawings(Source):
    archive_url: str = YOLO_ARCHIVE  # the drawings'
    labels_url: str = ARCHIVE_URL  # the Anyang workbook's
    detail_url: str = DETAIL_ARCHIVE  # JGW_LORA's, for the codes the workbook leaves empty

    def records(self, data_dir: Path) -> Iterator[Record]:
        root = data_dir / self.name
        if (root / "labels.csv").exists():
            with (root / "labels.csv").open(encoding="utf-8", newline="") as f:
                words = {r["file"]: r["word"] for r in csv.DictReader(f)}
            files = [(root / "images" / name, word) for name, word in sorted(words.items())]
        else:
            files = self._upstream(data_dir)
        for path, word in files:
            if graph := graph_of(word):
                yield Record(path.read_bytes(), graph, self.name, path.stem)

    def _upstream(self, data_dir: Path) -> list[tuple[Path, str]]:
        """(image, label) from upstream's archives: the drawings, the Anyang table, and for the
        codes it leaves empty the JGW_LORA table."""
        root = local_or_download(
            data_dir / self.name,
            LICENCE,
            self.name,
            self.archive_url,
            lambda p: p == LICENCE or p.startswith(IMAGES + "/"),
            local=f"{self.name}/labels.csv and {self.name}/images/",
        )
        labels = workbook_labels(data_dir, self.labels_url)
        detail = local_or_download(
            data_dir / "jgw-lora", DETAIL, "jgw-lora", self.detail_url, DETAIL.__eq__
        )
        more = detail_labels(detail / DETAIL)
        out = []
        for path in sorted((root / IMAGES).glob("*.png")):
            code = int(path.stem.split("_")[0], 16)
            out.append((path, labels.get(code) or more.get(code, "")))
        return out


def detail_labels(jsonl: Path) -> dict[int, str]:
    """Code point -> `ComplexChar` (else `SimpleChar`) of JGW_LORA's detail table, whose
    `FontImgUrl` names the code (`.../U60000.png`)."""
    out: dict[int, str] = {}
    for n, line in enumerate(jsonl.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)["Response"]["Data"]
            code = _CODE.search(data["FontImgUrl"])
        except (ValueError, KeyError, TypeError) as e:
            raise SourceUnavailable(f"{jsonl}: line {n} is not a detail record ({e!r})") from e
        if code:
            out[int(code[1], 16)] = data.get("ComplexChar") or data.get("SimpleChar") or ""
    return out


HWOBC = PenDrawings(
    name="hwobc",
    title="HWOBC pen drawings (handwritten oracle bone characters, Li et al. 2020; a subset)",
    licence="Images: nothing stated. The folder upstream holds an Unlicense LICENSE (public "
    "domain) for its code (cls_cpp/LICENSE); HWOBC itself was published for research",
    licence_id="unknown",
    upstream="https://github.com/Laplace825/yolov8-oracle-detect (commit 027fb1f, "
    "cls_cpp/input_img/); labels: https://github.com/Kushim-Jiang/oracle-bone "
    "(data/安阳甲骨文.xlsx) and https://github.com/ApolloYH/JGW_LORA "
    "(data/jgw_detail_ay_1530.jsonl)",
    provenance="3,382 hand-drawn glyphs (400x400 RGB PNG, black pen strokes on white) in 1,461 "
    "classes named by their Anyang font code point. Labels: the Anyang workbook's label for "
    "that code (else JGW_LORA's detail table, 53 images), a character, or a graph and what it "
    "wrote (`匕（妣）`, `月/夕`: the first); compounds (合文) and the 195 images no table "
    "names are left out. Near-copies against an independent pen-drawn set measured at the "
    "level of two unrelated sources.",
)
