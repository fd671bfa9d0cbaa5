"""The cell text of an .xlsx workbook, read with the standard library alone.

Upstream tables (the font workbooks of Kushim-Jiang/oracle-bone) ship as .xlsx; a dependency
such as openpyxl for reading a few columns of text is not worth its weight. An .xlsx file is a
zip of XML parts: `xl/workbook.xml` lists the sheets in order, its relationships name each
sheet's part, and most text sits once in `xl/sharedStrings.xml`, cells holding its index.
Tags are matched by local name, so the Strict namespace variant reads the same.
"""

from __future__ import annotations

import posixpath
import re
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

_CELL_REF = re.compile(r"^([A-Z]+)([0-9]+)$")


def read_sheets(path: Path) -> dict[str, list[list[str]]]:
    """Sheet name -> its rows, in the workbook's order; row i is spreadsheet row i + 1.

    Each row is a list of cell strings with column j at index j (A = 0): an empty cell in the
    middle is "", so columns stay aligned; trailing empty cells and empty rows are not padded
    beyond the last cell written. Numbers, booleans and errors come back as their stored text
    (a date is its serial number); formulas as their cached value. A file that is not a
    readable workbook raises ValueError naming it.
    """
    try:
        return _read(path)
    except (zipfile.BadZipFile, KeyError, ET.ParseError, ValueError, IndexError) as e:
        raise ValueError(f"{path}: not a readable .xlsx workbook ({e!r})") from e


def _read(path: Path) -> dict[str, list[list[str]]]:
    with zipfile.ZipFile(path) as z:
        rels = _relationships(z, "xl/_rels/workbook.xml.rels")
        shared = [
            _text(si)
            for target in rels.values()
            if target.endswith("sharedStrings.xml")
            for si in _children(_parse(z, target), "si")
        ]
        book = _parse(z, "xl/workbook.xml")
        return {
            sheet.get("name", ""): _rows(_parse(z, rels[_rel_id(sheet)]), shared)
            for sheets in _children(book, "sheets")
            for sheet in _children(sheets, "sheet")
        }


def _rows(sheet: ET.Element, shared: list[str]) -> list[list[str]]:
    rows: list[list[str]] = []
    for data in _children(sheet, "sheetData"):
        for row in _children(data, "row"):
            number = int(row.get("r") or len(rows) + 1)
            rows += [[] for _ in range(number - len(rows))]
            cells = rows[number - 1]
            for c in _children(row, "c"):
                m = _CELL_REF.match(c.get("r", ""))
                column = _column(m[1]) if m else len(cells)
                cells += [""] * (column + 1 - len(cells))
                cells[column] = _value(c, shared)
    return rows


def _value(cell: ET.Element, shared: list[str]) -> str:
    kind = cell.get("t", "n")
    if kind == "inlineStr":
        return "".join(_text(i) for i in _children(cell, "is"))
    v = next((e.text or "" for e in _children(cell, "v")), "")
    return shared[int(v)] if kind == "s" and v else v


def _text(item: ET.Element) -> str:
    """A string item's text: its plain `t`, or its rich-text runs' `t`; phonetic hints skipped."""
    plain = [t.text or "" for t in _children(item, "t")]
    runs = [t.text or "" for r in _children(item, "r") for t in _children(r, "t")]
    return "".join(plain + runs)


def _column(letters: str) -> int:
    """`A` -> 0, `Z` -> 25, `AA` -> 26."""
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - ord("A") + 1
    return n - 1


def _relationships(z: zipfile.ZipFile, rels_part: str) -> dict[str, str]:
    """Relationship id -> the zip member it points at (targets are relative to `xl/`)."""
    base = posixpath.dirname(posixpath.dirname(rels_part))
    out = {}
    for rel in _children(_parse(z, rels_part), "Relationship"):
        target = rel.get("Target", "")
        if rel.get("TargetMode") != "External":
            member = target[1:] if target.startswith("/") else posixpath.join(base, target)
            out[rel.get("Id", "")] = posixpath.normpath(member)
    return out


def _rel_id(sheet: ET.Element) -> str:
    """The sheet's `r:id`, whichever namespace the relationships prefix stands for."""
    return next((v for k, v in sheet.attrib.items() if k.endswith("}id")), "")


def _children(parent: ET.Element, local: str) -> list[ET.Element]:
    return [e for e in parent if e.tag.rsplit("}", 1)[-1] == local]


def _parse(z: zipfile.ZipFile, member: str) -> ET.Element:
    return ET.fromstring(z.read(member))
