"""The one config-checking core every command uses."""
