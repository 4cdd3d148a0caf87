"""`path:line:col: severity: message [rule]`, one line per diagnostic (compiler style)."""

from __future__ import annotations

from ..diagnostics import Diagnostic


class TextReporter:
    name = "text"
    machine_readable = False

    def format(self, diagnostics: list[Diagnostic], files_checked: int) -> str:
        lines = [f"{d.path}:{d.line}:{d.column}: {d.severity.value}: {d.message} [{d.rule}]"
                 for d in diagnostics]
        return "".join(line + "\n" for line in lines)
