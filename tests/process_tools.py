"""Helpers for tests of how modeldeploy copes with a misbehaving helm, signals and unwritable folders.

A fake helm here is a small script that answers `helm version` by running the real helm
(so modeldeploy accepts it) and misbehaves on `helm template` on purpose: it hangs,
floods its output, prints garbage, or wraps the real helm with a delay. It tests our
handling of a misbehaving binary; it is no mock of helm's rendering.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from conftest import REPO_ROOT, helm_path

CHART = "charts/model-deployment/music-transformer"


def fake_helm(folder: Path, name: str, template_code: str) -> Path:
    """An executable `folder/name`: the real helm 4 for `version`, `template_code` (Python) otherwise.

    The code sees `os`, `sys`, `time`, `REAL` (the real helm) and `LOG` (a folder to note calls in)."""
    log = folder / f"{name}.calls"
    log.mkdir(parents=True, exist_ok=True)
    script = folder / name
    script.write_text(
        f"#!{sys.executable}\n"
        "import os, sys, time\n"
        f"REAL = {str(helm_path('4'))!r}\n"
        f"LOG = {str(log)!r}\n"
        "if sys.argv[1:2] == ['version']:\n"
        "    os.execv(REAL, [REAL, *sys.argv[1:]])\n"
        "open(os.path.join(LOG, str(os.getpid())), 'w').write(' '.join(sys.argv[1:]))\n"
        + template_code)
    script.chmod(0o755)
    return script


HANG = "os.execv('/bin/sleep', ['sleep', '600'])\n"  # the same pid: the call log names it
SLOW_REAL = "time.sleep(float(os.environ.get('SLOW_HELM', '0.3')))\nos.execv(REAL, [REAL, *sys.argv[1:]])\n"


def helm_calls(script: Path) -> list[int]:
    """The pids of the `helm template` calls `script` received."""
    return sorted(int(p.name) for p in (script.parent / f"{script.name}.calls").iterdir())


def repo(root: Path, count: int, envs: Sequence[str] = ("dev", "test", "prod")) -> list[Path]:
    """A GitOps layout at root (a .git folder marks the repository root): `count` valid configs."""
    (root / ".git").mkdir(parents=True)
    shutil.copytree(REPO_ROOT / CHART, root / CHART)
    configs = []
    for index in range(count):
        env = envs[index % len(envs)]
        configs.append(add_config(root, env, f"model-{index:03d}", f"abc{index:04d}"))
    return configs


def add_config(root: Path, env: str, name: str, version: str = "abc1234", folder: str | None = None) -> Path:
    path = root / "model-deployments" / env / (folder or name) / "config.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"chart_path: {CHART}\nname: {name}\nversion: {version}\n"
                    "image_repository: registry.example.com\nimage_namespace: team\n")
    return path


def cli_env(helm: Path | None = None, **extra: str) -> dict[str, str]:
    """The environment run_cli uses: HELM_BIN set, not inside GitHub Actions."""
    env = {k: v for k, v in os.environ.items() if k not in ("GITHUB_ACTIONS", "HELM_BIN")}
    env["HELM_BIN"] = str(helm or helm_path("4"))
    env.update(extra)
    return env


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def with_ctrl_c(preexec_fn: Callable[[], None] | None = None) -> Callable[[], None] | None:
    """`preexec_fn` for a CLI the tests interrupt with SIGINT. A shell starts background jobs
    with SIGINT ignored and every child inherits that (so would the CLI, which then rightly
    keeps ignoring it); the CLI a user presses Ctrl-C at runs in the foreground, with SIGINT's
    default: give it that. Nothing changes when the tests run in the foreground."""
    if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:
        return preexec_fn

    def restore() -> None:
        _default_sigint()
        if preexec_fn is not None:
            preexec_fn()

    return restore


def start_cli(args: Sequence[str], cwd: Path, env: dict[str, str],
              preexec_fn: Callable[[], None] | None = None) -> subprocess.Popen[str]:
    """The real CLI in the background (to signal it); its own process group, so a signal reaches it alone."""
    return subprocess.Popen([sys.executable, "-m", "modeldeploy", *args], cwd=cwd, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            preexec_fn=with_ctrl_c(preexec_fn), start_new_session=True)


def run_cli_as(args: Sequence[str], cwd: Path, env: dict[str, str],
               preexec_fn: Callable[[], None] | None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "modeldeploy", *args], cwd=cwd, env=env, text=True,
                          capture_output=True, timeout=300, preexec_fn=preexec_fn)


# --- processes ---------------------------------------------------------------------------------

def _stat(pid: int) -> tuple[str, int] | None:
    """(state, parent pid) of a process, None when it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2:].split()
    return fields[0], int(fields[1])


def descendants(pid: int) -> set[int]:
    """Every living process below `pid`."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (info := _stat(int(entry))) is not None and info[0] != "Z":
            parents[int(entry)] = info[1]
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def alive(pid: int) -> bool:
    info = _stat(pid)
    return info is not None and info[0] != "Z"


def wait_until(condition: Callable[[], bool], timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def still_alive(pids: Iterable[int], timeout: float = 15.0) -> set[int]:
    """The pids still running after up to `timeout` seconds."""
    pids = set(pids)
    wait_until(lambda: not any(alive(p) for p in pids), timeout)
    return {p for p in pids if alive(p)}


def wait_for_calls(script: Path, count: int, proc: subprocess.Popen[str], timeout: float = 60) -> None:
    assert wait_until(lambda: len(helm_calls(script)) >= count or proc.poll() is not None, timeout), \
        "helm was never called"
    assert proc.poll() is None, proc.communicate()


def stop(proc: subprocess.Popen[str]) -> None:
    """Kill a CLI a failed test left running, and its children."""
    if proc.poll() is None:
        for pid in descendants(proc.pid):
            os.kill(pid, signal.SIGKILL)
        proc.kill()
    proc.communicate()


# --- folders -------------------------------------------------------------------------------------

_PR_CAPBSET_DROP = 24
_ROOT_POWERS = (1, 2, 3, 9)  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER, CAP_LINUX_IMMUTABLE


def as_ordinary_user() -> Callable[[], None] | None:
    """A preexec_fn: a child of root runs without the powers that ignore file modes (the bounding
    set is dropped before exec), so a folder of mode 555 is read-only to it as to anyone else."""
    if os.geteuid() != 0:
        return None
    libc = ctypes.CDLL(None, use_errno=True)

    def drop() -> None:
        for capability in _ROOT_POWERS:
            if libc.prctl(_PR_CAPBSET_DROP, capability, 0, 0, 0) != 0:
                raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")

    return drop


def snapshot(root: Path) -> dict[str, tuple[int, int, int, bytes]]:
    """(inode, mode, mtime, content or link target) of everything under root: equal means untouched."""
    state: dict[str, tuple[int, int, int, bytes]] = {}
    if not root.exists():
        return state
    for current, dirs, files in os.walk(root):
        for name in [*dirs, *files]:
            path = Path(current) / name
            info = path.lstat()
            data = os.readlink(path).encode() if path.is_symlink() else \
                path.read_bytes() if path.is_file() else b""
            state[path.relative_to(root).as_posix()] = (info.st_ino, info.st_mode, info.st_mtime_ns, data)
    return state


def leftovers(folder: Path) -> list[str]:
    """Build folders of render -o beside `folder`."""
    return sorted(n for n in os.listdir(folder.parent) if ".modeldeploy-" in n)
