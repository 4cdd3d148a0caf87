"""A verdict-only fast path for JSON Schema checks: jsonschema-rs (Rust), when it is installed.

Checking a rendered object or a config with jsonschema costs ~0.3 ms; jsonschema-rs says
whether it is valid in ~5 µs. Rules that keep every diagnostic exactly what jsonschema says:

- The fast path only ever answers "valid". Anything else (invalid, a value it cannot take such
  as a date or bytes, a schema it cannot build, a schema or value it is not trusted with) is
  None: the caller runs jsonschema as before, which produces the messages. A verdict of the
  fast path therefore never changes a diagnostic, only skips work for valid documents.
- Trusted only where both libraries mean the same: the draft is the one jsonschema uses (from
  its validator class), formats are not checked (jsonschema here checks none), references are
  served from disk as schema_registry serves them and never fetched. Not trusted: a schema with
  `multipleOf` other than an integer (float division differs), patterns with escapes or
  syntax whose meaning differs between Python's re, Go's regexp and Rust's regex
  (`\\s \\b \\D \\p`, `(?` flags, POSIX classes; `\\d \\w` are ASCII in Rust, so at most
  stricter), and, for schemas with bounds on numbers (not only integers), values holding
  a non-finite float (Rust lets `inf` pass `maximum`).
- jsonschema-rs is optional (no wheel on some platforms): without it every answer is None.

tests/test_fast_schema.py runs both paths over every manifest and config of the tests and
asserts the same verdicts.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

K8S_ID_PREFIX = "https://kubernetes.io/api/"  # kubernetes-validate's local schemas, as schema_registry
_DRAFTS = {
    "http://json-schema.org/draft-04/schema": "Draft4Validator",
    "http://json-schema.org/draft-06/schema": "Draft6Validator",
    "http://json-schema.org/draft-07/schema": "Draft7Validator",
    "https://json-schema.org/draft/2019-09/schema": "Draft201909Validator",
    "https://json-schema.org/draft/2020-12/schema": "Draft202012Validator",
}
_BOUNDS = frozenset({"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"})
# In a pattern: an escape of a letter other than d, w, n, t, r; an inline group `(?`; a POSIX
# class `[[:`. Their meaning differs between the three regex dialects involved.
_UNTRUSTED_PATTERN = re.compile(r"\\[A-Za-ce-mo-qsuvx-z]|\(\?|\[\[:")
_NO_FAST_PATH = object()


def available() -> bool:
    try:
        import jsonschema_rs  # noqa: F401
    except ImportError:
        return False
    return True


def _draft_name(draft_uri: str) -> str | None:
    return _DRAFTS.get(draft_uri.rstrip("#"))


def _trust(node: Any, found: dict[str, bool]) -> bool:
    """False when the schema holds something the fast path is not trusted with; notes bounds."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "multipleOf" and not (isinstance(value, int) and not isinstance(value, bool)):
                return False
            if key == "pattern" and isinstance(value, str) and _UNTRUSTED_PATTERN.search(value):
                return False
            if key == "patternProperties" and isinstance(value, dict) and any(
                    _UNTRUSTED_PATTERN.search(p) for p in value):
                return False
            if key in _BOUNDS and node.get("type") not in ("integer", ["integer"]):
                found["bounds"] = True  # (Rust refuses inf and nan as integers: no check needed)
            if not _trust(value, found):
                return False
    elif isinstance(node, list):
        return all(_trust(item, found) for item in node)
    return True


@lru_cache(maxsize=64)
def _document(path: str) -> Any:
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def _retrieve(base_dir: str | None, found: dict[str, bool]) -> Any:
    def retrieve(uri: str) -> Any:
        if uri.startswith(K8S_ID_PREFIX) and base_dir is not None:
            local = str(Path(base_dir) / uri[len(K8S_ID_PREFIX):].split("#")[0])
        elif uri.startswith("file://"):
            local = uri[len("file://"):].split("#")[0]
        else:  # never fetch from the network
            raise ValueError(f"not served offline: {uri}")
        document = _document(local)
        if not _trust(document, found):
            raise ValueError(f"not trusted: {uri}")
        return document
    return retrieve


class FastValidator:
    """jsonschema-rs's validator of one schema, with the guards of the module docstring."""

    def __init__(self, rs_validator: Any, bounds: dict[str, bool]) -> None:
        self.rs_validator = rs_validator
        self.bounds = bounds  # filled while references are resolved, too

    def is_valid(self, instance: Any) -> bool:
        """True only when the instance is valid; False means "ask jsonschema"."""
        try:
            if self.bounds.get("bounds"):
                # json refuses inf and nan (and values that are not JSON: dates, bytes...)
                json.dumps(instance, allow_nan=False, check_circular=False)
            return bool(self.rs_validator.is_valid(instance))
        except (ValueError, TypeError, OverflowError, RecursionError):
            return False


def build(schema: Any, draft_uri: str, base_dir: str | None = None) -> FastValidator | None:
    """A fast validator for `schema` read as the draft `draft_uri` (the one jsonschema uses);
    None when jsonschema-rs is missing or is not trusted with this schema."""
    name = _draft_name(draft_uri)
    found: dict[str, bool] = {}
    if name is None or not isinstance(schema, (dict, bool)) or not _trust(schema, found):
        return None
    try:
        import jsonschema_rs
    except ImportError:
        return None
    try:
        cls = getattr(jsonschema_rs, name)
        rs_validator = cls(schema, validate_formats=False, retriever=_retrieve(base_dir, found))
        rs_validator.is_valid(None)  # resolves lazily-built parts now, or fails here
    except Exception:  # any schema it cannot build (a bad $ref, a regex it refuses): not trusted
        return None
    return FastValidator(rs_validator, found)


@lru_cache(maxsize=256)
def _for_file(path: str, default_draft: str) -> Any:
    try:
        schema = _document(path)
    except (OSError, ValueError):
        return _NO_FAST_PATH
    if not isinstance(schema, dict):
        return _NO_FAST_PATH
    schema = {"$id": Path(path).resolve().as_uri(), **schema} if "$id" not in schema else schema
    declared = schema.get("$schema")
    draft = declared if isinstance(declared, str) else default_draft
    return build(schema, draft, str(Path(path).parent)) or _NO_FAST_PATH


def file_is_valid(path: str, instance: Any, default_draft: str) -> bool:
    """Whether the schema file at `path` surely accepts `instance` (False: ask jsonschema)."""
    validator = _for_file(path, default_draft)
    return validator is not _NO_FAST_PATH and validator.is_valid(instance)


_BY_SCHEMA: dict[int, tuple[Any, FastValidator | None]] = {}


def schema_is_valid(schema: Any, draft_uri: str, instance: Any) -> bool:
    """Same for a schema in memory (config, environment, a chart's values schema)."""
    entry = _BY_SCHEMA.get(id(schema))
    if entry is None or entry[0] is not schema:
        entry = (schema, build(schema, draft_uri))  # the schema kept alive: ids stay unique
        if len(_BY_SCHEMA) > 256:
            _BY_SCHEMA.clear()
        _BY_SCHEMA[id(schema)] = entry
    return entry[1] is not None and entry[1].is_valid(instance)
