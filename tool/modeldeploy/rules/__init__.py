"""The rules: the registry of every rule id (registry.py), and the semantic config rules,
one module per rule, named after its id.

Rule id -> module: replace `-` with `_`, except the two canary rules
(`canary-traffic-percent` -> canary_traffic_percent.py, `canary-raw-deployment` ->
canary_deployment_mode.py). YAML-level ids (`yaml-*`) live in config/yaml_loader.py,
schema ids (`schema-*`, `yaml-implicit-type`, `yaml-number-form`) in config/schema_diagnostics.py,
`yaml-implicit-value` (charts without a schema) in config/values_schema.py,
rendering and manifest ids in render/ and manifests/; registry.py collects them all and
docs/rules.md, generated from it, lists them.

Imports inside the package go down these layers (`|`: independent; lint-imports checks it; a line
ending with `|` goes on):

    registry
    canary_deployment_mode | canary_traffic_percent | chart_path | deployment_mode_not_rendered |
        directory_name | duplicate_deployment | mutable_tag | name_length | release_name
    canary_not_rendered | name_format
    base
"""

from __future__ import annotations

from types import ModuleType

from . import (
    canary_deployment_mode,
    canary_not_rendered,
    canary_traffic_percent,
    chart_path,
    deployment_mode_not_rendered,
    directory_name,
    mutable_tag,
    name_format,
    name_length,
    release_name,
)
from .base import RuleContext

# The semantic rules, in the order they check a config (duplicate_deployment.py checks a set).
SEMANTIC_RULES: tuple[ModuleType, ...] = (
    chart_path,
    name_format,
    name_length,
    release_name,
    canary_traffic_percent,
    canary_deployment_mode,
    mutable_tag,
    directory_name,
)

# The rules that compare a config with what its chart rendered:
# check_rendered(loaded, objects, chart name, release namespace).
RENDER_RULES: tuple[ModuleType, ...] = (canary_not_rendered, deployment_mode_not_rendered, name_length)

OWNED_PATHS = tuple(path for rule in SEMANTIC_RULES for path in rule.OWNS)

__all__ = ["OWNED_PATHS", "RENDER_RULES", "SEMANTIC_RULES", "RuleContext"]
