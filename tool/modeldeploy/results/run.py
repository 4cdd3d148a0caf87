"""The result of `validate` and `render`: diagnostics, counts, and the rendered deployments."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..diagnostics import Diagnostic, Severity


@dataclass(frozen=True)
class RenderedDeployment:
    config: str  # display path of the config
    env: str
    name: str
    namespace: str
    manifests: str


@dataclass
class RunResult:
    files_checked: int = 0
    diagnostics: list[Diagnostic] = field(default_factory=list)
    rendered: list[RenderedDeployment] = field(default_factory=list)
    # What helm rendered but the manifest checks refused: not written or printed, but `diff`
    # shows it (a PR's change stays visible beside the problems that fail it).
    refused: list[RenderedDeployment] = field(default_factory=list)
    helm_version: str | None = None

    @property
    def errors(self) -> int:
        return sum(d.severity is Severity.ERROR for d in self.diagnostics)

    @property
    def warnings(self) -> int:
        return sum(d.severity is Severity.WARNING for d in self.diagnostics)

    def exit_code(self, strict: bool = False) -> int:
        return 1 if self.errors or (strict and self.warnings) else 0
