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


def test_the_tree_rss_walk_counts_what_the_scan_of_every_process_counts() -> None:
    """The bench samples the memory of the measured process tree by walking its children; the
    scan of all of /proc it replaced is the reference (same processes, same pages)."""
    bench = bench_module()
    tree = subprocess.Popen(["bash", "-c", "sleep 5 & python3 -c 'import time; x = bytearray(40_000_000); "
                             "time.sleep(5)' & wait"])
    try:
        deadline = time.monotonic() + 5
        while bench._tree_rss_kb_by_scan(tree.pid) < 40_000 and time.monotonic() < deadline:
            time.sleep(0.05)  # until python3 holds its 40 MB
        walked, scanned = bench._tree_rss_kb(tree.pid), bench._tree_rss_kb_by_scan(tree.pid)
        assert scanned >= 40_000, scanned
        assert walked == scanned
    finally:
        tree.kill()
        subprocess.run(["pkill", "-P", str(tree.pid)], check=False)
        tree.wait()
