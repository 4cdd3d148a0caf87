"""No input can inject lines, terminal escapes or CI workflow commands into the output, and no
output shows content of files outside the repository. Through the real CLI.

Folder names and values come from the user's repository; in the documented GitHub Actions
recipe the output is the job log, where a line starting with `::` (after blanks) is a
workflow command and `##[command]` anywhere in a line a legacy one. Before safe_output.py,
an environment folder named `x<LF>::error file=README.md,line=1::pwned` put that raw command
line into `validate`, `status` and `diff`; a folder named `::notice::x` did it without any
control character (status rows start with the environment's name).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import REPO_ROOT, RunCli, make_gitops

HOSTILE_ENVS = [
    "x\n::error file=README.md,line=1::pwned-lf",
    "y\r::warning::pwned-cr",
    "::notice::pwned-plain",
    "legacy ##[error]pwned",
    "esc\x1b[2J\x1b]0;title\x07",
    "ls\u2028::error::pwned-u2028",
    "tab\t::error::pwned-tab",
    "nel\x85::error::pwned-nel",
]
JUKEBOX = REPO_ROOT / "model-deployments" / "test" / "jukebox" / "config.yaml"
ANNOTATION = re.compile(r"::(error|warning) file=([^,:]*),line=(\d+),col=(\d+),title=([^,:]*)::(.*)")
SECRET = "TOP-SECRET-TOKEN"


def assert_safe(text: str, annotations: bool = False) -> None:
    """Every line printable, none a workflow command (but our own annotations), no legacy command."""
    for line in text.split("\n"):
        assert line.isprintable(), repr(line)
        assert "##[" not in line and not re.search(r"##[A-Za-z]+\[", line), line
        if annotations and line:  # our own workflow commands, with every property escaped
            assert ANNOTATION.fullmatch(line), line
        else:
            assert not line.lstrip().startswith("::"), line


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args], cwd=repo,
                   check=True, capture_output=True)


@pytest.fixture
def hostile(tmp_path: Path) -> Path:
    """A GitOps repo with an environment per hostile name, each holding an invalid jukebox."""
    repo = make_gitops(tmp_path, [])
    text = JUKEBOX.read_text()
    for env in HOSTILE_ENVS:
        config = repo / "model-deployments" / env / "jukebox" / "config.yaml"
        config.parent.mkdir(parents=True)
        # an error that quotes the path, plus a comment with a legacy command in it
        config.write_text(text.replace("version: 4562a17c17", "version: 0123 # ##[error]comment"))
    return repo


@pytest.mark.parametrize("fmt", ["text", "github", "json"])
def test_validate_output_is_safe(run_cli: RunCli, hostile: Path, fmt: str) -> None:
    result = run_cli(["validate", "--format", fmt], cwd=hostile)
    assert result.returncode == 1, result.stderr
    assert_safe(result.stdout, annotations=fmt == "github")
    assert_safe(result.stderr)
    if fmt == "text":
        line = next(n for n, text in enumerate(JUKEBOX.read_text().splitlines(), 1)
                    if text.startswith("version:"))
        assert "model-deployments/x\\n::error file=README.md,line=1::pwned-lf/jukebox/config.yaml:" \
               f"{line}:10: " \
               "error: `version: 0123`" in result.stdout  # one line, the newline visibly escaped
    if fmt == "json":
        paths = {d["path"] for d in json.loads(result.stdout)["diagnostics"]}
        # each config's own error, and each folder name that is no valid namespace (environment-namespace)
        assert {f"model-deployments/{env}/jukebox/config.yaml" for env in HOSTILE_ENVS} <= paths
        assert paths <= {f"model-deployments/{env}{suffix}" for env in HOSTILE_ENVS
                         for suffix in ("/jukebox/config.yaml", "")}


def test_github_annotations_carry_the_escaped_path_as_a_property(run_cli: RunCli, hostile: Path) -> None:
    result = run_cli(["validate", "--format", "github"], cwd=hostile)
    files = set()
    for line in result.stdout.splitlines():
        match = ANNOTATION.fullmatch(line)
        assert match, line
        files.add(match.group(2).replace("%3A", ":").replace("%2C", ",").replace("%25", "%"))
    assert "model-deployments/x\\n::error file=README.md,line=1::pwned-lf/jukebox/config.yaml" in files
    assert "model-deployments/::notice::pwned-plain/jukebox/config.yaml" in files  # %3A-escaped on the line
    configs = {f for f in files if f.endswith("/jukebox/config.yaml")}
    assert len(configs) == len(HOSTILE_ENVS)
    # and each folder, as printed, whose name is no valid namespace (environment-namespace)
    assert files - configs == {f.removesuffix("/jukebox/config.yaml") for f in configs}


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_render_and_status_output_is_safe(run_cli: RunCli, hostile: Path, fmt: str) -> None:
    render = run_cli(["render", "--format", fmt], cwd=hostile)
    assert render.returncode == 1
    assert (render.stdout, "Traceback" in render.stderr) == ("", False)
    assert_safe(render.stderr)
    status = run_cli(["status", "--format", fmt], cwd=hostile)
    assert status.returncode == 1, status.stderr
    assert_safe(status.stdout)
    if fmt == "text":
        rows = status.stdout.splitlines()
        assert len(rows) == 1 + 2 + len(HOSTILE_ENVS)  # header, prod, test, one per hostile folder
        assert len({len(row.split("  jukebox  ")[0]) for row in rows[1:]}) == 1  # still aligned
        assert re.search(r"^\\x3a:notice::pwned-plain +jukebox ", status.stdout, re.MULTILINE)
    else:
        envs = {row["env"] for row in json.loads(status.stdout)["deployments"]}
        assert set(HOSTILE_ENVS) <= envs


@pytest.mark.parametrize("fmt", ["text", "markdown", "json"])
def test_diff_output_is_safe(run_cli: RunCli, hostile: Path, fmt: str) -> None:
    _git(hostile, "add", "-A")
    _git(hostile, "commit", "-qm", "base")
    for config in (hostile / "model-deployments").glob("*/jukebox/config.yaml"):
        config.write_text(config.read_text().replace("version: 0123 # ##[error]comment",
                                                     'version: "0124" # ##[error]comment')
                          .replace("trafficPercent: 20", "trafficPercent: 30"))
    _git(hostile, "commit", "-qam", "head")
    result = run_cli(["diff", "--base", "HEAD~1", "--head", "HEAD", "--format", fmt], cwd=hostile)
    assert result.returncode in (0, 1), result.stderr
    assert "Traceback" not in result.stderr
    assert_safe(result.stdout)
    assert_safe(result.stderr)
    if fmt == "json":
        document = json.loads(result.stdout)
        assert {d["env"] for d in document["deployments"]} >= set(HOSTILE_ENVS)
    if fmt == "markdown":
        table = [line for line in result.stdout.splitlines() if line.startswith("| ")]
        assert all(line.endswith("|") for line in table), table  # no cell broke its row


def test_rollout_output_is_safe(run_cli: RunCli, tmp_path: Path) -> None:
    """Paths outside the working directory are shown whole; a kept comment is quoted in a note."""
    parent = tmp_path / "r\n::error file=README.md::pwned ##[error]x"
    parent.mkdir()
    repo = make_gitops(parent, [])
    config = repo / "model-deployments" / "test" / "jukebox" / "config.yaml"
    config.write_bytes(config.read_bytes().replace(b"# 20% to the latest", b"# ##[error]20 to the latest"))
    for args in (["canary", "set", "test/jukebox", "45", "--dry-run"],
                 ["canary", "set", "test/jukebox", "45"]):
        result = run_cli([*args, "--repo", str(repo)], cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert_safe(result.stdout)
        line = next(n for n, text in enumerate(config.read_text().splitlines(), 1)
                    if "trafficPercent" in text)
        assert f"note: line {line} keeps its comment `# #\\x23[error]20 to the latest" in result.stdout
    unknown = run_cli(["canary", "set", "test/jukebox", "45", "--repo", str(parent / "nope\n::error::x")],
                      cwd=tmp_path)
    assert unknown.returncode == 2
    assert_safe(unknown.stderr)


def test_usage_errors_are_safe(run_cli: RunCli, tmp_path: Path) -> None:
    for args in (["validate", "no\n::error::such"], ["validate", "--jobs", "x\n::error::y"],
                 ["status", "x\r::error::y"], ["diff", "--base", "x\n::error::y"]):
        result = run_cli(args, cwd=tmp_path)
        assert result.returncode == 2, result.stderr
        assert_safe(result.stdout)
        assert_safe(result.stderr)


# --- files outside the repository ---------------------------------------------------------------

@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A file outside the repo whose content would be quoted in messages if it were read."""
    secret = tmp_path / "outside" / "secret.yaml"
    secret.parent.mkdir()
    secret.write_text(f"name: {SECRET}_x\nversion: 0123\n{SECRET}: {SECRET}\n")
    return secret


def _no_secret(*outputs: subprocess.CompletedProcess[str]) -> None:
    for output in outputs:
        assert SECRET not in output.stdout + output.stderr
        assert "Traceback" not in output.stderr


def test_a_config_symlink_out_of_the_repo_is_refused_unread(run_cli: RunCli, tmp_path: Path,
                                                            outside: Path) -> None:
    repo = make_gitops(tmp_path, [])
    config = repo / "model-deployments" / "test" / "jukebox" / "config.yaml"
    config.unlink()
    config.symlink_to(outside)
    results = [run_cli([command, *fmt], cwd=repo) for command in ("validate", "render")
               for fmt in ([], ["--format", "json"], ["--format", "github"])]
    results.append(run_cli(["status"], cwd=repo))
    results.append(run_cli(["canary", "set", "test/jukebox", "30"], cwd=repo))
    _no_secret(*results)
    assert [r.returncode for r in results] == [1] * len(results)
    assert results[0].stdout == (
        f"model-deployments/test/jukebox/config.yaml:1:1: error: is a symbolic link leading outside the "
        f"repository {repo} (to {outside}); modeldeploy reads no file outside it, so its content cannot "
        "show in messages or CI logs: replace the link with a copy of the file, or remove it [io]\n")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "base")
    config.unlink()
    config.write_text(JUKEBOX.read_text())
    _git(repo, "commit", "-qam", "a real file again")
    config.unlink()
    config.symlink_to(outside)  # the working tree links out again
    _no_secret(run_cli(["diff", "--base", "HEAD"], cwd=repo),
               run_cli(["diff", "--base", "HEAD", "--format", "json"], cwd=repo))


def test_an_environment_symlink_out_of_the_repo_is_refused_unread(run_cli: RunCli, tmp_path: Path,
                                                                  outside: Path) -> None:
    repo = make_gitops(tmp_path, [])
    settings = repo / "model-deployments" / "test" / "environment.yaml"
    settings.unlink()
    settings.symlink_to(outside)
    validate, status = run_cli(["validate"], cwd=repo), run_cli(["status"], cwd=repo)
    _no_secret(validate, status)
    assert validate.returncode == 1
    assert validate.stdout.startswith("model-deployments/test/environment.yaml:1:1: error: is a symbolic "
                                      "link leading outside the repository")


def test_a_folder_symlink_out_of_the_repo_is_refused_too(run_cli: RunCli, tmp_path: Path,
                                                         outside: Path) -> None:
    repo = make_gitops(tmp_path, [])
    shutil.copyfile(outside, outside.parent / "config.yaml")
    link = repo / "model-deployments" / "test" / "linked"
    link.symlink_to(outside.parent, target_is_directory=True)
    result = run_cli(["validate", "model-deployments/test/linked/config.yaml"], cwd=repo)
    _no_secret(result)
    assert result.returncode == 1
    assert "is a symbolic link leading outside the repository" in result.stdout


def test_symlinks_inside_the_repo_are_fine(run_cli: RunCli, tmp_path: Path) -> None:
    repo = make_gitops(tmp_path, [])
    shared = repo / "shared" / "jukebox.yaml"
    shared.parent.mkdir()
    config = repo / "model-deployments" / "test" / "jukebox" / "config.yaml"
    shutil.move(config, shared)
    config.symlink_to(Path("../../../shared/jukebox.yaml"))
    result = run_cli(["validate", "--strict"], cwd=repo)
    assert (result.returncode, result.stdout) == (0, ""), result.stdout + result.stderr
