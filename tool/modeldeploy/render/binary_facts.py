"""Facts about a binary file remembered in the user cache: helm's version and its sha256.

`helm version` costs ~35 ms a run and hashing the binary ~0.1 s: both are kept per binary in
`helm-versions.json` under the user cache, with what identifies the file (device, inode, size,
modification and change times, in ns): a binary replaced or rewritten in place is asked and
hashed again. A damaged file is not believed; a cache that cannot be written costs the question.
Below helm.py and helm_install.py: finding helm and checking an installed copy both use it.
"""

from __future__ import annotations

import json
import os
import re
from contextlib import suppress

from ..fileio import cache_dir, write_atomic

_FACTS_FILE = "helm-versions.json"
_SHA256 = re.compile(r"[0-9a-f]{64}\Z")


def sha256(path: str) -> str | None:
    """sha256 of the binary at `path` (hex); None if unreadable."""
    identity, known = remembered(path, "sha256", _SHA256)
    if known is not None:
        return known
    import hashlib  # on use: the answer is remembered, and `validate`'s start-up is spared ~3 ms

    digest = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(2**20), b""):
                digest.update(block)
    except OSError:
        return None
    if identity is not None:
        remember(path, identity, sha256=digest.hexdigest())
    return digest.hexdigest()


def remembered(path: str, fact: str, valid: re.Pattern[str]) -> tuple[list[int] | None, str | None]:
    """The file's identity now, and `fact` remembered for it when it still matches (and is `valid`)."""
    identity = _identity(path)
    known = _known().get(path)
    if identity is None or not isinstance(known, dict) or known.get("file") != identity:
        return identity, None
    value = known.get(fact)
    return identity, value if isinstance(value, str) and valid.match(value) else None


def remember(path: str, identity: list[int], **facts: str) -> None:
    known = _known()
    entry = known.pop(path, None)
    entry = entry if isinstance(entry, dict) and entry.get("file") == identity else {"file": identity}
    known = dict(list(known.items())[-31:])  # a bounded file: the binaries used last
    known[path] = {**entry, **facts}
    with suppress(OSError):  # a read-only cache: asked again next time
        write_atomic(cache_dir() / _FACTS_FILE, json.dumps(known, indent=1) + "\n")


def _identity(path: str) -> list[int] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return [info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns]


def _known() -> dict[str, object]:
    try:
        known = json.loads((cache_dir() / _FACTS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return known if isinstance(known, dict) else {}
