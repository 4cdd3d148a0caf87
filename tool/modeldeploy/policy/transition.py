"""The traffic facts of one config the rollout policy looks at: the one function reading them.

Kept apart from explain/ (which words a change for people) so that how summaries are
built can change without touching the policy: both read the same config values.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

RAW_DEPLOYMENT = "RawDeployment"


@dataclass(frozen=True)
class Traffic:
    """What one config sends where."""

    version: str | None
    image: str | None  # repository/namespace the version is pulled from
    percent: int | None  # canary.trafficPercent; None: no canary
    raw: bool = False  # RawDeployment mode: KServe ignores the canary, the latest gets 100%

    @property
    def latest_share(self) -> int:
        """The percent of traffic the latest revision receives."""
        return 100 if self.percent is None or self.raw else self.percent

    def same_version(self, other: Traffic) -> bool:
        return self.version == other.version and self.image == other.image


def traffic_of(values: dict[str, Any]) -> Traffic:
    canary = values.get("canary")
    percent = canary.get("trafficPercent") if isinstance(canary, dict) else None
    version = values.get("version")
    repo, namespace = values.get("image_repository"), values.get("image_namespace")
    return Traffic(
        version=version if isinstance(version, str) else None,
        image=f"{repo}/{namespace}" if repo and namespace else None,
        percent=percent if isinstance(percent, int) and not isinstance(percent, bool) else None,
        raw=values.get("deployment_mode") == RAW_DEPLOYMENT,
    )
