"""`render -o DIR`: DIR mirrors the rendered deployments, and changes in one step.

Rules:
- modeldeploy owns only what it wrote: `DIR/.modeldeploy-rendered.json` lists each file
  it wrote (`<env>/<name>.yaml`) with the config it came from (the config's path in its
  repository, as `--shard` orders them). Everything else in DIR is the user's and stays
  as it is, unless it stands where a deployment's file goes: that file wins.
- A run covers the configs under its PATH arguments (all of model-deployments/ by
  default). After it, DIR holds, for each covered config, exactly its current file, and
  no file of a covered config that was removed, moved or renamed. With `--shard I/N`
  the run writes its shard's files and keeps the other shards' current files as they
  are (their runs write them): a DIR per runner ends with that shard's files, runs into
  one DIR one after the other end with all of them. Files of configs outside the PATH
  arguments stay.
- A run with errors (or warnings under `--strict`) leaves DIR as it was.
- The new tree is built beside DIR, in `.<name>.modeldeploy-<random>` (the same
  filesystem): the new files and hard links to everything kept, all on disk before the
  swap (one syncfs on Linux, else an fsync per file and folder).
  One renameat2(RENAME_EXCHANGE) swaps it with DIR; the old tree, now under the build
  name, is removed. A kill at any moment leaves DIR the old tree or the new one, whole.
  Where the exchange is not supported (not Linux, some filesystems), DIR is renamed
  aside (`...-old`) and the new tree renamed in; a kill between the two renames is undone
  by the watcher process (processes.py) or by the next run. Files a user adds to DIR
  while the run builds are moved into the new tree after the swap.
- Leftovers of a killed run (build folders beside DIR) are removed by the watcher as
  soon as the run is gone, else by the next run; one still locked (flock) belongs to a
  live run and stays. Runs into one parent folder commit one after the other (flock on it).
- Before anything is rendered, DIR must be a folder or not exist, be writable with every
  folder in it, not be a mount point, not hold the working directory, the configs or the
  charts, and a build folder must be creatable beside it: else ToolError (exit 2). An
  OSError later (a full disk, a read-only filesystem) is a ToolError too; DIR stays as it was.
"""

from __future__ import annotations

import concurrent.futures as cf
import ctypes
import errno
import fcntl
import json
import os
import re
import secrets
import shutil
import stat
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from .. import processes
from ..diagnostics import ToolError
from ..fileio import write_all

MANIFEST_NAME = ".modeldeploy-rendered.json"
_MANIFEST_FORMAT = 1
_REMOVERS = 32  # threads unlinking an old tree: freeing blocks one by one can be slow


@dataclass(frozen=True)
class Coverage:
    """Which configs a run speaks for (see the module doc)."""

    prefixes: tuple[str, ...]  # config keys (repository-relative paths) it covers; "" covers all
    others: Mapping[str, str]  # covered configs of other shards: config key -> their file in DIR

    def covers(self, key: str) -> bool:
        return any(not p or key == p or key.startswith(p + "/") for p in self.prefixes)


_FOLDERS_MADE: set[str] = set()  # in build folders, by this process: one mkdir each


@dataclass(frozen=True)
class FileWriter:
    """Writes a deployment's file into a build folder: called by the OutputTree or, for big runs,
    in the worker processes that check the manifests (it is picklable), so no thread of the
    main process waits for the file system."""

    build: Path
    target: Path  # DIR: a file it holds keeps its mode, and is linked when unchanged
    previous: frozenset[str]  # the files the last run wrote

    def __call__(self, rel: str, data: str) -> OSError | None:
        """Write `rel`; the error instead of raising it (commit reports the first)."""
        try:
            self._write(rel, data)
        except OSError as exc:
            return exc
        return None

    def _write(self, rel: str, data: str) -> None:
        path = self.build / rel
        folder = str(path.parent)
        if folder not in _FOLDERS_MADE:
            path.parent.mkdir(parents=True, exist_ok=True)
            _FOLDERS_MADE.add(folder)
        payload = data.encode("utf-8")
        if rel in self.previous and self._link_unchanged(rel, payload, path):
            return
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
        try:
            with suppress(FileNotFoundError, NotADirectoryError):  # keep the mode of the file it replaces
                replaced = os.stat(self.target / rel, follow_symlinks=False).st_mode
                if stat.S_ISREG(replaced):
                    os.fchmod(fd, stat.S_IMODE(replaced))
            write_all(fd, payload)
        finally:
            os.close(fd)

    def _link_unchanged(self, rel: str, payload: bytes, path: Path) -> bool:
        """Hard-link DIR's file when it already holds `payload` (no write, no fsync, its time kept)."""
        old = self.target / rel
        try:
            if not stat.S_ISREG(old.lstat().st_mode) or old.stat().st_size != len(payload):
                return False
            os.link(old, path, follow_symlinks=False)
        except OSError:
            return False
        try:
            if path.read_bytes() == payload:  # read through the link: what the new tree holds
                return True
        except OSError:
            pass
        path.unlink()
        return False


class OutputTree:
    """One `render -o DIR` transaction: `open`, `write` as results come, then `commit` or `discard`."""

    def __init__(self, shown: str, target: Path, build: Path, lock: int) -> None:
        self.shown = shown  # DIR as the user gave it, for messages
        self.target = target
        self.build = build
        self.lock = lock  # flock'd descriptor of the build folder: "a live run owns it"
        self.written: dict[str, str] = {}  # file -> config key
        self.error: OSError | None = None  # the first write that failed: commit raises it
        self.repeated: set[str] = set()
        self.closed = False
        try:  # files it wrote last time: one with the same bytes is linked, not written again
            self.previous = _read_manifest(target, shown) if target.is_dir() else {}
        except ToolError:
            self.previous = {}  # commit says why
        self._writer = self.file_writer()

    # --- opening ---------------------------------------------------------------------------------
    @classmethod
    def open(cls, directory: Path, protected: Sequence[Path]) -> OutputTree:
        """Check DIR, clean up after killed runs, and create the build folder; ToolError if DIR won't do."""
        shown = str(directory)
        target = Path(os.path.realpath(directory))  # a link to a folder: the folder changes, not the link
        with _os_errors(f"-o {shown}"):
            _check_target(shown, target, protected)
            target.parent.mkdir(parents=True, exist_ok=True)
            with _locked(target.parent):
                _recover(target)
                build = target.parent / f".{target.name}.modeldeploy-{secrets.token_hex(6)}"
                processes.remove_if_killed(build)  # first: a kill right after the mkdir leaves nothing
                try:
                    build.mkdir(mode=0o700)
                except OSError as exc:
                    processes.forget(build)
                    raise ToolError(f"-o {shown}: cannot create a folder in {target.parent} to build the "
                                    f"new tree beside {target.name}: {exc.strerror}") from exc
                lock = os.open(build, os.O_RDONLY | os.O_DIRECTORY)
                with suppress(OSError):
                    fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return cls(shown, target, build, lock)

    # --- building -------------------------------------------------------------------------------
    def file_writer(self) -> FileWriter:
        """What writes a file into the new tree; picklable: worker processes write with it too."""
        return FileWriter(self.build, self.target, frozenset(self.previous))

    def write(self, rel: str, data: str, config_key: str, written: bool = False,
              error: OSError | None = None) -> None:
        """Write DIR/`rel` in the new tree (not synced yet; errors come out of `commit`).

        `written`, `error`: a worker process wrote it already with file_writer(), or failed to."""
        claimed = self._claim(rel, config_key)
        if self.error is None and error is not None:
            self.error = error
        elif self.error is None and claimed and not written:
            self.error = self._writer(rel, data)

    def unwritten(self, rel: str) -> None:
        """Take back a file a worker wrote for a deployment the run then refused."""
        if rel not in self.written and self.error is None:
            with suppress(FileNotFoundError):
                try:
                    os.unlink(self.build / rel)
                except OSError as exc:
                    self.error = exc

    def _claim(self, rel: str, config_key: str) -> bool:
        """Note `rel` as written for `config_key`; False when another config wrote it already."""
        if rel in self.written:  # two configs, one file: duplicate-deployment fails the run
            self.repeated.add(rel)
            self.written[rel] = config_key
            return False
        self.written[rel] = config_key
        return True

    # --- committing -----------------------------------------------------------------------------
    def commit(self, coverage: Coverage, final: Sequence[tuple[str, str, str]]) -> None:
        """Make DIR the new tree: this run's files, plus what the module doc says is kept.

        `final`: (file, data, config key) of the writes of files written more than once
        (`repeated`; more may be given), in config order: each gets its last data.
        """
        with _os_errors(f"-o {self.shown}"):
            if self.error is not None:
                raise self.error
            last = {rel: (data, key) for rel, data, key in final if rel in self.repeated}
            for rel, (data, key) in last.items():
                error = self._writer(rel, data)
                if error is not None:
                    raise error
                self.written[rel] = key
            with _locked(self.target.parent):
                old = _read_manifest(self.target, self.shown)
                owned = {**{rel: key for rel, key in old.items() if rel not in self.written
                            and (not coverage.covers(key) or coverage.others.get(key) == rel)
                            and os.path.lexists(self.target / rel)},
                         **self.written}
                seen = self._carry_over(old, owned)
                self._write_manifest(owned)
                _sync_tree(self.build, self.written)
                with processes.signals_deferred():  # swapped and cleaned up, or not swapped at all
                    old_tree = _swap(self.build, self.target)
                    self.closed = True
                    with suppress(OSError):  # swapped already: too late to say "left as it was"
                        _fsync(self.target.parent)
                    if old_tree is not None:
                        _move_late_arrivals(old_tree, self.target, seen)
                        _remove_tree(old_tree)
                        processes.forget(old_tree)
        self._release()

    def _carry_over(self, old: Mapping[str, str], owned: Mapping[str, str]) -> set[str]:
        """Hard-link into the new tree what stays of DIR; returns every path of DIR looked at."""
        if not self.target.is_dir():
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(self.build, 0o777 & ~umask)
            return set()
        entries = list(_walk(self.target))
        seen = {rel for rel, _, _ in entries}
        parents = {rel.rpartition("/")[0] for rel in seen}
        folders: list[tuple[str, os.stat_result]] = [("", self.target.stat())]
        for rel, entry, info in entries:
            destination = self.build / rel
            try:
                if stat.S_ISDIR(info.st_mode):
                    folders.append((rel, info))
                    if rel not in parents:  # an empty folder: the user's, it stays
                        destination.mkdir(parents=True, exist_ok=True)
                    elif destination.exists() and not destination.is_dir():
                        raise _in_the_way(self.target / rel, rel)
                    continue
                if rel == MANIFEST_NAME or rel in self.written or (rel in old and rel not in owned):
                    continue  # replaced, or the file of a deployment that is gone
                if os.path.lexists(destination):
                    raise _in_the_way(self.target / rel, rel)
                _link_or_copy(entry, destination, info)
            except (FileExistsError, NotADirectoryError) as exc:
                raise _in_the_way(self.target / rel, rel) from exc
        changed = {folder for rel in [*self.written, *(r for r in old if r not in owned)]
                   for folder in _folders_above(rel)}
        for rel, info in reversed(folders):  # the folders that stay keep mode, owner and (unchanged) time
            made = self.build / rel if rel else self.build
            if not made.is_dir():
                continue
            with suppress(OSError):
                os.chown(made, info.st_uid, info.st_gid)
            os.chmod(made, stat.S_IMODE(info.st_mode))
            if rel not in changed:
                os.utime(made, ns=(info.st_atime_ns, info.st_mtime_ns))
        return seen

    def _write_manifest(self, owned: Mapping[str, str]) -> None:
        document = {"about": "files modeldeploy render -o wrote here, each with the config it came "
                             "from; render removes only these", "format": _MANIFEST_FORMAT,
                    "files": dict(sorted(owned.items()))}
        path = self.build / MANIFEST_NAME
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(json.dumps(document, indent=1) + "\n")

    def discard(self) -> None:
        """Forget the run (an error, a signal): DIR is left as it was."""
        if self.closed:
            return
        self.closed = True
        shutil.rmtree(self.build, ignore_errors=True)
        processes.forget(self.build)
        self._release()

    def _release(self) -> None:
        with suppress(OSError):
            os.close(self.lock)


# --- checks --------------------------------------------------------------------------------------

def _check_target(shown: str, target: Path, protected: Sequence[Path]) -> None:
    existing = next(p for p in [target, *target.parents] if os.path.lexists(p))
    if not existing.is_dir():
        kind = _kind(existing.lstat().st_mode)
        raise ToolError(f"-o {shown}: {existing} is {kind}, not a folder; give a folder (it is created "
                        "if missing)")
    for path in protected:
        real = Path(os.path.realpath(path))
        if real == target or target in real.parents:
            raise ToolError(f"-o {shown}: the folder holds {path}; give a folder of its own (render "
                            "-o replaces it with the rendered files and what it held besides)")
    if not target.exists():
        return
    if os.path.ismount(target):
        raise ToolError(f"-o {shown}: {target} is a mount point; render -o replaces the folder in one "
                        "step, so give a folder inside it")
    for folder in [target, *(target / rel for rel, _, info in _walk(target) if stat.S_ISDIR(info.st_mode))]:
        if not os.access(folder, os.W_OK | os.X_OK):
            raise ToolError(f"-o {shown}: {folder} is not writable (read-only or immutable); render -o "
                            "replaces what it wrote there")
    parent = target.parent
    info, parent_info = target.stat(), parent.stat()
    euid = os.geteuid()
    if parent_info.st_mode & stat.S_ISVTX and euid not in (0, info.st_uid, parent_info.st_uid):
        raise ToolError(f"-o {shown}: {parent} is sticky and {target} belongs to someone else: it "
                        "cannot be replaced")


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISREG, "a file"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISLNK, "a dangling symbolic link")):
        if test(mode):
            return name
    return "not a folder"


def _in_the_way(path: Path, rel: str) -> ToolError:
    return ToolError(f"{path} is in the way of a rendered file (render -o did not write it): move it "
                     f"away ({rel})")


@contextmanager
def _os_errors(what: str) -> Iterator[None]:
    try:
        yield
    except ToolError:
        raise
    except OSError as exc:
        where = f" ({exc.filename})" if exc.filename else ""
        raise ToolError(f"{what}: cannot write the new tree: {exc.strerror or exc}{where}; the folder was "
                        "left as it was") from exc


# --- the manifest -----------------------------------------------------------------------------------

_SAFE_REL = re.compile(r"^(?!/)(?!.*(?:^|/)\.\.?(?:/|$))[^\0]+$")


def _read_manifest(target: Path, shown: str) -> dict[str, str]:
    """file -> config key from DIR's manifest; {} without one."""
    path = target / MANIFEST_NAME
    try:
        text = path.read_text(encoding="utf-8")
    except (FileNotFoundError, NotADirectoryError):
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise ToolError(f"-o {shown}: cannot read {path}: {exc}") from exc
    try:
        document = json.loads(text)
        files = document["files"]
        if not isinstance(files, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                                  for k, v in files.items()):
            raise ValueError("`files` is not a mapping of text to text")
    except (ValueError, KeyError, TypeError) as exc:
        raise ToolError(f"-o {shown}: {path} is not what render -o writes ({exc}); it lists the files "
                        "render may replace: restore it (e.g. from git), or delete it to make "
                        "render keep every file already there") from exc
    return {rel: key for rel, key in files.items() if _SAFE_REL.match(rel)}


# --- the tree ----------------------------------------------------------------------------------------

def _walk(root: Path) -> Iterator[tuple[str, os.DirEntry[str], os.stat_result]]:
    """(relative path, entry, lstat) below root, folders before their content; links not followed."""
    stack = [""]
    while stack:
        prefix = stack.pop()
        with os.scandir(root / prefix if prefix else root) as entries:
            for entry in sorted(entries, key=lambda e: e.name):
                rel = f"{prefix}/{entry.name}" if prefix else entry.name
                info = entry.stat(follow_symlinks=False)
                yield rel, entry, info
                if stat.S_ISDIR(info.st_mode):
                    stack.append(rel)


def _folders_above(rel: str) -> Iterator[str]:
    """"" and every folder above `rel`: "a/b/c" gives "", "a", "a/b"."""
    parts = rel.split("/")[:-1]
    yield ""
    for end in range(1, len(parts) + 1):
        yield "/".join(parts[:end])


def _link_or_copy(entry: os.DirEntry[str], destination: Path, info: os.stat_result) -> None:
    destination.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(entry.path, destination, follow_symlinks=False)
        return
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.EXDEV, errno.EMLINK, errno.ENOTSUP, errno.EACCES):
            raise
    if stat.S_ISLNK(info.st_mode):
        os.symlink(os.readlink(entry.path), destination)
    elif stat.S_ISREG(info.st_mode):
        shutil.copy2(entry.path, destination, follow_symlinks=False)
    elif stat.S_ISFIFO(info.st_mode):
        os.mkfifo(destination, stat.S_IMODE(info.st_mode))
    else:
        raise ToolError(f"{entry.path} ({_kind(info.st_mode)}) cannot be kept in the new tree: move it away")


def _move_late_arrivals(old_tree: Path, target: Path, seen: set[str]) -> None:
    """What appeared in DIR while the new tree was built (not ours, not looked at): move it over."""
    if not old_tree.is_dir():
        return
    for rel, entry, _ in list(_walk(old_tree)):
        if rel in seen or rel == MANIFEST_NAME:
            continue
        destination = target / rel
        if os.path.lexists(destination):
            continue
        with suppress(OSError):
            destination.parent.mkdir(parents=True, exist_ok=True)
            os.rename(entry.path, destination)
            seen.add(rel)


def _remove_tree(root: Path) -> None:
    """shutil.rmtree, its files unlinked on threads: freeing blocks one by one can be slow (discard)."""
    files = [entry.path for _, entry, info in _walk(root) if not stat.S_ISDIR(info.st_mode)]
    with cf.ThreadPoolExecutor(max_workers=_REMOVERS) as pool:
        for start in range(0, len(files), 64):
            pool.submit(_unlink_all, files[start:start + 64])
    shutil.rmtree(root, ignore_errors=True)


def _unlink_all(paths: list[str]) -> None:
    for path in paths:
        with suppress(OSError):
            os.unlink(path)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _sync_tree(root: Path, files: Iterable[str]) -> None:
    """Everything written in the new tree on disk (a swap must not reveal empty files after a crash)."""
    if _SYNCFS is not None:  # one call instead of one fsync per file: 5 ms for 1,000 files, not 200
        fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
        try:
            if _SYNCFS(fd) == 0:
                return
        finally:
            os.close(fd)
    for rel in [*files, MANIFEST_NAME]:
        fd = os.open(root / rel, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    folders = [root / rel for rel, _, info in _walk(root) if stat.S_ISDIR(info.st_mode)]
    for folder in [*reversed(folders), root]:
        _fsync(folder)


def _load_syncfs() -> Callable[[int], int] | None:
    """Linux's syncfs(2): flush the filesystem that holds a descriptor."""
    if not sys.platform.startswith("linux"):
        return None
    function = getattr(ctypes.CDLL(None, use_errno=True), "syncfs", None)
    if function is not None:
        function.argtypes = [ctypes.c_int]
    return function


_SYNCFS = _load_syncfs()


# --- swapping -----------------------------------------------------------------------------------

_RENAME_EXCHANGE = 2
_AT_FDCWD = -100
_SYS_RENAMEAT2 = {"x86_64": 316, "aarch64": 276}


def _load_renameat2() -> Callable[[int, bytes, int, bytes, int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL(None, use_errno=True)
    function = getattr(libc, "renameat2", None)  # glibc 2.28+
    if function is not None:
        function.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
        return function  # type: ignore[no-any-return]
    number = _SYS_RENAMEAT2.get(os.uname().machine)  # what platform.machine() says, without its import
    if number is None:
        return None
    syscall = libc.syscall
    return lambda a, b, c, d, e: int(syscall(number, a, b, c, d, e))


_RENAMEAT2 = _load_renameat2()


def _exchange(first: Path, second: Path) -> bool:
    """Swap two paths atomically; False where the system cannot."""
    if _RENAMEAT2 is None:
        return False
    if _RENAMEAT2(_AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(second))


def _swap(build: Path, target: Path) -> Path | None:
    """Put the build folder at target; returns where the old tree now is (None: there was none)."""
    if not os.path.lexists(target):
        try:
            os.rename(build, target)
            processes.forget(build)
            return None
        except OSError as exc:
            if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                raise
    if _exchange(build, target):
        return build  # the old tree, under the build folder's name: the watcher still removes it
    aside = build.with_name(build.name + "-old")
    lock = os.open(target, os.O_RDONLY | os.O_DIRECTORY)  # the aside folder is locked: a live run's
    try:
        with suppress(OSError):
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        processes.restore_if_killed(aside, target)
        os.rename(target, aside)
        try:
            os.rename(build, target)
        except OSError:
            os.rename(aside, target)
            raise
        processes.forget(build)
        processes.forget(aside)
        processes.remove_if_killed(aside)
    finally:
        os.close(lock)
    return aside


# --- after a killed run ---------------------------------------------------------------------------

@contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """An exclusive flock on `folder` (where it cannot be had, e.g. some network filesystems: none)."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        with suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _recover(target: Path) -> None:
    """Remove the build folders killed runs left beside target; put back a DIR left aside."""
    pattern = re.compile(rf"^\.{re.escape(target.name)}\.modeldeploy-[0-9a-f]{{12}}(-old)?$")
    with os.scandir(target.parent) as entries:
        leftovers = sorted((e for e in entries if pattern.match(e.name) and e.is_dir(follow_symlinks=False)),
                           key=lambda e: not e.name.endswith("-old"))  # a DIR to put back first
    for entry in leftovers:
        fd = os.open(entry.path, os.O_RDONLY | os.O_DIRECTORY)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # a run in progress
            except OSError:
                pass
            if entry.name.endswith("-old") and not os.path.lexists(target):
                os.rename(entry.path, target)
            else:
                shutil.rmtree(entry.path, ignore_errors=True)
        finally:
            os.close(fd)
