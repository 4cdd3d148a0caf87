"""`--shard I/N`: split a very large repo over N CI runners, each deployment in one shard.

Configs are ordered by their path relative to their repository root (not by the
order of the PATH arguments, nor the working directory), and dealt round-robin:
the k-th config goes to shard k mod N + 1. Every runner given the same arguments
on the same commit gets a disjoint share, together all of them, sizes within one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ..diagnostics import ToolError
from .discovery import ConfigFile, display_path, find_repo_root

_SHARD = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


def parse_shard(text: str) -> tuple[int, int]:
    match = _SHARD.match(text)
    if not match:
        raise ToolError(f"--shard {text!r}: expected I/N such as 2/4")
    index, count = int(match.group(1)), int(match.group(2))
    if count < 1 or not 1 <= index <= count:
        raise ToolError(f"--shard {text}: I must be between 1 and N (1-based), N at least 1")
    return index, count


def shard_key(config: ConfigFile) -> str:
    """The config's path relative to its repository root (absolute outside one)."""
    root = find_repo_root(config.path.parent)
    return display_path(config.path, root) if root is not None else config.path.as_posix()


def select(configs: Sequence[ConfigFile], shard: tuple[int, int]) -> list[ConfigFile]:
    """The configs of shard `shard` = (I, N), in the order of `configs`."""
    index, count = shard
    ordered = sorted(configs, key=lambda c: (shard_key(c), c.path.as_posix()))
    mine = {c for position, c in enumerate(ordered) if position % count == index - 1}
    return [c for c in configs if c in mine]

