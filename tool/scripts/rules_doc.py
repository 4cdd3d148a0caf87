"""Generate docs/rules.md: every rule id modeldeploy prints, its severity, where it lives, its docs.

Also the rule catalog the SARIF reporter ships (tool/modeldeploy/report/rule_docs.json:
each id's severity, one-sentence summary and documentation), from the same source.

Rule ids come from the source, read with `ast` (nothing is imported):
- a rule module in tool/modeldeploy/rules/ exports `ID`, `SEVERITY` and documents itself
  in its docstring;
- other modules define `RULE_* = "<id>"` constants; their documentation is the module
  docstring's bullet `- `<id>`: ...` when there is one, else the docstring's sentences
  that name the id. The severity is read from the `error(...)`/`warning(...)` calls
  that use the constant.

    python tool/scripts/rules_doc.py            # rewrite docs/rules.md
    python tool/scripts/rules_doc.py --check    # exit 1 if it is stale
"""

from __future__ import annotations

import ast
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # run as a script or loaded by tests
from derived_files import main as generator_main

REPO_ROOT = Path(__file__).resolve().parents[2]
PACKAGE = REPO_ROOT / "tool" / "modeldeploy"
DOC = REPO_ROOT / "docs" / "rules.md"
CATALOG = PACKAGE / "report" / "rule_docs.json"
# Packages whose rules only `render` runs (they need helm's output); all others run in `validate` too.
RENDER_PACKAGES = {"render", "manifests"}
STAGE_TEXT = {"config": "validate, render", "render": "render"}


@dataclass(frozen=True)
class Rule:
    id: str
    severity: str
    module: str  # path relative to the repo root
    stage: str  # "config" (validate and render) or "render" (render only)
    doc: str


def _docstring(tree: ast.Module) -> str:
    return ast.get_docstring(tree) or ""


def _bullets(docstring: str) -> dict[str, str]:
    """`- `id`: text` bullets (continuation lines indented), also `- `a`, `b`: text`."""
    found: dict[str, str] = {}
    for match in re.finditer(r"^- ((?:`[a-z0-9-]+`(?:, )?)+): (.*?)(?=^- |^\S|\Z)", docstring, re.M | re.S):
        text = " ".join(match.group(2).split()).rstrip(";.")
        for rule_id in re.findall(r"`([a-z0-9-]+)`", match.group(1)):
            found[rule_id] = text[:1].upper() + text[1:] + "."
    return found


def _sentences_naming(docstrings: list[str], rule_id: str) -> str:
    for docstring in docstrings:
        sentences = re.split(r"(?<=[.:;])\s+(?=[A-Za-z`(])", " ".join(docstring.split()))
        named = [s for s in sentences if f"`{rule_id}`" in s]
        if named:
            return " ".join(named)
    return ""


def _message_template(tree: ast.Module, constant: str) -> str:
    """The message of the first error()/warning() call using `constant`, `…` for its variables."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                and node.func.id in ("error", "warning") \
                and any(isinstance(a, ast.Name) and a.id == constant for a in node.args):
            parts = []
            for piece in ast.walk(node.args[-2]) if len(node.args) >= 2 else []:
                if isinstance(piece, ast.Constant) and isinstance(piece.value, str):
                    parts.append(piece.value)
                elif isinstance(piece, ast.FormattedValue):
                    parts.append("…")
            if parts:
                return "Reported as: “" + "".join(parts).strip() + "”."
    return ""


def _severity(tree: ast.Module, constant: str) -> str:
    kinds = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                and node.func.id in ("error", "warning") \
                and any(isinstance(a, ast.Name) and a.id == constant for a in node.args):
            kinds.add(node.func.id)
    return " or ".join(sorted(kinds)) or "error"


def _rule_module(path: Path, tree: ast.Module) -> Rule | None:
    values: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            name = node.targets[0].id
            if name == "ID" and isinstance(node.value, ast.Constant):
                values["id"] = str(node.value.value)
            if name == "SEVERITY" and isinstance(node.value, ast.Attribute):
                values["severity"] = node.value.attr.lower()
    if "id" not in values:
        return None
    doc = _docstring(tree)
    first, _, rest = doc.partition("\n")
    title = first.split(":", 1)[1].strip() if ":" in first else first
    title = title[:1].upper() + title[1:]
    return Rule(values["id"], values.get("severity", "error"), path.relative_to(REPO_ROOT).as_posix(),
                "config", f"{title}\n{rest.strip()}".strip())


def collect_rules(package: Path = PACKAGE) -> list[Rule]:
    rules: dict[str, Rule] = {}
    for path in sorted(package.rglob("*.py")):
        tree = ast.parse(path.read_text("utf-8"))
        if path.parent.name == "rules":
            rule = _rule_module(path, tree)
            if rule:
                rules[rule.id] = rule
            continue
        docstrings = [_docstring(tree)] + [ast.get_docstring(node) or "" for node in ast.walk(tree)
                                           if isinstance(node, (ast.FunctionDef, ast.ClassDef))]
        bullets: dict[str, str] = {}
        for docstring in reversed(docstrings):  # the module's own list wins
            bullets.update(_bullets(docstring))
        stage = "render" if path.relative_to(package).parts[0] in RENDER_PACKAGES else "config"
        for node in tree.body:
            if not (isinstance(node, ast.Assign) and len(node.targets) == 1
                    and isinstance(node.targets[0], ast.Name) and node.targets[0].id.startswith("RULE_")
                    and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)):
                continue
            rule_id = node.value.value
            doc = bullets.get(rule_id) or _sentences_naming(docstrings, rule_id) \
                or _message_template(tree, node.targets[0].id)
            rules.setdefault(rule_id, Rule(rule_id, _severity(tree, node.targets[0].id),
                                           path.relative_to(REPO_ROOT).as_posix(), stage, doc))
    return sorted(rules.values(), key=lambda r: (r.stage != "config", r.id))


def render(rules: list[Rule] | None = None) -> str:
    rules = collect_rules() if rules is None else rules
    lines = [HEADER, "| Rule id | Severity | Checked by | Lives in |", "|---|---|---|---|"]
    for rule in rules:
        stage = STAGE_TEXT[rule.stage]
        lines.append(f"| [`{rule.id}`](#{rule.id}) | {rule.severity} | {stage} "
                     f"| [`{rule.module}`](../{rule.module}) |")
    lines.append("")
    for rule in rules:
        commands = "` and `".join(STAGE_TEXT[rule.stage].split(", "))
        lines += [f"## {rule.id}", "", f"{rule.severity}; checked by `{commands}`; "
                  f"lives in [`{rule.module}`](../{rule.module}).", "", rule.doc, ""]
    return "\n".join(lines)


def _summary(doc: str) -> str:
    """The first sentence (rule modules put it on the docstring's first line)."""
    first_line = doc.split("\n", 1)[0]
    sentence = re.split(r"(?<=[.!?])\s+(?=[A-Z`(])", " ".join(first_line.split()), maxsplit=1)[0]
    return sentence if sentence.endswith((".", "!", "?")) else sentence + "."


def _unwrapped(doc: str) -> str:
    """The title line, then the rest as one paragraph (docstrings are wrapped at 100 columns)."""
    title, _, rest = doc.partition("\n")
    return "\n".join(part for part in (" ".join(title.split()), " ".join(rest.split())) if part)


def catalog(rules: list[Rule] | None = None) -> str:
    rules = collect_rules() if rules is None else rules
    entries = {rule.id: {"severity": rule.severity, "summary": _summary(rule.doc),
                         "doc": _unwrapped(rule.doc)} for rule in sorted(rules, key=lambda r: r.id)}
    document = {"generated_by": "tool/scripts/rules_doc.py from the sources; do not edit",
                "documentation": "docs/rules.md", "rules": entries}
    return json.dumps(document, indent=1, ensure_ascii=False) + "\n"


HEADER = """\
# Rules

<!-- Generated by tool/scripts/rules_doc.py from the rule modules' docstrings and the
     RULE_* constants; do not edit. tests/test_bad_configs.py fails when this file is stale. -->

Every diagnostic ends with a rule id in brackets:
`model-deployments/test/jukebox/config.yaml:3:10: error: ... [yaml-implicit-type]`.
Find the id below to see what it checks and where its code lives. Rules of
`tool/modeldeploy/rules/` are one module per rule, named after the id (`-` becomes `_`;
`canary-raw-deployment` lives in `canary_deployment_mode.py`); `yaml-*` ids come from the
strict loader, `schema-*` ids (and `yaml-implicit-type`) from the JSON Schema step.
Warnings exit 0 unless `--strict`. Examples of each: [bad-inputs.md](bad-inputs.md).
"""


def main(argv: list[str] | None = None) -> int:
    return generator_main(__doc__.splitlines()[0], lambda: {DOC: render(), CATALOG: catalog()},
                          "python tool/scripts/rules_doc.py", argv)


if __name__ == "__main__":
    sys.exit(main())
