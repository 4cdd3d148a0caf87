"""The canonical YAML text of a rendered object (diffs compare it), fast for the common case.

The canonical text is PyYAML's safe dump with sorted keys, block style and no folding
(`object_diff.canonical_dump`'s settings). Writing it through PyYAML's representer costs
~0.2 ms an object: after a chart change that is most of a diff of 1,000 deployments. The
objects helm prints are simple (mappings of ASCII text, numbers, booleans), and for those
the layout is fixed, so this module writes the same text directly:

- mappings in block style, keys sorted, `{}` when empty; sequences not indented under
  their key (PyYAML's layout), `[]` when empty;
- text plain where PyYAML writes it plain (no indicator, reads back as text), else in
  single quotes; numbers, booleans and null as PyYAML represents them.

Anything else (non-ASCII or control characters, line breaks, long keys or lines, keys
that are not text, an object reached twice: PyYAML writes an anchor) raises
`NotSimple`, and the caller dumps the object with PyYAML. A test compares both on every
manifest the tests render and on generated data.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import yaml

_RESOLVER = yaml.resolver.Resolver()
_STR_TAG = "tag:yaml.org,2002:str"
# Text libyaml writes plain in block context, when it also reads back as text: starts with
# a letter, digit, `/`, `.` or `_` (or `-`, `?`, `:` not followed by a space), then no
# indicator that matters (no `#`, no `: `, no trailing `:`), single spaces inside,
# printable ASCII only.
_WORD = r"[A-Za-z0-9/._\-+=@%,~()$^&*!?\[\]{}<>;|\\`'\"]"  # no `#`, `:` or space
_PLAIN = re.compile(rf"(?:[A-Za-z0-9/._]|[-?:](?=[^ ])){_WORD}*(?::{_WORD}+)*(?: (?:{_WORD}|:)*{_WORD})*")
_PRINTABLE_ASCII = re.compile(r"[\x20-\x7e]*")
_MAX_TEXT = 4096  # far below the dump width: nothing is folded
_MAX_SIMPLE_KEY = 100  # PyYAML writes keys over 128 characters as `? key`: well below that


class NotSimple(Exception):
    """The object has something only PyYAML's dumper writes right."""


def dump(document: Any) -> str:
    """PyYAML's canonical dump of a mapping or sequence, or NotSimple."""
    if isinstance(document, dict) and document:
        lines = _mapping(document, 0, set())
    elif isinstance(document, list) and document:
        lines = _sequence(document, 0, set())
    else:
        raise NotSimple("not a non-empty collection")
    lines.append("")
    return "\n".join(lines)


def _mapping(mapping: dict[Any, Any], indent: int, seen: set[int]) -> list[str]:
    _enter(mapping, seen)
    pad = " " * indent
    lines: list[str] = []
    if not all(type(key) is str for key in mapping):
        raise NotSimple("a key that is not text")
    for key in sorted(mapping):
        value = mapping[key]
        if len(key) > _MAX_SIMPLE_KEY:
            raise NotSimple("a long key")
        head = f"{pad}{_text(key)}:"
        if isinstance(value, dict) and value:
            lines.append(head)
            lines += _mapping(value, indent + 2, seen)
        elif isinstance(value, list) and value:
            lines.append(head)
            lines += _sequence(value, indent, seen)
        else:
            lines.append(f"{head} {_scalar(value, seen)}")
    return lines


def _sequence(sequence: list[Any], indent: int, seen: set[int]) -> list[str]:
    _enter(sequence, seen)
    pad = " " * indent
    lines: list[str] = []
    for item in sequence:
        if isinstance(item, dict) and item:
            block = _mapping(item, indent + 2, seen)
        elif isinstance(item, list) and item:
            block = _sequence(item, indent + 2, seen)
        else:
            lines.append(f"{pad}- {_scalar(item, seen)}")
            continue
        block[0] = f"{pad}- {block[0][indent + 2:]}"
        lines += block
    return lines


def _enter(collection: dict[Any, Any] | list[Any], seen: set[int]) -> None:
    if id(collection) in seen:
        raise NotSimple("an object reached twice (PyYAML writes an anchor)")
    seen.add(id(collection))


def _scalar(value: Any, seen: set[int]) -> str:
    """A scalar, or an empty collection (flow style)."""
    kind = type(value)
    if kind is str:
        return _text(value)
    if kind is bool:
        return "true" if value else "false"
    if kind is int:
        return str(value)
    if kind is float:
        return _float(value)
    if value is None:
        return "null"
    if kind is dict:
        _enter(value, seen)
        return "{}"
    if kind is list:
        _enter(value, seen)
        return "[]"
    raise NotSimple(f"a {kind.__name__}")


@lru_cache(maxsize=1 << 16)  # keys and most values repeat across objects
def _text(text: str) -> str:
    if len(text) > _MAX_TEXT or not _PRINTABLE_ASCII.fullmatch(text):
        raise NotSimple("text PyYAML may fold, escape or write in another style")
    if not text:
        return "''"
    marker = text.startswith(("---", "..."))  # a document marker: never plain
    plain = _PLAIN.fullmatch(text) is not None
    if plain and not marker and _RESOLVER.resolve(yaml.ScalarNode, text, (True, False)) == _STR_TAG:
        return text
    if text[0] == " " or text[-1] == " ":
        raise NotSimple("text with a leading or trailing space")
    if not (plain or marker or _QUOTED_ONLY.fullmatch(text)):
        raise NotSimple("text whose style PyYAML decides in ways not modelled here")
    return "'" + text.replace("'", "''") + "'"


# Text that libyaml cannot write plain for a reason this module is sure of: a first
# character that is an indicator, `: `, ` #` or a trailing `:` (printable ASCII, no line
# break, no leading or trailing space): it writes it in single quotes, as it does a
# document marker (`---`, `...` at the start) and text that reads back as another type.
_QUOTED_ONLY = re.compile(r"(?:[,\[\]{}#&*!|>'\"%@`].*|[-?:](?: .*)?|.*(?:: | #).*|.*:)", re.DOTALL)


def _float(value: float) -> str:
    # SafeRepresenter.represent_float
    if value != value:
        return ".nan"
    if value == float("inf"):
        return ".inf"
    if value == float("-inf"):
        return "-.inf"
    text = repr(value).lower()
    if "." not in text and "e" in text:
        text = text.replace("e", ".0e", 1)
    return text
