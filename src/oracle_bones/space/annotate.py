"""An inscription's reading, shown: the picture with a numbered box round each glyph, and one
HTML row per glyph (its candidates and their known forms) for the app's Inscription tab."""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from typing import Any

from PIL import Image, ImageDraw, ImageFont

from ..glyphs.glyph import open_image
from ..reading.inscription import Box
from ..reading.recognizer import Prediction

BOX_COLOUR = (220, 38, 38)
SHOWN_SIDE = 1024  # the annotated picture is at most this big: it is for the page, not for print

Reading = Sequence[tuple[Box, Sequence[Prediction]]]


def numbered_boxes(image: Any, boxes: Sequence[Box]) -> Image.Image:
    """The picture (RGB, at most SHOWN_SIDE) with each box drawn and numbered in reading order."""
    picture = image if isinstance(image, Image.Image) else open_image(image)
    full = picture.info.get("full_size", picture.size)
    picture = picture.convert("RGB")
    picture.thumbnail((SHOWN_SIDE, SHOWN_SIDE))
    scale = picture.width / full[0]
    line = max(2, round(picture.width / 300))
    font = ImageFont.load_default(size=max(12, round(picture.width / 30)))
    draw = ImageDraw.Draw(picture)
    for n, box in enumerate(boxes, 1):
        x0, y0, x1, y1 = (round(v * scale) for v in box)
        draw.rectangle((x0 - line, y0 - line, x1 + line, y1 + line), outline=BOX_COLOUR, width=line)
        label = str(n)
        tx, ty = x0 - line, max(0, y0 - line - font.size - 4)
        draw.rectangle(draw.textbbox((tx, ty), label, font=font), fill=BOX_COLOUR)
        draw.text((tx, ty), label, font=font, fill="white")
    return picture


def reading_line(reading: Reading) -> str:
    """Each glyph's first candidate, in reading order."""
    return "".join(predictions[0].label for _, predictions in reading if predictions)


def glyph_rows(
    reading: Reading,
    describe: Callable[[str], str],
    forms: Callable[[dict[str, float]], str],
) -> str:
    """One row per glyph: its number, its candidates (`describe` words each) with their
    probabilities, and `forms` of the candidates (the app's known-forms block)."""
    rows = []
    for n, (_, predictions) in enumerate(reading, 1):
        labelled = {describe(p.label): p.score for p in predictions}
        candidates = "".join(
            f"<li><span>{html.escape(label)}</span> <small>{score:.1%}</small></li>"
            for label, score in labelled.items()
        )
        rows.append(
            f'<div class="glyph-row"><div class="glyph-number">{n}</div>'
            f'<ol class="candidates">{candidates}</ol>{forms(labelled)}</div>'
        )
    return f'<div class="glyph-rows">{"".join(rows)}</div>'
