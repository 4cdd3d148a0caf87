"""The direct writer of canonical YAML (manifests/canonical_yaml.py) against PyYAML's dump it
stands in for (object_diff.pyyaml_dump): the same text, or NotSimple, on every manifest of the
tests, on text built to sit on each style boundary (indicators, `: `, ` #`, leading `-`, numbers,
booleans, dates, null written as text), and on generated data."""

from __future__ import annotations

import copy
import random
import string
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import REPO_ROOT
from modeldeploy.manifests import canonical_yaml
from modeldeploy.manifests.object_diff import canonical_dump, pyyaml_dump

MANIFESTS = sorted(p for p in [*(REPO_ROOT / "tests" / "golden").rglob("*.yaml"),
                               *(REPO_ROOT / "tests" / "data").rglob("*.yaml")]
                   if p.is_file() and p.stat().st_size < 2**20)


def agrees(document: Any) -> bool:
    """True when the direct writer wrote it (False: it left it to PyYAML); fails on a difference."""
    try:
        fast = canonical_yaml.dump(document)
    except canonical_yaml.NotSimple:
        return False
    assert fast == pyyaml_dump(document), document
    return True


def test_every_manifest_of_the_tests_is_written_as_pyyaml_writes_it() -> None:
    written = 0
    for path in MANIFESTS:
        try:
            documents = list(yaml.safe_load_all(path.read_text(encoding="utf-8")))
        except (yaml.YAMLError, UnicodeDecodeError):
            continue
        for document in documents:
            written += agrees(document)
    assert written > 200  # the tests' manifests are the common case: the direct writer takes them


BOUNDARY_TEXTS = [
    "", " ", "a", "-", "--protocol", "- a", "-1", "?", "?a", "? a", ":", ":a", ": a", "a:", "a:b",
    "a: b", "a :b", "a #b", "a#b", "#a", "a b", "a  b", " a", "a ", "'a", "a'b", '"a', 'a"b', "a,b",
    ",a", "[a", "a[b]", "{a}", "a{b}", "&a", "a&b", "*a", "!a", "a!", "|a", ">a", "%a", "@a", "`a",
    "a\\b", "1", "1.0", "1e3", "1.5e3", "0x1F", "0o17", "017", "1_000", "1:20", ".5", ".inf", "-.inf",
    ".nan", "+1", "-0", "true", "True", "yes", "no", "on", "off", "y", "n", "Y", "null", "Null", "~",
    "2024-01-01", "2024-01-01T10:00:00Z", "<<", "=", "a\nb", "a\tb", "é", "a" * 5000, "x" * 101,
    "image-registry.openshift-image-registry.svc:5000/team/model:abc123", "s3://bucket/path",
    "http://example.com:8080/a?b=c&d=e", "cpu: 1", "a: b: c", "key:", "-a-", "--", "---", "...",
    "a...", "a---b",
]


@pytest.mark.parametrize("text", BOUNDARY_TEXTS)
def test_text_on_a_style_boundary(text: str) -> None:
    agrees({"k": text, "list": [text, {"k": text}]})
    agrees({text: 1} if text else {"k": 1})


@pytest.mark.parametrize("value", [0, -1, 10**20, 1.0, -2.5, 1e16, 1e-7, 3.0e100, float("inf"),
                                   float("-inf"), float("nan"), True, False, None, {}, []])
def test_scalars_and_empty_collections(value: Any) -> None:
    def fresh() -> Any:  # one object used twice is an anchor (the next test)
        return copy.deepcopy(value)

    assert agrees({"v": fresh(), "l": [fresh()], "n": {"m": [fresh(), [fresh()]]}})


def test_layouts_of_nested_collections() -> None:
    assert agrees({"a": [[1, 2], [[3]], [{"b": [4, {"c": {}}]}], []], "d": {"e": {"f": [{}]}}})
    assert agrees([{"a": 1, "b": [1, 2]}, [1, [2, {"x": "y"}]], "z"])


def test_what_pyyaml_writes_its_own_way_is_left_to_it() -> None:
    shared, empty = {"a": 1}, []
    for document in [{"k": "a\nb"}, {"k": "é"}, {1: "int key"}, {"k": shared, "j": shared},
                     {"k": [empty, empty]}, {"x" * 200: 1}, {"k": b"bytes"}, "text", {}]:
        with pytest.raises(canonical_yaml.NotSimple):
            canonical_yaml.dump(document)
        assert canonical_dump(document) == (document if isinstance(document, str) else pyyaml_dump(document))


_ALPHABET = string.ascii_letters + string.digits + " -_.:/#'\",[]{}&*!|>%@`?=+~()<>;\\"
_TEXT = st.one_of(st.text(alphabet=_ALPHABET, max_size=12), st.sampled_from(BOUNDARY_TEXTS[:-6]))
_SCALAR = st.one_of(_TEXT, st.integers(), st.floats(), st.booleans(), st.none())
_DATA = st.recursive(_SCALAR, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                      st.dictionaries(_TEXT, inner, max_size=4)),
                     max_leaves=20)


@settings(max_examples=400, deadline=None, derandomize=True)
@given(st.dictionaries(_TEXT, _DATA, min_size=1, max_size=5))
def test_generated_data(document: dict[str, Any]) -> None:
    agrees(document)


def test_random_single_words() -> None:
    rng = random.Random(11)
    for _ in range(3000):
        word = "".join(rng.choice(_ALPHABET) for _ in range(rng.randrange(1, 6)))
        agrees({"k": word, word: [word]})
