"""name-length: `name` must be short enough for every name KServe and Knative derive.

The chart deploys a predictor and a transformer. From the name and namespace:
- Knative gives each component a host whose first label is
  `<name>-transformer-<namespace>` (the longer of the two components); a DNS label
  holds at most 63 characters, so len(name) + len(namespace) <= 50
  (kserve/kserve#4807, knative/serving#3236);
- each Knative revision is named `<name>-transformer-00001` and that name is a label
  value (at most 63 characters), so len(name) <= 45;
- in RawDeployment mode the Service `<name>-transformer` and the host label
  `<name>-<namespace>` must each fit 63 characters.
KServe's webhook checks none of this: the failure shows up later in the controller.

For a chart whose schema does not declare `name` and `deployment_mode` (another chart than this
repository's), the names come from the render instead: each rendered InferenceService's name,
its namespace (the release's when it sets none), the components it renders (predictor,
transformer, explainer) and its deploymentMode annotation give each component's host label
`<name>-<component>-<namespace>`, plus the Knative revision `<name>-<component>-00001` in
Serverless mode; reported at the config's `name` when the config names it, else at line 1.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from ..config.yaml_loader import LoadedYaml, excerpt
from ..diagnostics import Diagnostic, Rule, Severity
from .base import RuleContext, rule_doc
from .canary_not_rendered import inferenceservices, rendered_mode
from .name_format import DNS_1035

RULE = Rule("name-length", Severity.ERROR, rule_doc(__doc__), __name__)
OWNS = ()
CHART_KEYS = ("name", "deployment_mode")
DNS_LABEL_MAX = 63
LONGEST_COMPONENT = "transformer"
REVISION_SUFFIX = "-00001"


def derived_names(name: str, namespace: str, mode: str) -> list[tuple[str, str]]:
    """(what, derived name) pairs that must each fit a 63-character DNS label."""
    if mode == "RawDeployment":
        return [("the Service", f"{name}-{LONGEST_COMPONENT}"),
                ("the host label", f"{name}-{namespace}")]
    return [("Knative's host label", f"{name}-{LONGEST_COMPONENT}-{namespace}"),
            ("the Knative revision name", f"{name}-{LONGEST_COMPONENT}{REVISION_SUFFIX}")]


def check(ctx: RuleContext) -> Iterator[Diagnostic]:
    name = ctx.values.get("name")
    if not isinstance(name, str) or not DNS_1035.fullmatch(name):
        return
    mode = ctx.values.get("deployment_mode", "Serverless")
    namespace = ctx.environment.namespace
    derived = derived_names(name, namespace, mode)
    too_long = [(what, text) for what, text in derived if len(text) > DNS_LABEL_MAX]
    if not too_long:
        return
    what, text = too_long[0]
    # The room left for the name is set by the tightest derived name, not only the first too long.
    room = min(DNS_LABEL_MAX - (len(text) - len(name)) for _, text in derived)
    line, column = ctx.at("name")
    yield RULE.at(ctx.file, line, column,
                f"name {excerpt(name)!r} is too long for namespace {namespace!r}: {what} "
                f"{excerpt(text, 90)!r} has {len(text)} characters, the limit is {DNS_LABEL_MAX}; "
                f"shorten the name from {len(name)} to at most {max(room, 0)} characters")


COMPONENTS = ("predictor", "transformer", "explainer")
RAW_MODES = ("RawDeployment", "Standard")


def check_rendered(loaded: LoadedYaml, objects: Sequence[Any], chart: str,
                   namespace: str) -> Iterator[Diagnostic]:
    for isvc in inferenceservices(objects):
        name = isvc["metadata"].get("name")
        if not isinstance(name, str) or not name:
            continue
        where = isvc["metadata"].get("namespace") or namespace
        spec = isvc["spec"] if isinstance(isvc.get("spec"), dict) else {}
        components = [c for c in COMPONENTS if isinstance(spec.get(c), dict)]
        serverless = rendered_mode(isvc) not in RAW_MODES
        derived = [(f"the {c}'s host label", f"{name}-{c}-{where}") for c in components]
        if serverless:
            derived += [(f"the {c}'s Knative revision name", f"{name}-{c}{REVISION_SUFFIX}")
                        for c in components]
        too_long = [(what, text) for what, text in derived if len(text) > DNS_LABEL_MAX]
        if not too_long:
            continue
        what, text = too_long[0]
        room = min(DNS_LABEL_MAX - (len(text) - len(name)) for _, text in derived)
        named = loaded.value.get("name") == name
        line, column = loaded.position(("name",)) if named else (1, 1)
        fix = "shorten `name`" if named else "shorten the name the chart gives it"
        yield RULE.at(loaded.path, line, column, (
            f"rendered InferenceService {excerpt(name)} in {where}: {what} {excerpt(text, 90)!r} has "
            f"{len(text)} characters, the limit is {DNS_LABEL_MAX} (chart {chart}); {fix} from {len(name)} "
            f"to at most {max(room, 0)} characters"))
