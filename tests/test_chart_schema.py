"""One source of truth: the chart's values.schema.json is schemas/config.schema.json,
and helm (4 and 3, draft-07 semantics) rejects what modeldeploy rejects."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO_ROOT, RunCli

CHART = REPO_ROOT / "charts" / "model-deployment" / "music-transformer"
VALID = """chart_path: charts/model-deployment/music-transformer
name: jukebox
version: 4562a17c17
image_repository: registry.example.com
image_namespace: models
"""
# Each case breaks one thing; helm's schema check and ours must both refuse it.
INVALID = {
    "sha-as-float": VALID.replace("4562a17c17", "1234e56"),
    "octal-version": VALID.replace("4562a17c17", "0123"),
    "unknown-key": VALID + "canary:\n  trafficPercen: 20\n",
    "percent-150": VALID + "canary:\n  trafficPercent: 150\n",
    "percent-string": VALID + 'canary:\n  trafficPercent: "20"\n',
    "percent-fraction": VALID + "canary:\n  trafficPercent: 20.5\n",
    "percent-empty": VALID + "canary:\n  trafficPercent:\n",
    "bad-name": VALID.replace("name: jukebox", "name: Jukebox_V2"),
    "missing-version": VALID.replace("version: 4562a17c17\n", ""),
    "bad-mode": VALID + "deployment_mode: Knative\n",
    "namespace-bool": VALID.replace("image_namespace: models", "image_namespace: off"),
}


def test_chart_schema_is_the_config_schema() -> None:
    assert (CHART / "values.schema.json").read_bytes() == \
        (REPO_ROOT / "schemas" / "config.schema.json").read_bytes()


def test_derived_files_are_up_to_date() -> None:
    proc = subprocess.run([sys.executable, "tool/scripts/sync_config_schema.py", "--check"],
                          cwd=REPO_ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def _helm_accepts(helm: Path, values: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(helm), "template", "jukebox", str(CHART), "-f", str(values)],
                          capture_output=True, text=True)


@pytest.mark.parametrize("case", sorted(INVALID))
def test_helm_and_modeldeploy_both_refuse(case: str, helm_bin: Path, run_cli: RunCli,
                                          tmp_path: Path) -> None:
    values = tmp_path / "model-deployments" / "test" / "jukebox" / "config.yaml"
    values.parent.mkdir(parents=True)
    values.write_text(INVALID[case])
    helm = _helm_accepts(helm_bin, values)
    assert helm.returncode != 0, f"helm accepted {case}:\n{helm.stdout[:400]}"
    ours = run_cli(["validate", str(values), "--charts-root", str(REPO_ROOT)], cwd=tmp_path)
    assert ours.returncode == 1, ours.stdout


def test_helm_and_modeldeploy_both_accept_valid(helm_bin: Path, run_cli: RunCli, tmp_path: Path) -> None:
    values = tmp_path / "model-deployments" / "test" / "jukebox" / "config.yaml"
    values.parent.mkdir(parents=True)
    values.write_text(VALID + "canary:\n  trafficPercent: 0\nautoscaling: true\n")
    assert _helm_accepts(helm_bin, values).returncode == 0
    ours = run_cli(["validate", str(values), "--charts-root", str(REPO_ROOT)], cwd=tmp_path)
    assert ours.returncode == 0, ours.stdout
