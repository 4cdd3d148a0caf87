"""Checking the rendered manifests of a whole run: in the worker processes for big runs
(parallel.py), else in this process; results come back as they are done."""

from __future__ import annotations

import concurrent.futures as cf
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from ..diagnostics import Diagnostic, Severity
from ..parallel import Workers
from ..processes import Deadline
from .check import check_manifests
from .kubeconform import kubeconform_available
from .memo_validator import MemoRegistry

CHUNK = 16  # deployments per task sent to a worker process

_REGISTRIES: dict[tuple[tuple[str, ...], str], MemoRegistry] = {}


def _registry(locations: tuple[str, ...], kubernetes_version: str) -> MemoRegistry:
    key = (locations, kubernetes_version)
    if key not in _REGISTRIES:  # one per worker process and run settings
        _REGISTRIES[key] = MemoRegistry(list(locations), kubernetes_version)
    return _REGISTRIES[key]


WriteFile = Callable[[str, str], "OSError | None"]  # (file in the output tree, text) -> its error


@dataclass(frozen=True)
class CheckedManifests:
    """One deployment's manifests, checked; and written when it asked for it and they passed."""

    index: int
    problems: list[Diagnostic]
    written: bool = False
    error: OSError | None = None  # writing its file failed


def _check_one(registry: MemoRegistry, kubeconform: str | None, deadline: Deadline | None,
               write_file: WriteFile | None, index: int, manifests: str, file: str,
               output: str | None) -> CheckedManifests:
    problems = check_manifests(manifests, file, registry, kubeconform, deadline)
    if output is None or write_file is None or any(p.severity is Severity.ERROR for p in problems):
        return CheckedManifests(index, problems)
    error = write_file(output, manifests)
    return CheckedManifests(index, problems, error is None, error)


def _check_manifest_chunk(locations: tuple[str, ...], kubernetes_version: str, kubeconform: str | None,
                          deadline: Deadline | None, write_file: WriteFile | None,
                          items: list[tuple[int, str, str, str | None]]) -> list[CheckedManifests]:
    registry = _registry(locations, kubernetes_version)
    return [_check_one(registry, kubeconform, deadline, write_file, *item) for item in items]


class ManifestChecker:
    """Checks rendered manifests, in the worker processes for big runs, else in this process.

    With `write_file`, each deployment submitted with an output file is written where it
    was checked, when no problem is an error: in the workers, the main process never waits
    for the file system. Create it before any thread is started: the workers are forked at once.
    """

    def __init__(self, locations: list[str], kubernetes_version: str, workers: Workers, expected: int,
                 deadline: Deadline | None = None, write_file: WriteFile | None = None) -> None:
        self.kubeconform = kubeconform_available()
        self.deadline = deadline
        self.write_file = write_file
        self.settings = (tuple(locations), kubernetes_version, self.kubeconform, deadline, write_file)
        self.registry = MemoRegistry(locations, kubernetes_version)  # this run only
        self.workers = workers.count
        self.pool = workers.get(expected)
        self.ready: list[CheckedManifests] = []
        self.pending: deque[cf.Future[list[CheckedManifests]]] = deque()
        self.chunk: list[tuple[int, str, str, str | None]] = []

    def submit(self, index: int, manifests: str, file: str, output: str | None = None) -> None:
        """Check `manifests` (reported against `file`); write them to `output` if they pass."""
        if self.pool is None:
            self.ready.append(_check_one(self.registry, self.kubeconform, self.deadline, self.write_file,
                                         index, manifests, file, output))
            return
        self.chunk.append((index, manifests, file, output))
        if len(self.chunk) >= CHUNK:
            self.flush()

    def flush(self) -> None:
        """Send the deployments submitted so far to the workers, however few."""
        if self.chunk and self.pool is not None:
            self.pending.append(self.pool.submit(_check_manifest_chunk, *self.settings, self.chunk))
            self.chunk = []

    def finished(self, wait: bool = False) -> list[CheckedManifests]:
        """The checks done by now; with wait=True, all of them."""
        if wait or len(self.pending) < self.workers:  # keep idle workers busy
            self.flush()
        done, self.ready = self.ready, []
        while self.pending and (wait or self.pending[0].done()):
            done += self.pending.popleft().result()
        return done
