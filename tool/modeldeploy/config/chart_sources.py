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
          git: ../jukebox-ui                 # a local git repository: target_revision is its ref

The charts root of a config is then: the folder mapped to its `repo_url`; without `repo_url`,
`--charts-root` when given, else the folder mapped to `default_repo_url`, else the root of the
repository holding the config (the behaviour without chart sources). A `repo_url` that no
entry maps is the config's own problem (`chart-path`), never the run's. URLs are compared
without a trailing `/` or `.git`. A `path:` checkout is read as it is, whatever the revision; a
`git:` repository is read at the config's `target_revision` (else `default_target_revision`,
else its HEAD), as the ApplicationSet would: that commit's tree is extracted once with
`git archive` into the cache (MODELDEPLOY_CACHE, `chart-sources/<commit>`), and a revision that
is no ref or commit of it is the config's problem. Nothing in the chart repository is written.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..diagnostics import InternalError
from ..fileio import cache_dir

GIT_TIMEOUT_SECONDS = 60


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
    repositories: tuple[tuple[str, Path], ...] = ()  # (repo_url as compared, a local git repository)

    @classmethod
    def read(cls, entries: Any, anchor: Path, file: str) -> ChartSources:
        """`chart_sources` as its (schema-checked) YAML value; relative paths from `anchor`."""
        if not isinstance(entries, dict):
            return cls(file=file)
        entries_of = [e for e in entries.get("repositories") or [] if isinstance(e, dict) and "repo_url" in e]
        folders = tuple((same_repository(str(e["repo_url"])), Path(os.path.abspath(anchor / str(e["path"]))))
                        for e in entries_of if "path" in e)
        gits = tuple((same_repository(str(e["repo_url"])), Path(os.path.abspath(anchor / str(e["git"]))))
                     for e in entries_of if "git" in e)
        default_url = entries.get("default_repo_url")
        revision = entries.get("default_target_revision")
        return cls(default_url if isinstance(default_url, str) else None,
                   revision if isinstance(revision, str) else None, folders, file, gits)

    def mapped(self) -> bool:
        return bool(self.folders or self.repositories)

    def folder(self, repo_url: str, revision: Any = None) -> tuple[Path | None, str | None]:
        """The charts root of `repo_url` at `revision` (None: the default), or None and why not;
        (None, None) when no entry maps it."""
        wanted = same_repository(repo_url)
        folder = next((folder for url, folder in self.folders if url == wanted), None)
        if folder is not None:
            return folder, None
        repository = next((path for url, path in self.repositories if url == wanted), None)
        if repository is None:
            return None, None
        ref = revision if isinstance(revision, str) and revision else self.default_target_revision or "HEAD"
        return checkout(repository, ref)


def checkout(repository: Path, ref: str) -> tuple[Path | None, str | None]:
    """The tree of `ref` of the git repository `repository`, extracted once into the cache."""
    import hashlib  # on use, like tarfile: only git chart sources need them (start-up of `validate`)
    import shutil
    import tarfile
    import tempfile

    shown = os.path.basename(repository)
    if ref.startswith("-"):
        return None, f"target_revision {ref!r} is no ref of {shown}: name a branch, tag or commit"
    try:
        found = subprocess.run(["git", "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"],
                               cwd=repository,
                               capture_output=True, text=True, timeout=GIT_TIMEOUT_SECONDS, env=_git_env())
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, f"cannot read the chart repository {repository} ({exc}); check chart_sources"
    if found.returncode != 0:
        return None, (f"target_revision {ref!r} is no branch, tag or commit of {repository}; name one it "
                      "has (or fetch it)")
    sha = found.stdout.strip()
    key = hashlib.sha256(f"{os.path.realpath(repository)}\0{sha}".encode()).hexdigest()[:24]
    final = cache_dir() / "chart-sources" / key
    if final.is_dir():
        return final, None
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".extract-", dir=final.parent))
        try:
            _extract(repository, sha, staging)
            os.rename(staging, final)  # atomic: a concurrent run finds all of it or nothing
        except OSError:
            if not final.is_dir():
                raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    except (OSError, tarfile.TarError, subprocess.SubprocessError) as exc:
        return None, f"cannot extract {ref!r} of {repository} into {final.parent} ({exc}); set " \
            "MODELDEPLOY_CACHE " \
            "to a writable folder"
    return final, None


def _git_env() -> dict[str, str]:
    return {**os.environ, "GIT_OPTIONAL_LOCKS": "0", "GIT_TERMINAL_PROMPT": "0"}


def _extract(repository: Path, sha: str, dest: Path) -> None:
    import tarfile

    proc = subprocess.Popen(["git", "archive", "--format=tar", sha], cwd=repository, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, env=_git_env())
    if proc.stdout is None:
        raise InternalError("git archive was started without its output pipe")
    try:
        with tarfile.open(fileobj=proc.stdout, mode="r|") as archive:
            if hasattr(tarfile, "data_filter"):  # refuses links and paths leading out of dest
                archive.extractall(dest, filter="data")
            else:  # pragma: no cover - Python before 3.10.12 / 3.11.4
                archive.extractall(dest)
    finally:
        proc.stdout.close()
        if proc.wait(timeout=GIT_TIMEOUT_SECONDS) != 0:
            raise subprocess.SubprocessError(f"git archive {sha[:12]} failed")


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
        revision = values.get("target_revision") if isinstance(values, dict) else None
        if isinstance(repo_url, str) and repo_url.strip():
            if sources is None or not sources.mapped():
                return self.fallback, None  # one charts root for every repository, as before
            folder, why = sources.folder(repo_url, revision)
            if folder is not None or why is not None:
                return folder, why
            return None, (f"repo_url {repo_url!r} has no chart source in {sources.file}: add it under "
                          "`chart_sources.repositories` with the `path` of a local checkout (or `git`, "
                          "a local clone)")
        if self.explicit or sources is None or sources.default_repo_url is None:
            return self.fallback, None
        folder, why = sources.folder(sources.default_repo_url, revision)
        if folder is not None or why is not None:
            return folder, why
        return self.fallback, None
