"""The app end to end: `python app.py` in a subprocess, driven by gradio_client and Chromium."""

from __future__ import annotations

import itertools
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BUNDLED = ROOT / "src" / "oracle_bones" / "pretrained"
SEED = ROOT.parent / "shared" / "data" / "jiaguwen"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip
SCREENSHOT = ROOT / "build" / "screenshots" / "app.png"
CANVAS = 400  # the Sketchpad's canvas_size in app.py
HINT_WORDS = ("draw a glyph", "canvas is empty", "no ink")

# Simple glyphs as pen strokes on the 400 x 400 canvas (oracle bone forms): the test draws the
# first one the model recognises, so it does not depend on how well a given model was trained.
STROKES = {
    "田": [[(110, 90), (290, 90), (290, 310), (110, 310), (110, 90)],
           [(200, 90), (200, 310)], [(110, 200), (290, 200)]],
    "大": [[(200, 70), (200, 210)], [(80, 160), (200, 130), (320, 160)],
           [(200, 210), (130, 340)], [(200, 210), (270, 340)]],
    "三": [[(100, 110), (300, 110)], [(100, 200), (300, 200)], [(100, 290), (300, 290)]],
    "工": [[(110, 100), (290, 100)], [(200, 100), (200, 300)], [(110, 300), (290, 300)]],
    "口": [[(110, 120), (110, 300), (290, 300), (290, 120)], [(90, 120), (130, 120)],
           [(270, 120), (310, 120)]],
    "日": [[(120, 90), (280, 90), (280, 310), (120, 310), (120, 90)], [(170, 200), (230, 200)]],
    "人": [[(230, 60), (150, 340)], [(185, 180), (260, 300)]],
    "木": [[(200, 60), (200, 340)], [(200, 190), (120, 90)], [(200, 190), (280, 90)],
           [(200, 250), (120, 340)], [(200, 250), (280, 340)]],
}  # fmt: skip

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class App:
    """`python app.py` on a free port; `log()` is what it printed."""

    def __init__(self, tmp: Path, **env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.log_path = tmp / f"app-{self.port}.log"
        full_env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("HF_", "OBS_"))},
            "GRADIO_SERVER_NAME": "127.0.0.1",
            "GRADIO_SERVER_PORT": str(self.port),
            "GRADIO_ANALYTICS_ENABLED": "False",
            "OMP_NUM_THREADS": "1",
            "HF_HOME": str(tmp / "hf_home"),  # an empty Hub cache
            **env,
        }
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "app.py"], cwd=ROOT, env=full_env, stdout=log, stderr=log
            )
        self.started = time.monotonic()

    def wait_ready(self, timeout: float) -> float:
        """Seconds from launch until the page answers."""
        while time.monotonic() - self.started < timeout:
            if self.proc.poll() is not None:
                pytest.fail(f"app.py exited with {self.proc.returncode}:\n{self.log()}")
            try:
                with urllib.request.urlopen(self.url, timeout=2) as r:
                    if r.status == 200:
                        return time.monotonic() - self.started
            except OSError:
                time.sleep(0.2)
        pytest.fail(f"app.py did not answer within {timeout:.0f} s:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture(scope="module")
def model_dir() -> Path:
    if not (BUNDLED / "config.json").exists():
        pytest.skip(f"no bundled model in {BUNDLED} (copy the trained model folder there)")
    return BUNDLED


@pytest.fixture(scope="module")
def app(model_dir: Path, tmp_path_factory):
    server = App(tmp_path_factory.mktemp("app"), OBS_MODEL=str(model_dir), HF_HUB_OFFLINE="1")
    try:
        server.wait_ready(120)
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def recognizer(model_dir: Path):
    import torch

    from oracle_bones import Recognizer

    torch.set_num_threads(1)
    return Recognizer.from_pretrained(model_dir)


@pytest.fixture(scope="module")
def client(app: App):
    from gradio_client import Client

    return Client(app.url, verbose=False)


@pytest.fixture(scope="module")
def test_glyphs() -> dict[str, Path]:
    """Held-out seed glyphs: per character with two or more, the file name that sorts last."""
    if not (SEED / "index.json").exists():
        pytest.skip(f"no seed images at {SEED}")
    files: dict[str, list[str]] = defaultdict(list)
    for item in json.loads((SEED / "index.json").read_text(encoding="utf-8")):
        files[item["name"]].append(item["image"])
    return {c: SEED / "i" / max(f) for c, f in sorted(files.items()) if len(f) >= 2}


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} missing: apt-get install -y chromium fonts-noto-cjk")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


def chars(label_value: dict) -> list[str]:
    """The characters of the Label's rows (each row's label starts with its character)."""
    return [c["label"].split(" ", 1)[0] for c in label_value.get("confidences") or []]


def pen_png(image, path: Path) -> Path:
    from oracle_bones.references import pen_rendering

    pen_rendering(image).save(path)
    return path


def render_strokes(strokes, width: int = 12):
    """The strokes as the Sketchpad's round black brush draws them, on white."""
    from PIL import Image, ImageDraw

    img = Image.new("L", (CANVAS, CANVAS), 255)
    draw = ImageDraw.Draw(img)
    r = width / 2
    for stroke in strokes:
        draw.line(stroke, fill=0, width=width, joint="curve")
        for x, y in stroke:
            draw.ellipse((x - r, y - r, x + r, y + r), fill=0)
    return img


def recognised_strokes(recognizer, top_k: int = 5) -> str:
    """The first glyph of STROKES the model has among its top `top_k`, drawn as the brush does."""
    char = next(
        (c for c, s in STROKES.items() if c in [p.label for p in recognizer.predict(
            render_strokes(s), top_k=top_k)]),
        None,
    )  # fmt: skip
    assert char, f"the model recognises none of the hand-drawn glyphs {list(STROKES)}"
    return char


def draw(page, strokes) -> None:
    """Draw `strokes` (canvas pixels) on the page's Sketchpad with the mouse, no tool clicked."""
    canvas = page.locator("#sketchpad canvas").first
    canvas.wait_for(timeout=30_000)
    brush = page.locator('#sketchpad button[aria-label="Brush"]')
    page.wait_for_function("b => b.classList.contains('highlight')", arg=brush.element_handle())
    zoom = page.locator("#sketchpad").get_by_text("%", exact=False).first.inner_text()
    scale = float(zoom.strip().rstrip("%")) / 100
    box = canvas.bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    for stroke in strokes:
        points = [(cx + (x - CANVAS / 2) * scale, cy + (y - CANVAS / 2) * scale)
                  for x, y in stroke]  # fmt: skip
        page.mouse.move(*points[0])
        page.mouse.down()
        for (x0, y0), (x1, y1) in itertools.pairwise(points):
            for i in range(1, 11):
                page.mouse.move(x0 + (x1 - x0) * i / 10, y0 + (y1 - y0) * i / 10)
        page.mouse.up()


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
    char = recognised_strokes(recognizer)
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    try:
        page.goto(app.url)
        draw(page, STROKES[char])
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
            status = page.locator("#model-status")
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
