"""Pictures written to disk as users send them, good and bad: shared by test_glyph.py (the
decoders on their own) and test_bad_input.py (the same files through the running app)."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

SIDE = 96


def cross(side: int = SIDE, paper: int = 255, ink: int = 0) -> Image.Image:
    """A cross on a plain ground (mode L): symmetric, so the expected tensor is easy to state."""
    img = Image.new("L", (side, side), paper)
    draw = ImageDraw.Draw(img)
    lo, hi, a, b = side * 0.2, side * 0.8, side * 0.45, side * 0.55
    draw.rectangle([a, lo, b, hi], fill=ink)
    draw.rectangle([lo, a, hi, b], fill=ink)
    return img


def in_mode(img: Image.Image, mode: str) -> Image.Image:
    """`img` (L) in any PIL mode; 16-bit modes span the full 16-bit range, as a scanner's do."""
    if mode.startswith("I;16"):
        dtype = ">u2" if mode == "I;16B" else "<u2"
        return Image.fromarray((np.asarray(img).astype(np.uint32) * 257).astype(dtype))
    return img.convert(mode)


def on_transparent(mode: str) -> Image.Image:
    """A black cross on fully transparent *black*: only honouring the alpha makes paper white."""
    mask = cross(paper=0, ink=255)
    if mode == "P":
        img = Image.new("P", mask.size, 0)
        img.putpalette([0, 0, 0] * 2)  # both entries black; entry 0 is made transparent
        img.paste(1, mask=mask)
        img.info["transparency"] = 0
        return img
    img = Image.new(mode, mask.size, 0)
    img.putalpha(mask)
    return img


def l_shape() -> Image.Image:
    """Asymmetric, so a missed or wrong rotation shows."""
    img = Image.new("L", (120, 80), 255)
    draw = ImageDraw.Draw(img)
    draw.rectangle([10, 10, 25, 70], fill=0)
    draw.rectangle([10, 55, 100, 70], fill=0)
    return img


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def write_bilevel_png(path: Path, width: int, height: int) -> Path:
    """A valid all-black 1-bit PNG of any size, compressed while streamed: huge, yet small."""
    z, zeros = zlib.compressobj(9), bytes(1 << 20)
    left, parts = ((width + 7) // 8 + 1) * height, []  # one filter byte per row
    while left > 0:
        parts.append(z.compress(zeros[: min(left, len(zeros))]))
        left -= len(zeros)
    parts.append(z.flush())
    header = png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0))
    idat = png_chunk(b"IDAT", b"".join(parts))
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + header + idat + png_chunk(b"IEND", b""))
    return path


def encoded(fmt: str) -> bytes:
    """A cross encoded as `fmt`, in memory."""
    buf = io.BytesIO()
    cross(side=200).convert("RGB").save(buf, format=fmt)
    return buf.getvalue()


def write_exif_rotated(upright: Image.Image, path: Path, orientation: int) -> Path:
    """A JPEG whose pixels lie rotated and whose EXIF Orientation says how to stand them up."""
    stored = {3: Image.Transpose.ROTATE_180, 6: Image.Transpose.ROTATE_90}.get(orientation)
    pixels = upright.transpose(stored) if stored else upright.transpose(Image.Transpose.ROTATE_270)
    exif = Image.Exif()
    exif[0x0112] = orientation
    pixels.convert("RGB").save(path, exif=exif, quality=95)
    return path


def write_animated_gif(path: Path, first: Image.Image) -> Path:
    """Two frames: `first`, then a different bar; only the first frame is the glyph."""
    second = Image.new("L", first.size, 255)
    w, h = first.size
    ImageDraw.Draw(second).rectangle([w * 0.4, h * 0.05, w * 0.5, h * 0.95], fill=0)
    first.convert("P").save(
        path, save_all=True, append_images=[second.convert("P")], duration=100, loop=0
    )
    return path


def photo(side: int = 6000) -> Image.Image:
    """A phone photo: uneven paper with grain, a dark brush cross."""
    grain = np.random.default_rng(0).normal(200, 12, (60, 60, 3)).clip(0, 255).astype(np.uint8)
    img = Image.fromarray(grain).resize((side, side), Image.Resampling.BICUBIC)
    img.paste((40, 30, 30), mask=cross(side=side, paper=0, ink=255))
    return img
