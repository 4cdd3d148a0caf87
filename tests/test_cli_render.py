"""The real CLI on the examples: what the issue's "Done when" promises."""

from __future__ import annotations

import json
import os
import shutil
import stat
from pathlib import Path

import yaml

from conftest import REPO_ROOT, RunCli
from modeldeploy.render.helm import NO_HELM_HINT

TEST_JUKEBOX = "model-deployments/test/jukebox/config.yaml"
PROD_JUKEBOX = "model-deployments/prod/jukebox/config.yaml"


def _objects(stream: str) -> dict[str, dict]:
    return {d["kind"]: d for d in yaml.safe_load_all(stream) if d}


def test_test_jukebox_has_canary_20(run_cli: RunCli) -> None:
    proc = run_cli(["render", TEST_JUKEBOX])
    assert proc.returncode == 0, proc.stderr
    isvc = _objects(proc.stdout)["InferenceService"]
    assert isvc["spec"]["predictor"]["canaryTrafficPercent"] == 20
    assert isvc["metadata"]["namespace"] == "team-a-test"
    assert isvc["spec"]["predictor"]["model"]["storageUri"] == (
        "oci://image-registry.openshift-image-registry.svc:5000/team-a-test/jukebox:4562a17c17")


def test_prod_jukebox_has_no_canary(run_cli: RunCli) -> None:
    proc = run_cli(["render", PROD_JUKEBOX])
    assert proc.returncode == 0, proc.stderr
    objects = _objects(proc.stdout)
    assert "canaryTrafficPercent" not in objects["InferenceService"]["spec"]["predictor"]
    assert objects["InferenceService"]["metadata"]["namespace"] == "team-a-prod"
    assert set(objects) == {"InferenceService", "ServingRuntime"}


def test_render_is_deterministic(run_cli: RunCli) -> None:
    first = run_cli(["render"])
    second = run_cli(["render"])
    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout
    assert first.stdout.count("kind: InferenceService") == 2


def test_render_output_dir_writes_one_file_per_deployment(run_cli: RunCli, tmp_path: Path) -> None:
    proc = run_cli(["render", "-o", str(tmp_path / "out")])
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
    written = sorted(p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out").rglob("*"))
    assert written == [".modeldeploy-rendered.json", "prod", "prod/jukebox.yaml", "test", "test/jukebox.yaml"]
    single = run_cli(["render", TEST_JUKEBOX])
    assert (tmp_path / "out" / "test" / "jukebox.yaml").read_text() == single.stdout
    assert not list((tmp_path / "out").rglob("*.tmp"))


def _gitops(tmp_path: Path, config: str) -> Path:
    (tmp_path / ".git").mkdir()
    (tmp_path / "charts").symlink_to(REPO_ROOT / "charts")
    target = tmp_path / "model-deployments" / "test" / "jukebox" / "config.yaml"
    target.parent.mkdir(parents=True)
    target.write_text(config)
    return target


BAD = """chart_path: charts/model-deployment/music-transformer
name: jukebox
version: 1234e56
image_repository: registry.example.com
image_namespace: models
canary:
  trafficPercen: 20
"""


def test_invalid_config_exits_1_with_positions_and_no_stdout(run_cli: RunCli, tmp_path: Path) -> None:
    _gitops(tmp_path, BAD)
    for command in (["validate"], ["render"]):
        proc = run_cli(command, cwd=tmp_path)
        assert proc.returncode == 1
        assert "Traceback" not in proc.stderr + proc.stdout
        report = proc.stdout if command == ["validate"] else proc.stderr
        assert "model-deployments/test/jukebox/config.yaml:3:10: error: `version: 1234e56` is read " \
               "by Helm as the number 1.234e+59" in report
        assert "model-deployments/test/jukebox/config.yaml:7:3: error: unknown key `trafficPercen` " \
               "in canary; did you mean `trafficPercent`? [schema-unknown-key]" in report
        if command == ["render"]:
            assert proc.stdout == "", "no partial manifest stream on errors"


def test_render_without_helm_is_an_environment_error(run_cli: RunCli, tmp_path: Path) -> None:
    env = {"HELM_BIN": "", "PATH": str(tmp_path), "MODELDEPLOY_CACHE": str(tmp_path / "cache")}
    proc = run_cli(["render", TEST_JUKEBOX], env=env)
    assert (proc.returncode, proc.stderr) == (2, f"modeldeploy: error: {NO_HELM_HINT}\n")


def test_render_refuses_helm_2(run_cli: RunCli, tmp_path: Path) -> None:
    fake = tmp_path / "helm"
    fake.write_text("#!/bin/sh\necho v2.17.0\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    proc = run_cli(["render", TEST_JUKEBOX], helm=fake)
    assert proc.returncode == 2
    assert "supports Helm 3 and Helm 4" in proc.stderr


def test_validate_needs_no_helm(run_cli: RunCli, tmp_path: Path) -> None:
    proc = run_cli(["validate"], env={"HELM_BIN": "", "PATH": os.defpath,
                                      "MODELDEPLOY_CACHE": str(tmp_path)})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout == ""


def test_usage_errors_exit_2(run_cli: RunCli) -> None:
    assert run_cli(["validate", "no/such/path"]).returncode == 2
    assert run_cli(["frobnicate"]).returncode == 2
    assert run_cli(["render", "--kubernetes-version", "9.9.9", TEST_JUKEBOX]).returncode == 2
    assert run_cli(["validate", "--charts-root", "no/such/dir"]).returncode == 2


def test_charts_root_option_for_a_separate_charts_repo(run_cli: RunCli, tmp_path: Path) -> None:
    gitops = tmp_path / "gitops"
    config = gitops / "model-deployments" / "test" / "jukebox" / "config.yaml"
    config.parent.mkdir(parents=True)
    (gitops / ".git").mkdir()
    config.write_text((REPO_ROOT / TEST_JUKEBOX).read_text())
    missing = run_cli(["render", str(config)], cwd=gitops)
    assert missing.returncode == 1
    assert missing.stderr.endswith("\n1 config checked: 1 error\n")
    assert missing.stderr.splitlines()[0].endswith(
        f"names no folder under the charts root {gitops}; check the spelling (the path is relative to the "
        "charts root), or, if the charts live in another repository, point at its checkout with "
        "--charts-root DIR or MODELDEPLOY_CHARTS_ROOT [chart-path]")
    proc = run_cli(["render", str(config), "--charts-root", str(REPO_ROOT)], cwd=gitops)
    assert proc.returncode == 0, proc.stderr
    assert _objects(proc.stdout)["InferenceService"]["metadata"]["namespace"] == "test"


def test_invalid_config_without_helm_is_a_config_problem(run_cli: RunCli, tmp_path: Path) -> None:
    _gitops(tmp_path, BAD)
    env = {"HELM_BIN": "", "PATH": os.defpath, "MODELDEPLOY_CACHE": str(tmp_path / "cache")}
    proc = run_cli(["render"], cwd=tmp_path, env=env)
    assert proc.returncode == 1, proc.stderr
    assert "[yaml-implicit-type]" in proc.stderr and "helm not found" not in proc.stderr


def test_a_comma_in_the_config_path_renders(run_cli: RunCli, tmp_path: Path) -> None:
    # helm splits --values at commas; the config reaches it another way, alone or in a batch
    gitops = tmp_path / "gitops"
    (gitops / ".git").mkdir(parents=True)
    for name in ("a,b", "jukebox", "q\"uote", "new\nline"):
        config = gitops / "model-deployments" / "test" / name / "config.yaml"
        config.parent.mkdir(parents=True)
        text = (REPO_ROOT / TEST_JUKEBOX).read_text()
        config.write_text(text.replace("name: jukebox", f"name: x{len(name)}"))
    args = ["--charts-root", str(REPO_ROOT)]
    alone = run_cli(["render", "model-deployments/test/a,b/config.yaml", *args], cwd=gitops)
    assert alone.returncode == 0, alone.stderr
    assert _objects(alone.stdout)["InferenceService"]["metadata"]["name"] == "x3"
    both = run_cli(["render", "model-deployments", *args], cwd=gitops)
    assert both.returncode == 0, both.stderr
    names = [d["metadata"]["name"] for d in yaml.safe_load_all(both.stdout)
             if d and d["kind"] == "InferenceService"]
    assert sorted(names) == ["x3", "x6", "x7", "x8"]


def test_a_canary_the_render_ignores_is_said_once_at_the_config(run_cli: RunCli, tmp_path: Path) -> None:
    # another chart (no values.schema.json: not this repository's contract) renders the canary in
    # RawDeployment mode: one error at the config's line, not a second finding on the object
    gitops = tmp_path / "gitops"
    (gitops / ".git").mkdir(parents=True)
    chart = gitops / "charts" / "raw-canary"
    shutil.copytree(REPO_ROOT / "charts/model-deployment/music-transformer", chart)
    (chart / "values.schema.json").unlink()
    config = gitops / "model-deployments" / "test" / "jukebox" / "config.yaml"
    config.parent.mkdir(parents=True)
    text = (REPO_ROOT / TEST_JUKEBOX).read_text().replace("charts/model-deployment/music-transformer",
                                                          "charts/raw-canary")
    config.write_text(text + "deployment_mode: RawDeployment\n")
    proc = run_cli(["render", "model-deployments", "--format", "json"], cwd=gitops)
    assert proc.returncode == 1, proc.stderr
    rules = [d["rule"] for d in json.loads(proc.stderr)["diagnostics"]]
    assert rules.count("canary-not-rendered") == 1
    assert "kserve-canary-raw-deployment" not in rules
