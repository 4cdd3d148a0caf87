"""Render one checked config with the real helm, as Argo CD would.

The config file itself is the values file, the release is named after the model
and the namespace comes from the environment. Output helm printed that is not
manifests (bytes that are not UTF-8, more than helm.MAX_OUTPUT_BYTES) is reported
under `helm-output` (manifests/parse.py). Rule id:
- `helm-template`: helm refused to render the config: a template error, the chart's
  values.schema.json (reported at the offending key when helm names one), or a helm that
  did not finish before the run's deadline (`--timeout`). Nothing is rendered for it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ..config.yaml_loader import LoadedYaml
from ..diagnostics import Diagnostic, declared_in
from ..manifests.parse import RULE_OUTPUT
from ..processes import Deadline
from . import helm as helm_runner

_declare = declared_in(__doc__, __name__)
RULE_HELM = _declare("helm-template", can_disable=False)
# Helm 4: "- at '/canary/trafficPercent': got string, want integer"; Helm 3: "- canary.trafficPercent: ..."
_HELM4_SCHEMA = re.compile(r"^- at '(/[^']*)': (.*)$")
_HELM3_SCHEMA = re.compile(r"^- ([A-Za-z0-9_.]+): (.*)$")


@dataclass(frozen=True)
class Release:
    """One deployment as `helm template` renders it, from a config that passed its checks."""

    display: str  # the config, as reported
    values_file: Path  # the config file itself: Argo CD passes it as the values file
    name: str  # the release name: the config's `name`
    namespace: str  # the environment's
    chart_dir: Path
    loaded: LoadedYaml  # the values as Helm reads them, with their positions


@dataclass(frozen=True)
class RenderOutcome:
    manifests: str | None
    diagnostics: list[Diagnostic]


def render_release(helm: helm_runner.Helm, release: Release, kubernetes_version: str,
                   deadline: Deadline | None = None, api_versions: tuple[str, ...] = ()) -> RenderOutcome:
    output = helm_runner.template(helm, release=release.name, chart_dir=release.chart_dir,
                                  namespace=release.namespace, values_file=release.values_file,
                                  kube_version=kubernetes_version, deadline=deadline,
                                  api_versions=api_versions)
    return outcome(release, output, helm.version)


def outcome(release: Release, output: helm_runner.TemplateOutput, version: str) -> RenderOutcome:
    """What `output` of helm means for this release (its manifests, or why there are none)."""
    if output.ok:
        return RenderOutcome(output.manifests, [])
    file = release.display
    if output.failure == helm_runner.TIMED_OUT:
        return RenderOutcome(None, [RULE_HELM.at(file, 1, 1, f"helm {version} template {output.error}; not "
                                                 "rendered (raise --timeout, or look for a template that "
                                                 "never ends)")])
    if output.failure == helm_runner.BAD_OUTPUT:
        return RenderOutcome(None, [RULE_OUTPUT.at(file, 1, 1, f"helm {version} template {output.error}")])
    return RenderOutcome(None, helm_diagnostics(release, output.error, version))


def helm_diagnostics(release: Release, stderr: str, version: str) -> list[Diagnostic]:
    file = release.display
    problems = []
    for line in stderr.splitlines():
        match = _HELM4_SCHEMA.match(line.strip())
        path: tuple[str, ...] | None = None
        if match:
            path = tuple(p for p in match.group(1).split("/") if p)
        else:
            match = _HELM3_SCHEMA.match(line.strip())
            if match:
                path = tuple(match.group(1).split("."))
        if match and path is not None:
            row, column = release.loaded.position(path)
            problems.append(RULE_HELM.at(file, row, column, f"helm {version} rejects the values: "
                                         f"{'.'.join(path)}: {match.group(2)}"))
    if not problems:
        summary = " ".join(stderr.split())[:600]
        problems.append(RULE_HELM.at(file, 1, 1, f"helm {version} template failed: {summary}"))
    return problems
