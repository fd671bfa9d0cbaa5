"""The README's screenshot: the Space on the bundled model in Chromium, a glyph drawn with the
mouse on its Sketchpad, the top 10 and known forms beside it.

    python docs/screenshot.py [--out docs/screenshot.png] [--char 田]

It drives the app as the browser tests do (`tests/app_harness.py`: `python app.py` on a free
port, Debian's Chromium through Playwright), so the picture is of the app as it runs today.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from app_harness import BUNDLED, CHROMIUM, CHROMIUM_ARGS, STROKES, App, canvas_scale, draw  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshot.png")
    parser.add_argument("--char", default="田", choices=sorted(STROKES))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        app = App(Path(tmp), OBS_MODEL=str(BUNDLED), HF_HUB_OFFLINE="1")
        try:
            app.wait_ready(120)
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                page.goto(app.url)
                draw(page, STROKES[args.char], canvas_scale(page))
                page.locator("#known-forms img").first.wait_for(timeout=30_000)
                # the answer to the last stroke, and the banner and choices after it, settled
                settled = "() => document.querySelector('#banner .char')?.textContent"
                last, since = None, 0
                while since < 3:
                    page.wait_for_timeout(500)
                    now = page.evaluate(settled)
                    last, since = now, (since + 0.5 if now == last else 0)
                page.screenshot(path=str(args.out), full_page=False)
                browser.close()
        finally:
            app.stop()
    print(f"Wrote {args.out}")


if __name__ == "__main__":
    main()
