"""Diagnostics: the one value every step returns and every reporter prints.

A `Diagnostic` names a file, a 1-based line and column, a severity, a message and
the id of the rule that produced it. Diagnostics sort by file, line, column, so
reports are stable whatever order the checks ran in.
"""

from __future__ import annotations

import enum
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


def error(path: str, line: int, column: int, message: str, rule: str) -> Diagnostic:
    return Diagnostic(path, line, column, Severity.ERROR, message, rule)


def warning(path: str, line: int, column: int, message: str, rule: str) -> Diagnostic:
    return Diagnostic(path, line, column, Severity.WARNING, message, rule)


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


def has_errors(diagnostics: list[Diagnostic], strict: bool = False) -> bool:
    """True when the diagnostics should fail the run (warnings count under strict)."""
    return any(d.severity is Severity.ERROR or strict for d in diagnostics)
