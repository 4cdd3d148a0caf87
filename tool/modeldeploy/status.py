"""`modeldeploy status`: the deployments declared in a GitOps repo, read from the configs.

Also the one place that turns `ENV/NAME` into a config file, for the rollout commands:
`<repo>/model-deployments/ENV/NAME/config.yaml`, with a did-you-mean listing when
no such deployment exists. No cluster is consulted: this is what git says should run.
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .config_check import ConfigCheck, check_config
from .diagnostics import Diagnostic, Severity, ToolError
from .discovery import (
    CONFIG_FILENAME,
    DEPLOYMENTS_DIRNAME,
    ConfigFile,
    default_charts_root,
    display_path,
    find_repo_root,
)
from .environments import Environment, load_environment
from .rollout_summary import RolloutState
from .rules import duplicate_deployment

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
    elif not repo.is_dir():
        raise ToolError(f"--repo {repo}: no such directory")
    root = repo.resolve() / DEPLOYMENTS_DIRNAME
    if not root.is_dir():
        raise ToolError(f"no {DEPLOYMENTS_DIRNAME}/ folder in {repo}")
    return root


def list_deployments(root: Path, cwd: Path) -> list[Deployment]:
    found = []
    for path in root.glob(f"*/*/{CONFIG_FILENAME}"):
        env, name = path.parent.parent.name, path.parent.name
        if not env.startswith(".") and not name.startswith(".") and path.is_file():
            found.append(Deployment(env, name, ConfigFile(display_path(path, cwd), path)))
    return sorted(found)


def _segment(text: str, what: str) -> str:
    if not _SEGMENT.match(text):
        raise ToolError(f"{text!r} is not a valid {what} name")
    return text


def _unknown(what: str, wanted: str, existing: list[str]) -> UnknownDeployment:
    close = difflib.get_close_matches(wanted, existing, n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]}?" if close else ""
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


@dataclass(frozen=True)
class StatusRow:
    env: str
    name: str
    config: str  # display path
    version: str | None
    canary_percent: int | None
    deployment_mode: str | None
    namespace: str
    error: Diagnostic | None  # the first error, when the config is invalid

    @property
    def valid(self) -> bool:
        return self.error is None

    def as_dict(self) -> dict[str, Any]:
        return {
            "env": self.env,
            "name": self.name,
            "config": self.config,
            "version": self.version,
            "canary_percent": self.canary_percent,
            "deployment_mode": self.deployment_mode,
            "namespace": self.namespace,
            "valid": self.valid,
            "error": self.error.as_dict() if self.error else None,
        }


def collect_status(deployments: list[Deployment], cwd: Path) -> list[StatusRow]:
    environments: dict[Path, tuple[Environment, list[Diagnostic]]] = {}
    checks: list[tuple[Deployment, ConfigCheck]] = []
    for deployment in deployments:
        env_dir = deployment.config.env_dir
        if env_dir not in environments:
            environments[env_dir] = load_environment(env_dir, cwd)
        check = check_config(deployment.config, environments[env_dir][0],
                             default_charts_root(deployment.config.path))
        checks.append((deployment, check))
    duplicates = list(duplicate_deployment.check_all([check for _, check in checks]))
    rows = []
    for deployment, check in checks:
        environment, env_problems = environments[deployment.config.env_dir]
        problems = sorted([*env_problems, *check.diagnostics,
                           *(d for d in duplicates if d.path == deployment.config.display)])
        errors = [d for d in problems if d.severity is Severity.ERROR]
        state = RolloutState.from_values(check.loaded.value if check.loaded else {})
        rows.append(StatusRow(
            env=deployment.env, name=deployment.name, config=deployment.config.display,
            version=_as_written(check, "version"), canary_percent=state.canary_percent,
            deployment_mode=(_as_written(check, "deployment_mode") or state.deployment_mode)
            if check.loaded else None,
            namespace=environment.namespace, error=errors[0] if errors else None,
        ))
    return rows


def _as_written(check: ConfigCheck, key: str) -> str | None:
    """A top-level value as written in the file (`1234e56`, not the number Helm would read)."""
    node = check.loaded.nodes.get((key,)) if check.loaded else None
    return node.raw if node else None


COLUMNS = ("ENV", "NAME", "VERSION", "CANARY", "MODE", "NAMESPACE", "STATUS")


def format_text(rows: list[StatusRow]) -> str:
    if not rows:
        return "no deployments\n"
    table = [COLUMNS]
    for row in rows:
        status = "ok" if row.error is None else \
            f"invalid: line {row.error.line}: {row.error.message} [{row.error.rule}]"
        canary = "-" if row.canary_percent is None else f"{row.canary_percent}%"
        table.append((row.env, row.name, row.version or "?", canary, row.deployment_mode or "?",
                      row.namespace, status))
    widths = [max(len(line[i]) for line in table) for i in range(len(COLUMNS) - 1)]
    return "".join("  ".join([*(cell.ljust(w) for cell, w in zip(line, widths, strict=False)),
                              line[-1]]) + "\n" for line in table)


def format_json(rows: list[StatusRow]) -> str:
    document = {
        "deployments": [row.as_dict() for row in rows],
        "invalid": sum(not row.valid for row in rows),
    }
    return json.dumps(document, indent=2) + "\n"
