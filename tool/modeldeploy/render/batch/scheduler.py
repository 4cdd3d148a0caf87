"""Render many deployments fast, byte-identical to one `helm template` per deployment.

`helm template` costs ~50 ms of process start-up and chart loading for a few
milliseconds of rendering. For a repository of hundreds of deployments of the same
chart, this module renders many deployments in ONE helm process, through a
generated wrapper chart, and runs helm processes in parallel (`jobs`).

The wrapper chart (in a temporary folder, per run):

- `Chart.yaml` is the original, byte for byte, so `.Chart` is the same;
- each partial (`templates/**/_*`) is copied as it is;
- each other template becomes a named `define` (body unchanged) in one generated
  partial; for deployment slot `i`, `templates/mdb<nonce>-<i>~<same name>` (a folder
  `mdb<nonce>-<i>/` when the chart has template folders) holds one `include` of it
  with the context helm would have built for that deployment (`.Values`, `.Release`,
  `.Template`; `.Chart`, `.Capabilities` passed through);
- `.Values` of slot `i` are the deployment's values coalesced with the chart's
  `values.yaml` exactly as helm does, written as JSON; `values.schema.json` becomes
  a schema over the list, so helm still validates each deployment's values.

helm then sorts and prints everything itself; the output is split back per
deployment (the random nonce makes the `# Source:` markers unambiguous) and the
paths restored. Relative order within one deployment is helm's own, since only a
common prefix was added to its file names.

Everything the wrapper cannot reproduce exactly falls back to one helm process per
deployment, detected conservatively: `.Files`, `lookup`, `tpl`, `.Subcharts`,
dependencies, hooks, NOTES.txt, `define` outside partials, methods of `.Values`,
`.Release`/`.Template` fields helm does not set the same way, a `.helmignore`
touching templates, values whose plain scalars YAML 1.1 and 1.2 read differently,
null values, release names helm would refuse. Every run also renders one deployment
per chart both ways and compares the bytes; any difference (a helm version that
behaves differently) switches that chart to one process per deployment.

A batch that fails is split in halves until the failing deployments stand alone;
those are rendered by the plain path, so every helm error is reported against its
own config, with helm's own message. A batch that does not finish before the run's
deadline (`--timeout`) is not split: it would only wait again, so each of its
deployments is reported as not rendered in time.

Processes: `--jobs` helm processes at once (at most MAX_JOBS), as many worker processes
for the checks, at most `max_workers()`; all of them die with modeldeploy (processes.py).
"""

from __future__ import annotations

import concurrent.futures as cf
import copy
import fnmatch
import json
import math
import multiprocessing
import os
import re
import secrets
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ... import processes
from ...checks.deployments import ConfigCheck, check_config
from ...config.discovery import ConfigFile
from ...config.environments import Environment
from ...config.yaml_loader import LoadedYaml, load_yaml_text
from ...diagnostics import Diagnostic, ToolError
from ...manifests import check as manifest_check
from ...manifests.memo_validator import MemoRegistry
from ...processes import Deadline
from .. import helm as helm_runner
from ..single import RenderOutcome, render_config
from ..single import outcome as outcome_of

MAX_DEFAULT_JOBS = 8  # each job is a helm process and a worker, ~60 MB each
MAX_JOBS = 64  # --jobs: helm processes at once; more only costs memory and start-up
MIN_GROUP = 6  # fewer deployments of one chart: one helm process each
MAX_BATCH = 200  # deployments per helm process
MIN_BATCH = 4  # a batch split to keep jobs busy keeps at least this many
MAX_RELEASE_NAME = 53
_RELEASE_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_RELEASE_FIELDS = ("Name", "Namespace", "Service", "IsInstall", "IsUpgrade", "Revision")
# What the wrapper cannot reproduce; matched against every template, partials included.
_UNSUPPORTED = (
    (re.compile(r"\.Files\b"), ".Files"),
    (re.compile(r"\.Subcharts\b"), ".Subcharts"),
    (re.compile(r"\blookup\b"), "lookup"),
    (re.compile(r"\btpl\b"), "tpl"),
    (re.compile(r"\bgetHostByName\b"), "getHostByName"),
    (re.compile(r"helm\.sh/hook"), "hooks"),
    (re.compile(r"\.(AsMap|Table|YAML|Encode|PathValue)\b"), "methods of .Values"),
    (re.compile(rf"\.Release\b(?!\.(?:{'|'.join(_RELEASE_FIELDS)})\b)"), "other uses of .Release"),
    (re.compile(r"\.Template\b(?!\.(?:Name|BasePath)\b)"), "other uses of .Template"),
)
_DEFINE = re.compile(r"\{\{-?\s*(define|block)\b")
# Plain scalars that YAML 1.1 (go-yaml v2) and YAML 1.2 read alike: JSON-like numbers,
# true/false, and text that no YAML version reads as anything but text.
_PLAIN_NUMBER = re.compile(r"^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?$")
_MAYBE_SPECIAL = re.compile(
    r"^(?:[-+]?(?:\.[0-9_]+|[0-9][0-9_]*(?:\.[0-9_]*)?)(?:[eE][-+]?[0-9]+)?"  # numbers
    r"|[-+]?0[xXoObB][0-9a-fA-F_]*"  # based integers
    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)"
    r"|[-+]?[0-9][0-9_]*(?::[0-9_]+)+(?:\.[0-9_]*)?"  # base 60
    r"|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}.*"  # timestamps
    r"|y|Y|n|N|yes|Yes|YES|no|No|NO|on|On|ON|off|Off|OFF|true|True|TRUE|false|False|FALSE"
    r"|null|Null|NULL|~|<<|=)$", re.DOTALL)


def usable_cpus() -> int:
    """The CPUs this process may use (its affinity, not the host's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def default_jobs() -> int:
    """The usable CPUs, at most 8."""
    return min(MAX_DEFAULT_JOBS, usable_cpus())


def max_workers() -> int:
    """Worker processes at most, whatever --jobs says: the checks are CPU-bound, so more than
    the usable CPUs (or 8 on a small machine) would only cost memory."""
    return max(MAX_DEFAULT_JOBS, usable_cpus())


# --- the chart -------------------------------------------------------------------------------

@dataclass
class ChartPlan:
    """How to batch one chart, or why not (`reason`)."""

    chart_dir: Path
    reason: str | None = None
    name: str = ""
    chart_yaml: bytes = b""
    defaults: dict[str, Any] = field(default_factory=dict)
    schema: dict[str, Any] | None = None
    partials: list[tuple[str, bytes]] = field(default_factory=list)  # path under templates/
    templates: list[tuple[str, str]] = field(default_factory=list)

    @property
    def batchable(self) -> bool:
        return self.reason is None


def plan_chart(chart_dir: Path) -> ChartPlan:
    plan = ChartPlan(chart_dir)
    try:
        plan.reason = _analyze(plan)
    except (OSError, UnicodeDecodeError, ValueError, yaml.YAMLError) as exc:
        plan.reason = f"cannot read the chart: {exc}"
    return plan


def _analyze(plan: ChartPlan) -> str | None:
    root = plan.chart_dir
    plan.chart_yaml = (root / "Chart.yaml").read_bytes()
    metadata = yaml.safe_load(plan.chart_yaml)
    if not isinstance(metadata, dict) or not isinstance(metadata.get("name"), str):
        return "Chart.yaml has no name"
    plan.name = metadata["name"]
    if metadata.get("dependencies") or (root / "requirements.yaml").exists():
        return "the chart has dependencies"
    for folder in ("charts", "crds"):
        if (root / folder).exists():
            return f"the chart has a {folder}/ folder"
    if any(path.is_symlink() for path in root.rglob("*")):
        return "the chart has symbolic links"
    ignore = _helmignore(root)
    templates_dir = root / "templates"
    for path in sorted(p for p in templates_dir.rglob("*") if p.is_file()):
        rel = path.relative_to(templates_dir).as_posix()
        if not rel.isascii() or '"' in rel or "\\" in rel:
            return f"template name {rel!r}"
        if any(_ignored(pattern, f"templates/{rel}") for pattern in ignore):
            return f".helmignore matches templates/{rel}"
        if path.name == "NOTES.txt" or path.name.endswith("NOTES.txt"):
            return "the chart has NOTES.txt"
        data = path.read_bytes()
        text = data.decode("utf-8")
        for pattern, what in _UNSUPPORTED:
            if pattern.search(text):
                return f"templates/{rel} uses {what}"
        if path.name.startswith("_"):
            plan.partials.append((rel, data))
        elif _DEFINE.search(text):
            return f"templates/{rel} defines templates outside a partial"
        else:
            plan.templates.append((rel, text))
    plan.defaults, reason = _chart_defaults(root)
    if reason:
        return reason
    schema_file = root / "values.schema.json"
    if schema_file.exists():
        plan.schema, reason = _list_schema(json.loads(schema_file.read_text(encoding="utf-8")))
        if reason:
            return reason
    return None


def _helmignore(root: Path) -> list[str]:
    path = root / ".helmignore"
    if not path.is_file():
        return []
    patterns = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            patterns.append(line)
    return patterns


def _ignored(pattern: str, rel: str) -> bool:
    """Conservative: True whenever the pattern might match the file or a folder above it."""
    if pattern.startswith("!"):
        return True
    pattern = pattern.strip("/")
    parts = rel.split("/")
    candidates = parts + ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
    return any(fnmatch.fnmatch(candidate, pattern) for candidate in candidates)


def _chart_defaults(root: Path) -> tuple[dict[str, Any], str | None]:
    path = root / "values.yaml"
    if not path.is_file():
        return {}, None
    text = path.read_text(encoding="utf-8")
    if not yaml.safe_load(text):  # empty, or comments only
        return {}, None
    loaded, problems = load_yaml_text("values.yaml", text)
    if loaded is None or problems:
        return {}, "the chart's values.yaml is not a plain mapping"
    if not unambiguous(loaded):
        return {}, "the chart's values.yaml has values YAML versions read differently"
    return loaded.value, None


def _list_schema(schema: Any) -> tuple[dict[str, Any] | None, str | None]:
    """The chart's values schema applied to each item's `v` of the batch list."""
    if not isinstance(schema, dict):
        return None, "values.schema.json is not an object"
    schema = copy.deepcopy(schema)
    root: dict[str, Any] = {}
    for key in ("$schema",):
        if key in schema:
            root[key] = schema.pop(key)
    schema.pop("$id", None)
    definitions = {key: schema.pop(key) for key in ("definitions", "$defs") if key in schema}
    text = json.dumps(schema)
    if '"$id"' in json.dumps(definitions) or '"$id"' in text or '"$dynamicRef"' in text \
            or '"$recursiveRef"' in text:
        return None, "values.schema.json uses $id or dynamic references"
    item_pointer = "#/definitions/__mdb_values"

    def rewrite(node: Any, in_definitions: bool) -> Any:
        if isinstance(node, dict):
            out = {}
            for key, value in node.items():
                if key == "$ref" and isinstance(value, str):
                    if not value.startswith("#"):
                        raise ValueError(f"values.schema.json refers outside itself: {value}")
                    if value in ("#", "#/"):
                        value = item_pointer
                    elif not value.startswith(("#/definitions/", "#/$defs/")):
                        value = item_pointer + value[1:]
                out[key] = rewrite(value, in_definitions)
            return out
        if isinstance(node, list):
            return [rewrite(item, in_definitions) for item in node]
        return node

    try:
        item = rewrite(schema, False)
        definitions = {k: rewrite(v, True) for k, v in definitions.items()}
    except ValueError as exc:
        return None, str(exc)
    definitions.setdefault("definitions", {})["__mdb_values"] = item
    root.update(definitions)
    root.update({"type": "object", "properties": {"__mdb": {"type": "array", "items": {
        "type": "object", "properties": {"v": {"$ref": item_pointer}}}}}})
    return root, None


# --- the values --------------------------------------------------------------------------------

def unambiguous(loaded: LoadedYaml) -> bool:
    """True when every scalar reads the same in YAML 1.1 (Helm 3) and 1.2, and none is null."""
    for info in loaded.nodes.values():
        if info.raw is None:
            continue
        if info.tag == "null":
            return False
        if info.style is not None:  # quoted or block: text in every YAML
            if info.tag != "str":
                return False
            continue
        if info.tag == "str":
            if _MAYBE_SPECIAL.match(info.raw):
                return False
        elif info.tag == "bool":
            if info.raw not in ("true", "false"):
                return False
        elif info.tag in ("int", "float"):
            if not _PLAIN_NUMBER.match(info.raw):
                return False
        else:
            return False
    return True


def coalesce(defaults: dict[str, Any], values: dict[str, Any]) -> dict[str, Any] | None:
    """helm's CoalesceValues(chart, values) for a chart without dependencies (values win).

    Shares unchanged parts with its inputs: serialize it, do not mutate it. None when
    a table meets a non-table (helm warns and picks one: left to helm alone).
    """
    result = dict(values)
    for key, default in defaults.items():
        if key not in result:
            result[key] = default
        elif isinstance(default, dict) or isinstance(result[key], dict):
            if not (isinstance(default, dict) and isinstance(result[key], dict)):
                return None
            merged = coalesce(default, result[key])
            if merged is None:
                return None
            result[key] = merged
    return result


def _json_values(value: Any) -> str | None:
    try:
        return json.dumps(value, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError):
        return None


# --- the wrapper chart ---------------------------------------------------------------------------

@dataclass
class Wrapper:
    plan: ChartPlan
    directory: Path
    nonce: str
    slots: int
    separator: str  # between the slot and the template's own path in the file names
    marker: re.Pattern[str] = field(init=False)

    def __post_init__(self) -> None:
        prefix = re.escape(f"{self.plan.name}/templates/mdb{self.nonce}-")
        self.marker = re.compile(r"^---\n# Source: " + prefix + r"(\d+)" + re.escape(self.separator),
                                 re.MULTILINE)


def build_wrapper(plan: ChartPlan, root: Path, slots: int) -> Wrapper:
    nonce = secrets.token_hex(6)
    directory = root / f"wrapper-{nonce}"
    templates = directory / "templates"
    templates.mkdir(parents=True)
    (directory / "Chart.yaml").write_bytes(plan.chart_yaml)
    if plan.schema is not None:
        (directory / "values.schema.json").write_text(json.dumps(plan.schema), encoding="utf-8")
    for rel, data in plan.partials:
        target = templates / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    defines = []
    for number, (_, text) in enumerate(plan.templates):
        defines.append(f'{{{{ define "mdb{nonce}:{number}" }}}}{text}{{{{ end }}}}')
    (templates / f"_mdb{nonce}.tpl").write_text("".join(defines), encoding="utf-8")
    base = f"{plan.name}/templates"
    # templates/mdb<nonce>-<slot>~<name>, or a folder per slot when templates are in folders:
    # a common prefix keeps helm's order of one deployment's files.
    separator = "/" if any("/" in rel for rel, _ in plan.templates) else "~"
    for slot in range(slots):
        for number, (rel, _) in enumerate(plan.templates):
            target = templates / f"mdb{nonce}-{slot:04d}{separator}{rel}"
            if separator == "/":
                target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(
                f"{{{{- if lt {slot} (len $.Values.__mdb) }}}}{{{{- $d := index $.Values.__mdb {slot} -}}}}"
                f'{{{{ include "mdb{nonce}:{number}" (dict "Values" $d.v "Release" (dict "Name" $d.n '
                f'"Namespace" $d.ns "IsInstall" true "IsUpgrade" false "Revision" 1 "Service" "Helm") '
                f'"Chart" $.Chart "Capabilities" $.Capabilities "Template" (dict "Name" '
                f'{json.dumps(f"{base}/{rel}")} "BasePath" {json.dumps(base)})) }}}}{{{{- end -}}}}',
                encoding="utf-8")
    return Wrapper(plan, directory, nonce, slots, separator)


def split_output(wrapper: Wrapper, stdout: str, count: int) -> list[str] | None:
    """The batch output cut back into each deployment's own `helm template` output."""
    parts: list[list[str]] = [[] for _ in range(count)]
    matches = list(wrapper.marker.finditer(stdout))
    if not stdout:
        return ["" for _ in range(count)]
    if not matches or matches[0].start() != 0:
        return None
    head = f"---\n# Source: {wrapper.plan.name}/templates/"
    for match, following in zip(matches, [*matches[1:], None], strict=True):
        slot = int(match.group(1))
        if slot >= count:
            return None
        end = following.start() if following else len(stdout)
        parts[slot].append(head + stdout[match.end():end])
    return ["".join(p) for p in parts]


# --- running ---------------------------------------------------------------------------------------

@dataclass
class _Item:
    index: int  # position in the caller's list
    check: ConfigCheck
    values_json: str


@dataclass
class _ChartRun:
    plan: ChartPlan
    items: list[_Item]
    wrapper: Wrapper | None = None
    state: str = "unverified"  # unverified | verified | failed
    verify: int | None = None  # the deployment also rendered alone, to compare
    alone: str | None = None  # its manifests rendered alone
    batched: dict[int, str] = field(default_factory=dict)  # index -> manifests from a batch
    held: list[int] = field(default_factory=list)  # batch results waiting for the verification


def batchable_values(check: ConfigCheck, plan: ChartPlan) -> str | None:
    """The deployment's `.Values` as JSON for the wrapper, or None to render it alone."""
    loaded = check.loaded
    if loaded is None or not isinstance(loaded.value, dict) or not unambiguous(loaded):
        return None
    name = check.name
    if len(name) > MAX_RELEASE_NAME or not _RELEASE_NAME.fullmatch(name):
        return None
    values = coalesce(plan.defaults, loaded.value)
    encoded = None if values is None else _json_values(values)  # None for NaN, infinity
    if encoded is None:
        return None
    return f'{{"v":{encoded},"n":{json.dumps(name)},"ns":{json.dumps(check.environment.namespace)}}}'


def render_many(helm: helm_runner.Helm, checks: Sequence[ConfigCheck], kubernetes_version: str,
                jobs: int | None = None, batch: bool = True, deadline: Deadline | None = None,
                ) -> Iterator[tuple[int, RenderOutcome]]:
    """Render every check; yields (index in `checks`, outcome) as results come in.

    Each outcome is what `render.render_config` gives for that check alone. No helm
    process runs past `deadline` (default: processes.DEFAULT_TIMEOUT_SECONDS from now).
    """
    jobs = max(1, min(MAX_JOBS, jobs or default_jobs()))
    deadline = deadline or Deadline.after(processes.DEFAULT_TIMEOUT_SECONDS)
    with processes.temporary_directory("modeldeploy-batch-") as tmp:
        pool = cf.ThreadPoolExecutor(max_workers=jobs)
        try:
            yield from _Scheduler(helm, checks, kubernetes_version, jobs, batch, pool, tmp, deadline).run()
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
    def __init__(self, helm: helm_runner.Helm, checks: Sequence[ConfigCheck], kubernetes_version: str,
                 jobs: int, batch: bool, pool: cf.ThreadPoolExecutor, tmp: Path, deadline: Deadline,
                 ) -> None:
        self.helm, self.checks, self.kube = helm, checks, kubernetes_version
        self.jobs, self.pool, self.tmp = jobs, pool, tmp
        self.batch, self.deadline = batch, deadline
        self.pending: dict[cf.Future[Any], tuple[Any, ...]] = {}
        self.done: set[int] = set()
        self.values_files = 0

    # tasks -----------------------------------------------------------------------------------
    def _single(self, index: int, run: _ChartRun | None = None, verify: bool = False) -> None:
        future = self.pool.submit(render_config, self.helm, self.checks[index], self.kube, self.deadline)
        self.pending[future] = ("single", index, run, verify)

    def _batch(self, run: _ChartRun, items: list[_Item]) -> None:
        if len(items) == 1:
            self._single(items[0].index, run)
            return
        self.values_files += 1
        values_file = self.tmp / f"values-{self.values_files}.json"
        values_file.write_text('{"__mdb":[' + ",".join(i.values_json for i in items) + "]}",
                               encoding="utf-8")
        namespace = items[0].check.environment.namespace
        assert run.wrapper is not None
        future = self.pool.submit(helm_runner.template, self.helm, release="mdb-batch",
                                  chart_dir=run.wrapper.directory, namespace=namespace,
                                  values_file=values_file, kube_version=self.kube,
                                  deadline=self.deadline)
        self.pending[future] = ("batch", run, items)

    # planning --------------------------------------------------------------------------------
    def _plan(self) -> list[_ChartRun]:
        groups: dict[Path, list[int]] = {}
        charts: dict[tuple[Any, ...], Path | None] = {}
        for index, check in enumerate(self.checks):
            assert check.loaded is not None, "render only checked configs"
            key = (check.charts_root, check.loaded.value.get("chart_path"))
            if key not in charts:
                charts[key] = check.chart_dir
            chart = charts[key]
            assert chart is not None, "render only checked configs"
            groups.setdefault(chart, []).append(index)
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
            run = _ChartRun(plan, [])
            for index in indexes:
                values = batchable_values(self.checks[index], plan)
                if values is None:
                    self._single(index)
                else:
                    run.items.append(_Item(index, self.checks[index], values))
            if len(run.items) < MIN_GROUP:
                for item in run.items:
                    self._single(item.index)
                continue
            runs.append(run)
        return runs

    def _submit_batches(self, run: _ChartRun) -> None:
        by_namespace: dict[str, list[_Item]] = {}
        for item in run.items:
            by_namespace.setdefault(item.check.environment.namespace, []).append(item)
        # Each helm process costs ~50 ms before it renders anything: few, big batches (one
        # namespace each, at most MAX_BATCH), yet one per job at least; sizes balanced.
        counts = {ns: math.ceil(len(items) / MAX_BATCH) for ns, items in by_namespace.items()}
        while sum(counts.values()) < self.jobs:
            widest = max(counts, key=lambda ns: len(by_namespace[ns]) / counts[ns])
            if len(by_namespace[widest]) / counts[widest] < 2 * MIN_BATCH:
                break
            counts[widest] += 1
        batches = []
        for namespace, items in by_namespace.items():
            size = math.ceil(len(items) / counts[namespace])
            batches += [items[start:start + size] for start in range(0, len(items), size)]
        run.wrapper = build_wrapper(run.plan, self.tmp, max(len(b) for b in batches))
        run.verify = run.items[0].index
        self._single(run.verify, run, verify=True)  # first in the queue: compared early
        for batch in batches:
            self._batch(run, batch)

    def _fail(self, run: _ChartRun) -> None:
        """The batch path differs from helm alone for this chart: render each one alone."""
        run.state = "failed"
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
                yield from self._handle(task, future.result())
            if not self.pending:  # verified with a deployment whose batch failed: verify again
                for chart_run in runs:
                    if chart_run.state == "unverified" and chart_run.held:
                        self._verify_with(chart_run, chart_run.held[0])

    def _emit(self, index: int, outcome: RenderOutcome) -> Iterator[tuple[int, RenderOutcome]]:
        if index not in self.done:
            self.done.add(index)
            yield index, outcome

    def _handle(self, task: tuple[Any, ...], result: Any) -> Iterator[tuple[int, RenderOutcome]]:
        if task[0] == "single":
            _, index, run, verify = task
            outcome: RenderOutcome = result
            yield from self._emit(index, outcome)
            if verify and run.state == "unverified":
                if outcome.manifests is None:  # fails alone: it must fail in its batch too
                    run.verify = None
                    if index in run.batched:
                        self._fail(run)
                    elif run.held:
                        self._verify_with(run, run.held[0])
                else:
                    run.alone = outcome.manifests
                    yield from self._compare(run)
            return
        _, run, items = task
        output: helm_runner.TemplateOutput = result
        if output.failure == helm_runner.TIMED_OUT and not output.ok:  # halves would wait again
            for item in items:
                yield from self._emit(item.index, outcome_of(item.check, output, self.helm.version))
            return
        parts = split_output(run.wrapper, output.manifests, len(items)) if output.ok else None
        if parts is None or run.state == "failed":
            if not output.ok and run.state != "failed":
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
            elif run.state == "verified":
                yield from self._emit(item.index, RenderOutcome(manifests, []))
            else:
                run.batched[item.index] = manifests
                run.held.append(item.index)
        if run.state == "unverified":
            if run.verify is None and run.held:
                self._verify_with(run, run.held[0])
            else:
                yield from self._compare(run)

    def _verify_with(self, run: _ChartRun, index: int) -> None:
        run.verify, run.alone = index, None
        self._single(index, run, verify=True)

    def _compare(self, run: _ChartRun) -> Iterator[tuple[int, RenderOutcome]]:
        if run.verify is None or run.alone is None or run.verify not in run.batched:
            return
        if run.batched[run.verify] != run.alone:
            self._fail(run)
            return
        run.state = "verified"
        for held in run.held:
            yield from self._emit(held, RenderOutcome(run.batched[held], []))
        run.held.clear()


# --- checking the rendered manifests ------------------------------------------------------------

POOL_MIN = 48  # fewer deployments: their manifests are checked in this process
CHUNK = 16  # deployments per task sent to a worker process


def check_manifests(manifests: str, file: str, registry: MemoRegistry, kubeconform: str | None,
                    deadline: Deadline | None = None) -> list[Diagnostic]:
    """Parse one deployment's manifests and check them against the schemas (and kubeconform)."""
    objects, problems = manifest_check.read_manifests(manifests, file)
    if problems:
        return problems
    _, problems = manifest_check.check_objects(objects, registry, file)
    if kubeconform:
        problems += manifest_check.run_kubeconform(kubeconform, manifests, objects, registry, file,
                                                   deadline)
    return problems


class Workers:
    """Worker processes for the CPU-bound steps of a big run (YAML, jsonschema: threads would
    queue on the GIL), forked on first need while the process has a single thread."""

    def __init__(self, jobs: int | None) -> None:
        self.count = max(1, min(jobs or default_jobs(), max_workers()))
        self.pool: cf.ProcessPoolExecutor | None = None

    def get(self, expected: int) -> cf.ProcessPoolExecutor | None:
        """The pool, when `expected` items make one worth it; else None (work in process)."""
        if self.pool is None and self.count > 1 and expected >= POOL_MIN and _can_fork():
            self.pool = cf.ProcessPoolExecutor(self.count, mp_context=multiprocessing.get_context("fork"),
                                               initializer=processes.worker_setup,
                                               initargs=(os.getpid(),))
            self.pool.submit(int).result()  # forks every worker now, before any thread starts
        return self.pool

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None


def _can_fork() -> bool:
    return (sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods()
            and threading.active_count() == 1)


ConfigJob = tuple[ConfigFile, Environment, "Path | None"]


def _check_config_chunk(jobs: list[ConfigJob]) -> list[ConfigCheck]:
    return [check_config(config, environment, charts_root) for config, environment, charts_root in jobs]


def check_many(jobs: Sequence[ConfigJob], workers: Workers | None,
               progress: Callable[[int, int], None] | None = None) -> list[ConfigCheck]:
    """`config_check.check_config` of each job, in order; in worker processes for many."""
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


_REGISTRIES: dict[tuple[tuple[str, ...], str], MemoRegistry] = {}


def _registry(locations: tuple[str, ...], kubernetes_version: str) -> MemoRegistry:
    key = (locations, kubernetes_version)
    if key not in _REGISTRIES:  # one per worker process and run settings
        _REGISTRIES[key] = MemoRegistry(list(locations), kubernetes_version)
    return _REGISTRIES[key]


def _check_manifest_chunk(locations: tuple[str, ...], kubernetes_version: str, kubeconform: str | None,
                          deadline: Deadline | None, items: list[tuple[int, str, str]],
                          ) -> list[tuple[int, list[Diagnostic]]]:
    registry = _registry(locations, kubernetes_version)
    return [(index, check_manifests(manifests, file, registry, kubeconform, deadline))
            for index, manifests, file in items]


class ManifestChecker:
    """Checks rendered manifests, in the worker processes for big runs, else in this process.

    Create it before any thread is started: the workers are forked at once.
    """

    def __init__(self, locations: list[str], kubernetes_version: str, workers: Workers,
                 expected: int, deadline: Deadline | None = None) -> None:
        self.kubeconform = manifest_check.kubeconform_available()
        self.deadline = deadline
        self.settings = (tuple(locations), kubernetes_version, self.kubeconform, deadline)
        self.registry = MemoRegistry(locations, kubernetes_version)  # this run only
        self.workers = workers.count
        self.pool = workers.get(expected)
        self.ready: list[tuple[int, list[Diagnostic]]] = []
        self.pending: deque[cf.Future[list[tuple[int, list[Diagnostic]]]]] = deque()
        self.chunk: list[tuple[int, str, str]] = []

    def submit(self, index: int, manifests: str, file: str) -> None:
        if self.pool is None:
            self.ready.append((index, check_manifests(manifests, file, self.registry, self.kubeconform,
                                                      self.deadline)))
            return
        self.chunk.append((index, manifests, file))
        if len(self.chunk) >= CHUNK:
            self._flush()

    def _flush(self) -> None:
        if self.chunk and self.pool is not None:
            self.pending.append(self.pool.submit(_check_manifest_chunk, *self.settings, self.chunk))
            self.chunk = []

    def finished(self, wait: bool = False) -> list[tuple[int, list[Diagnostic]]]:
        """(index, problems) of the checks done by now; with wait=True, of all of them."""
        if wait or len(self.pending) < self.workers:  # keep idle workers busy
            self._flush()
        done, self.ready = self.ready, []
        while self.pending and (wait or self.pending[0].done()):
            done += self.pending.popleft().result()
        return done
