"""The sources on the real data in ../shared/data, their downloads over real HTTP, and the IsOBS
label table: the alignment that recovers it and the committed table's evidence."""

from __future__ import annotations

import csv
import dataclasses
import http.server
import io
import itertools
import json
import shutil
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from conftest import DATA
from hub_server import free_port
from PIL import ImageFont
from tiny_sources import needs_data

from oracle_bones.data.sources import DEFAULT_SOURCES, SOURCES, SourceUnavailable, base
from oracle_bones.data.sources.anyang import WORKBOOK as ANYANG_WORKBOOK
from oracle_bones.data.sources.anyang import graph_of
from oracle_bones.data.sources.ayjgw import UPSTREAM_FONT
from oracle_bones.data.sources.font import COLUMNS as GLYPH_COLUMNS
from oracle_bones.data.sources.font import NOTDEF, has_glyph, render_glyph
from oracle_bones.data.sources.fzjgw import founder_glyphs
from oracle_bones.data.sources.hwobc import DETAIL, IMAGES, LICENCE
from oracle_bones.data.sources.isobs import LABELS
from oracle_bones.glyphs.glyph import to_tensor
from oracle_bones.training.isobs_labels import COLUMNS, MAX_RANK, align, headwords

FOUNDER_WORKBOOK = DATA / "fzjgw" / "方正甲骨文.xlsx"


def is_cjk(char: str) -> bool:
    return len(char) == 1 and (0x3400 <= ord(char) <= 0x9FFF or 0x20000 <= ord(char) <= 0x3FFFF)


# --- the sources as they are read here ------------------------------------------------------


def test_every_source_states_licence_provenance_and_upstream() -> None:
    assert set(SOURCES) == {*DEFAULT_SOURCES, "fzjgw", "feedback"}
    for s in SOURCES.values():
        assert s.licence and s.licence_id and s.provenance and s.upstream.startswith("https://")
    assert not SOURCES["fzjgw"].publishable and "fzjgw" not in DEFAULT_SOURCES
    assert all(SOURCES[s].publishable for s in DEFAULT_SOURCES)


@needs_data
def test_isobs_drawings_are_every_file_once() -> None:
    drawings = list(SOURCES["isobs"].drawings(DATA))
    files = list((DATA / "isobs" / "data_oct").glob("*_1600/*/*.jpg"))
    assert len(files) == 20_419 and len(drawings) == 20_419 - 14  # byte-identical copies dropped
    assert len({d.klass for d in drawings}) == 1_621
    assert all(d.ref.split("_")[0] == str(d.klass) for d in drawings)
    assert len({d.ref for d in drawings}) == len(drawings)


@needs_data
def test_isobs_records_are_the_labelled_classes_only() -> None:
    labels = SOURCES["isobs"].labels()
    records = list(SOURCES["isobs"].records(DATA))
    assert {int(r.ref.split("_")[0]) for r in records} == set(labels)
    assert all(r.label == labels[int(r.ref.split("_")[0])] for r in records)


@needs_data
def test_ayjgw_renders_the_whole_font_under_its_own_labels() -> None:
    """Every glyph the Anyang table names and the font draws, once: 2.4 times the 687 renders
    of earlier builds, and never the font's .notdef box for a code point it lacks."""
    records = list(SOURCES["ayjgw"].records(DATA))
    assert len(records) > 1_600 and len({r.label for r in records}) > 1_100
    assert len({r.ref.split()[0] for r in records}) == len(records)
    assert all(is_cjk(r.label) for r in records)
    font = ImageFont.truetype(str(DATA / "ayjgw" / "AYJGW.woff"), 128)
    box = render_glyph(font, NOTDEF, 128)
    assert not any(r.image == box for r in records)
    by_ref = {r.ref: r.label for r in records}
    assert by_ref["U+60000 人"] == "人" and by_ref["U+60001 匕（妣）"] == "匕"
    assert to_tensor(records[0].image).shape == (1, 64, 64)


@needs_data
def test_a_code_point_the_font_lacks_is_no_glyph() -> None:
    font = ImageFont.truetype(str(DATA / "ayjgw" / "AYJGW.woff"), 64)
    assert has_glyph(font, "\U00060000")
    assert not has_glyph(font, "一") and not has_glyph(font, NOTDEF)


@pytest.mark.parametrize(
    ("label", "graph"),
    [("人", "人"), ("賓2", "宾"), ("匕（妣）", "匕"), ("月/夕", "月"), ("農/䢅/", "农"),
     ("祖丙", ""), ("None", ""), ("", ""), ("\U000f0001", "")],
)  # fmt: skip
def test_an_anyang_label_names_its_graph(label: str, graph: str) -> None:
    assert graph_of(label) == graph


@needs_data
def test_hwobc_records_are_its_pen_drawings_under_the_anyang_labels() -> None:
    records = list(SOURCES["hwobc"].records(DATA))
    assert len(records) > 2_900 and len({r.label for r in records}) > 1_000
    assert all(is_cjk(r.label) for r in records)
    by_ref = {r.ref: r.label for r in records}
    assert by_ref["60000_11"] == "人" and by_ref["60001_8"] == "匕"  # 匕（妣）: the graph
    with (DATA / "hwobc" / "labels.csv").open(encoding="utf-8", newline="") as f:
        compounds = [r["file"][:-4] for r in csv.DictReader(f) if r["word"] in ("祖丙", "")]
    assert compounds and not set(compounds) & set(by_ref)
    assert to_tensor(records[0].image).shape == (1, 64, 64)


@needs_data
def test_fzjgw_renders_when_named() -> None:
    records = list(SOURCES["fzjgw"].records(DATA))
    assert len(records) == 1_417 and len({r.label for r in records}) == 1_386
    assert float(to_tensor(records[0].image).max()) == 1.0


# --- downloads from upstream archives, over real HTTP ----------------------------------------


@pytest.fixture(autouse=True)
def no_archive_kept() -> None:
    """Each test downloads afresh: a port of an earlier test's server may be reused."""
    base.upstream_archive.cache_clear()


class Archive(http.server.BaseHTTPRequestHandler):
    body = b""
    requests: list[str]  # paths asked for, per server

    def do_GET(self) -> None:
        self.requests.append(self.path)
        self.send_response(200)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def serve(monkeypatch, tmp_path) -> Iterator:
    """serve(zip bytes) -> the URL of a real HTTP server answering with them; empty caches."""
    monkeypatch.setattr(base, "CACHE_DIR", tmp_path / "cache")
    servers = []

    def start(body: bytes) -> str:
        handler = type("Handler", (Archive,), {"body": body, "requests": []})
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}/main.zip"

    start.servers = servers  # each with its handler's `requests`
    yield start
    for s in servers:
        s.shutdown()


def zipped(top: str, files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in files.items():
            z.writestr(f"{top}/{name}", data)
    return buf.getvalue()


@needs_data
def test_isobs_downloads_its_drawings_when_there_is_no_local_copy(serve, tmp_path) -> None:
    real = sorted((DATA / "isobs" / "data_oct" / "train_1600" / "0").glob("*.jpg"))[:3]
    files = {f"data_oct/train_1600/0/{p.name}": p.read_bytes() for p in real}
    files["data_oct/train_300/0/1_0.jpg"] = real[0].read_bytes()  # a subset folder: not kept
    files["README.md"] = b"not a drawing"
    source = dataclasses.replace(SOURCES["isobs"], archive_url=serve(zipped("IsOBS-main", files)))
    drawings = list(source.drawings(tmp_path / "empty"))
    assert [d.ref for d in drawings] == sorted(p.stem for p in real)
    assert [d.image for d in drawings] == [
        p.read_bytes() for p in sorted(real, key=lambda p: p.stem)
    ]
    cached = tmp_path / "cache" / "sources" / "isobs"
    assert not (cached / "data_oct" / "train_300").exists() and not (cached / "README.md").exists()
    again = dataclasses.replace(source, archive_url="http://127.0.0.1:9/gone.zip")
    assert len(list(again.drawings(tmp_path / "empty"))) == 3  # from the cache, no network


@needs_data
def test_ayjgw_downloads_its_font_and_the_anyang_table(serve, tmp_path) -> None:
    """No local copy: the font from one upstream archive, its labels from another, as here."""
    font = (DATA / "ayjgw" / "AYJGW.woff").read_bytes()
    table = (DATA / "kushim-jiang" / ANYANG_WORKBOOK).read_bytes()
    source = dataclasses.replace(
        SOURCES["ayjgw"],
        archive_url=serve(zipped("yolov8-oracle-detect-027fb1f", {UPSTREAM_FONT: font})),
        labels_url=serve(zipped("oracle-bone-main", {ANYANG_WORKBOOK: table})),
    )
    downloaded = [(r.label, r.ref, r.image) for r in source.records(tmp_path / "empty")]
    assert downloaded == [(r.label, r.ref, r.image) for r in SOURCES["ayjgw"].records(DATA)]


@needs_data
def test_hwobc_downloads_its_drawings_and_both_tables(serve, tmp_path) -> None:
    """The drawings from their archive; labels from the Anyang table, and from JGW_LORA's detail
    table for a code the Anyang table leaves empty (U+60003)."""
    png = (DATA / "hwobc" / "images" / "60000_11.png").read_bytes()
    files = {f"{IMAGES}/{n}.png": png for n in ("60000_11", "60001_8", "60003_1", "60004_2")}
    files[LICENCE] = b"This is free and unencumbered software released into the public domain."
    detail = [
        {"Response": {"Data": {"FontImgUrl": "https://x/U60003.png", "ComplexChar": "車"}}},
        {"Response": {"Data": {"FontImgUrl": "https://x/U60000.png", "ComplexChar": "入"}}},
    ]
    jsonl = "\n".join(json.dumps(d, ensure_ascii=False) for d in detail).encode()
    table = (DATA / "kushim-jiang" / ANYANG_WORKBOOK).read_bytes()
    source = dataclasses.replace(
        SOURCES["hwobc"],
        archive_url=serve(zipped("yolov8-oracle-detect-027fb1f", files)),
        labels_url=serve(zipped("oracle-bone-main", {ANYANG_WORKBOOK: table})),
        detail_url=serve(zipped("JGW_LORA-d6547fb", {DETAIL: jsonl})),
    )
    records = list(source.records(tmp_path / "empty"))
    # 60004 is a code neither table names: left out; the Anyang table wins where it has a label
    assert [(r.ref, r.label) for r in records] == [
        ("60000_11", "人"), ("60001_8", "匕"), ("60003_1", "车")
    ]  # fmt: skip


@needs_data
def test_a_broken_detail_table_is_named(serve, tmp_path) -> None:
    png = (DATA / "hwobc" / "images" / "60000_11.png").read_bytes()
    files = {f"{IMAGES}/60000_11.png": png, LICENCE: b"Unlicense"}
    table = (DATA / "kushim-jiang" / ANYANG_WORKBOOK).read_bytes()
    source = dataclasses.replace(
        SOURCES["hwobc"],
        archive_url=serve(zipped("a", files)),
        labels_url=serve(zipped("b", {ANYANG_WORKBOOK: table})),
        detail_url=serve(zipped("c", {DETAIL: b'{"Response": 1}'})),
    )
    with pytest.raises(SourceUnavailable, match=r"jgw_detail_ay_1530\.jsonl: line 1"):
        list(source.records(tmp_path / "empty"))


def test_a_failed_download_says_what_to_do(monkeypatch, tmp_path) -> None:
    monkeypatch.setattr(base, "CACHE_DIR", tmp_path / "cache")
    dead = f"http://127.0.0.1:{free_port()}/main.zip"
    source = dataclasses.replace(SOURCES["isobs"], archive_url=dead)
    with pytest.raises(SourceUnavailable, match="--data-dir"):
        list(source.drawings(tmp_path / "empty"))
    assert not (tmp_path / "cache" / "sources" / "isobs").exists()


def test_an_answer_that_is_not_an_archive_says_what_to_do(serve, tmp_path) -> None:
    """A proxy's HTML page where the zip should be: a clear error, and nothing cached."""
    page = serve(b"<html><body>Please log in</body></html>")
    source = dataclasses.replace(SOURCES["isobs"], archive_url=page)
    with pytest.raises(SourceUnavailable, match=r"not a zip archive.*--data-dir"):
        list(source.drawings(tmp_path / "empty"))
    assert not (tmp_path / "cache" / "sources" / "isobs").exists()


@needs_data
def test_the_founder_table_derived_from_its_workbook_is_the_shared_glyphs_csv() -> None:
    rows = founder_glyphs(FOUNDER_WORKBOOK)
    with (DATA / "fzjgw" / "glyphs.csv").open(encoding="utf-8", newline="") as f:
        assert rows == list(csv.DictReader(f))  # row for row, simplified as the table was
    out = io.StringIO(newline="")
    writer = csv.DictWriter(out, GLYPH_COLUMNS)
    writer.writeheader()
    writer.writerows(rows)
    assert out.getvalue().encode() == (DATA / "fzjgw" / "glyphs.csv").read_bytes()


def upstream_fonts(*fonts: str, workbook: bytes | None = None, chen: bool = True) -> bytes:
    """Kushim-Jiang/oracle-bone's archive as GitHub lays it out, with the real fonts named, the
    Founder workbook if given and Chen Nianfu's (ZJNU, ZihuiSong) unless `chen` is false; other
    files upstream has are not to be kept."""
    where = {"FZJGW-Regular.ttf": "fzjgw", "ZJNUJGW-Regular.ttf": "zjnu-chennianfu"}
    files = {f"font/{f}": (DATA / where[f] / f).read_bytes() for f in fonts}
    if workbook is not None:
        files["data/方正甲骨文.xlsx"] = workbook
    files["font/ShenCao2017-Regular.ttf"] = b"another font"
    if chen:
        files["data/陈年福甲骨文.xlsx"] = (
            DATA / "kushim-jiang" / "data" / "陈年福甲骨文.xlsx"
        ).read_bytes()
    files["data/镜原甲骨文.xlsx"] = b"another workbook"
    return zipped("oracle-bone-main", files)


@needs_data
def test_fzjgw_downloads_its_font_and_workbook_and_reads_as_the_local_copy(serve, tmp_path) -> None:
    url = serve(upstream_fonts("FZJGW-Regular.ttf", workbook=FOUNDER_WORKBOOK.read_bytes()))
    source = dataclasses.replace(SOURCES["fzjgw"], archive_url=url)
    downloaded = list(source.records(tmp_path / "empty"))
    assert downloaded == list(SOURCES["fzjgw"].records(DATA))  # images, labels and refs
    cached = tmp_path / "cache" / "sources" / "fzjgw"
    kept = sorted(str(p.relative_to(cached)) for p in cached.rglob("*") if p.is_file())
    assert kept == ["data/方正甲骨文.xlsx", "font/FZJGW-Regular.ttf"]
    again = dataclasses.replace(source, archive_url=f"http://127.0.0.1:{free_port()}/main.zip")
    assert len(list(again.records(tmp_path / "empty"))) == 1_417  # from the cache


@needs_data
def test_a_broken_upstream_workbook_is_named(serve, tmp_path) -> None:
    url = serve(upstream_fonts("FZJGW-Regular.ttf", workbook=b"<html>rate limited</html>"))
    source = dataclasses.replace(SOURCES["fzjgw"], archive_url=url)
    with pytest.raises(SourceUnavailable, match=r"方正甲骨文\.xlsx: not a readable \.xlsx"):
        list(source.records(tmp_path / "empty"))


@needs_data
def test_zjnu_downloads_its_font_and_workbook_and_reads_as_the_local_copy(serve, tmp_path) -> None:
    url = serve(upstream_fonts("ZJNUJGW-Regular.ttf"))
    source = dataclasses.replace(SOURCES["zjnu-chennianfu"], archive_url=url)
    downloaded = list(itertools.islice(source.records(tmp_path / "empty"), 200))
    assert downloaded == list(itertools.islice(SOURCES["zjnu-chennianfu"].records(DATA), 200))


@needs_data
def test_zjnu_downloads_its_font_beside_a_local_glyphs_csv(serve, tmp_path) -> None:
    """Where upstream's archive holds no workbook, a local glyphs.csv is the table."""
    table = (DATA / "zjnu-chennianfu" / "glyphs.csv").read_text(encoding="utf-8")
    local = tmp_path / "data" / "zjnu-chennianfu"
    local.mkdir(parents=True)
    (local / "glyphs.csv").write_text("".join(table.splitlines(True)[:21]), encoding="utf-8")
    url = serve(upstream_fonts("ZJNUJGW-Regular.ttf", chen=False))
    source = dataclasses.replace(SOURCES["zjnu-chennianfu"], archive_url=url)
    downloaded = list(source.records(tmp_path / "data"))
    codes = [line.split(",")[0] for line in table.splitlines()[1:21]]
    assert [r.ref.split()[0] for r in downloaded] == codes


@needs_data
def test_fonts_from_one_archive_download_it_once(serve, tmp_path) -> None:
    """zjnu and fzjgw come from one repository: one build fetches its archive once."""
    local = tmp_path / "data" / "zjnu-chennianfu"
    local.mkdir(parents=True)
    shutil.copy(DATA / "zjnu-chennianfu" / "glyphs.csv", local / "glyphs.csv")
    body = upstream_fonts(
        "FZJGW-Regular.ttf", "ZJNUJGW-Regular.ttf", workbook=FOUNDER_WORKBOOK.read_bytes()
    )
    url = serve(body)
    fonts = [dataclasses.replace(SOURCES[n], archive_url=url) for n in ("zjnu-chennianfu", "fzjgw")]
    first = [next(iter(f.records(tmp_path / "data"))) for f in fonts]
    assert first == [next(iter(SOURCES[n].records(DATA))) for n in ("zjnu-chennianfu", "fzjgw")]
    assert serve.servers[-1].RequestHandlerClass.requests == ["/main.zip"]


def test_fonts_without_a_derivable_table_say_what_to_provide(monkeypatch, tmp_path) -> None:
    """No glyphs.csv and no workbook this project can read: nothing is downloaded, and the message
    names the file to put where."""
    monkeypatch.setattr(base, "CACHE_DIR", tmp_path / "cache")
    for name in ("zjnu-chennianfu", "zihuisong"):
        source = dataclasses.replace(SOURCES[name], derive=None)
        with pytest.raises(SourceUnavailable, match=rf"no glyphs\.csv in .*{name}.* Put glyphs"):
            list(source.records(tmp_path / "empty"))
    assert not (tmp_path / "cache").exists()


def test_an_unreachable_font_upstream_says_what_to_do(monkeypatch, tmp_path) -> None:
    monkeypatch.setattr(base, "CACHE_DIR", tmp_path / "cache")
    dead = f"http://127.0.0.1:{free_port()}/main.zip"
    source = dataclasses.replace(SOURCES["fzjgw"], archive_url=dead)
    says = (
        r"fzjgw: no local copy .* failed .*--data-dir .* fzjgw/FZJGW-Regular\.ttf and fzjgw/glyphs"
    )
    with pytest.raises(SourceUnavailable, match=says):
        list(source.records(tmp_path / "empty"))
    assert not (tmp_path / "cache" / "sources" / "fzjgw").exists()


@needs_data
def test_a_font_freetype_cannot_load_is_named(tmp_path) -> None:
    local = tmp_path / "fzjgw"
    local.mkdir()
    (local / "FZJGW-Regular.ttf").write_bytes(
        (DATA / "fzjgw" / "FZJGW-Regular.ttf").read_bytes()[:64]
    )
    (local / "glyphs.csv").write_bytes((DATA / "fzjgw" / "glyphs.csv").read_bytes())
    with pytest.raises(SourceUnavailable, match=r"FreeType cannot load .*FZJGW-Regular\.ttf"):
        list(SOURCES["fzjgw"].records(tmp_path))


# --- the IsOBS labels ------------------------------------------------------------------------


def test_align_is_monotone_and_maximises_the_total_gain() -> None:
    ninf = -np.inf
    gain = np.array(
        [
            [5.0, ninf, ninf, 1.0],  # class 0: headword 0
            [ninf, ninf, 4.0, ninf],  # class 1: headword 2
            [ninf, 3.0, ninf, 2.0],  # class 2: headword 1 is out of order; 3 is in order
        ]
    )
    assert align(gain) == [0, 2, 3]


def test_align_leaves_out_what_only_fits_out_of_order() -> None:
    gain = np.array([[ninf := -np.inf, ninf, 9.0], [1.0, ninf, ninf], [ninf, -1.0, ninf]])
    assert align(gain) == [2, None, None]  # class 1 would need headword 0 after headword 2


@needs_data
def test_shuowen_headwords_carry_their_variant_forms() -> None:
    heads = headwords(DATA)
    assert len(heads) == 9_833 and heads[0].char == "一" and "弌" in heads[0].forms
    by_char = {h.char: h for h in heads}
    assert "上" in by_char["丄"].forms  # the modern 上 is the Shuowen's 篆文 form of 丄


def test_committed_label_table_has_its_evidence() -> None:
    with LABELS.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        assert tuple(reader.fieldnames or ()) == COLUMNS
        rows = list(reader)
    assert len(rows) == 1_621
    labelled = [r for r in rows if r["char"]]
    assert 700 <= len(labelled) <= 1_621
    for r in labelled:
        assert is_cjk(r["char"]) and r["headword"], r
        assert 1 <= int(r["rank"]) <= MAX_RANK and 0 < float(r["prob"]) <= 1
        assert r["confidence"] in ("high", "medium", "low") and int(r["drawings"]) >= 1
        assert (r["agrees"] == "1") == (r["char"] == r["model_top1"])
    placed = [int(r["headword_index"]) for r in rows if r["headword_index"]]
    assert placed == sorted(placed) and len(set(placed)) == len(placed), "not monotone"


@needs_data
def test_shared_drawings_build_as_a_source_with_their_own_test(tmp_path: Path) -> None:
    """`build-dataset --sources jiaguwen,feedback --feedback-dir DIR`: what people shared from
    the app is read from its folder, every fifth drawing (by id) held out as test_feedback."""
    import datasets
    from conftest import run_cli
    from tiny_sources import seed_items, write_jiaguwen

    from oracle_bones.space.feedback import FeedbackStore

    items = seed_items(labels=4, per_label=3)
    write_jiaguwen(tmp_path, items)
    store = FeedbackStore(tmp_path / "shared")
    ids = [
        store.share(DATA / "jiaguwen" / "i" / it["image"], it["name"], [], "bundled", "x", True)
        for it in items[:10]
    ]
    out = tmp_path / "built"
    args = ("--data-dir", str(tmp_path), "--sources", "jiaguwen,feedback", "--out", str(out))
    r = run_cli(
        "-m", "oracle_bones", "build-dataset", *args, "--feedback-dir", str(tmp_path / "shared")
    )
    assert r.returncode == 0, r.stderr[-2000:]
    dd = datasets.load_from_disk(str(out))
    held = sorted(ids)[4::5]
    assert sorted(dd["test_feedback"]["ref"]) == held
    fed_train = [
        ref
        for ref, s in zip(dd["train"]["ref"], dd["train"]["source"], strict=True)
        if s == "feedback"
    ]
    assert not set(fed_train) & set(held) and len(fed_train) <= 8
