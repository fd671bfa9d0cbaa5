"""What every source shares: the record it yields, its licence, and a bounded download step."""

from __future__ import annotations

import functools
import io
import os
import shutil
import tempfile
import urllib.request
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from tqdm.auto import tqdm

DOWNLOAD_TIMEOUT_S = 30.0
CACHE_DIR = Path(os.environ.get("OBS_CACHE", Path.home() / ".cache" / "oracle-bones"))


class SourceUnavailable(RuntimeError):
    """A source has no local copy and could not be downloaded."""


@dataclass(frozen=True)
class Record:
    image: bytes  # an encoded image file (JPEG or PNG)
    label: str  # modern simplified character
    source: str
    ref: str  # the source's own id for this glyph


@dataclass(frozen=True)
class Source:
    name: str
    title: str
    licence: str  # as stated upstream, in plain words
    licence_id: str  # SPDX id or "unknown"
    upstream: str
    provenance: str
    publishable: bool = True  # False: its terms forbid publishing a dataset or model built from it

    def records(self, data_dir: Path) -> Iterator[Record]:
        """Yield every glyph of this source found in `data_dir / self.name`."""
        raise NotImplementedError


def local_or_download(
    root: Path, marker: str, name: str, url: str, keep: Callable[[str], bool], local: str = ""
) -> Path:
    """`root` if it holds `marker`; else the cached copy of the upstream archive at `url`.

    The archive's top folder is stripped and only the members `keep` accepts are extracted,
    into a temporary folder renamed into place, so an interrupted download leaves no half copy.
    `local` says what a local copy holds, for the message when the download fails, where it is
    not `name/marker`.
    """
    if (root / marker).exists():
        return root
    cached = CACHE_DIR / "sources" / name
    if (cached / marker).exists():
        return cached
    print(f"No local copy at {root}")
    try:
        data = upstream_archive(url)
    except OSError as e:
        raise SourceUnavailable(
            f"{name}: no local copy at {root} and the download from {url} failed ({e}). "
            f"Pass --data-dir with a folder holding {local or f'{name}/{marker}'}."
        ) from e
    if not zipfile.is_zipfile(io.BytesIO(data)):  # a proxy's or login page, say
        raise SourceUnavailable(
            f"{name}: {url} answered with something that is not a zip archive "
            f"({len(data):,} bytes starting {data[:40]!r}). "
            f"Pass --data-dir with a folder holding {local or f'{name}/{marker}'}."
        )
    tmp = Path(tempfile.mkdtemp(dir=_mkdir(cached.parent)))
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        for member in z.namelist():
            parts = member.split("/", 1)  # strip the archive's top folder
            if len(parts) == 2 and not member.endswith("/") and keep(parts[1]):
                target = tmp / parts[1]
                _mkdir(target.parent)
                target.write_bytes(z.read(member))
    shutil.rmtree(cached, ignore_errors=True)
    tmp.rename(cached)
    return cached


@functools.lru_cache(maxsize=1)
def upstream_archive(url: str) -> bytes:
    """The archive at `url`, kept for the next source of this run that comes from it: the three
    font sources share one repository's archive, fetched once a build (failures are not kept)."""
    print(f"Downloading {url}")
    return download(url)


def download(url: str, timeout: float = DOWNLOAD_TIMEOUT_S) -> bytes:
    """GET `url` with a progress bar; every socket operation is bounded by `timeout`."""
    with urllib.request.urlopen(url, timeout=timeout) as resp:
        total = int(resp.headers.get("Content-Length") or 0) or None
        buf = io.BytesIO()
        with tqdm(
            total=total, unit="B", unit_scale=True, desc=url.rsplit("/", 1)[-1], disable=None
        ) as bar:
            while chunk := resp.read(1 << 16):
                buf.write(chunk)
                bar.update(len(chunk))
    return buf.getvalue()


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path
