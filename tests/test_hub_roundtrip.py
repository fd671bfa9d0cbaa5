"""Round trips through a Hub over real HTTP: `HubServer` (hub_server.py) on 127.0.0.1, driven by
the real clients (our CLI, huggingface_hub, datasets, timm, app.py + gradio_client), each in a
fresh process with an empty cache: they read HF_ENDPOINT when imported (see hub_fixtures.py).

1. build-dataset -> push-dataset -> load_dataset: the same rows, features and splits; our card.
2. train.py --push-to-hub -> Recognizer, timm "hf-hub:" and `predict` answer as the local folder;
   push-model publishes the same folder (safetensors, no pickles).
3. Faults: Hub down, hung, repo missing, HTTP 500, download cut short; pushing without a token or
   to a hung Hub. Each ends within BOUND_S with a message that names the cause.
4. app.py serves the pushed model, and on each fault the bundled one, with a notice.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import datasets
import pytest
import yaml
from app_harness import App
from conftest import BUNDLED, DATA, ROOT, run_cli
from hub_server import HubError, HubServer, client_env, free_port
from test_training import train_args

from oracle_bones import Recognizer

MODEL_REPO, COPY_REPO, DATASET_REPO = "u/tiny", "u/tiny-copy", "u/glyphs"
HUB_TIMEOUT_S = 5  # OBS_HUB_TIMEOUT and OBS_HUB_PUSH_TIMEOUT in the fault tests
BOUND_S = 15  # what a fault may cost, on top of starting the process
SETUP_S = 900  # test timeout when it may have to build the dataset and train the tiny model
TOP_K = 5
IMAGES = sorted((DATA / "jiaguwen" / "i").glob("*.jpg"))[:3]
PICKLES = (".bin", ".pt", ".pth", ".pkl", ".pickle", ".ckpt")

# Each fault: (HubServer.fault, repo asked for, what the error message must say, with {endpoint}
# and {timeout}). "down" is a port with nothing listening; "no repo": a healthy Hub lacks the repo.
FAULTS = {
    "down": (None, MODEL_REPO, "cannot reach {endpoint}"),
    "hang": ("hang", MODEL_REPO, "no answer from {endpoint} within {timeout} s"),
    "no repo": (None, "u/missing", "no such repository"),
    "error500": ("error500", MODEL_REPO, "HTTP 500"),
    "truncate": ("truncate", MODEL_REPO, "peer closed connection without sending complete"),
}
needs_app = pytest.mark.skipif(
    not (ROOT / "app.py").exists() or not (BUNDLED / "config.json").exists(),
    reason=f"app.py or the bundled model ({BUNDLED / 'config.json'}) is missing",
)

# A Hub client as a user's script: the top TOP_K of each image, or the HubUnavailable message and
# how long the failed call took (imports excluded).
PULL = """
import json, sys, time
import timm, torch
from oracle_bones import Recognizer, to_tensor
from oracle_bones.model import standardise
from oracle_bones.hub import HubUnavailable

client, repo, top_k, *images = sys.argv[1:]
start = time.monotonic()
try:
    if client == "timm":
        net = timm.create_model(f"hf-hub:{repo}", pretrained=True).eval()
        labels = net.pretrained_cfg["label_names"]
        with torch.no_grad():
            probs = net(standardise(torch.stack([to_tensor(im) for im in images]))).softmax(1)
        scores, idx = probs.topk(int(top_k))
        top = [[[labels[i], s] for i, s in zip(*row)] for row in zip(idx.tolist(), scores.tolist())]
    else:
        rec = Recognizer.from_pretrained(repo)
        top = [[[p.label, p.score] for p in rec.predict(im, top_k=int(top_k))] for im in images]
    print(json.dumps({"top": top}))
except HubUnavailable as e:
    print(json.dumps({"error": str(e), "seconds": time.monotonic() - start}))
"""

LOAD_DATASET = """
import sys
from datasets import load_dataset
load_dataset(sys.argv[1]).save_to_disk(sys.argv[2])
"""

pytestmark = pytest.mark.slow


def env_for(endpoint: str, home: Path, timeouts: bool = False) -> dict[str, str]:
    """A Hub client's environment (hub_server.client_env), without the shell's own settings that
    would change what is tested; `timeouts`: OBS_HUB_(PUSH_)TIMEOUT=HUB_TIMEOUT_S."""
    env = client_env(endpoint, home)
    for key in ("HF_HUB_OFFLINE", "HF_TOKEN_PATH", "OBS_MODEL"):
        env.pop(key, None)
    if timeouts:
        env["OBS_HUB_TIMEOUT"] = env["OBS_HUB_PUSH_TIMEOUT"] = str(HUB_TIMEOUT_S)
    return env


def timed(*args: str, env: dict[str, str]) -> tuple[subprocess.CompletedProcess, float]:
    """`run_cli` and its wall-clock seconds."""
    start = time.monotonic()
    result = run_cli(*args, env=env, timeout=300)
    return result, time.monotonic() - start


def obs(*args: str, env: dict[str, str]) -> tuple[subprocess.CompletedProcess, float]:
    """`python -m oracle_bones ARGS`, timed."""
    return timed("-m", "oracle_bones", *args, env=env)


def pull(client: str, repo: str, env: dict[str, str]) -> dict:
    """PULL in a fresh process: {"top": ...} or {"error": ..., "seconds": ...}."""
    result, _ = timed("-c", PULL, client, repo, str(TOP_K), *map(str, IMAGES), env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.splitlines()[-1])


def predict_cli(model: str, env: dict[str, str]) -> tuple[subprocess.CompletedProcess, float]:
    return obs(
        "predict", "--model", model, "--json", "--top-k", str(TOP_K), *map(str, IMAGES), env=env
    )


def assert_same_top(got: list, want: list) -> None:
    """Per image: the same labels in the same order, scores within 1e-5."""
    for g, w in zip(got, want, strict=True):
        assert [label for label, _ in g] == [label for label, _ in w]
        assert [score for _, score in g] == pytest.approx([score for _, score in w], abs=1e-5)


def top_of(recognizer: Recognizer, images: list[Path]) -> list[list[list]]:
    return [[[p.label, p.score] for p in recognizer.predict(im, top_k=TOP_K)] for im in images]


def model_files(hub: HubServer, repo: str) -> dict[str, bytes]:
    """The repo's files, after checking it is a safetensors model folder without pickles."""
    files = hub.files(repo)
    assert {"config.json", "model.safetensors", "README.md"} <= set(files), sorted(files)
    assert not [name for name in files if name.endswith(PICKLES)], sorted(files)
    return files


def front_matter(card: str) -> tuple[dict, str]:
    """(YAML metadata, Markdown body) of a card."""
    _, meta, body = card.split("---\n", 2)
    return yaml.safe_load(meta), body


def rows(split: datasets.Dataset) -> list[tuple]:
    """(label, source, ref, encoded image) of every row, in order."""
    raw = split.cast_column("image", datasets.Image(decode=False))
    return [(r["label"], r["source"], r["ref"], r["image"]["bytes"]) for r in raw]


@contextlib.contextmanager
def failing_hub(hub: HubServer, fault: str, home: Path) -> Iterator[tuple[dict, str, str]]:
    """With `fault` in force: (client environment with short timeouts, repo to ask for, what the
    error must say)."""
    server_fault, repo, reason = FAULTS[fault]
    endpoint = f"http://127.0.0.1:{free_port()}" if fault == "down" else hub.url
    hub.fault = server_fault
    try:
        env = env_for(endpoint, home, timeouts=True)
        yield env, repo, reason.format(endpoint=endpoint, timeout=HUB_TIMEOUT_S)
    finally:
        hub.fault = None


@pytest.fixture(scope="module")
def hub() -> Iterator[HubServer]:
    """One Hub for the module; fault tests set `fault` and restore it (`failing_hub`)."""
    with HubServer() as server:
        yield server


@pytest.fixture(scope="module")
def tiny(seed_dataset: Path, hub: HubServer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`train.py ... --push-to-hub MODEL_REPO` (about a minute): the model folder it wrote."""
    work = tmp_path_factory.mktemp("tiny")
    result = run_cli(
        *train_args(seed_dataset, work / "run"),
        "--push-to-hub",
        MODEL_REPO,
        env=env_for(hub.url, work / "home"),
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"{hub.url}/{MODEL_REPO}/commit/" in result.stdout
    return work / "run" / "model"


@pytest.fixture(scope="module")
def expected(tiny: Path) -> list[list[list]]:
    """The local folder's top TOP_K per image: what every Hub route must answer."""
    return top_of(Recognizer.from_pretrained(tiny), IMAGES)


@pytest.fixture(scope="module")
def startup_s() -> float:
    """Seconds a fresh interpreter takes to import what the commands import (the CPU is shared,
    so this varies): the fault bounds of the commands come on top of it."""
    modules = "datasets, timm, torch, oracle_bones.publish, oracle_bones.reading.recognizer"
    result, seconds = timed("-c", f"import {modules}", env={})
    assert result.returncode == 0, result.stderr[-3000:]
    return seconds


# -- 1. dataset ------------------------------------------------------------------------------------


@pytest.mark.timeout(SETUP_S)
def test_dataset_roundtrip(seed_dataset: Path, hub: HubServer, tmp_path: Path) -> None:
    result, _ = obs(
        "push-dataset", str(seed_dataset), DATASET_REPO, env=env_for(hub.url, tmp_path / "push")
    )
    assert result.returncode == 0, result.stderr[-3000:]

    pulled = tmp_path / "pulled"
    result, _ = timed(
        "-c", LOAD_DATASET, DATASET_REPO, str(pulled), env=env_for(hub.url, tmp_path / "fresh")
    )
    assert result.returncode == 0, result.stderr[-3000:]
    local, remote = datasets.load_from_disk(str(seed_dataset)), datasets.load_from_disk(str(pulled))
    assert sorted(remote) == sorted(local) == ["test", "train"]
    for name in local:
        assert remote[name].features == local[name].features, name
        assert rows(remote[name]) == rows(local[name]), name

    files = hub.files(DATASET_REPO, "dataset")
    assert sorted(p for p in files if p.startswith("data/")) == [
        "data/test-00000-of-00001.parquet",
        "data/train-00000-of-00001.parquet",
    ]
    meta, body = front_matter(files["README.md"].decode())
    ours, our_body = front_matter((seed_dataset / "README.md").read_text(encoding="utf-8"))
    assert body.strip() == our_body.strip()
    assert {key: meta.get(key) for key in ours} == ours  # license, task_categories, ...
    assert meta["task_categories"] == ["image-classification"] and meta["license"]
    assert [c["config_name"] for c in meta["configs"]] == ["default"]
    splits = {s["name"]: s["num_examples"] for s in meta["dataset_info"]["splits"]}
    assert splits == {name: len(split) for name, split in local.items()}


# -- 2. model ----------------------------------------------------------------------------------


@pytest.mark.timeout(SETUP_S)
@pytest.mark.parametrize("client", ["recognizer", "timm"])
def test_pushed_model_answers_as_the_local_folder(
    client: str, hub: HubServer, tiny: Path, expected: list, tmp_path: Path
) -> None:
    """Recognizer.from_pretrained(REPO) and timm "hf-hub:REPO", each with an empty cache."""
    assert model_files(hub, MODEL_REPO) == {f.name: f.read_bytes() for f in tiny.iterdir()}
    answer = pull(client, MODEL_REPO, env_for(hub.url, tmp_path / "home"))
    assert "error" not in answer, answer
    assert_same_top(answer["top"], expected)


@pytest.mark.timeout(SETUP_S)
def test_predict_cli_reads_the_pushed_model(
    hub: HubServer, tiny: Path, expected: list, tmp_path: Path
) -> None:
    result, _ = predict_cli(MODEL_REPO, env_for(hub.url, tmp_path / "home"))
    assert result.returncode == 0, result.stderr[-3000:]
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["image"] for line in lines] == list(map(str, IMAGES))
    got = [[[p["label"], p["score"]] for p in line["predictions"]] for line in lines]
    assert_same_top(got, expected)


@pytest.mark.timeout(SETUP_S)
def test_push_model_cli_publishes_the_folder(hub: HubServer, tiny: Path, tmp_path: Path) -> None:
    result, _ = obs("push-model", str(tiny), COPY_REPO, env=env_for(hub.url, tmp_path / "home"))
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"{hub.url}/{COPY_REPO}/commit/" in result.stdout
    assert model_files(hub, COPY_REPO) == model_files(hub, MODEL_REPO)


# -- 3. faults ---------------------------------------------------------------------------------


@pytest.mark.timeout(SETUP_S)
@pytest.mark.parametrize("fault", FAULTS)
def test_pull_fails_fast_and_says_why(
    fault: str, hub: HubServer, tiny: Path, startup_s: float, tmp_path: Path
) -> None:
    """Recognizer.from_pretrained (timed in-process) and `predict --model REPO` (timed whole)."""
    with failing_hub(hub, fault, tmp_path / "home") as (env, repo, reason):
        answer = pull("recognizer", repo, env)
        result, seconds = predict_cli(repo, env)
    print(f"{fault}: from_pretrained {answer.get('seconds', 0):.1f} s, predict {seconds:.1f} s")
    print(f"  (a fresh interpreter's imports alone: {startup_s:.1f} s)")
    assert reason in answer.get("error", ""), answer
    assert answer["seconds"] < BOUND_S
    assert result.returncode == 1 and f"error: downloading {repo}: " in result.stderr
    assert reason in result.stderr, result.stderr[-2000:]
    assert seconds < startup_s + BOUND_S, (seconds, startup_s)


@pytest.mark.timeout(SETUP_S)
@pytest.mark.parametrize("command", ["push-dataset", "push-model"])
@pytest.mark.parametrize("fault", ["no token", "hang"])
def test_push_fails_fast_and_says_why(
    command: str,
    fault: str,
    hub: HubServer,
    seed_dataset: Path,
    tiny: Path,
    startup_s: float,
    tmp_path: Path,
) -> None:
    folder = seed_dataset if command == "push-dataset" else tiny
    repo = f"u/{command}-{fault.replace(' ', '-')}"
    with contextlib.ExitStack() as stack:
        if fault == "no token":
            env = env_for(hub.url, tmp_path / "home", timeouts=True)
            del env["HF_TOKEN"]
            reason = "No Hugging Face token"
        else:
            env, _, reason = stack.enter_context(failing_hub(hub, fault, tmp_path / "home"))
        result, seconds = obs(command, str(folder), repo, env=env)
        # Nothing was created by the time the push gave up. Checked while the fault lasts: a
        # hung Hub that comes back answers the requests it held, as the real one may.
        with pytest.raises(HubError):
            hub.files(repo, "dataset" if command == "push-dataset" else "model")
    print(f"{command} ({fault}): {seconds:.1f} s")
    assert result.returncode == 1 and reason in result.stderr, result.stderr[-2000:]
    assert seconds < startup_s + BOUND_S, (seconds, startup_s)


# -- 4. app.py ---------------------------------------------------------------------------------


class Served(NamedTuple):
    ready_s: float  # from launch until the page answers
    settled_s: float  # from launch until the model named by OBS_MODEL answers, or has failed
    top: list  # the /predict answer's top TOP_K for IMAGES[0], as [[label, score], ...]
    notice: str  # why OBS_MODEL's model is not answering, "" when it is


def serve(env: dict[str, str], repo: str, tmp: Path) -> Served:
    """`python app.py` (test_app.App) with OBS_MODEL=`repo` on `env`'s Hub: what it serves once
    the model has settled (the bundled one answers while OBS_MODEL's loads in the background)."""
    from gradio_client import Client, handle_file
    from PIL import Image

    png = tmp / "glyph.png"
    Image.open(IMAGES[0]).save(png)
    app = App(tmp, **env, OBS_MODEL=repo)
    try:
        ready_s = app.wait_ready(180)
        client = Client(app.url, verbose=False)
        while (status := client.predict(api_name="/model"))["loading"]:
            assert time.monotonic() - app.started < 180, status
            time.sleep(0.2)
        settled_s = time.monotonic() - app.started
        label = client.predict(handle_file(str(png)), api_name="/predict")
    finally:
        app.stop()
    top = [[c["label"].split(" ", 1)[0], c["confidence"]] for c in label["confidences"][:TOP_K]]
    return Served(ready_s, settled_s, top, status["notice"])


@pytest.fixture(scope="module")
def served(hub: HubServer, tiny: Path, tmp_path_factory: pytest.TempPathFactory) -> Served:
    tmp = tmp_path_factory.mktemp("app")
    return serve(env_for(hub.url, tmp / "home"), MODEL_REPO, tmp)


@pytest.fixture(scope="module")
def bundled_top() -> list:
    return top_of(Recognizer.from_pretrained(BUNDLED), IMAGES[:1])[0]


@needs_app
@pytest.mark.timeout(SETUP_S)
def test_app_serves_the_pushed_model(served: Served, expected: list, bundled_top: list) -> None:
    print(f"app ready in {served.ready_s:.1f} s, on {MODEL_REPO} at {served.settled_s:.1f} s")
    assert served.notice == ""
    assert_same_top([served.top], expected[:1])
    assert [label for label, _ in served.top] != [label for label, _ in bundled_top]


@needs_app
@pytest.mark.timeout(SETUP_S)
@pytest.mark.parametrize("fault", FAULTS)
def test_app_falls_back_to_the_bundled_model(
    fault: str, hub: HubServer, served: Served, bundled_top: list, tmp_path: Path
) -> None:
    """Settled within BOUND_S of a healthy start, on the bundled model, saying why."""
    with failing_hub(hub, fault, tmp_path / "home") as (env, repo, reason):
        fallback = serve(env, repo, tmp_path)
    print(
        f"app ready in {fallback.ready_s:.1f} s, settled at {fallback.settled_s:.1f} s ({fault}; "
        f"healthy: {served.ready_s:.1f} s, {served.settled_s:.1f} s)"
    )
    assert fallback.settled_s < served.settled_s + BOUND_S
    assert reason in fallback.notice and "bundled model" in fallback.notice, fallback.notice
    assert_same_top([fallback.top], [bundled_top])


def test_a_build_with_the_founder_font_is_never_pushed(hub: HubServer, tmp_path: Path) -> None:
    """fzjgw's terms forbid publishing: push-dataset refuses the build, and nothing reaches the
    Hub, although a token is set and the Hub answers."""
    from tiny_sources import seed_items, write_font_source, write_jiaguwen

    write_jiaguwen(tmp_path, seed_items())
    write_font_source(tmp_path, "fzjgw", 5)
    out = tmp_path / "built"
    args = ("--data-dir", str(tmp_path), "--sources", "jiaguwen,fzjgw", "--out", str(out))
    built = run_cli("-m", "oracle_bones", "build-dataset", *args)
    assert built.returncode == 0, built.stderr[-2000:]
    assert "forbid publishing" in (out / "README.md").read_text(encoding="utf-8")
    result, _ = obs("push-dataset", str(out), "u/fz", env=env_for(hub.url, tmp_path / "home"))
    assert result.returncode == 1 and "fzjgw" in result.stderr and "forbid" in result.stderr
    with pytest.raises(HubError):
        hub.files("u/fz", "dataset")
