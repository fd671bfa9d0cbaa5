"""One graph, several words: the readings table is built from the sources alone and is the one
committed; every prediction carries its readings (the graph first), in code, on the command
line and in evaluation's word figures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from conftest import DATA, ROOT, run_cli

from oracle_bones import Prediction
from oracle_bones.data import readings as R
from oracle_bones.space.answers import banner, describe_char
from oracle_bones.training.evaluate import topk_accuracy, word_accuracy, word_matrix


@pytest.mark.skipif(not (DATA / R.ZJNU).exists(), reason=f"no {DATA / R.ZJNU}")
def test_the_committed_table_is_what_the_sources_say(tmp_path: Path) -> None:
    out = tmp_path / "readings.csv"
    r = run_cli("-m", "oracle_bones", "readings", "--data-dir", str(DATA), "--out", str(out))
    assert r.returncode == 0, r.stderr[-2000:]
    assert out.read_text(encoding="utf-8") == R.FILE.read_text(encoding="utf-8")
    rows = R.Readings.load(out).rows
    assert {r.source for r in rows} == {"zjnu", "anyang", "isobs"}
    assert all(r.graph != r.word and len(r.graph) == len(r.word) == 1 for r in rows)
    assert not [r for r in rows if r.word == "形"]  # a 同形字 note is no "同X" (the audit's find)


def test_the_graphs_the_issue_names() -> None:
    table = R.readings()
    assert set(table.of("史")) >= {"史", "事", "使", "吏"} and table.of("史")[0] == "史"
    assert set(table.of("又")) >= {"有", "右", "佑"}
    assert "妣" in table.of("匕") and "作" in table.of("乍") and "伯" in table.of("白")
    assert "史" in table.graphs_of("事")
    assert table.of("安") == ("安",)  # no readings: the graph alone


def test_prediction_readings_keep_the_pair_shape() -> None:
    p = Prediction("史", 0.9)
    label, score = p  # still a (label, score) pair
    assert (label, score) == ("史", 0.9) and p.readings[0] == "史" and "事" in p.readings


def test_the_top_ten_and_the_banner_say_what_a_graph_also_wrote() -> None:
    line = describe_char("史")
    assert line.startswith("史 shǐ — history; also writes 事 shì"), line
    assert len(line) <= 60  # one line on a phone
    assert describe_char("安").startswith("安 ān — ") and "also writes" not in describe_char("安")
    assert "also writes 事 shì" in banner({line: 0.97})
    # every graph stands alone first, also one with no reading nor gloss of its own (𠆸)
    graphs = {r.graph for r in R.readings().rows}
    assert [g for g in graphs if describe_char(g).split(" ", 1)[0] != g] == []
    assert describe_char("𠆸").startswith("𠆸 — also writes")


def test_word_figures_count_a_reading_as_right() -> None:
    model_labels = ["史", "田", "月"]
    names = ["史", "事", "田", "夕", "安"]
    words = word_matrix(model_labels, names)
    logits = torch.tensor([[3.0, 1.0, 0.0], [0.0, 3.0, 1.0], [0.0, 1.0, 3.0], [1.0, 3.0, 0.0]])
    truth = torch.tensor([1, 2, 3, 4])  # 事 (read as 史), 田, 夕 (as 月), 安 (unknown)
    graph = topk_accuracy(logits, torch.tensor([-1, 1, -1, -1]), ks=(1,))
    word = word_accuracy(logits, truth, words, ks=(1, 3))
    assert graph == {"top1": 0.25} and word == {"word_top1": 0.75, "word_top3": 0.75}


def test_cli_json_gives_readings_graph_first() -> None:
    r = run_cli("-m", "oracle_bones", "predict", "--json", str(ROOT / "examples" / "田.png"))
    assert r.returncode == 0, r.stderr[-2000:]
    (row,) = [json.loads(line) for line in r.stdout.splitlines()]
    assert all(p["readings"][0] == p["label"] for p in row["predictions"])
    picture = ROOT / "examples" / "inscriptions" / "大月火田羊门.png"
    r = run_cli("-m", "oracle_bones", "read", "--json", str(picture))
    assert r.returncode == 0, r.stderr[-2000:]
    glyphs = json.loads(r.stdout)["glyphs"]
    assert glyphs and all(p["readings"][0] == p["label"] for g in glyphs for p in g["predictions"])
