"""Developer and CI tasks. Run through ./noxw, which installs nox itself.

    ./noxw -s render    render every example into rendered/
    ./noxw -s tests     the test suite, against Helm 4 and Helm 3
    ./noxw -s lint      ruff + mypy
    ./noxw -s golden    rewrite golden files (then read them in the diff)
    ./noxw -s schemas   regenerate the KServe schemas, the chart's values.schema.json
                        and docs/config-reference.md
    ./noxw -s fuzz-helm validate against helm 4 and 3 on many generated configs (random seed)
"""

from __future__ import annotations

import os
import random

import nox

nox.options.default_venv_backend = "venv"
nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = ["tests", "lint"]
nox.options.error_on_missing_interpreters = True

PYTHON = "3.11"


def install_project(session: nox.Session, *extra: str) -> None:
    # Non-editable: tests exercise the package as users get it, schemas included.
    session.install(".", *extra)


def install_helm(session: nox.Session, major: str) -> None:
    session.run("modeldeploy", "install-helm", "--major", major)


@nox.session(python=PYTHON)
def render(session: nox.Session) -> None:
    """Render every example config into rendered/<env>/<name>.yaml."""
    install_project(session)
    install_helm(session, "4")
    session.run("modeldeploy", "render", "model-deployments", "-o", "rendered", *session.posargs)
    session.log("rendered manifests are in rendered/")


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    install_project(session, "-r", "requirements/test.txt")
    install_helm(session, "all")
    session.run("pytest", *session.posargs)


@nox.session(python=PYTHON, name="fuzz-helm")
def fuzz_helm(session: nox.Session) -> None:
    """The differential test validate vs helm 4 and 3 (tests/test_helm_equivalence.py) on many
    more generated configs than `tests` runs, with a random seed; it prints the seed. Replay a run:
    MODELDEPLOY_FUZZ_SEED=N ./noxw -s fuzz-helm; more or fewer: MODELDEPLOY_FUZZ_EXAMPLES=N."""
    install_project(session, "-r", "requirements/test.txt")
    install_helm(session, "all")
    env = {
        "MODELDEPLOY_FUZZ_SEED": os.environ.get("MODELDEPLOY_FUZZ_SEED", str(random.randrange(2**32))),
        "MODELDEPLOY_FUZZ_EXAMPLES": os.environ.get("MODELDEPLOY_FUZZ_EXAMPLES", "4000"),
        "MODELDEPLOY_FUZZ_VALUES_RUNS": os.environ.get("MODELDEPLOY_FUZZ_VALUES_RUNS", "80"),
        "MODELDEPLOY_FUZZ_CHART_RUNS": os.environ.get("MODELDEPLOY_FUZZ_CHART_RUNS", "40"),
    }
    session.log(f"seed {env['MODELDEPLOY_FUZZ_SEED']}, {env['MODELDEPLOY_FUZZ_EXAMPLES']} configs")
    session.run("pytest", "tests/test_helm_equivalence.py", "-s", "-p", "no:cacheprovider", *session.posargs,
                env=env)


@nox.session(python=PYTHON)
def golden(session: nox.Session) -> None:
    """Rewrite the golden files from the current chart and code; review them with git diff."""
    install_project(session, "-r", "requirements/test.txt")
    install_helm(session, "all")
    session.run("pytest", *session.posargs, env={"MODELDEPLOY_UPDATE_GOLDEN": "1"})
    session.log("golden files rewritten: read `git diff tests/golden` before committing")


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    session.install("-r", "requirements/lint.txt")
    install_project(session)
    session.run("ruff", "check", "tool", "tests", "noxfile.py")
    session.run("mypy")


@nox.session(python=PYTHON)
def schemas(session: nox.Session) -> None:
    """Regenerate every derived schema file and the config reference."""
    install_project(session)
    session.run("python", "tool/scripts/generate_kserve_schemas.py", "--out", "schemas",
                "--wheel-dir", ".nox/kserve-wheels")
    session.run("python", "tool/scripts/sync_config_schema.py")


@nox.session(python=PYTHON)
def bench(session: nox.Session) -> None:
    """Time validate/render/diff on a synthetic repo of 1,000 deployments -> docs/benchmarks.md.

    Options after --, e.g. `./noxw -s bench -- --n 200 --repeat 5`."""
    install_project(session)
    install_helm(session, "4")
    session.run("python", "tool/scripts/bench.py", *session.posargs)
