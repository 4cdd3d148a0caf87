"""An exclusive lock on a folder, so that edits of a file in it run one after the other.

The rollout commands hold it from reading a config to writing it: a second command on
the same deployment waits, then reads what the first one wrote. The lock is flock(2)
on the folder itself, not on the file: an edit replaces the file by an atomic rename
(a new inode), so a lock on the old file would not stop the next editor, who opens
the new one; the folder's inode stays. No lock file is left in the user's
repository, and the kernel drops the lock with the process, even on SIGKILL.

flock is advisory: editors other than modeldeploy ignore it. rollout.apply therefore
also compares the file with what was read, under the lock, just before writing.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .diagnostics import ToolError

LOCK_WAIT_ENV = "MODELDEPLOY_LOCK_WAIT"  # seconds to wait for another command's lock
DEFAULT_LOCK_WAIT = 30.0
POLL_SECONDS = 0.05


def lock_wait() -> float:
    raw = os.environ.get(LOCK_WAIT_ENV)
    if raw is None:
        return DEFAULT_LOCK_WAIT
    try:
        seconds = float(raw)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds < float("inf"):
        raise ToolError(f"{LOCK_WAIT_ENV}={raw!r} is not a number of seconds (e.g. 30)")
    return seconds


@contextmanager
def folder_lock(folder: Path, shown: str) -> Iterator[None]:
    """Hold the edit lock of `folder` (named `shown` in messages); ToolError when it cannot be had."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError as exc:
        raise ToolError(f"cannot lock {shown} for editing: {exc.strerror}; nothing was changed") from exc
    try:
        wait = lock_wait()
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise ToolError(
                        f"another modeldeploy command has been editing {shown} for {wait:g} s; "
                        "nothing was changed: run the command again when it is done "
                        f"({LOCK_WAIT_ENV} sets how long to wait)") from None
                time.sleep(POLL_SECONDS)
            except OSError as exc:  # e.g. a file system without flock support
                raise ToolError(f"cannot lock {shown} for editing: {exc.strerror}; "
                                "nothing was changed") from exc
        yield
    finally:
        os.close(fd)  # releases the lock
