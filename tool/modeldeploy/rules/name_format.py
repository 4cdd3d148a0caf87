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

from ..diagnostics import Diagnostic, Severity, error
from .base import RuleContext

ID = "name-format"
SEVERITY = Severity.ERROR
OWNS = (("name",),)
DNS_1035 = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")


def suggestion(name: str) -> str:
    fixed = re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-")
    fixed = re.sub(r"-{2,}", "-", fixed)
    fixed = re.sub(r"^[^a-z]+", "", fixed)
    return fixed or "my-model"


def check(ctx: RuleContext) -> Iterator[Diagnostic]:
    if "name" not in ctx.values:
        return  # schema-missing-key reports it
    name = ctx.values["name"]
    line, column = ctx.at("name")
    if not isinstance(name, str):
        raw = ctx.raw("name")
        yield error(ctx.file, line, column, f"`name: {raw}` is not text; quote it or use a word "
                    "such as `name: jukebox`", ID)
    elif not DNS_1035.match(name):
        yield error(ctx.file, line, column, f"name {name!r} is not a valid InferenceService name "
                    "(a DNS-1035 label: lower-case letters, digits and '-', starting with a letter, "
                    f"ending with a letter or digit); e.g. `name: {suggestion(name)}`", ID)
