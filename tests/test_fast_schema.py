"""The jsonschema-rs fast path (fast_schema.py) against jsonschema, on every manifest and config
the tests have: the rendered goldens, the kserve-manifests fixtures (valid, invalid, no schema),
every config.yaml / environment.yaml / values file under tests/data (as the loader reads them),
and mutations of the golden objects at every leaf. The fast path may only ever say "valid" where
jsonschema says valid; on the unmutated corpus both verdicts are equal. Without jsonschema-rs
the fast path answers nothing and the diagnostics stay the same."""

from __future__ import annotations

import copy
import datetime
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import REPO_ROOT
from modeldeploy import fast_schema, schema_store
from modeldeploy.config import go_regex
from modeldeploy.config.yaml_loader import load_yaml_file
from modeldeploy.manifests.check import DEFAULT_DRAFT, check_manifests
from modeldeploy.manifests.parse import parse_manifests
from modeldeploy.manifests.schema_registry import (
    DEFAULT_KUBERNETES_VERSION,
    SchemaRegistry,
    default_locations,
)

DATA = REPO_ROOT / "tests" / "data"
GOLDEN = sorted((REPO_ROOT / "tests" / "golden" / "render").rglob("*.yaml"))
MANIFESTS = [*GOLDEN, *sorted((DATA / "kserve-manifests").rglob("*.yaml"))]
MUTATIONS: tuple[Any, ...] = (
    "1\n", "500m\n", "x" * 300, "", 1, 1.0, -1, 0.5, True, False, None, 2**70, -(2**70),
    float("inf"), float("-inf"), float("nan"), datetime.date(2024, 1, 1), b"bytes", {"a": 1}, [1], [],
)


def test_jsonschema_rs_is_installed_where_a_wheel_exists() -> None:
    # The tests run on x86_64 CPython, where the locked wheel installs: the fast path is on.
    assert fast_schema.available()


@pytest.fixture(scope="module")
def registry() -> SchemaRegistry:
    return SchemaRegistry(default_locations(), DEFAULT_KUBERNETES_VERSION)


def _objects(path: Path) -> list[dict[str, Any]]:
    try:
        documents = parse_manifests(path.read_text("utf-8"))
    except Exception:  # fixtures of broken helm output
        return []
    return [o for o in documents
            if isinstance(o, dict) and all(isinstance(o.get(k), str) for k in ("apiVersion", "kind"))]


def _verdicts(registry: SchemaRegistry, obj: Any) -> tuple[bool, bool] | None:
    ref = registry.find(obj["apiVersion"], obj["kind"])
    if ref is None:
        return None
    slow = not any(True for _ in registry.validator(ref).iter_errors(obj))
    return fast_schema.file_is_valid(str(ref.path), obj, DEFAULT_DRAFT), slow


def test_every_manifest_same_verdict(registry: SchemaRegistry) -> None:
    checked = valid = 0
    for path in MANIFESTS:
        for obj in _objects(path):
            verdicts = _verdicts(registry, obj)
            if verdicts is None:
                continue
            fast, slow = verdicts
            assert fast == slow, f"{path}: {obj['kind']}: fast path {fast}, jsonschema {slow}"
            checked += 1
            valid += slow
    assert checked >= 40 and 0 < valid < checked  # both verdicts occur in the corpus


def _leaves(obj: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    children = obj.items() if isinstance(obj, dict) else enumerate(obj) if isinstance(obj, list) else ()
    for key, value in children:
        yield (*path, key)
        yield from _leaves(value, (*path, key))


def test_mutated_objects_never_valid_when_jsonschema_says_invalid(registry: SchemaRegistry) -> None:
    """Every leaf of each distinct golden object replaced by values of every type and edge
    (trailing newline, inf, nan, 2**70, a date, bytes): "valid" from the fast path is always
    jsonschema's verdict too."""
    seen: set[str] = set()
    checked = fast_valid = slow_invalid = 0
    for path in GOLDEN:
        for obj in _objects(path):
            if obj["kind"] in seen:
                continue
            seen.add(obj["kind"])
            for where in _leaves(obj):
                if where in (("apiVersion",), ("kind",)):  # another schema, or none
                    continue
                for value in MUTATIONS:
                    changed = copy.deepcopy(obj)
                    target = changed
                    for step in where[:-1]:
                        target = target[step]
                    target[where[-1]] = value
                    verdicts = _verdicts(registry, changed)
                    assert verdicts is not None
                    fast, slow = verdicts
                    if fast:
                        assert slow, f"{obj['kind']} {where} = {value!r}: fast path valid, jsonschema not"
                    checked += 1
                    fast_valid += fast
                    slow_invalid += not slow
    assert checked > 1000 and fast_valid > 100 and slow_invalid > 100


def _config_files() -> list[Path]:
    return sorted(p for p in DATA.rglob("*.yaml")
                  if p.name in ("config.yaml", "environment.yaml") and p.is_file())


def test_every_config_same_verdict() -> None:
    config = go_regex.draft7_validator(schema_store.load(schema_store.CONFIG_SCHEMA))
    environment = go_regex.draft7_validator(schema_store.load(schema_store.ENVIRONMENT_SCHEMA))
    draft = config.META_SCHEMA["$schema"]
    checked = valid = 0
    for path in _config_files():
        loaded, _ = load_yaml_file(str(path))
        if loaded is None:
            continue
        validator = environment if path.name == "environment.yaml" else config
        slow = not any(True for _ in validator.iter_errors(loaded.value))
        fast = fast_schema.schema_is_valid(validator.schema, draft, loaded.value)
        assert fast == slow, f"{path}: fast path {fast}, jsonschema {slow}"
        checked += 1
        valid += slow
    assert checked >= 50 and 0 < valid < checked


@pytest.mark.parametrize(("schema", "why"), [
    ({"type": "number", "multipleOf": 0.01}, "float multipleOf"),
    ({"type": "string", "pattern": "^\\s+$"}, "\\s is Unicode in Rust, ASCII in Go"),
    ({"type": "string", "pattern": "(?i)^a$"}, "inline flags"),
    ({"type": "string", "pattern": "^[[:alpha:]]+$"}, "POSIX class"),
    ({"$ref": "https://example.com/schema.json"}, "a remote reference is never fetched"),
])
def test_schemas_the_fast_path_is_not_trusted_with(schema: dict[str, Any], why: str) -> None:
    assert fast_schema.build(schema, DEFAULT_DRAFT) is None, why


def test_non_finite_numbers_go_to_jsonschema() -> None:
    bounded = fast_schema.build({"type": "number", "maximum": 100}, DEFAULT_DRAFT)
    assert bounded is not None
    assert bounded.is_valid(5) and not bounded.is_valid(float("inf")) and not bounded.is_valid(float("nan"))
    assert not bounded.is_valid(datetime.date(2024, 1, 1))
    integer = fast_schema.build({"type": "integer", "minimum": 0, "maximum": 100}, DEFAULT_DRAFT)
    assert integer is not None and not integer.bounds  # no JSON round trip needed for integers
    assert integer.is_valid(5) and not any(integer.is_valid(float(x)) for x in ("inf", "-inf", "nan"))


def test_without_jsonschema_rs_same_diagnostics(registry: SchemaRegistry, monkeypatch: pytest.MonkeyPatch,
                                                ) -> None:
    texts = [(str(p), p.read_text("utf-8")) for p in MANIFESTS]
    with_fast = [check_manifests(text, name, registry, None) for name, text in texts]
    fast_schema._for_file.cache_clear()
    monkeypatch.setitem(sys.modules, "jsonschema_rs", None)  # import fails, as without a wheel
    try:
        assert not fast_schema.available()
        assert fast_schema.build({"type": "string"}, DEFAULT_DRAFT) is None
        without = [check_manifests(text, name, registry, None) for name, text in texts]
    finally:
        fast_schema._for_file.cache_clear()
    assert without == with_fast
    assert any(with_fast) and not all(with_fast)


def test_kind_too_long_for_a_file_name_has_no_schema(registry: SchemaRegistry) -> None:
    # Found by the mutations above: expanding the location gave a file name over 255 bytes.
    text = f"apiVersion: serving.kserve.io/v1beta1\nkind: {'x' * 300}\nmetadata:\n  name: a\n"
    problems = check_manifests(text, "out.yaml", registry, None)
    assert [p.rule for p in problems] == ["manifest-no-schema"]
