"""Where a deployment's versions ran, read from git: for `promote_from`, rollbacks and `history`.

How far back: every commit reachable from the given tips (for `diff`, the base and the head;
for the rollout commands, HEAD) that changed the config's path. A version ran in an
environment when a commit of that history held it: a test run may have been weeks ago, and
a commit between the base and the head counts too (the PR itself released it there first).
The cost is one `git log` and one `git cat-file --batch` per config path, whatever the
repository's size. A shallow clone has no such history: then only the configs at the tips
count, and the messages say to fetch the whole history (actions/checkout `fetch-depth: 0`).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, cached_property
from typing import Any

from ..changes.git import Git
from ..config.yaml_loader import load_yaml_text
from .rules import Evidence
from .transition import traffic_of

_FIELD, _RECORD = "\x1f", "\x1e"


@dataclass(frozen=True)
class Revision:
    """One commit that changed a config: its values after and before (None: no file, or unreadable)."""

    commit: str
    date: str  # ISO 8601, the author date
    author: str
    subject: str
    after: dict[str, Any] | None
    before: dict[str, Any] | None
    existed_before: bool


def config_values(path: str, data: bytes | None) -> dict[str, Any] | None:
    if data is None:
        return None
    try:
        text = data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError:
        return None
    loaded, _ = load_yaml_text(path, text)
    return loaded.value if loaded is not None and isinstance(loaded.value, dict) else None


class History:
    """The git history of config paths, reachable from `tips` (commits or refs)."""

    def __init__(self, git: Git | None, tips: list[str]) -> None:
        self.git = git
        self.tips = tips
        self.revisions = cache(self._revisions)

    @cached_property
    def shallow(self) -> bool:
        if self.git is None:
            return False
        return self.git.run("rev-parse", "--is-shallow-repository").strip() == b"true"

    def versions(self, path: str, *, all_traffic: bool = False) -> set[str]:
        """Every version a commit of the history held at `path` (repository-relative); with
        `all_traffic`, only those that received all of the traffic there (a rollback target)."""
        found = set()
        for revision in self.revisions(path):
            if revision.after is None:
                continue
            traffic = traffic_of(revision.after)
            if traffic.version is not None and (not all_traffic or traffic.latest_share == 100):
                found.add(traffic.version)
        return found

    def _revisions(self, path: str) -> list[Revision]:
        """The commits that changed `path`, newest first."""
        if self.git is None or not self.tips:
            return []
        log = os.fsdecode(self.git.run(
            "log", f"--format=%H{_FIELD}%aI{_FIELD}%an{_FIELD}%s{_RECORD}", *self.tips, "--", path))
        commits = [record.strip().split(_FIELD) for record in log.split(_RECORD) if record.strip()]
        specs = [spec for sha, *_ in commits for spec in (f"{sha}:{path}", f"{sha}^:{path}")]
        blobs = self._read(specs)
        return [Revision(sha, date, author, subject, config_values(path, blobs.get(f"{sha}:{path}")),
                         config_values(path, blobs.get(f"{sha}^:{path}")), f"{sha}^:{path}" in blobs)
                for sha, date, author, subject in commits]

    def _read(self, specs: list[str]) -> dict[str, bytes]:
        """The blobs named by `<rev>:<path>` specs; a missing one is left out."""
        return self.git.read_specs(specs) if self.git is not None else {}

    def read_at(self, commit: str, path: str) -> bytes | None:
        return self._read([f"{commit}:{path}"]).get(f"{commit}:{path}")


def config_path(deployments_dir: str, env: str, name: str) -> str:
    return f"{deployments_dir}/{env}/{name}/config.yaml" if deployments_dir else f"{env}/{name}/config.yaml"


def git_evidence(deployments_dir: str, current: Callable[[str, str], dict[str, Any] | None],
                 everything: History, earlier: History) -> Evidence:
    """Evidence from the configs at the head (`current(env, name)`: their values, None when absent)
    and from git: `everything` (base and head) for where a version ran, `earlier` (the base, or HEAD
    for the rollout commands) for where it ran before this change (a rollback target)."""

    def ran_in(env: str, name: str, version: str) -> bool:
        values = current(env, name)
        if values is not None and values.get("version") == version:
            return True
        return version in everything.versions(config_path(deployments_dir, env, name))

    def ran_here_before(env: str, name: str, version: str) -> bool:
        return version in earlier.versions(config_path(deployments_dir, env, name), all_traffic=True)

    def looked(env: str, name: str) -> str:
        where = f"{env}/{name} at the head"
        if everything.git is None:
            return f"{where}; no git history to look in"
        if everything.shallow:
            return (f"{where}; this clone is shallow, so its history was not searched: fetch the "
                    "whole history, e.g. actions/checkout with `fetch-depth: 0`")
        return f"{where} and every commit of its history"

    return Evidence(ran_in, ran_here_before, looked)
