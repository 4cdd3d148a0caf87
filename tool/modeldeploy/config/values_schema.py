"""A config is checked against two contracts: modeldeploy's own, and the chart it names.

One file, two readers: the ApplicationSet reads a few keys of `config.yaml` to find the chart,
and helm receives the whole file as the chart's values file. So:

- the deployment contract, schemas/deployment.schema.json (open): `chart_path` (required),
  `name` (optional: the release name; absent, the folder's name), `repo_url` and
  `target_revision` (optional: the chart's repository and revision, config/chart_sources.py).
  `path` is reserved: Argo CD's git files generator replaces a config key `path` with its own;
- the values: the config coalesced with the chart's `values.yaml` as helm coalesces them (maps
  merge, a `null` in the config deletes the chart's default) and checked against the chart's
  `values.schema.json` the way helm checks it. A schema that declares its draft (`$schema`) is
  read with that draft (formats asserted up to draft-07, as both helms do). One that declares
  none is read twice, as draft-07 (Helm 3.18.0 to 3.18.4 and the Argo CD releases embedding
  them: gojsonschema, formats asserted) and as draft 2020-12 (Helm 3.18.5 and later, Helm 4:
  santhosh-tekuri/jsonschema, formats not asserted); what either refuses is reported, naming
  the helms that refuse it when only some do. The deployment contract's keys are not removed
  first: helm receives them too, so a closed chart schema must declare them.

This repository's chart (its values.schema.json is schemas/config.schema.json, `$id` included,
at whatever revision) is checked as before, with the same messages and its semantic rules. Rule ids:
- `chart-no-schema`: the chart has no values.schema.json, so its values go unchecked (nothing
  catches a misspelt key); the config is still rendered, and its manifests checked;
- `yaml-implicit-value`: a warning, for a config whose chart has no usable values.schema.json:
  an unquoted value that Helm reads as a number or boolean which the chart's templates print
  otherwise than it is written (`{{ .Values.version }}`: Helm holds numbers as float64 and
  prints them as Go does). `version: 4562e17` (a git short SHA) prints 4.562e+20, `1000000`
  1e+06, `1.50` and `1.0` 1.5 and 1, `1e3` 1000, `yes` and `on` true. Without a
  schema nothing says whether text or a number is meant: quote it (`version: "4562e17"`), or
  write the value as it prints. Not reported: what prints as written (`20`, `1.5`, `true`, and
  `True`, `FALSE`), and an integer not in plain decimal digits (`0123`, `0x1F`, `1_000`), which
  is a `yaml-number-form` error with or without a schema; with a schema, `yaml-implicit-type`
  and `yaml-number-form` say it for sure;
- `chart-schema`: the chart's values.schema.json cannot be used (not JSON, not a valid schema
  of its draft, a remote `$ref`); reported once per chart, at that file; its values are unchecked.
Patterns match as Helm matches them (go_regex.py: `$` is the end of the text).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import schema_store
from ..diagnostics import Diagnostic, Severity, declared_in
from . import go_regex
from .schema_diagnostics import GONE, RULE_UNKNOWN_KEY, schema_diagnostics, value_at
from .yaml_loader import JsonPath, LoadedYaml, excerpt, load_yaml_file, printed_otherwise

_declare = declared_in(__doc__, __name__)
RULE_NO_SCHEMA = _declare("chart-no-schema", Severity.WARNING)
RULE_CHART_SCHEMA = _declare("chart-schema")
RULE_IMPLICIT_VALUE = _declare("yaml-implicit-value", Severity.WARNING)

DEPLOYMENT_SCHEMA = "deployment.schema.json"
CONTRACT_ID = "https://modeldeploy.dev/schemas/config.schema.json"  # this repository's chart
DEPLOYMENT_KEYS = ("chart_path", "name", "repo_url", "target_revision")
SOURCE_KEYS = ("chart_path", "repo_url", "target_revision")  # what the ApplicationSet reads
RESERVED_KEYS = ("path",)
HELM3_READING = "Helm 3.18.0-3.18.4"
HELM4_READING = "Helm 4 and Helm >= 3.18.5"

if TYPE_CHECKING:  # jsonschema is imported when a document fails the fast path
    import jsonschema


@dataclass(frozen=True)
class ChartSchema:
    """What the chart a config names says about its values."""

    chart_dir: Path | None  # None: the chart did not resolve
    name: str  # Chart.yaml's name (the folder's when unreadable)
    schema: dict[str, Any] | None  # None: no (usable) values.schema.json
    contract: bool = False  # modeldeploy's own config contract: this repository's chart
    defaults: dict[str, Any] = field(default_factory=dict)  # values.yaml
    readings: tuple[tuple[str, Any], ...] = ()  # (which helms read it so, validator)
    problem: str | None = None  # why values.schema.json cannot be used (chart-schema)

    def declares(self, key: str) -> bool:
        """The chart's schema names the top-level key `key` (its keys are the chart's)."""
        return self.schema is not None and key in (self.schema.get("properties") or {})


def chart_schema(chart_dir: Path | None, other_repository: bool = False) -> ChartSchema:
    """The values contract of a config whose chart is `chart_dir` (None: unresolved; checked then
    against this repository's contract, unless it names another repository)."""
    if chart_dir is None:
        if other_repository:
            return ChartSchema(None, "", None)
        return _contract_schema()
    return _chart_schema(str(chart_dir))


@lru_cache(maxsize=1)
def _contract_schema() -> ChartSchema:
    schema = schema_store.load(schema_store.CONFIG_SCHEMA)
    return ChartSchema(None, "", schema, True, {}, (("", _contract()),))


@lru_cache(maxsize=1)
def _contract() -> jsonschema.protocols.Validator:
    validator: jsonschema.protocols.Validator = go_regex.draft7_validator(
        schema_store.load(schema_store.CONFIG_SCHEMA))
    return validator


@lru_cache(maxsize=1)
def _deployment() -> jsonschema.protocols.Validator:
    validator: jsonschema.protocols.Validator = go_regex.draft7_validator(
        schema_store.load(DEPLOYMENT_SCHEMA))
    return validator


def validator_for(chart_dir: Path | None) -> jsonschema.protocols.Validator:
    """The validator of this repository's contract (kept for callers that check one chart's values)."""
    return _contract()


@lru_cache(maxsize=64)
def _chart_schema(chart_dir: str) -> ChartSchema:
    folder = Path(chart_dir)
    name = _chart_name(folder)
    defaults = _defaults(folder)
    path = folder / "values.schema.json"
    if not os.path.isfile(path):
        return ChartSchema(folder, name, None, defaults=defaults)
    try:
        with open(path, encoding="utf-8") as handle:
            schema = json.load(handle)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        return ChartSchema(folder, name, None, defaults=defaults,
                           problem=f"is not readable JSON ({str(exc)[:200]}), so helm refuses every config "
                                   "of the chart; write valid JSON")
    if not isinstance(schema, dict):
        return ChartSchema(folder, name, None, defaults=defaults,
                           problem="is not a JSON object, so helm refuses every config of the chart; "
                                   "write a schema (a JSON object)")
    if schema.get("$id") == CONTRACT_ID and schema == schema_store.load(schema_store.CONFIG_SCHEMA):
        return replace(_contract_schema(), chart_dir=folder, name=name, defaults=defaults)  # this one's chart
    import jsonschema  # here, not at the top: a repo of this chart alone never needs it (fast path)

    if schema.get("$id") == CONTRACT_ID:  # an older or newer revision of the contract
        try:
            jsonschema.Draft7Validator.check_schema(schema)
        except jsonschema.SchemaError as exc:
            return ChartSchema(folder, name, None, defaults=defaults,
                               problem=f"is not a valid schema ({exc.message[:200]}), so helm refuses every "
                                       "config of the chart; write a valid draft-07 schema")
        return ChartSchema(folder, name, schema, True, defaults, (("", go_regex.draft7_validator(schema)),))
    remote = _remote_ref(schema)
    if remote:
        return ChartSchema(folder, name, None, defaults=defaults,
                           problem=f"refers to the remote schema {remote!r}, which helm fetches when it "
                                   "renders and modeldeploy does not, so its values are not checked; use a "
                                   "local `$ref` (`#/definitions/...`) to have them checked")
    bad_pattern = _not_go_pattern(schema)
    if bad_pattern is not None:
        return ChartSchema(folder, name, None, defaults=defaults,
                           problem=f"has the pattern {bad_pattern!r}, which Go's regexp (RE2: helm's) "
                                   "cannot compile, so helm refuses every config of the chart; write it in "
                                   "RE2 syntax (no lookaround, no backreference)")
    try:
        readings = _readings(schema)
    except jsonschema.SchemaError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "(top level)"
        who = "helm" if isinstance(schema.get("$schema"), str) else \
            f"helm ({HELM4_READING}, which read a schema without $schema as draft 2020-12, at least)"
        return ChartSchema(folder, name, None, defaults=defaults,
                           problem=f"is not a valid schema at {where} ({exc.message[:200]}), so {who} "
                                   "refuses every config of the chart; write a valid schema of its draft")
    return ChartSchema(folder, name, schema, False, defaults, readings)


_NOT_RE2 = re.compile(r"\(\?<?[=!]|\\[1-9]")


def _not_go_pattern(schema: Any) -> str | None:
    """A `pattern` (or patternProperties key) of `schema` that Go's regexp would refuse."""
    found: list[str] = []
    if isinstance(schema, dict):
        if isinstance(schema.get("pattern"), str):
            found.append(schema["pattern"])
        if isinstance(schema.get("patternProperties"), dict):
            found += [key for key in schema["patternProperties"] if isinstance(key, str)]
        for pattern in found:
            try:
                go_regex.compile_go(pattern)
            except (re.error, ValueError, RecursionError):
                return pattern
            if _NOT_RE2.search(pattern):
                return pattern
        return next((bad for value in schema.values() if (bad := _not_go_pattern(value)) is not None), None)
    if isinstance(schema, list):
        return next((bad for value in schema if (bad := _not_go_pattern(value)) is not None), None)
    return None


def _readings(schema: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
    import jsonschema

    declared = schema.get("$schema")
    if isinstance(declared, str) and declared:
        cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft7Validator)
        cls.check_schema(schema)
        old = cls in (jsonschema.Draft4Validator, jsonschema.Draft6Validator, jsonschema.Draft7Validator,
                      jsonschema.Draft3Validator)
        checker = cls.FORMAT_CHECKER if old else None
        return (("", go_regex.with_go_patterns(cls)(schema, format_checker=checker)),)
    jsonschema.Draft7Validator.check_schema(schema)
    jsonschema.Draft202012Validator.check_schema(schema)
    draft7 = go_regex.with_go_patterns(jsonschema.Draft7Validator)(
        schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)
    latest = go_regex.with_go_patterns(jsonschema.Draft202012Validator)(schema)
    return ((HELM3_READING, draft7), (HELM4_READING, latest))


def _remote_ref(schema: Any) -> str | None:
    if isinstance(schema, dict):
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith(("http://", "https://")):
            return ref
        return next((found for value in schema.values() if (found := _remote_ref(value))), None)
    if isinstance(schema, list):
        return next((found for value in schema if (found := _remote_ref(value))), None)
    return None


def _chart_name(folder: Path) -> str:
    loaded, _ = load_yaml_file(str(folder / "Chart.yaml"), "Chart.yaml")
    name = loaded.value.get("name") if loaded is not None else None
    return name if isinstance(name, str) and name else folder.name


def _defaults(folder: Path) -> dict[str, Any]:
    if not os.path.isfile(folder / "values.yaml"):
        return {}
    loaded, _ = load_yaml_file(str(folder / "values.yaml"), "values.yaml")
    return loaded.value if loaded is not None and isinstance(loaded.value, dict) else {}


def coalesce(values: dict[str, Any], defaults: dict[str, Any]) -> dict[str, Any]:
    """`values` over the chart's `defaults` as helm's CoalesceValues merges them: maps merge, a
    null in `values` deletes the default it meets."""
    merged = dict(values)
    for key, default in defaults.items():
        if key not in merged:
            merged[key] = default
        elif merged[key] is None:
            del merged[key]
        elif isinstance(merged[key], dict) and isinstance(default, dict):
            merged[key] = coalesce(merged[key], default)
    return merged


def values_problems(loaded: LoadedYaml, chart: ChartSchema, owned: tuple[JsonPath, ...]) -> list[Diagnostic]:
    """The config's problems against both contracts (the chart's schema problems aside: the core
    reports those once per chart)."""
    if chart.contract:  # this repository's chart: as before, its schema holds the deployment keys
        found = schema_diagnostics(loaded, chart.readings[0][1], owned)
        return found + _reserved(loaded, found)
    contract = schema_diagnostics(loaded, _deployment(), owned)
    if chart.chart_dir is None:
        return contract + _reserved(loaded, contract)
    problems: list[Diagnostic] = []
    if chart.schema is None:
        if chart.problem is None:
            line, column = loaded.position(("chart_path",))
            problems.append(RULE_NO_SCHEMA.at(loaded.path, line, column, (
                f"chart {chart.name} has no values.schema.json, so its values are not checked (a misspelt "
                "key goes unnoticed) while its manifests are still rendered and checked; add a "
                "values.schema.json to the chart to check them")))
        said = {(d.line, d.column) for d in contract}  # `0123`: yaml-number-form said it, an error
        problems += [d for d in _implicit_values(loaded, chart.name, DEPLOYMENT_KEYS)
                     if (d.line, d.column) not in said]
    else:
        coalesced = replace(loaded, value=coalesce(loaded.value, chart.defaults))
        readings = [schema_diagnostics(coalesced, validator, owned, chart=chart.name, source_keys=SOURCE_KEYS)
                    for _, validator in chart.readings]
        everyone = set.intersection(*(set(f) for f in readings))
        for (who, _), diagnostics in zip(chart.readings, readings, strict=True):
            for diagnostic in diagnostics:
                if diagnostic not in everyone:
                    others = " and ".join(w for w, _ in chart.readings if w != who)
                    diagnostic = replace(diagnostic, message=(
                        f"{diagnostic.message} ({who} refuse it: the schema declares no $schema; "
                        f"{others} accept it)"))
                if diagnostic not in problems:
                    problems.append(diagnostic)
    taken = {(d.line, d.column, d.rule) for d in problems}
    problems += [d for d in contract if (d.line, d.column, d.rule) not in taken]
    return problems + _reserved(loaded, problems)


_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _implicit_values(loaded: LoadedYaml, chart: str, skipped: tuple[str, ...]) -> list[Diagnostic]:
    """`yaml-implicit-value`: the unquoted values the chart's templates print otherwise than written
    (not under `skipped`, the deployment contract's keys, which its schema checks)."""
    found = []
    for path, info in loaded.nodes.items():
        if not path or (isinstance(path[0], str) and path[0] in skipped):
            continue
        value = value_at(loaded.value, path)
        if value is GONE:
            continue
        printed = printed_otherwise(info, value)
        if printed is None:
            continue
        raw = excerpt(info.raw)
        key = path[-1]
        written = f"{key}: {raw}" if isinstance(key, str) else f"- {raw}"
        quoted = f"{key}: \"{raw}\"" if isinstance(key, str) else f"- \"{raw}\""
        template = ("`{{ .Values." + ".".join(path) + " }}` prints" if all(
            isinstance(p, str) and _IDENTIFIER.fullmatch(p) for p in path) else "the chart's templates print")
        what = "boolean" if info.tag == "bool" else "number"
        shown = excerpt(printed)
        meant = f"`{key}: {shown}`" if isinstance(key, str) else f"`- {shown}`"
        tag = "" if info.tag == "bool" else f" (an image tag `:{shown}`?)"
        other = "" if "e" in printed else f" (or write {meant} if the {what} {shown} is meant)"
        found.append(RULE_IMPLICIT_VALUE.at(loaded.path, info.line, info.column, (
            f"`{written}` is read by Helm as the {what} {shown}: {template} {shown}, not {raw}{tag}; chart "
            f"{chart} has no values.schema.json to say whether text is meant: quote it: `{quoted}`{other}")))
    return found


def _reserved(loaded: LoadedYaml, problems: list[Diagnostic]) -> list[Diagnostic]:
    found = []
    for key in RESERVED_KEYS:
        if isinstance(loaded.value, dict) and key in loaded.value:
            line, column = loaded.position((key,), key=True)
            if any((d.line, d.column) == (line, column) for d in problems):
                continue
            found.append(RULE_UNKNOWN_KEY.at(loaded.path, line, column, (
                f"`{key}` is reserved: Argo CD's git files generator replaces a config key `{key}` with "
                "its own (the config file's path), so the chart would never see this value; rename it")))
    return found


def chart_schema_problem(chart: ChartSchema, display: str) -> Diagnostic | None:
    """The chart's own schema problem, once per chart, at its values.schema.json."""
    if chart.problem is None:
        return None
    return RULE_CHART_SCHEMA.at(display, 1, 1,
                                f"the values.schema.json of chart {chart.name} {chart.problem}")
