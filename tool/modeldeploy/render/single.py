"""Step 2: render one checked config with the real helm, as Argo CD would.

The config file itself is the values file, the release is named after the model
and the namespace comes from the environment. Helm's own failures (a template
error, the chart's values.schema.json) are reported against the config under
`helm-template`, at the offending key when helm names one. A helm that does not
finish before the run's deadline (`--timeout`) is reported under `helm-template` too.
Output helm printed that is not manifests (bytes that are not UTF-8, more than
helm.MAX_OUTPUT_BYTES) is reported under manifest_check.RULE_OUTPUT.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..checks.deployments import ConfigCheck
from ..diagnostics import Diagnostic, error
from ..manifests.check import RULE_OUTPUT
from ..processes import Deadline
from . import helm as helm_runner

RULE_HELM = "helm-template"
# Helm 4: "- at '/canary/trafficPercent': got string, want integer"; Helm 3: "- canary.trafficPercent: ..."
_HELM4_SCHEMA = re.compile(r"^- at '(/[^']*)': (.*)$")
_HELM3_SCHEMA = re.compile(r"^- ([A-Za-z0-9_.]+): (.*)$")


@dataclass(frozen=True)
class RenderOutcome:
    manifests: str | None
    diagnostics: list[Diagnostic]


def render_config(helm: helm_runner.Helm, check: ConfigCheck, kubernetes_version: str,
                  deadline: Deadline | None = None) -> RenderOutcome:
    chart_dir = check.chart_dir
    assert chart_dir is not None and check.loaded is not None, "render only checked configs"
    output = helm_runner.template(helm, release=check.name, chart_dir=chart_dir,
                                  namespace=check.environment.namespace,
                                  values_file=check.config.path, kube_version=kubernetes_version,
                                  deadline=deadline)
    return outcome(check, output, helm.version)


def outcome(check: ConfigCheck, output: helm_runner.TemplateOutput, version: str) -> RenderOutcome:
    """What `output` of helm means for this config (its manifests, or why there are none)."""
    if output.ok:
        return RenderOutcome(output.manifests, [])
    file = check.config.display
    if output.failure == helm_runner.TIMED_OUT:
        return RenderOutcome(None, [error(file, 1, 1, f"helm {version} template {output.error}; not "
                                          "rendered (raise --timeout, or look for a template that "
                                          "never ends)", RULE_HELM)])
    if output.failure == helm_runner.BAD_OUTPUT:
        return RenderOutcome(None, [error(file, 1, 1, f"helm {version} template {output.error}",
                                          RULE_OUTPUT)])
    return RenderOutcome(None, helm_diagnostics(check, output.error, version))


def helm_diagnostics(check: ConfigCheck, stderr: str, version: str) -> list[Diagnostic]:
    file = check.config.display
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
        if match and path is not None and check.loaded is not None:
            row, column = check.loaded.position(path)
            problems.append(error(file, row, column, f"helm {version} rejects the values: "
                                  f"{'.'.join(path)}: {match.group(2)}", RULE_HELM))
    if not problems:
        summary = " ".join(stderr.split())[:600]
        problems.append(error(file, 1, 1, f"helm {version} template failed: {summary}", RULE_HELM))
    return problems
