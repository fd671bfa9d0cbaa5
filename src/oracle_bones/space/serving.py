"""The model that answers the app: the bundled one at once, the one named by OBS_MODEL once loaded.

The app must serve within seconds whatever the Hub does, so a Hub model is fetched in a background
thread and swapped in between requests. Each request reads `ModelHolder.current` once and finishes
on that model: a swap never waits for a recognition and no lock is held while recognising.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path

import torch

from ..glyphs.glyph import INPUT_SIZE
from ..hub import DEFAULT_MODEL_REPO, HubUnavailable, offline
from ..model import WEIGHTS, ModelFileError
from ..reading.recognizer import BUNDLED, Recognizer

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Served:
    """A loaded model and what to call it: `name` is a Hub repo id, "bundled" or a folder's name;
    `revision` the Hub commit, or for a local folder the first 12 hex digits of its weights' sha256.
    """

    recognizer: Recognizer
    name: str
    revision: str

    @classmethod
    def load(cls, source: str | Path) -> Served:
        """Load a folder or a Hub repo id (bounded; raises HubUnavailable or ModelFileError)."""
        rec = Recognizer.from_pretrained(source)
        folder = Path(rec.folder)
        if folder.parent.name == "snapshots":  # the Hub cache: snapshots/<commit>/
            return cls(rec, str(source), folder.name)
        weights = hashlib.sha256((folder / WEIGHTS).read_bytes()).hexdigest()[:12]
        return cls(rec, "bundled" if folder.resolve() == BUNDLED else folder.name, weights)

    def describe(self) -> str:
        """`resnet10t`, 2,415 characters."""
        arch = self.recognizer.config.get("architecture", "CNN")
        return f"`{arch}`, {len(self.recognizer.labels):,} characters"


class ModelHolder:
    """Serves the bundled model from the start and swaps in `wanted` once it has loaded.

    `wanted` (default OBS_MODEL, else the project's Hub repo) is a folder, loaded at once, or a
    Hub repo id, fetched in the background unless HF_HUB_OFFLINE is set. A fetch that fails
    leaves the bundled model answering and a one-line `notice` saying why.
    """

    def __init__(self, wanted: str | None = None) -> None:
        self.wanted = wanted or os.environ.get("OBS_MODEL") or DEFAULT_MODEL_REPO
        self.notice = ""
        self.loading = False
        if Path(self.wanted).is_dir():
            try:
                self.current = Served.load(self.wanted)
                return
            except ModelFileError as e:
                self._failed(e)
        self.current = Served.load(BUNDLED)
        if self.notice or Path(self.wanted).is_dir():
            return
        if offline():
            log.info("HF_HUB_OFFLINE is set: serving the bundled model, not %s", self.wanted)
            return
        self.loading = True
        threading.Thread(target=self._fetch, daemon=True, name="fetch model").start()

    def _fetch(self) -> None:
        try:
            served = Served.load(self.wanted)
            served.recognizer.rank(torch.zeros(1, 1, INPUT_SIZE, INPUT_SIZE))  # first call's setup
            self.current = served  # one assignment: the next request reads the new model
            log.info("Now serving %s (revision %s)", served.name, served.revision)
        except (HubUnavailable, ModelFileError) as e:
            self._failed(e)
        finally:
            self.loading = False

    def _failed(self, err: Exception) -> None:
        log.warning("Cannot load %s (%s); serving the bundled model", self.wanted, err)
        self.notice = f"could not load `{self.wanted}` ({err}): serving the bundled model"

    def status(self) -> dict[str, str | bool]:
        """Which model answers, for the page and the `/model` API."""
        return {
            "model": self.current.name,
            "revision": self.current.revision,
            "loading": self.loading,
            "notice": self.notice,
        }

    def status_line(self) -> str:
        """One line of Markdown: the model answering, and why not the one asked for."""
        served = self.current
        if served.name == "bundled":
            line = f"Answering: the bundled model ({served.describe()})"
        else:
            line = f"Answering: `{served.name}` @ `{served.revision[:7]}` ({served.describe()})"
        if self.loading:
            line += f" · fetching `{self.wanted}`…"
        elif self.notice:
            line += f" · ⚠️ {self.notice}"
        return line
