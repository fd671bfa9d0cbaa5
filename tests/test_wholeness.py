"""The reader's whole-glyph probe (`wholeness`): fitted into a model folder by its command, kept
in the folder's config.json where timm and the Recognizer load it, and telling held-out whole
glyphs from parts of glyphs better than the model's top probability does."""

from __future__ import annotations

import json
import shutil
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import BUNDLED, DATA, run_cli

from oracle_bones import Recognizer
from oracle_bones.model import pooled_features
from oracle_bones.wholeness import KEY, PART, WHOLE, candidates

SEED = DATA / "jiaguwen"


@pytest.fixture(scope="module")
def held_out_files() -> list[Path]:
    """The held-out seed glyphs: per character with two or more files, the last file name."""
    if not (SEED / "index.json").exists():
        pytest.skip(f"no seed images at {SEED}")
    files: dict[str, list[str]] = defaultdict(list)
    for item in json.loads((SEED / "index.json").read_text(encoding="utf-8")):
        files[item["name"]].append(item["image"])
    return [SEED / "i" / max(f) for _, f in sorted(files.items()) if len(f) >= 2]


def auc(score: torch.Tensor, positive: torch.Tensor) -> float:
    """How often a positive scores above a negative (ties count half)."""
    pos, neg = score[positive][:, None], score[~positive][None]
    return float((pos > neg).float().mean() + 0.5 * (pos == neg).float().mean())


def test_the_bundled_probe_tells_whole_glyphs_from_parts(held_out_files) -> None:
    """On pages of held-out glyphs the probe's log-odds rank whole glyphs above parts of glyphs
    (AUC 0.83 on validation pages), where the top probability barely does (0.69)."""
    torch.set_num_threads(1)
    rec = Recognizer.from_pretrained(BUNDLED)
    assert rec.probe is not None, f"no {KEY} in {BUNDLED / 'config.json'}"
    features, labels = candidates(rec.model, held_out_files, pages=40, seed=1)
    keep = (labels == WHOLE) | (labels == PART)
    features, whole = features[keep], labels[keep] == WHOLE
    assert 50 < int(whole.sum()) < len(whole) - 30, "too few of either kind to judge"
    with torch.no_grad():
        top = rec.model.get_classifier()(features).softmax(1).amax(1)
    probe, plain = auc(rec.probe.log_odds(features), whole), auc(top, whole)
    assert probe >= 0.75 and probe > plain + 0.05, (probe, plain)


def test_fit_wholeness_writes_the_probe_that_timm_and_the_recognizer_load(
    seed_dataset, tmp_path
) -> None:
    """`fit-wholeness` puts the probe in config.json; timm still loads the folder unchanged
    (hf-hub convention), the Recognizer reads with it, and the log-odds are those of the
    model's own pooled features."""
    import timm

    folder = tmp_path / "model"
    shutil.copytree(BUNDLED, folder)
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    config.pop(KEY, None)
    (folder / "config.json").write_text(json.dumps(config, ensure_ascii=False), encoding="utf-8")
    assert Recognizer.from_pretrained(folder).probe is None

    r = run_cli(
        "-m", "oracle_bones", "fit-wholeness", str(folder),
        "--dataset", str(seed_dataset), "--pages", "30",
    )  # fmt: skip
    assert r.returncode == 0, r.stderr[-2000:]
    entry = json.loads((folder / "config.json").read_text(encoding="utf-8"))[KEY]
    assert len(entry["weight"]) == config["num_features"] and entry["pages"] == 30
    assert np.isfinite(entry["weight"]).all() and np.any(entry["weight"])

    net = timm.create_model(f"local-dir:{folder}", pretrained=True).eval()
    rec = Recognizer.from_pretrained(folder)
    assert rec.probe is not None
    x = torch.rand(2, 1, 64, 64)
    with torch.no_grad():
        assert torch.allclose(net(x), rec.model(x), atol=1e-4)
        expected = pooled_features(net, x) @ torch.tensor(entry["weight"]) + entry["bias"]
        assert torch.allclose(rec.probe.log_odds(pooled_features(rec.model, x)), expected)
