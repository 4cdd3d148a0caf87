"""Developer and CI tasks. Run through ./noxw, which installs nox itself from its lock.

    ./noxw -s render          render every example into rendered/
    ./noxw -s tests           the test suite (Helm 4 and Helm 3) on each Python 3.10-3.13 found
    ./noxw -s tests-3.12      ... on one of them (`./noxw -l` lists them)
    ./noxw -s lint            ruff, mypy, import contracts; the GitHub Action and CI recipes
                              (schemas, zizmor)
    ./noxw -s build           build the sdist and wheel into dist/ (locked build tools) and check them
    ./noxw -s golden          rewrite golden files (then read them in the diff)
    ./noxw -s schemas         regenerate the KServe schemas, the chart's values.schema.json,
                              docs/config-reference.md and docs/rules.md
    ./noxw -s lock            refresh requirements/*.txt from requirements/*.in and pyproject.toml
                              (`-- --upgrade` or `-- --upgrade-package NAME` to move pins)
    ./noxw -s tests-latest    the tests against the newest releases pyproject.toml allows (no lock)
    ./noxw -s tests-lowest    the tests against the lowest versions it allows
    ./noxw -s ci              what .ci/run runs
    ./noxw -s fuzz-helm       validate against helm 4 and 3 on many generated configs (random seed)

Rules: every session installs from a lock with hashes (requirements/*.txt, written by
`./noxw -s lock` with the uv pinned in requirements/uv.txt), then the project itself with
--no-deps --no-build-isolation, so the locked setuptools builds it and nothing unpinned is
fetched. Only tests-latest and tests-lowest resolve versions, on purpose.
Pythons: whichever of 3.10-3.13 python-discovery finds (PATH, pyenv, uv; what nox itself
uses); a missing one is skipped. The other sessions run on the Python that runs nox.
"""

from __future__ import annotations

import os
import random
import shutil
import sys
from pathlib import Path

import nox
import platformdirs
from python_discovery import DiskCache, get_interpreter

nox.options.default_venv_backend = "venv"
nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = ["tests", "lint"]
# Skip the supported Pythons that are not installed (nox's default under CI is to fail);
# `ci` and `tests` check that at least one ran. Never download an interpreter.
nox.options.error_on_missing_interpreters = False
nox.options.download_python = "never"

SUPPORTED_PYTHONS = ("3.10", "3.11", "3.12", "3.13")
LOCK_PYTHON = "3.10"  # the locks are universal: valid from this Python up, on every platform
# Linters need 3.11+ (zizmor, import-linter, check-jsonschema): one set of versions everywhere.
LINT_PYTHONS = ("3.13", "3.12", "3.11")
# What `ci` runs on the newest Python when the full suite already ran on the oldest: every
# test file but the slowest end-to-end ones, which exercise helm, git and the CI recipes more
# than Python (about 40 % of the suite's time; README).
PARALLEL = ("-n", "auto")  # pytest-xdist: the suite is CPU-bound (helm, YAML, jsonschema)
CI_SUBSET_DESELECT = (
    "--deselect=tests/test_bad_configs.py",
    "--deselect=tests/test_precommit.py",
    "--deselect=tests/test_bench.py",
    "--deselect=tests/test_ci_reports.py",
    "--deselect=tests/test_ci_recipes.py",
    "--deselect=tests/test_gitops_workshop_cli.py",
)


def _found(version: str) -> bool:
    """Whether nox will find this Python: the same discovery and cache as nox's own."""
    try:
        cache = DiskCache(root=Path(platformdirs.user_cache_dir("nox")) / "python-discovery")
        return get_interpreter(version, cache=cache) is not None
    except OSError:  # an unwritable cache directory: discover without it
        return get_interpreter(version) is not None


FOUND_PYTHONS = [v for v in SUPPORTED_PYTHONS if _found(v)]
NOX_PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"
# `tests` is listed for every supported Python (missing ones are skipped) and, when none of
# them is installed, for the Python running nox, so it never passes having run nothing.
TEST_PYTHONS = list(SUPPORTED_PYTHONS) if FOUND_PYTHONS else [NOX_PYTHON]
OLDEST = FOUND_PYTHONS[0] if FOUND_PYTHONS else NOX_PYTHON
NEWEST = FOUND_PYTHONS[-1] if FOUND_PYTHONS else NOX_PYTHON
LINT_PYTHON = next((v for v in LINT_PYTHONS if v in FOUND_PYTHONS), None)


def install_locked(session: nox.Session, lock: str) -> None:
    """Install requirements/<lock>.txt exactly: every file checked against its hash, wheels only
    (an sdist would be built with unpinned build dependencies)."""
    session.install("--require-hashes", "--only-binary=:all:", "-r", f"requirements/{lock}.txt")


def install_project(session: nox.Session) -> None:
    # Non-editable: tests exercise the package as users get it, schemas included. No
    # dependencies (the lock has them) and no build isolation (the lock's setuptools builds it).
    # setuptools builds in build/ and keeps what an earlier build left there: a module since
    # moved or deleted would ship in the wheel again, so the folder goes first.
    shutil.rmtree("build", ignore_errors=True)
    session.install("--no-deps", "--no-build-isolation", ".")


def install_helm(session: nox.Session, major: str) -> None:
    session.run("modeldeploy", "install-helm", "--major", major)


def show_versions(session: nox.Session) -> None:
    session.run("python", "-m", "pip", "list", "--disable-pip-version-check", "--format=freeze",
                silent=False)


@nox.session(python=None)
def render(session: nox.Session) -> None:
    """Render every example config into rendered/<env>/<name>.yaml."""
    install_locked(session, "run")
    install_project(session)
    install_helm(session, "4")
    session.run("modeldeploy", "render", "model-deployments", "-o", "rendered", *session.posargs)
    session.log("rendered manifests are in rendered/")


@nox.session(python=TEST_PYTHONS)
def tests(session: nox.Session) -> None:
    """The test suite against Helm 4 and Helm 3, from the lock."""
    install_locked(session, "test")
    install_project(session)
    install_helm(session, "all")
    # one pytest-xdist worker per core unless told otherwise (`-- -p no:xdist` runs in one process)
    session.run("pytest", *(session.posargs or PARALLEL))


@nox.session(name="tests-latest", python=NEWEST, reuse_venv=False, default=False)
def tests_latest(session: nox.Session) -> None:
    """The tests against the newest releases pyproject.toml and requirements/test.in allow.

    No lock: a failure here that `tests` does not show is drift to fix (or to bound in
    pyproject.toml) before `./noxw -s lock -- --upgrade` takes it in."""
    session.install("--upgrade", "--upgrade-strategy=eager", ".", "-r", "requirements/test.in")
    show_versions(session)
    install_helm(session, "all")
    session.run("pytest", *(session.posargs or PARALLEL))


@nox.session(name="tests-lowest", python=OLDEST, reuse_venv=False, default=False)
def tests_lowest(session: nox.Session) -> None:
    """The tests against the lowest versions pyproject.toml and requirements/test.in allow
    (their direct dependencies; uv resolves them for this Python), setuptools included."""
    install_locked(session, "uv")
    # Not in session.create_tmp(): that sets TMPDIR inside this repo, where tests expecting
    # to run outside a git repository would find one.
    lowest = Path(session.bin).parent / "lowest-requirements.txt"
    session.run("uv", "pip", "compile", "--quiet", "--resolution=lowest-direct", "--generate-hashes",
                f"--python-version={session.python}", "--output-file", str(lowest),
                "pyproject.toml", "requirements/test.in")
    session.install("--require-hashes", "--only-binary=:all:", "-r", str(lowest))
    install_project(session)
    show_versions(session)
    install_helm(session, "all")
    session.run("pytest", *(session.posargs or PARALLEL))


@nox.session(python=None, name="fuzz-helm", default=False)
def fuzz_helm(session: nox.Session) -> None:
    """The differential test validate vs helm 4 and 3 (tests/test_helm_equivalence.py) on many
    more generated configs than `tests` runs, with a random seed; it prints the seed. Replay a run:
    MODELDEPLOY_FUZZ_SEED=N ./noxw -s fuzz-helm; more or fewer: MODELDEPLOY_FUZZ_EXAMPLES=N."""
    install_locked(session, "test")
    install_project(session)
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


@nox.session(python=None)
def golden(session: nox.Session) -> None:
    """Rewrite the golden files from the current chart and code; review them with git diff."""
    install_locked(session, "test")
    install_project(session)
    install_helm(session, "all")
    session.run("pytest", *session.posargs, env={"MODELDEPLOY_UPDATE_GOLDEN": "1"})
    session.log("golden files rewritten: read `git diff tests/golden` before committing")


@nox.session(python=LINT_PYTHON or NOX_PYTHON)
def lint(session: nox.Session) -> None:
    """ruff, mypy and the import contracts (lint-imports), with the tools of requirements/lint.txt."""
    if LINT_PYTHON is None:
        session.error(f"lint needs Python {LINT_PYTHONS[-1]} or newer (found: "
                      f"{', '.join(FOUND_PYTHONS) or 'none of ' + ', '.join(SUPPORTED_PYTHONS)})")
    install_locked(session, "lint")
    install_project(session)
    session.run("ruff", "check", "tool", "tests", "ci", "noxfile.py")
    session.run("mypy")
    # The layering contracts of pyproject.toml, over the source tree (a reused session venv may
    # still hold modules of an older install, which an exhaustive contract would count).
    session.run("lint-imports", "--no-cache", env={"PYTHONPATH": "tool"})
    # The GitHub Action and the CI recipes, offline: each against its vendored schema
    # (check-jsonschema ships them), then zizmor's strictest persona on the GitHub files.
    github_workflows = sorted(str(p) for p in Path("docs/ci").glob("github-*.yml"))
    gitlab_ci = sorted(str(p) for p in Path("docs/ci").glob("gitlab-*.yml"))
    session.run("check-jsonschema", "--builtin-schema", "vendor.github-actions", "action.yml")
    session.run("check-jsonschema", "--builtin-schema", "vendor.github-workflows", *github_workflows)
    session.run("check-jsonschema", "--builtin-schema", "vendor.gitlab-ci", *gitlab_ci)
    session.run("zizmor", "--offline", "--persona=auditor", "action.yml", *github_workflows)


@nox.session(python=None)
def build(session: nox.Session) -> None:
    """Build the sdist and wheel into dist/ with the locked build tools, then check them."""
    install_locked(session, "dist")
    session.run("python", "-m", "build", "--no-isolation", "--outdir", "dist", ".")
    session.run("python", "tool/scripts/check_dist.py", "dist")


@nox.session(python=None)
def schemas(session: nox.Session) -> None:
    """Regenerate every derived schema file, the config reference and the rules' documentation."""
    install_locked(session, "run")
    install_project(session)
    # The pinned wheels (sha256-checked) are cached where the tests find them too:
    # $MODELDEPLOY_CACHE or ~/.cache/modeldeploy, under kserve-schema-wheels/.
    session.run("python", "tool/scripts/generate_kserve_schemas.py", "--out", "schemas")
    session.run("python", "tool/scripts/sync_config_schema.py")
    session.run("python", "tool/scripts/rules_doc.py")  # docs/rules.md, the SARIF rule catalog


@nox.session(python=None)
def bench(session: nox.Session) -> None:
    """Time validate/render/diff on a synthetic repo of 1,000 deployments -> docs/benchmarks.md.

    Options after --, e.g. `./noxw -s bench -- --n 200 --repeat 5`."""
    install_locked(session, "run")
    install_project(session)
    install_helm(session, "4")
    session.run("python", "tool/scripts/bench.py", *session.posargs)


# (lock, its inputs, the oldest Python it serves, extra uv options), compiled in this order:
# test and lint are constrained to run.txt's pins, so all sessions get the same runtime
# dependencies. Universal: one lock serves every platform and Python from the one named.
LOCKS = (
    ("uv", ["requirements/uv.in"], LOCK_PYTHON, []),
    ("nox", ["requirements/nox.in"], LOCK_PYTHON, []),
    ("run", ["pyproject.toml", "requirements/build.in"], LOCK_PYTHON, []),
    ("test", ["pyproject.toml", "requirements/test.in"], LOCK_PYTHON, ["--constraint=requirements/run.txt"]),
    ("lint", ["pyproject.toml", "requirements/lint.in"], LINT_PYTHONS[-1],
     ["--constraint=requirements/run.txt"]),
    ("dist", ["requirements/dist.in"], LOCK_PYTHON, ["--constraint=requirements/run.txt"]),
)


@nox.session(python=None, default=False)
def lock(session: nox.Session) -> None:
    """Rewrite requirements/*.txt (hashes, universal markers) with the pinned uv.

    Pins already in a lock are kept unless asked: `./noxw -s lock -- --upgrade` (everything)
    or `-- --upgrade-package NAME`. Then run the tests and read the diff."""
    install_locked(session, "uv")
    for name, inputs, oldest_python, extra in LOCKS:
        session.run("uv", "pip", "compile", "--quiet", "--universal", "--generate-hashes",
                    f"--python-version={oldest_python}", *extra,
                    "--custom-compile-command=./noxw -s lock", f"--output-file=requirements/{name}.txt",
                    *inputs, *session.posargs)
    session.log("locks written: review `git diff requirements/`, then run ./noxw -s tests")


@nox.session(python=False, default=False)
def ci(session: nox.Session) -> None:
    """The full suite on the oldest Python found, the suite less its slowest end-to-end
    files on the newest, then lint (what .ci/run runs; about 9 minutes on 2 cores)."""
    if not FOUND_PYTHONS:
        session.error(f"none of Python {', '.join(SUPPORTED_PYTHONS)} found")
    session.log(f"Pythons found: {', '.join(FOUND_PYTHONS)}")
    session.notify(f"tests-{OLDEST}", posargs=[*PARALLEL, *session.posargs])
    if NEWEST != OLDEST:
        session.notify(f"tests-{NEWEST}", posargs=[*PARALLEL, *CI_SUBSET_DESELECT, *session.posargs])
    session.notify("lint")
