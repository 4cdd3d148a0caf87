"""Which deployments a change between two refs touches: pure functions of path sets.

A deployment is affected, and rendered on both sides, when
- its config.yaml was added, removed or changed ("config");
- its environment's environment.yaml changed ("environment");
- a file under its chart folder changed, or under the chart's top folder (e.g.
  charts/) outside every chart in use, such as a shared library chart ("chart");
- anything under schemas/ changed ("schemas").
With the charts outside the repository (`--charts-root`), only config and environment
changes count. A config removed and another added in the same environment with the same
`name` are one deployment that moved (`pair_configs`).
Paths are repository-relative, with `/`.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

import yaml

from ..config.discovery import CONFIG_FILENAME, DEPLOYMENTS_DIRNAME, ENVIRONMENT_FILENAME
from ..diagnostics import ToolError
from ..fast_yaml import SafeLoader

SCHEMAS_DIRNAME = "schemas"
REASON_CONFIG, REASON_ENVIRONMENT, REASON_CHART, REASON_SCHEMAS = "config", "environment", "chart", "schemas"


class ConfigsAtRef(Protocol):
    """The affected configs of one side, and the values of those that load."""

    @property
    def configs(self) -> set[str]: ...
    @property
    def values(self) -> Mapping[str, dict[str, Any]]: ...


def is_config(path: str) -> bool:
    parts = path.split("/")
    return (len(parts) >= 3 and parts[0] == DEPLOYMENTS_DIRNAME and parts[-1] == CONFIG_FILENAME
            and not any(p.startswith(".") for p in parts))


def env_dir(config: str) -> str:
    return posixpath.dirname(posixpath.dirname(config))


def chart_folder(chart_path: Any) -> str | None:
    """`chart_path` as a normalised repository-relative folder; None when it cannot be one."""
    if not isinstance(chart_path, str) or not chart_path or posixpath.isabs(chart_path):
        return None
    folder = posixpath.normpath(chart_path)
    if folder == "." or folder.split("/")[0] == "..":
        return None
    return folder


def affected_configs(changed: Iterable[str], base_configs: set[str], head_configs: set[str],
                     chart_folders: Callable[[], dict[str, str]] | None) -> dict[str, set[str]]:
    """config path -> the reasons it must be rendered again (see the module doc).

    `chart_folders` maps configs to their chart folder; None when the charts live
    outside the repository (--charts-root), so chart changes in it do not count.
    """
    every = base_configs | head_configs
    affected: dict[str, set[str]] = {}
    by_env: dict[str, list[str]] = {}
    for config in every:
        by_env.setdefault(env_dir(config), []).append(config)
    outside: list[str] = []
    for path in sorted(set(changed)):
        if path in every:
            affected.setdefault(path, set()).add(REASON_CONFIG)
        elif path.startswith(DEPLOYMENTS_DIRNAME + "/"):
            if posixpath.basename(path) == ENVIRONMENT_FILENAME:
                for config in by_env.get(posixpath.dirname(path), ()):
                    affected.setdefault(config, set()).add(REASON_ENVIRONMENT)
        else:
            outside.append(path)
    if any(p == SCHEMAS_DIRNAME or p.startswith(SCHEMAS_DIRNAME + "/") for p in outside):
        for config in every:
            affected.setdefault(config, set()).add(REASON_SCHEMAS)
    if outside and chart_folders is not None:
        users: dict[str, list[str]] = {}
        for config, folder in chart_folders().items():
            users.setdefault(folder, []).append(config)
        for folder in _touched_folders(outside, users.keys()):
            for config in users[folder]:
                affected.setdefault(config, set()).add(REASON_CHART)
    return affected


def _touched_folders(changed: list[str], folders: Iterable[str]) -> set[str]:
    folders = list(folders)
    touched: set[str] = set()
    for path in changed:
        inside = {f for f in folders if path.startswith(f + "/")}
        if not inside and "/" in path:
            # Under the charts' top folder but in no chart in use: a library chart, a
            # file://../ dependency: every chart below that top folder may include it.
            top = path.split("/", 1)[0]
            inside = {f for f in folders if f.startswith(top + "/")}
        touched |= inside
    return touched


def pair_configs(affected: dict[str, set[str]], base: ConfigsAtRef, head: ConfigsAtRef,
                 ) -> list[tuple[str | None, str | None, tuple[str, ...]]]:
    """(base path, head path, reasons) per deployment; a move pairs a removed and an added config.

    A move is the same environment and the same `name` on both sides, and only
    when that match is unique; otherwise the configs stay removed and added.
    """
    removed = [p for p in sorted(affected) if p in base.configs and p not in head.configs]
    added = [p for p in sorted(affected) if p in head.configs and p not in base.configs]
    removed_by_key = _by_identity(removed, base.values)
    added_by_key = _by_identity(added, head.values)
    moves = {removed_by_key[k][0]: added_by_key[k][0] for k in removed_by_key.keys() & added_by_key.keys()
             if len(removed_by_key[k]) == 1 and len(added_by_key[k]) == 1}
    moved_to = set(moves.values())
    pairs: list[tuple[str | None, str | None, tuple[str, ...]]] = []
    for path in sorted(affected):
        if path in moved_to:
            continue
        if path in moves:
            reasons = affected[path] | affected[moves[path]]
            pairs.append((path, moves[path], tuple(sorted(reasons))))
            continue
        pairs.append((path if path in base.configs else None, path if path in head.configs else None,
                      tuple(sorted(affected[path]))))
    return pairs


def _by_identity(paths: list[str], values: Mapping[str, dict[str, Any]]) -> dict[tuple[str, str], list[str]]:
    grouped: dict[tuple[str, str], list[str]] = {}
    for path in paths:
        name = values.get(path, {}).get("name")
        if isinstance(name, str):
            grouped.setdefault((env_dir(path), name), []).append(path)
    return grouped


def path_filter(paths: Sequence[str], cwd: Path, root: Path, configs: set[str]) -> Callable[[str], bool]:
    """A predicate keeping the configs at or under the PATH arguments (repository-relative)."""
    prefixes = []
    for raw in paths:
        absolute = os.path.realpath(cwd / raw)
        relative = os.path.relpath(absolute, root)
        if relative == os.pardir or relative.startswith(os.pardir + os.sep):
            raise ToolError(f"{raw}: outside the repository {root}")
        prefix = "" if relative == os.curdir else Path(relative).as_posix()
        if not any(under(config, prefix) for config in configs):
            raise ToolError(f"{raw}: names no {CONFIG_FILENAME} at either ref (nor in the working tree)")
        prefixes.append(prefix)
    return lambda config: any(under(config, prefix) for prefix in prefixes)


def under(path: str, prefix: str) -> bool:
    return not prefix or path == prefix or path.startswith(prefix + "/")


def configs_in(files: set[str]) -> set[str]:
    return {f for f in files if is_config(f)}


def with_environments(configs: list[str], files: set[str]) -> list[str]:
    environments = {f"{env_dir(c)}/{ENVIRONMENT_FILENAME}" for c in configs}
    return sorted({*configs, *(e for e in environments if e in files)})


@lru_cache(maxsize=1 << 14)  # diff asks for each base config twice: which charts, what to extract
def chart_folder_of(blob: bytes) -> str | None:
    """The chart folder a config file's bytes name (chart_folder of its chart_path)."""
    return chart_folder(chart_path_of(blob))


def chart_path_of(blob: bytes) -> Any:
    try:
        values = yaml.load(blob, Loader=SafeLoader)
    except yaml.YAMLError:
        return None
    return values.get("chart_path") if isinstance(values, dict) else None
