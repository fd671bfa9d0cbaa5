"""Drawings people shared from the app to teach the model: the project's own, most honest data.

Read from the app's feedback folder (`OBS_FEEDBACK_DIR`, a `datasets` image folder; see
`oracle_bones.feedback`), or `--feedback-dir`. Every fifth drawing by id is held out as
`test_feedback` (see `oracle_bones.dataset`), so what people draw becomes a test set as it arrives.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .base import Record, Source, SourceUnavailable


@dataclass(frozen=True)
class Feedback(Source):
    folder: Path | None = None  # None: `data_dir / "feedback"`

    def records(self, data_dir: Path) -> Iterator[Record]:
        from ..feedback import shared_drawings

        folder = self.folder or data_dir / self.name
        if not (folder / "metadata.jsonl").exists():
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
