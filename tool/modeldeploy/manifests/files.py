"""Manifest files rendered elsewhere (`modeldeploy check`): found, read and checked by check.py's
`check_objects`, the same function `render` checks its output with.

PATH arguments are files, folders (searched recursively for regular files named `*.yaml`, `*.yml`,
`*.json`, in name order, hidden files and folders skipped; a named file may be a pipe, as
`<(helm template ...)`) or `-` (standard input, shown as `stdin`). A file is a YAML
stream of any number of documents (JSON is YAML: a JSON file is one document). A named path
that does not exist, or a folder without any such file, is a usage error (exit 2): never a
pass that checked nothing.

Rule id:
- `manifest-file`: a file `check` reads cannot be read as manifests: not UTF-8, not YAML or
  JSON, unreadable, or YAML whose aliases refer to themselves or expand past the node limit.
  Its objects could not be checked.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..diagnostics import Diagnostic, ToolError, declared_in
from .check import ObjectStatus, Selection, Source, check_objects
from .kserve_rules import StorageFormat, storage_formats
from .locate import Locator
from .parse import AliasError, check_aliases, parse_manifests
from .schema_registry import SchemaRegistry

_declare = declared_in(__doc__, __name__)
RULE_FILE = _declare("manifest-file", can_disable=False)
SUFFIXES = (".yaml", ".yml", ".json")
STDIN = "-"
STDIN_NAME = "stdin"


@dataclass(frozen=True)
class ManifestFile:
    display: str  # as reported: the path as given or found, `stdin`
    path: Path | None  # None: standard input


@dataclass
class ReadFile:
    file: ManifestFile
    text: str | None  # None: could not be read
    objects: list[Any] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    problems: list[Diagnostic] = field(default_factory=list)


def find_files(paths: Sequence[str], cwd: Path) -> list[ManifestFile]:
    """The manifest files under `paths` (`-`: standard input), each once, in the order given."""
    found: list[ManifestFile] = []
    seen: set[str] = set()
    for raw in paths:
        if raw == STDIN:
            if STDIN not in seen:
                seen.add(STDIN)
                found.append(ManifestFile(STDIN_NAME, None))
            continue
        path = cwd / raw
        if path.is_dir():
            listed = sorted(_walk(path))
            if not listed:
                raise ToolError(f"{raw}: no *.yaml, *.yml or *.json file under this folder")
            candidates = [(os.path.join(raw, str(p.relative_to(path))), p) for p in listed]
        elif os.path.lexists(path):
            candidates = [(raw, path)]
        else:
            raise ToolError(f"{raw}: no such file or folder")
        for display, candidate in candidates:
            key = os.path.realpath(candidate)
            if key not in seen:
                seen.add(key)
                found.append(ManifestFile(display, candidate))
    return found


def _walk(folder: Path) -> Iterator[Path]:
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in files:
            path = Path(root) / name
            # Regular files only: a FIFO or socket found in a folder would block or fail the read.
            if name.endswith(SUFFIXES) and not name.startswith(".") and path.is_file():
                yield path


def read_file(file: ManifestFile, stdin: bytes | None = None) -> ReadFile:
    """The file's objects and the line each starts on; what cannot be read as a diagnostic."""
    try:
        data = (stdin or b"") if file.path is None else file.path.read_bytes()
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        why = f"not UTF-8 text (byte {exc.start}): not a manifest"
        return ReadFile(file, None, problems=[RULE_FILE.at(file.display, 1, 1, why)])
    except OSError as exc:
        return ReadFile(file, None, problems=[RULE_FILE.at(file.display, 1, 1,
                                                          f"cannot read it: {exc.strerror or exc}")])
    read = ReadFile(file, text)
    try:
        shared: list[Any] = []
        read.objects = parse_manifests(text, shared, read.lines)
        check_aliases(shared)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        read.objects, read.lines = [], []
        read.problems.append(RULE_FILE.at(file.display, line, column, "not YAML or JSON: "
                                          f"{exc.problem or exc.context or 'a syntax error'}"))
    except (AliasError, yaml.YAMLError, RecursionError) as exc:
        what = "nested too deeply" if isinstance(exc, RecursionError) else str(exc).split("\n")[0]
        read.objects, read.lines = [], []
        read.problems.append(RULE_FILE.at(file.display, 1, 1, f"cannot be checked: {what}"))
    return read


@dataclass
class FileCheck:
    read: ReadFile
    statuses: list[ObjectStatus]
    problems: list[Diagnostic]


def check_file(read: ReadFile, registry: SchemaRegistry, selection: Selection,
               formats: Sequence[StorageFormat]) -> FileCheck:
    if read.problems or read.text is None:
        return FileCheck(read, [], list(read.problems))
    source = Source(read.file.display, read.lines, Locator(read.text), noun="")
    statuses, problems = check_objects(read.objects, registry, source, selection, formats)
    return FileCheck(read, statuses, problems)


def check_files(files: list[ReadFile], registry: SchemaRegistry, selection: Selection) -> list[FileCheck]:
    """Every file's objects; a ClusterStorageContainer in any of them counts for all (kserve_rules.py)."""
    formats = storage_formats([obj for read in files for obj in read.objects])
    return [check_file(read, registry, selection, formats) for read in files]
