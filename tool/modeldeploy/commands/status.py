"""`modeldeploy status`: the deployments declared in a GitOps repo, read from the configs.

No cluster is consulted: this is what git says should run. `ENV/NAME` lookups live in
config/deployment_refs.py; each deployment is checked as `validate` checks it (the one
core: environments, charts root and duplicates among every config of the repository).
"""

from __future__ import annotations

from pathlib import Path

from ..checks.deployments import CheckRequest, DeploymentCheck, check_repository
from ..config.deployment_refs import Deployment
from ..diagnostics import Severity
from ..explain.rollout_summary import RolloutState
from ..parallel import Workers
from ..results.status import StatusRow


def collect_status(deployments: list[Deployment], request: CheckRequest, deployments_root: Path,
                   ) -> list[StatusRow]:
    """One row per deployment of the repository at `deployments_root` (its model-deployments/)."""
    if not deployments:
        return []
    workers = Workers(None)
    try:
        checked = check_repository(request, deployments_root, [d.config for d in deployments], workers)
    finally:
        workers.close()
    rows = []
    for deployment, check in zip(deployments, checked.checks, strict=True):
        errors = [d for d in check.problems if d.severity is Severity.ERROR]
        state = RolloutState.from_values(check.loaded.value if check.loaded else {})
        rows.append(StatusRow(
            env=deployment.env, name=deployment.name, config=deployment.config.display,
            version=_as_written(check, "version"), canary_percent=state.canary_percent,
            deployment_mode=(_as_written(check, "deployment_mode") or state.deployment_mode)
            if check.loaded else None,
            namespace=check.namespace, error=errors[0] if errors else None,
        ))
    return rows


def _as_written(check: DeploymentCheck, key: str) -> str | None:
    """A top-level value as written in the file (`1234e56`, not the number Helm would read)."""
    node = check.loaded.nodes.get((key,)) if check.loaded else None
    return node.raw if node else None
