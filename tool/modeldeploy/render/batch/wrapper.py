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
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from .chart_analysis import ChartPlan


@dataclass
class Wrapper:
    plan: ChartPlan
    directory: Path
    nonce: str
    slots: int
    separator: str  # between the slot and the template's own path in the file names

    @property
    def opening(self) -> str:
        """How each of the batch's documents starts, up to its slot number."""
        return f"---\n# Source: {self.plan.name}/templates/mdb{self.nonce}-"


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
    # A slot file reads its slot from its own name, so every slot of a template holds the same
    # text: the first is written, the others are hard links to it. Creating hundreds of new
    # files costs 0.1-0.3 ms each on a cold file system; a link, a few microseconds.
    slot_of_name = (f"{{{{- $slot := atoi (index (splitList {json.dumps(separator)} (trimPrefix "
                    f"{json.dumps(f'{base}/mdb{nonce}-')} $.Template.Name)) 0) }}}}")
    for number, (rel, _) in enumerate(plan.templates):
        slot_text = (f"{slot_of_name}{{{{- if lt $slot (len $.Values.__mdb) }}}}"
                     f"{{{{- $d := index $.Values.__mdb $slot -}}}}"
                     f'{{{{ include "mdb{nonce}:{number}" (dict "Values" $d.v "Release" (dict "Name" $d.n '
                     f'"Namespace" $d.ns "IsInstall" true "IsUpgrade" false "Revision" 1 "Service" "Helm") '
                     f'"Chart" $.Chart "Capabilities" $.Capabilities "Template" (dict "Name" '
                     f'{json.dumps(f"{base}/{rel}")} "BasePath" {json.dumps(base)})) }}}}{{{{- end -}}}}'
                     ).encode()
        first: Path | None = None
        for slot in range(slots):
            target = templates / f"mdb{nonce}-{slot:04d}{separator}{rel}"
            if separator == "/":
                target.parent.mkdir(parents=True, exist_ok=True)
            if first is not None:
                try:
                    os.link(first, target)
                    continue
                except OSError:  # a file system without hard links: a copy each
                    pass
            target.write_bytes(slot_text)
            first = first or target
    return Wrapper(plan, directory, nonce, slots, separator)


def split_output(wrapper: Wrapper, stdout: str, count: int) -> list[str] | None:
    """The batch output cut back into each deployment's own `helm template` output.

    Each document starts at a line `---` followed by `# Source: <chart>/templates/mdb<nonce>-<slot>`
    and the separator; str.find, not a regular expression: helm's output of 1,000 deployments
    is megabytes, and this runs on the main process's critical path."""
    if not stdout:
        return ["" for _ in range(count)]
    opening, separator = wrapper.opening, wrapper.separator
    if not stdout.startswith(opening):
        return None
    head = f"---\n# Source: {wrapper.plan.name}/templates/"
    parts: list[list[str]] = [[] for _ in range(count)]
    slot, body = _slot_at(stdout, 0, opening, separator)
    if slot is None:
        return None
    while slot is not None:
        if slot >= count:
            return None
        following, following_body = len(stdout), 0
        found = stdout.find("\n" + opening, body)
        next_slot = None
        while found >= 0:  # a line that only looks like an opening stays in the document
            next_slot, following_body = _slot_at(stdout, found + 1, opening, separator)
            if next_slot is not None:
                following = found + 1
                break
            found = stdout.find("\n" + opening, found + 1)
        parts[slot].append(head + stdout[body:following])
        slot, body = next_slot, following_body
    return ["".join(p) for p in parts]


def _slot_at(stdout: str, start: int, opening: str, separator: str) -> tuple[int | None, int]:
    """The slot number of the opening at `start`, and where its document's own path begins."""
    digits_start = start + len(opening)
    end = digits_start
    while end < len(stdout) and stdout[end].isdecimal():
        end += 1
    if end == digits_start or not stdout.startswith(separator, end):
        return None, 0
    return int(stdout[digits_start:end]), end + len(separator)
