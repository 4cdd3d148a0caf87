"""The commands: each orchestrates the stages below it and returns a result; none prints or exits.

- pipeline.py: `validate` and `render` (find -> check -> render -> check manifests);
- diff.py: `diff`, each side rendered by the pipeline, then compared and explained;
- rollout.py: `canary set|promote|rollback`, `release` and `version set`, planned (the rollout
  policy checked) and written under a lock;
- history.py: `history`, one deployment's transitions from git;
- status.py: `status`, the rows of what git says should run;
- check.py: `check`, manifests rendered elsewhere, through the manifest checks `render` uses.
(`install-helm` is one call of render/helm_install.py, made by the CLI.)

Imports inside the package go down these layers (`|`: independent; lint-imports checks it):

    check | diff | history | rollout | status
    pipeline
"""
