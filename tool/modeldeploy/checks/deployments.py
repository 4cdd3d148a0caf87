"""Step 1: check one config file: strict YAML, the schema, then the semantic rules."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import jsonschema

from .. import schema_store
from ..config import go_regex
from ..config.discovery import ConfigFile, outside_repository, resolve_chart
from ..config.environments import Environment
from ..config.schema_diagnostics import schema_diagnostics
from ..config.yaml_loader import RULE_IO, LoadedYaml, load_yaml_file, load_yaml_text
from ..diagnostics import Diagnostic, Severity, error
from ..parallel import Workers
from ..rules import OWNED_PATHS, RULES, RuleContext


@dataclass
class ConfigCheck:
    config: ConfigFile
    environment: Environment
    charts_root: Path | None
    loaded: LoadedYaml | None = None
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.loaded is not None and not any(
            d.severity is Severity.ERROR for d in self.diagnostics)

    @property
    def name(self) -> str:
        value = self.loaded.value.get("name") if self.loaded else None
        return value if isinstance(value, str) else self.config.deployment_dir.name

    @property
    def chart_dir(self) -> Path | None:
        if self.loaded is None or self.charts_root is None:
            return None
        chart_path = self.loaded.value.get("chart_path")
        if not isinstance(chart_path, str):
            return None
        return resolve_chart(self.charts_root, chart_path)[0]


@lru_cache(maxsize=1)
def config_validator() -> jsonschema.protocols.Validator:
    # patterns match as Helm's schema check matches them (Go regexp: `$` is the end of the text)
    validator: jsonschema.protocols.Validator = go_regex.draft7_validator(
        schema_store.load(schema_store.CONFIG_SCHEMA))
    return validator


def load_config(config: ConfigFile) -> tuple[LoadedYaml | None, list[Diagnostic]]:
    """The config's YAML, unless symlinks take it out of its repository: then refused unread (`io`)."""
    refused = outside_repository(config.path)
    if refused is not None:
        return None, [error(config.display, 1, 1, refused, RULE_IO)]
    return load_yaml_file(str(config.path), config.display)


def check_config(config: ConfigFile, environment: Environment, charts_root: Path | None) -> ConfigCheck:
    loaded, problems = load_config(config)
    return _check_loaded(config, environment, charts_root, loaded, problems)


def check_config_text(config: ConfigFile, environment: Environment, charts_root: Path | None,
                      text: str) -> ConfigCheck:
    """Check `text` as the content of `config`: a planned edit, checked before it is written."""
    loaded, problems = load_yaml_text(config.display, text)
    return _check_loaded(config, environment, charts_root, loaded, problems)


def _check_loaded(config: ConfigFile, environment: Environment, charts_root: Path | None,
                  loaded: LoadedYaml | None, problems: list[Diagnostic]) -> ConfigCheck:
    result = ConfigCheck(config, environment, charts_root)
    result.diagnostics.extend(problems)
    if loaded is None:
        return result
    result.loaded = loaded
    result.diagnostics.extend(schema_diagnostics(loaded, config_validator(), OWNED_PATHS))
    context = RuleContext(config.display, loaded, environment, charts_root,
                          config.deployment_dir.name)
    for rule in RULES:
        result.diagnostics.extend(rule.check(context))
    return result


ConfigJob = tuple[ConfigFile, Environment, "Path | None"]


def _check_config_chunk(jobs: list[ConfigJob]) -> list[ConfigCheck]:
    return [check_config(config, environment, charts_root) for config, environment, charts_root in jobs]


def check_many(jobs: Sequence[ConfigJob], workers: Workers | None,
               progress: Callable[[int, int], None] | None = None) -> list[ConfigCheck]:
    """`check_config` of each job, in order; in worker processes for many."""
    pool = workers.get(len(jobs)) if workers is not None else None
    checks: list[ConfigCheck] = []
    if pool is None:
        for config, environment, charts_root in jobs:
            checks.append(check_config(config, environment, charts_root))
            if progress is not None:
                progress(len(checks), len(jobs))
        return checks
    size = max(8, min(64, math.ceil(len(jobs) / (workers.count * 4)))) if workers else 64
    futures = [pool.submit(_check_config_chunk, list(jobs[i:i + size])) for i in range(0, len(jobs), size)]
    for future in futures:
        checks += future.result()
        if progress is not None:
            progress(len(checks), len(jobs))
    return checks
