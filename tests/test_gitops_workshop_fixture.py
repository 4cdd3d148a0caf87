"""The gitops-workshop fixture (tests/data/gitops-workshop, issue 15) is what it claims to be:
every config renders and passes `helm lint --strict` under Helm 4 and Helm 3 with the same
bytes, each variant gets from helm what its expected.json measured, the RawDeployment chart
renders the issue's ignored keys as nothing, and build_history.py replays the workshop
reproducibly. These tests check the fixture with helm alone, not modeldeploy."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import HELM_MAJORS, REPO_ROOT, helm_path
from modeldeploy.render import helm_install

FIXTURE = REPO_ROOT / "tests" / "data" / "gitops-workshop"
THIS_CHART = REPO_ROOT / "charts" / "model-deployment" / "music-transformer"
VARIANTS = sorted(p.name for p in (FIXTURE / "variants").iterdir() if p.is_dir())
REPOSITORIES = ("mlops-gitops", "mlops-helmcharts", "jukebox-ui")
# What each chart renders with the fixture's configs (kinds, sorted).
KINDS = {
    "music-transformer": ["InferenceService", "ServingRuntime"],
    "music-transformer-raw": ["InferenceService", "ServingRuntime"],
    "music-transformer-with-feast": ["InferenceService", "ServingRuntime"],
    "jukebox-ui": ["Deployment", "Ingress", "Service"],
    "trustyai": ["ConfigMap", "Deployment", "PersistentVolumeClaim", "Service"],
}
KEDA_KINDS = ["ClusterRole", "ClusterRoleBinding", "InferenceService", "ServingRuntime"]


def assemble(root: Path, variant: str | None = None) -> Path:
    """The three repositories side by side, this repository's chart copied into
    mlops-helmcharts (as the README says), and a variant's files laid over them."""
    for name in REPOSITORIES:
        shutil.copytree(FIXTURE / name, root / name)
    shutil.copytree(THIS_CHART, root / "mlops-helmcharts/charts/model-deployment/music-transformer")
    if variant:
        overlay = FIXTURE / "variants" / variant
        for path in overlay.rglob("*"):
            if path.is_file() and path.name != "expected.json":
                target = root / path.relative_to(overlay)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, target)
    return root


def deployment(root: Path, config: Path) -> tuple[str, Path, str]:
    """(release, chart folder, namespace) as the fixture's ApplicationSets and proposed
    .modeldeploy.yaml resolve them."""
    gitops = root / "mlops-gitops"
    sources = yaml.safe_load((gitops / ".modeldeploy.yaml").read_text())["chart_sources"]
    folders = {repo["repo_url"]: gitops / repo["path"] for repo in sources["repositories"]}
    values = yaml.safe_load(config.read_text())
    chart = folders[values.get("repo_url", sources["default_repo_url"])] / values["chart_path"]
    namespace = yaml.safe_load((config.parent.parent / "environment.yaml").read_text())["namespace"]
    return values.get("name") or config.parent.name, chart, namespace


def helm(binary: Path, *args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {"HELM_CACHE_HOME": str(home / "cache"), "HELM_CONFIG_HOME": str(home / "config"),
           "HELM_DATA_HOME": str(home / "data"), "PATH": "/usr/bin:/bin"}
    return subprocess.run([str(binary), *args], capture_output=True, text=True, env=env, timeout=120)


def template(binary: Path, root: Path, config: Path, home: Path) -> subprocess.CompletedProcess[str]:
    release, chart, namespace = deployment(root, config)
    return helm(binary, "template", release, str(chart), "-n", namespace, "-f", str(config), home=home)


def chart_name(chart: Path) -> str:
    return str(yaml.safe_load((chart / "Chart.yaml").read_text())["name"])


def configs(root: Path) -> list[Path]:
    return sorted((root / "mlops-gitops" / "model-deployments").glob("*/*/config.yaml"))


def test_fixture_has_both_environments_and_every_chart(tmp_path: Path) -> None:
    root = assemble(tmp_path)
    found = {(c.parent.parent.name, chart_name(deployment(root, c)[1])) for c in configs(root)}
    assert found == {(env, chart) for env in ("test", "prod") for chart in KINDS}
    charts = {deployment(root, c)[1] for c in configs(root)}
    assert sorted(chart_name(c) for c in charts if (c / "values.schema.json").is_file()) == [
        "jukebox-ui", "music-transformer"]


def test_every_config_renders_the_same_under_helm_4_and_3_and_lints(tmp_path: Path) -> None:
    root = assemble(tmp_path / "fx")
    for config in configs(root):
        _, chart_dir, namespace = deployment(root, config)
        outputs = set()
        for major in HELM_MAJORS:
            done = template(helm_path(major), root, config, tmp_path)
            assert done.returncode == 0, (major, config, done.stderr)
            outputs.add(done.stdout)
            lint = helm(helm_path(major), "lint", "--strict", str(chart_dir), "-n", namespace,
                        "-f", str(config), home=tmp_path)
            assert lint.returncode == 0, (major, config, lint.stdout, lint.stderr)
        assert len(outputs) == 1, config  # byte for byte
        kinds = sorted(doc["kind"] for doc in yaml.safe_load_all(outputs.pop()) if doc)
        keda = "keda: true" in config.read_text()
        assert kinds == (KEDA_KINDS if keda else KINDS[chart_name(chart_dir)]), config


@pytest.mark.parametrize("variant", VARIANTS)
def test_variant_gets_what_expected_json_measured(helm_bin: Path, variant: str, tmp_path: Path) -> None:
    expected = json.loads((FIXTURE / "variants" / variant / "expected.json").read_text())
    root = assemble(tmp_path / "fx", variant)
    config = root / expected["config"]
    assert config.is_file()
    for finding in expected["expect"]["findings"]:
        lines = (root / finding["file"]).read_text().splitlines()
        assert 1 <= finding["line"] <= len(lines)
        assert 1 <= finding["column"] <= len(lines[finding["line"] - 1]) + 1
    major = next(m for m in HELM_MAJORS if helm_path(m) == helm_bin)
    measured = expected["helm_measured"][helm_install.HELM_RELEASES[major].version]
    done = template(helm_bin, root, config, tmp_path)
    assert done.returncode == measured["template_exit"], done.stderr
    for line in measured.get("says", [])[-1:]:
        # Helm 4 names several additional properties in Go map order, which varies per run.
        assert unordered(line) in [unordered(said) for said in done.stderr.splitlines()]


def unordered(message: str) -> tuple[str, ...]:
    head, _, names = message.partition("additional properties ")
    return (head, *sorted(names.replace(" not allowed", "").split(", ")))


def rendered_inferenceservice(text: str) -> dict:
    (isvc,) = [d for d in yaml.safe_load_all(text) if d and d["kind"] == "InferenceService"]
    return isvc


def test_raw_chart_renders_the_issue_keys_as_nothing(helm4: Path, tmp_path: Path) -> None:
    """deployment_mode, canary and resources reach no template of the RawDeployment chart."""
    outputs = set()
    for variant in (None, "raw-serverless-canary-resources", "raw-canary-only"):
        root = assemble(tmp_path / (variant or "base"), variant)
        config = root / "mlops-gitops/model-deployments/test/jukebox-raw/config.yaml"
        done = template(helm4, root, config, tmp_path)
        assert done.returncode == 0, done.stderr
        outputs.add(done.stdout)
    assert len(outputs) == 1
    isvc = rendered_inferenceservice(outputs.pop())
    assert isvc["metadata"]["annotations"]["serving.kserve.io/deploymentMode"] == "RawDeployment"
    assert "canaryTrafficPercent" not in isvc["spec"]["predictor"]
    assert isvc["spec"]["predictor"]["model"]["resources"]["limits"]["cpu"] == "3"


def build_history(dest: Path) -> dict[str, str]:
    done = subprocess.run([sys.executable, str(FIXTURE / "build_history.py"), str(dest)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return dict(line.split(" ", 2)[:2] for line in done.stdout.splitlines())


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True).stdout


def test_history_is_reproducible(tmp_path: Path) -> None:
    first, second = build_history(tmp_path / "a"), build_history(tmp_path / "b")
    assert first == second
    assert list(first) == [f"step-{n:02d}" for n in range(1, 18)]
    for repo in REPOSITORIES:
        assert git(tmp_path / "a" / repo, "rev-parse", "HEAD") == git(tmp_path / "b" / repo, "rev-parse",
                                                                        "HEAD")
    ui = tmp_path / "a" / "jukebox-ui"
    assert "search_as_default" not in git(ui, "show", "v0.1:chart/values.schema.json")
    assert "search_as_default" in git(ui, "show", "main:chart/values.schema.json")
    assert git(tmp_path / "a" / "mlops-helmcharts", "diff", "--name-only", "v1", "main").split() == [
        "charts/model-deployment/music-transformer-raw/templates/inferenceservice.yaml"]


def test_history_steps_render_what_they_say(helm4: Path, tmp_path: Path) -> None:
    """Step 5 (canary on the RawDeployment chart) changes no rendered byte; steps 8 to 12 move
    canaryTrafficPercent 20, 50, 0, 100, absent."""
    build_history(tmp_path / "h")
    gitops, charts = tmp_path / "h" / "mlops-gitops", tmp_path / "h" / "mlops-helmcharts"
    (tmp_path / "home").mkdir()

    def render_test_jukebox(step: str) -> str:
        config = tmp_path / f"{step}.yaml"
        config.write_text(git(gitops, "show", f"{step}:model-deployments/test/jukebox/config.yaml"))
        chart = charts / yaml.safe_load(config.read_text())["chart_path"]
        done = helm(helm4, "template", "jukebox", str(chart), "-n", "team-a-test", "-f", str(config),
                    home=tmp_path / "home")
        assert done.returncode == 0, done.stderr
        return done.stdout

    assert render_test_jukebox("step-04") == render_test_jukebox("step-05")
    percents = [rendered_inferenceservice(render_test_jukebox(f"step-{n:02d}"))["spec"]["predictor"]
                .get("canaryTrafficPercent") for n in range(8, 13)]
    assert percents == [20, 50, 0, 100, None]
