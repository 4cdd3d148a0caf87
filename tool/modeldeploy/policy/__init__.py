"""Rollout policy: what a change may do to the traffic of an environment's deployments.

settings.py reads `rollout:` of environment.yaml, transition.py reduces a config to the
traffic facts the policy looks at, rules.py declares and checks the rules, history.py
reads from git where a version ran. `modeldeploy diff` and the rollout commands
(commands/) both call rules.check (through check.py), so they refuse exactly the same
transitions.

Imports inside the package go down these layers (`|`: independent; lint-imports checks it):

    check
    history
    rules
    settings | transition
"""
