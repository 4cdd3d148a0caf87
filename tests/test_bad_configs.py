"""The bad-config corpus through the real CLI: every class of bad input gets its rule id, line,
column and a fix hint, the same on `validate` and `render`, in text and JSON.

Cases live in tests/data/bad-configs/<case>/ (see tool/scripts/bad_inputs_table.py for the
layout and the `generate` recipes of inputs made at test time). All CLI runs happen once per
session, a few in parallel; the tests below only read their results.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
import time
import tracemalloc
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import REPO_ROOT, RunCli, helm_path
from modeldeploy.commands import pipeline


def _load_script(name: str) -> Any:
    spec = importlib.util.spec_from_file_location(name, REPO_ROOT / "tool" / "scripts" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


corpus = _load_script("bad_inputs_table")
rules_doc = _load_script("rules_doc")

CASES = corpus.load_cases()
CASE_IDS = [case.name for case in CASES]
COMMANDS = [("validate", "text"), ("validate", "json"), ("render", "text"), ("render", "json")]
TEXT_LINE = re.compile(r"^(?P<path>[^:]+):(?P<line>\d+):(?P<column>\d+): (?P<severity>error|warning): "
                       r"(?P<message>.*) \[(?P<rule>[a-z0-9-]+)\]$")
# What a message's last clause says to do: whole words, so `use` is not found in `because`.
FIX_HINT = re.compile(r"\b(?:quote|write|remove|delete|rename|add|did you mean|use|shorten|close|indent|"
                      r"line up|save|must|flatten|give|pin|belongs|keep|restore|name the|right file|"
                      r"replace)\b|\be\.g\. ")
HOSTILE = ["huge-file", "many-keys", "long-scalar", "deep-nesting", "alias-bomb", "alias-deep"]
MAX_SECONDS = 1.0
MAX_TRACED_BYTES = 100 * 1024 * 1024


def _cli_env(helm: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("GITHUB_ACTIONS", "HELM_BIN", "MODELDEPLOY_CHARTS_ROOT")}
    env["HELM_BIN"] = str(helm)
    return env


@pytest.fixture(scope="session")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str, str], Any]:
    """(case, command, format) -> (workdir, CompletedProcess), plus (case, "strict", "text")."""
    env = _cli_env(helm_path("4"))
    jobs = []
    for case in CASES:
        workdir = corpus.materialize(case, tmp_path_factory.mktemp("bad") / case.name)
        for command, fmt in COMMANDS:
            jobs.append(((case.name, command, fmt), workdir, corpus.cli_args(case, workdir, command, fmt)))
        if "strict_exit" in case.expected:
            jobs.append(((case.name, "strict", "text"), workdir,
                         corpus.cli_args(case, workdir, "validate", "text", strict=True)))

    def run(job: tuple[Any, Path, list[str]]) -> tuple[Any, Any]:
        key, workdir, args = job
        proc = subprocess.run([sys.executable, "-m", "modeldeploy", *args], cwd=workdir, env=env,
                              capture_output=True, text=True, timeout=120, check=False)
        return key, (workdir, proc)

    with ThreadPoolExecutor(max_workers=max(2, min(8, (os.cpu_count() or 2) * 2))) as pool:
        return dict(pool.map(run, jobs))


def _case(name: str) -> Any:
    return next(case for case in CASES if case.name == name)


def _check_diagnostics(case: Any, got: list[dict[str, Any]]) -> None:
    expected = case.expected["diagnostics"]
    summary = [(d["path"], d["line"], d["column"], d["rule"]) for d in got]
    wanted = [(corpus.expected_path(case, e), e["line"], e["column"], e["rule"]) for e in expected]
    assert summary == wanted, json.dumps(got, indent=1)[:3000]
    for diagnostic, want in zip(got, expected, strict=True):
        assert diagnostic["severity"] == want.get("severity", "error")
        assert want["message"] in diagnostic["message"], diagnostic["message"]


@pytest.mark.parametrize("name", CASE_IDS)
def test_validate_json(runs: dict, name: str) -> None:
    case = _case(name)
    _, proc = runs[(name, "validate", "json")]
    assert proc.returncode == case.expected["exit"], proc.stderr
    assert "Traceback" not in proc.stderr
    document = json.loads(proc.stdout)
    _check_diagnostics(case, document["diagnostics"])
    if "failure" in case.expected:  # exit 2: the same one document, with the failure in it
        assert case.expected["failure"] in document["failure"]["message"]
    assert document["errors"] == sum(d.get("severity", "error") == "error"
                                     for d in case.expected["diagnostics"])


@pytest.mark.parametrize("name", CASE_IDS)
def test_validate_text_is_one_sorted_line_per_diagnostic(runs: dict, name: str) -> None:
    case = _case(name)
    _, proc = runs[(name, "validate", "text")]
    assert proc.returncode == case.expected["exit"], proc.stderr
    if "failure" in case.expected:
        assert proc.stderr == f"modeldeploy: error: {case.expected['failure']}\n"
    lines = proc.stdout.splitlines()
    parsed = [TEXT_LINE.match(line) for line in lines]
    assert all(parsed), lines
    got = [{**m.groupdict(), "line": int(m["line"]), "column": int(m["column"])} for m in parsed if m]
    _check_diagnostics(case, got)
    keys = [(d["path"], d["line"], d["column"]) for d in got]
    assert keys == sorted(keys)
    # a fix hint: every message ends with what to do (its last `; ` clause), not only what is wrong
    for d in got:
        assert FIX_HINT.search(d["message"].rsplit("; ", 1)[-1]), d["message"]


@pytest.mark.parametrize("name", CASE_IDS)
def test_render_reports_the_same_and_prints_no_manifest(runs: dict, name: str) -> None:
    case = _case(name)
    for fmt in ("text", "json"):
        _, validate = runs[(name, "validate", fmt)]
        _, render = runs[(name, "render", fmt)]
        assert render.returncode == case.expected["exit"], render.stderr
        assert "Traceback" not in render.stderr
        failed_text = fmt == "text" and "failure" in case.expected
        if case.expected["exit"] != 0:
            assert render.stdout == "", "render must print no manifest when a config is invalid"
        else:  # warnings only: the manifests are rendered, the warnings still on stderr
            assert f"kind: {case.expected.get('renders', 'InferenceService')}" in render.stdout
        # render reports on stderr what validate reports on stdout (an exit 2 text message: on
        # stderr for both); in text, then its summary line, which starts as validate's (on stderr)
        if fmt == "text" and not failed_text:
            *report, summary = render.stderr.splitlines(keepends=True)
            assert "".join(report) == validate.stdout
            assert summary.startswith(validate.stderr.rstrip("\n")) and validate.stderr.count("\n") == 1
        else:
            assert render.stderr == (validate.stderr if failed_text else validate.stdout)


@pytest.mark.parametrize("name", [c.name for c in CASES if "strict_exit" in c.expected])
def test_strict_turns_warnings_into_failures(runs: dict, name: str) -> None:
    _, proc = runs[(name, "strict", "text")]
    assert proc.returncode == _case(name).expected["strict_exit"]


def test_github_format_annotates_the_same_positions(run_cli: RunCli, tmp_path: Path) -> None:
    case = _case("implicit-float-sha")
    workdir = corpus.materialize(case, tmp_path / case.name)
    proc = run_cli(corpus.cli_args(case, workdir, "validate", "github"), cwd=workdir)
    assert proc.returncode == 1
    assert proc.stdout.startswith("::error file=model-deployments/test/jukebox/config.yaml,line=3,col=10,"
                                  "title=yaml-implicit-type::`version: 1234e56` is read by Helm")


def test_corpus_covers_every_rule_id() -> None:
    """Each rule a config can break has a case (render-time rules are tested elsewhere)."""
    covered = {d["rule"] for case in CASES for d in case.expected["diagnostics"]}
    documented = {rule.id for rule in rules_doc.collect_rules() if rule.stage == "config"}
    # `schema` is the catch-all for schema keywords our schemas do not use yet.
    assert documented - covered - {"schema"} == set(), "add a bad-configs case for these rules"


# --- accepted inputs ------------------------------------------------------------------------

GOOD = sorted(p.name for p in corpus.GOOD_CORPUS.iterdir() if p.is_dir())


@pytest.mark.parametrize("name", GOOD)
def test_good_configs_validate_and_render(run_cli: RunCli, name: str) -> None:
    folder = corpus.GOOD_CORPUS / name
    args = ["model-deployments", "--charts-root", str(REPO_ROOT)]
    validate = run_cli(["validate", *args, "--strict"], cwd=folder)
    assert (validate.returncode, validate.stdout) == (0, ""), validate.stdout + validate.stderr
    render = run_cli(["render", *args], cwd=folder)
    assert render.returncode == 0, render.stderr
    isvc = next(d for d in yaml.safe_load_all(render.stdout) if d and d["kind"] == "InferenceService")
    config = yaml.safe_load((folder / "model-deployments/test/jukebox/config.yaml").read_text("utf-8-sig"))
    # The tag Helm rendered is the text written in the config: no 1.234e+59, no 83.
    assert isvc["spec"]["predictor"]["model"]["storageUri"].endswith(
        f"/{config['image_namespace']}/jukebox:{config['version']}")
    percent = (config.get("canary") or {}).get("trafficPercent")
    assert isvc["spec"]["predictor"].get("canaryTrafficPercent") == percent


# --- hostile input: bounded time and memory ---------------------------------------------------

def _validate_in_process(workdir: Path, case: Any) -> pipeline.RunResult:
    options = pipeline.Options(charts_root=Path(case.charts_root(workdir)))
    return pipeline.validate(["model-deployments"], options, workdir)


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_input_is_refused_fast_with_bounded_memory(tmp_path: Path, name: str) -> None:
    case = _case(name)
    workdir = corpus.materialize(case, tmp_path / name)
    start = time.perf_counter()
    result = _validate_in_process(workdir, case)
    elapsed = time.perf_counter() - start
    tracemalloc.start()
    try:
        _validate_in_process(workdir, case)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    print(f"{name}: {elapsed * 1000:.0f} ms, peak {peak / 1e6:.1f} MB traced")
    assert [d.rule for d in result.diagnostics] == ["yaml-limits"]
    assert elapsed < MAX_SECONDS
    assert peak < MAX_TRACED_BYTES


# Runs the CLI and, at exit, writes the process's own peak RSS (VmHWM of its memory map) to
# $PEAK_FILE. getrusage()/wait4() would not do: on Linux ru_maxrss keeps the high-water mark of
# the forking parent (pytest, 100+ MB) across exec.
PEAK_WRAPPER = """
import atexit, os, runpy, sys
def _peak():
    with open("/proc/self/status") as status:
        kb = next(line.split()[1] for line in status if line.startswith("VmHWM:"))
    with open(os.environ["PEAK_FILE"], "w") as out:
        out.write(kb)
atexit.register(_peak)
sys.argv = ["modeldeploy", *sys.argv[1:]]
runpy.run_module("modeldeploy", run_name="__main__", alter_sys=True)
"""


def _run_measured(args: list[str], cwd: Path, env: dict[str, str], out: Path) -> tuple[int, float, float]:
    """Run `modeldeploy ARGS`: (exit code, seconds, peak RSS of that process in MB)."""
    peak_file = out.with_suffix(".peak")
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", PEAK_WRAPPER, *args], cwd=cwd,
                          env={**env, "PEAK_FILE": str(peak_file)}, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, timeout=60, check=False)
    elapsed = time.perf_counter() - start
    out.write_bytes(proc.stdout)
    return proc.returncode, elapsed, int(peak_file.read_text()) / 1024


@pytest.mark.skipif(not Path("/proc/self/status").is_file(), reason="reads VmHWM from /proc")
def test_hostile_inputs_through_the_cli_stay_small(tmp_path: Path) -> None:
    """Time and peak RSS of a whole `modeldeploy validate` process (interpreter included) per
    hostile case, next to the same process on a valid config: hostile input adds only a few MB."""
    env = _cli_env(helm_path("4"))
    good = corpus.GOOD_CORPUS / "quoted-sha"
    _, _, baseline = _run_measured(["validate", "model-deployments", "--charts-root", str(REPO_ROOT)],
                                   good, env, tmp_path / "good.out")
    for name in HOSTILE:
        case = _case(name)
        workdir = corpus.materialize(case, tmp_path / name)
        code, elapsed, peak_mb = _run_measured(corpus.cli_args(case, workdir, "validate", "json"),
                                               workdir, env, tmp_path / f"{name}.out")
        print(f"{name}: CLI {elapsed:.2f} s, peak RSS {peak_mb:.0f} MB (valid config: {baseline:.0f} MB)")
        output = (tmp_path / f"{name}.out").read_text()
        assert code == 1, output
        assert json.loads(output)["diagnostics"][0]["rule"] == "yaml-limits"
        assert elapsed < 5
        assert peak_mb < min(baseline + 30, 100)


# --- generated docs are fresh ---------------------------------------------------------------

def test_bad_inputs_doc_is_fresh(runs: dict) -> None:
    outputs = {}
    for case in CASES:
        workdir, proc = runs[(case.name, "validate", "text")]
        outputs[case.name] = (proc.returncode, corpus.scrub(proc.stdout + proc.stderr, workdir))
    expected = corpus.render_table(outputs, CASES)
    assert corpus.DOC.read_text("utf-8") == expected, \
        "docs/bad-inputs.md is stale: run python tool/scripts/bad_inputs_table.py"


def test_rules_doc_is_fresh() -> None:
    assert rules_doc.DOC.read_text("utf-8") == rules_doc.render(), \
        "docs/rules.md is stale: run python tool/scripts/rules_doc.py"
