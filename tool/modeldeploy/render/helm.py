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
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .. import processes
from ..diagnostics import ToolError
from ..fileio import cache_dir
from . import binary_facts, helm_install

VERSION_TIMEOUT_SECONDS = 30
# One helm process renders up to 500 deployments (batch.scheduler.MAX_BATCH) of a few KB each:
# a chart printing more than this is broken (a loop in a template), and reading it whole would
# exhaust memory.
MAX_OUTPUT_BYTES = 32 << 20
MAX_ERROR_BYTES = 1 << 20
_VERSION = re.compile(r"^v(\d+)\.(\d+)\.(\d+)")
NO_HELM_HINT = ("helm not found: set HELM_BIN, put helm 3 or 4 on PATH, or run "
                "`modeldeploy install-helm` (downloads the pinned, checksum-verified build)")


@dataclass(frozen=True)
class Helm:
    path: str
    version: str  # e.g. v4.1.4

    @property
    def numbers(self) -> tuple[int, int, int]:
        """(major, minor, patch) of the version; zeros when it does not read as one."""
        match = _VERSION.match(self.version)
        return (int(match.group(1)), int(match.group(2)), int(match.group(3))) if match else (0, 0, 0)

    @property
    def honours_memory_limit(self) -> bool:
        """Built with Go 1.19 or later (GOMEMLIMIT): Helm 3.12 and later, to be sure."""
        return self.numbers >= (3, 12, 0)


# Why a TemplateOutput is not ok:
FAILED = "failed"  # helm exited non-zero; `error` is its stderr
TIMED_OUT = "timed-out"  # the run's deadline passed first
BAD_OUTPUT = "bad-output"  # helm printed too much, or bytes that are not UTF-8; `error` says which


@dataclass(frozen=True)
class TemplateOutput:
    ok: bool
    manifests: str
    error: str
    failure: str = FAILED  # when not ok: FAILED, TIMED_OUT or BAD_OUTPUT


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
    identity, version = binary_facts.remembered(path, "version", _VERSION)
    if version is not None:
        return Helm(path=path, version=version)
    helm = _asked(path)
    if identity is not None:
        binary_facts.remember(path, identity, version=helm.version)
    return helm


def _asked(path: str) -> Helm:
    deadline = processes.Deadline.after(VERSION_TIMEOUT_SECONDS)
    try:
        proc = processes.run([path, "version", "--template", "{{.Version}}"], deadline=deadline,
                             max_stdout=1 << 16, max_stderr=1 << 16)
    except OSError as exc:
        raise ToolError(f"cannot run helm at {path}: {exc.strerror}") from exc
    if proc.timed_out:
        raise ToolError(f"`{path} version` did not answer in {VERSION_TIMEOUT_SECONDS} s")
    version = proc.stdout.decode("utf-8", errors="replace").strip()
    match = _VERSION.match(version)
    if proc.returncode != 0 or not match:
        said = processes.describe_output(proc.stdout + proc.stderr, 200) if not proc.too_much \
            else f"more than 64 KB on {proc.too_much}"
        raise ToolError(f"{path} does not look like helm (`helm version` said: {said!r})")
    if match.group(1) not in ("3", "4"):
        raise ToolError(f"{path} is helm {version}; modeldeploy supports Helm 3 and Helm 4")
    return Helm(path=path, version=version)


def template(helm: Helm, *, release: str, chart_dir: Path, namespace: str,
             values_file: Path, kube_version: str, deadline: processes.Deadline | None = None,
             api_versions: Sequence[str] = (),
             ) -> TemplateOutput:
    """Run `helm template` as Argo CD does: release name, namespace, one values file, the
    cluster's Kubernetes version and (when given) the API versions it serves.

    Waits at most until `deadline` (default: DEFAULT_TIMEOUT_SECONDS from now) and reads
    at most MAX_OUTPUT_BYTES; either way the helm process is killed and the output says why.
    """
    deadline = deadline or processes.Deadline.after(processes.DEFAULT_TIMEOUT_SECONDS)
    values_arg, values_stdin = str(values_file), None
    # --values is a string-slice flag that pflag reads as a CSV record: a comma, quote or line
    # break in the path would split or break it, so such a file goes over on stdin
    if any(c in values_arg for c in ',"\r\n'):
        try:
            values_arg, values_stdin = "-", values_file.read_bytes()
        except OSError as exc:
            return TemplateOutput(False, "", f"cannot read {values_file}: {exc.strerror}")
    args = [helm.path, "template", release, str(chart_dir), "--namespace", namespace,
            "--values", values_arg, "--kube-version", kube_version,
            *(f"--api-versions={api_version}" for api_version in api_versions)]
    try:
        proc = processes.run(args, deadline=deadline, max_stdout=MAX_OUTPUT_BYTES,
                             max_stderr=MAX_ERROR_BYTES, env=_helm_env(helm), stdin=values_stdin)
    except OSError as exc:
        return TemplateOutput(False, "", f"could not run {helm.path}: {exc.strerror}")
    if proc.timed_out:
        return TemplateOutput(False, "", f"did not finish before {deadline.describe()}", TIMED_OUT)
    if proc.too_much:
        cap = MAX_OUTPUT_BYTES if proc.too_much == "stdout" else MAX_ERROR_BYTES
        return TemplateOutput(False, "", f"printed more than {cap >> 20} MB on {proc.too_much}: "
                              "stopped reading and killed it (a template that never ends?)", BAD_OUTPUT)
    if proc.returncode != 0:
        stderr = processes.decode_output(proc.stderr).strip()
        return TemplateOutput(False, "", stderr or f"helm exited {proc.returncode}")
    try:
        manifests = proc.stdout.decode("utf-8")
    except UnicodeDecodeError as exc:
        return TemplateOutput(False, "", f"printed bytes that are not UTF-8 (byte {exc.start} of its "
                              f"output: {proc.stdout[exc.start:exc.start + 4]!r})", BAD_OUTPUT)
    return TemplateOutput(True, manifests, "")


def _helm_env(helm: Helm | None = None) -> dict[str, str]:
    # Keep helm away from the user's kube context and repos: template needs neither.
    env = dict(os.environ)
    env.setdefault("HELM_CACHE_HOME", str(cache_dir() / "helm-home" / "cache"))
    env.setdefault("HELM_CONFIG_HOME", str(cache_dir() / "helm-home" / "config"))
    env.setdefault("HELM_DATA_HOME", str(cache_dir() / "helm-home" / "data"))
    # helm lives a fraction of a second, beside other helm processes on every core: on one
    # thread (GOMAXPROCS=1: no idle threads spinning for work), collecting garbage only near a
    # soft limit (GOGC=off under GOMEMLIMIT, for a helm that honours it; else a quarter as
    # often, GOGC=400), a batch of 500 takes ~15% less CPU than with Go's defaults, at ~105 MB
    # (measured in nox -s bench's setting). A user's own settings win; without a limit of ours,
    # GOGC is never off.
    if "GOGC" not in env:
        limited = helm is not None and helm.honours_memory_limit and "GOMEMLIMIT" not in env
        env["GOGC"] = "off" if limited else "400"
    env.setdefault("GOMEMLIMIT", "72MiB")
    env.setdefault("GOMAXPROCS", "1")
    return env
