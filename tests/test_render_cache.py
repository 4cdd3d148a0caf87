"""The render cache (render/cache.py) with the real CLI and the real helm, wrapped by a script that
notes every `helm template` call: a second run renders nothing with helm and writes the same bytes;
a change of the chart, a config, helm, the kube or API versions is a miss; a corrupt entry
or a damaged database file is a miss, never an error; concurrent runs share one cache; `--no-cache` and
MODELDEPLOY_RENDER_CACHE=off keep away from it; the size bound holds."""

from __future__ import annotations

import concurrent.futures as cf
import sqlite3
from pathlib import Path

import pytest

from conftest import RunCli
from modeldeploy.render import cache as render_cache
from process_tools import CHART, fake_helm, helm_calls, repo

PASS_THROUGH = "os.execv(REAL, [REAL, *sys.argv[1:]])\n"
COUNT = 9  # 3 per environment: some batched, some alone (MIN_GROUP) depending on the namespace


def tree(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*.yaml"))}


def entries(cache: Path) -> int:
    with sqlite3.connect(cache / render_cache.FILE_NAME) as db:
        return int(db.execute("select count(*) from entry").fetchone()[0])


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Path, Path, Path]:
    root = tmp_path / "gitops"
    repo(root, COUNT)
    return root, fake_helm(tmp_path / "bin", "helm", PASS_THROUGH), tmp_path / "cache"


def render(run_cli: RunCli, root: Path, helm: Path, cache: Path | str, out: str, *extra: str,
           ) -> dict[str, bytes]:
    result = run_cli(["render", "-o", out, *extra], cwd=root, helm=helm,
                     env={"MODELDEPLOY_RENDER_CACHE": str(cache)})
    assert result.returncode == 0, result.stderr
    return tree(root / out)


Setup = tuple[Path, Path, Path]


def test_hit_renders_nothing_with_helm_and_writes_the_same_bytes(run_cli: RunCli, setup: Setup) -> None:
    root, helm, cache = setup
    plain = render(run_cli, root, helm, "off", "plain")
    calls = len(helm_calls(helm))
    assert calls >= 1
    cold = render(run_cli, root, helm, cache, "cold")
    assert len(helm_calls(helm)) > calls and entries(cache) == COUNT
    calls = len(helm_calls(helm))
    warm = render(run_cli, root, helm, cache, "warm")
    assert len(helm_calls(helm)) == calls  # every output from the cache
    assert plain == cold == warm and len(warm) == COUNT


def test_miss_when_a_config_the_chart_or_helm_changes(run_cli: RunCli, setup: tuple[Path, Path, Path],
                                                     tmp_path: Path) -> None:
    root, helm, cache = setup
    render(run_cli, root, helm, cache, "first")
    calls = len(helm_calls(helm))
    config = root / "model-deployments" / "dev" / "model-000" / "config.yaml"
    config.write_text(config.read_text().replace("abc0000", "def0000"))
    changed = render(run_cli, root, helm, cache, "config-changed")
    assert len(helm_calls(helm)) > calls and entries(cache) == COUNT + 1
    assert b"def0000" in changed["dev/model-000.yaml"]
    calls = len(helm_calls(helm))
    chart_yaml = root / CHART / "Chart.yaml"
    chart_yaml.write_text("# a comment: another chart digest\n" + chart_yaml.read_text())
    render(run_cli, root, helm, cache, "chart-changed")
    assert entries(cache) == 2 * COUNT + 1  # all new keys
    assert len(helm_calls(helm)) > calls
    other = fake_helm(tmp_path / "bin2", "helm", PASS_THROUGH + "# another binary\n")
    render(run_cli, root, other, cache, "helm-changed")
    assert len(helm_calls(other)) >= 1 and entries(cache) == 3 * COUNT + 1
    calls = len(helm_calls(other))
    render(run_cli, root, other, cache, "kube-version-changed", "--kube-version", "1.31.0")
    assert len(helm_calls(other)) > calls and entries(cache) == 4 * COUNT + 1
    calls = len(helm_calls(other))
    render(run_cli, root, other, cache, "api-versions-changed", "--kube-version", "1.31.0",
           "--api-versions", "monitoring.coreos.com/v1")
    assert len(helm_calls(other)) > calls and entries(cache) == 5 * COUNT + 1


def test_corrupt_entry_and_damaged_file_are_misses(run_cli: RunCli, setup: tuple[Path, Path, Path]) -> None:
    root, helm, cache = setup
    good = render(run_cli, root, helm, cache, "first")
    with sqlite3.connect(cache / render_cache.FILE_NAME) as db:
        db.execute("update entry set body = cast('kind: Secret' as blob)")
    calls = len(helm_calls(helm))
    assert render(run_cli, root, helm, cache, "after-corrupt-entries") == good
    assert len(helm_calls(helm)) > calls and entries(cache) == COUNT  # rendered again, stored again
    db_file = cache / render_cache.FILE_NAME
    for suffix in ("-wal", "-shm"):
        Path(f"{db_file}{suffix}").unlink(missing_ok=True)
    db_file.write_bytes(b"this is no SQLite database" * 100)
    assert render(run_cli, root, helm, cache, "after-damaged-file") == good
    assert entries(cache) == COUNT
    assert list(cache.glob(f"{render_cache.FILE_NAME}.corrupt-*"))


def test_concurrent_runs_share_one_cache(run_cli: RunCli, setup: tuple[Path, Path, Path]) -> None:
    root, helm, cache = setup
    with cf.ThreadPoolExecutor(4) as pool:
        trees = list(pool.map(lambda i: render(run_cli, root, helm, cache, f"out{i}"), range(4)))
    assert all(t == trees[0] for t in trees) and len(trees[0]) == COUNT
    assert entries(cache) == COUNT
    with sqlite3.connect(cache / render_cache.FILE_NAME) as db:
        assert db.execute("pragma integrity_check").fetchone()[0] == "ok"
    calls = len(helm_calls(helm))
    assert render(run_cli, root, helm, cache, "after") == trees[0]
    assert len(helm_calls(helm)) == calls


def test_concurrent_writers_in_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODELDEPLOY_RENDER_CACHE", str(tmp_path))

    def write(worker: int) -> None:
        store = render_cache.open_cache()
        assert store is not None
        for index in range(2 * render_cache.PUT_BATCH + 100):  # written during the run and at close
            store.put(f"key-{index % 50}", f"doc {index % 50}\n")  # same content for the same key
        store.close()

    with cf.ThreadPoolExecutor(6) as pool:
        list(pool.map(write, range(6)))
    store = render_cache.open_cache()
    assert store is not None
    found = store.get_many([f"key-{i}" for i in range(60)])
    store.close()
    assert found == {f"key-{i}": f"doc {i}\n" for i in range(50)}


def test_entries_are_written_as_they_come_and_the_bound_holds_at_close(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A big run does not hold every render until its end: each PUT_BATCH entries are one
    transaction another run sees at once; close writes the rest and trims to the bound."""
    monkeypatch.setenv("MODELDEPLOY_RENDER_CACHE", str(tmp_path))
    count = render_cache.PUT_BATCH + 10
    monkeypatch.setenv("MODELDEPLOY_RENDER_CACHE_MB", str(100 * (count - 20) / 2**20))
    store = render_cache.open_cache()
    assert store is not None
    for index in range(count):
        store.put(f"key-{index:04d}", "x" * 100)
    with sqlite3.connect(tmp_path / render_cache.FILE_NAME) as db:  # before close: the first batch
        assert db.execute("select count(*) from entry").fetchone()[0] == render_cache.PUT_BATCH
    assert len(store.pending) == 10
    store.close()
    with sqlite3.connect(tmp_path / render_cache.FILE_NAME) as db:
        total, newest = db.execute("select sum(size), max(key) from entry").fetchone()
    assert total <= 100 * (count - 20) and newest == f"key-{count - 1:04d}"


def test_no_cache_and_off_leave_it_alone(run_cli: RunCli, setup: tuple[Path, Path, Path]) -> None:
    root, helm, cache = setup
    render(run_cli, root, helm, cache, "first", "--no-cache")
    assert not (cache / render_cache.FILE_NAME).exists()
    render(run_cli, root, helm, cache, "filled")
    calls = len(helm_calls(helm))
    render(run_cli, root, helm, cache, "second", "--no-cache")
    assert len(helm_calls(helm)) > calls


def test_unusable_cache_folder_renders_without_it(run_cli: RunCli, setup: tuple[Path, Path, Path]) -> None:
    root, helm, _ = setup
    blocker = root.parent / "a-file"
    blocker.write_text("not a folder")
    plain = render(run_cli, root, helm, "off", "plain")
    assert render(run_cli, root, helm, blocker / "cache", "blocked") == plain


def test_size_bound_drops_least_recently_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODELDEPLOY_RENDER_CACHE", str(tmp_path))
    monkeypatch.setenv("MODELDEPLOY_RENDER_CACHE_MB", str(10_000 / 2**20))  # 10,000 bytes
    for batch in range(5):
        store = render_cache.open_cache()
        assert store is not None
        for index in range(10):
            store.put(f"key-{batch}-{index}", "x" * 1000)
        store.close()
    with sqlite3.connect(tmp_path / render_cache.FILE_NAME) as db:
        total, newest = db.execute("select sum(size), max(key) from entry").fetchone()
    assert total <= 10_000 and newest == "key-4-9"


def test_non_deterministic_charts_are_not_cached(tmp_path: Path) -> None:
    chart = tmp_path / "chart"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("name: c\nversion: 1.0.0\n")
    (chart / "templates" / "a.yaml").write_text("x: {{ .Values.x }}\n")
    assert render_cache.chart_digest(chart) is not None
    (chart / "templates" / "b.yaml").write_text("token: {{ randAlphaNum 8 }}\n")
    assert render_cache.chart_digest(chart) is None
