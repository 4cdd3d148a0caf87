"""Finding config files, their environment and the repository they live in.

Layout: `<repo>/model-deployments/<env>/<name>/config.yaml`, with optional
per-environment settings in `<repo>/model-deployments/<env>/environment.yaml`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .diagnostics import ToolError

CONFIG_FILENAME = "config.yaml"
ENVIRONMENT_FILENAME = "environment.yaml"
DEPLOYMENTS_DIRNAME = "model-deployments"


@dataclass(frozen=True, order=True)
class ConfigFile:
    display: str  # as reported: relative to the working directory when inside it
    path: Path  # absolute

    @property
    def deployment_dir(self) -> Path:
        return self.path.parent

    @property
    def env_dir(self) -> Path:
        return self.path.parent.parent

    @property
    def env(self) -> str:
        return self.env_dir.name


def display_path(path: Path, cwd: Path) -> str:
    try:
        return str(path.relative_to(cwd))
    except ValueError:
        return str(path)


def find_repo_root(start: Path) -> Path | None:
    """The nearest ancestor holding .git (a directory, or a file in worktrees)."""
    for candidate in [start, *start.parents]:
        if (candidate / ".git").exists():
            return candidate
    return None


def default_charts_root(config_path: Path) -> Path | None:
    """The repository root of the config; outside git, the folder above model-deployments/."""
    root = find_repo_root(config_path.parent)
    if root is not None:
        return root
    for candidate in config_path.parents:
        if candidate.name == DEPLOYMENTS_DIRNAME:
            return candidate.parent
    return None


def default_paths(cwd: Path) -> list[str]:
    root = find_repo_root(cwd) or cwd
    deployments = root / DEPLOYMENTS_DIRNAME
    if not deployments.is_dir():
        raise ToolError(f"no PATH given and no {DEPLOYMENTS_DIRNAME}/ folder in {root}; "
                        "name config files or folders to check")
    return [str(deployments)]


def find_configs(paths: list[str], cwd: Path) -> list[ConfigFile]:
    """Config files named by `paths` (files as given, folders searched for */config.yaml)."""
    found: dict[Path, ConfigFile] = {}
    for raw in paths:
        path = (cwd / raw) if not os.path.isabs(raw) else Path(raw)
        if path.is_file():
            absolute = Path(os.path.abspath(path))
            found[absolute] = ConfigFile(display_path(absolute, cwd), absolute)
        elif path.is_dir():
            for config in _walk(path):
                absolute = Path(os.path.abspath(config))
                found[absolute] = ConfigFile(display_path(absolute, cwd), absolute)
        else:
            raise ToolError(f"{raw}: no such file or directory")
    return sorted(found.values())


def _walk(root: Path) -> list[Path]:
    configs = []
    for current, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        if CONFIG_FILENAME in files and Path(current) != root:
            configs.append(Path(current) / CONFIG_FILENAME)
    return configs


@lru_cache(maxsize=4096)  # a repo has few charts and many configs naming the same one
def resolve_chart(charts_root: Path, chart_path: str) -> tuple[Path | None, str | None]:
    """The chart folder `chart_path` names under `charts_root`, or why it names none.

    Refuses absolute paths and anything that leaves the charts root, including
    through `..` or a symlink, so a config cannot render a chart from elsewhere.
    """
    if os.path.isabs(chart_path):
        return None, "is an absolute path; give it relative to the charts root"
    if ".." in Path(chart_path).parts:
        return None, "contains `..`; it must stay inside the charts root"
    root = charts_root.resolve()
    candidate = (charts_root / chart_path).resolve()
    if not candidate.is_relative_to(root):
        return None, f"leads outside the charts root {charts_root} (through a symlink)"
    if not candidate.is_dir():
        return None, f"names no folder under the charts root {charts_root}"
    if not (candidate / "Chart.yaml").is_file():
        return None, f"names a folder without Chart.yaml under the charts root {charts_root}"
    return candidate, None
