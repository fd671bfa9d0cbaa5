"""Glyph normalisation on real image files: every input kind gives the same ink-high tensor.

Each picture is a cross drawn with PIL and written to disk, so the decoders run exactly as they
do for a user's upload; bad input must end in a GlyphError subclass, never a crash or a hang.
"""

from __future__ import annotations

import io
import resource
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
from images import (
    SIDE,
    cross,
    encoded,
    in_mode,
    l_shape,
    on_transparent,
    photo,
    write_animated_gif,
    write_bilevel_png,
    write_exif_rotated,
)
from PIL import Image

from oracle_bones.glyphs.glyph import EmptyDrawing, InvalidImage, grey_array, to_tensor


def assert_cross(t: torch.Tensor, paper: float = 0.1) -> None:
    """(1, 64, 64) float, ink high: both arms and the centre are ink, the corners are paper.

    `paper` bounds the corners: a grainy photo's paper keeps some texture after normalising.
    """
    assert t.shape == (1, 64, 64) and t.dtype == torch.float32
    assert float(t.min()) >= 0.0 and float(t.max()) <= 1.0
    g = t[0]
    assert float(g[28:36, 28:36].min()) > 0.8, "centre is not ink"
    assert float(g[32, 12:52].mean()) > 0.8 and float(g[12:52, 32].mean()) > 0.8, "arms missing"
    for corner in (g[:16, :16], g[:16, -16:], g[-16:, :16], g[-16:, -16:]):
        assert float(corner.max()) < paper, "corner is not paper"


def as_input(path: Path, kind: str) -> object:
    """The same file as each input type a caller may hand over."""
    if kind == "path":
        return path
    if kind == "str":
        return str(path)
    if kind == "bytes":
        return path.read_bytes()
    return io.BytesIO(path.read_bytes())  # a file object, as an upload handler gives


# --- every input kind -----------------------------------------------------------------------

MODES = ["1", "L", "LA", "P", "RGB", "RGBA", "CMYK", "I", "F", "I;16", "I;16B"]


@pytest.mark.parametrize("mode", MODES)
def test_pil_image_in_any_mode(mode: str) -> None:
    img = in_mode(cross(), mode)
    assert img.mode == mode
    assert_cross(to_tensor(img))


FILES = [
    ("1", "PNG", "png"),
    ("L", "PNG", "png"),
    ("LA", "PNG", "png"),
    ("P", "PNG", "png"),
    ("RGB", "PNG", "png"),
    ("RGBA", "PNG", "png"),
    ("I;16", "PNG", "png"),
    ("L", "JPEG", "jpg"),
    ("RGB", "JPEG", "jpg"),
    ("CMYK", "JPEG", "jpg"),
    ("P", "GIF", "gif"),
    ("RGB", "BMP", "bmp"),
    ("RGB", "WEBP", "webp"),
    ("L", "TIFF", "tif"),
]


@pytest.mark.parametrize("kind", ["path", "str", "bytes", "file"])
@pytest.mark.parametrize(("mode", "fmt", "suffix"), FILES)
def test_image_file(tmp_path: Path, mode: str, fmt: str, suffix: str, kind: str) -> None:
    path = tmp_path / f"cross.{suffix}"
    in_mode(cross(), mode).save(path, format=fmt)
    with Image.open(path) as written:
        assert written.mode == mode  # the file really is in that mode
    assert_cross(to_tensor(as_input(path, kind)))


def test_cmyk_jpeg_is_not_read_inverted(tmp_path: Path) -> None:
    path = tmp_path / "cmyk.jpg"
    cross().convert("CMYK").save(path)
    grey = grey_array(path)
    assert grey[0, 0] > 0.9 and grey[SIDE // 2, SIDE // 2] < 0.1  # white paper, black ink


@pytest.mark.parametrize("mode", ["P", "LA", "RGBA"])
def test_transparent_paper_is_white(tmp_path: Path, mode: str) -> None:
    path = tmp_path / f"transparent-{mode}.png"
    on_transparent(mode).save(path)
    with Image.open(path) as written:
        assert written.mode == mode and (mode != "P" or "transparency" in written.info)
    assert_cross(to_tensor(path))
    assert_cross(to_tensor(on_transparent(mode)))


@pytest.mark.parametrize(
    "make",
    [
        lambda a: a,  # (H, W) uint8
        lambda a: np.repeat(a[..., None], 3, -1),  # (H, W, 3) uint8
        lambda a: np.dstack([a, a, a, np.full_like(a, 255)]),  # (H, W, 4) uint8, opaque
        lambda a: np.dstack([np.zeros((*a.shape, 3), np.uint8), 255 - a]),  # ink only in alpha
        lambda a: a.astype(np.float64) / 255.0,  # float in [0, 1]
        lambda a: np.repeat(a[..., None], 3, -1).astype(np.float32),  # float in [0, 255]
        lambda a: a > 127,  # bool
        lambda a: a.astype(np.uint16) * 257,  # 16-bit
        lambda a: torch.from_numpy(a.astype(np.float32) / 255.0)[None],  # a (1, H, W) tensor
    ],
    ids=["HW", "HW3", "HW4", "HW4-alpha", "float01", "float255", "bool", "uint16", "tensor"],
)
def test_array(make: Callable[[np.ndarray], object]) -> None:
    assert_cross(to_tensor(make(np.asarray(cross()))))


@pytest.mark.parametrize("source", ["pil", "png", "array"])
def test_white_on_black_equals_black_on_white(tmp_path: Path, source: str) -> None:
    def load(img: Image.Image, name: str) -> torch.Tensor:
        if source == "pil":
            return to_tensor(img.convert("RGB"))
        if source == "array":
            return to_tensor(np.asarray(img))
        img.save(tmp_path / name)
        return to_tensor(tmp_path / name)

    dark_on_light = load(cross(), "a.png")
    light_on_dark = load(cross(paper=0, ink=255), "b.png")
    assert_cross(light_on_dark)
    assert torch.allclose(light_on_dark, dark_on_light, atol=0.02)


# --- Gradio Sketchpad / ImageEditor values --------------------------------------------------


def stroke_layer(img: Image.Image, dtype: type = np.uint8) -> np.ndarray:
    """A drawing layer as Gradio gives it: RGBA, transparent except where the pen went."""
    alpha = 255 - np.asarray(img)
    rgba = np.dstack([np.zeros((*alpha.shape, 3), np.uint8), alpha])
    return rgba if dtype == np.uint8 else rgba.astype(dtype) / 255.0


WHITE = np.full((SIDE, SIDE, 3), 255, np.uint8)


def half(img: Image.Image, box: tuple[int, int, int, int]) -> Image.Image:
    """`img` with everything outside `box` painted white: one stroke of the cross."""
    out = Image.new("L", img.size, 255)
    out.paste(img.crop(box), box[:2])
    return out


@pytest.mark.parametrize(
    "value",
    [
        {"background": None, "layers": [], "composite": np.dstack([np.asarray(cross())] * 3)},
        {"composite": cross().convert("RGBA")},
        {"background": WHITE, "layers": [stroke_layer(cross())], "composite": None},
        {"background": None, "layers": [stroke_layer(cross())], "composite": None},
        {"layers": [stroke_layer(cross(), np.float64)]},
        {"layers": [stroke_layer(cross(), np.float32)], "composite": None},
        {"background": cross().convert("RGB"), "layers": None, "composite": None},
        {
            "background": WHITE,
            "layers": [
                stroke_layer(half(cross(), (0, 40, SIDE, 56))),
                stroke_layer(half(cross(), (40, 0, 56, SIDE))),
            ],
            "composite": None,
        },
    ],
    ids=[
        "composite-only",
        "composite-pil",
        "background+layers",
        "layers-only",
        "float64-layer-no-keys",
        "float32-layer",
        "background-only",
        "two-layers",
    ],
)
def test_sketchpad(value: dict) -> None:
    assert_cross(to_tensor(value))


def test_sketchpad_paths(tmp_path: Path) -> None:
    layer = tmp_path / "layer.png"
    Image.fromarray(stroke_layer(cross()), "RGBA").save(layer)
    assert_cross(to_tensor({"background": None, "layers": [str(layer)], "composite": None}))


@pytest.mark.parametrize(
    "value",
    [
        {"background": None, "layers": None, "composite": None},
        {"background": None, "layers": [], "composite": None},
        {},
        {"background": WHITE},
        {"background": WHITE, "layers": [stroke_layer(Image.new("L", (SIDE, SIDE), 255))]},
        {"composite": np.full((SIDE, SIDE, 4), 255, np.uint8)},  # an untouched canvas
    ],
    ids=["all-none", "no-layers", "no-keys", "blank-background", "blank-layer", "blank-composite"],
)
def test_empty_sketchpad(value: dict) -> None:
    with pytest.raises(EmptyDrawing):
        to_tensor(value)


# --- files from the wild --------------------------------------------------------------------


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_exif_rotation_is_honoured(tmp_path: Path, orientation: int) -> None:
    path = write_exif_rotated(l_shape(), tmp_path / "rotated.jpg", orientation)
    got = to_tensor(path)
    assert (got - to_tensor(l_shape())).abs().mean() < 0.01
    with Image.open(path) as stored:  # the pixels as stored, EXIF ignored
        assert (got - to_tensor(stored.convert("L"))).abs().mean() > 0.1


def test_animated_gif_gives_first_frame(tmp_path: Path) -> None:
    path = write_animated_gif(tmp_path / "anim.gif", l_shape())
    with Image.open(path) as gif:
        assert gif.n_frames == 2
    assert torch.allclose(to_tensor(path), to_tensor(l_shape()))


@pytest.mark.parametrize(("paper", "ink"), [(65535, 0), (65535, 40000), (60000, 20000)])
def test_16bit_png(tmp_path: Path, paper: int, ink: int) -> None:
    a = np.where(np.asarray(cross()) > 127, paper, ink).astype(np.uint16)
    path = tmp_path / "grey16.png"
    Image.fromarray(a).save(path)
    assert_cross(to_tensor(path))


def test_16bit_png_with_small_values_is_near_black(tmp_path: Path) -> None:
    """Values 0..255 of 65535 are all near black: not a full-contrast 8-bit drawing."""
    path = tmp_path / "dark16.png"
    Image.fromarray(np.asarray(cross()).astype(np.uint16)).save(path)
    with Image.open(path) as img:
        assert img.mode == "I;16"
    assert grey_array(path).max() < 0.01
    with pytest.raises(EmptyDrawing):
        to_tensor(path)


def test_decompression_bomb_refused_fast_and_small(tmp_path: Path) -> None:
    path = write_bilevel_png(tmp_path / "bomb.png", 40_000, 40_000)
    assert path.stat().st_size < 400_000
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    with pytest.raises(InvalidImage):
        to_tensor(path)
    assert time.perf_counter() - start < 1.0
    # the decoded image would need 1.6 GB; the process peak may not grow by a tenth of that
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_kb < 160_000


def test_just_over_the_pixel_limit_refused(tmp_path: Path) -> None:
    path = write_bilevel_png(tmp_path / "wide.png", 10_000, 6_000)  # 60 of 50 megapixels
    with pytest.raises(InvalidImage):
        to_tensor(path)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
@pytest.mark.parametrize("keep", [0.1, 0.5, 0.9])
def test_truncated_file(tmp_path: Path, fmt: str, keep: float) -> None:
    data = encoded(fmt)
    path = tmp_path / f"cut.{fmt.lower()}"
    path.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(InvalidImage):
        to_tensor(path)


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("notes.png", b"This is a text file, not a picture.\n"),
        ("empty.png", b""),
        ("glyph.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><path d="M0 0L9 9"/></svg>'),
        ("glyph.png", b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>'),
    ],
)
def test_not_an_image(tmp_path: Path, name: str, content: bytes) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InvalidImage):
        to_tensor(path)
    with pytest.raises(InvalidImage):
        to_tensor(content)


def test_missing_file_and_unsupported_type(tmp_path: Path) -> None:
    with pytest.raises(InvalidImage):
        to_tensor(tmp_path / "absent.png")
    with pytest.raises(InvalidImage):
        to_tensor(42)


@pytest.mark.parametrize("value", [0, 255])
@pytest.mark.parametrize("kind", ["pil", "array", "png"])
def test_blank_page(tmp_path: Path, value: int, kind: str) -> None:
    img = Image.new("L", (SIDE, SIDE), value)
    source = {"pil": img, "array": np.asarray(img)}.get(kind)
    if source is None:
        img.save(tmp_path / "blank.png")
        source = tmp_path / "blank.png"
    with pytest.raises(EmptyDrawing):
        to_tensor(source)


@pytest.mark.parametrize("mode", ["1", "L", "RGB", "RGBA", "I;16"])
@pytest.mark.parametrize("value", [0, 128, 255])
def test_one_pixel(tmp_path: Path, mode: str, value: int) -> None:
    path = tmp_path / "dot.png"
    in_mode(Image.new("L", (1, 1), value), mode).save(path)
    try:
        t = to_tensor(path)
    except EmptyDrawing:
        return
    assert t.shape == (1, 64, 64) and torch.isfinite(t).all()


def test_large_photo(tmp_path: Path) -> None:
    """A 6,000 x 6,000 phone photo: uneven paper with grain, a dark brush cross."""
    big = photo()
    path = tmp_path / "photo.jpg"
    big.save(path, quality=85)
    assert_cross(to_tensor(big), paper=0.3)
    assert_cross(to_tensor(path), paper=0.3)


# --- little ink: a short stroke, a dot, a small glyph in a corner ---------------------------


def canvas_with(draw: Callable[[object], None], side: int = 400) -> np.ndarray:
    """A Sketchpad composite (RGBA, white paper) with black strokes of the default 6 px brush."""
    from PIL import ImageDraw

    img = Image.new("RGBA", (side, side), (255, 255, 255, 255))
    draw(ImageDraw.Draw(img))
    return np.asarray(img)


@pytest.mark.parametrize(
    "draw",
    [
        lambda d: d.line([(150, 200), (250, 200)], fill="black", width=6),  # 一 at a quarter
        lambda d: d.ellipse([197, 197, 203, 203], fill="black"),  # a dot
        lambda d: d.line([(20, 20), (50, 20)], fill="black", width=6),  # small, in a corner
        lambda d: d.line([(300, 300), (340, 300)], fill="black", width=1),  # a 1 px hairline
    ],
    ids=["short-line", "dot", "corner", "hairline"],
)
def test_little_ink_is_a_glyph_not_an_empty_page(draw: Callable[[object], None]) -> None:
    """Ink under 0.5% of the picture used to read as paper: any visible stroke is a glyph."""
    value = {"background": None, "layers": [], "composite": canvas_with(draw)}
    t = to_tensor(value)
    assert t.shape == (1, 64, 64) and float(t.max()) == 1.0
    assert float((t > 0.5).float().mean()) > 0.01  # the stroke fills the model's input


def test_short_line_reads_as_a_horizontal_stroke() -> None:
    t = to_tensor(canvas_with(lambda d: d.line([(150, 200), (250, 200)], fill="black", width=6)))[0]
    rows = (t > 0.5).any(1).nonzero().flatten()
    cols = (t > 0.5).any(0).nonzero().flatten()
    assert len(cols) > 50 and len(rows) < 12  # wide and flat, centred
    assert abs(float(rows.float().mean()) - 31.5) < 3


def test_faint_specks_on_blank_paper_stay_empty() -> None:
    """Paper with JPEG-like noise of a few grey levels is still an empty page."""
    rng = np.random.default_rng(0)
    paper = (250 + rng.integers(-4, 5, (400, 400))).clip(0, 255).astype(np.uint8)
    with pytest.raises(EmptyDrawing):
        to_tensor(paper)
