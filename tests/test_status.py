"""`modeldeploy status`: the deployments of a GitOps repo, read from the configs (no cluster)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conftest import ROLLOUT_FIXTURES, RunCli, make_gitops


@pytest.fixture
def gitops(tmp_path: Path) -> Path:
    """A copy of the repo's charts and deployments plus three fixtures in test/, under git."""
    names = ("flow", "raw", "no-newline")
    return make_gitops(tmp_path, [ROLLOUT_FIXTURES / f"{name}.yaml" for name in names])


TABLE = (
    "ENV   NAME        VERSION     CANARY  MODE           NAMESPACE    STATUS\n"
    "prod  jukebox     4562a17c17  -       Serverless     team-a-prod  ok\n"
    "test  flow        4562a17c17  20%     Serverless     team-a-test  ok\n"
    "test  jukebox     4562a17c17  20%     Serverless     team-a-test  ok\n"
    "test  no-newline  4562a17c17  20%     Serverless     team-a-test  ok\n"
    "test  raw         4562a17c17  -       RawDeployment  team-a-test  ok\n"
)


def test_table_of_every_deployment(run_cli: RunCli, gitops: Path) -> None:
    result = run_cli(["status"], cwd=gitops)
    assert (result.returncode, result.stdout, result.stderr) == \
        (0, TABLE, f"{len(TABLE.splitlines()) - 1} deployments in 2 environments: all valid\n")


def test_one_environment_and_one_deployment(run_cli: RunCli, gitops: Path) -> None:
    result = run_cli(["status", "prod"], cwd=gitops / "model-deployments")
    assert result.stdout == ("ENV   NAME     VERSION     CANARY  MODE        NAMESPACE    STATUS\n"
                             "prod  jukebox  4562a17c17  -       Serverless  team-a-prod  ok\n")
    result = run_cli(["status", "test/flow", "--repo", str(gitops)], cwd=gitops.parent)
    assert result.stdout == ("ENV   NAME  VERSION     CANARY  MODE        NAMESPACE    STATUS\n"
                             "test  flow  4562a17c17  20%     Serverless  team-a-test  ok\n")


def test_json(run_cli: RunCli, gitops: Path) -> None:
    result = run_cli(["status", "test/flow", "--format", "json"], cwd=gitops)
    assert result.returncode == 0
    assert json.loads(result.stdout) == {
        "deployments": [{
            "env": "test", "name": "flow", "config": "model-deployments/test/flow/config.yaml",
            "version": "4562a17c17", "canary_percent": 20, "deployment_mode": "Serverless",
            "namespace": "team-a-test", "valid": True, "error": None,
        }],
        "invalid": 0,
    }


def test_invalid_configs_show_their_first_error(run_cli: RunCli, gitops: Path) -> None:
    target = gitops / "model-deployments" / "test" / "invalid" / "config.yaml"
    target.parent.mkdir()
    shutil.copyfile(ROLLOUT_FIXTURES / "invalid.yaml", target)
    result = run_cli(["status", "test"], cwd=gitops)
    assert result.returncode == 1
    row = result.stdout.splitlines()[2]
    assert row.startswith("test  invalid     1234e56     20%     Serverless     team-a-test  invalid: "
                          "line 3: `version: 1234e56` is read by Helm as the number")
    assert row.endswith("[yaml-implicit-type]")
    document = json.loads(run_cli(["status", "test/invalid", "--format", "json"], cwd=gitops).stdout)
    assert document["invalid"] == 1
    error = document["deployments"][0]["error"]
    assert (error["line"], error["rule"], document["deployments"][0]["valid"]) == \
        (3, "yaml-implicit-type", False)


def test_unloadable_config_and_broken_environment(run_cli: RunCli, gitops: Path) -> None:
    (gitops / "model-deployments" / "test" / "flow" / "config.yaml").write_text("name: [flow\n")
    (gitops / "model-deployments" / "prod" / "environment.yaml").write_text("namespace: 42\n")
    result = run_cli(["status"], cwd=gitops)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[1].startswith("prod  jukebox     4562a17c17  -       Serverless     prod         invalid: ")
    assert lines[2].startswith("test  flow        ?           -       ?              team-a-test  invalid: "
                               "line 2: YAML syntax error")


@pytest.mark.parametrize(("selector", "message"), [
    ("tset", "no environment tset; did you mean test? (existing: prod, test)"),
    ("test/jukbox", "no deployment test/jukbox; did you mean test/jukebox?"),
])
def test_unknown_selector(run_cli: RunCli, gitops: Path, selector: str, message: str) -> None:
    result = run_cli(["status", selector], cwd=gitops)
    assert result.returncode == 2  # a usage error: the name typed on the command line
    assert message.replace("test/jukbox;", f"{selector};") in result.stderr


def test_outside_a_repository(run_cli: RunCli, tmp_path: Path) -> None:
    result = run_cli(["status"], cwd=tmp_path)
    assert result.returncode == 2
    assert "not inside a git repository; pass --repo DIR" in result.stderr


def test_one_deployment_is_checked_with_every_other_config(run_cli: RunCli, gitops: Path) -> None:
    """One core (checks/deployments.py): `status ENV/NAME` sees what `validate` of the repository
    sees, a duplicate in another folder and an environment folder that is no namespace included."""
    copy = gitops / "model-deployments" / "test" / "jukebox-copy" / "config.yaml"
    copy.parent.mkdir()
    copy.write_text((gitops / "model-deployments" / "test" / "jukebox" / "config.yaml").read_text())
    one = json.loads(run_cli(["status", "test/jukebox", "--format", "json"], cwd=gitops).stdout)
    assert one["deployments"][0]["error"]["rule"] == "duplicate-deployment"  # jukebox-copy/ sorts first
    bad_env = gitops / "model-deployments" / "Staging.EU" / "jukebox" / "config.yaml"
    bad_env.parent.mkdir(parents=True)
    bad_env.write_text(copy.read_text())
    result = run_cli(["status", "Staging.EU/jukebox", "--format", "json"], cwd=gitops)
    error = json.loads(result.stdout)["deployments"][0]["error"]
    assert (result.returncode, error["path"], error["rule"]) == (
        1, "model-deployments/Staging.EU", "environment-namespace")
