"""The one config-checking core every command uses (deployments.py): which configs, their
environments, the charts root, one config's checks, duplicates.
"""
