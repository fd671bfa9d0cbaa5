"""The in-memory Hub of ``hub_server.py`` against the real ``huggingface_hub`` and ``datasets``.

The clients run in subprocesses: they read ``HF_ENDPOINT`` & co. at import time (see hub_fixtures).
"""

from __future__ import annotations

import http.client
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hub_server import HubServer, client_env, free_port

pytest_plugins = ["hub_fixtures"]

MODEL_UPLOAD = """
import sys
from huggingface_hub import HfApi

api = HfApi()
assert api.whoami()["name"]
api.create_repo(sys.argv[2])
api.create_repo(sys.argv[2], exist_ok=True)
print(api.upload_folder(folder_path=sys.argv[1], repo_id=sys.argv[2]).oid)
"""

MODEL_DOWNLOAD = """
import hashlib, sys
from pathlib import Path
from huggingface_hub import HfApi, hf_hub_download, snapshot_download
from huggingface_hub.errors import (
    RemoteEntryNotFoundError, RepositoryNotFoundError, RevisionNotFoundError
)

src, sha = Path(sys.argv[1]), sys.argv[2]
names = sorted(f.name for f in src.iterdir())
snapshot = Path(snapshot_download("u/m"))
assert snapshot.name == sha, snapshot
assert sorted(f.name for f in snapshot.iterdir()) == names
for name in names:
    assert (snapshot / name).read_bytes() == (src / name).read_bytes(), name
weights = (src / "model.safetensors").read_bytes()
fresh = hf_hub_download("u/m", "model.safetensors", force_download=True)
assert Path(fresh).read_bytes() == weights

api = HfApi()
assert sorted(api.list_repo_files("u/m")) == names
info = api.model_info("u/m", files_metadata=True)
assert info.sha == sha
lfs = {s.rfilename: s.lfs for s in info.siblings}
assert lfs["model.safetensors"].sha256 == hashlib.sha256(weights).hexdigest()
assert lfs["config.json"] is None

for call, error in [
    (lambda: hf_hub_download("u/m", "missing.bin"), RemoteEntryNotFoundError),
    (lambda: api.model_info("u/nope"), RepositoryNotFoundError),
    (lambda: api.model_info("u/m", revision="v9"), RevisionNotFoundError),
]:
    try:
        call()
    except error:
        pass
    else:
        raise AssertionError(f"expected {error.__name__}")
"""

DATASET = """
import sys
import numpy as np
from PIL import Image as PILImage
from datasets import ClassLabel, Dataset, DatasetDict, Features, Image, load_dataset

rng = np.random.default_rng(0)
features = Features({"image": Image(), "label": ClassLabel(names=["jia", "yi", "bing"])})

def split(n):
    pixels = [rng.integers(0, 256, (24, 24), dtype=np.uint8) for _ in range(n)]
    images = [PILImage.fromarray(p, "L") for p in pixels]
    return Dataset.from_dict({"image": images, "label": [i % 3 for i in range(n)]}, features)

expected = DatasetDict({"train": split(6), "test": split(3)})
if sys.argv[1] == "push":
    expected.push_to_hub("u/d")
else:
    loaded = load_dataset("u/d")
    assert sorted(loaded) == ["test", "train"], loaded
    for name, ds in expected.items():
        assert loaded[name].features == ds.features, loaded[name].features
        raw = lambda d: d.cast_column("image", Image(decode=False)).to_list()
        assert raw(loaded[name]) == raw(ds), name
        assert np.array_equal(np.array(loaded[name][0]["image"]), np.array(ds[0]["image"]))
"""

FAULTY_DOWNLOAD = """
import sys, time
from huggingface_hub import get_hf_file_metadata, hf_hub_download, hf_hub_url

mode, timeout = sys.argv[1], float(sys.argv[2])
if mode == "clamped":  # each request of the shared client gets `timeout`, whatever its caller said
    import httpx2
    from huggingface_hub import set_client_factory
    from huggingface_hub.utils._http import hf_request_event_hook

    class ClampedTimeouts(httpx2.HTTPTransport):
        def handle_request(self, request):
            request.extensions["timeout"] = httpx2.Timeout(timeout).as_dict()
            return super().handle_request(request)

    hooks = {"request": [hf_request_event_hook]}
    set_client_factory(
        lambda: httpx2.Client(transport=ClampedTimeouts(), event_hooks=hooks, follow_redirects=True)
    )
start = time.monotonic()
try:
    if mode == "preflight":  # a single HEAD bounded by `timeout`, no retries
        get_hf_file_metadata(hf_hub_url("u/seed", "config.json"), timeout=timeout)
    hf_hub_download("u/seed", "config.json", etag_timeout=timeout)
except Exception as exc:
    print(type(exc).__name__, type(exc.__cause__).__name__, time.monotonic() - start)
else:
    print("downloaded", "-", time.monotonic() - start)
"""


def run_client(code: str, env: dict[str, str], *args: str, timeout: float = 240) -> str:
    """Run ``code`` in a fresh interpreter with ``env``; fail with its output unless it exits 0."""
    proc = subprocess.run(
        [sys.executable, "-c", code, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


@pytest.fixture(scope="module")
def seeded_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubServer]:
    """A Hub with model ``u/seed``: a regular ``config.json`` and an LFS ``weights.bin``."""
    root = tmp_path_factory.mktemp("seed")
    (root / "src").mkdir()
    (root / "src" / "config.json").write_text('{"classes": 3}')
    (root / "src" / "weights.bin").write_bytes(os.urandom(50_000))
    with HubServer() as server:
        run_client(MODEL_UPLOAD, client_env(server.url, root / "home"), str(root / "src"), "u/seed")
        yield server


@pytest.mark.timeout(300)
def test_model_roundtrip(hub_server: HubServer, hub_env: dict[str, str], tmp_path: Path) -> None:
    src = tmp_path / "model"
    src.mkdir()
    (src / "config.json").write_text('{"num_classes": 3}')
    (src / "model.safetensors").write_bytes(os.urandom(1 << 20))
    (src / "README.md").write_text("---\nlicense: mit\n---\n# Oracle bones\n")

    sha = run_client(MODEL_UPLOAD, hub_env, str(src), "u/m").strip()
    assert hub_server.files("u/m") == {f.name: f.read_bytes() for f in src.iterdir()}
    run_client(MODEL_DOWNLOAD, client_env(hub_server.url, tmp_path / "fresh"), str(src), sha)


@pytest.mark.timeout(300)
def test_dataset_roundtrip(hub_server: HubServer, hub_env: dict[str, str], tmp_path: Path) -> None:
    run_client(DATASET, hub_env, "push")
    files = hub_server.files("u/d", "dataset")
    assert sorted(files) == [
        "README.md",
        "data/test-00000-of-00001.parquet",
        "data/train-00000-of-00001.parquet",
    ]
    assert b"dataset_info:" in files["README.md"]
    run_client(DATASET, client_env(hub_server.url, tmp_path / "fresh"), "load")


def request(
    server: HubServer, method: str, path: str, **headers: str
) -> tuple[http.client.HTTPResponse, bytes]:
    conn = http.client.HTTPConnection(server.url.removeprefix("http://"), timeout=10)
    conn.request(method, path, headers=headers)
    response = conn.getresponse()
    return response, response.read()


@pytest.mark.timeout(60)
def test_resolve_headers_ranges_and_errors(seeded_hub: HubServer) -> None:
    weights = seeded_hub.files("u/seed")["weights.bin"]
    head, _ = request(seeded_hub, "HEAD", "/u/seed/resolve/main/weights.bin")
    assert head.status == 200 and head.headers["Accept-Ranges"] == "bytes"
    assert head.headers["Content-Length"] == head.headers["X-Linked-Size"] == str(len(weights))
    assert len(head.headers["X-Repo-Commit"]) == 40
    assert len(head.headers["X-Linked-Etag"].strip('"')) == 64

    resp, body = request(seeded_hub, "GET", "/u/seed/resolve/main/weights.bin", Range="bytes=10-19")
    assert (resp.status, resp.headers["Content-Range"], body) == (
        206,
        f"bytes 10-19/{len(weights)}",
        weights[10:20],
    )
    resp, body = request(
        seeded_hub,
        "GET",
        f"/u/seed/resolve/{head.headers['X-Repo-Commit']}/weights.bin",
        Range="bytes=-5",
    )
    assert (resp.status, body) == (206, weights[-5:])
    resp, _ = request(
        seeded_hub, "GET", "/u/seed/resolve/main/weights.bin", Range=f"bytes={len(weights)}-"
    )
    assert resp.status == 416

    for path, code in [
        ("/u/nope/resolve/main/config.json", "RepoNotFound"),
        ("/u/seed/resolve/main/nope.json", "EntryNotFound"),
        ("/api/models/u/seed/revision/refs%2Fconvert%2Fparquet", "RevisionNotFound"),
        ("/api/datasets/u/seed", "RepoNotFound"),
    ]:
        resp, _ = request(seeded_hub, "GET", path)
        assert (resp.status, resp.headers["X-Error-Code"]) == (404, code), path


@pytest.mark.timeout(60)
def test_fault_modes_on_the_wire(seeded_hub: HubServer) -> None:
    try:
        seeded_hub.fault = "error500"
        assert request(seeded_hub, "GET", "/api/models/u/seed")[0].status == 500
        seeded_hub.fault = "truncate"
        with pytest.raises(http.client.IncompleteRead) as excinfo:
            request(seeded_hub, "GET", "/u/seed/resolve/main/weights.bin")
        assert len(excinfo.value.partial) == 25_000
    finally:
        seeded_hub.fault = None

    with HubServer(fault="hang") as server:
        conn = http.client.HTTPConnection(server.url.removeprefix("http://"), timeout=0.5)
        conn.request("GET", "/api/models/u/seed")
        with pytest.raises(TimeoutError):
            conn.getresponse()
        started = time.monotonic()
    assert time.monotonic() - started < 5, "a hanging request must not block stop()"


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ("error500", "HfHubHTTPError"),
        ("hang", "ReadTimeout"),
        ("down", "ConnectError"),
        ("truncate", "RemoteProtocolError"),
    ],
)
def test_preflight_bounds_a_failing_download(
    seeded_hub: HubServer, tmp_path: Path, fault: str, error: str
) -> None:
    """``get_hf_file_metadata(timeout=...)`` then ``hf_hub_download``: fails within seconds."""
    url = f"http://127.0.0.1:{free_port()}" if fault == "down" else seeded_hub.url
    env = client_env(url, tmp_path / "home")
    try:
        seeded_hub.fault = None if fault == "down" else fault
        name, _, seconds = run_client(FAULTY_DOWNLOAD, env, "preflight", "2").split()
    finally:
        seeded_hub.fault = None
    assert name == error
    # hang: the 2 s timeout, plus up to 3 s if huggingface_hub fetches its agent registry first
    assert float(seconds) < 15


@pytest.mark.timeout(180)
def test_hf_hub_download_alone_gives_up_only_after_its_retries(tmp_path: Path) -> None:
    """Documents huggingface_hub 2.4: with a cold cache, ``hf_hub_download`` retries a failed HEAD
    5 more times (1+2+4+8+8 s of backoff, each try with a hard-coded 60 s timeout), whatever
    ``etag_timeout`` or ``HF_HUB_ETAG_TIMEOUT`` say; "hang" is bounded only by clamping every
    request's timeout in the client's transport."""
    servers = {fault: HubServer(fault=fault).start() for fault in ("error500", "hang")}
    cases = {  # fault: (endpoint, client mode, cause of the LocalEntryNotFoundError)
        "error500": (servers["error500"].url, "plain", "HfHubHTTPError"),
        "down": (f"http://127.0.0.1:{free_port()}", "plain", "ConnectError"),
        "hang": (servers["hang"].url, "clamped", "ReadTimeout"),
    }
    procs = {
        fault: subprocess.Popen(
            [sys.executable, "-c", FAULTY_DOWNLOAD, mode, "1"],
            env={
                **client_env(url, tmp_path / fault),
                "HF_HUB_ETAG_TIMEOUT": "1",
                "HF_HUB_DOWNLOAD_TIMEOUT": "1",
            },
            stdout=subprocess.PIPE,
            text=True,
        )
        for fault, (url, mode, _) in cases.items()
    }
    try:
        results = {fault: proc.communicate(timeout=150)[0].split() for fault, proc in procs.items()}
    finally:
        for proc in procs.values():
            proc.kill()
        for server in servers.values():
            server.stop()
    for fault, (name, cause, seconds) in results.items():
        assert (name, cause) == ("LocalEntryNotFoundError", cases[fault][2]), fault
        assert 20 < float(seconds) < 90, (fault, seconds)
