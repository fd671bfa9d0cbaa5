"""Photos of ink on paper through the one normalisation path, and clean drawings left exactly
as they were (the bundled model is trained on their tensors).

Photos are rendered from real seed glyphs by `synthetic.photograph` and written to disk as JPEG
files, so the decoder runs as it does for an upload.
"""

from __future__ import annotations

import numpy as np
import pytest
from clean_inputs import DATA, frozen_square_glyph, frozen_to_tensor, sample

from oracle_bones.glyph import EmptyDrawing, square_glyph, to_tensor
from oracle_bones.synthetic import glyph_ink, photograph

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
