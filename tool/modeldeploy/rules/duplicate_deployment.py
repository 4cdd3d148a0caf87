"""duplicate-deployment: two configs that would manage the same InferenceService.

Two config files whose `name` is the same in the same namespace render objects
with the same name: Argo CD would apply both, the later one silently winning (and
`render -o` would write both to one file). Reported on every config after the first.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol, TypeVar

from ..config.yaml_loader import LoadedYaml
from ..diagnostics import Diagnostic, Rule, Severity
from .base import rule_doc

RULE = Rule("duplicate-deployment", Severity.ERROR, rule_doc(__doc__), __name__)


class Checked(Protocol):
    @property
    def loaded(self) -> LoadedYaml | None: ...
    @property
    def namespace(self) -> str: ...
    @property
    def name(self) -> str: ...


C = TypeVar("C", bound=Checked)


def check_all(checks: Sequence[C]) -> Iterator[tuple[C, Diagnostic]]:
    """(config, its diagnostic) for each config that repeats an earlier one's name and namespace."""
    first: dict[tuple[str, str], str] = {}
    for check in checks:
        if check.loaded is None:
            continue
        key = (check.namespace, check.name)
        if key in first:
            line, column = check.loaded.position(("name",))
            yield check, RULE.at(check.loaded.path, line, column,
                        f"deployment {check.name!r} in namespace {key[0]!r} is also declared in "
                        f"{first[key]}; each InferenceService needs one config: delete one of them, "
                        "or give one another `name`")
        else:
            first[key] = check.loaded.path
