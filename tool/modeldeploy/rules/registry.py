"""Every rule id modeldeploy reports, declared once where it is checked, and collected here.

In the manner of yamllint's rule registry, DECLARING lists the modules that declare rules,
explicitly: a semantic rule module declares its `RULE` (rules/base.py says how); the YAML
loader, the schema step, discovery, environments, the settings reader, helm and the manifest
checks declare
module-level Rule constants documented by their docstring's `- `id`: ...` bullets. RULES maps
each id to its Rule: default severity, documentation, the module that checks it, and whether a
repository may turn it off or down. docs/rules.md, the SARIF rule catalog (report/rule_docs.json)
and the schema of `.modeldeploy.yaml` (schemas/settings.schema.json) are generated from it
(tool/scripts/rules_doc.py); tests/test_rules_registry.py checks that every rule a module
declares is collected and documented.

Which rules cannot be disabled: those whose finding means the input could not be read the way
Helm reads it (the loader stops: `io`, `yaml-syntax`, `yaml-encoding`, `yaml-limits`,
`yaml-empty`, `yaml-multiple-documents`, `yaml-not-a-mapping`, `yaml-directive`, `yaml-tag`;
`check`'s `manifest-file`: a manifest file that cannot be read),
or that nothing can be rendered (`chart-path`: no chart; `helm-template`, `helm-output`: helm
rendered nothing usable). No other check ran, so letting the run pass would claim checks that
never happened: they can be neither turned off nor down to a warning. The rollout policy's
rules (`policy-require-canary`, `policy-promote-from`, `policy-first-step`, `policy-step`,
`policy-freeze`, policy/rules.py) are not set there either: each environment switches them in
its environment.yaml (`rollout:`), read at the base of a change, which a repository-wide setting
must not relax.
"""

from __future__ import annotations

from types import ModuleType

from ..config import discovery, environments, schema_diagnostics, settings_file, values_schema, yaml_loader
from ..diagnostics import Rule, closest
from ..manifests import check, files, image_refs, kserve_rules, kubeconform, parse
from ..policy import rules as policy_rules
from ..render import single
from . import SEMANTIC_RULES, canary_not_rendered, deployment_mode_not_rendered, duplicate_deployment

DECLARING: tuple[ModuleType, ...] = (
    yaml_loader, schema_diagnostics, values_schema, discovery, environments, settings_file,
    *SEMANTIC_RULES, canary_not_rendered, deployment_mode_not_rendered, duplicate_deployment,
    single, parse, check, kubeconform, kserve_rules, image_refs, files,
    policy_rules,
)


def declared_by(module: ModuleType) -> list[Rule]:
    """The rules `module` declares (not those it imports from another module)."""
    return [value for value in vars(module).values()
            if isinstance(value, Rule) and value.module == module.__name__]


RULES: dict[str, Rule] = dict(sorted((rule.id, rule) for module in DECLARING for rule in declared_by(module)))


def suggest(rule_id: str) -> str | None:
    """The registered id closest to a misspelt one, if any is close."""
    return closest(rule_id, RULES)
