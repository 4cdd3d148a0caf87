"""Every config rule in process, the way yamllint tests its rules: `problems(source)` runs the
checks `validate` runs on a config's text (checks.deployments.check_text: the strict loader, the
values schema, every semantic rule, disable comments) and gives [(line, column, rule id)].

The CLI corpus (tests/data/bad-configs, test_bad_configs.py) shows what users see; these pin
each rule's verdict and position in one line each. Rules that need files or folders (`io`,
`environment-namespace`, `file-name`, `duplicate-deployment`, the environment's schema) are
checked on a few files in a temporary folder.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from conftest import REPO_ROOT
from modeldeploy.checks.deployments import (
    CheckRequest,
    DeploymentCheck,
    EnvironmentCheck,
    check_paths,
    check_text,
)
from modeldeploy.config.discovery import ConfigFile
from modeldeploy.config.environments import Environment, load_environment
from modeldeploy.config.yaml_loader import load_yaml_text
from modeldeploy.rules import canary_not_rendered, deployment_mode_not_rendered, name_length
from modeldeploy.rules.registry import RULES

TEST = Environment("test", "team-a-test", False, None)
PROD = Environment("prod", "team-a-prod", True, None)
BASE = ("chart_path: charts/model-deployment/music-transformer\nname: jukebox\nversion: 4562a17c17\n"
        "image_repository: registry.example.com\nimage_namespace: team-a\n")


def problems(source: str, environment: Environment = TEST) -> list[tuple[int, int, str]]:
    config = ConfigFile(f"model-deployments/{environment.name}/jukebox/config.yaml",
                        REPO_ROOT / "model-deployments" / environment.name / "jukebox" / "config.yaml")
    check = DeploymentCheck(config, EnvironmentCheck(config.env_dir, environment, []), REPO_ROOT)
    return [(d.line, d.column, d.rule) for d in check_text(check, source).problems]


def _with(old: str, new: str) -> str:
    assert old in BASE
    return BASE.replace(old, new)


def test_a_valid_config_has_no_problem() -> None:
    assert problems(BASE) == []


# --- the YAML loader: Helm's reading -----------------------------------------------------------------

def test_yaml_syntax() -> None:
    assert problems(BASE + "autoscaling: [true\n") == [(7, 1, "yaml-syntax")]


def test_yaml_encoding() -> None:
    assert problems(BASE + "x: a\x07\n") == [(6, 5, "yaml-encoding")]


def test_yaml_empty() -> None:
    assert problems("# only a comment\n") == [(1, 1, "yaml-empty")]


def test_yaml_multiple_documents() -> None:
    assert problems(BASE + "---\nname: other\n") == [(6, 1, "yaml-multiple-documents")]


def test_yaml_not_a_mapping() -> None:
    assert problems("- jukebox\n") == [(1, 1, "yaml-not-a-mapping")]


def test_yaml_duplicate_key() -> None:
    assert problems(BASE + "name: jukebox\n") == [(6, 1, "yaml-duplicate-key")]


def test_yaml_key_type() -> None:
    assert problems(BASE + "1: one\n") == [(6, 1, "yaml-key-type"), (6, 1, "schema-unknown-key")]


def test_yaml_tag() -> None:
    assert problems(BASE + "autoscaling: !!binary aGk=\n") == [(6, 14, "yaml-tag")]


def test_yaml_directive() -> None:
    assert problems("%YAML 1.1\n---\n" + BASE) == [(1, 1, "yaml-directive")]


def test_yaml_limits() -> None:
    assert problems(BASE + "resources: " + "[" * 70 + "]" * 70 + "\n") == [(6, 75, "yaml-limits")]


# --- the values schema ----------------------------------------------------------------------------

def test_yaml_implicit_type() -> None:
    assert problems(_with("version: 4562a17c17", "version: 1234e56")) == [(3, 10, "yaml-implicit-type")]


def test_yaml_number_form() -> None:
    assert problems(BASE + "canary:\n  trafficPercent: 010\n") == [(7, 19, "yaml-number-form")]


def test_schema_unknown_key() -> None:
    assert problems(BASE + "trafficPercen: 20\n") == [(6, 1, "schema-unknown-key")]


def test_schema_missing_key() -> None:
    assert problems(_with("image_namespace: team-a\n", "")) == [(1, 1, "schema-missing-key")]


def test_schema_type() -> None:
    assert problems(BASE + 'autoscaling: "true"\n') == [(6, 14, "schema-type")]


def test_schema_enum() -> None:
    assert problems(BASE + "deployment_mode: Serverles\n") == [(6, 18, "schema-enum")]


def test_schema_pattern() -> None:
    assert problems(_with("image_namespace: team-a", "image_namespace: Team A")) == [
        (5, 18, "schema-pattern")]


# --- the semantic rules ---------------------------------------------------------------------------

def test_chart_path() -> None:
    assert problems(_with("music-transformer", "music-transfomer")) == [(1, 13, "chart-path")]


def test_name_format() -> None:
    assert problems(_with("name: jukebox", "name: Jukebox_V2")) == [(2, 7, "directory-name"),
                                                                     (2, 7, "name-format")]


def test_name_length() -> None:
    assert problems(_with("name: jukebox", "name: " + "j" * 45)) == [(2, 7, "directory-name"),
                                                                       (2, 7, "name-length")]


def test_canary_traffic_percent() -> None:
    assert problems(BASE + 'canary:\n  trafficPercent: "20"\n') == [(7, 19, "canary-traffic-percent")]
    assert problems(BASE + "canary:\n  trafficPercent: 120\n") == [(7, 19, "canary-traffic-percent")]


def test_canary_raw_deployment() -> None:
    source = BASE + "deployment_mode: RawDeployment\ncanary:\n  trafficPercent: 20\n"
    assert problems(source) == [(7, 1, "canary-raw-deployment")]


def test_mutable_tag() -> None:
    latest = _with("version: 4562a17c17", "version: latest")
    assert problems(latest, PROD) == [(3, 10, "mutable-tag")]
    assert problems(latest, TEST) == []  # only production environments


def test_directory_name() -> None:
    assert problems(_with("name: jukebox", "name: jukebox-v2")) == [(2, 7, "directory-name")]


# --- disable comments -------------------------------------------------------------------------------

def test_disable_comment() -> None:
    silenced = _with("name: jukebox", "name: jukebox-v2  # modeldeploy: disable=directory-name")
    assert problems(silenced) == []
    misspelt = _with("name: jukebox", "name: jukebox  # modeldeploy: disable=directory-nam")
    assert problems(misspelt) == [(2, 31, "disable-comment")]


# --- rules on files and folders -----------------------------------------------------------------------

def _config(root: Path, env: str, folder: str, text: str = BASE) -> Path:
    path = root / "model-deployments" / env / folder / "config.yaml"
    path.parent.mkdir(parents=True)
    path.write_text(text)
    return path


def _paths(root: Path, *paths: str) -> list[tuple[str, int, int, str]]:
    checked = check_paths(CheckRequest(root, paths, charts_root=REPO_ROOT))
    return [(d.path, d.line, d.column, d.rule) for d in checked.diagnostics()]


def test_io(tmp_path: Path) -> None:
    folder = tmp_path / "model-deployments" / "test" / "jukebox" / "config.yaml"
    folder.mkdir(parents=True)  # a folder named config.yaml
    assert _paths(tmp_path) == [("model-deployments/test/jukebox/config.yaml", 1, 1, "io")]


def test_environment_namespace(tmp_path: Path) -> None:
    _config(tmp_path, "Team A", "jukebox")
    assert _paths(tmp_path) == [("model-deployments/Team A", 1, 1, "environment-namespace")]


def test_environment_schema(tmp_path: Path) -> None:
    folder = tmp_path / "model-deployments" / "test"
    folder.mkdir(parents=True)
    (folder / "environment.yaml").write_text("namespace: " + "a" * 64 + "\nowner: me\n")
    environment, found = load_environment(folder, tmp_path)
    assert sorted((d.line, d.column, d.rule) for d in found) == [(1, 12, "schema-range"),
                                                                 (2, 1, "schema-unknown-key")]
    assert environment.namespace == "test"  # an invalid environment.yaml counts for nothing


def test_file_name(tmp_path: Path) -> None:
    _config(tmp_path, "test", "jukebox")
    (tmp_path / "config.yml").write_text(BASE)
    assert _paths(tmp_path, "config.yml") == [("config.yml", 1, 1, "file-name")]


def test_duplicate_deployment(tmp_path: Path) -> None:
    _config(tmp_path, "test", "jukebox")
    _config(tmp_path, "test", "jukebox-copy")
    first = "model-deployments/test/jukebox-copy/config.yaml"  # sorted first: `-` before `/`
    second = "model-deployments/test/jukebox/config.yaml"
    assert _paths(tmp_path) == [(first, 2, 7, "directory-name"), (second, 2, 7, "duplicate-deployment")]


# --- configs of other charts: the deployment contract and the chart's own schema ---------------------

def _chart(root: Path, name: str, schema: dict[str, Any] | None = None, values: str = "") -> None:
    folder = root / "charts" / name
    (folder / "templates").mkdir(parents=True)
    (folder / "Chart.yaml").write_text(f"apiVersion: v2\nname: {name}\nversion: 0.1.0\n")
    (folder / "values.yaml").write_text(values)
    if schema is not None:
        (folder / "values.schema.json").write_text(json.dumps(schema))


def chart_problems(root: Path, source: str, folder: str = "web") -> list[tuple[int, int, str, str]]:
    path = root / "model-deployments" / "test" / folder / "config.yaml"
    config = ConfigFile(f"model-deployments/test/{folder}/config.yaml", path)
    check = DeploymentCheck(config, EnvironmentCheck(config.env_dir, TEST, []), root)
    return [(d.line, d.column, d.rule, d.message) for d in check_text(check, source).problems]


UI_SCHEMA = {"type": "object", "additionalProperties": False, "required": ["endpoint", "replicas"],
             "properties": {"chart_path": {"type": "string"}, "endpoint": {"type": "string"},
                            "replicas": {"type": "integer"},
                            "ingress": {"type": "object", "additionalProperties": False,
                                        "properties": {"host": {"type": "string"}}}}}


def test_chart_no_schema(tmp_path: Path) -> None:
    _chart(tmp_path, "plain", values="greeting: hello\n")
    found = chart_problems(tmp_path, "chart_path: charts/plain\ngreetin: hi\nname: web\n")
    assert [f[:3] for f in found] == [(1, 13, "chart-no-schema")]  # nothing else: the chart's keys
    assert "chart plain has no values.schema.json" in found[0][3]


IMPLICIT = ("version: 4562e17\nreplicas: 0123\nmode: 010\nmask: 0x1F\nlimit: 1_000\nratio: 1.50\n"
            "major: 1.0\nenabled: yes\nlegacy: on\nbig: 1000000\nitems:\n  - 0o17\nnested:\n  tag: 12e3\n")


def test_yaml_implicit_value(tmp_path: Path) -> None:
    _chart(tmp_path, "plain")
    found = chart_problems(tmp_path, "chart_path: charts/plain\n" + IMPLICIT)
    # an integer not in plain decimal digits is the error it always was (yaml-number-form), said once
    number_form = {(3, 11), (4, 7), (5, 7), (6, 8), (13, 5)}
    assert [f[:3] for f in found] == [(1, 13, "chart-no-schema"), *(
        (line, column, "yaml-number-form" if (line, column) in number_form else "yaml-implicit-value")
        for line, column in ((2, 10), (3, 11), (4, 7), (5, 7), (6, 8), (7, 8), (8, 8), (9, 10), (10, 9),
                             (11, 6), (13, 5), (15, 8)))]
    assert RULES["yaml-implicit-value"].severity.value == "warning"
    message = {line: text for line, _, _, text in found}
    assert "`version: 4562e17` is read by Helm as the number 4.562e+20" in message[2]
    assert "{{ .Values.version }}" in message[2] and 'quote it: `version: "4562e17"`' in message[2]
    assert "prints 1.5, not 1.50" in message[7] and "prints 1, not 1.0" in message[8]
    assert "prints 1e+06" in message[11] and "{{ .Values.nested.tag }}` prints 12000" in message[15]
    assert "the boolean true" in message[9] and 'quote it: `enabled: "yes"`' in message[9]


def test_yaml_implicit_value_leaves_what_prints_as_written(tmp_path: Path) -> None:
    _chart(tmp_path, "plain")
    source = ("chart_path: charts/plain\nreplicas: 20\nratio: 1.5\nenabled: true\nTitle: True\nnone: FALSE\n"
              "neg: -3\nsmall: 0.25\nquoted: \"4562e17\"\nsingle: '0123'\nsha: 4562a17c17\nday: 2024-01-01\n"
              "empty:\nhundred: 100000\n")
    assert [f[:3] for f in chart_problems(tmp_path, source)] == [(1, 13, "chart-no-schema")]


def test_yaml_implicit_value_is_not_said_where_a_schema_says_it(tmp_path: Path) -> None:
    _chart(tmp_path, "typed", schema={"type": "object", "properties": {"version": {"type": "string"},
                                                                      "ratio": {"type": "number"}}})
    found = chart_problems(tmp_path, "chart_path: charts/typed\nversion: 4562e17\nratio: 1.50\n")
    assert [f[:3] for f in found] == [(2, 10, "yaml-implicit-type")]  # 1.50 is the number 1.5 it says


def test_yaml_implicit_value_can_be_disabled_on_its_line(tmp_path: Path) -> None:
    _chart(tmp_path, "plain")
    found = chart_problems(tmp_path, "chart_path: charts/plain\n"
                                     "version: 4562e17  # modeldeploy: disable=yaml-implicit-value\n")
    assert [f[:3] for f in found] == [(1, 13, "chart-no-schema")]


def test_chart_schema(tmp_path: Path) -> None:
    _chart(tmp_path, "plain", schema={"type": "objekt"})
    for folder in ("a", "b"):  # two configs of the chart: its schema reported once
        config = tmp_path / "model-deployments" / "test" / folder / "config.yaml"
        config.parent.mkdir(parents=True)
        config.write_text("chart_path: charts/plain\n")
    checked = check_paths(CheckRequest(tmp_path, charts_root=tmp_path))
    assert [(d.path, d.line, d.column, d.rule) for d in checked.diagnostics()] == [
        ("charts/plain/values.schema.json", 1, 1, "chart-schema")]
    assert not any(check.valid for check in checked.checks)  # helm would refuse them: not rendered


def test_chart_schema_problems_helm_refuses(tmp_path: Path) -> None:
    """Patterns Go's regexp refuses, a schema invalid for draft 2020-12 (Helm 4), a remote $ref."""
    cases = {"lookahead": {"properties": {"a": {"pattern": "^(?!x)"}}},
             "unicode-class": {"patternProperties": {"\\p{L}+": {"type": "string"}}},
             "draft4-bound": {"properties": {"a": {"minimum": 1, "exclusiveMinimum": True}}},
             "remote": {"properties": {"a": {"$ref": "https://example.com/s.json"}}}}
    for name, schema in cases.items():
        _chart(tmp_path, name, schema)
        config = tmp_path / "model-deployments" / "test" / name / "config.yaml"
        config.parent.mkdir(parents=True)
        config.write_text(f"chart_path: charts/{name}\na: x\n")
    checked = check_paths(CheckRequest(tmp_path, charts_root=tmp_path))
    found = {d.path.split("/")[1]: d.message for d in checked.diagnostics() if d.rule == "chart-schema"}
    assert set(found) == set(cases)
    assert "Go's regexp" in found["lookahead"] and "Go's regexp" in found["unicode-class"]
    assert "Helm 4" in found["draft4-bound"]
    assert "remote schema" in found["remote"]


def test_a_chart_schema_gives_its_own_did_you_mean_and_positions(tmp_path: Path) -> None:
    _chart(tmp_path, "ui", UI_SCHEMA, values="replicas: 1\n")
    source = "chart_path: charts/ui\nendpont: x\ningress:\n  hots: a\nreplicas: \"2\"\n"
    found = chart_problems(tmp_path, source)
    assert [f[:3] for f in found] == [(1, 1, "schema-missing-key"), (2, 1, "schema-unknown-key"),
                                      (4, 3, "schema-unknown-key"), (5, 11, "schema-type")]
    assert "did you mean `endpoint`?" in found[1][3] and "(chart ui)" in found[1][3]
    assert "did you mean `host`?" in found[2][3]


def test_a_chart_default_satisfies_required_and_a_null_deletes_it(tmp_path: Path) -> None:
    _chart(tmp_path, "ui", UI_SCHEMA, values="replicas: 1\n")
    assert chart_problems(tmp_path, "chart_path: charts/ui\nendpoint: x\n") == []
    found = chart_problems(tmp_path, "chart_path: charts/ui\nendpoint: x\nreplicas: null\n")
    assert [f[:3] for f in found] == [(1, 1, "schema-missing-key")]


def test_a_closed_chart_schema_must_take_the_applicationset_keys(tmp_path: Path) -> None:
    _chart(tmp_path, "ui", UI_SCHEMA)
    found = chart_problems(tmp_path, "chart_path: charts/ui\nrepo_url: https://git.example.com/ui.git\n"
                                     "endpoint: x\nreplicas: 1\n")
    assert [f[:3] for f in found] == [(2, 1, "schema-unknown-key")]
    assert "refuses `repo_url`, a key the ApplicationSet reads" in found[0][3]


def test_a_schema_without_draft_is_read_as_both_helms_read_it(tmp_path: Path) -> None:
    """No $schema: Helm 3.18.0-3.18.4 read draft-07 (dependentRequired unknown), Helm 4 2020-12."""
    schema = {"type": "object", "dependentRequired": {"a": ["b"]}, "properties": {"c": {"format": "email"}}}
    _chart(tmp_path, "two", schema)
    found = chart_problems(tmp_path, "chart_path: charts/two\na: 1\nc: not-an-email\n")
    assert [f[2] for f in found] == ["schema", "schema"]
    by_line = {f[0]: f[3] for f in found}
    assert "Helm 4 and Helm >= 3.18.5 refuse it" in by_line[1]  # dependentRequired: Helm 4 only
    assert "Helm 3.18.0-3.18.4 refuse it" in by_line[3]  # format: asserted by gojsonschema only


def test_chart_sources_map_each_repo_url_to_a_checkout(tmp_path: Path) -> None:
    """.modeldeploy.yaml's chart_sources: the default repository for configs naming none, each
    repo_url's own checkout, and an unmapped repo_url as that config's chart-path problem."""
    gitops, helmcharts, ui = tmp_path / "gitops", tmp_path / "helmcharts", tmp_path / "ui"
    _chart(helmcharts, "plain")
    _chart(ui, "ui", UI_SCHEMA | {"properties": {**UI_SCHEMA["properties"], "repo_url": {"type": "string"}}})
    (gitops / ".modeldeploy.yaml").parent.mkdir(parents=True)
    (gitops / ".modeldeploy.yaml").write_text(
        "chart_sources:\n  default_repo_url: https://git.example.com/helmcharts.git\n  repositories:\n"
        "    - repo_url: https://git.example.com/helmcharts\n      path: ../helmcharts\n"
        "    - repo_url: https://git.example.com/ui.git/\n      path: ../ui\n")
    configs = {"plain": "chart_path: charts/plain\n",
               "ui": "repo_url: https://git.example.com/ui.git\nchart_path: charts/ui\nendpoint: x\n"
                     "replicas: 1\n",
               "lost": "repo_url: https://git.example.com/other.git\nchart_path: charts/ui\n"}
    for folder, text in configs.items():
        config = gitops / "model-deployments" / "test" / folder / "config.yaml"
        config.parent.mkdir(parents=True)
        config.write_text(text)
    checked = check_paths(CheckRequest(gitops))
    assert {c.config.deployment_dir.name: c.chart_dir for c in checked.checks} == {
        "plain": (helmcharts / "charts" / "plain").resolve(), "ui": (ui / "charts" / "ui").resolve(),
        "lost": None}
    assert [(d.path, d.line, d.column, d.rule) for d in checked.diagnostics()] == [
        ("model-deployments/test/lost/config.yaml", 1, 11, "chart-path"),
        ("model-deployments/test/plain/config.yaml", 1, 13, "chart-no-schema")]
    assert "has no chart source in .modeldeploy.yaml" in checked.diagnostics()[0].message


def test_path_is_reserved(tmp_path: Path) -> None:
    _chart(tmp_path, "plain")
    found = chart_problems(tmp_path, "chart_path: charts/plain\npath: x\n")
    assert [f[:3] for f in found] == [(1, 13, "chart-no-schema"), (2, 1, "schema-unknown-key")]
    assert "`path` is reserved" in found[1][3]


def test_release_name(tmp_path: Path) -> None:
    _chart(tmp_path, "plain")
    folder = "web-frontend-for-the-music-transformer-demo-with-search"  # 55 characters
    assert [f[:3] for f in chart_problems(tmp_path, "chart_path: charts/plain\n", folder)] == [
        (1, 1, "release-name"), (1, 13, "chart-no-schema")]
    assert [f[:3] for f in chart_problems(tmp_path, "chart_path: charts/plain\nname: Web_UI\n")] == [
        (1, 13, "chart-no-schema"), (2, 7, "directory-name"), (2, 7, "release-name")]
    assert [f[:3] for f in chart_problems(tmp_path, "chart_path: charts/plain\nname: web\n", folder)] == [
        (1, 13, "chart-no-schema"), (2, 7, "directory-name")]


def test_this_repository_chart_takes_the_chart_source_keys() -> None:
    assert problems(BASE + "repo_url: https://git.example.com/h.git\ntarget_revision: main\n") == []


# --- a config against what its chart rendered ---------------------------------------------------------

def _isvc(mode: str | None, canary: int | None = None) -> dict[str, Any]:
    annotations = {"serving.kserve.io/deploymentMode": mode} if mode else {}
    predictor: dict[str, Any] = {"model": {"storageUri": "oci://r/n/m:1"}}
    if canary is not None:
        predictor["canaryTrafficPercent"] = canary
    return {"kind": "InferenceService", "metadata": {"name": "m", "annotations": annotations},
            "spec": {"predictor": predictor}}


def rendered(rule: Any, source: str, objects: list[Any]) -> list[tuple[int, int, str]]:
    loaded, _ = load_yaml_text("config.yaml", source)
    assert loaded is not None
    return [(d.line, d.column, d.rule) for d in rule.check_rendered(loaded, objects, "chart", "team-a-test")]


def test_canary_not_rendered() -> None:
    source = "chart_path: c\ncanary:\n  trafficPercent: 20\n"
    assert rendered(canary_not_rendered, source, [_isvc("RawDeployment")]) == [(3, 19, "canary-not-rendered")]
    assert rendered(canary_not_rendered, source, [_isvc("Standard", 20)]) == [(3, 19, "canary-not-rendered")]
    assert rendered(canary_not_rendered, source, [_isvc("Serverless", 20)]) == []
    assert rendered(canary_not_rendered, source, [_isvc(None, 20)]) == []
    assert rendered(canary_not_rendered, source, [{"kind": "Deployment", "metadata": {"name": "d"}}]) == [
        (3, 19, "canary-not-rendered")]
    assert rendered(canary_not_rendered, "chart_path: c\n", [_isvc("RawDeployment")]) == []


def test_name_length_from_the_rendered_names() -> None:
    long = "jukebox-raw-music-transformer-experimental-v2"  # 45: -predictor-team-a-test makes 67
    isvc = _isvc("RawDeployment") | {"metadata": {"name": long, "annotations": {}}}
    isvc["metadata"]["annotations"]["serving.kserve.io/deploymentMode"] = "RawDeployment"
    assert rendered(name_length, f"chart_path: c\nname: {long}\n", [isvc]) == [(2, 7, "name-length")]
    # a name the chart gave: at line 1
    assert rendered(name_length, "chart_path: c\n", [isvc]) == [(1, 1, "name-length")]
    short = isvc | {"metadata": {"name": "jukebox", "annotations": {}}}
    assert rendered(name_length, "chart_path: c\n", [short]) == []


def test_deployment_mode_not_rendered() -> None:
    source = "chart_path: c\ndeployment_mode: Serverless\n"
    assert rendered(deployment_mode_not_rendered, source, [_isvc("RawDeployment")]) == [
        (2, 18, "deployment-mode-not-rendered")]
    assert rendered(deployment_mode_not_rendered, source, [_isvc("Knative")]) == []
    assert rendered(deployment_mode_not_rendered, source, [_isvc(None)]) == []


def test_every_config_rule_has_its_test() -> None:
    """The rules a config (or its environment, or its file) can break: each named by a test here."""
    render_only = {rule_id for rule_id, rule in RULES.items()
                   if rule.module.startswith(("modeldeploy.render", "modeldeploy.manifests"))}
    # The rollout policy's rules judge transitions, not a config: tests/test_rollout_policy.py.
    policy = {rule_id for rule_id, rule in RULES.items() if rule.module.startswith("modeldeploy.policy")}
    tested = {name[len("test_"):].replace("_", "-") for name in globals() if name.startswith("test_")}
    tested |= {"schema-range"}  # test_environment_schema: only environment.yaml has bounds of its own
    catch_all = {"schema"}  # schema keywords the project's schemas do not use yet
    assert set(RULES) - render_only - policy - catch_all - tested == set()
