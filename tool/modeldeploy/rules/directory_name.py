"""directory-name (warning): the config's folder is named like the deployment.

`model-deployments/<env>/<name>/config.yaml` is how people and `modeldeploy
status` find a deployment; a folder `jukebox/` holding `name: jukebox-v2` hides
which InferenceService it manages.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..config.yaml_loader import excerpt
from ..diagnostics import Diagnostic, Rule, Severity
from .base import RuleContext, rule_doc

RULE = Rule("directory-name", Severity.WARNING, rule_doc(__doc__), __name__)
OWNS = ()


def check(ctx: RuleContext) -> Iterator[Diagnostic]:
    name = ctx.values.get("name")
    if isinstance(name, str) and name != ctx.dir_name:
        line, column = ctx.at("name")
        yield RULE.at(ctx.file, line, column, f"name {excerpt(name)!r} differs from its folder "
                      f"{excerpt(ctx.dir_name)!r}; rename the folder or the deployment so they match")
