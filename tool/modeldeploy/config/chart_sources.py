"""Where the chart a config names comes from: its chart source, as an ApplicationSet reads it.

A config's `repo_url` and `target_revision` (schemas/deployment.schema.json) name the chart's
repository and revision, with the ApplicationSet's defaults when it names none. A repository's
`.modeldeploy.yaml` maps each `repo_url` to a local checkout of it:

    chart_sources:
      default_repo_url: https://git.example.com/team-a/mlops-helmcharts.git
      default_target_revision: main
      repositories:
        - repo_url: https://git.example.com/team-a/mlops-helmcharts.git
          path: ../mlops-helmcharts          # relative to the repository holding the configs
        - repo_url: https://git.example.com/team-a/jukebox-ui.git
          path: ../jukebox-ui

The charts root of a config is then: the folder mapped to its `repo_url`; without `repo_url`,
`--charts-root` when given, else the folder mapped to `default_repo_url`, else the root of the
repository holding the config (the behaviour without chart sources). A `repo_url` that no
entry maps is the config's own problem (`chart-path`), never the run's. URLs are compared
without a trailing `/` or `.git`. Every revision of a mapped repository reads its folder
(`target_revision` is not used to pick a ref yet).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def same_repository(url: str) -> str:
    """A repository URL as compared: without a trailing `/` or `.git`."""
    text = url.strip().rstrip("/")
    return text[:-4] if text.endswith(".git") else text


@dataclass(frozen=True)
class ChartSources:
    """A repository's chart sources (`chart_sources` of its .modeldeploy.yaml), paths resolved."""

    default_repo_url: str | None = None
    default_target_revision: str | None = None
    folders: tuple[tuple[str, Path], ...] = ()  # (repo_url as compared, absolute folder)
    file: str | None = None  # the settings file, as shown

    @classmethod
    def read(cls, entries: Any, anchor: Path, file: str) -> ChartSources:
        """`chart_sources` as its (schema-checked) YAML value; relative paths from `anchor`."""
        if not isinstance(entries, dict):
            return cls(file=file)
        folders = tuple((same_repository(str(entry["repo_url"])), Path(os.path.abspath(anchor / str(entry["path"]))))
                        for entry in entries.get("repositories") or []
                        if isinstance(entry, dict) and "repo_url" in entry and "path" in entry)
        default_url = entries.get("default_repo_url")
        revision = entries.get("default_target_revision")
        return cls(default_url if isinstance(default_url, str) else None,
                   revision if isinstance(revision, str) else None, folders, file)

    def folder(self, repo_url: str) -> Path | None:
        wanted = same_repository(repo_url)
        return next((folder for url, folder in self.folders if url == wanted), None)


@dataclass(frozen=True)
class ChartRoots:
    """How one config's charts root is found: the run's fallback and its repository's chart sources."""

    fallback: Path | None  # --charts-root, else the repository holding the config
    explicit: bool = False  # the fallback is --charts-root (it wins over default_repo_url)
    sources: ChartSources | None = None

    def root_for(self, values: Any) -> tuple[Path | None, str | None]:
        """(the charts root of a config with these values, or None and why there is none)."""
        repo_url = values.get("repo_url") if isinstance(values, dict) else None
        sources = self.sources
        if isinstance(repo_url, str) and repo_url.strip():
            if sources is None or not sources.folders:
                return self.fallback, None  # one charts root for every repository, as before
            folder = sources.folder(repo_url)
            if folder is not None:
                return folder, None
            return None, (f"repo_url {repo_url!r} has no chart source in {sources.file}: add it under "
                          "`chart_sources.repositories` with the `path` of a local checkout")
        if self.explicit or sources is None or sources.default_repo_url is None:
            return self.fallback, None
        folder = sources.folder(sources.default_repo_url)
        return (folder, None) if folder is not None else (self.fallback, None)
