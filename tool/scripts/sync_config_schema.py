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
        f"{header}\n" + "\n".join(_rows(environment)) + "\n\n"
        + EDITOR_SECTION
    )


# The yaml-language-server modeline (VS Code's YAML extension, Neovim, Helix, Zed...): a comment
# the loaders ignore, so it never changes what Helm, Argo CD or modeldeploy read.
EDITOR_SECTION = """\
## Editor support

Editors that use the YAML language server validate and complete a file against the
schema its modeline names. Put it on the first line (the examples under
`model-deployments/` do):

```yaml
# yaml-language-server: $schema=../../../charts/model-deployment/music-transformer/values.schema.json
---
chart_path: charts/model-deployment/music-transformer
```

- `config.yaml`: the `values.schema.json` of the chart that renders it (a byte-identical
  copy of `schemas/config.schema.json`), by a path relative to the file, so the editor
  checks against the same schema as Helm, Argo CD and modeldeploy;
- `environment.yaml`: `schemas/environment.schema.json` of this repository, e.g.
  `# yaml-language-server: $schema=../../schemas/environment.schema.json`; in a GitOps
  repository without it, a copy or a URL of that file at the modeldeploy release you use.

The editor reads YAML 1.2, Helm (go-yaml v2) YAML 1.1: `version: 1234e56` or `0123` is a
number for both (the editor flags it), but `name: on` or `yes` is text for the editor and a
boolean for Helm, so `modeldeploy validate` stays the check that counts.
"""


def main(argv: list[str] | None = None) -> int:
    return generator_main(__doc__.splitlines()[0],
                          lambda: {CHART_COPY: SOURCE.read_text(), REFERENCE: reference()},
                          "./noxw -s schemas", argv)


if __name__ == "__main__":
    raise SystemExit(main())
