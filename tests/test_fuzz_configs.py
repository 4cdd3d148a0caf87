"""A small deterministic mutation fuzzer: no input file may crash `validate` or make it slow.

Valid configs (and environment files) are mutated 2,000 times with a fixed seed: bytes
flipped, inserted or deleted, YAML-significant tokens spliced in, lines duplicated,
swapped, re-indented or cut. Each mutant goes through the in-process `pipeline.validate`
exactly as the CLI runs it. An exception there would be exit code 3 (internal error) in
the CLI; the test fails on any, and prints the seed and the input to replay it.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import REPO_ROOT
from modeldeploy.commands import pipeline
from modeldeploy.diagnostics import Diagnostic

SEED = 20260917
MUTANTS = 2000
MAX_SECONDS_EACH = 1.0
MAX_SECONDS_TOTAL = 30.0  # ~2 s on an idle machine; generous for loaded CI runners

SEEDS = sorted({p.read_bytes() for p in [*REPO_ROOT.glob("model-deployments/*/*/config.yaml"),
                                          *REPO_ROOT.glob("tests/data/good-configs/*/*/*/*/config.yaml")]})
ENV_SEED = b"# settings\nnamespace: team-a-test\nproduction: false\n"
TOKENS = [
    b"\t", b"\x00", b"\xff", b"\xc3", b"\x07", b"\r", b"\n", b"\r\n", b" ", b"  ", b":", b": ", b"-", b"- ",
    b"{", b"}", b"[", b"]", b",", b"#", b"&a ", b"*a", b"&a [*a, *a]", b"!!binary ", b"!!str ", b"!!int ",
    b"!foo ", b"<<: ", b"---\n", b"...\n", b"? ", b"|", b">-", b'"', b"'", b"\\", b"%YAML 1.1\n",
    b"1234e56", b"0123", b"1_000", b"0x1F", b".inf", b"off", b"yes", b"~", b"null", b"", b"\xef\xbb\xbf",
    b"\xe2\x80\xa8", b"\xc2\x85", b'"\\u0000"', b"../", b"/etc", b"trafficPercent: ", b"canary:\n  ",
    b"name: ", b"chart_path: ", b"version: ", b"deployment_mode: RawDeployment\n", b"9" * 40, b"a" * 300,
]


def _flip(rng: random.Random, data: bytes) -> bytes:
    if not data:
        return bytes([rng.randrange(256)])
    i = rng.randrange(len(data))
    return data[:i] + bytes([data[i] ^ (1 << rng.randrange(8))]) + data[i + 1:]


def _insert_byte(rng: random.Random, data: bytes) -> bytes:
    i = rng.randrange(len(data) + 1)
    return data[:i] + bytes([rng.randrange(256)]) + data[i:]


def _delete_span(rng: random.Random, data: bytes) -> bytes:
    if not data:
        return data
    i = rng.randrange(len(data))
    return data[:i] + data[i + rng.randrange(1, 12):]


def _insert_token(rng: random.Random, data: bytes) -> bytes:
    i = rng.randrange(len(data) + 1)
    return data[:i] + rng.choice(TOKENS) + data[i:]


def _line_op(rng: random.Random, data: bytes) -> bytes:
    lines = data.split(b"\n")
    i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
    op = rng.randrange(6)
    if op == 0:
        lines.insert(j, lines[i])  # duplicate a line: duplicate keys
    elif op == 1:
        lines[i], lines[j] = lines[j], lines[i]
    elif op == 2:
        lines[i] = b"  " * rng.randrange(1, 4) + lines[i]  # indent
    elif op == 3:
        lines[i] = lines[i].lstrip()  # dedent
    elif op == 4:
        del lines[i]
    else:
        cut = rng.randrange(len(lines[i]) + 1)
        lines[i] = lines[i][:cut]  # truncate: a key with no value, an unclosed quote
    return b"\n".join(lines)


def _replace_value(rng: random.Random, data: bytes) -> bytes:
    lines = data.split(b"\n")
    i = rng.randrange(len(lines))
    if b": " in lines[i]:
        key = lines[i].split(b": ", 1)[0]
        lines[i] = key + b": " + rng.choice(TOKENS)
    return b"\n".join(lines)


MUTATIONS: list[Callable[[random.Random, bytes], bytes]] = [
    _flip, _insert_byte, _delete_span, _insert_token, _insert_token, _line_op, _line_op, _replace_value,
]


def mutate(rng: random.Random, data: bytes) -> bytes:
    for _ in range(rng.randrange(1, 5)):
        data = rng.choice(MUTATIONS)(rng, data)
    return data


def _well_formed(diagnostic: Diagnostic, lines: int) -> bool:
    return (diagnostic.line >= 1 and diagnostic.column >= 1 and diagnostic.line <= lines + 1
            and "\n" not in diagnostic.message and "\r" not in diagnostic.message
            and len(diagnostic.message) < 1000 and bool(diagnostic.rule))


def test_mutated_configs_never_crash_or_hang(tmp_path: Path) -> None:
    rng = random.Random(SEED)
    config = tmp_path / "model-deployments" / "test" / "jukebox" / "config.yaml"
    environment = config.parent.parent / "environment.yaml"
    config.parent.mkdir(parents=True)
    options = pipeline.Options(charts_root=REPO_ROOT)
    started = time.perf_counter()
    slowest = (0.0, b"")
    outcomes = {"clean": 0, "problems": 0}
    for number in range(MUTANTS):
        mutate_env = number % 10 == 9  # every tenth mutant breaks environment.yaml instead
        data = mutate(rng, ENV_SEED if mutate_env else rng.choice(SEEDS))
        (environment if mutate_env else config).write_bytes(data)
        if not mutate_env:
            environment.unlink(missing_ok=True)
        else:
            config.write_bytes(SEEDS[0])
        start = time.perf_counter()
        try:
            result = pipeline.validate(["model-deployments"], options, tmp_path)
        except Exception as exc:  # exit code 3 in the CLI
            pytest.fail(f"mutant {number} (seed {SEED}) raised {exc!r}; input: {data!r}")
        elapsed = time.perf_counter() - start
        slowest = max(slowest, (elapsed, data))
        assert elapsed < MAX_SECONDS_EACH, f"mutant {number} took {elapsed:.2f} s: {data!r}"
        lines = data.count(b"\n") + data.count(b"\r") + 1
        bad = [d for d in result.diagnostics if not _well_formed(d, lines)]
        assert not bad, f"mutant {number}: malformed diagnostics {bad} for {data!r}"
        outcomes["problems" if result.errors else "clean"] += 1
    total = time.perf_counter() - started
    print(f"{MUTANTS} mutants in {total:.1f} s, slowest {slowest[0] * 1000:.0f} ms; {outcomes}")
    assert outcomes["problems"] > MUTANTS // 2  # the mutations really do break things
    assert total < MAX_SECONDS_TOTAL
