"""The `modeldeploy status` table (text) and document (json)."""

from __future__ import annotations

from typing import Any

from ..results.status import StatusRow
from ..safe_output import escape, json_text

COLUMNS = ("ENV", "NAME", "VERSION", "CANARY", "MODE", "NAMESPACE", "STATUS")


def format_text(rows: list[StatusRow]) -> str:
    if not rows:
        return "no deployments\n"
    table: list[tuple[str, ...]] = [COLUMNS]
    for row in rows:
        status = "ok" if row.error is None else \
            f"invalid: line {row.error.line}: {row.error.message} [{row.error.rule}]"
        canary = "-" if row.canary_percent is None else f"{row.canary_percent}%"
        # Cells are escaped before the columns are measured: a name with a control character
        # stays on its line and the table stays aligned.
        table.append(tuple(escape(cell) for cell in (row.env, row.name, row.version or "?", canary,
                                                     row.deployment_mode or "?", row.namespace, status)))
    widths = [max(len(line[i]) for line in table) for i in range(len(COLUMNS) - 1)]
    return "".join(escape("  ".join([*(cell.ljust(w) for cell, w in zip(line, widths, strict=False)),
                                     line[-1]])) + "\n" for line in table)


def json_document(rows: list[StatusRow]) -> dict[str, Any]:
    return {
        "deployments": [row_document(row) for row in rows],
        "invalid": sum(not row.valid for row in rows),
    }


def format_json(rows: list[StatusRow]) -> str:
    return json_text(json_document(rows))


def row_document(row: StatusRow) -> dict[str, Any]:
    return {
        "env": row.env,
        "name": row.name,
        "config": row.config,
        "version": row.version,
        "canary_percent": row.canary_percent,
        "deployment_mode": row.deployment_mode,
        "namespace": row.namespace,
        "valid": row.valid,
        "error": row.error.as_dict() if row.error else None,
    }
