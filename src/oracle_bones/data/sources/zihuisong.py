"""The ZihuiSong JGW oracle bone font: a drawing tradition independent of the other sources."""

from .font import FontSource

ZIHUISONG = FontSource(
    name="zihuisong",
    title="ZihuiSong JGW oracle bone font",
    licence="No licence given; the font carries a placeholder copyright",
    licence_id="unknown",
    upstream="https://github.com/Kushim-Jiang/oracle-bone (font/ZihuiSongJGW-Regular.ttf; "
    "glyphs.csv from data/陈年福甲骨文.xlsx)",
    provenance="TrueType font of oracle bone glyphs (hinting removed so FreeType accepts "
    "it); glyphs.csv maps 1,884 code points to modern characters. Every listed glyph is "
    "rendered with Pillow.",
    font_file="ZihuiSongJGW-Regular.ttf",
)
