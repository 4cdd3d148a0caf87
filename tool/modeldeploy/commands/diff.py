"""`modeldeploy diff`: the deployments a change between two git refs touches, rendered on both sides.

Nothing in the user's repository is written: a ref is read with `git archive` into
a temporary folder (no worktree metadata), the working tree (the default head) is
read in place, and git runs plumbing commands only, with GIT_OPTIONAL_LOCKS=0, so
not even the index's stat cache gets refreshed.

From a ref, diff extracts only what rendering the affected configs reads: the configs,
their environment.yaml and (charts in the repository) the chart folders they name,
following symbolic links that stay in the repository to what they point at. A link
anywhere else in the repository never matters; one that leads out of the repository
from what diff reads is refused (exit 2), never followed.

A deployment is affected, and rendered on both sides, when
- its config.yaml was added, removed or changed ("config");
- its environment's environment.yaml changed ("environment");
- a file under its chart folder changed, or under the chart's top folder (e.g.
  charts/) outside every chart in use, such as a shared library chart ("chart");
- anything under schemas/ changed ("schemas").
A --charts-root outside the repository (or untracked in it, or a submodule) holds
the charts for both sides and only config and environment changes count; one that
is a folder of the repository is read at each ref like the default. A config removed and another
added in the same environment with the same `name` are one deployment that moved.
"""

from __future__ import annotations

import os
import posixpath
import subprocess
import tarfile
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from .. import processes
from ..checks.deployments import load_config
from ..config.discovery import CONFIG_FILENAME, DEPLOYMENTS_DIRNAME, ENVIRONMENT_FILENAME, ConfigFile
from ..diagnostics import Diagnostic, Severity, ToolError
from ..explain import rollout_summary
from ..explain.rollout_summary import RolloutState, Sentence
from ..manifests import object_diff as manifest_diff
from ..manifests.object_diff import ObjectDiff
from ..render import helm as helm_runner
from . import pipeline

BASE, HEAD = "base", "head"
WORKING_TREE = "working tree"
SCHEMAS_DIRNAME = "schemas"
REASON_CONFIG, REASON_ENVIRONMENT, REASON_CHART, REASON_SCHEMAS = "config", "environment", "chart", "schemas"


@dataclass(frozen=True)
class SideProblem:
    side: str  # BASE or HEAD
    diagnostic: Diagnostic


@dataclass
class DeploymentDiff:
    env: str
    base_config: str | None  # repository-relative path at the base; None: absent there
    head_config: str | None
    reasons: tuple[str, ...]  # why it was rendered again
    status: str  # added, removed, moved, modified or unchanged
    sentences: list[Sentence]
    objects: list[ObjectDiff]
    base_invalid: bool = False
    head_invalid: bool = False

    @property
    def config(self) -> str:
        return self.head_config or self.base_config or ""

    @property
    def name(self) -> str:
        """The deployment's folder name (what a reviewer sees in the repository)."""
        return posixpath.basename(posixpath.dirname(self.config))

    @property
    def label(self) -> str:
        return f"{self.env}/{self.name}"

    @property
    def added_lines(self) -> int:
        return sum(o.added for o in self.objects)

    @property
    def removed_lines(self) -> int:
        return sum(o.removed for o in self.objects)


@dataclass
class DiffResult:
    base: str  # the refs as given; the head may be WORKING_TREE
    head: str
    deployments: list[DeploymentDiff] = field(default_factory=list)  # the ones with something to say
    unchanged: int = 0  # rendered again, but neither manifests nor traffic changed
    problems: list[SideProblem] = field(default_factory=list)

    @property
    def has_differences(self) -> bool:
        return any(d.objects for d in self.deployments)

    @property
    def head_errors(self) -> int:
        return sum(p.side == HEAD and p.diagnostic.severity is Severity.ERROR for p in self.problems)

    def exit_code(self, fail_on_differences: bool) -> int:
        if self.head_errors:
            return 1
        return 1 if fail_on_differences and self.has_differences else 0


def diff(base: str, head: str | None, paths: Sequence[str], options: pipeline.Options, cwd: Path,
         helm: helm_runner.Helm | None = None) -> DiffResult:
    """Render the deployments affected between `base` and `head` (None: the working tree)."""
    git = Git(repository_root(cwd))
    base_sha = git.commit(base, "--base")
    head_sha = git.commit(head, "--head") if head is not None else None
    result = DiffResult(base, head if head is not None else WORKING_TREE)
    base_files = git.deployment_files(base_sha)
    head_files = git.deployment_files(head_sha) if head_sha else working_tree_deployment_files(git.root)
    base_configs, head_configs = _configs(base_files), _configs(head_files)
    charts_prefix = git.charts_prefix(options.charts_root, base_sha)
    charts_in_repo = charts_prefix is not None

    def chart_folders() -> dict[str, str]:
        # Configs on both sides: an unchanged one has the same chart_path at the head.
        both = sorted(base_configs & head_configs)
        return {path: posixpath.join(charts_prefix or "", folder)
                for path, blob in git.read_blobs(base_sha, both).items()
                if (folder := chart_folder(_chart_path(blob))) is not None}

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
    with processes.temporary_directory("modeldeploy-diff-") as tmp:
        base_root = tmp / BASE
        git.extract_deployments(base_sha, base_paths, base_files, charts_prefix, base_root)
        head_root = git.root
        if head_sha is not None:
            head_root = tmp / HEAD
            git.extract_deployments(head_sha, head_paths, head_files, charts_prefix, head_root)
        base_charts, head_charts = ((base_root / charts_prefix, head_root / charts_prefix)
                                    if charts_prefix is not None else (options.charts_root,) * 2)
        with ThreadPoolExecutor(max_workers=2) as pool:  # helm runs in subprocesses: both sides at once
            base_job = pool.submit(render_side, BASE, base_root, base_paths, options, helm, base_charts)
            head_job = pool.submit(render_side, HEAD, head_root, head_paths, options, helm, head_charts)
            base_side, head_side = base_job.result(), head_job.result()
    result.problems = [*base_side.problems, *head_side.problems]
    for base_path, head_path, reasons in pair_configs(affected, base_side, head_side):
        deployment = compare(base_path, head_path, reasons, base_side, head_side)
        if deployment.status == "unchanged":
            result.unchanged += 1
        else:
            result.deployments.append(deployment)
    result.deployments.sort(key=lambda d: (d.env, d.name, d.config))
    return result


# -- which deployments: pure functions of path sets ---------------------------------------------

def is_config(path: str) -> bool:
    parts = path.split("/")
    return (len(parts) >= 3 and parts[0] == DEPLOYMENTS_DIRNAME and parts[-1] == CONFIG_FILENAME
            and not any(p.startswith(".") for p in parts))


def env_dir(config: str) -> str:
    return posixpath.dirname(posixpath.dirname(config))


def chart_folder(chart_path: Any) -> str | None:
    """`chart_path` as a normalised repository-relative folder; None when it cannot be one."""
    if not isinstance(chart_path, str) or not chart_path or posixpath.isabs(chart_path):
        return None
    folder = posixpath.normpath(chart_path)
    if folder == "." or folder.split("/")[0] == "..":
        return None
    return folder


def affected_configs(changed: Iterable[str], base_configs: set[str], head_configs: set[str],
                     chart_folders: Callable[[], dict[str, str]] | None) -> dict[str, set[str]]:
    """config path -> the reasons it must be rendered again (see the module doc).

    `chart_folders` maps configs to their chart folder; None when the charts live
    outside the repository (--charts-root), so chart changes in it do not count.
    """
    every = base_configs | head_configs
    affected: dict[str, set[str]] = {}
    by_env: dict[str, list[str]] = {}
    for config in every:
        by_env.setdefault(env_dir(config), []).append(config)
    outside: list[str] = []
    for path in sorted(set(changed)):
        if path in every:
            affected.setdefault(path, set()).add(REASON_CONFIG)
        elif path.startswith(DEPLOYMENTS_DIRNAME + "/"):
            if posixpath.basename(path) == ENVIRONMENT_FILENAME:
                for config in by_env.get(posixpath.dirname(path), ()):
                    affected.setdefault(config, set()).add(REASON_ENVIRONMENT)
        else:
            outside.append(path)
    if any(p == SCHEMAS_DIRNAME or p.startswith(SCHEMAS_DIRNAME + "/") for p in outside):
        for config in every:
            affected.setdefault(config, set()).add(REASON_SCHEMAS)
    if outside and chart_folders is not None:
        users: dict[str, list[str]] = {}
        for config, folder in chart_folders().items():
            users.setdefault(folder, []).append(config)
        for folder in _touched_folders(outside, users.keys()):
            for config in users[folder]:
                affected.setdefault(config, set()).add(REASON_CHART)
    return affected


def _touched_folders(changed: list[str], folders: Iterable[str]) -> set[str]:
    folders = list(folders)
    touched: set[str] = set()
    for path in changed:
        inside = {f for f in folders if path.startswith(f + "/")}
        if not inside and "/" in path:
            # Under the charts' top folder but in no chart in use: a library chart, a
            # file://../ dependency: every chart below that top folder may include it.
            top = path.split("/", 1)[0]
            inside = {f for f in folders if f.startswith(top + "/")}
        touched |= inside
    return touched


def pair_configs(affected: dict[str, set[str]], base: RenderedSide, head: RenderedSide,
                 ) -> list[tuple[str | None, str | None, tuple[str, ...]]]:
    """(base path, head path, reasons) per deployment; a move pairs a removed and an added config.

    A move is the same environment and the same `name` on both sides, and only
    when that match is unique; otherwise the configs stay removed and added.
    """
    removed = [p for p in sorted(affected) if p in base.configs and p not in head.configs]
    added = [p for p in sorted(affected) if p in head.configs and p not in base.configs]
    removed_by_key = _by_identity(removed, base.values)
    added_by_key = _by_identity(added, head.values)
    moves = {removed_by_key[k][0]: added_by_key[k][0] for k in removed_by_key.keys() & added_by_key.keys()
             if len(removed_by_key[k]) == 1 and len(added_by_key[k]) == 1}
    moved_to = set(moves.values())
    pairs: list[tuple[str | None, str | None, tuple[str, ...]]] = []
    for path in sorted(affected):
        if path in moved_to:
            continue
        if path in moves:
            reasons = affected[path] | affected[moves[path]]
            pairs.append((path, moves[path], tuple(sorted(reasons))))
            continue
        pairs.append((path if path in base.configs else None, path if path in head.configs else None,
                      tuple(sorted(affected[path]))))
    return pairs


def _by_identity(paths: list[str], values: dict[str, dict[str, Any]]) -> dict[tuple[str, str], list[str]]:
    grouped: dict[tuple[str, str], list[str]] = {}
    for path in paths:
        name = values.get(path, {}).get("name")
        if isinstance(name, str):
            grouped.setdefault((env_dir(path), name), []).append(path)
    return grouped


def path_filter(paths: Sequence[str], cwd: Path, root: Path, configs: set[str]) -> Callable[[str], bool]:
    """A predicate keeping the configs at or under the PATH arguments (repository-relative)."""
    prefixes = []
    for raw in paths:
        absolute = os.path.realpath(cwd / raw)
        relative = os.path.relpath(absolute, root)
        if relative == os.pardir or relative.startswith(os.pardir + os.sep):
            raise ToolError(f"{raw}: outside the repository {root}")
        prefix = "" if relative == os.curdir else Path(relative).as_posix()
        if not any(_under(config, prefix) for config in configs):
            raise ToolError(f"{raw}: names no {CONFIG_FILENAME} at either ref (nor in the working tree)")
        prefixes.append(prefix)
    return lambda config: any(_under(config, prefix) for prefix in prefixes)


def _under(path: str, prefix: str) -> bool:
    return not prefix or path == prefix or path.startswith(prefix + "/")


def _configs(files: set[str]) -> set[str]:
    return {f for f in files if is_config(f)}


def _with_environments(configs: list[str], files: set[str]) -> list[str]:
    environments = {f"{env_dir(c)}/{ENVIRONMENT_FILENAME}" for c in configs}
    return sorted({*configs, *(e for e in environments if e in files)})


def _chart_path(blob: bytes) -> Any:
    try:
        values = yaml.load(blob, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError:
        return None
    return values.get("chart_path") if isinstance(values, dict) else None


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
                helm: helm_runner.Helm, charts_root: Path | None) -> RenderedSide:
    rendered = RenderedSide(side, set(configs))
    if not configs:  # pipeline.render would take "no paths" for "every config"
        return rendered
    side_options = replace(options, charts_root=charts_root, output_dir=None)
    run = pipeline.render(list(configs), side_options, root, helm)
    if options.deadline is not None and options.deadline.passed and run.errors:
        # What helm did not render in time is no finding about either side: no partial diff.
        raise ToolError(f"helm did not render every affected deployment before "
                        f"{options.deadline.describe()}; the diff would be incomplete")
    for deployment in run.rendered:
        rendered.manifests[deployment.config] = deployment.manifests
        rendered.namespaces[deployment.config] = deployment.namespace
    for config in configs:
        loaded, _ = load_config(ConfigFile(config, root / config))  # refuses links out of the repo
        if loaded is not None and isinstance(loaded.value, dict):
            rendered.values[config] = loaded.value
    # Base warnings are history; base errors explain a side that did not render.
    prefix = f"{root}{os.sep}"
    rendered.problems = [SideProblem(side, replace(d, message=d.message.replace(prefix, "")))
                         for d in run.diagnostics if side == HEAD or d.severity is Severity.ERROR]
    return rendered


# -- comparing one deployment ---------------------------------------------------------------------

def compare(base_path: str | None, head_path: str | None, reasons: tuple[str, ...],
            base: RenderedSide, head: RenderedSide) -> DeploymentDiff:
    config = head_path or base_path
    assert config is not None, "a deployment exists on at least one side"
    base_manifests = base.manifests.get(base_path) if base_path else None
    head_manifests = head.manifests.get(head_path) if head_path else None
    base_invalid = base_path is not None and base_manifests is None
    head_invalid = head_path is not None and head_manifests is None
    env = posixpath.basename(env_dir(config))
    before_prefix = f"a/{env}/{posixpath.basename(posixpath.dirname(base_path or config))}"
    after_prefix = f"b/{env}/{posixpath.basename(posixpath.dirname(head_path or config))}"
    base_objects = manifest_diff.parse_objects(base_manifests)  # each side parsed once
    head_objects = manifest_diff.parse_objects(head_manifests)
    # An invalid head has no manifests to compare: showing every object as removed would lie.
    objects = [] if head_invalid else manifest_diff.diff_objects(base_objects, head_objects,
                                                                 before_prefix, after_prefix)
    moved = base_path is not None and head_path is not None and base_path != head_path
    sentences: list[Sentence] = []
    if moved:
        assert base_path is not None and head_path is not None
        sentences.append(rollout_summary.moved(posixpath.dirname(base_path), posixpath.dirname(head_path)))
    if base_invalid:
        sentences.append(rollout_summary.invalid_config(BASE, str(base_path)))
    if head_invalid:
        sentences.append(rollout_summary.invalid_config(HEAD, str(head_path)))
    if not (base_invalid or head_invalid):
        new_revision = not manifest_diff.same_data(manifest_diff.predictor_specs(base_objects),
                                                   manifest_diff.predictor_specs(head_objects))
        sentences += _traffic_sentences(base_path, head_path, reasons, base, head, objects,
                                        new_revision)
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
                       new_revision: bool) -> list[Sentence]:
    before_values = base.values.get(base_path) if base_path else None
    after_values = head.values.get(head_path) if head_path else None
    before = RolloutState.from_values(before_values) if before_values is not None else None
    after = RolloutState.from_values(after_values) if after_values is not None else None
    if before == after and not objects:
        return []
    sentences = []
    namespace = None
    if base_path and head_path:
        namespace = rollout_summary.namespace_change(base.namespaces[base_path], head.namespaces[head_path])
        if namespace:
            sentences.append(namespace)
    sentences += rollout_summary.describe_change(before, after)
    if after is not None and before == after and objects and namespace is None:
        if before_values != after_values:
            cause = REASON_CONFIG
        elif REASON_CHART in reasons or REASON_ENVIRONMENT not in reasons:
            cause = REASON_CHART
        else:
            cause = REASON_ENVIRONMENT
        sentences.append(rollout_summary.manifests_only_change(after, cause, new_revision))
    return sentences


# -- git, read-only ---------------------------------------------------------------------------------

def repository_root(cwd: Path) -> Path:
    proc = _git_run(["rev-parse", "--show-toplevel"], cwd)
    if proc.returncode != 0:
        raise ToolError(f"modeldeploy diff compares git refs: run it inside a git repository "
                        f"({cwd} is not in one)")
    return Path(os.fsdecode(proc.stdout).strip())


def _git_env() -> dict[str, str]:
    # Optional locks off: even read-only git commands may otherwise rewrite the index.
    return {**os.environ, "GIT_OPTIONAL_LOCKS": "0", "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}


def _git_run(args: list[str], cwd: Path, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(["git", "--literal-pathspecs", *args], cwd=cwd, input=stdin,
                              capture_output=True, env=_git_env(), check=False)
    except FileNotFoundError as exc:
        raise ToolError("git not found: modeldeploy diff needs git on PATH") from exc


class Git:
    """The few read-only git commands diff needs, run at the repository root."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def run(self, *args: str, stdin: bytes | None = None) -> bytes:
        proc = _git_run(list(args), self.root, stdin)
        if proc.returncode != 0:
            message = " ".join(os.fsdecode(proc.stderr).split())[:400]
            raise ToolError(f"git {args[0]} failed in {self.root}: {message}")
        return proc.stdout

    def commit(self, ref: str, option: str) -> str:
        proc = _git_run(["rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}"],
                        self.root)
        if proc.returncode != 0:
            raise ToolError(f"{option} {ref}: no such commit in {self.root} (give a branch, tag or "
                            "commit; in CI fetch it first, e.g. actions/checkout with fetch-depth: 0)")
        return os.fsdecode(proc.stdout).strip()

    def charts_prefix(self, charts_root: Path | None, sha: str) -> str | None:
        """Where the charts root is in the repository ("" the root), None when outside it.

        Untracked folders and submodules count as outside: `git archive` of the
        base would not contain them.
        """
        if charts_root is None:
            return ""
        relative = os.path.relpath(os.path.realpath(charts_root), os.path.realpath(self.root))
        if relative == os.curdir:
            return ""
        if relative == os.pardir or relative.startswith(os.pardir + os.sep):
            return None
        prefix = Path(relative).as_posix()
        kind = _git_run(["cat-file", "-t", f"{sha}:{prefix}"], self.root)
        return prefix if kind.returncode == 0 and kind.stdout.strip() == b"tree" else None

    def deployment_files(self, sha: str) -> set[str]:
        out = self.run("ls-tree", "-r", "-z", "--name-only", sha, "--", DEPLOYMENTS_DIRNAME)
        return {os.fsdecode(p) for p in out.split(b"\0") if p}

    def changed_paths(self, base: str, head: str | None) -> set[str]:
        if head is not None:
            out = self.run("diff-tree", "-r", "-z", "--no-renames", "--name-only", base, head)
            return {os.fsdecode(p) for p in out.split(b"\0") if p}
        # Working tree: tracked changes (plumbing: no index refresh), then untracked files.
        fields = self.run("diff-index", "-z", "--no-renames", base).split(b"\0")
        changed: set[str] = set()
        unhashed: dict[str, str] = {}  # path -> base blob; stat-dirty entries git did not hash
        for meta, raw_path in zip(fields[0::2], fields[1::2], strict=False):
            if not meta:
                continue
            _, _, old_sha, new_sha, status = os.fsdecode(meta).split(" ")
            path = os.fsdecode(raw_path)
            if status == "M" and set(new_sha) == {"0"} and (self.root / path).is_file():
                unhashed[path] = old_sha
            else:
                changed.add(path)
        if unhashed:
            names = sorted(unhashed)
            hashes = os.fsdecode(self.run("hash-object", "--stdin-paths",
                                          stdin="".join(f"{n}\n" for n in names).encode())).split()
            changed.update(n for n, h in zip(names, hashes, strict=True) if h != unhashed[n])
        untracked = self.run("ls-files", "-z", "--others", "--exclude-standard")
        changed.update(os.fsdecode(p) for p in untracked.split(b"\0") if p)
        return changed

    def read_blobs(self, sha: str, paths: list[str]) -> dict[str, bytes]:
        if not paths:
            return {}
        out = self.run("cat-file", "--batch", stdin="".join(f"{sha}:{p}\n" for p in paths).encode())
        blobs: dict[str, bytes] = {}
        position = 0
        for path in paths:
            end = out.index(b"\n", position)
            header = out[position:end].split()
            position = end + 1
            if len(header) != 3 or header[1] != b"blob":
                continue  # "<name> missing"
            size = int(header[2])
            blobs[path] = out[position:position + size]
            position += size + 1
        return blobs

    def extract_deployments(self, sha: str, configs: list[str], files: set[str], charts_prefix: str | None,
                            dest: Path) -> None:
        """Extract what rendering `configs` at `sha` reads (see the module doc) into `dest`."""
        dest.mkdir(parents=True)
        done: list[str] = []
        self._extract_with_links(sha, _with_environments(configs, files), dest, done)
        if charts_prefix is None:
            return
        folders = set()
        for config in configs:
            try:
                blob = (dest / config).read_bytes()  # a link: to what was extracted for it
            except OSError:
                continue
            folder = chart_folder(_chart_path(blob))
            if folder is not None:
                folders.add(posixpath.join(charts_prefix, folder) if charts_prefix else folder)
        self._extract_with_links(sha, sorted(folders), dest, done)

    def _extract_with_links(self, sha: str, paths: list[str], dest: Path, done: list[str]) -> None:
        """Extract `paths`, then what the links among them point at, until nothing new is named."""
        for _ in range(_MAX_LINK_ROUNDS):
            paths = [p for p in paths if not any(_under(p, d) for d in done)]
            entries = self.tree_entries(sha, paths)
            specs: set[str] = set()
            for path in paths:
                if path in entries and entries[path][0] != _LINK_MODE:
                    specs.add(path)  # the common case: no link on the way
                    continue
                resolved, links = self.resolve(sha, path)
                specs.update(p for p in [*links, resolved] if p and not any(_under(p, d) for d in done))
            if not specs:
                return
            self.extract(sha, sorted(specs), dest)
            done.extend(specs)
            paths = sorted(_link_targets(dest, specs))

    def tree_entries(self, sha: str, paths: Sequence[str]) -> dict[str, tuple[bytes, bytes]]:
        """path -> (mode, object) in the tree of `sha`, for those of `paths` git has an entry for."""
        entries: dict[str, tuple[bytes, bytes]] = {}
        for start in range(0, len(paths), 500):  # a command line of reasonable length
            chunk = paths[start:start + 500]
            for record in self.run("ls-tree", "-z", sha, "--", *chunk).split(b"\0"):
                meta, _, name = record.partition(b"\t")
                if name:
                    mode, _, rest = meta.partition(b" ")
                    entries[os.fsdecode(name)] = (mode, rest.partition(b" ")[2])
        wanted = set(paths)
        return {path: entry for path, entry in entries.items() if path in wanted}

    def tree_entry(self, sha: str, path: str) -> tuple[bytes, bytes] | None:
        return self.tree_entries(sha, [path]).get(path)

    def resolve(self, sha: str, path: str) -> tuple[str | None, list[str]]:
        """`path` with the links in it followed as the filesystem would, and the links passed.

        None for the path when it is missing or a link leads out of the repository."""
        links: list[str] = []
        pending, current = path.split("/"), ""
        for _ in range(_MAX_LINK_ROUNDS):
            if not pending:
                return current, links
            candidate = posixpath.join(current, pending[0]) if current else pending[0]
            entry = self.tree_entry(sha, candidate)
            if entry is None:
                return None, links
            if entry[0] != _LINK_MODE:
                current, pending = candidate, pending[1:]
                continue
            links.append(candidate)
            target = os.fsdecode(self.run("cat-file", "blob", os.fsdecode(entry[1])))
            joined = posixpath.normpath(posixpath.join(current, target))
            if posixpath.isabs(target) or joined == os.pardir or joined.startswith(os.pardir + "/"):
                return None, links  # leads out: extracted as a link, the tar filter refuses it
            pending, current = ([] if joined == "." else joined.split("/")) + pending[1:], ""
        return None, links

    def extract(self, sha: str, specs: list[str], dest: Path) -> None:
        """`git archive sha -- specs | tar -x` into dest, refusing links that lead out of it."""
        if not specs:
            return
        proc = subprocess.Popen(["git", "--literal-pathspecs", "archive", "--format=tar", sha, "--", *specs],
                                cwd=self.root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_git_env())
        assert proc.stdout is not None and proc.stderr is not None
        try:
            with tarfile.open(fileobj=proc.stdout, mode="r|") as archive:
                # The "data" filter refuses links and paths leading out of dest.
                if hasattr(tarfile, "data_filter"):
                    archive.extractall(dest, filter="data")
                else:  # pragma: no cover - Python before 3.10.12 / 3.11.4
                    archive.extractall(dest)
        except tarfile.TarError as exc:
            proc.kill()
            raise ToolError(f"cannot extract {sha[:12]} from git archive: {exc}") from exc
        finally:
            proc.stdout.close()
            error = proc.stderr.read()
            code = proc.wait()
        if code != 0:
            raise ToolError(f"git archive {sha[:12]} failed: {' '.join(os.fsdecode(error).split())[:400]}")


_LINK_MODE = b"120000"
_MAX_LINK_ROUNDS = 40  # as the kernel's limit on links followed in one path


def _link_targets(dest: Path, extracted: Iterable[str]) -> set[str]:
    """Repository paths the links under the extracted paths point at (inside the repository)."""
    targets: set[str] = set()
    for spec in extracted:
        top = dest / spec
        found = [top] if top.is_symlink() else []
        if top.is_dir() and not top.is_symlink():
            for current, dirs, names in os.walk(top):
                found += [Path(current) / n for n in [*dirs, *names] if (Path(current) / n).is_symlink()]
        for link in found:
            relative = link.relative_to(dest).as_posix()
            joined = posixpath.normpath(posixpath.join(posixpath.dirname(relative), os.readlink(link)))
            if not posixpath.isabs(joined) and joined != os.pardir and not joined.startswith(os.pardir + "/"):
                targets.add(joined)
    return targets


def working_tree_deployment_files(root: Path) -> set[str]:
    files: set[str] = set()
    top = root / DEPLOYMENTS_DIRNAME
    for current, dirs, names in os.walk(top):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        relative = Path(current).relative_to(root).as_posix()
        files.update(f"{relative}/{n}" for n in names)
    return files
