"""`--shard I/N`: N CI runners check every config exactly once, whatever the PATH order."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from conftest import REPO_ROOT, RunCli
from modeldeploy.checks.deployments import CheckRequest, check_paths
from modeldeploy.commands import pipeline
from modeldeploy.config import sharding
from modeldeploy.diagnostics import ToolError

CHART = "charts/model-deployment/music-transformer"


def _repo(root: Path, count: int = 23) -> list[str]:
    (root / ".git").mkdir()
    shutil.copytree(REPO_ROOT / "charts", root / "charts")
    configs = []
    for index in range(count):
        env = ("dev", "test", "prod")[index % 3]
        name = f"model-{index:03d}"
        path = root / "model-deployments" / env / name / "config.yaml"
        path.parent.mkdir(parents=True)
        path.write_text(f"chart_path: {CHART}\nname: {name}\nversion: abc{index:04d}\n"
                        "image_repository: registry.example.com\nimage_namespace: team\n")
        configs.append(str(path.relative_to(root)))
    return sorted(configs)


def _checked(root: Path, shard: tuple[int, int] | None, paths: list[str] | None = None,
             cwd: Path | None = None) -> list[str]:
    checks = check_paths(CheckRequest(cwd or root, tuple(paths or ()), shard=shard)).checks
    return [str(c.config.path.relative_to(root)) for c in checks]


@pytest.mark.parametrize("count", [1, 2, 3, 4, 7])
def test_shards_are_disjoint_and_cover_everything(tmp_path: Path, count: int) -> None:
    everything = _repo(tmp_path)
    shards = [_checked(tmp_path, (i, count)) for i in range(1, count + 1)]
    union = [c for shard in shards for c in shard]
    assert sorted(union) == everything  # nothing missed, nothing twice
    assert len(set(union)) == len(union)
    sizes = [len(s) for s in shards]
    assert max(sizes) - min(sizes) <= 1  # balanced


def test_shards_are_stable_and_independent_of_path_order_and_cwd(tmp_path: Path) -> None:
    _repo(tmp_path)
    envs = ["model-deployments/prod", "model-deployments/dev", "model-deployments/test"]
    first = _checked(tmp_path, (2, 3), envs)
    assert _checked(tmp_path, (2, 3), list(reversed(envs))) == first
    assert _checked(tmp_path, (2, 3), envs) == first
    assert sorted(_checked(tmp_path, (2, 3))) == sorted(first)
    inner = tmp_path / "model-deployments"
    assert sorted(_checked(tmp_path, (2, 3), [".."], cwd=inner / "dev")) == sorted(first)
    absolute = [str(tmp_path / e) for e in envs]
    assert sorted(_checked(tmp_path, (2, 3), absolute, cwd=Path("/"))) == sorted(first)


def test_duplicates_are_found_across_shards(tmp_path: Path) -> None:
    _repo(tmp_path, 6)
    twin = tmp_path / "model-deployments" / "dev" / "model-000-copy" / "config.yaml"
    twin.parent.mkdir()
    twin.write_text((tmp_path / "model-deployments/dev/model-000/config.yaml").read_text())
    whole = pipeline.validate([], pipeline.Options(), tmp_path)
    assert {d.rule for d in whole.diagnostics} == {"duplicate-deployment", "directory-name"}
    duplicates = [d for d in whole.diagnostics if d.rule == "duplicate-deployment"]
    assert len(duplicates) == 1
    per_shard = []
    for index in (1, 2, 3):
        result = pipeline.validate([], pipeline.Options(shard=(index, 3)), tmp_path)
        per_shard += [d for d in result.diagnostics if d.rule == "duplicate-deployment"]
    assert per_shard == duplicates  # reported once, by the shard holding that config
    twin_shard = next(i for i in (1, 2, 3)
                      if "model-deployments/dev/model-000-copy/config.yaml" in _checked(tmp_path, (i, 3)))
    original_shard = next(i for i in (1, 2, 3)
                          if "model-deployments/dev/model-000/config.yaml" in _checked(tmp_path, (i, 3)))
    assert twin_shard != original_shard  # the check did cross shards


def test_parse_shard() -> None:
    assert sharding.parse_shard("2/4") == (2, 4)
    assert sharding.parse_shard(" 1 / 1 ") == (1, 1)
    for bad in ("0/4", "5/4", "1/0", "2", "a/b", "-1/2"):
        with pytest.raises(ToolError):
            sharding.parse_shard(bad)


def test_cli_shards(tmp_path: Path, run_cli: RunCli) -> None:
    everything = _repo(tmp_path, 8)
    seen = []
    for index in (1, 2):
        proc = run_cli(["validate", "--shard", f"{index}/2", "--format", "json"], cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
        seen.append(json.loads(proc.stdout)["files_checked"])
    assert seen == [4, 4]
    rendered = []
    for index in (1, 2):
        proc = run_cli(["render", "--shard", f"{index}/2", "-o", str(tmp_path / "out")], cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
        rendered.append(sorted(os.listdir(tmp_path / "out" / "dev")))
    assert len(list((tmp_path / "out").rglob("*.yaml"))) == len(everything)
    bad = run_cli(["validate", "--shard", "3/2"], cwd=tmp_path)
    assert bad.returncode == 2
    assert "--shard 3/2" in bad.stderr
