"""Where the glyphs come from: each source yields labelled records and states its licence.

A record keeps the source's own encoded image (JPEG file or rendered PNG) so the dataset stays
as close to upstream as possible; normalisation happens later, identically everywhere.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import tempfile
import urllib.request
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

DOWNLOAD_TIMEOUT_S = 30.0
CACHE_DIR = Path(os.environ.get("OBS_CACHE", Path.home() / ".cache" / "oracle-bones"))


class SourceUnavailable(RuntimeError):
    """A source has no local copy and could not be downloaded."""


@dataclass(frozen=True)
class Record:
    image: bytes  # an encoded image file (JPEG or PNG)
    label: str  # modern simplified character
    source: str
    ref: str  # the source's own id for this glyph


@dataclass(frozen=True)
class Source:
    name: str
    title: str
    licence: str  # as stated upstream, in plain words
    licence_id: str  # SPDX id or "unknown"
    upstream: str
    provenance: str

    def records(self, data_dir: Path) -> Iterator[Record]:
        """Yield every glyph of this source found in `data_dir / self.name`."""
        raise NotImplementedError


@dataclass(frozen=True)
class JiaGuWen(Source):
    """The seed: 1,602 line drawings, `index.json` maps file name -> character."""

    archive_url: str = ""

    def records(self, data_dir: Path) -> Iterator[Record]:
        root = data_dir / self.name
        if not (root / "index.json").exists():
            root = self._download(root)
        for item in json.loads((root / "index.json").read_text(encoding="utf-8")):
            path = root / "i" / item["image"]
            yield Record(path.read_bytes(), item["name"], self.name, item["image"])

    def _download(self, root: Path) -> Path:
        """Fetch the upstream archive into the cache (bounded in time) when no local copy exists."""
        cached = CACHE_DIR / "sources" / self.name
        if (cached / "index.json").exists():
            return cached
        print(f"No local copy at {root}; downloading {self.archive_url}")
        try:
            data = download(self.archive_url)
        except OSError as e:
            raise SourceUnavailable(
                f"{self.name}: no local copy at {root} and the download from {self.archive_url} "
                f"failed ({e}). Pass --data-dir with a folder holding {self.name}/index.json."
            ) from e
        tmp = Path(tempfile.mkdtemp(dir=_mkdir(cached.parent)))
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            for member in z.namelist():
                parts = member.split("/", 1)  # strip the archive's top folder
                if len(parts) == 2 and (parts[1] == "index.json" or parts[1].startswith("i/")):
                    target = tmp / parts[1]
                    if not member.endswith("/"):
                        _mkdir(target.parent)
                        target.write_bytes(z.read(member))
        shutil.rmtree(cached, ignore_errors=True)
        tmp.rename(cached)
        return cached


@dataclass(frozen=True)
class FontSource(Source):
    """An oracle bone font plus `glyphs.csv` (code point -> character); each glyph is rendered."""

    font_file: str = ""
    render_px: int = 128

    def records(self, data_dir: Path) -> Iterator[Record]:
        root = data_dir / self.name
        font_path, table = root / self.font_file, root / "glyphs.csv"
        if not (font_path.exists() and table.exists()):
            raise SourceUnavailable(
                f"{self.name}: expected {self.font_file} and glyphs.csv in {root}. The font is at "
                f"{self.upstream}; glyphs.csv is derived from the workbook described in the "
                "dataset card."
            )
        font = ImageFont.truetype(str(font_path), self.render_px)
        with table.open(encoding="utf-8", newline="") as f:
            for row in csv.DictReader(f):
                png = render_glyph(font, chr(int(row["codepoint"][2:], 16)), self.render_px)
                ref = f"{row['codepoint']} {row['source_ref']}".strip()
                yield Record(png, row["char_simplified"], self.name, ref)


def render_glyph(font: ImageFont.FreeTypeFont, char: str, px: int) -> bytes:
    """Black glyph on white as PNG bytes; an empty canvas when the font lacks the glyph."""
    side = px * 3 // 2
    canvas = Image.new("L", (side, side), 255)
    ImageDraw.Draw(canvas).text((side // 2, side // 2), char, font=font, fill=0, anchor="mm")
    out = io.BytesIO()
    canvas.save(out, format="PNG")
    return out.getvalue()


def download(url: str, timeout: float = DOWNLOAD_TIMEOUT_S) -> bytes:
    """GET `url` with a progress bar; every socket operation is bounded by `timeout`."""
    from tqdm.auto import tqdm

    with urllib.request.urlopen(url, timeout=timeout) as resp:
        total = int(resp.headers.get("Content-Length") or 0) or None
        buf = io.BytesIO()
        with tqdm(total=total, unit="B", unit_scale=True, desc=url.rsplit("/", 1)[-1]) as bar:
            while chunk := resp.read(1 << 16):
                buf.write(chunk)
                bar.update(len(chunk))
    return buf.getvalue()


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


SOURCES: dict[str, Source] = {
    s.name: s
    for s in (
        JiaGuWen(
            name="jiaguwen",
            title="JiaGuWen (Chinese-Traditional-Culture)",
            licence="MIT, as stated by the GitHub repository; the drawings are said elsewhere to "
            "come from oraclebone.org under CC BY-NC 4.0, so treat them as non-commercial",
            licence_id="mit",
            upstream="https://github.com/Chinese-Traditional-Culture/JiaGuWen",
            provenance="1,602 RGB 50x50 JPEG line drawings of oracle bone glyphs with index.json "
            "mapping each file to its modern simplified character (793 characters).",
            archive_url="https://github.com/Chinese-Traditional-Culture/JiaGuWen/archive/refs/heads/master.zip",
        ),
        FontSource(
            name="zjnu-chennianfu",
            title="ZJNU oracle bone font (Chen Nianfu)",
            licence="No licence given; the font says only '(c) ZJNU 2003'",
            licence_id="unknown",
            upstream="https://github.com/Kushim-Jiang/oracle-bone (font/ZJNUJGW-Regular.ttf, "
            "data/陈年福甲骨文.xlsx)",
            provenance="TrueType font of oracle bone glyphs by Zhejiang Normal University (Chen "
            "Nianfu); glyphs.csv maps 8,389 code points to modern characters, each with the "
            "inscription it was copied from. Every listed glyph is rendered with Pillow.",
            font_file="ZJNUJGW-Regular.ttf",
        ),
        FontSource(
            name="zihuisong",
            title="ZihuiSong JGW oracle bone font",
            licence="No licence given; the font carries a placeholder copyright",
            licence_id="unknown",
            upstream="https://github.com/Kushim-Jiang/oracle-bone (font/ZihuiSongJGW-Regular.ttf)",
            provenance="TrueType font of oracle bone glyphs (hinting removed so FreeType accepts "
            "it); glyphs.csv maps 1,884 code points to modern characters. Every listed glyph is "
            "rendered with Pillow.",
            font_file="ZihuiSongJGW-Regular.ttf",
        ),
    )
}
