"""The pipeline: find configs -> check -> render -> check manifests -> result.

Returns results; never prints or exits (the CLI does). Failures of one config
never stop the others: each is reported against its own file. `render -o DIR` is
one transaction (render/output_tree.py): DIR changes only when the run succeeds.
`validate` is the first two steps (checks/deployments.py, in the worker processes of
parallel.py for big repos): it imports nothing of rendering, which `render` imports on use.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..checks.deployments import CheckRequest, DeploymentCheck, DeploymentSet, check_paths, check_render
from ..config import sharding
from ..config.discovery import ConfigFile, find_repo_root
from ..diagnostics import Diagnostic, InternalError, Severity
from ..manifests.schema_registry import DEFAULT_KUBERNETES_VERSION, check_kubernetes_version
from ..parallel import Workers
from ..processes import DEFAULT_TIMEOUT_SECONDS, Deadline
from ..results.run import RenderedDeployment, RunResult

if TYPE_CHECKING:  # imported on use by render: validate's start-up loads none of it
    from ..render import output_tree
    from ..render.helm import Helm
    from ..render.single import Release

Progress = Callable[[int, int], None]  # (done, total), called as deployments finish


@dataclass(frozen=True)
class Options:
    charts_root: Path | None = None
    kubernetes_version: str = DEFAULT_KUBERNETES_VERSION
    api_versions: tuple[str, ...] = ()  # helm's --api-versions (.Capabilities.APIVersions); (): helm's own
    schema_locations: tuple[str, ...] = ()  # extra kubeconform-style templates, tried first
    output_dir: Path | None = None
    jobs: int | None = None  # helm processes at once (default: the CPU count)
    shard: tuple[int, int] | None = None  # (I, N): only the I-th of N shards (1-based)
    deadline: Deadline | None = None  # for every helm process of the run (default: 600 s from its start)
    strict: bool = False  # warnings fail the run: then output_dir is left as it was
    cache: bool = True  # helm's outputs from the render cache (render/cache.py); --no-cache: False
    sources_anchor: Path | None = None  # relative chart sources start here (default: their file's folder)


def request(paths: list[str], options: Options, cwd: Path) -> CheckRequest:
    return CheckRequest(cwd, tuple(paths), options.charts_root, options.shard, options.sources_anchor)


def validate(paths: list[str], options: Options, cwd: Path, progress: Progress | None = None) -> RunResult:
    workers = Workers(options.jobs, main_works=True)  # config checks in processes for big repos
    try:
        checked = check_paths(request(paths, options, cwd), workers, progress)
    finally:
        workers.close()
    return RunResult(files_checked=len(checked.checks), diagnostics=checked.diagnostics())


def render(paths: list[str], options: Options, cwd: Path,
           helm: Helm | None = None, progress: Progress | None = None) -> RunResult:
    from ..render import output_tree

    kubernetes_version = check_kubernetes_version(options.kubernetes_version)
    deadline = options.deadline or Deadline.after(DEFAULT_TIMEOUT_SECONDS)
    output = None
    if options.output_dir is not None:  # checked before anything is rendered
        protected = [cwd, *(cwd / p for p in paths), *([options.charts_root] if options.charts_root else [])]
        output = output_tree.OutputTree.open(options.output_dir, protected)
    try:
        result, checked = render_checked(paths, options, cwd, helm, progress, kubernetes_version, deadline,
                                         output)
        if output is not None and result.exit_code(options.strict) == 0:
            # only files two configs wrote need their final data (the config order's last)
            output.commit(_coverage(checked, options.shard is not None, cwd),
                          [(output_file(d), d.manifests, _key(d.config, cwd)) for d in result.rendered
                           if output_file(d) in output.repeated])
    finally:
        if output is not None:
            output.discard()
    return result


def render_checked(paths: list[str], options: Options, cwd: Path, helm: Helm | None = None,
                   progress: Progress | None = None, kubernetes_version: str | None = None,
                   deadline: Deadline | None = None, output: output_tree.OutputTree | None = None,
                   workers: Workers | None = None) -> tuple[RunResult, DeploymentSet]:
    """`render`, and the checked configs it rendered from (their values: diff reads them).

    `workers`: the caller's pool, left open (diff renders both sides with one); else the run's own."""
    from ..manifests.checker import CheckedManifests, ManifestChecker
    from ..manifests.schema_registry import default_locations
    from ..render import helm as helm_runner
    from ..render.batch.scheduler import render_many

    kubernetes_version = kubernetes_version or check_kubernetes_version(options.kubernetes_version)
    deadline = deadline or options.deadline or Deadline.after(DEFAULT_TIMEOUT_SECONDS)
    own_workers = workers is None
    workers = workers or Workers(options.jobs)  # processes for YAML and jsonschema, shared
    try:
        checked = check_paths(request(paths, options, cwd), workers)
    except BaseException:
        if own_workers:
            workers.close()
        raise
    result = RunResult(files_checked=len(checked.checks), diagnostics=checked.diagnostics())
    renderable = [check for check in checked.checks if check.valid]
    # Many deployments per helm process, several processes at once; each outcome is
    # byte-identical to rendering that config alone (render/batch/ says how). The
    # manifests are checked in worker processes meanwhile, the files written on threads.
    rendered: dict[int, RenderedDeployment] = {}
    refused: dict[int, RenderedDeployment] = {}  # rendered, but the manifest checks refused it
    manifests: dict[int, str] = {}
    done = 0

    def checked_manifests(finished: list[CheckedManifests]) -> None:
        nonlocal done
        for checked_one in finished:
            index = checked_one.index
            check = renderable[index]
            # the repository's settings, its disable comments
            problems = check.rules.apply(checked_one.problems)
            result.diagnostics.extend(problems)
            deployment = RenderedDeployment(check.config.display, check.config.env, check.name,
                                            check.namespace, manifests[index])
            if any(p.severity is Severity.ERROR for p in problems):
                refused[index] = deployment
                if output is not None and checked_one.written:  # the settings made a warning an error
                    output.unwritten(output_file(deployment))
            else:
                rendered[index] = deployment
                if output is not None:  # here unless a worker wrote it (none did for an error made a warning)
                    output.write(output_file(deployment), manifests[index], sharding.shard_key(check.config),
                                 checked_one.written, checked_one.error)
            done += 1
            if progress is not None:
                progress(done, len(renderable))

    try:
        if renderable:  # helm is looked for only when there is something to render:
            helm = helm or helm_runner.find_helm()  # bad configs report as such without it
            result.helm_version = helm.version
        checker = ManifestChecker([*options.schema_locations, *default_locations()],
                                  kubernetes_version, workers, len(renderable), deadline,
                                  output.file_writer() if output is not None else None)
        releases = [_release(check) for check in renderable]
        outcomes = render_many(helm, releases, kubernetes_version, jobs=options.jobs,
                               deadline=deadline, api_versions=options.api_versions,
                               cache=options.cache) if helm is not None else []
        for received, (index, outcome) in enumerate(outcomes, 1):
            result.diagnostics.extend(renderable[index].rules.apply(outcome.diagnostics))
            if outcome.manifests is None:  # helm failed: nothing to check
                done += 1
                if progress is not None:
                    progress(done, len(renderable))
            else:
                manifests[index] = outcome.manifests
                result.diagnostics.extend(check_render(renderable[index], outcome.manifests))
                checker.submit(index, outcome.manifests, renderable[index].config.display,
                               output_file(renderable[index]) if output is not None else None)
            if received == len(renderable):  # the last one: to the workers before the cache is written
                checker.flush()
            checked_manifests(checker.finished())
        checked_manifests(checker.finished(wait=True))
    finally:
        if own_workers:
            workers.close()
    result.rendered = [rendered[index] for index in sorted(rendered)]  # config order
    result.refused = [refused[index] for index in sorted(refused)]
    result.diagnostics = _said_once(result.diagnostics)
    result.diagnostics.sort()
    return result, checked


# A config whose canary the render ignores is told so at its own line (canary-not-rendered);
# the same finding on the rendered object (kserve-canary-raw-deployment) would say it twice.
_SAID_BY = {"kserve-canary-raw-deployment": "canary-not-rendered"}


def _said_once(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    said = {(d.path, d.rule) for d in diagnostics}
    return [d for d in diagnostics if (d.path, _SAID_BY.get(d.rule)) not in said]


def _release(check: DeploymentCheck) -> Release:
    """What helm renders for a valid config (its chart resolves: the chart-path rule says so)."""
    from ..render.single import Release

    if check.loaded is None or check.chart_dir is None:
        raise InternalError(f"{check.config.display} was to be rendered without values or chart")
    return Release(check.config.display, check.config.path, check.name, check.namespace,
                   check.chart_dir, check.loaded)


def _key(display: str, cwd: Path) -> str:
    return sharding.shard_key(ConfigFile(display, Path(os.path.abspath(cwd / display))))


def _coverage(checked: DeploymentSet, sharded: bool, cwd: Path) -> output_tree.Coverage:
    """What the run speaks for in the output folder (output_tree.py): the paths searched, and
    the other shards' configs with their files."""
    from ..render import output_tree

    prefixes = []
    for raw in checked.covered:
        path = Path(os.path.abspath(cwd / raw))
        root = find_repo_root(path if path.is_dir() else path.parent)
        key = path.relative_to(root).as_posix() if root is not None and path.is_relative_to(root) \
            else path.as_posix()
        prefixes.append("" if key == "." else key)
    others = {sharding.shard_key(c.config): output_file(c) for c in checked.others if sharded}
    return output_tree.Coverage(tuple(prefixes), others)


def output_file(deployment: RenderedDeployment | DeploymentCheck) -> str:
    """The deployment's file under the output folder: <env>/<name>.yaml."""
    env = deployment.env if isinstance(deployment, RenderedDeployment) else deployment.config.env
    return f"{env}/{deployment.name}.yaml"


def joined_manifests(result: RunResult) -> str:
    """All rendered manifests as one multi-document stream, in config order."""
    return "".join(d.manifests if d.manifests.endswith("\n") else d.manifests + "\n"
                   for d in result.rendered)
