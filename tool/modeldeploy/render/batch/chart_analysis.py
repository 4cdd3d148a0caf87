"""Can this chart be rendered in batches, and why not: `plan_chart` reads it once per run.

Everything the wrapper chart (wrapper.py) cannot reproduce exactly is refused, conservatively:
`.Files`, `lookup`, `tpl`, `.Subcharts`, dependencies, hooks, NOTES.txt, `define` outside
partials, methods of `.Values`, `.Release`/`.Template` fields helm does not set the same way,
a `.helmignore` touching templates, a `values.yaml` whose scalars YAML 1.1 and 1.2 read
differently. Such a chart renders one helm process per deployment.
"""

from __future__ import annotations

import copy
import fnmatch
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ...config.yaml_loader import load_yaml_text
from .values import unambiguous

_RELEASE_FIELDS = ("Name", "Namespace", "Service", "IsInstall", "IsUpgrade", "Revision")
# What the wrapper cannot reproduce; matched against every template, partials included.
_UNSUPPORTED = (
    (re.compile(r"\.Files\b"), ".Files"),
    (re.compile(r"\.Subcharts\b"), ".Subcharts"),
    (re.compile(r"\blookup\b"), "lookup"),
    (re.compile(r"\btpl\b"), "tpl"),
    (re.compile(r"\bgetHostByName\b"), "getHostByName"),
    (re.compile(r"helm\.sh/hook"), "hooks"),
    (re.compile(r"\.(AsMap|Table|YAML|Encode|PathValue)\b"), "methods of .Values"),
    (re.compile(rf"\.Release\b(?!\.(?:{'|'.join(_RELEASE_FIELDS)})\b)"), "other uses of .Release"),
    (re.compile(r"\.Template\b(?!\.(?:Name|BasePath)\b)"), "other uses of .Template"),
)
_DEFINE = re.compile(r"\{\{-?\s*(define|block)\b")


@dataclass
class ChartPlan:
    """How to batch one chart, or why not (`reason`)."""

    chart_dir: Path
    reason: str | None = None
    name: str = ""
    chart_yaml: bytes = b""
    defaults: dict[str, Any] = field(default_factory=dict)
    schema: dict[str, Any] | None = None
    partials: list[tuple[str, bytes]] = field(default_factory=list)  # path under templates/
    templates: list[tuple[str, str]] = field(default_factory=list)

    @property
    def batchable(self) -> bool:
        return self.reason is None


def plan_chart(chart_dir: Path) -> ChartPlan:
    plan = ChartPlan(chart_dir)
    try:
        plan.reason = _analyze(plan)
    except (OSError, UnicodeDecodeError, ValueError, yaml.YAMLError) as exc:
        plan.reason = f"cannot read the chart: {exc}"
    return plan


def _analyze(plan: ChartPlan) -> str | None:
    root = plan.chart_dir
    plan.chart_yaml = (root / "Chart.yaml").read_bytes()
    metadata = yaml.safe_load(plan.chart_yaml)
    if not isinstance(metadata, dict) or not isinstance(metadata.get("name"), str):
        return "Chart.yaml has no name"
    plan.name = metadata["name"]
    if metadata.get("dependencies") or (root / "requirements.yaml").exists():
        return "the chart has dependencies"
    for folder in ("charts", "crds"):
        if (root / folder).exists():
            return f"the chart has a {folder}/ folder"
    if any(path.is_symlink() for path in root.rglob("*")):
        return "the chart has symbolic links"
    ignore = _helmignore(root)
    templates_dir = root / "templates"
    for path in sorted(p for p in templates_dir.rglob("*") if p.is_file()):
        rel = path.relative_to(templates_dir).as_posix()
        if not rel.isascii() or '"' in rel or "\\" in rel:
            return f"template name {rel!r}"
        if any(_ignored(pattern, f"templates/{rel}") for pattern in ignore):
            return f".helmignore matches templates/{rel}"
        if path.name == "NOTES.txt" or path.name.endswith("NOTES.txt"):
            return "the chart has NOTES.txt"
        data = path.read_bytes()
        text = data.decode("utf-8")
        for pattern, what in _UNSUPPORTED:
            if pattern.search(text):
                return f"templates/{rel} uses {what}"
        if path.name.startswith("_"):
            plan.partials.append((rel, data))
        elif _DEFINE.search(text):
            return f"templates/{rel} defines templates outside a partial"
        else:
            plan.templates.append((rel, text))
    plan.defaults, reason = _chart_defaults(root)
    if reason:
        return reason
    schema_file = root / "values.schema.json"
    if schema_file.exists():
        plan.schema, reason = _list_schema(json.loads(schema_file.read_text(encoding="utf-8")))
        if reason:
            return reason
    return None


def _helmignore(root: Path) -> list[str]:
    path = root / ".helmignore"
    if not path.is_file():
        return []
    patterns = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            patterns.append(line)
    return patterns


def _ignored(pattern: str, rel: str) -> bool:
    """Conservative: True whenever the pattern might match the file or a folder above it."""
    if pattern.startswith("!"):
        return True
    pattern = pattern.strip("/")
    parts = rel.split("/")
    candidates = parts + ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
    return any(fnmatch.fnmatch(candidate, pattern) for candidate in candidates)


def _chart_defaults(root: Path) -> tuple[dict[str, Any], str | None]:
    path = root / "values.yaml"
    if not path.is_file():
        return {}, None
    text = path.read_text(encoding="utf-8")
    if not yaml.safe_load(text):  # empty, or comments only
        return {}, None
    loaded, problems = load_yaml_text("values.yaml", text)
    if loaded is None or problems:
        return {}, "the chart's values.yaml is not a plain mapping"
    if not unambiguous(loaded):
        return {}, "the chart's values.yaml has values YAML versions read differently"
    return loaded.value, None


def _list_schema(schema: Any) -> tuple[dict[str, Any] | None, str | None]:
    """The chart's values schema applied to each item's `v` of the batch list."""
    if not isinstance(schema, dict):
        return None, "values.schema.json is not an object"
    schema = copy.deepcopy(schema)
    root: dict[str, Any] = {}
    for key in ("$schema",):
        if key in schema:
            root[key] = schema.pop(key)
    schema.pop("$id", None)
    definitions = {key: schema.pop(key) for key in ("definitions", "$defs") if key in schema}
    text = json.dumps(schema)
    if '"$id"' in json.dumps(definitions) or '"$id"' in text or '"$dynamicRef"' in text \
            or '"$recursiveRef"' in text:
        return None, "values.schema.json uses $id or dynamic references"
    item_pointer = "#/definitions/__mdb_values"

    def rewrite(node: Any, in_definitions: bool) -> Any:
        if isinstance(node, dict):
            out = {}
            for key, value in node.items():
                if key == "$ref" and isinstance(value, str):
                    if not value.startswith("#"):
                        raise ValueError(f"values.schema.json refers outside itself: {value}")
                    if value in ("#", "#/"):
                        value = item_pointer
                    elif not value.startswith(("#/definitions/", "#/$defs/")):
                        value = item_pointer + value[1:]
                out[key] = rewrite(value, in_definitions)
            return out
        if isinstance(node, list):
            return [rewrite(item, in_definitions) for item in node]
        return node

    try:
        item = rewrite(schema, False)
        definitions = {k: rewrite(v, True) for k, v in definitions.items()}
    except ValueError as exc:
        return None, str(exc)
    definitions.setdefault("definitions", {})["__mdb_values"] = item
    root.update(definitions)
    root.update({"type": "object", "properties": {"__mdb": {"type": "array", "items": {
        "type": "object", "properties": {"v": {"$ref": item_pointer}}}}}})
    return root, None
