"""Checks rendered manifests against JSON schemas, like `kubeconform -strict`.

Every object gets a status: valid, invalid (the schema rejects it) or
"could not check" (no schema for its kind, or not a Kubernetes object). The two
failing statuses stay apart in rule ids:

- `manifest-invalid`: `manifest-invalid` says the manifest is wrong, `manifest-no-schema`
  says we could not tell.
- `manifest-no-schema`: `manifest-invalid` says the manifest is wrong,
  `manifest-no-schema` says we could not tell.
- `kubeconform`: when `kubeconform` is on PATH it runs too, over the same schema
  files, and its findings are reported under this id.
- `helm-output`: helm exited 0 but its output is no manifest stream: not YAML, no
  Kubernetes object at all (empty), or (helm.py) bytes that are not UTF-8 or more than
  the size cap. The config is not rendered.
- `manifest-not-an-object`: a document of helm's output is not a Kubernetes object (a
  list, a string, a mapping without apiVersion and kind).
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from typing import Any

import referencing.exceptions
import yaml

from ..diagnostics import Diagnostic, ToolError, error
from ..processes import DEFAULT_TIMEOUT_SECONDS, Deadline, describe_output, run
from ..render.helm_install import cache_dir
from .schema_registry import SchemaRegistry, kubeconform_locations

RULE_INVALID = "manifest-invalid"
RULE_NO_SCHEMA = "manifest-no-schema"
RULE_NOT_OBJECT = "manifest-not-an-object"
RULE_OUTPUT = "helm-output"
RULE_KUBECONFORM = "kubeconform"
MAX_ERRORS_PER_OBJECT = 20
MAX_REPORT_BYTES = 16 << 20

try:
    _Loader: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover
    _Loader = yaml.SafeLoader


@dataclass(frozen=True)
class ObjectStatus:
    kind: str
    name: str
    status: str  # valid | invalid | no-schema | not-an-object


_STR, _MAP, _SEQ = ("tag:yaml.org,2002:str", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq")


class _Slow(Exception):
    """Not a plain tree of text keys: PyYAML's own constructor builds this document."""


MAX_EXPANDED_NODES = 1_000_000  # a document as its reader sees it, aliases expanded


class AliasError(yaml.YAMLError):
    """Aliases that refer to themselves, or expand to more nodes than any manifest has."""


def _expanded_size(value: Any, sizes: dict[int, int], open_values: set[int]) -> int:
    """Values in a document with every shared part (an alias) counted once per use."""
    if not isinstance(value, (dict, list)):
        return 1
    key = id(value)
    if key in sizes:
        return sizes[key]
    if key in open_values:
        raise AliasError("an alias refers to a node that contains it (a recursive structure)")
    open_values.add(key)
    items = [*value.keys(), *value.values()] if isinstance(value, dict) else value
    size = 1 + sum(_expanded_size(item, sizes, open_values) for item in items)
    if size > MAX_EXPANDED_NODES:
        raise AliasError(f"its aliases expand to more than {MAX_EXPANDED_NODES:,} nodes")
    open_values.discard(key)
    sizes[key] = size
    return size


def parse_manifests(text: str, shared: list[Any] | None = None) -> list[Any]:
    """The documents of a manifest stream: PyYAML's values, twice as fast on helm output.

    PyYAML composes and resolves the nodes as always; plain trees (text keys, maps and
    lists, no anchors reused, no merge keys) are then built directly, every scalar not
    text by PyYAML's own constructor. Anything else: PyYAML builds the whole document,
    and appends it to `shared` too (only these can share parts, through aliases).
    """
    loader = _Loader(text)
    try:
        documents = []
        while loader.check_node():
            node = loader.get_node()
            try:
                documents.append(_build(loader, node, set()))
            except _Slow:
                documents.append(loader.construct_document(node))
                if shared is not None:
                    shared.append(documents[-1])
        return [doc for doc in documents if doc is not None]
    finally:
        loader.dispose()


def _build(loader: Any, node: Any, seen: set[int]) -> Any:
    kind = type(node)
    if kind is yaml.ScalarNode:
        return node.value if node.tag == _STR else loader.construct_object(node, deep=True)
    if id(node) in seen:  # an alias: PyYAML shares the object (and handles recursion)
        raise _Slow
    seen.add(id(node))
    if kind is yaml.MappingNode and node.tag == _MAP:
        result = {}
        for key, value in node.value:
            if type(key) is not yaml.ScalarNode or key.tag != _STR:
                raise _Slow
            result[key.value] = _build(loader, value, seen)
        return result
    if kind is yaml.SequenceNode and node.tag == _SEQ:
        return [_build(loader, item, seen) for item in node.value]
    raise _Slow


def read_manifests(manifests: str, report_path: str) -> tuple[list[Any], list[Diagnostic]]:
    """`parse_manifests`, with output that is not YAML or holds no object as a diagnostic; so are
    aliases that refer to themselves or expand beyond MAX_EXPANDED_NODES (checking or diffing
    them would never end)."""
    try:
        shared: list[Any] = []
        objects = parse_manifests(manifests, shared)
        sizes: dict[int, int] = {}
        for document in shared:
            _expanded_size(document, sizes, set())
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1} of its output" if mark else ""
        return [], [error(report_path, 1, 1, f"helm printed text that is not YAML{where}: "
                          f"{exc.problem or exc.context or 'a syntax error'}", RULE_OUTPUT)]
    except AliasError as exc:
        return [], [error(report_path, 1, 1, f"helm printed YAML that cannot be checked: {exc}", RULE_OUTPUT)]
    except (yaml.YAMLError, RecursionError) as exc:
        what = "nested too deeply" if isinstance(exc, RecursionError) else str(exc).split("\n")[0]
        return [], [error(report_path, 1, 1, f"helm printed text that is not YAML: {what}", RULE_OUTPUT)]
    if not objects:
        return [], [error(report_path, 1, 1, "helm printed no Kubernetes object for this config "
                          "(empty output): nothing would be deployed", RULE_OUTPUT)]
    return objects, []


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
            problems.append(error(report_path, 1, 1, "helm printed a document that is not a Kubernetes "
                                  f"object ({_kind_of(obj)})", RULE_NOT_OBJECT))
            continue
        label = describe(obj)
        ref = registry.find(obj["apiVersion"], obj["kind"])
        if ref is None:
            statuses.append(ObjectStatus(obj["kind"], label, "no-schema"))
            problems.append(error(report_path, 1, 1, f"rendered {label}: could not check, no schema "
                                  f"for {obj['kind']} {obj['apiVersion']} in "
                                  f"{', '.join(registry.locations)}", RULE_NO_SCHEMA))
            continue
        try:
            errors = sorted(registry.validator(ref).iter_errors(obj), key=lambda e: list(e.absolute_path))
        except referencing.exceptions.Unresolvable as exc:  # a user's schema with a broken $ref
            raise ToolError(f"schema {ref.path}: a $ref it holds cannot be resolved: {exc}") from exc
        statuses.append(ObjectStatus(obj["kind"], label, "invalid" if errors else "valid"))
        for err in errors[:MAX_ERRORS_PER_OBJECT]:
            where = ".".join(str(p) for p in err.absolute_path) or "(root)"
            problems.append(error(report_path, 1, 1, f"rendered {label}: {where}: {err.message}",
                                  RULE_INVALID))
    return statuses, problems


def kubeconform_available() -> str | None:
    return shutil.which("kubeconform")


def run_kubeconform(binary: str, manifests: str, objects: list[Any], registry: SchemaRegistry,
                    report_path: str, deadline: Deadline | None = None) -> list[Diagnostic]:
    """Run kubeconform offline on the same schema files; its findings as diagnostics."""
    kinds = [(o["apiVersion"], o["kind"]) for o in objects if isinstance(o, dict)
             and isinstance(o.get("apiVersion"), str) and isinstance(o.get("kind"), str)]
    locations = kubeconform_locations(registry, kinds, cache_dir())
    args = [binary, "-strict", "-output", "json", "-kubernetes-version", registry.kubernetes_version]
    for location in locations:
        args += ["-schema-location", location]
    args.append("-")
    deadline = deadline or Deadline.after(DEFAULT_TIMEOUT_SECONDS)
    try:
        proc = run(args, deadline=deadline, max_stdout=MAX_REPORT_BYTES, stdin=manifests.encode("utf-8"))
    except OSError as exc:
        return [error(report_path, 1, 1, f"kubeconform could not run: {exc}", RULE_KUBECONFORM)]
    if proc.timed_out or proc.too_much:
        why = f"did not finish before {deadline.describe()}" if proc.timed_out \
            else f"printed more than {MAX_REPORT_BYTES >> 20} MB on {proc.too_much}"
        return [error(report_path, 1, 1, f"kubeconform {why}", RULE_KUBECONFORM)]
    try:
        report = json.loads(proc.stdout or b"{}")
        if not isinstance(report, dict):
            raise ValueError("not an object")
    except ValueError:
        return [error(report_path, 1, 1, "kubeconform printed no JSON: "
                      f"{describe_output(proc.stdout + proc.stderr, 300)}", RULE_KUBECONFORM)]
    problems = []
    for resource in report.get("resources") or []:
        status = resource.get("status", "")
        if status in ("statusValid", "statusEmpty", "statusSkipped"):
            continue
        label = f"{resource.get('kind', '?')}/{resource.get('name', '?')}"
        details = resource.get("validationErrors") or [{"path": "", "msg": resource.get("msg", status)}]
        for detail in details:
            problems.append(error(report_path, 1, 1, f"kubeconform: rendered {label}: "
                                  f"{detail.get('path') or '(root)'}: {detail.get('msg')}",
                                  RULE_KUBECONFORM))
    return problems
