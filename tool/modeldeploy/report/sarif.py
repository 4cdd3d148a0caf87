"""SARIF 2.1.0 (`--format sarif`), for GitHub code scanning (github/codeql-action/upload-sarif).

One run whose `tool.driver` is modeldeploy with every rule it can report, from the
rule catalog generated with docs/rules.md (rule_docs.json: summary, documentation,
default level; `helpUri` links the rule's section of docs/rules.md). Each diagnostic
is a result: `ruleId` and `ruleIndex`, `level` (error or warning), the message, the
file as a relative URI with `region.startLine`/`startColumn` (columns count Unicode
code points, as `columnKind` says), and a stable `partialFingerprints` entry so code
scanning keeps tracking a finding when lines above it move. Paths are as printed by
the other formats: run from the repository root, as code scanning expects.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any
from urllib.parse import quote

from .. import __version__
from ..diagnostics import Diagnostic, Severity
from .fingerprints import fingerprints

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
PROJECT_URL = "https://github.com/modeldeploy/modeldeploy"
RULES_DOC_URL = f"{PROJECT_URL}/blob/main/docs/rules.md"
FINGERPRINT_KEY = "modeldeploy/v1"


@lru_cache(maxsize=1)
def rule_catalog() -> dict[str, dict[str, str]]:
    from importlib import resources  # on use: only a SARIF report reads the rule docs

    text = resources.files(__package__).joinpath("rule_docs.json").read_text("utf-8")
    rules: dict[str, dict[str, str]] = json.loads(text)["rules"]
    return rules


def _descriptor(rule_id: str, entry: dict[str, str] | None) -> dict[str, Any]:
    help_uri = f"{RULES_DOC_URL}#{rule_id}"
    if entry is None:  # an id missing from the catalog still gets a valid descriptor
        return {"id": rule_id, "helpUri": help_uri, "shortDescription": {"text": rule_id}}
    return {
        "id": rule_id,
        "shortDescription": {"text": entry["summary"]},
        "fullDescription": {"text": entry["doc"]},
        "help": {"text": f"{entry['doc']}\n\n{help_uri}",
                 "markdown": f"{entry['doc']}\n\n[docs/rules.md: {rule_id}]({help_uri})"},
        "helpUri": help_uri,
        "defaultConfiguration": {"level": "warning" if entry["severity"] == "warning" else "error"},
        "properties": {"tags": ["modeldeploy"], "precision": "very-high"},
    }


def artifact_uri(path: str) -> str:
    """A relative path as a relative URI reference (forward slashes, percent-encoded);
    an absolute one as a file: URI."""
    if PureWindowsPath(path).is_absolute() and not path.startswith("/"):
        return PureWindowsPath(path).as_uri()
    if path.startswith("/"):
        return PurePosixPath(path).as_uri()
    return quote(path.replace("\\", "/"), safe="/")


class SarifReporter:
    name = "sarif"
    machine_readable = True

    def format(self, diagnostics: list[Diagnostic], files_checked: int) -> str:
        return self._log(diagnostics, None)

    def format_failure(self, exit_code: int, message: str) -> str:
        """A run that could not check anything (exit 2, 3): no results, and why, as SARIF says it."""
        notification = {"level": "error", "message": {"text": message}}
        return self._log([], {"executionSuccessful": False, "exitCode": exit_code,
                              "toolExecutionNotifications": [notification]})

    def _log(self, diagnostics: list[Diagnostic], invocation: dict[str, Any] | None) -> str:
        catalog = rule_catalog()
        rule_ids = sorted(catalog) + sorted({d.rule for d in diagnostics} - set(catalog))
        index = {rule_id: i for i, rule_id in enumerate(rule_ids)}
        results = [
            {
                "ruleId": d.rule,
                "ruleIndex": index[d.rule],
                "level": "error" if d.severity is Severity.ERROR else "warning",
                "message": {"text": d.message},
                "locations": [{"physicalLocation": {
                    "artifactLocation": {"uri": artifact_uri(d.path)},
                    "region": {"startLine": max(d.line, 1), "startColumn": max(d.column, 1)},
                }}],
                "partialFingerprints": {FINGERPRINT_KEY: fingerprint},
            }
            for d, fingerprint in zip(diagnostics, fingerprints(diagnostics), strict=True)
        ]
        log = {
            "$schema": SARIF_SCHEMA,
            "version": "2.1.0",
            "runs": [{
                "tool": {"driver": {
                    "name": "modeldeploy",
                    "version": __version__,
                    "semanticVersion": __version__,
                    "informationUri": PROJECT_URL,
                    "rules": [_descriptor(rule_id, catalog.get(rule_id)) for rule_id in rule_ids],
                }},
                "columnKind": "unicodeCodePoints",
                "results": results,
                **({"invocations": [invocation]} if invocation is not None else {}),
            }],
        }
        return json.dumps(log, indent=2, ensure_ascii=False) + "\n"
