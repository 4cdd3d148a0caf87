"""The schema registry and manifest checks (kubeconform layout, in-process)."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import jsonschema
import pytest

from modeldeploy.manifests import check as manifest_check
from modeldeploy.manifests.kubeconform import run_kubeconform
from modeldeploy.manifests.schema_registry import (
    DEFAULT_KUBERNETES_VERSION,
    SchemaRegistry,
    default_locations,
    expand,
)


@pytest.fixture(scope="module")
def registry() -> SchemaRegistry:
    return SchemaRegistry(default_locations(), DEFAULT_KUBERNETES_VERSION)


def test_locations_expand_like_kubeconform() -> None:
    template = "{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json"
    assert expand(template, "serving.kserve.io/v1beta1", "InferenceService", "1.35.0") == \
        "serving.kserve.io/inferenceservice_v1beta1.json"
    core = "{{.NormalizedKubernetesVersion}}-local{{.StrictSuffix}}/{{.ResourceKind}}{{.KindSuffix}}.json"
    assert expand(core, "apps/v1", "Deployment", "1.35.0") == "v1.35.0-local-strict/deployment-apps-v1.json"
    assert expand(core, "v1", "ConfigMap", "1.35.0") == "v1.35.0-local-strict/configmap-v1.json"


ISVC = {"apiVersion": "serving.kserve.io/v1beta1", "kind": "InferenceService",
        "metadata": {"name": "jukebox"},
        "spec": {"predictor": {"canaryTrafficPercent": 20,
                               "model": {"modelFormat": {"name": "onnx"}, "storageUri": "oci://r/n/m:1"}}}}


def _statuses(objects: list, registry: SchemaRegistry) -> list[str]:
    return [s.status for s in manifest_check.check_objects(objects, registry, "c.yaml")[0]]


def test_valid_kserve_and_core_objects(registry: SchemaRegistry) -> None:
    configmap = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}, "data": {"a": "b"}}
    assert _statuses([ISVC, configmap], registry) == ["valid", "valid"]


def test_invalid_object_names_path_and_rule(registry: SchemaRegistry) -> None:
    bad = json.loads(json.dumps(ISVC))
    bad["spec"]["predictor"]["canaryTrafficPercen"] = 20
    bad_cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}, "data": {"a": 1}}
    statuses, problems = manifest_check.check_objects([bad, bad_cm], registry, "c.yaml")
    assert [s.status for s in statuses] == ["invalid", "invalid"]
    assert {p.rule for p in problems} == {"manifest-invalid"}
    assert "rendered InferenceService/jukebox: spec.predictor" in problems[0].message
    assert "canaryTrafficPercen" in problems[0].message
    assert "rendered ConfigMap/x: data.a" in problems[1].message


def test_unknown_kind_is_could_not_check_not_invalid(registry: SchemaRegistry) -> None:
    custom = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}
    typo = {"apiVersion": "apps/v1", "kind": "Deploymnet", "metadata": {"name": "d"}}
    statuses, problems = manifest_check.check_objects([custom, typo, "just text"], registry, "c.yaml")
    assert [s.status for s in statuses] == ["no-schema", "no-schema", "not-an-object"]
    # a custom resource nobody gave a schema for is a warning; a kind of Kubernetes' groups, an error
    assert [(p.rule, p.severity.value) for p in problems] == [
        ("manifest-crd-no-schema", "warning"), ("manifest-no-schema", "error"),
        ("manifest-not-an-object", "error")]
    # check (kubeconform's rule): every missing schema fails
    strict = manifest_check.Selection(every_missing_schema_fails=True)
    _, problems = manifest_check.check_objects([custom], registry, "c.yaml", strict)
    assert [p.rule for p in problems] == ["manifest-no-schema"]


def test_kubeconform_findings_are_reported(tmp_path: Path, registry: SchemaRegistry,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODELDEPLOY_CACHE", str(tmp_path / "cache"))
    # kubeconform is not installable here; this stands in for its JSON output format
    # to test how we read it. Its arguments are recorded to check the schema locations.
    fake = tmp_path / "kubeconform"
    record = tmp_path / "args.txt"
    report = {"resources": [
        {"filename": "stdin", "kind": "InferenceService", "name": "jukebox", "version": "v1beta1",
         "status": "statusInvalid", "msg": "",
         "validationErrors": [{"path": "/spec/predictor", "msg": "additional properties 'x' not allowed"}]},
        {"filename": "stdin", "kind": "ServingRuntime", "name": "jukebox", "status": "statusValid"}]}
    fake.write_text(f"#!/bin/sh\necho \"$@\" > {record}\ncat > /dev/null\necho '{json.dumps(report)}'\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    configmap = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}}
    problems = run_kubeconform(str(fake), "---\n", [ISVC, configmap], registry, "c.yaml")
    assert [p.rule for p in problems] == ["kubeconform"]
    assert "InferenceService/jukebox: /spec/predictor: additional properties" in problems[0].message
    args = record.read_text()
    assert "-strict" in args and args.count("-schema-location") == 2
    assert "{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json" in args
    # Core kinds go to kubeconform as standalone copies: it would fetch /api/_definitions.json.
    standalone = tmp_path / "cache" / "kubeconform-schemas" / "v1.35.0-local-strict" / "configmap-v1.json"
    assert str(tmp_path / "cache" / "kubeconform-schemas") in args
    copy = json.loads(standalone.read_text())
    assert "/api/_definitions.json" not in standalone.read_text() and "$defs" in copy
    validator = registry.validator(registry.find("v1", "ConfigMap"))  # same verdicts as the original
    standalone_validator = jsonschema.Draft202012Validator(copy)
    for data in ({"a": "b"}, {"a": 1}):
        obj = {**configmap, "data": data}
        assert validator.is_valid(obj) == standalone_validator.is_valid(obj)


def test_shared_core_definitions_are_read_once_per_process(registry: SchemaRegistry, monkeypatch) -> None:
    # Every core schema refers to `_definitions.json` (2 MB); reading it per object made `check`
    # of 6,000 resources take 45 s of CPU instead of under 2.
    from modeldeploy.manifests import schema_registry

    reads: list[str] = []
    real = schema_registry._load_json
    monkeypatch.setattr(schema_registry, "_load_json", lambda path: reads.append(str(path)) or real(path))
    objects = [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"c{i}"}, "data": {"k": "v"}}
               for i in range(30)]
    assert _statuses(objects, registry) == ["valid"] * 30
    assert sum(path.endswith("_definitions.json") for path in reads) <= 1, reads
