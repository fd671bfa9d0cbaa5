"""The known-forms file: built by the CLI from a real dataset, read back; and the shipped one."""

from __future__ import annotations

import collections
import json

import numpy as np
import pytest
from conftest import BUNDLED, run_cli

from oracle_bones.space.forms import FILE, LEVELS, NOT_FORMS, Forms, build, normalise, pack, unpack

STEP = 255 // (LEVELS - 1)  # the stored ink's grey step


def rows_by_char(dataset_dir) -> dict[str, list[tuple[str, str, int, str]]]:
    """char -> (source, ref, row, split) of every row of every split."""
    import datasets

    out = collections.defaultdict(list)
    for name, split in datasets.load_from_disk(str(dataset_dir)).items():
        names = split.features["label"].names
        columns = zip(split["label"], split["source"], split["ref"], strict=True)
        for i, (k, s, r) in enumerate(columns):
            out[names[k]].append((s, r, i, name))
    return out


def test_cli_builds_a_file_that_loads_without_pickle(seed_dataset, tmp_path):
    out = tmp_path / "forms.npz"
    r = run_cli("-m", "oracle_bones", "forms", "--dataset", str(seed_dataset), "--out", str(out),
                "--per-char", "2")  # fmt: skip
    assert r.returncode == 0, r.stderr[-2000:]
    assert f"Wrote {out}:" in r.stdout and "forms of" in r.stdout
    with np.load(out, allow_pickle=False) as z:
        assert set(z.files) == {"chars", "start", "total", "ink", "source", "sources", "ref"}
        assert z["ink"].dtype == np.uint8 and z["ink"].shape[1:] == (48, 12)

    import datasets

    dd = datasets.load_from_disk(str(seed_dataset))
    expected = rows_by_char(seed_dataset)
    forms = Forms.load(out)
    assert sorted(forms.chars) == sorted(expected)  # every character, test-only ones too
    for char in ["安", *list(expected)[::50]]:
        got, rows = forms.get(char), expected[char]
        assert len(got) == min(2, len(rows)) and forms.total(char) == len(rows)
        by_ref = {r: (s, i, split) for s, r, i, split in rows}
        refs = [f.ref for f in got]
        assert refs == sorted(r for _, r, _, _ in rows)[: len(got)]  # one source: ref order
        for form in got:
            source, i, split = by_ref[form.ref]
            assert form.source == source == "jiaguwen"
            drawn = normalise(dd[split][i]["image"]).astype(int)
            assert form.image.shape == drawn.shape and form.image.dtype == np.uint8
            assert np.abs(form.image.astype(int) - drawn).max() <= STEP // 2 + 1


def test_sources_take_turns_and_shared_drawings_are_left_out(seed_dataset, tmp_path):
    """Any source names: drawings first, fonts after, one from each in turn; `feedback` (people's
    drawings) is never a known form and does not count."""
    import datasets

    train = datasets.load_from_disk(str(seed_dataset))["train"]
    names = train.features["label"].names
    counts = collections.Counter(train["label"])
    k = max(counts, key=counts.get)  # the seed's best-attested character
    rows = [i for i, label in enumerate(train["label"]) if label == k][:6]
    assert len(rows) >= 5, counts[k]
    relabel = {rows[0]: "zjnu-chennianfu", rows[1]: "zjnu-chennianfu", rows[2]: "some-new-source",
               rows[3]: "feedback"}  # fmt: skip
    sub = train.select(rows).map(lambda r, i: {"source": relabel.get(rows[i], r["source"])},
                                 with_indices=True)  # fmt: skip
    path = tmp_path / "mixed"
    datasets.DatasetDict({"train": sub}).save_to_disk(str(path))

    forms = build(path, per_char=4)
    got = forms.get(names[k])
    sources = [f.source for f in got]
    # jiaguwen and some-new-source are drawings (by name), zjnu-chennianfu a font: last
    assert sources == ["jiaguwen", "some-new-source", "zjnu-chennianfu", "jiaguwen"]
    assert "feedback" in NOT_FORMS and forms.total(names[k]) == len(rows) - 1
    assert [f.ref for f in forms.get(names[k], limit=2)] == [f.ref for f in got[:2]]


def test_pack_keeps_four_grey_levels() -> None:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (3, 8, 8), dtype=np.uint8)
    back = unpack(pack(images))
    assert back.shape == images.shape and back.dtype == np.uint8
    assert set(np.unique(back)) <= {0, 85, 170, 255}
    assert np.abs(back.astype(int) - images).max() <= STEP // 2 + 1


@pytest.mark.parametrize("content", [None, b"", b"PK\x03\x04 not a zip", b"\x00" * 100])
def test_a_missing_or_damaged_file_means_no_forms(tmp_path, content) -> None:
    path = tmp_path / FILE
    if content is not None:
        path.write_bytes(content)
    forms = Forms.load(path)
    assert len(forms) == 0 and forms.get("雨") == [] and forms.total("雨") == 0


def test_the_shipped_file() -> None:
    """Small, loadable without pickle, forms with their source and ref."""
    path = BUNDLED / FILE
    assert path.stat().st_size < 5_000_000
    forms = Forms.load(path)
    assert len(forms) > 2000 and forms.stored >= len(forms)
    rain = forms.get("雨")
    assert rain and all(f.source and f.ref for f in rain)
    assert forms.total("雨") >= len(rain) and len(rain) <= 12
    assert len({f.source for f in rain[:3]}) >= 2  # the first forms come from different sources
    labels = json.loads((BUNDLED / "config.json").read_text(encoding="utf-8"))["label_names"]
    assert sum(c in forms for c in labels) >= 0.9 * len(labels)
