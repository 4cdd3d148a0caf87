"""Processes and limits: children die with modeldeploy, one deadline, bounded jobs and output.

Each test runs the real CLI with a helm that misbehaves on purpose (process_tools.py):
it hangs, floods its output or prints garbage. What is checked is our handling of it:
no process or temporary folder outlives a killed run, waits do not add up, a helm
that hangs is not retried, and every bad output is a diagnostic naming helm and the
config, never a traceback.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from conftest import RunCli
from modeldeploy import parallel
from process_tools import (
    HANG,
    add_config,
    cli_env,
    descendants,
    fake_helm,
    helm_calls,
    leftovers,
    repo,
    snapshot,
    start_cli,
    still_alive,
    stop,
    wait_for_calls,
)

# More configs than parallel.POOL_MIN: config and manifest checks go to forked workers.
MANY = 60


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGKILL, -9), (signal.SIGTERM, 143),
                                              (signal.SIGINT, 130)])
def test_a_killed_render_leaves_no_process_and_no_temporary_folder(tmp_path: Path, signum: int,
                                                                   code: int) -> None:
    root = tmp_path / "repo"
    repo(root, MANY)
    helm = fake_helm(tmp_path, "helm", HANG)
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    out = root / "out"
    proc = start_cli(["render", "-o", str(out), "--jobs", "2"], root, cli_env(helm, TMPDIR=str(tmp)))
    try:
        wait_for_calls(helm, 1, proc)
        children = descendants(proc.pid)
        assert set(helm_calls(helm)) <= children
        assert any(p for p in children if p not in helm_calls(helm))  # workers and the watcher too
        started = time.monotonic()
        os.kill(proc.pid, signum)
        _, stderr = proc.communicate(timeout=30)
        assert time.monotonic() - started < 10  # no wait for the hanging helm
        assert proc.returncode == code, stderr
        if signum != signal.SIGKILL:
            assert "Traceback" not in stderr
            assert ("stopped by SIGTERM" if signum == signal.SIGTERM else "interrupted") in stderr
        assert still_alive(children) == set()
        assert list(tmp.iterdir()) == []  # the batch folder, and nothing else, was removed
        assert not out.exists()
        assert leftovers(out) == []
    finally:
        stop(proc)


def test_a_hanging_helm_is_waited_for_once_until_the_deadline(tmp_path: Path) -> None:
    """One deadline for the run: no wait per helm call, no second try by halving the batch."""
    root = tmp_path / "repo"
    configs = repo(root, 42)
    helm = fake_helm(tmp_path, "helm", HANG)
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "modeldeploy", "render", "--jobs", "2", "--timeout", "3"],
                          cwd=root, env=cli_env(helm), capture_output=True, text=True, timeout=120)
    elapsed = time.monotonic() - started
    assert proc.returncode == 1, proc.stderr
    assert 3 <= elapsed < 30, elapsed
    assert len(helm_calls(helm)) <= 2  # --jobs 2: what started before the deadline, nothing after
    assert still_alive(helm_calls(helm), 5) == set()
    assert proc.stdout == ""
    for config in configs:
        shown = str(config.relative_to(root))
        line = next(line for line in proc.stderr.splitlines() if line.startswith(shown))
        assert "did not finish before the run's deadline (--timeout 3 s)" in line
        assert line.endswith("[helm-template]")


def test_diff_with_a_hanging_helm_stops_at_the_deadline(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    configs = repo(root, 3)
    env = cli_env(fake_helm(tmp_path, "helm", HANG), GIT_CONFIG_GLOBAL=os.devnull,
                  GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.com",
                  GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.com")
    (root / ".git").rmdir()
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "base"]):
        subprocess.run(["git", *args], cwd=root, env=env, check=True)
    configs[0].write_text(configs[0].read_text().replace("abc0000", "abc9999"))
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "modeldeploy", "diff", "--base", "HEAD", "--timeout", "2"],
                          cwd=root, env=env, capture_output=True, text=True, timeout=120)
    assert time.monotonic() - started < 30
    assert proc.returncode == 2, proc.stderr
    assert "before the run's deadline (--timeout 2 s); the diff would be incomplete" in proc.stderr


@pytest.mark.parametrize("value", ["0", "-1", "abc", "nan", "100000"])
def test_timeout_must_be_a_sensible_number_of_seconds(run_cli: RunCli, value: str) -> None:
    proc = run_cli(["render", "--timeout", value])
    assert proc.returncode == 2
    assert "--timeout" in proc.stderr


def test_jobs_has_an_upper_bound(tmp_path: Path, run_cli: RunCli) -> None:
    for command in ("validate", "render", "diff"):
        proc = run_cli([command, "--jobs", "400"])
        assert proc.returncode == 2
        assert "400 is more than 64" in proc.stderr
    root = tmp_path / "repo"
    repo(root, MANY)
    proc = start_cli(["render", "--jobs", "64", "-o", "out"], root, cli_env())
    peak = 0
    while proc.poll() is None:
        peak = max(peak, len(descendants(proc.pid)))
        time.sleep(0.02)
    _, err = proc.communicate()
    assert proc.returncode == 0, err
    # 64 helm processes at most, checking processes at most max(8, CPUs), one watcher.
    assert peak <= 64 + parallel.max_workers() + 1, peak
    assert parallel.Workers(64).count == min(64, max(8, parallel.usable_cpus()))
    assert parallel.Workers(2).count == 2


def test_helm_output_is_read_up_to_a_cap(tmp_path: Path, run_cli: RunCli) -> None:
    root = tmp_path / "repo"
    config = repo(root, 1)[0]
    flood = fake_helm(tmp_path, "flood", "chunk = b'# ' + b'x' * 65533 + b'\\n'\n"
                      "while True:\n    sys.stdout.buffer.write(chunk)\n")
    started = time.monotonic()
    proc = run_cli(["render"], cwd=root, helm=flood)
    assert time.monotonic() - started < 60
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout == ""
    assert f"{config.relative_to(root)}:1:1: error: helm v4.1.4 template printed more than 32 MB on " \
           "stdout: stopped reading and killed it" in proc.stderr
    assert still_alive(helm_calls(flood), 5) == set()
    noisy = fake_helm(tmp_path, "noisy", "sys.stderr.write('e' * (3 << 20))\nsys.exit(1)\n")
    proc = run_cli(["render"], cwd=root, helm=noisy)
    assert proc.returncode == 1
    assert "printed more than 1 MB on stderr" in proc.stderr and "[helm-output]" in proc.stderr


GARBAGE = {
    "not YAML": ("sys.stdout.write('---\\n# Source: x/templates/a.yaml\\nkind: [unclosed\\n  : :\\n')\n",
                 "helm printed text that is not YAML at line 4, column 3 of its output", "helm-output"),
    "not UTF-8": ("sys.stdout.buffer.write(b'---\\napiVersion: v1\\nkind: ConfigMap\\nmetadata:\\n'"
                  " b'  name: \\xff\\xfe\\n')\n",
                  "helm v4.1.4 template printed bytes that are not UTF-8 (byte 53 of its output",
                  "helm-output"),
    "NUL bytes": ("sys.stdout.buffer.write(b'---\\napiVersion: v1\\x00\\nkind: ConfigMap\\n')\n",
                  "helm printed text that is not YAML", "helm-output"),
    "a list": ("sys.stdout.write('---\\n- a\\n- b\\n')\n",
               "helm printed a document that is not a Kubernetes object (a list)", "manifest-not-an-object"),
    "a string": ("sys.stdout.write('---\\njust text\\n')\n",
                 "helm printed a document that is not a Kubernetes object (a string)",
                 "manifest-not-an-object"),
    "a mapping without kind": ("sys.stdout.write('---\\nmetadata: {name: x}\\n')\n",
                               "not a Kubernetes object (a mapping without apiVersion and kind)",
                               "manifest-not-an-object"),
    "empty": ("", "helm printed no Kubernetes object for this config (empty output)", "helm-output"),
    "an alias bomb": ("sys.stdout.write('---\\napiVersion: v1\\nkind: ConfigMap\\nmetadata: {name: x}\\n'"
                      " + 'a0: &a0 [x, x, x, x, x, x, x, x, x, x]\\n' + ''.join("
                      "f'a{i}: &a{i} [' + ', '.join([f'*a{i - 1}'] * 10) + ']\\n' for i in range(1, 9)))\n",
                      "helm printed YAML that cannot be checked: its aliases expand to more than 1,000,000",
                      "helm-output"),
    "a recursive alias": ("sys.stdout.write('---\\napiVersion: v1\\nkind: ConfigMap\\nmetadata: {name: x}\\n'"
                          " 'data: &d {k: *d}\\n')\n",
                          "an alias refers to a node that contains it", "helm-output"),
    "only separators": ("sys.stdout.write('---\\n# Source: x\\n---\\n')\n",
                        "helm printed no Kubernetes object for this config", "helm-output"),
    "garbage on stderr": ("sys.stderr.buffer.write(b'\\xff\\xfe\\x1b[31mError: bad\\x00\\x07\\n')\n"
                          "sys.exit(1)\n",
                          "helm v4.1.4 template failed: \\xff\\xfe\\x1b[31mError: bad\\x00\\x07",
                          "helm-template"),
    "exit 1, nothing said": ("sys.exit(1)\n", "helm v4.1.4 template failed: helm exited 1", "helm-template"),
}


@pytest.mark.parametrize("count", [1, 8], ids=["alone", "batched"])
@pytest.mark.parametrize("case", list(GARBAGE))
def test_helm_printing_garbage_is_a_diagnostic_per_config(tmp_path: Path, run_cli: RunCli, case: str,
                                                          count: int) -> None:
    code, message, rule = GARBAGE[case]
    root = tmp_path / "repo"
    configs = repo(root, count)
    helm = fake_helm(tmp_path, "helm", code)
    proc = run_cli(["render", "-o", str(root / "out")], cwd=root, helm=helm)
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr
    assert not (root / "out").exists()
    lines = proc.stderr.splitlines()
    for config in configs:
        mine = [line for line in lines if line.startswith(f"{config.relative_to(root)}:1:1: error: ")]
        assert mine, proc.stderr
        assert any(message in line and line.endswith(f"[{rule}]") for line in mine), mine
        assert all(ord(c) >= 32 for line in mine for c in line), mine  # control characters escaped


def test_garbage_on_stderr_of_a_helm_that_succeeds_is_ignored(tmp_path: Path, run_cli: RunCli) -> None:
    root = tmp_path / "repo"
    config = repo(root, 1)[0]
    helm = fake_helm(tmp_path, "helm", "import subprocess\nsys.stderr.buffer.write(b'\\xff\\x1b[2J')\n"
                     "sys.exit(subprocess.call([REAL, *sys.argv[1:]]))\n")
    proc = run_cli(["render", str(config)], cwd=root, helm=helm)
    real = run_cli(["render", str(config)], cwd=root)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == real.stdout and "kind: InferenceService" in proc.stdout


def test_a_helm_that_answers_version_with_garbage_is_refused(tmp_path: Path, run_cli: RunCli) -> None:
    root = tmp_path / "repo"
    repo(root, 1)
    helm = tmp_path / "helm"
    helm.write_bytes(b"#!/bin/sh\nprintf 'v\\377\\376\\033[31m'\n")
    helm.chmod(0o755)
    proc = run_cli(["render"], cwd=root, helm=helm)
    assert proc.returncode == 2
    assert "does not look like helm" in proc.stderr and "Traceback" not in proc.stderr


def test_a_deadline_that_passes_mid_run_reports_the_rest(tmp_path: Path) -> None:
    """Fast renders before the deadline are kept; the ones helm could not finish are named."""
    root = tmp_path / "repo"
    repo(root, 2)
    add_config(root, "test", "slow", "fa11ed1")
    helm = fake_helm(tmp_path, "helm", "if any('slow' in a for a in sys.argv):\n    time.sleep(600)\n"
                     "os.execv(REAL, [REAL, *sys.argv[1:]])\n")
    before = snapshot(root)
    proc = subprocess.run([sys.executable, "-m", "modeldeploy", "render", "--timeout", "4", "-o", "out"],
                          cwd=root, env=cli_env(helm), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    errors = [line for line in proc.stderr.splitlines() if ": error: " in line]
    assert errors == [f"{Path('model-deployments/test/slow/config.yaml')}:1:1: error: helm v4.1.4 template "
                      "did not finish before the run's deadline (--timeout 4 s); not rendered (raise "
                      "--timeout, or look for a template that never ends) [helm-template]"]
    assert snapshot(root) == before  # a run with errors leaves the output folder as it was


def test_the_watcher_knows_a_folder_before_a_kill_could_leave_it(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """A kill between creating a folder and telling the watcher would leave the folder behind
    (starting the watcher takes ~10 ms, more on a busy machine): render -o's build folder is told
    of before it is created, a temporary folder is created once the watcher runs."""
    from modeldeploy import processes
    from modeldeploy.render import output_tree

    told: list[tuple[str, bool]] = []
    started: list[bool] = []
    real_tell = processes._watcher._tell

    def recording(line: bytes | None) -> None:
        if line is not None and line.startswith(b"+"):
            path = Path(os.fsdecode(bytes.fromhex(line[1:].decode())))
            told.append((path.name, path.exists()))
        started.append(True)
        real_tell(line)

    monkeypatch.setattr(processes._watcher, "_tell", recording)
    tree = output_tree.OutputTree.open(tmp_path / "out", [])
    tree.discard()
    assert told and told[0][0].startswith(".out.modeldeploy-") and told[0][1] is False, told
    told.clear()
    started.clear()
    real_mkdtemp = tempfile.mkdtemp

    def mkdtemp(**kwargs: str) -> str:
        assert started, "the folder would exist before the watcher runs"
        return real_mkdtemp(**kwargs)

    monkeypatch.setattr(tempfile, "mkdtemp", mkdtemp)  # processes imports tempfile on use
    with processes.temporary_directory("modeldeploy-test-") as folder:
        assert told == [(folder.name, True)]
