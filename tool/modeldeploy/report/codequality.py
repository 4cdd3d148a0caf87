"""GitLab Code Quality report (`--format codequality`), for `artifacts:reports:codequality`.

A JSON array with one object per diagnostic and the fields GitLab documents:
`description`, `check_name` (the rule id), `fingerprint` (stable, see fingerprints.py),
`severity` (error -> major, warning -> minor), `location.path` and
`location.lines.begin`. GitLab shows them in the merge request widget and the diff.
Paths are as printed by the other formats: run from the repository root.
"""

from __future__ import annotations

import json

from ..diagnostics import Diagnostic, Severity
from .fingerprints import fingerprints

SEVERITIES = {Severity.ERROR: "major", Severity.WARNING: "minor"}


class CodeQualityReporter:
    name = "codequality"
    machine_readable = True

    def format(self, diagnostics: list[Diagnostic], files_checked: int) -> str:
        issues = [
            {
                "type": "issue",
                "description": f"{d.message} [{d.rule}]",
                "check_name": d.rule,
                "fingerprint": fingerprint,
                "severity": SEVERITIES[d.severity],
                "location": {"path": d.path, "lines": {"begin": max(d.line, 1)}},
            }
            for d, fingerprint in zip(diagnostics, fingerprints(diagnostics), strict=True)
        ]
        return json.dumps(issues, indent=2, ensure_ascii=False) + "\n"

    def format_failure(self, exit_code: int, message: str) -> str:
        # The format has no place for a failed run (the job's exit code says it): an empty,
        # valid report, so the artifact still parses.
        return "[]\n"
