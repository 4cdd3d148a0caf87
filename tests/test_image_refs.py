"""The `image-reference` rule (manifests/image_refs.py) in process, one line each: `found(obj)` of
tests/test_kserve_rules.py runs what `render` and `check` run (schema first, then the semantic
rules) and gives [(dotted path of the diagnostic's field, rule id)].

The CLI cases are tests/data/kserve-rules (`image-*.yaml`, tests/test_check_cli.py) and the
workshop's schema-less chart (tests/test_gitops_workshop_cli.py).
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from modeldeploy.manifests import image_refs
from modeldeploy.rules.registry import RULES
from test_kserve_rules import MODEL, found, isvc

DIGEST = "sha256:" + "0123456789abcdef" * 4
VALID = ["quay.io/org/img:1.2.3", "img", f"localhost:5000/a/b@{DIGEST}", f"registry:5000/x:tag@{DIGEST}",
         "docker.io/library/python:3.11-slim", "quay.io/ns/model:4562a17", "a__b/c--d.e_f:T_1.x-y",
         "[::1]:5000/x:1", "image-registry.openshift-image-registry.svc:5000/team-a/jukebox:4562a17c17",
         f"nginx@sha512:{'f' * 128}", "Registry.Example.com/x"]
INVALID = {  # reference -> what the message says is wrong
    "quay.io/ns/model:4.562e+20": "the tag '4.562e+20' has '+'",
    "": "it is empty",
    "quay.io/Org/img:1": "upper-case",
    "MyImage": "upper-case",
    "img:": "no tag after it",
    "img:-x": "starts with '-'",
    "img:" + "a" * 129: "129 characters",
    "a//b": "empty component",
    "a..b": "separator",
    "-a": "separator",
    "img@sha256:abc": "64 lower-case hexadecimal digits",
    "img@sha256:" + "A" * 64: "64 lower-case hexadecimal digits",
    "img@md5:" + "a" * 32: "algorithm 'md5' is unknown",
    "a" * 64: "image ID",
    "ho_st.io/x": "registry host",
    "quay.io/x y": "has ' '",
    " img": "spaces",
    "a:b:c": "has ':'",
    "x/" + "a" * 254: "256 characters",
}


def deployment(*containers: dict[str, Any], init: tuple[dict[str, Any], ...] = ()) -> dict[str, Any]:
    pod: dict[str, Any] = {"containers": [copy.deepcopy(c) for c in containers]}
    if init:
        pod["initContainers"] = [copy.deepcopy(c) for c in init]
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "ui"},
            "spec": {"selector": {"matchLabels": {"app": "ui"}},
                     "template": {"metadata": {"labels": {"app": "ui"}}, "spec": pod}}}


def image(name: str) -> dict[str, Any]:
    return {"name": "app", "image": name}


def test_the_rule_is_registered_and_documented() -> None:
    assert RULES["image-reference"] is image_refs.RULE_IMAGE and len(image_refs.RULE_IMAGE.doc) > 200
    assert image_refs.RULE_IMAGE.severity.value == "error"


@pytest.mark.parametrize("reference", VALID)
def test_valid_references_pass(reference: str) -> None:
    assert image_refs.problem(reference) is None
    assert found(deployment(image(reference))) == []


@pytest.mark.parametrize(("reference", "what"), INVALID.items())
def test_invalid_references_say_what_is_wrong(reference: str, what: str) -> None:
    assert what in (image_refs.problem(reference) or "")


def test_a_tag_helm_printed_from_a_number_names_the_fix() -> None:
    [finding] = image_refs.findings(deployment(image("quay.io/ns/model:4.562e+20")))
    assert finding.path == ("spec", "template", "spec", "containers", 0, "image")
    assert "spec.template.spec.containers.0.image 'quay.io/ns/model:4.562e+20'" in finding.message
    assert "the tag '4.562e+20' has '+'" in finding.message and "InvalidImageName" in finding.message
    assert "a version Helm read as a number? quote it in the config" in finding.message


def test_deployment_containers_and_init_containers() -> None:
    assert found(deployment(image("ok:1"), image("bad:1.2e+07"), init=(image("Bad"),))) == [
        ("spec.template.spec.containers.1.image", "image-reference"),
        ("spec.template.spec.initContainers.0.image", "image-reference")]


def test_an_empty_or_missing_image_of_a_pod_container() -> None:
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
           "spec": {"containers": [{"name": "a", "image": ""}, {"name": "b"}]}}
    assert found(pod) == [("spec.containers.0.image", "image-reference"),
                          ("spec.containers.1.name", "image-reference")]  # the container's first line


@pytest.mark.parametrize(("kind", "api_version", "pod_path"), [
    ("StatefulSet", "apps/v1", ("spec", "template", "spec")),
    ("DaemonSet", "apps/v1", ("spec", "template", "spec")),
    ("ReplicaSet", "apps/v1", ("spec", "template", "spec")),
    ("Job", "batch/v1", ("spec", "template", "spec")),
    ("CronJob", "batch/v1", ("spec", "jobTemplate", "spec", "template", "spec")),
])
def test_every_pod_template_kind(kind: str, api_version: str, pod_path: tuple[str, ...]) -> None:
    obj: dict[str, Any] = {"apiVersion": api_version, "kind": kind, "metadata": {"name": "w"}}
    node = obj
    for part in pod_path:
        node = node.setdefault(part, {})
    node["containers"] = [image("w:4.562e+20")]
    assert [f.path for f in image_refs.findings(obj)] == [(*pod_path, "containers", 0, "image")]


def test_inference_service_oci_storage_uri_and_containers() -> None:
    obj = isvc(predictor={"model": {**MODEL, "storageUri": "oci://quay.io/ns/model:4.562e+20"}},
               transformer={"containers": [{"name": "kserve-container", "image": "t:1.0e+06"}]})
    assert found(obj) == [("spec.predictor.model.storageUri", "image-reference"),
                          ("spec.transformer.containers.0.image", "image-reference")]
    [uri, _] = image_refs.findings(obj)
    assert "OCI image reference (after oci://)" in uri.message and "KServe pulls it" in uri.message


def test_an_oci_uri_in_a_container_environment_is_an_image_too() -> None:
    # a custom predictor container handed its model as STORAGE_URI (the upstream workshop's chart)
    env = [{"name": "STORAGE_URI", "value": "oci://quay.io/ns/model:4.562e+20"},
           {"name": "MODEL_NAME", "value": "not:an image"}, {"name": "FROM", "valueFrom": {}}]
    container = {"name": "kserve-container", "image": "quay.io/ns/srv:1", "env": env}
    obj = isvc(predictor={"containers": [container]})
    assert found(obj) == [("spec.predictor.containers.0.env.0.value", "image-reference")]
    assert image_refs.NUMBER_HINT in image_refs.findings(obj)[0].message
    quoted = [{"name": "STORAGE_URI", "value": "oci://quay.io/ns/m:4562e17"}]
    ok = isvc(predictor={"containers": [{**container, "env": quoted}]})
    assert found(ok) == []


def test_inference_service_storage_uris_and_model_image() -> None:
    obj = isvc(predictor={"model": {**MODEL, "image": "Custom/Runtime:1"},
                          "storageUris": [{"uri": "oci://quay.io/ns/m:1", "mountPath": "/mnt/a"},
                                          {"uri": "oci://quay.io/ns/m:", "mountPath": "/mnt/b"}]})
    assert [f.path for f in image_refs.findings(obj)] == [
        ("spec", "predictor", "model", "image"), ("spec", "predictor", "storageUris", 1, "uri")]


def test_inference_service_images_kserve_fills_in_are_not_required() -> None:
    # a kserve-container beside `model` takes the runtime's image; gs:// is no image
    obj = isvc(predictor={"model": {**MODEL, "image": ""}, "containers": [{"name": "kserve-container"}]})
    assert image_refs.findings(obj) == []
    modelcar = {**MODEL, "storageUri": "oci://quay.io/ns/m:4562a17"}
    assert image_refs.findings(isvc(predictor={"model": modelcar})) == []


def test_serving_runtime_containers() -> None:
    runtime = {"apiVersion": "serving.kserve.io/v1alpha1", "kind": "ClusterServingRuntime",
               "metadata": {"name": "ovms"},
               "spec": {"supportedModelFormats": [{"name": "onnx"}],
                        "containers": [{"name": "kserve-container", "image": "quay.io/modh/ovms:2025.1 "}]}}
    assert found(runtime) == [("spec.containers.0.image", "image-reference")]


def test_other_kinds_are_left_alone() -> None:
    config_map = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"},
                  "data": {"image": "Not An Image"}}
    assert found(config_map) == []
