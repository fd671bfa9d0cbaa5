"""Photos of ink on paper through the one normalisation path, and clean drawings left exactly
as they were (the bundled model is trained on their tensors).

Photos are rendered from real seed glyphs by `synthetic.photograph` and written to disk as JPEG
files, so the decoder runs as it does for an upload.
"""

from __future__ import annotations

import numpy as np
import pytest
from clean_inputs import DATA, frozen_square_glyph, frozen_to_tensor, sample

from oracle_bones.glyphs.glyph import WORK_SIDE, EmptyDrawing, square_glyph, to_tensor
from oracle_bones.glyphs.synthetic import glyph_ink, photograph

SEED_FILES = ["3653610.jpg", "3655161.jpg", "3655689.jpg"]


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / max((a | b).sum(), 1))


def test_clean_drawings_normalise_exactly_as_before() -> None:
    """Every source's files (a random sample) and Sketchpad values: the same square and tensor
    as the frozen copy of the normalisation before photo handling, to 1e-6."""
    seen: dict[str, int] = {}
    for name, value in sample(per_source=80):
        try:
            expected_square, expected = frozen_square_glyph(value), frozen_to_tensor(value)
        except ValueError:  # a font's empty canvas: no ink then, nor now
            with pytest.raises(EmptyDrawing):
                to_tensor(value)
            continue
        square, tensor = square_glyph(value), to_tensor(value)[0].numpy()
        assert square.shape == expected_square.shape, name
        assert np.abs(square - expected_square).max() < 1e-6, name
        assert np.abs(tensor - expected).max() < 1e-6, name
        seen[name.split("/")[0]] = seen.get(name.split("/")[0], 0) + 1
    expected_sources = {"jiaguwen", "zjnu-chennianfu", "zihuisong", "isobs", "ayjgw", "sketchpad"}
    if not (DATA / "jiaguwen").exists():
        pytest.skip(f"no data at {DATA}")
    assert expected_sources <= set(seen), seen


@pytest.mark.parametrize("file", SEED_FILES)
def test_photographed_glyph_gives_the_clean_glyphs_tensor(tmp_path, file: str) -> None:
    """Tinted or ruled paper, uneven light, a shadow, black or blue ink, JPEG, a small glyph
    anywhere in the frame: the tensor's ink is the clean drawing's ink (no tilt, so the two can
    be compared pixel for pixel). One paper level for the whole picture, as before, fails."""
    path = DATA / "jiaguwen" / "i" / file
    if not path.exists():
        pytest.skip(f"no seed image {path}")
    clean = to_tensor(path)[0].numpy() > 0.5
    before = []
    for seed in range(8):
        photo = tmp_path / f"photo-{seed}.jpg"
        photo.write_bytes(photograph(glyph_ink(path), np.random.default_rng(seed), tilt=0).data)
        tensor = to_tensor(photo)[0].numpy()
        assert iou(tensor > 0.5, clean) > 0.5, (file, seed)
        assert float(tensor[:4].max()) < 0.2 and float(tensor[-4:].max()) < 0.2, "margin inked"
        before.append(iou(frozen_to_tensor(photo) > 0.5, clean))
    assert np.mean(before) < 0.3, before


def test_photographed_blank_page_is_empty(tmp_path) -> None:
    """Paper under uneven light with a shadow and no ink: no glyph, whatever the grain."""
    for seed in range(6):
        photo = tmp_path / f"blank-{seed}.jpg"
        photo.write_bytes(photograph(np.zeros((50, 50)), np.random.default_rng(seed)).data)
        with pytest.raises(EmptyDrawing):
            to_tensor(photo)


def test_photo_of_light_ink_on_a_dark_ground(tmp_path) -> None:
    """Chalk on a board, say: the photo inverted. Light ink is found as ink."""
    from PIL import ImageOps

    path = DATA / "jiaguwen" / "i" / SEED_FILES[0]
    if not path.exists():
        pytest.skip(f"no seed image {path}")
    clean = to_tensor(path)[0].numpy() > 0.5
    picture = photograph(glyph_ink(path), np.random.default_rng(3), tilt=0)
    ImageOps.invert(picture.image().convert("RGB")).save(tmp_path / "chalk.jpg")
    assert iou(to_tensor(tmp_path / "chalk.jpg")[0].numpy() > 0.5, clean) > 0.5


@pytest.mark.parametrize("file", SEED_FILES)
def test_small_glyph_in_a_big_photo_is_read_from_its_own_pixels(tmp_path, file: str) -> None:
    """A glyph 6% of a 1920 x 1440 photo is 25 pixels across in the 512-pixel working copy:
    it is read again from the photo's own pixels round it, and its tensor matches the clean
    drawing's far better than the working copy's does."""
    path = DATA / "jiaguwen" / "i" / file
    if not path.exists():
        pytest.skip(f"no seed image {path}")
    clean = to_tensor(path)[0].numpy() > 0.5
    detailed, working = [], []
    for seed in range(3):
        picture = photograph(
            glyph_ink(path), np.random.default_rng(seed), share=(0.06, 0.06), frame=(1920, 1440),
            tilt=0,
        )  # fmt: skip
        (tmp_path / "photo.jpg").write_bytes(picture.data)
        detailed.append(iou(to_tensor(tmp_path / "photo.jpg")[0].numpy() > 0.5, clean))
        small = picture.image()
        small.thumbnail((WORK_SIDE, WORK_SIDE))
        working.append(iou(to_tensor(np.asarray(small))[0].numpy() > 0.5, clean))
    assert min(detailed) > 0.6, detailed
    assert np.mean(detailed) > np.mean(working) + 0.2, (detailed, working)


@pytest.mark.parametrize("shape", ["dot", "short-line"])
def test_little_ink_photographed_is_a_glyph(tmp_path, shape: str) -> None:
    """A dot (1.5% of a phone photo's height across) or a short stroke (4% long), on ruled or
    shaded paper: a glyph, not an empty page (with under 50 pixels of ink, the ink's level came
    from shadow edges and rules, and the dot was taken for paper)."""
    ink = np.zeros((8, 8 if shape == "dot" else 60), np.float32)
    ink[2:6, 2:-2] = 1.0
    for seed in range(12):
        photo = tmp_path / f"{shape}-{seed}.jpg"
        frame = (1920, 1440) if seed % 2 else (960, 720)
        share = (0.03, 0.03) if shape == "dot" else (0.04, 0.04)
        picture = photograph(ink, np.random.default_rng(seed), share=share, frame=frame)
        photo.write_bytes(picture.data)
        tensor = to_tensor(photo)[0].numpy()
        centre = tensor[30:34, 30:34] if shape == "dot" else tensor[28:36, 28:36]
        assert float(centre.min() if shape == "dot" else centre.max()) > 0.5, seed  # centred
        assert float(tensor[:2].max()) < 0.5 and float(tensor[-2:].max()) < 0.5, seed
