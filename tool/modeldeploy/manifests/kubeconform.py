"""Running `kubeconform` (when it is on PATH) over the same schema files as the in-process check.

Rule id:
- `kubeconform`: when `kubeconform` is on PATH it runs too, over the same schema
  files, and its findings are reported under this id.
"""

from __future__ import annotations

import json
import shutil
from typing import Any

from ..diagnostics import Diagnostic, declared_in
from ..fileio import cache_dir
from ..processes import DEFAULT_TIMEOUT_SECONDS, Deadline, describe_output, run
from .schema_registry import SchemaRegistry, kubeconform_locations

_declare = declared_in(__doc__, __name__)
RULE_KUBECONFORM = _declare("kubeconform")
MAX_REPORT_BYTES = 16 << 20


def kubeconform_available() -> str | None:
    return shutil.which("kubeconform")


def run_kubeconform(binary: str, manifests: str, objects: list[Any], registry: SchemaRegistry,
                    report_path: str, deadline: Deadline | None = None) -> list[Diagnostic]:
    """Run kubeconform offline on the same schema files; its findings as diagnostics."""
    kinds = [(o["apiVersion"], o["kind"]) for o in objects if isinstance(o, dict)
             and isinstance(o.get("apiVersion"), str) and isinstance(o.get("kind"), str)]
    locations = kubeconform_locations(registry, kinds, cache_dir())
    # A missing schema is the in-process check's finding (manifest-no-schema or, for a custom
    # resource, manifest-crd-no-schema with its own severity): kubeconform would say it again.
    args = [binary, "-strict", "-ignore-missing-schemas", "-output", "json",
            "-kubernetes-version", registry.kubernetes_version]
    for location in locations:
        args += ["-schema-location", location]
    args.append("-")
    deadline = deadline or Deadline.after(DEFAULT_TIMEOUT_SECONDS)
    try:
        proc = run(args, deadline=deadline, max_stdout=MAX_REPORT_BYTES, stdin=manifests.encode("utf-8"))
    except OSError as exc:
        return [RULE_KUBECONFORM.at(report_path, 1, 1, f"kubeconform could not run: {exc}")]
    if proc.timed_out or proc.too_much:
        why = f"did not finish before {deadline.describe()}" if proc.timed_out \
            else f"printed more than {MAX_REPORT_BYTES >> 20} MB on {proc.too_much}"
        return [RULE_KUBECONFORM.at(report_path, 1, 1, f"kubeconform {why}")]
    try:
        report = json.loads(proc.stdout or b"{}")
        if not isinstance(report, dict):
            raise ValueError("not an object")
    except ValueError:
        return [RULE_KUBECONFORM.at(report_path, 1, 1, "kubeconform printed no JSON: "
                                    f"{describe_output(proc.stdout + proc.stderr, 300)}")]
    problems = []
    for resource in report.get("resources") or []:
        status = resource.get("status", "")
        if status in ("statusValid", "statusEmpty", "statusSkipped"):
            continue
        label = f"{resource.get('kind', '?')}/{resource.get('name', '?')}"
        details = resource.get("validationErrors") or [{"path": "", "msg": resource.get("msg", status)}]
        for detail in details:
            problems.append(RULE_KUBECONFORM.at(report_path, 1, 1, f"kubeconform: rendered {label}: "
                                                f"{detail.get('path') or '(root)'}: {detail.get('msg')}"))
    return problems
