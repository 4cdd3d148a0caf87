"""Files modeldeploy writes: atomic writes, and the user cache folder.

An atomic write is a temporary file in the same folder, fsync'd, then a rename: a crash or
a full disk leaves either the old file or the new one, never half of one. An existing file
keeps its permission bits unless the caller names them (an installed binary: 0o755).
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path


def write_atomic(path: Path, data: str | bytes, mode: int | None = None) -> None:
    import tempfile  # on use: `validate` never writes a file

    path.parent.mkdir(parents=True, exist_ok=True)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    if mode is None:
        with contextlib.suppress(FileNotFoundError):
            mode = stat.S_IMODE(path.stat().st_mode)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        if mode is None:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_all(fd: int, data: bytes) -> None:
    """All of `data` to the open descriptor `fd` (os.write may write part of it)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def file_kind(mode: int) -> str:
    """What a file that is not a regular one is, for messages ("a FIFO (named pipe)")."""
    kinds = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
             (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"),
             (stat.S_ISBLK, "a block device"), (stat.S_ISLNK, "a symbolic link"),
             (stat.S_ISREG, "a regular file"))
    return next((name for test, name in kinds if test(mode)), "not a regular file")


def cache_dir() -> Path:
    """MODELDEPLOY_CACHE, else $XDG_CACHE_HOME/modeldeploy, else ~/.cache/modeldeploy."""
    explicit = os.environ.get("MODELDEPLOY_CACHE")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "modeldeploy"
