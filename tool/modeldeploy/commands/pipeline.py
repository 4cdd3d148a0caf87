"""The pipeline: find configs -> check -> render -> check manifests -> result.

Returns results; never prints or exits (the CLI does). Failures of one config
never stop the others: each is reported against its own file. `render -o DIR` is
one transaction (output_tree.py): DIR changes only when the run succeeds.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..checks.deployments import ConfigCheck, ConfigJob, check_many, load_config
from ..config import sharding
from ..config.discovery import (
    CONFIG_FILENAME,
    DEPLOYMENTS_DIRNAME,
    ENVIRONMENT_FILENAME,
    ConfigFile,
    default_charts_root,
    default_paths,
    display_path,
    find_configs,
    find_repo_root,
)
from ..config.environments import RULE_NAMESPACE, Environment, load_environment
from ..diagnostics import Diagnostic, InternalError, Severity, error
from ..manifests.checker import ManifestChecker
from ..manifests.schema_registry import (
    DEFAULT_KUBERNETES_VERSION,
    check_kubernetes_version,
    default_locations,
)
from ..parallel import Workers
from ..processes import DEFAULT_TIMEOUT_SECONDS, Deadline
from ..render import helm as helm_runner
from ..render import output_tree
from ..render.batch.scheduler import render_many
from ..render.single import Release
from ..results.run import RenderedDeployment, RunResult
from ..rules import duplicate_deployment

Progress = Callable[[int, int], None]  # (done, total), called as deployments finish


@dataclass(frozen=True)
class Options:
    charts_root: Path | None = None
    kubernetes_version: str = DEFAULT_KUBERNETES_VERSION
    schema_locations: tuple[str, ...] = ()  # extra kubeconform-style templates, tried first
    output_dir: Path | None = None
    jobs: int | None = None  # helm processes at once (default: the CPU count)
    shard: tuple[int, int] | None = None  # (I, N): only the I-th of N shards (1-based)
    deadline: Deadline | None = None  # for every helm process of the run (default: 600 s from its start)
    strict: bool = False  # warnings fail the run: then output_dir is left as it was


RULE_FILE_NAME = "file-name"


def expand_paths(paths: list[str], cwd: Path) -> tuple[list[str], list[Path], list[Diagnostic]]:
    """Paths as a pre-commit hook passes them.

    An environment.yaml stands for its environment's folder: its configs are checked again.
    - `file-name`: a `config.yml` or `environment.yml` is refused, since modeldeploy and Argo CD's
      ApplicationSet read only config.yaml and environment.yaml: the file would be ignored.
    Returns (paths, environment folders, diagnostics)."""
    expanded: list[str] = []
    env_dirs: list[Path] = []
    problems: list[Diagnostic] = []
    for raw in paths:
        name = Path(raw).name
        if name in (CONFIG_FILENAME[:-4] + "yml", ENVIRONMENT_FILENAME[:-4] + "yml"):
            wanted = name[:-3] + "yaml"
            problems.append(error(display_path(cwd / raw, cwd), 1, 1, f"modeldeploy and Argo CD read "
                                  f"only `{wanted}`, so this file is ignored: rename it to {wanted}",
                                  RULE_FILE_NAME))
        elif name == ENVIRONMENT_FILENAME and os.path.isfile(cwd / raw):  # False, not raising, on EACCES
            env_dirs.append(Path(os.path.abspath(cwd / raw)).parent)
            expanded.append(str(Path(raw).parent))
        else:
            expanded.append(raw)
    if paths and not expanded:  # only refused names: nothing else to check
        return [], env_dirs, problems
    return expanded, env_dirs, problems


@dataclass
class _Checked:
    checks: list[ConfigCheck]  # this shard's configs, checked
    extra: list[Diagnostic]
    everyone: list[ConfigCheck]  # every config found, the other shards' only read
    covered: list[str]  # the paths searched for configs


def check_configs(paths: list[str], options: Options, cwd: Path, progress: Progress | None = None,
                  workers: Workers | None = None,
                  ) -> tuple[list[ConfigCheck], list[Diagnostic]]:
    checked = _check_configs(paths, options, cwd, progress, workers)
    return checked.checks, checked.extra


def _check_configs(paths: list[str], options: Options, cwd: Path, progress: Progress | None = None,
                   workers: Workers | None = None) -> _Checked:
    paths, env_dirs, extra = expand_paths(paths, cwd)
    covered = (paths or default_paths(cwd)) if paths or not extra else []
    configs = find_configs(covered, cwd, frozenset(env_dirs)) if covered else []
    return _check_found(configs, env_dirs, extra, covered, options, cwd, progress, workers)


def check_config_files(configs: list[ConfigFile], env_dirs: list[Path], extra: list[Diagnostic],
                       options: Options, cwd: Path, progress: Progress | None = None,
                       workers: Workers | None = None,
                       ) -> tuple[list[ConfigCheck], list[Diagnostic]]:
    """check_configs of found config files (and environment folders), `extra` diagnostics added."""
    checked = _check_found(configs, env_dirs, extra, [], options, cwd, progress, workers)
    return checked.checks, checked.extra


def _check_found(configs: list[ConfigFile], env_dirs: list[Path], extra: list[Diagnostic],
                 covered: list[str], options: Options, cwd: Path, progress: Progress | None,
                 workers: Workers | None) -> _Checked:
    # --shard: only this shard's configs are checked; the others are only read, so that
    # duplicate-deployment still compares every config (sharding.py says how shards split).
    shard = set(sharding.select(configs, options.shard)) if options.shard else None
    environments: dict[Path, tuple[Environment, list[Diagnostic]]] = {}
    todo: list[ConfigJob] = []  # this shard's configs, checked below
    others: dict[ConfigFile, ConfigCheck] = {}  # the other shards' configs, read only
    for env_dir in env_dirs:  # an environment.yaml is checked even with no config next to it
        environments[env_dir] = load_environment(env_dir, cwd)
        extra.extend(environments[env_dir][1])
    reported = set(env_dirs)
    pending: list[Path] = []  # environments of this shard's configs, reported after the checks
    roots: dict[Path, Path | None] = {}
    for config in configs:
        mine = shard is None or config in shard
        if config.env_dir not in environments:
            environments[config.env_dir] = load_environment(config.env_dir, cwd)
        if mine and config.env_dir not in reported:
            reported.add(config.env_dir)
            pending.append(config.env_dir)
        environment = environments[config.env_dir][0]
        charts_root = options.charts_root or _default_charts_root(config, roots)
        if mine:
            todo.append((config, environment, charts_root))
        else:
            loaded = load_config(config)[0]
            others[config] = ConfigCheck(config, environment, charts_root, loaded)
    checks = check_many(todo, workers, progress)  # in worker processes for many
    # A namespace taken from the folder's name matters only to configs that can render: it is
    # not reported for a folder whose configs are all unreadable (e.g. `validate /dev/null`).
    readable = {check.config.env_dir for check in checks if check.loaded is not None}
    for env_dir in pending:
        extra.extend(d for d in environments[env_dir][1]
                     if env_dir in readable or d.rule != RULE_NAMESPACE)
    in_order = iter(checks)
    everyone = [others[c] if c in others else next(in_order) for c in configs]
    mine_shown = {check.config.display for check in checks}
    extra.extend(d for d in duplicate_deployment.check_all(everyone) if shard is None or d.path in mine_shown)
    return _Checked(checks, extra, everyone, covered)


def _default_charts_root(config: ConfigFile, cache: dict[Path, Path | None]) -> Path | None:
    """default_charts_root(config.path), the walk up to the repository shared per folder."""
    deployment_dir = config.deployment_dir
    if deployment_dir.name == DEPLOYMENTS_DIRNAME or os.path.exists(deployment_dir / ".git"):
        return default_charts_root(config.path)
    if config.env_dir not in cache:  # the same answer for every config of the folder
        cache[config.env_dir] = default_charts_root(deployment_dir)
    return cache[config.env_dir]


def validate(paths: list[str], options: Options, cwd: Path, progress: Progress | None = None) -> RunResult:
    workers = Workers(options.jobs)  # config checks in processes for big repos
    try:
        checks, extra = check_configs(paths, options, cwd, progress, workers)
    finally:
        workers.close()
    result = RunResult(files_checked=len(checks))
    for check in checks:
        result.diagnostics.extend(check.diagnostics)
    result.diagnostics.extend(extra)
    result.diagnostics.sort()
    return result


def render(paths: list[str], options: Options, cwd: Path,
           helm: helm_runner.Helm | None = None, progress: Progress | None = None) -> RunResult:
    kubernetes_version = check_kubernetes_version(options.kubernetes_version)
    deadline = options.deadline or Deadline.after(DEFAULT_TIMEOUT_SECONDS)
    output = None
    if options.output_dir is not None:  # checked before anything is rendered
        protected = [cwd, *(cwd / p for p in paths), *([options.charts_root] if options.charts_root else [])]
        output = output_tree.OutputTree.open(options.output_dir, protected)
    try:
        result, checked = _render(paths, options, cwd, helm, progress, kubernetes_version, deadline, output)
        if output is not None and result.exit_code(options.strict) == 0:
            output.commit(_coverage(checked, options.shard is not None, cwd),
                          [(output_file(d), d.manifests, _key(d.config, cwd)) for d in result.rendered])
    finally:
        if output is not None:
            output.discard()
    return result


def _render(paths: list[str], options: Options, cwd: Path, helm: helm_runner.Helm | None,
            progress: Progress | None, kubernetes_version: str, deadline: Deadline,
            output: output_tree.OutputTree | None) -> tuple[RunResult, _Checked]:
    workers = Workers(options.jobs)  # processes for YAML and jsonschema, shared
    try:
        checked = _check_configs(paths, options, cwd, workers=workers)
    except BaseException:
        workers.close()
        raise
    checks, extra = checked.checks, checked.extra
    result = RunResult(files_checked=len(checks))
    result.diagnostics.extend(extra)
    blocked = {d.path for d in extra if d.severity is Severity.ERROR}
    renderable: list[ConfigCheck] = []
    for check in checks:
        result.diagnostics.extend(check.diagnostics)
        env_file = display_path(check.config.env_dir / ENVIRONMENT_FILENAME, cwd)
        env_folder = display_path(check.config.env_dir, cwd)  # its name is an invalid namespace
        if not check.ok or {check.config.display, env_file, env_folder} & blocked:  # wrong namespace
            continue
        renderable.append(check)
    # Many deployments per helm process, several processes at once; each outcome is
    # byte-identical to rendering that config alone (render/batch/ says how). The
    # manifests are checked in worker processes meanwhile, the files written on threads.
    rendered: dict[int, RenderedDeployment] = {}
    manifests: dict[int, str] = {}
    done = 0

    def checked_manifests(finished: list[tuple[int, list[Diagnostic]]]) -> None:
        nonlocal done
        for index, problems in finished:
            check = renderable[index]
            result.diagnostics.extend(problems)
            if not any(p.severity is Severity.ERROR for p in problems):
                rendered[index] = RenderedDeployment(check.config.display, check.config.env, check.name,
                                                     check.environment.namespace, manifests[index])
                if output is not None:
                    output.write(output_file(rendered[index]), manifests[index],
                                 sharding.shard_key(check.config))
            done += 1
            if progress is not None:
                progress(done, len(renderable))

    try:
        if renderable:  # helm is looked for only when there is something to render:
            helm = helm or helm_runner.find_helm()  # bad configs report as such without it
            result.helm_version = helm.version
        checker = ManifestChecker([*options.schema_locations, *default_locations()],
                                  kubernetes_version, workers, len(renderable), deadline)
        releases = [_release(check) for check in renderable]
        outcomes = render_many(helm, releases, kubernetes_version, jobs=options.jobs,
                               deadline=deadline) if helm is not None else []
        for index, outcome in outcomes:
            result.diagnostics.extend(outcome.diagnostics)
            if outcome.manifests is None:  # helm failed: nothing to check
                done += 1
                if progress is not None:
                    progress(done, len(renderable))
            else:
                manifests[index] = outcome.manifests
                checker.submit(index, outcome.manifests, renderable[index].config.display)
            checked_manifests(checker.finished())
        checked_manifests(checker.finished(wait=True))
    finally:
        workers.close()
    result.rendered = [rendered[index] for index in sorted(rendered)]  # config order
    result.diagnostics.sort()
    return result, checked


def _release(check: ConfigCheck) -> Release:
    chart_dir = check.chart_dir
    if check.loaded is None or chart_dir is None:
        raise InternalError(f"{check.config.display} was to be rendered without values or chart")
    return Release(check.config.display, check.config.path, check.name, check.environment.namespace,
                   chart_dir, check.loaded)


def _key(display: str, cwd: Path) -> str:
    return sharding.shard_key(ConfigFile(display, Path(os.path.abspath(cwd / display))))


def _coverage(checked: _Checked, sharded: bool, cwd: Path) -> output_tree.Coverage:
    """What the run speaks for in the output folder (output_tree.py): the paths searched, and
    the other shards' configs with their files."""
    prefixes = []
    for raw in checked.covered:
        path = Path(os.path.abspath(cwd / raw))
        root = find_repo_root(path if path.is_dir() else path.parent)
        key = path.relative_to(root).as_posix() if root is not None and path.is_relative_to(root) \
            else path.as_posix()
        prefixes.append("" if key == "." else key)
    mine = {check.config for check in checked.checks}
    others = {sharding.shard_key(c.config): output_file(c) for c in checked.everyone
              if sharded and c.config not in mine}
    return output_tree.Coverage(tuple(prefixes), others)


def output_file(deployment: RenderedDeployment | ConfigCheck) -> str:
    """The deployment's file under the output folder: <env>/<name>.yaml."""
    env = deployment.env if isinstance(deployment, RenderedDeployment) else deployment.config.env
    return f"{env}/{deployment.name}.yaml"


def joined_manifests(result: RunResult) -> str:
    """All rendered manifests as one multi-document stream, in config order."""
    return "".join(d.manifests if d.manifests.endswith("\n") else d.manifests + "\n"
                   for d in result.rendered)
