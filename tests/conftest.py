"""Shared test fixtures: the real helm binaries and a runner for the real CLI.

Both pinned helm builds (4 and 3) must be installed: `nox -s tests` does it with
`modeldeploy install-helm --major all`. A missing helm fails the tests instead of
skipping them, so a broken install step cannot hide behind skips.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import pytest

from modeldeploy.render import helm_install

# The render cache (render/cache.py) is off in the tests: many count on helm being run.
# tests/test_render_cache.py turns it on, in a folder of its own per test.
os.environ["MODELDEPLOY_RENDER_CACHE"] = "off"

REPO_ROOT = Path(__file__).resolve().parent.parent
HELM_MAJORS = ("4", "3")


def bench_module() -> Any:
    """tool/scripts/bench.py as a module (it is a script, not part of the package)."""
    script = REPO_ROOT / "tool" / "scripts" / "bench.py"
    spec = importlib.util.spec_from_file_location("modeldeploy_bench", script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("modeldeploy_bench", module)  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def helm_path(major: str) -> Path:
    path = helm_install.installed_path(major)
    if not helm_install.is_installed(major):
        pytest.fail(f"helm {helm_install.HELM_RELEASES[major].version} is not installed at {path}; "
                    "run the tests through `nox -s tests` (or `modeldeploy install-helm --major all`)")
    return path


@pytest.fixture(params=HELM_MAJORS, ids=lambda m: f"helm{m}")
def helm_bin(request: pytest.FixtureRequest) -> Path:
    """Each test using it runs once with Helm 4 and once with Helm 3."""
    return helm_path(request.param)


@pytest.fixture
def helm4() -> Path:
    return helm_path("4")


RunCli = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def run_cli(helm4: Path) -> RunCli:
    """Run the real `python -m modeldeploy` in a subprocess (real helm, no mocks)."""

    def run(args: Sequence[str], cwd: Path | str = REPO_ROOT, helm: Path | None = None,
            env: dict[str, str] | None = None, input: str | None = None, prefix: Sequence[str] = (),
            ) -> subprocess.CompletedProcess[str]:
        """`prefix`: a command the CLI runs under, e.g. UNPRIVILEGED."""
        full_env = {k: v for k, v in os.environ.items() if k not in ("GITHUB_ACTIONS", "HELM_BIN")}
        full_env["HELM_BIN"] = str(helm or helm4)
        full_env.update(env or {})
        return subprocess.run([*prefix, sys.executable, "-m", "modeldeploy", *args], cwd=cwd, env=full_env,
                              capture_output=True, text=True, timeout=300, input=input)

    return run


# Runs a command without the privilege to bypass file permissions, so that tests of
# unreadable and unwritable files hold when the suite runs as root (containers, CI):
# as root, setpriv (util-linux) drops CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH.
UNPRIVILEGED: tuple[str, ...] = () if os.geteuid() != 0 else (
    "setpriv", "--bounding-set=-dac_override,-dac_read_search", "--inh-caps=-dac_override,-dac_read_search")

ROLLOUT_FIXTURES = REPO_ROOT / "tests" / "data" / "rollout"


def make_gitops(root: Path, fixtures: Iterable[Path]) -> Path:
    """A git repo at root/gitops: a copy of charts/ and model-deployments/, plus each
    fixture file placed as model-deployments/test/<fixture stem>/config.yaml."""
    repo = root / "gitops"
    repo.mkdir()
    shutil.copytree(REPO_ROOT / "charts", repo / "charts")
    shutil.copytree(REPO_ROOT / "model-deployments", repo / "model-deployments")
    # Without the example's rollout policy: these repos test edits; test_rollout_policy.py the policy.
    for settings in (repo / "model-deployments").glob("*/environment.yaml"):
        text = settings.read_text(encoding="utf-8")
        settings.write_text(text[:text.find("\n# Rollout policy") + 1 or None], encoding="utf-8")
    for fixture in fixtures:
        target = repo / "model-deployments" / "test" / fixture.stem / "config.yaml"
        target.parent.mkdir()
        shutil.copyfile(fixture, target)
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    return repo
