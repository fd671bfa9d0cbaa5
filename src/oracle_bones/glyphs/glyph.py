"""Glyph normalisation: any picture of a glyph -> the model's input tensor.

One path for training, evaluation and serving, so the model always sees the same kind of
picture: grey, ink high, cropped to the ink, centred in a square with a margin, fixed size.
"""

from __future__ import annotations

import contextlib
import io
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError
from scipy import ndimage

from .photo import photo_ink
from .polarity import positive

INPUT_SIZE = 64
MARGIN = 0.08  # of the glyph's longer side, on each side
MAX_PIXELS = 50_000_000  # a 6,000 x 6,000 photo passes; a 40,000 x 40,000 bomb does not
MAX_BYTES = 50 * 1024 * 1024
WORK_SIDE = 512  # big pictures are reduced to this before any per-pixel work
DETAIL_SIDE = 4096  # a small glyph in a big picture is read again from up to this many pixels
SMALL_GLYPH = 0.25  # of the working picture's longer side: a glyph under this is read again
MIN_CONTRAST = 0.15  # ink must differ from the paper by this much (0..1 grey scale)
DARK_PERCENTILE = 0.5  # the ink's darkness: robust to specks when ink covers >= 0.5% of the page
MIN_INK_PIXELS = 4  # with less ink than that (a short stroke, a dot), the 4th darkest pixel
INK_LEVEL = 0.35  # after contrast stretch, what counts as ink when cropping
WHITE_PAPER = 0.97  # clean drawings: three quarters of the picture's edge at least this white

Image.MAX_IMAGE_PIXELS = MAX_PIXELS  # Pillow's own guard, for decoders that bypass ours


class GlyphError(ValueError):
    """The input cannot be turned into a glyph."""


class EmptyDrawing(GlyphError):
    """The picture holds no ink: an empty canvas, a blank page."""


class InvalidImage(GlyphError):
    """The input is not a decodable image, or is too large to decode safely."""


def to_tensor(image: Any, size: int = INPUT_SIZE) -> torch.Tensor:
    """Normalise any glyph input to a float tensor (1, size, size), ink 1.0, paper 0.0."""
    return torch.from_numpy(fit(square_glyph(image), size))[None]


def fit(square: np.ndarray, size: int = INPUT_SIZE) -> np.ndarray:
    """The cropped square at `size`, darkest stroke 1.0 (thin lines from a big canvas stay visible).

    Training caches this beside the skeleton of the same square, so it is its own step.
    """
    ink = resize(square, size)
    return ink / max(float(ink.max()), 1e-6)


def square_glyph(image: Any) -> np.ndarray:
    """The glyph cropped to its ink and centred in a square with a margin (float32, ink high).

    Kept at working resolution (at most WORK_SIDE) so pen re-drawing can use the detail.
    """
    try:
        ink = ink_map(image)
    except EmptyDrawing:
        ink = _read_closer(image)
        if ink is None:
            raise
    box = _ink_box(ink)
    if box is None:
        raise EmptyDrawing("No ink found: draw a glyph or upload a picture of one.")
    ink = _in_detail(image, ink, box)
    h, w = ink.shape
    side = max(h, w) + 2 * max(1, round(MARGIN * max(h, w)))
    out = np.zeros((side, side), np.float32)
    top, left = (side - h) // 2, (side - w) // 2
    out[top : top + h, left : left + w] = ink
    return out


def _ink_box(ink: np.ndarray) -> tuple[slice, slice] | None:
    """Rows and columns of the ink's bounding box; None when there is none."""
    ys, xs = np.nonzero(ink > INK_LEVEL)
    if len(ys) == 0:
        return None
    return slice(ys.min(), ys.max() + 1), slice(xs.min(), xs.max() + 1)


def _read_closer(image: Any) -> np.ndarray | None:
    """Ink of a big picture read at twice the working size, where the working copy showed none:
    a glyph small in a phone photo may be a few faint pixels there. None: no more to see."""
    if isinstance(image, dict):
        return None
    try:
        grey = grey_array(_rewound(image), 2 * WORK_SIDE)
        return grey_ink(grey, 2 * WORK_SIDE) if max(grey.shape) > WORK_SIDE else None
    except GlyphError:
        return None


def _in_detail(image: Any, ink: np.ndarray, box: tuple[slice, slice]) -> np.ndarray:
    """The glyph's ink cropped to its box; a glyph small in a big picture (a phone photo of a
    page) is read again from the picture's own pixels around it, not from the working copy, in
    which it may be a few pixels across."""
    ys, xs = box
    longer = max(ys.stop - ys.start, xs.stop - xs.start)
    if isinstance(image, dict) or longer > SMALL_GLYPH * max(ink.shape):
        return ink[box]
    # Decoded only as finely as needed for the glyph and its size of paper on each side to fill
    # a working picture (reduced by area, so thin strokes survive), DETAIL_SIDE at most.
    wanted = round(max(ink.shape) * WORK_SIDE / (3 * longer))
    try:
        grey = grey_array(_rewound(image), min(DETAIL_SIDE, wanted))
    except GlyphError:
        return ink[box]
    scale = max(grey.shape) / max(ink.shape)
    if scale < 1.5:  # the working copy already has the picture's detail
        return ink[box]
    # The paper round the glyph, against which its ink is read: the glyph's size on each side,
    # and at least a working picture's worth of the photo's pixels in all.
    pad = max(longer, (WORK_SIDE / scale - longer) / 2)

    def span(s: slice, n: int) -> slice:
        return slice(max(0, round((s.start - pad) * scale)), min(n, round((s.stop + pad) * scale)))

    try:
        detail = grey_ink(grey[span(ys, grey.shape[0]), span(xs, grey.shape[1])])
    except EmptyDrawing:  # the paper round it read differently: keep the first reading
        return ink[box]
    near = _ink_box(detail)
    if near is None or _hollowness(detail[near]) > _hollowness(ink[box]) + 0.1:
        return ink[box]  # a blob wider than the paper's estimate reaches reads hollow: keep
    return detail[near]


def _hollowness(ink: np.ndarray) -> float:
    """The share of the ink's filled outline that is enclosed paper (the inside of 口)."""
    mask = ink > INK_LEVEL
    return 1.0 - float(mask.sum()) / max(float(ndimage.binary_fill_holes(mask).sum()), 1.0)


def _rewound(image: Any) -> Any:
    """`image`, a file object read again from its start (it is decoded more than once)."""
    if hasattr(image, "read") and hasattr(image, "seek"):
        with contextlib.suppress(OSError):  # not seekable: read empty, then refused
            image.seek(0)
    return image


def resize(ink: np.ndarray, size: int) -> np.ndarray:
    """Area-averaged resize of a float image (keeps thin strokes visible when shrinking)."""
    if ink.shape == (size, size):
        return ink.astype(np.float32, copy=False)
    img = Image.fromarray(ink.astype(np.float32), mode="F")
    method = Image.Resampling.BOX if ink.shape[0] > size else Image.Resampling.BILINEAR
    return np.asarray(img.resize((size, size), method), dtype=np.float32).clip(0.0, 1.0)


def ink_map(image: Any, side: int = WORK_SIDE) -> np.ndarray:
    """Any picture -> ink strength in [0, 1], whatever the polarity of paper and ink.

    A clean drawing (white along its edges) is read against one paper level; anything else,
    such as a photo, against the paper's light around each pixel (`photo.photo_ink`).
    """
    return grey_ink(grey_array(image, side), side)


def grey_ink(grey: np.ndarray, side: int = WORK_SIDE) -> np.ndarray:
    """`ink_map` of a grey picture `grey_array` already gave (or a part of one): read at most
    `side` pixels, and not turned over a second time (`polarity` has judged the whole)."""
    grey = _grey(grey, side)
    border = _border(grey)
    paper = float(np.median(border))
    if paper < 0.5:  # light ink on a dark ground, such as a rubbing
        grey, paper, border = 1.0 - grey, 1.0 - paper, 1.0 - border
    if not is_drawing(grey):  # tinted, shaded or grainy paper: a photo
        ink = photo_ink(grey)
        if ink is None:
            raise EmptyDrawing("No ink found: draw a glyph or upload a picture of one.")
        return ink
    darkest = float(np.percentile(grey if grey.size < 65_536 else grey[::2, ::2], DARK_PERCENTILE))
    if paper - darkest < MIN_CONTRAST:  # little ink (a dot, one short line): any visible stroke
        k = min(MIN_INK_PIXELS, grey.size) - 1
        darkest = float(np.partition(grey, k, axis=None)[k])
    if paper - darkest < MIN_CONTRAST:
        raise EmptyDrawing("No ink found: draw a glyph or upload a picture of one.")
    return ((paper - grey) / (paper - darkest)).clip(0.0, 1.0).astype(np.float32)


def is_drawing(grey: np.ndarray) -> bool:
    """A clean drawing, read against one paper level: three quarters of its edge at least
    WHITE_PAPER white (or as black, for light ink on a dark ground). Anything else is a photo."""
    border = _border(grey)
    if np.median(border) < 0.5:
        border = 1.0 - border
    return bool(np.percentile(border, 25) >= WHITE_PAPER)


def _border(grey: np.ndarray) -> np.ndarray:
    return np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])


def grey_array(image: Any, side: int = WORK_SIDE) -> np.ndarray:
    """Any supported input -> float32 grey in [0, 1], transparency composited onto white, at
    most `side` pixels wide and high; dark ink on light paper whatever the picture's polarity:
    light marks on a dark ground (a rubbing, a negative) are turned over (`polarity`)."""
    return positive(_grey(image, side))


def _grey(image: Any, side: int) -> np.ndarray:
    if isinstance(image, dict):
        return _sketchpad(image)
    if isinstance(image, np.ndarray):
        return _array_grey(image, side)
    if isinstance(image, torch.Tensor):
        return _array_grey(image.detach().cpu().numpy(), side)
    if not isinstance(image, Image.Image):
        image = open_image(image, side)
    return _pil_grey(image, side)


def open_image(source: str | os.PathLike | bytes | Any, side: int = WORK_SIDE) -> Image.Image:
    """Decode a path, bytes or file object safely: the size is checked before decoding.

    A big JPEG is decoded at reduced scale (no less than `side`); `info["full_size"]` keeps
    its size as stored.
    """
    try:
        if isinstance(source, (bytes, bytearray, memoryview)):
            data = bytes(source)
        elif isinstance(source, (str, os.PathLike)):
            path = Path(source)
            if path.stat().st_size > MAX_BYTES:
                raise InvalidImage(f"{path.name}: file larger than {MAX_BYTES >> 20} MB.")
            data = path.read_bytes()
        elif hasattr(source, "read"):
            data = source.read(MAX_BYTES + 1)
        else:
            raise InvalidImage(f"Unsupported input type: {type(source).__name__}.")
    except OSError as e:
        raise InvalidImage(f"Cannot read the file: {e.strerror or e}.") from e
    if not data:
        raise InvalidImage("The file is empty.")
    if len(data) > MAX_BYTES:
        raise InvalidImage(f"File larger than {MAX_BYTES >> 20} MB.")
    if data.lstrip()[:5] in (b"<?xml", b"<svg ") or b"<svg" in data[:512]:
        raise InvalidImage("SVG is not supported: export the drawing as PNG or JPEG.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
            w, h = img.size  # read from the header; nothing decoded yet
            if w * h > MAX_PIXELS:
                raise InvalidImage(
                    f"Image too large ({w} x {h} pixels); the limit is 50 megapixels."
                )
            if img.format == "JPEG":
                img.draft("RGB", (side, side))  # decode at reduced scale: fast
            img.load()
            upright = ImageOps.exif_transpose(img)
            turned = (upright.width > upright.height) != (w > h)
            upright.info["full_size"] = (h, w) if turned else (w, h)  # before any reduction
            return upright
    except InvalidImage:
        raise
    except UnidentifiedImageError as e:
        raise InvalidImage("Not an image format we can read: upload a PNG, JPEG or WebP.") from e
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        raise InvalidImage(f"Image too large to decode safely: {e}") from e
    except (OSError, SyntaxError, ValueError, EOFError) as e:  # truncated or corrupt data
        raise InvalidImage(f"The image file is damaged or truncated: {e}") from e


def _pil_grey(img: Image.Image, side: int = WORK_SIDE) -> np.ndarray:
    if max(img.size) > side:
        factor = -(-max(img.size) // side)
        try:
            img = img.reduce(factor)  # integer box reduction: several times faster than resize
        except ValueError:  # modes reduce() does not handle (palette, 1-bit)
            img = img.copy()
            img.thumbnail((side, side), Image.Resampling.BOX)
    if img.mode.startswith("I;16"):  # 16-bit: a value of 255 is near black, not white
        return _array_grey(np.asarray(img, dtype=np.float32) / 65535.0, side)
    if img.mode in ("I", "F"):
        return _array_grey(np.asarray(img), side)
    if img.mode == "CMYK":
        img = img.convert("RGB")
    if img.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in img.info:
        paper = Image.new("RGBA", img.size, (255, 255, 255, 255))
        img = Image.alpha_composite(paper, img.convert("RGBA"))  # in C: fast
    return np.asarray(img.convert("L"), dtype=np.float32) / 255.0


def _array_grey(arr: np.ndarray, side: int = WORK_SIDE) -> np.ndarray:
    """numpy input: (H, W), (H, W, 1|2|3|4), bool, uint8/uint16 or float in [0, 1]."""
    arr = np.asarray(arr)
    if arr.ndim == 3 and arr.shape[0] in (1, 3, 4) and arr.shape[-1] not in (1, 2, 3, 4):
        arr = np.moveaxis(arr, 0, -1)  # channels-first (a tensor)
    if arr.ndim not in (2, 3) or min(arr.shape[:2]) < 1 or arr.size == 0:
        raise InvalidImage(f"Expected an image array (H, W[, C]); got shape {arr.shape}.")
    if arr.shape[0] * arr.shape[1] > MAX_PIXELS:
        raise InvalidImage(f"Image too large ({arr.shape[1]} x {arr.shape[0]} pixels).")
    if max(arr.shape[:2]) > side:  # before scaling: no float copy of a huge array
        step = int(np.ceil(max(arr.shape[:2]) / side))
        arr = arr[::step, ::step]
    a = _unit_scale(arr)
    if a.ndim == 2 or a.shape[-1] == 1:
        return a.reshape(a.shape[:2])
    if a.shape[-1] == 3:
        return _luma(a)
    return _composite(_with_alpha(a))


def _unit_scale(arr: np.ndarray) -> np.ndarray:
    """bool, uint8-range or wider integers, floats in [0, 1] or [0, 255] -> float32 in [0, 1]."""
    if arr.dtype == bool:
        return arr.astype(np.float32)
    if np.issubdtype(arr.dtype, np.integer):
        top = 255.0 if arr.max(initial=0) <= 255 else float(np.iinfo(arr.dtype).max)
        return arr.astype(np.float32) / top
    a = np.nan_to_num(arr.astype(np.float32))
    hi = float(a.max(initial=0.0))
    return a / hi if hi > 1.0 else a


def _with_alpha(a: np.ndarray) -> np.ndarray:
    """(H, W[, 1|2|3|4]) in [0, 1] -> RGBA; opaque where the array has no alpha channel."""
    if a.ndim == 2:
        a = a[..., None]
    if a.shape[-1] in (1, 2):  # grey (+ alpha)
        a = np.concatenate([a[..., :1].repeat(3, -1), a[..., 1:]], -1)
    if a.shape[-1] == 3:
        a = np.concatenate([a, np.ones_like(a[..., :1])], -1)
    return a[..., :4]


def _luma(rgb: np.ndarray) -> np.ndarray:
    return (rgb[..., :3] @ np.array([0.299, 0.587, 0.114], np.float32)).astype(np.float32)


def _composite(rgba: np.ndarray) -> np.ndarray:
    """RGBA in [0, 1] -> grey on white paper."""
    alpha = rgba[..., 3]
    return _luma(rgba) * alpha + (1.0 - alpha)


def _sketchpad(value: dict) -> np.ndarray:
    """A Gradio ImageEditor/Sketchpad value: composite, else background plus layers."""
    if value.get("composite") is not None:
        return _grey(value["composite"], WORK_SIDE)
    parts = [value.get("background"), *(value.get("layers") or [])]
    parts = [p for p in parts if p is not None]
    if not parts:
        raise EmptyDrawing("The canvas is empty: draw a glyph first.")
    base = _rgba(parts[0])
    for layer in parts[1:]:
        top = _rgba(layer)
        if top.shape != base.shape:
            continue
        alpha = top[..., 3:]
        base = np.concatenate(
            [top[..., :3] * alpha + base[..., :3] * (1 - alpha), np.maximum(alpha, base[..., 3:])],
            -1,
        )
    return _composite(base)


def _rgba(part: Any) -> np.ndarray:
    img = part if isinstance(part, Image.Image) else None
    if isinstance(part, np.ndarray):
        return _with_alpha(_unit_scale(part))
    if img is None:
        img = open_image(part)
    return np.asarray(img.convert("RGBA"), dtype=np.float32) / 255.0
