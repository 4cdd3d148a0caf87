"""Golden files: expected outputs under tests/golden/, compared byte for byte.

A missing golden file fails the test: it is never written silently (the trap of
helm-unittest#246). Golden files are (re)written only with MODELDEPLOY_UPDATE_GOLDEN=1,
which `./noxw -s golden` sets; read `git diff tests/golden` before committing them.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path

import pytest

GOLDEN_DIR = Path(__file__).resolve().parent / "golden"
UPDATE_ENV = "MODELDEPLOY_UPDATE_GOLDEN"
_MAX_SHOWN_LINES = 200


def golden_path(name: str) -> Path:
    """The file for `name`, relative to tests/golden/ (no absolute paths, no `..`)."""
    relative = Path(name)
    if relative.is_absolute() or ".." in relative.parts or not relative.parts:
        raise ValueError(f"golden name {name!r} must be a relative path inside tests/golden/")
    return GOLDEN_DIR / relative


def assert_golden(name: str, actual: str) -> None:
    """`actual` must equal tests/golden/<name> byte for byte (UTF-8, newlines as given)."""
    path = golden_path(name)
    data = actual.encode("utf-8")
    if os.environ.get(UPDATE_ENV) == "1":
        if not path.is_file() or path.read_bytes() != data:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        return
    if not path.is_file():
        pytest.fail(f"golden file tests/golden/{name} does not exist. Create it with "
                    f"`./noxw -s golden` ({UPDATE_ENV}=1), read it, and commit it.", pytrace=False)
    expected = path.read_bytes()
    if expected == data:
        return
    def normalised(raw: bytes) -> bytes:
        return raw.replace(b"\r\n", b"\n").rstrip(b"\n")

    if normalised(expected) == normalised(data):
        shown = (f"contents differ only in line endings or the final newline: expected ends "
                 f"{expected[-12:]!r}, got {data[-12:]!r}\n")
        more = ""
    else:
        diff = list(difflib.unified_diff(
            expected.decode("utf-8", errors="replace").splitlines(keepends=True),
            actual.splitlines(keepends=True),
            f"tests/golden/{name} (expected)", f"{name} (actual)"))
        shown = "".join(line if line.endswith("\n") else line + "\n" for line in diff[:_MAX_SHOWN_LINES])
        more = (f"... {len(diff) - _MAX_SHOWN_LINES} more diff lines\n"
                if len(diff) > _MAX_SHOWN_LINES else "")
    pytest.fail(f"output differs from the golden file tests/golden/{name}. If the change is "
                f"intended, run `./noxw -s golden` and review `git diff tests/golden`.\n"
                f"{shown}{more}", pytrace=False)
