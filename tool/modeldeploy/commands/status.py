"""`modeldeploy status`: the deployments declared in a GitOps repo, read from the configs.

No cluster is consulted: this is what git says should run. `ENV/NAME` lookups live in
deployment_refs.py.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..checks.deployments import ConfigCheck
from ..config.deployment_refs import Deployment
from ..config.discovery import ENVIRONMENT_FILENAME, display_path
from ..diagnostics import Diagnostic, Severity
from ..explain.rollout_summary import RolloutState
from ..safe_output import escape, json_text
from . import pipeline


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

    def as_dict(self) -> dict[str, Any]:
        return {
            "env": self.env,
            "name": self.name,
            "config": self.config,
            "version": self.version,
            "canary_percent": self.canary_percent,
            "deployment_mode": self.deployment_mode,
            "namespace": self.namespace,
            "valid": self.valid,
            "error": self.error.as_dict() if self.error else None,
        }


def collect_status(deployments: list[Deployment], cwd: Path) -> list[StatusRow]:
    """One row per deployment, checked as `validate` checks them (environment and duplicates too)."""
    if not deployments:
        return []
    checks, extra = pipeline.check_config_files(sorted({d.config for d in deployments}), [], [],
                                                pipeline.Options(), cwd)
    by_file = {os.path.realpath(check.config.path): check for check in checks}
    rows = []
    for deployment in deployments:
        check = by_file[os.path.realpath(deployment.config.path)]
        env_file = display_path(deployment.config.env_dir / ENVIRONMENT_FILENAME, cwd)
        problems = sorted([*check.diagnostics,
                           *(d for d in extra if d.path in (check.config.display, env_file))])
        errors = [d for d in problems if d.severity is Severity.ERROR]
        state = RolloutState.from_values(check.loaded.value if check.loaded else {})
        rows.append(StatusRow(
            env=deployment.env, name=deployment.name, config=deployment.config.display,
            version=_as_written(check, "version"), canary_percent=state.canary_percent,
            deployment_mode=(_as_written(check, "deployment_mode") or state.deployment_mode)
            if check.loaded else None,
            namespace=check.environment.namespace, error=errors[0] if errors else None,
        ))
    return rows


def _as_written(check: ConfigCheck, key: str) -> str | None:
    """A top-level value as written in the file (`1234e56`, not the number Helm would read)."""
    node = check.loaded.nodes.get((key,)) if check.loaded else None
    return node.raw if node else None


COLUMNS = ("ENV", "NAME", "VERSION", "CANARY", "MODE", "NAMESPACE", "STATUS")


def format_text(rows: list[StatusRow]) -> str:
    if not rows:
        return "no deployments\n"
    table: list[tuple[str, ...]] = [COLUMNS]
    for row in rows:
        status = "ok" if row.error is None else \
            f"invalid: line {row.error.line}: {row.error.message} [{row.error.rule}]"
        canary = "-" if row.canary_percent is None else f"{row.canary_percent}%"
        # Cells are escaped before the columns are measured: a name with a control character
        # stays on its line and the table stays aligned.
        table.append(tuple(escape(cell) for cell in (row.env, row.name, row.version or "?", canary,
                                                     row.deployment_mode or "?", row.namespace, status)))
    widths = [max(len(line[i]) for line in table) for i in range(len(COLUMNS) - 1)]
    return "".join(escape("  ".join([*(cell.ljust(w) for cell, w in zip(line, widths, strict=False)),
                                     line[-1]])) + "\n" for line in table)


def json_document(rows: list[StatusRow]) -> dict[str, Any]:
    return {
        "deployments": [row.as_dict() for row in rows],
        "invalid": sum(not row.valid for row in rows),
    }


def format_json(rows: list[StatusRow]) -> str:
    return json_text(json_document(rows))
