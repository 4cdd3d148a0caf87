"""The memoising validator (manifests/memo_validator.py) against plain jsonschema, on every
manifest the tests have: the rendered goldens and the kserve-manifests fixtures (valid,
invalid, no schema), each checked twice in one registry (the second time from memory), plus
each golden object with one value broken at every depth, so remembered valid sub-objects
meet invalid ones. The errors (path, message, keyword) must be jsonschema's, exactly."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import REPO_ROOT
from modeldeploy.manifests.memo_validator import MemoRegistry
from modeldeploy.manifests.parse import parse_manifests
from modeldeploy.manifests.schema_registry import (
    DEFAULT_KUBERNETES_VERSION,
    SchemaRegistry,
    default_locations,
)

GOLDEN = sorted((REPO_ROOT / "tests" / "golden" / "render").rglob("*.yaml"))
FIXTURES = sorted((REPO_ROOT / "tests" / "data" / "kserve-manifests").rglob("*.yaml"))


def _objects(path: Path) -> list[dict[str, Any]]:
    documents = parse_manifests(path.read_text("utf-8"))
    return [o for o in documents
            if isinstance(o, dict) and all(isinstance(o.get(k), str) for k in ("apiVersion", "kind"))]


def _errors(validator: Any, instance: Any) -> list[tuple[list[Any], str, str]]:
    found = [(list(e.absolute_path), e.message, str(e.validator)) for e in validator.iter_errors(instance)]
    return sorted(found, key=repr)


def _broken(root: Any) -> Iterator[tuple[tuple[Any, ...], Any]]:
    """Copies of `root` with one scalar replaced by a mapping, at every depth."""
    def scalars(obj: Any, path: tuple[Any, ...]) -> Iterator[tuple[Any, ...]]:
        children = obj.items() if isinstance(obj, dict) else enumerate(obj) if isinstance(obj, list) else ()
        for key, value in children:
            yield from scalars(value, (*path, key)) if isinstance(value, (dict, list)) else [(*path, key)]

    for where in scalars(root, ()):
        changed = copy.deepcopy(root)
        target = changed
        for step in where[:-1]:
            target = target[step]
        target[where[-1]] = {"not": "a scalar"}
        yield where, changed


@pytest.fixture(scope="module")
def registries() -> tuple[SchemaRegistry, MemoRegistry]:
    locations, version = default_locations(), DEFAULT_KUBERNETES_VERSION
    return SchemaRegistry(locations, version), MemoRegistry(locations, version)


def test_there_are_manifests_of_each_kind() -> None:
    assert len(GOLDEN) >= 8 and len(FIXTURES) >= 40
    assert {p.parent.name for p in FIXTURES} == {"valid", "invalid", "no-schema"}


@pytest.mark.parametrize("path", GOLDEN + FIXTURES, ids=lambda p: p.relative_to(REPO_ROOT).as_posix())
def test_memo_validator_reports_what_jsonschema_reports(registries: tuple[SchemaRegistry, MemoRegistry],
                                                        path: Path) -> None:
    plain, memo = registries
    for obj in _objects(path):
        ref = plain.find(obj["apiVersion"], obj["kind"])
        assert (ref is None) == (memo.find(obj["apiVersion"], obj["kind"]) is None)
        if ref is None:
            continue
        expected = _errors(plain.validator(ref), obj)
        assert _errors(memo.validator(ref), obj) == expected, path  # first time: fills the memory
        assert _errors(memo.validator(ref), obj) == expected, path  # second time: from memory


@pytest.mark.parametrize("path", GOLDEN, ids=lambda p: p.relative_to(REPO_ROOT).as_posix())
def test_broken_values_next_to_remembered_ones(registries: tuple[SchemaRegistry, MemoRegistry],
                                               path: Path) -> None:
    plain, memo = registries
    for obj in _objects(path):
        ref = plain.find(obj["apiVersion"], obj["kind"])
        if ref is None:
            continue
        list(memo.validator(ref).iter_errors(obj))  # the valid object's sub-objects are remembered
        broken = list(_broken(obj))
        assert broken
        for where, changed in broken:
            expected = _errors(plain.validator(ref), changed)
            assert _errors(memo.validator(ref), changed) == expected, (path, where)
