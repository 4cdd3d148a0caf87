"""Charts in another repository: every command that checks configs finds them.

The layout the README describes: a GitOps repo of configs, the chart in a checkout of a
charts repository. `validate`, `render`, `diff`, `status`, `canary set|promote|rollback`
and `release` all take `--charts-root DIR` and MODELDEPLOY_CHARTS_ROOT (one config-checking
core, checks/deployments.py); without either, the chart-path message says how to point at
the charts. Before the core was shared, `status` marked every deployment invalid and the
rollout commands refused, while `validate` passed.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import REPO_ROOT, RunCli

CONFIG = "model-deployments/test/jukebox/config.yaml"
PROD_CONFIG = "model-deployments/prod/jukebox/config.yaml"
GIT = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]


@pytest.fixture
def repos(tmp_path: Path) -> tuple[Path, Path]:
    """(the GitOps repo, holding no chart, one commit; the charts repository checkout)."""
    charts = tmp_path / "charts-repo"
    shutil.copytree(REPO_ROOT / "charts", charts / "charts")
    gitops = tmp_path / "gitops"
    shutil.copytree(REPO_ROOT / "model-deployments", gitops / "model-deployments")
    prod = gitops / PROD_CONFIG  # a new version to release from test: one tested in test first
    test = gitops / CONFIG
    test.write_text(test.read_text().replace("version: 4562a17c17", "version: 5a0c9e1f3b"))
    subprocess.run(["git", "init", "-q", str(gitops)], check=True)
    subprocess.run([*GIT, "add", "-A"], cwd=gitops, check=True)
    subprocess.run([*GIT, "commit", "-q", "-m", "base"], cwd=gitops, check=True)
    assert "5a0c9e1f3b" not in prod.read_text()
    return gitops, charts


def _how(how: str, charts: Path) -> tuple[list[str], dict[str, str]]:
    """(extra arguments, extra environment) that point at the charts."""
    if how == "option":
        return ["--charts-root", str(charts)], {}
    return [], {"MODELDEPLOY_CHARTS_ROOT": str(charts)}


@pytest.mark.parametrize("how", ["option", "variable"])
def test_every_command_that_checks_configs_finds_the_charts(run_cli: RunCli, repos: tuple[Path, Path],
                                                            how: str) -> None:
    gitops, charts = repos
    args, env = _how(how, charts)

    def run(*command: str) -> subprocess.CompletedProcess[str]:
        return run_cli([*command, *args], cwd=gitops, env=env)

    validate = run("validate")
    assert (validate.returncode, validate.stdout, validate.stderr) == (0, "", "2 configs valid\n")
    render = run("render", CONFIG)
    assert render.returncode == 0, render.stderr
    assert "kind: InferenceService" in render.stdout
    status = run("status", "--format", "json")
    assert status.returncode == 0, status.stdout
    document = json.loads(status.stdout)
    assert document["invalid"] == 0
    assert [(d["env"], d["valid"], d["error"]) for d in document["deployments"]] == [
        ("prod", True, None), ("test", True, None)]

    set_canary = run("canary", "set", "test/jukebox", "30")
    assert set_canary.returncode == 0, set_canary.stderr
    assert "trafficPercent: 30 " in (gitops / CONFIG).read_text()
    diff = run("diff", "--base", "HEAD", "--format", "json")
    assert diff.returncode == 0, diff.stderr
    summary = [s["text"] for d in json.loads(diff.stdout)["deployments"] for s in d["summary"]]
    assert "canary traffic 20% -> 30%" in summary
    rollback = run("canary", "rollback", "test/jukebox")
    assert rollback.returncode == 0, rollback.stderr
    assert "trafficPercent: 0 " in (gitops / CONFIG).read_text()
    promote = run("canary", "promote", "test/jukebox", "--force")  # a rolled-back canary: --force
    assert promote.returncode == 0, promote.stderr
    assert "canary" not in (gitops / CONFIG).read_text()
    # prod's example rollout policy: a canary of at most 20% for a new version
    release = run("release", "jukebox", "--from", "test", "--to", "prod", "--canary", "20")
    assert release.returncode == 0, release.stderr
    assert "version: 5a0c9e1f3b\n" in (gitops / PROD_CONFIG).read_text()


CHART_PATH_HINT = ("or, if the charts live in another repository, point at its checkout with --charts-root "
                   "DIR or MODELDEPLOY_CHARTS_ROOT [chart-path]")


def test_without_the_charts_every_command_says_how_to_point_at_them(run_cli: RunCli,
                                                                   repos: tuple[Path, Path]) -> None:
    gitops, _ = repos
    before = (gitops / CONFIG).read_bytes()
    validate = run_cli(["validate", CONFIG], cwd=gitops)
    assert validate.returncode == 1
    assert validate.stdout.startswith(f"{CONFIG}:3:13: error: chart_path 'charts/model-deployment/"
                                      f"music-transformer' names no folder under the charts root {gitops}; ")
    assert validate.stdout.endswith(CHART_PATH_HINT + "\n")
    status = run_cli(["status", "test/jukebox"], cwd=gitops)
    assert status.returncode == 1
    assert status.stdout.splitlines()[-1].endswith(CHART_PATH_HINT)
    canary = run_cli(["canary", "set", "test/jukebox", "30"], cwd=gitops)
    assert canary.returncode == 1
    assert CHART_PATH_HINT in canary.stderr
    assert canary.stderr.splitlines()[-1] == (
        f"modeldeploy: refused: {CONFIG} is invalid; fix it first (`modeldeploy validate` lists the "
        "problems); nothing was changed")
    assert (gitops / CONFIG).read_bytes() == before


@pytest.mark.parametrize("command", [["status"], ["canary", "promote", "test/jukebox"],
                                     ["release", "jukebox", "--from", "test", "--to", "prod"]])
def test_a_charts_root_that_is_no_folder_is_a_usage_error(run_cli: RunCli, repos: tuple[Path, Path],
                                                         command: list[str]) -> None:
    gitops, charts = repos
    by_option = run_cli([*command, "--charts-root", str(charts / "nope")], cwd=gitops)
    assert (by_option.returncode, by_option.stderr) == (
        2, f"modeldeploy: error: --charts-root {charts / 'nope'}: no such directory\n")
    by_variable = run_cli(command, cwd=gitops, env={"MODELDEPLOY_CHARTS_ROOT": str(charts / "nope")})
    assert (by_variable.returncode, by_variable.stderr) == (
        2, f"modeldeploy: error: MODELDEPLOY_CHARTS_ROOT={charts / 'nope'}: no such directory\n")
