"""A source that is an oracle bone font plus `glyphs.csv` (code point -> character)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from .base import Record, Source, SourceUnavailable


@dataclass(frozen=True)
class FontSource(Source):
    """Each glyph listed in `glyphs.csv` is rendered with Pillow, black on white."""

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
