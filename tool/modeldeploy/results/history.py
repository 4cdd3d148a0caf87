"""The result of `modeldeploy history`: one deployment's rollout transitions, newest first."""

from __future__ import annotations

from dataclasses import dataclass, field

from .sentence import Sentence


@dataclass(frozen=True)
class HistoryEntry:
    commit: str
    date: str  # ISO 8601, the author date
    author: str
    subject: str
    sentences: list[Sentence] = field(default_factory=list)  # what the commit did to traffic
