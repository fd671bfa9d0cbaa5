"""Founder's 方正甲骨文 font: 1,386 characters, 391 in no other source, personal use only."""

from .font import FontSource

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
)
