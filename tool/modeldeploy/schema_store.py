"""The project's own JSON schemas: the config contract, the environment and repository settings.

They live in the repo's schemas/ folder, which ships inside the installed package
as modeldeploy/_schemas; from a source checkout the folder itself is used.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

CONFIG_SCHEMA = "config.schema.json"
ENVIRONMENT_SCHEMA = "environment.schema.json"
SETTINGS_SCHEMA = "settings.schema.json"  # .modeldeploy.yaml; generated from the rule registry


def schemas_dir() -> Path:
    try:
        # _schemas has no __init__.py: files() is a MultiplexedPath whose str() is no file
        # path, but joining a name onto it gives a real one.
        packaged = resources.files("modeldeploy._schemas") / CONFIG_SCHEMA
        if packaged.is_file():
            return Path(str(packaged)).parent
    except ModuleNotFoundError:
        pass
    return Path(__file__).resolve().parents[2] / "schemas"


@cache
def load(name: str) -> dict[str, Any]:
    with open(schemas_dir() / name, encoding="utf-8") as handle:
        schema: dict[str, Any] = json.load(handle)
    return schema
