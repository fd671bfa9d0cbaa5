"""Writing atomically: an interrupted build or save never leaves a half-written file or folder."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_file(out: Path) -> Iterator[Path]:
    """Yield a temporary path beside `out` to write; on success it replaces `out` by a rename."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    try:
        yield tmp
        tmp.replace(out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@contextmanager
def atomic_dir(out: Path) -> Iterator[Path]:
    """Yield a temporary folder beside `out`; on success it replaces `out` by renames. Made with
    the process's umask like any folder (tempfile's would be private, 0700, and so the result)."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}-{uuid.uuid4().hex[:12]}")
    tmp.mkdir()
    try:
        yield tmp
        _ordinary_modes(tmp)
        old = out.with_name(f".{out.name}.old")
        shutil.rmtree(old, ignore_errors=True)  # left by a run killed mid-swap; blocks rename
        if out.exists():
            out.rename(old)
        tmp.rename(out)
        shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _ordinary_modes(folder: Path) -> None:
    """Give every file in `folder` the mode a new file gets here (the umask's): some writers
    (safetensors) leave theirs private, 0600, which a shared cache or a Space cannot read."""
    probe = folder / ".mode"
    probe.touch()
    mode = probe.stat().st_mode & 0o777
    probe.unlink()
    for path in folder.rglob("*"):
        if path.is_file() and not path.is_symlink():
            path.chmod(mode)
