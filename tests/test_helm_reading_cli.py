"""validate ≡ Helm, class by class, through the real CLI and the real helm 4 and 3.

Each class the differential test (tests/test_helm_equivalence.py) found has a case here: the
config as a user writes it, what `modeldeploy validate` says (rule, line, column) and what the
real `helm template` of the chart does with the same file: refuse it, or render another value
than written. The rollout commands read files exactly as validate does (`key:<TAB>value`
included) and say in one `path:line:col` line what they cannot edit.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml

from conftest import HELM_MAJORS, REPO_ROOT, RunCli, helm_path, make_gitops

CHART = REPO_ROOT / "charts" / "model-deployment" / "music-transformer"
BASE = ("chart_path: charts/model-deployment/music-transformer\nname: jukebox\nversion: 4562a17c17\n"
        "image_repository: image-registry.openshift-image-registry.svc:5000\nimage_namespace: team-a-test\n")


def _helm_template(major: str, values: Path) -> subprocess.CompletedProcess[str]:
    args = [str(helm_path(major)), "template", "jukebox", str(CHART), "--namespace", "team-a-test",
            "--values", str(values)]
    return subprocess.run(args, capture_output=True, text=True, timeout=120, check=False)


def _repo(tmp_path: Path, text: str, env: str = "test", name: str = "jukebox") -> Path:
    config = tmp_path / "model-deployments" / env / name / "config.yaml"
    config.parent.mkdir(parents=True)
    config.write_bytes(text.encode("utf-8"))
    return config


def _validate(run_cli: RunCli, cwd: Path) -> tuple[int, list[dict[str, object]]]:
    proc = run_cli(["validate", "model-deployments", "--format", "json", "--charts-root", str(REPO_ROOT)],
                   cwd=cwd)
    assert "Traceback" not in proc.stderr
    return proc.returncode, json.loads(proc.stdout)["diagnostics"]


# (config text, rule, line, column, what each helm does: "refuses" or the canaryTrafficPercent it renders)
REFUSED_BY_HELM = {
    "version-trailing-newline": (BASE.replace("version: 4562a17c17", 'version: "4562a17c17\\n"'),
                                 "schema-pattern", 3, 10, {"4": "refuses", "3": "refuses"}),
    "name-literal-block": (BASE.replace("name: jukebox", "name: |\n  jukebox"), "name-format", 2, 7,
                           {"4": "refuses", "3": "refuses"}),
    "namespace-folded-block": (BASE.replace("image_namespace: team-a-test",
                                            "image_namespace: >\n  team-a-test"),
                               "schema-pattern", 5, 18, {"4": "refuses", "3": "refuses"}),
    "yaml-1.1-directive": ("%YAML 1.1\n---\n" + BASE, "yaml-directive", 1, 1, {"4": "refuses", "3": None}),
    "yaml-1.2-directive": ("%YAML 1.2\n---\n" + BASE, "yaml-directive", 1, 1,
                           {"4": "refuses", "3": "refuses"}),
    "tag-directive": ("%TAG !e! tag:example.com,2000:\n---\n" + BASE, "yaml-directive", 1, 1,
                      {"4": "refuses", "3": None}),
    "tag-after-separator": ("--- !!map\n" + BASE, "yaml-syntax", 1, 4,
                            {"4": "refuses", "3": None}),
    "dashes-key": (BASE + "----x: 1\n", "yaml-syntax", 6, 4, {"4": "refuses", "3": "refuses"}),
    "slash-escape": (BASE.replace("version: 4562a17c17", 'version: "4562a17c17\\/x"'), "yaml-syntax", 3, 21,
                     {"4": "refuses", "3": "refuses"}),
    "octal-percent": (BASE + "canary:\n  trafficPercent: 010\n", "yaml-number-form", 7, 19, {"4": 8, "3": 8}),
    "hex-percent": (BASE + "canary:\n  trafficPercent: 0x20\n", "yaml-number-form", 7, 19,
                    {"4": 32, "3": 32}),
    "0o-percent": (BASE + "canary:\n  trafficPercent: 0o12\n", "yaml-number-form", 7, 19, {"4": 10, "3": 10}),
    "underscore-percent": (BASE + "canary:\n  trafficPercent: 012_0\n", "yaml-number-form", 7, 19,
                           {"4": 80, "3": 80}),
    "tagged-octal-percent": (BASE + "canary:\n  trafficPercent: !!int 010\n", "yaml-number-form", 7, 19,
                             {"4": 8, "3": 8}),
}


@pytest.mark.parametrize("case", sorted(REFUSED_BY_HELM))
def test_what_helm_refuses_or_misreads_validate_refuses_at_its_line(run_cli: RunCli, tmp_path: Path,
                                                                     case: str) -> None:
    text, rule, line, column, helm_outcomes = REFUSED_BY_HELM[case]
    config = _repo(tmp_path, text)
    code, diagnostics = _validate(run_cli, tmp_path)
    assert code == 1
    errors = [(d["rule"], d["line"], d["column"]) for d in diagnostics if d["severity"] == "error"]
    assert (rule, line, column) in errors, diagnostics
    for major in HELM_MAJORS:
        proc = _helm_template(major, config)
        outcome = helm_outcomes[major]
        if outcome == "refuses":
            assert proc.returncode != 0, f"helm {major} renders {case}"
        elif outcome is None:  # accepted by this helm: refused for the other one
            assert proc.returncode == 0, proc.stderr
        else:  # rendered, with another number than written
            assert proc.returncode == 0, proc.stderr
            isvc = next(d for d in yaml.safe_load_all(proc.stdout) if d and d["kind"] == "InferenceService")
            assert isvc["spec"]["predictor"]["canaryTrafficPercent"] == outcome


@pytest.mark.parametrize("major", HELM_MAJORS)
def test_non_specific_tag_is_text_as_in_helm(run_cli: RunCli, tmp_path: Path, major: str) -> None:
    """`version: ! 0123` was refused as "read by Helm as 83"; Helm renders the tag 0123."""
    _repo(tmp_path, BASE.replace("version: 4562a17c17", "version: ! 0123"))
    code, diagnostics = _validate(run_cli, tmp_path)
    assert (code, diagnostics) == (0, [])
    render = run_cli(["render", "model-deployments", "--charts-root", str(REPO_ROOT)], cwd=tmp_path,
                     helm=helm_path(major))
    assert render.returncode == 0, render.stderr
    isvc = next(d for d in yaml.safe_load_all(render.stdout) if d and d["kind"] == "InferenceService")
    assert isvc["spec"]["predictor"]["model"]["storageUri"].endswith("/team-a-test/jukebox:0123")


def test_control_character_after_unicode_is_reported_at_its_character_column(run_cli: RunCli,
                                                                             tmp_path: Path) -> None:
    _repo(tmp_path, BASE.replace("name: jukebox", "name: jukebox # ünïcødé 🎵 \x1b"))
    code, diagnostics = _validate(run_cli, tmp_path)
    assert code == 1
    assert [(d["rule"], d["line"], d["column"]) for d in diagnostics] == [("yaml-encoding", 2, 27)]


def test_invalid_utf8_after_unicode_is_reported_at_its_character_column(run_cli: RunCli,
                                                                        tmp_path: Path) -> None:
    config = _repo(tmp_path, BASE)
    config.write_bytes(BASE.encode() + "# café ".encode() + b"\xe9\n")  # the byte 0xe9 alone: latin-1
    code, diagnostics = _validate(run_cli, tmp_path)
    assert code == 1
    assert [(d["rule"], d["line"], d["column"]) for d in diagnostics] == [("yaml-encoding", 6, 8)]


# --- environments -------------------------------------------------------------------------------

@pytest.mark.parametrize("folder", ["Staging.EU", "my env", "-lead", "a" * 64])
def test_environment_folder_must_be_a_namespace(run_cli: RunCli, tmp_path: Path, folder: str) -> None:
    _repo(tmp_path, BASE, env=folder)
    _repo(tmp_path, BASE, env="test")  # a valid environment next to it
    code, diagnostics = _validate(run_cli, tmp_path)
    assert code == 1
    # (a 64-character namespace also makes the derived host names too long: name-length)
    assert (diagnostics[0]["path"], diagnostics[0]["rule"]) == (f"model-deployments/{folder}",
                                                                "environment-namespace")
    render = run_cli(["render", "model-deployments", "--charts-root", str(REPO_ROOT)], cwd=tmp_path)
    assert (render.returncode, render.stdout) == (1, "")
    # environment.yaml with a valid namespace is the fix
    (tmp_path / "model-deployments" / folder / "environment.yaml").write_text("namespace: staging-eu\n")
    assert _validate(run_cli, tmp_path) == (0, [])


def test_environment_yaml_without_namespace_checks_the_folder(run_cli: RunCli, tmp_path: Path) -> None:
    _repo(tmp_path, BASE, env="Staging.EU")
    (tmp_path / "model-deployments" / "Staging.EU" / "environment.yaml").write_text("production: true\n")
    code, diagnostics = _validate(run_cli, tmp_path)
    assert (code, [d["rule"] for d in diagnostics]) == (1, ["environment-namespace"])


@pytest.mark.parametrize("kind", ["dangling-symlink", "directory", "fifo", "device"])
def test_environment_yaml_that_is_no_file_is_an_error(run_cli: RunCli, tmp_path: Path, kind: str) -> None:
    _repo(tmp_path, BASE, env="prod")
    settings = tmp_path / "model-deployments" / "prod" / "environment.yaml"
    if kind == "dangling-symlink":
        settings.symlink_to("settings-old.yaml")
    elif kind == "directory":
        settings.mkdir()
    elif kind == "fifo":
        os.mkfifo(settings)
    else:
        settings.symlink_to("/dev/zero")
    code, diagnostics = _validate(run_cli, tmp_path)
    assert code == 1
    assert [(d["path"], d["line"], d["column"], d["rule"]) for d in diagnostics] == \
        [("model-deployments/prod/environment.yaml", 1, 1, "io")]
    render = run_cli(["render", "model-deployments", "--charts-root", str(REPO_ROOT)], cwd=tmp_path)
    assert (render.returncode, render.stdout) == (1, "")


# --- the rollout commands read files as validate does ---------------------------------------------

TABBED = ("chart_path:\tcharts/model-deployment/music-transformer\nname: tabbed\n"
          "version:\t'4562a17c17'\t# the tag\n"
          "image_repository: image-registry.openshift-image-registry.svc:5000\nimage_namespace: team-a-test\n"
          "canary:\t# tabs after the colon are fine in Helm and in validate\n  trafficPercent:\t20\n")


def test_tab_after_colon_is_read_alike_by_validate_render_and_rollout(run_cli: RunCli,
                                                                     tmp_path: Path) -> None:
    fixture = tmp_path / "tabbed.yaml"
    fixture.write_text(TABBED)
    repo = make_gitops(tmp_path, [fixture])
    config = repo / "model-deployments" / "test" / "tabbed" / "config.yaml"
    validate = run_cli(["validate", str(config)], cwd=repo)
    assert (validate.returncode, validate.stdout) == (0, "")
    for major in HELM_MAJORS:
        render = run_cli(["render", str(config)], cwd=repo, helm=helm_path(major))
        assert render.returncode == 0, render.stderr
        isvc = next(d for d in yaml.safe_load_all(render.stdout) if d and d["kind"] == "InferenceService")
        assert isvc["spec"]["predictor"]["canaryTrafficPercent"] == 20
    result = run_cli(["canary", "set", "test/tabbed", "50"], cwd=repo)
    assert result.returncode == 0, result.stderr
    assert "canary traffic 20% -> 50%" in result.stdout
    assert config.read_text() == TABBED.replace("trafficPercent:\t20", "trafficPercent:\t50")
    result = run_cli(["canary", "promote", "test/tabbed"], cwd=repo)
    assert result.returncode == 0, result.stderr
    assert config.read_text() == TABBED.split("canary:")[0]


@pytest.mark.parametrize(("text", "args", "where", "message"), [
    pytest.param(BASE.replace("version: 4562a17c17", "version: >-\n  1111aaaa22"),
                 ["release", "jukebox", "--from", "prod", "--to", "test"], "3:10",
                 "the value to change is a block scalar (| or >); edit it by hand", id="block-scalar"),
    pytest.param("{" + BASE.strip().replace("\n", ", ") + "}\n", ["canary", "set", "test/jukebox", "30"],
                 "1:1", "the file is one flow-style mapping ({...}); edit it by hand", id="flow-document"),
    pytest.param(BASE + "canary: {trafficPercent: 20}\n", ["canary", "promote", "test/jukebox"], "6:1",
                 None, id="flow-canary-is-editable"),
])
def test_what_the_editor_cannot_change_is_one_line_with_its_position(
        run_cli: RunCli, tmp_path: Path, text: str, args: list[str], where: str, message: str | None) -> None:
    repo = make_gitops(tmp_path, [])
    config = repo / "model-deployments" / "test" / "jukebox" / "config.yaml"
    config.write_text(text)
    assert run_cli(["validate", str(config)], cwd=repo).returncode == 0
    before = config.read_bytes()
    result = run_cli(args, cwd=repo)
    if message is None:
        assert result.returncode == 0, result.stderr
        return
    assert result.returncode == 1
    shown = "model-deployments/test/jukebox/config.yaml"
    assert result.stderr == f"modeldeploy: error: {shown}:{where}: {message}\n"
    assert config.read_bytes() == before


def test_rollout_refuses_an_environment_folder_that_is_no_namespace(run_cli: RunCli,
                                                                   tmp_path: Path) -> None:
    repo = make_gitops(tmp_path, [])
    folder = repo / "model-deployments" / "Staging.EU"
    (repo / "model-deployments" / "test").rename(folder)
    (folder / "environment.yaml").unlink(missing_ok=True)
    before = (folder / "jukebox" / "config.yaml").read_bytes()
    result = run_cli(["canary", "set", "Staging.EU/jukebox", "30"], cwd=repo)
    assert result.returncode == 1
    assert "model-deployments/Staging.EU:1:1: error: the environment folder 'Staging.EU'" in result.stderr
    assert "refused: model-deployments/Staging.EU is invalid" in result.stderr
    assert (folder / "jukebox" / "config.yaml").read_bytes() == before
