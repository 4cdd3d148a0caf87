"""Values are read the way Helm (go-yaml v2) reads them, with positions."""

from __future__ import annotations

import math
import os
from pathlib import Path

import pytest

from modeldeploy.config import yaml_loader
from modeldeploy.config.yaml_loader import helm_display, load_yaml_text, resolve_plain


@pytest.mark.parametrize(("text", "tag", "value"), [
    ("1234e56", "float", 1.234e59),
    ("0123", "int", 83),
    ("1_000", "int", 1000),
    ("0x1F", "int", 31),
    ("09", "float", 9.0),  # not octal, but a valid float for go-yaml
    ("off", "bool", False),
    ("Yes", "bool", True),
    ("y", "bool", True),
    ("~", "null", None),
    (".5", "float", 0.5),
    ("2024-01-01", "str", "2024-01-01"),  # timestamps stay text in interface{}
    ("4562a17c17", "str", "4562a17c17"),
    ("1e3", "float", 1000.0),
    ("abc123", "str", "abc123"),
])
def test_resolve_plain_like_go_yaml_v2(text: str, tag: str, value: object) -> None:
    assert resolve_plain(text) == (tag, value)


@pytest.mark.parametrize(("text", "shown"), [
    ("1234e56", "1.234e+59"), ("0123", "83"), ("12345678901234567890123", "1.2345678901234568e+22"),
    ("off", "false"), ("1e3", "1000"),
    # Go's %v: scientific from 7 integer digits on (helm 4.1.4, `{{ .Values.x }}`)
    ("4562e17", "4.562e+20"), ("1000000", "1e+06"), ("123456789", "1.23456789e+08"), ("100000", "100000"),
    ("-1234567", "-1.234567e+06"), ("123456.5", "123456.5"), ("0.0001", "0.0001"), ("0.00001", "1e-05"),
    ("9007199254740993", "9.007199254740992e+15"), ("1.50", "1.5"), ("1.0", "1"),
])
def test_helm_display_matches_measured_helm_output(text: str, shown: str) -> None:
    assert helm_display(*resolve_plain(text)) == shown


def test_nan_and_inf() -> None:
    assert math.isnan(resolve_plain(".nan")[1])
    assert resolve_plain("-.Inf") == ("float", -math.inf)


def test_positions_and_raw_text() -> None:
    loaded, problems = load_yaml_text("c.yaml", "name: a\ncanary:\n  trafficPercent: 20\n")
    assert problems == [] and loaded is not None
    assert loaded.value == {"name": "a", "canary": {"trafficPercent": 20}}
    assert loaded.position(("canary", "trafficPercent")) == (3, 19)
    assert loaded.position(("canary", "trafficPercent"), key=True) == (3, 3)
    assert loaded.nodes[("canary", "trafficPercent")].raw == "20"


def test_quoted_and_tagged_scalars_stay_text() -> None:
    loaded, _ = load_yaml_text("c.yaml", "a: \"0123\"\nb: !!str 1234e56\nc: '1e3'\n")
    assert loaded is not None
    assert loaded.value == {"a": "0123", "b": "1234e56", "c": "1e3"}


@pytest.mark.parametrize(("text", "value", "problems"), [
    ("v: ! 0123\n", {"v": "0123"}, []),  # the non-specific tag: text, as go-yaml reads it
    ("v: !<!> 12\n", {"v": "12"}, []),
    ("v: !!int 12\n", {"v": 12}, []),
    ('v: !!int "12\\n"\n', None, ["yaml-tag"]),  # go-yaml: cannot decode `12\n` as !!int
    ('v: "a\\/b"\n', {"v": "a/b"}, ["yaml-syntax"]),  # go-yaml knows no `\/` escape
    ('v: "a\\\\/b"\n', {"v": "a\\/b"}, []),  # an escaped backslash, then a plain `/`
    ("%YAML 1.1\n---\nv: 1\n", {"v": 1}, ["yaml-directive"]),
    ("--- # fine\nv: 1\n", {"v": 1}, []),
    ("--- {v: 1}\n", {"v": 1}, ["yaml-syntax"]),
])
def test_what_helm_reads_otherwise(text: str, value: object, problems: list[str]) -> None:
    loaded, diagnostics = load_yaml_text("c.yaml", text)
    assert (loaded.value if loaded else None) == value
    assert [d.rule for d in diagnostics] == problems


def test_a_slash_escape_before_a_syntax_error_is_reported_first() -> None:
    """Helm stops at the `\\/` (line 2), libyaml at the tab (line 4): both are reported."""
    _, diagnostics = load_yaml_text("c.yaml", 'a: 1\nb: "x\\/y"\nc:\n \td: 1\n')
    assert [(d.line, d.column, d.rule) for d in diagnostics] == [(2, 6, "yaml-syntax"), (4, 2, "yaml-syntax")]


@pytest.mark.parametrize(("text", "position"), [
    ("a: ééé # ü\x07\n", (1, 11)),  # libyaml's offset would say column 15 (bytes)
    ("a: b\nc: 🎵\x1b\n", (2, 5)),
    ("a: 'é\x7f'\n", (1, 6)),
    ("a: é\x85\n", (1, 5)),  # a line break to YAML, not to editors
])
def test_control_characters_are_reported_at_their_character_column(text: str,
                                                                   position: tuple[int, int]) -> None:
    _, diagnostics = load_yaml_text("c.yaml", text)
    assert [(d.rule, d.line, d.column) for d in diagnostics] == [("yaml-encoding", *position)]


@pytest.mark.parametrize("added", [b"b: 2\n", b"c: '" + b"x" * yaml_loader.MAX_BYTES + b"'\n"])
def test_a_file_that_grows_after_its_stat_is_read_whole_up_to_the_limit(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, added: bytes) -> None:
    """The loader reads the size its stat gave and a byte more: what was appended in between is
    still read (to the limit, where the file is refused as too long)."""
    config = tmp_path / "config.yaml"
    config.write_bytes(b"a: 1\n")
    real_stat = os.stat

    def stat_then_append(path: str, *args: object, **kwargs: object) -> os.stat_result:
        info = real_stat(path, *args, **kwargs)  # type: ignore[arg-type]
        with open(config, "ab") as handle:
            handle.write(added)
        return info

    monkeypatch.setattr(yaml_loader.os, "stat", stat_then_append)
    loaded, problems = yaml_loader.load_yaml_file(str(config))
    if len(added) < 100:
        assert loaded is not None and loaded.value == {"a": 1, "b": 2} and problems == []
    else:
        assert loaded is None and [p.rule for p in problems] == ["yaml-limits"], problems
