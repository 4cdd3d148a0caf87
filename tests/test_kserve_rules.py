"""The KServe semantic rules (manifests/kserve_rules.py) in process, one line each, yamllint style:
`found(obj)` runs the check `render` and `check` run (manifests/check.py: schema first, then the
KServe rules) and gives [(dotted path of the diagnostic's field, rule id)].

The CLI cases are tests/data/kserve-rules (tests/test_check_cli.py).
"""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

import pytest
import yaml

from modeldeploy.manifests import check as manifest_check
from modeldeploy.manifests import kserve_rules
from modeldeploy.manifests.locate import Locator
from modeldeploy.manifests.memo_validator import MemoRegistry
from modeldeploy.manifests.parse import parse_manifests
from modeldeploy.manifests.schema_registry import DEFAULT_KUBERNETES_VERSION, default_locations
from modeldeploy.rules.registry import RULES

MODEL = {"modelFormat": {"name": "sklearn"}, "storageUri": "gs://bucket/model"}
KSERVE_CONTAINER = {"name": "kserve-container", "image": "registry.example.com/custom:1"}
SIDECAR = {"name": "sidecar", "image": "registry.example.com/sidecar:1"}


def isvc(mode: str | None = None, **spec: Any) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": "jukebox"}
    if mode is not None:
        metadata["annotations"] = {"serving.kserve.io/deploymentMode": mode}
    spec.setdefault("predictor", {"model": copy.deepcopy(MODEL)})
    return {"apiVersion": "serving.kserve.io/v1beta1", "kind": "InferenceService", "metadata": metadata,
            "spec": spec}


def canary(name: str, percent: int, **predictor: Any) -> dict[str, Any]:
    # The CRD requires the container name of a model inside spec.canary[].
    predictor = predictor or {"model": {**MODEL, "name": "kserve-container"}}
    return {"trafficPercent": percent, "predictor": copy.deepcopy({"name": name, **predictor})}


@cache
def registry() -> MemoRegistry:
    return MemoRegistry(default_locations(), DEFAULT_KUBERNETES_VERSION)


def found(*objects: Any) -> list[tuple[str, str]]:
    """(path, rule) of each diagnostic; the path read back from where the diagnostic points."""
    text = "".join("---\n" + _yaml(obj) for obj in objects)
    lines: list[int] = []
    parsed = parse_manifests(text, None, lines)
    source = manifest_check.Source("m.yaml", lines, Locator(text), noun="")
    _, problems = manifest_check.check_objects(parsed, registry(), source)
    paths = _paths(yaml.compose_all(text))
    return [(paths.get((d.line, d.column), f"{d.line}:{d.column}"), d.rule) for d in problems]


def _yaml(obj: Any) -> str:
    return yaml.safe_dump(copy.deepcopy(obj), sort_keys=False)  # no aliases for shared parts


def _paths(documents: Any) -> dict[tuple[int, int], str]:
    """(line, column) of every key and node -> its dotted path (a key wins over the mapping it starts)."""
    found: dict[tuple[int, int], str] = {}

    def walk(node: Any, path: tuple[str, ...]) -> None:
        found.setdefault((node.start_mark.line + 1, node.start_mark.column + 1), ".".join(path))
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                found[(key.start_mark.line + 1, key.start_mark.column + 1)] = ".".join((*path, key.value))
                walk(value, (*path, key.value))
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                walk(item, (*path, str(index)))

    for document in documents:
        walk(document, ())
    return found


def with_predictor(**predictor: Any) -> dict[str, Any]:
    return isvc(predictor=predictor)


def test_every_kserve_rule_is_registered_and_documented() -> None:
    for rule in (kserve_rules.RULE_TRAFFIC, kserve_rules.RULE_RAW_CANARY, kserve_rules.RULE_CANARY_MODE,
                 kserve_rules.RULE_ONE_IMPLEMENTATION, kserve_rules.RULE_STORAGE_URI):
        assert RULES[rule.id] is rule and len(rule.doc) > 80


def test_a_plain_inference_service_has_no_finding() -> None:
    assert found(isvc()) == []


# --- kserve-canary-traffic-percent ------------------------------------------------------------------

def test_canary_traffic_percent_above_100() -> None:
    assert found(with_predictor(canaryTrafficPercent=101, model=MODEL)) == [
        ("spec.predictor.canaryTrafficPercent", "kserve-canary-traffic-percent")]


def test_canary_traffic_percent_negative_on_a_transformer() -> None:
    assert found(isvc(transformer={"canaryTrafficPercent": -1, "containers": [KSERVE_CONTAINER]})) == [
        ("spec.transformer.canaryTrafficPercent", "kserve-canary-traffic-percent")]


@pytest.mark.parametrize("percent", [0, 1, 99, 100])
def test_canary_traffic_percent_within_bounds(percent: int) -> None:
    assert found(isvc("Knative", predictor={"canaryTrafficPercent": percent, "model": MODEL})) == []


def test_canary_traffic_percent_out_of_bounds_in_raw_mode_is_only_ignored() -> None:
    assert found(isvc("RawDeployment", predictor={"canaryTrafficPercent": 150, "model": MODEL})) == [
        ("spec.predictor.canaryTrafficPercent", "kserve-canary-raw-deployment")]


def test_model_plus_a_legacy_key_in_a_canary_predictor_is_refused() -> None:
    (found_path, rule), = found(isvc("Standard", predictor={"name": "stable", "model": MODEL},
                                     canary=[canary("a", 10, model={**MODEL, "name": "kserve-container"},
                                                    sklearn={"name": "kserve-container"})]))
    assert (found_path, rule) == ("spec.canary.0.predictor", "kserve-one-implementation")


def test_canary_list_adding_up_above_100() -> None:
    assert found(isvc("Standard", predictor={"name": "stable", "model": MODEL},
                      canary=[canary("a", 51), canary("b", 50)])) == [
        ("spec.canary", "kserve-canary-traffic-percent")]


def test_canary_list_adding_up_to_100() -> None:
    assert found(isvc("Standard", predictor={"name": "stable", "model": MODEL},
                      canary=[canary("a", 50), canary("b", 50)])) == []


# --- kserve-canary-raw-deployment, kserve-canary-standard-only --------------------------------------------

@pytest.mark.parametrize("mode", ["RawDeployment", "Standard"])
def test_canary_traffic_percent_ignored_in_raw_mode(mode: str) -> None:
    assert found(isvc(mode, predictor={"canaryTrafficPercent": 30, "model": MODEL})) == [
        ("spec.predictor.canaryTrafficPercent", "kserve-canary-raw-deployment")]


@pytest.mark.parametrize("mode", [None, "Serverless", "Knative"])
def test_canary_traffic_percent_read_in_knative_or_unknown_mode(mode: str | None) -> None:
    assert found(isvc(mode, predictor={"canaryTrafficPercent": 30, "model": MODEL})) == []


def test_raw_mode_without_canary_is_fine() -> None:
    assert found(isvc("RawDeployment")) == []


@pytest.mark.parametrize("mode", ["Serverless", "Knative", "ModelMesh"])
def test_canary_list_refused_outside_standard_mode(mode: str) -> None:
    assert found(isvc(mode, predictor={"name": "stable", "model": MODEL}, canary=[canary("a", 10)])) == [
        ("spec.canary", "kserve-canary-standard-only")]


@pytest.mark.parametrize("mode", [None, "Standard", "RawDeployment"])
def test_canary_list_in_standard_or_unknown_mode(mode: str | None) -> None:
    assert found(isvc(mode, predictor={"name": "stable", "model": MODEL}, canary=[canary("a", 10)])) == []


# --- kserve-one-implementation --------------------------------------------------------------------

def test_model_plus_a_legacy_framework_key() -> None:
    assert found(with_predictor(model=MODEL, sklearn={"storageUri": "gs://b/m"})) == [
        ("spec.predictor", "kserve-one-implementation")]


def test_two_legacy_framework_keys() -> None:
    assert found(with_predictor(tensorflow={"storageUri": "gs://b/m"}, onnx={"storageUri": "gs://b/m"})) == [
        ("spec.predictor", "kserve-one-implementation")]


def test_model_plus_a_kserve_container() -> None:
    assert found(with_predictor(model=MODEL, containers=[KSERVE_CONTAINER])) == [
        ("spec.predictor", "kserve-one-implementation")]


def test_a_predictor_without_any_model() -> None:
    assert found(with_predictor(minReplicas=1)) == [("spec.predictor", "kserve-one-implementation")]


@pytest.mark.parametrize("containers", [[KSERVE_CONTAINER], [SIDECAR], [KSERVE_CONTAINER, SIDECAR]])
def test_a_custom_predictor_is_one_implementation(containers: list[dict[str, str]]) -> None:
    assert found(with_predictor(containers=containers)) == []


def test_a_sidecar_beside_model_is_no_implementation() -> None:
    assert found(with_predictor(model=MODEL, containers=[SIDECAR])) == []


def test_a_transformer_without_containers() -> None:
    assert found(isvc(transformer={"minReplicas": 1})) == [("spec.transformer", "kserve-one-implementation")]


def test_an_explainer_with_art_and_containers() -> None:
    assert found(isvc(explainer={"art": {"type": "SquareAttack"}, "containers": [SIDECAR]})) == [
        ("spec.explainer", "kserve-one-implementation")]


def test_a_canary_predictor_with_two_models() -> None:
    assert found(isvc("Standard", predictor={"name": "stable", "model": MODEL},
                      canary=[canary("a", 10, model={**MODEL, "name": "kserve-container"},
                                     xgboost={"name": "kserve-container", "storageUri": "gs://b/m"})])) == [
        ("spec.canary.0.predictor", "kserve-one-implementation")]


# --- kserve-storage-uri ----------------------------------------------------------------------------

@pytest.mark.parametrize("uri", ["ftp://host/model", "abc://model", "HTTPS://upper.example.com/m",
                                 "https://account.blob.core.windows.net", "s3:/one-slash/x://y"])
def test_storage_uri_refused(uri: str) -> None:
    assert found(with_predictor(model={**MODEL, "storageUri": uri})) == [
        ("spec.predictor.model.storageUri", "kserve-storage-uri")]


@pytest.mark.parametrize("uri", [
    "gs://b/m", "s3://b/m", "pvc://claim/m", "file:///m", "https://h/m", "http://h/m", "hdfs://n/m",
    "webhdfs://n/m", "oci://r/m:1", "oci+native://r/m:1", "oci+fetch://r/m:1", "hf://org/m",
    "https://account.blob.core.windows.net/container/m", "/mnt/models", "models/relative", "s3:/x"])
def test_storage_uri_accepted(uri: str) -> None:
    assert found(with_predictor(model={**MODEL, "storageUri": uri})) == []


def test_storage_uri_of_a_legacy_key_and_of_an_explainer() -> None:
    assert found(isvc(predictor={"sklearn": {"storageUri": "ftp://h/m"}},
                      explainer={"art": {"type": "SquareAttack", "storageUri": "ftp://h/e"}})) == [
        ("spec.predictor.sklearn.storageUri", "kserve-storage-uri"),
        ("spec.explainer.art.storageUri", "kserve-storage-uri")]


def test_storage_uri_supported_by_a_cluster_storage_container_checked_with_it() -> None:
    csc = {"apiVersion": "serving.kserve.io/v1alpha1", "kind": "ClusterStorageContainer",
           "metadata": {"name": "kit"}, "spec": {"container": {"name": "storage-initializer", "image": "i"},
                                                 "supportedUriFormats": [{"prefix": "kit://"},
                                                                         {"regex": "abc://(.+)"}]}}
    assert kserve_rules.storage_uri_supported("kit://r/m", kserve_rules.storage_formats([csc]))
    assert kserve_rules.storage_uri_supported("abc://r/m", kserve_rules.storage_formats([csc]))
    assert not kserve_rules.storage_uri_supported("kit://r/m", [])
    in_a_list = {"apiVersion": "v1", "kind": "List", "items": [csc]}
    assert kserve_rules.storage_uri_supported("kit://r/m", kserve_rules.storage_formats([in_a_list]))
    assert not kserve_rules.storage_uri_supported("xyz://r/m", kserve_rules.storage_formats([csc]))


# --- where the rules run --------------------------------------------------------------------------

def test_rules_skip_other_kinds_and_versions() -> None:
    other = isvc(predictor={"canaryTrafficPercent": 500})
    other["apiVersion"] = "serving.kserve.io/v1alpha1"
    assert kserve_rules.findings(other) == []


def test_render_reports_them_against_the_config_like_the_schema_findings() -> None:
    text = _yaml(isvc(predictor={"canaryTrafficPercent": 101, "model": MODEL}))
    problems = manifest_check.check_manifests(text, "model-deployments/test/a/config.yaml", registry(), None)
    assert [(p.line, p.column, p.rule) for p in problems] == [(1, 1, "kserve-canary-traffic-percent")]
    assert problems[0].message.startswith(
        "rendered InferenceService/jukebox: spec.predictor.canaryTrafficPercent")


def test_a_finding_makes_the_object_invalid_a_warning_does_not() -> None:
    statuses, _ = manifest_check.check_objects(
        [isvc(predictor={"canaryTrafficPercent": 101, "model": MODEL}),
         isvc("Standard", predictor={"canaryTrafficPercent": 10, "model": MODEL})], registry(), "m.yaml")
    assert [s.status for s in statuses] == ["invalid", "valid"]
