"""Reading a repository's rule settings: `.modeldeploy.yaml` at its root, and disable comments.

`.modeldeploy.yaml` (schema: schemas/settings.schema.json, generated from the rule registry):

    rules:
      mutable-tag: error        # a warning made an error
      directory-name: off       # never reported
      schema-unknown-key: warning
    chart_sources: ...          # where charts come from (config/chart_sources.py)

A severity is read as the text written (`off` stays `off`, not YAML 1.1's false). An unknown
rule id or severity is a usage error (exit 2) naming the file, line and column, with a
did-you-mean; so is `off` or `warning` for a rule that cannot be turned off or down, which
says why. A line of a config or environment.yaml may carry a comment

    version: latest  # modeldeploy: disable=mutable-tag,directory-name

which silences those rules on that line (a comment is a `#` at the start of a line or after a
blank; the scanner reads lines, not YAML, so such text inside a quoted value counts too). Rule id:
- `disable-comment`: a disable comment that names an unknown rule id (with a did-you-mean), a
  rule that cannot be disabled (it says why), or no rule id at all; it silences nothing.

The rules are passed in (the registry, rules/registry.py, sits above this package); applying
the settings to diagnostics is checks/settings.py's job.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from .. import schema_store
from ..diagnostics import Diagnostic, Rule, Severity, ToolError, closest, declared_in
from . import go_regex
from .chart_sources import ChartSources
from .schema_diagnostics import schema_diagnostics
from .yaml_loader import MAX_BYTES, load_yaml_file

if TYPE_CHECKING:  # jsonschema is imported when a document fails the fast path
    import jsonschema

_declare = declared_in(__doc__, __name__)
RULE_DISABLE_COMMENT = _declare("disable-comment")

SETTINGS_FILENAME = ".modeldeploy.yaml"
OFF = "off"
SEVERITIES = (Severity.ERROR.value, Severity.WARNING.value, OFF)
CANNOT_DISABLE = ("the finding means the file could not be read the way Helm reads it, or that nothing "
                  "can be rendered, so no other check ran")
# `# modeldeploy: ...` in a comment (at the line's start or after a blank), then what it says
_DIRECTIVE = re.compile(r"(?:^|\s)#\s*modeldeploy\s*:\s*(?P<body>[^\r\n#]*)", re.M)
_DISABLE = re.compile(r"disable\s*=\s*(?P<ids>[^\s,]+(?:\s*,\s*[^\s,]+)*)\s*")


@dataclass(frozen=True)
class RepositorySettings:
    """A repository's `.modeldeploy.yaml`: rule id -> its severity there (None: off)."""

    severities: Mapping[str, Severity | None]
    path: str | None = None  # the file, as shown; None: the repository has none
    chart_sources: ChartSources | None = None  # `chart_sources` (config/chart_sources.py), if any


NO_SETTINGS = RepositorySettings({})


def read_settings(path: Path, display: str, rules: Mapping[str, Rule],
                  anchor: Path | None = None) -> RepositorySettings:
    """The settings in `path`; a ToolError listing every problem (file:line:column: ...) otherwise.
    Relative chart source paths are read from `anchor` (default: the file's folder)."""
    loaded, problems = load_yaml_file(str(path), display)
    if loaded is None and all(d.rule == "yaml-empty" for d in problems):  # only comments: no settings
        return RepositorySettings({}, display)
    if loaded is None or problems:
        raise _settings_error(display, problems)
    entries = loaded.value.get("rules")
    written: dict[str, object] = {}
    fixed: list[Diagnostic] = []  # `off` or `warning` for a rule that cannot be turned off or down
    if isinstance(entries, dict):
        for rule_id, value in entries.items():
            node = loaded.nodes.get(("rules", rule_id))
            text = node.raw if node is not None and node.style is None and node.raw else value
            written[rule_id] = text  # `off` as written, not YAML 1.1's false
            rule = rules.get(rule_id)
            if rule is not None and not rule.can_disable and text in (Severity.WARNING.value, OFF):
                line, column = loaded.position(("rules", rule_id))
                how = "down" if text == Severity.WARNING.value else "off"
                fixed.append(RULE_DISABLE_COMMENT.at(display, line, column, (
                    f"`{rule_id}` cannot be turned {how}: {CANNOT_DISABLE}; remove this line")))
        loaded = replace(loaded, value={**loaded.value, "rules": written})
    owned = [("rules", rule_id) for rule_id, text in written.items()  # said better than by the schema
             if rule_id in rules and not rules[rule_id].can_disable and text in (Severity.WARNING.value, OFF)]
    problems = sorted([*fixed, *schema_diagnostics(loaded, _validator(), owned)])
    if problems:
        raise _settings_error(display, problems)
    severities = {rule_id: None if text == OFF else Severity(str(text)) for rule_id, text in written.items()}
    sources = ChartSources.read(loaded.value["chart_sources"], anchor or path.parent, display) \
        if "chart_sources" in loaded.value else None
    return RepositorySettings(severities, display, sources)


def _settings_error(display: str, problems: list[Diagnostic]) -> ToolError:
    listed = "; ".join(f"{d.path}:{d.line}:{d.column}: {d.message}" for d in problems[:5])
    more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
    return ToolError(f"{listed}{more} (the rule settings of {display}: docs/rules.md says how to write them)")


@lru_cache(maxsize=1)
def _validator() -> jsonschema.protocols.Validator:
    validator: jsonschema.protocols.Validator = go_regex.draft7_validator(
        schema_store.load(schema_store.SETTINGS_SCHEMA))
    return validator


@dataclass(frozen=True)
class DisableComments:
    """The disable comments of one file: line -> the rule ids silenced on it, and their problems."""

    lines: Mapping[int, frozenset[str]]
    problems: list[Diagnostic]


NO_COMMENTS = DisableComments({}, [])


def scan_disables(display: str, text: str | None, rules: Mapping[str, Rule]) -> DisableComments:
    """The `# modeldeploy: disable=...` comments of `text` (the file `display`)."""
    if text is None or "modeldeploy" not in text:
        return NO_COMMENTS
    lines: dict[int, frozenset[str]] = {}
    problems: list[Diagnostic] = []
    line_starts = [0, *(m.end() for m in re.finditer(r"\r\n|\r|\n", text))]
    for match in _DIRECTIVE.finditer(text):
        start = match.start("body")
        number = next(i for i in range(len(line_starts), 0, -1) if line_starts[i - 1] <= start)
        column = start - line_starts[number - 1] + 1
        disable = _DISABLE.fullmatch(match.group("body").strip())
        ids = [i.strip() for i in disable.group("ids").split(",")] if disable else []
        if not ids:
            problems.append(RULE_DISABLE_COMMENT.at(display, number, column, (
                "a modeldeploy comment must read `# modeldeploy: disable=RULE-ID[,RULE-ID]`; it silences "
                "nothing as written")))
            continue
        silenced = set()
        for rule_id in ids:
            rule = rules.get(rule_id)
            if rule is None:
                hint = closest(rule_id, rules)
                problems.append(RULE_DISABLE_COMMENT.at(display, number, column, (
                    f"unknown rule id `{rule_id}` in this disable comment; "
                    + (f"did you mean `{hint}`?" if hint else "docs/rules.md lists the rule ids"))))
            elif not rule.can_disable:
                problems.append(RULE_DISABLE_COMMENT.at(display, number, column, (
                    f"`{rule_id}` cannot be disabled: {CANNOT_DISABLE}; remove it from this comment")))
            else:
                silenced.add(rule_id)
        if silenced:
            lines[number] = lines.get(number, frozenset()) | silenced
    return DisableComments(lines, problems)


def comment_text(path: Path) -> str | None:
    """A file's text, to read its disable comments when the YAML loader could not load it
    (a syntax error): a regular file of at most MAX_BYTES in UTF-8, else None."""
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_BYTES:
            return None
        with open(path, "rb") as handle:
            return handle.read(MAX_BYTES).decode("utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return None
