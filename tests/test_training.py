"""Training smoke tests: a few epochs on a small subset, the written folder, resume after a kill."""

from __future__ import annotations

import itertools
import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import timm
import torch
from conftest import DATA, ROOT, run_cli

from oracle_bones import Recognizer, to_tensor
from oracle_bones.model import HEAD_KEY, standardise

pytestmark = pytest.mark.timeout(600)

RUBBINGS = 40 if (DATA / "rubbings" / "images").exists() else 0  # where there are textures


def train_args(dataset: Path, work: Path, epochs: int = 3, classes: int = 40) -> list[str]:
    return [
        "train.py",
        "--dataset",
        str(dataset),
        "--limit-classes",
        str(classes),
        "--epochs",
        str(epochs),
        "--warmup-epochs",
        "1",
        "--batch-size",
        "32",
        "--out",
        str(work / "model"),
        "--checkpoint",
        str(work / "ckpt.pt"),
        "--logdir",
        str(work / "runs"),
        "--cache-dir",
        str(work.parent / "cache"),
        "--baseline",
        "",
        "--wholeness-pages",
        "20",
        "--wholeness-epochs",
        "1",
        "--data-dir",
        str(DATA),
        "--rubbings",
        str(RUBBINGS),  # some train glyphs rendered as rubbings join every step
    ]


def epochs_of(stdout: str) -> list[dict]:
    """The per-epoch rows train.py prints (its last line, the best epoch's summary, has no loss)."""
    rows = [json.loads(line) for line in stdout.splitlines() if line.startswith('{"epoch"')]
    return [row for row in rows if "loss" in row]


@pytest.fixture(scope="module")
def trained(seed_dataset: Path, tmp_path_factory) -> tuple[Path, list[dict]]:
    work = tmp_path_factory.mktemp("train") / "a"
    r = run_cli(*train_args(seed_dataset, work))
    assert r.returncode == 0, r.stderr[-3000:]
    return work, epochs_of(r.stdout)


def test_rubbings_without_textures_stop_before_training(seed_dataset, tmp_path) -> None:
    """The recipe renders train glyphs as rubbings on real rubbing texture; where there is none
    it says so, and how to go without, before any work is done or any file written."""
    args = train_args(seed_dataset, tmp_path)
    args[args.index("--rubbings") + 1] = "100"
    args[args.index("--data-dir") + 1] = str(tmp_path / "no-data")
    r = run_cli(*args)
    assert r.returncode != 0
    assert "no rubbings in" in r.stderr and "--rubbings 0" in r.stderr, r.stderr[-2000:]
    assert "Traceback" not in r.stderr and not (tmp_path / "model").exists()


def test_loss_falls_and_folder_is_written(trained):
    work, rows = trained
    assert [r["epoch"] for r in rows] == [1, 2, 3]
    assert rows[-1]["loss"] < rows[0]["loss"]
    names = {p.name for p in (work / "model").iterdir()}
    assert {"config.json", "model.safetensors", "README.md"} <= names
    assert not list((work / "model").glob("*.pt*")) and not list((work / "model").glob("*.bin"))
    config = json.loads((work / "model" / "config.json").read_text(encoding="utf-8"))
    assert config["num_classes"] == len(config["label_names"]) == 40
    assert config["pretrained_cfg"]["input_size"] == [1, 64, 64]
    assert config[HEAD_KEY]["epochs"] == config["metrics"]["whole_glyph_epochs"] == 1  # fine-tuned
    assert config["training"]["rubbings"] == RUBBINGS
    assert config[HEAD_KEY].get("rubbings") == (RUBBINGS or None)  # and the head's fine-tuning
    assert (work / "runs").is_dir() and any((work / "runs").iterdir())  # TensorBoard events


def assert_folder_loads(folder: Path, classes: int) -> None:
    """The Recognizer and plain timm both load the folder and agree on a real glyph."""
    image = DATA / "jiaguwen" / "i" / "3653610.jpg"
    rec = Recognizer.from_pretrained(folder)
    top = rec.predict(image, top_k=5)
    assert len(top) == 5 and all(a.score >= b.score for a, b in itertools.pairwise(top))
    assert abs(sum(p.score for p in rec.predict(image, top_k=classes)) - 1.0) < 1e-4
    net = timm.create_model(f"local-dir:{folder}", pretrained=True).eval()
    assert net.pretrained_cfg["label_names"] == rec.labels and len(rec.labels) == classes
    with torch.no_grad():
        probs = net(standardise(to_tensor(image)[None])).softmax(1)[0]
    assert rec.labels[int(probs.argmax())] == top[0].label


def test_folder_loads_in_recognizer_and_timm_alike(trained):
    work, _ = trained
    assert_folder_loads(work / "model", 40)


def test_resume_after_kill_ends_where_an_uninterrupted_run_ends(seed_dataset, trained, tmp_path):
    _, uninterrupted = trained
    work = tmp_path / "b"
    args = train_args(seed_dataset, work)
    env = {"PYTHONPATH": str(ROOT / "src"), "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(
        [sys.executable, *args],
        cwd=ROOT,
        env={**__import__("os").environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    deadline = time.time() + 300
    for line in proc.stdout:  # kill as soon as the first epoch is checkpointed: early in epoch 2
        if line.startswith('{"epoch": 1'):
            while not (work / "ckpt.pt").exists() and time.time() < deadline:
                time.sleep(0.01)
            proc.send_signal(signal.SIGKILL)
            break
    proc.wait(timeout=60)
    done = torch.load(work / "ckpt.pt", weights_only=True)["epoch"]
    assert done in (1, 2), "the run was not interrupted before its last epoch"
    r = run_cli(*args, "--resume")
    assert r.returncode == 0, r.stderr[-3000:]
    rows = epochs_of(r.stdout)
    assert [row["epoch"] for row in rows] == list(range(done + 1, 4))
    assert rows[-1]["loss"] == pytest.approx(uninterrupted[-1]["loss"], rel=0.02)
    assert rows[-1]["test_top1"] == pytest.approx(uninterrupted[-1]["test_top1"], abs=0.05)


def test_predict_cli_answers_good_images_and_reports_bad_ones(trained, tmp_path):
    work, _ = trained
    good = [str(DATA / "jiaguwen" / "i" / n) for n in ("3653610.jpg", "3655818.jpg")]
    bad = tmp_path / "notes.png"
    bad.write_text("not an image")
    r = run_cli(
        "-m",
        "oracle_bones",
        "predict",
        "--model",
        str(work / "model"),
        "--json",
        "--top-k",
        "3",
        good[0],
        str(bad),
        good[1],
    )
    assert r.returncode == 1
    rows = [json.loads(line) for line in r.stdout.splitlines()]
    assert [row["image"] for row in rows] == [good[0], str(bad), good[1]]
    assert "error" in rows[1] and "predictions" not in rows[1]
    for row in (rows[0], rows[2]):
        assert len(row["predictions"]) == 3 and isinstance(row["predictions"][0]["label"], str)
    table = run_cli("-m", "oracle_bones", "predict", "--model", str(work / "model"), good[0])
    assert table.returncode == 0 and " 1. " in table.stdout


def test_evaluate_writes_metrics(trained, seed_dataset, tmp_path):
    work, _ = trained
    out = tmp_path / "metrics.json"
    r = run_cli(
        "-m",
        "oracle_bones",
        "evaluate",
        "--model",
        str(work / "model"),
        "--dataset",
        str(seed_dataset),
        "--out",
        str(out),
    )
    assert r.returncode == 0, r.stderr[-2000:]
    m = json.loads(out.read_text())
    assert m["n"] == 392
    for split in ("test", "test_pen"):
        assert 0.0 <= m[split]["top1"] <= m[split]["top5"] <= m[split]["top10"] <= 1.0


def test_epochs_are_judged_and_logged_on_validation_alone(seed_dataset, tmp_path):
    """No held-out figure but the choosing split's is seen while epochs are chosen; the chosen
    epoch is then measured on every held-out split, for the card."""
    import datasets

    dd = datasets.load_from_disk(str(seed_dataset))
    dd["validation"] = dd["train"].select(range(0, len(dd["train"]), 4))
    dataset = tmp_path / "with_validation"
    dd.save_to_disk(str(dataset))
    r = run_cli(*train_args(dataset, tmp_path / "w", epochs=2))
    assert r.returncode == 0, r.stderr[-3000:]
    rows = epochs_of(r.stdout)
    assert len(rows) == 2
    for row in rows:
        assert "validation_top1" in row and "validation_pen_top1" in row
        assert not [k for k in row if k.startswith("test")], row
    best = json.loads(r.stdout.strip().splitlines()[-1])
    assert best["chosen_on"] == "validation"
    assert {"validation", "test", "test_pen"} <= set(best)


def test_seed_images_are_repeated_in_each_epoch():
    from oracle_bones.training.loop import epoch_index

    is_seed = torch.tensor([True, False, False, True])
    assert epoch_index(is_seed, 1).tolist() == [0, 1, 2, 3]
    assert sorted(epoch_index(is_seed, 3).tolist()) == [0, 0, 0, 1, 2, 3, 3, 3]
    assert epoch_index(torch.tensor([True, True]), 3).tolist() == [0, 1]  # seed only


def launch_two(args: list[str], tmp_path: Path, cpu: bool = True) -> subprocess.CompletedProcess:
    """`accelerate launch` with two processes, as for GPUs (torchrun): `--cpu --num_processes 2`
    starts one process in accelerate 1.15 (several CPU processes need mpirun there), and
    ACCELERATE_USE_CPU=1 joins the two on the CPU over GLOO."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACCELERATE_")}
    env |= {  # no user config: accelerate reads $HF_HOME/accelerate/default_config.yaml
        "HF_HOME": str(tmp_path / "hf"),
        "PYTHONPATH": str(ROOT / "src"),
        "OMP_NUM_THREADS": "1",
    }
    if cpu:
        env["ACCELERATE_USE_CPU"] = "1"
    launch = ["-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2"]
    launch += ["--num_machines", "1", "--num_cpu_threads_per_process", "1"]
    launch += ["--mixed_precision", "no", "--dynamo_backend", "no"]
    launch += ["--main_process_port", "0"]  # 0: accelerate picks a free port
    return subprocess.run(
        [sys.executable, *launch, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.slow
def test_two_processes_train_in_step_and_write_a_loadable_folder(seed_dataset, tmp_path):
    from oracle_bones.model import create
    from oracle_bones.training.loop import weights_digest

    work = tmp_path / "ddp"
    r = launch_two(train_args(seed_dataset, work, epochs=2, classes=20), tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "processes: 2" in r.stdout.splitlines()[0], r.stdout
    rows = epochs_of(r.stdout)  # printed once, by the main process
    assert [row["epoch"] for row in rows] == [1, 2]
    summary = [line for line in r.stdout.splitlines() if line.startswith('{"epoch"')][2:]
    assert len(summary) == 1 and json.loads(summary[0])["epoch"] in (1, 2), r.stdout
    assert r.stderr.count(" train glyphs\n") == 1, r.stderr  # one process built the cache
    assert r.stderr.count(" as rubbings\n") == (1 if RUBBINGS else 0), r.stderr  # and rendered
    assert len(list((work / "runs").iterdir())) == 1  # one TensorBoard writer
    assert all(math.isfinite(row["loss"]) for row in rows)
    # The schedule counts optimizer steps, whatever the processes: warm-up ends at its peak.
    assert rows[0]["lr"] == pytest.approx(3e-3) and rows[-1]["lr"] == pytest.approx(0, abs=1e-9)
    agreed = [line for line in r.stdout.splitlines() if line.startswith("2 processes agree")]
    assert len(agreed) == 1, r.stdout
    state = torch.load(work / "ckpt.pt", weights_only=True)
    assert state["epoch"] == 2
    net = create(json.loads((work / "model" / "config.json").read_text())["architecture"], 20)
    net.load_state_dict(state["model"])
    assert agreed[0].endswith(weights_digest(net))  # the digest is of the final weights
    assert_folder_loads(work / "model", 20)


@pytest.mark.slow
@pytest.mark.skipif(torch.cuda.is_available(), reason="with a GPU accelerate joins them")
def test_processes_that_accelerate_does_not_join_stop_before_training(seed_dataset, tmp_path):
    """Without ACCELERATE_USE_CPU on a CPU-only machine each process would train alone."""
    work = tmp_path / "alone"
    r = launch_two(train_args(seed_dataset, work, epochs=1, classes=20), tmp_path, cpu=False)
    assert r.returncode != 0
    assert "2 processes were started, but accelerate joined 1" in r.stderr
    assert not work.exists()


def test_every_process_gets_images_in_every_step():
    from oracle_bones.training.loop import _batch_starts

    assert list(_batch_starts(130, 64, 1)) == [0, 64, 128]  # one process: every image
    assert list(_batch_starts(130, 32, 2)) == [0, 64, 128]  # 2 left: one each
    assert list(_batch_starts(129, 32, 2)) == [0, 64]  # 1 left: the second process has none
    order = torch.arange(129)
    for i in _batch_starts(129, 32, 2):
        assert all(len(order[i : i + 64][rank::2]) >= 1 for rank in (0, 1))


def test_accuracy_by_training_forms_per_character() -> None:
    """Top-1 by how many training forms the true character has: 0 (never trained on), 1,
    2-3, 4-7, 8-15, 16+."""
    from oracle_bones.training.evaluate import by_forms

    forms = torch.tensor([0, 1, 3, 20])  # training forms of classes 0..3
    logits = torch.eye(4)[[0, 1, 2, 3, 3, 0]]  # predictions 0, 1, 2, 3, 3, 0
    labels = torch.tensor([0, 1, 1, 3, 3, 3])  # right, right, wrong, right, right, wrong
    assert by_forms(logits, labels, forms) == {
        "0": {"top1": 1.0, "n": 1},
        "1": {"top1": 0.5, "n": 2},
        "16+": {"top1": pytest.approx(2 / 3), "n": 3},
    }
    assert by_forms(logits, torch.tensor([-1, 2, 2, 2, 2, 2]), forms)["0"]["n"] == 1  # unknown
