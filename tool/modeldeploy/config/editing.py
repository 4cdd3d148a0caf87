"""Span-preserving edits of a config file: change one value, add or remove `canary`.

Re-serialising a parsed file is not an option: ruamel.yaml's round trip drops a
leading `---`, re-indents 4-space files to 2, turns CRLF into LF (except on comment
lines) and adds a final newline. So the parser (PyYAML, the one the strict loader
reads with) only tells where each node starts and ends, and the new text is
spliced into the original: every byte outside the changed span stays as it was.
The text is parsed with the very parser `validate` reads it with (yaml_loader.LOADER),
so a file `validate` accepts (`key:<TAB>value` included) is one this module can read;
what it cannot edit safely is refused with EditError, which carries the line and column
(in characters) of the part it could not change.
After each edit the new text is loaded again with the strict loader and must hold
exactly the intended values, or the edit is refused with EditError.

Functions take and return the decoded text without a byte-order mark.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import yaml

from ..diagnostics import InternalError
from .yaml_loader import LOADER, line_column, load_yaml_text, resolve_plain

CANARY_KEY = "canary"
PERCENT_KEY = "trafficPercent"
DEFAULT_INDENT = 2

_BREAKS = "\r\n\x85\u2028\u2029"  # what YAML 1.1 (PyYAML) counts as line breaks
_PROPERTIES = re.compile(r"(?:[!&][^\s]*\s+)+")  # a tag and/or anchor before a scalar
_TRAILING_COMMENT = re.compile(r"( +)#")
# Plain scalars that read back as the same text in block and flow context alike.
_PLAIN_SAFE = re.compile(r"^[A-Za-z0-9_./][A-Za-z0-9_./@+-]*(?::[A-Za-z0-9_./@+-]+)*$")


class EditError(Exception):
    """The file is written in a way this editor cannot change safely.

    `position` is the 1-based (line, column) of the part it could not change, when there is one."""

    def __init__(self, message: str, position: tuple[int, int] | None = None) -> None:
        super().__init__(message)
        self.position = position


def _error_at(text: str, index: int, message: str) -> EditError:
    return EditError(message, line_column(text, index))


@dataclass
class _Node:
    kind: str  # scalar | alias | map | seq
    start: int  # offset of the node, its tag or anchor included
    end: int  # offset just after its last character of content
    flow: bool = False
    style: str | None = None  # scalars: None when plain, else the quote or block indicator
    value: str | None = None  # scalars: the text
    pairs: list[tuple[_Node, _Node]] = field(default_factory=list)
    items: list[_Node] = field(default_factory=list)

    def get(self, key: str) -> tuple[_Node, _Node] | None:
        for key_node, value_node in self.pairs:
            if key_node.kind == "scalar" and key_node.value == key:
                return key_node, value_node
        return None


def _parse(text: str) -> _Node:
    # Event marks are character offsets into `text`: the spans to splice.
    try:
        events = list(yaml.parse(text, Loader=LOADER))
    except yaml.YAMLError as exc:  # validate refuses the file too: the caller checks it first
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        problem = str(getattr(exc, "problem", None) or "a syntax error").split("\n")[0]
        raise EditError(f"the file is not valid YAML ({problem}); fix it first",
                        (mark.line + 1, mark.column + 1) if mark is not None else None) from exc
    starts = [i for i, event in enumerate(events) if isinstance(event, yaml.DocumentStartEvent)]
    if len(starts) != 1:
        raise EditError("the file does not hold exactly one YAML document")
    node, _ = _tree(text, events, starts[0] + 1)
    if node.kind != "map":
        raise _error_at(text, node.start, "the file does not hold a mapping")
    return node


def _offset(mark: Any) -> int:
    index: int = mark.index
    return index


def _tree(text: str, events: list[yaml.Event], position: int) -> tuple[_Node, int]:
    event = events[position]
    start = _offset(event.start_mark)
    if isinstance(event, yaml.AliasEvent):
        return _Node("alias", start, _offset(event.end_mark)), position + 1
    if isinstance(event, yaml.ScalarEvent):
        style = event.style or None
        end = _offset(event.end_mark)
        if style in ("|", ">"):  # a block scalar's span runs on over its trailing line breaks
            end = start + len(text[start:end].rstrip())
        return _Node("scalar", start, end, style=style, value=event.value), position + 1
    if not isinstance(event, yaml.CollectionStartEvent):  # the parser's grammar rules it out
        raise InternalError(f"unexpected YAML event {type(event).__name__} where a value starts")
    flow = bool(event.flow_style)
    node = _Node("map" if isinstance(event, yaml.MappingStartEvent) else "seq", start, start, flow)
    position += 1
    children: list[_Node] = []
    while not isinstance(events[position], (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
        child, position = _tree(text, events, position)
        children.append(child)
    end_event = events[position]
    if node.kind == "map":
        node.pairs = list(zip(children[::2], children[1::2], strict=True))
    else:
        node.items = children
    # A block collection's end event sits at the next token, after any comments: use its content.
    node.end = _offset(end_event.end_mark) if flow else max([start, *(c.end for c in children)])
    return node, position + 1


# --- positions in the text -------------------------------------------------------------


def _line_start(text: str, index: int) -> int:
    return max(text.rfind(ch, 0, index) for ch in _BREAKS) + 1


def _line_end(text: str, index: int) -> int:
    """Offset just after the line break ending the line that holds `index` (or the end)."""
    for offset in range(index, len(text)):
        if text[offset] in _BREAKS:
            return offset + (2 if text.startswith("\r\n", offset) else 1)
    return len(text)


def _terminator(text: str, line_end: int) -> str | None:
    if text.endswith("\r\n", 0, line_end):
        return "\r\n"
    if line_end and text[line_end - 1] in _BREAKS:
        return text[line_end - 1]
    return None


def _newline(text: str, near: int) -> str:
    """The line ending to write near `near`: that line's own, else the file's first, else LF."""
    found = _terminator(text, _line_end(text, near))
    if found:
        return found
    first = _line_end(text, 0)
    return _terminator(text, first) or "\n"


def _column(text: str, index: int) -> int:
    return index - _line_start(text, index)


def _rest_of_line_is_blank(text: str, index: int) -> bool:
    rest = text[index:_line_end(text, index)].strip()
    return not rest or rest.startswith("#")


# --- scalars ------------------------------------------------------------------------------


def scalar_text(value: str | int | bool, style: str | None) -> str:
    """`value` written as YAML in `style` (None: plain when Helm reads it back as the same text).

    Integers and booleans are always plain; text keeps its quotes, and plain text
    that Helm would read as a number, boolean or null is double-quoted.
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if any(ord(ch) < 0x20 or ch == "\x7f" for ch in value):
        raise EditError(f"{value!r} contains control characters")
    if style == "'":
        return "'" + value.replace("'", "''") + "'"
    if style is None and _PLAIN_SAFE.fullmatch(value) and resolve_plain(value) == ("str", value):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _replace_scalar(text: str, node: _Node, value: str | int | bool) -> str:
    if node.kind != "scalar":
        raise _error_at(text, node.start, "the value to change is not a single value; edit it by hand")
    if node.style in ("|", ">"):
        raise _error_at(text, node.start, "the value to change is a block scalar (| or >); edit it by hand")
    properties = _PROPERTIES.match(text, node.start)
    start = properties.end() if properties and properties.end() < node.end else node.start
    new = scalar_text(value, node.style)
    rest = text[node.end:]
    # Keep an aligned trailing comment (two or more spaces before it) in its column.
    comment = _TRAILING_COMMENT.match(rest)
    if comment and len(comment.group(1)) > 1:
        width = len(comment.group(1)) - (len(new) - (node.end - start))
        rest = " " * max(width, 1) + rest[len(comment.group(1)):]
    return text[:start] + new + rest


# --- edits --------------------------------------------------------------------------------


def _loaded_value(text: str) -> dict[str, Any]:
    loaded, _ = load_yaml_text("config.yaml", text)
    if loaded is None:
        raise EditError("the file cannot be loaded")
    value: dict[str, Any] = loaded.value
    return value


def _verified(before: str, after: str, change: Callable[[dict[str, Any]], None]) -> str:
    """`after`, if it holds exactly `before`'s values with `change` applied."""
    expected = copy.deepcopy(_loaded_value(before))
    change(expected)
    loaded, _ = load_yaml_text("config.yaml", after)
    if loaded is None or loaded.value != expected:
        raise EditError("the edit would change more than the intended value; edit the file by hand")
    return after


def _find(root: _Node, path: tuple[str, ...]) -> _Node:
    node = root
    for key in path:
        found = node.get(key) if node.kind == "map" else None
        if found is None:
            raise EditError(f"no `{'.'.join(path)}` in the file")
        node = found[1]
    return node


def set_value(text: str, path: tuple[str, ...], value: str | int | bool) -> str:
    """Replace the existing scalar at `path` (keys from the top) with `value`."""

    def change(values: dict[str, Any]) -> None:
        for key in path[:-1]:
            values = values[key]
        values[path[-1]] = value

    new = _replace_scalar(text, _find(_parse(text), path), value)
    return _verified(text, new, change)


def set_canary_percent(text: str, percent: int) -> str:
    """Set `canary.trafficPercent`, adding the `canary` block (or key) when it is missing."""

    def change(values: dict[str, Any]) -> None:
        canary = values.setdefault(CANARY_KEY, {})
        canary[PERCENT_KEY] = percent

    root = _parse(text)
    found = root.get(CANARY_KEY)
    if found is None:
        new = _insert_block(text, root, CANARY_KEY, [f"{PERCENT_KEY}: {percent}"])
    else:
        canary = found[1]
        existing = canary.get(PERCENT_KEY) if canary.kind == "map" else None
        if existing is not None:
            new = _replace_scalar(text, existing[1], percent)
        elif canary.kind == "map" and canary.flow and not canary.pairs:  # `canary: {}`
            new = text[:canary.start] + f"{{{PERCENT_KEY}: {percent}}}" + text[canary.end:]
        else:
            raise _error_at(text, canary.start, f"`{CANARY_KEY}` is not a mapping with `{PERCENT_KEY}`; "
                            "edit it by hand")
    return _verified(text, new, change)


def remove_key(text: str, key: str) -> str:
    """Remove a top-level key with its value: exactly the lines they stand on."""

    def change(values: dict[str, Any]) -> None:
        del values[key]

    root = _parse(text)
    found = root.get(key)
    if found is None:
        raise EditError(f"no `{key}` in the file")
    if root.flow:
        raise _error_at(text, root.start, "the file is one flow-style mapping ({...}); edit it by hand")
    key_node, value_node = found
    start = _line_start(text, key_node.start)
    content_end = max(key_node.end, value_node.end)
    if text[start:key_node.start].strip() or not _rest_of_line_is_blank(text, content_end):
        raise _error_at(text, key_node.start, f"`{key}` shares a line with other content; edit the file "
                        "by hand")
    end = _line_end(text, max(content_end - 1, key_node.start))
    head, tail = text[:start], text[end:]
    if not tail and _terminator(text, end) is None:
        # The removed lines ended the file without a final line break: so does the result.
        terminator = _terminator(head, len(head))
        head = head[: len(head) - len(terminator)] if terminator else head
    return _verified(text, head + tail, change)


def _indent_unit(text: str, root: _Node) -> int:
    """The file's indentation step: how far its first nested block mapping is indented."""
    stack = [root]
    while stack:
        node = stack.pop(0)
        for key_node, value_node in node.pairs:
            if value_node.kind == "map" and not value_node.flow and value_node.pairs:
                step = _column(text, value_node.pairs[0][0].start) - _column(text, key_node.start)
                if step > 0:
                    return step
            stack.append(value_node)
    return DEFAULT_INDENT


def _insert_block(text: str, root: _Node, key: str, lines: list[str]) -> str:
    """Add `key:` with the given child lines after the last top-level entry."""
    if root.flow or not root.pairs:
        raise _error_at(text, root.start, "the file is one flow-style mapping ({...}); edit it by hand")
    base = " " * _column(text, root.pairs[0][0].start)
    child = base + " " * _indent_unit(text, root)
    last_key, last_value = root.pairs[-1]
    content_end = max(last_key.end, last_value.end)
    if not _rest_of_line_is_blank(text, content_end):
        raise _error_at(text, last_key.start, "the last entry shares a line with other content; edit the "
                        "file by hand")
    at = _line_end(text, max(content_end - 1, last_key.start))
    newline = _newline(text, max(content_end - 1, 0))
    block = newline.join([f"{base}{key}:", *(child + line for line in lines)])
    if at == len(text) and _terminator(text, at) is None:
        return text + newline + block  # no final line break before: none after either
    return text[:at] + block + newline + text[at:]
