"""chart-path: `chart_path` must name a chart folder inside the charts root.

The charts root is `--charts-root` (or the MODELDEPLOY_CHARTS_ROOT variable), which every
command that checks configs takes, or by default the root of the git repository holding the
config; a folder it does not hold gets a message saying how to point at a charts repository. The path must be
relative, must not leave the root (no `..`, no symlink pointing outside), may use
only letters, digits, `.`, `_`, `-` and `/`, and the folder must contain
`Chart.yaml`. A misspelt folder gets a did-you-mean.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from .. import schema_store
from ..config import go_regex
from ..config.discovery import resolve_chart
from ..config.yaml_loader import excerpt
from ..diagnostics import Diagnostic, Rule, Severity, closest
from .base import RuleContext, rule_doc

RULE = Rule("chart-path", Severity.ERROR, rule_doc(__doc__), __name__, can_disable=False)
OWNS = (("chart_path",),)


def check(ctx: RuleContext) -> Iterator[Diagnostic]:
    if "chart_path" not in ctx.values:
        return
    chart_path = ctx.values["chart_path"]
    line, column = ctx.at("chart_path")
    if not isinstance(chart_path, str) or not chart_path:
        yield RULE.at(ctx.file, line, column, "`chart_path` must be a path such as "
                    "`charts/model-deployment/music-transformer`")
        return
    if ctx.charts_root is None and ctx.chart_source_problem is not None:
        line, column = ctx.at("repo_url")
        yield RULE.at(ctx.file, line, column, ctx.chart_source_problem)
        return
    if ctx.charts_root is None:
        yield RULE.at(ctx.file, line, column, "cannot tell where charts live: the config is in no git "
                    "repository; pass --charts-root DIR or set MODELDEPLOY_CHARTS_ROOT")
        return
    shown = excerpt(chart_path)
    if not os.path.isabs(chart_path) and ".." not in Path(chart_path).parts \
            and not _PATTERN.search(chart_path):
        yield RULE.at(ctx.file, line, column, f"chart_path {shown!r} may use only letters, digits, "
                    "'.', '_', '-' and '/'; e.g. `chart_path: charts/model-deployment/music-transformer`")
        return
    try:
        _, reason = resolve_chart(ctx.charts_root, chart_path)
    except (OSError, RuntimeError, ValueError) as exc:  # too long, a symlink loop, ...
        why = "a symlink loop" if isinstance(exc, RuntimeError) else \
            (getattr(exc, "strerror", None) or str(exc))
        yield RULE.at(ctx.file, line, column, f"chart_path {shown!r} cannot be resolved under the "
                    f"charts root {ctx.charts_root} ({excerpt(why)}); name the chart's folder")
        return
    if reason:
        hint = _did_you_mean(ctx.charts_root, chart_path) if "names no folder" in reason else None
        fix = f"; did you mean `{hint}`?" if hint else next(
            (fix for needle, fix in _FIXES if needle in reason), "")
        yield RULE.at(ctx.file, line, column, f"chart_path {shown!r} {reason}{fix}")


# (a substring of resolve_chart's reason, the fix to add when there is no did-you-mean)
_FIXES = (
    ("without Chart.yaml", "; name the chart's own folder, the one holding Chart.yaml"),
    ("names no folder", "; check the spelling (the path is relative to the charts root), or, if the charts "
                        "live in another repository, point at its checkout with --charts-root DIR or "
                        "MODELDEPLOY_CHARTS_ROOT"),
    ("outside the charts root", "; keep the chart inside the charts root (or pass --charts-root)"),
)


# the schema's pattern, read as Helm reads it: no trailing newline slips through `$`
_PATTERN = go_regex.compile_go(
    schema_store.load(schema_store.CONFIG_SCHEMA)["properties"]["chart_path"]["pattern"])


def _did_you_mean(root: Path, chart_path: str) -> str | None:
    """The chart path with its first missing folder replaced by the closest existing one."""
    current, kept = root, list[str]()
    for part in Path(chart_path).parts:
        if (current / part).is_dir():
            current, kept = current / part, [*kept, part]
            continue
        try:
            with os.scandir(current) as entries:
                names = [e.name for _, e in zip(range(1000), entries, strict=False) if e.is_dir()]
        except OSError:
            return None
        close = closest(part, names)
        return "/".join([*kept, close]) if close else None
    return None
