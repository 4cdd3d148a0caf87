"""Shared by the scripts that generate committed files from a source of truth.

Each generator computes the wanted text of its files; this writes the stale ones
(temporary file + rename) or, with --check, only names them and exits 1, which is
how the freshness tests and CI catch a forgotten regeneration.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def write_or_check(wanted: dict[Path, str], check: bool, regenerate: str) -> int:
    stale = [path for path, text in wanted.items()
             if not path.is_file() or path.read_text("utf-8") != text]
    if check:
        for path in stale:
            print(f"{path.relative_to(REPO_ROOT)} is stale: run {regenerate}", file=sys.stderr)
        return 1 if stale else 0
    for path in stale:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(wanted[path], "utf-8")
        tmp.replace(path)
        print(f"wrote {path.relative_to(REPO_ROOT)}")
    return 0


def main(description: str, produce: Callable[[], dict[Path, str]], regenerate: str,
         argv: Sequence[str] | None = None) -> int:
    """The whole command line of a generator: `[--check]`."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--check", action="store_true", help="exit 1 if a generated file is stale")
    args = parser.parse_args(argv)
    return write_or_check(produce(), args.check, regenerate)
