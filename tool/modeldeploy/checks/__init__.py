"""The one config-checking core every command uses.

- deployments.py: which configs, their environments, the charts root, one config's checks,
  duplicates; every result owns its problems and carries its values forward;
- settings.py: a repository's rule settings and a file's disable comments, applied to every
  diagnostic of a run in one place.

Imports inside the package go down these layers (`|`: independent; lint-imports checks it):

    deployments
    settings
"""
