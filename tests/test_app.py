"""The app end to end: `python app.py` in a subprocess, driven by gradio_client and Chromium."""

from __future__ import annotations

import json
import time
from collections import defaultdict
from pathlib import Path

import pytest
from app_harness import ROOT, STROKES, App, canvas_scale, draw, free_port, recognisable_glyph

SEED = ROOT.parent / "shared" / "data" / "jiaguwen"
SCREENSHOT = ROOT / "build" / "screenshots" / "app.png"
HINT_WORDS = ("draw a glyph", "canvas is empty", "no ink")
pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


@pytest.fixture(scope="module")
def test_glyphs() -> dict[str, Path]:
    """Held-out seed glyphs: per character with two or more, the file name that sorts last."""
    if not (SEED / "index.json").exists():
        pytest.skip(f"no seed images at {SEED}")
    files: dict[str, list[str]] = defaultdict(list)
    for item in json.loads((SEED / "index.json").read_text(encoding="utf-8")):
        files[item["name"]].append(item["image"])
    return {c: SEED / "i" / max(f) for c, f in sorted(files.items()) if len(f) >= 2}


def chars(label_value: dict) -> list[str]:
    """The characters of the Label's rows (each row's label starts with its character)."""
    return [c["label"].split(" ", 1)[0] for c in label_value.get("confidences") or []]


def pen_png(image, path: Path) -> Path:
    from oracle_bones.space.forms import pen_rendering

    pen_rendering(image).save(path)
    return path


def test_predict_api_matches_the_recognizer(client, recognizer, test_glyphs, tmp_path):
    """(a) /predict on pen-drawn held-out glyphs and a seed image: the Recognizer's answer."""
    from gradio_client import handle_file

    pngs = {c: pen_png(test_glyphs[c], tmp_path / f"{c}.png") for c in list(test_glyphs)[:60]}
    top10 = {c: [x.label for x in recognizer.predict(p, top_k=10)] for c, p in pngs.items()}
    known = [c for c in pngs if c in top10[c]][:5]
    assert len(known) >= 3, f"the model finds too few of {list(pngs)} in its top 10: {known}"
    seed = test_glyphs[known[0]]  # a seed image as it is, a 50 x 50 JPEG
    for path in [*(pngs[c] for c in known), seed]:
        result = client.predict(handle_file(str(path)), api_name="/predict")
        expected = recognizer.predict(path, top_k=10)
        assert len(result["confidences"]) == 10, result
        assert chars(result) == [p.label for p in expected], path
        for row, p in zip(result["confidences"], expected, strict=True):
            assert row["confidence"] == pytest.approx(p.score, abs=1e-4)
        assert result["label"].startswith(expected[0].label + " "), result["label"]
    for char in known:
        assert char in chars(client.predict(handle_file(str(pngs[char])), api_name="/predict"))


def test_empty_input_gives_a_hint_and_the_server_carries_on(client, test_glyphs, tmp_path):
    """(c) An empty Sketchpad value, a blank picture or a damaged file: a message, no error."""
    from gradio_client import handle_file
    from PIL import Image

    empty = client.predict(
        {"background": None, "layers": [], "composite": None}, api_name="/predict_drawing"
    )
    blank = tmp_path / "blank.png"
    Image.new("RGB", (300, 300), "white").save(blank)
    damaged = tmp_path / "damaged.png"
    damaged.write_bytes(b"\x89PNG\r\n\x1a\n" + b"not really a png" * 10)
    for result in (empty, client.predict(handle_file(str(blank)), api_name="/predict")):
        assert not result.get("confidences"), result
        assert any(w in result["label"].lower() for w in HINT_WORDS), result
    bad = client.predict(handle_file(str(damaged)), api_name="/predict")
    assert not bad.get("confidences") and "image" in bad["label"].lower(), bad
    good = client.predict(handle_file(str(next(iter(test_glyphs.values())))), api_name="/predict")
    assert len(good["confidences"]) == 10


def test_drawing_in_the_browser(app, browser, recognizer):
    """(b) Strokes drawn with the mouse, no tool clicked first: ten rows, the glyph among them."""
    char = recognisable_glyph(recognizer)
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    try:
        page.goto(app.url)
        draw(page, STROKES[char], canvas_scale(page))
        rows = page.locator('#predictions [data-testid$="-confidence-set"]')
        rows.nth(9).wait_for(timeout=30_000)
        deadline = time.monotonic() + 20  # the last stroke's prediction may still be on its way
        while True:
            labels = page.locator("#predictions dt").all_inner_texts()
            if char in [t.split(" ", 1)[0] for t in labels] or time.monotonic() > deadline:
                break
            page.wait_for_timeout(250)
        assert rows.count() == 10
        assert char in [t.split(" ", 1)[0] for t in labels], labels
        page.locator("#known-forms img").first.wait_for(timeout=10_000)
        page.wait_for_timeout(500)
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOT), full_page=True)
    finally:
        page.close()


@pytest.mark.parametrize(
    ("strokes", "expected"),
    [([[(150, 200), (250, 200)]], "一"), ([[(24, 376), (27, 377)]], None)],
    ids=["short-line", "dot-in-a-corner"],
)
def test_little_ink_in_the_browser_is_a_glyph(app, browser, strokes, expected):
    """A short stroke (一 a quarter of the 400-pixel canvas wide) or a dot in a corner, drawn on
    the real Sketchpad: ten candidates, not "No ink found" (ink under 0.5% of the canvas was
    once taken for paper)."""
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    try:
        page.goto(app.url)
        draw(page, strokes, canvas_scale(page))
        rows = page.locator('#predictions [data-testid$="-confidence-set"]')
        rows.nth(9).wait_for(timeout=30_000)
        assert rows.count() == 10
        assert "No ink" not in page.locator("#predictions").inner_text()
        if expected:
            labels = page.locator("#predictions dt").all_inner_texts()
            assert expected in [t.split(" ", 1)[0] for t in labels[:3]], labels
    finally:
        page.close()


def test_unreachable_hub_falls_back_to_the_bundled_model(model_dir, browser, tmp_path):
    """(d) OBS_MODEL names a Hub repo and the Hub is down: the bundled model answers, and the
    page says so in one quiet line."""
    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    server = App(tmp_path, OBS_MODEL="some/repo", HF_ENDPOINT=dead)
    try:
        print(f"ready after {server.wait_ready(120):.1f} s")
        page = browser.new_page()
        try:
            page.goto(server.url)
            # the Markdown's text: its status tracker holds an invisible (opacity 0) timer
            status = page.locator("#model-status [data-testid=markdown]")
            page.wait_for_function(
                "e => e.innerText.includes('could not load')", arg=status.element_handle()
            )
            line = status.inner_text().strip()
            assert "\n" not in line and len(line) < 300, line
            assert "bundled model" in line and "some/repo" in line and dead in line, line
        finally:
            page.close()
        assert "serving the bundled model" in server.log()
    finally:
        server.stop()
