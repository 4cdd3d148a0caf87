"""Text that is safe to print: every line a writer composes passes through `escape`.

What modeldeploy prints lands in terminals and CI job logs, and both act on some
text. A GitHub Actions runner runs a line that starts (after blanks) with `::` as a
workflow command, and `##[command]` anywhere in a line as a legacy one (Azure
Pipelines: `##vso[`, TeamCity: `##teamcity[`); terminals obey escape sequences; CR,
U+2028 and friends start a new line in some viewers. Paths, names and values come
from the user's files and folder names (a folder may be named
`x<newline>::error file=README.md::pwned`), so the writers (reporters, `status`,
`diff`, the rollout commands' output, the CLI's own messages) build each output
line, then pass the whole line through `escape`:

- every character that is not printable (C0 and C1 controls, DEL, line and
  paragraph separators, non-ASCII spaces, bidi and other format characters, lone
  surrogates from undecodable file names) becomes a visible escape: `\\n`, `\\x1b`,
  `\\u2028`; so one line stays one line and nothing invisible reaches the reader;
- a line that starts (after spaces) with `::` gets its first `:` written `\\x3a`;
- `##` followed by letters and `[` gets its second `#` written `\\x23`.

`escape` is idempotent and the identity on ordinary text. JSON output uses
`json_text`: `json.dumps` already escapes control characters; `##` before `[`
becomes `#\\u0023`, the same JSON value. The github reporter escapes its workflow
command fields with `escape` first, then as the runner expects.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

_WORKFLOW_COMMAND = re.compile(r"^( *):(?=:)")
_LEGACY_COMMAND = re.compile(r"(?<=#)#(?=[A-Za-z]*\[)")  # the second # of ##[ or ##vso[


def _visible(char: str) -> str:
    code = ord(char)
    if char in "\n\r\t":
        return {"\n": "\\n", "\r": "\\r", "\t": "\\t"}[char]
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def escape(line: str) -> str:
    """`line` as one safe line of output (see the module docstring)."""
    if line.isprintable() and "::" not in line and "##" not in line:
        return line
    if not line.isprintable():
        line = "".join(c if c.isprintable() else _visible(c) for c in line)
    line = _WORKFLOW_COMMAND.sub(r"\1\\x3a", line)
    return _LEGACY_COMMAND.sub(r"\\x23", line) if "##" in line else line


def escape_lines(lines: Iterable[str]) -> str:
    """Each of `lines` escaped and ended with a newline."""
    return "".join(escape(line) + "\n" for line in lines)


def escape_text(text: str) -> str:
    """Multi-line `text` (e.g. a traceback) with each of its lines escaped."""
    return "\n".join(escape(line) for line in text.split("\n"))


def json_text(document: Any) -> str:
    """`document` as indented JSON with a final newline, safe in a job log."""
    text = json.dumps(document, indent=2)
    return (_LEGACY_COMMAND.sub(r"\\u0023", text) if "##" in text else text) + "\n"
