"""The rule registry: every rule id any module can report is declared once, collected and documented.

A diagnostic is made only through its Rule (Rule.at), so the Rule objects the modules declare
are every id modeldeploy can print; the registry (rules/registry.py) must hold each of them,
with a documentation, and nothing else may build a Diagnostic with a severity of its own."""

from __future__ import annotations

import ast
import importlib
import importlib.util
import json
import pkgutil
import re
import sys
from typing import Any

import modeldeploy
from conftest import REPO_ROOT
from modeldeploy.diagnostics import Rule, Severity
from modeldeploy.rules import registry

PACKAGE = REPO_ROOT / "tool" / "modeldeploy"


def _every_module() -> list[object]:
    return [importlib.import_module(info.name)
            for info in pkgutil.walk_packages(modeldeploy.__path__, "modeldeploy.")
            if not info.name.endswith("__main__")]


def test_every_declared_rule_is_registered_once() -> None:
    declared: dict[str, Rule] = {}
    for module in _every_module():
        for value in vars(module).values():
            if isinstance(value, Rule) and value.module == module.__name__:  # type: ignore[attr-defined]
                assert declared.get(value.id, value) is value, f"{value.id} declared twice"
                declared[value.id] = value
    assert declared == registry.RULES, "add the module that declares these to registry.DECLARING"


def test_every_rule_is_documented_and_well_formed() -> None:
    for rule_id, rule in registry.RULES.items():
        assert re.fullmatch(r"[a-z][a-z0-9]*(-[a-z0-9]+)*", rule_id), rule_id
        assert rule.severity in (Severity.ERROR, Severity.WARNING)
        first_line = rule.doc.split("\n")[0]
        assert len(rule.doc) > 20 and (first_line[0].isupper() or first_line[0] == "`"), rule_id
        assert first_line.endswith("."), rule_id
        assert importlib.import_module(rule.module).__name__ == rule.module


def test_only_a_rule_makes_a_diagnostic() -> None:
    """No module builds a Diagnostic itself, nor through a helper with a severity of its own."""
    makers = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            called = node.func if isinstance(node, ast.Call) else None
            if isinstance(called, ast.Name) and called.id == "Diagnostic":
                makers.append(path.relative_to(PACKAGE).as_posix())
    assert makers == ["diagnostics.py"]  # Rule.at


def test_the_rules_that_cannot_be_turned_off_are_the_reading_and_rendering_failures() -> None:
    fixed = {rule_id for rule_id, rule in registry.RULES.items() if not rule.can_disable}
    assert fixed == {"io", "yaml-syntax", "yaml-encoding", "yaml-limits", "yaml-empty",
                     "yaml-multiple-documents", "yaml-not-a-mapping", "yaml-directive", "yaml-tag",
                     "chart-path", "helm-template", "helm-output", "manifest-file",
                     # switched per environment in environment.yaml `rollout:` (policy/rules.py)
                     "policy-require-canary", "policy-promote-from", "policy-first-step", "policy-step",
                     "policy-freeze"}
    registry_doc = registry.__doc__ or ""
    for rule_id in fixed:  # the registry's docstring names each, with the principle
        assert f"`{rule_id}`" in registry_doc, rule_id


def test_misspelt_ids_get_a_suggestion() -> None:
    assert registry.suggest("yaml-sintax") == "yaml-syntax"
    assert registry.suggest("mutable-tags") == "mutable-tag"
    assert registry.suggest("nothing-like-it-at-all") is None


def test_the_settings_schema_is_generated_from_the_registry() -> None:
    rules_doc = _load_rules_doc()
    assert rules_doc.SETTINGS_SCHEMA.read_text("utf-8") == rules_doc.settings_schema(), \
        "schemas/settings.schema.json is stale: run python tool/scripts/rules_doc.py"
    schema = json.loads(rules_doc.SETTINGS_SCHEMA.read_text("utf-8"))
    assert set(schema["properties"]["rules"]["properties"]) == set(registry.RULES)


def _load_rules_doc() -> Any:
    script = REPO_ROOT / "tool" / "scripts" / "rules_doc.py"
    spec = importlib.util.spec_from_file_location("rules_doc", script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["rules_doc"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module
