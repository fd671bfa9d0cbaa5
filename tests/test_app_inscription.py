"""The Inscription tab end to end: `python app.py` in a subprocess (app_harness.App), its `/read`
API through gradio_client, and the tab in Chromium."""

from __future__ import annotations

import re

import numpy as np
import pytest
from conftest import DATA, ROOT
from PIL import Image

from oracle_bones.glyphs.synthetic import glyph_ink, inscription
from oracle_bones.space.annotate import reading_line

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

SEED = DATA / "jiaguwen"
SCREENSHOTS = ROOT / "build" / "screenshots"
FILES = ["3653610.jpg", "3655161.jpg", "3655689.jpg", "3655818.jpg", "3656106.jpg"]


@pytest.fixture(scope="module")
def page_file(tmp_path_factory):
    """Five seed glyphs composed as an inscription, as a PNG file."""
    if not all((SEED / "i" / f).exists() for f in FILES):
        pytest.skip(f"no seed images at {SEED}")
    picture = inscription([glyph_ink(SEED / "i" / f) for f in FILES], np.random.default_rng(7))
    path = tmp_path_factory.mktemp("inscription") / "inscription.png"
    path.write_bytes(picture.data)
    return path


def test_read_api_gives_boxes_reading_and_rows(client, recognizer, page_file):
    from gradio_client import handle_file

    expected = recognizer.read(page_file, top_k=5)
    picture, line, rows = client.predict(handle_file(str(page_file)), api_name="/read")
    assert reading_line(expected) in line and f"{len(expected)} glyphs" in line
    assert rows.count('class="glyph-row"') == len(expected)
    for _, predictions in expected:
        assert all(p.label in rows for p in predictions)
    shown = np.asarray(Image.open(picture).convert("RGB")).astype(int)
    assert Image.open(picture).size == Image.open(page_file).size  # small pictures as they are
    red = (shown[..., 0] > 180) & (shown[..., 1] < 80) & (shown[..., 2] < 80)
    for x0, y0, x1, y1 in (box for box, _ in expected):  # a box drawn round each glyph
        assert red[max(0, y0 - 3) : y1 + 3, max(0, x0 - 3) : x1 + 3].sum() > x1 - x0


def test_read_api_on_bad_and_blank_files(client, tmp_path, page_file):
    from gradio_client import handle_file

    blank = tmp_path / "blank.png"
    Image.new("RGB", (400, 300), "white").save(blank)
    damaged = tmp_path / "damaged.jpg"
    damaged.write_bytes(b"\xff\xd8\xff\xe0" + b"broken" * 30)
    picture, line, rows = client.predict(handle_file(str(blank)), api_name="/read")
    assert picture is None and "no ink" in line.lower() and not rows
    picture, line, rows = client.predict(handle_file(str(damaged)), api_name="/read")
    assert picture is None and "image" in line.lower() and not rows
    _, line, rows = client.predict(handle_file(str(page_file)), api_name="/read")
    assert 'class="glyph-row"' in rows  # the server carries on


def test_inscription_tab_in_the_browser(app, browser, recognizer, page_file):
    """Upload a picture on the Inscription tab: the picture comes back with its boxes, one row
    per glyph with five candidates and known forms, and the reading line."""
    expected = recognizer.read(page_file, top_k=5)
    page = browser.new_page(viewport={"width": 1280, "height": 1400})
    try:
        page.goto(app.url)
        results = page.locator("#results")
        results.wait_for(state="visible", timeout=30_000)
        page.get_by_role("tab", name="Inscription").click()
        results.wait_for(state="hidden", timeout=10_000)  # the single glyph's answers go
        page.locator("#inscription-upload input[type=file]").set_input_files(str(page_file))
        rows = page.locator("#glyph-rows .glyph-row")
        rows.nth(len(expected) - 1).wait_for(timeout=30_000)
        assert rows.count() == len(expected)
        for k, (_, predictions) in enumerate(expected):
            assert rows.nth(k).locator(".candidates li").count() == 5
            assert predictions[0].label in rows.nth(k).inner_text()
        page.locator("#glyph-rows .forms img").first.wait_for(timeout=10_000)
        page.locator("#inscription-boxes img").first.wait_for(timeout=10_000)
        line = page.locator("#reading-line").inner_text()
        assert reading_line(expected) in re.sub(r"\s", "", line)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "inscription.png"), full_page=True)
        upload_label = page.get_by_text("rubbings", exact=False).first.inner_text()
        assert "turned over and read" in upload_label
        page.get_by_role("tab", name="Draw").click()
        results.wait_for(state="visible", timeout=10_000)  # and come back with the drawing
    finally:
        page.close()


def test_the_inscription_example_is_read_when_clicked(app, browser, recognizer):
    """The tab's example (six held-out glyphs in two columns): one click, six glyph rows, read as
    the recogniser reads the file."""
    example = ROOT / "examples" / "inscriptions" / "大月火田羊门.png"
    expected = recognizer.read(example, top_k=5)
    assert len(expected) == 6
    page = browser.new_page(viewport={"width": 1280, "height": 1400})
    try:
        page.goto(app.url)
        page.get_by_role("tab", name="Inscription").click()
        page.get_by_role("tabpanel").locator(".gallery-item, button:has(img)").first.click()
        rows = page.locator("#glyph-rows .glyph-row")
        rows.nth(5).wait_for(timeout=30_000)
        assert rows.count() == 6
        line = re.sub(r"\s", "", page.locator("#reading-line").inner_text())
        assert reading_line(expected) in line
    finally:
        page.close()
