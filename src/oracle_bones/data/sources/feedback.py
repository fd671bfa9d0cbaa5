"""Drawings people shared from the app to teach the model: the project's own, most honest data.

Read from the app's feedback folder (`OBS_FEEDBACK_DIR`, a `datasets` image folder; see
`oracle_bones.space.feedback`, which writes it), or `--feedback-dir`. Every fifth drawing by id
is held out as `test_feedback` (see `oracle_bones.data.dataset`), so what people draw becomes a
test set as it arrives.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from .base import Record, Source, SourceUnavailable

METADATA, IMAGES = "metadata.jsonl", "images"  # the folder's rows, and its PNGs in sub-folders


class SharedDrawing(NamedTuple):
    id: str
    path: Path  # the PNG
    label: str
    known: bool


def shared_drawings(folder: Path) -> list[SharedDrawing]:
    """Every stored drawing, in the order shared: for a dataset source reading this folder."""
    folder = Path(folder)
    return [
        SharedDrawing(row["id"], folder / row["file_name"], row["label"], row["known"])
        for row in rows(folder / METADATA)
    ]


def rows(meta: Path) -> list[dict]:
    """The rows of metadata.jsonl, less a torn last one (the store drops it when it next opens);
    any other line that is not JSON is an error naming the line."""
    data = meta.read_bytes() if meta.exists() else b""
    found = []
    for n, line in enumerate(data[: whole_rows(data)].decode("utf-8").splitlines(), 1):
        try:
            found.append(json.loads(line))
        except ValueError as e:
            raise ValueError(f"{meta}:{n}: not a JSON row ({e})") from e
    return found


def whole_rows(data: bytes) -> int:
    """How many leading bytes of metadata.jsonl are whole rows: a crash mid-append leaves a last
    line without its newline (or, after a power cut, one that is not JSON)."""
    keep = data.rfind(b"\n") + 1
    last = data[data.rfind(b"\n", 0, max(keep - 1, 0)) + 1 : keep]
    try:
        if last:
            json.loads(last)
    except ValueError:
        keep -= len(last)
    return keep


@dataclass(frozen=True)
class Feedback(Source):
    folder: Path | None = None  # None: `data_dir / "feedback"`

    def records(self, data_dir: Path) -> Iterator[Record]:
        folder = self.folder or data_dir / self.name
        if not (folder / METADATA).exists():
            raise SourceUnavailable(f"feedback: no metadata.jsonl in {folder} (--feedback-dir)")
        for d in shared_drawings(folder):
            yield Record(d.path.read_bytes(), d.label, self.name, d.id)


FEEDBACK = Feedback(
    name="feedback",
    title="Drawings shared by the app's users",
    licence="CC0 1.0: each person shares a drawing under CC0, as the app says when they do",
    licence_id="cc0-1.0",
    upstream="https://huggingface.co/datasets (the repo named by OBS_FEEDBACK_REPO)",
    provenance="Glyphs drawn on the app's Sketchpad or uploaded, each labelled by the person who "
    "shared it (a candidate they picked or a character they typed); stored as the ink alone, with "
    "no personal data.",
)
