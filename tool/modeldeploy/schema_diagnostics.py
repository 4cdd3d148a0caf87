"""JSON Schema errors turned into diagnostics that point at the right line.

jsonschema reports paths; users need a line, a column and a fix. Rule ids:
- `schema-unknown-key`: a key the schema does not know (with a did-you-mean);
- `schema-missing-key`: a required key is absent;
- `yaml-implicit-type`: a value that must be text was written so that Helm reads a
  number, boolean or null (`version: 1234e56`); the fix is to quote it;
- `schema-type`, `schema-range`, `schema-enum`, `schema-pattern`, `schema`: the rest.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any

import jsonschema

from .diagnostics import Diagnostic, error
from .yaml_loader import JsonPath, LoadedYaml, helm_display

RULE_UNKNOWN_KEY = "schema-unknown-key"
RULE_MISSING_KEY = "schema-missing-key"
RULE_IMPLICIT_TYPE = "yaml-implicit-type"
RULE_TYPE = "schema-type"
RULE_RANGE = "schema-range"
RULE_ENUM = "schema-enum"
RULE_PATTERN = "schema-pattern"
RULE_OTHER = "schema"

_TYPE_WORDS = {"string": "text", "integer": "an integer", "boolean": "true or false",
               "object": "a mapping", "array": "a list", "number": "a number", "null": "empty"}
_TAG_WORDS = {"int": "number", "float": "number", "bool": "boolean", "null": "empty value",
              "str": "text", "map": "mapping", "seq": "list"}


def dotted(path: JsonPath) -> str:
    return ".".join(str(p) for p in path) or "(top level)"


def suggest(word: str, candidates: Iterable[str]) -> str | None:
    matches = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return matches[0] if matches else None


def _owned(path: JsonPath, owned: Iterable[JsonPath]) -> bool:
    return any(path[: len(prefix)] == prefix for prefix in owned)


def schema_diagnostics(loaded: LoadedYaml, validator: jsonschema.protocols.Validator,
                       owned: Iterable[JsonPath] = ()) -> list[Diagnostic]:
    """All schema errors of `loaded`, except under paths a dedicated rule owns."""
    owned = list(owned)
    problems: list[Diagnostic] = []
    seen: set[Diagnostic] = set()
    for err in validator.iter_errors(loaded.value):
        for subject, diagnostic in _convert(loaded, err, tuple(err.absolute_path)):
            if not _owned(subject, owned) and diagnostic not in seen:
                seen.add(diagnostic)
                problems.append(diagnostic)
    return problems


def _convert(loaded: LoadedYaml, err: Any, path: JsonPath) -> list[tuple[JsonPath, Diagnostic]]:
    """(the path the problem is about, its diagnostic) for one jsonschema error."""
    file = loaded.path
    keyword = err.validator
    if keyword == "additionalProperties" and isinstance(err.instance, dict):
        allowed = sorted((err.schema.get("properties") or {}).keys())
        out = []
        for key in err.instance:
            if key in allowed:
                continue
            line, column = loaded.position(path + (key,), key=True)
            hint = suggest(key, allowed)
            fix = f"did you mean `{hint}`?" if hint else f"allowed here: {', '.join(allowed)}"
            out.append((path + (key,), error(file, line, column,
                                             f"unknown key `{key}` in {dotted(path)}; {fix}",
                                             RULE_UNKNOWN_KEY)))
        return out
    if keyword == "required" and isinstance(err.instance, dict):
        line, column = loaded.position(path, key=True) if path else (1, 1)
        out = []
        for key in err.validator_value:
            if key in err.instance:
                continue
            described = (err.schema.get("properties") or {}).get(key, {})
            example = (described.get("examples") or [None])[0]
            fix = f"; add e.g. `{key}: {example}`" if example is not None else ""
            where = "" if not path else f" in {dotted(path)}"
            out.append((path + (key,), error(file, line, column,
                                             f"missing required key `{key}`{where}{fix}",
                                             RULE_MISSING_KEY)))
        return out
    line, column = loaded.position(path)
    node = loaded.nodes.get(path)
    field = dotted(path)
    if keyword == "type":
        expected = err.validator_value if isinstance(err.validator_value, list) else [err.validator_value]
        if "string" in expected and node is not None and node.raw is not None and node.style is None:
            shown = helm_display(node.tag, err.instance)
            if node.tag == "null":
                return [(path, error(file, line, column, f"`{field}` has no value; write it out, e.g. "
                              f"`{path[-1]}: \"...\"`", RULE_IMPLICIT_TYPE))]
            return [(path, error(file, line, column,
                          f"`{path[-1]}: {node.raw}` is read by Helm as the "
                          f"{_TAG_WORDS.get(node.tag, node.tag)} {shown}, not the text "
                          f"\"{node.raw}\"; quote it: {path[-1]}: \"{node.raw}\"", RULE_IMPLICIT_TYPE))]
        got = _TAG_WORDS.get(node.tag, type(err.instance).__name__) if node else type(err.instance).__name__
        written = f" `{node.raw}`" if node is not None and node.raw is not None else ""
        wanted = " or ".join(_TYPE_WORDS.get(t, t) for t in expected)
        return [(path, error(file, line, column, f"`{field}` must be {wanted}, not the {got}{written}",
                      RULE_TYPE))]
    if keyword in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
                   "minLength", "maxLength", "minItems", "maxItems"):
        return [(path, error(file, line, column, f"`{field}`: {err.message}", RULE_RANGE))]
    if keyword == "enum":
        options = [str(v) for v in err.validator_value]
        hint = suggest(str(err.instance), options)
        fix = f"did you mean `{hint}`?" if hint else f"use one of: {', '.join(options)}"
        return [(path, error(file, line, column, f"`{field}` is `{err.instance}`; {fix}", RULE_ENUM))]
    if keyword == "pattern":
        description = str(err.schema.get("description", "")).split(". ")[0].rstrip(".")
        example = (err.schema.get("examples") or [None])[0]
        fix = f"; e.g. `{example}`" if example else ""
        what = f" ({description})" if description else ""
        return [(path, error(file, line, column, f"`{field}` value {err.instance!r} is not valid{what}{fix}",
                      RULE_PATTERN))]
    return [(path, error(file, line, column, f"`{field}`: {err.message}", RULE_OTHER))]
