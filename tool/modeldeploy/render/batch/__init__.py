"""Many deployments per helm process, byte-identical to one process each (scheduler.py says how)."""
