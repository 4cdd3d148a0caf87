"""The yaml-language-server modeline in the examples: on the first line, naming a schema file
that exists and is the contract (config: the chart's values.schema.json, a copy of
schemas/config.schema.json; environment: schemas/environment.schema.json)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import REPO_ROOT, RunCli

MODELINE = re.compile(r"^# yaml-language-server: \$schema=(\S+)$")
CONFIGS = sorted((REPO_ROOT / "model-deployments").glob("*/*/config.yaml"))
ENVIRONMENTS = sorted((REPO_ROOT / "model-deployments").glob("*/environment.yaml"))
SCHEMAS = REPO_ROOT / "schemas"


@pytest.mark.parametrize(("path", "contract"),
                         [*((p, "config.schema.json") for p in CONFIGS),
                          *((p, "environment.schema.json") for p in ENVIRONMENTS)],
                         ids=lambda v: v.relative_to(REPO_ROOT).as_posix() if isinstance(v, Path) else v)
def test_modeline_names_the_contract_schema(path: Path, contract: str) -> None:
    first_line = path.read_text("utf-8").splitlines()[0]
    match = MODELINE.match(first_line)
    assert match, f"{path}: first line is {first_line!r}"
    target = (path.parent / match.group(1)).resolve()
    assert target.is_file(), target
    assert target.read_bytes() == (SCHEMAS / contract).read_bytes()


def test_examples_with_modelines_validate(run_cli: RunCli) -> None:
    assert CONFIGS and ENVIRONMENTS
    proc = run_cli(["validate", "--format", "json", "model-deployments"])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert '"files_checked": 2' in proc.stdout
