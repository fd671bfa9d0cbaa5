"""Every Hugging Face Hub call the project makes, each bounded in time.

huggingface_hub retries with back-off and some of its requests carry no timeout, so a Hub that
accepts connections and never answers can hold a call for minutes. Each call here runs in a
daemon thread with a deadline; past it the caller gets `HubUnavailable` and moves on.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

DEFAULT_MODEL_REPO = "oracle-bones/oracle-bone-recognizer"
DEFAULT_DATASET_REPO = "oracle-bones/oracle-bone-glyphs"
PULL_TIMEOUT_S = float(os.environ.get("OBS_HUB_TIMEOUT", "10"))
PUSH_TIMEOUT_S = float(os.environ.get("OBS_HUB_PUSH_TIMEOUT", "900"))
DATASET_TIMEOUT_S = PUSH_TIMEOUT_S  # a whole dataset: as long as a push may take
MODEL_FILES = ["config.json", "model.safetensors", "README.md"]


class HubUnavailable(RuntimeError):
    """The Hub could not be reached, refused the request, or did not answer in time."""


def bounded(fn: Callable[[], T], timeout: float, what: str) -> T:
    """Run `fn` with a deadline; any failure becomes a one-line `HubUnavailable`."""
    result: dict[str, object] = {}

    def target() -> None:
        try:
            result["value"] = fn()
        except BaseException as e:  # handed to the caller's thread below
            result["error"] = e

    worker = threading.Thread(target=target, daemon=True, name=f"hub: {what}")
    seen = _LastProblem()
    hub_log = logging.getLogger("huggingface_hub")
    hub_log.addHandler(seen)
    try:
        worker.start()
        worker.join(timeout)
    finally:
        hub_log.removeHandler(seen)
    if worker.is_alive():
        if seen.message:  # it did answer, badly (cut-short downloads, 5xx), and is still retrying
            raise HubUnavailable(f"{what}: gave up after {timeout:.0f} s: {seen.message}")
        raise HubUnavailable(f"{what}: no answer from {endpoint()} within {timeout:.0f} s")
    if "error" in result:
        err = result["error"]
        if isinstance(err, KeyboardInterrupt):
            raise err
        raise HubUnavailable(f"{what}: {describe(err)}") from err  # type: ignore[arg-type]
    return result["value"]  # type: ignore[return-value]


class _LastProblem(logging.Handler):
    """The last warning huggingface_hub logs (it logs each failure it retries), first line only."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.message = ""

    def emit(self, record: logging.LogRecord) -> None:
        self.message = record.getMessage().splitlines()[0]


def describe(err: BaseException) -> str:
    """A short reason a person can act on."""
    from huggingface_hub.errors import (
        HfHubHTTPError,
        LocalEntryNotFoundError,
        OfflineModeIsEnabled,
        RemoteEntryNotFoundError,
        RepositoryNotFoundError,
    )

    if isinstance(err, RepositoryNotFoundError):
        return "no such repository (or it is private and no token was given)"
    if isinstance(err, RemoteEntryNotFoundError):
        return "the repository lacks a required file"
    if isinstance(err, OfflineModeIsEnabled):
        return "offline mode is on (HF_HUB_OFFLINE=1)"
    if isinstance(err, LocalEntryNotFoundError):
        cause = f" ({describe(err.__cause__)})" if err.__cause__ else ""
        return f"cannot reach {endpoint()} and nothing is cached{cause}"
    if type(err).__module__.split(".")[0] in ("httpx", "httpx2"):  # connection-level failure
        return f"cannot reach {endpoint()} ({type(err).__name__}: {err})"
    if isinstance(err, HfHubHTTPError) and err.response is not None:
        return f"HTTP {err.response.status_code} from {endpoint()}"
    return f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}".rstrip(": ")


def endpoint() -> str:
    from huggingface_hub import constants

    return constants.ENDPOINT


def offline() -> bool:
    from huggingface_hub import constants

    return constants.HF_HUB_OFFLINE


def download_model(repo_id: str, timeout: float = PULL_TIMEOUT_S) -> Path:
    """The model folder (config, safetensors weights, card) from the Hub or its cache.

    Files come one by one in the bounded thread: snapshot_download's worker pool is joined at
    interpreter exit, so a stalled download would keep a finished process from exiting.
    """
    from huggingface_hub import (
        get_hf_file_metadata,
        hf_hub_download,
        hf_hub_url,
        try_to_load_from_cache,
    )
    from huggingface_hub.errors import RemoteEntryNotFoundError

    if offline():
        raise HubUnavailable(f"{repo_id}: offline mode is on (HF_HUB_OFFLINE=1)")

    def fetch() -> Path:
        try:  # one request, no retries: a Hub that is down or failing is known at once
            get_hf_file_metadata(hf_hub_url(repo_id, MODEL_FILES[0]), timeout=timeout)
        except Exception:
            cached = try_to_load_from_cache(repo_id, MODEL_FILES[1])
            if isinstance(cached, str):  # a copy from an earlier run: serve that
                return Path(cached).parent
            raise
        folder = Path(hf_hub_download(repo_id, MODEL_FILES[0])).parent
        for name in MODEL_FILES[1:]:
            try:
                hf_hub_download(repo_id, name)
            except RemoteEntryNotFoundError:
                if name != "README.md":  # the card is welcome, not required
                    raise
        return folder

    return bounded(fetch, timeout, f"downloading {repo_id}")


def download_dataset(repo_id: str, timeout: float = DATASET_TIMEOUT_S) -> Any:
    """A dataset repo as a `datasets.DatasetDict` (bounded, like every call here)."""
    import datasets  # a second or two to import: only for those who train from the Hub

    return bounded(lambda: datasets.load_dataset(repo_id), timeout, f"downloading {repo_id}")


def push_folder(folder: Path, repo_id: str, repo_type: str, message: str) -> str:
    """Create the repo if needed and upload `folder`; returns the commit URL."""
    from huggingface_hub import HfApi

    api = HfApi()

    def push() -> str:
        api.create_repo(repo_id, repo_type=repo_type, exist_ok=True)
        return api.upload_folder(
            folder_path=str(folder), repo_id=repo_id, repo_type=repo_type, commit_message=message
        ).commit_url

    return bounded(push, PUSH_TIMEOUT_S, f"pushing {folder} to {repo_id}")


def check_token() -> None:
    """Fail early with a clear message rather than deep inside an upload."""
    from huggingface_hub import get_token

    if not get_token():
        raise HubUnavailable(
            "No Hugging Face token: run `hf auth login` or set HF_TOKEN before pushing."
        )
