"""The skeleton reader of helm's output (manifests/parse.py: parse_manifests) against the plain
parser it fronts (parse_stream): the same documents, types included (a quoted "1" stays text,
1 an int, 1.0 a float, dates dates), or the same error, on every manifest of the tests, on
texts built to defeat the templates (quotes in comments, block scalars and plain scalars,
duplicate keys, aliases, tags, long quoted keys, YAML 1.1 line breaks), and on random
mutations of real helm output."""

from __future__ import annotations

import math
import random
from pathlib import Path
from typing import Any

import pytest

from conftest import REPO_ROOT
from modeldeploy.manifests import parse
from modeldeploy.manifests.parse import parse_manifests, parse_stream

MANIFESTS = sorted(p for p in [*(REPO_ROOT / "tests" / "golden").rglob("*.yaml"),
                               *(REPO_ROOT / "tests" / "data").rglob("*.yaml")]
                   if p.is_file() and p.stat().st_size < 2**20)


def same(a: Any, b: Any, seen: set[tuple[int, int]] | None = None) -> bool:
    """Equal values of identical types, key order included (NaN equals NaN); a pair of
    containers is compared once (aliases share them: an alias bomb stays cheap)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, (dict, list)):
        seen = set() if seen is None else seen
        if (id(a), id(b)) in seen:
            return True
        seen.add((id(a), id(b)))
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(x, y, seen) for x, y in zip(a, b, strict=True)) \
            and all(same(a[k], b[k], seen) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y, seen) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return bool(a == b)


def outcome(reader: Any, text: str) -> tuple[str, Any]:
    try:
        return "ok", reader(text, [])
    except Exception as exc:  # the error itself must be the same
        return "error", (type(exc), str(exc))


def assert_same(text: str) -> None:
    expected, got = outcome(parse_stream, text), outcome(parse_manifests, text)
    assert expected[0] == got[0], (text, expected, got)
    if expected[0] == "ok":
        assert same(expected[1], got[1]), text
    else:
        assert expected[1] == got[1], text


def test_every_manifest_of_the_tests() -> None:
    texts = [p.read_text("utf-8", errors="replace") for p in MANIFESTS]
    assert len(texts) > 100
    for text in texts:
        assert_same(text)
        assert_same(text)  # the second time from its template
    parse._templates.clear()


def test_templates_serve_helm_output() -> None:
    """Two renders of one chart that differ in quoted values share one template."""
    parse._templates.clear()
    first = 'metadata:\n  name: "a"\n  labels:\n    app: \'x\'\n    "k": "1"\nspec:\n  replicas: 2\n'
    second = first.replace('"a"', '"b-it\'\'s"').replace("'x'", "'it''s'").replace('"1"', '"true"')
    assert parse_manifests(first) == [{"metadata": {"name": "a", "labels": {"app": "x", "k": "1"}},
                                       "spec": {"replicas": 2}}]
    assert parse_manifests(second) == parse_stream(second)
    assert parse_manifests(second)[0]["metadata"]["labels"] == {"app": "it's", "k": "true"}
    assert len(parse._templates) == 1 and None not in parse._templates.values()


@pytest.mark.parametrize("text", [
    'a: "x"  # it is "quoted"\nb: \'y\'\n',  # quote in a comment
    'a: |\n  "x"\n  \'y\'\nb: "z"\n',  # quotes in a block scalar
    'a: >\n  "x"\nb: "z"\n',
    'a: don\'t "x"\nb: "y"\n',  # quotes in a plain scalar
    'a: "x"\na: "y"\n',  # duplicate keys
    '"a": 1\n"b": 2\n',
    'a: &anchor "x"\nb: *anchor\n',  # aliases
    'base: &b {k: "v"}\nm:\n  <<: *b\n  x: "y"\n',  # merge key
    'a: !!int "5"\nb: !!str "6"\nc: !!binary "aGk="\nd: !!float "1e3"\n',  # tags on quoted scalars
    'a: "1"\nb: 1\nc: "1.0"\nd: 1.0\ne: "true"\nf: yes\ng: "null"\nh: ~\ni: "2024-01-02"\nj: 2024-01-02\n',
    '"' + "k" * 1030 + '": 1\n',  # longer than a simple key may be: an error for PyYAML
    '"' + "k" * 600 + '": 1\n',
    '"' + "k" * 1000 + '"' + " " * 30 + ": 1\n",
    'a: "x\u2028y"\n', 'a: "x\x85y"\n', 'a: \'x\ry\'\n',  # YAML 1.1 line breaks fold
    'a: "\ue000"\n',  # the placeholder itself
    'a: "x\x01"\n',  # a character PyYAML refuses
    'a: "unterminated\nb: 1\n', 'a: "x" b\n', '- "a": "b": c\n', '{"a": "b", \'c\': [\'d\', "e"]}\n',
    '--- "doc"\n--- \'two\'\n...\n', '? "complex"\n: "v"\n', '? ["a", "b"]\n: "v"\n',
    '---\n---\na: ""\nb: \'\'\n', 'a: "  spaced  "\nb: \' x \'\n', 'a: "tab\there"\n',
    'x: "a"\n' * 3,
    'a: ' + '[' * 250 + '"x"' + ']' * 250 + '\n',  # nested deeper than Python compiles a template
])
def test_texts_built_to_defeat_templates(text: str) -> None:
    assert_same(text)
    assert_same(text)


def test_random_mutations_of_helm_output() -> None:
    rng = random.Random(11)
    golden = REPO_ROOT / "tests" / "golden" / "render"
    seeds = [p.read_text("utf-8") for p in sorted(golden.rglob("*.yaml"))]
    snippets = ['"', "'", "\\", '"a\\nb"', "'it''s'", '"x"', "''", '""', "&a ", "*a", "!!int ", "!!str ",
                "<<: ", '# "c" ', "#", "\t", "\x01", "\ue000", '"\ue000"', ' "q" "r"', '{a: "b"}',
                "|\n  \"lit\"\n",
                "---\n", "? \"k\"\n: v\n", '"dup": 1\n"dup": 2\n', "yes", "0123", "1e3", ".inf", "~",
                "2024-01-02", ": ", "- ", "\n", "\r\n", "\u2028", "\x85", "\ufeff", '"unterminated',
                "'a\nb'",
                "é", "😀", '"\\x41"']
    for _ in range(1500):
        text = rng.choice(seeds)
        for _ in range(rng.randint(1, 3)):
            pos = rng.randrange(len(text) + 1)
            text = text[:pos] + rng.choice(snippets) + text[pos:] if rng.random() < 0.7 \
                else text[:pos] + text[pos + rng.randint(1, 8):]
        assert_same(text)


def test_each_read_from_a_template_has_objects_of_its_own() -> None:
    """A template builds new maps and lists each time: changing what one read returned changes
    nothing in the next read of the same text."""
    parse._templates.clear()
    text = 'metadata:\n  name: "a"\n  labels: {app: "x"}\nspec:\n  args: ["--p", "1"]\n'
    first = parse_manifests(text)
    first[0]["metadata"]["labels"]["app"] = "changed"
    first[0]["spec"]["args"].append("more")
    assert parse_manifests(text) == parse_stream(text) == [
        {"metadata": {"name": "a", "labels": {"app": "x"}}, "spec": {"args": ["--p", "1"]}}]
    assert len(parse._templates) == 1 and None not in parse._templates.values()


def test_template_memory_is_bounded() -> None:
    parse._templates.clear()
    for i in range(parse.MAX_TEMPLATES + 10):
        assert_same(f'k{i}: "v"\n')
    assert len(parse._templates) <= parse.MAX_TEMPLATES
    parse._templates.clear()


def test_read_manifests_errors_unchanged(tmp_path: Path) -> None:
    objects, problems = parse.read_manifests('a: "x"\nb: [\n', "out.yaml")
    assert objects == [] and "line 3" in problems[0].message
