"""Schema checks of many similar objects, with validity remembered per sub-object.

A gitops repo renders the same chart for hundreds of deployments: their objects
differ in a few strings (names, image tags) while most sub-objects (a container,
a runtime's spec) are identical. jsonschema's time goes into descending those.

`MemoRegistry` hands out validators whose `properties` keyword remembers, for one
run, which (sub-schema, sub-object) pairs were valid, and skips them next time.
Only *validity* is remembered, never errors: an invalid sub-object is checked
again each time, so the errors and their paths are exactly jsonschema's. The key
is the sub-object's `repr`, which tells apart every type and value YAML yields
(`1`, `1.0`, `True`, `"1"`). Only for Draft 4/6/7, whose keywords depend on nothing
but the sub-schema and the sub-object (no dynamic scope, no unevaluated*).

Two shortcuts skip building a validator where the answer is plain: a scalar whose
sub-schema checks only its type, and a map (labels, annotations) whose values all
have a type that the only check of `additionalProperties` allows. Anything else, and
every failure, goes through jsonschema itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .schema_registry import SchemaRef, SchemaRegistry

_ANNOTATIONS = frozenset({"description", "title", "default", "examples", "example", "$comment"})
_TYPES = frozenset({"string", "integer", "number", "boolean", "object", "array", "null"})
_TYPE_ONLY: dict[int, tuple[Any, tuple[str, ...] | None]] = {}


def type_only(schema: Any) -> tuple[str, ...] | None:
    """The allowed types when `schema` checks nothing but the type (annotations aside)."""
    cached = _TYPE_ONLY.get(id(schema))
    if cached is not None and cached[0] is schema:
        return cached[1]
    types: tuple[str, ...] | None = None
    if isinstance(schema, dict) and "type" in schema and all(
            key == "type" or key in _ANNOTATIONS or key.startswith("x-") for key in schema):
        wanted = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if wanted and all(isinstance(t, str) and t in _TYPES for t in wanted):
            types = tuple(wanted)
    _TYPE_ONLY[id(schema)] = (schema, types)  # keeps the schema alive: ids stay unique
    return types


def memoized(validator: Any) -> Any:
    """A validator of the same class, schema and resolver that remembers valid sub-objects."""
    import attrs  # with jsonschema, on first use: a run whose objects are all valid needs neither
    import jsonschema
    import jsonschema.validators

    cls = type(validator)
    if cls not in (jsonschema.Draft4Validator, jsonschema.Draft6Validator, jsonschema.Draft7Validator):
        return validator
    valid: set[tuple[int, str]] = set()

    def properties(v: Any, props: dict[str, Any], instance: Any, schema: Any) -> Iterator[Any]:
        # jsonschema's own `properties`, plus the memory.
        if not v.is_type(instance, "object"):
            return
        for name, subschema in props.items():
            if name not in instance:
                continue
            value = instance[name]
            if not isinstance(value, (dict, list)) or not value:
                types = type_only(subschema)
                if types is not None and any(v.is_type(value, t) for t in types):
                    continue  # what descend would conclude, without building a validator
                yield from v.descend(value, subschema, path=name, schema_path=name)
                continue
            key = (id(subschema), repr(value))
            if key in valid:
                continue
            errors = list(v.descend(value, subschema, path=name, schema_path=name))
            if not errors:
                valid.add(key)
            yield from errors

    original_additional = cls.VALIDATORS["additionalProperties"]

    def additional_properties(v: Any, additional: Any, instance: Any, schema: Any) -> Iterator[Any]:
        # Maps of labels, annotations: when every value has a type the schema of the extra
        # properties allows, and it checks nothing else, none of them can fail.
        types = type_only(additional)
        if types is not None and isinstance(instance, dict) and all(
                any(v.is_type(value, t) for t in types) for value in instance.values()):
            return
        yield from original_additional(v, additional, instance, schema)

    memo_cls = jsonschema.validators.extend(cls, {"properties": properties,
                                                  "additionalProperties": additional_properties})
    changes = {f.alias: getattr(validator, f.name) for f in attrs.fields(cls) if f.init}
    return memo_cls(**changes)


class MemoRegistry(SchemaRegistry):
    """A SchemaRegistry whose validators remember valid sub-objects for its lifetime (one run)."""

    def __init__(self, locations: list[str], kubernetes_version: str) -> None:
        super().__init__(locations, kubernetes_version)
        self._memo: dict[str, Any] = {}
        self._found: dict[tuple[str, str], SchemaRef | None] = {}

    def find(self, api_version: str, kind: str) -> SchemaRef | None:
        key = (api_version, kind)
        if key not in self._found:  # a few stat calls per object otherwise
            self._found[key] = super().find(api_version, kind)
        return self._found[key]

    def validator(self, ref: SchemaRef) -> Any:
        key = str(ref.path)
        if key not in self._memo:
            self._memo[key] = memoized(super().validator(ref))
        return self._memo[key]
