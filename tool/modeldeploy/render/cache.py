"""A content-addressed cache of helm's output, shared by the runs of one user (or one CI cache).

- Key: sha256 over a format version, helm's identity (sha256 of the binary and its version:
  its built-in capabilities and defaults come from it), the kube version and API versions, the
  release name and namespace, the values file's bytes (helm parses them itself), and the chart's digest: every
  regular file under the chart folder, symlinks followed as helm's loader follows them, by
  relative path and bytes (more than helm loads: an edited README only costs a miss). The
  chart's absolute path is not in the key: a CI checkout elsewhere still hits.
- Value: helm's output for that release alone, as `single.render_release` gives it. Only
  successful renders are stored; charts that call functions whose result changes from run to
  run (`now`, `rand*`, `uuidv4`, `gen*`, `lookup`, ...) are never cached.
- Storage: one SQLite file in WAL mode, `render-cache.sqlite3` under the user's cache folder
  (fileio.cache_dir(): MODELDEPLOY_CACHE, $XDG_CACHE_HOME/modeldeploy, ~/.cache/modeldeploy), or
  the folder MODELDEPLOY_RENDER_CACHE names; MODELDEPLOY_RENDER_CACHE=off (or `--no-cache`)
  disables it. Concurrent runs share it safely (SQLite locking, a busy timeout); every entry
  carries the sha256 of its body, and an entry that does not match it is a miss (and removed).
  A file that is not a database is moved aside. Any error of the cache (a full disk, a
  read-only folder, a lock held too long) means "no cache" for the rest of the run: the run
  renders as without it, never fails because of it.
- Size bound: MAX_BYTES (MODELDEPLOY_RENDER_CACHE_MB); beyond it, the least recently used
  entries go first.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import sqlite3
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

from ..fileio import cache_dir
from . import binary_facts

# bump on change
FORMAT = b"modeldeploy-render-cache-2 template --namespace --values --kube-version --api-versions"
FILE_NAME = "render-cache.sqlite3"
MAX_BYTES = 256 * 2**20
PUT_BATCH = 250  # entries written per transaction as renders come in (10,000: ~30 MB not held)
BUSY_TIMEOUT_SECONDS = 10.0
# Template functions whose output differs from run to run (or depends on a cluster).
_NON_DETERMINISTIC = re.compile(
    rb"\b(now|date|dateInZone|unixEpoch|rand[A-Za-z]*|uuidv4|gen(CA|PrivateKey|SelfSignedCert|SignedCert"
    rb"|CAWithKey|SelfSignedCertWithKey|SignedCertWithKey)|derivePassword|lookup|getHostByName)\b")


def enabled(requested: bool = True) -> bool:
    return requested and os.environ.get("MODELDEPLOY_RENDER_CACHE", "").lower() not in ("off", "0", "no")


def cache_path() -> Path:
    explicit = os.environ.get("MODELDEPLOY_RENDER_CACHE")
    return (Path(explicit) if explicit else cache_dir()) / FILE_NAME


def max_bytes() -> int:
    try:
        return int(float(os.environ.get("MODELDEPLOY_RENDER_CACHE_MB", "")) * 2**20)
    except ValueError:
        return MAX_BYTES


def chart_digest(chart_dir: Path) -> str | None:
    """sha256 of the chart's files (path and bytes); None when the chart must not be cached."""
    digest = hashlib.sha256()
    for folder, dirs, names in os.walk(chart_dir, followlinks=True):
        dirs.sort()
        for name in sorted(names):
            path = os.path.join(folder, name)
            if not os.path.isfile(path):
                continue  # helm refuses irregular files: the render fails, nothing is stored
            with open(path, "rb") as handle:
                data = handle.read()
            relative = os.path.relpath(path, chart_dir).encode("utf-8", "surrogateescape")
            if relative.startswith(b"templates") and _NON_DETERMINISTIC.search(data):
                return None
            digest.update(b"%d:%s%d:" % (len(relative), relative, len(data)))
            digest.update(data)
    return digest.hexdigest()


def _parts_key(parts: Iterable[bytes]) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(b"%d:" % len(part))
        digest.update(part)
    return digest.hexdigest()


class RenderCache:
    """An open cache; `None` from `open_cache` when there is none. Errors disable it quietly."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection: sqlite3.Connection | None = connection
        self.pending: list[tuple[str, bytes, str, float]] = []
        self.written = False  # some entries were written: close trims to the size bound
        self.hits = 0

    def _failed(self) -> None:
        self.pending = []
        if self.connection is not None:
            with contextlib.suppress(sqlite3.Error):
                self.connection.close()
        self.connection = None

    def helm_identity(self, helm_path: str, version: str) -> bytes | None:
        """sha256 of the helm binary (remembered per file: binary_facts.sha256) and its version."""
        digest = binary_facts.sha256(helm_path)
        if digest is None:
            self._failed()
            return None
        return f"{digest} {version}".encode()

    def keys(self, helm_path: str, helm_version: str, kube_version: str, api_versions: Sequence[str],
             releases: Sequence[tuple[str, str, Path, Path]]) -> list[str | None]:
        """A key per (name, namespace, values file, chart folder); None: not cacheable."""
        helm = self.helm_identity(helm_path, helm_version)
        if helm is None:
            return [None] * len(releases)
        charts: dict[Path, str | None] = {}
        found: list[str | None] = []
        for name, namespace, values_file, chart_dir in releases:
            try:
                if chart_dir not in charts:
                    charts[chart_dir] = chart_digest(chart_dir)
                chart = charts[chart_dir]
                values = values_file.read_bytes()
            except OSError:
                found.append(None)  # helm will say what is wrong
                continue
            found.append(None if chart is None else _parts_key(
                (FORMAT, helm, kube_version.encode(), "\0".join(api_versions).encode(), name.encode(),
                 namespace.encode(), values, chart.encode())))
        return found

    def is_empty(self) -> bool:
        """Nothing stored (a first run, a new CI machine): every render is a miss."""
        if self.connection is None:
            return True
        try:
            return self.connection.execute("select 1 from entry limit 1").fetchone() is None
        except sqlite3.Error:
            self._failed()
            return True

    def get_many(self, keys: Sequence[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        if self.connection is None:
            return found
        corrupt: list[str] = []
        now = time.time()
        try:
            for start in range(0, len(keys), 500):
                chunk = list(keys[start:start + 500])
                rows = self.connection.execute(
                    f"select key, body, sha256 from entry where key in ({','.join('?' * len(chunk))})",
                    chunk).fetchall()
                for key, body, checksum in rows:
                    try:
                        if not isinstance(body, bytes) or hashlib.sha256(body).hexdigest() != checksum:
                            raise ValueError("checksum")
                        found[key] = body.decode("utf-8")
                    except (ValueError, UnicodeDecodeError):
                        corrupt.append(key)
            with self.connection:
                self.connection.executemany("update entry set used = ? where key = ?",
                                            [(now, key) for key in found])
                self.connection.executemany("delete from entry where key = ?", [(key,) for key in corrupt])
        except sqlite3.Error:
            self._failed()
            return {}
        self.hits += len(found)
        return found

    def put(self, key: str, manifests: str) -> None:
        body = manifests.encode("utf-8")
        self.pending.append((key, body, hashlib.sha256(body).hexdigest(), time.time()))
        if len(self.pending) >= PUT_BATCH:  # written as they come: bounded memory, a short close
            self._write()

    def _write(self) -> None:
        """The pending entries, in one transaction; an error disables the cache for the run."""
        if self.connection is not None and self.pending:
            try:
                with self.connection:
                    self.connection.executemany(
                        "insert or replace into entry (key, body, sha256, used, size) values (?, ?, ?, ?, ?)",
                        [(key, body, digest, used, len(body)) for key, body, digest, used in self.pending])
                self.written = True
            except sqlite3.Error:
                self._failed()
        self.pending = []

    def close(self) -> None:
        """Write what is pending, trim to the size bound, close; errors lose the new entries only."""
        self._write()
        if self.connection is None:
            return
        with contextlib.suppress(sqlite3.Error):
            if self.written:
                with self.connection:
                    self._trim(max_bytes())
        with contextlib.suppress(sqlite3.Error):
            self.connection.close()
        self.connection = None

    def _trim(self, limit: int) -> None:
        assert self.connection is not None
        total = self.connection.execute("select coalesce(sum(size), 0) from entry").fetchone()[0]
        if total <= limit:
            return
        goal = total - int(limit * 0.8)  # trim to 80%: not on every run
        freed = 0
        doomed: list[tuple[str]] = []
        for key, size in self.connection.execute("select key, size from entry order by used"):
            if freed >= goal:
                break
            doomed.append((key,))
            freed += size
        self.connection.executemany("delete from entry where key = ?", doomed)


_SCHEMA = (
    "create table if not exists entry (key text primary key, body blob not null, sha256 text not null, "
    "used real not null, size integer not null)",
    "create index if not exists entry_used on entry (used)",
)


def _connect(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(path, timeout=BUSY_TIMEOUT_SECONDS, check_same_thread=False,
                                 isolation_level=None)
    try:
        # A new file only (an existing one keeps its size): an entry is ~3 KB, one per 4 KB page;
        # 16 KB pages hold five, and writing 1,000 entries costs ~11 ms instead of ~18 ms.
        connection.execute("pragma page_size=16384")
        connection.execute("pragma journal_mode=wal")
        connection.execute("pragma synchronous=normal")
        for statement in _SCHEMA:
            connection.execute(statement)
        connection.isolation_level = "DEFERRED"  # `with connection:` = one transaction
    except BaseException:
        connection.close()
        raise
    return connection


def open_cache(requested: bool = True) -> RenderCache | None:
    """The user's render cache, or None (disabled, or it cannot be opened: render without it)."""
    if not enabled(requested):
        return None
    path = cache_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            return RenderCache(_connect(path))
        except sqlite3.DatabaseError as exc:
            if isinstance(exc, sqlite3.OperationalError):
                raise  # locked, read-only, full: not a damaged file
            # Not a database (a damaged or foreign file): move it aside, start empty.
            os.replace(path, path.with_name(f"{path.name}.corrupt-{os.getpid()}"))
            for suffix in ("-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
            return RenderCache(_connect(path))
    except (OSError, sqlite3.Error):
        return None
