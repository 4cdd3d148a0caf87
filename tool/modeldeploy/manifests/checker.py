"""Checking the rendered manifests of a whole run: in the worker processes for big runs
(parallel.py), else in this process; results come back as they are done."""

from __future__ import annotations

import concurrent.futures as cf
from collections import deque

from ..diagnostics import Diagnostic
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


def _check_manifest_chunk(locations: tuple[str, ...], kubernetes_version: str, kubeconform: str | None,
                          deadline: Deadline | None, items: list[tuple[int, str, str]],
                          ) -> list[tuple[int, list[Diagnostic]]]:
    registry = _registry(locations, kubernetes_version)
    return [(index, check_manifests(manifests, file, registry, kubeconform, deadline))
            for index, manifests, file in items]


class ManifestChecker:
    """Checks rendered manifests, in the worker processes for big runs, else in this process.

    Create it before any thread is started: the workers are forked at once.
    """

    def __init__(self, locations: list[str], kubernetes_version: str, workers: Workers,
                 expected: int, deadline: Deadline | None = None) -> None:
        self.kubeconform = kubeconform_available()
        self.deadline = deadline
        self.settings = (tuple(locations), kubernetes_version, self.kubeconform, deadline)
        self.registry = MemoRegistry(locations, kubernetes_version)  # this run only
        self.workers = workers.count
        self.pool = workers.get(expected)
        self.ready: list[tuple[int, list[Diagnostic]]] = []
        self.pending: deque[cf.Future[list[tuple[int, list[Diagnostic]]]]] = deque()
        self.chunk: list[tuple[int, str, str]] = []

    def submit(self, index: int, manifests: str, file: str) -> None:
        if self.pool is None:
            self.ready.append((index, check_manifests(manifests, file, self.registry, self.kubeconform,
                                                      self.deadline)))
            return
        self.chunk.append((index, manifests, file))
        if len(self.chunk) >= CHUNK:
            self._flush()

    def _flush(self) -> None:
        if self.chunk and self.pool is not None:
            self.pending.append(self.pool.submit(_check_manifest_chunk, *self.settings, self.chunk))
            self.chunk = []

    def finished(self, wait: bool = False) -> list[tuple[int, list[Diagnostic]]]:
        """(index, problems) of the checks done by now; with wait=True, of all of them."""
        if wait or len(self.pending) < self.workers:  # keep idle workers busy
            self._flush()
        done, self.ready = self.ready, []
        while self.pending and (wait or self.pending[0].done()):
            done += self.pending.popleft().result()
        return done
