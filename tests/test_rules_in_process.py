"""Every config rule in process, the way yamllint tests its rules: `problems(source)` runs the
checks `validate` runs on a config's text (checks.deployments.check_text: the strict loader, the
values schema, every semantic rule, disable comments) and gives [(line, column, rule id)].

The CLI corpus (tests/data/bad-configs, test_bad_configs.py) shows what users see; these pin
each rule's verdict and position in one line each. Rules that need files or folders (`io`,
`environment-namespace`, `file-name`, `duplicate-deployment`, the environment's schema) are
checked on a few files in a temporary folder.
"""

from __future__ import annotations

from pathlib import Path

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
