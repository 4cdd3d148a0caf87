"""chart-path: `chart_path` must name a chart folder inside the charts root.

The charts root is `--charts-root`, or by default the root of the git repository
holding the config. The path must be relative, must not leave the root (no `..`,
no symlink pointing outside), and the folder must contain `Chart.yaml`.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..diagnostics import Diagnostic, Severity, error
from ..discovery import resolve_chart
from .base import RuleContext

ID = "chart-path"
SEVERITY = Severity.ERROR
OWNS = (("chart_path",),)


def check(ctx: RuleContext) -> Iterator[Diagnostic]:
    if "chart_path" not in ctx.values:
        return
    chart_path = ctx.values["chart_path"]
    line, column = ctx.at("chart_path")
    if not isinstance(chart_path, str) or not chart_path:
        yield error(ctx.file, line, column, "`chart_path` must be a path such as "
                    "`charts/model-deployment/music-transformer`", ID)
        return
    if ctx.charts_root is None:
        yield error(ctx.file, line, column, "cannot tell where charts live: the config is in no git "
                    "repository; pass --charts-root DIR", ID)
        return
    _, reason = resolve_chart(ctx.charts_root, chart_path)
    if reason:
        yield error(ctx.file, line, column, f"chart_path {chart_path!r} {reason}", ID)
