"""`modeldeploy status`: the deployments declared in a GitOps repo, read from the configs.

No cluster is consulted: this is what git says should run. `ENV/NAME` lookups live in
config/deployment_refs.py; each deployment is checked as `validate` checks it (the one
core: environments, charts root and duplicates among every config of the repository).

A config of this repository's chart says what renders (the chart renders its values one to
one): its row is read from the config, without helm. A config of any other chart is rendered
(the pipeline, as `render` does) and its row read from the rendered InferenceService (version,
canary, deployment mode), or, for a chart that renders none (a UI, TrustyAI), from its first
workload's image tag with mode `-`; a render problem is its row's error. Without helm, those
rows say `?`: nothing is claimed that the manifests do not carry.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..checks.deployments import CheckRequest, DeploymentCheck, check_repository
from ..config.deployment_refs import Deployment
from ..config.values_schema import chart_schema
from ..diagnostics import Diagnostic, Severity, ToolError
from ..explain.rollout_summary import RolloutState, workload_image
from ..manifests.parse import parse_manifests
from ..parallel import Workers
from ..results.status import StatusRow
from . import pipeline

NO_MODE = "-"  # a deployment that renders no InferenceService


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
    rendered = _rendered([check for check in checked.checks if check.valid and check.chart_dir is not None
                          and not chart_schema(check.chart_dir).contract], request)
    rows = []
    for deployment, check in zip(deployments, checked.checks, strict=True):
        errors = [d for d in check.problems if d.severity is Severity.ERROR]
        if check.config.display in rendered:
            rows.append(_rendered_row(deployment, check, *rendered[check.config.display]))
            continue
        state = RolloutState.from_values(check.loaded.value if check.loaded else {})
        rows.append(StatusRow(
            env=deployment.env, name=deployment.name, config=deployment.config.display,
            version=_as_written(check, "version"), canary_percent=state.canary_percent,
            deployment_mode=(_as_written(check, "deployment_mode") or state.deployment_mode)
            if check.loaded else None,
            namespace=check.namespace, error=errors[0] if errors else None,
        ))
    return rows


def _rendered(checks: list[DeploymentCheck], request: CheckRequest,
              ) -> dict[str, tuple[list[Any] | None, Diagnostic | None]]:
    """config display -> (its rendered objects, or None when unknown; its first render error)."""
    if not checks:
        return {}
    try:
        run, _ = pipeline.render_checked([str(c.config.path) for c in checks],
                                         pipeline.Options(charts_root=request.charts_root), request.cwd)
    except ToolError:  # no helm: these rows cannot be read from a render
        return {c.config.display: (None, None) for c in checks}
    manifests = {d.config: d.manifests for d in run.rendered}
    found: dict[str, tuple[list[Any] | None, Diagnostic | None]] = {}
    for check in checks:
        errors = [d for d in run.diagnostics
                  if d.path == check.config.display and d.severity is Severity.ERROR]
        text = manifests.get(check.config.display)
        found[check.config.display] = (parse_manifests(text) if text is not None else [],
                                       errors[0] if errors else None)
    return found


def _rendered_row(deployment: Deployment, check: DeploymentCheck, objects: list[Any] | None,
                  error: Diagnostic | None) -> StatusRow:
    state = RolloutState.from_objects(objects) if objects else None
    version: str | None
    mode: str | None
    if state is not None:
        version, canary, mode = state.version, state.canary_percent, state.deployment_mode
    else:
        image = workload_image(objects or [])
        tag = image.rpartition(":")[2] if image and ":" in image.rpartition("/")[2] else None
        version, canary, mode = tag, None, (NO_MODE if objects is not None else None)
    return StatusRow(env=deployment.env, name=deployment.name, config=deployment.config.display,
                     version=version, canary_percent=canary, deployment_mode=mode,
                     namespace=check.namespace, error=error)


def _as_written(check: DeploymentCheck, key: str) -> str | None:
    """A top-level value as written in the file (`1234e56`, not the number Helm would read)."""
    node = check.loaded.nodes.get((key,)) if check.loaded else None
    return node.raw if node else None
