"""Developer and CI tasks. Run through ./noxw, which installs nox itself.

    ./noxw -s render    render every example into rendered/
    ./noxw -s tests     the test suite, against Helm 4 and Helm 3
    ./noxw -s lint      ruff + mypy; the GitHub Action and CI recipes (schemas, zizmor)
    ./noxw -s golden    rewrite golden files (then read them in the diff)
    ./noxw -s build     build the sdist and wheel into dist/ (pinned build tools) and check them
    ./noxw -s schemas   regenerate the KServe schemas, the chart's values.schema.json
                        and docs/config-reference.md
"""

from __future__ import annotations

from pathlib import Path

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
    session.run("ruff", "check", "tool", "tests", "ci", "noxfile.py")
    session.run("mypy")
    # The GitHub Action and the CI recipes, offline: each against its vendored schema
    # (check-jsonschema ships them), then zizmor's strictest persona on the GitHub files.
    github_workflows = sorted(str(p) for p in Path("docs/ci").glob("github-*.yml"))
    gitlab_ci = sorted(str(p) for p in Path("docs/ci").glob("gitlab-*.yml"))
    session.run("check-jsonschema", "--builtin-schema", "vendor.github-actions", "action.yml")
    session.run("check-jsonschema", "--builtin-schema", "vendor.github-workflows", *github_workflows)
    session.run("check-jsonschema", "--builtin-schema", "vendor.gitlab-ci", *gitlab_ci)
    session.run("zizmor", "--offline", "--persona=auditor", "action.yml", *github_workflows)


@nox.session(python=PYTHON)
def build(session: nox.Session) -> None:
    """Build the sdist and wheel into dist/ with the pinned build tools, then check them."""
    session.install("-r", "requirements/build.txt")
    session.run("python", "-m", "build", "--no-isolation", "--outdir", "dist", ".")
    session.run("python", "tool/scripts/check_dist.py", "dist")


@nox.session(python=PYTHON)
def schemas(session: nox.Session) -> None:
    """Regenerate every derived schema file and the config reference."""
    install_project(session)
    # The pinned wheels (sha256-checked) are cached where the tests find them too:
    # $MODELDEPLOY_CACHE or ~/.cache/modeldeploy, under kserve-schema-wheels/.
    session.run("python", "tool/scripts/generate_kserve_schemas.py", "--out", "schemas")
    session.run("python", "tool/scripts/sync_config_schema.py")


@nox.session(python=PYTHON)
def bench(session: nox.Session) -> None:
    """Time validate/render/diff on a synthetic repo of 1,000 deployments -> docs/benchmarks.md.

    Options after --, e.g. `./noxw -s bench -- --n 200 --repeat 5`."""
    install_project(session)
    install_helm(session, "4")
    session.run("python", "tool/scripts/bench.py", *session.posargs)
