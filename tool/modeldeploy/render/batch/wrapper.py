"""The generated wrapper chart that renders many deployments in one helm process, and
the split of its output back into each deployment's own `helm template` output.

- `Chart.yaml` is the original, byte for byte, so `.Chart` is the same;
- each partial (`templates/**/_*`) is copied as it is;
- each other template becomes a named `define` (body unchanged) in one generated
  partial; for deployment slot `i`, `templates/mdb<nonce>-<i>~<same name>` (a folder
  `mdb<nonce>-<i>/` when the chart has template folders) holds one `include` of it
  with the context helm would have built for that deployment (`.Values`, `.Release`,
  `.Template`; `.Chart`, `.Capabilities` passed through);
- `values.schema.json` becomes a schema over the list, so helm still validates each
  deployment's values.

helm then sorts and prints everything itself; the output is split back per
deployment (the random nonce makes the `# Source:` markers unambiguous) and the
paths restored. Relative order within one deployment is helm's own, since only a
common prefix was added to its file names.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from .chart_analysis import ChartPlan


@dataclass
class Wrapper:
    plan: ChartPlan
    directory: Path
    nonce: str
    slots: int
    separator: str  # between the slot and the template's own path in the file names
    marker: re.Pattern[str] = field(init=False)

    def __post_init__(self) -> None:
        prefix = re.escape(f"{self.plan.name}/templates/mdb{self.nonce}-")
        self.marker = re.compile(r"^---\n# Source: " + prefix + r"(\d+)" + re.escape(self.separator),
                                 re.MULTILINE)


def build_wrapper(plan: ChartPlan, root: Path, slots: int) -> Wrapper:
    nonce = secrets.token_hex(6)
    directory = root / f"wrapper-{nonce}"
    templates = directory / "templates"
    templates.mkdir(parents=True)
    (directory / "Chart.yaml").write_bytes(plan.chart_yaml)
    if plan.schema is not None:
        (directory / "values.schema.json").write_text(json.dumps(plan.schema), encoding="utf-8")
    for rel, data in plan.partials:
        target = templates / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    defines = []
    for number, (_, text) in enumerate(plan.templates):
        defines.append(f'{{{{ define "mdb{nonce}:{number}" }}}}{text}{{{{ end }}}}')
    (templates / f"_mdb{nonce}.tpl").write_text("".join(defines), encoding="utf-8")
    base = f"{plan.name}/templates"
    # templates/mdb<nonce>-<slot>~<name>, or a folder per slot when templates are in folders:
    # a common prefix keeps helm's order of one deployment's files.
    separator = "/" if any("/" in rel for rel, _ in plan.templates) else "~"
    for slot in range(slots):
        for number, (rel, _) in enumerate(plan.templates):
            target = templates / f"mdb{nonce}-{slot:04d}{separator}{rel}"
            if separator == "/":
                target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(
                f"{{{{- if lt {slot} (len $.Values.__mdb) }}}}{{{{- $d := index $.Values.__mdb {slot} -}}}}"
                f'{{{{ include "mdb{nonce}:{number}" (dict "Values" $d.v "Release" (dict "Name" $d.n '
                f'"Namespace" $d.ns "IsInstall" true "IsUpgrade" false "Revision" 1 "Service" "Helm") '
                f'"Chart" $.Chart "Capabilities" $.Capabilities "Template" (dict "Name" '
                f'{json.dumps(f"{base}/{rel}")} "BasePath" {json.dumps(base)})) }}}}{{{{- end -}}}}',
                encoding="utf-8")
    return Wrapper(plan, directory, nonce, slots, separator)


def split_output(wrapper: Wrapper, stdout: str, count: int) -> list[str] | None:
    """The batch output cut back into each deployment's own `helm template` output."""
    parts: list[list[str]] = [[] for _ in range(count)]
    matches = list(wrapper.marker.finditer(stdout))
    if not stdout:
        return ["" for _ in range(count)]
    if not matches or matches[0].start() != 0:
        return None
    head = f"---\n# Source: {wrapper.plan.name}/templates/"
    for match, following in zip(matches, [*matches[1:], None], strict=True):
        slot = int(match.group(1))
        if slot >= count:
            return None
        end = following.start() if following else len(stdout)
        parts[slot].append(head + stdout[match.end():end])
    return ["".join(p) for p in parts]
