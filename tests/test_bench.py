"""The benchmark script keeps working (`nox -s bench` runs it at full size)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from conftest import REPO_ROOT, bench_module


def test_bench_runs_small(tmp_path: Path, helm4: Path) -> None:
    output = tmp_path / "benchmarks.md"
    env = {k: v for k, v in os.environ.items() if k != "HELM_BIN"}
    env["HELM_BIN"] = str(helm4)
    proc = subprocess.run([sys.executable, str(REPO_ROOT / "tool" / "scripts" / "bench.py"), "--n", "12",
                           "--repeat", "1", "--scale", "24", "--output", str(output)],
                          capture_output=True, text=True, env=env, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    table = output.read_text()
    assert table.strip() == proc.stdout.strip()
    for needle in ("`modeldeploy validate` (12 configs)",
                   "`modeldeploy render -o DIR` (12 deployments, empty render cache)",
                   "naive: 12 × `helm template`", "2 cores" if os.cpu_count() == 2 else " cores",
                   "helm v4", "Ratio naive / `render`"):
        assert needle in table
    diff_rows = [line for line in table.splitlines() if "modeldeploy diff" in line]
    assert len(diff_rows) == 3  # 3 configs changed; chart changed, with and without the cache
    for row in diff_rows:  # timed, or plainly marked missing
        cells = [c.strip() for c in row.split("|")]
        assert cells[2] == "diff: not available" or float(cells[2]) > 0
    assert not list(tmp_path.glob(".benchmarks.md.*"))  # written atomically
    goal_lines = [line for line in table.splitlines() if line.startswith(("- PASS: ", "- FAIL: "))]
    assert len(goal_lines) == 8, table  # render ×2, validate, diff-chart ×2, diff-3, linear, memory
    assert any("`render` of 24 grows linearly" in line for line in goal_lines)


# A program holding 40 MB that forks a child which only sleeps: the child shares the 40 MB.
_FORKS = ("import os, time; x = b'x' * 40_000_000; pid = os.fork(); time.sleep(5); "
          "os.waitpid(pid, 0) if pid else None")


def test_the_tree_memory_counts_each_page_once() -> None:
    """The bench's process tree memory: a forked child's shared pages are its parent's (counted
    once), a program of its own counts its resident set; the walk down the children files finds
    the processes the scan of all of /proc finds."""
    bench = bench_module()
    tree = subprocess.Popen(["bash", "-c", f"sleep 5 & {sys.executable} -c \"{_FORKS}\" & wait"])
    try:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and (len(bench._descendants(tree.pid)) < 3
                                               or bench._tree_rss_kb(tree.pid) < 40_000):
            time.sleep(0.05)  # until the program holds its 40 MB and has forked
        assert sorted(bench._descendants(tree.pid)) == sorted(bench._descendants_by_scan(tree.pid))
        assert len(bench._descendants(tree.pid)) == 3  # sleep, the program, its fork
        total = bench._tree_rss_kb(tree.pid)
        assert 40_000 <= total < 70_000, total  # once, not twice (80 MB and more)
    finally:
        tree.kill()
        subprocess.run(["pkill", "-f", "b'x' \\* 40_000_000"], check=False)
        tree.wait()
