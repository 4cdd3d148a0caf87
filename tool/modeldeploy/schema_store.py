"""The project's own JSON schemas: the config contract, the environment and repository settings.

They live in the repo's schemas/ folder, which ships inside the installed package
as modeldeploy/_schemas; from a source checkout the folder itself is used.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

CONFIG_SCHEMA = "config.schema.json"
ENVIRONMENT_SCHEMA = "environment.schema.json"
SETTINGS_SCHEMA = "settings.schema.json"  # .modeldeploy.yaml; generated from the rule registry


def schemas_dir() -> Path:
    # The wheel's copy beside this module, else the source tree's schemas/ (a checkout run
    # from tool/). A plain path, not importlib.resources: the readers need a real file, and
    # that import costs every run's start-up ~4 ms.
    packaged = Path(__file__).parent / "_schemas"
    if (packaged / CONFIG_SCHEMA).is_file():
        return packaged
    return Path(__file__).resolve().parents[2] / "schemas"


@cache
def load(name: str) -> dict[str, Any]:
    with open(schemas_dir() / name, encoding="utf-8") as handle:
        schema: dict[str, Any] = json.load(handle)
    return schema
