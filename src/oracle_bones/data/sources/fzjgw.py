"""Founder's 方正甲骨文 font: 1,386 characters, 391 in no other source, personal use only."""

from __future__ import annotations

from pathlib import Path

from .base import SourceUnavailable
from .font import FontSource, GlyphRow
from .simplify import simplify
from .xlsx import read_sheets

HEADER = ("glyph", "liding", "note")  # the glyph, its transcription (隶定), a note


def founder_glyphs(workbook: Path) -> list[GlyphRow]:
    """The rows of glyphs.csv from upstream's workbook (its first sheet, headed glyph, liding,
    note). Each glyph sits at its modern character's own code point; the 13 rows without a
    one-character transcription (private-use glyphs such as 子 used as a branch) are left out."""
    rows = next(iter(read_sheets(workbook).values()), [])
    header = rows[0] if rows else []
    if not set(HEADER) <= set(header):
        raise SourceUnavailable(f"{workbook}: expected the columns {HEADER}, found {header}")
    columns = [header.index(c) for c in HEADER]
    out = []
    for n, cells in enumerate(rows[1:], start=2):
        glyph, char, note = (cells[i] if i < len(cells) else "" for i in columns)
        if len(char) != 1:
            continue
        if len(glyph) != 1:
            raise SourceUnavailable(f"{workbook}: row {n}: glyph {glyph!r} is not one character")
        out.append(
            {
                "codepoint": f"U+{ord(glyph):04X}",
                "char": char,
                "char_simplified": simplify(char),
                "source_ref": "",
                "note": note,
            }
        )
    return out


FZJGW = FontSource(
    name="fzjgw",
    title="Founder oracle bone font (方正甲骨文, FZJGW)",
    licence="(c) Beijing Founder Electronics: free for personal non-commercial use only. A "
    "dataset or model built with it must not be published; it is never in the default build",
    licence_id="proprietary-personal-use",
    upstream="https://github.com/Kushim-Jiang/oracle-bone (font/FZJGW-Regular.ttf, "
    "data/方正甲骨文.xlsx)",
    provenance="TrueType font; glyphs.csv (from the workbook: glyph, transcription, note) lists "
    "1,417 glyphs of 1,386 characters, each at its modern character's own code point; 13 rows "
    "without a single-character transcription are left out. Rendered with Pillow.",
    publishable=False,
    font_file="FZJGW-Regular.ttf",
    workbook="data/方正甲骨文.xlsx",
    derive=founder_glyphs,
)
