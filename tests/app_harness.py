"""The app as a user meets it: `python app.py` in a subprocess, and Chromium to draw on it.

conftest.py loads it as a plugin: its fixtures serve every test module, and each module that
uses `app` gets its own server.
"""

from __future__ import annotations

import itertools
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BUNDLED = ROOT / "src" / "oracle_bones" / "pretrained"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip
CANVAS = 400  # the Sketchpad's canvas_size in app.py

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
def client(app: App):
    """A gradio_client on the module's server."""
    from gradio_client import Client

    return Client(app.url, verbose=False)


@pytest.fixture(scope="module")
def recognizer(model_dir: Path):
    import torch

    from oracle_bones import Recognizer

    torch.set_num_threads(1)
    return Recognizer.from_pretrained(model_dir)


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} missing: apt-get install -y chromium fonts-noto-cjk")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


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


def recognisable_glyph(recognizer, top_k: int = 5) -> str:
    """The first of STROKES that the model puts in its top `top_k`."""
    for char, strokes in STROKES.items():
        if char in [p.label for p in recognizer.predict(render_strokes(strokes), top_k=top_k)]:
            return char
    pytest.fail(f"the model recognises none of the hand-drawn glyphs {list(STROKES)}")


def canvas_scale(page) -> float:
    """Wait for the Sketchpad's brush to be picked; its zoom: screen px per canvas px."""
    page.locator("#sketchpad canvas").first.wait_for(timeout=30_000)
    brush = page.locator('#sketchpad button[aria-label="Brush"]')
    page.wait_for_function("b => b.classList.contains('highlight')", arg=brush.element_handle())
    zoom = page.locator("#sketchpad").get_by_text("%", exact=False).first.inner_text()
    return float(zoom.strip().rstrip("%")) / 100


def draw(page, strokes, scale: float, touch=None) -> None:
    """Draw the strokes on the Sketchpad: with the mouse, or with a finger through `touch`, a
    CDP session (`Input.dispatchTouchEvent`: a real touchstart/touchmove/touchend sequence)."""
    box = page.locator("#sketchpad canvas").first.bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    for stroke in strokes:
        points = [(cx + (x - CANVAS / 2) * scale, cy + (y - CANVAS / 2) * scale) for x, y in stroke]
        path = [points[0]] + [
            (x0 + (x1 - x0) * i / 10, y0 + (y1 - y0) * i / 10)
            for (x0, y0), (x1, y1) in itertools.pairwise(points)
            for i in range(1, 11)
        ]
        if touch is None:
            page.mouse.move(*path[0])
            page.mouse.down()
            for x, y in path[1:]:
                page.mouse.move(x, y)
            page.mouse.up()
            continue
        for kind, (x, y) in [("touchStart", path[0])] + [("touchMove", p) for p in path[1:]]:
            event = {"type": kind, "touchPoints": [{"x": x, "y": y}]}
            touch.send("Input.dispatchTouchEvent", event)
            page.wait_for_timeout(5)  # a finger moves at a finger's pace
        touch.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
