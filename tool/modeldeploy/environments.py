"""Per-environment settings: `model-deployments/<env>/environment.yaml`.

Optional. Without it the namespace is the environment's directory name, and the
environment counts as production when that name is `prod` or `production`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import jsonschema

from . import schema_store
from .diagnostics import Diagnostic, error
from .discovery import ENVIRONMENT_FILENAME, display_path, outside_repository
from .schema_diagnostics import schema_diagnostics
from .yaml_loader import RULE_IO, load_yaml_file

PRODUCTION_NAMES = frozenset({"prod", "production"})


@dataclass(frozen=True)
class Environment:
    name: str
    namespace: str
    production: bool
    settings_path: str | None  # the environment.yaml, when there is one


@lru_cache(maxsize=1)
def _validator() -> jsonschema.protocols.Validator:
    return jsonschema.Draft7Validator(schema_store.load(schema_store.ENVIRONMENT_SCHEMA))


def load_environment(env_dir: Path, cwd: Path) -> tuple[Environment, list[Diagnostic]]:
    name = env_dir.name
    default = Environment(name, name, name in PRODUCTION_NAMES, None)
    settings = env_dir / ENVIRONMENT_FILENAME
    if not settings.is_file():
        return default, []
    shown = display_path(settings, cwd)
    refused = outside_repository(settings)
    if refused is not None:
        return default, [error(shown, 1, 1, refused, RULE_IO)]
    loaded, problems = load_yaml_file(str(settings), shown)
    if loaded is None:
        return default, problems
    problems += schema_diagnostics(loaded, _validator())
    if problems:
        return default, problems
    values = loaded.value
    return Environment(
        name=name,
        namespace=values.get("namespace", name),
        production=values.get("production", name in PRODUCTION_NAMES),
        settings_path=shown,
    ), []

