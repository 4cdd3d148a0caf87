#!/usr/bin/env python3
"""Generate strict JSON Schemas for KServe resources from the KServe Python SDK.

Inputs are two wheels pinned with sha256 in kserve-schema-requirements.txt (beside this file):
the KServe Python SDK (`kserve`, API models in kserve/models/*.py) and the Kubernetes Python
client (`kubernetes`, core models in kubernetes/client/models/*.py). The wheels are downloaded
with pip (no install) and the model sources are read straight out of the zip files with `ast`:
every generated model class carries `openapi_types` (attribute -> type string) and
`attribute_map` (attribute -> JSON key) as plain literals. Nothing is imported from either
package (`import kserve` would pull in a whole model-server stack).

Output: kubeconform's `{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json` layout under
OUT/serving.kserve.io/, one self-contained JSON Schema (draft-07) per kind, plus SOURCE.json
(versions and wheel hashes) and README.md. The schemas are strict: every object with known
properties has `additionalProperties: false`, so a misspelt field fails validation.

    python tool/scripts/generate_kserve_schemas.py --out schemas [--wheel-dir DIR] [--check]

--check regenerates in memory and exits 1 if the files under OUT differ from it.
Only the standard library is used.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import re
import subprocess
import sys
import tempfile
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

    def object_schema(self, model: Model) -> dict:
        if not model.fields:
            # Nothing known about this object: accept any object rather than reject everything.
            schema: dict[str, Any] = {"type": "object"}
        else:
            props = {f.key: self.field_schema(model, f) for f in model.fields}
            schema = {"additionalProperties": False, "properties": props, "type": "object"}
            required = sorted(f.key for f in model.fields if f.required)
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


def dump(obj: Any) -> bytes:
    return (json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def generate(wheels: dict[str, Wheel]) -> tuple[dict[str, bytes], dict]:
    """Return {file name: content} for OUT/serving.kserve.io/ and some counts."""
    registry = Registry(wheels)
    ks, k8s = wheels["kserve"], wheels["kubernetes"]
    problems: list[str] = []
    used: set = set()
    files: dict[str, bytes] = {}
    kinds_info = {}
    total_definitions = set()
    for stem, kind, api_version, root_name in KINDS:
        header = (
            f"KServe {kind} {api_version}. Generated by {GENERATOR} from the KServe Python SDK "
            f"(kserve {ks.version}) and the Kubernetes Python client (kubernetes {k8s.version}); "
            "do not edit by hand, regenerate with `nox -s schemas`."
        )
        schema = build_kind(registry, kind, api_version, root_name, header, problems, used)
        files[f"{stem}.json"] = dump(schema)
        kinds_info[f"{stem}.json"] = {
            "apiVersion": api_version,
            "definitions": len(schema["definitions"]),
            "kind": kind,
            "model": root_name,
        }
        total_definitions |= set(schema["definitions"])

    # Every table entry must have been used: a stale entry means the SDK changed underneath.
    tables = [
        ("INT_OR_STRING_FIELDS", "int-or-string", INT_OR_STRING_FIELDS),
        ("FREE_FORM_FIELDS", "free-form", FREE_FORM_FIELDS),
        ("QUANTITY_FIELDS", "quantity", QUANTITY_FIELDS),
        ("NULLABLE_FIELDS", "nullable", NULLABLE_FIELDS),
        ("SPECIAL_TYPE_NAMES", "special", SPECIAL_TYPE_NAMES),
        ("ALIASES", "alias", ALIASES),
        ("SYNTHESIZED", "synthesized", SYNTHESIZED),
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
    files["README.md"] = readme(ks, k8s).encode("utf-8")
    stats = {
        "kinds": len(KINDS),
        "definitions": len(total_definitions),
        "object_fields": len(INT_OR_STRING_FIELDS) + len(FREE_FORM_FIELDS),
    }
    return files, stats


def readme(ks: Wheel, k8s: Wheel) -> str:
    kinds = ", ".join(f"{kind} {api.split('/')[1]}" for _, kind, api, _ in KINDS)
    layout = "{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json"
    lines = [
        "# KServe JSON Schemas (generated: do not edit)",
        "",
        "Strict JSON Schemas (draft-07; unknown fields and wrong types fail), kubeconform's layout",
        f"`{layout}`, for serving.kserve.io {kinds}.",
        f"Source: the API models of the KServe Python SDK (`kserve` {ks.version} on PyPI) and of the",
        f"Kubernetes Python client (`kubernetes` {k8s.version} on PyPI), both Apache-2.0; versions and",
        f"wheel sha256 in SOURCE.json. Generator: `{GENERATOR}`, pins in `{REQUIREMENTS}`.",
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("schemas"), help="schema root (default: schemas)")
    parser.add_argument(
        "--wheel-dir",
        type=Path,
        help="cache directory for the pinned wheels (default: a temporary directory)",
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
        if args.wheel_dir is not None:
            files, stats = generate(fetch_wheels(args.requirements, args.wheel_dir))
        else:
            with tempfile.TemporaryDirectory(prefix="kserve-wheels-") as tmp:
                files, stats = generate(fetch_wheels(args.requirements, Path(tmp)))
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
        f"definitions, {stats['object_fields']} 'object' fields mapped ({elapsed:.1f} s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
