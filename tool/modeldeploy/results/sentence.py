"""One plain-words sentence about what a change does to live traffic (explain/ writes them)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Sentence:
    rule: str  # stable id, e.g. "canary-step"
    text: str
