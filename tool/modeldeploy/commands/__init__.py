"""The commands: each orchestrates the stages below it and returns a result; none prints or exits.

- pipeline.py: `validate` and `render` (find -> check -> render -> check manifests);
- diff.py: `diff`, each side rendered by the pipeline, then compared and explained;
- rollout.py: `canary set|promote|rollback` and `release`, planned and written under a lock;
- status.py: `status`, the rows of what git says should run;
- check.py: `check`, manifests rendered elsewhere, through the manifest checks `render` uses.
(`install-helm` is one call of render/helm_install.py, made by the CLI.)

Imports inside the package go down these layers (`|`: independent; lint-imports checks it):

    check | diff | rollout | status
    pipeline
"""
