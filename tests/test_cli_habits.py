"""The CLI fits the habits of its users, through the real CLI (and the real helm).

- every usage error exits 2 with one line naming the fix, whatever the command (a mistyped
  deployment, the same environment twice, `-o json` meant as a format, conflicting options);
- `--color auto|always|never`, NO_COLOR and FORCE_COLOR, no colour in a pipe by default;
- `-q/--quiet` prints only problems (and the product: manifests, reports); a one-line
  summary on success otherwise, never inside a machine format;
- every command's `--help` (including commands added later: the parser is walked) has
  help for each argument, examples, the docs and the exit codes;
- `completion bash|zsh|fish` completes every subcommand and option of the parser.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import REPO_ROOT, RunCli, make_gitops
from modeldeploy.cli import build_parser

GIT = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
JUKEBOX = "model-deployments/test/jukebox/config.yaml"
ESC = "\x1b["


@pytest.fixture
def gitops(tmp_path: Path) -> Path:
    repo = make_gitops(tmp_path, [])
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    subprocess.run([*GIT, "add", "-A"], cwd=repo, check=True)
    subprocess.run([*GIT, "commit", "-q", "-m", "base"], cwd=repo, check=True)
    return repo


def _commands(parser: argparse.ArgumentParser, words: tuple[str, ...] = ()) -> Iterator[
        tuple[tuple[str, ...], argparse.ArgumentParser]]:
    yield words, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _commands(sub, (*words, name))


COMMANDS = [words for words, _ in _commands(build_parser())]


# --- usage errors: exit 2, one line, the fix -----------------------------------------------------

@pytest.mark.parametrize(("args", "fix"), [
    pytest.param(["release", "jukebox", "--from", "test", "--to", "test"],
                 "--from and --to are both 'test': name the environment to copy from and another",
                 id="release-same-env"),
    pytest.param(["status", "test/nope"], "no deployment test/nope (existing: prod/jukebox, test/jukebox)",
                 id="status-unknown-deployment"),
    pytest.param(["status", "tset"], "no environment tset; did you mean test?", id="status-unknown-env"),
    pytest.param(["canary", "set", "test/jukbox", "50"],
                 "no deployment test/jukbox; did you mean test/jukebox?",
                 id="canary-unknown-deployment"),
    pytest.param(["release", "jukebox", "--from", "test", "--to", "staging"], "no deployment staging/jukebox",
                 id="release-unknown-target"),
    pytest.param(["canary", "set", "test/jukebox", "101"], "'101' is not a percent from 0 to 100",
                 id="percent"),
    pytest.param(["release", "jukebox", "--from", "test", "--to", "prod", "--canary", "-1"],
                 "--canary", id="release-percent"),
    pytest.param(["render", "-o", "json"],
                 "argument -o/--output-dir: -o is the folder to write manifests into; for a report format "
                 "use --format json (a folder really named so: -o ./json)", id="render-o-json"),
    pytest.param(["render", "--output-dir=SARIF"], "use --format sarif", id="render-output-dir-sarif"),
    pytest.param(["validate", "-o", "json"], "unrecognized arguments: -o (modeldeploy validate spells it "
                 "--format FORMAT; see modeldeploy validate --help)", id="validate-o"),
    pytest.param(["status", "--output", "json"], "modeldeploy status spells it --format FORMAT",
                 id="status-output"),
    pytest.param(["diff", "--base", "HEAD", "--no-color"], "modeldeploy diff spells it --color never",
                 id="no-color"),
    pytest.param(["diff", "--base", "HEAD", "--head", "HEAD"],
                 "--base and --head are both 'HEAD': nothing to "
                 "compare (leave out --head to compare with the working tree)", id="diff-same-refs"),
    pytest.param(["diff", "--base", "no-such-ref"], "--base no-such-ref: no such commit",
                 id="diff-unknown-ref"),
    pytest.param(["diff", "--base", "HEAD", "--head", "head:"], "--head head:: no such commit",
                 id="diff-ref-with-colon"),
    pytest.param(["diff"], "the following arguments are required: --base (see modeldeploy diff --help)",
                 id="diff-no-base"),
    pytest.param(["render", "--api-versions", "monitoring.coreos.com/ v1"], "--api-versions "
                 "'monitoring.coreos.com/ v1': expected VERSION, GROUP/VERSION or GROUP/VERSION/KIND",
                 id="api-versions"),
    pytest.param(["install-helm", "--major", "3", "--version", "4.2.3"], "argument --version: not allowed "
                 "with argument --major", id="install-helm-conflict"),
    pytest.param(["validate", "--color", "sometimes"], "argument --color: invalid choice: 'sometimes'",
                 id="color-choice"),
    pytest.param(["completion", "tcsh"], "argument SHELL: invalid choice: 'tcsh'", id="completion-shell"),
])
def test_usage_errors_exit_2_with_one_line_naming_the_fix(run_cli: RunCli, gitops: Path, args: list[str],
                                                          fix: str) -> None:
    before = {p: p.read_bytes() for p in (gitops / "model-deployments").rglob("*") if p.is_file()}
    result = run_cli(args, cwd=gitops)
    assert result.returncode == 2, result.stdout + result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("modeldeploy: error: ")]
    assert len(errors) == 1, result.stderr
    assert fix in errors[0]
    assert "Traceback" not in result.stderr
    assert {p: p.read_bytes() for p in (gitops / "model-deployments").rglob("*") if p.is_file()} == before
    assert not (gitops / "json").exists() and not (gitops / "SARIF").exists()


def test_render_writes_a_folder_named_like_a_format_when_asked_plainly(run_cli: RunCli, gitops: Path) -> None:
    result = run_cli(["render", "-o", "./json", JUKEBOX], cwd=gitops)
    assert result.returncode == 0, result.stderr
    assert (gitops / "json" / "test" / "jukebox.yaml").is_file()
    again = run_cli(["render", "-o", "json", JUKEBOX], cwd=gitops)  # now an existing folder: no mistake
    assert again.returncode == 0, again.stderr


# --- colour ---------------------------------------------------------------------------------------

@pytest.fixture
def invalid_repo(gitops: Path) -> Path:
    config = gitops / JUKEBOX
    config.write_text(config.read_text().replace("version: 4562a17c17", "version: 1234e56"))
    return gitops


@pytest.mark.parametrize(("args", "env", "colored"), [
    ([], {}, False),  # a pipe, not a terminal
    ([], {"FORCE_COLOR": "1"}, True),
    ([], {"NO_COLOR": "1", "FORCE_COLOR": "1"}, False),  # NO_COLOR wins over FORCE_COLOR
    ([], {"FORCE_COLOR": ""}, False),  # set but empty: as if unset
    (["--color", "always"], {"NO_COLOR": "1"}, True),  # the option wins over both variables
    (["--color", "never"], {"FORCE_COLOR": "1"}, False),
    (["--color=always"], {}, True),
])
def test_color_follows_the_option_then_no_color_then_force_color(run_cli: RunCli, invalid_repo: Path,
                                                                  args: list[str], env: dict[str, str],
                                                                  colored: bool) -> None:
    result = run_cli(["validate", *args, "--format", "text"], cwd=invalid_repo,
                     env={"NO_COLOR": "", "FORCE_COLOR": "", **env})
    assert result.returncode == 1
    assert "[yaml-implicit-type]" in result.stdout
    assert (ESC in result.stdout) is colored
    if colored:
        assert f"{JUKEBOX}:5:10: {ESC}1;31merror{ESC}0m: " in result.stdout


def test_diff_text_is_coloured_when_forced(run_cli: RunCli, invalid_repo: Path) -> None:
    config = invalid_repo / "model-deployments" / "prod" / "jukebox" / "config.yaml"
    config.write_text(config.read_text().replace("version: 4562a17c17", "version: 5a0c9e1f3b"))
    plain = run_cli(["diff", "--base", "HEAD", "model-deployments/prod"], cwd=invalid_repo)
    forced = run_cli(["diff", "--base", "HEAD", "model-deployments/prod"], cwd=invalid_repo,
                     env={"FORCE_COLOR": "1"})
    assert plain.returncode == forced.returncode == 0, plain.stderr
    assert ESC not in plain.stdout and f"{ESC}32m+" in forced.stdout


# --- quiet and the summary line ------------------------------------------------------------------

def test_success_prints_a_one_line_summary_on_stderr(run_cli: RunCli, gitops: Path) -> None:
    validate = run_cli(["validate"], cwd=gitops)
    assert (validate.returncode, validate.stdout, validate.stderr) == (0, "", "2 configs valid\n")
    render = run_cli(["render", JUKEBOX], cwd=gitops)
    assert render.returncode == 0 and "kind: InferenceService" in render.stdout
    assert render.stderr.startswith("1 config valid; 1 deployment rendered with helm v4.")
    assert render.stderr.endswith(" and checked\n") and render.stderr.count("\n") == 1
    written = run_cli(["render", "-o", "rendered"], cwd=gitops)
    assert " 2 deployments rendered into rendered with helm " in written.stderr
    status = run_cli(["status"], cwd=gitops)
    assert status.stderr == "2 deployments in 2 environments: all valid\n"
    diff = run_cli(["diff", "--base", "HEAD", "--format", "markdown"], cwd=gitops)
    assert diff.stderr == "HEAD -> working tree: 0 deployments changed (+0 -0 lines), 0 re-rendered " \
                          "without changes\n"


def test_failure_summary_counts_the_problems(run_cli: RunCli, invalid_repo: Path) -> None:
    result = run_cli(["validate"], cwd=invalid_repo)
    assert result.returncode == 1
    assert result.stderr == "2 configs checked: 1 error\n"


@pytest.mark.parametrize("command", ["validate", "render", "status", "diff"])
def test_no_summary_inside_a_machine_format(run_cli: RunCli, gitops: Path, command: str) -> None:
    extra = ["--base", "HEAD"] if command == "diff" else []
    result = run_cli([command, *extra, "--format", "json"], cwd=gitops)
    assert result.returncode == 0, result.stderr
    json.loads(result.stderr if command == "render" else result.stdout)  # one document, nothing else
    if command != "render":
        assert result.stderr == ""


@pytest.mark.parametrize("where", ["before", "after"])
def test_quiet_prints_only_problems(run_cli: RunCli, gitops: Path, where: str) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return run_cli(["-q", *args] if where == "before" else [*args, "--quiet"], cwd=gitops)

    assert (run("validate").returncode, run("validate").stdout, run("validate").stderr) == (0, "", "")
    render = run("render", JUKEBOX)
    assert render.returncode == 0 and render.stderr == "" and "kind: InferenceService" in render.stdout
    status = run("status")
    assert status.stderr == "" and status.stdout.startswith("ENV ")
    edit = run("canary", "set", "test/jukebox", "50")
    assert (edit.returncode, edit.stdout, edit.stderr) == (0, "", "")
    assert "trafficPercent: 50" in (gitops / JUKEBOX).read_text()
    config = gitops / JUKEBOX
    config.write_text(config.read_text().replace("version: 4562a17c17", "version: 1234e56"))
    failed = run("validate")
    assert failed.returncode == 1 and "[yaml-implicit-type]" in failed.stdout and failed.stderr == ""


# --- help ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("words", COMMANDS, ids=lambda words: " ".join(words) or "modeldeploy")
def test_every_help_has_argument_help_examples_docs_and_exit_codes(run_cli: RunCli, words: tuple[str, ...]
                                                                   ) -> None:
    parser = dict(_commands(build_parser()))[words]
    undocumented = [action.dest for action in parser._actions
                    if not action.help and not isinstance(action, argparse._SubParsersAction)]
    assert undocumented == [], f"modeldeploy {' '.join(words)}: no help for {undocumented}"
    result = run_cli([*words, "--help"])
    assert result.returncode == 0, result.stderr
    text = " ".join(result.stdout.split())
    assert "\nexamples:\n  " in result.stdout and "modeldeploy " in result.stdout.split("\nexamples:\n")[1]
    assert "exit codes: 0 ok; 1 problems found in the checked files; 2 usage or environment error" in text
    assert "3 internal error (a bug in modeldeploy" in text
    assert "docs: README.md and docs/" in text
    assert "--color {auto,always,never}" in text and "-q, --quiet" in text
    description = parser.description or ""
    assert description and " ".join(description.split())[:40] in text


def test_jobs_help_says_what_each_command_runs(run_cli: RunCli) -> None:
    validate = " ".join(run_cli(["validate", "--help"]).stdout.split())
    # argparse prints `--jobs N, -j N` before Python 3.13 and `--jobs, -j N` from 3.13 on
    jobs_help = re.split(r"--jobs(?: N)?, -j N ", validate)[1].split(" --shard")[0]
    assert jobs_help.startswith("config-checking processes at once") and "helm" not in jobs_help
    assert "helm processes at once" in " ".join(run_cli(["render", "--help"]).stdout.split())


# --- completion ----------------------------------------------------------------------------------

def _bash_complete(run_cli: RunCli, tmp_path: Path, words: list[str]) -> list[str]:
    script = tmp_path / "modeldeploy.bash"
    script.write_text(run_cli(["completion", "bash"]).stdout)
    quoted = " ".join(f"'{w}'" for w in words)
    probe = (f"source {script}\nCOMP_WORDS=({quoted})\nCOMP_CWORD={len(words) - 1}\n"
             "_modeldeploy_complete\nprintf '%s\\n' \"${COMPREPLY[@]}\"\n")
    result = subprocess.run(["bash", "--norc", "-c", probe], capture_output=True, text=True, cwd=tmp_path,
                            timeout=30)
    assert result.returncode == 0, result.stderr
    return [line for line in result.stdout.splitlines() if line]


def test_bash_completion_walks_the_parser(run_cli: RunCli, tmp_path: Path) -> None:
    subcommands = [words[0] for words in COMMANDS if len(words) == 1]
    assert _bash_complete(run_cli, tmp_path, ["modeldeploy", ""]) == subcommands
    assert _bash_complete(run_cli, tmp_path, ["modeldeploy", "canary", ""]) == ["set", "promote", "rollback"]
    assert _bash_complete(run_cli, tmp_path, ["modeldeploy", "render", "--format", ""]) == \
        ["auto", "text", "json", "github", "sarif", "codequality"]
    assert _bash_complete(run_cli, tmp_path, ["modeldeploy", "-q", "diff", "--base", "x", "--for"]) == \
        ["--format"]
    assert "--dry-run" in _bash_complete(run_cli, tmp_path, ["modeldeploy", "canary", "set", "--"])
    assert _bash_complete(run_cli, tmp_path, ["modeldeploy", "completion", ""]) == ["bash", "zsh", "fish"]
    (tmp_path / "model-deployments").mkdir()
    assert _bash_complete(run_cli, tmp_path, ["modeldeploy", "validate", "model-dep"]) == \
        ["model-deployments"]


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_every_shell_script_names_every_subcommand_and_option(run_cli: RunCli, shell: str) -> None:
    result = run_cli(["completion", shell])
    assert result.returncode == 0 and result.stderr == ""
    parser = dict(_commands(build_parser()))
    for words in COMMANDS:
        assert all(word in result.stdout for word in words)
        for action in parser[words]._actions:
            for flag in action.option_strings:
                spelled = flag if shell != "fish" else (f"-l {flag[2:]}" if flag.startswith("--")
                                                        else f"-s {flag[1:]}")
                assert spelled in result.stdout, (words, flag)
    if shell == "bash" or (shell == "zsh" and shutil.which("zsh")):
        syntax = subprocess.run([shell, "-n"], input=result.stdout, capture_output=True, text=True)
        assert syntax.returncode == 0, syntax.stderr


# --- helm is told about the cluster as Argo CD tells it ------------------------------------------

PROBE_CHART = REPO_ROOT / "tests" / "data" / "capabilities-chart"


@pytest.fixture
def probe_repo(gitops: Path) -> Path:
    """Seven deployments of the capabilities chart (enough to be rendered in batches)."""
    shutil.copytree(PROBE_CHART, gitops / "charts" / "probe")
    for index in range(7):  # the deployment contract alone: the chart reads no values
        config = gitops / "model-deployments" / "test" / f"probe{index}" / "config.yaml"
        config.parent.mkdir()
        config.write_text(f"chart_path: charts/probe\nname: probe{index}\nversion: 4562a17c17\n")
    subprocess.run([*GIT, "add", "-A"], cwd=gitops, check=True)
    subprocess.run([*GIT, "commit", "-q", "-m", "probes"], cwd=gitops, check=True)
    return gitops


def _capabilities(manifests: str) -> list[tuple[str, str, str]]:
    found = []
    for document in manifests.split("\n---\n"):
        fields = dict(line.strip().split(": ", 1) for line in document.splitlines()
                      if line.startswith("  ") and ": " in line)
        if "kubeVersion" in fields:
            found.append((fields["kubeVersion"], fields["monitoringV1"], fields["serviceMonitor"]))
    return found


@pytest.mark.parametrize("paths", [["model-deployments/test/probe3/config.yaml"], ["model-deployments/test"]],
                         ids=["one", "batched"])
def test_render_passes_kube_version_and_api_versions_to_helm(run_cli: RunCli, helm_bin: Path,
                                                             probe_repo: Path, paths: list[str]) -> None:
    count = len(paths) if paths[0].endswith(".yaml") else 7
    default = run_cli(["render", *paths], cwd=probe_repo, helm=helm_bin)
    assert default.returncode == 0, default.stderr
    assert _capabilities(default.stdout) == [('"v1.35.0"', '"false"', '"false"')] * count
    told = run_cli(["render", *paths, "--kube-version", "1.33.0", "--api-versions",
                    "monitoring.coreos.com/v1,monitoring.coreos.com/v1/ServiceMonitor"], cwd=probe_repo,
                   helm=helm_bin)
    assert told.returncode == 0, told.stderr
    assert _capabilities(told.stdout) == [('"v1.33.0"', '"true"', '"true"')] * count
    repeated = run_cli(["render", *paths, "-a", "monitoring.coreos.com/v1", "--kubernetes-version", "1.34.0"],
                       cwd=probe_repo, helm=helm_bin)
    assert _capabilities(repeated.stdout) == [('"v1.34.0"', '"true"', '"false"')] * count


def test_diff_renders_both_sides_with_the_clusters_versions(run_cli: RunCli, probe_repo: Path) -> None:
    config = probe_repo / "model-deployments" / "test" / "probe0" / "config.yaml"
    config.write_text(config.read_text().replace("version: 4562a17c17", "version: 5a0c9e1f3b"))
    args = ["diff", "--base", "HEAD", "--format", "json", "model-deployments/test/probe0"]
    plain = json.loads(run_cli(args, cwd=probe_repo).stdout)
    told = json.loads(run_cli([*args, "--kube-version", "1.33.0", "-a", "monitoring.coreos.com/v1"],
                              cwd=probe_repo).stdout)
    plain_text = json.dumps(plain)
    told_text = json.dumps(told)
    # the diff shows the objects re-serialised: kubeVersion and monitoringV1 are context lines
    assert "kubeVersion: v1.35.0" in plain_text and "monitoringV1: 'false'" in plain_text
    assert "v1.33.0" not in plain_text
    assert "kubeVersion: v1.33.0" in told_text and "monitoringV1: 'true'" in told_text
