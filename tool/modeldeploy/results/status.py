"""The rows of `modeldeploy status`: what git says each deployment should run."""

from __future__ import annotations

from dataclasses import dataclass

from ..diagnostics import Diagnostic


@dataclass(frozen=True)
class StatusRow:
    env: str
    name: str
    config: str  # display path
    version: str | None
    canary_percent: int | None
    deployment_mode: str | None
    namespace: str
    error: Diagnostic | None  # the first error, when the config is invalid

    @property
    def valid(self) -> bool:
        return self.error is None
