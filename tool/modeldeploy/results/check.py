"""The result of `check`: the status of every resource read, kubeconform's counts, the diagnostics."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..diagnostics import Diagnostic, Severity

# An object's status -> the count it goes to, as kubeconform counts them.
VALID, INVALID, ERRORS, SKIPPED = "valid", "invalid", "errors", "skipped"
COUNTED_AS = {"valid": VALID, "invalid": INVALID, "no-schema": ERRORS, "not-an-object": ERRORS,
              "skipped": SKIPPED}


@dataclass
class CheckResult:
    files: int = 0
    statuses: list[str] = field(default_factory=list)  # one per resource: ObjectStatus.status
    unreadable_files: int = 0  # files whose objects could not be read at all (`manifest-file`)
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def count(self, what: str) -> int:
        return sum(COUNTED_AS[status] == what for status in self.statuses)

    @property
    def resources(self) -> int:
        return len(self.statuses)

    @property
    def could_not_check(self) -> int:
        return self.count(ERRORS) + self.unreadable_files

    def summary(self) -> dict[str, int]:
        return {"resources": self.resources, "files": self.files, "valid": self.count(VALID),
                "invalid": self.count(INVALID), "errors": self.could_not_check,
                "skipped": self.count(SKIPPED)}

    def summary_line(self) -> str:
        """kubeconform's `-summary` line."""
        counts = self.summary()
        files = "file" if self.files == 1 else "files"
        return (f"Summary: {counts['resources']} resource{'' if counts['resources'] == 1 else 's'} found in "
                f"{self.files} {files} - Valid: {counts['valid']}, Invalid: {counts['invalid']}, "
                f"Errors: {counts['errors']}, Skipped: {counts['skipped']}")

    def exit_code(self, strict: bool = False) -> int:
        """1: something is invalid (or, strict, a warning); 2: nothing invalid, but something could
        not be checked (a missing schema, a file that is no manifest); 0: all valid."""
        errors = [d for d in self.diagnostics if d.severity is Severity.ERROR]
        could_not = {"manifest-no-schema", "manifest-not-an-object", "manifest-file"}
        if any(d.rule not in could_not for d in errors) or (
                strict and any(d.severity is Severity.WARNING for d in self.diagnostics)):
            return 1
        return 2 if any(d.rule in could_not for d in errors) else 0
