"""One test per summary rule of rollout_summary: the exact words a reviewer reads.

`test_every_rule_is_tested` fails when a rule is added without a case here.
"""

from __future__ import annotations

import inspect

import pytest

from modeldeploy.explain import rollout_summary as rs
from modeldeploy.explain.rollout_summary import RolloutState
from modeldeploy.results.sentence import Sentence


def state(version: str = "v1", canary: int | None = None, mode: str = rs.SERVERLESS,
          image: str | None = "oci://registry.example/team/jukebox") -> RolloutState:
    return RolloutState("jukebox", version, canary, mode, image)


RAW = rs.RAW
# (rule function, before, after, expected sentence text or None)
CASES: list[tuple[object, RolloutState | None, RolloutState | None, str | None]] = [
    (rs.new_deployment, None, state(),
     "new deployment 'jukebox': version v1 receives all traffic once ready"),
    (rs.new_deployment, state(), state("v2"), None),
    (rs.removed_deployment, state(), None,
     "removed deployment 'jukebox': its InferenceService and all its revisions are deleted"),
    (rs.removed_deployment, None, state(), None),
    (rs.version_change, state("v1"), state("v2"), "model version v1 -> v2"),
    (rs.version_change, state(image="oci://a/t/j"), state("v2", image="oci://b/t/j"),
     "model image oci://a/t/j:v1 -> oci://b/t/j:v2"),
    (rs.version_change, state(canary=20), state(canary=50), None),
    (rs.mode_change, state(), state(mode=RAW),
     "deployment mode Serverless -> RawDeployment: KServe recreates the deployment's workloads"),
    (rs.mode_change, state(), state(), None),
    (rs.canary_step, state(canary=20), state(canary=50), "canary traffic 20% -> 50%"),
    (rs.canary_step, state(canary=20, mode=RAW), state(canary=50, mode=RAW), None),
    (rs.canary_step, state(canary=20), state(canary=None), None),
    (rs.canary_ignored, state(), state(canary=20, mode=RAW),
     "canary ignored: RawDeployment mode does not split traffic, the latest version receives 100% at once"),
    (rs.canary_ignored, state(), state(canary=20), None),
    (rs.traffic_outcome, state("v1"), state("v2"),
     "the new version receives 100% of traffic immediately (no canary)"),
    (rs.traffic_outcome, state("v1", canary=20), state("v2", canary=100),
     "the new version receives 100% of traffic immediately (canary at 100%)"),
    (rs.traffic_outcome, state(canary=50), state(canary=None),
     "promotion: the canary is removed and the latest revision receives 100% of traffic"),
    (rs.traffic_outcome, state("v1"), state("v2", canary=0),
     "the new version is deployed but receives 0% of traffic; all traffic stays on the previous revision"),
    (rs.traffic_outcome, state(canary=100), state(canary=0),
     "rollback: all traffic returns to the previous revision"),
    (rs.traffic_outcome, state(canary=50), state(canary=100),
     "blue/green cut-over: the latest revision receives 100% of traffic; the previous revision stays "
     "available for rollback"),
    (rs.traffic_outcome, state("v1"), state("v2", canary=20),
     "the new version receives 20% of traffic; 80% stays on the previous revision"),
    (rs.traffic_outcome, state(canary=20), state(canary=50),
     "the latest revision receives 50% of traffic; 50% stays on the previous revision"),
    (rs.traffic_outcome, state(canary=20), state(canary=20), None),
    (rs.traffic_outcome, state("v1", mode=RAW), state("v2", mode=RAW), None),
    (rs.traffic_outcome, None, state(), None),
]


@pytest.mark.parametrize(("rule", "before", "after", "expected"), CASES,
                         ids=[f"{c[0].__name__}-{i}" for i, c in enumerate(CASES)])  # type: ignore[attr-defined]
def test_rule(rule, before, after, expected) -> None:  # type: ignore[no-untyped-def]
    sentence = rule(before, after)
    assert (sentence.text if sentence else None) == expected


def test_moved() -> None:
    assert rs.moved("model-deployments/test/old", "model-deployments/test/jukebox") == Sentence(
        "moved", "config moved from model-deployments/test/old/ to model-deployments/test/jukebox/: "
        "same InferenceService, manifests compared across the move")


def test_namespace_change() -> None:
    assert rs.namespace_change("team-a", "team-a") is None
    assert rs.namespace_change("team-a", "team-b") == Sentence(
        "namespace-change", "namespace team-a -> team-b: a new InferenceService starts in team-b with no "
        "revision history, and the one in team-a is deleted")


@pytest.mark.parametrize(("after", "cause", "new_revision", "rule", "text"), [
    (state(), "chart", False, "chart-change", "chart change: manifests changed, traffic split unchanged"),
    (state(), "chart", True, "chart-change", "chart change: manifests changed, traffic split unchanged; "
     "the predictor rolls out a new revision: it receives 100% of traffic once ready (no canary)"),
    (state(canary=20), "config", True, "config-change", "config change: manifests changed, traffic split "
     "unchanged; the predictor rolls out a new revision: it receives 20% of traffic, 80% stays on the "
     "previous revision"),
    (state(canary=20, mode=RAW), "environment", True, "environment-change",
     "environment change: manifests changed, traffic split unchanged"),
])
def test_manifests_only_change(after: RolloutState, cause: str, new_revision: bool, rule: str,
                               text: str) -> None:
    assert rs.manifests_only_change(after, cause, new_revision) == Sentence(rule, text)


def test_invalid_config() -> None:
    assert rs.invalid_config("head", "model-deployments/test/x/config.yaml") == Sentence(
        "invalid-config", "head config model-deployments/test/x/config.yaml is invalid and was not "
        "rendered (see the problems)")


def test_describe_change_orders_rules() -> None:
    sentences = rs.describe_change(state("v1", canary=20), state("v2", canary=50))
    assert [s.rule for s in sentences] == ["version-change", "canary-step", "canary-split"]
    assert rs.describe_change(state(), state()) == []


@pytest.mark.parametrize(("values", "expected"), [
    ({"name": "j", "version": "v1", "image_repository": "r", "image_namespace": "n",
      "canary": {"trafficPercent": 20}}, RolloutState("j", "v1", 20, rs.SERVERLESS, "oci://r/n/j")),
    ({"name": "j", "version": 12, "canary": {"trafficPercent": True}, "deployment_mode": RAW},
     RolloutState("j", None, None, RAW, None)),
    ({"name": "j", "version": "v1", "canary": {}}, RolloutState("j", "v1", None, rs.SERVERLESS, None)),
])
def test_state_from_values(values: dict[str, object], expected: RolloutState) -> None:
    assert RolloutState.from_values(values) == expected


def _isvc(version: str, canary: int | None = None, mode: str | None = None) -> dict[str, object]:
    predictor: dict[str, object] = {"containers": [
        {"name": "kserve-container", "env": [{"name": "STORAGE_URI", "value": f"oci://r:5000/n/j:{version}"}]}]}
    if canary is not None:
        predictor["canaryTrafficPercent"] = canary
    annotations = {"serving.kserve.io/deploymentMode": mode} if mode else {}
    return {"kind": "InferenceService", "metadata": {"name": "j", "annotations": annotations},
            "spec": {"predictor": predictor}}


def test_state_from_the_rendered_inferenceservice() -> None:
    """A port is no tag; KServe 0.16's mode names are the old modes; no annotation: Serverless."""
    assert RolloutState.from_objects([{"kind": "ConfigMap"}, _isvc("v1", 20)]) == RolloutState(
        "j", "v1", 20, rs.SERVERLESS, "oci://r:5000/n/j")
    assert RolloutState.from_objects([_isvc("v1", mode="Standard")]).deployment_mode == RAW  # type: ignore[union-attr]
    assert RolloutState.from_objects([{"kind": "Deployment"}]) is None


def _deployment(image: str, replicas: int | None = None) -> dict[str, object]:
    spec: dict[str, object] = {"template": {"spec": {"containers": [{"name": "ui", "image": image}]}}}
    if replicas is not None:
        spec["replicas"] = replicas
    return {"kind": "Deployment", "metadata": {"name": "ui"}, "spec": spec}


def test_workload_changes() -> None:
    assert rs.workload_changes([], [_deployment("ui:1")]) == [
        Sentence("new-workload", "new Deployment/ui: runs ui:1")]
    assert rs.workload_changes([_deployment("ui:1")], []) == [
        Sentence("removed-workload", "removed Deployment/ui: its pods are deleted")]
    assert rs.workload_changes([_deployment("ui:1")], [_deployment("ui:2", 2)]) == [
        Sentence("workload-image", "Deployment/ui: container ui image ui:1 -> ui:2: its pods are replaced"),
        Sentence("workload-replicas", "Deployment/ui: replicas 1 -> 2")]
    assert rs.workload_changes([_deployment("ui:1")], [_deployment("ui:1", 1)]) == []


def test_nothing_rendered() -> None:
    assert rs.nothing_rendered("config") == Sentence(
        "nothing-rendered", "config change, nothing rendered changed: the chart reads none of the changed "
        "values, so Argo CD applies the same objects")


TESTED = {c[0] for c in CASES} | {rs.moved, rs.namespace_change, rs.manifests_only_change,
                                  rs.invalid_config, rs.workload_changes, rs.nothing_rendered}


def test_every_rule_is_tested() -> None:
    """Every public function returning a Sentence is a rule and needs a case above."""
    rules = {f for name, f in inspect.getmembers(rs, inspect.isfunction)
             if f.__module__ == rs.__name__ and not name.startswith("_") and name != "describe_change"
             and "Sentence" in str(inspect.signature(f).return_annotation)}
    assert set(rs.RULES) <= rules
    assert rules - TESTED == set()
