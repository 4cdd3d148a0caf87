"""Span-preserving config edits (modeldeploy.config.editing), byte for byte.

Each case gives the file before and the exact file after: everything the edit does
not have to change (comments, quoting, indentation, CRLF, `---`, a missing final
newline) must come out unchanged.
"""

from __future__ import annotations

import pytest

from modeldeploy.commands.rollout import stale_comments
from modeldeploy.config import editing as config_edit
from modeldeploy.config.editing import EditError, remove_key, set_canary_percent, set_value

HEAD = ("chart_path: charts/model-deployment/music-transformer\nname: jukebox\nversion: 4562a17c17\n"
        "image_repository: image-registry.openshift-image-registry.svc:5000\nimage_namespace: team-a-test\n")


@pytest.mark.parametrize(("before", "percent", "after"), [
    pytest.param(HEAD + "canary:\n  trafficPercent: 20 # 👈 update this\n", 50,
                 HEAD + "canary:\n  trafficPercent: 50 # 👈 update this\n", id="block"),
    pytest.param("---\r\nname: x\r\ncanary:\r\n  trafficPercent: 20\r\nversion: a\r\n", 100,
                 "---\r\nname: x\r\ncanary:\r\n  trafficPercent: 100\r\nversion: a\r\n", id="crlf"),
    pytest.param("name: x\ncanary: {trafficPercent: 20}   # flow\n", 5,
                 "name: x\ncanary: {trafficPercent: 5}   # flow\n", id="flow"),
    pytest.param("name: x\ncanary: { trafficPercent: 20 }\n", 0,
                 "name: x\ncanary: { trafficPercent: 0 }\n", id="flow-spaced"),
    pytest.param("name: x\ncanary: {}\nversion: a\n", 20,
                 "name: x\ncanary: {trafficPercent: 20}\nversion: a\n", id="flow-empty"),
    pytest.param("name: x\ncanary:\n  trafficPercent: 5     # aligned\n", 100,
                 "name: x\ncanary:\n  trafficPercent: 100   # aligned\n", id="comment-column-kept"),
    pytest.param("name: x\ncanary:\n  trafficPercent: 100  # c\n", 5,
                 "name: x\ncanary:\n  trafficPercent: 5    # c\n", id="comment-column-kept-shrink"),
    pytest.param("name: x\ncanary:\n  trafficPercent: 100 # c\n", 5,
                 "name: x\ncanary:\n  trafficPercent: 5 # c\n", id="comment-one-space-kept"),
    pytest.param("name: x\ncanary:\n  trafficPercent: 5 # tight\n", 100,
                 "name: x\ncanary:\n  trafficPercent: 100 # tight\n", id="comment-one-space-min"),
    pytest.param("name: x\ncanary:\n  trafficPercent: 20", 50,
                 "name: x\ncanary:\n  trafficPercent: 50", id="no-final-newline"),
    # Adding the block: after the last entry, with the file's indentation and line endings.
    pytest.param("---\nname: x\nautoscaling: true\n", 20,
                 "---\nname: x\nautoscaling: true\ncanary:\n  trafficPercent: 20\n", id="add"),
    pytest.param("name: x\r\nversion: a # sha\r\n", 20,
                 "name: x\r\nversion: a # sha\r\ncanary:\r\n  trafficPercent: 20\r\n", id="add-crlf"),
    pytest.param("name: x\nversion: a", 20,
                 "name: x\nversion: a\ncanary:\n  trafficPercent: 20", id="add-no-final-newline"),
    pytest.param("name: x\nresources:\n    limits:\n        cpu: '2'\n\n# the end\n", 20,
                 "name: x\nresources:\n    limits:\n        cpu: '2'\ncanary:\n    trafficPercent: 20\n"
                 "\n# the end\n", id="add-4-space"),
    pytest.param("  name: x\n  version: a\n", 20,
                 "  name: x\n  version: a\n  canary:\n    trafficPercent: 20\n", id="add-indented-top"),
])
def test_set_canary_percent(before: str, percent: int, after: str) -> None:
    assert set_canary_percent(before, percent) == after


@pytest.mark.parametrize(("before", "after"), [
    pytest.param(HEAD + "canary:\n  trafficPercent: 100 # 👈 update this\n", HEAD, id="last"),
    pytest.param("---\r\nname: x\r\ncanary:\r\n  # raised step by step\r\n  trafficPercent: 20\r\n"
                 "# kept\r\nversion: a\r\n",
                 "---\r\nname: x\r\n# kept\r\nversion: a\r\n", id="middle-crlf-inner-comment"),
    pytest.param("name: x\ncanary: {trafficPercent: 20}   # flow\nversion: a\n",
                 "name: x\nversion: a\n", id="flow"),
    pytest.param("name: x\ncanary:\n  trafficPercent: 20", "name: x", id="no-final-newline"),
    pytest.param("name: x\r\ncanary: {trafficPercent: 20}", "name: x", id="no-final-newline-crlf"),
])
def test_remove_canary(before: str, after: str) -> None:
    assert remove_key(before, "canary") == after


def test_add_then_remove_gives_back_the_original() -> None:
    for original in ("name: x\nversion: a # c\n", "---\r\nname: x\r\n", "name: x\nversion: a",
                     "name: x\nresources:\n    limits:\n        cpu: '2'\n# end\n"):
        assert remove_key(set_canary_percent(original, 20), "canary") == original


@pytest.mark.parametrize(("before", "value", "after"), [
    pytest.param("version: abc # sha\n", "def0123", "version: def0123 # sha\n", id="plain"),
    pytest.param("version: 'abc'\n", "def", "version: 'def'\n", id="single-kept"),
    pytest.param('version: "abc"  # c\n', "def", 'version: "def"  # c\n', id="double-kept"),
    pytest.param("version: 'abc'\n", "0123", "version: '0123'\n", id="single-number"),
    pytest.param("version: !!str abc\n", "0123", 'version: !!str "0123"\n', id="tag-kept"),
    pytest.param("image_repository: a.b:5000\n", "quay.io:443/team",
                 "image_repository: quay.io:443/team\n", id="colon-plain"),
])
def test_set_value(before: str, value: str, after: str) -> None:
    path = (before.partition(":")[0],)
    assert set_value(before, path, value) == after


@pytest.mark.parametrize("version", ["1234e56", "0123", "1_000", "123", "0x1F", "1e3", "yes", "off",
                                     "true", "null", "y", "N", "12.5"])
def test_versions_helm_reads_as_non_text_are_quoted(version: str) -> None:
    assert set_value("version: abc\n", ("version",), version) == f'version: "{version}"\n'


@pytest.mark.parametrize("version", ["4562a17c17", "v1.2.3", "abc-def_1", "sha-0123", "NaN0"])
def test_text_versions_stay_plain(version: str) -> None:
    assert set_value("version: abc\n", ("version",), version) == f"version: {version}\n"


def test_nested_value_in_flow_mapping() -> None:
    assert set_value("a: {b: 'x', c: y}\n", ("a", "b"), "z") == "a: {b: 'z', c: y}\n"


def test_bool_and_int_values_are_plain() -> None:
    assert config_edit.scalar_text(True, "'") == "true"
    assert config_edit.scalar_text(20, '"') == "20"


@pytest.mark.parametrize(("text", "edit", "message"), [
    pytest.param("version: |\n  abc\n", lambda t: set_value(t, ("version",), "d"), "block scalar",
                 id="block-scalar"),
    pytest.param("{name: x, version: a}\n", lambda t: set_canary_percent(t, 20), "flow-style",
                 id="flow-top-level"),
    pytest.param("name: x\ncanary: 20\n", lambda t: set_canary_percent(t, 20), "not a mapping",
                 id="canary-scalar"),
    pytest.param("name: x\n", lambda t: remove_key(t, "canary"), "no `canary`", id="missing"),
    pytest.param("name: x\nversion: a\n", lambda t: set_value(t, ("image",), "b"), "no `image`",
                 id="missing-value"),
    # A kept trailing newline would move into the inserted block: the check after the edit sees it.
    pytest.param("name: x\nnotes: |+\n  text\n\n", lambda t: set_canary_percent(t, 20),
                 "more than the intended value", id="verified"),
    pytest.param("name: [x\n", lambda t: set_canary_percent(t, 20), "not valid YAML", id="syntax"),
])
def test_refused_edits(text: str, edit, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(EditError, match=message):
        edit(text)


def test_control_characters_are_refused() -> None:
    with pytest.raises(EditError, match="control characters"):
        set_value("version: a\n", ("version",), "a\nb")


def test_stale_comment_note() -> None:
    before = "canary:\n  trafficPercent: 20 # 20% to the latest revision, 80% to the previous\n"
    assert stale_comments(before, set_canary_percent(before, 50), [], 50) == [
        "line 2 keeps its comment `# 20% to the latest revision, 80% to the previous`; update it if "
        "it describes the old setting"]
    assert stale_comments(before, set_canary_percent(before, 80), [], 80) == []
    assert stale_comments("a: 1 # 👈 update this\n", "a: 2 # 👈 update this\n", ["1"], 2) == []
    version = "version: abc12 # abc12 is the fixed build\n"
    assert len(stale_comments(version, set_value(version, ("version",), "def34"), ["abc12"], None)) == 1
