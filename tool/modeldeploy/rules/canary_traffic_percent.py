"""canary-traffic-percent: `canary.trafficPercent` is an integer from 0 to 100.

It becomes `spec.predictor.canaryTrafficPercent`, which neither the CRD nor the
KServe webhook bounds. 100 is the blue/green cut-over, 0 the rollback. Refused:
`"20"` (text), `20.5`, `true`, an empty value (Helm would render a null: all
traffic to the new model), and anything outside 0..100. An integer not written in
plain decimal digits, which Helm reads as another number (`010` renders 8), is
reported as `yaml-number-form`.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..config.yaml_loader import misread_number
from ..diagnostics import Diagnostic, Rule, Severity
from .base import RuleContext, rule_doc

RULE = Rule("canary-traffic-percent", Severity.ERROR, rule_doc(__doc__), __name__)
OWNS = (("canary", "trafficPercent"),)
CHART_KEYS = ("canary",)


def check(ctx: RuleContext) -> Iterator[Diagnostic]:
    canary = ctx.values.get("canary")
    if not isinstance(canary, dict) or "trafficPercent" not in canary:
        return
    value = canary["trafficPercent"]
    raw = ctx.raw("canary", "trafficPercent")
    tag = ctx.tag("canary", "trafficPercent")
    line, column = ctx.at("canary", "trafficPercent")
    fix = "write a whole number from 0 to 100 without quotes, e.g. `trafficPercent: 20`"
    node = ctx.config.nodes.get(("canary", "trafficPercent"))
    if tag == "int" and node is not None and misread_number(node, value):
        return  # written so that Helm reads another integer: yaml-number-form says which
    if tag == "null":
        yield RULE.at(ctx.file, line, column, f"canary.trafficPercent has no value (Helm would render "
                    f"an empty canaryTrafficPercent); {fix}, or remove `canary` to promote")
    elif tag != "int" or isinstance(value, bool) or not isinstance(value, int):
        shown = f'"{raw}"' if tag == "str" else raw
        yield RULE.at(ctx.file, line, column, f"canary.trafficPercent is {shown}, not an integer; {fix}")
    elif not 0 <= value <= 100:
        yield RULE.at(ctx.file, line, column, f"canary.trafficPercent is {value}, outside 0..100; "
                    "write a whole number from 0 to 100 (100 sends all traffic to the latest "
                    "revision, 0 rolls back)")
