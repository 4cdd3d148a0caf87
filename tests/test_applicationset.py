"""The Argo CD ApplicationSets render each config the way `modeldeploy render` does:
release name = the config's name, namespace = the environment's, values = the file."""

from __future__ import annotations

import pytest
import yaml

from conftest import REPO_ROOT
from modeldeploy.config.environments import load_environment

ENVS = sorted(p.parent.name for p in (REPO_ROOT / "model-deployments").glob("*/applicationset.yaml"))


def test_every_environment_has_an_applicationset() -> None:
    envs = sorted(p.name for p in (REPO_ROOT / "model-deployments").iterdir() if p.is_dir())
    assert ENVS == envs == ["prod", "test"]


@pytest.mark.parametrize("env", ENVS)
def test_applicationset_matches_the_tool(env: str) -> None:
    appset = yaml.safe_load((REPO_ROOT / "model-deployments" / env / "applicationset.yaml").read_text())
    assert appset["kind"] == "ApplicationSet"
    (generator,) = appset["spec"]["generators"]
    assert generator["git"]["files"] == [{"path": f"model-deployments/{env}/*/config.yaml"}]
    template = appset["spec"]["template"]["spec"]
    environment, problems = load_environment(REPO_ROOT / "model-deployments" / env, REPO_ROOT)
    assert problems == []
    assert template["destination"]["namespace"] == environment.namespace
    chart_source, values_source = template["sources"]
    assert chart_source["path"] == "{{ .chart_path }}"
    assert chart_source["helm"]["releaseName"] == "{{ .name }}"
    assert chart_source["helm"]["valueFiles"] == ["$values/{{ .path.path }}/config.yaml"]
    assert values_source["ref"] == "values"
    assert appset["spec"]["goTemplate"] is True
