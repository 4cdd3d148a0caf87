"""canary-not-rendered: a canary the config sets must reach the rendered InferenceService.

The config's `canary.trafficPercent` only splits traffic if the chart renders it as the
InferenceService's `spec.predictor.canaryTrafficPercent` in the Serverless (Knative) mode.
A chart without a canary template (the workshop's RawDeployment chart keeps `canary: {}` in
its values.yaml and reads it nowhere) renders none, and KServe ignores one rendered in
RawDeployment (`Standard`) mode: the config then promises a canary that Argo CD never applies,
and `canary set|promote|rollback` edit a key with no effect. Checked on what helm renders
(`render`, `diff`, `status`), at the config's line. Remove `canary`, or use a chart (and a
deployment mode) that renders it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from ..config.yaml_loader import LoadedYaml
from ..diagnostics import Diagnostic, Rule, Severity
from .base import rule_doc

RULE = Rule("canary-not-rendered", Severity.ERROR, rule_doc(__doc__), __name__)

MODE_ANNOTATION = "serving.kserve.io/deploymentMode"
RAW_MODES = ("RawDeployment", "Standard")


def inferenceservices(objects: Sequence[Any]) -> list[dict[str, Any]]:
    return [o for o in objects if isinstance(o, dict) and o.get("kind") == "InferenceService"
            and isinstance(o.get("metadata"), dict)]


def rendered_mode(isvc: dict[str, Any]) -> str | None:
    annotations = isvc["metadata"].get("annotations")
    mode = annotations.get(MODE_ANNOTATION) if isinstance(annotations, dict) else None
    return str(mode) if mode else None


def predictor(isvc: dict[str, Any]) -> dict[str, Any]:
    spec = isvc.get("spec")
    found = spec.get("predictor") if isinstance(spec, dict) else None
    return found if isinstance(found, dict) else {}


def check_rendered(loaded: LoadedYaml, objects: Sequence[Any], chart: str,
                   namespace: str) -> Iterator[Diagnostic]:
    canary = loaded.value.get("canary")
    if not isinstance(canary, dict) or "trafficPercent" not in canary:
        return
    line, column = loaded.position(("canary", "trafficPercent"))
    services = inferenceservices(objects)
    if not services:
        yield RULE.at(loaded.path, line, column, (
            f"canary.trafficPercent is set, but chart {chart} renders no InferenceService: nothing "
            "reads it; remove `canary`"))
        return
    for isvc in services:
        name = isvc["metadata"].get("name")
        if "canaryTrafficPercent" not in predictor(isvc):
            mode = rendered_mode(isvc)
            how = f", in {mode} mode" if mode else ""
            yield RULE.at(loaded.path, line, column, (
                f"canary.trafficPercent is set, but the rendered InferenceService {name} has no "
                f"spec.predictor.canaryTrafficPercent{how}: chart {chart} ignores it, so the new "
                "version would take all traffic at once; remove `canary`, or use a chart that renders it"))
        elif rendered_mode(isvc) in RAW_MODES:
            yield RULE.at(loaded.path, line, column, (
                f"canary.trafficPercent is rendered, but the InferenceService {name} renders in "
                f"{rendered_mode(isvc)} mode, where KServe ignores canaryTrafficPercent: the new version "
                "would take all traffic at once; remove `canary`, or render the Serverless mode"))
