"""Drawings people share to teach the model: a `datasets` image folder, written crash-safely (and
pushed to a Hub dataset repo in the background by `feedback_push`).

Layout of the folder (OBS_FEEDBACK_DIR, default `feedback/` beside app.py):

    metadata.jsonl               one JSON row per shared drawing, appended, UTF-8
    images/3f/3f2a...9c.png      the drawing's ink: black on white, cropped to the ink with a
                                 margin (glyph.square_glyph), grey PNG without any metadata;
                                 the sub-folder is the id's first two hex digits
    README.md                    the folder's dataset card (licence: CC0 1.0)
    .pending/ID.json             a row being written; listed on the next start if its PNG landed
    .orphans/ID.png              a PNG found without a row, kept aside (never pushed)

A row (`ensure_ascii=False`, keys in this order):

    {"file_name": "images/3f/3f2a...9c.png", "id": "3f2a...9c" (uuid4 hex), "label": "雨",
     "known": true (the model has the character among its classes; false: a new one),
     "top10": [{"label": "雨", "score": 0.93}, ...] (the model's answer, best first),
     "model": "oracle-bones/oracle-bone-recognizer" | "bundled" | a folder name,
     "revision": the Hub commit, or 12 hex digits of the weights' sha256,
     "created": "2025-01-01T12:00:00Z" (UTC, whole seconds)}

Nothing else is kept: no address, no session, no file name. `load_dataset("imagefolder",
data_dir=FOLDER)` reads it as one `train` split; `data.sources.feedback` reads it as a source of
the dataset.

Crash safety: a share writes its row to `.pending/` (atomic, fsynced), then the PNG (atomic,
fsynced), then appends the row to metadata.jsonl (flush + fsync) and drops the pending file, all
under `FeedbackStore.lock`, which the Hub push also holds while it lists the folder, so a push
never sees half a share. Opening the store repairs what a crash left: a torn last line is cut
off, a pending row whose PNG landed is appended, a PNG with no row at all is moved to `.orphans/`.
"""

from __future__ import annotations

import io
import json
import logging
import os
import shutil
import threading
import time
import unicodedata
import uuid
from collections import deque
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from ..data.sources.feedback import IMAGES, METADATA, rows, whole_rows
from ..files import atomic_file
from ..glyphs.glyph import GlyphError, square_glyph

log = logging.getLogger(__name__)

CARD, PENDING, ORPHANS = "README.md", ".pending", ".orphans"
PUSHED = [METADATA, CARD, f"{IMAGES}/*/*.png"]  # what the Hub repo receives
LICENCE, LICENCE_NAME = "cc0-1.0", "CC0 1.0"
LICENCE_URL = "https://creativecommons.org/publicdomain/zero/1.0/"
MAX_SHARE_BYTES = 10 * 1024 * 1024  # a drawing or a photo of one; the stored ink is far smaller
MAX_SHARE_PIXELS = 4096 * 4096
SHARES_PER_MINUTE = 5
TOP_K = 10

# Unicode's CJK ideographs: the unified blocks (and extensions A to J), the compatibility blocks
# (after NFC only the dozen unified ones among them remain) and 〇, the ideographic zero.
CJK_RANGES = (
    (0x3007, 0x3007),
    (0x3400, 0x4DBF),  # extension A
    (0x4E00, 0x9FFF),
    (0xF900, 0xFAFF),  # compatibility ideographs
    (0x20000, 0x2A6DF),  # B
    (0x2A700, 0x2EE5F),  # C, D, E, F, I
    (0x2F800, 0x2FA1F),  # compatibility supplement
    (0x30000, 0x3347F),  # G, H, J
)

CARD_TEXT = f"""---
license: {LICENCE}
task_categories:
- image-classification
pretty_name: Oracle bone glyphs drawn and labelled by visitors (甲骨文)
tags:
- oracle-bone-script
- jiaguwen
- handwriting
---

# Oracle bone glyphs drawn and labelled by visitors

Drawings that visitors of the oracle-bones recogniser chose to share, each with the modern
character they said it is (`label`; `known` is false where the model did not know it), the
model's top 10 and which model answered. Only the ink is kept: no personal data.

Licence: [{LICENCE_NAME}]({LICENCE_URL}), no rights reserved. Layout: see
`src/oracle_bones/space/feedback.py` in the project.
"""


class FeedbackError(ValueError):
    """A share was refused; the message says why, for the person who shared."""


def is_cjk(char: str) -> bool:
    return len(char) == 1 and any(lo <= ord(char) <= hi for lo, hi in CJK_RANGES)


def check_label(text: str | None) -> str:
    """The one CJK character a person typed or picked (NFC), else a FeedbackError saying why."""
    label = unicodedata.normalize("NFC", (text or "").strip())
    if not label:
        raise FeedbackError("Pick or type the character this drawing shows.")
    if len(label) > 1:
        raise FeedbackError(f"One character only: “{label}” is {len(label)}.")
    if not is_cjk(label):
        raise FeedbackError(f"“{label}” is not a Chinese character (a CJK ideograph).")
    return label


def check_size(image: Any) -> None:
    """Refuse a picture too big to be a drawing, from its file size and header alone."""
    if isinstance(image, dict):  # a Sketchpad value
        for part in (image.get("composite"), image.get("background"), *(image.get("layers") or [])):
            if part is not None:
                check_size(part)
        return
    if isinstance(image, (bytes, bytearray)):
        size, source = len(image), io.BytesIO(image)
    elif isinstance(image, (str, os.PathLike)) and os.path.isfile(image):
        size, source = os.path.getsize(image), image
    else:
        size, source = 0, image
    if size > MAX_SHARE_BYTES:
        raise FeedbackError(f"File too large to share ({size >> 20} MB; the limit is 10 MB).")
    if isinstance(image, np.ndarray):
        w, h = (image.shape[1], image.shape[0]) if image.ndim >= 2 else (0, 0)
    elif isinstance(image, Image.Image):
        w, h = image.size
    else:
        try:
            with Image.open(source) as img:  # reads the header only
                w, h = img.size
        except Exception:  # not an image, or too large for Pillow: glyph's decoder says which
            return
    if w * h > MAX_SHARE_PIXELS:
        raise FeedbackError(f"Picture too large to share ({w} x {h}; the limit is 4096 x 4096).")


def ink_png(image: Any) -> bytes:
    """The drawing's ink, black on white, cropped to the ink with a margin: a grey PNG that
    carries nothing but pixels (re-encoded, so no EXIF or text from the upload survives)."""
    check_size(image)
    try:
        ink = square_glyph(image)
    except GlyphError as e:
        raise FeedbackError(str(e)) from e
    grey = Image.fromarray(np.round(255.0 * (1.0 - ink)).astype(np.uint8))
    out = io.BytesIO()
    grey.save(out, format="PNG", optimize=True)
    return out.getvalue()


class FeedbackStore:
    """The feedback folder: `share` adds a drawing; opening it repairs what a crash left."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.lock = threading.Lock()  # held while writing; the Hub push holds it while listing
        (self.folder / PENDING).mkdir(parents=True, exist_ok=True)
        (self.folder / IMAGES).mkdir(exist_ok=True)
        with self.lock:
            self._recover()
            if not (self.folder / CARD).exists():
                _write_durably(self.folder / CARD, CARD_TEXT.encode())

    def share(
        self,
        image: Any,
        label: str,
        top: Sequence[tuple[str, float]],
        model: str,
        revision: str,
        known: bool,
    ) -> str:
        """Store a drawing with its label and the model's answer; returns its id."""
        label = check_label(label)
        png = ink_png(image)
        drawing_id = uuid.uuid4().hex
        row = {
            "file_name": f"{IMAGES}/{drawing_id[:2]}/{drawing_id}.png",
            "id": drawing_id,
            "label": label,
            "known": bool(known),
            "top10": [{"label": c, "score": round(float(s), 6)} for c, s in top[:TOP_K]],
            "model": model,
            "revision": revision,
            "created": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        pending = self.folder / PENDING / f"{drawing_id}.json"
        with self.lock:
            _write_durably(pending, json.dumps(row, ensure_ascii=False).encode())
            _write_durably(self.folder / row["file_name"], png)
            self._append(row)
            pending.unlink()
        return drawing_id

    def _append(self, row: dict) -> None:
        line = json.dumps(row, ensure_ascii=False).encode() + b"\n"
        with open(self.folder / METADATA, "ab") as f:
            f.write(line)
            f.flush()
            os.fsync(f.fileno())

    def _recover(self) -> None:
        """Undo what a crash mid-share left; see the module docstring."""
        meta = self.folder / METADATA
        data = meta.read_bytes() if meta.exists() else b""
        keep = whole_rows(data)
        if keep < len(data):
            log.warning("%s: dropping a torn last row (%d bytes)", meta, len(data) - keep)
            with open(meta, "r+b") as f:
                f.truncate(keep)
                os.fsync(f.fileno())
        listed = {row["id"] for row in rows(meta)}
        for pending in sorted((self.folder / PENDING).glob("*.json")):
            row = json.loads(pending.read_text(encoding="utf-8"))
            if row["id"] not in listed and (self.folder / row["file_name"]).exists():
                log.warning("%s: listing drawing %s, shared just before a crash", meta, row["id"])
                self._append(row)
                listed.add(row["id"])
            pending.unlink()
        for stray in self.folder.glob("**/.*.tmp"):  # atomic_file's, from a write cut short
            stray.unlink()
        for png in sorted((self.folder / IMAGES).glob("*/*.png")):
            if png.stem not in listed:
                log.warning("%s: no row for %s; kept aside in %s", meta, png.name, ORPHANS)
                (self.folder / ORPHANS).mkdir(exist_ok=True)
                shutil.move(png, self.folder / ORPHANS / png.name)


def _write_durably(path: Path, data: bytes) -> None:
    """Write a file whole or not at all, and on disk before returning."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_file(path) as tmp, open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(fd)  # the rename itself
    finally:
        os.close(fd)


class RateLimit:
    """At most `shares` per `per_s` seconds per key (a Gradio session hash, kept in memory only)."""

    def __init__(self, shares: int = SHARES_PER_MINUTE, per_s: float = 60.0) -> None:
        self.shares, self.per_s = shares, per_s
        self._times: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    @contextmanager
    def slot(self, key: str | None) -> Iterator[None]:
        """Take one of the key's shares for the block; it is given back if the block fails."""
        now, key = time.monotonic(), key or ""
        with self._lock:
            for k in [k for k, t in self._times.items() if not t or now - t[-1] > self.per_s]:
                if k != key:
                    del self._times[k]  # sessions that have gone quiet: forgotten
            times = self._times.setdefault(key, deque())
            while times and now - times[0] > self.per_s:
                times.popleft()
            if len(times) >= self.shares:
                wait = self.per_s - (now - times[0])
                raise FeedbackError(
                    f"Thank you! That is {self.shares} drawings in a minute: "
                    f"please wait {wait:.0f} s before sharing another."
                )
            times.append(now)
        try:
            yield
        except BaseException:
            with self._lock:
                times.remove(now)
            raise
