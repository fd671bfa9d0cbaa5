"""The dataset builder on the real data in ../shared/data: split, labels, de-duplication, card.

The seed-only build runs here through the CLI (seconds). The all-sources build takes minutes, so
its checks read build/dataset when it exists (built from the same data; only read here).
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections import Counter, defaultdict
from pathlib import Path

import datasets
import pytest
import torch
import yaml
from conftest import DATA, ROOT, run_cli
from tiny_sources import needs_data, seed_items, write_jiaguwen

from oracle_bones.cli import main
from oracle_bones.data.dataset import (
    HELD_OUT,
    SAME_SOURCE_THRESHOLD,
    SEED,
    SPLITS,
    STATS_FILE,
    build,
    save,
    similarity_features,
)
from oracle_bones.data.sources import DEFAULT_SOURCES, SOURCES
from oracle_bones.glyphs.glyph import square_glyph

FIGURES = (*SPLITS, *(f"{s}_classes" for s in SPLITS))


@pytest.fixture(scope="session")
def full() -> Path:
    """The default sources, as `train.py` uses them: build/dataset, built here when missing."""
    out = ROOT / "build" / "dataset"
    if not (out / "dataset_dict.json").exists():
        args = ("build-dataset", "--data-dir", str(DATA), "--out", str(out))
        r = run_cli("-m", "oracle_bones", *args)
        assert r.returncode == 0, r.stderr[-2000:]
    return out


# --- reading a build ------------------------------------------------------------------------


def card(out: Path) -> str:
    return (out / "README.md").read_text(encoding="utf-8")


def front_matter(out: Path) -> dict:
    text = card(out)
    assert text.startswith("---\n")
    return yaml.safe_load(text.split("---\n")[1])


def card_rows(out: Path) -> dict[str, dict[str, int]]:
    """The card's per-source table: {source: {column: figure}}, in the card's order.

    A row reads `| `source` | 12 (3) | ... | skipped | removed |`: images (classes) per split."""
    rows = {}
    cell = r" *(\d+) \((\d+)\) *\|"
    for line in card(out).splitlines():
        if m := re.fullmatch(rf"\| `([\w-]+)` \|{cell * len(SPLITS)} *(\d+) *\| *(\d+) *\|", line):
            n = list(map(int, m.groups()[1:]))
            row = {s: n[2 * k] for k, s in enumerate(SPLITS)}
            row |= {f"{s}_classes": n[2 * k + 1] for k, s in enumerate(SPLITS)}
            rows[m[1]] = {**row, "skipped": n[-2], "removed": n[-1]}
    return rows


def listed(data_dir: Path, source: str) -> int:
    """How many glyphs a source folder lists: every one must end up in a split or be counted."""
    folder = data_dir / source
    if source == SEED:
        return len(json.loads((folder / "index.json").read_text(encoding="utf-8")))
    if source == "isobs":  # the drawings of the classes the committed table labels
        labels = SOURCES["isobs"].labels()
        return sum(d.klass in labels for d in SOURCES["isobs"].drawings(data_dir))
    return sum(1 for _ in SOURCES[source].records(data_dir))  # the fonts' rows, HWOBC's labelled


def figures(dd: datasets.DatasetDict) -> dict[str, dict[str, int]]:
    """Images and classes per source and split, counted in the dataset itself."""
    out: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(FIGURES, 0))
    for split in dd:
        images: Counter[str] = Counter(dd[split]["source"])
        classes: dict[str, set[int]] = defaultdict(set)
        for source, label in zip(dd[split]["source"], dd[split]["label"], strict=True):
            classes[source].add(label)
        for source, n in images.items():
            out[source][split] = n
            out[source][f"{split}_classes"] = len(classes[source])
    return out


# --- what every build must satisfy -----------------------------------------------------------


def assert_split_rules(dd: datasets.DatasetDict) -> None:
    """Sorted labels; test = the last-named seed image of each character with two or more;
    the IsOBS held-out splits as the dataset module defines them; no image in two splits."""
    train, test = dd["train"], dd["test"]
    names = train.features["label"].names
    assert names == sorted(names) and test.features["label"].names == names
    assert set(test["source"]) == {SEED}, "extra sources must only be in train"
    held = [set(dd[s]["source"]) for s in ("validation", "test_isobs") if s in dd]
    assert all(sources <= {"isobs"} for sources in held)
    if "validation_hwobc" in dd:
        assert set(dd["validation_hwobc"]["source"]) == {"hwobc"}
        assert_hwobc_held_out(dd)
    keys = [key for split in dd for key in zip(dd[split]["source"], dd[split]["ref"], strict=True)]
    assert len(keys) == len(set(keys)), "an image is in two splits"
    assert_isobs_held_out(dd)
    assert len(set(test["label"])) == len(test), "one test image per character"
    seed_train: dict[int, list[str]] = defaultdict(list)
    for source, label, ref in zip(train["source"], train["label"], train["ref"], strict=True):
        if source == SEED:
            seed_train[label].append(ref)
    for label, ref in zip(test["label"], test["ref"], strict=True):
        # a seed train image may be gone as a near-copy of an IsOBS held-out glyph
        removed = "validation" in dd or "test_isobs" in dd
        assert seed_train[label] or removed, f"test character {names[label]} has no seed image"
        assert ref > max(seed_train[label], default=""), f"{ref} is not the last of {names[label]}"


def assert_isobs_held_out(dd: datasets.DatasetDict) -> None:
    """Per labelled IsOBS class: the last drawing is `test_isobs` when it has >= 4, the one
    before it `validation` when it has >= 5. Near-copy removal only takes train drawings, which
    sort before both, so the order of the drawings left still shows the rule."""
    where: dict[str, str] = {}
    by_class: dict[str, list[str]] = defaultdict(list)
    for split in dd:
        for source, ref in zip(dd[split]["source"], dd[split]["ref"], strict=True):
            if source == "isobs":
                where[ref] = split
                by_class[ref.split("_")[0]].append(ref)
    for refs in by_class.values():
        refs.sort()
        kinds = [where[r] for r in refs]
        assert kinds.count("test_isobs") <= 1 and kinds.count("validation") <= 1
        if len(refs) >= 4:
            assert kinds[-1] == "test_isobs", refs
        if len(refs) >= 5:
            assert kinds[-2] == "validation", refs
        if "validation" in kinds:
            assert kinds[-2:] == ["validation", "test_isobs"], refs
        elif "test_isobs" in kinds:
            assert kinds[-1] == "test_isobs", refs


def assert_hwobc_held_out(dd: datasets.DatasetDict) -> None:
    """Per character with >= 3 HWOBC drawings (near-copies dropped from train counted in), the
    drawing whose name sorts last is `validation_hwobc`; no other HWOBC drawing is held out."""
    held = dd["validation_hwobc"]
    assert len(set(held["label"])) == len(held), "one drawing per character"
    last = dict(zip(held["label"], held["ref"], strict=True))
    for split in dd:
        for source, label, ref in zip(dd[split]["source"], dd[split]["label"], dd[split]["ref"],
                                      strict=True):  # fmt: skip
            if source == "hwobc" and split != "validation_hwobc":
                assert (
                    split == "train" and label in last and ref < last[label]
                ) or label not in last
    counts = Counter(r.label for r in SOURCES["hwobc"].records(DATA))
    names = held.features["label"].names
    assert {names[k] for k in last} == {c for c, n in counts.items() if n >= 3}


def assert_card_matches(out: Path, data_dir: Path) -> None:
    """The card's figures are the dataset's, and every listed glyph is accounted for."""
    dd = datasets.load_from_disk(str(out))
    stats = json.loads((out / STATS_FILE).read_text(encoding="utf-8"))
    rows, counted = card_rows(out), figures(dd)
    assert list(rows) == stats["sources"]
    for source, row in rows.items():
        assert {k: row[k] for k in FIGURES} == counted[source], source
        assert row["skipped"] == sum(stats["skipped"][source].values())
        assert row["removed"] == stats["removed_near_copies"].get(source, 0)
        placed = sum(row[s] for s in SPLITS) + row["skipped"] + row["removed"]
        assert placed == listed(data_dir, source), f"{source}: glyphs lost or double-counted"
    n = {split: len(dd[split]) if split in dd else 0 for split in SPLITS}
    classes = {split: len(set(dd[split]["label"])) if split in dd else 0 for split in SPLITS}
    assert "| **all** | " + "".join(f"{n[s]} ({classes[s]}) | " for s in SPLITS) in card(out)
    names = dd["train"].features["label"].names
    summary = f"{sum(n.values())} images over {len(names)} classes (characters); "
    assert summary + f"`test` covers {len(set(dd['test']['label']))} of them." in card(out)


def assert_front_matter(out: Path, licence: str, size: str) -> None:
    meta = front_matter(out)
    assert meta["license"] == licence
    assert meta["task_categories"] == ["image-classification"]
    assert meta["size_categories"] == [size]
    assert "甲骨文" in meta["pretty_name"]
    assert "oracle-bone-script" in meta["tags"]


# --- the seed-only build, through the CLI ----------------------------------------------------


def test_seed_build_split_and_labels(seed_dataset: Path) -> None:
    dd = datasets.load_from_disk(str(seed_dataset))
    assert (len(dd["test"]), len(dd["train"])) == (392, 1210)
    assert len(dd["train"].features["label"].names) == 793
    assert set(dd["train"]["source"]) == {SEED}
    assert_split_rules(dd)
    image = dd["test"][0]["image"]
    assert image.size == (50, 50)  # stored as the source made it


def test_seed_build_card(seed_dataset: Path) -> None:
    assert_front_matter(seed_dataset, "mit", "1K<n<10K")
    assert_card_matches(seed_dataset, DATA)
    assert card_rows(seed_dataset)[SEED] == {
        **dict.fromkeys(FIGURES, 0),
        "train": 1210,
        "test": 392,
        "train_classes": 793,
        "test_classes": 392,
        "skipped": 0,
        "removed": 0,
    }


# --- the all-sources build, if present -------------------------------------------------------


def test_full_build_split_and_labels(full: Path) -> None:
    dd = datasets.load_from_disk(str(full))
    seed = datasets.load_from_disk(str(full)).filter(lambda r: r["source"] == SEED)
    assert sorted(dd) == sorted(s for s in SPLITS if s != "test_feedback")
    assert len(dd["test"]) == 392 and len(dd["validation"]) > 300 and len(dd["test_isobs"]) > 300
    assert set(dd["train"]["source"]) == set(DEFAULT_SOURCES), "fzjgw only when named"
    stats = json.loads((full / STATS_FILE).read_text(encoding="utf-8"))
    assert len(seed["train"]) + stats["removed_near_copies"].get(SEED, 0) == 1210
    assert_split_rules(dd)


def test_full_build_card(full: Path) -> None:
    assert_front_matter(full, "other", "10K<n<100K")
    assert "unknown" in front_matter(full)["license_details"]
    assert_card_matches(full, DATA)
    rows = card_rows(full)
    for source, row in rows.items():
        held = {s for s in HELD_OUT if row[s]}
        assert held == {"test"} if source == SEED else held <= set(HELD_OUT) - {"test"}
        assert not held or source in (SEED, "isobs", "hwobc"), f"{source} has held-out glyphs"


def test_full_build_keeps_no_near_copy_of_a_test_image(full: Path) -> None:
    """A seeded sample of the other sources' glyphs left in train, against every held-out glyph
    (all of them takes minutes)."""
    dd = datasets.load_from_disk(str(full)).cast_column("image", datasets.Image(decode=False))
    threshold = json.loads((full / STATS_FILE).read_text(encoding="utf-8"))["threshold"]
    train = dd["train"]
    extra = [i for i, source in enumerate(train["source"]) if source != SEED]
    sample = train.select(sorted(random.Random(0).sample(extra, 1000)))
    held = [dd[split] for split in HELD_OUT if split in dd]
    held_images = [im["bytes"] for split in held for im in split["image"]]
    held_sources = [source for split in held for source in split["source"]]
    sims = similarity_features(square_glyph(im["bytes"]) for im in sample["image"]) @ (
        similarity_features(square_glyph(im) for im in held_images).T
    )
    same = torch.tensor([[a == b for b in held_sources] for a in sample["source"]])
    best = (sims - same.float() * (SAME_SOURCE_THRESHOLD - threshold)).max(1).values
    assert float(best.max()) < threshold
    assert float(best.max()) > threshold - 0.1  # the measure is live: look-alikes come close


# --- broken sources, on a tiny copy of the seed layout ---------------------------------------


def build_cli(data_dir: Path, out: Path) -> int:
    return main(
        ["build-dataset", "--data-dir", str(data_dir), "--sources", SEED, "--out", str(out)]
    )


def snapshot(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@needs_data
def test_corrupt_image_is_skipped_reported_and_counted(tmp_path: Path, capsys) -> None:
    items = seed_items()
    real = (DATA / "jiaguwen" / "i" / items[0]["image"]).read_bytes()
    broken = {"image": "9999999.jpg", "name": items[0]["name"]}  # would sort last: test
    write_jiaguwen(tmp_path, [*items, broken], {broken["image"]: real[: len(real) // 2]})

    assert build_cli(tmp_path, tmp_path / "out") == 0
    assert f"skipped {SEED} 9999999.jpg" in capsys.readouterr().out
    stats = json.loads((tmp_path / "out" / STATS_FILE).read_text(encoding="utf-8"))
    assert stats["skipped"] == {SEED: {"InvalidImage": 1}}
    assert card_rows(tmp_path / "out")[SEED]["skipped"] == 1
    assert_card_matches(tmp_path / "out", tmp_path)
    dd = datasets.load_from_disk(str(tmp_path / "out"))
    assert "9999999.jpg" not in [*dd["train"]["ref"], *dd["test"]["ref"]]
    assert_split_rules(dd)


@needs_data
def test_source_failing_midway_leaves_the_old_build_intact(tmp_path: Path, capsys) -> None:
    items = seed_items()
    write_jiaguwen(tmp_path, items)
    out = tmp_path / "builds" / "dataset"
    assert build_cli(tmp_path, out) == 0
    before = snapshot(out)

    missing = items[len(items) // 2]["image"]
    (tmp_path / "jiaguwen" / "i" / missing).unlink()  # still listed in index.json: reading raises
    capsys.readouterr()
    assert build_cli(tmp_path, out) == 1
    assert missing in capsys.readouterr().err
    assert snapshot(out) == before
    assert [p.name for p in out.parent.iterdir()] == ["dataset"], "temporary folder left behind"


@needs_data
def test_save_failing_midway_leaves_the_old_build_intact(tmp_path: Path) -> None:
    write_jiaguwen(tmp_path, seed_items())
    out = tmp_path / "builds" / "dataset"
    dd, stats = build(tmp_path, [SEED])
    save(dd, stats, out)
    before = snapshot(out)
    stats.sources = [SEED, "no-such-source"]  # the card cannot be rendered: after save_to_disk
    with pytest.raises(KeyError):
        save(dd, stats, out)
    assert snapshot(out) == before
    assert [p.name for p in out.parent.iterdir()] == ["dataset"]


@needs_data
def test_build_replaces_a_stale_old_folder(tmp_path: Path) -> None:
    """A build killed mid-swap leaves `.dataset.old`; it must not block the next build."""
    write_jiaguwen(tmp_path, seed_items())
    out = tmp_path / "builds" / "dataset"
    (out.parent / ".dataset.old").mkdir(parents=True)
    (out.parent / ".dataset.old" / "leftover").write_text("x")
    assert build_cli(tmp_path, out) == 0
    assert [p.name for p in out.parent.iterdir()] == ["dataset"]
    assert len(datasets.load_from_disk(str(out))["test"]) == 4
