"""Rubbings: light strokes on a dark bone are read as such, with no setting; the white page
round a bone is not the ground; a glyph that is there is never "No ink found"."""

from __future__ import annotations

import numpy as np
import pytest
from app_harness import STROKES, render_strokes
from conftest import DATA
from PIL import Image, ImageOps

from oracle_bones.glyphs.glyph import EmptyDrawing, _grey, grey_array, square_glyph, to_tensor
from oracle_bones.glyphs.polarity import positive
from oracle_bones.glyphs.rubbing import half, render, rubbing_files, textures

RUBBINGS = DATA / "rubbings" / "images"
needs_rubbings = pytest.mark.skipif(not RUBBINGS.exists(), reason=f"no {RUBBINGS}")


def white_on_dark(char: str, page: int = 0) -> Image.Image:
    """The glyph's strokes white on a dark square (a rubbing's polarity), `page` pixels of
    white page round it."""
    glyph = ImageOps.invert(render_strokes(STROKES[char]))  # white strokes, black ground
    dark = Image.eval(glyph, lambda v: 40 + v * 200 // 255)  # bone grey 40, strokes 240
    out = Image.new("L", (dark.width + 2 * page, dark.height + 2 * page), 250)
    out.paste(dark, (page, page))
    return out


@pytest.mark.parametrize("page", [0, 60])
def test_white_strokes_on_dark_read_as_the_same_drawing_black_on_white(recognizer, page):
    for char in ("田", "日", "大"):
        drawn = recognizer.predict(render_strokes(STROKES[char]), top_k=3)
        rubbed = recognizer.predict(white_on_dark(char, page), top_k=3)
        assert rubbed[0].label == drawn[0].label, (char, page, rubbed, drawn)


@pytest.mark.slow
def test_a_rubbing_uploaded_in_the_browser(app, browser, recognizer, tmp_path) -> None:
    """The Upload tab in Chromium: a white glyph on a dark square on a white page gets the
    drawing's answer, not "No ink found"."""
    path = tmp_path / "rubbing.png"
    white_on_dark("田", page=60).save(path)
    expected = recognizer.predict(path, top_k=1)[0].label
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    try:
        page.goto(app.url)
        page.get_by_role("tab", name="Upload").click()
        page.locator("#upload input[type=file]").set_input_files(str(path))
        banner = page.locator("#banner .banner .char")
        banner.wait_for(timeout=30_000)
        assert banner.inner_text() == expected == "田"
        assert "No ink" not in page.locator("#predictions").inner_text()
    finally:
        page.close()


def test_ordinary_pictures_are_not_turned_over() -> None:
    for char, strokes in STROKES.items():
        grey = np.asarray(render_strokes(strokes), np.float32) / 255
        assert positive(grey) is grey, char  # left as it is, not copied
    heavy = np.ones((200, 200), np.float32)  # a heavy glyph: thick black with small holes
    heavy[40:160, 40:160] = 0.0
    for y, x in ((70, 70), (70, 120), (120, 70), (120, 120)):
        heavy[y : y + 10, x : x + 10] = 1.0
    assert positive(heavy) is heavy


@needs_rubbings
def test_the_page_round_a_real_bone_is_not_the_ground() -> None:
    """After turning over, the page outside the bone is at the bone's level (neither ink nor
    brighter paper), and the bone's carved strokes are the dark."""
    path = rubbing_files(DATA, "held_out")[0]
    raw, turned = _grey(path, 512), grey_array(path)
    assert not np.array_equal(raw, turned)
    page = raw > 0.85  # the white page (and the brightest strokes)
    ground = np.median(turned[raw < 0.4])  # the bone, turned over
    assert abs(float(np.median(turned[page])) - ground) < 0.15
    assert float(np.median(turned)) > 0.5  # mostly light paper now


def test_halves_split_by_name() -> None:
    names = [f"b{n:05d}.jpg" for n in range(400)]
    train = [n for n in names if half(n) == "train"]
    assert 150 < len(train) < 250 and all(half(n) == "train" for n in train)


@needs_rubbings
def test_no_glyph_rubbed_reads_as_empty(test_inks) -> None:
    """Test glyphs rendered as rubbings on held-out texture: ink found in every one."""
    texture = textures(rubbing_files(DATA, "held_out")[:30])
    assert len(texture) >= 20
    rng = np.random.default_rng(0)
    empty = []
    for k, ink in enumerate(test_inks[:60]):
        picture = render(ink, texture[k % len(texture)], rng)
        assert picture.min() >= 0 and picture.max() <= 1 and 28 <= picture.shape[0] <= 96
        try:
            to_tensor(picture)
        except EmptyDrawing:
            empty.append(k)
    assert not empty, empty


@needs_rubbings
def test_the_reader_finds_glyphs_on_real_rubbings(recognizer) -> None:
    """Whole-bone rubbings: glyphs found on each, and not the bone as one blob."""
    for path in rubbing_files(DATA, "held_out")[:6]:
        found = recognizer.read(path, top_k=1)
        assert len(found) >= 2, path.name


@pytest.fixture(scope="module")
def test_inks() -> list[np.ndarray]:
    """Seed drawings, every 25th: glyphs of every shape to carve."""
    if not (DATA / "jiaguwen").exists():
        pytest.skip(f"no data at {DATA}")
    return [square_glyph(p) for p in sorted((DATA / "jiaguwen" / "i").glob("*.jpg"))[::25]]
