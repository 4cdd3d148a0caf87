"""Benchmark modeldeploy on a synthetic GitOps monorepo (`nox -s bench`).

Generates a repo of N deployments over three environments in a temporary
folder (the repo's charts copied in, git init + commit), then measures, in one
run and with several repetitions each:

- `modeldeploy validate` of all N (the real CLI process, wall time incl. start-up);
- `modeldeploy render -o DIR` of all N;
- `modeldeploy diff --base HEAD~1 --format json` after 3 configs changed, and after a
  chart change (all N affected), when `modeldeploy diff` exists;
- the naive baseline: one `helm template` process per config, sequentially, plus an
  in-process jsonschema check of its output;

and the peak memory of each modeldeploy run. Prints a table and writes it to
docs/benchmarks.md (atomically).

    python tool/scripts/bench.py [--n 1000] [--repeat 3] [--output docs/benchmarks.md]
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
ENVIRONMENTS = (("dev", "team-a-dev", False), ("test", "team-a-test", False), ("prod", "team-a-prod", True))
CHART = "charts/model-deployment/music-transformer"
WORDS = ("jukebox", "melody", "chorus", "tempo", "groove", "riff", "lyric", "beat", "tune", "ballad",
         "sonata", "rhythm", "fugue", "anthem", "bridge", "verse")
TARGETS = {"validate": 1.0, "diff-3": 2.0}
TARGET_RATIO = 20.0
TARGET_RSS_MB = 500.0


# --- the synthetic repository ------------------------------------------------------------

def _version(rng: random.Random, index: int) -> str:
    """Model image tags: hex SHAs, some all-digit or number-like ones (quoted, as the rules demand)."""
    kind = index % 10
    if kind == 3:
        return f'"{rng.randrange(10**6, 10**7)}"'  # all digits: must be quoted
    if kind == 7:
        return f'"{rng.randrange(100, 999)}e{rng.randrange(10, 99)}"'  # reads as a float unquoted
    if kind == 9:
        return f'"0{rng.randrange(10**5, 10**6)}"'  # octal-looking
    # a plain SHA with a letter up front, so it stays text unquoted
    return rng.choice("abcdef") + "".join(rng.choice("0123456789abcdef") for _ in range(9))


def config_text(name: str, namespace: str, index: int, rng: random.Random) -> str:
    lines = ["---", f"chart_path: {CHART}", f"name: {name}", f"version: {_version(rng, index)}",
             "image_repository: image-registry.openshift-image-registry.svc:5000",
             f"image_namespace: {namespace}"]
    raw = index % 7 == 5
    if index % 3 == 0:
        lines.append("autoscaling: true")
    elif index % 3 == 1:
        lines.append("autoscaling: false")
    if raw:
        lines.append("deployment_mode: RawDeployment")
    elif index % 11 == 4:
        lines.append("deployment_mode: Serverless")
    if not raw:
        canary = index % 6
        if canary == 1:
            lines += ["canary:", "  trafficPercent: 20 # 20% to the latest revision"]
        elif canary == 2:
            lines += ["canary:", "  trafficPercent: 0"]
        elif canary == 3:
            lines += ["canary:", "  trafficPercent: 100"]
        elif canary == 4:
            lines.append("canary: {}")
    if index % 5 == 2:
        lines += ["resources:", "  requests:", '    cpu: "1"', "    memory: 2Gi",
                  "  limits:", '    cpu: "2"', "    memory: 4Gi"]
    return "\n".join(lines) + "\n"


def generate_repo(root: Path, n: int, seed: int = 5) -> list[Path]:
    """A GitOps repo with `n` deployments spread over three environments; returns config paths."""
    rng = random.Random(seed)
    shutil.copytree(REPO_ROOT / "charts", root / "charts")
    configs = []
    for env, namespace, production in ENVIRONMENTS:
        env_dir = root / "model-deployments" / env
        env_dir.mkdir(parents=True)
        (env_dir / "environment.yaml").write_text(
            f"namespace: {namespace}\nproduction: {'true' if production else 'false'}\n")
    for index in range(n):
        env, namespace, _ = ENVIRONMENTS[index % len(ENVIRONMENTS)]
        name = f"{WORDS[index % len(WORDS)]}-{index:05d}"
        path = root / "model-deployments" / env / name / "config.yaml"
        path.parent.mkdir(parents=True)
        path.write_text(config_text(name, namespace, index, rng))
        configs.append(path)
    _git(root, "init", "-q", "-b", "main")
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "synthetic gitops repo")
    return configs


def _git(root: Path, *args: str) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@example.com",
           "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@example.com"}
    subprocess.run(["git", *args], cwd=root, check=True, env=env, capture_output=True)
