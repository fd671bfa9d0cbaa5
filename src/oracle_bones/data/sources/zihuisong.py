"""The ZihuiSong JGW oracle bone font: a drawing tradition independent of the other sources."""

from .chen_nianfu import zihuisong_glyphs
from .font import FontSource

ZIHUISONG = FontSource(
    name="zihuisong",
    title="ZihuiSong JGW oracle bone font",
    licence="No licence given; the font carries a placeholder copyright",
    licence_id="unknown",
    upstream="https://github.com/Kushim-Jiang/oracle-bone (font/ZihuiSongJGW-Regular.ttf; the "
    "table derived from data/陈年福甲骨文.xlsx)",
    provenance="TrueType font of oracle bone glyphs (hinting removed so FreeType accepts "
    "it). Its table is derived from upstream's workbook 陈年福甲骨文.xlsx: sheet 4 gives its "
    "code points numbers of the 類纂 dictionary, sheet 1 each number's transcriptions, and a "
    "glyph is filed under its entry's graph (the first transcription): 1,984 of its 5,763 code "
    "points, 1,611 characters. Code points without a number, whose numbers name different "
    "characters, or only compounds and unencoded ones, are left out. Without the workbook the "
    "local glyphs.csv is read (1,884 code points: numbers naming one transcription only). "
    "Every listed glyph is rendered with Pillow.",
    font_file="ZihuiSongJGW-Regular.ttf",
    workbook="data/陈年福甲骨文.xlsx",
    derive=zihuisong_glyphs,
)
