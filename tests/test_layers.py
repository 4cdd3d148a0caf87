"""The layering is written three times and said once: the import-linter contracts in
pyproject.toml (what `./noxw -s lint` checks), the drawing in README.md's Development
section, and each package's docstring. These tests keep them the same, and keep the
contracts covering every module and package there is."""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path
from typing import Any

from conftest import REPO_ROOT

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - pytest brings tomli to Python 3.10
    import tomli as tomllib

PACKAGE = REPO_ROOT / "tool" / "modeldeploy"
DOCSTRING_INTRO = "Imports inside the package go down these layers"


def _contracts() -> list[dict[str, Any]]:
    config = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text("utf-8"))
    contracts: list[dict[str, Any]] = config["tool"]["importlinter"]["contracts"]
    return contracts


def _contract(contract_id: str) -> dict[str, Any]:
    return next(c for c in _contracts() if c["id"] == contract_id)


def _layer(text: str) -> list[str]:
    """`a | b` as ["a", "b"] (the order of siblings does not matter: sorted)."""
    return sorted(part.strip() for part in text.split("|"))


def _readme_layers() -> list[list[str]]:
    readme = (REPO_ROOT / "README.md").read_text("utf-8")
    section = readme[readme.index("## Development"):]
    drawing = re.search(r"```\n(.*?)```", section, re.S)
    assert drawing, "README.md's Development section draws the layers in a ``` block"
    # each line: the layer, then (after two spaces or more) what it holds
    lines = [line.strip() for line in drawing.group(1).splitlines() if line.strip()]
    return [_layer(re.split(r"\s{2,}", line)[0]) for line in lines]


def _docstring_layers(package: str) -> list[list[str]] | None:
    source = PACKAGE.joinpath(*package.split(".")[1:], "__init__.py").read_text("utf-8")
    docstring = ast.get_docstring(ast.parse(source)) or ""
    if DOCSTRING_INTRO not in docstring:
        return None
    block = docstring.split(DOCSTRING_INTRO, 1)[1].split("\n\n", 1)[1]
    lines: list[str] = []
    for line in block.splitlines():
        if not line.startswith("    "):
            break
        if lines and lines[-1].endswith("|"):  # a long layer goes on on the next line
            lines[-1] += " " + line.strip()
        else:
            lines.append(line.strip())
    return [_layer(line) for line in lines]


def _children(folder: Path) -> set[str]:
    """The modules and packages directly in `folder`, as import-linter names them."""
    return ({p.stem for p in folder.glob("*.py") if p.name != "__init__.py"}
            | {p.name for p in folder.iterdir() if (p / "__init__.py").is_file()})


def _packages() -> list[str]:
    return sorted("modeldeploy." + ".".join(init.parent.relative_to(PACKAGE).parts)
                  for init in PACKAGE.rglob("__init__.py") if init.parent != PACKAGE)


def test_readme_draws_the_layers_the_contract_checks() -> None:
    assert _readme_layers() == [_layer(layer) for layer in _contract("layers")["layers"]]


def test_the_top_contract_names_every_module_and_package() -> None:
    contract = _contract("layers")
    assert contract["containers"] == ["modeldeploy"] and contract["exhaustive"] is True
    named = {name for layer in contract["layers"] for name in _layer(layer)}
    assert named == _children(PACKAGE)


def test_writers_may_import_results_diagnostics_and_escaping_only() -> None:
    contract = _contract("writers")
    assert contract["type"] == "forbidden" and contract["source_modules"] == ["modeldeploy.report"]
    allowed = {"report", "results", "diagnostics", "safe_output"}
    assert sorted(contract["forbidden_modules"]) == sorted(f"modeldeploy.{name}"
                                                           for name in _children(PACKAGE) - allowed)


def test_each_package_with_several_modules_has_its_contract_drawn_in_its_docstring() -> None:
    inside = {c["containers"][0]: c for c in _contracts()
              if c["type"] == "layers" and c.get("containers") != ["modeldeploy"]}
    for package in _packages():
        folder = PACKAGE.joinpath(*package.split(".")[1:])
        drawn = _docstring_layers(package)
        if len(_children(folder)) < 2:
            assert package not in inside and drawn is None, package
            continue
        assert package in inside, f"{package}: add a layers contract for it to pyproject.toml"
        contract = inside[package]
        assert contract["exhaustive"] is True
        layers = [_layer(layer) for layer in contract["layers"]]
        assert {name for layer in layers for name in layer} == _children(folder), package
        assert drawn == layers, f"{package}/__init__.py's docstring draws other layers than its contract"
