"""`--format sarif` and `--format codequality` through the real CLI, checked against the formats.

SARIF: every output validates against the SARIF 2.1.0 JSON schema, fetched at test time
from a pinned npm package (Microsoft's sarif-js-sdk ships it as sarif-2.1.0-rtm.5.json),
its tarball checked against the pinned npm integrity and the schema file against a pinned
sha256 (nothing third-party is committed). Code Quality: GitLab's documented fields and
types. Both: the same findings as `--format json` (path, line, column, rule, severity) over
the whole bad-input corpus, on validate and render, with stable unique fingerprints.
"""

from __future__ import annotations

import hashlib
import importlib.util
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import jsonschema
import pytest

from conftest import REPO_ROOT, RunCli, helm_path, make_gitops
from modeldeploy.diagnostics import Diagnostic, Severity
from modeldeploy.render import helm_install
from modeldeploy.report import MACHINE_FORMATS, REPORTERS
from modeldeploy.report.codequality import CodeQualityReporter
from modeldeploy.report.sarif import SarifReporter, artifact_uri, rule_catalog


def error(path: str, line: int, column: int, message: str, rule: str) -> Diagnostic:
    """A diagnostic of any rule id, even one no module declares."""
    return Diagnostic(path, line, column, Severity.ERROR, message, rule)


def warning(path: str, line: int, column: int, message: str, rule: str) -> Diagnostic:
    """A diagnostic of any rule id, even one no module declares."""
    return Diagnostic(path, line, column, Severity.WARNING, message, rule)


def _load_script(name: str) -> Any:
    spec = importlib.util.spec_from_file_location(name, REPO_ROOT / "tool" / "scripts" / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(name, module)  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


corpus = _load_script("bad_inputs_table")
rules_doc = _load_script("rules_doc")

SARIF_SCHEMA_PACKAGE = "@microsoft/jest-sarif@1.0.0-beta.0"
SARIF_SCHEMA_INTEGRITY = ("sha512-A1fOhPd6Ic5iDk4F9YPw1qNB4XF+7+IviR7xl8r2F6QzQkx5cpY9LsGk2rExiFIEcBbj"
                          "pVnSmwWGBukASkiQ9A==")
SARIF_SCHEMA_MEMBER = "package/lib/schemas/sarif-2.1.0-rtm.5.json"
SARIF_SCHEMA_SHA256 = "2d99159ae54a3eea97f81781cff48780548657c35949f4b7f25e99a2ba4de4f8"
CODEQUALITY_SEVERITIES = {"info", "minor", "major", "critical", "blocker"}
CASES = corpus.load_cases()
# render prints the same report on stderr (test_bad_configs checks that for text and json):
# a few cases show the plumbing for these formats, warnings-only and errors alike.
RENDER_CASES = ("implicit-float-sha", "mutable-tag-prod", "duplicate-key", "unknown-key-typo")


@pytest.fixture(scope="session")
def sarif_validator() -> jsonschema.Draft4Validator:
    """The SARIF 2.1.0 schema from the pinned npm package, cached once verified."""
    cached = helm_install.cache_dir() / "test-schemas" / f"{SARIF_SCHEMA_SHA256}.json"
    if not (cached.is_file() and hashlib.sha256(cached.read_bytes()).hexdigest() == SARIF_SCHEMA_SHA256):
        tarball = helm_install.npm_pack(SARIF_SCHEMA_PACKAGE, SARIF_SCHEMA_INTEGRITY,
                                        "fetching the SARIF schema for the tests")
        with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as tar:
            member = tar.extractfile(SARIF_SCHEMA_MEMBER)
            assert member is not None, f"{SARIF_SCHEMA_PACKAGE} has no {SARIF_SCHEMA_MEMBER}"
            data = member.read()
        assert hashlib.sha256(data).hexdigest() == SARIF_SCHEMA_SHA256, "the SARIF schema changed"
        cached.parent.mkdir(parents=True, exist_ok=True)
        partial = cached.with_suffix(".tmp")
        partial.write_bytes(data)
        partial.replace(cached)
    schema = json.loads(cached.read_text("utf-8"))
    assert schema["title"].startswith("Static Analysis Results Format (SARIF) Version 2.1.0")
    jsonschema.Draft4Validator.check_schema(schema)
    return jsonschema.Draft4Validator(schema, format_checker=jsonschema.FormatChecker())


@pytest.fixture(scope="session")
def corpus_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str, str], Any]:
    """(case, command, format) -> CompletedProcess for json, sarif and codequality."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("GITHUB_ACTIONS", "HELM_BIN", "MODELDEPLOY_CHARTS_ROOT")}
    env["HELM_BIN"] = str(helm_path("4"))
    jobs = []
    for case in CASES:
        workdir = corpus.materialize(case, tmp_path_factory.mktemp("reports") / case.name)
        for fmt in ("json", "sarif", "codequality"):  # validate's json is the reference
            args = corpus.cli_args(case, workdir, "validate", fmt)
            jobs.append(((case.name, "validate", fmt), workdir, args))
        for fmt in ("sarif", "codequality") if case.name in RENDER_CASES else ():
            jobs.append(((case.name, "render", fmt), workdir, corpus.cli_args(case, workdir, "render", fmt)))

    def run(job: tuple[Any, Path, list[str]]) -> tuple[Any, Any]:
        key, workdir, args = job
        return key, subprocess.run([sys.executable, "-m", "modeldeploy", *args], cwd=workdir, env=env,
                                   capture_output=True, text=True, timeout=120, check=False)

    with ThreadPoolExecutor(max_workers=4) as pool:
        return dict(pool.map(run, jobs))


def _reference(runs: dict, name: str) -> list[tuple[str, int, int, str, str]]:
    document = json.loads(runs[(name, "validate", "json")].stdout)
    return [(d["path"], d["line"], d["column"], d["rule"], d["severity"]) for d in document["diagnostics"]]


def _report(runs: dict, name: str, command: str, fmt: str) -> str:
    proc = runs[(name, command, fmt)]
    assert proc.returncode == runs[(name, "validate", "json")].returncode, proc.stderr
    # validate prints the report on stdout; render keeps stdout for manifests, the report on stderr
    return proc.stdout if command == "validate" else proc.stderr


def _sarif_findings(log: dict[str, Any]) -> list[tuple[str, int, int, str, str]]:
    (run,) = log["runs"]
    rules = run["tool"]["driver"]["rules"]
    found = []
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        (location,) = result["locations"]
        physical = location["physicalLocation"]
        found.append((unquote(physical["artifactLocation"]["uri"]), physical["region"]["startLine"],
                      physical["region"]["startColumn"], result["ruleId"], result["level"]))
    return found


CASE_COMMANDS = [(case.name, "validate") for case in CASES] + [(name, "render") for name in RENDER_CASES]


@pytest.mark.network
@pytest.mark.parametrize(("name", "command"), CASE_COMMANDS)
def test_sarif_is_valid_and_reports_what_json_reports(corpus_runs: dict, sarif_validator: Any,
                                                      name: str, command: str) -> None:
    log = json.loads(_report(corpus_runs, name, command, "sarif"))
    errors = sorted(sarif_validator.iter_errors(log), key=str)
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:5])
    assert log["version"] == "2.1.0"
    assert _sarif_findings(log) == _reference(corpus_runs, name)
    (run,) = log["runs"]
    assert run["columnKind"] == "unicodeCodePoints"
    failure = json.loads(corpus_runs[(name, "validate", "json")].stdout).get("failure")
    if failure is not None:  # nothing could be checked: SARIF says so in its invocation
        (invocation,) = run["invocations"]
        assert invocation["executionSuccessful"] is False and invocation["exitCode"] == failure["exit_code"]
        assert failure["message"] in invocation["toolExecutionNotifications"][0]["message"]["text"]
    else:
        assert "invocations" not in run
    for result in run["results"]:
        assert result["message"]["text"]
        assert len(result["partialFingerprints"]["modeldeploy/v1"]) == 64


def _codequality_findings(issues: list[dict[str, Any]]) -> list[tuple[str, int, str, str]]:
    return [(i["location"]["path"], i["location"]["lines"]["begin"], i["check_name"], i["severity"])
            for i in issues]


@pytest.mark.parametrize(("name", "command"), CASE_COMMANDS)
def test_codequality_has_gitlabs_fields_and_reports_what_json_reports(corpus_runs: dict, name: str,
                                                                       command: str) -> None:
    issues = json.loads(_report(corpus_runs, name, command, "codequality"))
    assert isinstance(issues, list)
    for issue in issues:
        assert isinstance(issue["description"], str) and issue["description"]
        assert isinstance(issue["check_name"], str) and issue["check_name"]
        assert isinstance(issue["fingerprint"], str) and issue["fingerprint"]
        assert issue["severity"] in CODEQUALITY_SEVERITIES
        path = issue["location"]["path"]
        assert isinstance(path, str) and not Path(path).is_absolute()
        begin = issue["location"]["lines"]["begin"]
        assert isinstance(begin, int) and begin >= 1
    assert len({i["fingerprint"] for i in issues}) == len(issues), "fingerprints must be unique"
    severity = {"error": "major", "warning": "minor"}
    assert _codequality_findings(issues) == [(p, line, rule, severity[level])
                                             for p, line, _, rule, level in _reference(corpus_runs, name)]


def test_a_good_render_keeps_manifests_on_stdout_and_an_empty_report_on_stderr(run_cli: RunCli) -> None:
    config = "model-deployments/test/jukebox/config.yaml"
    sarif = run_cli(["render", "--format", "sarif", config])
    assert sarif.returncode == 0, sarif.stderr
    assert "kind: InferenceService" in sarif.stdout
    assert json.loads(sarif.stderr)["runs"][0]["results"] == []
    quality = run_cli(["render", "--format", "codequality", config])
    assert quality.returncode == 0 and json.loads(quality.stderr) == []


@pytest.fixture
def moved_finding_repo(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    config = tmp_path / "model-deployments" / "test" / "jukebox" / "config.yaml"
    config.parent.mkdir(parents=True)
    shutil.copytree(REPO_ROOT / "charts", tmp_path / "charts")
    config.write_text("chart_path: charts/model-deployment/music-transformer\nname: jukebox\n"
                      "version: 1234e56\nimage_repository: registry.example.com\n"
                      "image_namespace: team-a\ntrafficPercen: 20\n")
    yield tmp_path, config


def test_fingerprints_survive_lines_moving(run_cli: RunCli, moved_finding_repo: tuple[Path, Path]) -> None:
    root, config = moved_finding_repo
    args = ["validate", "--format", "codequality", "--charts-root", str(root), "model-deployments"]
    before = json.loads(run_cli(args, cwd=root).stdout)
    assert json.loads(run_cli(args, cwd=root).stdout) == before  # deterministic
    config.write_text("# a comment pushes everything down\n\n" + config.read_text())
    after = json.loads(run_cli(args, cwd=root).stdout)
    assert len(before) == len(after) >= 2
    assert [i["fingerprint"] for i in after] == [i["fingerprint"] for i in before]
    assert [i["location"]["lines"]["begin"] for i in after] == \
        [i["location"]["lines"]["begin"] + 2 for i in before]
    sarif = json.loads(run_cli([*args[:2], "sarif", *args[3:]], cwd=root).stdout)
    assert [r["partialFingerprints"]["modeldeploy/v1"] for r in sarif["runs"][0]["results"]] == \
        [i["fingerprint"] for i in after]


def test_identical_findings_get_distinct_fingerprints() -> None:
    same = [error("a.yaml", 3, 1, "bad", "schema"), error("a.yaml", 9, 1, "bad", "schema")]
    issues = json.loads(CodeQualityReporter().format(same, 1))
    assert len({i["fingerprint"] for i in issues}) == 2


def test_sarif_driver_documents_every_rule_and_unknown_ids() -> None:
    documented = {rule.id for rule in rules_doc.collect_rules()}
    assert set(rule_catalog()) == documented
    log = json.loads(SarifReporter().format([warning("a.yaml", 1, 1, "new", "not-yet-documented")], 1))
    rules = {rule["id"]: rule for rule in log["runs"][0]["tool"]["driver"]["rules"]}
    assert documented | {"not-yet-documented"} == set(rules)
    for rule_id in documented:
        rule = rules[rule_id]
        assert rule["shortDescription"]["text"] and rule["fullDescription"]["text"]
        assert rule["helpUri"].endswith(f"docs/rules.md#{rule_id}")
        assert rule["defaultConfiguration"]["level"] in ("error", "warning")
    assert log["runs"][0]["results"][0]["ruleIndex"] == list(rules).index("not-yet-documented")


def test_rule_catalog_is_fresh() -> None:
    assert rules_doc.CATALOG.read_text("utf-8") == rules_doc.catalog(), \
        "tool/modeldeploy/report/rule_docs.json is stale: run python tool/scripts/rules_doc.py"


@pytest.mark.parametrize(("path", "uri"), [
    ("model-deployments/test/jukebox/config.yaml", "model-deployments/test/jukebox/config.yaml"),
    ("model-deployments/a b/x%y/config.yaml", "model-deployments/a%20b/x%25y/config.yaml"),
    ("/abs/path/config.yaml", "file:///abs/path/config.yaml"),
])
def test_artifact_uris(path: str, uri: str) -> None:
    assert artifact_uri(path) == uri


def test_machine_formats_are_the_documents() -> None:
    assert {"json", "sarif", "codequality"} == MACHINE_FORMATS
    assert set(REPORTERS) == {"text", "json", "github", "sarif", "codequality"}


# --- diff: the head's problems as SARIF and Code Quality ----------------------------------------

@pytest.fixture
def diff_repo(tmp_path: Path) -> Path:
    """A git repo whose base has an invalid prod config and whose working tree an invalid test one."""
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    repo = make_gitops(tmp_path, [])
    prod = repo / "model-deployments" / "prod" / "jukebox" / "config.yaml"
    prod.write_text(prod.read_text().replace("version: 4562a17c17", "version: 0123"))
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    subprocess.run([*git, "add", "-A"], cwd=repo, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "base"], cwd=repo, check=True)
    prod.write_text(prod.read_text().replace("version: 0123", "version: 4562a17c17"))
    test = repo / "model-deployments" / "test" / "jukebox" / "config.yaml"
    test.write_text(test.read_text().replace("version: 4562a17c17", "version: 1234e56"))
    return repo


@pytest.mark.network
def test_diff_sarif_holds_the_heads_problems(run_cli: RunCli, diff_repo: Path, sarif_validator: Any) -> None:
    result = run_cli(["diff", "--base", "HEAD", "--format", "sarif"], cwd=diff_repo)
    assert result.returncode == 1, result.stderr
    log = json.loads(result.stdout)
    errors = sorted(sarif_validator.iter_errors(log), key=str)
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:5])
    assert _sarif_findings(log) == [("model-deployments/test/jukebox/config.yaml", 5, 10,
                                     "yaml-implicit-type", "error")]
    clean = run_cli(["diff", "--base", "HEAD", "--format=sarif", "model-deployments/prod"], cwd=diff_repo)
    assert clean.returncode == 0 and json.loads(clean.stdout)["runs"][0]["results"] == []


def test_diff_codequality_holds_the_heads_problems(run_cli: RunCli, diff_repo: Path) -> None:
    result = run_cli(["diff", "--base", "HEAD", "--format", "codequality"], cwd=diff_repo)
    assert result.returncode == 1, result.stderr
    assert _codequality_findings(json.loads(result.stdout)) == [
        ("model-deployments/test/jukebox/config.yaml", 5, "yaml-implicit-type", "major")]
    failed = run_cli(["diff", "--base", "no-such-ref", "--format", "codequality"], cwd=diff_repo)
    assert failed.returncode == 2 and json.loads(failed.stdout) == []  # one document, even then
