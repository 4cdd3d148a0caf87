"""Schema patterns matched the way Helm matches them: with Go's regexp, not Python's `re`.

Helm checks a chart's values.schema.json with Go's regexp (RE2 syntax), and so does every
Go tool after it. Python's `re` reads the same pattern differently where it matters for
values:
- `$` also matches before a final newline in Python, so `^[a-z]+$` accepts "jukebox\\n"
  (a `|` block scalar, a `"...\\n"`), which Helm refuses; in Go `$` is the end of the text
  (unless the pattern sets the `m` flag);
- `\\d`, `\\w`, `\\s` and `\\b` match non-ASCII digits, letters and spaces in Python, only ASCII
  ones in Go (`\\s` is `[\\t\\n\\f\\r ]`);
- `\\z` (end of text) and POSIX classes such as `[[:alpha:]]` are Go syntax Python lacks.

`translate` rewrites a Go pattern into a Python pattern that matches the same strings, and
`with_go_patterns` gives a jsonschema validator class whose `pattern` keyword uses it: every
schema the tool checks values with (config, environment) is built from it, so `validate`
refuses exactly what Helm's schema check refuses. Code that matches a value against one of
these patterns itself uses `compile_go` too.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache
from typing import Any, ClassVar

_POSIX_CLASSES = {
    "alnum": "0-9A-Za-z", "alpha": "A-Za-z", "ascii": "\\x00-\\x7f", "blank": "\\t ",
    "cntrl": "\\x00-\\x1f\\x7f", "digit": "0-9", "graph": "!-~", "lower": "a-z", "print": " -~",
    "punct": "!-/:-@\\[-`{-~", "space": "\\t\\n\\v\\f\\r ", "upper": "A-Z", "word": "0-9A-Za-z_",
    "xdigit": "0-9A-Fa-f",
}  # fmt: skip
_GO_SPACE = "\\t\\n\\f\\r "
_MULTILINE_FLAG = re.compile(r"^\(\?[a-zA-Z]*m[a-zA-Z]*\)")


def translate(pattern: str) -> str:
    """The Python spelling of the Go regexp `pattern` (compile it with re.ASCII)."""
    keep_dollar = bool(_MULTILINE_FLAG.match(pattern))  # (?m): `$` is an end of line in both
    out: list[str] = []
    in_class = False
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            escaped = pattern[i + 1]
            if escaped == "Q":  # \Q...\E: literal text
                end = pattern.find("\\E", i + 2)
                literal = pattern[i + 2:] if end < 0 else pattern[i + 2:end]
                out.append(re.escape(literal))
                i = len(pattern) if end < 0 else end + 2
                continue
            if escaped == "z":
                out.append("\\Z")
            elif escaped == "s":
                out.append(_GO_SPACE if in_class else f"[{_GO_SPACE}]")
            elif escaped == "S" and not in_class:
                out.append(f"[^{_GO_SPACE}]")
            else:
                out.append(char + escaped)
            i += 2
            continue
        if in_class:
            posix = re.match(r"\[:(\^?)([a-z]+):\]", pattern[i:])
            if posix and posix.group(2) in _POSIX_CLASSES:
                if posix.group(1):  # [[:^alpha:]] has no Python spelling inside a class
                    raise re.error(f"negated POSIX class in {pattern!r}")
                out.append(_POSIX_CLASSES[posix.group(2)])
                i += posix.end()
                continue
            if char == "]":
                in_class = False
            elif char == "[":
                char = "\\["  # a literal `[` in Go; Python warns about possible nested sets
            out.append(char)
            i += 1
            continue
        if char == "[":
            in_class = True
            out.append(char)
            i += 1
            if pattern.startswith("^", i):
                out.append("^")
                i += 1
            if pattern.startswith("]", i):  # a leading `]` is literal
                out.append("\\]")
                i += 1
            continue
        out.append("\\Z" if char == "$" and not keep_dollar else char)
        i += 1
    return "".join(out)


@lru_cache(maxsize=256)
def compile_go(pattern: str) -> re.Pattern[str]:
    """`pattern` (Go syntax) compiled to match exactly what Go's regexp matches; use `.search`."""
    return re.compile(translate(pattern), re.ASCII)


def _pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Iterator[Any]:
    # jsonschema's own `pattern` keyword, with Go's reading of the pattern
    if validator.is_type(instance, "string") and not compile_go(pattern).search(instance):
        import jsonschema

        yield jsonschema.ValidationError(f"{instance!r} does not match {pattern!r}")


def with_go_patterns(cls: Any) -> Any:
    """The jsonschema validator class `cls`, its `pattern` keyword matching as Go does."""
    import jsonschema.validators

    return jsonschema.validators.extend(cls, {"pattern": _pattern})


def draft7_validator(schema: Any) -> Any:
    """A draft-07 validator of `schema` whose patterns match as in Helm (the schemas are draft-07).

    Built on first use: valid configs are told valid by fast_schema (from `schema` and the
    draft) without importing jsonschema at all (~50 ms of every run's start-up)."""
    return _LazyDraft7(schema)


class _LazyDraft7:
    """`schema` and META_SCHEMA's draft at once; every other attribute from the real validator."""

    META_SCHEMA: ClassVar[dict[str, str]] = {"$schema": "http://json-schema.org/draft-07/schema#"}
    format_checker: ClassVar[None] = None  # as the real one's: formats are not asserted

    def __init__(self, schema: Any) -> None:
        self.schema = schema
        self._real: Any = None

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name == "_real":
            raise AttributeError(name)
        if self._real is None:
            import jsonschema

            self._real = with_go_patterns(jsonschema.Draft7Validator)(self.schema)
        return getattr(self._real, name)
