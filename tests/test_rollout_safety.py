"""The rollout commands never lose an update and never claim one they did not make.

Through the real CLI, in a temporary GitOps repo (conftest.make_gitops):
- concurrent `canary set`/`rollback`/`release` processes on one deployment run one
  after the other: each reports the value it really replaced, the reports chain up,
  and the file ends with the last one's value (before the edit lock, 18 of 50
  rounds of two concurrent `canary set` lost one of the two values);
- a command waits for another's edit lock, and gives up with exit 2 after
  MODELDEPLOY_LOCK_WAIT seconds, changing nothing;
- a config that cannot be written (read-only file or folder, a full disk) is exit 2 naming it,
  nothing printed on stdout (no "updated", no "20% -> 45%"), nothing changed, no
  temporary file left; one that cannot be read is refused with its `io` diagnostic.
"""

from __future__ import annotations

import fcntl
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ROLLOUT_FIXTURES, UNPRIVILEGED, RunCli, make_gitops

JUKEBOX_TEST = Path("model-deployments/test/jukebox/config.yaml")
JUKEBOX_PROD = Path("model-deployments/prod/jukebox/config.yaml")
TRANSITION = re.compile(r"^  canary traffic (\d+|none)%? -> (\d+)%$", re.MULTILINE)


@pytest.fixture
def gitops(tmp_path: Path) -> Path:
    return make_gitops(tmp_path, sorted(ROLLOUT_FIXTURES.glob("*.yaml")))


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "GITHUB_ACTIONS"}
    env.update(extra)
    return env


def _start(args: list[str], cwd: Path, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "modeldeploy", *args], cwd=cwd, env=_env(**env),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _run_together(commands: list[list[str]], cwd: Path) -> list[tuple[int, str, str]]:
    """Start every command at once (real CLI processes) and wait for all."""
    processes = [_start(args, cwd) for args in commands]
    results = []
    for process in processes:
        out, err = process.communicate(timeout=120)
        results.append((process.returncode, out, err))
    return results


def _percent(path: Path) -> str:
    found = re.search(rb"trafficPercent: (\d+)", path.read_bytes())
    return found.group(1).decode() if found else "none"


def _chain(transitions: list[tuple[str, str]], start: str, end: str) -> bool:
    """True when the (old, new) pairs, in some order, lead from `start` to `end` one after another."""
    pending, current = list(transitions), start
    while pending:
        step = next((t for t in pending if t[0] == current), None)
        if step is None:
            return False
        pending.remove(step)
        current = step[1]
    return current == end


def test_concurrent_canary_commands_lose_no_update(gitops: Path) -> None:
    path = gitops / JUKEBOX_TEST
    original = path.read_bytes()
    commands = [["canary", "set", "test/jukebox", "34"], ["canary", "set", "test/jukebox", "74"],
                ["canary", "rollback", "test/jukebox"]]
    for round_ in range(5):
        path.write_bytes(original)
        results = _run_together(commands, gitops)
        transitions = []
        for code, out, err in results:
            assert code == 0, (round_, out, err)
            assert "Traceback" not in err
            assert out.rstrip().splitlines()[-1].startswith("updated model-deployments/test/jukebox/")
            [transition] = TRANSITION.findall(out)
            transitions.append(transition)
        # Each reports from the value it replaced: the reports chain from 20 to what is on disk.
        assert _chain(transitions, "20", _percent(path)), (round_, transitions, _percent(path))
        assert len({new for _, new in transitions}) == len(transitions)
        assert [p.name for p in path.parent.iterdir()] == ["config.yaml"]  # no temporary file left


def test_concurrent_release_and_canary_keep_both_edits(gitops: Path) -> None:
    source, target = gitops / JUKEBOX_TEST, gitops / JUKEBOX_PROD
    source.write_bytes(source.read_bytes().replace(b"version: 4562a17c17", b"version: 9f8e7d6c5b"))
    original = target.read_bytes()
    for round_ in range(4):
        target.write_bytes(original)
        results = _run_together([["release", "jukebox", "--from", "test", "--to", "prod"],
                                 ["canary", "set", "prod/jukebox", "30"]], gitops)
        assert [code for code, _, _ in results] == [0, 0], results
        text = target.read_text()
        # Both edits are in the file, whichever ran first.
        assert "version: 9f8e7d6c5b\n" in text, (round_, text)
        assert "trafficPercent: 30" in text, (round_, text)


def test_a_command_waits_for_the_edit_lock_then_reads_the_new_value(gitops: Path) -> None:
    path = gitops / JUKEBOX_TEST
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        fcntl.flock(folder, fcntl.LOCK_EX)  # as another modeldeploy command editing the file
        waiting = _start(["canary", "set", "test/jukebox", "45"], gitops, MODELDEPLOY_LOCK_WAIT="60")
        time.sleep(1.5)
        assert waiting.poll() is None, "the command must wait for the lock"
        assert b"trafficPercent: 20 " in path.read_bytes()
        path.write_bytes(path.read_bytes().replace(b"trafficPercent: 20 ", b"trafficPercent: 30 "))
    finally:
        os.close(folder)  # the other command is done
    out, err = waiting.communicate(timeout=120)
    assert waiting.returncode == 0, err
    assert "  canary traffic 30% -> 45%\n" in out  # what it really replaced, not the 20 it found first
    assert b"trafficPercent: 45 " in path.read_bytes()


def test_a_lock_held_too_long_is_exit_2_and_changes_nothing(run_cli: RunCli, gitops: Path) -> None:
    path = gitops / JUKEBOX_TEST
    before = path.read_bytes()
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        fcntl.flock(folder, fcntl.LOCK_EX)
        result = run_cli(["canary", "set", "test/jukebox", "45"], cwd=gitops,
                         env={"MODELDEPLOY_LOCK_WAIT": "0.5"})
    finally:
        os.close(folder)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == ("modeldeploy: error: another modeldeploy command has been editing "
                             "model-deployments/test/jukebox/config.yaml for 0.5 s; nothing was changed: "
                             "run the command again when it is done (MODELDEPLOY_LOCK_WAIT sets how long "
                             "to wait)\n")
    assert path.read_bytes() == before


def test_dry_run_needs_no_lock(run_cli: RunCli, gitops: Path) -> None:
    path = gitops / JUKEBOX_TEST
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        fcntl.flock(folder, fcntl.LOCK_EX)
        result = run_cli(["canary", "set", "test/jukebox", "45", "--dry-run"], cwd=gitops,
                         env={"MODELDEPLOY_LOCK_WAIT": "0"})
    finally:
        os.close(folder)
    assert result.returncode == 0, result.stderr
    assert result.stdout.endswith("dry run: nothing written\n")


def _state(folder: Path) -> dict[str, tuple[bytes, int, int]]:
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns, p.stat().st_ino) for p in folder.iterdir()}


@pytest.mark.parametrize("command", [
    ["canary", "set", "test/jukebox", "45"],
    ["canary", "promote", "test/jukebox"],
    ["canary", "rollback", "test/jukebox"],
    ["release", "jukebox", "--from", "prod", "--to", "test"],
])
@pytest.mark.parametrize("blocked", ["file", "folder", "full-disk"])
def test_an_unwritable_config_is_exit_2_and_nothing_is_said_or_changed(
        run_cli: RunCli, gitops: Path, command: list[str], blocked: str) -> None:
    path = gitops / JUKEBOX_TEST
    if command[0] == "release":  # something to release: another version in prod
        prod = gitops / JUKEBOX_PROD
        prod.write_bytes(prod.read_bytes().replace(b"version: 4562a17c17", b"version: 9f8e7d6c5b"))
    modes = {"file": (path, 0o444, 0o644), "folder": (path.parent, 0o555, 0o755)}
    # full-disk: no file may grow (RLIMIT_FSIZE; Python ignores SIGXFSZ, so the write fails with EFBIG)
    prefix = ("prlimit", "--fsize=0") if blocked == "full-disk" else UNPRIVILEGED
    if blocked in modes:
        modes[blocked][0].chmod(modes[blocked][1])
    try:
        before = _state(path.parent)
        result = run_cli(command, cwd=gitops, prefix=prefix)
        after = _state(path.parent)
    finally:
        if blocked in modes:
            modes[blocked][0].chmod(modes[blocked][2])
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stdout == ""  # no "updated", no "canary traffic 20% -> 45%" before a write that failed
    assert result.stderr.startswith("modeldeploy: error: cannot write model-deployments/test/jukebox/"
                                    "config.yaml: ")
    assert result.stderr.endswith("; nothing was changed\n")
    assert "Traceback" not in result.stderr
    assert after == before  # same bytes, same mtime, same inode, no temporary file


def test_an_unreadable_config_is_refused_with_its_io_problem(run_cli: RunCli, gitops: Path) -> None:
    path = gitops / JUKEBOX_TEST
    path.chmod(0o000)
    try:
        result = run_cli(["canary", "set", "test/jukebox", "45"], cwd=gitops, prefix=UNPRIVILEGED)
    finally:
        path.chmod(0o644)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == (
        "model-deployments/test/jukebox/config.yaml:1:1: error: cannot read file: Permission denied [io]\n"
        "modeldeploy: refused: model-deployments/test/jukebox/config.yaml is invalid; fix it first "
        "(`modeldeploy validate` lists the problems); nothing was changed\n")


@pytest.mark.parametrize("kind", ["directory", "fifo"])
def test_a_config_that_is_not_a_file_is_refused_not_missing(run_cli: RunCli, gitops: Path,
                                                            kind: str) -> None:
    path = gitops / JUKEBOX_TEST
    path.unlink()
    if kind == "directory":
        path.mkdir()
    else:
        os.mkfifo(path)
    result = run_cli(["canary", "set", "test/jukebox", "45"], cwd=gitops)
    assert result.returncode == 1
    what = "a directory" if kind == "directory" else "a FIFO (named pipe)"
    assert result.stderr.startswith(f"model-deployments/test/jukebox/config.yaml:1:1: error: {what}, "
                                    "not a regular file")
    assert "refused: model-deployments/test/jukebox/config.yaml is invalid" in result.stderr
