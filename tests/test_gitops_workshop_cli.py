"""Issue 15 through the real CLI on the gitops-workshop fixture (tests/data/gitops-workshop): a
GitOps repo whose configs name four charts from two chart repositories (.modeldeploy.yaml's
chart_sources) passes validate, render, status and diff; each problem variant gets its finding at
the line its expected.json names; diff over the workshop's history explains what renders.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import REPO_ROOT, RunCli
from test_gitops_workshop_fixture import FIXTURE, VARIANTS, assemble

# Rule hints of expected.json that name ids this tool does not have (optional heuristics).
NOT_BUILT = {"value-not-rendered", "unknown-value-key"}
# A hint naming two ids: the one modeldeploy reports.
RENAMED = {"name-length (or helm-template)": "release-name"}
# The findings that need the render: validate (static, no helm) does not report them.
RENDER_RULES = {"canary-not-rendered", "deployment-mode-not-rendered", "manifest-no-schema",
                "manifest-crd-no-schema", "helm-template",
                "name-length"}


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.email=t@example.com", "-c", "user.name=t", *args], cwd=cwd,
                   check=True, capture_output=True)


def _gitops(root: Path, variant: str | None = None) -> Path:
    gitops = assemble(root, variant) / "mlops-gitops"
    _git(gitops, "init", "-q")
    _git(gitops, "add", "-A")
    _git(gitops, "commit", "-qm", "fixture")
    return gitops


def _json(text: str) -> Any:
    return json.loads(text)


def test_the_workshop_repo_passes_validate_render_and_status(run_cli: RunCli, tmp_path: Path) -> None:
    gitops = _gitops(tmp_path)
    validate = run_cli(["validate", "--format", "json"], cwd=gitops)
    assert validate.returncode == 0, validate.stdout
    found = _json(validate.stdout)
    assert found["files_checked"] == 10
    # the charts without values.schema.json, and nothing else
    assert sorted((d["path"].split("/")[2], d["rule"]) for d in found["diagnostics"]) == sorted(
        (folder, "chart-no-schema") for folder in ("jukebox-feast", "jukebox-raw", "trustyai") * 2)

    render = run_cli(["render", "-o", str(tmp_path / "out")], cwd=gitops)
    assert render.returncode == 0, render.stderr
    written = sorted(p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out").rglob("*.yaml"))
    names = ("jukebox", "jukebox-feast", "jukebox-raw", "jukebox-ui", "trustyai")
    assert written == sorted(f"{env}/{name}.yaml" for env in ("prod", "test") for name in names)
    ui = (tmp_path / "out" / "prod" / "jukebox-ui.yaml").read_text()
    assert "kind: Deployment" in ui and "replicas: 2" in ui and "jukebox.apps.example.com" in ui

    status = run_cli(["status", "--format", "json"], cwd=gitops)
    assert status.returncode == 0, status.stdout
    rows = {(r["env"], r["name"]): (r["version"], r["canary_percent"], r["deployment_mode"])
            for r in _json(status.stdout)["deployments"]}
    assert rows == {
        ("test", "jukebox"): ("4562a17c17", 20, "Serverless"),  # this repository's chart
        ("prod", "jukebox"): ("3f1b2c9d8e", None, "Serverless"),
        ("test", "jukebox-raw"): ("9b2c41d0e7", None, "RawDeployment"),  # from the render, not a default
        ("prod", "jukebox-raw"): ("9b2c41d0e7", None, "RawDeployment"),
        ("test", "jukebox-feast"): ("7f3e9a1c55", None, "RawDeployment"),
        ("prod", "jukebox-feast"): ("7f3e9a1c55", None, "RawDeployment"),
        ("test", "jukebox-ui"): ("transformer-1.6", None, "-"),  # no InferenceService: its image tag
        ("prod", "jukebox-ui"): ("feast-1.4", None, "-"),
        ("test", "trustyai"): ("v0.20.0", None, "-"),
        ("prod", "trustyai"): ("v0.20.0", None, "-"),
    }


def _expected_exit(value: int | str) -> int:
    """expected.json leaves some exits to the design: validate renders nothing (no helm), so
    findings of the render leave validate at 0, and `render` follows validate where it says "same"."""
    return value if isinstance(value, int) else 0


def _where(finding: dict[str, Any]) -> tuple[str, int, int, str]:
    hint = RENAMED.get(finding["rule_hint"], finding["rule_hint"].split(" ")[0])
    return finding["file"].removeprefix("mlops-gitops/"), finding["line"], finding["column"], hint


@pytest.mark.parametrize("variant", VARIANTS)
def test_variant_through_the_cli(run_cli: RunCli, tmp_path: Path, variant: str) -> None:
    expected = _json((FIXTURE / "variants" / variant / "expected.json").read_text())
    gitops = _gitops(tmp_path, variant)
    validate = run_cli(["validate", "--format", "json"], cwd=gitops)  # the repository: duplicates too
    render = run_cli(["render", "--format", "json"], cwd=gitops)
    assert "Traceback" not in validate.stderr + render.stderr
    validated = {(d["path"], d["line"], d["column"], d["rule"])
                 for d in _json(validate.stdout)["diagnostics"]}
    rendered = {(d["path"], d["line"], d["column"], d["rule"]) for d in _json(render.stderr)["diagnostics"]}
    findings = [_where(f) for f in expected["expect"]["findings"] if _where(f)[3] not in NOT_BUILT]
    for key in findings:
        if key[3] == "duplicate-deployment":  # reported on the config found second (jukebox-raw < jukebox/)
            assert "duplicate-deployment" in {k[3] for k in rendered} & {k[3] for k in validated}
            continue
        assert key in rendered, (key, rendered)
        if key[3] not in RENDER_RULES:
            assert key in validated, (key, validated)
    static = [key for key in findings if key[3] not in RENDER_RULES and key[3] != "chart-no-schema"]
    validate_exit = _expected_exit(expected["expect"]["validate_exit"]) if static or not findings else 0
    assert validate.returncode == validate_exit, validate.stdout
    render_exit = expected["expect"]["render_exit"]
    assert render.returncode == (validate.returncode if render_exit == "same as validate"
                                 else _expected_exit(render_exit)), render.stderr


def test_a_typo_in_a_ui_config_gets_the_ui_chart_did_you_mean(run_cli: RunCli, tmp_path: Path) -> None:
    gitops = _gitops(tmp_path, "ui-typo-key")
    done = run_cli(["validate", "model-deployments/test/jukebox-ui/config.yaml"], cwd=gitops)
    assert done.returncode == 1
    assert ("model-deployments/test/jukebox-ui/config.yaml:5:1: error: unknown key `modle_name` at the top "
            "level; did you mean `model_name`? (chart jukebox-ui) [schema-unknown-key]") in done.stdout


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The workshop's 17 steps as commits, both chart repositories as local git repositories."""
    root = tmp_path_factory.mktemp("history")
    subprocess.run([sys.executable, str(FIXTURE / "build_history.py"), str(root / "h"), "--model-chart",
                    str(REPO_ROOT / "charts" / "model-deployment" / "music-transformer")],
                   check=True, capture_output=True)
    return root


# step -> {deployment: the summary's sentence rules}
HISTORY = {
    "step-02": {"prod/jukebox-ui": ["new-workload"], "test/jukebox-ui": ["new-workload"]},
    "step-05": {"test/jukebox": ["nothing-rendered"]},  # canary set, the chart renders none
    "step-06": {"test/jukebox": ["version-change", "mode-change", "all-at-once"],
                "test/jukebox-ui": ["workload-image"]},
    "step-09": {"test/jukebox": ["canary-step", "canary-split"]},
    "step-13": {"test/jukebox": ["mode-change"], "test/jukebox-ui": ["workload-image"]},
    "step-14": {"prod/jukebox": ["version-change", "mode-change", "all-at-once"]},
    "step-15": {"prod/jukebox-ui": ["workload-image"]},  # the chart's revision v0.1 -> main
    "step-17": {"prod/trustyai": ["removed-workload"]},
}


@pytest.mark.parametrize("step", sorted(HISTORY))
def test_diff_explains_what_renders(run_cli: RunCli, history: Path, step: str) -> None:
    base = f"step-{int(step[5:]) - 1:02d}"
    done = run_cli(["diff", "--base", base, "--head", step, "--format", "json"],
                   cwd=history / "h" / "mlops-gitops", env={"MODELDEPLOY_CACHE": str(history / "cache")})
    assert done.returncode in (0, 1), done.stderr
    document = _json(done.stdout)
    summaries = {f"{d['env']}/{d['name']}": [s["rule"] for s in d["summary"]]
                 for d in document["deployments"]}
    assert summaries == HISTORY[step]
    for deployment in document["deployments"]:  # no sentence claims a change the manifests lack
        if not deployment["objects"]:
            assert [s["rule"] for s in deployment["summary"]] == ["nothing-rendered"]
    if step == "step-05":
        assert [(p["side"], p["line"], p["column"], p["rule"]) for p in document["problems"]
                if p["severity"] == "error"] == [("head", 8, 19, "canary-not-rendered")]


@pytest.mark.parametrize("env", ["test", "prod"])
def test_the_applicationset_defaults_are_the_chart_sources_defaults(env: str) -> None:
    """What Argo CD renders for a config without repo_url/target_revision/name is what modeldeploy
    renders: the same chart repository and revision, the release named alike."""
    gitops = FIXTURE / "mlops-gitops"
    sources = yaml.safe_load((gitops / ".modeldeploy.yaml").read_text())["chart_sources"]
    appset = yaml.safe_load((gitops / f"appset-{env}.yaml").read_text())
    chart, values = appset["spec"]["template"]["spec"]["sources"]
    assert chart["repoURL"] == f'{{{{ .repo_url | default "{sources["default_repo_url"]}" }}}}'
    revision = sources["default_target_revision"]
    assert chart["targetRevision"] == f'{{{{ .target_revision | default "{revision}" }}}}'
    assert chart["path"] == "{{ .chart_path }}"
    assert chart["helm"]["releaseName"] == "{{ .name | default .path.basename }}"
    assert chart["helm"]["valueFiles"] == ["$values/{{ .path.path }}/config.yaml"]
    assert values["ref"] == "values"
    assert {r["repo_url"] for r in sources["repositories"]} >= {sources["default_repo_url"]}


def test_canary_set_on_a_chart_that_ignores_it_is_refused(run_cli: RunCli, tmp_path: Path) -> None:
    gitops = _gitops(tmp_path)
    config = gitops / "model-deployments" / "test" / "jukebox-raw" / "config.yaml"
    before = config.read_bytes()
    done = run_cli(["canary", "set", "test/jukebox-raw", "20"], cwd=gitops)
    assert done.returncode == 1, done.stderr
    assert "[canary-not-rendered]" in done.stderr + done.stdout
    assert "does not render this change as asked" in done.stderr
    assert config.read_bytes() == before
    # this repository's chart renders it: the same command goes through, explained as before
    done = run_cli(["canary", "set", "test/jukebox", "30", "--dry-run"], cwd=gitops)
    assert done.returncode == 0, done.stderr
    assert "canary traffic 20% -> 30%" in done.stdout
    # another chart's edit is explained from its renders
    done = run_cli(["release", "jukebox-raw", "--from", "test", "--to", "prod", "--dry-run"], cwd=gitops)
    assert done.returncode == 0, done.stderr
    registry = "oci://image-registry.openshift-image-registry.svc:5000"
    assert (f"model image {registry}/team-a-prod/jukebox-raw:9b2c41d0e7 -> "
            f"{registry}/team-a-test/jukebox-raw:9b2c41d0e7") in done.stdout


def test_a_custom_resource_without_schema_is_rendered_unchecked_unless_the_repository_requires_it(
        run_cli: RunCli, tmp_path: Path) -> None:
    gitops = _gitops(tmp_path, "trustyai-custom-resource")
    config = "model-deployments/test/trustyai/config.yaml"
    done = run_cli(["render", config], cwd=gitops)  # TrustyAI's own API group: no schema, a warning
    assert done.returncode == 0, done.stderr
    assert "kind: TrustyAIService" in done.stdout and "[manifest-crd-no-schema]" in done.stderr
    assert "site-packages" not in done.stderr  # the built-in schemas by name, not by install path
    assert run_cli(["render", config, "--strict"], cwd=gitops).returncode == 1
    with (gitops / ".modeldeploy.yaml").open("a") as settings:
        settings.write("rules:\n  manifest-crd-no-schema: error\n")
    required = run_cli(["render", config], cwd=gitops)
    assert (required.returncode, required.stdout) == (1, "")
    assert "error: rendered TrustyAIService/" in required.stderr


def test_a_version_helm_reads_as_a_number_on_a_chart_without_schema(run_cli: RunCli, tmp_path: Path) -> None:
    """The README's headline surprise on a chart without values.schema.json (the raw chart renders
    `oci://.../<name>:<version>` as the storage URI): validate warns at the value, render refuses
    the storage URI the kubelet cannot pull; quoting the version passes both."""
    gitops = _gitops(tmp_path)
    config = gitops / "model-deployments" / "test" / "jukebox-raw" / "config.yaml"
    text = config.read_text()
    assert "version: 9b2c41d0e7\n" in text
    config.write_text(text.replace("version: 9b2c41d0e7\n", "version: 4562e17\n"))
    line = text[:text.index("version:")].count("\n") + 1

    validate = run_cli(["validate", "--format", "json", str(config)], cwd=gitops)
    assert validate.returncode == 0, validate.stdout  # a warning: without a schema, text is not certain
    found = {d["rule"]: d for d in _json(validate.stdout)["diagnostics"]}
    assert set(found) == {"chart-no-schema", "yaml-implicit-value"}
    warning = found["yaml-implicit-value"]
    assert (warning["line"], warning["column"], warning["severity"]) == (line, 10, "warning")
    assert "4.562e+20" in warning["message"] and 'quote it: `version: "4562e17"`' in warning["message"]
    strict = run_cli(["validate", "--strict", str(config)], cwd=gitops)
    assert strict.returncode == 1, strict.stdout

    render = run_cli(["render", "--format", "json", str(config)], cwd=gitops)
    assert render.returncode == 1, render.stderr
    assert render.stdout == ""  # nothing for kubectl apply
    errors = [d for d in _json(render.stderr)["diagnostics"] if d["severity"] == "error"]
    assert [d["rule"] for d in errors] == ["image-reference"]
    assert "spec.predictor.model.storageUri" in errors[0]["message"]
    assert "the tag '4.562e+20' has '+'" in errors[0]["message"]
    assert "quote it in the config" in errors[0]["message"]

    config.write_text(text.replace("version: 9b2c41d0e7\n", 'version: "4562e17"\n'))
    quoted = run_cli(["render", "--strict", "-q", str(config)], cwd=gitops)
    assert quoted.returncode == 1  # chart-no-schema is still a warning, --strict fails it
    assert "yaml-implicit-value" not in quoted.stderr and "image-reference" not in quoted.stderr
    assert run_cli(["render", "-q", str(config)], cwd=gitops).returncode == 0
