"""Generate from the rule registry (tool/modeldeploy/rules/registry.py) what documents the rules.

- docs/rules.md: every rule id modeldeploy prints, its default severity, whether it can be
  turned off, the commands that check it, the module it lives in, its documentation;
- tool/modeldeploy/report/rule_docs.json: the rule catalog the SARIF writer ships (each id's
  severity, one-sentence summary and documentation): the writers do not import the rules;
- schemas/settings.schema.json: the schema of a repository's `.modeldeploy.yaml`, every rule id
  with the severities it may be given (it ships with the package and checks the file).

Each rule is declared once, where it is checked (diagnostics.Rule); nothing here restates one.
Run it where modeldeploy's dependencies are installed (./noxw -s schemas does):

    python tool/scripts/rules_doc.py            # rewrite the files
    python tool/scripts/rules_doc.py --check    # exit 1 if one is stale
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # run as a script or loaded by tests
from derived_files import main as generator_main

REPO_ROOT = Path(__file__).resolve().parents[2]
try:  # the installed copy (nox installs these sources first; the tests run against it)
    import modeldeploy  # noqa: F401
except ImportError:  # else these sources; appended: put first, tool/'s egg-info would shadow the install
    sys.path.append(str(REPO_ROOT / "tool"))
PACKAGE = REPO_ROOT / "tool" / "modeldeploy"
DOC = REPO_ROOT / "docs" / "rules.md"
CATALOG = PACKAGE / "report" / "rule_docs.json"
SETTINGS_SCHEMA = REPO_ROOT / "schemas" / "settings.schema.json"
# Packages whose rules only `render` runs (they need helm's output); all others run in `validate` too.
# the rules checked on what renders (rules/ also holds the config<->render link rules)
RENDER_PACKAGES = ("modeldeploy.render", "modeldeploy.manifests", "modeldeploy.rules.canary_not_rendered",
                   "modeldeploy.rules.deployment_mode_not_rendered")
# Modules of manifests/ whose rules `check` runs too (over manifests rendered elsewhere), or only.
CHECK_MODULES = {"modeldeploy.manifests.check": "manifests",
                 "modeldeploy.manifests.kserve_rules": "manifests",
                 "modeldeploy.manifests.image_refs": "manifests",
                 "modeldeploy.manifests.files": "check"}
# Rules the rollout policy checks (environment.yaml `rollout:`): on transitions, not on files.
POLICY_PACKAGES = ("modeldeploy.policy",)
STAGE_TEXT = {"config": "validate, render", "render": "render", "manifests": "render, check",
              "check": "check", "policy": "diff, canary, release, version set"}


@dataclass(frozen=True)
class DocumentedRule:
    id: str
    severity: str
    can_disable: bool
    module: str  # path relative to the repo root
    stage: str  # "config" (validate, render), "render" (render only), "manifests" (render, check),
    #             "check" (check only) or "policy" (diff, rollout commands)
    doc: str


def collect_rules() -> list[DocumentedRule]:
    """The registry's rules, config rules first, then those only `render` checks."""
    from modeldeploy.rules.registry import RULES

    rules = []
    for rule in RULES.values():
        module = "tool/" + rule.module.replace(".", "/") + ".py"
        stage = CHECK_MODULES.get(rule.module) or (
            "render" if rule.module.startswith(RENDER_PACKAGES)
            else "policy" if rule.module.startswith(POLICY_PACKAGES) else "config")
        rules.append(DocumentedRule(rule.id, rule.severity.value, rule.can_disable, module, stage, rule.doc))
    order = {"config": 0, "render": 1, "manifests": 2, "check": 3, "policy": 4}
    return sorted(rules, key=lambda r: (order[r.stage], r.id))


def render(rules: list[DocumentedRule] | None = None) -> str:
    rules = collect_rules() if rules is None else rules
    lines = [HEADER, "| Rule id | Severity | Can be turned off | Checked by | Lives in |",
             "|---|---|---|---|---|"]
    for rule in rules:
        lines.append(f"| [`{rule.id}`](#{rule.id}) | {rule.severity} | {'yes' if rule.can_disable else 'no'} "
                     f"| {STAGE_TEXT[rule.stage]} | [`{rule.module}`](../{rule.module}) |")
    lines.append("")
    for rule in rules:
        commands = "` and `".join(STAGE_TEXT[rule.stage].split(", "))
        fixed = ("" if rule.can_disable
                 else " It is switched on and off per environment in environment.yaml's `rollout:`, "
                      "not in `.modeldeploy.yaml`." if rule.stage == "policy"
                 else " It cannot be turned off or down (see above).")
        lines += [f"## {rule.id}", "", f"{rule.severity}; checked by `{commands}`; "
                  f"lives in [`{rule.module}`](../{rule.module}).{fixed}", "", rule.doc, ""]
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


def catalog(rules: list[DocumentedRule] | None = None) -> str:
    rules = collect_rules() if rules is None else rules
    entries = {rule.id: {"severity": rule.severity, "summary": _summary(rule.doc),
                         "doc": _unwrapped(rule.doc)} for rule in sorted(rules, key=lambda r: r.id)}
    document = {"generated_by": "tool/scripts/rules_doc.py from the rule registry; do not edit",
                "documentation": "docs/rules.md", "rules": entries}
    return json.dumps(document, indent=1, ensure_ascii=False) + "\n"


CHART_SOURCES = {
    "description": "Where the charts the configs name come from (as the ApplicationSet reads a config's "
                   "repo_url and target_revision): each repository mapped to a local checkout.",
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "default_repo_url": {"description": "The repo_url of a config that names none (the "
                                             "ApplicationSet's default).", "type": "string", "minLength": 1},
        "default_target_revision": {"description": "The target_revision of a config that names none.",
                                    "type": "string", "minLength": 1},
        "repositories": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["repo_url"],
                "oneOf": [{"required": ["path"]}, {"required": ["git"]}],
                "properties": {
                    "repo_url": {"description": "The repository, as configs name it.", "type": "string",
                                 "minLength": 1},
                    "path": {"description": "A local checkout of it, read whatever the target_revision; "
                                            "relative to the repository holding the configs.",
                             "type": "string", "minLength": 1},
                    "git": {"description": "A local git clone of it, read at each config's target_revision; "
                                           "relative to the repository holding the configs.",
                            "type": "string", "minLength": 1},
                },
            },
        },
    },
    "examples": [{"default_repo_url": "https://git.example.com/team-a/mlops-helmcharts.git",
                  "repositories": [{"repo_url": "https://git.example.com/team-a/mlops-helmcharts.git",
                                    "path": "../mlops-helmcharts"}]}],
}


def settings_schema(rules: list[DocumentedRule] | None = None) -> str:
    rules = collect_rules() if rules is None else rules
    properties: dict[str, object] = {}
    for rule in sorted(rules, key=lambda r: r.id):
        if rule.can_disable:
            properties[rule.id] = {"description": f"{_summary(rule.doc)} Default: {rule.severity}.",
                                   "enum": ["error", "warning", "off"]}
        else:
            properties[rule.id] = {"description": f"{_summary(rule.doc)} Cannot be turned off or down.",
                                   "enum": ["error"]}
    schema = {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$id": "https://modeldeploy.dev/schemas/settings.schema.json",
        "title": "modeldeploy repository settings",
        "description": "The rule settings of a GitOps repository: .modeldeploy.yaml at its root "
                       "(docs/rules.md). Generated by tool/scripts/rules_doc.py from the rule registry; "
                       "do not edit.",
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "rules": {
                "description": "Rule id -> its severity in this repository: error, warning, or off (never "
                               "reported). Rules that cannot be turned off or down take only error.",
                "type": "object",
                "additionalProperties": False,
                "properties": properties,
                "examples": [{"mutable-tag": "error", "directory-name": "off"}],
            },
            "chart_sources": CHART_SOURCES,
        },
    }
    return json.dumps(schema, indent=2) + "\n"


HEADER = """\
# Rules

<!-- Generated by tool/scripts/rules_doc.py from the rule registry
     (tool/modeldeploy/rules/registry.py); do not edit. A test fails when this file is stale. -->

Every diagnostic ends with a rule id in brackets:
`model-deployments/test/jukebox/config.yaml:3:10: error: ... [yaml-implicit-type]`.
Find the id below to see what it checks and where its code lives. Each rule is declared once,
in the module that checks it, and collected by `tool/modeldeploy/rules/registry.py`. Rules of
`tool/modeldeploy/rules/` are one module per rule, named after the id (`-` becomes `_`;
`canary-raw-deployment` lives in `canary_deployment_mode.py`); `yaml-*` ids come from the
strict loader, `schema-*` ids (and `yaml-implicit-type`, `yaml-number-form`) from the JSON
Schema step (`yaml-implicit-value`, for charts without a schema, from the chart's values
step); `image-reference` from the manifest checks. Warnings exit 0 unless `--strict`.
Examples of each: [bad-inputs.md](bad-inputs.md).

## Turning rules up, down or off

A repository may carry `.modeldeploy.yaml` at its root (the root of the git repository that
holds the configs; outside git, the folder above `model-deployments/`). Its schema, generated
from the rules below, is [`schemas/settings.schema.json`](../schemas/settings.schema.json):

```yaml
rules:
  mutable-tag: error            # a warning made an error
  directory-name: off           # never reported
  schema-unknown-key: warning   # reported; the run passes unless --strict
```

Every command that checks configs reads it: `validate`, `render`, `diff`, `status`, `canary`,
`release`. Severities are read as written (`off` needs no quotes). An unknown rule id or
severity is a usage error (exit 2) naming the file, line and column, with a did-you-mean.

A line of a config or `environment.yaml` may silence rules on that line, with a comment:

```yaml
version: latest  # modeldeploy: disable=mutable-tag
```

Several ids are separated by commas (`disable=mutable-tag,directory-name`). A comment that names
an unknown rule id, or a rule that cannot be disabled, is reported (`disable-comment`) and
silences nothing. Problems of the rendered output are reported at line 1 of their config: set
their severity in `.modeldeploy.yaml`.

Rules that cannot be turned off or down (column "Can be turned off": no) are those whose
finding means the input could not be read the way Helm reads it, or that nothing can be
rendered: no other check ran, so a passing run would claim checks that never happened.
Naming one with `off` or `warning`, or in a disable comment, is refused and says why.

## Every rule
"""


def main(argv: list[str] | None = None) -> int:
    return generator_main(__doc__.splitlines()[0],
                          lambda: {DOC: render(), CATALOG: catalog(), SETTINGS_SCHEMA: settings_schema()},
                          "python tool/scripts/rules_doc.py", argv)


if __name__ == "__main__":
    sys.exit(main())
