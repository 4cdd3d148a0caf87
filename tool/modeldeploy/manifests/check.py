"""Checks rendered objects against JSON schemas, like `kubeconform -strict`.

Every object gets a status: valid, invalid (the schema rejects it) or
"could not check" (no schema for its kind, or not a Kubernetes object). The two
failing statuses stay apart in rule ids:

- `manifest-invalid`: the schema of the object's kind rejects it (`manifest-invalid` says the
  manifest is wrong, `manifest-no-schema` says we could not tell);
- `manifest-no-schema`: no schema for the object's apiVersion and kind in any schema location,
  so it could not be checked (never reported as valid). For Kubernetes' own API groups and
  KServe's, that means an apiVersion or kind that does not exist (`extensions/v1beta1`
  Deployments, a typo); `check` reports every missing schema with it, as kubeconform does;
- `manifest-crd-no-schema`: `render`, `diff` and `status` met a custom resource of another API
  group (an OpenShift `Route`, a `ServiceMonitor`, a `TrustyAIService`) that no schema location
  has a schema for: it is rendered and written, but its fields are not checked. Give its CRD's
  schema with `--schema-location`, or make this rule an error in `.modeldeploy.yaml` to
  require one (`--strict` fails it too);
- `manifest-not-an-object`: a document of helm's output (or of a file `check` reads) is not a
  Kubernetes object (a list, a string, a mapping without apiVersion and kind).

The same function checks what `render` rendered and what `check` reads: a `kind: List` is
checked item by item (as kubeconform does), and every well-formed object goes through KServe's
semantics too (kserve_rules.py), and its container images through the kubelet's reading
(image_refs.py).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from .. import fast_schema
from ..diagnostics import Diagnostic, Severity, ToolError, declared_in
from ..processes import Deadline
from . import image_refs, kserve_rules
from .kserve_rules import StorageFormat, storage_formats
from .kubeconform import run_kubeconform
from .locate import Locator
from .parse import read_manifests
from .schema_registry import SchemaRef, SchemaRegistry, is_known_group

_declare = declared_in(__doc__, __name__)
RULE_INVALID = _declare("manifest-invalid")
RULE_NO_SCHEMA = _declare("manifest-no-schema")
RULE_CRD_NO_SCHEMA = _declare("manifest-crd-no-schema", Severity.WARNING)
RULE_NOT_OBJECT = _declare("manifest-not-an-object")
MAX_ERRORS_PER_OBJECT = 20
DEFAULT_DRAFT = "http://json-schema.org/draft-07/schema#"  # schema_registry's, for a schema without $schema


@dataclass(frozen=True)
class ObjectStatus:
    kind: str
    name: str
    status: str  # valid | invalid | no-schema | not-an-object | skipped
    problems: tuple[Diagnostic, ...] = ()  # what was reported about this object


@dataclass(frozen=True)
class Source:
    """Where checked objects come from, and where their findings are reported.

    `render` reports against the config (line 1): `lines` and `locator` are None. `check` reports
    in the manifest file: `lines` holds the line each object's document starts on, `locator`
    places a finding on its field.
    """

    report_path: str
    lines: Sequence[int] | None = None
    locator: Locator | None = None
    noun: str = "rendered "  # before Kind/name in messages

    def at(self, index: int, path: Sequence[str | int]) -> tuple[int, int]:
        if self.lines is None:
            return 1, 1
        if self.locator is None:
            return self.lines[index], 1
        return self.locator.at(self.lines[index], path)


@dataclass(frozen=True)
class Selection:
    """kubeconform's `-skip` and `-ignore-missing-schemas`: which objects are not checked."""

    skip: frozenset[str] = frozenset()  # kinds, or apiVersion/kind
    ignore_missing_schemas: bool = False
    # kubeconform (and so `check`): every missing schema fails; render: see manifest-crd-no-schema
    every_missing_schema_fails: bool = False

    def skips(self, obj: dict[str, Any]) -> bool:
        return bool(self.skip) and (obj["kind"] in self.skip
                                    or f"{obj['apiVersion']}/{obj['kind']}" in self.skip)


CHECK_ALL = Selection()


def _kind_of(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping without apiVersion and kind"
    if isinstance(value, list):
        return "a list"
    return "a string" if isinstance(value, str) else f"a {type(value).__name__}"


def describe(obj: dict[str, Any]) -> str:
    name = (obj.get("metadata") or {}).get("name", "?") if isinstance(obj.get("metadata"), dict) else "?"
    return f"{obj.get('kind', '?')}/{name}"


def _units(objects: list[Any]) -> Iterator[tuple[int, tuple[str | int, ...], Any]]:
    """(document index, path inside it, object): the items of a `kind: List` one by one, as kubeconform."""
    for index, obj in enumerate(objects):
        if isinstance(obj, dict) and obj.get("kind") == "List" and isinstance(obj.get("items"), list):
            for position, item in enumerate(obj["items"]):
                yield index, ("items", position), item
        else:
            yield index, (), obj


def check_objects(objects: list[Any], registry: SchemaRegistry, report_path: str | Source,
                  selection: Selection = CHECK_ALL, formats: Sequence[StorageFormat] | None = None,
                  ) -> tuple[list[ObjectStatus], list[Diagnostic]]:
    """Each object against its schema, KServe's semantics (kserve_rules.py) and its images
    (image_refs.py); `formats`: the
    storage URI formats of the ClusterStorageContainers checked with them (None: those among
    `objects`)."""
    source = report_path if isinstance(report_path, Source) else Source(report_path)
    formats = storage_formats(objects) if formats is None else formats
    statuses: list[ObjectStatus] = []
    problems: list[Diagnostic] = []
    for index, prefix, obj in _units(objects):
        def at(path: Sequence[str | int], index: int = index, prefix: tuple[str | int, ...] = prefix,
               ) -> tuple[int, int]:
            return source.at(index, (*prefix, *path))

        if not isinstance(obj, dict) or not isinstance(obj.get("apiVersion"), str) \
                or not isinstance(obj.get("kind"), str):
            what = "helm printed" if source.lines is None else "this file holds"
            found_here = [RULE_NOT_OBJECT.at(source.report_path, *at(()), f"{what} a document that is not "
                                             f"a Kubernetes object ({_kind_of(obj)})")]
            statuses.append(ObjectStatus("?", "?", "not-an-object", tuple(found_here)))
            problems += found_here
            continue
        label = describe(obj)
        if selection.skips(obj):
            statuses.append(ObjectStatus(obj["kind"], label, "skipped"))
            continue
        ref = registry.find(obj["apiVersion"], obj["kind"])
        if ref is None and selection.ignore_missing_schemas:
            statuses.append(ObjectStatus(obj["kind"], label, "skipped"))
            continue
        if ref is None:
            fails = selection.every_missing_schema_fails or is_known_group(obj["apiVersion"])
            rule = RULE_NO_SCHEMA if fails else RULE_CRD_NO_SCHEMA
            found_here = [rule.at(source.report_path, *at(()), f"{source.noun}{label}: could not "
                                  f"check, no schema for {obj['kind']} {obj['apiVersion']} in "
                                  f"{registry.described()}")]
            statuses.append(ObjectStatus(obj["kind"], label, "no-schema", tuple(found_here)))
            problems += found_here
            continue
        errors = []
        # jsonschema (and its validator of this schema) only when the fast path does not say
        # "valid": jsonschema-rs builds only schemas that pass their metaschema and whose
        # references resolve, so a user's broken schema still reaches the validator, reported as before.
        if not fast_schema.file_is_valid(str(ref.path), obj, DEFAULT_DRAFT):
            errors = _schema_errors(registry, ref, obj)
        # semantics of a well-formed object: KServe's, and the images the kubelet pulls
        found = [] if errors else [*kserve_rules.findings(obj, formats), *image_refs.findings(obj)]
        refused = errors or any(f.rule.severity is Severity.ERROR for f in found)
        found_here = []
        for err in errors[:MAX_ERRORS_PER_OBJECT]:
            where = ".".join(str(p) for p in err.absolute_path) or "(root)"
            found_here.append(RULE_INVALID.at(source.report_path, *at(list(err.absolute_path)),
                                              f"{source.noun}{label}: {where}: {err.message}"))
        for finding in found:
            found_here.append(finding.rule.at(source.report_path, *at(finding.path),
                                              f"{source.noun}{label}: {finding.message}"))
        verdict = "invalid" if refused else "valid"
        statuses.append(ObjectStatus(obj["kind"], label, verdict, tuple(found_here)))
        problems += found_here
    return statuses, problems


def _schema_errors(registry: SchemaRegistry, ref: SchemaRef, obj: dict[str, Any]) -> list[Any]:
    """jsonschema's errors for `obj`, by path; imported here: valid objects never need it."""
    import referencing.exceptions

    validator = registry.validator(ref)  # a user's broken schema: ToolError
    try:
        return sorted(validator.iter_errors(obj), key=lambda e: list(e.absolute_path))
    except referencing.exceptions.Unresolvable as exc:  # a user's schema with a broken $ref
        raise ToolError(f"schema {ref.path}: a $ref it holds cannot be resolved: {exc}") from exc


def check_manifests(manifests: str, file: str, registry: SchemaRegistry, kubeconform: str | None,
                    deadline: Deadline | None = None) -> list[Diagnostic]:
    """Parse one deployment's manifests and check them against the schemas (and kubeconform)."""
    objects, problems = read_manifests(manifests, file)
    if problems:
        return problems
    _, problems = check_objects(objects, registry, file)
    if kubeconform:
        problems += run_kubeconform(kubeconform, manifests, objects, registry, file, deadline)
    return problems
