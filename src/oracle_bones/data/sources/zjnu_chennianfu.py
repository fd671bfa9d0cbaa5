"""Zhejiang Normal University's oracle bone font (Chen Nianfu): many variants per character."""

from .font import FontSource

ZJNU = FontSource(
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
)
