"""Reading an inscription: composed pictures of held-out seed glyphs, written to disk as PNG and
JPEG files with their true boxes and order (synthetic.py), read by the bundled model.

Which glyphs a retrained model names may change; where the boxes are must not, so the tests
compare boxes and order, and names only against the model's own single-glyph answers.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT, run_cli
from PIL import Image
from scipy import ndimage

from oracle_bones.glyphs.glyph import INK_LEVEL, EmptyDrawing
from oracle_bones.glyphs.synthetic import compose, drawing, glyph_ink, inscription, photograph
from oracle_bones.reading.inscription import box_iou

SEED = ROOT.parent / "shared" / "data" / "jiaguwen"
BUNDLED = ROOT / "src" / "oracle_bones" / "pretrained"


@pytest.fixture(scope="module")
def recognizer():
    import torch

    from oracle_bones import Recognizer

    if not (BUNDLED / "config.json").exists():
        pytest.skip(f"no bundled model in {BUNDLED}")
    torch.set_num_threads(1)
    return Recognizer.from_pretrained(BUNDLED)


@pytest.fixture(scope="module")
def test_inks() -> dict[str, np.ndarray]:
    """The held-out seed glyphs' ink: per character with two or more, the last file name."""
    if not (SEED / "index.json").exists():
        pytest.skip(f"no seed images at {SEED}")
    files: dict[str, list[str]] = defaultdict(list)
    for item in json.loads((SEED / "index.json").read_text(encoding="utf-8")):
        files[item["name"]].append(item["image"])
    return {c: glyph_ink(SEED / "i" / max(f)) for c, f in sorted(files.items()) if len(f) >= 2}


def one_piece(inks: dict[str, np.ndarray]) -> list[np.ndarray]:
    """Glyphs drawn in one connected stroke: where each lies is plain from the picture alone."""
    return [
        ink
        for ink in inks.values()
        if ndimage.label(ink > INK_LEVEL, structure=np.ones((3, 3)))[1] == 1
    ]


def assert_read_in_order(found: list, truth: list, slack: float = 0.5) -> None:
    """As many glyphs as there are, each box on its true glyph (IoU > slack), in order."""
    boxes = [box for box, _ in found]
    assert len(boxes) == len(truth), (boxes, truth)
    for k, (got, want) in enumerate(zip(boxes, truth, strict=True)):
        assert box_iou(got, want) > slack, (k, got, want)


def write(picture, path: Path) -> Path:
    path.write_bytes(picture.data)
    return path


@pytest.mark.parametrize("seed", range(6))
def test_columns_of_one_stroke_glyphs(recognizer, test_inks, tmp_path, seed: int) -> None:
    """2-8 glyphs in 1-3 columns (one at least two long: else it is a row), some nearly
    touching: every box and the reading order."""
    rng = np.random.default_rng(seed)
    pool = one_piece(test_inks)
    inks = [pool[i] for i in rng.choice(len(pool), int(rng.integers(2, 9)), replace=False)]
    ink, labels = compose(inks, rng, lines=min(int(rng.integers(1, 4)), len(inks) - 1) or 1)
    picture = drawing(ink, labels)
    found = recognizer.read(write(picture, tmp_path / "inscription.png"))
    assert_read_in_order(found, picture.boxes, slack=0.9)


def test_columns_are_read_right_to_left(recognizer, test_inks, tmp_path) -> None:
    pool = one_piece(test_inks)
    ink, labels = compose(pool[:6], np.random.default_rng(1), lines=2)
    picture = drawing(ink, labels)
    found = recognizer.read(write(picture, tmp_path / "two-columns.png"))
    assert_read_in_order(found, picture.boxes, slack=0.9)
    xs = [box[0] for box, _ in found]
    assert min(xs[:3]) > max(xs[3:]), "the first column read is not the right-hand one"


def test_a_row_is_read_left_to_right(recognizer, test_inks, tmp_path) -> None:
    pool = one_piece(test_inks)
    ink, labels = compose(pool[10:15], np.random.default_rng(2), lines=1, horizontal=True)
    picture = drawing(ink, labels)
    found = recognizer.read(write(picture, tmp_path / "row.png"))
    assert_read_in_order(found, picture.boxes, slack=0.9)
    assert [box[0] for box, _ in found] == sorted(box[0] for box, _ in found)


def test_glyphs_of_several_strokes_stay_whole(recognizer, test_inks, tmp_path) -> None:
    """八 (two strokes side by side), 雨 (a top and its drops), 三 (three lines) in a column
    with one-stroke glyphs: each read as one glyph, however confident the model is in a part."""
    pool = one_piece(test_inks)
    for k, char in enumerate("八雨三"):
        rng = np.random.default_rng(10 + k)
        inks = [pool[20 + k], test_inks[char], pool[30 + k]]
        ink, labels = compose(inks, rng, lines=1)
        picture = drawing(ink, labels)
        found = recognizer.read(write(picture, tmp_path / f"{char}.png"))
        assert_read_in_order(found, picture.boxes)


def test_names_are_the_single_glyph_answers(recognizer, test_inks, tmp_path) -> None:
    """Each glyph found is named as its part of the picture is on its own; top 5 by default."""
    pool = one_piece(test_inks)
    ink, labels = compose(pool[40:44], np.random.default_rng(3), lines=2)
    path = write(drawing(ink, labels), tmp_path / "names.png")
    found = recognizer.read(path)
    assert len(found) == 4
    page = np.asarray(Image.open(path))
    for (x0, y0, x1, y1), predictions in found:
        alone = np.pad(page[y0:y1, x0:x1], 4, constant_values=255)
        expected = recognizer.predict(alone, top_k=5)[0]
        assert len(predictions) == 5
        assert predictions[0].label == expected.label
        assert predictions[0].score == pytest.approx(expected.score, abs=0.05)


def test_photographed_inscription(recognizer, test_inks, tmp_path) -> None:
    """Ink on tinted, unevenly lit paper, as a phone JPEG: boxes in the photo's own pixels."""
    pool = one_piece(test_inks)
    read = 0
    for seed in range(4):
        rng = np.random.default_rng(seed)
        ink, labels = compose(pool[50 + 4 * seed : 54 + 4 * seed], rng, lines=2)
        picture = photograph(ink, rng, labels, share=(0.7, 0.9), tilt=1.0)
        found = recognizer.read(write(picture, tmp_path / f"photo-{seed}.jpg"))
        assert Image.open(tmp_path / f"photo-{seed}.jpg").size == picture.size
        try:
            assert_read_in_order(found, picture.boxes)
            read += 1
        except AssertionError:
            pass
    assert read >= 3, f"{read} of 4 photos read right"


def test_a_faint_glyph_beside_a_dark_one_reads_as_it_does_alone(test_inks) -> None:
    """A glyph written lighter (pencil, a dry pen) in a photo beside a dark one: read against
    the page's darkness its thin strokes fall apart; read again against its own, it has as much
    ink as the same glyph photographed alone (the page's reading: 0.74 of it, on average)."""
    from oracle_bones.glyphs.glyph import to_tensor
    from oracle_bones.reading.inscription import find_glyphs

    def ink_pixels(picture) -> float:
        return float((to_tensor(picture)[0].numpy() > INK_LEVEL).sum())

    pool = one_piece(test_inks)
    ratios = []
    for seed in range(6):
        rng = np.random.default_rng(seed)
        dark, faint = pool[70 + 2 * seed], 0.6 * pool[71 + 2 * seed]
        ink, labels = compose([dark, faint], rng, lines=1)
        page = photograph(ink, rng, labels, share=(0.7, 0.9), tilt=1.0)
        found = find_glyphs(page.data, lambda crops: [0.5] * len(crops))
        assert len(found) == 2
        assert all(box_iou(f.box, b) > 0.5 for f, b in zip(found, page.boxes, strict=True))
        alone = photograph(faint, np.random.default_rng(seed), share=(0.3, 0.4), tilt=1.0)
        ratios.append(ink_pixels(found[1].crop) / ink_pixels(alone.data))
    assert 0.85 < np.mean(ratios) < 1.2, ratios


def askew(ink: np.ndarray, labels: np.ndarray, degrees: float):
    """A composed page and its labels turned by `degrees` (the page grows to hold it)."""
    return (
        ndimage.rotate(ink, degrees, order=1, reshape=True),
        ndimage.rotate(labels, degrees, order=0, reshape=True),
    )


@pytest.mark.parametrize("degrees", [-10, 10])
def test_a_photo_taken_askew_is_read_upright(recognizer, test_inks, tmp_path, degrees) -> None:
    """Two columns photographed 10 degrees askew: each column drifts by most of a glyph's
    width, the paper between them closes, and read as they lie their glyphs mix (4 of these 6
    photos misread so); turned upright they are read in order, boxes in the photo's pixels."""
    from oracle_bones.glyphs.upright import skew

    pool = one_piece(test_inks)
    for seed in range(3):
        rng = np.random.default_rng(seed)
        ink, labels = askew(*compose(pool[80 + 6 * seed : 86 + 6 * seed], rng, lines=2), degrees)
        turn = skew(ink)
        assert turn is not None and abs(turn.degrees - degrees) < 2.5, turn
        picture = photograph(ink, rng, labels, share=(0.7, 0.9), tilt=0.0)
        found = recognizer.read(write(picture, tmp_path / f"askew-{seed}.jpg"))
        assert_read_in_order(found, picture.boxes)


def test_turning_upright_puts_points_back() -> None:
    """Turn.apply and Turn.to_source agree: a dot turned upright maps back to where it was."""
    from oracle_bones.glyphs.upright import Turn

    page = np.zeros((300, 200), np.float32)
    page[40:43, 150:153] = 1.0
    turn = Turn(12.0, page.shape)
    upright = turn.apply(page)
    assert upright.shape == turn.shape and upright.shape != page.shape
    r, c = np.nonzero(upright > 0.5)
    back = turn.to_source(r.astype(float), c.astype(float))
    assert abs(back[0].mean() - 41) < 1 and abs(back[1].mean() - 151) < 1


def test_big_jpeg_boxes_are_in_its_own_pixels(recognizer, test_inks, tmp_path) -> None:
    """A 4x upscaled scan, decoded at reduced scale for speed: boxes still in full pixels."""
    pool = one_piece(test_inks)
    ink, labels = compose(pool[60:63], np.random.default_rng(4), lines=1)
    small = drawing(ink, labels)
    big = small.image().resize((small.size[0] * 4, small.size[1] * 4), Image.Resampling.BICUBIC)
    big.convert("RGB").save(tmp_path / "big.jpg", quality=92)
    found = recognizer.read(tmp_path / "big.jpg")
    truth = [tuple(4 * v for v in box) for box in small.boxes]
    assert_read_in_order(found, truth, slack=0.8)


def test_blank_picture_is_empty(recognizer, tmp_path) -> None:
    Image.new("RGB", (600, 400), "white").save(tmp_path / "blank.png")
    with pytest.raises(EmptyDrawing):
        recognizer.read(tmp_path / "blank.png")


def test_cli_read_json_and_error_lines(recognizer, test_inks, tmp_path) -> None:
    """`read --json`: one object per picture, glyphs in order with boxes in the picture's pixels;
    a bad file gets its error line, the others are answered, and the exit status is 1."""
    pool = one_piece(test_inks)
    pictures = [
        inscription(pool[70 + 4 * k : 74 + 4 * k], np.random.default_rng(k)) for k in range(2)
    ]
    paths = [write(p, tmp_path / f"inscription-{k}.png") for k, p in enumerate(pictures)]
    bad = tmp_path / "damaged.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + b"not really" * 20)
    r = run_cli("-m", "oracle_bones", "read", "--json", "--top-k", "3", str(paths[0]), str(bad),
                str(paths[1]))  # fmt: skip
    assert r.returncode == 1, r.stderr
    rows = [json.loads(line) for line in r.stdout.splitlines()]
    assert [row["image"] for row in rows] == [str(paths[0]), str(bad), str(paths[1])]
    assert "error" in rows[1] and "glyphs" not in rows[1]
    assert "image" in rows[1]["error"].lower()
    for row, path in zip((rows[0], rows[2]), paths, strict=True):
        expected = recognizer.read(path, top_k=3)
        assert [tuple(g["box"]) for g in row["glyphs"]] == [box for box, _ in expected]
        for glyph, (_, predictions) in zip(row["glyphs"], expected, strict=True):
            assert [p["label"] for p in glyph["predictions"]] == [p.label for p in predictions]
            assert all(0 <= p["score"] <= 1 for p in glyph["predictions"])
    r = run_cli("-m", "oracle_bones", "read", str(paths[0]))
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith(f"{paths[0]}: ") and "1. [" in r.stdout
