"""The policy checks `modeldeploy diff` and the rollout commands run: same rules, same evidence.

`diff` reads each environment's policy at the base commit (a change relaxing it does not
relax it for itself), the other environments' configs at the head, and the history of
both; the rollout commands read the working tree and the history of HEAD.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from ..changes.git import Git
from ..config.discovery import ENVIRONMENT_FILENAME
from ..diagnostics import ToolError
from ..results.policy import Violation
from . import rules
from .history import History, config_path, config_values, git_evidence
from .settings import RolloutPolicy, policy_from_text
from .transition import traffic_of

Change = tuple[str | None, str | None, "dict[str, Any] | None", "dict[str, Any] | None"]


def _text(data: bytes | None) -> str | None:
    if data is None:
        return None
    try:
        return data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError:
        return None


def diff_violations(git: Git, base: str, head: str | None, changes: Iterable[Change]) -> list[Violation]:
    """The violations of the changes (base path, head path, base values, head values) from `base` to
    `head` (None: the working tree), each checked against its environment's policy at the base."""
    changes = list(changes)
    if not changes:
        return []
    everything = History(git, [base, head or "HEAD"])
    earlier = History(git, [base])
    policies: dict[str, RolloutPolicy | None] = {}
    found: list[Violation] = []
    for base_path, head_path, before, after in changes:
        config = head_path or base_path
        if config is None or after is None or head_path is None:
            continue
        env_folder = posixpath.dirname(posixpath.dirname(head_path))
        env, name = posixpath.basename(env_folder), posixpath.basename(posixpath.dirname(head_path))
        if env_folder not in policies:
            source = posixpath.join(env_folder, ENVIRONMENT_FILENAME)
            policies[env_folder] = policy_from_text(env, source, _text(earlier.read_at(base, source)))
        policy = policies[env_folder]
        if policy is None:
            continue
        deployments_dir = posixpath.dirname(env_folder)
        evidence = git_evidence(deployments_dir, _head_configs(git, head, deployments_dir, everything),
                                everything, earlier)
        found += rules.check(policy, f"{env}/{name}", config, traffic_of(before) if before is not None
                             else None, traffic_of(after), evidence)
    return found


def _head_configs(git: Git, head: str | None, deployments_dir: str,
                  history: History) -> Callable[[str, str], dict[str, Any] | None]:
    """The values of ENV/NAME's config at `head` (None: the working tree)."""

    def current(env: str, name: str) -> dict[str, Any] | None:
        path = config_path(deployments_dir, env, name)
        if head is not None:
            return config_values(path, history.read_at(head, path))
        try:
            return config_values(path, (git.root / path).read_bytes())
        except OSError:
            return None

    return current


def edit_violations(deployments_root: Path, env: str, name: str, display: str, before: dict[str, Any] | None,
                    after: dict[str, Any], git: Git | None) -> list[Violation]:
    """The violations of an edit the rollout commands are about to write: the policy of the
    environment.yaml on disk, the configs on disk, the history of HEAD (when in a git repository)."""
    settings = deployments_root / env / ENVIRONMENT_FILENAME
    try:
        text = _text(settings.read_bytes())
    except OSError:
        text = None
    policy = policy_from_text(env, f"{deployments_root.name}/{env}/{ENVIRONMENT_FILENAME}", text)
    if policy is None:
        return []
    prefix = ""
    history = History(None, [])
    if git is not None:
        try:
            prefix = deployments_root.resolve().relative_to(git.root.resolve()).as_posix()
        except ValueError:  # not inside that repository after all: no history to read
            git = None
        else:
            history = History(git, ["HEAD"]) if has_commits(git) else History(git, [])

    def current(other_env: str, other_name: str) -> dict[str, Any] | None:
        path = deployments_root / other_env / other_name / "config.yaml"
        try:
            return config_values(str(path), path.read_bytes())
        except OSError:
            return None

    evidence = git_evidence(prefix, current, history, history)
    return rules.check(policy, f"{env}/{name}", display,
                       traffic_of(before) if before is not None else None, traffic_of(after), evidence)


def has_commits(git: Git) -> bool:
    try:
        git.run("rev-parse", "--verify", "--quiet", "HEAD^{commit}")
    except ToolError:  # a repository without commits: no history
        return False
    return True
