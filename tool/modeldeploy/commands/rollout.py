"""Rollout commands as planned edits: canary set/promote/rollback, release and version set.

Each plan_* function reads one config, computes its new text with config/editing.py,
checks the config and the new text with the checks `modeldeploy validate` runs (the one
core, checks/deployments.py: the same environments, charts root and duplicates), and
returns a Plan: what will happen in plain words (rollout_summary), the diff, the bytes to
write. A config that is already invalid, or would become invalid, is refused with
its diagnostics; so is an edit the environment's rollout policy forbids (policy/, the
same rules `modeldeploy diff` enforces in the PR check: Plan.violations). `release
--create` plans a new config instead (plan_create). Nothing here prints.

With write=True the plan is also carried out, and the whole of it (read, check,
write) runs under the deployment folder's edit lock (file_lock.py): concurrent
commands on one deployment run one after the other, each planning from what the
previous one wrote, so no update is lost and each reports the value it really
replaced. A file that cannot be read or written is a ToolError (exit 2) naming it,
raised before anything is written; Plan.written says the write succeeded.

This repository's chart renders its values one to one, so its plans are explained from the
values. A config of another chart is rendered (helm) as it is and as planned: the sentences
come from both renders, and an edit the chart does not render as asked (a canary it ignores,
`canary-not-rendered`) is refused with that diagnostic: the edit would change nothing that
Argo CD applies.
"""

from __future__ import annotations

import contextlib
import difflib
import os
import re
import tempfile
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..changes.git import Git, repository_root
from ..checks.deployments import (
    CheckRequest,
    DeploymentCheck,
    EnvironmentCheck,
    check_render,
    check_repository,
    check_text,
)
from ..config import editing as config_edit
from ..config.deployment_refs import Deployment, UnknownDeployment, find_deployment
from ..config.discovery import ConfigFile, display_path
from ..config.environments import load_environment
from ..config.values_schema import chart_schema
from ..diagnostics import Diagnostic, Severity, ToolError
from ..explain.rollout_summary import RolloutState, Sentence, describe_change, workload_changes
from ..file_lock import folder_lock
from ..fileio import write_atomic
from ..parallel import Workers
from ..policy.check import edit_violations
from ..results.policy import Violation
from ..safe_output import escape

BOM = b"\xef\xbb\xbf"
IMAGE_KEYS = ("version", "image_repository", "image_namespace")  # what a release copies
MIN_PERCENT, MAX_PERCENT = 0, 100


class RolloutError(Exception):
    """A request that cannot be carried out (bad percent, uneditable layout, file changed)."""


@dataclass
class Plan:
    deployment: Deployment
    before: bytes
    after: bytes | None = None  # None: nothing to write (refused, or nothing to change)
    sentences: list[Sentence] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)  # errors refuse; warnings are shown
    refusal: str | None = None  # why the edit is refused
    unchanged: str | None = None  # why there is nothing to do
    notes: list[str] = field(default_factory=list)  # e.g. a kept comment that names the old value
    violations: list[Violation] = field(default_factory=list)  # the rollout policy refuses the edit
    written: bool = False  # the new bytes are on disk
    created: bool = False  # the config is new (release --create): `before` is empty

    @property
    def display(self) -> str:
        """The config as shown in messages and in the diff headers."""
        return self.deployment.config.display

    def diff(self) -> str:
        """A unified diff from the file on disk to the planned file (empty when nothing changes).

        Each line is escaped (safe_output.py): a CR of a CRLF file shows as `\\r`."""
        if self.after is None:
            return ""
        lines = difflib.unified_diff(
            _decode(self.before).splitlines(keepends=True), _decode(self.after).splitlines(keepends=True),
            fromfile=f"a/{self.display}", tofile=f"b/{self.display}")
        return "".join(escape(line[:-1]) + "\n" if line.endswith("\n")
                       else escape(line) + "\n" if line.endswith("\r")  # a CR-only line break
                       else escape(line) + "\n\\ No newline at end of file\n"
                       for line in lines)


def _decode(data: bytes) -> str:
    return data.removeprefix(BOM).decode("utf-8")


def _text(data: bytes) -> str | None:
    try:
        return _decode(data)
    except UnicodeDecodeError:
        return None


def _read(plan: Plan) -> bytes:
    try:
        return plan.deployment.config.path.read_bytes()
    except OSError as exc:
        raise ToolError(f"cannot read {plan.display}: {exc.strerror}; nothing was changed") from exc


def _errors(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    return [d for d in diagnostics if d.severity is Severity.ERROR]


Edit = Callable[[str], str]


@dataclass(frozen=True)
class Repository:
    """The GitOps repository the rollout commands edit: its model-deployments/ folder, and how
    its configs are checked (the working directory, the charts root)."""

    root: Path  # <repo>/model-deployments
    request: CheckRequest

    def find(self, ref: str) -> Deployment:
        return find_deployment(self.root, ref, self.request.cwd)

    def git(self) -> Git | None:
        """The git repository holding the configs (its history is the policy's evidence), if any."""
        try:
            return Git(repository_root(self.root))
        except ToolError:
            return None

    def policy_violations(self, deployment: Deployment, display: str, before: dict[str, Any] | None,
                          after: dict[str, Any]) -> list[Violation]:
        """What the environment's rollout policy (policy/) says about the edit: what `diff` would say."""
        return edit_violations(self.root, deployment.env, deployment.name, display, before, after,
                               self.git())

    def check(self, config: ConfigFile) -> DeploymentCheck:
        """`config` checked as `validate` checks it, duplicates among every config of the repository."""
        workers = Workers(None)
        try:
            return check_repository(self.request, self.root, [config], workers).checks[0]
        finally:
            workers.close()


def _plan(deployment: Deployment, repo: Repository, edit_for: Callable[[dict[str, Any]], Edit | str],
          write: bool) -> Plan:
    """`_planned`; with `write`, also carried out, all of it under the deployment's edit lock."""
    config = deployment.config
    with folder_lock(config.deployment_dir, config.display) if write else nullcontext():
        plan = _planned(deployment, repo, edit_for)
        if write and plan.after is not None:
            apply(plan)
    return plan


def _planned(deployment: Deployment, repo: Repository,
             edit_for: Callable[[dict[str, Any]], Edit | str]) -> Plan:
    """Check the file, build the edit `edit_for(values)` chooses (a str: nothing to do), check the result.

    Validation is the same as `validate`'s: the environment settings, the strict YAML
    loader, the schema, every rule and duplicates; warnings do not block. A file that
    cannot be read (or is a FIFO, a folder...) is refused with its `io` diagnostic.
    """
    config = deployment.config
    if config.path.is_symlink():
        raise RolloutError(f"{config.display} is a symbolic link; edit the file it points to")
    current = repo.check(config)
    plan = Plan(deployment, b"")
    plan.diagnostics = current.problems
    if not current.valid or current.loaded is None:
        env_errors = _errors(current.environment.diagnostics)
        invalid = env_errors[0].path if env_errors else config.display
        plan.refusal = (f"{invalid} is invalid; fix it first (`modeldeploy validate` lists the "
                        "problems); nothing was changed")
        return plan
    # The bytes the edit starts from must be the text just checked (another program may
    # write the file meanwhile; modeldeploy commands wait for the edit lock).
    before = _read(plan)
    if _text(before) != current.loaded.text:
        raise RolloutError(f"{config.display} changed on disk while it was read; run the command again")
    plan.before = before
    edit = edit_for(current.loaded.value)
    if isinstance(edit, str):
        plan.unchanged = edit
        return plan
    text = _decode(before)
    try:
        new_text = edit(text)
    except config_edit.EditError as exc:  # one line: path:line:col, what and the fix
        where = f"{config.display}:{exc.position[0]}:{exc.position[1]}" if exc.position else config.display
        raise RolloutError(f"{where}: {exc}") from exc
    planned = check_text(current, new_text)
    plan.diagnostics = planned.problems
    if not planned.valid or planned.loaded is None:
        plan.refusal = f"the change would make {config.display} invalid; nothing was changed"
        return plan
    if current.chart_dir is not None and not chart_schema(current.chart_dir).contract:
        refused = _from_renders(plan, current, planned, new_text)
        if refused:
            return plan
    else:
        plan.sentences = describe_change(RolloutState.from_values(current.loaded.value),
                                         RolloutState.from_values(planned.loaded.value))
    plan.violations = repo.policy_violations(deployment, config.display, current.loaded.value,
                                             planned.loaded.value)
    if plan.violations:
        plan.refusal = policy_refusal(deployment.env)
        return plan
    plan.after = (BOM if before.startswith(BOM) else b"") + new_text.encode("utf-8")
    replaced = [str(current.loaded.value[key]) for key in IMAGE_KEYS
                if current.loaded.value.get(key) != planned.loaded.value.get(key)]
    plan.notes = stale_comments(text, new_text, replaced, _percent(planned.loaded.value))
    return plan


def policy_refusal(env: str) -> str:
    return (f"the rollout policy of {env} (`rollout:` in its environment.yaml) forbids this change, "
            "and `modeldeploy diff` would fail the pull request; nothing was changed")


def _from_renders(plan: Plan, current: DeploymentCheck, planned: DeploymentCheck, new_text: str) -> bool:
    """Explain the edit of a config of another chart from its renders before and after; True when
    refused (the chart does not render what the edit asks, or cannot render it)."""
    from ..manifests.parse import parse_manifests
    from ..manifests.schema_registry import DEFAULT_KUBERNETES_VERSION
    from ..render import helm as helm_runner
    from ..render.single import Release, render_release

    helm = helm_runner.find_helm()
    objects = []
    with tempfile.TemporaryDirectory(prefix="modeldeploy-plan-") as tmp:
        planned_file = Path(tmp) / "config.yaml"
        planned_file.write_text(new_text, encoding="utf-8")
        for check, values_file in ((current, current.config.path), (planned, planned_file)):
            if check.loaded is None or check.chart_dir is None:
                return True
            release = Release(check.config.display, values_file, check.name, check.namespace, check.chart_dir,
                              check.loaded)
            outcome = render_release(helm, release, DEFAULT_KUBERNETES_VERSION)
            if outcome.manifests is None:
                plan.diagnostics = [*plan.diagnostics, *outcome.diagnostics]
                plan.refusal = f"{check.config.display} does not render; nothing was changed"
                return True
            objects.append((outcome.manifests, parse_manifests(outcome.manifests)))
    ignored = _errors(check_render(planned, objects[1][0]))
    if ignored:
        plan.diagnostics = [*plan.diagnostics, *ignored]
        plan.refusal = (f"the chart of {plan.display} does not render this change as asked, so Argo CD would "
                        "apply nothing of it; nothing was changed")
        return True
    before, after = objects[0][1], objects[1][1]
    plan.sentences = describe_change(RolloutState.from_objects(before), RolloutState.from_objects(after))
    plan.sentences += workload_changes(before, after)
    return False


_PERCENT_MENTION = re.compile(r"(?<![\w.])(\d{1,3})\s*%")


def stale_comments(before: str, after: str, old_values: list[str], percent: int | None) -> list[str]:
    """Notes on edited lines whose kept comment no longer fits (edits keep comments as written).

    A comment is stale when it names one of `old_values`, or a percentage other than
    the new split (`percent` and 100 - `percent`).
    """
    split = {percent, 100 - percent} if percent is not None else set()
    old_lines, new_lines = before.splitlines(), after.splitlines()
    notes = []
    matcher = difflib.SequenceMatcher(a=old_lines, b=new_lines, autojunk=False)
    for tag, a1, a2, b1, b2 in matcher.get_opcodes():
        if tag != "replace" or a2 - a1 != b2 - b1:
            continue
        for number, line in enumerate(new_lines[b1:b2], start=b1 + 1):
            comment = line.partition(" #")[2]
            names_old = any(re.search(rf"(?<![\w.-]){re.escape(v)}(?![\w.-])", comment) for v in old_values)
            other_split = any(int(m) not in split for m in _PERCENT_MENTION.findall(comment))
            if comment and (names_old or other_split):
                notes.append(f"line {number} keeps its comment `#{comment}`; update it if it "
                             "describes the old setting")
    return notes


def _percent(values: dict[str, Any]) -> int | None:
    canary = values.get(config_edit.CANARY_KEY)
    percent = canary.get(config_edit.PERCENT_KEY) if isinstance(canary, dict) else None
    return percent if isinstance(percent, int) else None


def check_percent(percent: int) -> int:
    if not MIN_PERCENT <= percent <= MAX_PERCENT:
        raise RolloutError(f"canary traffic percent {percent} is outside {MIN_PERCENT}..{MAX_PERCENT} "
                           "(100 sends all traffic to the latest revision, 0 rolls back)")
    return percent


def _set_percent(percent: int) -> Edit:
    return lambda text: config_edit.set_canary_percent(text, percent)


def plan_canary_set(repo: Repository, ref: str, percent: int, *, write: bool = False) -> Plan:
    check_percent(percent)
    deployment = repo.find(ref)

    def edit_for(values: dict[str, Any]) -> Edit | str:
        if _percent(values) == percent:
            return f"{deployment.ref}: canary traffic is already {percent}%; nothing to change"
        return _set_percent(percent)

    return _plan(deployment, repo, edit_for, write)


def plan_canary_rollback(repo: Repository, ref: str, *, write: bool = False) -> Plan:
    deployment = repo.find(ref)

    def edit_for(values: dict[str, Any]) -> Edit | str:
        if _percent(values) == 0:
            return (f"{deployment.ref}: canary traffic is already 0%: all traffic is on the previous "
                    "revision; nothing to change")
        return _set_percent(0)

    return _plan(deployment, repo, edit_for, write)


def plan_canary_promote(repo: Repository, ref: str, *, force: bool = False, write: bool = False) -> Plan:
    """Remove the canary. A canary at 0% was rolled back: promoting it needs `force`."""
    deployment = repo.find(ref)

    def edit_for(values: dict[str, Any]) -> Edit | str:
        percent = _percent(values)
        if percent is None:
            return (f"{deployment.ref} has no canary: the latest revision already receives all "
                    "traffic; nothing to promote")
        if percent == 0 and not force:
            raise RolloutError(
                f"{deployment.ref}: the canary is at 0%: version {values.get('version')} was rolled back, "
                "and promoting would send all traffic to the version that was rolled back; to try it "
                f"again, step it up (`modeldeploy canary set {deployment.ref} 10`), or pass --force "
                "to promote it anyway; nothing was changed")
        return lambda text: config_edit.remove_key(text, config_edit.CANARY_KEY)

    return _plan(deployment, repo, edit_for, write)


VERSION_KEY = "version"


def plan_version_set(repo: Repository, ref: str, version: str, canary: int | None, *,
                     write: bool = False) -> Plan:
    """Set the model version (the image tag) of one deployment, and optionally its canary.

    The tag is written quoted when Helm would read it as another type (`0123`, `1e3`, `true`)."""
    if canary is not None:
        check_percent(canary)
    if not version or version != version.strip():
        raise RolloutError(f"{version!r} is not an image tag (letters, digits, '_', '.' and '-', "
                           "e.g. 4562a17c17)")
    deployment = repo.find(ref)

    def edit_for(values: dict[str, Any]) -> Edit | str:
        if values.get(VERSION_KEY) == version and (canary is None or _percent(values) == canary):
            return f"{deployment.ref} already runs version {version}; nothing to change"

        def edit(text: str) -> str:
            if values.get(VERSION_KEY) != version:
                text = config_edit.set_value(text, (VERSION_KEY,), version)
            return text if canary is None else config_edit.set_canary_percent(text, canary)

        return edit

    return _plan(deployment, repo, edit_for, write)


def plan_release(repo: Repository, name: str, from_env: str, to_env: str, canary: int | None,
                 *, create: bool = False, write: bool = False) -> Plan:
    """Copy the model version and image location of FROM/NAME into TO/NAME (and start a canary).

    With `create`, a TO/NAME that does not exist is created from the source config (plan_create)."""
    if canary is not None:
        check_percent(canary)
    if from_env == to_env:
        raise RolloutError(f"--from and --to are both {from_env!r}; name two environments")
    source = repo.find(f"{from_env}/{name}")
    source_check = repo.check(source.config)
    try:
        target = repo.find(f"{to_env}/{name}")
    except UnknownDeployment as exc:
        if not create:  # the source exists: creating the target is the likely wish
            raise UnknownDeployment(f"{exc}; to create {to_env}/{name} from {source.ref}, add --create") \
                from exc
        return plan_create(repo, source, source_check, to_env, canary, write=write)
    if not source_check.valid or source_check.loaded is None:
        plan = Plan(target, b"")
        plan.diagnostics = source_check.problems
        plan.refusal = (f"the source {source.config.display} is invalid; fix it before releasing "
                        "from it; nothing was changed")
        return plan
    released = {key: source_check.loaded.value[key] for key in IMAGE_KEYS}

    def edit_for(values: dict[str, Any]) -> Edit | str:
        changed = [key for key in IMAGE_KEYS if values.get(key) != released[key]]
        if not changed and (canary is None or _percent(values) == canary):
            return (f"{target.ref} already runs version {released['version']} from the same image "
                    f"as {source.ref}; nothing to release")

        def edit(text: str) -> str:
            for key in changed:
                text = config_edit.set_value(text, (key,), released[key])
            return text if canary is None else config_edit.set_canary_percent(text, canary)

        return edit

    return _plan(target, repo, edit_for, write)


def plan_create(repo: Repository, source: Deployment, source_check: DeploymentCheck, to_env: str,
                canary: int | None, *, write: bool = False) -> Plan:
    """A new TO/NAME: the source config's text without its canary, checked as a config of TO.

    The text is the source's (its comments and layout too); what differs between
    environments, the namespace and the production checks, comes from TO's
    environment.yaml, which the new config is checked against. A new deployment has no
    previous revision to split traffic with, so a canary is refused. The folder and the
    file are created only when the check and the policy pass (write_atomic)."""
    env_dir = repo.root / to_env
    path = env_dir / source.name / source.config.path.name
    target = Deployment(to_env, source.name, ConfigFile(display_path(path, repo.request.cwd), path))
    plan = Plan(target, b"")
    if canary is not None:
        raise RolloutError(f"{target.ref} does not exist yet: a new deployment has no previous revision "
                           "to split traffic with, so it starts with all of it; drop --canary")
    if not env_dir.is_dir():
        folder = display_path(env_dir, repo.request.cwd)
        raise RolloutError(f"there is no environment {to_env!r} (no folder {folder}); create it with "
                           "its environment.yaml first")
    if not source_check.valid or source_check.loaded is None:
        plan.diagnostics = source_check.problems
        plan.refusal = (f"the source {source.config.display} is invalid; fix it before releasing "
                        "from it; nothing was changed")
        return plan
    source_bytes = _read(Plan(source, b""))
    text = source_check.loaded.text
    if config_edit.CANARY_KEY in source_check.loaded.value:
        try:
            text = config_edit.remove_key(text, config_edit.CANARY_KEY)
        except config_edit.EditError as exc:
            raise RolloutError(f"{source.config.display}: {exc}") from exc
    environment, problems = load_environment(env_dir, repo.request.cwd)
    as_target = replace(source_check, config=target.config,
                        environment=EnvironmentCheck(env_dir, environment, problems))
    planned = check_text(as_target, text)
    plan.diagnostics = planned.problems
    if not planned.valid or planned.loaded is None:
        plan.refusal = f"the new {target.config.display} would be invalid; nothing was created"
        return plan
    plan.sentences = describe_change(None, RolloutState.from_values(planned.loaded.value))
    plan.violations = repo.policy_violations(target, target.config.display, None, planned.loaded.value)
    if plan.violations:
        plan.refusal = policy_refusal(to_env)
        return plan
    plan.after = (BOM if source_bytes.startswith(BOM) else b"") + text.encode("utf-8")
    plan.created = True
    if write:
        with folder_lock(env_dir, display_path(env_dir, repo.request.cwd)):
            if os.path.lexists(path):
                raise RolloutError(f"{target.config.display} appeared while the release was planned; "
                                   "run the command again")
            made_folder = not path.parent.exists()
            try:
                write_atomic(path, plan.after)  # creates the folder
            except OSError as exc:
                if made_folder:
                    with contextlib.suppress(OSError):
                        path.parent.rmdir()
                raise ToolError(f"cannot create {target.config.display}: {exc.strerror}; nothing was "
                                "changed") from exc
        plan.written = True
    return plan


def apply(plan: Plan) -> None:
    """Write the planned file atomically, unless it changed on disk since it was planned.

    A file or folder that cannot be written is a ToolError naming it; nothing is
    changed then (write_atomic removes its temporary file)."""
    if plan.after is None:
        return
    path = plan.deployment.config.path
    if _read(plan) != plan.before:
        raise RolloutError(f"{plan.display} changed on disk while the edit was planned; run the "
                           "command again")
    if not os.access(path, os.W_OK):
        raise ToolError(f"cannot write {plan.display}: the file is read-only for you; nothing was changed")
    try:
        write_atomic(path, plan.after)
    except OSError as exc:
        folder = os.path.dirname(plan.display) or "."
        raise ToolError(f"cannot write {plan.display}: {exc.strerror} (the new file is written "
                        f"into {folder} and renamed over the old one); nothing was changed") from exc
    plan.written = True
