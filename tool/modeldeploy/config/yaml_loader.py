r"""Strict, position-aware YAML loading that reads values the way Helm does.

Helm reads values files with go-yaml v2 (through sigs.k8s.io/yaml), a YAML 1.1
reader: `1234e56` is a float, `0123` is octal 83, `1_000` is 1000, `off` is
false. PyYAML's resolver differs in places (it reads `1234e56` as a string), so
this module takes PyYAML's *events* only and resolves plain scalars itself with
go-yaml v2's rules. The result is the value Helm would see, plus a source map
from each JSON path to its line and column and its text as written.

It refuses, with a diagnostic each: bytes that are not UTF-8, an empty file,
several documents, a top level that is not a mapping, duplicate keys, tabs and
other syntax errors, and hostile input (huge files, deep nesting, alias bombs),
within fixed bounds so no input makes it slow or large. It also refuses what
PyYAML reads but Helm does not: Helm 4 cuts a values file into pieces at every line
that starts with `---` before parsing, so such a line must hold nothing but `---`
and a comment, and a directive before it is an error; go-yaml knows no `\\/` escape.
A tag `!` (or `!<!>`) makes a value text, as in go-yaml. Rule ids:
- `yaml-syntax`: not YAML (an unclosed bracket or quote, a tab, bad indentation, an
  undefined alias, a merge key), or YAML that Helm's reader refuses: text after `---` on its
  line (`--- {a: 1}`, `----x`), a `\\/` escape; the message names the fix for the common ones;
- `yaml-directive`: a `%YAML` or `%TAG` directive: Helm 4 refuses every one (it reads the
  directive as a document of its own), Helm 3 refuses `%YAML 1.2`;
- `yaml-encoding`: bytes that are not UTF-8, a NUL byte, a control character, a character
  YAML reads as a line break but editors do not (positions count characters, as editors do);
- `yaml-empty`: an empty file, only comments, or an empty document;
- `yaml-multiple-documents`: a second `---` document (Helm would read only the first);
- `yaml-not-a-mapping`: the top level is a list or a single value, not `key: value` lines;
- `yaml-duplicate-key`: a key written twice in one mapping (Helm silently keeps the last),
  reported at the second occurrence;
- `yaml-key-type`: a key that is not text (`1:`, `on:`, an empty key, a list as key);
- `yaml-tag`: an explicit tag such as `!!python/object` or `!!binary`, or a `!!int` on a
  value that is not one;
- `yaml-limits`: hostile or runaway input beyond MAX_BYTES (1 MiB), MAX_SCALAR_CHARS
  (4,096 characters per key or value), MAX_DEPTH (64 levels) or MAX_NODES (10,000
  values, aliases expanded): refused within milliseconds and a few MB of memory, at the
  same place under every PyYAML build (libyaml's own limits do not preempt ours: `_read_events`);
- `io`: the file cannot be read, or is not a regular file (a FIFO would block forever; the
  message says what it is), or is a symlink leading outside its repository (refused unread
  by config_check and environments, so no message shows content from outside).
"""

from __future__ import annotations

import functools
import math
import os
import re
import stat
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import yaml

from ..diagnostics import Diagnostic, declared_in
from ..fast_yaml import SafeLoader
from ..fileio import file_kind

MAX_BYTES = 1024 * 1024
MAX_DEPTH = 64
MAX_NODES = 10_000  # values built, aliases expanded; a config has a few dozen
MAX_SCALAR_CHARS = 4096  # one key or value; the longest real one is a path
EXCERPT_CHARS = 60  # how much of a value a message quotes

_declare = declared_in(__doc__, __name__)
RULE_SYNTAX = _declare("yaml-syntax", can_disable=False)
RULE_ENCODING = _declare("yaml-encoding", can_disable=False)
RULE_EMPTY = _declare("yaml-empty", can_disable=False)
RULE_MULTI_DOC = _declare("yaml-multiple-documents", can_disable=False)
RULE_NOT_MAPPING = _declare("yaml-not-a-mapping", can_disable=False)
RULE_DUPLICATE_KEY = _declare("yaml-duplicate-key")
RULE_LIMITS = _declare("yaml-limits", can_disable=False)
RULE_KEY_TYPE = _declare("yaml-key-type")
RULE_TAG = _declare("yaml-tag", can_disable=False)
RULE_DIRECTIVE = _declare("yaml-directive", can_disable=False)
RULE_IO = _declare("io", can_disable=False)

JsonPath = tuple[Any, ...]

LOADER: Any = SafeLoader  # every reader of config files parses with this one (editing.py too)


# A NamedTuple, not a frozen dataclass: thousands per repository are built in the worker
# processes and pickled to the main one, where a tuple is about half the cost.
class NodeInfo(NamedTuple):
    """Where a value stands in the source and how it was written."""

    line: int  # 1-based
    column: int  # 1-based
    key_line: int  # the line of its key (equals line for the root and list items)
    key_column: int
    raw: str | None  # the scalar's text as written, None for mappings and sequences
    style: str | None  # None for plain scalars, a quote or block indicator otherwise
    tag: str  # the go-yaml v2 resolved tag: str, int, float, bool, null, map, seq


@dataclass
class LoadedYaml:
    path: str
    text: str
    value: Any
    nodes: dict[JsonPath, NodeInfo] = field(default_factory=dict)

    def position(self, json_path: JsonPath, *, key: bool = False) -> tuple[int, int]:
        """Line and column of the nearest node on `json_path` (the key's with key=True)."""
        path = tuple(json_path)
        while path not in self.nodes and path:
            path = path[:-1]
        info = self.nodes.get(path)
        if info is None:
            return 1, 1
        if key:
            return info.key_line, info.key_column
        return info.line, info.column


def excerpt(value: Any, limit: int = EXCERPT_CHARS) -> str:
    """`value` as text for a message, cut to `limit` characters: no input makes output large."""
    text = value if isinstance(value, str) else str(value)
    shown = text if len(text) <= limit else f"{text[:limit]}... ({len(text):,} characters)"
    # one diagnostic is one line: control characters (a newline in a quoted key) are escaped
    return shown if shown.isprintable() else "".join(
        c if c.isprintable() else repr(c)[1:-1] for c in shown)


# --- go-yaml v2 plain scalar resolution -------------------------------------------

_NULLS = {"", "~", "null", "Null", "NULL"}
_TRUES = {"y", "Y", "yes", "Yes", "YES", "on", "On", "ON", "true", "True", "TRUE"}
_FALSES = {"n", "N", "no", "No", "NO", "off", "Off", "OFF", "false", "False", "FALSE"}
_SPECIAL_FLOATS = {
    ".inf": math.inf, ".Inf": math.inf, ".INF": math.inf,
    "+.inf": math.inf, "+.Inf": math.inf, "+.INF": math.inf,
    "-.inf": -math.inf, "-.Inf": -math.inf, "-.INF": -math.inf,
    ".nan": math.nan, ".NaN": math.nan, ".NAN": math.nan,
}  # fmt: skip
# Go's yamlStyleFloat and strconv.ParseInt(s, 0, 64): matched against the whole text (fullmatch;
# `$` would also match before a final newline, which Go refuses: `!!int "12\n"`)
_GO_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
_GO_INT = re.compile(r"[-+]?(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)")
_INT64_MIN, _UINT64_MAX = -(2**63), 2**64 - 1


def _go_parse_int(text: str) -> int | None:
    """strconv.ParseInt/ParseUint(text, 0, 64): base prefixes, leading 0 = octal."""
    if not _GO_INT.fullmatch(text):
        return None
    sign = -1 if text[0] == "-" else 1
    body = text.lstrip("+-")
    if len(body) > 1 and body[0] == "0" and body[1] in "xXoObB":
        value = int(body, 0)
    elif len(body) > 1 and body[0] == "0":
        value = int(body, 8)
    else:
        value = int(body)
    value *= sign
    return value if _INT64_MIN <= value <= _UINT64_MAX else None


def resolve_plain(text: str) -> tuple[str, Any]:
    """Resolve an untagged plain scalar as go-yaml v2 does for Helm's values.

    Returns (tag, value) with tag one of null, bool, int, float, str. Timestamps
    stay strings: go-yaml v2 keeps them as text when decoding into interface{}.
    """
    if text in _NULLS:
        return "null", None
    if text in _TRUES:
        return "bool", True
    if text in _FALSES:
        return "bool", False
    if text in _SPECIAL_FLOATS:
        return "float", _SPECIAL_FLOATS[text]
    if text[0] in "+-.0123456789":
        plain = text.replace("_", "")
        if plain:
            as_int = _go_parse_int(plain)
            if as_int is not None:
                return "int", as_int
            if _GO_FLOAT.fullmatch(plain):
                return "float", float(plain)
    return "str", text


def helm_display(tag: str, value: Any) -> str:
    """How Helm prints a resolved value in a template (`{{ .Values.x }}`).

    Helm holds every number as a float64 and formats it with Go's %v, so integers of 7 digits or
    more and exponents come out in scientific notation (1000000 prints 1e+06, 4562e17 4.562e+20).
    """
    if tag == "bool":
        return "true" if value else "false"
    if tag == "null":
        return "<nil>"
    if tag in ("int", "float"):
        number = float(value)
        if math.isnan(number):
            return "NaN"
        if math.isinf(number):
            return "+Inf" if number > 0 else "-Inf"
        return _go_float_g(number)
    return str(value)


_PLAIN_INT = re.compile(r"[-+]?(0|[1-9][0-9]*)")


def misread_number(info: NodeInfo, value: Any) -> str | None:
    """Why Helm reads this number otherwise than people read it as written, or None.

    An integer written in plain decimal digits (`20`, `-3`) is read as written. Anything
    else that resolves to a number is not: `010` is octal 8, `0x20` is 32, `0o12` is 10,
    `0b101` is 5, `012_0` is 80 (`_` is dropped, then octal); `.inf` and `.nan` are numbers
    Helm cannot pass to a template at all.
    """
    raw = info.raw
    if info.tag not in ("int", "float") or raw is None:
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return "Helm cannot hand infinity or NaN to a template (it fails with \"unsupported value\")"
    if info.tag == "float":
        return "digits joined by `_`" if "_" in raw else None
    if _PLAIN_INT.fullmatch(raw):
        return None
    body = raw.lstrip("+-").replace("_", "")
    if "_" in raw and not body[1:2].isalpha():
        octal = len(body) > 1 and body[0] == "0"
        return "`_` between digits is dropped" + (", then the leading 0 makes it octal" if octal else "")
    prefixes = {"x": "`0x` makes it hexadecimal", "o": "`0o` makes it octal", "b": "`0b` makes it binary"}
    if len(body) > 1 and body[0] == "0":
        return prefixes.get(body[1].lower(), "a leading 0 makes it octal")
    return "it is not written in plain decimal digits"


_CASED_BOOLEANS = {"True": True, "TRUE": True, "False": False, "FALSE": False}


def printed_otherwise(info: NodeInfo, value: Any) -> str | None:
    """What `{{ .Values.x }}` prints for a plain scalar Helm reads as a number or boolean, when
    that is not the text written (`4562e17` prints 4.562e+20, `0123` 83, `1.50` 1.5, `yes` true),
    or None: text, quoted, or printed as written (`20`, `1.5`, `true`; `True` and `FALSE` too,
    booleans in any YAML)."""
    if info.style is not None or info.raw is None or info.tag not in ("int", "float", "bool"):
        return None
    printed = helm_display(info.tag, value)
    if printed == info.raw or _CASED_BOOLEANS.get(info.raw) is value:
        return None
    return printed


def _go_float_g(number: float) -> str:
    """Go's %v of a float64 (strconv 'g' format, shortest digits): scientific when the decimal
    exponent is below -4 or 6 and above (measured with helm: 100000 prints 100000, 1000000 1e+06)."""
    if number == 0:
        return "-0" if math.copysign(1.0, number) < 0 else "0"
    sign = "-" if number < 0 else ""
    shortest = repr(abs(number))  # Python's repr holds the shortest round-trip digits, as Go's
    if "e" in shortest:
        head, _, tail = shortest.partition("e")
        digits, exp = head.replace(".", ""), int(tail)
    else:
        whole, _, fraction = shortest.partition(".")
        digits = (whole + fraction).lstrip("0")
        exp = len(whole) - 1 if whole != "0" else len(digits) - len(fraction) - 1
    digits = digits.rstrip("0") or "0"
    if exp < -4 or exp >= 6:
        body = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{sign}{body}e{'+' if exp >= 0 else '-'}{abs(exp):02d}"
    if exp >= 0:
        whole_digits = digits[: exp + 1].ljust(exp + 1, "0")
        rest = digits[exp + 1:]
        return f"{sign}{whole_digits}" + (f".{rest}" if rest else "")
    return f"{sign}0.{'0' * (-exp - 1)}{digits}"


# --- loading ---------------------------------------------------------------------------

_COLLECTION_TAGS = {None, "!", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"}
_EXPLICIT_TAGS = {
    "tag:yaml.org,2002:str": "str",
    "tag:yaml.org,2002:int": "int",
    "tag:yaml.org,2002:float": "float",
    "tag:yaml.org,2002:bool": "bool",
    "tag:yaml.org,2002:null": "null",
}


def _style(event: yaml.ScalarEvent) -> str | None:
    # libyaml reports plain scalars with style "", the pure-Python parser with None.
    return event.style or None


def _offset(mark: Any) -> int:
    """The character offset of a PyYAML mark (libyaml's and PyYAML's marks count characters)."""
    return int(mark.index) if mark is not None else 0


def _at(mark: Any) -> tuple[int, int]:
    """1-based (line, column) of a PyYAML mark (0-based); (1, 1) when there is none."""
    return (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)


class _Abort(Exception):
    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__(diagnostic.message)
        self.diagnostic = diagnostic


def _decode(path: str, data: bytes) -> tuple[str | None, list[Diagnostic]]:
    if len(data) > MAX_BYTES:
        return None, [
            RULE_LIMITS.at(path, 1, 1, f"file is larger than {MAX_BYTES:,} bytes, the limit (a deployment "
                           "config is a few hundred bytes); is this the right file?")
        ]
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        # Everything before the bad byte is valid UTF-8: count its characters, as editors do.
        line, column = line_column(data[: exc.start].decode("utf-8"), exc.start)
        return None, [
            RULE_ENCODING.at(path, line, column, f"byte 0x{data[exc.start]:02x} is not valid UTF-8; "
                             "save the file as UTF-8")
        ]
    problems = _text_problems(path, text)
    return (None, problems) if problems else (text, [])


def _text_problems(path: str, text: str) -> list[Diagnostic]:
    """What makes decoded text unfit before parsing: too long, NUL bytes, control characters,
    invisible line breaks. The first such character is reported, at its line and column in
    characters (libyaml reports a byte offset, wrong after any non-ASCII character)."""
    if len(text) > MAX_BYTES:
        return [RULE_LIMITS.at(path, 1, 1,
                               f"the text has {len(text):,} characters; the limit is {MAX_BYTES:,}")]
    found = (_UNFIT_ASCII if text.isascii() else _unfit_character()).search(text)
    if found is None:
        return []
    line, column = line_column(text, found.start())
    character = found.group()
    if character == "\x00":
        message = ("file contains a NUL byte: is it binary? A config is UTF-8 text; remove the byte or "
                   "restore the file from git")
    elif character in _ODD_LINE_BREAKS:  # YAML counts these as line breaks, editors do not
        message = (f"character U+{ord(character):04X} is a line break to YAML but not to editors (often "
                   "pasted from a word processor); delete it or replace it with a plain newline")
    else:
        message = _control_message(ord(character))
    return [RULE_ENCODING.at(path, line, column, message)]


def _control_message(code: int) -> str:
    return (f"character U+{code:04X} is not allowed in YAML (a control or non-character code point); "
            f"delete it, or write it as an escape such as \"\\u{code:04x}\" inside double quotes")


_ODD_LINE_BREAKS = "\u0085\u2028\u2029"
# What YAML's reader (libyaml and go-yaml alike) refuses, plus the line breaks editors do not show.
_UNFIT_ASCII = re.compile("[^\t\n\r\x20-\x7e]")  # the same, for ASCII text (nearly every config)


@functools.cache
def _unfit_character() -> re.Pattern[str]:
    # compiled on first use: the class spans Unicode and costs ~3 ms, at every start-up otherwise
    return re.compile("[^\t\n\r\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def line_column(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of character `offset`, counting lines and columns as editors do
    (lines end at \\n, \\r\\n, \\r; a column is a character, not a byte)."""
    before = text[:offset].replace("\r\n", "\n").replace("\r", "\n")
    return before.count("\n") + 1, len(before) - (before.rfind("\n") + 1) + 1


def _syntax_diagnostic(path: str, exc: yaml.YAMLError, text: str) -> Diagnostic:
    if isinstance(exc, yaml.reader.ReaderError):  # a character YAML forbids: _text_problems finds
        code = exc.character if isinstance(exc.character, int) else ord(str(exc.character)[:1] or "?")
        found = text.find(chr(code)) if 0 <= code <= 0x10FFFF else -1  # exc.position may be in bytes
        line, column = line_column(text, found) if found >= 0 else (1, 1)
        return RULE_ENCODING.at(path, line, column, _control_message(code))
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
    problem = str(getattr(exc, "problem", None) or exc).split("\n")[0]
    context = getattr(exc, "context", None)
    context_mark = getattr(exc, "context_mark", None)
    message = f"{context}, {problem}" if context else problem
    lines = text.splitlines()
    offending = lines[line - 1] if 0 < line <= len(lines) else ""
    if "\t" in problem or "\t" in offending[: max(column, 1)]:
        message = "a tab character; YAML indentation must use spaces: replace the tab with spaces"
    else:
        opened = f" (opened at line {context_mark.line + 1})" if context_mark is not None else ""
        for needle, hint in _SYNTAX_HINTS:
            if needle in message:
                message = f"{message}; {hint.format(opened=opened)}"
                break
    return RULE_SYNTAX.at(path, line, column, f"YAML syntax error: {message}")


# (a substring of PyYAML's message, the fix to suggest); the first match wins
_SYNTAX_HINTS = (
    ("did not find expected ',' or '}'", "close the `{{`{opened} with `}}`, or separate entries with `,`"),
    ("did not find expected ',' or ']'", "close the `[`{opened} with `]`, or separate items with `,`"),
    ("while scanning a quoted scalar", "close the quote{opened} with the same quote character"),
    ("found unknown escape character", "in double quotes a backslash starts an escape: write `\\\\`, "
     "or use single quotes"),
    ("mapping values are not allowed", "a value holding `: ` must be quoted (`key: \"a: b\"`), or this "
     "line is indented deeper than its siblings"),
    ("could not find expected ':'", "a key needs `: ` and a value after it (`key: value`)"),
    ("did not find expected key", "this line is indented differently from the keys around it: "
     "line up keys of one mapping in the same column"),
    ("did not find expected '-' indicator", "a list holds only `- item` lines here: indent the key "
     "under its item, or dedent it out of the list"),
    ("did not find expected <document start>", "the first key is indented: start top-level keys in "
     "column 1"),
    ("found character that cannot start any token", "quote the value: a plain value cannot start with "
     "`@`, a backtick or `%`"),
    ("while scanning an alias", "`*` starts an alias: quote the value"),
    ("while scanning an anchor", "`&` starts an anchor: quote the value"),
    ("while scanning a block scalar", "after `|` or `>` only an indentation digit or `+`/`-` may follow"),
)


def load_yaml_text(path: str, text: str) -> tuple[LoadedYaml | None, list[Diagnostic]]:
    """Parse one YAML document holding a mapping; values as Helm reads them."""
    text_problems = _text_problems(path, text)
    if text_problems:
        return None, text_problems
    builder = _Builder(path)
    events: list[yaml.Event] = []
    try:
        _read_events(path, text, events)
    except _Abort as abort:
        return None, [abort.diagnostic]
    except yaml.YAMLError as exc:
        # what Helm refuses before the syntax error comes first for Helm too: report it as well
        syntax = _syntax_diagnostic(path, exc, text)
        at = (syntax.line, syntax.column)
        earlier = [d for d in _helm_reader_problems(path, text, events) if (d.line, d.column) < at]
        return None, [*earlier, syntax]
    docs = [e for e in events if isinstance(e, yaml.DocumentStartEvent)]
    if not docs:
        return None, [RULE_EMPTY.at(path, 1, 1, "file is empty (or only comments); write a YAML mapping "
                                    f"such as `{_example(path)}`, or delete the file")]
    if len(docs) > 1:
        mark = docs[1].start_mark
        return None, [RULE_MULTI_DOC.at(path, *_at(mark),
                                        "several YAML documents in one file; keep one config per file "
                                        "(remove this `---` and what follows, or move it to its own file)")]
    helm_refusals = _helm_reader_problems(path, text, events)
    try:
        value = builder.build(events)
    except _Abort as abort:
        return None, helm_refusals + builder.diagnostics + [abort.diagnostic]
    root = builder.nodes.get(())
    if not isinstance(value, dict):
        line, column = (root.line, root.column) if root else (1, 1)
        rule = RULE_NOT_MAPPING if value is not None else RULE_EMPTY
        return None, [rule.at(path, line, column, f"the document is {_describe(value, root)}, not a mapping "
                              f"of keys to values; write `key: value` lines such as `{_example(path)}`")]
    loaded = LoadedYaml(path=path, text=text, value=value, nodes=builder.nodes)
    return loaded, helm_refusals + builder.diagnostics


def _helm_reader_problems(path: str, text: str, events: list[yaml.Event]) -> list[Diagnostic]:
    """What PyYAML reads but Helm refuses in a file that parses.

    Helm 4 reads a values file with apimachinery's YAMLReader, which cuts it at every line
    starting with `---` and refuses one with anything but a comment after that; then parses
    each piece with go-yaml, so a directive before `---` is a piece of its own (an error), and
    go-yaml knows no `\\/` escape.
    """
    problems = []
    document = next((e for e in events if isinstance(e, yaml.DocumentStartEvent)), None)
    if document is not None and (document.version or document.tags):
        for number, text_line in enumerate(text.split("\n"), start=1):
            if text_line.startswith("%"):
                directive = excerpt(text_line.split("#")[0].strip())
                problems.append(RULE_DIRECTIVE.at(path, number, 1,
                                                  f"directive `{directive}`: Helm 4 refuses a values "
                                 "file with a %YAML or %TAG directive (and Helm 3 refuses %YAML 1.2); "
                                 "delete this line"))
                break
    for number, text_line in enumerate(text.split("\n"), start=1):
        rest = text_line[3:].strip()
        if text_line.startswith("---") and rest and not rest.startswith("#"):
            problems.append(RULE_SYNTAX.at(path, number, 4,
                                           f"`{excerpt(rest)}` after `---`: Helm 4 splits values "
                          "files at every line starting with `---` and refuses this one (invalid "
                          "document separator); keep `---` alone on its line, or do not start a "
                          "line with `---`"))
    for event in events:
        if isinstance(event, yaml.ScalarEvent) and event.style == '"':
            start, end = _offset(event.start_mark), _offset(event.end_mark)
            source = text[start:end]
            escape = _SLASH_ESCAPE.search(source, source.find('"'))
            if escape:
                at = start + escape.start() + len(escape.group(1))
                line, column = line_column(text, at)
                problems.append(RULE_SYNTAX.at(path, line, column,
                                               "`\\/` in double quotes: Helm's YAML reader "
                           "(go-yaml) knows no such escape and refuses the file; write `/`"))
    return problems


_SLASH_ESCAPE = re.compile(r"((?:^|[^\\])(?:\\\\)*)\\/")  # a `\/` not itself escaped


def _describe(value: Any, root: NodeInfo | None) -> str:
    if value is None:
        return "empty"
    if isinstance(value, list):
        return "a list"
    written = f" `{excerpt(root.raw)}`" if root is not None and root.raw is not None else ""
    return f"a single {_TAG_NAMES.get(root.tag if root else '', 'plain')} value{written}"


_TAG_NAMES = {"str": "text", "int": "number", "float": "number", "bool": "boolean", "null": "empty"}


def _example(path: str) -> str:
    if path.endswith(("environment.yaml", "environment.yml")):
        return "namespace: team-a-prod"
    return "rules: {mutable-tag: error}" if path.endswith(".modeldeploy.yaml") else "name: jukebox"


def load_yaml_file(path: str, display: str | None = None) -> tuple[LoadedYaml | None, list[Diagnostic]]:
    """Load `path`; diagnostics name it as `display` (default: the path itself)."""
    shown = display or path
    try:
        # A FIFO or device named config.yaml would block the read or never end: regular files only.
        info = os.stat(path)
        mode, size = info.st_mode, info.st_size
        if not stat.S_ISREG(mode):
            return None, [RULE_IO.at(shown, 1, 1, f"{file_kind(mode)}, not a regular file; "
                                     "a config must be a plain text file")]
        if size > MAX_BYTES:  # refused unread
            return None, [RULE_LIMITS.at(shown, 1, 1, f"file is {size:,} bytes; the limit is {MAX_BYTES:,} "
                                         "(a deployment config is a few hundred bytes); is this the right "
                                         "file?")]
        # The size stat gave and a byte more (a read of MAX_BYTES would allocate 1 MiB per
        # config: ~12 us each); more only if the file grew meanwhile.
        with open(path, "rb", buffering=0) as handle:
            data = handle.read(size + 1)
            while MAX_BYTES >= len(data) > size and (more := handle.read(MAX_BYTES + 1 - len(data))):
                data += more
    except OSError as exc:
        return None, [RULE_IO.at(shown, 1, 1, f"cannot read file: {exc.strerror}")]
    text, problems = _decode(shown, data)
    if text is None:
        return None, problems
    return load_yaml_text(shown, text)


def _read_events(path: str, text: str, events: list[yaml.Event]) -> None:
    """The document's events through our limits, the same under every PyYAML build, appended
    to `events` as they come (on a syntax error, those before it stay for the caller).

    libyaml can stop with an error of its own before our limits see the events: PyYAML
    6.0.4's bundled libyaml refuses flow nesting past 1,000 levels while its scanner looks
    ahead (up to 1,024 characters) for a key, so `[[[[...` failed at 1:1011 as a syntax error
    where the pure-Python parser and older wheels reach our MAX_DEPTH at 1:75. On any libyaml
    error, the pure-Python parser (the same grammar, no such limits) re-reads the text up to
    the error's position: a limit of ours crossed by then is the first problem and the one
    reported. Otherwise libyaml's error stands (go-yaml, Helm's reader, is a port of libyaml).
    The re-read happens only for files that fail to parse, and stops at the error's position.
    """
    try:
        events.extend(_limited_events(path, text, LOADER))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        if LOADER is yaml.SafeLoader or mark is None:
            raise
        try:
            for _ in _limited_events(path, text, yaml.SafeLoader, stop_after=_at(mark)):
                pass
        except yaml.YAMLError:
            pass
        raise


def _limited_events(path: str, text: str, loader: Any,  # type: ignore[no-untyped-def]
                    stop_after: tuple[int, int] | None = None):
    """PyYAML's event stream, stopped early when nesting or size exceed the bounds.

    With `stop_after` (a 1-based line and column), the stream ends before the first event
    that starts past that position."""
    depth = 0
    for count, event in enumerate(yaml.parse(text, Loader=loader), start=1):
        if stop_after is not None and _at(event.start_mark) > stop_after:
            return
        if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            depth += 1
            if depth > MAX_DEPTH:
                mark = event.start_mark
                raise _Abort(RULE_LIMITS.at(path, *_at(mark), f"nesting deeper than {MAX_DEPTH} levels (a "
                                            "config needs at most 3); flatten it"))
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            depth -= 1
        if count > MAX_NODES:
            mark = event.start_mark
            raise _Abort(RULE_LIMITS.at(path, *_at(mark),
                                        f"more than {MAX_NODES:,} YAML nodes (a config has a few dozen); "
                                        "is this the right file?"))
        if isinstance(event, yaml.ScalarEvent) and len(event.value) > MAX_SCALAR_CHARS:
            mark = event.start_mark
            raise _Abort(RULE_LIMITS.at(path, *_at(mark),
                                        f"a key or value of {len(event.value):,} characters; the limit is "
                                        f"{MAX_SCALAR_CHARS:,}: shorten it"))
        yield event


class _Builder:
    """Builds values from events with go-yaml v2 resolution and a source map.

    Aliases are expanded with a budget on the total number of values built, so a
    "billion laughs" document stops after MAX_NODES values instead of growing.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self.nodes: dict[JsonPath, NodeInfo] = {}
        self.diagnostics: list[Diagnostic] = []
        self.anchors: dict[str, tuple[int, int]] = {}
        self.built = 0

    def build(self, events: list[yaml.Event]) -> Any:
        # Turn the flat event list into a tree first, then values: aliases refer to trees.
        self.events = events
        self.pos = 0
        self.anchored: dict[str, Any] = {}
        while not isinstance(self.events[self.pos], yaml.DocumentStartEvent):
            self.pos += 1
        self.pos += 1
        tree = self._tree()
        return self._value(tree, (), None)

    # A tree node: ("scalar", event) | ("map", event, [(keytree, valtree)]) | ("seq", event, [..])
    def _tree(self) -> Any:
        event = self.events[self.pos]
        self.pos += 1
        if isinstance(event, yaml.AliasEvent):
            if event.anchor not in self.anchored:
                mark = event.start_mark
                raise _Abort(RULE_SYNTAX.at(self.path, *_at(mark),
                                            f"alias *{excerpt(event.anchor)} names no anchor defined before "
                                            "it; define `&name` first, or quote the value if `*` is meant "
                                            "literally"))
            return self.anchored[event.anchor]
        if isinstance(event, yaml.ScalarEvent):
            node: Any = ("scalar", event)
        elif isinstance(event, yaml.MappingStartEvent):
            pairs = []
            while not isinstance(self.events[self.pos], yaml.MappingEndEvent):
                key = self._tree()
                pairs.append((key, self._tree()))
            self.pos += 1
            node = ("map", event, pairs)
        elif isinstance(event, yaml.SequenceStartEvent):
            items = []
            while not isinstance(self.events[self.pos], yaml.SequenceEndEvent):
                items.append(self._tree())
            self.pos += 1
            node = ("seq", event, items)
        else:  # pragma: no cover - the parser guarantees the grammar
            raise _Abort(RULE_SYNTAX.at(self.path, 1, 1, f"unexpected YAML event {event}"))
        anchor = getattr(event, "anchor", None)
        if anchor:
            self.anchored[anchor] = node
        return node

    def _count(self, event: yaml.Event, json_path: JsonPath) -> None:
        self.built += 1
        if self.built > MAX_NODES:
            # Report it at the top-level key whose value blew up: the alias is used there.
            top = self.nodes.get(json_path[:1]) if json_path else None
            where = (top.key_line, top.key_column) if top else _at(event.start_mark)
            whose = f"the value of `{excerpt(json_path[0])}`" if json_path else "the document"
            raise _Abort(RULE_LIMITS.at(self.path, *where,
                                        f"{whose} expands to more than {MAX_NODES:,} values through "
                                        "aliases (an alias bomb?); write the values out"))

    def _value(self, tree: Any, json_path: JsonPath, key_mark: Any) -> Any:
        kind, event = tree[0], tree[1]
        self._count(event, json_path)
        if kind != "scalar" and getattr(event, "tag", None) not in _COLLECTION_TAGS:
            raise _Abort(RULE_TAG.at(self.path, *_at(event.start_mark),
                                     f"YAML tag {excerpt(event.tag)} is not supported in config files; "
                                     "remove it"))
        if len(json_path) > MAX_DEPTH:  # aliases can nest deeper than the text does
            mark = event.start_mark
            raise _Abort(RULE_LIMITS.at(self.path, *_at(mark),
                                        f"aliases nest values deeper than {MAX_DEPTH} levels; write the "
                                        "values out"))
        mark = event.start_mark
        line, column = _at(mark)
        key_line, key_column = (key_mark.line + 1, key_mark.column + 1) if key_mark else (line, column)
        if kind == "scalar":
            tag, value = self._scalar(event)
            self.nodes[json_path] = NodeInfo(line, column, key_line, key_column,
                                             event.value, _style(event), tag)
            return value
        if kind == "seq":
            self.nodes[json_path] = NodeInfo(line, column, key_line, key_column, None, None, "seq")
            return [self._value(item, json_path + (i,), None) for i, item in enumerate(tree[2])]
        self.nodes[json_path] = NodeInfo(line, column, key_line, key_column, None, None, "map")
        result: dict[str, Any] = {}
        first_seen: dict[str, Any] = {}
        for key_tree, value_tree in tree[2]:
            key_event = key_tree[1]
            kmark = key_event.start_mark
            if key_tree[0] != "scalar":
                raise _Abort(RULE_KEY_TYPE.at(self.path, *_at(kmark),
                                              "a mapping key must be a plain word, not a list or mapping"))
            key_tag, key_value = self._scalar(key_event)
            key = key_event.value
            if key_tag == "null":
                self.diagnostics.append(RULE_KEY_TYPE.at(
                    self.path, *_at(kmark), "an empty key (nothing before the `:`); write the key's name"))
            elif key_tag != "str":
                self.diagnostics.append(RULE_KEY_TYPE.at(
                    self.path, *_at(kmark),
                    f"key `{excerpt(key)}` is read by Helm as the {_TAG_NAMES.get(key_tag, key_tag)} "
                    f"{excerpt(helm_display(key_tag, key_value))}; quote it: \"{excerpt(key)}\""))
            if key == "<<" and _style(key_event) is None:
                raise _Abort(RULE_SYNTAX.at(self.path, *_at(kmark),
                                            "merge keys (<<) are not supported in config files; "
                                            "write the keys out"))
            if key in first_seen:
                first = first_seen[key]
                self.diagnostics.append(RULE_DUPLICATE_KEY.at(
                    self.path, *_at(kmark),
                    f"duplicate key `{excerpt(key)}` (first at line {first.line + 1}); Helm would "
                    "silently keep only this last one: delete one of them"))
            first_seen[key] = kmark
            result[key] = self._value(value_tree, json_path + (key,), kmark)
        return result

    def _scalar(self, event: yaml.ScalarEvent) -> tuple[str, Any]:
        tag = event.tag
        if tag == "!":  # the non-specific tag: text, whatever it looks like (go-yaml: `! 0123` is "0123")
            return "str", event.value
        if tag is None:
            if _style(event) is None and event.implicit[0]:
                return resolve_plain(event.value)
            return "str", event.value
        if tag not in _EXPLICIT_TAGS:
            mark = event.start_mark
            raise _Abort(RULE_TAG.at(self.path, *_at(mark),
                                     f"YAML tag {excerpt(tag)} is not supported in config files; remove "
                                     "it (quote the value if it must be text)"))
        wanted = _EXPLICIT_TAGS[tag]
        if wanted == "str":
            return "str", event.value
        resolved, value = resolve_plain(event.value)
        if resolved != wanted and not (wanted == "float" and resolved == "int"):
            mark = event.start_mark
            raise _Abort(RULE_TAG.at(self.path, *_at(mark),
                                     f"`{excerpt(event.value)}` is not a valid !!{wanted}; remove the "
                                     f"tag or fix the value"))
        return resolved, value
