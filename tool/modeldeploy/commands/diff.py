"""`modeldeploy diff`: the deployments a change between two git refs touches, rendered on both sides.

Which deployments: changes/affected.py; reading the refs: changes/git.py (nothing in the
user's repository is written). Each side is rendered by the validate/render pipeline
(pipeline.py), whose checks carry each config's values forward: nothing is read twice.
Then each deployment's objects are compared (manifests/object_diff.py) and its traffic
change explained (explain/rollout_summary.py).

A --charts-root outside the repository (or untracked in it, or a submodule) holds
the charts for both sides and only config and environment changes count; one that
is a folder of the repository is read at each ref like the default.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .. import processes
from ..changes.affected import (
    REASON_CHART,
    REASON_CONFIG,
    REASON_ENVIRONMENT,
    affected_configs,
    chart_folder_of,
    configs_in,
    env_dir,
    pair_configs,
    path_filter,
)
from ..changes.git import Git, repository_root, working_tree_deployment_files
from ..diagnostics import InternalError, Severity, ToolError
from ..explain import rollout_summary
from ..explain.rollout_summary import RolloutState
from ..manifests import object_diff as manifest_diff
from ..parallel import Workers
from ..policy.check import diff_violations
from ..render import helm as helm_runner
from ..results.diff import (
    BASE,
    HEAD,
    WORKING_TREE,
    DeploymentDiff,
    DiffResult,
    ObjectDiff,
    SideProblem,
)
from ..results.sentence import Sentence
from ..safe_output import escape
from . import pipeline


def diff(base: str, head: str | None, paths: Sequence[str], options: pipeline.Options, cwd: Path,
         helm: helm_runner.Helm | None = None) -> DiffResult:
    """Render the deployments affected between `base` and `head` (None: the working tree)."""
    git = Git(repository_root(cwd))
    base_sha = git.commit(base, "--base")
    head_sha = git.commit(head, "--head") if head is not None else None
    result = DiffResult(base, head if head is not None else WORKING_TREE)
    base_files = git.deployment_files(base_sha)
    head_files = git.deployment_files(head_sha) if head_sha else working_tree_deployment_files(git.root)
    base_configs, head_configs = configs_in(base_files), configs_in(head_files)
    charts_prefix = git.charts_prefix(options.charts_root, base_sha)
    charts_in_repo = charts_prefix is not None

    def chart_folders() -> dict[str, str]:
        # Configs on both sides: an unchanged one has the same chart_path at the head.
        both = sorted(base_configs & head_configs)
        return {path: posixpath.join(charts_prefix or "", folder)
                for path, blob in git.read_blobs(base_sha, both).items()
                if (folder := chart_folder_of(blob)) is not None}

    affected = affected_configs(git.changed_paths(base_sha, head_sha), base_configs, head_configs,
                                chart_folders if charts_in_repo else None)
    if paths:
        keep = path_filter(paths, cwd, git.root, base_configs | head_configs)
        affected = {p: r for p, r in affected.items() if keep(p)}
    if not affected:
        return result
    helm = helm or helm_runner.find_helm()
    base_paths = sorted(p for p in affected if p in base_configs)
    head_paths = sorted(p for p in affected if p in head_configs)
    # chart sources' relative paths are read from the checkout, not the extracted copies
    options = replace(options, sources_anchor=git.root)
    # Both sides at once (helm runs in subprocesses), their checks in one pool of worker
    # processes, forked now: a process with threads does not fork (parallel.py). The
    # working tree (the default head) needs no extracting: it renders while the base is.
    workers = Workers(options.jobs)
    try:
        workers.get(len(base_paths) + len(head_paths))
        with (processes.temporary_directory("modeldeploy-diff-") as tmp,
              ThreadPoolExecutor(max_workers=2) as pool):
            def side_charts(root: Path) -> Path | None:
                if options.charts_root is None:  # each side's own root, and its chart sources' defaults
                    return None
                return root / charts_prefix if charts_prefix is not None else options.charts_root

            head_job = None
            if head_sha is None:
                head_job = pool.submit(render_side, HEAD, git.root, head_paths, options, helm,
                                       side_charts(git.root), workers)
            base_root = tmp / BASE
            git.extract_deployments(base_sha, base_paths, base_files, charts_prefix, base_root)
            base_job = pool.submit(render_side, BASE, base_root, base_paths, options, helm,
                                   side_charts(base_root), workers)
            if head_job is None and head_sha is not None:
                head_root = tmp / HEAD
                git.extract_deployments(head_sha, head_paths, head_files, charts_prefix, head_root)
                head_job = pool.submit(render_side, HEAD, head_root, head_paths, options, helm,
                                       side_charts(head_root), workers)
            if head_job is None:
                raise InternalError("diff has no head side to render")
            base_side, head_side = base_job.result(), head_job.result()
    finally:
        workers.close()
    result.problems = [*base_side.problems, *head_side.problems]
    for base_path, head_path, reasons in pair_configs(affected, base_side, head_side):
        deployment = compare(base_path, head_path, reasons, base_side, head_side)
        if deployment.status == "unchanged":
            result.unchanged += 1
        else:
            result.deployments.append(deployment)
    result.deployments.sort(key=lambda d: (d.env, d.name, d.config))
    # The rollout policy, on what each changed deployment's traffic does (policy/).
    result.violations = diff_violations(git, base_sha, head_sha, [
        (d.base_config, d.head_config, base_side.values.get(d.base_config) if d.base_config else None,
         head_side.values.get(d.head_config) if d.head_config else None)
        for d in result.deployments if not (d.base_invalid or d.head_invalid)])
    return result


# -- rendering one side ---------------------------------------------------------------------------

@dataclass
class RenderedSide:
    name: str  # BASE or HEAD
    configs: set[str]  # the affected configs that exist on this side
    manifests: dict[str, str] = field(default_factory=dict)  # config -> manifests, when it rendered
    namespaces: dict[str, str] = field(default_factory=dict)
    values: dict[str, dict[str, Any]] = field(default_factory=dict)  # config -> values, when YAML loads
    problems: list[SideProblem] = field(default_factory=list)


def render_side(side: str, root: Path, configs: list[str], options: pipeline.Options,
                helm: helm_runner.Helm, charts_root: Path | None, workers: Workers | None = None,
                ) -> RenderedSide:
    rendered = RenderedSide(side, set(configs))
    if not configs:  # pipeline.render would take "no paths" for "every config"
        return rendered
    side_options = replace(options, charts_root=charts_root, output_dir=None)
    run, checked = pipeline.render_checked(list(configs), side_options, root, helm, workers=workers)
    if options.deadline is not None and options.deadline.passed and run.errors:
        # What helm did not render in time is no finding about either side: no partial diff.
        raise ToolError(f"helm did not render every affected deployment before "
                        f"{options.deadline.describe()}; the diff would be incomplete")
    for deployment in [*run.rendered, *run.refused]:  # refused by the checks: shown beside the problems
        rendered.manifests[deployment.config] = deployment.manifests
        rendered.namespaces[deployment.config] = deployment.namespace
    for check in checked.checks:  # the values the checks read (a link out of the repo: refused)
        if check.loaded is not None:
            rendered.values[check.config.display] = check.loaded.value
    # Base warnings are history; base errors explain a side that did not render.
    prefix = f"{root}{os.sep}"
    rendered.problems = [SideProblem(side, replace(d, message=d.message.replace(prefix, "")))
                         for d in run.diagnostics if side == HEAD or d.severity is Severity.ERROR]
    return rendered


# -- comparing one deployment ---------------------------------------------------------------------

def compare(base_path: str | None, head_path: str | None, reasons: tuple[str, ...],
            base: RenderedSide, head: RenderedSide) -> DeploymentDiff:
    config = head_path or base_path
    if config is None:
        raise InternalError("a deployment to compare exists on neither side")
    base_manifests = base.manifests.get(base_path) if base_path else None
    head_manifests = head.manifests.get(head_path) if head_path else None
    base_invalid = base_path is not None and base_manifests is None
    head_invalid = head_path is not None and head_manifests is None
    env = posixpath.basename(env_dir(config))
    # escaped here: a line break in a folder name would split the diff's header lines
    before_prefix = "a/" + escape(f"{env}/{posixpath.basename(posixpath.dirname(base_path or config))}")
    after_prefix = "b/" + escape(f"{env}/{posixpath.basename(posixpath.dirname(head_path or config))}")
    base_objects = manifest_diff.parse_objects(base_manifests)  # each side parsed once
    head_objects = manifest_diff.parse_objects(head_manifests)
    # An invalid head has no manifests to compare: showing every object as removed would lie.
    objects = [] if head_invalid else manifest_diff.diff_objects(base_objects, head_objects,
                                                                 before_prefix, after_prefix)
    moved = base_path is not None and head_path is not None and base_path != head_path
    sentences: list[Sentence] = []
    if base_path is not None and head_path is not None and moved:
        sentences.append(rollout_summary.moved(posixpath.dirname(base_path), posixpath.dirname(head_path)))
    if base_invalid:
        sentences.append(rollout_summary.invalid_config(BASE, str(base_path)))
    if head_invalid:
        sentences.append(rollout_summary.invalid_config(HEAD, str(head_path)))
    if not (base_invalid or head_invalid):
        new_revision = not manifest_diff.same_data(manifest_diff.predictor_specs(base_objects),
                                                   manifest_diff.predictor_specs(head_objects))
        sentences += _traffic_sentences(base_path, head_path, reasons, base, head, objects,
                                        new_revision, (list(base_objects.values()),
                                                       list(head_objects.values())))
    if base_path is None:
        status = "added"
    elif head_path is None:
        status = "removed"
    elif moved:
        status = "moved"
    else:
        status = "modified" if objects or sentences else "unchanged"
    return DeploymentDiff(env, base_path, head_path, reasons, status, sentences, objects,
                          base_invalid, head_invalid)


def _traffic_sentences(base_path: str | None, head_path: str | None, reasons: tuple[str, ...],
                       base: RenderedSide, head: RenderedSide, objects: list[ObjectDiff],
                       new_revision: bool, rendered: tuple[list[Any], list[Any]]) -> list[Sentence]:
    """What the change does, from both sides' rendered objects (explain/rollout_summary.py)."""
    before_values = base.values.get(base_path) if base_path else None
    after_values = head.values.get(head_path) if head_path else None
    before = RolloutState.from_objects(rendered[0]) if base_path else None
    after = RolloutState.from_objects(rendered[1]) if head_path else None
    if before == after and not objects:
        if base_path and head_path and before_values is not None and before_values != after_values:
            return [rollout_summary.nothing_rendered(REASON_CONFIG)]
        return []
    sentences = []
    namespace = None
    if base_path and head_path:
        namespace = rollout_summary.namespace_change(base.namespaces[base_path], head.namespaces[head_path])
        if namespace:
            sentences.append(namespace)
    sentences += rollout_summary.describe_change(before, after)
    sentences += rollout_summary.workload_changes(*rendered)
    if after is not None and before == after and objects and namespace is None:
        if before_values != after_values:
            cause = REASON_CONFIG
        elif REASON_CHART in reasons or REASON_ENVIRONMENT not in reasons:
            cause = REASON_CHART
        else:
            cause = REASON_ENVIRONMENT
        sentences.append(rollout_summary.manifests_only_change(after, cause, new_revision))
    return sentences
