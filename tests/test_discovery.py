"""Config discovery: the scandir walk finds what os.walk finds, and display_path is relative_to."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from modeldeploy.config import discovery


def _os_walk(root: Path) -> list[str]:
    """The first version: os.walk, hidden folders and folders named config.yaml not entered."""
    configs = []
    for current, dirs, files in os.walk(root):
        if Path(current) != root and ("config.yaml" in files or "config.yaml" in dirs):
            configs.append(str(Path(current) / "config.yaml"))
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "config.yaml")
    return configs


def _tree(root: Path) -> None:
    for folder in ["dev/a", "dev/b/nested", "dev/.hidden", "prod/c", "prod/config.yaml/inner", "empty/x",
                   "elsewhere/d"]:
        (root / folder).mkdir(parents=True)
    for config in ["dev/a", "dev/b", "dev/b/nested", "dev/.hidden", "prod/c", "prod/config.yaml/inner",
                   "elsewhere/d"]:
        (root / config / "config.yaml").write_text("name: x\n")
    (root / "config.yaml").write_text("name: top\n")  # the searched folder's own: not a deployment
    (root / "prod" / "linked").symlink_to(root / "elsewhere")  # listed by os.walk, not entered
    (root / "prod" / "to-dir").symlink_to(root / "dev" / "a")
    (root / "dev" / "broken").mkdir()
    (root / "dev" / "broken" / "config.yaml").symlink_to(root / "missing.yaml")
    (root / "dev" / "folder-config").mkdir()
    (root / "dev" / "folder-config" / "config.yaml").mkdir()


@pytest.mark.parametrize("start", [".", "dev", "prod", "dev/../prod", "empty"])
def test_the_walk_finds_what_os_walk_finds(tmp_path: Path, start: str) -> None:
    _tree(tmp_path)
    root = tmp_path / start
    assert sorted(discovery._walk(root, start)) == sorted(_os_walk(root))


def test_an_unreadable_folder_is_a_tool_error(tmp_path: Path) -> None:
    _tree(tmp_path)
    with pytest.raises(discovery.ToolError, match=r"cannot search .*missing \(under missing\) for config"):
        discovery._walk(tmp_path / "missing", "missing")


@pytest.mark.parametrize(("path", "cwd"), [
    ("/a/b/c.yaml", "/a"), ("/a/b", "/a/b"), ("/a/bc/d", "/a/b"), ("/x/y", "/a"), ("/a/b", "/"),
    ("a/b", "/a"), ("a/b", "."), ("/a//b/./c", "/a"),
])
def test_display_path_is_relative_to_by_string(path: str, cwd: str) -> None:
    try:
        expected = str(Path(path).relative_to(Path(cwd)))
    except ValueError:
        expected = str(Path(path))
    assert discovery.display_path(Path(path), Path(cwd)) == expected
