"""`path:line:col: severity: message [rule]`, one line per diagnostic (compiler style).

Each line is escaped whole (safe_output.py): a path or message holding a newline or
another control character stays on its one line, visibly escaped.
"""

from __future__ import annotations

from ..diagnostics import Diagnostic
from ..safe_output import escape_lines


class TextReporter:
    name = "text"
    machine_readable = False

    def format(self, diagnostics: list[Diagnostic], files_checked: int) -> str:
        return escape_lines(f"{d.path}:{d.line}:{d.column}: {d.severity.value}: {d.message} [{d.rule}]"
                            for d in diagnostics)
