"""Helm's output read as objects: a fast, bounded parser of manifest streams.

Rule id:
- `helm-output`: helm exited 0 but its output is no manifest stream: not YAML, no
  Kubernetes object at all (empty), YAML whose aliases refer to themselves or expand
  past MAX_EXPANDED_NODES, or (render/helm.py) bytes that are not UTF-8 or more than the
  size cap. The config is not rendered.
"""

from __future__ import annotations

from typing import Any

import yaml

from ..diagnostics import Diagnostic, declared_in
from ..fast_yaml import SafeLoader

_declare = declared_in(__doc__, __name__)
RULE_OUTPUT = _declare("helm-output", can_disable=False)

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


def parse_manifests(text: str, shared: list[Any] | None = None, lines: list[int] | None = None) -> list[Any]:
    """The documents of a manifest stream: PyYAML's values, twice as fast on helm output.

    PyYAML composes and resolves the nodes as always; plain trees (text keys, maps and
    lists, no anchors reused, no merge keys) are then built directly, every scalar not
    text by PyYAML's own constructor. Anything else: PyYAML builds the whole document,
    and appends it to `shared` too (only these can share parts, through aliases).
    `lines` receives the 1-based line where each document returned starts.
    """
    loader = SafeLoader(text)
    try:
        documents = []
        while loader.check_node():
            node = loader.get_node()
            try:
                document = _build(loader, node, set())
            except _Slow:
                document = loader.construct_document(node)
                if shared is not None:
                    shared.append(document)
            if document is not None:
                documents.append(document)
                if lines is not None:
                    lines.append(node.start_mark.line + 1)
        return documents
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


def check_aliases(shared: list[Any]) -> None:
    """Raise AliasError when the documents PyYAML built (those that can share parts) have aliases
    that refer to themselves or expand beyond MAX_EXPANDED_NODES."""
    sizes: dict[int, int] = {}
    for document in shared:
        _expanded_size(document, sizes, set())


def read_manifests(manifests: str, report_path: str) -> tuple[list[Any], list[Diagnostic]]:
    """`parse_manifests`, with output that is not YAML or holds no object as a diagnostic; so are
    aliases that refer to themselves or expand beyond MAX_EXPANDED_NODES (checking or diffing
    them would never end)."""
    try:
        shared: list[Any] = []
        objects = parse_manifests(manifests, shared)
        check_aliases(shared)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1} of its output" if mark else ""
        return [], [RULE_OUTPUT.at(report_path, 1, 1, f"helm printed text that is not YAML{where}: "
                                   f"{exc.problem or exc.context or 'a syntax error'}")]
    except AliasError as exc:
        return [], [RULE_OUTPUT.at(report_path, 1, 1, f"helm printed YAML that cannot be checked: {exc}")]
    except (yaml.YAMLError, RecursionError) as exc:
        what = "nested too deeply" if isinstance(exc, RecursionError) else str(exc).split("\n")[0]
        return [], [RULE_OUTPUT.at(report_path, 1, 1, f"helm printed text that is not YAML: {what}")]
    if not objects:
        return [], [RULE_OUTPUT.at(report_path, 1, 1, "helm printed no Kubernetes object for this config "
                                   "(empty output): nothing would be deployed")]
    return objects, []
