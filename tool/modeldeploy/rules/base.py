"""What every rule receives, and the shape of a rule module.

A rule module (in the manner of yamllint's) declares `RULE`, its Rule (the id printed in
brackets, the default severity, whether it can be turned off), `OWNS` (the config paths whose
schema errors it reports itself, better worded), optionally `CHART_KEYS` (the keys of this
repository's chart it reads: a config of another chart is checked by it only when that chart's
schema declares them all), and `check(ctx)`, a generator of
diagnostics made with `RULE.at(...)`. Its docstring is its documentation: the first line
`id (severity): what it requires.`, then why (`rule_doc` turns it into the rule's doc).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..config.environments import Environment
from ..config.values_schema import ChartSchema
from ..config.yaml_loader import JsonPath, LoadedYaml


@dataclass(frozen=True)
class RuleContext:
    file: str
    config: LoadedYaml
    environment: Environment
    charts_root: Path | None
    dir_name: str
    chart: ChartSchema | None = None  # what the chart it names says of its values
    chart_source_problem: str | None = None  # why there is no charts root (an unmapped repo_url)

    @property
    def values(self) -> dict[str, Any]:
        value: dict[str, Any] = self.config.value
        return value

    def at(self, *path: Any, key: bool = False) -> tuple[int, int]:
        json_path: JsonPath = tuple(path)
        return self.config.position(json_path, key=key)

    def raw(self, *path: Any) -> str | None:
        node = self.config.nodes.get(tuple(path))
        return node.raw if node else None

    def tag(self, *path: Any) -> str | None:
        node = self.config.nodes.get(tuple(path))
        return node.tag if node else None


def rule_doc(docstring: str | None) -> str:
    """A rule module's docstring as its Rule's documentation: the first line without its
    `id (severity):` lead, capitalised, then the rest."""
    first, _, rest = (docstring or "").partition("\n")
    title = first.split(":", 1)[1].strip() if ":" in first else first.strip()
    return f"{title[:1].upper()}{title[1:]}\n{rest.strip()}".strip()
