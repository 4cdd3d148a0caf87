"""Helm's output read as objects: a fast, bounded parser of manifest streams.

Rule id:
- `helm-output`: helm exited 0 but its output is no manifest stream: not YAML, no
  Kubernetes object at all (empty), YAML whose aliases refer to themselves or expand
  past MAX_EXPANDED_NODES, or (render/helm.py) bytes that are not UTF-8 or more than the
  size cap. The config is not rendered.
"""

from __future__ import annotations

import re
from collections.abc import Callable
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


def parse_stream(text: str, shared: list[Any] | None = None, lines: list[int] | None = None) -> list[Any]:
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


# --- Skeletons: helm output read 5x faster, exactly as parse_stream reads it -------------------
#
# The outputs of one chart differ mostly in quoted strings (names, images, labels). The
# *skeleton* of a text is the text with every simple quoted scalar (one line, no backslash, no
# YAML 1.1 line break) replaced by one placeholder; each distinct skeleton is parsed once by
# parse_stream into a template whose placeholder strings are slots, and a text is its template
# copied with its quoted values in the slots, in text order. The values are what PyYAML reads
# (a quoted scalar is always text; `''` is `'`); every other value comes from PyYAML itself.
# Any doubt, and the text goes to parse_stream whole (same values, same errors): the
# placeholder or a character PyYAML refuses in the text, a quoted value long enough to hit
# PyYAML's 1,024-character limit of a simple key, a skeleton that does not parse or shares
# nodes (aliases, merge keys), a slot count other than the number of values (a quote in a
# comment, a block scalar or a plain scalar; duplicate keys), a placeholder inside a scalar.

PLACEHOLDER = "\ue000"
_QUOTED = re.compile('"([^"\\\\\n\r\x85\u2028\u2029]*)"|\'((?:[^\'\n\r\x85\u2028\u2029]|\'\')*)\'')
_NON_PRINTABLE = yaml.reader.Reader.NON_PRINTABLE
_SKELETON_QUOTE = '"\\uE000"'
MAX_QUOTED = 512  # longer quoted values: parse the text itself (simple keys end at 1,024)
MAX_TEMPLATES = 256  # skeletons remembered per process; beyond, new ones cost one parse each


class _SlotType:
    __slots__ = ()


_SLOT = _SlotType()
Builder = Callable[[list[str]], list[Any]]  # a template made code: quoted values -> documents
_templates: dict[str, Builder | None] = {}


class _NoTemplate(Exception):
    pass


def _template(skeleton: str, count: int) -> Builder | None:
    found = 0

    def convert(node: Any) -> Any:
        nonlocal found
        kind = type(node)
        if kind is str:
            if node == PLACEHOLDER:
                found += 1
                return _SLOT
            if PLACEHOLDER in node:
                raise _NoTemplate
            return node
        if kind is dict:
            result = {}
            for key, value in node.items():
                if type(key) is str and PLACEHOLDER in key:
                    if key != PLACEHOLDER:
                        raise _NoTemplate
                    found += 1
                    key = _SLOT
                elif isinstance(key, (tuple, frozenset)):  # complex keys: not worth a template
                    raise _NoTemplate
                result[key] = convert(value)
            return result
        if kind is list:
            return [convert(item) for item in node]
        return node  # int, float, bool, None, date, bytes...: immutable, shared

    try:
        shared: list[Any] = []
        documents = parse_stream(skeleton, shared)
        if shared:  # aliases: never expanded here (read_manifests bounds them)
            return None
        tree = [convert(document) for document in documents]
    except (yaml.YAMLError, _NoTemplate, RecursionError, ValueError, TypeError):
        return None
    return _compiled(tree) if found == count else None


def _compiled(tree: list[Any]) -> Builder | None:
    """The template as one Python expression: fresh maps and lists each call, the slots taken
    from the values by position (text order: a key before its value), every other scalar the
    template's own object (immutable, shared). ~3x faster than walking the template; the code
    holds only `v[i]`, `c[i]` and brackets, never a value of the text."""
    constants: list[Any] = []
    slots = 0

    def constant(value: Any) -> str:
        constants.append(value)
        return f"c[{len(constants) - 1}]"

    def expression(node: Any) -> str:
        nonlocal slots
        if node is _SLOT:
            slots += 1
            return f"v[{slots - 1}]"
        kind = type(node)
        if kind is dict:
            pairs = (f"{expression(key) if key is _SLOT else constant(key)}: {expression(value)}"
                     for key, value in node.items())
            return "{" + ", ".join(pairs) + "}"
        if kind is list:
            return "[" + ", ".join(expression(item) for item in node) + "]"
        return constant(node)

    try:
        code = f"lambda v: [{', '.join(expression(document) for document in tree)}]"
        builder: Builder = eval(code, {"c": constants})  # the code above: no text of the input in it
    except (RecursionError, SyntaxError, MemoryError):  # nesting deeper than Python compiles
        return None
    return builder


def parse_manifests(text: str, shared: list[Any] | None = None, lines: list[int] | None = None) -> list[Any]:
    """parse_stream's result (values, types, errors), through the skeleton templates when it can
    (not when `lines` asks where each document starts: `check` of files, not helm's output)."""
    if lines is not None or PLACEHOLDER in text or _NON_PRINTABLE.search(text):
        return parse_stream(text, shared, lines)
    parts = _QUOTED.split(text)
    doubles, singles = parts[1::3], parts[2::3]
    values = [d if d is not None else s.replace("''", "'") for d, s in zip(doubles, singles, strict=True)]
    if any(len(value) > MAX_QUOTED for value in values):
        return parse_stream(text, shared)
    skeleton = _SKELETON_QUOTE.join(parts[0::3])
    if skeleton in _templates:
        builder = _templates[skeleton]
    else:
        builder = _template(skeleton, len(values))
        if len(_templates) >= MAX_TEMPLATES:
            _templates.clear()
        _templates[skeleton] = builder
    if builder is None:
        return parse_stream(text, shared)
    return builder(values)


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
