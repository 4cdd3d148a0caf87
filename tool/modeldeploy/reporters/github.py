"""GitHub Actions workflow commands: each diagnostic annotates the PR diff.

`::error file=F,line=L,col=C,title=RULE::MESSAGE`; values are escaped as the
runner expects (%, CR and LF everywhere; `:` and `,` in properties).
"""

from __future__ import annotations

from ..diagnostics import Diagnostic


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


class GithubReporter:
    name = "github"
    machine_readable = False

    def format(self, diagnostics: list[Diagnostic], files_checked: int) -> str:
        out = []
        for d in diagnostics:
            props = (f"file={_escape_property(d.path)},line={d.line},col={d.column},"
                     f"title={_escape_property(d.rule)}")
            out.append(f"::{d.severity.value} {props}::{_escape_data(d.message)} [{d.rule}]\n")
        return "".join(out)
