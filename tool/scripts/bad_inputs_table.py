"""Generate docs/bad-inputs.md from the bad-config corpus: each input and what the user sees.

The corpus is tests/data/bad-configs/<case>/: a small GitOps tree
(`model-deployments/<env>/<name>/config.yaml`, sometimes an environment.yaml) and an
`expected.json`. Inputs too big or too binary to commit are described by a
`generate` recipe in expected.json and written at test time. This module is also the
corpus library for tests/test_bad_configs.py (loading, materialising, CLI arguments).

    python tool/scripts/bad_inputs_table.py            # rewrite docs/bad-inputs.md
    python tool/scripts/bad_inputs_table.py --check    # exit 1 if it is stale
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))  # run as a script or loaded by tests
from derived_files import main as generator_main

REPO_ROOT = Path(__file__).resolve().parents[2]
CORPUS = REPO_ROOT / "tests" / "data" / "bad-configs"
GOOD_CORPUS = REPO_ROOT / "tests" / "data" / "good-configs"
DOC = REPO_ROOT / "docs" / "bad-inputs.md"
SNIPPET_CHARS = 70


@dataclass(frozen=True)
class Case:
    name: str
    folder: Path
    expected: dict[str, Any]

    @property
    def title(self) -> str:
        return str(self.expected.get("title", self.name))

    @property
    def generate(self) -> dict[str, Any]:
        return dict(self.expected.get("generate") or {})

    def charts_root(self, workdir: Path) -> str:
        """--charts-root for this case: its own folder's charts/ when it has one, else the repo."""
        own = self.expected.get("charts_root")
        return str(workdir / own) if own else str(REPO_ROOT)


def load_cases(corpus: Path = CORPUS) -> list[Case]:
    return [Case(folder.name, folder, json.loads((folder / "expected.json").read_text("utf-8")))
            for folder in sorted(corpus.iterdir()) if (folder / "expected.json").is_file()]


def generated_bytes(recipe: dict[str, Any]) -> bytes:
    """The content a `generate` recipe describes: text (or latin1) + repeat * times + suffix."""
    if "latin1" in recipe:
        return str(recipe["latin1"]).encode("latin-1")
    unit, times = str(recipe.get("repeat", "")), int(recipe.get("times", 0))
    body = "".join(unit.replace("{i}", str(i)) for i in range(times)) if "{i}" in unit else unit * times
    return (str(recipe.get("text", "")) + body + str(recipe.get("suffix", ""))).encode("utf-8")


def materialize(case: Case, dest: Path) -> Path:
    """Copy the case into `dest` (a new folder) and write its generated files and symlinks."""
    shutil.copytree(case.folder, dest, symlinks=True, ignore=shutil.ignore_patterns("expected.json"))
    recipe = case.generate
    if "file" in recipe:
        target = dest / recipe["file"]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(generated_bytes(recipe))
    for link, points_to in (recipe.get("symlinks") or {}).items():
        (dest / link).parent.mkdir(parents=True, exist_ok=True)
        os.symlink(points_to.format(repo=REPO_ROOT), dest / link)
    if "fifo" in recipe:
        (dest / recipe["fifo"]).parent.mkdir(parents=True, exist_ok=True)
        os.mkfifo(dest / recipe["fifo"])
    return dest


def cli_args(case: Case, workdir: Path, command: str, fmt: str, strict: bool = False) -> list[str]:
    paths = list(case.expected.get("paths") or ["model-deployments"])
    args = [command, *paths, "--format", fmt, "--charts-root", case.charts_root(workdir)]
    return [*args, "--strict"] if strict else args


def scrub(text: str, workdir: Path) -> str:
    """Machine-specific paths out of the output, so the docs are the same everywhere."""
    return text.replace(str(workdir), "<case>").replace(str(REPO_ROOT), "<repo>")


def _shown(text: str) -> str:
    """One line of input as it would look in an editor, control characters made visible."""
    out = []
    for char in text:
        if char == "\t":
            out.append("\\t")
        elif not char.isprintable():
            out.append(repr(char)[1:-1])
        else:
            out.append(char)
    line = "".join(out)
    return line if len(line) <= SNIPPET_CHARS else line[:SNIPPET_CHARS] + "…"


def snippet(case: Case) -> str:
    """The input worth showing: the expected.json `snippet`, else the first diagnostic's line."""
    if "snippet" in case.expected:
        return str(case.expected["snippet"])
    first = case.expected["diagnostics"][0]
    path = case.folder / expected_path(case, first)
    generated = case.generate.get("file") == expected_path(case, first)
    data = generated_bytes(case.generate) if generated else path.read_bytes() if path.is_file() else b""
    text = data.decode("utf-8", errors="backslashreplace")
    lines = text.replace("\r\n", "\n").split("\n")  # not splitlines(): it breaks at U+2028 too
    if not text.strip():
        return "(empty file)" if not text else _shown(text.rstrip("\n"))
    index = min(int(first["line"]), len(lines)) - 1
    return _shown(lines[index])


def _only_config(case: Case) -> str:
    configs = sorted(p.relative_to(case.folder).as_posix() for p in case.folder.rglob("config.yaml"))
    for key in ("file", "fifo"):
        if key in case.generate:
            return str(case.generate[key])
    if len(configs) != 1:
        raise ValueError(f"{case.name}: diagnostics need a `path` (the case has {len(configs)} configs)")
    return configs[0]


def expected_path(case: Case, diagnostic: dict[str, Any]) -> str:
    return str(diagnostic.get("path") or _only_config(case))


def run_validate(case: Case, workdir: Path) -> tuple[int, str]:
    """`modeldeploy validate` on the materialised case, text format: (exit code, what it prints).

    stdout, then stderr: diagnostics are on stdout, an exit-2 error on stderr."""
    env = {k: v for k, v in os.environ.items() if k not in ("GITHUB_ACTIONS", "MODELDEPLOY_CHARTS_ROOT")}
    proc = subprocess.run([sys.executable, "-m", "modeldeploy", *cli_args(case, workdir, "validate", "text")],
                          cwd=workdir, env=env, capture_output=True, text=True, timeout=120, check=False)
    return proc.returncode, proc.stdout + proc.stderr


def _code(text: str) -> str:
    """A Markdown code span holding `text` (which may hold backticks), safe inside a table cell."""
    fence = "`"
    while fence in text:
        fence += "`"
    body = text.replace("|", "\\|")
    pad = " " if body.startswith("`") or body.endswith("`") else ""
    return f"{fence}{pad}{body}{pad}{fence}"


def render_table(outputs: dict[str, tuple[int, str]], cases: list[Case]) -> str:
    """docs/bad-inputs.md from (exit code, scrubbed stdout) per case name."""
    rows = ["| Case | Input | `modeldeploy validate` prints | Exit |", "|---|---|---|---|"]
    for case in cases:
        code, stdout = outputs[case.name]
        printed = "<br>".join(_code(line) for line in stdout.splitlines()) or "(nothing)"
        rows.append(f"| `{case.name}`<br>{case.title} | {_code(snippet(case))} | {printed} | {code} |")
    generated = ", ".join(f"`{case.name}`" for case in cases if case.generate)
    return HEADER + "\n".join(rows) + "\n" + FOOTER.format(generated=generated)


HEADER = """\
# Bad inputs: what you see

<!-- Generated by tool/scripts/bad_inputs_table.py from tests/data/bad-configs; do not edit.
     tests/test_bad_configs.py fails when this file is stale. -->

Every row is a case of the test corpus (`tests/data/bad-configs/<case>/`): the offending
input and the exact lines `modeldeploy validate` prints for it (`render` prints the same
lines on stderr, runs no `helm template`, and leaves stdout empty). Each line is
`path:line:column: severity: message [rule-id]`; look the rule id up in
[rules.md](rules.md). Exit codes: 0 clean (warnings only), 1 problems found, 2 usage or
environment error (one `modeldeploy: error:` line instead); with `--strict`, warnings exit 1
too. No input makes modeldeploy print a traceback (exit 3): the fuzz test in
`tests/test_fuzz_configs.py` holds it to that.

The YAML is read the way Helm reads values files (go-yaml v2, YAML 1.1), so `1234e56`,
`0123`, `1_000` and `off` are numbers and booleans unless quoted. Hostile inputs are
refused within fixed bounds (1 MiB per file, 4,096 characters per key or value, 64
levels of nesting, 10,000 values after aliases) in well under a second.
`<repo>` stands for the charts root, `<case>` for the case's folder.

"""

FOOTER = """
The inputs (or a symlink or FIFO) of {generated} are made at test time from the
`generate` recipe in their expected.json rather than committed: they are big, binary or
not files at all.
"""


def collect_outputs(cases: list[Case]) -> dict[str, tuple[int, str]]:
    outputs = {}
    with tempfile.TemporaryDirectory(prefix="bad-inputs-") as tmp:
        for case in cases:
            workdir = materialize(case, Path(tmp) / case.name)
            code, stdout = run_validate(case, workdir)
            outputs[case.name] = (code, scrub(stdout, workdir))
    return outputs


def main(argv: list[str] | None = None) -> int:
    def produce() -> dict[Path, str]:
        cases = load_cases()
        return {DOC: render_table(collect_outputs(cases), cases)}

    return generator_main(__doc__.splitlines()[0], produce,
                          "python tool/scripts/bad_inputs_table.py", argv)


if __name__ == "__main__":
    sys.exit(main())
