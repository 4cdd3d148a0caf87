"""Schema patterns match what Go's regexp (Helm's schema check) matches, not what Python's `re` does."""

from __future__ import annotations

import jsonschema
import pytest

from modeldeploy.config.go_regex import compile_go, draft7_validator, translate


@pytest.mark.parametrize(("pattern", "text", "matches"), [
    ("^[a-z]+$", "jukebox", True),
    ("^[a-z]+$", "jukebox\n", False),  # Python's `$` matches before a final newline, Go's does not
    ("^[a-z$]+$", "a$", True),  # `$` inside a class is a character
    (r"^a\$$", "a$", True),  # an escaped `$` is a character
    ("(?m)^[a-z]+$", "ab\ncd", True),  # with the m flag `$` is an end of line in both
    (r"^\d+$", "١٢", False),  # Arabic-Indic digits: Python's \d takes them, Go's does not
    (r"^\w+$", "jükebox", False),
    (r"^\s$", "\v", False),  # Go's \s is [\t\n\f\r ]
    (r"^\s$", "\t", True),
    (r"^a\z", "a", True),
    (r"^a\z", "a\n", False),
    ("^[[:alpha:]]+$", "abc", True),
    ("^[[:alpha:]]+$", "ab1", False),
    (r"^\Qa.b\E$", "a.b", True),
    (r"^\Qa.b\E$", "axb", False),
    ("^[]a]+$", "]a", True),  # a leading `]` in a class is literal
])
def test_patterns_match_as_in_go(pattern: str, text: str, matches: bool) -> None:
    assert bool(compile_go(pattern).search(text)) is matches, translate(pattern)


def test_schema_pattern_keyword_uses_go_semantics() -> None:
    validator = draft7_validator({"type": "string", "pattern": "^[a-z]+$"})
    assert validator.is_valid("jukebox")
    assert not validator.is_valid("jukebox\n")
    assert jsonschema.Draft7Validator({"type": "string", "pattern": "^[a-z]+$"}).is_valid("jukebox\n")
    [error] = validator.iter_errors("x\n")
    assert error.validator == "pattern"
