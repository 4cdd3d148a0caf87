"""mutable-tag (warning): a production deployment pinned to a tag that moves.

Tags such as `latest`, `main` or `stable` point at different images over time, so
the same config can roll out another model without any change in git, and a
rollback cannot return to what ran. Use an immutable tag such as the git SHA.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..diagnostics import Diagnostic, Rule, Severity
from .base import RuleContext, rule_doc

RULE = Rule("mutable-tag", Severity.WARNING, rule_doc(__doc__), __name__)
OWNS = ()
CHART_KEYS = ("version",)
MUTABLE_TAGS = frozenset({"latest", "main", "master", "stable", "dev", "develop", "head", "edge",
                          "nightly", "prod", "production", "test", "staging"})


def check(ctx: RuleContext) -> Iterator[Diagnostic]:
    version = ctx.values.get("version")
    if not ctx.environment.production or not isinstance(version, str):
        return
    if version.lower() in MUTABLE_TAGS:
        line, column = ctx.at("version")
        yield RULE.at(ctx.file, line, column, f"version {version!r} is a mutable tag in the production "
                      f"environment {ctx.environment.name!r}; pin an immutable tag such as the git SHA")
