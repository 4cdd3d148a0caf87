"""The rollout policy (environment.yaml `rollout:`) in a real git repository, through the real CLI.

`diff` fails a change that violates a policy rule (exit 1, the rule id in text, markdown and
json); compliant sequences pass; the rollout commands refuse what `diff` would fail, and
change nothing. Also `version set`, `canary promote --force`, `release --create`, `history`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import REPO_ROOT, RunCli
from git_repo import GitRepo, fixed_git_env
from golden import assert_golden
from modeldeploy.report import diff as diff_report
from modeldeploy.results.diff import DeploymentDiff, DiffResult
from modeldeploy.results.policy import Violation
from modeldeploy.results.sentence import Sentence

CHART = "charts/model-deployment/music-transformer"
GIT_ENV = fixed_git_env("Ada")
POLICY = "rollout:\n  require_canary: true\n  promote_from: test\n  max_first_step: 20\n  max_step: 50\n"


def config_text(version: str, canary: int | None = None, name: str = "jukebox") -> str:
    lines = ["---", f"chart_path: {CHART}", f"name: {name}", f"version: {version}",
             "image_repository: image-registry.openshift-image-registry.svc:5000",
             "image_namespace: team-a-test", "autoscaling: true"]
    if canary is not None:
        lines += ["canary:", f"  trafficPercent: {canary}"]
    return "\n".join(lines) + "\n"


class Repo(GitRepo):
    def __init__(self, root: Path, run_cli: RunCli) -> None:
        super().__init__(root, GIT_ENV)
        self.run_cli = run_cli

    def read(self, deployment: str) -> str:
        return (self.root / f"model-deployments/{deployment}/config.yaml").read_text(encoding="utf-8")

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return self.run_cli(list(args), cwd=self.root, env=GIT_ENV)

    def diff(self, base: str = "HEAD~1", fmt: str = "text") -> subprocess.CompletedProcess[str]:
        return self.cli("diff", "--base", base, "--head", "HEAD", "--format", fmt)


@pytest.fixture
def repo(tmp_path: Path, run_cli: RunCli) -> Repo:
    """test/jukebox and prod/jukebox at version aaaa111, prod's policy on."""
    repo = Repo(tmp_path / "gitops", run_cli)
    shutil.copytree(REPO_ROOT / CHART, repo.root / CHART)
    repo.write("model-deployments/test/environment.yaml", "namespace: team-a-test\n")
    repo.write("model-deployments/prod/environment.yaml", "namespace: team-a-prod\nproduction: true\n"
               + POLICY)
    repo.config("test/jukebox", config_text("aaaa111"))
    repo.config("prod/jukebox", config_text("aaaa111"))
    repo.git("init", "--quiet", "--initial-branch=main")
    repo.commit("initial layout")
    return repo


def violations(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [v["rule"] for v in json.loads(result.stdout)["policy_violations"]]


def test_each_policy_violation_fails_diff_in_every_format(repo: Repo) -> None:
    # 100% at once, a version test never ran: three rules at once
    repo.config("prod/jukebox", config_text("bbbb222"))
    repo.commit("prod: bbbb222 at once")
    text = repo.diff()
    assert text.returncode == 1, text.stderr
    first = text.stdout.splitlines()[0]
    assert first == "rollout policy: 3 violation(s)"
    assert "[policy-require-canary]" in text.stdout and "(no canary)" in text.stdout
    assert "[policy-first-step]" in text.stdout and "at most 20%" in text.stdout
    assert "[policy-promote-from]" in text.stdout and "version bbbb222 has not run in test" in text.stdout
    result = repo.diff(fmt="json")
    assert result.returncode == 1
    assert violations(result) == ["policy-require-canary", "policy-first-step", "policy-promote-from"]
    markdown = repo.diff(fmt="markdown")
    assert markdown.returncode == 1
    body = markdown.stdout
    assert body.index("Rollout policy: 3 violations") < body.index("| Deployment |")
    assert "`policy-promote-from`" in body


def test_step_and_freeze_and_compliant_sequence(repo: Repo) -> None:
    # test first, then a 10% canary in prod, steps, promotion: every diff passes
    repo.config("test/jukebox", config_text("bbbb222"))
    repo.commit("test: bbbb222")
    for canary, message in ((10, "prod canary 10"), (50, "50"), (100, "100"), (None, "promote")):
        repo.config("prod/jukebox", config_text("bbbb222", canary if canary is not None else None))
        repo.commit(message)
        result = repo.diff(fmt="json")
        assert result.returncode == 0, (message, result.stdout)
        assert violations(result) == []
    # a step over max_step
    repo.config("prod/jukebox", config_text("bbbb222"))
    repo.config("test/jukebox", config_text("cccc333"))
    repo.commit("test: cccc333")
    repo.config("prod/jukebox", config_text("cccc333", 20))
    repo.commit("prod canary 20")
    repo.config("prod/jukebox", config_text("cccc333", 100))
    repo.commit("prod canary 100")
    result = repo.diff()
    assert result.returncode == 1
    assert "canary traffic 20% -> 100% is a step of 80 percentage points" in result.stdout
    assert "[policy-step]" in result.stdout
    # freeze: no more traffic, but a rollback passes
    repo.git("reset", "--quiet", "--hard", "HEAD~1")
    repo.write("model-deployments/prod/environment.yaml", "namespace: team-a-prod\nrollout:\n"
               "  freeze: true\n  freeze_reason: \"end-of-year freeze, ask #ml-platform\"\n")
    repo.commit("freeze prod")
    repo.config("prod/jukebox", config_text("cccc333", 50))
    repo.commit("prod canary 50")
    frozen = repo.diff()
    assert frozen.returncode == 1
    assert "prod is frozen (end-of-year freeze, ask #ml-platform)" in frozen.stdout
    assert "[policy-freeze]" in frozen.stdout
    repo.config("prod/jukebox", config_text("cccc333", 0))
    repo.commit("prod rollback")
    assert repo.diff("HEAD~2").returncode == 0  # frozen, 20% -> 0%: a rollback
    repo.config("prod/jukebox", config_text("bbbb222"))
    repo.commit("prod back to bbbb222")  # the previous version, at once: a rollback too
    assert repo.diff("HEAD~3").returncode == 0


def test_promote_from_looks_in_history_and_in_the_change_itself(repo: Repo) -> None:
    repo.config("test/jukebox", config_text("bbbb222"))
    repo.commit("test: bbbb222")
    repo.config("test/jukebox", config_text("cccc333"))
    repo.commit("test: cccc333")  # test no longer runs bbbb222, but it ran it
    repo.config("prod/jukebox", config_text("bbbb222", 10))
    repo.commit("prod: bbbb222 canary 10")
    assert repo.diff().returncode == 0
    # one PR: test first, then prod, compared base..head
    repo.config("test/jukebox", config_text("dddd444"))
    repo.commit("test: dddd444")
    repo.config("prod/jukebox", config_text("dddd444", 10))
    repo.commit("prod: dddd444 canary 10")
    assert repo.diff("HEAD~2").returncode == 0
    # a version test never ran
    repo.config("prod/jukebox", config_text("eeee555", 10))
    repo.commit("prod: eeee555")
    result = repo.diff(fmt="json")
    assert violations(result) == ["policy-promote-from"]


def test_the_policy_is_read_at_the_base(repo: Repo) -> None:
    repo.write("model-deployments/prod/environment.yaml", "namespace: team-a-prod\n")  # relaxed...
    repo.config("prod/jukebox", config_text("bbbb222"))  # ...and used in the same change
    repo.commit("relax the policy and release at once")
    result = repo.diff(fmt="json")
    assert result.returncode == 1
    assert "policy-require-canary" in violations(result)
    repo.commit("next change")
    assert repo.diff().returncode == 0  # from the next change on, the relaxed policy applies


def test_the_rollout_commands_refuse_what_diff_fails(repo: Repo) -> None:
    prod = repo.root / "model-deployments/prod/jukebox/config.yaml"
    before = prod.read_bytes()
    refused = repo.cli("version", "set", "prod/jukebox", "bbbb222")
    assert refused.returncode == 1
    assert "[policy-require-canary]" in refused.stderr and "[policy-promote-from]" in refused.stderr
    assert "modeldeploy: refused: the rollout policy of prod" in refused.stderr
    assert "nothing was changed" in refused.stderr
    assert prod.read_bytes() == before
    assert repo.cli("version", "set", "test/jukebox", "bbbb222").returncode == 0
    repo.commit("test: bbbb222")
    first = repo.cli("version", "set", "prod/jukebox", "bbbb222", "--canary", "50")
    assert first.returncode == 1 and "[policy-first-step]" in first.stderr
    assert prod.read_bytes() == before
    ok = repo.cli("version", "set", "prod/jukebox", "bbbb222", "--canary", "20")
    assert ok.returncode == 0, ok.stderr
    repo.commit("prod: canary 20")
    step = repo.cli("canary", "set", "prod/jukebox", "100")
    assert step.returncode == 1 and "[policy-step]" in step.stderr and "go to 70% first" in step.stderr
    assert "trafficPercent: 20" in repo.read("prod/jukebox")
    assert repo.cli("canary", "set", "prod/jukebox", "70").returncode == 0
    repo.commit("prod: 70")
    assert repo.diff().returncode == 0  # what the commands wrote passes diff
    assert repo.cli("canary", "rollback", "prod/jukebox").returncode == 0  # always allowed
    repo.commit("prod: rollback")
    assert repo.diff().returncode == 0


def test_promote_after_a_rollback_needs_force(repo: Repo) -> None:
    repo.write("model-deployments/prod/environment.yaml", "namespace: team-a-prod\n")  # no policy
    repo.config("prod/jukebox", config_text("bbbb222", 0))
    repo.commit("rolled back")
    refused = repo.cli("canary", "promote", "prod/jukebox")
    assert refused.returncode == 1
    assert "would send all traffic to the version that was rolled back" in refused.stderr
    assert "version bbbb222 was rolled back" in refused.stderr
    assert "trafficPercent: 0" in repo.read("prod/jukebox")
    forced = repo.cli("canary", "promote", "prod/jukebox", "--force")
    assert forced.returncode == 0, forced.stderr
    assert "canary" not in repo.read("prod/jukebox")


@pytest.mark.parametrize("tag", ["0123", "1e3", "true", "0x1F", "12345678"])
def test_version_set_quotes_a_tag_helm_would_read_as_another_type(repo: Repo, tag: str) -> None:
    result = repo.cli("version", "set", "test/jukebox", tag)
    assert result.returncode == 0, result.stderr
    assert f'version: "{tag}"\n' in repo.read("test/jukebox")
    assert repo.cli("validate").returncode == 0
    same = repo.cli("version", "set", "test/jukebox", tag)
    assert same.returncode == 0 and "nothing to change" in same.stdout


def test_version_set_keeps_the_rest_and_refuses_a_bad_tag(repo: Repo) -> None:
    path = repo.root / "model-deployments/test/jukebox/config.yaml"
    path.write_text(config_text("aaaa111").replace("version: aaaa111", "version: 'aaaa111'  # tested"))
    before = path.read_bytes()
    assert repo.cli("version", "set", "test/jukebox", "bbbb222", "--canary", "10").returncode == 0
    after = path.read_text()
    assert "version: 'bbbb222'  # tested\n" in after and after.endswith("canary:\n  trafficPercent: 10\n")
    path.write_bytes(before)
    bad = repo.cli("version", "set", "test/jukebox", "has space")
    assert bad.returncode == 1
    assert "schema-pattern" in bad.stderr or "not an image tag" in bad.stderr
    assert path.read_bytes() == before


def test_release_create_makes_the_deployment_from_the_source(repo: Repo) -> None:
    repo.config("test/newmodel", config_text("bbbb222", 20, name="newmodel"))
    repo.commit("test: newmodel")
    missing = repo.cli("release", "newmodel", "--from", "test", "--to", "prod")
    assert missing.returncode == 2 and "prod/newmodel" in missing.stderr  # a usage error
    assert missing.stderr.rstrip().endswith("to create prod/newmodel from test/newmodel, add --create")
    with_canary = repo.cli("release", "newmodel", "--from", "test", "--to", "prod", "--create",
                           "--canary", "10")
    assert with_canary.returncode == 1 and "drop --canary" in with_canary.stderr
    assert not (repo.root / "model-deployments/prod/newmodel").exists()
    created = repo.cli("release", "newmodel", "--from", "test", "--to", "prod", "--create")
    assert created.returncode == 0, created.stderr
    assert "new deployment 'newmodel'" in created.stdout
    assert "created model-deployments/prod/newmodel/config.yaml" in created.stdout
    assert repo.read("prod/newmodel") == config_text("bbbb222", name="newmodel")
    assert repo.cli("validate").returncode == 0
    repo.commit("prod: newmodel")
    assert repo.diff().returncode == 0  # ran in test: promote_from holds; a new one needs no canary


def test_release_create_is_refused_by_the_policy(repo: Repo) -> None:
    repo.config("dev/other", config_text("ffff666", name="other"))
    repo.write("model-deployments/dev/environment.yaml", "namespace: team-a-dev\n")
    repo.commit("dev: other")
    refused = repo.cli("release", "other", "--from", "dev", "--to", "prod", "--create")
    assert refused.returncode == 1 and "[policy-promote-from]" in refused.stderr
    assert not (repo.root / "model-deployments/prod/other").exists()


def test_history_lists_transitions_newest_first(repo: Repo) -> None:
    repo.config("test/jukebox", config_text("bbbb222", 20))
    repo.commit("test: bbbb222 canary 20")
    repo.config("test/jukebox", config_text("bbbb222"))
    repo.commit("test: promote")
    text = repo.cli("history", "test/jukebox")
    assert text.returncode == 0, text.stderr
    lines = text.stdout.splitlines()
    assert lines[0] == "test/jukebox: 3 change(s), newest first"
    assert lines[1].endswith("2026-01-01T00:00:00Z  Ada  test: promote") or "Ada  test: promote" in lines[1]
    assert "promotion: the canary is removed" in lines[2]
    result = repo.cli("history", "test/jukebox", "--format", "json")
    document = json.loads(result.stdout)
    assert [c["subject"] for c in document["changes"]] == ["test: promote", "test: bbbb222 canary 20",
                                                          "initial layout"]
    assert document["changes"][1]["summary"][0] == {"rule": "version-change",
                                                     "text": "model version aaaa111 -> bbbb222"}
    assert document["changes"][0]["author"] == "Ada"
    unknown = repo.cli("history", "test/jukebx", "--format", "json")
    assert unknown.returncode == 2 and json.loads(unknown.stdout)["failure"]["kind"] == "not-found"


def test_a_shallow_clone_says_to_fetch_the_whole_history(repo: Repo, tmp_path: Path) -> None:
    repo.config("test/jukebox", config_text("bbbb222"))
    repo.commit("test: bbbb222")
    repo.config("test/jukebox", config_text("cccc333"))
    repo.commit("test: cccc333")
    repo.config("prod/jukebox", config_text("bbbb222", 10))
    repo.commit("prod: bbbb222 canary 10")
    assert repo.diff().returncode == 0  # the full history: test ran bbbb222
    shallow = Repo(tmp_path / "shallow", repo.run_cli)
    subprocess.run(["git", "clone", "--quiet", "--depth", "2", f"file://{repo.root}", str(shallow.root)],
                   check=True, env={**os.environ, **GIT_ENV})
    result = shallow.diff()
    assert result.returncode == 1
    assert "[policy-promote-from]" in result.stdout
    assert "this clone is shallow" in result.stdout and "fetch-depth: 0" in result.stdout


def test_the_working_tree_is_checked_against_the_committed_base(repo: Repo) -> None:
    repo.config("prod/jukebox", config_text("aaaa111", 0))  # a dark canary of the same version
    repo.commit("prod: canary 0")
    repo.config("prod/jukebox", config_text("aaaa111"))  # 0% -> 100% at once, uncommitted
    result = repo.cli("diff", "--base", "HEAD", "--format", "json")
    assert result.returncode == 1
    assert violations(result) == ["policy-step"]


def test_a_rollback_target_is_a_version_that_had_all_the_traffic(repo: Repo) -> None:
    repo.config("test/jukebox", config_text("bbbb222"))
    repo.commit("test: bbbb222")
    repo.config("prod/jukebox", config_text("bbbb222", 10))
    repo.commit("prod: bbbb222 canary 10")
    repo.config("prod/jukebox", config_text("aaaa111"))
    repo.commit("prod: back to aaaa111")  # it had all the traffic: a rollback
    assert repo.diff().returncode == 0
    repo.config("prod/jukebox", config_text("bbbb222"))
    repo.commit("prod: bbbb222 at once")  # it only ever had a canary: no rollback
    result = repo.diff(fmt="json")
    assert violations(result) == ["policy-require-canary", "policy-first-step"]


def test_the_pr_comment_opens_with_the_policy_section() -> None:
    """The writers alone (no chart involved): the violations first, in every format."""
    config = "model-deployments/prod/jukebox/config.yaml"
    result = DiffResult("origin/main", "HEAD", deployments=[DeploymentDiff(
        "prod", config, config, ("config",), "modified",
        [Sentence("version-change", "model version aaaa111 -> bbbb222"),
         Sentence("all-at-once", "the new version receives 100% of traffic immediately (no canary)")],
        [])], violations=[
        Violation("policy-require-canary", "prod/jukebox", config,
                  "prod/jukebox: the new version bbbb222 receives 100% of traffic at once (no canary), "
                  "and prod requires a canary; give it a canary below 100%, e.g. `canary.trafficPercent: 10` "
                  "(rollout.require_canary in model-deployments/prod/environment.yaml)"),
        Violation("policy-promote-from", "prod/jukebox", config,
                  "prod/jukebox: version <b>bbbb222</b> has not run in test"),
    ])
    assert result.exit_code(False) == 1
    markdown = diff_report.format_markdown(result)
    assert "&lt;b>bbbb222&lt;/b>" in markdown  # escaped like every other text of the comment
    assert_golden("diff/policy-violations.md", markdown)
    text = diff_report.format_text(result)
    assert text.startswith("rollout policy: 2 violation(s)\n  prod/jukebox: the new version bbbb222")
    document = json.loads(diff_report.format_json(result))
    assert [v["rule"] for v in document["policy_violations"]] == ["policy-require-canary",
                                                                  "policy-promote-from"]
    assert document["policy_violations"][0]["deployment"] == "prod/jukebox"
