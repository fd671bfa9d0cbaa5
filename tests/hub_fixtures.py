"""Pytest fixtures for the in-memory Hub of ``hub_server.py``.

``huggingface_hub`` reads ``HF_ENDPOINT``, the cache paths, ``HF_HUB_DISABLE_XET`` and its timeouts
once, when ``huggingface_hub.constants`` is imported (``datasets.config`` does the same), so setting
them in an already-running pytest process is too late. Run the Hub clients in a subprocess started
with the environment that ``hub_env`` returns (``subprocess.run([sys.executable, ...],
env=hub_env)``), or set ``os.environ`` before anything imports them.

Enable in a test module with ``pytest_plugins = ["hub_fixtures"]``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hub_server import HubServer, client_env


@pytest.fixture
def hub_server() -> Iterator[HubServer]:
    """A started, empty Hub; tests may set ``hub_server.fault`` at any time."""
    with HubServer() as server:
        yield server


@pytest.fixture
def hub_env(
    hub_server: HubServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    """Point this process' environment at ``hub_server``, with fresh caches; also returned."""
    env = client_env(hub_server.url, tmp_path / "hf_home")
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env
