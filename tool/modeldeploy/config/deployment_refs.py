"""`ENV/NAME` -> the deployment's config file, for `status` and the rollout commands.

`<repo>/model-deployments/ENV/NAME/config.yaml`, with a did-you-mean listing when no
such deployment exists. No cluster is consulted: this is what git says should run.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from ..diagnostics import ToolError, closest
from .discovery import CONFIG_FILENAME, DEPLOYMENTS_DIRNAME, ConfigFile, display_path, find_repo_root

_SEGMENT = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]*$")


class UnknownDeployment(LookupError):
    """No deployment (or environment) by that name; the message lists those that exist."""


@dataclass(frozen=True, order=True)
class Deployment:
    env: str
    name: str  # the deployment's folder name, as typed in ENV/NAME
    config: ConfigFile

    @property
    def ref(self) -> str:
        return f"{self.env}/{self.name}"


def deployments_root(repo: Path | None, cwd: Path) -> Path:
    """`<repo>/model-deployments`; repo is `--repo` or the git repository of the working directory."""
    if repo is None:
        repo = find_repo_root(cwd)
        if repo is None:
            raise ToolError(f"{cwd} is not inside a git repository; pass --repo DIR")
    elif not os.path.isdir(repo):  # os.path: False, not raising, where a folder is unreadable
        raise ToolError(f"--repo {repo}: no such directory")
    root = repo.resolve() / DEPLOYMENTS_DIRNAME
    if not os.path.isdir(root):
        raise ToolError(f"no {DEPLOYMENTS_DIRNAME}/ folder in {repo}")
    return root


def list_deployments(root: Path, cwd: Path) -> list[Deployment]:
    """Every `ENV/NAME/config.yaml` under `root`, whatever the config is (a FIFO or a folder named
    config.yaml is a deployment whose config is invalid, not a missing deployment)."""
    found = []
    for env_dir in _folders(root):
        for deployment_dir in _folders(env_dir):
            path = deployment_dir / CONFIG_FILENAME
            if os.path.lexists(path):
                found.append(Deployment(env_dir.name, deployment_dir.name,
                                        ConfigFile(display_path(path, cwd), path)))
    return sorted(found)


def _folders(parent: Path) -> list[Path]:
    """The folders in `parent` (symlinks to folders too), hidden ones left out."""
    try:
        with os.scandir(parent) as entries:
            return [Path(entry.path) for entry in entries
                    if not entry.name.startswith(".") and entry.is_dir()]
    except OSError as exc:
        raise ToolError(f"cannot list {parent}: {exc.strerror}") from exc


def _segment(text: str, what: str) -> str:
    if not _SEGMENT.fullmatch(text):
        raise ToolError(f"{text!r} is not a valid {what} name")
    return text


def _unknown(what: str, wanted: str, existing: list[str]) -> UnknownDeployment:
    close = closest(wanted, existing)
    hint = f"; did you mean {close}?" if close else ""
    listing = ", ".join(existing) if existing else "none"
    return UnknownDeployment(f"no {what} {wanted}{hint} (existing: {listing})")


def find_deployment(root: Path, ref: str, cwd: Path) -> Deployment:
    """The deployment named `ENV/NAME`."""
    env, sep, name = ref.strip("/").partition("/")
    if not sep:
        raise ToolError(f"{ref!r}: name a deployment as ENV/NAME, e.g. test/jukebox")
    wanted = f"{_segment(env, 'environment')}/{_segment(name, 'deployment')}"
    deployments = list_deployments(root, cwd)
    for deployment in deployments:
        if deployment.ref == wanted:
            return deployment
    raise _unknown("deployment", wanted, [d.ref for d in deployments])


def select_deployments(root: Path, selector: str | None, cwd: Path) -> list[Deployment]:
    """All deployments, those of one environment (`ENV`), or one (`ENV/NAME`)."""
    if selector and "/" in selector.strip("/"):
        return [find_deployment(root, selector, cwd)]
    deployments = list_deployments(root, cwd)
    if not selector:
        return deployments
    env = _segment(selector.strip("/"), "environment")
    chosen = [d for d in deployments if d.env == env]
    if not chosen:
        raise _unknown("environment", env, sorted({d.env for d in deployments}))
    return chosen
