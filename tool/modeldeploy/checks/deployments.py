"""The one config-checking core: every command checks configs here, and only here.

`validate`, `render`, `diff` (each side), `status`, `canary set|promote|rollback` and `release`
all check configs the same way, so what one command accepts the others accept:

- which configs: the PATH arguments, as a pre-commit hook passes them (`check_paths`;
  discovery.expand_paths), or a repository's deployments with a selection of them
  (`check_repository`: status, the rollout commands);
- environments: each environment folder is read once per run (EnvironmentCheck) and every
  config of the folder refers to that one result; its problems are reported once;
- the charts root: the request's (`--charts-root` or MODELDEPLOY_CHARTS_ROOT, resolved once
  by the CLI for every command), else each config's repository root;
- one config: the strict YAML loader (Helm's reading), the values schema of its chart
  (config/values_schema.py), then the semantic rules (rules/), in worker processes for many;
- duplicates (`duplicate-deployment`) across every config found, the other shards' configs
  and the unselected deployments of a repository only read for it.

A DeploymentCheck owns all its problems (its own, duplicates included, and its environment's
by reference) and carries its loaded values forward: rendering, diffing, status and the
rollout edits use them, nothing reads a config twice and nothing is matched by display paths.
The checked text of a planned edit goes through the same steps (`check_text`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TypeVar

import yaml

from ..config import sharding
from ..config.chart_sources import ChartRoots
from ..config.discovery import (
    ConfigFile,
    default_paths,
    display_path,
    expand_paths,
    find_configs,
    outside_repository,
    repository_of,
    resolve_chart,
)
from ..config.environments import RULE_NAMESPACE, Environment, load_environment
from ..config.values_schema import ChartSchema, chart_schema, chart_schema_problem, values_problems
from ..config.yaml_loader import RULE_IO, LoadedYaml, load_yaml_file, load_yaml_text
from ..diagnostics import Diagnostic, Severity
from ..manifests.parse import parse_manifests
from ..parallel import Workers
from ..rules import RENDER_RULES, SEMANTIC_RULES, RuleContext, duplicate_deployment
from .settings import NO_RULES, FileRules, Settings

Progress = Callable[[int, int], None]  # (done, total), called as configs are checked


@dataclass(frozen=True)
class CheckRequest:
    """What to check, from where: the same for every command."""

    cwd: Path
    paths: tuple[str, ...] = ()  # PATH arguments; none: the repository's model-deployments/
    charts_root: Path | None = None  # resolved; None: each config's repository root
    shard: tuple[int, int] | None = None  # (I, N): only the I-th of N shards (1-based)
    sources_anchor: Path | None = None  # relative chart sources start here (diff: the real checkout)


@dataclass(eq=False)  # one per folder and run: compared by identity
class EnvironmentCheck:
    """One environment folder, read once per run; every config in it refers to this."""

    folder: Path  # absolute
    environment: Environment
    diagnostics: list[Diagnostic]  # environment.yaml's problems, or the folder name's as a namespace
    named: bool = False  # passed as a PATH (its environment.yaml): reported whatever its configs are


@dataclass(eq=False)
class DeploymentCheck:
    """One config, checked: its values as Helm reads them, and everything wrong with it."""

    config: ConfigFile
    environment: EnvironmentCheck
    charts_root: Path | None
    loaded: LoadedYaml | None = None
    diagnostics: list[Diagnostic] = field(default_factory=list)  # its own: YAML, schema, rules, duplicates
    chart_dir: Path | None = None  # the chart it names, when that resolves
    rules: FileRules = NO_RULES  # its repository's rule settings and its disable comments
    roots: ChartRoots | None = None  # how its charts root was found (chart_sources.py)
    chart_unusable: bool = False  # its chart's values.schema.json cannot be used (reported once per chart)

    @property
    def problems(self) -> list[Diagnostic]:
        """Its own diagnostics and its environment's, sorted. A namespace taken from the folder's
        name matters only to a config that can render: not to one that cannot be read."""
        inherited = [d for d in self.environment.diagnostics
                     if self.loaded is not None or d.rule != RULE_NAMESPACE.id]
        return sorted([*self.diagnostics, *inherited])

    @property
    def valid(self) -> bool:
        """Readable and without errors (its environment's included): it may be rendered and edited."""
        return self.loaded is not None and not self.chart_unusable and not any(
            d.severity is Severity.ERROR for d in (*self.diagnostics, *self.environment.diagnostics))

    @property
    def name(self) -> str:
        value = self.loaded.value.get("name") if self.loaded else None
        return value if isinstance(value, str) else self.config.deployment_dir.name

    @property
    def namespace(self) -> str:
        return self.environment.environment.namespace


@dataclass
class DeploymentSet:
    """The checked configs of one run, and the problems tied to no single config."""

    checks: list[DeploymentCheck]  # checked (this shard's, or the selected ones), in order
    others: list[DeploymentCheck] = field(default_factory=list)  # only read, for duplicates
    environments: list[EnvironmentCheck] = field(default_factory=list)  # reported once each
    problems: list[Diagnostic] = field(default_factory=list)  # e.g. `file-name`
    covered: list[str] = field(default_factory=list)  # the paths searched for configs

    def diagnostics(self) -> list[Diagnostic]:
        """Every diagnostic to report, each once, sorted."""
        readable = {id(check.environment) for check in self.checks if check.loaded is not None}
        found = [*self.problems]
        for environment in self.environments:
            found += [d for d in environment.diagnostics
                      if environment.named or id(environment) in readable or d.rule != RULE_NAMESPACE.id]
        for check in self.checks:
            found += check.diagnostics
        return sorted(found)


# --- the commands' entry points --------------------------------------------------------------------

def check_paths(request: CheckRequest, workers: Workers | None = None,
                progress: Progress | None = None) -> DeploymentSet:
    """The configs named by the request's PATH arguments (none: the repository's), checked."""
    paths, env_dirs, problems = expand_paths(list(request.paths), request.cwd)
    covered = (paths or default_paths(request.cwd)) if paths or not problems else []
    configs = find_configs(covered, request.cwd, frozenset(env_dirs)) if covered else []
    mine = set(sharding.select(configs, request.shard)) if request.shard else None
    settings = Settings(request.cwd, request.sources_anchor)
    checked = _check(configs, mine, env_dirs, request, settings, workers, progress)
    for problem in problems:  # `file-name`: a file no config is read from
        checked.problems += settings.settle(request.cwd / problem.path, [problem], None)
    checked.covered = covered
    return checked


def check_repository(request: CheckRequest, deployments_root: Path, selected: Sequence[ConfigFile],
                     workers: Workers | None = None) -> DeploymentSet:
    """The `selected` configs of the repository at `deployments_root` (its model-deployments/),
    checked; every other config there is read for duplicates. `checks` follow `selected`."""
    everyone = find_configs([str(deployments_root)], request.cwd, frozenset({deployments_root}))
    everyone += sorted(set(selected) - set(everyone))  # e.g. reached through a linked folder
    chosen = set(selected)
    checked = _check(everyone, chosen, [], request, Settings(request.cwd, request.sources_anchor), workers,
                     None)
    by_config = {check.config: check for check in checked.checks}
    checked.checks = [by_config[config] for config in selected]
    return checked


def check_text(check: DeploymentCheck, text: str) -> DeploymentCheck:
    """`check`'s config as if it held `text` (a planned edit, checked before it is written)."""
    loaded, problems = load_yaml_text(check.config.display, text)
    roots = check.roots or ChartRoots(check.charts_root)
    problems += _values_problems(check.config, check.environment.environment, roots, loaded)
    return _checked(check.config, check.environment, roots, loaded, problems, check.rules.for_text(text))


# --- the core ----------------------------------------------------------------------------------------

def _check(configs: list[ConfigFile], mine: set[ConfigFile] | None, env_dirs: list[Path],
           request: CheckRequest, settings: Settings, workers: Workers | None,
           progress: Progress | None) -> DeploymentSet:
    """Check `mine` of `configs` (None: all), read the others, then look for duplicates among all."""
    environments: dict[Path, EnvironmentCheck] = {}
    reported: list[EnvironmentCheck] = []

    def environment_of(folder: Path) -> EnvironmentCheck:
        if folder not in environments:
            environment, problems = load_environment(folder, request.cwd, settings.settle)
            environments[folder] = EnvironmentCheck(folder, environment, problems)
        return environments[folder]

    for folder in env_dirs:  # an environment.yaml is checked even with no config next to it
        environment_of(folder).named = True
        reported.append(environments[folder])
    todo: list[tuple[ConfigFile, EnvironmentCheck, ChartRoots, Path | None]] = []
    read_only: list[tuple[ConfigFile, EnvironmentCheck, ChartRoots]] = []
    for config in configs:
        environment = environment_of(config.env_dir)
        repository = repository_of(config.path)  # each folder's answer is remembered: configs share it
        charts_root = ChartRoots(request.charts_root or repository, request.charts_root is not None,
                                 settings.repository(repository).chart_sources)
        if mine is None or config in mine:
            if environment not in reported:
                reported.append(environment)
            todo.append((config, environment, charts_root, repository))
        else:
            read_only.append((config, environment, charts_root))
    jobs = [(config, environment.environment, charts_root) for config, environment, charts_root, _ in todo]
    checks = []
    for (config, environment, charts_root, repository), (loaded, problems) in zip(
            todo, _in_workers(_check_one, jobs, workers, progress), strict=True):
        rules = settings.for_file(config.path, loaded.text if loaded else None, repository)
        checks.append(_checked(config, environment, charts_root, loaded, problems, rules))
    others = [DeploymentCheck(config, environment, _root(charts_root, loaded), loaded, roots=charts_root)
              for (config, environment, charts_root), loaded
              in zip(read_only, _in_workers(_read_one, [(c, e.environment, r) for c, e, r in read_only],
                                            workers), strict=True)]
    in_order = {check.config: check for check in [*checks, *others]}
    for check, diagnostic in duplicate_deployment.check_all([in_order[c] for c in configs]):
        if mine is None or check.config in mine:
            check.diagnostics += check.rules.apply([diagnostic])
    return DeploymentSet(checks, others, reported, _chart_problems(checks, request.cwd, settings))


def check_render(check: DeploymentCheck, manifests: str) -> list[Diagnostic]:
    """The config against what its chart rendered (rules.RENDER_RULES: a canary or deployment mode
    the config sets that the render does not carry, names too long for what KServe derives), the
    repository's settings applied."""
    chart = chart_schema(check.chart_dir)
    if check.loaded is None or chart.contract:
        return []  # this repository's chart renders its values one to one: its render is not parsed again
    ran = active_rules(chart)  # a rule that checked the config's values needs no second look
    rules = [rule for rule in RENDER_RULES if rule not in ran]
    try:
        objects = parse_manifests(manifests)
    except (yaml.YAMLError, ValueError, RecursionError):  # the manifest checks report it
        return []
    return check.rules.apply([d for rule in rules
                              for d in rule.check_rendered(check.loaded, objects, chart.name,
                                                           check.namespace)])


def _chart_problems(checks: list[DeploymentCheck], cwd: Path, settings: Settings) -> list[Diagnostic]:
    """The schema problems of the charts the configs name, once per chart (values_schema.py)."""
    found: list[Diagnostic] = []
    unusable: set[Path] = set()
    for chart_dir in dict.fromkeys(check.chart_dir for check in checks if check.chart_dir is not None):
        path = chart_dir / "values.schema.json"
        problem = chart_schema_problem(chart_schema(chart_dir), display_path(path, cwd))
        if problem is not None:
            found += settings.settle(path, [problem], "")
            unusable.add(chart_dir)
    for check in checks:  # helm would refuse every config of it: nothing to render
        check.chart_unusable = check.chart_dir in unusable
    return found


def _root(roots: ChartRoots, loaded: LoadedYaml | None) -> Path | None:
    return roots.root_for(loaded.value)[0] if loaded is not None else roots.fallback


def _checked(config: ConfigFile, environment: EnvironmentCheck, roots: ChartRoots,
             loaded: LoadedYaml | None, problems: list[Diagnostic], rules: FileRules) -> DeploymentCheck:
    charts_root = _root(roots, loaded)
    check = DeploymentCheck(config, environment, charts_root, loaded, rules.settled(problems), rules=rules,
                            roots=roots)
    if loaded is not None:
        check.chart_dir = _chart_dir(loaded, charts_root)
    return check


def _chart_dir(loaded: LoadedYaml, charts_root: Path | None) -> Path | None:
    chart_path = loaded.value.get("chart_path")
    if charts_root is None or not isinstance(chart_path, str):
        return None
    try:
        return resolve_chart(charts_root, chart_path)[0]
    except (OSError, RuntimeError, ValueError):  # the chart-path rule says why
        return None


# --- one config (in worker processes for many) ------------------------------------------------------

T = TypeVar("T")
Job = tuple[ConfigFile, Environment, ChartRoots]
Checked = tuple["LoadedYaml | None", list[Diagnostic]]


def load_config(config: ConfigFile) -> Checked:
    """The config's YAML, unless symlinks take it out of its repository: then refused unread (`io`)."""
    refused = outside_repository(config.path)
    if refused is not None:
        return None, [RULE_IO.at(config.display, 1, 1, refused)]
    return load_yaml_file(str(config.path), config.display)


def _check_one(config: ConfigFile, environment: Environment, roots: ChartRoots) -> Checked:
    loaded, problems = load_config(config)
    return loaded, problems + _values_problems(config, environment, roots, loaded)


def _read_one(config: ConfigFile, environment: Environment, roots: ChartRoots) -> LoadedYaml | None:
    return load_config(config)[0]


def _values_problems(config: ConfigFile, environment: Environment, roots: ChartRoots,
                     loaded: LoadedYaml | None) -> list[Diagnostic]:
    """Both contracts (values_schema.py: the deployment keys, the values against the schema of the
    chart it names), then the rules that apply to that chart."""
    if loaded is None:
        return []
    charts_root, unmapped = roots.root_for(loaded.value)
    chart_dir = _chart_dir(loaded, charts_root)
    names_repository = isinstance(loaded.value.get("repo_url"), str)
    chart = chart_schema(chart_dir, other_repository=names_repository)
    rules = active_rules(chart)
    problems = values_problems(loaded, chart, tuple(path for rule in rules for path in rule.OWNS))
    context = RuleContext(config.display, loaded, environment, charts_root, config.deployment_dir.name,
                          chart, unmapped)
    for rule in rules:
        problems.extend(rule.check(context))
    return problems


def active_rules(chart: ChartSchema) -> tuple[ModuleType, ...]:
    """The semantic rules for a config of `chart`: a rule reading keys of this repository's chart
    (its CHART_KEYS) checks a config of another chart only if that chart's schema declares them."""
    return tuple(rule for rule in SEMANTIC_RULES
                 if chart.contract or all(chart.declares(key) for key in getattr(rule, "CHART_KEYS", ())))


def check_config(config: ConfigFile, environment: Environment, charts_root: Path | None) -> DeploymentCheck:
    """One config on its own: no other config to be a duplicate of, its environment's problems left out."""
    roots = ChartRoots(charts_root)
    return _checked(config, EnvironmentCheck(config.env_dir, environment, []), roots,
                    *_check_one(config, environment, roots), NO_RULES)


def _chunk(function: Callable[..., T], jobs: list[Job]) -> list[T]:
    return [function(*job) for job in jobs]


def _in_workers(function: Callable[..., T], jobs: list[Job], workers: Workers | None,
                progress: Progress | None = None) -> list[T]:
    """`function(*job)` of each job, in order; in worker processes for many."""
    pool = workers.get(len(jobs)) if workers is not None else None
    results: list[T] = []
    if pool is None or workers is None:
        for job in jobs:
            results.append(function(*job))
            if progress is not None:
                progress(len(results), len(jobs))
        return results
    size = max(8, min(64, math.ceil(len(jobs) / (workers.count * 4))))
    chunks = [jobs[i:i + size] for i in range(0, len(jobs), size)]
    own = len(chunks) // workers.count if workers.main_works else 0  # the last ones: done here meanwhile
    futures = [pool.submit(_chunk, function, chunk) for chunk in chunks[:len(chunks) - own]]
    done_here = [_chunk(function, chunk) for chunk in chunks[len(chunks) - own:]]
    for future in futures:
        results += future.result()
        if progress is not None:
            progress(len(results), len(jobs))
    for part in done_here:
        results += part
    if progress is not None and done_here:
        progress(len(results), len(jobs))
    return results
