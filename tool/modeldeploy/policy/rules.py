"""The rollout policy's rules: each transition of a deployment checked against its environment's policy.

The policy is `rollout:` in the environment's environment.yaml (settings.py). `modeldeploy
diff` reads it at the base of the change, so a pull request that relaxes the policy cannot
use the relaxed policy for its own transitions (the relaxation applies from the next
change on); the rollout commands read the environment.yaml in the working tree. The
rules are switched on and off there, per environment, and not in `.modeldeploy.yaml`.

Always allowed, whatever the policy: a rollback, that is less traffic to the latest
revision (a canary back to 0%, or a smaller step), or a change back to a version the
same deployment of the same environment ran with all of its traffic before (git history
up to the base, history.py); removing a deployment. A new deployment has no previous
revision to split traffic with: only `policy-promote-from` and `policy-freeze` apply to it.

- `policy-require-canary`: with `rollout.require_canary: true`, a new version must arrive as
  a canary (`canary.trafficPercent` below 100) and not take 100% of the traffic at once
  (no canary, a canary at 100%, or RawDeployment mode, which ignores the canary). The fix:
  give it a canary, e.g. `modeldeploy release NAME --from test --to prod --canary 10`;
- `policy-promote-from`: with `rollout.promote_from: ENV`, a version entering the environment
  must run in ENV first: in ENV's config of the same deployment (folder) at the head, or at
  any commit of its git history reachable from the base or the head. CI needs the whole
  history (actions/checkout `fetch-depth: 0`). The fix: release it to ENV first;
- `policy-first-step`: with `rollout.max_first_step: N`, a new version receives at most N%
  of traffic in its first step. The fix: start the canary at N% or less;
- `policy-step`: with `rollout.max_step: N`, the latest revision's share of traffic grows by
  at most N percentage points in one change (promotion and a canary at 100% count as 100%).
  The fix: go there in smaller steps;
- `policy-freeze`: with `rollout.freeze: true` (and an optional `freeze_reason`), no new
  version and no more traffic to the latest revision: only rollbacks. The fix: wait for the
  freeze to end (its environment.yaml changed first, in a change of its own).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..diagnostics import Severity, declared_in
from ..results.policy import Violation
from .settings import RolloutPolicy
from .transition import Traffic

_declare = declared_in(__doc__, __name__)
# The policy is the setting: a repository-wide `.modeldeploy.yaml` does not relax it.
RULE_REQUIRE_CANARY = _declare("policy-require-canary", Severity.ERROR, can_disable=False)
RULE_PROMOTE_FROM = _declare("policy-promote-from", Severity.ERROR, can_disable=False)
RULE_FIRST_STEP = _declare("policy-first-step", Severity.ERROR, can_disable=False)
RULE_STEP = _declare("policy-step", Severity.ERROR, can_disable=False)
RULE_FREEZE = _declare("policy-freeze", Severity.ERROR, can_disable=False)


@dataclass(frozen=True)
class Evidence:
    """What the rules need to know beyond the two states, from git and the other environments."""

    ran_in: Callable[[str, str, str], bool]  # (env, name, version): the version ran (or runs) there
    ran_here_before: Callable[[str, str, str], bool]  # (env, name, version): a rollback target
    looked: Callable[[str, str], str]  # (env, name): where ran_in looked, in words


def _version(traffic: Traffic) -> str:
    return str(traffic.version)


def is_rollback(env: str, name: str, before: Traffic | None, after: Traffic | None,
                evidence: Evidence) -> bool:
    """Less traffic to the latest revision, a version this deployment ran here before, or removal."""
    if after is None:
        return before is not None
    if before is None:
        return False
    if before.same_version(after):
        return after.latest_share < before.latest_share
    return after.version is not None and evidence.ran_here_before(env, name, after.version)


def check(policy: RolloutPolicy | None, deployment: str, config: str, before: Traffic | None,
          after: Traffic | None, evidence: Evidence) -> list[Violation]:
    """The violations of `policy` by one deployment's change from `before` to `after` (None: absent)."""
    if policy is None or after is None:
        return []
    env, _, name = deployment.partition("/")
    if is_rollback(env, name, before, after, evidence):
        return []
    found: list[Violation] = []

    def violation(rule_id: str, setting: str, text: str) -> None:
        found.append(Violation(rule_id, deployment, config,
                               f"{text} (rollout.{setting} in {policy.source})"))

    new_version = before is None or not before.same_version(after)
    grows = before is None or after.latest_share > before.latest_share
    what = _describe(before, after)
    if policy.freeze and (new_version or grows):
        reason = f" ({policy.freeze_reason})" if policy.freeze_reason else ""
        violation(RULE_FREEZE.id, "freeze", f"{deployment}: {what}, but {env} is frozen{reason}: only "
                  "rollbacks are allowed; wait for the freeze to be lifted in a change of its own")
    if policy.require_canary and before is not None and new_version and after.latest_share == 100:
        how = ("RawDeployment mode ignores the canary" if after.raw
               else "a canary at 100%" if after.percent == 100 else "no canary")
        violation(RULE_REQUIRE_CANARY.id, "require_canary",
                  f"{deployment}: the new version {_version(after)} receives 100% of traffic at once "
                  f"({how}), and {env} requires a canary; give it a canary below 100%, e.g. "
                  f"`canary.trafficPercent: {min(10, policy.max_first_step or 10)}`")
    if (policy.max_first_step is not None and before is not None and new_version
            and after.latest_share > policy.max_first_step):
        violation(RULE_FIRST_STEP.id, "max_first_step",
                  f"{deployment}: the new version {_version(after)} starts at {after.latest_share}% of "
                  f"traffic, and {env} allows at most {policy.max_first_step}% for a first step; "
                  f"start the canary at {policy.max_first_step}% or less")
    if (policy.max_step is not None and before is not None and not new_version and grows
            and after.latest_share - before.latest_share > policy.max_step):
        step = after.latest_share - before.latest_share
        target = before.latest_share + policy.max_step
        violation(RULE_STEP.id, "max_step",
                  f"{deployment}: {what} is a step of {step} percentage points, and {env} allows at "
                  f"most {policy.max_step}; go to {target}% first (`modeldeploy canary set "
                  f"{deployment} {target}`)")
    if (policy.promote_from and new_version and after.version is not None
            and not evidence.ran_in(policy.promote_from, name, after.version)):
        violation(RULE_PROMOTE_FROM.id, "promote_from",
                  f"{deployment}: version {after.version} has not run in {policy.promote_from} "
                  f"({evidence.looked(policy.promote_from, name)}), and {env} takes only versions that "
                  f"ran in {policy.promote_from} first; release it to {policy.promote_from} first "
                  f"(`modeldeploy version set {policy.promote_from}/{name} {after.version}`)")
    return found


def _describe(before: Traffic | None, after: Traffic) -> str:
    if before is None:
        return f"a new deployment sends all traffic to version {_version(after)}"
    if not before.same_version(after):
        return f"version {_version(before)} -> {_version(after)} ({after.latest_share}% of traffic)"
    if after.percent is None and not after.raw:
        return f"promotion ({before.latest_share}% -> 100% of traffic to the latest revision)"
    return f"canary traffic {before.latest_share}% -> {after.latest_share}%"
