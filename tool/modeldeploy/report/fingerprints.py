"""Stable fingerprints of diagnostics, for CI systems that track findings across runs.

GitLab compares Code Quality reports of the base and the merge request by fingerprint;
GitHub code scanning matches alerts across commits by SARIF partialFingerprints. A
fingerprint is the sha256 of the file, rule and message, not the line, so an edit
above a finding does not turn it into a new one; the n-th repeat of the same finding
in one file gets its own (unique within a report, stable while the file is unchanged).
"""

from __future__ import annotations

from collections import Counter

from ..diagnostics import Diagnostic


def fingerprints(diagnostics: list[Diagnostic]) -> list[str]:
    import hashlib  # on use: only the code-quality report needs it, every run imports this module

    seen: Counter[tuple[str, str, str]] = Counter()
    out = []
    for d in diagnostics:
        key = (d.path, d.rule, d.message)
        occurrence = seen[key]
        seen[key] += 1
        text = "\0".join((*key, str(occurrence)))
        out.append(hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest())
    return out
