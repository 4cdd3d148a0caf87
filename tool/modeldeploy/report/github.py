"""GitHub Actions workflow commands: each diagnostic annotates the PR diff.

`::error file=F,line=L,col=C,title=RULE::MESSAGE`. Every field is first made one
printable line (safe_output.escape: control characters become visible escapes),
then escaped as the runner unescapes it (actions/runner ActionCommand.cs): `%`, CR
and LF in the message; `%`, CR, LF, `:` and `,` in properties. So no input can end
the command early, add a property or start a line of its own.
"""

from __future__ import annotations

from ..diagnostics import Diagnostic
from ..safe_output import escape


def _escape_data(text: str) -> str:
    return escape(text).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


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
            out.append(f"::{d.severity.value} {props}::{_escape_data(f'{d.message} [{d.rule}]')}\n")
        return "".join(out)
