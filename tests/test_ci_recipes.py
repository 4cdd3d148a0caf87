"""The GitHub Action (action.yml), the workflow recipe and the GitLab recipe, run for real.

A small runner executes the composite action's steps the way GitHub does (bash -eo pipefail,
GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, `${{ }}` expressions, continue-on-error) against a real
pull-request checkout and the real modeldeploy and helm, and talks to an in-memory GitHub
(or GitLab) API that paginates. Only two steps are simulated: actions/setup-python and the
pip install (no network in tests); the installed package is the one under test.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml

from conftest import REPO_ROOT
from modeldeploy.report import diff as diff_report
from test_diff import CHART, GIT_ENV, GitopsRepo, config_text

ACTION_FILE = REPO_ROOT / "action.yml"
WORKFLOW_FILE = REPO_ROOT / "docs" / "ci" / "github-actions-modeldeploy.yml"
GITLAB_FILE = REPO_ROOT / "docs" / "ci" / "gitlab-ci-modeldeploy.yml"
BIN_DIR = Path(sys.executable).parent  # where pip put the `modeldeploy` script
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")
REPOSITORY = "team-a/gitops"


def load_yaml(path: Path) -> dict[Any, Any]:
    loaded: dict[Any, Any] = yaml.safe_load(path.read_text())
    return loaded


# -- GitHub expressions: literals, contexts, == != && || ! ( ), a few functions ---------------------

_TOKEN = re.compile(r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>\d+)|(?P<op>==|!=|&&|\|\||!|\(|\)|,)"
                    r"|(?P<name>[A-Za-z_][\w.\-]*))")


def _truthy(value: Any) -> bool:
    return value not in (None, "", False, 0)


def _loose_equal(a: Any, b: Any) -> bool:
    if isinstance(a, str) and isinstance(b, str):
        return a.lower() == b.lower()
    def number(v: Any) -> float:
        if v is None or v == "":
            return 0.0
        try:
            return float(v)
        except (TypeError, ValueError):
            return float("nan")
    return number(a) == number(b)


class Expression:
    def __init__(self, text: str, contexts: dict[str, Any], functions: dict[str, Any]) -> None:
        self.tokens: list[tuple[str, str]] = []
        position = 0
        while position < len(text.rstrip()):
            match = _TOKEN.match(text, position)
            assert match and match.end() > position, f"cannot read {text[position:]!r}"
            kind = match.lastgroup
            assert kind is not None
            self.tokens.append((kind, match.group(kind)))
            position = match.end()
        self.contexts, self.functions, self.index = contexts, functions, 0

    def value(self) -> Any:
        result = self._or()
        assert self.index == len(self.tokens), f"unexpected {self.tokens[self.index:]}"
        return result

    def _peek(self) -> str | None:
        return self.tokens[self.index][1] if self.index < len(self.tokens) else None

    def _next(self) -> tuple[str, str]:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def _or(self) -> Any:
        left = self._and()
        while self._peek() == "||":
            self._next()
            right = self._and()
            left = left if _truthy(left) else right
        return left

    def _and(self) -> Any:
        left = self._not()
        while self._peek() == "&&":
            self._next()
            right = self._not()
            left = right if _truthy(left) else left
        return left

    def _not(self) -> Any:
        if self._peek() == "!":
            self._next()
            return not _truthy(self._not())
        return self._compare()

    def _compare(self) -> Any:
        left = self._primary()
        if self._peek() in ("==", "!="):
            op = self._next()[1]
            equal = _loose_equal(left, self._primary())
            return equal if op == "==" else not equal
        return left

    def _primary(self) -> Any:
        kind, text = self._next()
        if kind == "str":
            return text[1:-1].replace("''", "'")
        if kind == "num":
            return int(text)
        if text == "(":
            inner = self._or()
            assert self._next()[1] == ")"
            return inner
        assert kind == "name", text
        if self._peek() == "(":
            self._next()
            args = []
            while self._peek() != ")":
                args.append(self._or())
                if self._peek() == ",":
                    self._next()
            self._next()
            return self.functions[text](*args)
        root, *rest = text.split(".")
        assert root in self.contexts, f"unknown context {root!r} in {text!r}"
        value: Any = self.contexts[root]
        for key in rest:
            value = value.get(key) if isinstance(value, dict) else None
        return value


def evaluate(text: str, contexts: dict[str, Any], functions: dict[str, Any]) -> Any:
    return Expression(text, contexts, functions).value()


def interpolate(text: Any, contexts: dict[str, Any], functions: dict[str, Any]) -> str:
    def one(match: re.Match[str]) -> str:
        value = evaluate(match.group(1), contexts, functions)
        if isinstance(value, bool):
            return "true" if value else "false"
        return "" if value is None else str(value)
    if isinstance(text, bool):  # YAML true/false reach actions as the strings "true"/"false"
        return "true" if text else "false"
    return re.sub(r"\$\{\{(.*?)\}\}", one, str(text))


def condition(text: Any, contexts: dict[str, Any], functions: dict[str, Any]) -> bool:
    if text is None:
        return True
    bare = str(text).strip()
    inner = bare[3:-2] if bare.startswith("${{") and bare.endswith("}}") else bare
    return _truthy(evaluate(inner, contexts, functions))


# -- a runner for the composite action and the workflow's jobs -------------------------------------

@dataclass
class StepRun:
    name: str
    returncode: int
    output: str


@dataclass
class Runner:
    workspace: Path
    runner_temp: Path
    github: dict[str, Any]
    env: dict[str, str]
    steps: list[StepRun] = field(default_factory=list)
    uploads: list[Path] = field(default_factory=list)

    def functions(self, failed: bool) -> dict[str, Any]:
        return {"always": lambda: True, "cancelled": lambda: False, "success": lambda: not failed,
                "failure": lambda: failed,
                "hashFiles": lambda pattern: hashlib.sha256(p.read_bytes()).hexdigest()
                if (p := self.workspace / pattern).is_file() else ""}

    def run_script(self, name: str, script: str, env: dict[str, str],
                   cwd: Path) -> tuple[int, str, dict[str, str]]:
        outputs_file = self.runner_temp / f"output-{len(self.steps)}"
        outputs_file.write_text("")
        script_file = self.runner_temp / f"step-{len(self.steps)}.sh"
        script_file.write_text(script)
        full_env = {**self.env, **env, "GITHUB_OUTPUT": str(outputs_file)}
        proc = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script_file)], cwd=cwd,
                              env=full_env, capture_output=True, text=True, timeout=300, check=False)
        outputs = dict(line.split("=", 1) for line in outputs_file.read_text().splitlines() if "=" in line)
        self.steps.append(StepRun(name, proc.returncode, proc.stdout + proc.stderr))
        return proc.returncode, proc.stdout + proc.stderr, outputs

    def run_action(self, given: dict[str, str], job_env: dict[str, str]) -> tuple[bool, dict[str, str]]:
        """Run action.yml's steps; (succeeded, the action's outputs)."""
        action = load_yaml(ACTION_FILE)
        undeclared = set(given) - set(action["inputs"])
        assert not undeclared, f"inputs the action does not declare: {undeclared}"
        contexts: dict[str, Any] = {"github": self.github, "runner": {"temp": str(self.runner_temp)},
                                    "env": job_env, "steps": {}, "inputs": {}}
        for name, spec in action["inputs"].items():
            contexts["inputs"][name] = given[name] if name in given else \
                interpolate(spec.get("default", ""), contexts, self.functions(False))
        failed = False
        for step in action["runs"]["steps"]:
            functions = self.functions(failed)
            if (failed and "if" not in step) or not condition(step.get("if"), contexts, functions):
                continue
            step_id = step.get("id", f"step{len(self.steps)}")
            if "uses" in step:
                assert step["uses"].startswith("actions/setup-python@"), step["uses"]
                assert step["with"]["update-environment"] is False  # leaves the job's Python alone
                contexts["steps"][step_id] = {"outputs": {"python-path": sys.executable}}
                continue
            if step_id == "install":  # pip install of the action's checkout: the package under test
                assert "ACTION_PATH" in step["run"] and "pip install" in step["run"]
                outputs = {"modeldeploy": str(BIN_DIR / "modeldeploy"), "python": sys.executable}
                contexts["steps"][step_id] = {"outputs": outputs}
                continue
            env = {k: interpolate(v, contexts, functions) for k, v in step.get("env", {}).items()}
            cwd = self.workspace / interpolate(step.get("working-directory", "."), contexts, functions)
            name = step.get("name", step_id)
            code, _, outputs = self.run_script(name, step["run"], {**job_env, **env}, cwd)
            contexts["steps"][step_id] = {"outputs": outputs}
            if code != 0 and not step.get("continue-on-error"):
                failed = True
        values = {name: interpolate(spec["value"], contexts, self.functions(failed))
                  for name, spec in action["outputs"].items()}
        return not failed, values

    def job_runs(self, workflow: dict[Any, Any], job_id: str) -> bool:
        contexts = {"github": self.github, "secrets": {}, "env": {}}
        return condition(workflow["jobs"][job_id].get("if"), contexts, self.functions(False))

    def run_job(self, workflow: dict[Any, Any], job_id: str,
                secrets: dict[str, str] | None = None) -> bool | None:
        """Run one job of the workflow recipe; None when its `if` skips it."""
        job = workflow["jobs"][job_id]
        base = {"github": self.github, "secrets": secrets or {}, "env": {}}
        if not condition(job.get("if"), base, self.functions(False)):
            return None
        job_env = {k: interpolate(v, base, self.functions(False)) for k, v in job.get("env", {}).items()}
        contexts = {**base, "env": job_env, "steps": {}}
        failed = False
        for step in job["steps"]:
            functions = self.functions(failed)
            if (failed and "if" not in step) or not condition(step.get("if"), contexts, functions):
                continue
            uses = step["uses"]
            inputs = {k: interpolate(v, contexts, functions) for k, v in step.get("with", {}).items()}
            if uses.startswith("actions/checkout@"):
                assert inputs["persist-credentials"] == "false"
                assert (self.workspace / inputs.get("path", ".")).is_dir(), f"{inputs}: prepare the checkout"
            elif uses.startswith("modeldeploy/modeldeploy@"):
                ok, outputs = self.run_action(inputs, job_env)
                contexts["steps"][step.get("id", "modeldeploy")] = {"outputs": outputs}
                failed = failed or not ok
            elif uses.startswith("github/codeql-action/upload-sarif@"):
                self.uploads.append(self.workspace / inputs["sarif_file"])
            else:
                raise AssertionError(f"the recipe uses an action the runner does not know: {uses}")
        return not failed


# -- an in-memory GitHub: issue comments, 100 a page ---------------------------------------------

class _FakeGitHub(BaseHTTPRequestHandler):
    comments: ClassVar[list[dict[str, Any]]] = []
    calls: ClassVar[list[str]] = []
    read_only: ClassVar[bool] = False

    def _reply(self, status: int, payload: Any, link: str | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if link:
            self.send_header("Link", link)
        self.end_headers()
        self.wfile.write(data)

    def _authorized(self) -> bool:
        if self.headers["Authorization"] != "Bearer test-token":
            self._reply(401, {"message": "Bad credentials"})
            return False
        return True

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        page, per_page = int(query.get("page", ["1"])[0]), int(query.get("per_page", ["30"])[0])
        self.calls.append(f"GET {url.path} page={page}")
        if not self._authorized():
            return
        start = (page - 1) * per_page
        link = None
        if start + per_page < len(self.comments):
            host = f"http://{self.headers['Host']}"
            link = f'<{host}{url.path}?per_page={per_page}&page={page + 1}>; rel="next"'
        self._reply(200, self.comments[start:start + per_page], link)

    def _body(self) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        return loaded

    def do_POST(self) -> None:
        self.calls.append(f"POST {self.path}")
        if not self._authorized():
            return
        if self.read_only:
            self._reply(403, {"message": "Resource not accessible by integration"})
            return
        comment = {"id": 1000 + len(self.comments), "body": self._body()["body"],
                   "html_url": f"https://github.example/{REPOSITORY}/pull/7#c{len(self.comments)}"}
        self.comments.append(comment)
        self._reply(201, comment)

    def do_PATCH(self) -> None:
        self.calls.append(f"PATCH {self.path}")
        if not self._authorized():
            return
        comment = next(c for c in self.comments if c["id"] == int(self.path.rsplit("/", 1)[1]))
        comment["body"] = self._body()["body"]
        self._reply(200, comment)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def fake_github() -> Iterator[type[_FakeGitHub]]:
    _FakeGitHub.comments = [{"id": i, "body": f"an unrelated comment {i}", "html_url": ""}
                            for i in range(150)]
    _FakeGitHub.calls, _FakeGitHub.read_only = [], False
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeGitHub)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _FakeGitHub.url = f"http://127.0.0.1:{server.server_address[1]}"  # type: ignore[attr-defined]
    yield _FakeGitHub
    server.shutdown()


def pr_workspace(tmp_path: Path, charts: bool = True, head_config: str | None = None) -> Path:
    """A workspace whose gitops/ is a clone with origin/main and one PR commit (canary 20 -> 50)."""
    upstream = GitopsRepo.create(tmp_path / "upstream", {"test/jukebox": config_text("jukebox", canary=20)},
                                 charts=charts)
    clone = tmp_path / "workspace" / "gitops"
    subprocess.run(["git", "clone", "--quiet", str(upstream.root), str(clone)], check=True,
                   env={**os.environ, **GIT_ENV})
    checkout = GitopsRepo(clone)
    checkout.config("test/jukebox", head_config or config_text("jukebox", canary=50))
    checkout.commit("canary 50")
    return clone.parent


def make_runner(workspace: Path, api_url: str, head_repository: str = REPOSITORY,
                event: str = "pull_request") -> Runner:
    runner_temp = workspace.parent / "runner-temp"
    runner_temp.mkdir(exist_ok=True)
    summary = runner_temp / "step-summary.md"
    summary.touch()
    pull_request = {"number": 7, "head": {"repo": {"full_name": head_repository}}}
    is_pr = event == "pull_request"
    github = {"action_path": str(REPO_ROOT), "token": "test-token", "repository": REPOSITORY,
              "event_name": event, "ref": "refs/pull/7/merge" if is_pr else "refs/heads/main",
              "base_ref": "main" if is_pr else "", "workspace": str(workspace),
              "event": {"pull_request": pull_request} if is_pr else {}}
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("GITHUB_") and k not in ("HELM_BIN", "MODELDEPLOY_CHARTS_ROOT", "CI")}
    env.update({**GIT_ENV, "PATH": f"{BIN_DIR}{os.pathsep}{os.environ['PATH']}", "CI": "true",
                "GITHUB_ACTIONS": "true", "RUNNER_TEMP": str(runner_temp),
                "GITHUB_WORKSPACE": str(workspace), "GITHUB_STEP_SUMMARY": str(summary),
                "GITHUB_API_URL": api_url, "GITHUB_REPOSITORY": REPOSITORY, "GITHUB_EVENT_NAME": event,
                "GITHUB_ACTION_PATH": str(REPO_ROOT)})
    return Runner(workspace, runner_temp, github, env)


def comments_with_marker(fake: type[_FakeGitHub]) -> list[dict[str, Any]]:
    return [c for c in fake.comments if c["body"].startswith(diff_report.COMMENT_MARKER)]


# -- the action ----------------------------------------------------------------------------------

def test_action_comments_once_then_updates_in_place_across_pages(tmp_path: Path, helm4: Path,
                                                                 fake_github: Any) -> None:
    workspace = pr_workspace(tmp_path)
    runner = make_runner(workspace, fake_github.url)
    ok, outputs = runner.run_action({"working-directory": "gitops"}, {})
    assert ok, runner.steps
    assert outputs["validate-exit-code"] == "0" and outputs["diff-exit-code"] == "0"
    (comment,) = comments_with_marker(fake_github)
    assert "| jukebox | test | canary traffic 20% -> 50%" in comment["body"]
    comments_path = f"/repos/{REPOSITORY}/issues/7/comments"
    assert fake_github.calls == [f"GET {comments_path} page=1", f"GET {comments_path} page=2",
                                 f"POST {comments_path}"]
    assert "canary traffic 20% -> 50%" in (runner.runner_temp / "step-summary.md").read_text()

    # the next push: the comment (now on page 2) is found and edited, not duplicated
    GitopsRepo(workspace / "gitops").config("test/jukebox", config_text("jukebox", canary=60))
    fake_github.calls.clear()
    ok, _ = make_runner(workspace, fake_github.url).run_action({"working-directory": "gitops"}, {})
    assert ok
    assert fake_github.calls == [f"GET {comments_path} page=1", f"GET {comments_path} page=2",
                                 f"PATCH /repos/{REPOSITORY}/issues/comments/{comment['id']}"]
    (comment,) = comments_with_marker(fake_github)
    assert "canary traffic 20% -> 60%" in comment["body"]

    # the same text again: nothing is written
    fake_github.calls.clear()
    ok, _ = make_runner(workspace, fake_github.url).run_action({"working-directory": "gitops"}, {})
    assert ok and [call for call in fake_github.calls if not call.startswith("GET")] == []
    # read-only: the only change in the checkout is the test's own edit
    status = GitopsRepo(workspace / "gitops").git("status", "--porcelain")
    assert status == " M model-deployments/test/jukebox/config.yaml\n"


@pytest.mark.parametrize("valid", [True, False], ids=["valid", "invalid"])
def test_action_on_a_fork_skips_the_comment_and_decides_on_the_configs(tmp_path: Path, helm4: Path,
                                                                       fake_github: Any, valid: bool) -> None:
    head = None if valid else config_text("jukebox", version="1234e56", canary=50)
    workspace = pr_workspace(tmp_path, head_config=head)
    runner = make_runner(workspace, fake_github.url, head_repository="someone/gitops-fork")
    ok, outputs = runner.run_action({"working-directory": "gitops"}, {})
    assert ok is valid
    assert fake_github.calls == []  # a fork's token is read-only: not even a read
    (comment_step,) = [s for s in runner.steps if s.name == "Post or update the pull-request comment"]
    assert comment_step.returncode == 0
    assert "::notice title=modeldeploy::pull request from the fork someone/gitops-fork" in comment_step.output
    summary = (runner.runner_temp / "step-summary.md").read_text()
    assert summary.startswith(diff_report.COMMENT_MARKER)
    if not valid:
        assert outputs["validate-exit-code"] == "1"
        assert "::error file=model-deployments/test/jukebox/config.yaml,line=4" in runner.steps[1].output


def test_action_with_a_read_only_token_warns_and_still_passes(tmp_path: Path, helm4: Path,
                                                              fake_github: Any) -> None:
    fake_github.read_only = True
    runner = make_runner(pr_workspace(tmp_path), fake_github.url)
    ok, _ = runner.run_action({"working-directory": "gitops"}, {})
    assert ok
    (comment_step,) = [s for s in runner.steps if s.name == "Post or update the pull-request comment"]
    assert comment_step.returncode == 1  # continue-on-error: visible, but not the check's verdict
    assert "::warning title=modeldeploy::the diff comment was not posted" in comment_step.output
    assert "pull-requests: write" in comment_step.output


def test_action_posts_the_comment_then_fails_on_an_invalid_config(tmp_path: Path, helm4: Path,
                                                                  fake_github: Any) -> None:
    head = config_text("jukebox", version="1234e56", canary=50)
    runner = make_runner(pr_workspace(tmp_path, head_config=head), fake_github.url)
    ok, outputs = runner.run_action({"working-directory": "gitops", "helm": "path"}, {"HELM_BIN": str(helm4)})
    assert not ok
    assert outputs["validate-exit-code"] == "1" and outputs["diff-exit-code"] == "1"
    (comment,) = comments_with_marker(fake_github)
    assert "yaml-implicit-type" in comment["body"]
    assert "problems found (validate exit 1, diff exit 1)" in runner.steps[-1].output


def test_action_reports_a_diff_that_cannot_run_in_the_comment(tmp_path: Path, helm4: Path,
                                                              fake_github: Any) -> None:
    runner = make_runner(pr_workspace(tmp_path), fake_github.url)
    ok, outputs = runner.run_action({"working-directory": "gitops", "base": "origin/no-such-branch"}, {})
    assert not ok and outputs["diff-exit-code"] == "2"
    (comment,) = comments_with_marker(fake_github)
    assert "The diff could not run (exit 2)" in comment["body"]


def test_action_outside_pull_requests_validates_and_writes_sarif(tmp_path: Path, helm4: Path,
                                                                 fake_github: Any) -> None:
    workspace = pr_workspace(tmp_path)
    runner = make_runner(workspace, fake_github.url, event="push")
    ok, outputs = runner.run_action({"working-directory": "gitops", "sarif-file": "../out.sarif",
                                     "paths": "model-deployments/test\n\n"
                                              "model-deployments/test/jukebox/config.yaml\n"}, {})
    assert ok and outputs["diff-exit-code"] == ""
    assert fake_github.calls == []
    log = json.loads((workspace / "out.sarif").read_text())
    assert log["version"] == "2.1.0" and log["runs"][0]["results"] == []


def test_action_installs_a_pinned_helm_version(tmp_path: Path, helm4: Path, fake_github: Any) -> None:
    runner = make_runner(pr_workspace(tmp_path), fake_github.url)
    ok, _ = runner.run_action({"working-directory": "gitops", "helm": "3", "comment": "false"}, {})
    assert ok
    (helm_step,) = [s for s in runner.steps if s.name == "Install helm"]
    assert "v3.18.0" in helm_step.output
    assert fake_github.calls == []


# -- the workflow recipe -------------------------------------------------------------------------

@pytest.mark.parametrize("charts_elsewhere", [False, True], ids=["charts-in-repo", "charts-repo"])
def test_workflow_recipe_runs_the_action(tmp_path: Path, helm4: Path, fake_github: Any,
                                         charts_elsewhere: bool) -> None:
    workflow = load_yaml(WORKFLOW_FILE)
    workspace = pr_workspace(tmp_path, charts=not charts_elsewhere)
    if charts_elsewhere:
        shutil.copytree(REPO_ROOT / CHART, workspace / "charts-repo" / CHART)
        workflow["jobs"]["modeldeploy"]["env"]["CHARTS_REPOSITORY"] = "example/model-charts"
    runner = make_runner(workspace, fake_github.url)
    assert runner.run_job(workflow, "modeldeploy") is True, runner.steps
    (comment,) = comments_with_marker(fake_github)
    assert "| jukebox | test | canary traffic 20% -> 50%" in comment["body"]
    assert "Base `origin/main`" in comment["body"]
    assert GitopsRepo(workspace / "gitops").git("status", "--porcelain") == ""
    # code scanning: pull requests of the repository itself, not of forks
    assert runner.job_runs(workflow, "code-scanning")
    assert not make_runner(workspace, fake_github.url, head_repository="someone/fork").job_runs(
        workflow, "code-scanning")


def test_workflow_recipe_uploads_sarif_on_push(tmp_path: Path, helm4: Path, fake_github: Any) -> None:
    workflow = load_yaml(WORKFLOW_FILE)
    workspace = pr_workspace(tmp_path)
    shutil.copytree(workspace / "gitops", workspace, dirs_exist_ok=True)  # the job checks out at the root
    runner = make_runner(workspace, fake_github.url, event="push")
    assert runner.run_job(workflow, "modeldeploy") is None  # pull requests only
    assert runner.run_job(workflow, "code-scanning") is True
    (upload,) = runner.uploads
    assert json.loads(upload.read_text())["version"] == "2.1.0"
    assert fake_github.calls == []


def _uses(text: str) -> Iterator[tuple[str, str]]:
    """(uses, the line it is on) for every step of a workflow or action."""
    for line in text.splitlines():
        match = re.search(r"^\s*(?:- )?uses:\s*(\S+)", line)
        if match:
            yield match.group(1), line


def _steps(document: dict[Any, Any]) -> list[dict[str, Any]]:
    if "runs" in document:
        steps: list[dict[str, Any]] = document["runs"]["steps"]
        return steps
    return [step for job in document["jobs"].values() for step in job["steps"]]


@pytest.mark.parametrize("path", [ACTION_FILE, WORKFLOW_FILE], ids=lambda p: p.name)
def test_every_action_is_pinned_by_commit_and_checkouts_keep_no_credentials(path: Path) -> None:
    document = load_yaml(path)
    uses = list(_uses(path.read_text()))
    assert len(uses) == sum(1 for step in _steps(document) if "uses" in step)
    for reference, line in uses:
        assert PINNED.match(reference), f"{reference}: pin it by commit SHA"
        assert re.search(r"# (v\d+\.\d+\.\d+|placeholder)", line), f"{line}: name the release in a comment"
        owner = reference.split("/", 1)[0]
        assert owner in ("actions", "github", "modeldeploy"), f"{reference}: no third-party actions"
    for step in _steps(document):
        if str(step.get("uses", "")).startswith("actions/checkout@"):
            assert step["with"]["persist-credentials"] is False


def test_workflow_recipe_asks_for_least_privilege() -> None:
    workflow = load_yaml(WORKFLOW_FILE)
    assert workflow["permissions"] == {}
    writes = {job_id: {k for k, v in job["permissions"].items() if v == "write"}
              for job_id, job in workflow["jobs"].items()}
    assert writes == {"modeldeploy": {"pull-requests"}, "code-scanning": {"security-events"}}
    for job in workflow["jobs"].values():
        assert job["permissions"]["contents"] == "read"
    action = ACTION_FILE.read_text()
    # the token reaches the comment step only
    assert action.count("inputs.github-token") == 1
    assert "GITHUB_TOKEN: ${{ inputs.github-token }}" in action


def test_comment_script_marker_is_the_diff_marker() -> None:
    script = (REPO_ROOT / "ci" / "github_pr_comment.py").read_text()
    assert f'MARKER = "{diff_report.COMMENT_MARKER}"' in script


# -- the GitLab recipe ---------------------------------------------------------------------------

class _FakeGitLab(BaseHTTPRequestHandler):
    """The merge request notes endpoints, 100 a page with X-Next-Page, in memory."""

    notes: ClassVar[list[dict[str, Any]]] = []
    calls: ClassVar[list[str]] = []

    def _reply(self, payload: Any, next_page: str = "") -> None:
        data = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-Next-Page", next_page)
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        return loaded

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        page, per_page = int(query.get("page", ["1"])[0]), int(query.get("per_page", ["20"])[0])
        self.calls.append(f"GET {url.path} page={page}")
        start = (page - 1) * per_page
        more = start + per_page < len(self.notes)
        self._reply(self.notes[start:start + per_page], str(page + 1) if more else "")

    def do_POST(self) -> None:
        self.calls.append(f"POST {self.path}")
        assert self.headers["PRIVATE-TOKEN"] == "test-token"
        note = {"id": 1000 + len(self.notes), "body": self._body()["body"]}
        self.notes.append(note)
        self._reply(note)

    def do_PUT(self) -> None:
        self.calls.append(f"PUT {self.path}")
        note = next(n for n in self.notes if n["id"] == int(self.path.rsplit("/", 1)[1]))
        note["body"] = self._body()["body"]
        self._reply(note)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def fake_gitlab() -> Iterator[str]:
    _FakeGitLab.notes = [{"id": i, "body": f"an unrelated note {i}"} for i in range(120)]
    _FakeGitLab.calls = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeGitLab)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/api/v4"
    server.shutdown()


def _gitlab_job(clone: Path, api: str, token: str | None, helm: Path) -> subprocess.CompletedProcess[str]:
    job = load_yaml(GITLAB_FILE)["modeldeploy"]
    lines = [*job.get("before_script", []), *job["script"]]
    script = "\n".join(line for line in lines if "pip install" not in line)  # pip needs the network
    env = {k: v for k, v in os.environ.items()
           if k not in ("GITHUB_ACTIONS", "HELM_BIN", "MODELDEPLOY_CHARTS_ROOT")}
    env.update({**{k: str(v) for k, v in job["variables"].items()}, **GIT_ENV, "HELM_BIN": str(helm),
                "PATH": f"{BIN_DIR}{os.pathsep}{os.environ['PATH']}",
                "CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main", "CI_API_V4_URL": api, "CI_PROJECT_ID": "7",
                "CI_MERGE_REQUEST_IID": "12", "CI_PROJECT_DIR": str(clone)})
    if token:
        env["MODELDEPLOY_GITLAB_TOKEN"] = token
    return subprocess.run(["bash", "-eo", "pipefail", "-c", script], cwd=clone, env=env,
                          capture_output=True, text=True, timeout=300, check=False)


def test_gitlab_job_keeps_one_note_across_pages_and_writes_code_quality(tmp_path: Path, helm4: Path,
                                                                       fake_gitlab: str) -> None:
    job = load_yaml(GITLAB_FILE)["modeldeploy"]
    assert any("merge_request_event" in rule["if"] for rule in job["rules"])
    assert str(job["variables"]["GIT_DEPTH"]) == "0"
    assert job["artifacts"]["reports"]["codequality"] == "gl-code-quality-report.json"
    assert job["artifacts"]["when"] == "always"
    clone = pr_workspace(tmp_path) / "gitops"
    for run in (1, 2):  # the second pipeline updates the same note, found on page 2
        proc = _gitlab_job(clone, fake_gitlab, "test-token", helm4)
        assert proc.returncode == 0, f"run {run}: {proc.stdout}{proc.stderr}"
        GitopsRepo(clone).config("test/jukebox", config_text("jukebox", canary=70))
    notes = "/api/v4/projects/7/merge_requests/12/notes"
    assert _FakeGitLab.calls == [f"GET {notes} page=1", f"GET {notes} page=2", f"POST {notes}",
                                 f"GET {notes} page=1", f"GET {notes} page=2", f"PUT {notes}/1120"]
    (note,) = [n for n in _FakeGitLab.notes if n["body"].startswith(diff_report.COMMENT_MARKER)]
    assert "canary traffic 20% -> 70%" in note["body"]
    assert json.loads((clone / "gl-code-quality-report.json").read_text()) == []


def test_gitlab_job_without_a_token_skips_the_note_and_fails_on_an_invalid_config(
        tmp_path: Path, helm4: Path, fake_gitlab: str) -> None:
    head = config_text("jukebox", version="1234e56", canary=50)
    clone = pr_workspace(tmp_path, head_config=head) / "gitops"
    proc = _gitlab_job(clone, fake_gitlab, None, helm4)
    assert proc.returncode == 1
    assert "MODELDEPLOY_GITLAB_TOKEN is not set" in proc.stderr
    assert _FakeGitLab.calls == []
    (issue,) = json.loads((clone / "gl-code-quality-report.json").read_text())
    assert issue["check_name"] == "yaml-implicit-type" and issue["location"]["lines"]["begin"] == 4
