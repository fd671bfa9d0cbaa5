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
UPSTREAM_COPY = "kushim-jiang"  # a local copy of the archive's tables, its data/ folder within


@dataclass(frozen=True)
class FontSource(Source):
    """Each glyph listed in `glyphs.csv` is rendered with Pillow, black on white."""

    font_file: str = ""
    render_px: int = 128
    archive_url: str = ARCHIVE_URL
    workbook: str = ""  # upstream's table, a path in the archive (and in UPSTREAM_COPY)
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
        """The font and the rows of its table. The table is derived from upstream's workbook
        wherever one is at hand, so that a local copy and a download give the same rows: the
        local copy of upstream's tables (`kushim-jiang/data/` beside the sources), else the
        archive's when the font or the table has to be downloaded anyway. glyphs.csv is read
        only where no workbook is found."""
        root = data_dir / self.name
        font_path, table = root / self.font_file, root / "glyphs.csv"
        local_book = data_dir / UPSTREAM_COPY / self.workbook
        workbook = local_book if self.derive and self.workbook and local_book.is_file() else None
        if not font_path.exists() or not (workbook or table.exists()):
            if not table.exists() and self.derive is None:
                raise SourceUnavailable(
                    f"{self.name}: no glyphs.csv in {root}, and this project cannot derive it "
                    f"from upstream's workbook ({self.upstream}). Put glyphs.csv (columns "
                    f"codepoint, char, char_simplified, source_ref) there; {self.font_file} is "
                    "downloaded if missing."
                )
            wanted = {f"font/{self.font_file}", self.workbook}
            upstream = local_or_download(
                root,
                f"font/{self.font_file}",
                self.name,
                self.archive_url,
                wanted.__contains__,
                local=f"{self.name}/{self.font_file} and {self.name}/glyphs.csv (or "
                f"{UPSTREAM_COPY}/{self.workbook}, the table it is derived from)",
            )
            font_path = font_path if font_path.exists() else upstream / "font" / self.font_file
            if workbook is None and self.derive and (upstream / self.workbook).is_file():
                workbook = upstream / self.workbook
            elif workbook is None and not table.exists():
                raise SourceUnavailable(f"{self.name}: no {self.workbook} in {upstream}")
        if workbook is None or self.derive is None:
            return font_path, read_table(table)
        try:
            return font_path, self.derive(workbook)
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


NOTDEF = "\U0010fffd"  # a private-use code point no oracle bone font fills: its .notdef box


def has_glyph(font: ImageFont.FreeTypeFont, char: str) -> bool:
    """Whether the font draws `char`: FreeType draws a missing one as the font's .notdef box,
    which would otherwise pass for a glyph; a blank glyph is missing too."""
    mask = font.getmask(char)
    return mask.getbbox() is not None and bytes(mask) != bytes(font.getmask(NOTDEF))
