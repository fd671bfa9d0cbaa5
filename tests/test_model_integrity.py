"""Damaged model folders: `Recognizer.from_pretrained` raises a `ModelFileError` that names the
file at fault, never unpickles anything, and app.py serves the bundled model instead, with a
notice on the page.
"""

from __future__ import annotations

import json
import pickle
import shutil
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest
from app_harness import App
from conftest import BUNDLED, ROOT

from oracle_bones import Recognizer
from oracle_bones import model as model_io
from oracle_bones.model import CONFIG, WEIGHTS, ModelFileError

pytestmark = pytest.mark.timeout(300)
READY_S = 15  # the fallback may cost no more than this, start-up included
GOOD = ROOT / "examples" / "田.png"


class Bait:
    """Unpickling this creates `marker`: proof that a loader ran pickled code."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return open, (str(self.marker), "w")


def edit_config(change: Callable[[dict], None]) -> Callable[[Path], None]:
    def mutate(folder: Path) -> None:
        config = json.loads((folder / CONFIG).read_text(encoding="utf-8"))
        change(config)
        (folder / CONFIG).write_text(json.dumps(config, ensure_ascii=False), encoding="utf-8")

    return mutate


def truncate(folder: Path) -> None:
    weights = folder / WEIGHTS
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])


def one_label_short(config: dict) -> None:
    config["label_names"] = config["label_names"][:-1]
    config["num_classes"] = len(config["label_names"])


def pickle_only(folder: Path) -> None:
    (folder / WEIGHTS).unlink()
    marker = folder / "unpickled"
    (folder / "pytorch_model.bin").write_bytes(pickle.dumps(Bait(marker)))


# name -> (damage done to a copy of the bundled folder, the file the message must name)
DAMAGE: dict[str, tuple[Callable[[Path], None], str]] = {
    "truncated weights": (truncate, WEIGHTS),
    "garbage weights": (lambda f: (f / WEIGHTS).write_bytes(b"\x00garbage" * 999), WEIGHTS),
    "labels disagree with weights": (edit_config(one_label_short), CONFIG),
    "no label_names": (edit_config(lambda c: c.pop("label_names")), CONFIG),
    "invalid JSON": (lambda f: (f / CONFIG).write_text('{"num_classes": 3,', "utf-8"), CONFIG),
    "pickle, no safetensors": (pickle_only, WEIGHTS),
}


def damaged(case: str, tmp: Path) -> Path:
    if not (BUNDLED / CONFIG).exists():
        pytest.skip(f"no bundled model in {BUNDLED}")
    folder = tmp / "model"
    shutil.copytree(BUNDLED, folder)
    DAMAGE[case][0](folder)
    return folder


def test_the_bait_is_live(tmp_path: Path) -> None:
    """The pickle below really would leave a marker if anything unpickled it."""
    pickle.loads(pickle.dumps(Bait(tmp_path / "marker")))
    assert (tmp_path / "marker").exists()


@pytest.mark.parametrize("case", DAMAGE)
def test_damaged_folder_is_refused_naming_the_file(tmp_path: Path, case: str) -> None:
    folder = damaged(case, tmp_path)
    with pytest.raises(ModelFileError) as caught:
        Recognizer.from_pretrained(folder)
    message = str(caught.value)
    assert str(folder / DAMAGE[case][1]) in message, message
    assert len(message) < 1000 and "Traceback" not in message, message
    assert not (folder / "unpickled").exists(), "a pickle was loaded"


def notice(app: App) -> dict:
    """The model notice's props, from the page's /config."""
    with urllib.request.urlopen(app.url + "config", timeout=10) as r:
        config = json.load(r)
    found = [
        c["props"] for c in config["components"] if c["props"].get("elem_id") == "model-status"
    ]
    assert len(found) == 1, "no model notice on the page"
    return found[0]


@pytest.mark.slow
@pytest.mark.parametrize("case", ["truncated weights", "labels disagree with weights"])
def test_app_falls_back_to_the_bundled_model(tmp_path: Path, case: str) -> None:
    from gradio_client import Client, handle_file

    folder = damaged(case, tmp_path)
    app = App(tmp_path, OBS_MODEL=str(folder), HF_HUB_OFFLINE="1")
    try:
        ready = app.wait_ready(60)
        assert ready < READY_S, f"ready after {ready:.1f} s"
        assert "serving the bundled model" in app.log()
        props = notice(app)
        assert props["visible"] is True
        assert str(folder) in props["value"] and DAMAGE[case][1] in props["value"], props
        assert "bundled model" in props["value"], props
        start = time.perf_counter()
        result = Client(app.url, verbose=False).predict(handle_file(str(GOOD)), api_name="/predict")
        assert len(result["confidences"]) == 10, result
        assert time.perf_counter() - start < 10
    finally:
        app.stop()


def test_a_saved_folder_has_ordinary_permissions(tmp_path: Path) -> None:
    """A model folder is written with the umask's modes, like any file: tempfile's private
    folder (0700) and safetensors' private file (0600) would keep a shared cache or a Space's
    other user from reading it."""
    loaded = model_io.load(BUNDLED)
    out = tmp_path / "model"
    model_io.save(loaded.model, loaded.labels, out, card="card", extra={})
    fresh = tmp_path / "fresh"
    fresh.touch()
    (tmp_path / "fresh-dir").mkdir()
    file_mode = fresh.stat().st_mode & 0o777
    dir_mode = (tmp_path / "fresh-dir").stat().st_mode & 0o777
    assert out.stat().st_mode & 0o777 == dir_mode
    modes = {p.name: p.stat().st_mode & 0o777 for p in out.iterdir()}
    assert modes == dict.fromkeys([CONFIG, WEIGHTS, "README.md"], file_mode), modes
    assert Recognizer.from_pretrained(out).labels == loaded.labels
