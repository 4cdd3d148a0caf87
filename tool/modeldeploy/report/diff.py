"""Writers for `modeldeploy diff` results: text (terminal), markdown (PR comment), json.

They depend on the DiffResult alone and are deterministic: no dates, no SHAs, no
temporary paths. The markdown comes from templates/diff.md.j2 and stays under
GitHub's comment limit by cutting diffs, never the summary table; each cut says
what is missing and how to see it in full.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from ..results.diff import BASE, WORKING_TREE, DeploymentDiff, DiffResult, SideProblem
from ..safe_output import escape, json_text

if TYPE_CHECKING:  # imported on use: only the markdown comment needs it (start-up of text and json)
    import jinja2

FORMATS = ("text", "markdown", "json")
COMMENT_LIMIT = 65_536  # GitHub's limit in characters; measured here in UTF-8 bytes, never fewer
COMMENT_MARKER = "<!-- modeldeploy-diff -->"  # lets CI find and update its one comment
MAX_PROBLEMS_SHOWN = 50
_MIN_LINES_SHOWN = 6  # file headers, a hunk header and a few lines of it

_RED, _GREEN, _CYAN, _BOLD, _RESET = "\033[31m", "\033[32m", "\033[36m", "\033[1m", "\033[0m"


def format_report(name: str, result: DiffResult, *, color: bool = False,
                  limit: int = COMMENT_LIMIT) -> str:
    if name == "markdown":
        return format_markdown(result, limit)
    if name == "json":
        return format_json(result)
    return format_text(result, color)


def format_problem(problem: SideProblem, result: DiffResult) -> str:
    """One line (escaped, see safe_output.py), without its line break: `path:line:col: ...` first,
    as every other command prints it (editors and CI problem matchers read that), then which side
    it is from when that is not the working tree: ` (at --base REF)`, ` (at --head REF)`."""
    d = problem.diagnostic
    ref = result.base if problem.side == BASE else result.head
    side = "" if ref == WORKING_TREE else f" (at --{problem.side} {ref})"
    return escape(f"{d.path}:{d.line}:{d.column}: {d.severity.value}: {d.message} [{d.rule}]{side}")


def _show_command(result: DiffResult, deployment: DeploymentDiff) -> str:
    head = [] if result.head == WORKING_TREE else ["--head", result.head]
    return shlex.join(["modeldeploy", "diff", "--base", result.base, *head, deployment.config])


def totals(result: DiffResult) -> str:
    changed = len(result.deployments)
    added = sum(d.added_lines for d in result.deployments)
    removed = sum(d.removed_lines for d in result.deployments)
    return (f"{changed} deployment{'' if changed == 1 else 's'} changed (+{added} -{removed} lines), "
            f"{result.unchanged} re-rendered without changes")


# -- text ---------------------------------------------------------------------------------------

def format_text(result: DiffResult, color: bool = False) -> str:
    def paint(code: str, text: str) -> str:  # each line is escaped before it is painted
        return f"{code}{escape(text)}{_RESET}" if color else escape(text)

    out: list[str] = []
    if result.violations:  # first: what fails the check
        out.append(paint(_RED, f"rollout policy: {len(result.violations)} violation(s)"))
        out.extend(escape(f"  {v.message} [{v.rule}]") for v in result.violations)
        out.append("")
    for deployment in result.deployments:
        where = deployment.config
        if deployment.status == "moved":
            where = f"{deployment.base_config} -> {deployment.head_config}"
        out.append(paint(_BOLD, f"{deployment.label}") + escape(f"  ({where})"))
        out.extend(escape(f"  * {s.text}") for s in deployment.sentences)
        for obj in deployment.objects:
            for index, line in enumerate(obj.text.splitlines()):
                if index < 2:  # the ---/+++ file headers
                    out.append(paint(_BOLD, line))
                elif line.startswith("@@"):
                    out.append(paint(_CYAN, line))
                elif line.startswith("+"):
                    out.append(paint(_GREEN, line))
                elif line.startswith("-"):
                    out.append(paint(_RED, line))
                else:
                    out.append(escape(line))
        out.append("")
    if not result.deployments:
        same = f" ({result.unchanged} re-rendered, identical)" if result.unchanged else ""
        out.append(escape(f"no deployment changes between {result.base} and {result.head}{same}"))
    else:
        out.append(escape(f"{result.base} -> {result.head}: {totals(result)}"))
    return "\n".join(out) + "\n"


# -- json ---------------------------------------------------------------------------------------

def format_json(result: DiffResult) -> str:
    return json_text(json_document(result))


def json_document(result: DiffResult) -> dict[str, Any]:
    return {
        "base": result.base,
        "head": result.head,
        "differences": result.has_differences,
        "unchanged": result.unchanged,
        "deployments": [_deployment_json(d) for d in result.deployments],
        "problems": [{"side": p.side, **p.diagnostic.as_dict()} for p in result.problems],
        "policy_violations": [v.as_dict() for v in result.violations],
    }


def _deployment_json(d: DeploymentDiff) -> dict[str, Any]:
    return {
        "env": d.env,
        "name": d.name,
        "status": d.status,
        "base_config": d.base_config,
        "head_config": d.head_config,
        "reasons": list(d.reasons),
        "base_invalid": d.base_invalid,
        "head_invalid": d.head_invalid,
        "summary": [{"rule": s.rule, "text": s.text} for s in d.sentences],
        "added_lines": d.added_lines,
        "removed_lines": d.removed_lines,
        "objects": [{"apiVersion": o.key.api_version, "kind": o.key.kind, "namespace": o.key.namespace,
                     "name": o.key.name, "status": o.status, "added_lines": o.added,
                     "removed_lines": o.removed, "diff": o.text} for o in d.objects],
    }


# -- markdown -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Block:
    """One deployment's diff in the comment, maybe cut to fit."""

    label: str
    config: str
    added: int
    removed: int
    body: str
    fence: str
    total_lines: int
    shown_lines: int
    command: str

    @property
    def cut(self) -> int:
        return self.total_lines - self.shown_lines


@lru_cache(maxsize=1)
def _template() -> jinja2.Template:
    import jinja2

    environment = jinja2.Environment(loader=jinja2.PackageLoader("modeldeploy.report", "templates"),
                                     autoescape=False, keep_trailing_newline=True, trim_blocks=True,
                                     lstrip_blocks=True, undefined=jinja2.StrictUndefined,
                                     finalize=_finalize)
    environment.filters["cell"] = _cell
    environment.filters["html"] = _html
    return environment.get_template("diff.md.j2")


class _EscapedLines(str):
    """Text whose lines are already escaped (a diff body): `_finalize` leaves it as it is."""


def _finalize(value: Any) -> Any:
    # Every {{ expression }} of the template is escaped (safe_output.py) as it is printed.
    return value if isinstance(value, _EscapedLines) or not isinstance(value, str) else escape(value)


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;")


def _cell(text: str) -> str:
    """Text safe inside a markdown table cell: no raw HTML, pipes or line breaks."""
    return _html(text).replace("|", "\\|").replace("\r", " ").replace("\n", " ")


def _fence(body: str) -> str:
    longest = run = 0
    for char in body:
        run = run + 1 if char == "`" else 0
        longest = max(longest, run)
    return "`" * max(3, longest + 1)


def _blocks(result: DiffResult, budget: int | None) -> list[_Block]:
    """Diff blocks; with a budget (bytes), the longest diffs are cut at line ends to fit it.

    Every deployment gets the same share of the budget and small diffs give back what
    they do not use, so each long diff still shows its beginning.
    """
    diffs = [(d, [escape(line) for line in "".join(o.text for o in d.objects).splitlines()])
             for d in result.deployments if d.objects]
    caps = _fair_shares([sum(len(line.encode("utf-8")) + 1 for line in lines) for _, lines in diffs], budget)
    blocks = []
    for (deployment, lines), cap in zip(diffs, caps, strict=True):
        shown = used = 0
        for line in lines:
            used += len(line.encode("utf-8")) + 1
            if used > cap:
                break
            shown += 1
        if shown < min(len(lines), _MIN_LINES_SHOWN):  # a header alone helps nobody
            shown = 0
        body = _EscapedLines("\n".join(lines[:shown]))
        blocks.append(_Block(deployment.label, deployment.config, deployment.added_lines,
                             deployment.removed_lines, body, _fence(body), len(lines), shown,
                             _show_command(result, deployment)))
    return blocks


def _fair_shares(sizes: list[int], budget: int | None) -> list[float]:
    """Per-item caps summing to at most `budget`: equal shares, unused parts passed on."""
    if budget is None:
        return [float("inf")] * len(sizes)
    caps = [0.0] * len(sizes)
    left, pending = float(budget), sorted(range(len(sizes)), key=lambda i: sizes[i])
    while pending:
        share = left / len(pending)
        index = pending.pop(0)
        caps[index] = min(sizes[index], share)
        left -= caps[index]
    return caps


def _render_markdown(result: DiffResult, blocks: list[_Block] | None) -> str:
    problems = result.problems
    return _template().render(
        marker=COMMENT_MARKER, result=result, blocks=blocks, totals=totals(result),
        problems=problems[:MAX_PROBLEMS_SHOWN], problems_hidden=max(0, len(problems) - MAX_PROBLEMS_SHOWN),
        limit=COMMENT_LIMIT,
    )


def _size(text: str) -> int:
    return len(text.encode("utf-8"))


def format_markdown(result: DiffResult, limit: int = COMMENT_LIMIT) -> str:
    full = _render_markdown(result, _blocks(result, None))
    if _size(full) <= limit:
        return full
    # What the comment needs besides diff lines: the summary, the problems, the notes.
    frame = _size(_render_markdown(result, _blocks(result, 0)))
    if frame > limit:  # the summary alone fills the comment: keep it whole, drop every diff
        return _render_markdown(result, None)
    budget = limit - frame
    while True:  # cutting only shortens the notes' numbers by a few bytes: one or two rounds
        text = _render_markdown(result, _blocks(result, budget))
        if _size(text) <= limit or budget == 0:
            return text
        budget = max(0, budget - (_size(text) - limit))
