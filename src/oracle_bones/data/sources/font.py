"""A source that is an oracle bone font plus `glyphs.csv` (code point -> character).

The fonts come from one GitHub repository (Kushim-Jiang/oracle-bone), each with a workbook from
which `glyphs.csv` was derived. With no local copy the font is downloaded from that repository's
archive, and the table derived from its workbook where this project can do so reproducibly.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from .base import Record, Source, SourceUnavailable, local_or_download

ARCHIVE_URL = "https://github.com/Kushim-Jiang/oracle-bone/archive/refs/heads/main.zip"
COLUMNS = ("codepoint", "char", "char_simplified", "source_ref", "note")  # of glyphs.csv
GlyphRow = dict[str, str]  # one row of glyphs.csv, by column name


@dataclass(frozen=True)
class FontSource(Source):
    """Each glyph listed in `glyphs.csv` is rendered with Pillow, black on white."""

    font_file: str = ""
    render_px: int = 128
    archive_url: str = ARCHIVE_URL
    workbook: str = ""  # upstream's table, a path in the archive; "" where it cannot be derived
    derive: Callable[[Path], list[GlyphRow]] | None = None  # workbook -> the rows of glyphs.csv

    def records(self, data_dir: Path) -> Iterator[Record]:
        font_path, rows = self.files(data_dir)
        try:
            font = ImageFont.truetype(str(font_path), self.render_px)
        except OSError as e:
            raise SourceUnavailable(
                f"{self.name}: FreeType cannot load {font_path} ({e}). Put a copy it can load "
                f"at {data_dir / self.name / self.font_file}."
            ) from e
        for row in rows:
            png = render_glyph(font, chr(int(row["codepoint"][2:], 16)), self.render_px)
            ref = f"{row['codepoint']} {row['source_ref']}".strip()
            yield Record(png, row["char_simplified"], self.name, ref)

    def files(self, data_dir: Path) -> tuple[Path, list[GlyphRow]]:
        """The font and the rows of its table: the local copy's where it has them, else the
        font from upstream's archive and the table derived from the workbook there."""
        root = data_dir / self.name
        font_path, table = root / self.font_file, root / "glyphs.csv"
        if font_path.exists() and table.exists():
            return font_path, read_table(table)
        if not table.exists() and self.derive is None:
            raise SourceUnavailable(
                f"{self.name}: no glyphs.csv in {root}, and this project cannot derive it from "
                f"upstream's workbook ({self.upstream}). Put glyphs.csv (columns codepoint, char, "
                f"char_simplified, source_ref) there; {self.font_file} is downloaded if missing."
            )
        wanted = {f"font/{self.font_file}", self.workbook}
        upstream = local_or_download(
            root,
            f"font/{self.font_file}",
            self.name,
            self.archive_url,
            wanted.__contains__,
            local=f"{self.name}/{self.font_file} and {self.name}/glyphs.csv",
        )
        font_path = font_path if font_path.exists() else upstream / "font" / self.font_file
        if table.exists():
            return font_path, read_table(table)
        if not (upstream / self.workbook).exists():
            raise SourceUnavailable(f"{self.name}: no {self.workbook} in {upstream}")
        try:
            return font_path, self.derive(upstream / self.workbook)  # type: ignore[misc]
        except ValueError as e:  # not a readable workbook
            raise SourceUnavailable(f"{self.name}: {e}") from e


def read_table(path: Path) -> list[GlyphRow]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def render_glyph(font: ImageFont.FreeTypeFont, char: str, px: int) -> bytes:
    """Black glyph on white as PNG bytes; an empty canvas when the font lacks the glyph."""
    side = px * 3 // 2
    canvas = Image.new("L", (side, side), 255)
    ImageDraw.Draw(canvas).text((side // 2, side // 2), char, font=font, fill=0, anchor="mm")
    out = io.BytesIO()
    canvas.save(out, format="PNG")
    return out.getvalue()
