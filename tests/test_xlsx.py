"""The standard-library .xlsx reader, on the real Founder workbook and on a workbook written here
that uses what the real one does not: several sheets out of file order, inline and rich text,
sparse cells and rows."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from conftest import DATA

from oracle_bones.data.sources.xlsx import read_sheets

WORKBOOK = DATA / "fzjgw" / "方正甲骨文.xlsx"
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"


@pytest.mark.skipif(not WORKBOOK.exists(), reason=f"no {WORKBOOK}")
def test_reads_the_founder_workbook() -> None:
    sheets = read_sheets(WORKBOOK)
    assert list(sheets) == ["Sheet1"]
    rows = sheets["Sheet1"]
    assert len(rows) == 1_431 and rows[0] == ["glyph", "liding", "note"]
    assert rows[1] == ["㐁", "㐁"]  # no note: the row ends at its last cell
    by_glyph = {r[0]: r for r in rows[1:]}
    assert by_glyph["\ue000"] == ["\ue000", "", "子，用作地支第一位"]  # empty B keeps C in place
    assert by_glyph["宁"][2] == "非寧的简化字，貯、佇等字所从"
    assert len(by_glyph) == 1_430


def write_workbook(path: Path) -> Path:
    """Two sheets listed as Glyphs then Numbers, stored as sheet2.xml then sheet1.xml."""
    sheet = f'<worksheet xmlns="{MAIN}"><sheetData>{{}}</sheetData></worksheet>'
    glyphs = (
        '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="C1" t="s"><v>1</v></c></row>'
        '<row r="3"><c r="B3" t="inlineStr"><is><t>人</t></is></c>'
        '<c r="D3" t="inlineStr"><is><r><t>甲</t></r><r><t>骨</t></r></is></c></row>'
        '<row><c><v>7</v></c><c t="b"><v>1</v></c></row>'  # no r attributes: in order
    )
    numbers = '<row r="2"><c r="AA2"><v>2.5</v></c><c r="AB2" t="str"><v>x</v></c></row>'
    strings = (
        f'<sst xmlns="{MAIN}"><si><t>glyph</t></si>'
        "<si><r><t>no</t></r><r><t>te</t></r><rPh><t>ノート</t></rPh></si></sst>"
    )
    book = (
        f'<workbook xmlns="{MAIN}" xmlns:r="{REL}"><sheets>'
        '<sheet name="Glyphs" sheetId="2" r:id="rId7"/>'
        '<sheet name="Numbers" sheetId="1" r:id="rId3"/></sheets></workbook>'
    )
    rels = (
        f'<Relationships xmlns="{PKG}">'
        f'<Relationship Id="rId3" Type="{REL}/worksheet" Target="worksheets/sheet1.xml"/>'
        f'<Relationship Id="rId7" Type="{REL}/worksheet" Target="/xl/worksheets/sheet2.xml"/>'
        f'<Relationship Id="rId9" Type="{REL}/sharedStrings" Target="sharedStrings.xml"/>'
        "</Relationships>"
    )
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("xl/workbook.xml", book)
        z.writestr("xl/_rels/workbook.xml.rels", rels)
        z.writestr("xl/sharedStrings.xml", strings)
        z.writestr("xl/worksheets/sheet2.xml", sheet.format(glyphs))
        z.writestr("xl/worksheets/sheet1.xml", sheet.format(numbers))
    return path


def test_sheet_order_cell_kinds_and_gaps(tmp_path: Path) -> None:
    sheets = read_sheets(write_workbook(tmp_path / "book.xlsx"))
    assert list(sheets) == ["Glyphs", "Numbers"]  # the workbook's order, not the parts' names
    assert sheets["Glyphs"] == [
        ["glyph", "", "note"],  # rich text joined, the phonetic hint left out
        [],  # row 2 is not written
        ["", "人", "", "甲骨"],
        ["7", "1"],
    ]
    assert sheets["Numbers"] == [[], [""] * 26 + ["2.5", "x"]]


@pytest.mark.parametrize(
    "content", [b"not a zip", b"PK\x05\x06" + bytes(18)], ids=["text", "empty zip"]
)
def test_a_broken_workbook_is_named_in_a_clear_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "broken.xlsx"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=r"broken\.xlsx: not a readable \.xlsx workbook"):
        read_sheets(path)
