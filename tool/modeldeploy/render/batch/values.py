"""The values of one deployment in a batch: Helm's coalescing, and what may not be batched.

`.Values` of a batch slot are the deployment's values coalesced with the chart's
`values.yaml` exactly as helm does (`coalesce`), written as JSON. A deployment whose
plain scalars YAML 1.1 (Helm 3) and 1.2 read differently, or that holds nulls, NaN,
infinity, or a release name helm would refuse, is rendered alone (`batchable_values`: None).
"""

from __future__ import annotations

import json
import re
from typing import Any

from ...config.yaml_loader import LoadedYaml
from ..single import Release

MAX_RELEASE_NAME = 53
_RELEASE_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
# Plain scalars that YAML 1.1 (go-yaml v2) and YAML 1.2 read alike: JSON-like numbers,
# true/false, and text that no YAML version reads as anything but text.
_PLAIN_NUMBER = re.compile(r"^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?$")
_MAYBE_SPECIAL = re.compile(
    r"^(?:[-+]?(?:\.[0-9_]+|[0-9][0-9_]*(?:\.[0-9_]*)?)(?:[eE][-+]?[0-9]+)?"  # numbers
    r"|[-+]?0[xXoObB][0-9a-fA-F_]*"  # based integers
    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)"
    r"|[-+]?[0-9][0-9_]*(?::[0-9_]+)+(?:\.[0-9_]*)?"  # base 60
    r"|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}.*"  # timestamps
    r"|y|Y|n|N|yes|Yes|YES|no|No|NO|on|On|ON|off|Off|OFF|true|True|TRUE|false|False|FALSE"
    r"|null|Null|NULL|~|<<|=)$", re.DOTALL)


def unambiguous(loaded: LoadedYaml) -> bool:
    """True when every scalar reads the same in YAML 1.1 (Helm 3) and 1.2, and none is null."""
    for info in loaded.nodes.values():
        if info.raw is None:
            continue
        if info.tag == "null":
            return False
        if info.style is not None:  # quoted or block: text in every YAML
            if info.tag != "str":
                return False
            continue
        if info.tag == "str":
            if _MAYBE_SPECIAL.match(info.raw):
                return False
        elif info.tag == "bool":
            if info.raw not in ("true", "false"):
                return False
        elif info.tag in ("int", "float"):
            if not _PLAIN_NUMBER.match(info.raw):
                return False
        else:
            return False
    return True


def coalesce(defaults: dict[str, Any], values: dict[str, Any]) -> dict[str, Any] | None:
    """helm's CoalesceValues(chart, values) for a chart without dependencies (values win).

    Shares unchanged parts with its inputs: serialize it, do not mutate it. None when
    a table meets a non-table (helm warns and picks one: left to helm alone).
    """
    result = dict(values)
    for key, default in defaults.items():
        if key not in result:
            result[key] = default
        elif isinstance(default, dict) or isinstance(result[key], dict):
            if not (isinstance(default, dict) and isinstance(result[key], dict)):
                return None
            merged = coalesce(default, result[key])
            if merged is None:
                return None
            result[key] = merged
    return result


def _json_values(value: Any) -> str | None:
    try:
        return json.dumps(value, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError):
        return None


def batchable_values(release: Release, defaults: dict[str, Any]) -> str | None:
    """The deployment's `.Values` (coalesced with the chart's `defaults`), release name and
    namespace as one JSON item of the wrapper's list, or None to render it alone."""
    loaded = release.loaded
    if not isinstance(loaded.value, dict) or not unambiguous(loaded):
        return None
    name = release.name
    if len(name) > MAX_RELEASE_NAME or not _RELEASE_NAME.fullmatch(name):
        return None
    values = coalesce(defaults, loaded.value)
    encoded = None if values is None else _json_values(values)  # None for NaN, infinity
    if encoded is None:
        return None
    return f'{{"v":{encoded},"n":{json.dumps(name)},"ns":{json.dumps(release.namespace)}}}'
