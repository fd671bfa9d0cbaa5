"""The glyph tables of the ZJNU and ZihuiSong fonts, from Chen Nianfu's workbook 陈年福甲骨文.xlsx.

Upstream (Kushim-Jiang/oracle-bone, `data/`) ships no glyphs.csv, only this workbook, so the
tables are derived from it. Sheet 1 lists the ZJNU font's glyphs: 原文 (the glyph, at its code
point in the font), 隸釋 (its transcription), 出處 (the inscription it was copied from), 類纂字號
(the number of its entry in the 類纂 dictionary, on the entry's first row only), 流水字號 (a
serial number) and 同形 (the serial of the row whose graph this row's word is written with: 妣
-> 00008 = 匕). Sheet 4 gives the ZihuiSong font's code points their 類纂 numbers (Num1-Num5).

`extended=False` reproduces the glyphs.csv that the local copies ship, which leave out a graph
that writes several words (one graph, several words: 匕 for 匕 and 妣); `extended=True`, what
the build uses, files such a glyph under its graph. The other words are readings (`readings`).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from .base import SourceUnavailable
from .font import GlyphRow
from .simplify import is_han, simplify
from .xlsx import read_sheets

GLYPH_COLUMNS = ("原文", "隸釋", "出處", "類纂字號", "流水字號", "同形")  # sheet 1, as read
NUMBER_COLUMNS = ("Hex", "Num1", "Num2", "Num3", "Num4", "Num5")  # sheet 4, as read
_ESCAPE = re.compile(r"_x[0-9A-Fa-f]{4}_|\s")  # a header's escaped line break (部首_x000D_)
Sheets = dict[str, list[list[str]]]  # read_sheets: sheet name -> its rows of cells
_NUMBER = re.compile(r"0*(\d+)(\(\d+\))?[·:]?")  # 0014:, 0961·, 1866(1): a sub-entry of 1866


@dataclass(frozen=True)
class Entry:
    """One row of sheet 1: a ZJNU glyph and one word it writes."""

    row: int  # in the sheet, the header being row 1
    glyph: str
    transcription: str
    source_ref: str
    leizuan: str  # the 類纂 number, "" after the first row of its entry
    serial: str
    same_form: str  # the serial of the row whose graph writes this row's word


def character(transcription: str) -> str:
    """The one character a transcription names, else "". Chen numbers homographs (示1, 示3) and
    those digits are dropped; compounds (上甲), description sequences (⿱艹𠕶) and private-use
    glyphs (characters Unicode lacks) name none, so their glyphs get no label."""
    text = transcription.strip().rstrip("0123456789")
    return text if is_han(text) else ""


def zjnu_glyphs(workbook: Path, extended: bool = True) -> list[GlyphRow]:
    """Sheet 1's glyphs, once each, in workbook order, with the inscription of the row filed.

    A glyph whose rows name one character is filed under it; rows that name none are passed over
    (置's glyph is also listed as its unencoded short form). A glyph whose rows name several
    (匕, 妣) is left out of glyphs.csv; `extended` files it under its graph, the row the others'
    同形 name (else its first row), unless the graph is itself unencoded. The one code point the
    font leaves blank (U+6CE5) is listed: the build skips its empty render.
    """
    by_glyph: dict[str, list[Entry]] = {}
    for entry in _entries(read_sheets(workbook), workbook):
        by_glyph.setdefault(entry.glyph, []).append(entry)
    chosen = []
    for rows in by_glyph.values():
        named = [e for e in rows if character(e.transcription)]
        if len({character(e.transcription) for e in named}) == 1:
            chosen.append(named[0])
        elif named and extended and character((graph := _graph(rows)).transcription):
            chosen.append(graph)
    chosen.sort(key=lambda e: e.row)  # glyphs.csv's order: by the row filed, not the first
    return [_glyph_row(e.glyph, e.transcription, e.source_ref) for e in chosen]


def zihuisong_glyphs(workbook: Path, extended: bool = True) -> list[GlyphRow]:
    """Sheet 4's code points that their 類纂 numbers file under one character, in sheet order;
    `source_ref` is `leizuan:` and the numbers. A number names the transcriptions of the sheet 1
    rows that begin its entry (several groups can: 0035 begins 𡵂, 𢼸 and 徵).

    As glyphs.csv was made (`extended=False`): a code point's first sheet-4 row only; a sub-entry
    (1866(1)) names nothing; kept where its numbers name one transcription, one character
    (示1 and 示3 are two; an unencoded one counts). `extended`: every row of a code point, a
    sub-entry is its entry's, and a number names its graph, the transcription of its first row
    in workbook order (a group's later rows, 妣 under 匕, never come first); kept where the
    numbers that name anything name one character. Where a number begins groups of different
    characters, the first is a guess the glyph's shape belies for about 1 in 10 (351: 厄, 果,
    御; U+F0236 draws 御). Num1d, a fill-down of Num1 (a row moved to the end of the sheet
    carries its new neighbour's number), is not read.
    """
    sheets = read_sheets(workbook)
    starts: dict[str, list[str]] = {}
    for entry in _entries(sheets, workbook):
        if entry.leizuan:
            starts.setdefault(_entry_number(entry.leizuan)[1], []).append(entry.transcription)
    out = []
    for code, numbers in _numbers(sheets, workbook, every_row=extended).items():
        cited = [_entry_number(n) for n in numbers]
        if extended:
            named = {character(starts[n][0]) for _, n in cited if n in starts}
        else:
            named = {t.strip() for c, _ in cited for t in starts.get(c, [])}
        if len(named) == 1 and (char := character(named.pop())):
            out.append(_glyph_row(chr(code), char, "leizuan:" + "/".join(c for c, _ in cited)))
    return out


def _entries(sheets: Sheets, workbook: Path) -> list[Entry]:
    """Sheet 1's rows that hold a glyph."""
    entries = []
    for n, cells in _table(sheets, workbook, GLYPH_COLUMNS):
        if cells[0]:
            _check(len(cells[0]) == 1, workbook, n, f"glyph {cells[0]!r} is not one character")
            entries.append(Entry(n, *cells))
    return entries


def _numbers(sheets: Sheets, workbook: Path, every_row: bool) -> dict[int, list[str]]:
    """Sheet 4: code point -> its 類纂 numbers as written, in sheet order. A code point listed
    on several rows (6 are) gets its first row's numbers and, with `every_row`, those the others
    add."""
    out: dict[int, list[str]] = {}
    for n, (code, *cells) in _table(sheets, workbook, NUMBER_COLUMNS):
        _check(bool(re.fullmatch(r"[0-9A-Fa-f]{4,6}", code)), workbook, n, f"Hex {code!r}")
        numbers = [c.strip() for c in cells if c.strip()]
        if int(code, 16) not in out:
            out[int(code, 16)] = numbers
        elif every_row:
            out[int(code, 16)] += [x for x in numbers if x not in out[int(code, 16)]]
    return {code: numbers for code, numbers in out.items() if numbers}


def _graph(rows: list[Entry]) -> Entry:
    """Of one glyph's rows, the graph's: the row the others' 同形 name (妣 -> 00008 = 匕),
    else the first. In this workbook 同形 decides every such glyph, and always names the first
    row, whose note agrees where it has one (又: 右之初文, 仯: 讀選)."""
    by_serial = {e.serial: e for e in rows}
    named = Counter(e.same_form for e in rows if e.same_form in by_serial)
    return by_serial[named.most_common(1)[0][0]] if named else rows[0]


def _entry_number(text: str) -> tuple[str, str]:
    """A 類纂 number as written -> (as cited, its entry): `0961·` -> (961, 961), `1866(1)` ->
    (1866(1), 1866); one that is no 類纂 number (N103, a later addition) stays as it is."""
    m = _NUMBER.fullmatch(text.strip())
    return (m[1] + (m[2] or ""), m[1]) if m else (text.strip(), text.strip())


def _glyph_row(glyph: str, transcription: str, source_ref: str) -> GlyphRow:
    char = character(transcription)
    return {
        "codepoint": f"U+{ord(glyph):04X}",
        "char": char,
        "char_simplified": simplify(char),
        "source_ref": source_ref,
    }


def _table(sheets: Sheets, workbook: Path, columns: tuple[str, ...]) -> list[tuple[int, list[str]]]:
    """(row number, its cells in `columns`) for every row below the header of the first sheet
    that has all of them; the workbook's sheet names (Sheet1, Sheet4) are not its order."""
    for rows in sheets.values():
        header = [_ESCAPE.sub("", h) for h in rows[0]] if rows else []
        if set(columns) <= set(header):
            at = [header.index(c) for c in columns]
            return [
                (n, [cells[i] if i < len(cells) else "" for i in at])
                for n, cells in enumerate(rows[1:], start=2)
                if any(cells)
            ]
    raise SourceUnavailable(f"{workbook}: no sheet has the columns {columns}")


def _check(ok: bool, workbook: Path, row: int, problem: str) -> None:
    if not ok:
        raise SourceUnavailable(f"{workbook}: row {row}: {problem}")
