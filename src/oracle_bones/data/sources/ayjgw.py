"""The Anyang oracle bone font (安阳甲骨文) rendered in full: thin pen strokes, its own labels.

Earlier builds took 725 ready renders of this font (ApolloYH/JGW_LORA, 687 usable). The whole
font renders them and about 2.4 times as many more; each glyph is rendered once, at its own code
point, so nothing is in twice.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from PIL import ImageFont

from .anyang import graph_of, workbook_labels
from .base import Record, Source, SourceUnavailable, local_or_download
from .font import ARCHIVE_URL, has_glyph, render_glyph

FONT = "AYJGW.woff"
UPSTREAM_FONT = "python/src/assets/jgw.woff"  # in Laplace825/yolov8-oracle-detect
YOLO_ARCHIVE = "https://github.com/Laplace825/yolov8-oracle-detect/archive/027fb1f.zip"


@dataclass(frozen=True)
class AnyangFont(Source):
    archive_url: str = YOLO_ARCHIVE  # the font's
    labels_url: str = ARCHIVE_URL  # the Anyang workbook's
    render_px: int = 128

    def records(self, data_dir: Path) -> Iterator[Record]:
        path = self.font_path(data_dir)
        try:
            font = ImageFont.truetype(str(path), self.render_px)
        except OSError as e:
            raise SourceUnavailable(f"{self.name}: FreeType cannot load {path} ({e})") from e
        for code, label in sorted(workbook_labels(data_dir, self.labels_url).items()):
            char, graph = chr(code), graph_of(label)
            if graph and has_glyph(font, char):
                png = render_glyph(font, char, self.render_px)
                yield Record(png, graph, self.name, f"U+{code:X} {label}")

    def font_path(self, data_dir: Path) -> Path:
        """The local copy's font, else the one in upstream's archive."""
        local = data_dir / self.name / FONT
        if local.exists():
            return local
        root = local_or_download(
            data_dir / self.name,
            UPSTREAM_FONT,
            "yolov8-oracle-detect",
            self.archive_url,
            UPSTREAM_FONT.__eq__,
            local=f"{self.name}/{FONT}",
        )
        return root / UPSTREAM_FONT


AYJGW = AnyangFont(
    name="ayjgw",
    title="Anyang oracle bone font (安阳甲骨文, AYJGW), rendered in full",
    licence="No licence stated: the font says 'Copyright (c) AYSY.JKX, 2003. All rights "
    "reserved.' (Anyang Normal University); its table (Kushim-Jiang/oracle-bone) states none",
    licence_id="unknown",
    upstream="https://github.com/Laplace825/yolov8-oracle-detect (commit 027fb1f, "
    "python/src/assets/jgw.woff); labels: https://github.com/Kushim-Jiang/oracle-bone "
    "(data/安阳甲骨文.xlsx)",
    provenance="The whole Anyang font (WOFF, 7,280 code points), every glyph its own table "
    "labels rendered with Pillow at its code point: a character (`人`, `賓2`), or a graph and "
    "what it wrote (`匕（妣）`, `月/夕`: the first); compounds (合文) and unlabelled glyphs "
    "are left out, as are code points the font does not draw. It replaces the 725 renders of "
    "the same font (ApolloYH/JGW_LORA) that earlier builds used.",
)
