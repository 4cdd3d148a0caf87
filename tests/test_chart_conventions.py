"""Chart conventions: `helm lint --strict` on every ci/*-values.yaml (chart-testing's layout),
a `kubeVersion` range helm enforces, and Kubernetes' recommended labels with valid values,
under the pinned Helm 4 and Helm 3."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from conftest import REPO_ROOT

CHART = REPO_ROOT / "charts" / "model-deployment" / "music-transformer"
CI_VALUES = sorted((CHART / "ci").glob("*-values.yaml"))
EXAMPLES = sorted((REPO_ROOT / "model-deployments").glob("*/*/config.yaml"))
RECOMMENDED_LABELS = ("app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/version",
                      "app.kubernetes.io/component", "app.kubernetes.io/part-of",
                      "app.kubernetes.io/managed-by")
# Kubernetes' label value syntax (apimachinery's validation.IsValidLabelValue).
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
# Tags the config schema accepts (^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$) that are not label values.
AWKWARD_VERSIONS = ("_", "_a_", "a.", "1234e56", "0123", "a" * 62 + "-.b", "x" * 125 + "._-",
                    "v1.2.3_build-7")


def helm_env(tmp_path: Path) -> dict[str, str]:
    return {"HELM_CACHE_HOME": str(tmp_path / "cache"), "HELM_CONFIG_HOME": str(tmp_path / "config"),
            "HELM_DATA_HOME": str(tmp_path / "data"), "PATH": "/usr/bin:/bin"}


def run_helm(helm: Path, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(helm), *args], capture_output=True, text=True, timeout=120,
                          env=helm_env(tmp_path), check=False)


def test_ci_values_cover_the_chart_branches() -> None:
    values = [yaml.safe_load(path.read_text()) for path in CI_VALUES]
    assert len(values) >= 3
    assert {v.get("deployment_mode", "Serverless") for v in values} == {"Serverless", "RawDeployment"}
    assert {v.get("canary", {}).get("trafficPercent") for v in values} >= {None, 0, 20}
    assert {bool(v.get("autoscaling")) for v in values} == {True, False}


@pytest.mark.parametrize("values_file", CI_VALUES, ids=lambda p: p.name)
def test_helm_lint_strict_passes_on_each_ci_values_file(helm_bin: Path, tmp_path: Path,
                                                        values_file: Path) -> None:
    proc = run_helm(helm_bin, tmp_path, "lint", "--strict", str(CHART), "--values", str(values_file))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "1 chart(s) linted, 0 chart(s) failed" in proc.stdout
    assert "[WARNING]" not in proc.stdout and "[ERROR]" not in proc.stdout


def test_helm_lint_on_the_defaults_fails_only_for_the_required_keys(helm_bin: Path, tmp_path: Path) -> None:
    """values.yaml has no default for name, version, ...: there is no deployment without them,
    so lint on the defaults alone must fail, and only because of those keys (chart-testing
    lints with the ci/ files instead)."""
    proc = run_helm(helm_bin, tmp_path, "lint", "--strict", str(CHART))
    assert proc.returncode != 0
    errors = [line for line in proc.stdout.splitlines() if "[ERROR]" in line or line.startswith("- ")]
    assert errors
    required = yaml.safe_load((CHART / "values.schema.json").read_text())["required"]
    for key in required:
        assert key in proc.stdout
    for line in errors:
        assert "missing properties" in line or "is required" in line or "values don't meet" in line, line


def test_kube_version_range_is_enforced(helm_bin: Path, tmp_path: Path) -> None:
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    assert chart["kubeVersion"] == ">=1.30.0-0"
    values = str(CHART / "ci" / "minimal-values.yaml")
    for accepted in ("1.30.0", "1.35.0", "v1.31.2-eks-7f9249a"):
        proc = run_helm(helm_bin, tmp_path, "template", "jukebox", str(CHART), "--values", values,
                        "--kube-version", accepted)
        assert proc.returncode == 0, f"{accepted}: {proc.stderr}"
    proc = run_helm(helm_bin, tmp_path, "template", "jukebox", str(CHART), "--values", values,
                    "--kube-version", "1.29.9")
    assert proc.returncode != 0
    assert "chart requires kubeVersion: >=1.30.0-0" in proc.stderr


def rendered_objects(helm: Path, tmp_path: Path, values: Path, *extra: str) -> list[dict]:
    proc = run_helm(helm, tmp_path, "template", "jukebox", str(CHART), "--namespace", "team-a-test",
                    "--values", str(values), *extra)
    assert proc.returncode == 0, proc.stderr
    return [doc for doc in yaml.safe_load_all(proc.stdout) if doc]


@pytest.mark.parametrize("values_file", [*EXAMPLES, *CI_VALUES],
                         ids=lambda p: p.relative_to(REPO_ROOT).as_posix())
def test_every_object_has_the_recommended_labels(helm_bin: Path, tmp_path: Path, values_file: Path) -> None:
    config = yaml.safe_load(values_file.read_text())
    objects = rendered_objects(helm_bin, tmp_path, values_file)
    assert {obj["kind"] for obj in objects} == {"InferenceService", "ServingRuntime"}
    for obj in objects:
        labels = obj["metadata"]["labels"]
        assert set(RECOMMENDED_LABELS) <= set(labels), obj["kind"]
        assert labels["app.kubernetes.io/name"] == config["name"]
        assert labels["app.kubernetes.io/instance"] == "jukebox"
        assert labels["app.kubernetes.io/managed-by"] == "Helm"
        assert "helm.sh/chart" not in labels  # the chart version would touch every object on a bump
        for value in labels.values():
            assert len(value) <= 63 and LABEL_VALUE.match(value), f"{obj['kind']}: {value!r}"


@pytest.mark.parametrize("version", AWKWARD_VERSIONS)
def test_version_label_is_a_valid_label_value_for_any_accepted_tag(helm4: Path, tmp_path: Path,
                                                                    version: str) -> None:
    assert re.match(r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$", version)  # the schema accepts it
    objects = rendered_objects(helm4, tmp_path, CHART / "ci" / "minimal-values.yaml",
                               "--set-string", f"version={version}")
    for obj in objects:
        label = obj["metadata"]["labels"]["app.kubernetes.io/version"]
        assert len(label) <= 63 and LABEL_VALUE.match(label), repr(label)
        assert label in version  # a cut of the tag, never another value
    isvc = next(obj for obj in objects if obj["kind"] == "InferenceService")
    # the tag itself is intact
    assert isvc["spec"]["predictor"]["model"]["storageUri"].endswith(f":{version}")
