"""One JSON document: counts and the diagnostics, for machines."""

from __future__ import annotations

from typing import Any

from ..diagnostics import Diagnostic, Severity
from ..safe_output import json_text


def document(diagnostics: list[Diagnostic], files_checked: int) -> dict[str, Any]:
    return {
        "files_checked": files_checked,
        "errors": sum(d.severity is Severity.ERROR for d in diagnostics),
        "warnings": sum(d.severity is Severity.WARNING for d in diagnostics),
        "diagnostics": [d.as_dict() for d in diagnostics],
    }


class JsonReporter:
    name = "json"
    machine_readable = True

    def format(self, diagnostics: list[Diagnostic], files_checked: int) -> str:
        return json_text(document(diagnostics, files_checked))
