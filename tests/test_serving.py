"""Start at once (serving.ModelHolder, through `python app.py` against hub_server.HubServer): the
bundled model answers while OBS_MODEL's is fetched, the page says which model answers, and it
switches to the Hub model once that has loaded, or says in one line why it could not."""

from __future__ import annotations

import json
import time
import urllib.request
from pathlib import Path

import pytest
import torch
from app_harness import App
from conftest import BUNDLED, ROOT, run_cli
from gradio_client import Client, handle_file
from hub_server import HubServer, client_env

from oracle_bones import Recognizer
from oracle_bones import model as model_io

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

HUB_MODEL = "u/hub-model"
GLYPH = ROOT / "examples" / "田.png"


def hub_env(url: str, home: Path, **extra: str) -> dict[str, str]:
    """The Hub client settings of hub_server.client_env (App supplies the rest)."""
    env = {k: v for k, v in client_env(url, home).items() if k.startswith("HF_")}
    env.pop("HF_HUB_OFFLINE", None)
    return {**env, **extra}


def top(client: Client) -> list[str]:
    result = client.predict(handle_file(str(GLYPH)), api_name="/predict")
    return [c["label"].split(" ", 1)[0] for c in result["confidences"]]


def wait_settled(client: Client, timeout: float) -> dict:
    """/model once no model is loading any more."""
    deadline = time.monotonic() + timeout
    while (status := client.predict(api_name="/model"))["loading"]:
        assert time.monotonic() < deadline, f"still loading after {timeout:.0f} s: {status}"
        time.sleep(0.5)
    return status


@pytest.fixture(scope="module")
def bundled_top() -> list[str]:
    torch.set_num_threads(1)
    return [p.label for p in Recognizer.from_pretrained(BUNDLED).predict(GLYPH)]


@pytest.fixture(scope="module")
def hub() -> HubServer:
    with HubServer() as server:
        yield server


@pytest.fixture(scope="module")
def hub_model(hub: HubServer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small random network over 50 characters, pushed with `push-model`: it answers unlike
    the bundled model, so which one answered shows."""
    work = tmp_path_factory.mktemp("hub-model")
    torch.manual_seed(0)
    labels = Recognizer.from_pretrained(BUNDLED).labels[-50:]
    model_io.save(model_io.create("seed-cnn", len(labels)), labels, work / "model", card="# t\n")
    env = client_env(hub.url, work / "home")
    env.pop("HF_HUB_OFFLINE", None)
    result = run_cli("-m", "oracle_bones", "push-model", str(work / "model"), HUB_MODEL, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    return work / "model"


def test_a_hub_that_never_answers_does_not_hold_the_app_back(
    bundled_top: list[str], tmp_path: Path
) -> None:
    """The page is up and recognising on the bundled model while the fetch is still waiting;
    when the fetch gives up, the model line says why in one line."""
    bound = 90  # OBS_HUB_TIMEOUT: far longer than the app takes to start, even on a busy machine
    with HubServer(fault="hang") as hub:
        env = hub_env(hub.url, tmp_path / "home", OBS_HUB_TIMEOUT=str(bound))
        app = App(tmp_path, OBS_MODEL=HUB_MODEL, **env)
        try:
            ready = app.wait_ready(bound)
            client = Client(app.url, verbose=False)
            status = client.predict(api_name="/model")
            print(f"ready in {ready:.1f} s with a Hub that never answers; {status}")
            assert status["loading"] and status["model"] == "bundled", status
            assert top(client) == bundled_top
            status = wait_settled(client, bound + 30)
        finally:
            app.stop()
    assert status["model"] == "bundled"
    assert f"no answer from {hub.url} within {bound} s" in status["notice"], status
    assert "serving the bundled model" in status["notice"] and "\n" not in status["notice"]


def test_the_page_says_bundled_then_switches_to_the_hub_model(
    hub: HubServer,
    hub_model: Path,
    bundled_top: list[str],
    browser,
    tmp_path: Path,
) -> None:
    """The Hub holds the fetch until the page has been seen on the bundled model, then answers:
    the page's model line changes by itself and /predict answers as the Hub model does."""
    expected = [p.label for p in Recognizer.from_pretrained(hub_model).predict(GLYPH)]
    assert expected != bundled_top
    with urllib.request.urlopen(f"{hub.url}/api/models/{HUB_MODEL}", timeout=10) as r:
        revision = json.load(r)["sha"]
    hub.fault = "hang"
    env = hub_env(hub.url, tmp_path / "home", OBS_HUB_TIMEOUT="300")  # held, not given up on
    app = App(tmp_path, OBS_MODEL=HUB_MODEL, **env)
    try:
        app.wait_ready(120)
        client = Client(app.url, verbose=False)
        assert top(client) == bundled_top
        page = browser.new_page()
        try:
            page.goto(app.url)
            # the Markdown's text: its status tracker holds an invisible (opacity 0) timer
            line = page.locator("#model-status [data-testid=markdown]")
            line.wait_for(timeout=30_000)
            assert "the bundled model" in line.inner_text()
            assert f"fetching {HUB_MODEL}" in line.inner_text()
            hub.fault = None
            page.wait_for_function(
                f"e => e.innerText.includes('{HUB_MODEL}') && !e.innerText.includes('fetching')",
                arg=line.element_handle(),
                timeout=60_000,
            )
            text = line.inner_text()
            assert "bundled" not in text and revision[:7] in text and "seed_cnn" in text, text
        finally:
            page.close()
        status = wait_settled(client, 30)
        assert status == {"model": HUB_MODEL, "revision": revision, "loading": False, "notice": ""}
        assert top(client) == expected
    finally:
        hub.fault = None
        app.stop()
