"""The YAML limits give the same verdict, at the same place, under every PyYAML build.

PyYAML 6.0.4's bundled libyaml refuses flow nesting past 1,000 levels while scanning ahead,
so `[[[[...` was a syntax error at 1:1011 there and `yaml-limits` at 1:75 under older wheels
and the pure-Python parser. Each case runs through both parsers of the installed PyYAML
(the sessions cover its range: `tests` the locked one, `tests-lowest` and `tests-latest`
the oldest and newest that pyproject.toml allows).
"""

from __future__ import annotations

import pytest
import yaml

from modeldeploy.config import yaml_loader


def _block_mappings(levels: int) -> str:
    return "".join("  " * i + f"k{i}:\n" for i in range(levels)) + "  " * levels + "v\n"


# (text, [(rule, line, column)] or [] for a valid document)
CASES = {
    "flow lists, unclosed": ("resources: " + "[" * 10_000, [("yaml-limits", 1, 75)]),
    "flow lists, closed": ("resources: " + "[" * 1_100 + "]" * 1_100 + "\n", [("yaml-limits", 1, 75)]),
    "flow mappings without keys": ("resources: " + "{" * 5_000, [("yaml-limits", 1, 75)]),
    "flow mappings with keys": ("resources: " + "{a: " * 10_000, [("yaml-limits", 1, 264)]),
    "block mappings": (_block_mappings(100), [("yaml-limits", 65, 129)]),
    "block lists": ("x:\n" + "".join("  " * i + "-\n" for i in range(100)), [("yaml-limits", 65, 127)]),
    "block, then flow": (_block_mappings(30)[:-2] + "[" * 3_000 + "\n", [("yaml-limits", 31, 95)]),
    "one bracket a line": ("x: " + "[\n" * 1_500, [("yaml-limits", 64, 1)]),
    "deep after a long line start": ("x: [" + "a, " * 400 + "[" * 3_000, [("yaml-limits", 1, 1267)]),
    "64 levels is the limit": ("x: " + "[" * 63 + "]" * 63 + "\n", []),
    "65 levels": ("x: " + "[" * 64 + "]" * 64 + "\n", [("yaml-limits", 1, 67)]),
    # a syntax error before the nesting: it is the first problem, under every parser
    "syntax error first": ("a: [b\nc: d: e\nx: " + "[" * 3_000, [("yaml-syntax", 2, 2)]),
}

PARSERS = {"libyaml": "CSafeLoader", "pure-python": "SafeLoader"}


@pytest.fixture(params=sorted(PARSERS))
def parser(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    loader = getattr(yaml, PARSERS[request.param], None)
    # the locks install PyYAML wheels, which carry libyaml: both parsers are always there
    assert loader is not None, f"PyYAML {yaml.__version__} has no {PARSERS[request.param]}"
    monkeypatch.setattr(yaml_loader, "LOADER", loader)
    return str(request.param)


@pytest.mark.parametrize("case", sorted(CASES))
def test_nesting_verdict_is_the_same_under_each_parser(parser: str, case: str) -> None:
    text, expected = CASES[case]
    loaded, diagnostics = yaml_loader.load_yaml_text("config.yaml", text)
    got = [(d.rule, d.line, d.column) for d in diagnostics]
    assert got == expected, (yaml.__version__, parser, [d.message for d in diagnostics])
    assert (loaded is not None) == (not expected)
    if expected and expected[0][0] == "yaml-limits":
        assert "nesting deeper than 64 levels" in diagnostics[0].message
