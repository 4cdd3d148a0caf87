"""JSON Schema errors turned into diagnostics that point at the right line.

jsonschema reports paths; users need a line, a column and a fix. Rule ids:
- `schema-unknown-key`: a key the schema does not know, with a did-you-mean, or the
  mapping it belongs in (`trafficPercent` at the top level belongs under `canary:`);
- `schema-missing-key`: a required key is absent (with an example value);
- `yaml-implicit-type`: a value that must be text was written so that Helm reads a
  number, boolean or null (`version: 1234e56`); the fix is to quote it;
- `schema-type`: a value of the wrong type (`autoscaling: "true"`: drop the quotes);
- `schema-range`: a number or a length outside the schema's bounds (the bound is named);
- `schema-enum`: a value outside a fixed list (with a did-you-mean);
- `schema-pattern`: text of the wrong shape (e.g. an invalid namespace), with an example;
  patterns match as Helm matches them, with Go's regexp (go_regex.py): `$` is the end of the
  text, so a value with a trailing newline (`"x\\n"`, a `|` block scalar) does not match;
- `yaml-number-form`: a number where the schema takes one (`canary.trafficPercent`), written so
  that Helm reads another number than people read: `010` is octal 8, `0x20` is 32, `0o12` is 10,
  `0b101` is 5, `012_0` is 80; the fix is plain decimal digits;
- `schema`: any other schema error.
The schemas are schemas/config.schema.json and schemas/environment.schema.json.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from .. import fast_schema
from ..diagnostics import Diagnostic, closest, declared_in
from . import go_regex
from .yaml_loader import JsonPath, LoadedYaml, excerpt, helm_display, misread_number, resolve_plain

if TYPE_CHECKING:  # jsonschema is imported when a document fails the fast path
    import jsonschema

_declare = declared_in(__doc__, __name__)
RULE_UNKNOWN_KEY = _declare("schema-unknown-key")
RULE_MISSING_KEY = _declare("schema-missing-key")
RULE_IMPLICIT_TYPE = _declare("yaml-implicit-type")
RULE_TYPE = _declare("schema-type")
RULE_RANGE = _declare("schema-range")
RULE_ENUM = _declare("schema-enum")
RULE_PATTERN = _declare("schema-pattern")
RULE_NUMBER_FORM = _declare("yaml-number-form")
RULE_OTHER = _declare("schema")

_TYPE_WORDS = {"string": "text", "integer": "an integer", "boolean": "true or false",
               "object": "a mapping", "array": "a list", "number": "a number", "null": "empty"}
_TAG_WORDS = {"int": "number", "float": "number", "bool": "boolean", "null": "empty value",
              "str": "text", "map": "mapping", "seq": "list"}


def dotted(path: JsonPath) -> str:
    return ".".join(str(p) for p in path) or "(top level)"


def inline_yaml(value: Any) -> str:
    """A schema example written as YAML flow text: {trafficPercent: 20}, true, team-a."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {inline_yaml(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(inline_yaml(v) for v in value) + "]"
    return str(value)


def _example(schema: dict[str, Any], key: Any) -> str:
    examples = schema.get("examples") or []
    return f"; e.g. `{key}: {inline_yaml(examples[0])}`" if examples else ""


def _nested_keys(schema: dict[str, Any], root: dict[str, Any], path: JsonPath = (),
                 found: dict[str, JsonPath] | None = None) -> dict[str, JsonPath]:
    """key -> the mapping it belongs in, for keys of nested mappings (`trafficPercent` -> canary)."""
    found = {} if found is None else found
    if len(path) > 4:
        return found
    ref = schema.get("$ref", "")
    if ref.startswith("#/definitions/"):
        schema = (root.get("definitions") or {}).get(ref.rsplit("/", 1)[1], {})
    for key, sub in (schema.get("properties") or {}).items():
        if path:
            found.setdefault(key, path)
        if isinstance(sub, dict):
            _nested_keys(sub, root, path + (key,), found)
    return found


def _owned(path: JsonPath, owned: Iterable[JsonPath]) -> bool:
    return any(path[: len(prefix)] == prefix for prefix in owned)


def schema_diagnostics(loaded: LoadedYaml, validator: jsonschema.protocols.Validator,
                       owned: Iterable[JsonPath] = (), chart: str | None = None,
                       source_keys: Iterable[str] = ()) -> list[Diagnostic]:
    """All schema errors of `loaded`, except under paths a dedicated rule owns. `chart`: the
    schema is that chart's values.schema.json (named in each message); `source_keys`: the
    top-level keys the ApplicationSet reads from the file, which the chart's schema must accept."""
    owned = list(owned)
    problems: list[Diagnostic] = []
    seen: set[Diagnostic] = set()
    root = validator.schema if isinstance(validator.schema, dict) else {}
    # Valid (most configs): jsonschema-rs says so in microseconds; else jsonschema's messages.
    # (not where formats are asserted, as gojsonschema does for Helm 3.18.0-3.18.4: the fast path checks none)
    known_valid = getattr(validator, "format_checker", None) is None and \
        fast_schema.schema_is_valid(validator.schema, _draft_of(validator), loaded.value)
    nested = {} if known_valid else _nested_keys(root, root)
    skip: list[JsonPath] = []  # paths with a diagnostic already, or where no number belongs
    for err in () if known_valid else validator.iter_errors(loaded.value):
        for subject, diagnostic in _convert(loaded, err, tuple(err.absolute_path), nested):
            if chart is not None:
                diagnostic = _of_chart(diagnostic, subject, chart, source_keys)
            if err.validator == "type":
                skip.append(subject)
            # a chart's schema refusing a key is no value problem a rule reports better
            refused = chart is not None and diagnostic.rule == RULE_UNKNOWN_KEY.id
            if (refused or not _owned(subject, owned)) and diagnostic not in seen:
                skip.append(subject)
                seen.add(diagnostic)
                problems.append(diagnostic)
    # Every number where the schema takes one, owned paths included (their rule checks the
    # value, this the writing): it must be written so that Helm reads the number people read.
    for path, info in loaded.nodes.items():
        if not path or _owned(path, skip):
            continue
        value = value_at(loaded.value, path)
        if value is GONE:
            continue
        reason = misread_number(info, value)
        if reason:
            line, column = info.line, info.column
            problems.append(RULE_NUMBER_FORM.at(loaded.path, line, column,
                                                number_form_message(path[-1], info.raw or "",
                                                                    info.tag, value, reason)))
    return problems


def _draft_of(validator: Any) -> str:
    meta = getattr(validator, "META_SCHEMA", None) or {}
    return str(meta.get("$schema") or meta.get("$id") or "")


def _of_chart(diagnostic: Diagnostic, subject: JsonPath, chart: str,
              source_keys: Iterable[str]) -> Diagnostic:
    """`diagnostic` said of chart `chart`'s schema."""
    if diagnostic.rule == RULE_UNKNOWN_KEY.id and len(subject) == 1 and subject[0] in source_keys:
        key = excerpt(subject[0])
        return replace(diagnostic, message=(
            f"chart {chart}'s values.schema.json refuses `{key}`, a key the ApplicationSet reads from this "
            f"file and passes to helm with the rest: helm (so Argo CD) fails to render it; declare "
            f"`{key}` (type string) in the chart's values.schema.json"))
    return replace(diagnostic, message=f"{diagnostic.message} (chart {chart})")


def number_form_message(key: Any, raw: str, tag: str, value: Any, reason: str) -> str:
    read = excerpt(helm_display(tag, value))
    digits = raw.replace("_", "").lstrip("+")
    meant = f"`{key}: {int(digits)}` if you meant {int(digits)}, " \
        if digits.isdigit() and int(digits) != value else ""
    keep = f"`{key}: {read}` to keep what Helm reads now" if isinstance(value, int) \
        else "the number you meant"
    return (f"`{key}: {excerpt(raw)}` is read by Helm as {read}: {reason}; write plain decimal digits: "
            f"{meant}{keep}")


GONE = object()  # a node whose value a later duplicate key replaced (yaml-duplicate-key reports it)


def value_at(value: Any, path: JsonPath) -> Any:
    for part in path:
        try:
            value = value[part]
        except (KeyError, IndexError, TypeError):
            return GONE
    return value


def _convert(loaded: LoadedYaml, err: Any, path: JsonPath,
             nested: dict[str, JsonPath] | None = None) -> list[tuple[JsonPath, Diagnostic]]:
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
            hint = closest(key, allowed)
            home = (nested or {}).get(key)
            if hint:
                fix = f"did you mean `{hint}`?"
            elif home is not None and home != path:
                fix = f"`{key}` belongs under `{dotted(home)}:`; indent it there"
            else:
                fix = f"remove it, or use one of: {', '.join(allowed)}"
            where = f" in {dotted(path)}" if path else " at the top level"
            out.append((path + (key,), RULE_UNKNOWN_KEY.at(file, line, column,
                                                           f"unknown key `{excerpt(key)}`{where}; {fix}")))
        return out
    if keyword == "required" and isinstance(err.instance, dict):
        line, column = loaded.position(path, key=True) if path else (1, 1)
        out = []
        for key in err.validator_value:
            if key in err.instance:
                continue
            described = (err.schema.get("properties") or {}).get(key, {})
            examples = described.get("examples") or []
            fix = f"; add e.g. `{key}: {inline_yaml(examples[0])}`" if examples else ""
            where = "" if not path else f" in {dotted(path)}"
            out.append((path + (key,), RULE_MISSING_KEY.at(file, line, column,
                                                           f"missing required key `{key}`{where}{fix}")))
        return out
    line, column = loaded.position(path)
    node = loaded.nodes.get(path)
    field = dotted(path)
    if keyword == "type":
        expected = err.validator_value if isinstance(err.validator_value, list) else [err.validator_value]
        if "string" in expected and node is not None and node.raw is not None and node.style is None:
            shown = helm_display(node.tag, err.instance)
            if node.tag == "null":
                example = _example(err.schema, path[-1]) or f"; e.g. `{path[-1]}: \"...\"`"
                return [(path, RULE_IMPLICIT_TYPE.at(file, line, column, f"`{field}` has no value (Helm "
                                                     f"reads it as null){example}"))]
            raw = excerpt(node.raw)
            return [(path, RULE_IMPLICIT_TYPE.at(
                file, line, column, f"`{path[-1]}: {raw}` is read by Helm as the "
                f"{_TAG_WORDS.get(node.tag, node.tag)} {excerpt(shown)}, not the text "
                f"\"{raw}\"; quote it: {path[-1]}: \"{raw}\""))]
        got = _TAG_WORDS.get(node.tag) if node else None
        got = got or type(err.instance).__name__
        written = f" `{excerpt(node.raw)}`" if node is not None and node.raw else ""
        wanted = " or ".join(_TYPE_WORDS.get(str(t), str(t)) for t in expected)
        key = path[-1] if path else "value"
        if node is not None and node.tag == "null":
            return [(path, RULE_TYPE.at(file, line, column, f"`{field}` has no value; it must be {wanted}"
                                        f"{_example(err.schema, key)}, or remove the line"))]
        fix = _example(err.schema, key)
        if node is not None and node.style in ("'", '"') and node.raw is not None:
            # `autoscaling: "true"`: the quotes are the mistake, the text is right
            unquoted = node.raw.strip()
            tag = resolve_plain(unquoted)[0] if unquoted else "str"
            if tag in {"boolean": ("bool",), "integer": ("int",), "number": ("int", "float")}.get(
                    expected[0], ()):
                fix = f"; write it without quotes: `{key}: {excerpt(unquoted)}`"
        return [(path, RULE_TYPE.at(file, line, column, f"`{field}` must be {wanted}, not the {got}{written}"
                                    f"{fix}"))]
    if keyword in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        bound = {"minimum": "the minimum is", "maximum": "the maximum is",
                 "exclusiveMinimum": "it must be more than",
                 "exclusiveMaximum": "it must be less than"}[keyword]
        return [(path, RULE_RANGE.at(file, line, column, f"`{field}` is {excerpt(err.instance)}; "
                                     f"{bound} {err.validator_value}"))]
    if keyword in ("minLength", "maxLength") and isinstance(err.instance, str):
        key = path[-1] if path else field
        if not err.instance:
            return [(path, RULE_RANGE.at(file, line, column,
                                         f"`{field}` is empty{_example(err.schema, key)}"))]
        limit = "at most" if keyword == "maxLength" else "at least"
        return [(path, RULE_RANGE.at(file, line, column,
                                     f"`{field}` has {len(err.instance):,} characters; it "
                 f"must have {limit} {err.validator_value}"))]
    if keyword in ("minItems", "maxItems"):
        return [(path, RULE_RANGE.at(file, line, column, f"`{field}`: {excerpt(err.message, 200)}"))]
    if keyword == "enum":
        options = [str(v) for v in err.validator_value]
        hint = closest(str(err.instance), options)
        fix = f"did you mean `{hint}`?" if hint else f"use one of: {', '.join(options)}"
        return [(path, RULE_ENUM.at(file, line, column, f"`{field}` is `{excerpt(err.instance)}`; {fix}"))]
    if keyword == "pattern":
        description = str(err.schema.get("description", "")).split(". ")[0].rstrip(".")
        fix = _example(err.schema, path[-1] if path else field)
        what = f" ({description})" if description else ""
        instance = err.instance if isinstance(err.instance, str) else ""
        stripped = instance.rstrip("\n")
        if stripped != instance and go_regex.compile_go(err.validator_value).search(stripped):
            style = node.style if node is not None else None
            how = {"|": "write `|-` to drop it", ">": "write `>-` to drop it",
                   '"': "remove the `\\n`"}.get(style or "", "remove it")
            return [(path, RULE_PATTERN.at(file, line, column,
                                           f"`{field}` value {excerpt(repr(instance))} ends with a "
                       "line break, which the pattern refuses as Helm and Kubernetes read it (in "
                       f"Go's regexp `$` is the end of the text); {how}"))]
        return [(path, RULE_PATTERN.at(file, line, column,
                                       f"`{field}` value {excerpt(repr(err.instance))} is not "
                   f"valid{what}{fix}"))]
    return [(path, RULE_OTHER.at(file, line, column, f"`{field}`: {excerpt(err.message, 200)}"))]
