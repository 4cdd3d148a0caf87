"""A progress bar on stderr for long runs, used by the CLI (the pipeline never prints).

Shown only on a terminal, outside CI (the CI variable set), never with machine
output (`--format json`, `sarif`, `codequality`), and only once a run has lasted `DELAY` seconds, so quick
runs print nothing. Redrawn at most 10 times a second; cleared when done.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from typing import TextIO

from . import MACHINE_FORMATS

DELAY = 1.0
INTERVAL = 0.1
WIDTH = 30


def wanted(stream: TextIO, environ: Mapping[str, str], output_format: str | None) -> bool:
    if output_format in MACHINE_FORMATS or environ.get("CI") or environ.get("TERM") == "dumb":
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class ProgressBar:
    """Call with (done, total) as work finishes; `close()` clears the line."""

    def __init__(self, stream: TextIO, label: str, enabled: bool = True,
                 clock: Callable[[], float] | None = None) -> None:
        self.stream = stream
        self.label = label
        self.enabled = enabled
        self.clock = clock or time.monotonic
        self.started = self.clock()
        self.last_draw = 0.0
        self.drawn = False

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled or total <= 0:
            return
        now = self.clock()
        if now - self.started < DELAY or (now - self.last_draw < INTERVAL and done < total):
            return
        self.last_draw = now
        filled = WIDTH * done // total
        bar = "#" * filled + "-" * (WIDTH - filled)
        self.stream.write(f"\r{self.label} [{bar}] {done}/{total}")
        self.stream.flush()
        self.drawn = True

    def close(self) -> None:
        if self.drawn:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self.drawn = False


def for_cli(stream: TextIO, label: str, output_format: str | None,
            environ: Mapping[str, str] | None = None) -> ProgressBar:
    env = os.environ if environ is None else environ
    return ProgressBar(stream, label, enabled=wanted(stream, env, output_format))
