"""Review figures on a tiny build of all three real sources: files, sizes and what they show."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import datasets
import numpy as np
import pytest
from PIL import Image
from tiny_sources import needs_data, seed_items, write_font_source, write_jiaguwen

from oracle_bones.cli import main
from oracle_bones.data.dataset import SEED, build, save
from oracle_bones.data.review import (
    CELL_H,
    CELL_W,
    GLYPH_PX,
    HIST_SIZE,
    PAD,
    SHEET_SIZE,
    FontMissing,
    batch_indices,
    cell_origin,
    class_sizes,
    contact_sheet,
    find_cjk_font,
    glyph_tile,
)
from oracle_bones.glyphs.glyph import to_tensor

pytestmark = needs_data

MIXED = (SEED, "zjnu-chennianfu", "zihuisong")  # the seed and two fonts, a few glyphs each


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A few glyphs of each source, built and saved as build-dataset does."""
    root = tmp_path_factory.mktemp("mixed")
    write_jiaguwen(root, seed_items(labels=6))
    for name in MIXED[1:]:
        write_font_source(root, name, rows=40)
    dd, stats = build(root, MIXED)
    save(dd, stats, root / "dataset")
    return root / "dataset"


@pytest.fixture(scope="module")
def train(mixed: Path) -> datasets.Dataset:
    return datasets.load_from_disk(str(mixed))["train"]


def test_review_cli_writes_pngs_of_the_expected_size(mixed: Path, tmp_path: Path) -> None:
    out = tmp_path / "figures"
    assert main(["review", "--dataset", str(mixed), "--out", str(out)]) == 0
    expected = {"train_batch.png": SHEET_SIZE}
    expected |= {f"class_sizes_{source}.png": HIST_SIZE for source in MIXED}
    assert sorted(p.name for p in out.iterdir()) == sorted(expected)
    for name, size in expected.items():
        with Image.open(out / name) as img:
            assert (img.format, img.size) == ("PNG", size)
            img.load()  # decodes completely: not truncated


def test_contact_sheet_shows_each_glyph_normalised_beside_its_label(
    train: datasets.Dataset,
) -> None:
    sheet = np.asarray(contact_sheet(train, find_cjk_font(), seed=3))
    indices = batch_indices(len(train), seed=3)
    assert len(indices) == 64 and len(set(train.select(indices)["source"])) == 3
    for k, i in enumerate(indices):
        x, y = cell_origin(k)
        tile = sheet[y + PAD : y + PAD + GLYPH_PX, x + PAD : x + PAD + GLYPH_PX]
        assert np.array_equal(tile, np.asarray(glyph_tile(train[i]["image"])))
        text = sheet[y : y + CELL_H, x + PAD + GLYPH_PX : x + CELL_W]
        assert text.min() < 100, f"no label drawn in cell {k}"


def test_glyph_tile_is_the_model_input_dark_on_white(train: datasets.Dataset) -> None:
    image = train[0]["image"]
    tile = np.asarray(glyph_tile(image))
    assert tile.shape == (GLYPH_PX, GLYPH_PX)
    ink = to_tensor(image)[0].numpy()
    assert np.array_equal(tile[::2, ::2], np.round(255 * (1 - ink)).astype(np.uint8))
    assert tile[0, 0] == 255 and tile.min() < 64  # white margin, dark strokes


def test_the_seed_picks_the_batch(train: datasets.Dataset) -> None:
    font = find_cjk_font()
    first = contact_sheet(train, font, seed=0).tobytes()
    assert contact_sheet(train, font, seed=0).tobytes() == first
    assert contact_sheet(train, font, seed=1).tobytes() != first


def test_class_sizes_count_images_per_character(mixed: Path) -> None:
    dd = datasets.load_from_disk(str(mixed))
    sizes = class_sizes(dd)
    assert Counter(sizes[SEED].values()) == {3: 6}  # 6 characters with 3 images each
    for source, per_class in sizes.items():
        rows = sum(Counter(dd[split]["source"])[source] for split in dd)
        assert sum(per_class.values()) == rows


def test_missing_cjk_font_is_a_clear_error(
    mixed: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    conf = tmp_path / "fonts.conf"  # fontconfig with no font folder: what a bare machine has
    conf.write_text(
        f"<fontconfig><dir>{tmp_path / 'none'}</dir><cachedir>{tmp_path}</cachedir></fontconfig>"
    )
    monkeypatch.setenv("FONTCONFIG_FILE", str(conf))
    with pytest.raises(FontMissing, match="fonts-noto-cjk"):
        find_cjk_font()
    out = tmp_path / "figures"
    assert main(["review", "--dataset", str(mixed), "--out", str(out)]) == 1
    assert "fonts-noto-cjk" in capsys.readouterr().err
    assert not out.exists()
