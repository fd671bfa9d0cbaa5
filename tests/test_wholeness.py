"""The reader's whole-glyph head (`wholeness`): a model folder fine-tuned with it by its command,
the head kept in the folder's config.json where timm and the Recognizer load it, and telling
held-out whole glyphs from parts of glyphs, and from runs of several, better than the model's
top probability does."""

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
from oracle_bones.model import HEAD_KEY, PART, SEVERAL, WHOLE, pooled_features
from oracle_bones.training.wholeness import candidates, features

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


def test_the_bundled_head_tells_whole_glyphs_from_parts_and_from_several(held_out_files) -> None:
    """On pages of held-out glyphs the head's log-odds rank whole glyphs above parts of glyphs
    and above runs of several far better than the model's top probability does (AUC 0.92
    against 0.58, and 0.997 against 0.83, for the bundled model)."""
    torch.set_num_threads(1)
    rec = Recognizer.from_pretrained(BUNDLED)
    assert rec.whole_glyph is not None, f"no {HEAD_KEY} in {BUNDLED / 'config.json'}"
    crops, labels = candidates(rec.model, held_out_files, pages=40, seed=1)
    f = features(rec.model, crops)
    with torch.no_grad():
        top = rec.model.get_classifier()(f).softmax(1).amax(1)
        z = rec.whole_glyph.logits(f)
    for other, least in ((PART, 0.85), (SEVERAL, 0.93)):
        keep = (labels == WHOLE) | (labels == other)
        whole = labels[keep] == WHOLE
        assert 30 < int(whole.sum()) < len(whole) - 30, "too few of either kind to judge"
        head, plain = auc((z[:, WHOLE] - z[:, other])[keep], whole), auc(top[keep], whole)
        assert head >= least and head > plain + 0.05, (other, head, plain)


def test_fit_wholeness_fine_tunes_a_folder_that_timm_and_the_recognizer_load(
    seed_dataset, tmp_path
) -> None:
    """`fit-wholeness` fine-tunes the weights and puts the head in config.json with the new
    held-out figures; timm still loads the folder unchanged (hf-hub convention), and the
    Recognizer weighs crops with the head over the model's own pooled features."""
    import timm

    folder = tmp_path / "model"
    shutil.copytree(BUNDLED, folder)
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    config.pop(HEAD_KEY, None)
    (folder / "config.json").write_text(json.dumps(config, ensure_ascii=False), encoding="utf-8")
    assert Recognizer.from_pretrained(folder).whole_glyph is None
    before = Recognizer.from_pretrained(folder).model.state_dict()
    real = (DATA / "rubbings" / "images").exists()
    rubbings = ["--rubbings", "40", "--data-dir", str(DATA)] if real else []

    r = run_cli(
        "-m", "oracle_bones", "fit-wholeness", str(folder),
        "--dataset", str(seed_dataset), "--pages", "30", "--epochs", "1",
        "--cache-dir", str(tmp_path / "cache"),
        *rubbings,  # some train glyphs rendered as rubbings join the fine-tuning, where there are
    )  # fmt: skip
    assert r.returncode == 0, r.stderr[-2000:]
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    entry = config[HEAD_KEY]
    assert np.shape(entry["weight"]) == (3, config["num_features"]) and len(entry["bias"]) == 3
    assert entry["pages"] == 30 and entry["epochs"] == config["metrics"]["whole_glyph_epochs"] == 1
    assert np.isfinite(entry["weight"]).all() and np.any(entry["weight"])
    assert config["metrics"]["sizes"]["test"] == config["metrics"]["n"] > 300  # judged again
    assert {"top1", "word_top1"} <= set(config["metrics"]["test"])  # the graph and the word
    assert entry.get("rubbings") == (40 if real else None)
    assert (folder / "README.md").exists()

    net = timm.create_model(f"local-dir:{folder}", pretrained=True).eval()
    rec = Recognizer.from_pretrained(folder)
    after = rec.model.state_dict()
    assert any(not torch.equal(before[k], after[k]) for k in before), "weights not fine-tuned"
    assert rec.whole_glyph is not None
    x = torch.rand(2, 1, 64, 64)
    with torch.no_grad():
        assert torch.allclose(net(x), rec.model(x), atol=1e-4)
        z = pooled_features(net, x) @ torch.tensor(entry["weight"]).T + torch.tensor(entry["bias"])
        part, several = entry["powers"]
        expected = part * (z[:, WHOLE] - z[:, PART]) + several * (z[:, WHOLE] - z[:, SEVERAL])
        assert torch.allclose(rec.whole_glyph.log_factor(pooled_features(rec.model, x)), expected)
