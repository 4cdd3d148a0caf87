"""canary-raw-deployment: a canary needs the Serverless deployment mode.

KServe splits traffic by `canaryTrafficPercent` only in Serverless (Knative) mode;
in RawDeployment mode it ignores the field without a word (kserve/kserve#5335), so
the new version would take all traffic at once. Remove `canary`, or use
`deployment_mode: Serverless`.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..diagnostics import Diagnostic, Rule, Severity
from .base import RuleContext, rule_doc

RULE = Rule("canary-raw-deployment", Severity.ERROR, rule_doc(__doc__), __name__)
OWNS = ()
CHART_KEYS = ("canary", "deployment_mode")


def check(ctx: RuleContext) -> Iterator[Diagnostic]:
    canary = ctx.values.get("canary")
    if ctx.values.get("deployment_mode") != "RawDeployment" or not isinstance(canary, dict) \
            or "trafficPercent" not in canary:
        return
    line, column = ctx.at("canary", key=True)
    yield RULE.at(ctx.file, line, column, "canary traffic splitting is ignored by KServe in RawDeployment "
                "mode: the new version would get 100% of traffic at once; remove `canary` or set "
                "`deployment_mode: Serverless`")
