"""KServe semantics beyond the schema: what KServe's webhook refuses, or its controller ignores,
in an InferenceService (serving.kserve.io/v1beta1) that its CRD schema accepts.

Read from KServe's source (kserve/kserve, 0.21 line): pkg/apis/serving/v1beta1/
inference_service_validation.go (the validating webhook), inference_service_defaults.go (the
mutating webhook, which runs first), component.go, predictor.go,
transformer.go, explainer.go (what counts as an implementation), pkg/controller/v1beta1/
inferenceservice/utils/utils.go (`ValidateStorageURI`), reconcilers/knative/ksvc_reconciler.go
(the only reader of `canaryTrafficPercent`) and pkg/constants/constants.go (deployment modes).
None of them rejects what KServe accepts: a custom predictor (`containers`) is a model, a
probe without a port is filled in, a storage URI a ClusterStorageContainer of the checked
input supports is accepted.

Rule ids:
- `kserve-canary-traffic-percent`: `canaryTrafficPercent` of a predictor, transformer or
  explainer is outside 0..100, or the `trafficPercent` of `spec.canary[]` add up to more
  than 100. The CRD does not bound `canaryTrafficPercent`; KServe hands it to Knative as
  the new revision's traffic share, which Knative refuses, so the rollout never happens; the
  webhook refuses the sum above 100 (`validateCanarySpecs`). Write a whole number 0..100;
- `kserve-canary-raw-deployment`: a warning: `canaryTrafficPercent` is set while the
  annotation `serving.kserve.io/deploymentMode` is `RawDeployment` or `Standard`. Only
  KServe's Knative reconciler reads the field: in these modes it is ignored without a word
  and the new version takes all traffic at once. Remove it, or use the `Knative`
  (`Serverless`) mode; `spec.canary` is the canary of the Standard mode;
- `kserve-canary-standard-only`: `spec.canary` is set while the annotation
  `serving.kserve.io/deploymentMode` names another mode than `Standard` (`RawDeployment`
  is its old name). KServe's webhook refuses the object ("canary is only supported in
  Standard deployment mode"). Use `canaryTrafficPercent` in Knative mode, or the Standard mode;
- `kserve-one-implementation`: a predictor (also a `spec.canary[]` predictor), transformer
  or explainer specifies no model or more than one (`model` plus a legacy framework key such
  as `sklearn` or `tensorflow`, two framework keys, or `model` plus a container named
  `kserve-container`). KServe's webhook refuses the object ("exactly one of [...] must be
  specified"), except for `model` plus one legacy key in `spec.predictor`: its defaulting
  webhook first turns the legacy key into `model`, silently replacing the `model` written.
  A custom predictor (its `containers`) counts as one, as in KServe; sidecar containers
  beside `model` do not count;
- `kserve-storage-uri`: a `storageUri` whose scheme KServe cannot load: not one of `gs://`,
  `s3://`, `pvc://`, `file://`, `https://`, `http://`, `hdfs://`, `webhdfs://`, `oci://`,
  `oci+native://`, `oci+fetch://`, `hf://` (an Azure blob URL must name a container and a
  path), not a local path, and not supported by a ClusterStorageContainer among the checked
  manifests. KServe's controller refuses to deploy it (`ValidateStorageURI`). A cluster with
  its own ClusterStorageContainer for another scheme: check its manifest with the others, or
  set this rule to `warning` or `off` in `.modeldeploy.yaml`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeGuard

from ..diagnostics import Rule, Severity, declared_in

_declare = declared_in(__doc__, __name__)
RULE_TRAFFIC = _declare("kserve-canary-traffic-percent")
RULE_RAW_CANARY = _declare("kserve-canary-raw-deployment", Severity.WARNING)
RULE_CANARY_MODE = _declare("kserve-canary-standard-only")
RULE_ONE_IMPLEMENTATION = _declare("kserve-one-implementation")
RULE_STORAGE_URI = _declare("kserve-storage-uri")

GROUP = "serving.kserve.io"
DEPLOYMENT_MODE_ANNOTATION = "serving.kserve.io/deploymentMode"
# pkg/constants/constants.go: the legacy names, normalised by the mutating webhook first
_MODE_ALIASES = {"RawDeployment": "Standard", "Serverless": "Knative"}
# pkg/apis/serving/v1beta1/predictor.go, PredictorSpec.GetImplementations, in its order
PREDICTOR_IMPLEMENTATIONS = ("xgboost", "pytorch", "triton", "sklearn", "tensorflow", "onnx", "pmml",
                             "lightgbm", "paddle", "huggingface", "model")
PREDICTOR_CONTAINER = "kserve-container"  # constants.InferenceServiceContainerName
# pkg/controller/v1beta1/inferenceservice/utils/utils.go: SupportedStorageURIPrefixList, AzureBlob*
STORAGE_URI_PREFIXES = ("gs://", "s3://", "pvc://", "file://", "https://", "http://", "hdfs://",
                        "webhdfs://", "oci://", "oci+native://", "oci+fetch://", "hf://")
AZURE_BLOB_HOST = "blob.core.windows.net"
AZURE_BLOB_URI = re.compile(r"https://(.+?).blob.core.windows.net/(.+)")
_HAS_SCHEME = re.compile(r"\w+?://")

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class Finding:
    rule: Rule
    path: Path  # inside the object
    message: str


@dataclass(frozen=True)
class StorageFormat:
    """One `supportedUriFormats` entry of a ClusterStorageContainer."""

    prefix: str = ""
    regex: str = ""

    def supports(self, uri: str) -> bool:
        if self.prefix:
            return uri.startswith(self.prefix)
        if self.regex:
            try:
                return re.search(self.regex, uri) is not None
            except re.error:  # Go syntax Python does not read: never refuse what KServe may accept
                return True
        return False


def storage_formats(objects: Sequence[Any]) -> list[StorageFormat]:
    """The URI formats the ClusterStorageContainers among `objects` support."""
    found = []
    listed = [item for obj in objects if isinstance(obj, dict) and obj.get("kind") == "List"
              and isinstance(obj.get("items"), list) for item in obj["items"]]
    for obj in [*objects, *listed]:
        if not isinstance(obj, dict) or obj.get("kind") != "ClusterStorageContainer" \
                or not str(obj.get("apiVersion", "")).startswith(GROUP + "/"):
            continue
        spec = obj.get("spec")
        formats = spec.get("supportedUriFormats") if isinstance(spec, dict) else None
        for entry in formats if isinstance(formats, list) else []:
            if isinstance(entry, dict):
                found.append(StorageFormat(str(entry.get("prefix") or ""), str(entry.get("regex") or "")))
    return found


def is_inference_service(obj: dict[str, Any]) -> bool:
    return obj.get("kind") == "InferenceService" and obj.get("apiVersion") == f"{GROUP}/v1beta1"


def findings(obj: dict[str, Any], formats: Sequence[StorageFormat] = ()) -> list[Finding]:
    """What KServe refuses or ignores in `obj` (nothing for other kinds, or a spec the schema
    rejects in shape: those are the schema's findings)."""
    spec = obj.get("spec")
    if not is_inference_service(obj) or not isinstance(spec, dict):
        return []
    metadata = obj.get("metadata")
    annotations = metadata.get("annotations") if isinstance(metadata, dict) else None
    mode = annotations.get(DEPLOYMENT_MODE_ANNOTATION) if isinstance(annotations, dict) else None
    mode = _MODE_ALIASES.get(mode, mode) if isinstance(mode, str) else None
    return [*_traffic(spec, mode), *_modes(spec, mode), *_implementations(spec), *_storage(spec, formats)]


def components(spec: dict[str, Any]) -> Iterator[tuple[str, Path, dict[str, Any]]]:
    """(kind, path, component) of each predictor, transformer and explainer, canaries included."""
    for kind in ("predictor", "transformer", "explainer"):
        if isinstance(spec.get(kind), dict):
            yield kind, ("spec", kind), spec[kind]
    canaries = spec.get("canary")
    for index, canary in enumerate(canaries if isinstance(canaries, list) else []):
        if isinstance(canary, dict) and isinstance(canary.get("predictor"), dict):
            yield "predictor", ("spec", "canary", index, "predictor"), canary["predictor"]


def _is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _traffic(spec: dict[str, Any], mode: str | None) -> Iterator[Finding]:
    for _, path, component in components(spec):
        value = component.get("canaryTrafficPercent")
        if _is_int(value) and not 0 <= value <= 100 and mode != "Standard":  # Standard: ignored (below)
            yield Finding(RULE_TRAFFIC, (*path, "canaryTrafficPercent"),
                          f"{'.'.join(map(str, path))}.canaryTrafficPercent is {value}, outside 0..100: "
                          "Knative refuses that traffic share and the rollout never happens; write a "
                          "whole number from 0 to 100")
    canaries = spec.get("canary")
    if isinstance(canaries, list):
        shares = [c.get("trafficPercent") for c in canaries if isinstance(c, dict)]
        total = sum(share for share in shares if _is_int(share))
        if total > 100:
            yield Finding(RULE_TRAFFIC, ("spec", "canary"),
                          f"the trafficPercent of spec.canary add up to {total}, more than 100: KServe's "
                          "webhook refuses it; lower them")


def _modes(spec: dict[str, Any], mode: str | None) -> Iterator[Finding]:
    if mode == "Standard":
        for _, path, component in components(spec):
            if "canaryTrafficPercent" in component and component["canaryTrafficPercent"] is not None:
                yield Finding(RULE_RAW_CANARY, (*path, "canaryTrafficPercent"),
                              f"{'.'.join(map(str, path))}.canaryTrafficPercent is ignored by KServe in "
                              f"{DEPLOYMENT_MODE_ANNOTATION} RawDeployment/Standard mode: the new version "
                              "takes all traffic at once; remove it, or use the Knative (Serverless) mode")
    if mode is not None and mode != "Standard" and isinstance(spec.get("canary"), list) and spec["canary"]:
        yield Finding(RULE_CANARY_MODE, ("spec", "canary"),
                      f"spec.canary is only supported in the Standard deployment mode, and "
                      f"{DEPLOYMENT_MODE_ANNOTATION} is {mode}: KServe's webhook refuses the object; "
                      "use canaryTrafficPercent in Knative mode, or the Standard mode")


def _present(component: dict[str, Any], key: str) -> bool:
    return component.get(key) is not None  # `sklearn: null` is no implementation (a nil pointer)


def implementations(kind: str, component: dict[str, Any]) -> list[str]:
    """The implementations KServe counts in a component, named by their key."""
    containers = component.get("containers")
    containers = containers if isinstance(containers, list) else []
    if kind == "transformer":
        return ["containers"] if containers else []
    if kind == "explainer":
        return [*(["art"] if _present(component, "art") else []), *(["containers"] if containers else [])]
    found = [key for key in PREDICTOR_IMPLEMENTATIONS if _present(component, key)]
    named = [c for c in containers if isinstance(c, dict) and c.get("name") == PREDICTOR_CONTAINER]
    found += [f"containers ({PREDICTOR_CONTAINER})"] * len(named)
    if containers and not found:  # the first container is the predictor then
        found.append("containers")
    return found


def _implementations(spec: dict[str, Any]) -> Iterator[Finding]:
    for kind, path, component in components(spec):
        found = implementations(kind, component)
        if len(found) == 1:
            continue
        where = ".".join(map(str, path))
        legacy = [key for key in found if key in PREDICTOR_IMPLEMENTATIONS and key != "model"]
        if path == ("spec", "predictor") and len(found) == 2 and "model" in found and len(legacy) == 1:
            # inference_service_defaults.go, setPredictorModelDefaults: the legacy key becomes `model`
            yield Finding(RULE_ONE_IMPLEMENTATION, path,
                          f"{where} specifies both model and {legacy[0]}: KServe's defaulting webhook "
                          f"replaces model with the {legacy[0]} spec, so the model written here is "
                          "silently lost; keep one")
            continue
        if not found:
            what = "specifies no model" if kind == "predictor" else "specifies no container"
        else:
            what = f"specifies {len(found)} implementations ({', '.join(found)})"
        choices = ", ".join(PREDICTOR_IMPLEMENTATIONS) + " or containers" if kind == "predictor" \
            else ("art or containers" if kind == "explainer" else "containers")
        yield Finding(RULE_ONE_IMPLEMENTATION, path,
                      f"{where} {what}: KServe's webhook refuses it (exactly one of {choices}); keep one")


def storage_uri_supported(uri: str, formats: Sequence[StorageFormat] = ()) -> bool:
    """Whether KServe's ValidateStorageURI accepts `uri`, in its order."""
    if any(f.supports(uri) for f in formats):
        return True
    if not _HAS_SCHEME.search(uri):  # a local path
        return True
    if AZURE_BLOB_HOST in uri:
        return AZURE_BLOB_URI.search(uri) is not None
    return uri.startswith(STORAGE_URI_PREFIXES)


def _storage(spec: dict[str, Any], formats: Sequence[StorageFormat]) -> Iterator[Finding]:
    for kind, path, component in components(spec):
        keys = PREDICTOR_IMPLEMENTATIONS if kind == "predictor" else ("art",) if kind == "explainer" else ()
        for key in keys:
            implementation = component.get(key)
            uri = implementation.get("storageUri") if isinstance(implementation, dict) else None
            if isinstance(uri, str) and not storage_uri_supported(uri, formats):
                shown = uri if len(uri) <= 80 else uri[:77] + "..."
                yield Finding(RULE_STORAGE_URI, (*path, key, "storageUri"),
                              f"{'.'.join(map(str, (*path, key)))}.storageUri {shown!r}: KServe cannot "
                              f"load this scheme (it loads {', '.join(STORAGE_URI_PREFIXES)}, local paths "
                              "and what a ClusterStorageContainer supports); fix the URI, or check the "
                              "ClusterStorageContainer that supports it with this manifest")
