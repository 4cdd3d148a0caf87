#!/usr/bin/env python3
"""Generate strict JSON Schemas for KServe resources from the KServe Python SDK.

Inputs are two wheels pinned with sha256 in kserve-schema-requirements.txt (beside this file):
the KServe Python SDK (`kserve`, API models in kserve/models/*.py) and the Kubernetes Python
client (`kubernetes`, core models in kubernetes/client/models/*.py). The wheels are downloaded
with pip (no install) and the model sources are read straight out of the zip files with `ast`:
every generated model class carries `openapi_types` (attribute -> type string) and
`attribute_map` (attribute -> JSON key) as plain literals. Nothing is imported from either
package (`import kserve` would pull in a whole model-server stack).

The Kubernetes client is the one of the Kubernetes API KServe's CRDs are built on (KUBERNETES_API,
checked against the wheel). The SDK models do not say everything KServe's API server enforces:
CRD_FACTS lists, as this project's own data with the source of each entry, the enums, bounds and
patterns KServe's CRDs carry, the `required` lists KServe's build deletes or the CRDs add, and
the fields the CRDs do not have; they are applied by manifest path (SchemaEditor), and every
entry must change exactly the number of places it states, so an SDK bump that moves something
fails loudly instead of dropping a constraint. Kinds the SDK names but does not model (a model
their spec needs is missing) are listed in KINDS_NOT_MODELLED (no schema is written for them).

Output: kubeconform's `{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json` layout under
OUT/serving.kserve.io/, one self-contained JSON Schema (draft-07) per kind, plus SOURCE.json
(every input: versions, wheel hashes, the facts table's source and sha256) and README.md. The
schemas are strict: every object with known properties has `additionalProperties: false`, so a
misspelt field fails validation. The output depends only on the inputs: regenerating reproduces
the committed files byte for byte.

    python tool/scripts/generate_kserve_schemas.py --out schemas [--wheel-dir DIR] [--check]

--check regenerates in memory and exits 1 if the files under OUT differ from it. The wheels are
cached in the user cache (see default_wheel_dir) unless --wheel-dir says otherwise.
Only the standard library is used.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import os
import re
import subprocess
import sys
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

GENERATOR = "tool/scripts/generate_kserve_schemas.py"
REQUIREMENTS = "tool/scripts/kserve-schema-requirements.txt"
DEFAULT_REQUIREMENTS = Path(__file__).resolve().with_name("kserve-schema-requirements.txt")
GROUP = "serving.kserve.io"
DRAFT_07 = "http://json-schema.org/draft-07/schema#"

# Kinds written, as (output file stem, kind, apiVersion, SDK root model).
KINDS = [
    ("inferenceservice_v1beta1", "InferenceService", "serving.kserve.io/v1beta1", "V1beta1InferenceService"),
    ("servingruntime_v1alpha1", "ServingRuntime", "serving.kserve.io/v1alpha1", "V1alpha1ServingRuntime"),
    (
        "clusterservingruntime_v1alpha1",
        "ClusterServingRuntime",
        "serving.kserve.io/v1alpha1",
        "V1alpha1ClusterServingRuntime",
    ),
    ("inferencegraph_v1alpha1", "InferenceGraph", "serving.kserve.io/v1alpha1", "V1alpha1InferenceGraph"),
    ("trainedmodel_v1alpha1", "TrainedModel", "serving.kserve.io/v1alpha1", "V1alpha1TrainedModel"),
    (
        "clusterstoragecontainer_v1alpha1",
        "ClusterStorageContainer",
        "serving.kserve.io/v1alpha1",
        "V1alpha1ClusterStorageContainer",
    ),
    ("localmodelcache_v1alpha1", "LocalModelCache", "serving.kserve.io/v1alpha1", "V1alpha1LocalModelCache"),
    (
        "localmodelnamespacecache_v1alpha1",
        "LocalModelNamespaceCache",
        "serving.kserve.io/v1alpha1",
        "V1alpha1LocalModelNamespaceCache",
    ),
    (
        "localmodelnodegroup_v1alpha1",
        "LocalModelNodeGroup",
        "serving.kserve.io/v1alpha1",
        "V1alpha1LocalModelNodeGroup",
    ),
]

# Where each package keeps its generated models, in the order names are looked up from a
# KServe model (KServe models refer to Kubernetes models by their bare class name).
PACKAGES = {"kserve": "kserve/models/", "kubernetes": "kubernetes/client/models/"}

# --- special types ------------------------------------------------------------------------

# resource.Quantity. The KServe CRDs (and the API server's validation of them) take an integer
# or a string; the string must match the Quantity syntax of k8s.io/apimachinery's
# pkg/api/resource ("500m", "1Gi", "2", "1e3"). A float such as 0.5 is rejected by the CRD's
# structural schema, so it is rejected here too (write "500m").
QUANTITY_PATTERN = (
    r"^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))"
    r"(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$"
)
QUANTITY = {
    "anyOf": [{"type": "integer"}, {"pattern": QUANTITY_PATTERN, "type": "string"}],
    "x-kubernetes-int-or-string": True,
}
INT_OR_STRING = {"anyOf": [{"type": "integer"}, {"type": "string"}], "x-kubernetes-int-or-string": True}

PRIMITIVES = {
    "str": {"type": "string"},
    "int": {"type": "integer"},
    "float": {"type": "number"},
    "bool": {"type": "boolean"},
    "datetime": {"format": "date-time", "type": "string"},
    "date": {"format": "date", "type": "string"},
}

# Type names the KServe SDK uses that are not model classes of either package.
SPECIAL_TYPE_NAMES = {
    # resource.Quantity (e.g. PredictorSpec.overhead, ModelSpec.memory).
    "ResourceQuantity": QUANTITY,
    # KServe's MetricQuantity is a resource.Quantity (MetricTarget.value / averageValue);
    # the SDK references it but ships no model for it.
    "V1beta1MetricQuantity": QUANTITY,
}

# The KServe SDK names these Kubernetes types by their full Go package path; the Kubernetes
# client calls the same types by the short name.
ALIASES = {
    "K8sIoApiAppsV1DeploymentStrategy": "V1DeploymentStrategy",
    "K8sIoApiAutoscalingV2HorizontalPodAutoscalerBehavior": "V2HorizontalPodAutoscalerBehavior",
}

# Models the SDK references but does not ship, built here from SDK models that do exist.
# KServe's Go type v1alpha1.WorkerSpec (ServingRuntimeSpec.workerSpec) is the
# ServingRuntimePodSpec inlined plus two ints, which the SDK's v1beta1 WorkerSpec also has.
SYNTHESIZED = {
    "V1alpha1WorkerSpec": {
        "inline": "V1alpha1ServingRuntimePodSpec",
        "fields_from": ("V1beta1WorkerSpec", ["pipeline_parallel_size", "tensor_parallel_size"]),
        "description": "WorkerSpec of a ServingRuntime (multi-node serving): the ServingRuntimePodSpec "
        "fields plus pipelineParallelSize and tensorParallelSize.",
    },
}

# Fields the SDKs type 'object', by (model, attribute). Each reachable 'object' field must be
# listed in one of these two tables: the generator fails on a new one (e.g. after a version
# bump) rather than guess.
#
# IntOrString (k8s.io/apimachinery/pkg/util/intstr): an integer or a string (a port name, a
# percentage). The Kubernetes client's pydantic annotation says `StrictInt | StrictStr` for
# each of these; the generator checks that.
INT_OR_STRING_FIELDS = {
    ("V1HTTPGetAction", "port"),  # probes and lifecycle hooks: port number or named port
    ("V1TCPSocketAction", "port"),  # same
    ("V1RollingUpdateDeployment", "max_surge"),  # deploymentStrategy: 1 or "25%"
    ("V1RollingUpdateDeployment", "max_unavailable"),  # same
}
# Truly free-form values: accepted as they are, with the reason.
FREE_FORM_FIELDS = {
    # metadata.managedFields[].fieldsV1 is a set of field paths encoded as a JSON object whose
    # keys are field selectors ("f:spec", "k:{...}"); it is written by the API server.
    ("V1ManagedFieldsEntry", "fields_v1"): {"type": "object"},
}

# Quantities the Kubernetes client types as plain strings (resource.Quantity becomes 'str'),
# by (model, attribute). For a map the values are quantities.
QUANTITY_FIELDS = {
    ("V1ResourceRequirements", "limits"),  # containers[].resources.limits
    ("V1ResourceRequirements", "requests"),  # containers[].resources.requests
    ("V1VolumeResourceRequirements", "limits"),  # PVC spec resources (ephemeral volumes, caches)
    ("V1VolumeResourceRequirements", "requests"),
    ("V1EmptyDirVolumeSource", "size_limit"),  # volumes[].emptyDir.sizeLimit
    ("V1ResourceFieldSelector", "divisor"),  # env valueFrom.resourceFieldRef.divisor
    ("V2HPAScalingRules", "tolerance"),  # autoScaling.behavior.scaleUp/scaleDown.tolerance
    ("V1PersistentVolumeSpec", "capacity"),  # LocalModelNodeGroup spec.persistentVolumeSpec.capacity
}

# Fields that may be null: `kubectl create --dry-run -o yaml` writes `creationTimestamp: null`.
# Everything else is non-nullable: a YAML key with no value is an error (a values typo in a
# Helm template typically renders exactly that).
NULLABLE_FIELDS = {("V1ObjectMeta", "creation_timestamp")}

# The top-level `status` is written by the KServe controller; a manifest may carry one (e.g.
# exported from a cluster) and it is not validated.
STATUS_SCHEMA = {
    "description": "Written by the KServe controller; accepted without validation.",
    "type": "object",
}

# --- what KServe's API server accepts: facts of KServe's CRDs -------------------------------
#
# The SDK models say which fields exist and their types; KServe's CustomResourceDefinitions,
# which the API server enforces, say more and sometimes less. The differences are applied here
# as data of this project, each entry with where it comes from. No CRD is read or copied: the
# entries were read from the CRDs once (kserve/kserve config/crd/full at the commit below) and
# from the Makefile target that post-processes them.
KSERVE_CRDS = "KServe CRD config/crd/full, v0.20.0+104 (kserve/kserve aaac4e2)"
KSERVE_MAKEFILE = "KServe Makefile `manifests` (yq post-processing of config/crd/full), v0.20.0+104"
KSERVE_NOT_IN_CRD = "absent from " + KSERVE_CRDS

# The Kubernetes API KServe's CRDs are built on: go.mod of kserve/kserve (v0.20.0 and aaac4e2)
# requires k8s.io/api v0.35.3 but replaces it with v0.34.5 (controller-runtime 0.22 needs 0.34),
# so the pod and container fields inlined into the CRDs are Kubernetes 1.34's. The Kubernetes
# Python client of the same API level (release-1.34, `kubernetes` 34.x) supplies the core models;
# newer clients add fields the API server rejects (e.g. 1.35's podCertificate.userAnnotations).
KUBERNETES_API = "1.34"
KUBERNETES_API_SOURCE = "kserve/kserve go.mod, v0.20.0 and aaac4e2: replace k8s.io/api => k8s.io/api v0.34.5"

# Fields of the KServe SDK's own models (which inline the pod spec of a newer Kubernetes than
# the CRDs) that the CRDs do not have, by (model, attribute). The pinned Kubernetes client must
# not know their type either (else the entry is stale).
SDK_FIELDS_NOT_IN_CRDS = {
    ("V1beta1PredictorSpec", "scheduling_group"): (
        "PodSpec.schedulingGroup is Kubernetes 1.35+; " + KSERVE_NOT_IN_CRD
    ),
    ("V1beta1ExplainerSpec", "scheduling_group"): "same",
    ("V1beta1TransformerSpec", "scheduling_group"): "same",
    ("V1beta1WorkerSpec", "scheduling_group"): "same",
}


@dataclass(frozen=True)
class CrdFact:
    """One difference between the SDK-derived schema and KServe's CRD, applied by path.

    paths: where in a manifest, in the notation of the facts: `.spec.predictor.model`, `[]` list
    items, `.*` every field or map value of an object (like yq's `.*`: it does not descend into
    lists), `{a,b}` alternatives. action: `enum` (value: the allowed strings), `constraints`
    (value: JSON Schema bounds), `required` (value: names the CRD requires), `not-required`
    (KServe deletes the whole `required` list), `no-field` (the last path segment is a field
    the CRD does not have). changes: how many schema locations the entry changes in each of its
    kinds; a different count (an SDK bump moved something) fails the generation.
    """

    id: str
    kinds: tuple[str, ...]
    action: str
    paths: tuple[str, ...]
    value: Any
    changes: int
    source: str


ISVC = ("InferenceService",)
RUNTIMES = ("ServingRuntime", "ClusterServingRuntime")
IGRAPH = ("InferenceGraph",)
LOCAL_MODEL_CACHES = ("LocalModelCache", "LocalModelNamespaceCache")
# Every component of an InferenceService: the yq paths of KServe's Makefile (`.spec.*`) reach
# the first three, not the predictors inside the spec.canary list.
COMPONENTS = "{predictor,explainer,transformer,canary[].predictor}"
METRICS = f".spec.{COMPONENTS}.autoScaling.metrics[]"
# The SDK's models of the predictor implementations that inline a corev1.Container.
PREDICTOR_IMPLEMENTATIONS = (
    "{model,sklearn,xgboost,tensorflow,pytorch,triton,onnx,huggingface,pmml,lightgbm,paddle}"
)

CRD_FACTS = [
    # Fields the SDK has and the CRDs do not (deleted first: the wildcards below skip them).
    CrdFact("no-ephemeral-containers", ISVC, "no-field", (".spec.*.ephemeralContainers",), None, 3,
            KSERVE_MAKEFILE + ": del(.spec.*.ephemeralContainers) (CRD size); spec.canary[] keeps it"),
    CrdFact("no-tracing", ISVC, "no-field", (".spec.tracing",), None, 1,
            "in the kserve 0.21 SDK, " + KSERVE_NOT_IN_CRD),
    # `required` KServe's build deletes.
    CrdFact("component-inner-not-required", ISVC, "not-required", (".spec.*.*",), None, 5,
            KSERVE_MAKEFILE + ": del(.spec.*.*.required), 'name field needs to be optional' "
            "(model.modelFormat, explainer.art name/type, os.name)"),
    CrdFact("probe-port-not-required", ISVC, "not-required",
            (".spec.*.*.{livenessProbe,readinessProbe}.{httpGet,tcpSocket}",
             ".spec.*.containers[].{livenessProbe,readinessProbe}.httpGet"), None, 54,
            KSERVE_MAKEFILE + ": 'knative does not allow setting port on liveness or readiness probe'"),
    # `required` the CRDs have and the SDK models do not.
    CrdFact("model-format-name-required", ISVC, "required",
            (f".spec.{COMPONENTS}.model.modelFormat",), ["name"], 2,
            KSERVE_CRDS + ": ModelFormat.name"),
    CrdFact("canary-container-name-required", ISVC, "required",
            (f".spec.canary[].predictor.{PREDICTOR_IMPLEMENTATIONS}",), ["name"], 11,
            KSERVE_CRDS + ": the inlined corev1.Container's name stays required under spec.canary[] "
            "(the Makefile's del(.spec.*.*.required) does not reach into the list)"),
    CrdFact("authentication-ref-name-required", ISVC, "required",
            (f"{METRICS}.external.authenticationRef.authenticationRef",), ["name"], 4,
            KSERVE_CRDS + ": ExtAuthenticationRef.name"),
    CrdFact("supported-model-format-name-required", RUNTIMES, "required",
            (".spec.supportedModelFormats[]",), ["name"], 1,
            KSERVE_CRDS + ": SupportedModelFormat.name"),
    # Enums.
    CrdFact("metric-backend-enum", ISVC, "enum", (f"{METRICS}.external.metric.backend",),
            ["prometheus", "graphite"], 4, KSERVE_CRDS),
    CrdFact("metric-target-type-enum", ISVC, "enum",
            (f".spec.{COMPONENTS}.scaleMetricType", f"{METRICS}.{{external,resource,podmetric}}.target.type"),
            ["Utilization", "Value", "AverageValue"], 16, KSERVE_CRDS),
    CrdFact("podmetric-backend-enum", ISVC, "enum", (f"{METRICS}.podmetric.metric.backend",),
            ["opentelemetry"], 4, KSERVE_CRDS),
    CrdFact("resource-metric-name-enum", ISVC, "enum", (f"{METRICS}.resource.name",),
            ["cpu", "memory"], 4, KSERVE_CRDS),
    CrdFact("metric-type-enum", ISVC, "enum", (f"{METRICS}.type",),
            ["Resource", "External", "PodMetric"], 4, KSERVE_CRDS),
    CrdFact("logger-mode-enum", ISVC, "enum", (f".spec.{COMPONENTS}.logger.mode",),
            ["all", "request", "response"], 4, KSERVE_CRDS),
    CrdFact("scale-metric-enum", ISVC, "enum", (f".spec.{COMPONENTS}.scaleMetric",),
            ["cpu", "memory", "concurrency", "rps"], 4, KSERVE_CRDS),
    CrdFact("graph-router-type-enum", IGRAPH, "enum", (".spec.nodes.*.routerType",),
            ["Sequence", "Splitter", "Ensemble", "Switch"], 1, KSERVE_CRDS),
    CrdFact("graph-step-dependency-enum", IGRAPH, "enum", (".spec.nodes.*.steps[].dependency",),
            ["Soft", "Hard"], 1, KSERVE_CRDS),
    CrdFact("graph-scale-metric-enum", IGRAPH, "enum", (".spec.scaleMetric",),
            ["cpu", "memory", "concurrency", "rps"], 1, KSERVE_CRDS),
    # Bounds and patterns.
    CrdFact("canary-traffic-percent-bounds", ISVC, "constraints", (".spec.canary[].trafficPercent",),
            {"maximum": 100, "minimum": 0}, 1,
            KSERVE_CRDS + " (spec.predictor.canaryTrafficPercent has no bound there)"),
    CrdFact("storage-uris-min-items", ISVC, "constraints", (f".spec.{COMPONENTS}.storageUris",),
            {"minItems": 1}, 4, KSERVE_CRDS),
    CrdFact("storage-uri-mount-path", ISVC, "constraints", (f".spec.{COMPONENTS}.storageUris[].mountPath",),
            {"maxLength": 255, "pattern": "^/.*"}, 4, KSERVE_CRDS),
    CrdFact("storage-uri-min-length", ISVC, "constraints", (f".spec.{COMPONENTS}.storageUris[].uri",),
            {"minLength": 1}, 4, KSERVE_CRDS),
    CrdFact("predictor-name-pattern", ISVC, "constraints", (".spec.{predictor,canary[].predictor}.name",),
            {"pattern": "^[a-z]([-a-z0-9]*[a-z0-9])?$"}, 2,
            KSERVE_CRDS + ": PredictorSpec.name (a DNS label: it names the Deployment)"),
    CrdFact("supported-model-format-priority-minimum", RUNTIMES, "constraints",
            (".spec.supportedModelFormats[].priority",), {"minimum": 1}, 1, KSERVE_CRDS),
    CrdFact("local-model-cache-node-groups-min-items", LOCAL_MODEL_CACHES, "constraints",
            (".spec.nodeGroups",), {"minItems": 1}, 1,
            KSERVE_CRDS + ": LocalModelCacheSpec.nodeGroups and LocalModelNamespaceCacheSpec.nodeGroups "
            "(+kubebuilder:validation:MinItems=1)"),
]
CONSTRAINT_KEYWORDS = {"minimum", "maximum", "minItems", "minLength", "maxLength", "pattern"}

# Kinds of serving.kserve.io (KServe's CRDs define them) the SDK names but does not model: the
# envelope class exists, a model its spec needs does not (kserve 0.21.0, and KServe's own
# pkg/openapi/swagger.json). No schema is written for them: a schema that accepts any spec would
# pass every typo, and one from elsewhere would not be reproducible from the pinned packages.
# The registry then reports such a manifest as "no schema", never as valid. Each entry names the
# missing model and the reason; the generator builds the spec and fails when that model is no
# longer missing (or nothing is), so that the kind gets added to KINDS.
# As (kind, apiVersion, SDK envelope model, the SDK model its spec lacks, reason).
LLM_SPEC_NOT_MODELLED = "the SDK names it but does not model its spec"
KINDS_NOT_MODELLED = [
    ("LLMInferenceService", "serving.kserve.io/v1alpha1", "V1alpha1LLMInferenceService",
     "V1alpha1LLMInferenceServiceSpec", LLM_SPEC_NOT_MODELLED),
    ("LLMInferenceServiceConfig", "serving.kserve.io/v1alpha1", "V1alpha1LLMInferenceServiceConfig",
     "V1alpha1LLMInferenceServiceSpec", LLM_SPEC_NOT_MODELLED),
    ("LLMInferenceService", "serving.kserve.io/v1alpha2", "V1alpha2LLMInferenceService",
     "V1alpha2LLMInferenceServiceSpec", LLM_SPEC_NOT_MODELLED),
    ("LLMInferenceServiceConfig", "serving.kserve.io/v1alpha2", "V1alpha2LLMInferenceServiceConfig",
     "V1alpha2LLMInferenceServiceSpec", LLM_SPEC_NOT_MODELLED),
    # The SDK models LocalModelNodeSpec, but its only field, the required localModels list, is of
    # V1alpha1LocalModelInfo, which the SDK does not ship (KServe's Go type LocalModelInfo:
    # sourceModelUri, modelName, namespace, nodeGroup, serviceAccountName, storage; three of those
    # are in no SDK model). Written by KServe's local model controller, not by users.
    ("LocalModelNode", "serving.kserve.io/v1alpha1", "V1alpha1LocalModelNode", "V1alpha1LocalModelInfo",
     "the SDK models its spec but not the items of its required spec.localModels list "
     "(V1alpha1LocalModelInfo)"),
]


class GenerationError(Exception):
    """An expected failure: reported as a message, without a traceback."""


# --- wheels ---------------------------------------------------------------------------------


@dataclass
class Pin:
    name: str
    version: str
    hashes: list[str]


@dataclass
class Wheel:
    name: str
    version: str
    path: Path
    sha256: str


def parse_requirements(path: Path) -> dict[str, Pin]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise GenerationError(f"cannot read requirements file {path}: {exc.strerror}") from None
    pins: dict[str, Pin] = {}
    for line in re.sub(r"\\\s*\n", " ", text).splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        m = re.match(r"([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;]+)", line)
        if not m:
            raise GenerationError(
                f"{path}: cannot read the line {line!r} (expected NAME==VERSION --hash=...)"
            )
        hashes = re.findall(r"--hash=sha256:([0-9a-f]{64})", line)
        if not hashes:
            raise GenerationError(f"{path}: {m.group(1)}=={m.group(2)} has no --hash=sha256:... line")
        pins[m.group(1).lower()] = Pin(m.group(1).lower(), m.group(2), hashes)
    for name in PACKAGES:
        if name not in pins:
            raise GenerationError(f"{path}: no pin for {name}")
    return pins


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def find_wheel(wheel_dir: Path, pin: Pin) -> Path | None:
    stem = re.sub(r"[-_.]+", "_", pin.name)
    found = sorted(wheel_dir.glob(f"{stem}-{pin.version}-*.whl"))
    return found[0] if found else None


def fetch_wheels(requirements: Path, wheel_dir: Path) -> dict[str, Wheel]:
    """Return the pinned wheels, downloading them into wheel_dir unless already there."""
    pins = parse_requirements(requirements)
    wheel_dir.mkdir(parents=True, exist_ok=True)
    if any(find_wheel(wheel_dir, pin) is None for pin in pins.values()):
        cmd = [
            sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
            "--require-hashes", "--disable-pip-version-check", "--quiet",
            "-d", str(wheel_dir), "-r", str(requirements),
        ]  # fmt: skip
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        except OSError as exc:
            raise GenerationError(f"cannot run pip: {exc}") from None
        if proc.returncode != 0:
            output = (proc.stderr or proc.stdout).strip().splitlines()
            tail = "\n".join("    " + line for line in output[-15:])
            if "DO NOT MATCH THE HASHES" in (proc.stderr or ""):
                reason = f"a downloaded wheel does not match the sha256 pinned in {requirements}"
            else:
                reason = f"is PyPI reachable and is pip installed for {sys.executable}?"
            raise GenerationError(
                f"pip download failed (exit {proc.returncode}): {reason}\n  command: {' '.join(cmd)}\n{tail}"
            )
    wheels = {}
    for pin in pins.values():
        path = find_wheel(wheel_dir, pin)
        if path is None:
            raise GenerationError(
                f"pip reported success but no wheel for {pin.name}=={pin.version} is in {wheel_dir}"
            )
        digest = sha256_of(path)
        if digest not in pin.hashes:
            raise GenerationError(
                f"hash mismatch for {path}: sha256 {digest}, but {requirements.name} pins "
                f"{', '.join(pin.hashes)}. Delete the file (or the whole wheel cache) and run again."
            )
        wheels[pin.name] = Wheel(pin.name, pin.version, path, digest)
    return wheels


# --- reading the models ---------------------------------------------------------------------


@dataclass
class ModelField:
    attr: str  # Python attribute name
    key: str  # JSON key
    type: str  # openapi_types string
    description: str | None
    required: bool
    annotation: str | None = None  # pydantic annotation (Kubernetes client), as source text


@dataclass
class Model:
    name: str
    package: str
    source: str  # path inside the wheel
    description: str | None
    fields: list[ModelField] = field(default_factory=list)

    def get(self, attr: str) -> ModelField | None:
        return next((f for f in self.fields if f.attr == attr), None)


def _clean_doc(lines: list[str]) -> str | None:
    text = " ".join(line.replace("# noqa: E501", "").strip() for line in lines)
    text = re.sub(r"[ \t]+$", "", text).strip()
    return text or None


def _getter_description(fn: ast.FunctionDef) -> str | None:
    """Description from a legacy (python-legacy generator) getter docstring."""
    doc = ast.get_docstring(fn) or ""
    lines = doc.splitlines()[1:]  # first line: "Gets the x of this Y."
    body = []
    for line in lines:
        if line.strip().startswith((":return:", ":rtype:")):
            break
        body.append(line)
    return _clean_doc(body)


def _raises_when_none(fn: ast.FunctionDef) -> bool:
    """True for a legacy setter that raises ValueError when its value is None (= required)."""
    if len(fn.args.args) < 2:
        return False
    param = fn.args.args[1].arg
    for node in ast.walk(fn):
        if not isinstance(node, ast.If):
            continue
        none_test = any(
            isinstance(sub, ast.Compare)
            and isinstance(sub.left, ast.Name)
            and sub.left.id == param
            and len(sub.ops) == 1
            and isinstance(sub.ops[0], ast.Is)
            and isinstance(sub.comparators[0], ast.Constant)
            and sub.comparators[0].value is None
            for sub in ast.walk(node.test)
        )
        raises = any(
            isinstance(stmt, ast.Raise)
            and isinstance(stmt.exc, ast.Call)
            and isinstance(stmt.exc.func, ast.Name)
            and stmt.exc.func.id == "ValueError"
            for stmt in node.body
        )
        if none_test and raises:
            return True
    return False


def _decorator_names(fn: ast.FunctionDef) -> list[str]:
    out = []
    for dec in fn.decorator_list:
        if isinstance(dec, ast.Name):
            out.append(dec.id)
        elif isinstance(dec, ast.Attribute):
            out.append(dec.attr)
    return out


def parse_model(name: str, package: str, source_path: str, source: str) -> Model:
    tree = ast.parse(source, filename=source_path)
    cls = next((n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == name), None)
    if cls is None:
        raise GenerationError(f"{package}: class {name} not found in {source_path}")
    literals: dict[str, Any] = {}
    annotations: dict[str, ast.AnnAssign] = {}
    getter_docs: dict[str, str | None] = {}
    required_setters: set[str] = set()
    for stmt in cls.body:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
            target, value = stmt.targets[0].id, stmt.value
        elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
            target, value = stmt.target.id, stmt.value
            annotations[target] = stmt
            # A field renamed in Python (`var_exec` for `_exec`) names the attribute in `alias`.
            if isinstance(value, ast.Call):
                for kw in value.keywords:
                    if kw.arg == "alias" and isinstance(kw.value, ast.Constant):
                        annotations.setdefault(kw.value.value, stmt)
        elif isinstance(stmt, ast.FunctionDef):
            decorators = _decorator_names(stmt)
            if "property" in decorators:
                getter_docs[stmt.name] = _getter_description(stmt)
            elif "setter" in decorators and _raises_when_none(stmt):
                required_setters.add(stmt.name)
            continue
        else:
            continue
        if target in ("openapi_types", "attribute_map") and value is not None:
            try:
                literals[target] = ast.literal_eval(value)
            except ValueError:
                raise GenerationError(f"{source_path}: {name}.{target} is not a plain literal") from None
    types, keys = literals.get("openapi_types"), literals.get("attribute_map")
    if not isinstance(types, dict) or not isinstance(keys, dict):
        raise GenerationError(f"{source_path}: {name} has no openapi_types/attribute_map literals")

    doc = ast.get_docstring(cls) or ""
    class_doc = None
    if not doc.startswith("NOTE: This class is auto generated"):
        class_doc = _clean_doc(doc.split("Attributes:", 1)[0].splitlines())

    model = Model(name, package, source_path, class_doc)
    pydantic = bool(set(types) & set(annotations))
    for attr, type_str in types.items():
        if attr not in keys:
            raise GenerationError(
                f"{source_path}: {name}.{attr} is in openapi_types but not in attribute_map"
            )
        annotation = None
        if pydantic:
            # Kubernetes client (pydantic models): `attr: T = Field(default=None, description=...)`;
            # a field without a default is required.
            stmt = annotations.get(attr)
            if stmt is None:
                raise GenerationError(f"{source_path}: {name}.{attr} has no annotated field")
            annotation = ast.unparse(stmt.annotation)
            description, has_default = None, stmt.value is not None
            if isinstance(stmt.value, ast.Call):
                kwargs = {kw.arg: kw.value for kw in stmt.value.keywords if kw.arg}
                has_default = "default" in kwargs or "default_factory" in kwargs or bool(stmt.value.args)
                if isinstance(kwargs.get("description"), ast.Constant):
                    description = _clean_doc([kwargs["description"].value])
            required = not has_default
        else:
            # KServe SDK (python-legacy models): a required attribute's setter raises ValueError
            # when given None (under client_side_validation).
            description = getter_docs.get(attr)
            required = attr in required_setters
        model.fields.append(ModelField(attr, keys[attr], type_str, description, required, annotation))
    return model


class Registry:
    """Model classes of both wheels, indexed by name, parsed on first use."""

    def __init__(self, wheels: dict[str, Wheel]):
        self.index: dict[str, dict[str, str]] = {}  # package -> class name -> path in wheel
        self.sources: dict[str, dict[str, str]] = {}
        self.cache: dict[tuple[str, str], Model] = {}
        class_re = re.compile(r"^class (\w+)\(", re.M)
        for package, prefix in PACKAGES.items():
            names: dict[str, str] = {}
            texts: dict[str, str] = {}
            try:
                with zipfile.ZipFile(wheels[package].path) as zf:
                    for member in sorted(zf.namelist()):
                        if not member.startswith(prefix) or not member.endswith(".py"):
                            continue
                        if member.endswith("__init__.py"):
                            continue
                        text = zf.read(member).decode("utf-8")
                        for cls_name in class_re.findall(text):
                            names[cls_name] = member
                        texts[member] = text
            except (zipfile.BadZipFile, OSError) as exc:
                raise GenerationError(f"cannot read {wheels[package].path}: {exc}") from None
            if not names:
                raise GenerationError(f"no model classes under {prefix} in {wheels[package].path.name}")
            self.index[package], self.sources[package] = names, texts

    def resolve(self, name: str, from_package: str) -> Model | None:
        """Kubernetes models refer only to Kubernetes models; KServe models to either."""
        order = ["kserve", "kubernetes"] if from_package == "kserve" else ["kubernetes"]
        for package in order:
            if name in self.index[package]:
                return self.load(package, name)
        return None

    def load(self, package: str, name: str) -> Model:
        key = (package, name)
        if key not in self.cache:
            path = self.index[package][name]
            self.cache[key] = parse_model(name, package, path, self.sources[package][path])
        return self.cache[key]

    def count(self, package: str) -> int:
        return len(self.index[package])


# --- building the schemas -------------------------------------------------------------------


def parse_type(type_str: str) -> tuple:
    t = type_str.strip()
    m = re.fullmatch(r"(?:list|List)\[(.*)\]", t)
    if m:
        return ("list", parse_type(m.group(1)))
    m = re.fullmatch(r"dict\(str,\s*(.*)\)", t) or re.fullmatch(r"(?:dict|Dict)\[str,\s*(.*)\]", t)
    if m:
        return ("dict", parse_type(m.group(1)))
    return ("name", t)


class Builder:
    """Builds one kind's schema; definitions are shared by name inside that schema."""

    def __init__(self, registry: Registry, problems: list[str], used: set):
        self.registry = registry
        self.definitions: dict[str, Any] = {}
        self.problems = problems  # collected, reported together
        self.used = used  # table entries that were applied

    def model_ref(self, model_name: str, from_package: str, where: str) -> dict:
        if model_name in self.definitions:
            return {"$ref": f"#/definitions/{model_name}"}
        if model_name in SYNTHESIZED:
            self.definitions[model_name] = {}
            self.definitions[model_name] = self.synthesized(model_name)
            return {"$ref": f"#/definitions/{model_name}"}
        model = self.registry.resolve(model_name, from_package)
        if model is None:
            searched = "kserve or kubernetes" if from_package == "kserve" else "kubernetes"
            self.problems.append(f"{where}: unknown type {model_name!r} (not a model class of {searched})")
            return {}
        self.definitions[model_name] = {}  # placeholder: recursive types
        self.definitions[model_name] = self.object_schema(model)
        return {"$ref": f"#/definitions/{model_name}"}

    def synthesized(self, name: str) -> dict:
        spec = SYNTHESIZED[name]
        base = self.registry.resolve(spec["inline"], "kserve")
        donor_name, donor_attrs = spec["fields_from"]
        donor = self.registry.resolve(donor_name, "kserve")
        if base is None or donor is None:
            self.problems.append(f"{name}: cannot synthesize from {spec['inline']} and {donor_name}")
            return {}
        merged = Model(name, "kserve", base.source, spec["description"], list(base.fields))
        for attr in donor_attrs:
            donor_field = donor.get(attr)
            if donor_field is None:
                self.problems.append(f"{name}: {donor_name} has no attribute {attr}")
                continue
            merged.fields.append(donor_field)
        self.used.add(("synthesized", name))
        return self.object_schema(merged)

    def crd_fields(self, model: Model) -> list[ModelField]:
        """The model's fields less those the CRDs do not have (SDK_FIELDS_NOT_IN_CRDS)."""
        kept = []
        for f in model.fields:
            key = (model.name, f.attr)
            if key not in SDK_FIELDS_NOT_IN_CRDS:
                kept.append(f)
                continue
            self.used.add(("not-in-crds", key))
            kind, arg = parse_type(f.type)
            if kind == "name" and self.registry.resolve(arg, "kubernetes") is not None:
                self.problems.append(
                    f"{model.name}.{f.attr}: listed in SDK_FIELDS_NOT_IN_CRDS, but the pinned Kubernetes "
                    f"client models its type {arg}: is the entry stale?"
                )
        return kept

    def object_schema(self, model: Model) -> dict:
        fields = self.crd_fields(model)
        if not fields:
            # Nothing known about this object: accept any object rather than reject everything.
            schema: dict[str, Any] = {"type": "object"}
        else:
            props = {f.key: self.field_schema(model, f) for f in fields}
            schema = {"additionalProperties": False, "properties": props, "type": "object"}
            required = sorted(f.key for f in fields if f.required)
            if required:
                schema["required"] = required
        if model.description:
            schema["description"] = model.description
        return schema

    def field_schema(self, model: Model, f: ModelField) -> dict:
        where = f"{model.name}.{f.attr}"
        key = (model.name, f.attr)
        if key in INT_OR_STRING_FIELDS:
            self.used.add(("int-or-string", key))
            if f.type != "object" or (f.annotation and "StrictInt | StrictStr" not in f.annotation):
                self.problems.append(
                    f"{where}: listed as int-or-string but typed {f.type!r} ({f.annotation})"
                )
            schema = dict(INT_OR_STRING)
        elif key in FREE_FORM_FIELDS:
            self.used.add(("free-form", key))
            if f.type != "object":
                self.problems.append(f"{where}: listed as free-form but typed {f.type!r}")
            schema = dict(FREE_FORM_FIELDS[key])
        elif key in QUANTITY_FIELDS:
            self.used.add(("quantity", key))
            parsed = parse_type(f.type)
            if parsed == ("name", "str"):
                schema = dict(QUANTITY)
            elif parsed == ("dict", ("name", "str")):
                schema = {"additionalProperties": dict(QUANTITY), "type": "object"}
            else:
                self.problems.append(f"{where}: listed as quantity but typed {f.type!r}")
                schema = {}
        else:
            schema = self.type_schema(parse_type(f.type), model.package, where)
        if key in NULLABLE_FIELDS:
            self.used.add(("nullable", key))
            schema = dict(schema)
            schema["type"] = [schema["type"], "null"]
        if f.description:
            schema = {**schema, "description": f.description}
        return schema

    def type_schema(self, parsed: tuple, package: str, where: str) -> dict:
        kind, arg = parsed
        if kind == "list":
            return {"items": self.type_schema(arg, package, where), "type": "array"}
        if kind == "dict":
            return {"additionalProperties": self.type_schema(arg, package, where), "type": "object"}
        if arg in PRIMITIVES:
            return dict(PRIMITIVES[arg])
        if arg == "object":
            self.problems.append(
                f"{where}: typed 'object'; add it to INT_OR_STRING_FIELDS or FREE_FORM_FIELDS in {GENERATOR}"
            )
            return {}
        if arg in SPECIAL_TYPE_NAMES:
            self.used.add(("special", arg))
            return dict(SPECIAL_TYPE_NAMES[arg])
        if arg in ALIASES:
            self.used.add(("alias", arg))
            return self.model_ref(ALIASES[arg], "kubernetes", where)
        return self.model_ref(arg, package, where)


def build_kind(
    registry: Registry, kind: str, api_version: str, root_name: str, header: str, problems, used
) -> dict:
    root = registry.resolve(root_name, "kserve")
    if root is None:
        raise GenerationError(f"the KServe SDK has no model {root_name}")
    builder = Builder(registry, problems, used)
    props: dict[str, Any] = {}
    for f in root.fields:
        if f.key == "apiVersion":
            props[f.key] = {"description": f.description, "enum": [api_version], "type": "string"}
        elif f.key == "kind":
            props[f.key] = {"description": f.description, "enum": [kind], "type": "string"}
        elif f.key == "status":
            props[f.key] = dict(STATUS_SCHEMA)
        else:
            props[f.key] = builder.field_schema(root, f)
    for required_key in ("apiVersion", "kind", "metadata"):
        if required_key not in props:
            raise GenerationError(f"{root_name} has no {required_key} field")
    schema = {
        "$schema": DRAFT_07,
        "additionalProperties": False,
        "definitions": builder.definitions,
        "description": header,
        "properties": props,
        "required": sorted({"apiVersion", "kind"} | {f.key for f in root.fields if f.required}),
        "title": f"{kind} ({api_version})",
        "type": "object",
        "x-kubernetes-group-version-kind": [
            {"group": GROUP, "kind": kind, "version": api_version.split("/", 1)[1]}
        ],
    }
    return schema


# --- applying the CRD facts ------------------------------------------------------------------


def expand_alternatives(pattern: str) -> list[str]:
    """`.a.{b,c[].d}.e` -> [`.a.b.e`, `.a.c[].d.e`] (nested braces are not needed)."""
    m = re.search(r"\{([^{}]*)\}", pattern)
    if m is None:
        return [pattern]
    out = []
    for alternative in m.group(1).split(","):
        out += expand_alternatives(pattern[: m.start()] + alternative + pattern[m.end() :])
    return out


def path_segments(path: str) -> list[str]:
    """`.spec.canary[].predictor.*` -> ['spec', 'canary', '[]', 'predictor', '*']."""
    segments = re.findall(r"\.([A-Za-z0-9_-]+|\*)|(\[\])", path)
    flat = [name or items for name, items in segments]
    if not flat or "".join("[]" if s == "[]" else f".{s}" for s in flat) != path:
        raise GenerationError(f"CRD_FACTS: cannot read the path {path!r}")
    return flat


# A concrete step from a schema node to a child: a property name, "[]" (items) or "*" (map values).
Step = str


class SchemaEditor:
    """Changes one kind's schema at manifest paths, copy-on-write through shared definitions.

    A definition is shared by every place that uses it (the pod's V1Probe serves every probe of
    every container), but KServe's CRD differs from the SDK at some of those places only. So the
    editor gives each reference it passes through while editing its own copy of the definition.
    finish() then merges copies that ended up identical (to each other or to the original),
    names the remaining variants `<Definition>-<fact ids>` and drops unused definitions.
    """

    def __init__(self, schema: dict):
        self.schema = schema
        self.definitions: dict[str, Any] = schema["definitions"]
        self.copy_of: dict[str, str] = {}  # copy name -> original definition name
        self.fact_ids: dict[str, set[str]] = {}  # copy name -> ids of the facts that edited below it
        self.counter = 0

    def _name(self, node: dict) -> str | None:
        ref = node.get("$ref")
        return ref.rsplit("/", 1)[1] if isinstance(ref, str) else None

    def resolve(self, node: dict) -> dict:
        name = self._name(node)
        return self.definitions[name] if name else node

    def children(self, node: dict, segment: str) -> list[tuple[Step, dict]]:
        node = self.resolve(node)
        if segment == "[]":
            items = node.get("items")
            return [("[]", items)] if isinstance(items, dict) else []
        properties = node.get("properties", {})
        if segment == "*":
            found = [(name, child) for name, child in sorted(properties.items())]
            if isinstance(node.get("additionalProperties"), dict):
                found.append(("*", node["additionalProperties"]))
            return found
        return [(segment, properties[segment])] if segment in properties else []

    def find_node(self, steps: list[Step]) -> dict:
        node = self.schema
        for step in steps:
            node = self.resolve(node)
            if step == "[]":
                node = node["items"]
            elif step == "*":
                node = node["additionalProperties"]
            else:
                node = node["properties"][step]
        return node

    def find(self, path: str) -> list[list[Step]]:
        """Every concrete location the path pattern matches (a wildcard that leads nowhere is skipped)."""
        found: list[list[Step]] = []

        def walk(node: dict, segments: list[str], steps: list[Step]) -> None:
            if not segments:
                found.append(steps)
                return
            for step, child in self.children(node, segments[0]):
                walk(child, segments[1:], [*steps, step])

        for expanded in expand_alternatives(path):
            walk(self.schema, path_segments(expanded), [])
        return found

    def _own(self, node: dict, fact_id: str) -> dict:
        """The schema object to edit for this node: through a $ref, this reference's own copy."""
        name = self._name(node)
        if name is None:
            return node
        if name not in self.copy_of:
            self.counter += 1
            copy_name = f"{name}~{self.counter}"
            self.definitions[copy_name] = json.loads(json.dumps(self.definitions[name]))
            self.copy_of[copy_name] = name
            self.fact_ids[copy_name] = set()
            node["$ref"] = f"#/definitions/{copy_name}"
            name = copy_name
        self.fact_ids[name].add(fact_id)
        return self.definitions[name]

    def open(self, steps: list[Step], fact_id: str) -> dict:
        node = self.schema
        for step in steps:
            node = self._own(node, fact_id)
            if step == "[]":
                node = node["items"]
            elif step == "*":
                node = node["additionalProperties"]
            else:
                node = node["properties"][step]
        return self._own(node, fact_id)

    def finish(self) -> None:
        variants: dict[str, dict[str, str]] = {}  # original -> {canonical content: copy name}
        final: dict[str, str] = {}  # copy name -> the name it is merged into

        def canonical(node: Any) -> Any:
            if isinstance(node, dict):
                out = {k: canonical(v) for k, v in node.items()}
                name = self._name(node)
                if name in self.copy_of:
                    out["$ref"] = f"#/definitions/{identity(name)}"
                return out
            if isinstance(node, list):
                return [canonical(v) for v in node]
            return node

        def identity(name: str) -> str:
            if name not in final:
                original = self.copy_of[name]
                content = canonical(self.definitions[name])
                if content == self.definitions[original]:
                    final[name] = original
                else:
                    key = json.dumps(content, sort_keys=True)
                    final[name] = variants.setdefault(original, {}).setdefault(key, name)
                    self.definitions[final[name]] = content
                    if final[name] != name:
                        self.fact_ids[final[name]] |= self.fact_ids[name]
            return final[name]

        for name in sorted(self.copy_of, key=lambda n: int(n.rsplit("~", 1)[1])):
            identity(name)

        def rewrite(node: Any, rename: dict[str, str]) -> Any:
            if isinstance(node, dict):
                out = {k: rewrite(v, rename) for k, v in node.items()}
                name = self._name(node)
                if name in rename:
                    out["$ref"] = f"#/definitions/{rename[name]}"
                return out
            if isinstance(node, list):
                return [rewrite(v, rename) for v in node]
            return node

        # Point every reference at its merged copy, then keep what the kind still reaches.
        root = {k: v for k, v in self.schema.items() if k != "definitions"}
        definitions = {n: d for n, d in self.definitions.items() if n not in self.copy_of or final[n] == n}
        root = rewrite(root, final)
        definitions = {n: rewrite(d, final) for n, d in definitions.items()}
        reached = self._reachable(root, definitions)

        # Names: a definition with a single variant in use keeps its name. Otherwise the original
        # keeps it and each edited variant is named after the facts that set it apart from the
        # other variants (a number where that is not enough).
        rename: dict[str, str] = {}
        in_use: dict[str, list[str]] = {}
        for name in sorted(reached):
            in_use.setdefault(self.copy_of.get(name, name), []).append(name)
        taken = {name for name in reached if name not in self.copy_of} | set(in_use)
        for original, names in sorted(in_use.items()):
            if len(names) == 1:
                rename[names[0]] = original
                continue
            common = set.intersection(*(self.fact_ids.get(n, set()) for n in names))

            def distinct(name: str, common: set[str] = common) -> list[str]:
                return sorted(self.fact_ids[name] - common)

            for copy_name in sorted((n for n in names if n in self.copy_of), key=lambda n: (distinct(n), n)):
                base = "-".join([original, *distinct(copy_name)])
                candidate, number = base, 1
                while candidate in taken:
                    number += 1
                    candidate = f"{base}-{number}"
                taken.add(candidate)
                rename[copy_name] = candidate
        root = rewrite(root, rename)
        self.schema.clear()
        self.schema.update(root)
        self.schema["definitions"] = {
            rename.get(n, n): rewrite(definitions[n], rename) for n in sorted(reached)
        }

    @staticmethod
    def _reachable(root: dict, definitions: dict[str, Any]) -> set[str]:
        reached: set[str] = set()
        pending = [root]
        while pending:
            node = pending.pop()
            if isinstance(node, dict):
                ref = node.get("$ref")
                if isinstance(ref, str):
                    name = ref.rsplit("/", 1)[1]
                    if name not in reached:
                        reached.add(name)
                        pending.append(definitions[name])
                pending.extend(v for k, v in node.items() if k != "$ref")
            elif isinstance(node, list):
                pending.extend(node)
        return reached


def apply_fact(editor: SchemaEditor, fact: CrdFact, kind: str) -> tuple[int, list[str]]:
    """Apply one fact to one kind's schema: (locations changed, problems)."""
    changed, problems = 0, []
    for path in fact.paths:
        target_path, field_name = path, None
        if fact.action == "no-field":
            target_path, _, field_name = path.rpartition(".")
        locations = editor.find(target_path)
        if not locations:
            problems.append(f"CRD_FACTS {fact.id}: {target_path} matches nothing in the {kind} schema")
        for steps in locations:
            where = "." + ".".join(steps).replace(".[]", "[]")
            current = editor.resolve(editor.find_node(steps))
            if fact.action == "no-field":
                if "*" in field_name or field_name not in current.get("properties", {}):
                    continue  # a wildcard parent without that field
                node = editor.open(steps, fact.id)
                del node["properties"][field_name]
                if field_name in node.get("required", []):
                    node["required"] = [r for r in node["required"] if r != field_name]
                changed += 1
            elif fact.action == "not-required":
                if current.get("required"):
                    del editor.open(steps, fact.id)["required"]
                    changed += 1
            elif fact.action == "required":
                missing = [n for n in fact.value if n not in current.get("properties", {})]
                if missing:
                    problems.append(f"CRD_FACTS {fact.id}: {kind} {where} has no field {missing}")
                    continue
                if not set(fact.value) <= set(current.get("required", [])):
                    node = editor.open(steps, fact.id)
                    node["required"] = sorted(set(node.get("required", [])) | set(fact.value))
                    changed += 1
            elif fact.action == "enum":
                if current.get("type") != "string" or "enum" in current:
                    problems.append(f"CRD_FACTS {fact.id}: {kind} {where} is not a plain string")
                    continue
                editor.open(steps, fact.id)["enum"] = list(fact.value)
                changed += 1
            elif fact.action == "constraints":
                unknown = set(fact.value) - CONSTRAINT_KEYWORDS
                clash = [k for k in fact.value if k in current]
                if unknown or clash or "type" not in current:
                    problems.append(f"CRD_FACTS {fact.id}: cannot add {fact.value} at {kind} {where}")
                    continue
                editor.open(steps, fact.id).update(fact.value)
                changed += 1
            else:
                problems.append(f"CRD_FACTS {fact.id}: unknown action {fact.action!r}")
    return changed, problems


def dump(obj: Any) -> bytes:
    return (json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def kubernetes_api_level(registry: Registry, wheel: Wheel) -> str:
    """The Kubernetes release the client's models are generated from ("release-1.34" -> "1.34")."""
    try:
        with zipfile.ZipFile(wheel.path) as zf:
            text = zf.read("kubernetes/client/configuration.py").decode("utf-8")
    except (KeyError, zipfile.BadZipFile, OSError) as exc:
        raise GenerationError(
            f"cannot read kubernetes/client/configuration.py in {wheel.path}: {exc}"
        ) from None
    m = re.search(r"Version of the API: (?:release-)?v?(\d+\.\d+)", text)
    if m is None:
        raise GenerationError(
            f"{wheel.path.name}: no 'Version of the API' in kubernetes/client/configuration.py"
        )
    return m.group(1)


def facts_digest() -> str:
    """sha256 of the facts tables as data: SOURCE.json records it as an input."""
    table = {
        "crd_facts": [vars(fact) for fact in CRD_FACTS],
        "kinds_not_modelled": KINDS_NOT_MODELLED,
        "kubernetes_api": [KUBERNETES_API, KUBERNETES_API_SOURCE],
        "sdk_fields_not_in_crds": sorted([*key, why] for key, why in SDK_FIELDS_NOT_IN_CRDS.items()),
    }
    return hashlib.sha256(json.dumps(table, sort_keys=True).encode("utf-8")).hexdigest()


def check_not_modelled(registry: Registry, problems: list[str]) -> None:
    """Each KINDS_NOT_MODELLED entry: its spec, built on the side, still lacks the model it names."""
    for kind, api_version, envelope_name, missing_model, _reason in KINDS_NOT_MODELLED:
        envelope = registry.resolve(envelope_name, "kserve")
        spec = envelope.get("spec") if envelope else None
        if envelope is None or spec is None:
            problems.append(
                f"KINDS_NOT_MODELLED: the SDK no longer has {envelope_name} with a spec: drop the entry"
            )
            continue
        # A scratch builder: its problems and table uses do not count for the generated kinds.
        scratch: list[str] = []
        Builder(registry, scratch, set()).field_schema(envelope, spec)
        if not any(f"unknown type {missing_model!r}" in p for p in scratch):
            problems.append(
                f"the SDK now models {missing_model}, which KINDS_NOT_MODELLED says {kind} {api_version} "
                "lacks: move the kind to KINDS (or name the model it still lacks)"
            )


def generate(wheels: dict[str, Wheel]) -> tuple[dict[str, bytes], dict]:
    """Return {file name: content} for OUT/serving.kserve.io/ and some counts."""
    registry = Registry(wheels)
    ks, k8s = wheels["kserve"], wheels["kubernetes"]
    api_level = kubernetes_api_level(registry, k8s)
    if api_level != KUBERNETES_API:
        raise GenerationError(
            f"the pinned kubernetes {k8s.version} client models Kubernetes {api_level}, but KServe's CRDs "
            f"build on Kubernetes {KUBERNETES_API} ({KUBERNETES_API_SOURCE}): pin the matching client "
            f"in {REQUIREMENTS} or update KUBERNETES_API"
        )
    problems: list[str] = []
    used: set = set()
    files: dict[str, bytes] = {}
    kinds_info = {}
    total_definitions = set()
    applied: dict[str, dict[str, int]] = {fact.id: {} for fact in CRD_FACTS}
    for stem, kind, api_version, root_name in KINDS:
        header = (
            f"KServe {kind} {api_version}. Generated by {GENERATOR} from the KServe Python SDK "
            f"(kserve {ks.version}) and the Kubernetes Python client (kubernetes {k8s.version}, "
            f"Kubernetes {api_level}), with the differences of KServe's CRDs applied ({KSERVE_CRDS}); "
            "do not edit by hand, regenerate with `nox -s schemas`."
        )
        schema = build_kind(registry, kind, api_version, root_name, header, problems, used)
        editor = SchemaEditor(schema)
        for fact in CRD_FACTS:
            if kind not in fact.kinds:
                continue
            changed, fact_problems = apply_fact(editor, fact, kind)
            problems += fact_problems
            applied[fact.id][kind] = changed
            if changed != fact.changes and not fact_problems:
                problems.append(
                    f"CRD_FACTS {fact.id}: changed {changed} places in the {kind} schema, "
                    f"expected {fact.changes}: check the entry against the SDK"
                )
        editor.finish()
        files[f"{stem}.json"] = dump(schema)
        kinds_info[f"{stem}.json"] = {
            "apiVersion": api_version,
            "definitions": len(schema["definitions"]),
            "kind": kind,
            "model": root_name,
        }
        total_definitions |= set(schema["definitions"])
    check_not_modelled(registry, problems)

    # Every table entry must have been used: a stale entry means the SDK changed underneath.
    tables = [
        ("INT_OR_STRING_FIELDS", "int-or-string", INT_OR_STRING_FIELDS),
        ("FREE_FORM_FIELDS", "free-form", FREE_FORM_FIELDS),
        ("QUANTITY_FIELDS", "quantity", QUANTITY_FIELDS),
        ("NULLABLE_FIELDS", "nullable", NULLABLE_FIELDS),
        ("SPECIAL_TYPE_NAMES", "special", SPECIAL_TYPE_NAMES),
        ("ALIASES", "alias", ALIASES),
        ("SYNTHESIZED", "synthesized", SYNTHESIZED),
        ("SDK_FIELDS_NOT_IN_CRDS", "not-in-crds", SDK_FIELDS_NOT_IN_CRDS),
    ]
    for table, label, entries in tables:
        for entry in sorted(entries):
            if (label, entry) not in used:
                problems.append(f"{table} entry {entry} was not used by any generated schema")
    if problems:
        raise GenerationError(
            "the SDK models do not map cleanly to JSON Schema:\n"
            + "\n".join(f"  - {p}" for p in sorted(set(problems)))
        )

    source = {
        "crd_facts": {
            "applied": {fact.id: applied[fact.id] for fact in CRD_FACTS},
            "kubernetes_api": {"source": KUBERNETES_API_SOURCE, "version": KUBERNETES_API},
            "not_generated": [
                {"apiVersion": api_version, "kind": kind, "lacks": missing_model, "reason": reason}
                for kind, api_version, _, missing_model, reason in KINDS_NOT_MODELLED
            ],
            "sdk_fields_not_in_crds": sorted(f"{model}.{attr}" for model, attr in SDK_FIELDS_NOT_IN_CRDS),
            "source": KSERVE_CRDS,
            "table": f"{GENERATOR}: CRD_FACTS, SDK_FIELDS_NOT_IN_CRDS, KINDS_NOT_MODELLED, KUBERNETES_API",
            "table_sha256": facts_digest(),
        },
        "generated": True,
        "generator": GENERATOR,
        "note": (
            "Generated files: do not edit by hand. Regenerate with `nox -s schemas` "
            f"(python {GENERATOR} --out schemas); check with --check."
        ),
        "requirements": REQUIREMENTS,
        "schemas": kinds_info,
        "sources": [
            {
                "licence": "Apache-2.0",
                "models": PACKAGES[w.name] + "*.py",
                "package": w.name,
                "registry": "PyPI",
                "version": w.version,
                "wheel": w.path.name,
                "wheel_sha256": w.sha256,
            }
            for w in (ks, k8s)
        ],
    }
    files["SOURCE.json"] = dump(source)
    files["README.md"] = readme(ks, k8s, api_level).encode("utf-8")
    stats = {
        "kinds": len(KINDS),
        "definitions": len(total_definitions),
        "object_fields": len(INT_OR_STRING_FIELDS) + len(FREE_FORM_FIELDS),
        "facts": len(CRD_FACTS),
    }
    return files, stats


def readme(ks: Wheel, k8s: Wheel, api_level: str) -> str:
    kinds = ", ".join(f"{kind} {api.split('/')[1]}" for _, kind, api, _ in KINDS)
    missing = ", ".join(f"{kind} {api.split('/')[1]}" for kind, api, *_ in KINDS_NOT_MODELLED)
    layout = "{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json"
    lines = [
        "# KServe JSON Schemas (generated: do not edit)",
        "",
        "Strict JSON Schemas (draft-07; unknown fields and wrong types fail), kubeconform's layout",
        f"`{layout}`, for serving.kserve.io {kinds}.",
        f"Source: the API models of the KServe Python SDK (`kserve` {ks.version} on PyPI) and of the",
        f"Kubernetes Python client (`kubernetes` {k8s.version} on PyPI, Kubernetes {api_level}: the API",
        "KServe's CRDs build on), both Apache-2.0; versions and wheel sha256 in SOURCE.json.",
        "On top of the models, the generator applies what KServe's CRDs (enforced by the API server)",
        f"say differently ({KSERVE_CRDS}): enums, bounds, the `required`",
        "KServe's build deletes or adds, fields the CRDs do not have. The table is CRD_FACTS in the",
        "generator, each entry with its source; SOURCE.json records its sha256 and what each entry changed.",
        f"Not generated: {missing}. The SDK names these kinds but does not model (all of) their spec",
        "(the model each lacks: SOURCE.json), so a strict schema cannot be derived: a manifest of these",
        "kinds is reported as having no schema.",
        f"Generator: `{GENERATOR}`, pins in `{REQUIREMENTS}`.",
        "Regenerate: `nox -s schemas`, or `python tool/scripts/generate_kserve_schemas.py --out schemas`.",
        "Check that these files are current: the same command with `--check`.",
        "To move to a new SDK version: change the pins and hashes, regenerate, review the diff.",
    ]
    return "\n".join(lines) + "\n"


# --- main -----------------------------------------------------------------------------------


def compare(out_dir: Path, files: dict[str, bytes]) -> list[str]:
    differences = []
    for name, content in sorted(files.items()):
        path = out_dir / name
        if not path.is_file():
            differences.append(f"missing: {path}")
        elif path.read_bytes() != content:
            differences.append(f"differs: {path}")
    if out_dir.is_dir():
        for path in sorted(out_dir.iterdir()):
            if path.name not in files:
                differences.append(f"not generated: {path}")
    return differences


def write(out_dir: Path, files: dict[str, bytes]) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    for path in sorted(out_dir.glob("*.json")):
        if path.name not in files:  # a kind no longer generated
            path.unlink()
    for name, content in files.items():
        path = out_dir / name
        if not path.is_file() or path.read_bytes() != content:
            path.write_bytes(content)


def default_wheel_dir() -> Path:
    """The user cache modeldeploy uses for its downloads (as modeldeploy.fileio.cache_dir)."""
    explicit = os.environ.get("MODELDEPLOY_CACHE")
    if explicit:
        return Path(explicit) / "kserve-schema-wheels"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "modeldeploy" / "kserve-schema-wheels"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("schemas"), help="schema root (default: schemas)")
    parser.add_argument(
        "--wheel-dir",
        type=Path,
        help="cache directory for the pinned wheels (default: $MODELDEPLOY_CACHE/kserve-schema-wheels, "
        "else ~/.cache/modeldeploy/kserve-schema-wheels); downloaded there when missing",
    )
    parser.add_argument(
        "--requirements", type=Path, default=DEFAULT_REQUIREMENTS, help="pinned, hashed requirements file"
    )
    parser.add_argument(
        "--check", action="store_true", help="exit 1 if the files under --out are not current"
    )
    args = parser.parse_args(argv)
    out_dir = args.out / GROUP
    started = time.monotonic()
    try:
        files, stats = generate(fetch_wheels(args.requirements, args.wheel_dir or default_wheel_dir()))
        if args.check:
            differences = compare(out_dir, files)
            if differences:
                print(f"error: {out_dir} is not what the generator produces:", file=sys.stderr)
                for line in differences:
                    print(f"  {line}", file=sys.stderr)
                print(
                    "Regenerate with `nox -s schemas` (or python tool/scripts/generate_kserve_schemas.py "
                    f"--out {args.out}) and commit the result; never edit these files by hand.",
                    file=sys.stderr,
                )
                return 1
            print(f"{out_dir}: up to date ({len(files)} files)")
            return 0
        write(out_dir, files)
    except GenerationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    elapsed = time.monotonic() - started
    print(
        f"wrote {len(files)} files to {out_dir}: {stats['kinds']} kinds, {stats['definitions']} distinct "
        f"definitions, {stats['object_fields']} 'object' fields mapped, {stats['facts']} CRD facts "
        f"applied ({elapsed:.1f} s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
