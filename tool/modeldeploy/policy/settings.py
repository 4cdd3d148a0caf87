"""`rollout:` of an environment.yaml: the environment's rollout policy.

Its shape is checked by schemas/environment.schema.json (`validate` reports a wrong
one); here a value of the wrong type is ignored, as the environment's other settings are.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..config.yaml_loader import load_yaml_text

POLICY_KEY = "rollout"


@dataclass(frozen=True)
class RolloutPolicy:
    env: str
    source: str  # the environment.yaml it was read from, as shown in messages
    require_canary: bool = False
    promote_from: str | None = None
    max_first_step: int | None = None
    max_step: int | None = None
    freeze: bool = False
    freeze_reason: str | None = None

    @property
    def empty(self) -> bool:
        return not (self.require_canary or self.promote_from or self.freeze
                    or self.max_first_step is not None or self.max_step is not None)


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 100 else None


def policy_from_values(env: str, source: str, values: dict[str, Any]) -> RolloutPolicy | None:
    """The policy in an environment.yaml's values; None when there is none."""
    rollout = values.get(POLICY_KEY)
    if not isinstance(rollout, dict):
        return None
    promote_from = rollout.get("promote_from")
    reason = rollout.get("freeze_reason")
    policy = RolloutPolicy(
        env=env, source=source,
        require_canary=rollout.get("require_canary") is True,
        promote_from=promote_from if isinstance(promote_from, str) and promote_from else None,
        max_first_step=_int(rollout.get("max_first_step")),
        max_step=_int(rollout.get("max_step")),
        freeze=rollout.get("freeze") is True,
        freeze_reason=reason if isinstance(reason, str) and reason.strip() else None,
    )
    return None if policy.empty else policy


def policy_from_text(env: str, source: str, text: str | None) -> RolloutPolicy | None:
    """The policy in an environment.yaml's text (None: no file); an unreadable file has none
    (`validate` reports it)."""
    if text is None:
        return None
    loaded, _ = load_yaml_text(source, text)
    if loaded is None or not isinstance(loaded.value, dict):
        return None
    return policy_from_values(env, source, loaded.value)
