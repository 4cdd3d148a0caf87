"""Applying rule settings to diagnostics: the one place a diagnostic's severity changes.

A repository may carry `.modeldeploy.yaml` at its root, and a line of a config or
environment.yaml a disable comment (config/settings_file.py reads both):

- `rules: {RULE-ID: error|warning|off}` sets a rule's severity for every file of the repository
  (the repository of each file: its git repository, else the folder above model-deployments/);
- `# modeldeploy: disable=RULE-ID[,RULE-ID]` silences those rules on that line of that file.

The core (deployments.py) calls `apply`, through each file's FileRules, on every diagnostic of
a run: each config's (duplicates included), each environment's, those tied to no config, and
what rendering and the manifest checks report for a config. So validate, render, diff, status
and the rollout commands all see the same. A rule that cannot be turned off or down
(Rule.can_disable) is refused where it is named (the settings file: exit 2; a disable comment:
`disable-comment`), so `apply` never meets one.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from ..config.discovery import display_path, outside_repository, repository_of
from ..config.settings_file import (
    NO_COMMENTS,
    NO_SETTINGS,
    SETTINGS_FILENAME,
    DisableComments,
    RepositorySettings,
    comment_text,
    read_settings,
    scan_disables,
)
from ..diagnostics import Diagnostic, Rule, ToolError


def _registry() -> Mapping[str, Rule]:
    from ..rules.registry import RULES  # imported on use: only when there are settings to check

    return RULES


@dataclass(frozen=True)
class FileRules:
    """What applies to the diagnostics of one file: its repository's severities, its disable comments."""

    settings: RepositorySettings
    comments: DisableComments
    display: str = ""

    def apply(self, diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
        return apply(diagnostics, self)

    def settled(self, diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
        """`diagnostics` and the problems of the file's disable comments, settings applied."""
        return apply([*diagnostics, *self.comments.problems], self)

    def for_text(self, text: str | None) -> FileRules:
        """The same file's rules had it `text` (a planned edit)."""
        return FileRules(self.settings, _comments(self.display, text), self.display)


NO_RULES = FileRules(NO_SETTINGS, NO_COMMENTS)
_UNKNOWN = object()  # a file's repository, not looked up yet


def apply(diagnostics: Iterable[Diagnostic], rules: FileRules) -> list[Diagnostic]:
    """`diagnostics` without those silenced on their line or turned off, with the severities set."""
    severities, silenced = rules.settings.severities, rules.comments.lines
    if not severities and not silenced:
        return list(diagnostics)
    kept = []
    for diagnostic in diagnostics:
        if diagnostic.rule in silenced.get(diagnostic.line, ()):
            continue
        if diagnostic.rule in severities:
            severity = severities[diagnostic.rule]
            if severity is None:  # off
                continue
            if severity is not diagnostic.severity:
                diagnostic = replace(diagnostic, severity=severity)
        kept.append(diagnostic)
    return kept


def _comments(display: str, text: str | None) -> DisableComments:
    if text is None or "modeldeploy" not in text:  # most files: no registry needed
        return NO_COMMENTS
    return scan_disables(display, text, _registry())


class Settings:
    """The rule settings of the repositories one run reads, each read once."""

    def __init__(self, cwd: Path, anchor: Path | None = None) -> None:
        self.cwd = cwd
        self.anchor = anchor  # relative chart source paths start here (diff: the real checkout)
        self._repositories: dict[Path | None, RepositorySettings] = {}

    def repository(self, root: Path | None) -> RepositorySettings:
        """The settings of the repository at `root` (None: a file in no repository: none)."""
        if root not in self._repositories:
            self._repositories[root] = self._read(root)
        return self._repositories[root]

    def _read(self, root: Path | None) -> RepositorySettings:
        if root is None:
            return NO_SETTINGS
        path = root / SETTINGS_FILENAME
        if not os.path.lexists(path):  # False, not raising, where the folder is unreadable
            return NO_SETTINGS
        shown = display_path(path, self.cwd)
        refused = outside_repository(path)
        if refused is not None:
            raise ToolError(f"{shown}: {refused}")
        return read_settings(path, shown, _registry(), self.anchor)

    def for_file(self, path: Path, text: str | None, root: Path | object | None = _UNKNOWN) -> FileRules:
        """The rules of the file (or folder) `path`, whose text is `text` (None: read it for its
        comments if it is a file); `root`: its repository, when known (None: none)."""
        settings = self.repository(repository_of(path) if root is _UNKNOWN else root)  # type: ignore[arg-type]
        display = display_path(path, self.cwd)
        comments = _comments(display, text if text is not None else comment_text(path))
        return FileRules(settings, comments, display)

    def settle(self, path: Path, diagnostics: list[Diagnostic], text: str | None) -> list[Diagnostic]:
        """`diagnostics` of the file (or folder) `path` with their file's rules applied."""
        return self.for_file(path, text).settled(diagnostics)
