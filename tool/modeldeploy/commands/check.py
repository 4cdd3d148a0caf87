"""`check`: manifests rendered elsewhere (files, folders, standard input) against the same schemas
and KServe rules as `render`'s output, through the same function (manifests/check.py).

The repository's `.modeldeploy.yaml` (of the git repository holding each file; for standard
input, the working directory's) and `# modeldeploy: disable=ID` comments in the manifest files
apply to its diagnostics as to every other command's (checks/settings.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..checks.settings import Settings
from ..diagnostics import Diagnostic, Severity, ToolError
from ..manifests.check import Selection
from ..manifests.files import STDIN_NAME, check_files, find_files, read_file
from ..manifests.memo_validator import MemoRegistry
from ..manifests.schema_registry import check_kubernetes_version, kubeconform_style_locations
from ..results.check import CheckResult


def _settled(status: str, problems: list[Diagnostic]) -> str:
    """An object's status once its diagnostics went through the settings: refused only by errors
    left; a missing schema whose diagnostic is turned off counts as skipped."""
    errors = any(p.severity is Severity.ERROR for p in problems)
    if status in ("valid", "invalid"):
        return "invalid" if errors else "valid"
    if status in ("no-schema", "not-an-object") and not problems:
        return "skipped"
    return status


@dataclass(frozen=True)
class CheckOptions:
    schema_locations: tuple[str, ...] = ()  # kubeconform's -schema-location (none: the built-in ones)
    kubernetes_version: str = ""
    skip: frozenset[str] = frozenset()
    ignore_missing_schemas: bool = False


def check(paths: list[str], options: CheckOptions, cwd: Path, stdin: bytes | None = None) -> CheckResult:
    """Check every manifest under `paths`; `stdin`: what standard input held, when `-` is one."""
    if not paths:
        raise ToolError("name the manifests to check: files, folders, or - for standard input")
    kubernetes_version = check_kubernetes_version(options.kubernetes_version)
    registry = MemoRegistry(kubeconform_style_locations(list(options.schema_locations)), kubernetes_version)
    files = [read_file(file, stdin) for file in find_files(paths, cwd)]
    checked = check_files(files, registry, Selection(options.skip, options.ignore_missing_schemas,
                                                             every_missing_schema_fails=True))
    settings = Settings(cwd)
    result = CheckResult(files=len(files))
    for item in checked:
        file = item.read.file
        path = file.path if file.path is not None else cwd / STDIN_NAME
        rules = settings.for_file(path if path.is_absolute() else cwd / path, item.read.text or "")
        result.diagnostics += rules.apply(item.read.problems)
        result.unreadable_files += bool(item.read.problems)
        for status in item.statuses:  # each object's verdict with the settings applied
            problems = rules.apply(status.problems)
            result.diagnostics += problems
            result.statuses.append(_settled(status.status, problems))
    if not result.resources and not result.unreadable_files:
        raise ToolError(f"no Kubernetes object found in {', '.join(paths)}: nothing was checked "
                        "(an empty stream, e.g. from a helm command that failed?)")
    result.diagnostics.sort()
    return result
