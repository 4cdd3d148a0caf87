"""deployment-mode-not-rendered: the deployment mode the config names must be the one that renders.

A config's `deployment_mode` means something only if the chart renders it as the
InferenceService's `serving.kserve.io/deploymentMode` annotation. A chart that hard-codes
`RawDeployment` (the workshop's upstream charts) renders it whatever the config says, so
`deployment_mode: Serverless` there promises scale-to-zero and revisions that never come.
Checked on what helm renders (`render`, `diff`, `status`), at the config's line; KServe's
names `Standard` and `Knative` (0.16 and later) are the same modes as `RawDeployment` and
`Serverless`, and an InferenceService without the annotation takes the cluster's default.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from ..config.yaml_loader import LoadedYaml, excerpt
from ..diagnostics import Diagnostic, Rule, Severity
from .base import rule_doc
from .canary_not_rendered import inferenceservices, rendered_mode

RULE = Rule("deployment-mode-not-rendered", Severity.ERROR, rule_doc(__doc__), __name__)

SAME_MODE = {"Standard": "RawDeployment", "Knative": "Serverless"}


def check_rendered(loaded: LoadedYaml, objects: Sequence[Any], chart: str,
                   namespace: str) -> Iterator[Diagnostic]:
    wanted = loaded.value.get("deployment_mode")
    if not isinstance(wanted, str) or not wanted:
        return
    line, column = loaded.position(("deployment_mode",))
    for isvc in inferenceservices(objects):
        mode = rendered_mode(isvc)
        if mode is None or SAME_MODE.get(mode, mode) == SAME_MODE.get(wanted, wanted):
            continue
        yield RULE.at(loaded.path, line, column, (
            f"deployment_mode says {excerpt(wanted)}, but the rendered InferenceService "
            f"{isvc['metadata'].get('name')} is annotated {excerpt(mode)}: chart {chart} does not render "
            "this value; remove `deployment_mode`, or use a chart that renders it"))
