"""Shared fixtures: the real data beside the checkout and a seed-only dataset built once."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
BUNDLED = ROOT / "src" / "oracle_bones" / "pretrained"
pytest_plugins = ["app_harness"]  # the app as a subprocess, and Chromium: for the app's tests


def run_cli(*args: str, timeout: float = 600, env: dict | None = None, cwd: Path = ROOT):
    """Run a project command in a fresh interpreter, as a user would."""
    full_env = {
        **os.environ,
        "PYTHONPATH": str(ROOT / "src"),
        "OMP_NUM_THREADS": "1",
        **(env or {}),
    }
    return subprocess.run(
        [sys.executable, *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture(scope="session")
def seed_dataset(tmp_path_factory) -> Path:
    """`build-dataset --sources jiaguwen` from ../shared/data, built once per session."""
    if not (DATA / "jiaguwen" / "index.json").exists():
        pytest.skip(f"no data at {DATA}")
    out = tmp_path_factory.mktemp("seed") / "dataset"
    r = run_cli(
        "-m",
        "oracle_bones",
        "build-dataset",
        "--data-dir",
        str(DATA),
        "--sources",
        "jiaguwen",
        "--out",
        str(out),
    )
    assert r.returncode == 0, r.stderr[-2000:]
    return out
