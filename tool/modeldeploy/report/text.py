"""`path:line:col: severity: message [rule]`, one line per diagnostic (compiler style).

Each line is escaped whole (safe_output.py): a path or message holding a newline or
another control character stays on its one line, visibly escaped. With `color`, the
severity word is painted (after escaping: the only escape sequences are ours).
"""

from __future__ import annotations

from ..diagnostics import Diagnostic, Severity
from ..safe_output import escape, escape_lines

_PAINT = {Severity.ERROR: "\x1b[1;31m", Severity.WARNING: "\x1b[1;33m"}
_RESET = "\x1b[0m"


class TextReporter:
    name = "text"
    machine_readable = False

    def __init__(self, color: bool = False) -> None:
        self.color = color

    def format(self, diagnostics: list[Diagnostic], files_checked: int) -> str:
        if self.color:
            return "".join(f"{escape(f'{d.path}:{d.line}:{d.column}:')} {_PAINT.get(d.severity, '')}"
                           f"{d.severity.value}{_RESET}: {escape(f'{d.message} [{d.rule}]')}\n"
                           for d in diagnostics)
        return escape_lines(f"{d.path}:{d.line}:{d.column}: {d.severity.value}: {d.message} [{d.rule}]"
                            for d in diagnostics)
