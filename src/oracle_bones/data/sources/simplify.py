"""Traditional -> simplified Chinese as the tables in the shared data were made: OpenCC's t2s.

Labels live in simplified form (the seed's label space). The tables beside the local copies
(fzjgw's glyphs.csv, ayjgw's labels.csv, shuowen's order.tsv) were simplified with OpenCC's
t2s, so a label derived from an upstream download must be simplified the same way for the
download to yield the records the local copy does. CC-CEDICT's mapping (`dictionary.simplified`,
for reading what a person types) is not that: it folds variants too (㝛 -> 宿, 叡 -> 睿), lacks
newer forms (澅 -> 𣶩) and lists 參 -> 叁 first; on the Founder workbook it differs in 36 rows.
"""

from __future__ import annotations

from functools import cache

import opencc


def is_han(text: str) -> bool:
    """One Han character of the unified blocks (a label): not a private-use glyph, not a mark."""
    return len(text) == 1 and ("\u3400" <= text <= "\u9fff" or "\U00020000" <= text <= "\U0003134f")


def simplify(text: str) -> str:
    """`text` in simplified characters (`車` -> `车`); the others left as they are."""
    return _t2s().convert(text)


@cache
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")
