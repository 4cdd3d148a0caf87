"""`modeldeploy status`: the deployments declared in a GitOps repo, read from the configs.

No cluster is consulted: this is what git says should run. `ENV/NAME` lookups live in
deployment_refs.py.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..checks.deployments import ConfigCheck
from ..config.deployment_refs import Deployment
from ..config.discovery import ENVIRONMENT_FILENAME, display_path
from ..diagnostics import Severity
from ..explain.rollout_summary import RolloutState
from ..results.status import StatusRow
from . import pipeline


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
