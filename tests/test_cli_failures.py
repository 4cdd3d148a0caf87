"""Failures from outside the code: a clear message and the right exit code, never a traceback,
never a silent pass; and `--format json` prints exactly one JSON document whatever happens.

Through the real CLI. Exit codes: 1 a checked file has a problem (a diagnostic naming it),
2 usage or environment error, 3 a bug (reached here by planting one: a test wrapper
replaces a pipeline function by one that raises), 130 interrupted.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from conftest import REPO_ROOT, UNPRIVILEGED, RunCli, make_gitops
from process_tools import with_ctrl_c

JUKEBOX = Path("model-deployments/test/jukebox/config.yaml")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_gitops(tmp_path, [])


def _one_document(text: str) -> dict[str, Any]:
    """The text is exactly one JSON document (json.loads refuses trailing data)."""
    document: dict[str, Any] = json.loads(text)
    return document


def _json_stream(command: str, result: subprocess.CompletedProcess[str]) -> str:
    """Where the command prints its JSON report: stdout, but stderr for render (stdout: manifests)."""
    if command == "render":
        assert result.stdout == ""
        return result.stderr
    return result.stdout


# --- PATH arguments that yield no config -------------------------------------------------------

@pytest.mark.parametrize("command", ["validate", "render"])
@pytest.mark.parametrize(("make", "path", "detail"), [
    ("empty", "empty", "this folder holds none"),
    ("no-configs", "model-deployments", "this folder holds none"),
    ("dir-named-config", "model-deployments/test/jukebox/config.yaml",
     "model-deployments/test/jukebox/config.yaml is itself a directory, not a file"),
    ("deployment-folder", "model-deployments/test/jukebox",
     "to check the one in this folder, name it: model-deployments/test/jukebox/config.yaml"),
])
def test_a_path_with_no_config_is_exit_2(run_cli: RunCli, repo: Path, command: str, make: str, path: str,
                                         detail: str) -> None:
    if make == "empty":
        (repo / "empty").mkdir()
    elif make == "no-configs":
        for config in (repo / "model-deployments").glob("*/*/config.yaml"):
            config.rename(config.with_name("config.yml.bak"))
    elif make == "dir-named-config":
        (repo / JUKEBOX).unlink()
        (repo / JUKEBOX).mkdir()
    text = run_cli([command, path], cwd=repo)
    assert (text.returncode, text.stdout) == (2, "")
    assert text.stderr == f"modeldeploy: error: no config files under {path}: folders are searched for " \
                          f"<name>/config.yaml; {detail}\n"
    as_json = run_cli([command, path, "--format", "json"], cwd=repo)
    assert as_json.returncode == 2
    document = _one_document(_json_stream(command, as_json))
    assert document["files_checked"] == 0 and document["diagnostics"] == []
    assert document["failure"]["exit_code"] == 2
    assert document["failure"]["message"].startswith(f"no config files under {path}")


def test_a_folder_named_config_yaml_inside_the_tree_is_a_problem_not_skipped(run_cli: RunCli,
                                                                             repo: Path) -> None:
    (repo / JUKEBOX).unlink()
    (repo / JUKEBOX).mkdir()
    result = run_cli(["validate"], cwd=repo)
    assert result.returncode == 1
    assert result.stdout == (f"{JUKEBOX}:1:1: error: a directory, not a regular file; a config must be a "
                             "plain text file [io]\n")
    status = run_cli(["status", "test/jukebox"], cwd=repo)
    assert status.returncode == 1
    assert "invalid: line 1: a directory, not a regular file" in status.stdout


@pytest.mark.parametrize("kind", ["fifo", "socket", "device"])
def test_a_special_file_named_explicitly_is_named_as_such(run_cli: RunCli, tmp_path: Path,
                                                          kind: str) -> None:
    path = tmp_path / "config.yaml"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "socket":
        server = socket.socket(socket.AF_UNIX)
        server.bind(str(path))
        server.close()
    else:
        path = Path("/dev/null")
    result = run_cli(["validate", str(path)], cwd=tmp_path)
    what = {"fifo": "a FIFO (named pipe)", "socket": "a socket", "device": "a character device"}[kind]
    assert result.returncode == 1, result.stderr
    assert result.stdout == (f"{path.relative_to(tmp_path) if kind != 'device' else path}:1:1: error: "
                             f"{what}, not a regular file; a config must be a plain text file [io]\n")


def test_missing_and_dangling_paths_are_exit_2(run_cli: RunCli, tmp_path: Path) -> None:
    (tmp_path / "dangling.yaml").symlink_to(tmp_path / "gone.yaml")
    missing = run_cli(["validate", "nothing-here"], cwd=tmp_path)
    assert (missing.returncode, missing.stderr) == (
        2, "modeldeploy: error: nothing-here: no such file or directory\n")
    dangling = run_cli(["validate", "dangling.yaml"], cwd=tmp_path)
    assert (dangling.returncode, dangling.stderr) == (
        2, f"modeldeploy: error: dangling.yaml: a symbolic link to {tmp_path / 'gone.yaml'}, which does "
           "not exist\n")


# --- OS errors on config files, folders, the cache, user schemas ---------------------------------

def test_an_unreadable_config_is_a_diagnostic(run_cli: RunCli, repo: Path) -> None:
    (repo / JUKEBOX).chmod(0)
    try:
        validate = run_cli(["validate", "--format", "json"], cwd=repo, prefix=UNPRIVILEGED)
        status = run_cli(["status"], cwd=repo, prefix=UNPRIVILEGED)
    finally:
        (repo / JUKEBOX).chmod(0o644)
    assert validate.returncode == 1, validate.stderr
    [diagnostic] = _one_document(validate.stdout)["diagnostics"]
    assert (diagnostic["path"], diagnostic["rule"], diagnostic["message"]) == (
        str(JUKEBOX), "io", "cannot read file: Permission denied")
    assert status.returncode == 1
    assert "invalid: line 1: cannot read file: Permission denied [io]" in status.stdout


@pytest.mark.parametrize("args", [["validate"], ["render"], ["status"],
                                  ["canary", "set", "test/jukebox", "5"]])
def test_an_unreadable_environment_folder_is_exit_2_not_skipped(run_cli: RunCli, repo: Path,
                                                                args: list[str]) -> None:
    folder = repo / "model-deployments" / "test"
    folder.chmod(0)
    try:
        result = run_cli(args, cwd=repo, prefix=UNPRIVILEGED)
    finally:
        folder.chmod(0o755)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Permission denied" in result.stderr and str(folder) in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("cache", ["read-only", "a-file", "home-read-only"])
def test_install_helm_into_an_unwritable_cache_is_exit_2(run_cli: RunCli, tmp_path: Path,
                                                         cache: str) -> None:
    blocked = tmp_path / "blocked"
    if cache == "a-file":
        blocked.write_text("not a folder")
        env = {"MODELDEPLOY_CACHE": str(blocked)}
    else:
        blocked.mkdir(mode=0o555)
        env = ({"MODELDEPLOY_CACHE": str(blocked / "cache")} if cache == "read-only"
               else {"HOME": str(blocked), "XDG_CACHE_HOME": "", "MODELDEPLOY_CACHE": ""})
    start = time.monotonic()
    result = run_cli(["install-helm"], cwd=tmp_path, env=env, prefix=UNPRIVILEGED)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("modeldeploy: error: cannot install helm into the cache ")
    assert str(blocked) in result.stderr
    assert result.stderr.endswith("set MODELDEPLOY_CACHE to a writable folder\n")
    assert time.monotonic() - start < 30  # refused before any download


@pytest.mark.parametrize(("schema", "message"), [
    ("{broken", "not a JSON schema file"),
    ("[1]", "its top level is not an object"),
    ('{"type": 5}', "not a valid JSON schema at type"),
    ('{"$ref": "#/nowhere"}', "a $ref it holds cannot be resolved"),
])
def test_a_broken_user_schema_is_exit_2(run_cli: RunCli, repo: Path, schema: str, message: str) -> None:
    location = repo / "crds" / "serving.kserve.io" / "inferenceservice_v1beta1.json"
    location.parent.mkdir(parents=True)
    location.write_text(schema)
    result = run_cli(["render", "model-deployments/test", "--schema-location",
                      "crds/{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json"], cwd=repo)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.startswith("modeldeploy: error: schema crds/serving.kserve.io/"
                                    "inferenceservice_v1beta1.json: ")
    assert message in result.stderr


# --- one JSON document, whatever the exit code ---------------------------------------------------

@pytest.mark.parametrize(("args", "code", "kind"), [
    (["validate", "--jobs", "0"], 2, "usage"),
    (["validate", "missing"], 2, "error"),
    (["render", "--jobs", "0"], 2, "usage"),
    (["render", "missing"], 2, "error"),
    (["render", "--kubernetes-version", "1"], 2, "error"),
    (["status", "nosuchenv"], 2, "not-found"),
    (["status", "--repo", "missing"], 2, "error"),
    (["diff", "--base", "no-such-ref"], 2, "error"),
    (["diff"], 2, "usage"),
])
def test_json_failures_print_one_document(run_cli: RunCli, repo: Path, args: list[str], code: int,
                                          kind: str) -> None:
    command = args[0]
    for spelling in (["--format", "json"], ["--format=json"], ["--form", "json"]):
        result = run_cli([*args, *spelling], cwd=repo)
        assert result.returncode == code, result.stderr
        document = _one_document(_json_stream(command, result))
        assert document["failure"]["exit_code"] == code
        assert document["failure"]["kind"] == kind
        if command == "render":  # stderr is the report stream: it holds the document alone
            assert result.stderr.startswith("{")
        else:  # people reading the log still see the error on stderr
            assert result.stderr.rstrip().splitlines()[-1] == \
                f"modeldeploy: error: {document['failure']['message']}"
    expected_keys = {"validate": {"files_checked", "errors", "warnings", "diagnostics", "failure"},
                     "render": {"files_checked", "errors", "warnings", "diagnostics", "failure"},
                     "status": {"deployments", "invalid", "failure"},
                     "diff": {"base", "head", "differences", "unchanged", "deployments", "problems",
                              "policy_violations", "failure"}}[command]
    assert set(document) == expected_keys


# A planted bug: the real CLI with one pipeline step replaced by a function that raises.
BUG = """
import sys
import modeldeploy.{module} as target
def broken(*args, **kwargs):
    raise RuntimeError("planted bug\\n::error::not a command")
target.{function} = broken
from modeldeploy.cli import main
sys.exit(main())
"""


@pytest.mark.parametrize(("args", "module", "function"), [
    (["validate"], "commands.pipeline", "validate"),
    (["render"], "commands.pipeline", "render"),
    (["status"], "commands.status", "collect_status"),
    (["diff", "--base", "HEAD"], "commands.diff", "diff"),
])
def test_internal_errors_print_one_json_document_too(repo: Path, args: list[str], module: str,
                                                     function: str) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q",
                    "--allow-empty", "-m", "base"], cwd=repo, check=True)
    code = BUG.format(module=module, function=function)
    env = {k: v for k, v in os.environ.items() if k != "GITHUB_ACTIONS"}
    for fmt in ("json", "text"):
        result = subprocess.run([sys.executable, "-c", code, *args, "--format", fmt], cwd=repo, env=env,
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 3, result.stderr
        if fmt == "json":
            document = _one_document(_json_stream(args[0], result))
            failure = document["failure"]
            assert (failure["exit_code"], failure["kind"]) == (3, "internal")
            assert "RuntimeError: planted bug" in failure["details"]
        else:
            assert "internal error (a bug in modeldeploy" in result.stderr
            assert "RuntimeError: planted bug\n\\x3a:error::not a command" in result.stderr


def test_an_interrupted_run_prints_one_json_document(tmp_path: Path, repo: Path) -> None:
    slow_helm = tmp_path / "slow-helm"
    slow_helm.write_text('#!/bin/sh\n[ "$1" = version ] && { echo v3.18.0; exit 0; }\nexec sleep 60\n')
    slow_helm.chmod(0o755)
    env = {**{k: v for k, v in os.environ.items() if k != "GITHUB_ACTIONS"}, "HELM_BIN": str(slow_helm)}
    process = subprocess.Popen([sys.executable, "-m", "modeldeploy", "render", "--format", "json"], cwd=repo,
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               start_new_session=True, preexec_fn=with_ctrl_c())
    time.sleep(3)  # helm is running
    os.killpg(process.pid, signal.SIGINT)  # Ctrl-C reaches the whole foreground group
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130
    assert out == ""
    assert _one_document(err)["failure"] == {"exit_code": 130, "kind": "interrupted",
                                             "message": "interrupted"}


def test_successful_json_documents_have_no_failure(run_cli: RunCli) -> None:
    result = run_cli(["validate", "--format", "json"], cwd=REPO_ROOT)
    assert result.returncode == 0
    assert "failure" not in _one_document(result.stdout)
