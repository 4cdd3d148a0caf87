"""Diagnostics: the one value every step returns and every reporter prints, and the rules behind them.

A `Diagnostic` names a file, a 1-based line and column, a severity, a message and
the id of the rule that produced it. Diagnostics sort by file, line, column, so
reports are stable whatever order the checks ran in.

A `Rule` is declared once, in the module that checks it: its id, default severity,
documentation and whether a repository may turn it off or down (rules/registry.py
collects every one; docs/rules.md is generated from them). Diagnostics are made through
their rule (`RULE.at(path, line, column, message)`), never with a severity of their own;
a repository's settings change severities afterwards, in one place (checks/settings.py).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field


class Severity(str, enum.Enum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, order=True)
class Diagnostic:
    path: str
    line: int
    column: int
    severity: Severity = field(compare=False)
    message: str = field(compare=True)
    rule: str = field(compare=True)

    def as_dict(self) -> dict[str, object]:
        return {
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "severity": self.severity.value,
            "message": self.message,
            "rule": self.rule,
        }


@dataclass(frozen=True)
class Rule:
    """One rule id, declared once where it is checked."""

    id: str
    severity: Severity  # by default; a repository's .modeldeploy.yaml may change it
    doc: str  # what it checks and why: a first sentence, then the details (docs/rules.md)
    module: str  # the module that checks it
    # False: the finding means the input could not be read as Helm reads it, or nothing could
    # be rendered, so no other check ran: it can be neither turned off nor down to a warning.
    can_disable: bool = True

    def at(self, path: str, line: int, column: int, message: str) -> Diagnostic:
        """A diagnostic of this rule, at its default severity."""
        return Diagnostic(path, line, column, self.severity, message, self.id)


def closest(word: str, candidates: Iterable[str]) -> str | None:
    """The candidate closest to a misspelt `word`, if one is close (for "did you mean ...?")."""
    import difflib  # on use: only a misspelling needs it

    matches = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return matches[0] if matches else None


def doc_bullets(docstring: str | None) -> dict[str, str]:
    """A docstring's `- `id`: text` bullets (continuation lines indented; also `- `a`, `b`: text`),
    each text as one sentence-cased paragraph: the documentation of the rules a module declares."""
    found: dict[str, str] = {}
    for match in re.finditer(r"^- ((?:`[a-z0-9-]+`(?:, )?)+): (.*?)(?=^- |^\S|\Z)", docstring or "",
                             re.M | re.S):
        text = " ".join(match.group(2).split()).rstrip(";.")
        for rule_id in re.findall(r"`([a-z0-9-]+)`", match.group(1)):
            found[rule_id] = text[:1].upper() + text[1:] + "."
    return found


def declared_in(docstring: str | None, module: str) -> Callable[..., Rule]:
    """`declare(id, severity=ERROR, can_disable=True)` for rules documented by `docstring`'s bullets."""
    docs = doc_bullets(docstring)

    def declare(rule_id: str, severity: Severity = Severity.ERROR, *, can_disable: bool = True) -> Rule:
        return Rule(rule_id, severity, docs.get(rule_id, ""), module, can_disable)

    return declare


class ToolError(Exception):
    """The run cannot go on for a reason outside the checked files.

    Examples: no helm binary, a charts root that does not exist. The CLI maps it
    to exit code 2, apart from "your files have problems" (1) and bugs (3).
    """


class InternalError(Exception):
    """An invariant of modeldeploy itself does not hold: a bug, never the user's input.

    Raised instead of `assert` (which `python -O` strips); the CLI maps it, like any other
    unexpected exception, to exit code 3 with a request to report it.
    """
