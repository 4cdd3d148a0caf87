"""Finding the helm binary and running `helm template` (no shell, no network).

Lookup order: HELM_BIN, then `helm` on PATH, then a copy `modeldeploy install-helm`
installed (the default Helm 4, the default Helm 3, then the other pinned versions).
Only Helm 3 and Helm 4 are accepted: Argo CD embeds Helm 3 or 4 and the chart is
tested under both.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from . import helm_install
from .diagnostics import ToolError

HELM_TIMEOUT_SECONDS = 120
_VERSION = re.compile(r"^v(\d+)\.(\d+)\.(\d+)")
NO_HELM_HINT = ("helm not found: set HELM_BIN, put helm 3 or 4 on PATH, or run "
                "`modeldeploy install-helm` (downloads the pinned, checksum-verified build)")


@dataclass(frozen=True)
class Helm:
    path: str
    version: str  # e.g. v4.1.4

    @property
    def major(self) -> int:
        match = _VERSION.match(self.version)
        return int(match.group(1)) if match else 0


@dataclass(frozen=True)
class TemplateOutput:
    ok: bool
    manifests: str
    error: str


def find_helm(environ: dict[str, str] | None = None) -> Helm:
    env = os.environ if environ is None else environ
    explicit = env.get("HELM_BIN")
    if explicit:
        if not (os.path.isfile(explicit) and os.access(explicit, os.X_OK)):
            raise ToolError(f"HELM_BIN={explicit} is not an executable file")
        return _checked(explicit)
    on_path = shutil.which("helm", path=env.get("PATH"))
    if on_path:
        return _checked(on_path)
    for pinned in helm_install.fallback_order():
        if helm_install.is_installed(pinned.version):
            return _checked(str(helm_install.installed_path(pinned.version)))
    raise ToolError(NO_HELM_HINT)


@lru_cache(maxsize=8)
def _checked(path: str) -> Helm:
    try:
        proc = subprocess.run([path, "version", "--template", "{{.Version}}"],
                              capture_output=True, text=True, timeout=30, check=False)
    except OSError as exc:
        raise ToolError(f"cannot run helm at {path}: {exc.strerror}") from exc
    except subprocess.TimeoutExpired as exc:
        raise ToolError(f"`{path} version` did not answer in 30 s") from exc
    version = proc.stdout.strip()
    match = _VERSION.match(version)
    if proc.returncode != 0 or not match:
        raise ToolError(f"{path} does not look like helm (`helm version` said: "
                        f"{(proc.stdout + proc.stderr).strip()[:200]!r})")
    if match.group(1) not in ("3", "4"):
        raise ToolError(f"{path} is helm {version}; modeldeploy supports Helm 3 and Helm 4")
    return Helm(path=path, version=version)


def template(helm: Helm, *, release: str, chart_dir: Path, namespace: str,
             values_file: Path, kube_version: str) -> TemplateOutput:
    """Run `helm template` as Argo CD does: release name, namespace, one values file."""
    args = [helm.path, "template", release, str(chart_dir), "--namespace", namespace,
            "--values", str(values_file), "--kube-version", kube_version]
    try:
        proc = subprocess.run(args, capture_output=True, text=True, timeout=HELM_TIMEOUT_SECONDS,
                              check=False, env=_helm_env())
    except subprocess.TimeoutExpired:
        return TemplateOutput(False, "", f"helm template did not finish in {HELM_TIMEOUT_SECONDS} s")
    if proc.returncode != 0:
        return TemplateOutput(False, "", proc.stderr.strip() or f"helm exited {proc.returncode}")
    return TemplateOutput(True, proc.stdout, "")


def _helm_env() -> dict[str, str]:
    # Keep helm away from the user's kube context and repos: template needs neither.
    env = dict(os.environ)
    env.setdefault("HELM_CACHE_HOME", str(helm_install.cache_dir() / "helm-home" / "cache"))
    env.setdefault("HELM_CONFIG_HOME", str(helm_install.cache_dir() / "helm-home" / "config"))
    env.setdefault("HELM_DATA_HOME", str(helm_install.cache_dir() / "helm-home" / "data"))
    return env
