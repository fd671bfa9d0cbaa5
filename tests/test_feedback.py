"""The feedback store on real files: what a share writes, what it refuses, and what a crash at each
step of a share leaves once the store is opened again (the crash is a real process killed with
os._exit mid-share). The running app's /teach and the Hub push are in test_teach.py."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import datasets
import numpy as np
import pytest
from conftest import run_cli
from images import cross
from PIL import Image, ImageDraw

from oracle_bones.data.sources.feedback import SharedDrawing, shared_drawings
from oracle_bones.glyphs.glyph import to_tensor
from oracle_bones.space.feedback import FeedbackError, FeedbackStore, RateLimit, check_label

TOP = [("田", 0.5), ("由", 0.2), ("甲", 0.1)]
ROW_KEYS = ["file_name", "id", "label", "known", "top10", "model", "revision", "created"]


def glyph_file(tmp: Path, name: str = "glyph.png") -> Path:
    """A drawn glyph on a big canvas, with EXIF and a text chunk that must not be kept."""
    img = Image.new("RGB", (400, 400), "white")
    draw = ImageDraw.Draw(img)
    draw.rectangle([110, 90, 290, 310], outline="black", width=10)
    draw.line([(200, 90), (200, 310)], fill="black", width=10)
    draw.line([(110, 200), (290, 200)], fill="black", width=10)
    exif = Image.Exif()
    exif[0x013B] = "Jane Doe"  # Artist
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("Author", "Jane Doe")
    path = tmp / name
    img.save(path, exif=exif, pnginfo=info)
    return path


def png_chunks(path: Path) -> list[str]:
    data, i, kinds = path.read_bytes(), 8, []
    while i < len(data):
        (n,) = struct.unpack(">I", data[i : i + 4])
        kinds.append(data[i + 4 : i + 8].decode())
        i += 12 + n
    return kinds


def rows(folder: Path) -> list[dict]:
    lines = (folder / "metadata.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


def test_a_share_is_an_image_folder_row_and_an_ink_only_png(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "fb")
    src = glyph_file(tmp_path)
    drawing_id = store.share(src, "田", TOP, "u/model", "abc123", known=True)

    [row] = rows(store.folder)
    assert list(row) == ROW_KEYS
    assert row["id"] == drawing_id and len(drawing_id) == 32 and int(drawing_id, 16) >= 0
    assert row["file_name"] == f"images/{drawing_id[:2]}/{drawing_id}.png"
    assert [row[k] for k in ROW_KEYS[2:4]] == ["田", True]
    assert [row["model"], row["revision"]] == ["u/model", "abc123"]
    assert row["top10"] == [{"label": c, "score": s} for c, s in TOP]
    assert row["created"].endswith("Z") and len(row["created"]) == 20
    png = store.folder / row["file_name"]
    assert png_chunks(png) == ["IHDR", "IDAT", "IEND"]  # no EXIF, no text, nothing but pixels
    assert b"Jane" not in png.read_bytes()
    stored = Image.open(png)
    assert stored.mode == "L" and stored.size[0] == stored.size[1] < 400  # cropped to the ink
    # The stored ink is the drawing as the model sees it.
    assert float((to_tensor(png) - to_tensor(src)).abs().mean()) < 0.02

    assert shared_drawings(store.folder) == [SharedDrawing(drawing_id, png, "田", True)]
    ds = datasets.load_dataset(
        "imagefolder", data_dir=str(store.folder), cache_dir=str(tmp_path / "cache")
    )["train"]
    assert ds["label"] == ["田"] and ds["id"] == [drawing_id] and ds["known"] == [True]
    assert np.array_equal(np.asarray(ds[0]["image"]), np.asarray(stored))
    card = (store.folder / "README.md").read_text(encoding="utf-8")
    assert "license: cc0-1.0" in card


@pytest.mark.parametrize(
    "text",
    ["雨", " 雨\n", "㐀", "𠀀", "𪜀", "𫝀", "𬺰", "𰀀", "𱍐", "〇", "\uf900", "\ufa0e"],
)
def test_one_cjk_character_is_a_label(text: str) -> None:
    """Unified ideographs and extensions A, B, C, E, F, G, H; compatibility ones as NFC makes
    them (U+F900 is 豈 U+8C48; U+FA0E is unified and stays)."""
    label = check_label(text)
    assert len(label) == 1 and label == {"\uf900": "\u8c48"}.get(text, text.strip())


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "Pick or type"),
        ("   ", "Pick or type"),
        (None, "Pick or type"),
        ("雨水", "One character only"),
        ("a", "not a Chinese character"),
        ("7", "not a Chinese character"),
        ("。", "not a Chinese character"),
        ("あ", "not a Chinese character"),
        ("한", "not a Chinese character"),
        ("🙂", "not a Chinese character"),
        ("⼀", "not a Chinese character"),  # a Kangxi radical, not the ideograph 一
    ],
)
def test_anything_else_is_refused_with_a_reason(text: str | None, reason: str) -> None:
    with pytest.raises(FeedbackError, match=reason):
        check_label(text)


def test_refused_shares_write_nothing(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "fb")
    store.share(glyph_file(tmp_path), "田", TOP, "bundled", "abc", known=True)
    blank, huge, heavy, damaged = (tmp_path / n for n in ("b.png", "h.png", "w.bmp", "d.png"))
    Image.new("RGB", (400, 400), "white").save(blank)
    Image.new("1", (5000, 4000), 1).save(huge)  # small file, too many pixels
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (2000, 2000, 3), np.uint8)).save(
        heavy
    )  # 12 MB
    damaged.write_bytes(b"\x89PNG\r\n\x1a\n" + b"not really a png" * 10)
    before = sorted(p.relative_to(store.folder) for p in store.folder.rglob("*"))
    for image, label, reason in [
        (blank, "田", "No ink found"),
        ({"background": None, "layers": [], "composite": None}, "田", "canvas is empty"),
        (huge, "田", "too large to share"),
        (heavy, "田", "too large to share"),
        (damaged, "田", "damaged"),
        (glyph_file(tmp_path, "g2.png"), "田地", "One character only"),
    ]:
        with pytest.raises(FeedbackError, match=reason):
            store.share(image, label, TOP, "bundled", "abc", known=True)
    assert sorted(p.relative_to(store.folder) for p in store.folder.rglob("*")) == before
    assert len(rows(store.folder)) == 1


def test_a_sketchpad_value_is_shared_as_its_ink(tmp_path: Path) -> None:
    """The Draw tab shares the Sketchpad's value: RGBA arrays, ink on transparent."""
    ink = np.asarray(cross(side=400, paper=0, ink=255))
    rgba = np.zeros((400, 400, 4), np.uint8)
    rgba[..., 3] = ink
    value = {"background": None, "layers": [rgba], "composite": rgba}
    store = FeedbackStore(tmp_path / "fb")
    store.share(value, "十", [("十", 0.9)], "bundled", "abc", known=False)
    [row] = rows(store.folder)
    assert row["known"] is False
    png = store.folder / row["file_name"]
    assert float((to_tensor(png) - to_tensor(value)).abs().mean()) < 0.02


def test_rate_limit_per_session() -> None:
    limit = RateLimit(shares=3, per_s=60)
    for _ in range(3):
        with limit.slot("a"):
            pass
    refused = r"3 drawings in a minute: please wait \d+ s"
    with pytest.raises(FeedbackError, match=refused), limit.slot("a"):
        pass
    with limit.slot("b"):  # another session is not held back
        pass
    limit = RateLimit(shares=1, per_s=60)
    with pytest.raises(ValueError), limit.slot("a"):
        raise ValueError("a refused share")
    with limit.slot("a"):  # the refused share gave its slot back
        pass


# -- crashes -----------------------------------------------------------------------------------

# One good share, then a second that dies (os._exit) at `where`: a real process, real files.
CRASH = """
import json, os, sys
from pathlib import Path
from oracle_bones.space import feedback

folder, where, image = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
store = feedback.FeedbackStore(folder)
store.share(image, "田", [("田", 0.9)], "bundled", "abc", True)
write, append = feedback._write_durably, feedback.FeedbackStore._append

def write_then_die(path, data):
    if path.suffix == ".png":  # half the PNG in atomic_file's temporary file, then die
        (path.parent).mkdir(parents=True, exist_ok=True)
        (path.parent / f".{path.name}.tmp").write_bytes(data[: len(data) // 2])
        os._exit(9)
    write(path, data)

def append_then_die(self, row):
    if where == "mid-append":  # half the row, no newline
        line = json.dumps(row, ensure_ascii=False).encode() + b"\\n"
        with open(self.folder / "metadata.jsonl", "ab") as f:
            f.write(line[: len(line) // 2])
    os._exit(9)

if where == "mid-png":
    feedback._write_durably = write_then_die
else:
    feedback.FeedbackStore._append = append_then_die
store.share(image, "由", [("由", 0.9)], "bundled", "abc", True)
"""


def crash(folder: Path, where: str, image: Path) -> None:
    result = run_cli("-c", CRASH, str(folder), where, str(image), timeout=120)
    assert result.returncode == 9, result.stderr[-2000:]


@pytest.mark.parametrize(
    ("where", "labels"),
    [("mid-append", ["田", "由"]), ("before-append", ["田", "由"]), ("mid-png", ["田"])],
)
def test_a_crash_mid_share_is_repaired_on_open(tmp_path: Path, where: str, labels: list) -> None:
    """Torn last row: cut off, and the drawing listed from its pending row. PNG landed but no
    row: listed. PNG half-written: nothing listed, nothing left over. The earlier share is kept
    and the next one appends cleanly."""
    folder = tmp_path / "fb"
    crash(folder, where, glyph_file(tmp_path))
    meta = (folder / "metadata.jsonl").read_bytes()
    assert meta.endswith(b"\n") != (where == "mid-append")  # the crash left a torn row there
    assert len(list((folder / ".pending").iterdir())) == 1

    store = FeedbackStore(folder)
    store.share(glyph_file(tmp_path, "g2.png"), "甲", TOP, "bundled", "abc", known=True)
    assert [r["label"] for r in rows(folder)] == [*labels, "甲"]
    assert list((folder / ".pending").iterdir()) == []
    assert not [p for p in folder.rglob("*") if p.name.endswith(".tmp")]
    assert not (folder / ".orphans").exists()
    pngs = sorted(p.relative_to(folder).as_posix() for p in folder.glob("images/*/*.png"))
    assert pngs == sorted(r["file_name"] for r in rows(folder))
    ds = datasets.load_dataset(
        "imagefolder", data_dir=str(folder), cache_dir=str(tmp_path / "cache")
    )["train"]
    assert sorted(ds["label"]) == sorted([*labels, "甲"])


def test_a_png_without_any_row_is_kept_aside(tmp_path: Path) -> None:
    folder = tmp_path / "fb"
    store = FeedbackStore(folder)
    keep = store.share(glyph_file(tmp_path), "田", TOP, "bundled", "abc", known=True)
    lost = store.share(glyph_file(tmp_path, "g2.png"), "由", TOP, "bundled", "abc", known=True)
    meta = folder / "metadata.jsonl"
    meta.write_text(meta.read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8")
    png = folder / "images" / lost[:2] / f"{lost}.png"
    data = png.read_bytes()

    FeedbackStore(folder)
    assert [r["id"] for r in rows(folder)] == [keep]
    assert not png.exists()
    assert (folder / ".orphans" / png.name).read_bytes() == data
    ds = datasets.load_dataset(
        "imagefolder", data_dir=str(folder), cache_dir=str(tmp_path / "cache")
    )["train"]
    assert ds["id"] == [keep]  # .orphans/ is not part of the dataset


def test_a_damaged_row_in_the_middle_is_an_error_naming_the_line(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "fb")
    for name in ("a.png", "b.png"):
        store.share(glyph_file(tmp_path, name), "田", TOP, "bundled", "abc", known=True)
    meta = store.folder / "metadata.jsonl"
    first, second = meta.read_text(encoding="utf-8").splitlines()
    meta.write_text(f"{first[:-3]}\n{second}\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"metadata.jsonl:1: not a JSON row"):
        shared_drawings(store.folder)
