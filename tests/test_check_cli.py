"""`modeldeploy check` through the real CLI: manifests rendered elsewhere (files, folders, stdin,
JSON, `kind: List`), kubeconform's options, the summary, `file:line`, the formats, exit codes
(0 valid, 1 invalid, 2 could not check), and the KServe rule cases of tests/data/kserve-rules.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO_ROOT, RunCli

RULE_CASES = REPO_ROOT / "tests" / "data" / "kserve-rules"
SCHEMA_CASES = REPO_ROOT / "tests" / "data" / "kserve-manifests"
CHART = REPO_ROOT / "charts" / "model-deployment" / "music-transformer"
MARKER = re.compile(r"# <- ([a-z0-9-]+)\s*$")
LOCATION = re.compile(r"^(?P<path>[^\s:]+):(?P<line>\d+):(?P<column>\d+): (?P<severity>error|warning): "
                      r".*\[(?P<rule>[a-z0-9-]+)\]$")

ISVC = """\
apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata:
  name: {name}
spec:
  predictor:
    model:
      modelFormat:
        name: sklearn
      storageUri: {uri}
"""
CONFIGMAP = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  key: value\n"


def findings(stdout: str) -> list[tuple[str, int, str, str]]:
    """(path, line, severity, rule) of each diagnostic line of the text format."""
    found = []
    for line in stdout.splitlines():
        match = LOCATION.match(line)
        if match:
            found.append((match["path"], int(match["line"]), match["severity"], match["rule"]))
    return found


def summary(stdout: str) -> str:
    lines = [line for line in stdout.splitlines() if line.startswith("Summary: ")]
    assert len(lines) == 1, stdout
    return lines[0]


# --- the KServe rule cases -----------------------------------------------------------------------

@pytest.mark.parametrize("case", sorted(p.name for p in (RULE_CASES / "invalid").glob("*.yaml")))
def test_each_kserve_rule_case_is_reported_where_marked(run_cli: RunCli, case: str) -> None:
    path = RULE_CASES / "invalid" / case
    expected = [(number, MARKER.search(line)[1])  # type: ignore[index]
                for number, line in enumerate(path.read_text("utf-8").splitlines(), 1) if MARKER.search(line)]
    assert expected, f"{case} marks no line with `# <- RULE-ID`"
    result = run_cli(["check", "--format", "text", str(path)])
    assert [(line, rule) for _, line, _, rule in findings(result.stdout)] == expected, result.stdout
    warnings_only = all(severity == "warning" for *_, severity, _ in findings(result.stdout))
    assert result.returncode == (0 if warnings_only else 1), result.stdout + result.stderr
    if warnings_only:  # --strict: warnings fail the run, as in validate and render
        assert run_cli(["check", "--strict", str(path)]).returncode == 1


@pytest.mark.parametrize("case", sorted(p.name for p in (RULE_CASES / "valid").glob("*.yaml")))
def test_each_valid_kserve_rule_case_passes(run_cli: RunCli, case: str) -> None:
    # Every object is checked, the ClusterStorageContainer too (its formats count for the rule).
    result = run_cli(["check", "--format", "text", str(RULE_CASES / "valid" / case)])
    assert result.returncode == 0, result.stdout + result.stderr
    assert findings(result.stdout) == []
    assert ", Invalid: 0, Errors: 0," in summary(result.stdout)


def test_a_cluster_storage_container_counts_only_when_checked_with_the_manifest(
        run_cli: RunCli, tmp_path: Path) -> None:
    case = (RULE_CASES / "valid" / "storage-uri-cluster-storage-container.yaml").read_text("utf-8")
    alone = tmp_path / "isvc.yaml"
    alone.write_text(case.split("\n---\n", 1)[1], "utf-8")
    result = run_cli(["check", "--format", "text", str(alone)])
    assert [rule for *_, rule in findings(result.stdout)] == ["kserve-storage-uri"] * 2
    assert result.returncode == 1


def test_a_disable_comment_in_a_manifest_file_silences_a_rule_on_its_line(run_cli: RunCli,
                                                                           tmp_path: Path) -> None:
    text = ISVC.format(name="a", uri="ftp://host/model  # modeldeploy: disable=kserve-storage-uri")
    (tmp_path / "m.yaml").write_text(text, "utf-8")
    result = run_cli(["check", "m.yaml"], cwd=tmp_path)
    assert result.returncode == 0, result.stdout
    assert summary(result.stdout) == ("Summary: 1 resource found in 1 file - Valid: 1, Invalid: 0, "
                                      "Errors: 0, Skipped: 0")


# --- the schema corpus through the CLI ------------------------------------------------------------

def test_the_valid_schema_corpus_passes_as_one_folder(run_cli: RunCli) -> None:
    result = run_cli(["check", "--format", "text", str(SCHEMA_CASES / "valid")])
    count = len(list((SCHEMA_CASES / "valid").glob("*.yaml")))
    assert result.returncode == 0, result.stdout
    assert summary(result.stdout) == (f"Summary: {count} resources found in {count} files - Valid: {count}, "
                                      "Invalid: 0, Errors: 0, Skipped: 0")


@pytest.mark.parametrize("case", sorted(p.name for p in (SCHEMA_CASES / "invalid").glob("*.yaml")))
def test_each_invalid_schema_case_fails_at_its_error_path(run_cli: RunCli, case: str) -> None:
    path = SCHEMA_CASES / "invalid" / case
    pointers = re.findall(r"^# error-path: (\S+)", path.read_text("utf-8"), re.M)
    result = run_cli(["check", "--format", "json", str(path)])
    assert result.returncode == 1, result.stdout
    document = json.loads(result.stdout)
    assert document["summary"]["invalid"] == 1
    messages = [d["message"] for d in document["diagnostics"]]
    for pointer in pointers:
        dotted = ".".join(pointer.strip("/").split("/")) or "(root)"
        assert any(f": {dotted}: " in m for m in messages), (dotted, messages)
    assert all(d["line"] > 1 for d in document["diagnostics"])  # at the field, below the header comments


def test_kinds_without_a_schema_could_not_be_checked(run_cli: RunCli) -> None:
    folder = SCHEMA_CASES / "no-schema"
    count = len(list(folder.glob("*.yaml")))
    result = run_cli(["check", "--format", "text", str(folder)])
    assert result.returncode == 2, result.stdout + result.stderr
    assert {rule for *_, rule in findings(result.stdout)} == {"manifest-no-schema"}
    assert f"Errors: {count}, Skipped: 0" in summary(result.stdout)
    ignored = run_cli(["check", "--format", "text", "--ignore-missing-schemas", str(folder)])
    assert ignored.returncode == 0 and findings(ignored.stdout) == []
    assert f"Errors: 0, Skipped: {count}" in summary(ignored.stdout)


# --- inputs ---------------------------------------------------------------------------------------

def test_helm_template_piped_into_check(run_cli: RunCli, helm4: Path) -> None:
    config = REPO_ROOT / "model-deployments" / "test" / "jukebox" / "config.yaml"
    rendered = subprocess.run([str(helm4), "template", "jukebox", str(CHART), "-f", str(config)],
                              capture_output=True, text=True, check=True, timeout=120)
    assert "kind: InferenceService" in rendered.stdout
    result = run_cli(["check", "-"], input=rendered.stdout)
    assert result.returncode == 0, result.stdout + result.stderr
    objects = rendered.stdout.count("\nkind: ")
    assert summary(result.stdout) == (f"Summary: {objects} resources found in 1 file - Valid: {objects}, "
                                      "Invalid: 0, Errors: 0, Skipped: 0")


def test_stdin_problems_name_stdin_and_the_line(run_cli: RunCli) -> None:
    stream = CONFIGMAP.format(name="a") + "---\n" + ISVC.format(name="b", uri="ftp://h/m")
    result = run_cli(["check", "--format", "text", "-"], input=stream)
    assert result.returncode == 1
    assert findings(result.stdout) == [("stdin", 17, "error", "kserve-storage-uri")]


def test_an_empty_stream_is_not_a_pass(run_cli: RunCli) -> None:
    result = run_cli(["check", "-"], input="")
    assert result.returncode == 2
    assert "no Kubernetes object found" in result.stderr


def test_folders_recursively_json_and_lists(run_cli: RunCli, tmp_path: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "one.yaml").write_text(CONFIGMAP.format(name="one"), "utf-8")
    (tmp_path / "a" / "b" / "two.yml").write_text(ISVC.format(name="two", uri="gs://b/m"), "utf-8")
    listed = {"apiVersion": "v1", "kind": "List", "items": [
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "three"}},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "four"}, "data": {"k": 1}}]}
    (tmp_path / "a" / "b" / "three.json").write_text(json.dumps(listed, indent=2), "utf-8")
    (tmp_path / "a" / "notes.txt").write_text("not: [a manifest", "utf-8")
    (tmp_path / "a" / ".hidden").mkdir()
    (tmp_path / "a" / ".hidden" / "x.yaml").write_text("not: [a manifest", "utf-8")
    result = run_cli(["check", "--format", "text", "a"], cwd=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert summary(result.stdout) == ("Summary: 4 resources found in 3 files - Valid: 3, Invalid: 1, "
                                      "Errors: 0, Skipped: 0")
    # the ConfigMap item whose data value is a number, at its line in the JSON file
    line = json.dumps(listed, indent=2).splitlines().index('        "k": 1') + 1
    assert findings(result.stdout) == [("a/b/three.json", line, "error", "manifest-invalid")]


def test_a_fifo_in_a_folder_is_not_read_but_a_named_pipe_is(run_cli: RunCli, tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "a.yaml").write_text(CONFIGMAP.format(name="a"), "utf-8")
    os.mkfifo(tmp_path / "d" / "fifo.yaml")  # nothing writes to it: reading it would never end
    result = run_cli(["check", "d"], cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 resource found in 1 file" in summary(result.stdout)
    piped = subprocess.run(["bash", "-c", f"{sys.executable} -m modeldeploy check <(cat d/a.yaml)"],
                           cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert piped.returncode == 0 and "1 resource found in 1 file" in piped.stdout, piped.stdout + piped.stderr


def test_a_file_that_is_not_yaml_could_not_be_checked(run_cli: RunCli, tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("apiVersion: v1\nkind: [ConfigMap\n", "utf-8")
    (tmp_path / "good.yaml").write_text(CONFIGMAP.format(name="a"), "utf-8")
    result = run_cli(["check", "--format", "text", "bad.yaml", "good.yaml"], cwd=tmp_path)
    assert result.returncode == 2, result.stdout
    assert [(p, rule) for p, _, _, rule in findings(result.stdout)] == [("bad.yaml", "manifest-file")]
    assert summary(result.stdout) == ("Summary: 1 resource found in 2 files - Valid: 1, Invalid: 0, "
                                      "Errors: 1, Skipped: 0")


def test_invalid_wins_over_could_not_check(run_cli: RunCli, tmp_path: Path) -> None:
    widget = "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n"
    (tmp_path / "m.yaml").write_text(ISVC.format(name="a", uri="ftp://h/m") + "---\n" + widget, "utf-8")
    result = run_cli(["check", "m.yaml"], cwd=tmp_path)
    assert result.returncode == 1
    assert "Invalid: 1, Errors: 1" in summary(result.stdout)


@pytest.mark.parametrize("args, message", [
    (["check"], "name the manifests to check"),
    (["check", "missing.yaml"], "missing.yaml: no such file or folder"),
    (["check", "empty"], "no *.yaml, *.yml or *.json file"),
    (["check", "--kubernetes-version", "1.2", "-"], "--kubernetes-version"),
    (["check", "--schema-location", "https://example.com/{{.ResourceKind}}.json", "-"], "never downloads"),
])
def test_usage_errors(run_cli: RunCli, tmp_path: Path, args: list[str], message: str) -> None:
    (tmp_path / "empty").mkdir()
    result = run_cli(args, cwd=tmp_path, input=CONFIGMAP.format(name="a"))
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr


# --- kubeconform's options ------------------------------------------------------------------------

def test_skip_kinds_and_api_version_kinds(run_cli: RunCli) -> None:
    stream = CONFIGMAP.format(name="a") + "---\n" + ISVC.format(name="b", uri="ftp://h/m")
    for skip in ("InferenceService", "ConfigMap,InferenceService",
                 "serving.kserve.io/v1beta1/InferenceService"):
        result = run_cli(["check", "--skip", skip, "-"], input=stream)
        assert result.returncode == 0, (skip, result.stdout)
        assert "Skipped: 1" in summary(result.stdout) or "Skipped: 2" in summary(result.stdout)


def test_schema_locations_replace_the_built_in_ones_and_default_names_them(run_cli: RunCli,
                                                                           tmp_path: Path) -> None:
    crds = tmp_path / "crds" / "example.com"
    crds.mkdir(parents=True)
    (crds / "widget_v1.json").write_text(json.dumps({
        "type": "object", "required": ["spec"],
        "properties": {"apiVersion": {}, "kind": {}, "metadata": {}, "spec": {
            "type": "object", "properties": {"size": {"type": "integer"}}, "additionalProperties": False}},
        "additionalProperties": False}), "utf-8")
    stream = ("apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\nspec:\n  size: big\n---\n"
              + CONFIGMAP.format(name="a"))
    template = str(tmp_path / "crds" / "{{.Group}}" / "{{.ResourceKind}}_{{.ResourceAPIVersion}}.json")
    both = run_cli(["check", "--format", "text", "--schema-location", template,
                    "--schema-location", "default", "-"], input=stream)
    assert findings(both.stdout) == [("stdin", 6, "error", "manifest-invalid")], both.stdout
    assert both.returncode == 1
    only = run_cli(["check", "--format", "text", "--schema-location", template, "-"], input=stream)
    assert [(line, rule) for _, line, _, rule in findings(only.stdout)] == [
        (6, "manifest-invalid"), (8, "manifest-no-schema")]  # the ConfigMap: no built-in schemas now
    assert run_cli(["check", "-"], input=stream).returncode == 2  # built-in only: Widget unknown


def test_kubernetes_version_picks_the_core_schemas(run_cli: RunCli) -> None:
    # `spec.resources` of a Pod exists from Kubernetes 1.34 on (pod-level resources)
    pod = ("apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n"
           "  resources:\n    limits:\n      cpu: '1'\n"
           "  containers:\n    - name: c\n      image: i\n")
    assert run_cli(["check", "--kubernetes-version", "1.35.0", "-"], input=pod).returncode == 0
    old = run_cli(["check", "--format", "text", "--kubernetes-version", "1.30.0", "-"], input=pod)
    assert old.returncode == 1 and findings(old.stdout)[0][3] == "manifest-invalid", old.stdout + old.stderr


# --- formats --------------------------------------------------------------------------------------

def test_json_format_is_one_document_with_the_summary(run_cli: RunCli) -> None:
    result = run_cli(["check", "--format", "json", "-"], input=ISVC.format(name="b", uri="ftp://h/m"))
    document = json.loads(result.stdout)
    assert document["summary"] == {"resources": 1, "files": 1, "valid": 0, "invalid": 1, "errors": 0,
                                   "skipped": 0}
    assert [(d["path"], d["line"], d["rule"]) for d in document["diagnostics"]] == [
        ("stdin", 10, "kserve-storage-uri")]
    assert result.returncode == 1


def test_json_format_failure_document(run_cli: RunCli) -> None:
    result = run_cli(["check", "--format", "json", "missing.yaml"])
    assert result.returncode == 2
    assert json.loads(result.stdout)["failure"]["kind"] == "error"


@pytest.mark.parametrize("fmt", ["sarif", "codequality"])
def test_machine_formats_keep_the_summary_on_stderr(run_cli: RunCli, fmt: str) -> None:
    result = run_cli(["check", "--format", fmt, "-"], input=ISVC.format(name="b", uri="ftp://h/m"))
    assert result.returncode == 1
    json.loads(result.stdout)  # one document
    assert "kserve-storage-uri" in result.stdout and "Summary: 1 resource" in result.stderr


def test_github_format_annotates_the_line(run_cli: RunCli) -> None:
    result = run_cli(["check", "--format", "github", "-"], input=ISVC.format(name="b", uri="ftp://h/m"))
    assert result.stdout.startswith("::error file=stdin,line=10,")
    assert result.returncode == 1
