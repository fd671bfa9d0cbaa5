"""The Anyang font's own table (`安阳甲骨文.xlsx`): code point U+6xxxx -> label.

Two sources name their glyphs by Anyang code points: the font itself (`ayjgw`) and the HWOBC pen
drawings (`hwobc`, whose file names are the code points of the characters they write). Both read
their labels here, from the workbook in upstream's `data/` folder (Kushim-Jiang/oracle-bone):
its local copy beside the other sources, else the repository's archive.
"""

from __future__ import annotations

import re
from pathlib import Path

from .base import SourceUnavailable, local_or_download
from .font import ARCHIVE_URL, UPSTREAM_COPY
from .simplify import is_han, simplify
from .xlsx import read_sheets

WORKBOOK = "data/安阳甲骨文.xlsx"
_VARIANT = re.compile(r"[0-9]+$")  # `賓2`: the workbook numbers a character's variant forms
_GLOSSED = re.compile(r"^(\w)（\w+）$")  # `匕（妣）`: graph 匕, written for 妣


def graph_of(label: str) -> str:
    """The graph a label files its glyph under, simplified; "" for anything else.

    `人` and `賓2` name the character; `匕（妣）` (the graph and the word it wrote) and
    `月/夕` (the graph, then its other readings) name the first, as the readings table does
    (`data.readings`). Compounds (合文 `祖丙`), `None` and empty labels name nothing.
    """
    label = _VARIANT.sub("", label.strip())
    m = _GLOSSED.match(label)
    first = m[1] if m else label.split("/", 1)[0]
    return simplify(first) if is_han(first) else ""


def workbook_labels(data_dir: Path, archive_url: str = ARCHIVE_URL) -> dict[int, str]:
    """Code point -> the workbook's label (its first row for a code listed twice), read from
    `data_dir/kushim-jiang/` or, without a local copy, upstream's archive at `archive_url`."""
    root = local_or_download(
        data_dir / UPSTREAM_COPY,
        WORKBOOK,
        UPSTREAM_COPY,
        archive_url,
        WORKBOOK.__eq__,
        local=f"{UPSTREAM_COPY}/{WORKBOOK}",
    )
    try:
        rows = next(iter(read_sheets(root / WORKBOOK).values()), [])
    except ValueError as e:  # not a readable workbook
        raise SourceUnavailable(f"Anyang labels: {e}") from e
    labels: dict[int, str] = {}
    for cells in rows[1:]:
        if len(cells) > 1 and len(cells[0]) == 1:
            labels.setdefault(ord(cells[0]), cells[1].strip())
    return labels
