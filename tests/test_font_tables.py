"""The ZJNU and ZihuiSong tables derived from Chen Nianfu's workbook in ../shared/data: the
reproduction of the shipped glyphs.csv, the extended tables the build uses, and which table
FontSource.files reads."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from conftest import DATA
from PIL import ImageFont

from oracle_bones.data.sources import SOURCES, SourceUnavailable, base
from oracle_bones.data.sources.chen_nianfu import zihuisong_glyphs, zjnu_glyphs
from oracle_bones.data.sources.font import GlyphRow, has_glyph, read_table
from oracle_bones.data.sources.simplify import is_han, simplify

WORKBOOK = DATA / "kushim-jiang" / "data" / "陈年福甲骨文.xlsx"
ZJNU, ZIHUISONG = "zjnu-chennianfu", "zihuisong"
# glyphs.csv keeps these as they are, as shuowen's order.tsv does: an older OpenCC t2s than the
# one `simplify` runs, which maps them to 并 捍 拼 狸
KEPT_UNSIMPLIFIED = set("幷扞拚貍")
BLANK = "U+6CE5"  # sheet 1 row 5375 (虎, H29716): the ZJNU font draws nothing there

pytestmark = pytest.mark.skipif(not WORKBOOK.exists(), reason=f"no {WORKBOOK}")


@pytest.fixture(scope="module")
def tables() -> dict[tuple[str, bool], list[GlyphRow]]:
    """(source, extended) -> the derived rows, each derived once."""
    derive = {ZJNU: zjnu_glyphs, ZIHUISONG: zihuisong_glyphs}
    return {(s, x): derive[s](WORKBOOK, extended=x) for s in derive for x in (False, True)}


def shipped(source: str) -> list[GlyphRow]:
    return read_table(DATA / source / "glyphs.csv")


def by_code(rows: list[GlyphRow]) -> dict[str, GlyphRow]:
    return {r["codepoint"]: r for r in rows}


def font_of(source: str) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(DATA / source / SOURCES[source].font_file), 64)


@pytest.mark.parametrize(
    ("source", "extra", "differ"),
    [(ZJNU, [BLANK], 12), (ZIHUISONG, [], 3)],
)
def test_the_reproduction_is_glyphs_csv_but_for_the_stated_differences(
    tables, source: str, extra: list[str], differ: int
) -> None:
    """Row for row and in order; the only differences: a code point the font leaves blank (the
    maker of glyphs.csv dropped it) and characters glyphs.csv simplified with an older OpenCC."""
    derived, csv_rows = tables[source, False], shipped(source)
    assert [r["codepoint"] for r in derived if r["codepoint"] not in extra] == [
        r["codepoint"] for r in csv_rows
    ]
    assert [r["codepoint"] for r in derived if r["codepoint"] not in by_code(csv_rows)] == extra
    mine = by_code(derived)
    changed = [r for r in csv_rows if r != mine[r["codepoint"]]]
    assert len(changed) == differ
    for r in changed:
        assert r["char"] in KEPT_UNSIMPLIFIED and r["char_simplified"] == r["char"]
        assert mine[r["codepoint"]] == {**r, "char_simplified": simplify(r["char"])}
    if extra:
        assert not has_glyph(font_of(source), chr(int(BLANK[2:], 16)))


@pytest.mark.parametrize(("source", "added"), [(ZJNU, 88), (ZIHUISONG, 100)])
def test_the_extended_table_adds_rows_and_keeps_every_reproduced_one(
    tables, source: str, added: int
) -> None:
    """Only the source_ref of a code point sheet 4 lists on three rows gains their numbers."""
    base_rows, extended = by_code(tables[source, False]), by_code(tables[source, True])
    assert len(extended) == len(base_rows) + added
    changed = [c for c, r in base_rows.items() if extended[c] != r]
    assert changed == (["U+F157B"] if source == ZIHUISONG else [])


@pytest.mark.parametrize("source", [ZJNU, ZIHUISONG])
@pytest.mark.parametrize("extended", [False, True])
def test_derived_rows_are_one_character_each_at_a_code_point_of_their_own(
    tables, source: str, extended: bool
) -> None:
    rows = tables[source, extended]
    assert len({r["codepoint"] for r in rows}) == len(rows)
    assert all(is_han(r["char"]) and r["char_simplified"] == simplify(r["char"]) for r in rows)
    assert all(set(r) == {"codepoint", "char", "char_simplified", "source_ref"} for r in rows)


def test_a_zjnu_graph_that_writes_several_words_is_filed_under_the_graph(tables) -> None:
    """妣's form (U+E001, sheet 1: 匕 00008, and 妣 with 同形 00008) sits under 匕, once; 史 for
    史, 使 and 事 under 史; a graph that is itself unencoded (U+F1FD, 將之初文, for 筑 and 築)
    stays out, as do graphs glyphs.csv already lacks."""
    old, new = by_code(tables[ZJNU, False]), by_code(tables[ZJNU, True])
    assert "U+E001" not in old and new["U+E001"] == {
        "codepoint": "U+E001",
        "char": "匕",
        "char_simplified": "匕",
        "source_ref": "H00110",
    }
    assert new["U+F124"]["char"] == "史" and new["U+E492"]["char"] == "又"  # 又 for 右, 有, 侑
    assert "U+F1FD" not in new
    assert "妣" not in {r["char"] for r in tables[ZJNU, True]}  # a word of 匕's graph only


def test_zihuisong_code_points_land_on_the_character_of_their_leizuan_number(tables) -> None:
    """Sheet 4 -> 類纂 number -> the transcription of the row that begins its entry in sheet 1."""
    old, new = by_code(tables[ZIHUISONG, False]), by_code(tables[ZIHUISONG, True])
    assert old["U+F0001"]["char"] == new["U+F0001"]["char"] == "匕"  # 類纂 2
    assert new["U+F0121"]["char"] == "保" and "U+F0121" not in old  # 168: 保, then 朷
    assert new["U+F1404"]["source_ref"] == "leizuan:3204/3203"  # both numbers name 紷
    assert new["U+F0816"]["char"] == "烕"  # 1255(2), a sub-entry of 1255
    assert new["U+F157B"]["source_ref"] == "leizuan:3466/3680/3683"  # listed on three rows
    assert "U+F01B5" not in new  # 270 names 屰, 2328 逆: left out
    assert "U+F0005" not in new  # no 類纂 number (Num1d only fills Num1 down)


@pytest.mark.parametrize("source", [ZJNU, ZIHUISONG])
def test_the_font_draws_every_added_code_point(tables, source: str) -> None:
    old = by_code(tables[source, False])
    added = [r["codepoint"] for r in tables[source, True] if r["codepoint"] not in old]
    font = font_of(source)
    assert added and all(has_glyph(font, chr(int(code[2:], 16))) for code in added)


# --- which table FontSource.files reads -------------------------------------------------------


def local_copy(root: Path, source: str, rows: int = 20) -> Path:
    """`root/source/`: the real font (linked) and the first `rows` rows of the real glyphs.csv."""
    folder = root / source
    folder.mkdir(parents=True)
    (folder / SOURCES[source].font_file).symlink_to(DATA / source / SOURCES[source].font_file)
    lines = (DATA / source / "glyphs.csv").read_text(encoding="utf-8").splitlines(True)
    (folder / "glyphs.csv").write_text("".join(lines[: rows + 1]), encoding="utf-8")
    return root


def with_workbook(root: Path, content: Path | bytes = WORKBOOK) -> Path:
    target = root / "kushim-jiang" / "data" / WORKBOOK.name
    target.parent.mkdir(parents=True)
    if isinstance(content, Path):
        target.symlink_to(content)
    else:
        target.write_bytes(content)
    return root


@pytest.mark.parametrize("source", [ZJNU, ZIHUISONG])
def test_files_derives_the_table_where_the_workbook_is_and_reads_glyphs_csv_where_not(
    tables, tmp_path, source: str
) -> None:
    csv_only = local_copy(tmp_path / "a", source)
    font, rows = SOURCES[source].files(csv_only)
    assert font == csv_only / source / SOURCES[source].font_file
    assert rows == shipped(source)[:20]
    both = with_workbook(local_copy(tmp_path / "b", source))
    font, rows = SOURCES[source].files(both)
    assert font == both / source / SOURCES[source].font_file
    assert rows == tables[source, True]


def test_files_derives_from_the_archive_when_the_font_has_to_be_downloaded(
    tables, monkeypatch, tmp_path
) -> None:
    """No local font: the archive brings font and workbook, and the table is derived from it."""
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.write(DATA / ZJNU / SOURCES[ZJNU].font_file, f"main/font/{SOURCES[ZJNU].font_file}")
        z.write(WORKBOOK, f"main/data/{WORKBOOK.name}")
        z.writestr("main/data/方正甲骨文.xlsx", b"another table")
    monkeypatch.setattr(base, "CACHE_DIR", tmp_path / "cache")
    monkeypatch.setattr(base, "upstream_archive", lambda url: archive.getvalue())
    data = local_copy(tmp_path / "data", ZJNU)
    (data / ZJNU / SOURCES[ZJNU].font_file).unlink()
    font, rows = SOURCES[ZJNU].files(data)
    cached = tmp_path / "cache" / "sources" / ZJNU
    assert font == cached / "font" / SOURCES[ZJNU].font_file and rows == tables[ZJNU, True]
    kept = sorted(str(p.relative_to(cached)) for p in cached.rglob("*") if p.is_file())
    assert kept == [f"data/{WORKBOOK.name}", f"font/{SOURCES[ZJNU].font_file}"]


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b"<html>rate limited</html>", r"zihuisong: .*陈年福甲骨文\.xlsx: not a readable \.xlsx"),
        (DATA / "fzjgw" / "方正甲骨文.xlsx", r"陈年福甲骨文\.xlsx: no sheet has the columns"),
    ],
)
def test_a_broken_local_workbook_is_named(tmp_path, content: Path | bytes, says: str) -> None:
    data = with_workbook(local_copy(tmp_path, ZIHUISONG), content)
    with pytest.raises(SourceUnavailable, match=says):
        SOURCES[ZIHUISONG].files(data)


def test_the_founder_table_from_the_upstream_copy_is_its_glyphs_csv() -> None:
    """fzjgw's workbook sits in kushim-jiang/data/ too, so the build derives its table from
    there: row for row the shipped glyphs.csv."""
    font, rows = SOURCES["fzjgw"].files(DATA)
    assert font == DATA / "fzjgw" / "FZJGW-Regular.ttf"
    assert rows == shipped("fzjgw") and len(rows) == 1_417


def test_a_source_without_its_workbook_still_reads_a_local_glyphs_csv(tmp_path) -> None:
    """A workbook elsewhere in kushim-jiang/data/ is not this source's."""
    data = local_copy(tmp_path, "fzjgw", rows=5)
    with_workbook(data)  # 陈年福甲骨文.xlsx: the ZJNU and ZihuiSong table, not Founder's
    assert SOURCES["fzjgw"].files(data)[1] == shipped("fzjgw")[:5]
