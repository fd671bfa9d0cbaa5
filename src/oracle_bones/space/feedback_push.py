"""Pushing the feedback folder to a Hub dataset repo in the background, every few minutes, so
that a push that fails, or never comes back, loses nothing and never lands out of order.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path
from typing import Any

from huggingface_hub import CommitScheduler, HfApi, get_token

from ..hub import PUSH_TIMEOUT_S, HubUnavailable, bounded, offline
from .feedback import PUSHED, FeedbackStore

log = logging.getLogger(__name__)

PUSH_EVERY_MIN = 5.0
FEEDBACK_PUSH_TIMEOUT_S = min(PUSH_TIMEOUT_S, 120.0)  # a few PNGs and a text file
STUCK_AFTER = 10  # push timeouts: a push unanswered this long is taken for lost


class _BoundedApi:
    """The HfApi calls CommitScheduler makes, each bounded in time (hub.bounded): its __init__
    creates the repo, and each push commits; neither may hang on a Hub that never answers.

    A commit given up on keeps running in its thread and may still land once the Hub answers
    again. Had a newer push landed first, that stale commit would overwrite its files, and the
    scheduler, which counts the newer files as sent, would never send them again. So no commit
    starts while an earlier one is still out: the push fails, and the folder waits on disk. A
    commit out for `stuck_after` seconds is taken for lost (huggingface_hub sets no read timeout,
    so a dead connection would otherwise stop every push until a restart, when a Space without
    persistent storage loses its folder).
    """

    def __init__(self, timeout: float, stuck_after: float, **hf_api: Any) -> None:
        self._api, self._timeout, self._stuck_after = HfApi(**hf_api), timeout, stuck_after
        self._guard = threading.Lock()
        self._out: tuple[object, float] | None = None  # the commit out, and when it started

    def create_repo(self, **kwargs: Any) -> Any:
        repo = kwargs["repo_id"]
        return bounded(lambda: self._api.create_repo(**kwargs), self._timeout, f"creating {repo}")

    def create_commit(self, **kwargs: Any) -> Any:
        repo, mine = kwargs["repo_id"], object()
        with self._guard:
            if self._out is not None:
                waited = time.monotonic() - self._out[1]
                if waited < self._stuck_after:
                    raise HubUnavailable(f"pushing {repo}: the Hub has not answered the last push")
                log.warning(
                    "pushing %s: no answer to the last push in %.0f s; pushing anew", repo, waited
                )
            self._out = (mine, time.monotonic())

        def commit() -> Any:
            try:
                return self._api.create_commit(**kwargs)
            finally:
                with self._guard:
                    if self._out is not None and self._out[0] is mine:
                        self._out = None

        return bounded(commit, self._timeout, f"pushing {repo}")

    def run_as_future(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        return self._api.run_as_future(fn, *args, **kwargs)  # one push at a time, in order


class _Scheduler(CommitScheduler):
    """CommitScheduler listing the folder under the store's lock from its very first push (its
    __init__ starts pushing before it returns, so the lock cannot be swapped in afterwards)."""

    def __init__(self, *, lock: threading.Lock, **kwargs: Any) -> None:
        self._store_lock = lock
        super().__init__(**kwargs)

    @property
    def lock(self) -> threading.Lock:  # type: ignore[override]
        return self._store_lock

    @lock.setter
    def lock(self, _: Any) -> None:  # CommitScheduler.__init__ assigns a Lock() of its own
        pass


class FeedbackPush:
    """Pushes a store's folder to a Hub dataset repo every `every_min` minutes, off the request
    path. A push that fails marks nothing as uploaded, so the next one sends it; until the repo
    can be created the start is retried at the same interval."""

    def __init__(
        self,
        store: FeedbackStore,
        repo_id: str,
        every_min: float = PUSH_EVERY_MIN,
        timeout: float = FEEDBACK_PUSH_TIMEOUT_S,
    ) -> None:
        self.store, self.repo_id, self.every_min, self.timeout = store, repo_id, every_min, timeout
        self.scheduler: CommitScheduler | None = None
        threading.Thread(target=self._start, daemon=True, name="feedback push").start()

    def _start(self) -> None:
        every = self.every_min
        while self.scheduler is None:
            try:
                self.scheduler = _Scheduler(
                    lock=self.store.lock,
                    repo_id=self.repo_id,
                    repo_type="dataset",
                    folder_path=self.store.folder,
                    every=every,
                    allow_patterns=PUSHED,
                    hf_api=_BoundedApi(self.timeout, STUCK_AFTER * self.timeout),  # type: ignore[arg-type]
                )
                log.info("Pushing %s to %s every %g min", self.store.folder, self.repo_id, every)
            except HubUnavailable as e:
                log.warning("Feedback push: %s; trying again in %g min", e, every)
                time.sleep(every * 60)


def open_from_env(default_dir: Path) -> tuple[FeedbackStore, FeedbackPush | None]:
    """The store in OBS_FEEDBACK_DIR, and its push when OBS_FEEDBACK_REPO and a token are set
    (every OBS_FEEDBACK_EVERY_MIN minutes)."""
    store = FeedbackStore(Path(os.environ.get("OBS_FEEDBACK_DIR") or default_dir))
    repo = (os.environ.get("OBS_FEEDBACK_REPO") or "").removeprefix("datasets/")
    if not repo:
        return store, None
    if offline() or not get_token():
        log.warning(
            "OBS_FEEDBACK_REPO=%s but %s: shared drawings stay in %s",
            repo,
            "HF_HUB_OFFLINE is set" if offline() else "no Hub token",
            store.folder,
        )
        return store, None
    try:
        every = float(os.environ.get("OBS_FEEDBACK_EVERY_MIN") or PUSH_EVERY_MIN)
        if not every > 0:
            raise ValueError
    except ValueError:
        log.warning(
            "OBS_FEEDBACK_EVERY_MIN must be a positive number; pushing every %g min", PUSH_EVERY_MIN
        )
        every = PUSH_EVERY_MIN
    return store, FeedbackPush(store, repo, every)
