"""Every writer: results in, text out. The writers depend on results/, diagnostics and
safe_output.py (every line they compose is escaped) and nothing else (lint-imports checks it).

- text.py, jsonout.py, github.py, sarif.py, codequality.py (fingerprints.py): the `--format`s of
  diagnostics. REPORTERS maps each `--format` name to its class; `auto` picks `github` inside
  GitHub Actions (GITHUB_ACTIONS=true) and `text` elsewhere. Machine-readable formats
  (`machine_readable = True`: json, sarif, codequality) are documents for other tools, so
  nothing else (no progress bar) may be mixed into their stream. SARIF's rule catalog is
  rule_docs.json, generated from the rule registry with docs/rules.md;
- diff.py (templates/diff.md.j2): the diff report as text, markdown and json;
- completion.py: the shell completion scripts, from a description of the command line;
- status.py: the status table and document; history.py: `history`; progress.py: the progress bar.

Imports inside the package go down these layers (`|`: independent; lint-imports checks it):

    progress
    codequality | completion | diff | github | history | jsonout | sarif | status | text
    fingerprints
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from ..diagnostics import Diagnostic
from .codequality import CodeQualityReporter
from .github import GithubReporter
from .jsonout import JsonReporter
from .sarif import SarifReporter
from .text import TextReporter


class Reporter(Protocol):
    name: str
    machine_readable: bool

    def format(self, diagnostics: list[Diagnostic], files_checked: int) -> str: ...


REPORTERS: dict[str, type[Reporter]] = {
    TextReporter.name: TextReporter,
    JsonReporter.name: JsonReporter,
    GithubReporter.name: GithubReporter,
    SarifReporter.name: SarifReporter,
    CodeQualityReporter.name: CodeQualityReporter,
}
FORMAT_CHOICES = ("auto", *REPORTERS)
MACHINE_FORMATS = frozenset(name for name, cls in REPORTERS.items() if cls.machine_readable)


def reporter_for(name: str, environ: Mapping[str, str], color: bool = False) -> Reporter:
    """`color`: paint the text format (the others never are)."""
    if name == "auto":
        name = "github" if environ.get("GITHUB_ACTIONS") == "true" else "text"
    return TextReporter(color) if name == TextReporter.name else REPORTERS[name]()
