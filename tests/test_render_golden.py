"""Golden files of the full rendered output, under Helm 4 and Helm 3.

Every case renders through the real CLI with each helm and must equal ONE golden
file: that is the proof the chart renders the same under Helm 3 (Argo CD) and 4.
Golden files change only through `./noxw -s golden` and are reviewed in the diff.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from conftest import REPO_ROOT, RunCli
from golden import assert_golden

CANARY_CASES = REPO_ROOT / "tests" / "data" / "canary-cases" / "model-deployments" / "test"
CASES = {
    "examples/test-jukebox": REPO_ROOT / "model-deployments" / "test" / "jukebox" / "config.yaml",
    "examples/prod-jukebox": REPO_ROOT / "model-deployments" / "prod" / "jukebox" / "config.yaml",
    **{f"canary/{p.name}": p / "config.yaml" for p in sorted(CANARY_CASES.iterdir())},
}
EXPECTED_CANARY = {"canary-absent": None, "canary-empty": None, "canary-0": 0, "canary-20": 20,
                   "canary-100": 100, "raw-autoscaling": None}


@pytest.mark.parametrize("case", sorted(CASES))
def test_render_matches_golden(case: str, helm_bin: Path, run_cli: RunCli) -> None:
    proc = run_cli(["render", "--quiet", str(CASES[case])], helm=helm_bin)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""  # --quiet: no summary line either
    assert_golden(f"render/{case}.yaml", proc.stdout)


@pytest.mark.parametrize("case", sorted(EXPECTED_CANARY))
def test_canary_injection(case: str, run_cli: RunCli) -> None:
    proc = run_cli(["render", str(CANARY_CASES / case / "config.yaml")])
    assert proc.returncode == 0, proc.stderr
    (isvc,) = [d for d in yaml.safe_load_all(proc.stdout) if d["kind"] == "InferenceService"]
    predictor = isvc["spec"]["predictor"]
    expected = EXPECTED_CANARY[case]
    if expected is None:
        assert "canaryTrafficPercent" not in predictor
    else:
        assert predictor["canaryTrafficPercent"] == expected
        assert type(predictor["canaryTrafficPercent"]) is int
