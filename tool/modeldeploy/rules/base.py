"""What every rule receives, and the shape of a rule module.

A rule module exports `ID` (the rule id printed in brackets), `SEVERITY`, `OWNS`
(the config paths whose schema errors it reports itself, better worded), and
`check(ctx)`, a generator of diagnostics. Its docstring is its documentation.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..config.environments import Environment
from ..config.yaml_loader import JsonPath, LoadedYaml


@dataclass(frozen=True)
class RuleContext:
    file: str
    config: LoadedYaml
    environment: Environment
    charts_root: Path | None
    dir_name: str

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
