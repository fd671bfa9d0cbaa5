"""Zhejiang Normal University's oracle bone font (Chen Nianfu): many variants per character."""

from .chen_nianfu import zjnu_glyphs
from .font import FontSource

ZJNU = FontSource(
    name="zjnu-chennianfu",
    title="ZJNU oracle bone font (Chen Nianfu)",
    licence="No licence given; the font says only '(c) ZJNU 2003'",
    licence_id="unknown",
    upstream="https://github.com/Kushim-Jiang/oracle-bone (font/ZJNUJGW-Regular.ttf; the table "
    "derived from data/陈年福甲骨文.xlsx)",
    provenance="TrueType font of oracle bone glyphs by Zhejiang Normal University (Chen "
    "Nianfu). Its table is derived from upstream's workbook 陈年福甲骨文.xlsx (sheet 1: glyph, "
    "transcription, inscription): 8,478 code points of 2,333 characters, each with the "
    "inscription it was copied from; compound, description-sequence and private-use "
    "transcriptions are left out. A glyph that writes several words (匕 for 匕 and 妣: 88 "
    "glyphs) is filed under its graph, the row the others' 同形 column names. Without the "
    "workbook the local glyphs.csv is read (8,389 code points: without those 88). Every "
    "listed glyph is rendered with Pillow.",
    font_file="ZJNUJGW-Regular.ttf",
    workbook="data/陈年福甲骨文.xlsx",
    derive=zjnu_glyphs,
)
