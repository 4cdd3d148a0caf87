"""One JSON document: counts and the diagnostics, for machines."""

from __future__ import annotations

import json

from ..diagnostics import Diagnostic, Severity


class JsonReporter:
    name = "json"
    machine_readable = True

    def format(self, diagnostics: list[Diagnostic], files_checked: int) -> str:
        document = {
            "files_checked": files_checked,
            "errors": sum(d.severity is Severity.ERROR for d in diagnostics),
            "warnings": sum(d.severity is Severity.WARNING for d in diagnostics),
            "diagnostics": [d.as_dict() for d in diagnostics],
        }
        return json.dumps(document, indent=2, sort_keys=False) + "\n"
