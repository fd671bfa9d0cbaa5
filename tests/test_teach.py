"""Teach it, through the running app (`python app.py`, test_app.App): /teach by gradio_client, the
Share button in Chromium, and the feedback folder's push to hub_server.HubServer, healthy, failing
and down. The store's own files and crash repair are in test_feedback.py."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from fnmatch import fnmatch
from pathlib import Path

import datasets
import pytest
import torch
from app_harness import STROKES, App, canvas_scale, draw, recognisable_glyph, render_strokes
from conftest import BUNDLED, ROOT, run_cli
from gradio_client import Client, handle_file
from hub_server import HubError, HubServer, client_env, free_port
from huggingface_hub import CommitOperationAdd
from PIL import Image
from test_feedback import ROW_KEYS, png_chunks

from oracle_bones import Recognizer
from oracle_bones.glyphs.glyph import to_tensor
from oracle_bones.hub import HubUnavailable
from oracle_bones.space.feedback import PUSHED
from oracle_bones.space.feedback_push import _BoundedApi

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

GLYPHS = sorted((ROOT / "examples").glob("*.png"))
REPO = "u/feedback"
EVERY_MIN = 0.05  # OBS_FEEDBACK_EVERY_MIN: a push every 3 s

LOAD = """
import json, sys
from datasets import load_dataset
ds = load_dataset(sys.argv[1], split="train")
print(json.dumps(dict(zip(ds["id"], ds["label"]))))
"""


def rows(folder: Path) -> list[dict]:
    meta = folder / "metadata.jsonl"
    lines = meta.read_text(encoding="utf-8").splitlines() if meta.exists() else []
    return [json.loads(line) for line in lines]


def files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


def pushed(folder: Path) -> dict[str, bytes]:
    """The folder's files that the Hub repo should hold."""
    return {p: data for p, data in files(folder).items() if any(fnmatch(p, g) for g in PUSHED)}


def wait_for(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"{what}: not within {timeout:.0f} s"
        time.sleep(0.5)


def repo_files(hub: HubServer) -> dict[str, bytes]:
    try:
        return hub.files(REPO, "dataset")
    except HubError:  # not created yet
        return {}


def teach(client: Client, image: Path, char: str) -> dict:
    return client.predict(handle_file(str(image)), char, api_name="/teach")


def hub_env(url: str, home: Path) -> dict[str, str]:
    env = {k: v for k, v in client_env(url, home).items() if k.startswith("HF_")}
    env.pop("HF_HUB_OFFLINE", None)
    return env


@pytest.fixture(scope="module")
def recognizer() -> Recognizer:
    torch.set_num_threads(1)
    return Recognizer.from_pretrained(BUNDLED)


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("teach")
    server = App(tmp, OBS_MODEL=str(BUNDLED), HF_HUB_OFFLINE="1", OBS_FEEDBACK_DIR=str(tmp / "fb"))
    server.folder = tmp / "fb"
    try:
        server.wait_ready(120)
        yield server
    finally:
        server.stop()


def test_teach_saves_a_row_that_load_dataset_reads_back(app: App, recognizer: Recognizer) -> None:
    client = Client(app.url, verbose=False)
    known, image = GLYPHS[0].stem, GLYPHS[0]
    new = next(chr(c) for c in range(0x4E00, 0x9FFF) if chr(c) not in recognizer.labels)
    saved = {teach(client, image, known)["saved"]: known, teach(client, image, new)["saved"]: new}

    by_id = {row["id"]: row for row in rows(app.folder)}
    weights = hashlib.sha256((BUNDLED / "model.safetensors").read_bytes()).hexdigest()[:12]
    expected = recognizer.predict(image, top_k=10)
    for drawing_id, label in saved.items():
        row = by_id[drawing_id]
        assert list(row) == ROW_KEYS
        assert row["label"] == label and row["known"] == (label in recognizer.labels)
        assert [row["model"], row["revision"]] == ["bundled", weights]
        assert [t["label"] for t in row["top10"]] == [p.label for p in expected]
        assert [t["score"] for t in row["top10"]] == pytest.approx(
            [p.score for p in expected], abs=1e-5
        )
        assert png_chunks(app.folder / row["file_name"]) == ["IHDR", "IDAT", "IEND"]
    assert by_id[next(iter(saved))]["known"] and not by_id[list(saved)[1]]["known"]
    # Nothing about the person: not the session, not the uploaded file's name.
    for data in files(app.folder).values():
        assert client.session_hash.encode() not in data and image.name.encode() not in data

    ds = datasets.load_dataset("imagefolder", data_dir=str(app.folder), split="train")
    assert {i: label for i, label in zip(ds["id"], ds["label"], strict=True) if i in saved} == saved


def test_teach_refuses_with_a_reason_and_writes_nothing(app: App, tmp_path: Path) -> None:
    client = Client(app.url, verbose=False)
    blank, damaged = tmp_path / "blank.png", tmp_path / "damaged.png"
    Image.new("RGB", (300, 300), "white").save(blank)
    damaged.write_bytes(b"\x89PNG\r\n\x1a\n" + b"not really a png" * 10)
    before = files(app.folder)
    for image, char, reason in [
        (GLYPHS[0], "雨水", "One character only"),
        (GLYPHS[0], "", "Pick or type"),
        (GLYPHS[0], "a", "not a Chinese character"),
        (blank, "雨", "No ink found"),
        (damaged, "雨", "damaged"),
    ]:
        answer = teach(client, image, char)
        assert list(answer) == ["error"] and reason in answer["error"], (char, answer)
    assert files(app.folder) == before


def test_a_few_shares_a_minute_per_session(app: App) -> None:
    client, other = Client(app.url, verbose=False), Client(app.url, verbose=False)
    answers = [teach(client, GLYPHS[0], "田") for _ in range(6)]
    assert all("saved" in a for a in answers[:5]), answers
    assert "please wait" in answers[5].get("error", ""), answers[5]
    assert "saved" in teach(other, GLYPHS[0], "田")


def test_draw_pick_and_share_in_the_browser(app: App, browser, recognizer: Recognizer) -> None:
    """Draw, pick the right candidate, share: the row appears, with the drawing as its PNG."""
    char = recognisable_glyph(recognizer)
    before = {row["id"] for row in rows(app.folder)}
    page = browser.new_page(viewport={"width": 1280, "height": 1200})
    try:
        page.goto(app.url)
        draw(page, STROKES[char], canvas_scale(page))
        choice = page.locator("#teach-pick label").filter(has_text=f"{char} ")
        choice.first.wait_for(timeout=30_000)
        choice.first.click()
        page.locator("#teach-share").click()
        result = page.locator("#teach-result")
        page.wait_for_function(
            "e => /Thank you|Not shared/.test(e.innerText)",
            arg=result.element_handle(),
            timeout=30_000,
        )
        assert f"Thank you: your drawing of {char}" in result.inner_text(), result.inner_text()
    finally:
        page.close()
    [row] = [row for row in rows(app.folder) if row["id"] not in before]
    assert row["label"] == char and row["known"] is True
    assert char in [t["label"] for t in row["top10"]]  # the model's answer to that drawing
    drawn, stored = (
        to_tensor(render_strokes(STROKES[char])),
        to_tensor(app.folder / row["file_name"]),
    )
    overlap = float((drawn * stored).sum() / (drawn.square().sum() * stored.square().sum()).sqrt())
    assert overlap > 0.5, overlap  # the Sketchpad's strokes, not another picture
    ds = datasets.load_dataset("imagefolder", data_dir=str(app.folder), split="train")
    assert dict(zip(ds["id"], ds["label"], strict=True))[row["id"]] == char


def feedback_app(tmp_path: Path, folder: Path, hub_url: str, **env: str) -> App:
    """The app storing shares in `folder` and pushing them to REPO on the Hub at `hub_url`."""
    return App(
        tmp_path,
        OBS_MODEL=str(BUNDLED),
        OBS_FEEDBACK_DIR=str(folder),
        OBS_FEEDBACK_REPO=REPO,
        OBS_FEEDBACK_EVERY_MIN=str(EVERY_MIN),
        **hub_env(hub_url, tmp_path / "home"),
        **env,
    )


def test_no_push_starts_while_one_is_out_until_it_is_taken_for_lost(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Against a hung Hub, over HTTP: while a commit is unanswered the next does not start (an
    old push landing after a newer one would undo it); once it has been out `stuck_after`
    seconds it is taken for lost and one starts; when the Hub answers again, all land."""

    def commit(text: str) -> dict:
        add = CommitOperationAdd(path_in_repo="a.txt", path_or_fileobj=text.encode())
        return {
            "repo_id": REPO,
            "repo_type": "dataset",
            "operations": [add],
            "commit_message": text,
        }

    with HubServer() as hub:
        api = _BoundedApi(0.5, 3.0, endpoint=hub.url, token="dummy")
        api.create_repo(repo_id=REPO, repo_type="dataset", exist_ok=True)
        hub.fault = "hang"
        with pytest.raises(HubUnavailable, match="no answer"):
            api.create_commit(**commit("1"))
        wait_for(lambda: hub.held == 1, 10, "the first push reaching the Hub")
        with pytest.raises(HubUnavailable, match="has not answered the last push"):
            api.create_commit(**commit("2"))
        assert hub.held == 1, "a push started while the last one was out"
        time.sleep(3)
        with pytest.raises(HubUnavailable, match="no answer"):
            api.create_commit(**commit("3"))
        wait_for(lambda: hub.held == 2, 10, "the push after the lost one reaching the Hub")
        assert "pushing anew" in caplog.text
        hub.fault = None
        wait_for(
            lambda: {"1", "3"} <= hub.commit_titles(REPO, "dataset"), 30, "held pushes landing"
        )

        def push() -> bool:
            try:
                return bool(api.create_commit(**commit("4")).oid)
            except HubUnavailable as e:  # the answer to "3" is on its way back
                assert "has not answered" in str(e)
                return False

        wait_for(push, 5, "a push once they are in")
        assert repo_files(hub)["a.txt"] == b"4"


def test_shared_drawings_reach_the_hub_and_a_failed_push_loses_nothing(tmp_path: Path) -> None:
    """Healthy: the folder arrives as it is. HTTP 500, then a hung Hub (each push bounded to
    3 s): shares are answered at once and stay on disk, and no push starts while one is still
    unanswered (else it could land stale, after a newer one); once the Hub is back, all arrive."""
    folder = tmp_path / "fb"
    with HubServer() as hub:
        app = feedback_app(tmp_path, folder, hub.url, OBS_HUB_PUSH_TIMEOUT="3")
        try:
            app.wait_ready(120)
            client = Client(app.url, verbose=False)
            for image in GLYPHS[:2]:
                assert "saved" in teach(client, image, image.stem)
            wait_for(lambda: repo_files(hub) == pushed(folder), 60, "the first push")
            assert (
                len(rows(folder)) == 2
                and "license: cc0-1.0" in repo_files(hub)["README.md"].decode()
            )

            for fault in ("error500", "hang"):
                hub.fault, other = fault, Client(app.url, verbose=False)
                start = time.monotonic()
                assert "saved" in teach(other, GLYPHS[2], GLYPHS[2].stem)
                seconds = time.monotonic() - start
                print(f"share with the Hub failing ({fault}): {seconds:.2f} s")
                assert seconds < 5
                time.sleep(3 * EVERY_MIN * 60)  # a few pushes, all failing
                assert repo_files(hub)["metadata.jsonl"].count(b"\n") == 2
                assert hub.held <= 1, "a push started while the last one was unanswered"
            assert "Error while pushing to Hub" in app.log()
            hub.fault = None
            wait_for(lambda: repo_files(hub) == pushed(folder), 60, "catching up")
            time.sleep(2 * EVERY_MIN * 60)  # nothing stale lands afterwards
            assert repo_files(hub) == pushed(folder) and len(rows(folder)) == 4
        finally:
            hub.fault = None
            app.stop()
        env = client_env(hub.url, tmp_path / "reader")
        env.pop("HF_HUB_OFFLINE", None)
        result = run_cli("-c", LOAD, REPO, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads(result.stdout.splitlines()[-1]) == {r["id"]: r["label"] for r in rows(folder)}


def test_with_the_hub_down_drawings_wait_on_disk_and_arrive_once_it_is_up(tmp_path: Path) -> None:
    folder, port = tmp_path / "fb", free_port()
    app = feedback_app(tmp_path, folder, f"http://127.0.0.1:{port}")
    try:
        app.wait_ready(120)
        client = Client(app.url, verbose=False)
        ids = [teach(client, image, image.stem)["saved"] for image in GLYPHS[:2]]
        time.sleep(3 * EVERY_MIN * 60)  # the push keeps trying, and failing
        assert [r["id"] for r in rows(folder)] == ids
        assert "trying again" in app.log()
        with HubServer(port=port) as hub:
            wait_for(lambda: repo_files(hub) == pushed(folder), 60, "once the Hub is up")
    finally:
        app.stop()
