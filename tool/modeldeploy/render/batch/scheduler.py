"""Render many deployments fast, byte-identical to one `helm template` per deployment.

`helm template` costs ~35 ms of process start-up and chart loading for a few
milliseconds of rendering. For a repository of hundreds of deployments of the same
chart, this module renders many deployments in ONE helm process, through a
generated wrapper chart (wrapper.py), and runs helm processes in parallel (`jobs`).

Plan: the releases are grouped by chart; a chart with fewer than MIN_GROUP releases, or
one the wrapper cannot reproduce (chart_analysis.py), renders one helm process per
release, and so does a release whose values may not be batched (values.py). The others
go in batches of at most MAX_BATCH, in whole rounds of `jobs` processes (batch_sizes); a
batch may mix namespaces, since the wrapper gives each slot its own `.Release`.

Every run also renders one deployment per chart both ways and compares the bytes: the
chart's state (ChartState) is UNVERIFIED until then, and its batch results are held; it
becomes VERIFIED (held and later results go out) or FAILED (a helm version that behaves
differently: every deployment of the chart renders alone).

A batch that fails is split in halves until the failing deployments stand alone;
those are rendered by the plain path, so every helm error is reported against its
own config, with helm's own message. A batch that does not finish before the run's
deadline (`--timeout`) is not split: it would only wait again, so each of its
deployments is reported as not rendered in time.

Tasks are typed (SingleTask, BatchTask): the loop dispatches on the task's class.
"""

from __future__ import annotations

import concurrent.futures as cf
import enum
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ... import processes
from ...diagnostics import InternalError, ToolError
from ...parallel import MAX_JOBS, default_jobs
from ...processes import Deadline
from .. import cache as render_cache
from .. import helm as helm_runner
from ..single import Release, RenderOutcome, outcome, render_release
from . import wrapper
from .chart_analysis import ChartPlan, plan_chart
from .values import batchable_values

MIN_GROUP = 6  # fewer deployments of one chart: one helm process each
MAX_BATCH = 500  # deployments per helm process (~105 MB each: helm._helm_env)
MIN_BATCH = 4  # a batch split to keep jobs busy keeps at least this many


def batch_sizes(count: int, jobs: int) -> list[int]:
    """How many of a chart's `count` batched releases go in each helm process, in order.

    Each helm process costs ~35 ms before it renders anything: few, big batches (at most
    MAX_BATCH), yet as many as a whole number of rounds of `jobs` processes, sizes balanced.
    1,000 on 2 jobs: 2 batches of 500 beat 4 of 250 by ~50 ms wall and ~70 ms CPU (fewer
    helm start-ups outweigh the later first result)."""
    batches = max(jobs, math.ceil(count / MAX_BATCH))
    batches = math.ceil(batches / jobs) * jobs
    size = max(MIN_BATCH, math.ceil(count / batches))
    return [min(size, count - start) for start in range(0, count, size)]


class ChartState(enum.Enum):
    UNVERIFIED = "unverified"  # batch results are held until one release rendered alone matches
    VERIFIED = "verified"  # the batch output equals helm alone: results go out as they come
    FAILED = "failed"  # they differ: every release of the chart renders alone


@dataclass
class Item:
    """One release in the batches of its chart."""

    index: int  # position in the caller's list
    release: Release
    values_json: str  # its item of the wrapper's list (values.batchable_values)


@dataclass
class ChartRun:
    """The batched releases of one chart, and where its verification stands."""

    plan: ChartPlan
    items: list[Item]
    wrapper: wrapper.Wrapper | None = None
    state: ChartState = ChartState.UNVERIFIED
    verify: int | None = None  # the release also rendered alone, to compare
    alone: str | None = None  # its manifests rendered alone
    batched: dict[int, str] = field(default_factory=dict)  # index -> manifests from a batch
    held: list[int] = field(default_factory=list)  # batch results waiting for the verification


@dataclass(frozen=True)
class SingleTask:
    """One release in its own helm process; `verifies` when it is a chart's verification."""

    index: int
    verifies: ChartRun | None = None


@dataclass(frozen=True)
class BatchTask:
    """Releases of one chart in one helm process, through the chart's wrapper (namespaces may mix)."""

    run: ChartRun
    items: list[Item]


Task = SingleTask | BatchTask


def render_many(helm: helm_runner.Helm, releases: Sequence[Release], kubernetes_version: str,
                jobs: int | None = None, batch: bool = True, deadline: Deadline | None = None,
                api_versions: tuple[str, ...] = (), cache: bool = False,
                ) -> Iterator[tuple[int, RenderOutcome]]:
    """Render every release; yields (index in `releases`, outcome) as results come in.

    Each outcome is what `single.render_release` gives for that release alone. No helm
    process runs past `deadline` (default: processes.DEFAULT_TIMEOUT_SECONDS from now).
    With `cache`, outputs in the render cache (render/cache.py) come first, without helm;
    only the others are rendered, and stored.
    """
    store = render_cache.open_cache(cache) if releases else None
    if store is None:
        yield from _render_all(helm, releases, kubernetes_version, jobs, batch, deadline, api_versions)
        return
    def keys() -> list[str | None]:
        return store.keys(helm.path, helm.version, kubernetes_version, api_versions,
                          [(r.name, r.namespace, r.values_file, r.chart_dir) for r in releases])

    try:
        # An empty cache has no hits: helm starts at once, and the keys (a read and a hash of
        # every values file) are made once its first result is in, while it renders the rest.
        found = None if store.is_empty() else keys()
        hits = store.get_many([key for key in found if key is not None]) if found is not None else {}
        misses = []
        for index in range(len(releases)):
            key = found[index] if found is not None else None
            if key is not None and key in hits:
                yield index, RenderOutcome(hits[key], [])
            else:
                misses.append(index)
        rendered = _render_all(helm, [releases[i] for i in misses], kubernetes_version, jobs, batch, deadline,
                               api_versions)
        for position, result in rendered:
            index = misses[position]
            found = found if found is not None else keys()
            key = found[index]
            if key is not None and result.manifests is not None and not result.diagnostics:
                store.put(key, result.manifests)
            yield index, result
    finally:
        store.close()


def _render_all(helm: helm_runner.Helm, releases: Sequence[Release], kubernetes_version: str,
                jobs: int | None, batch: bool, deadline: Deadline | None, api_versions: tuple[str, ...],
                ) -> Iterator[tuple[int, RenderOutcome]]:
    jobs = max(1, min(MAX_JOBS, jobs or default_jobs()))
    deadline = deadline or Deadline.after(processes.DEFAULT_TIMEOUT_SECONDS)
    with processes.temporary_directory("modeldeploy-batch-") as tmp:
        pool = cf.ThreadPoolExecutor(max_workers=jobs)
        try:
            yield from _Scheduler(helm, releases, kubernetes_version, jobs, batch, pool, tmp, deadline,
                                  api_versions).run()
        except OSError as exc:  # writing the wrapper charts and values files: a full TMPDIR...
            processes.kill_running()
            raise ToolError(f"cannot write helm's input files in {tmp}: {exc.strerror or exc} (TMPDIR "
                            "names another place)") from exc
        except BaseException:  # a signal, an error, or the caller stopped early: no helm waits on
            processes.kill_running()
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


class _Scheduler:
    def __init__(self, helm: helm_runner.Helm, releases: Sequence[Release], kubernetes_version: str,
                 jobs: int, batch: bool, pool: cf.ThreadPoolExecutor, tmp: Path, deadline: Deadline,
                 api_versions: tuple[str, ...] = ()) -> None:
        self.helm, self.releases, self.kube = helm, releases, kubernetes_version
        self.api_versions = api_versions
        self.jobs, self.pool, self.tmp = jobs, pool, tmp
        self.batch, self.deadline = batch, deadline
        self.pending: dict[cf.Future[Any], Task] = {}  # of RenderOutcome or TemplateOutput
        self.done: set[int] = set()
        self.values_files = 0

    # tasks -----------------------------------------------------------------------------------
    def _single(self, index: int, verifies: ChartRun | None = None) -> None:
        future = self.pool.submit(render_release, self.helm, self.releases[index], self.kube, self.deadline,
                                  self.api_versions)
        self.pending[future] = SingleTask(index, verifies)

    def _batch(self, run: ChartRun, items: list[Item]) -> None:
        if len(items) == 1:
            self._single(items[0].index)
            return
        if run.wrapper is None:
            raise InternalError(f"a batch of chart {run.plan.chart_dir} was submitted before its "
                                "wrapper chart was built")
        self.values_files += 1
        values_file = self.tmp / f"values-{self.values_files}.json"
        values_file.write_text('{"__mdb":[' + ",".join(i.values_json for i in items) + "]}",
                               encoding="utf-8")
        future = self.pool.submit(helm_runner.template, self.helm, release="mdb-batch",
                                  chart_dir=run.wrapper.directory, namespace=items[0].release.namespace,
                                  values_file=values_file, kube_version=self.kube,
                                  deadline=self.deadline, api_versions=self.api_versions)
        self.pending[future] = BatchTask(run, items)

    # planning --------------------------------------------------------------------------------
    def _plan(self) -> list[ChartRun]:
        groups: dict[Path, list[int]] = {}
        for index, release in enumerate(self.releases):
            groups.setdefault(release.chart_dir, []).append(index)
        runs = []
        for chart_dir, indexes in groups.items():
            if not self.batch or len(indexes) < MIN_GROUP:
                for index in indexes:
                    self._single(index)
                continue
            plan = plan_chart(chart_dir)
            if not plan.batchable:
                for index in indexes:
                    self._single(index)
                continue
            run = ChartRun(plan, [])
            for index in indexes:
                values = batchable_values(self.releases[index], plan.defaults)
                if values is None:
                    self._single(index)
                    continue
                run.items.append(Item(index, self.releases[index], values))
                if run.verify is None:  # the comparison render starts now, while the rest is planned
                    run.verify = index
                    self._single(index, verifies=run)
            if len(run.items) < MIN_GROUP:  # no batch after all: the verification was its own render
                for item in run.items:
                    if item.index != run.verify:
                        self._single(item.index)
                continue
            runs.append(run)
        return runs

    def _submit_batches(self, run: ChartRun) -> None:
        # The wrapper gives each slot its own namespace (wrapper.py), so one batch may mix them.
        batches = []
        start = 0
        for size in batch_sizes(len(run.items), self.jobs):
            batches.append(run.items[start:start + size])
            start += size
        run.wrapper = wrapper.build_wrapper(run.plan, self.tmp, max(len(b) for b in batches))
        for batch in batches:
            self._batch(run, batch)

    def _fail(self, run: ChartRun) -> None:
        """The batch path differs from helm alone for this chart: render each one alone."""
        run.state = ChartState.FAILED
        for index in run.held:
            self._single(index)
        run.held.clear()

    # the loop --------------------------------------------------------------------------------
    def run(self) -> Iterator[tuple[int, RenderOutcome]]:
        runs = self._plan()
        for chart_run in runs:
            self._submit_batches(chart_run)
        while self.pending:
            finished, _ = cf.wait(list(self.pending), return_when=cf.FIRST_COMPLETED)
            for future in finished:
                task = self.pending.pop(future)
                if isinstance(task, SingleTask):
                    yield from self._single_done(task, future.result())
                else:
                    yield from self._batch_done(task, future.result())
            if not self.pending:  # verified with a deployment whose batch failed: verify again
                for chart_run in runs:
                    if chart_run.state is ChartState.UNVERIFIED and chart_run.held:
                        self._verify_with(chart_run, chart_run.held[0])

    def _emit(self, index: int, result: RenderOutcome) -> Iterator[tuple[int, RenderOutcome]]:
        if index not in self.done:
            self.done.add(index)
            yield index, result

    def _single_done(self, task: SingleTask, result: object) -> Iterator[tuple[int, RenderOutcome]]:
        if not isinstance(result, RenderOutcome):
            raise InternalError(f"a single render returned {type(result).__name__}")
        yield from self._emit(task.index, result)
        run = task.verifies
        if run is None or run.state is not ChartState.UNVERIFIED:
            return
        if result.manifests is None:  # fails alone: it must fail in its batch too
            run.verify = None
            if task.index in run.batched:
                self._fail(run)
            elif run.held:
                self._verify_with(run, run.held[0])
        else:
            run.alone = result.manifests
            yield from self._compare(run)

    def _batch_done(self, task: BatchTask, result: object) -> Iterator[tuple[int, RenderOutcome]]:
        if not isinstance(result, helm_runner.TemplateOutput):
            raise InternalError(f"a batch render returned {type(result).__name__}")
        run, items, output = task.run, task.items, result
        if run.wrapper is None:
            raise InternalError(f"a batch of chart {run.plan.chart_dir} ran without its wrapper chart")
        if output.failure == helm_runner.TIMED_OUT and not output.ok:  # halves would wait again
            for item in items:
                yield from self._emit(item.index, outcome(item.release, output, self.helm.version))
            return
        parts = wrapper.split_output(run.wrapper, output.manifests, len(items)) if output.ok else None
        if parts is None or run.state is ChartState.FAILED:
            if not output.ok and run.state is not ChartState.FAILED:
                # Someone in this batch fails: halve it until the failing ones stand alone.
                middle = len(items) // 2
                self._batch(run, items[:middle])
                self._batch(run, items[middle:])
            else:
                for item in items:
                    self._single(item.index)
            return
        for item, manifests in zip(items, parts, strict=True):
            if "helm.sh/hook" in manifests:
                self._single(item.index)
            elif run.state is ChartState.VERIFIED:
                yield from self._emit(item.index, RenderOutcome(manifests, []))
            else:
                run.batched[item.index] = manifests
                run.held.append(item.index)
        if run.state is ChartState.UNVERIFIED:
            if run.verify is None and run.held:
                self._verify_with(run, run.held[0])
            else:
                yield from self._compare(run)

    def _verify_with(self, run: ChartRun, index: int) -> None:
        run.verify, run.alone = index, None
        self._single(index, verifies=run)

    def _compare(self, run: ChartRun) -> Iterator[tuple[int, RenderOutcome]]:
        if run.verify is None or run.alone is None or run.verify not in run.batched:
            return
        if run.batched[run.verify] != run.alone:
            self._fail(run)
            return
        run.state = ChartState.VERIFIED
        for held in run.held:
            yield from self._emit(held, RenderOutcome(run.batched[held], []))
        run.held.clear()
