"""Per-environment settings: `model-deployments/<env>/environment.yaml`.

Optional. Without it (or without its `namespace:`) the namespace is the environment's
directory name, and the environment counts as production when that name is `prod` or
`production`. Rule ids:
- `environment-namespace`: the namespace taken from the folder's name is not a valid
  Kubernetes namespace (a DNS-1123 label: at most 63 lower-case letters, digits and `-`,
  starting and ending with a letter or digit), e.g. `Staging.EU`, `my env`, `-lead`; the fix
  is an environment.yaml with a valid `namespace:`, or another folder name. A namespace
  written in environment.yaml is checked by its schema (`schema-pattern`, `schema-range`).
  Either way no config of that environment is rendered;
- `io` (as for config files): an environment.yaml that exists but is not a readable regular
  file (a dangling symlink, a directory, a FIFO, a device) is an error, never silently skipped:
  the namespace and the production flag would silently change.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from .. import schema_store
from ..diagnostics import Diagnostic, Severity, declared_in
from . import go_regex
from .discovery import ENVIRONMENT_FILENAME, display_path, outside_repository
from .schema_diagnostics import schema_diagnostics
from .yaml_loader import RULE_IO, excerpt, load_yaml_file

if TYPE_CHECKING:  # jsonschema is imported when a document fails the fast path
    import jsonschema

PRODUCTION_NAMES = frozenset({"prod", "production"})
_declare = declared_in(__doc__, __name__)
RULE_NAMESPACE = _declare("environment-namespace")
DNS_1123_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")  # fullmatch, at most 63 characters
NAMESPACE_MAX = 63


@dataclass(frozen=True)
class Environment:
    name: str
    namespace: str
    production: bool
    settings_path: str | None  # the environment.yaml, when there is one


@lru_cache(maxsize=1)
def _validator() -> jsonschema.protocols.Validator:
    # patterns match as in Go (`$` is the end of the text): "team-a-test\n" is no namespace
    validator: jsonschema.protocols.Validator = go_regex.draft7_validator(
        schema_store.load(schema_store.ENVIRONMENT_SCHEMA))
    return validator


# Applies the run's rule settings to the diagnostics of a file (or folder), given its text:
# checks/settings.py's, passed in so that what the settings leave decides which values count.
Settle = Callable[[Path, list[Diagnostic], "str | None"], list[Diagnostic]]


def _as_reported(path: Path, problems: list[Diagnostic], text: str | None) -> list[Diagnostic]:
    return problems


def load_environment(env_dir: Path, cwd: Path, settle: Settle = _as_reported,
                     ) -> tuple[Environment, list[Diagnostic]]:
    """The environment of `env_dir` and its problems, settled. Its values count when no error is
    left; one of the wrong type (its rule turned off or down) is ignored: the default applies."""
    name = env_dir.name
    default = Environment(name, name, name in PRODUCTION_NAMES, None)
    settings = env_dir / ENVIRONMENT_FILENAME
    if not os.path.lexists(settings):
        return default, settle(env_dir, _folder_namespace_problems(env_dir, cwd), None)
    shown = display_path(settings, cwd)
    kind = _not_a_file(settings)  # stat only: nothing is read
    if kind:
        return default, [RULE_IO.at(shown, 1, 1,
                                    f"{ENVIRONMENT_FILENAME} is {kind} so the environment's "
                                    "namespace and production setting cannot be read; make it a plain text "
                                    "file such as `namespace: team-a-test`, or delete it")]
    refused = outside_repository(settings)  # before anything is read from it
    if refused is not None:
        return default, [RULE_IO.at(shown, 1, 1, refused)]
    loaded, problems = load_yaml_file(str(settings), shown)
    if loaded is None:
        return default, settle(settings, problems, None)
    problems = settle(settings, problems + schema_diagnostics(loaded, _validator()), loaded.text)
    if any(d.severity is Severity.ERROR for d in problems):
        return default, problems
    values = loaded.value
    namespace = values.get("namespace")
    production = values.get("production")
    if not isinstance(namespace, str):
        problems += settle(env_dir, _folder_namespace_problems(env_dir, cwd), None)
    return Environment(
        name=name,
        namespace=namespace if isinstance(namespace, str) else name,
        production=production if isinstance(production, bool) else name in PRODUCTION_NAMES,
        settings_path=shown,
    ), problems


def _not_a_file(path: Path) -> str | None:
    """What `path` is when it exists but is not a regular file to read, else None."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return f"a symbolic link to {excerpt(os.readlink(path))!r}, which does not exist,"
    except OSError as exc:  # a symlink loop, a path too long
        return f"unreadable ({exc.strerror})"
    if stat.S_ISDIR(mode):
        return "a directory, not a file,"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO), not a regular file,"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device, not a regular file,"
    if stat.S_ISSOCK(mode):
        return "a socket, not a regular file,"
    return None if stat.S_ISREG(mode) else "not a regular file,"


def _folder_namespace_problems(env_dir: Path, cwd: Path) -> list[Diagnostic]:
    """The folder's name stands for the namespace: it must be a valid one."""
    name = env_dir.name
    if len(name) <= NAMESPACE_MAX and DNS_1123_LABEL.fullmatch(name):
        return []
    fixed = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:NAMESPACE_MAX].rstrip("-") or "team-a-test"
    return [RULE_NAMESPACE.at(
        display_path(env_dir, cwd), 1, 1,
        f"the environment folder {excerpt(name)!r} is used as the Kubernetes namespace, and it is "
        f"not a valid one (a DNS-1123 label: at most {NAMESPACE_MAX} lower-case letters, digits "
        f"and '-', starting and ending with a letter or digit); add an {ENVIRONMENT_FILENAME} "
        f"to this folder with e.g. `namespace: {fixed}`, or rename the folder to {fixed!r}")]
