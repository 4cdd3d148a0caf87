"""name-format: `name` must be a DNS-1035 label.

KServe's webhook accepts an InferenceService name only if it matches
`[a-z]([-a-z0-9]*[a-z0-9])?`: lower-case letters, digits and `-`, starting with a
letter and ending with a letter or digit. Helm would render `Jukebox_V2 x` without
complaint and the cluster would refuse it after the merge. The message proposes a
valid spelling.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ..config.yaml_loader import excerpt, helm_display
from ..diagnostics import Diagnostic, Rule, Severity
from .base import RuleContext, rule_doc

RULE = Rule("name-format", Severity.ERROR, rule_doc(__doc__), __name__)
OWNS = (("name",),)
CHART_KEYS = ("name",)
DNS_1035 = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?")  # use fullmatch: `$` would allow a final newline
NAME_MAX = 63  # a DNS-1035 label; name-length reports names too long for what KServe derives


def suggestion(name: str) -> str:
    fixed = re.sub(r"[^a-z0-9-]+", "-", name[:200].lower()).strip("-")
    fixed = re.sub(r"-{2,}", "-", fixed)
    fixed = re.sub(r"^[^a-z]+", "", fixed)[:NAME_MAX].rstrip("-")
    return fixed or "my-model"


def check(ctx: RuleContext) -> Iterator[Diagnostic]:
    if "name" not in ctx.values:
        return  # schema-missing-key reports it
    name = ctx.values["name"]
    line, column = ctx.at("name")
    tag = ctx.tag("name")
    if name is None or tag == "null":
        yield RULE.at(ctx.file, line, column, "`name` has no value; write the deployment's name, e.g. "
                    f"`name: {suggestion(ctx.dir_name)}`")
    elif not isinstance(name, str):
        words = {"int": "number", "float": "number", "bool": "boolean"}
        read = f"`name: {excerpt(ctx.raw('name'))}` is read by Helm as the {words[tag]} " \
            f"{excerpt(helm_display(tag, name))}" if tag in words else "`name` is a list or mapping"
        yield RULE.at(ctx.file, line, column, f"{read}, not text; a name "
                    f"is a DNS-1035 label (lower-case letters, digits and '-', starting with a letter), "
                    f"e.g. `name: {suggestion(ctx.dir_name)}`")
    elif DNS_1035.fullmatch(name.rstrip("\n")) and name.endswith("\n"):
        yield RULE.at(ctx.file, line, column, f"name {excerpt(name)!r} ends with a line break, which Helm's "
                    "schema check and KServe refuse (a `|` block scalar or a `\\n` keeps it); write "
                    f"`name: {name.rstrip()}`")
    elif not DNS_1035.fullmatch(name):
        yield RULE.at(ctx.file, line, column, f"name {excerpt(name)!r} is not a valid InferenceService name "
                    "(a DNS-1035 label: lower-case letters, digits and '-', starting with a letter, "
                    f"ending with a letter or digit); e.g. `name: {suggestion(name)}`")
