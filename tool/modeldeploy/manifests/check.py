"""Checks rendered objects against JSON schemas, like `kubeconform -strict`.

Every object gets a status: valid, invalid (the schema rejects it) or
"could not check" (no schema for its kind, or not a Kubernetes object). The two
failing statuses stay apart in rule ids:

- `manifest-invalid`: the schema of the object's kind rejects it (`manifest-invalid` says the
  manifest is wrong, `manifest-no-schema` says we could not tell);
- `manifest-no-schema`: no schema for the object's apiVersion and kind in any schema location,
  so it could not be checked (never reported as valid);
- `manifest-not-an-object`: a document of helm's output is not a Kubernetes object (a
  list, a string, a mapping without apiVersion and kind).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import referencing.exceptions

from .. import fast_schema
from ..diagnostics import Diagnostic, ToolError, declared_in
from ..processes import Deadline
from .kubeconform import run_kubeconform
from .parse import read_manifests
from .schema_registry import SchemaRegistry

_declare = declared_in(__doc__, __name__)
RULE_INVALID = _declare("manifest-invalid")
RULE_NO_SCHEMA = _declare("manifest-no-schema")
RULE_NOT_OBJECT = _declare("manifest-not-an-object")
MAX_ERRORS_PER_OBJECT = 20
DEFAULT_DRAFT = "http://json-schema.org/draft-07/schema#"  # schema_registry's, for a schema without $schema


@dataclass(frozen=True)
class ObjectStatus:
    kind: str
    name: str
    status: str  # valid | invalid | no-schema | not-an-object


def _kind_of(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping without apiVersion and kind"
    if isinstance(value, list):
        return "a list"
    return "a string" if isinstance(value, str) else f"a {type(value).__name__}"


def describe(obj: dict[str, Any]) -> str:
    name = (obj.get("metadata") or {}).get("name", "?") if isinstance(obj.get("metadata"), dict) else "?"
    return f"{obj.get('kind', '?')}/{name}"


def check_objects(objects: list[Any], registry: SchemaRegistry, report_path: str,
                  ) -> tuple[list[ObjectStatus], list[Diagnostic]]:
    statuses: list[ObjectStatus] = []
    problems: list[Diagnostic] = []
    for obj in objects:
        if not isinstance(obj, dict) or not isinstance(obj.get("apiVersion"), str) \
                or not isinstance(obj.get("kind"), str):
            statuses.append(ObjectStatus("?", "?", "not-an-object"))
            problems.append(RULE_NOT_OBJECT.at(report_path, 1, 1,
                                               "helm printed a document that is not a Kubernetes "
                            f"object ({_kind_of(obj)})"))
            continue
        label = describe(obj)
        ref = registry.find(obj["apiVersion"], obj["kind"])
        if ref is None:
            statuses.append(ObjectStatus(obj["kind"], label, "no-schema"))
            problems.append(RULE_NO_SCHEMA.at(report_path, 1, 1,
                                              f"rendered {label}: could not check, no schema "
                           f"for {obj['kind']} {obj['apiVersion']} in "
                           f"{', '.join(registry.locations)}"))
            continue
        validator = registry.validator(ref)  # a user's broken schema is reported as before
        if fast_schema.file_is_valid(str(ref.path), obj, DEFAULT_DRAFT):
            statuses.append(ObjectStatus(obj["kind"], label, "valid"))
            continue
        try:
            errors = sorted(validator.iter_errors(obj), key=lambda e: list(e.absolute_path))
        except referencing.exceptions.Unresolvable as exc:  # a user's schema with a broken $ref
            raise ToolError(f"schema {ref.path}: a $ref it holds cannot be resolved: {exc}") from exc
        statuses.append(ObjectStatus(obj["kind"], label, "invalid" if errors else "valid"))
        for err in errors[:MAX_ERRORS_PER_OBJECT]:
            where = ".".join(str(p) for p in err.absolute_path) or "(root)"
            problems.append(RULE_INVALID.at(report_path, 1, 1, f"rendered {label}: {where}: {err.message}"))
    return statuses, problems


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
