"""Derive the chart's values.schema.json and docs/config-reference.md from schemas/.

schemas/config.schema.json is the single source of truth for the config contract.
The chart carries a byte-identical copy (helm and Argo CD validate values with it)
and the config reference is generated from it. `--check` exits 1 when either
derived file is stale (the tests run it).

    python tool/scripts/sync_config_schema.py [--check]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))  # run as a script or loaded by tests
from derived_files import main as generator_main

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "schemas" / "config.schema.json"
ENV_SOURCE = ROOT / "schemas" / "environment.schema.json"
CHART_COPY = ROOT / "charts" / "model-deployment" / "music-transformer" / "values.schema.json"
REFERENCE = ROOT / "docs" / "config-reference.md"


def _type_of(prop: dict[str, Any], definitions: dict[str, Any]) -> str:
    if "$ref" in prop:
        prop = definitions[prop["$ref"].split("/")[-1]]
    if "enum" in prop:
        return " \\| ".join(f"`{v}`" for v in prop["enum"])
    kind = prop.get("type", "any")
    if kind == "integer" and "minimum" in prop and "maximum" in prop:
        return f"integer {prop['minimum']}..{prop['maximum']}"
    return str(kind)


def _rows(schema: dict[str, Any], prefix: str = "") -> list[str]:
    definitions = schema.get("definitions", {})
    rows = []
    required = set(schema.get("required", []))
    for key, prop in schema.get("properties", {}).items():
        if "$ref" in prop:
            prop = {**definitions[prop["$ref"].split("/")[-1]], **{k: v for k, v in prop.items()
                                                                  if k != "$ref"}}
        name = f"{prefix}{key}"
        default = f"`{json.dumps(prop['default'])}`" if "default" in prop else (
            "required" if key in required else "")
        example = f"`{json.dumps(prop['examples'][0])}`" if prop.get("examples") else ""
        description = " ".join(str(prop.get("description", "")).split())
        rows.append(f"| `{name}` | {_type_of(prop, definitions)} | {default} | {example} | {description} |")
        if prop.get("type") == "object" and "properties" in prop:
            nested = {"properties": prop["properties"], "definitions": definitions,
                      "required": prop.get("required", [])}
            rows.extend(_rows(nested, prefix=f"{name}."))
    return rows


def reference() -> str:
    config = json.loads(SOURCE.read_text())
    environment = json.loads(ENV_SOURCE.read_text())
    header = "| key | type | default | example | description |\n|---|---|---|---|---|"
    return (
        "# Config reference\n\n"
        "Generated from `schemas/config.schema.json` and `schemas/environment.schema.json` by\n"
        "`./noxw -s schemas`; do not edit by hand (a test fails when it is stale).\n\n"
        "## `model-deployments/<env>/<name>/config.yaml`\n\n"
        f"{' '.join(config['description'].split())}\nUnknown keys are errors.\n\n"
        f"{header}\n" + "\n".join(_rows(config)) + "\n\n"
        "## `model-deployments/<env>/environment.yaml` (optional)\n\n"
        f"{' '.join(environment['description'].split())}\n\n"
        f"{header}\n" + "\n".join(_rows(environment)) + "\n"
    )


def main(argv: list[str] | None = None) -> int:
    return generator_main(__doc__.splitlines()[0],
                          lambda: {CHART_COPY: SOURCE.read_text(), REFERENCE: reference()},
                          "./noxw -s schemas", argv)


if __name__ == "__main__":
    raise SystemExit(main())
