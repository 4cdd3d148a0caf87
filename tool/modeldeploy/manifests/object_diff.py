"""Object-keyed unified diffs of two rendered manifest streams.

Both sides are parsed into objects keyed by (kind, namespace, name, apiVersion)
and each object is dumped with sorted keys, so neither key order nor document
order makes noise (argocd-diff-preview#69): only objects whose content changed
are diffed, each under its own `a/<env>/<deployment>/<Kind>/<name>` label.
"""

from __future__ import annotations

import difflib
from typing import Any

import yaml

from ..fast_yaml import SafeDumper
from ..results.diff import ObjectDiff, ObjectKey
from . import canonical_yaml
from .parse import parse_manifests

CONTEXT_LINES = 3
DEV_NULL = "/dev/null"
# No folding of long strings (storageUri, args): a folded line would diff as several.
_DUMP_WIDTH = 1 << 16


def parse_objects(manifests: str | None) -> dict[ObjectKey, Any]:
    """Each object of a multi-document stream, by key.

    Documents that are not Kubernetes objects (no kind or name) and repeats of
    a key get a positional key, so nothing is dropped silently.
    """
    objects: dict[ObjectKey, Any] = {}
    if manifests is None:  # the side does not exist
        return objects
    try:
        documents = parse_manifests(manifests)
    except yaml.YAMLError:
        # helm output is YAML; if it is not, diff it as text rather than fail
        return {ObjectKey("(unparsed)", "", "manifests", ""): manifests}
    for index, document in enumerate(documents):
        key = _key(document, index)
        if key in objects:
            key = ObjectKey(key.kind, key.namespace, f"{key.name}#{index + 1}", key.api_version)
        objects[key] = document
    return objects


def same_data(a: Any, b: Any) -> bool:
    """Equal as YAML data, types included (Python's == calls 1, 1.0 and True equal)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same_data(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same_data(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def canonical_dump(document: Any) -> str:
    if isinstance(document, str):  # an unparsed stream is diffed as the text it is
        return document
    try:  # the same text, written directly for the common objects (~10x faster)
        return canonical_yaml.dump(document)
    except canonical_yaml.NotSimple:
        return pyyaml_dump(document)


def pyyaml_dump(document: Any) -> str:
    """The canonical text as PyYAML writes it (canonical_yaml writes the same, faster)."""
    text: str = yaml.dump(document, Dumper=SafeDumper, sort_keys=True, default_flow_style=False,
                          allow_unicode=True, width=_DUMP_WIDTH)
    return text


def _key(document: Any, index: int) -> ObjectKey:
    if isinstance(document, dict):
        metadata = document.get("metadata")
        metadata = metadata if isinstance(metadata, dict) else {}
        kind, name = document.get("kind"), metadata.get("name")
        if isinstance(kind, str) and isinstance(name, str):
            namespace = metadata.get("namespace")
            api_version = document.get("apiVersion")
            return ObjectKey(kind, namespace if isinstance(namespace, str) else "", name,
                             api_version if isinstance(api_version, str) else "")
    return ObjectKey("(document)", "", str(index + 1), "")


def diff_manifests(before: str | None, after: str | None, before_prefix: str,
                   after_prefix: str) -> list[ObjectDiff]:
    """The changed objects between two streams (None: the side does not exist).

    Prefixes name each side in the labels, e.g. `a/test/jukebox` and `b/test/jukebox`.
    """
    return diff_objects(parse_objects(before), parse_objects(after), before_prefix, after_prefix)


def diff_objects(old: dict[ObjectKey, Any], new: dict[ObjectKey, Any], before_prefix: str,
                 after_prefix: str) -> list[ObjectDiff]:
    """The changed objects between two `parse_objects` results."""
    diffs = []
    for key in sorted(old.keys() | new.keys()):
        if key in old and key in new and same_data(old[key], new[key]):
            continue  # compared as data: only changed objects are dumped
        status = "added" if key not in old else "removed" if key not in new else "changed"
        dumped = [canonical_dump(side[key]) if key in side else None for side in (old, new)]
        if dumped[0] == dumped[1]:
            continue
        diffs.append(_object_diff(key, status, dumped[0], dumped[1], before_prefix, after_prefix))
    return diffs


def _object_diff(key: ObjectKey, status: str, old: str | None, new: str | None,
                 before_prefix: str, after_prefix: str) -> ObjectDiff:
    from_label = DEV_NULL if old is None else f"{before_prefix}/{key.label}"
    to_label = DEV_NULL if new is None else f"{after_prefix}/{key.label}"
    lines = list(difflib.unified_diff((old or "").splitlines(), (new or "").splitlines(),
                                      from_label, to_label, n=CONTEXT_LINES, lineterm=""))
    body = lines[2:]  # the two file headers are always first
    added = sum(line.startswith("+") for line in body)
    removed = sum(line.startswith("-") for line in body)
    return ObjectDiff(key, status, "\n".join(lines) + "\n", added, removed)


def predictor_specs(objects: dict[ObjectKey, Any]) -> dict[str, Any]:
    """Each InferenceService's spec.predictor minus canaryTrafficPercent, by object name.

    A change here makes Knative roll out a new revision; a change of the canary
    field alone only moves traffic between the revisions that exist.
    """
    specs: dict[str, Any] = {}
    for key, document in objects.items():
        if key.kind != "InferenceService" or not isinstance(document, dict):
            continue
        spec = document.get("spec")
        if isinstance(spec, dict) and isinstance(spec.get("predictor"), dict):
            predictor = {k: v for k, v in spec["predictor"].items() if k != "canaryTrafficPercent"}
            specs[key.name] = predictor
    return specs
