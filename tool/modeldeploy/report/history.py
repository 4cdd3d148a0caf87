"""Writers for `modeldeploy history`: text and json (results/history.py)."""

from __future__ import annotations

from typing import Any

from ..results.history import HistoryEntry
from ..safe_output import escape, json_text


def format_text(deployment: str, entries: list[HistoryEntry]) -> str:
    out = [escape(f"{deployment}: {len(entries)} change(s), newest first")]
    for entry in entries:
        out.append(escape(f"{entry.commit[:10]}  {entry.date}  {entry.author}  {entry.subject}"))
        out.extend(escape(f"  * {s.text}") for s in entry.sentences)
    return "\n".join(out) + "\n"


def json_document(deployment: str, entries: list[HistoryEntry]) -> dict[str, Any]:
    return {"deployment": deployment,
            "changes": [{"commit": e.commit, "date": e.date, "author": e.author, "subject": e.subject,
                         "summary": [{"rule": s.rule, "text": s.text} for s in e.sentences]}
                        for e in entries]}


def format_json(deployment: str, entries: list[HistoryEntry]) -> str:
    return json_text(json_document(deployment, entries))
