"""Child processes and temporary folders that never outlive the run, and one deadline for it.

Rules:
- Children die with modeldeploy, whatever kills it: forked worker processes and every
  helm (or kubeconform) process ask the kernel for SIGKILL when their parent dies
  (`prctl(PR_SET_PDEATHSIG)`, Linux); one forked just as the parent died sees it and exits.
- SIGTERM and SIGHUP become the `Terminated` exception in the main thread, as Ctrl-C
  becomes KeyboardInterrupt. First the handler kills the running children and lets no
  new one start; then `finally` blocks remove the temporary folders. A second signal
  during that clean-up is ignored; a step that must not be cut in half (swapping the
  output folder) defers the exception to its end (`signals_deferred`).
- Temporary folders are also registered with a watcher process (its own session, its
  stdin a pipe from us): when the pipe closes, that is when modeldeploy and its workers
  are gone, SIGKILL included, it removes what is still registered, and puts back an
  output folder a killed run had moved aside (output_tree.py).
- One deadline for the whole run (`--timeout`): a child waits only for what is left of
  it, so waits never add up, and no child starts once it has passed.
- A child's output is read up to a byte cap; beyond it the child is killed and the run
  says so, instead of holding whatever it prints in memory.
"""

from __future__ import annotations

import ctypes
import os
import selectors
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .diagnostics import InternalError, ToolError

DEFAULT_TIMEOUT_SECONDS = 600.0
_PR_SET_PDEATHSIG = 1


class Terminated(BaseException):
    """SIGTERM or SIGHUP arrived: unwind like KeyboardInterrupt (not an Exception: never swallowed)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


# --- the deadline -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Deadline:
    """`seconds` after it was made; compare with `time.monotonic()` (the same clock in forked workers)."""

    seconds: float
    end: float

    @classmethod
    def after(cls, seconds: float) -> Deadline:
        return cls(seconds, time.monotonic() + seconds)

    def remaining(self) -> float:
        return max(0.0, self.end - time.monotonic())

    @property
    def passed(self) -> bool:
        return time.monotonic() >= self.end

    def describe(self) -> str:
        return f"the run's deadline (--timeout {self.seconds:g} s)"


# --- dying with the parent --------------------------------------------------------------------------

def _load_prctl() -> Callable[..., int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl: Callable[..., int] = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):  # pragma: no cover - every Linux libc has prctl
        return None
    return prctl


_PRCTL = _load_prctl()


def die_with_parent(parent: int) -> None:
    """In a child of `parent` (after fork): SIGKILL when the parent dies."""
    if _PRCTL is None:
        return
    _PRCTL(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # it died before the prctl: nobody would send the signal
        os.kill(os.getpid(), signal.SIGKILL)


def child_setup() -> Callable[[], None] | None:
    """A `preexec_fn` for subprocess: the child dies with this process (None where unsupported)."""
    if _PRCTL is None:
        return None
    parent = os.getpid()
    return lambda: die_with_parent(parent)


def worker_setup(parent: int) -> None:
    """Initializer of forked worker processes: die with the parent; signals are the parent's to handle."""
    die_with_parent(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C: the parent stops the pool, no traceback each
    for signum in (signal.SIGTERM, signal.SIGHUP):  # not the parent's handler, copied by fork
        signal.signal(signum, signal.SIG_DFL)


# --- signals --------------------------------------------------------------------------------------

@contextmanager
def signals_as_exceptions() -> Iterator[None]:
    """SIGTERM/SIGHUP raise Terminated, SIGINT KeyboardInterrupt, once; later ones are ignored."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    handled = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)

    def handler(signum: int, frame: object) -> None:
        for other in handled:  # the clean-up the exception starts must not be cut short
            signal.signal(other, signal.SIG_IGN)
        stop_children()
        if _deferred:
            _deferred.append(signum)
            return
        _raise_for(signum)

    previous = {signum: signal.getsignal(signum) for signum in handled}
    for signum in handled:
        if previous[signum] != signal.SIG_IGN:  # e.g. nohup: keep ignoring what the caller ignores
            signal.signal(signum, handler)
    try:
        yield
    finally:
        for signum, action in previous.items():
            signal.signal(signum, action if action is not None else signal.SIG_DFL)
        global _stopping
        _stopping = False


def _raise_for(signum: int) -> None:
    if signum == signal.SIGINT:
        raise KeyboardInterrupt
    raise Terminated(signum)


_deferred: list[int] = []  # [0, signals that arrived] while a step defers them


@contextmanager
def signals_deferred() -> Iterator[None]:
    """A step a signal must not cut in half (main thread): the signal's exception comes at its end."""
    if _deferred:  # nested
        yield
        return
    _deferred.append(0)
    try:
        yield
    finally:
        arrived = _deferred[1:]
        _deferred.clear()
        if arrived:
            _raise_for(arrived[0])


# --- running a child with a deadline and an output cap ------------------------------------------------

@dataclass(frozen=True)
class Finished:
    returncode: int | None  # None: killed by us (deadline or output cap)
    stdout: bytes
    stderr: bytes
    timed_out: bool = False
    too_much: str | None = None  # "stdout" or "stderr": more than its cap, the child was killed


_running: set[subprocess.Popen[bytes]] = set()
_running_lock = threading.RLock()  # also taken by the signal handler, in the main thread
_stopping = False  # a signal arrived: no new child
_CHUNK = 1 << 16


def run(args: Sequence[str], *, deadline: Deadline, max_stdout: int, max_stderr: int = 1 << 20,
        env: Mapping[str, str] | None = None, cwd: Path | None = None, stdin: bytes | None = None,
        ) -> Finished:
    """Run `args` until it exits, the deadline passes or an output exceeds its cap (then it is killed).

    After a signal (`stop_children`), nothing starts: the result says timed out."""
    if deadline.passed or _stopping:
        return Finished(None, b"", b"", timed_out=True)
    proc = subprocess.Popen(args, stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=cwd,
                            preexec_fn=child_setup())  # prctl only: no lock a thread could hold
    with _running_lock:
        _running.add(proc)
        if _stopping:  # the signal came while it started
            proc.kill()
    try:
        return _collect(proc, deadline, max_stdout, max_stderr, stdin)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
        with _running_lock:
            _running.discard(proc)


def _collect(proc: subprocess.Popen[bytes], deadline: Deadline, max_stdout: int, max_stderr: int,
             stdin: bytes | None) -> Finished:
    if proc.stdout is None or proc.stderr is None:
        raise InternalError(f"{proc.args!r} was started without its output pipes")
    caps = {proc.stdout.fileno(): ("stdout", max_stdout), proc.stderr.fileno(): ("stderr", max_stderr)}
    chunks: dict[int, list[bytes]] = {fd: [] for fd in caps}
    sizes = dict.fromkeys(caps, 0)
    pending = memoryview(stdin) if stdin is not None else None
    with selectors.DefaultSelector() as selector:
        for fd in caps:
            selector.register(fd, selectors.EVENT_READ)
        if proc.stdin is not None:
            if pending:
                os.set_blocking(proc.stdin.fileno(), False)
                selector.register(proc.stdin.fileno(), selectors.EVENT_WRITE)
            else:
                proc.stdin.close()
        while selector.get_map():
            remaining = deadline.remaining()
            if remaining <= 0:
                return Finished(None, b"", b"", timed_out=True)
            for key, _ in selector.select(min(remaining, 1.0)):
                fd = key.fd
                if fd not in caps:  # stdin, registered only with bytes pending
                    if proc.stdin is None or pending is None:
                        raise InternalError(f"{proc.args!r}: input to write, but no input pipe")
                    try:
                        pending = pending[os.write(fd, pending[:_CHUNK]):]
                    except BrokenPipeError:
                        pending = pending[:0]
                    if not pending:
                        selector.unregister(fd)
                        proc.stdin.close()
                    continue
                data = os.read(fd, _CHUNK)
                if not data:
                    selector.unregister(fd)
                    continue
                sizes[fd] += len(data)
                name, cap = caps[fd]
                if sizes[fd] > cap:
                    return Finished(None, b"", b"", too_much=name)
                chunks[fd].append(data)
    try:
        code = proc.wait(deadline.remaining())
    except subprocess.TimeoutExpired:  # closed its output, yet went on running
        return Finished(None, b"", b"", timed_out=True)
    out, err = (b"".join(chunks[fd]) for fd in caps)
    return Finished(code, out, err)


def kill_running() -> None:
    """Kill every child `run` is waiting for (on the way out of a failed step)."""
    with _running_lock:
        for proc in list(_running):
            if proc.poll() is None:
                proc.kill()


def stop_children() -> None:
    """After a signal: kill the running children and start no new one (until `signals_as_exceptions` ends)."""
    global _stopping
    with _running_lock:
        _stopping = True
        kill_running()


def decode_output(data: bytes) -> str:
    """Text a child printed, for messages: bytes that are not UTF-8 and control characters
    (but newlines and tabs) escaped, so it can neither fail to decode nor steer a terminal."""
    text = data.decode("utf-8", errors="backslashreplace")
    return "".join(c if c.isprintable() or c in "\n\t" else f"\\x{ord(c):02x}" if ord(c) < 256
                   else f"\\u{ord(c):04x}" for c in text)


def describe_output(data: bytes, limit: int = 600) -> str:
    """`decode_output` on one line, at most `limit` characters."""
    return " ".join(decode_output(data).split())[:limit]


# --- temporary folders -----------------------------------------------------------------------------

# The watcher: stdin lines "+<hex path>" (remove it when we are gone), "-<hex path>" (done
# with it), "r<hex aside> <hex folder>" (if the folder is missing, rename the aside back to it).
_WATCHER = r"""
import os, shutil, sys
remove, restore = {}, {}
for line in sys.stdin.buffer:
    op, arg = line[:1], line[1:].strip()
    if op == b"+":
        remove[arg] = 1
    elif op == b"-":
        remove.pop(arg, None)
        restore.pop(arg, None)
    elif op == b"r":
        aside, _, folder = arg.partition(b" ")
        restore[aside] = folder
for aside, folder in restore.items():
    aside, folder = bytes.fromhex(aside.decode()), bytes.fromhex(folder.decode())
    try:
        if not os.path.lexists(folder):
            os.rename(aside, folder)
    except OSError:
        pass
for path in remove:
    shutil.rmtree(bytes.fromhex(path.decode()), ignore_errors=True)
"""


class _Watcher:
    def __init__(self) -> None:
        self.proc: subprocess.Popen[bytes] | None = None
        self.pid = 0  # the process that started it (forked workers must not use it)
        self.lock = threading.Lock()

    def start(self) -> None:
        """Start it now (~10 ms, more on a busy machine), before a folder it must know of exists:
        a kill between creating the folder and telling the watcher would leave it behind."""
        self._tell(None)

    def send(self, line: bytes) -> None:
        self._tell(line)

    def _tell(self, line: bytes | None) -> None:
        """`line` to the watcher, started first if this process has none (None: only that)."""
        with self.lock:
            try:
                if self.proc is None or self.pid != os.getpid():
                    self.proc = subprocess.Popen(
                        [sys.executable, "-I", "-S", "-c", _WATCHER], stdin=subprocess.PIPE,
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
                    self.pid = os.getpid()
                if self.proc.stdin is None:
                    raise InternalError("the watcher process was started without its input pipe")
                if line is not None:
                    self.proc.stdin.write(line + b"\n")
                    self.proc.stdin.flush()
            except OSError:  # no watcher: the `finally` blocks and the next run still clean up
                pass


_watcher = _Watcher()


def _hex(path: Path) -> bytes:
    return os.fsencode(path).hex().encode()


def remove_if_killed(path: Path) -> None:
    """The watcher removes `path` if this process dies first; tell it before creating `path`
    where you can (a missing path is nothing to remove)."""
    _watcher.send(b"+" + _hex(path))


def restore_if_killed(aside: Path, folder: Path) -> None:
    _watcher.send(b"r" + _hex(aside) + b" " + _hex(folder))


def forget(path: Path) -> None:
    _watcher.send(b"-" + _hex(path))


@contextmanager
def temporary_directory(prefix: str) -> Iterator[Path]:
    """A private temporary folder, removed on the way out, by the watcher if we are killed.

    Failing to create it (a full or read-only TMPDIR) is a ToolError."""
    import shutil  # on use, as tempfile: `validate` never needs them
    import tempfile

    _watcher.start()  # then the folder is told of microseconds after it exists
    try:
        path = Path(tempfile.mkdtemp(prefix=prefix))
    except OSError as exc:
        raise ToolError(f"cannot create a temporary folder in {tempfile.gettempdir()}: {exc.strerror} "
                        "(TMPDIR names another place)") from exc
    remove_if_killed(path)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
        forget(path)
