"""A rollout policy violation: one transition of one deployment that its environment's policy forbids."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Violation:
    rule: str  # e.g. "policy-require-canary" (policy/rules.py)
    deployment: str  # ENV/NAME
    config: str  # the config's path (repository-relative in diff)
    message: str  # what the change does, which policy forbids it, and the fix

    def as_dict(self) -> dict[str, str]:
        return {"rule": self.rule, "deployment": self.deployment, "config": self.config,
                "message": self.message}
