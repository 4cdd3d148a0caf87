"""A repository's rule settings (.modeldeploy.yaml) and disable comments: in process, then
through the real CLI for every command that checks configs."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import REPO_ROOT, RunCli
from modeldeploy.checks.settings import FileRules, apply
from modeldeploy.config.settings_file import (
    NO_COMMENTS,
    RepositorySettings,
    read_settings,
    scan_disables,
)
from modeldeploy.diagnostics import Diagnostic, Severity, ToolError
from modeldeploy.rules.registry import RULES

CONFIG = "model-deployments/test/jukebox/config.yaml"
PROD = "model-deployments/prod/jukebox/config.yaml"
HOW = "(the rule settings of .modeldeploy.yaml: docs/rules.md says how to write them)"
WHY = ("the finding means the file could not be read the way Helm reads it, or that nothing can be "
       "rendered, so no other check ran")
MUST_READ = ("a modeldeploy comment must read `# modeldeploy: disable=RULE-ID[,RULE-ID]`; it silences "
             "nothing as written")


def _diagnostic(rule: str, line: int = 3, severity: Severity = Severity.ERROR) -> Diagnostic:
    return Diagnostic("c.yaml", line, 1, severity, "message", rule)


# --- in process ----------------------------------------------------------------------------------

def test_severities_turn_rules_up_down_and_off() -> None:
    settings = RepositorySettings({"mutable-tag": Severity.ERROR, "schema-type": Severity.WARNING,
                                   "directory-name": None})
    got = apply([_diagnostic("mutable-tag", severity=Severity.WARNING), _diagnostic("schema-type"),
                 _diagnostic("directory-name", severity=Severity.WARNING), _diagnostic("yaml-syntax")],
                FileRules(settings, NO_COMMENTS))
    assert [(d.rule, d.severity) for d in got] == [("mutable-tag", Severity.ERROR),
                                                   ("schema-type", Severity.WARNING),
                                                   ("yaml-syntax", Severity.ERROR)]


def test_a_disable_comment_silences_its_rules_on_its_line_only() -> None:
    text = "a: 1\nversion: latest  # modeldeploy: disable=mutable-tag, directory-name\nb: 2\n"
    comments = scan_disables("c.yaml", text, RULES)
    assert (comments.lines, comments.problems) == ({2: frozenset({"mutable-tag", "directory-name"})}, [])
    got = apply([_diagnostic("mutable-tag", 2), _diagnostic("mutable-tag", 3), _diagnostic("schema-type", 2)],
                FileRules(RepositorySettings({}), comments))
    assert [(d.rule, d.line) for d in got] == [("mutable-tag", 3), ("schema-type", 2)]


@pytest.mark.parametrize(("comment", "expected"), [
    ("# modeldeploy: disable=mutable-tagg",
     "unknown rule id `mutable-tagg` in this disable comment; did you mean `mutable-tag`?"),
    ("# modeldeploy: disable=nothing-like-any-id",
     "unknown rule id `nothing-like-any-id` in this disable comment; docs/rules.md lists the rule ids"),
    ("# modeldeploy: disable=yaml-syntax",
     f"`yaml-syntax` cannot be disabled: {WHY}; remove it from this comment"),
    ("# modeldeploy: disabel=mutable-tag", MUST_READ),
    ("# modeldeploy: disable=", MUST_READ),
])
def test_a_disable_comment_that_silences_nothing_says_why(comment: str, expected: str) -> None:
    comments = scan_disables("c.yaml", f"name: x\nversion: latest  {comment}\n", RULES)
    assert comments.lines == {}
    assert [(d.line, d.column, d.rule, d.message) for d in comments.problems] == [
        (2, 33, "disable-comment", expected)]


def test_only_comments_disable() -> None:
    text = 'name: "x#modeldeploy: disable=mutable-tag"\nkey: a#modeldeploy: disable=mutable-tag\n'
    assert scan_disables("c.yaml", text, RULES) == NO_COMMENTS


def _settings(tmp_path: Path, text: str) -> RepositorySettings:
    path = tmp_path / ".modeldeploy.yaml"
    path.write_text(text)
    return read_settings(path, ".modeldeploy.yaml", RULES)


def test_settings_are_read_as_written(tmp_path: Path) -> None:
    settings = _settings(tmp_path, "rules:\n  mutable-tag: error\n  directory-name: off\n"
                                   "  schema-type: warning\n  yaml-syntax: error\n")
    assert settings.severities == {"mutable-tag": Severity.ERROR, "directory-name": None,
                                   "schema-type": Severity.WARNING, "yaml-syntax": Severity.ERROR}
    assert _settings(tmp_path, "# nothing set yet\n").severities == {}


@pytest.mark.parametrize(("text", "expected"), [
    ("rules:\n  mutable-tags: off\n",
     ".modeldeploy.yaml:2:3: unknown key `mutable-tags` in rules; did you mean `mutable-tag`?"),
    ("rules:\n  mutable-tag: warn\n",
     ".modeldeploy.yaml:2:16: `rules.mutable-tag` is `warn`; did you mean `warning`?"),
    ("rules:\n  yaml-syntax: off\n",
     f".modeldeploy.yaml:2:16: `yaml-syntax` cannot be turned off: {WHY}; remove this line"),
    ("rules:\n  chart-path: warning\n",
     f".modeldeploy.yaml:2:15: `chart-path` cannot be turned down: {WHY}; remove this line"),
    ("rule:\n  mutable-tag: off\n",
     ".modeldeploy.yaml:1:1: unknown key `rule` at the top level; did you mean `rules`?"),
    ("rules: [mutable-tag]\n", ".modeldeploy.yaml:1:8: `rules` must be a mapping, not the list; e.g. "
                              "`rules: {mutable-tag: error, directory-name: off}`"),
])
def test_bad_settings_are_a_usage_error_at_their_line(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(ToolError) as raised:
        _settings(tmp_path, text)
    assert str(raised.value) == f"{expected} {HOW}"


# --- through the CLI -----------------------------------------------------------------------------

@pytest.fixture
def repo(tmp_path: Path) -> Path:
    repo = tmp_path / "gitops"
    repo.mkdir()
    shutil.copytree(REPO_ROOT / "charts", repo / "charts")
    shutil.copytree(REPO_ROOT / "model-deployments", repo / "model-deployments")
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    return repo


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def test_severities_apply_to_every_command(run_cli: RunCli, repo: Path) -> None:
    _replace(repo / PROD, "version: 4562a17c17", "version: latest")  # mutable-tag: a warning in prod
    warned = run_cli(["validate", "--format", "json"], cwd=repo)
    assert warned.returncode == 0
    assert [(d["rule"], d["severity"]) for d in json.loads(warned.stdout)["diagnostics"]] == [
        ("mutable-tag", "warning")]
    (repo / ".modeldeploy.yaml").write_text("rules:\n  mutable-tag: error\n")
    for command in (["validate"], ["render"], ["status", "prod/jukebox"]):
        result = run_cli(command, cwd=repo)
        assert result.returncode == 1, (command, result.stdout, result.stderr)
        assert "[mutable-tag]" in result.stdout + result.stderr
    refused = run_cli(["canary", "set", "prod/jukebox", "20"], cwd=repo)
    assert refused.returncode == 1
    assert refused.stderr.splitlines()[-1].startswith(f"modeldeploy: refused: {PROD} is invalid")
    (repo / ".modeldeploy.yaml").write_text("rules:\n  mutable-tag: off\n")
    for command in (["validate", "--strict"], ["render"], ["status", "prod/jukebox"]):
        result = run_cli(command, cwd=repo)
        assert result.returncode == 0, (command, result.stdout, result.stderr)
        assert "mutable-tag" not in result.stdout + result.stderr
    assert run_cli(["canary", "set", "prod/jukebox", "20"], cwd=repo).returncode == 0


def test_a_disable_comment_works_through_the_cli(run_cli: RunCli, repo: Path) -> None:
    _replace(repo / PROD, "version: 4562a17c17", "version: latest  # modeldeploy: disable=mutable-tag")
    assert run_cli(["validate", "--strict"], cwd=repo).stdout == ""
    assert run_cli(["status", "prod/jukebox", "--format", "json"], cwd=repo).returncode == 0
    _replace(repo / PROD, "disable=mutable-tag", "disable=yaml-syntax")
    result = run_cli(["validate"], cwd=repo)
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        f"{PROD}:5:33: error: `yaml-syntax` cannot be disabled: {WHY}; remove it from this comment "
        "[disable-comment]",
        f"{PROD}:5:10: warning: version 'latest' is a mutable tag in the production environment 'prod'; pin "
        "an immutable tag such as the git SHA [mutable-tag]"][::-1]


def test_a_syntax_error_cannot_be_disabled_and_says_so(run_cli: RunCli, repo: Path) -> None:
    _replace(repo / CONFIG, "autoscaling: true", "autoscaling: [true  # modeldeploy: disable=yaml-syntax")
    result = run_cli(["validate", "--format", "json"], cwd=repo)
    assert result.returncode == 1
    rules = [d["rule"] for d in json.loads(result.stdout)["diagnostics"]]
    assert rules == ["disable-comment", "yaml-syntax"]  # the comment's line comes first


def test_settings_of_the_output_apply_to_render(run_cli: RunCli, repo: Path) -> None:
    template = repo / "charts/model-deployment/music-transformer/templates/extra.yaml"
    template.write_text("apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: {{ .Values.name }}\n")
    warned = run_cli(["render", CONFIG], cwd=repo)  # a custom resource nobody gave a schema for
    assert warned.returncode == 0 and "kind: Widget" in warned.stdout
    assert warned.stderr.startswith(f"{CONFIG}:1:1: warning: rendered Widget/jukebox: could not check, no "
                                    "schema for Widget example.com/v1 in modeldeploy's KServe schemas, "
                                    "the Kubernetes 1.35.0 schemas of kubernetes-validate")
    (finding, summary) = warned.stderr.splitlines()
    assert finding.endswith(" [manifest-crd-no-schema]")
    assert summary.startswith("1 config valid, 1 warning; 1 deployment rendered with helm ")
    (repo / ".modeldeploy.yaml").write_text("rules:\n  manifest-crd-no-schema: error\n")
    required = run_cli(["render", CONFIG], cwd=repo)
    assert (required.returncode, required.stdout) == (1, "")
    assert "error: rendered Widget/jukebox" in required.stderr
    (repo / ".modeldeploy.yaml").write_text("rules:\n  manifest-crd-no-schema: off\n")
    silent = run_cli(["render", "-q", CONFIG], cwd=repo)
    assert (silent.returncode, silent.stderr) == (0, "")  # -q: no summary line either


@pytest.mark.parametrize(("api_version", "kind"), [
    ("extensions/v1beta1", "Deployment"),  # removed from Kubernetes
    ("apps/v1", "Deploymnet"),  # a typo
    ("networking.k8s.io/v1", "Ingres"),
    ("serving.kserve.io/v1beta1", "InferenceServce"),
])
def test_a_kind_of_kubernetes_or_kserve_without_schema_is_an_error(run_cli: RunCli, repo: Path,
                                                                  api_version: str, kind: str) -> None:
    template = repo / "charts/model-deployment/music-transformer/templates/extra.yaml"
    template.write_text(f"apiVersion: {api_version}\nkind: {kind}\nmetadata:\n  name: x\n")
    refused = run_cli(["render", CONFIG], cwd=repo)
    assert (refused.returncode, refused.stdout) == (1, "")
    assert f"error: rendered {kind}/x: could not check, no schema for {kind} {api_version}" in refused.stderr
    assert "[manifest-no-schema]" in refused.stderr


def test_an_environment_line_can_be_silenced(run_cli: RunCli, repo: Path) -> None:
    environment = repo / "model-deployments/test/environment.yaml"
    silenced = "owner: team-a  # modeldeploy: disable=schema-unknown-key\n"
    environment.write_text(environment.read_text() + silenced)
    result = run_cli(["status", "test/jukebox", "--format", "json"], cwd=repo)
    assert result.returncode == 0, result.stdout
    assert json.loads(result.stdout)["deployments"][0]["namespace"] == "team-a-test"


def test_bad_settings_stop_every_command(run_cli: RunCli, repo: Path) -> None:
    (repo / ".modeldeploy.yaml").write_text("rules:\n  mutable-tags: off\n")
    message = ("modeldeploy: error: .modeldeploy.yaml:2:3: unknown key `mutable-tags` in rules; did you mean "
               f"`mutable-tag`? {HOW}\n")
    for command in (["validate"], ["status"], ["canary", "promote", "test/jukebox"]):
        result = run_cli(command, cwd=repo)
        assert (result.returncode, result.stderr) == (2, message), command
    as_json = run_cli(["validate", "--format", "json"], cwd=repo)
    assert json.loads(as_json.stdout)["failure"]["kind"] == "error"


def test_diff_checks_each_ref_with_its_own_settings(run_cli: RunCli, repo: Path) -> None:
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    (repo / ".modeldeploy.yaml").write_text("rules:\n  mutable-tag: error\n")
    subprocess.run([*git, "add", "-A"], cwd=repo, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "base"], cwd=repo, check=True)
    _replace(repo / PROD, "version: 4562a17c17", "version: latest")
    subprocess.run([*git, "commit", "-q", "-am", "a mutable tag"], cwd=repo, check=True)
    result = run_cli(["diff", "--base", "HEAD~1", "--head", "HEAD", "--format", "json"], cwd=repo)
    assert result.returncode == 1, result.stderr  # the head's settings make it an error
    assert [(p["side"], p["rule"], p["severity"]) for p in json.loads(result.stdout)["problems"]] == [
        ("head", "mutable-tag", "error")]
