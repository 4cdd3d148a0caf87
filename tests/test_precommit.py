"""The pre-commit hooks of .pre-commit-hooks.yaml, as a GitOps repo that is not this one uses them.

Fast tests: the `files:` pattern against a table of paths, and the CLI behaviour the hooks
rely on (an environment.yaml argument, `.yml` names, MODELDEPLOY_CHARTS_ROOT). The slow one
(marked `network`, it still runs in CI) runs pre-commit for real: `pre-commit try-repo`
against a committed copy of this working tree, then the `.pre-commit-config.yaml` that
docs/pre-commit.md tells users to write, in a fresh sample GitOps repository.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from conftest import REPO_ROOT, RunCli

HOOKS = {hook["id"]: hook for hook in yaml.safe_load((REPO_ROOT / ".pre-commit-hooks.yaml").read_text())}
GOOD_CONFIG = (REPO_ROOT / "tests/data/good-configs/quoted-sha/model-deployments/test/jukebox/config.yaml"
               ).read_text()
BAD_LINE = ("model-deployments/test/bad/config.yaml:3:10: error: `version: 1234e56` is read by Helm as the "
            "number 1.234e+59, not the text \"1234e56\"; quote it: version: \"1234e56\" [yaml-implicit-type]")


@pytest.mark.parametrize(("path", "matched"), [
    ("model-deployments/prod/jukebox/config.yaml", True),
    ("model-deployments/test/jukebox-v2/config.yaml", True),
    ("model-deployments/prod/environment.yaml", True),
    ("teams/a/model-deployments/prod/jukebox/config.yaml", True),  # a GitOps tree below the root
    ("model-deployments/prod/jukebox/config.yml", True),  # matched so the hook can refuse the name
    ("model-deployments/prod/environment.yml", True),
    ("model-deployments/prod/applicationset.yaml", False),
    ("model-deployments/prod/jukebox/values.yaml", False),
    ("model-deployments/config.yaml", False),  # no environment level
    ("model-deployments/environment.yaml", False),
    ("model-deployments/prod/jukebox/extra/config.yaml", False),  # too deep
    ("model-deployments/prod/jukebox/environment.yaml", False),  # an environment file belongs one up
    ("model-deployments/prod/jukebox/config.yaml.bak", False),
    ("model-deployments/prod/jukebox/Config.yaml", False),
    ("model-deployments/prod/jukebox/my-config.yaml", False),
    ("my-model-deployments/prod/jukebox/config.yaml", False),
    ("charts/model-deployment/music-transformer/values.yaml", False),
    ("config.yaml", False),
])
def test_files_pattern(path: str, matched: bool) -> None:
    for hook in HOOKS.values():
        # pre-commit applies `files` with re.search to the path relative to the repo root
        assert bool(re.search(hook["files"], path)) is matched, (hook["id"], path)


def test_hook_definitions() -> None:
    assert set(HOOKS) == {"modeldeploy-validate", "modeldeploy-render"}
    for hook_id, command in (("modeldeploy-validate", "validate"), ("modeldeploy-render", "render")):
        hook = HOOKS[hook_id]
        assert hook["entry"] == f"modeldeploy {command}"
        assert hook["language"] == "python"
        assert hook.get("pass_filenames", True) is True
        assert hook["require_serial"] is True  # one process sees all files: duplicate-deployment
    assert HOOKS["modeldeploy-validate"]["files"] == HOOKS["modeldeploy-render"]["files"]


def _gitops(root: Path, charts: bool = True) -> Path:
    """A sample GitOps repo: one good config, an environment.yaml, the chart (unless charts=False)."""
    (root / "model-deployments/test/jukebox").mkdir(parents=True)
    (root / "model-deployments/test/jukebox/config.yaml").write_text(GOOD_CONFIG)
    (root / "model-deployments/test/environment.yaml").write_text("namespace: team-a-test\n")
    if charts:
        shutil.copytree(REPO_ROOT / "charts", root / "charts")
    _git(root, "init", "-q", "-b", "main")
    _commit(root, "sample GitOps repo")
    return root


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


def _commit(cwd: Path, message: str) -> None:
    _git(cwd, "add", "-A")
    _git(cwd, "-c", "user.name=modeldeploy tests", "-c", "user.email=tests@example.com",
         "-c", "commit.gpgsign=false", "commit", "-q", "--allow-empty", "-m", message)


def test_an_environment_yaml_argument_rechecks_its_configs(run_cli: RunCli, tmp_path: Path) -> None:
    repo = _gitops(tmp_path / "gitops")
    (repo / "model-deployments/test/environment.yaml").write_text("namespace: " + "a" * 45 + "\n")
    for command in ("validate", "render"):
        proc = run_cli([command, "model-deployments/test/environment.yaml"], cwd=repo)
        report = proc.stdout if command == "validate" else proc.stderr
        assert proc.returncode == 1, proc.stderr
        # the namespace is valid on its own, but too long for the config's derived host names
        assert "model-deployments/test/jukebox/config.yaml:2:7: error: name 'jukebox' is too long " \
               f"for namespace '{'a' * 45}'" in report
        if command == "render":
            assert proc.stdout == ""  # nothing rendered: the config is invalid in its environment


def test_an_environment_yaml_alone_is_checked(run_cli: RunCli, tmp_path: Path) -> None:
    repo = _gitops(tmp_path / "gitops")
    (repo / "model-deployments/staging").mkdir()
    (repo / "model-deployments/staging/environment.yaml").write_text("namespase: team-a-staging\n")
    proc = run_cli(["validate", "model-deployments/staging/environment.yaml"], cwd=repo)
    assert proc.returncode == 1
    assert proc.stdout == ("model-deployments/staging/environment.yaml:1:1: error: unknown key `namespase` "
                           "at the top level; did you mean `namespace`? [schema-unknown-key]\n")


def test_yml_names_are_refused(run_cli: RunCli, tmp_path: Path) -> None:
    repo = _gitops(tmp_path / "gitops")
    (repo / "model-deployments/test/environment.yml").write_text("namespace: team-a-test\n")
    proc = run_cli(["validate", "model-deployments/test/environment.yml",
                    "model-deployments/test/jukebox/config.yaml"], cwd=repo)
    assert proc.returncode == 1
    assert proc.stdout == ("model-deployments/test/environment.yml:1:1: error: modeldeploy and Argo CD "
                           "read only `environment.yaml`, so this file is ignored: rename it to "
                           "environment.yaml [file-name]\n")


def test_charts_in_another_repository(run_cli: RunCli, tmp_path: Path) -> None:
    repo = _gitops(tmp_path / "gitops", charts=False)
    shutil.copytree(REPO_ROOT / "charts", tmp_path / "charts-repo" / "charts")
    config = "model-deployments/test/jukebox/config.yaml"
    missing = run_cli(["validate", config], cwd=repo)
    assert missing.returncode == 1 and "[chart-path]" in missing.stdout
    by_flag = run_cli(["render", "--charts-root", "../charts-repo", config], cwd=repo)
    assert by_flag.returncode == 0, by_flag.stderr
    by_env = run_cli(["render", config], cwd=repo,
                     env={"MODELDEPLOY_CHARTS_ROOT": str(tmp_path / "charts-repo")})
    assert by_env.returncode == 0, by_env.stderr
    assert by_env.stdout == by_flag.stdout
    wrong = run_cli(["validate", config], cwd=repo, env={"MODELDEPLOY_CHARTS_ROOT": str(tmp_path / "nope")})
    assert wrong.returncode == 2 and "no such directory" in wrong.stderr


# --- pre-commit for real --------------------------------------------------------------------

def _hooks_repo(dest: Path) -> Path:
    """This working tree as pre-commit sees a hooks repository: a git repo with the files committed.
    (/work/main itself is shared and never committed to; this is a throwaway copy.)"""
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                           cwd=REPO_ROOT, check=True, capture_output=True).stdout.decode().split("\0")
    for name in filter(None, files):
        source = REPO_ROOT / name
        if (name.startswith("tests/") and not name.startswith("tests/data/good-configs")) \
                or not (source.is_file() or source.is_symlink()):
            continue  # the hooks need the package, not the test suite
        (dest / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, dest / name, follow_symlinks=False)
    _git(dest, "init", "-q", "-b", "main")
    _commit(dest, "hooks under test")
    return dest


def _pre_commit(args: list[str], cwd: Path, home: Path, helm: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("GITHUB_ACTIONS", "HELM_BIN", "MODELDEPLOY_CHARTS_ROOT", "PRE_COMMIT_HOME")}
    env.update(PRE_COMMIT_HOME=str(home), HELM_BIN=str(helm), PRE_COMMIT_COLOR="never")
    return subprocess.run([sys.executable, "-m", "pre_commit", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=900)


@pytest.mark.network
def test_pre_commit_runs_the_hooks_in_a_gitops_repo(tmp_path: Path, helm4: Path) -> None:
    started = time.perf_counter()
    hooks = _hooks_repo(tmp_path / "hooks")
    repo = _gitops(tmp_path / "gitops")
    home = tmp_path / "pre-commit-home"

    # 1. try-repo, both hooks, a bad config among good ones: fails with our diagnostic line.
    (repo / "model-deployments/test/bad").mkdir()
    (repo / "model-deployments/test/bad/config.yaml").write_text(
        GOOD_CONFIG.replace('"1234e56"', "1234e56").replace("name: jukebox", "name: bad"))
    _git(repo, "add", "-A")
    tried = _pre_commit(["try-repo", str(hooks), "--all-files"], repo, home, helm4)
    assert tried.returncode == 1, tried.stdout + tried.stderr
    assert tried.stdout.count(BAD_LINE) == 2, tried.stdout  # validate and render both report it
    assert re.search(r"modeldeploy validate\.+Failed", tried.stdout)
    assert re.search(r"modeldeploy render \(helm\)\.+Failed", tried.stdout)
    try_repo_seconds = time.perf_counter() - started

    # 2. The .pre-commit-config.yaml of docs/pre-commit.md (installed once, then reused).
    rev = _git(hooks, "rev-parse", "HEAD").strip()
    (repo / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {hooks}\n    rev: {rev}\n    hooks:\n"
        "      - id: modeldeploy-validate\n      - id: modeldeploy-render\n")
    failing = _pre_commit(["run", "--all-files"], repo, home, helm4)
    assert failing.returncode == 1 and BAD_LINE in failing.stdout, failing.stdout + failing.stderr

    shutil.rmtree(repo / "model-deployments/test/bad")
    _commit(repo, "only good configs")
    passing = _pre_commit(["run", "--all-files"], repo, home, helm4)
    assert passing.returncode == 0, passing.stdout + passing.stderr
    assert re.search(r"modeldeploy validate\.+Passed", passing.stdout)
    assert re.search(r"modeldeploy render \(helm\)\.+Passed", passing.stdout)

    # 3. A changed environment.yaml alone re-checks the configs of its environment.
    (repo / "model-deployments/test/environment.yaml").write_text("namespace: " + "a" * 45 + "\n")
    _git(repo, "add", "-A")
    env_only = _pre_commit(["run", "--files", "model-deployments/test/environment.yaml"], repo, home, helm4)
    assert env_only.returncode == 1
    assert "model-deployments/test/jukebox/config.yaml:2:7: error: name 'jukebox' is too long" \
        in env_only.stdout
    print(f"pre-commit: try-repo {try_repo_seconds:.0f} s, all {time.perf_counter() - started:.0f} s")
