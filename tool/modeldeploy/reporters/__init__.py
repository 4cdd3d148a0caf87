"""Reporters turn diagnostics into text; they depend on nothing but diagnostics and safe_output.

REPORTERS maps each `--format` name to its class; `auto` picks `github` inside
GitHub Actions (GITHUB_ACTIONS=true) and `text` elsewhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from ..diagnostics import Diagnostic
from .github import GithubReporter
from .jsonout import JsonReporter
from .text import TextReporter


class Reporter(Protocol):
    name: str

    def format(self, diagnostics: list[Diagnostic], files_checked: int) -> str: ...


REPORTERS: dict[str, type[Reporter]] = {
    TextReporter.name: TextReporter,
    JsonReporter.name: JsonReporter,
    GithubReporter.name: GithubReporter,
}
FORMAT_CHOICES = ("auto", *REPORTERS)


def reporter_for(name: str, environ: Mapping[str, str]) -> Reporter:
    if name == "auto":
        name = "github" if environ.get("GITHUB_ACTIONS") == "true" else "text"
    return REPORTERS[name]()
