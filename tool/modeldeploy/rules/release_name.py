"""release-name: the Helm release name must be one helm accepts.

The release is named after the config's `name`, or, without one, after the config's folder
(what the example ApplicationSet writes as `releaseName: '{{ .name | default .path.basename }}'`).
Helm 3 and 4 refuse to render a release name of more than 53 characters, or one that is not
lower-case letters, digits, `-` and `.` (starting and ending with a letter or digit), so
nothing would be deployed; this is checked before helm runs, for every chart.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ..config.yaml_loader import excerpt
from ..diagnostics import Diagnostic, Rule, Severity
from .base import RuleContext, rule_doc
from .name_format import DNS_1035, suggestion

RULE = Rule("release-name", Severity.ERROR, rule_doc(__doc__), __name__)
OWNS = ()

RELEASE_NAME_MAX = 53  # helm's own limit (pkg/chartutil ValidateReleaseName)
RELEASE_NAME = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")


def check(ctx: RuleContext) -> Iterator[Diagnostic]:
    named = "name" in ctx.values
    release = ctx.values.get("name") if named else ctx.dir_name
    if not isinstance(release, str) or not release:
        return  # the schemas or name-format say what is wrong with `name`
    if named and ctx.chart is not None and ctx.chart.declares("name") and not DNS_1035.fullmatch(release):
        return  # name-format reports it, with a valid spelling
    fits = len(release) <= RELEASE_NAME_MAX
    if fits and RELEASE_NAME.fullmatch(release):
        return
    shown = excerpt(release)
    what = f"{len(release)} characters; helm allows at most {RELEASE_NAME_MAX}" if not fits else \
        "not a name helm accepts (lower-case letters, digits, '-' and '.', starting and ending with a " \
        "letter or digit)"
    better = suggestion(release)[:RELEASE_NAME_MAX].rstrip("-")
    if named:
        line, column = ctx.at("name")
        verb = "has" if not fits else "is"
        yield RULE.at(ctx.file, line, column, f"release name {shown!r} (the config's `name`) {verb} {what}; "
                      f"e.g. `name: {better}`")
        return
    yield RULE.at(ctx.file, 1, 1, (f"release name {shown!r} (the config's folder name: the config has no "
                                   f"`name`) {'has ' + what if not fits else 'is ' + what}; add e.g. "
                                   f"`name: {better}`, or rename the folder"))
