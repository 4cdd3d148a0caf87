"""`modeldeploy diff`: affected deployments, read-only git, exit codes, formats.

Every test builds a real git repository with real commits (the project's chart, a
deterministic example layout) and renders with the real helm. The rollout
sentences and the markdown goldens per scenario are in test_diff_summary.py.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest

import golden
from conftest import REPO_ROOT, RunCli
from git_repo import GitRepo, fixed_git_env
from golden import assert_golden
from modeldeploy.changes import affected as affected_changes
from modeldeploy.commands import diff as diffing
from modeldeploy.commands import pipeline
from modeldeploy.diagnostics import Diagnostic, Severity
from modeldeploy.manifests import object_diff as manifest_diff
from modeldeploy.render import helm as helm_runner
from modeldeploy.report import diff as diff_report
from modeldeploy.results.diff import DeploymentDiff, DiffResult, ObjectDiff, ObjectKey, SideProblem
from modeldeploy.results.sentence import Sentence


def error(path: str, line: int, column: int, message: str, rule: str) -> Diagnostic:
    """A diagnostic of any rule id, even one no module declares."""
    return Diagnostic(path, line, column, Severity.ERROR, message, rule)

CHART = "charts/model-deployment/music-transformer"
GIT_ENV = fixed_git_env("Test")


def config_text(name: str, version: str = "4562a17c17", canary: int | None = None,
                mode: str | None = None, chart: str = CHART, extra: str = "") -> str:
    lines = ["---", f"chart_path: {chart}", f"name: {name}", f"version: {version}",
             "image_repository: image-registry.openshift-image-registry.svc:5000",
             "image_namespace: team-a-test", "autoscaling: true"]
    if mode:
        lines.append(f"deployment_mode: {mode}")
    if canary is not None:
        lines += ["canary:", f"  trafficPercent: {canary}"]
    return "\n".join(lines) + "\n" + extra


class GitopsRepo(GitRepo):
    """A throw-away GitOps repository: the project's chart plus model-deployments/."""

    def __init__(self, root: Path) -> None:
        super().__init__(root, GIT_ENV)

    @classmethod
    def create(cls, root: Path, deployments: dict[str, str], charts: bool = True) -> GitopsRepo:
        repo = cls(root)
        root.mkdir(parents=True, exist_ok=True)
        if charts:
            shutil.copytree(REPO_ROOT / CHART, root / CHART)
        for env, namespace in (("test", "team-a-test"), ("prod", "team-a-prod")):
            repo.write(f"model-deployments/{env}/environment.yaml",
                       f"namespace: {namespace}\nproduction: {'true' if env == 'prod' else 'false'}\n")
        for path, text in deployments.items():
            repo.write(f"model-deployments/{path}/config.yaml", text)
        repo.git("init", "--quiet", "--initial-branch=main")
        repo.commit("initial layout")
        return repo

    def remove(self, relative: str) -> None:
        target = self.root / relative
        shutil.rmtree(target) if target.is_dir() else target.unlink()

    def diff(self, helm: Path, base: str = "HEAD~1", head: str | None = None, paths: tuple[str, ...] = (),
             charts_root: Path | None = None) -> DiffResult:
        return diffing.diff(base, head, list(paths), pipeline.Options(charts_root=charts_root), self.root,
                            helm_runner.find_helm({"HELM_BIN": str(helm)}))


def snapshot(root: Path) -> dict[str, tuple[int, int]]:
    """(mtime_ns, size) of every file and folder, .git included."""
    state = {}
    for current, dirs, files in os.walk(root):
        for name in [*dirs, *files]:
            path = Path(current) / name
            info = path.lstat()
            state[str(path.relative_to(root))] = (info.st_mtime_ns, info.st_size)
    return state


@pytest.fixture
def repo(tmp_path: Path) -> GitopsRepo:
    return GitopsRepo.create(tmp_path / "gitops", {"test/jukebox": config_text("jukebox", canary=20)})


# -- the "done when" of the issue, through the real CLI ------------------------------------------

def test_canary_step_markdown_through_cli_changes_nothing_on_disk(repo: GitopsRepo, run_cli: RunCli) -> None:
    repo.config("test/jukebox", config_text("jukebox", canary=50))
    repo.commit("canary 50")
    status, before = repo.git("status", "--porcelain"), snapshot(repo.root)
    proc = run_cli(["diff", "--base", "HEAD~1", "--format", "markdown"], cwd=repo.root)
    assert proc.returncode == 0, proc.stderr
    assert "canary traffic 20% -> 50%" in proc.stdout
    assert "-    canaryTrafficPercent: 20\n+    canaryTrafficPercent: 50\n" in proc.stdout
    assert proc.stderr == "HEAD~1 -> working tree: 1 deployment changed (+1 -1 lines), 0 re-rendered " \
                          "without changes\n"  # the summary line
    assert_golden("diff/cli-canary-step.md", proc.stdout)
    assert snapshot(repo.root) == before
    assert repo.git("status", "--porcelain") == status == ""


def test_working_tree_changes_untracked_and_stat_dirty_files_stay_untouched(repo: GitopsRepo,
                                                                          helm4: Path) -> None:
    repo.config("test/jukebox", config_text("jukebox", canary=50))  # modified, not staged
    repo.config("test/fresh", config_text("fresh"))  # untracked
    os.utime(repo.root / "model-deployments/test/environment.yaml", ns=(1, 1))  # stat-dirty only
    status, before = repo.git("status", "--porcelain"), snapshot(repo.root)
    result = repo.diff(helm4, base="HEAD")
    assert [(d.label, d.status) for d in result.deployments] == [("test/fresh", "added"),
                                                                  ("test/jukebox", "modified")]
    assert result.unchanged == 0  # the stat-dirty environment.yaml is not a change
    assert snapshot(repo.root) == before
    assert repo.git("status", "--porcelain") == status


def test_odd_folder_names_in_the_working_tree(tmp_path: Path, run_cli: RunCli) -> None:
    # a line break, comma or quote in a folder name reaches git and helm intact, and prints escaped
    odd = ["test/odd\nname", "test/a,b", 'test/q"uote']
    repo = GitopsRepo.create(tmp_path / "gitops",
                             {o: config_text(f"m{i}", canary=20) for i, o in enumerate(odd)})
    for i, o in enumerate(odd):
        repo.config(o, config_text(f"m{i}", canary=50))
        os.utime(repo.root / f"model-deployments/{o}/config.yaml", ns=(1, 1))  # stat-dirty: hashed
    proc = run_cli(["diff", "--base", "HEAD"], cwd=repo.root)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("  * canary traffic 20% -> 50%\n") == 3
    assert "--- a/test/odd\\nname/InferenceService/m0\n" in proc.stdout


def test_head_ref_ignores_the_working_tree(repo: GitopsRepo, helm4: Path) -> None:
    repo.config("test/jukebox", config_text("jukebox", canary=50))
    repo.commit("canary 50")
    repo.config("test/jukebox", config_text("jukebox", canary=100))  # not committed
    (deployment,) = repo.diff(helm4, base="HEAD~1", head="HEAD").deployments
    assert deployment.sentences[0].text == "canary traffic 20% -> 50%"


# -- which deployments are rendered ----------------------------------------------------------------

def test_only_affected_deployments_are_rendered(tmp_path: Path, run_cli: RunCli, helm4: Path) -> None:
    repo = GitopsRepo.create(tmp_path / "gitops", {f"test/model-{i:02d}": config_text(f"model-{i:02d}")
                                                   for i in range(40)})
    for i in (3, 17, 29):
        repo.config(f"test/model-{i:02d}", config_text(f"model-{i:02d}", version="v2"))
    repo.commit("three new versions")
    log = tmp_path / "helm.log"
    wrapper = tmp_path / "helm"
    wrapper.write_text(f'#!/bin/sh\necho "$1" >> "{log}"\nexec "{helm4}" "$@"\n')
    wrapper.chmod(0o755)
    proc = run_cli(["diff", "--base", "HEAD~1", "--format", "json"], cwd=repo.root, helm=wrapper)
    assert proc.returncode == 0, proc.stderr
    document = json.loads(proc.stdout)
    assert [d["name"] for d in document["deployments"]] == ["model-03", "model-17", "model-29"]
    assert log.read_text().split().count("template") == 6  # 3 deployments x 2 sides, no more


def test_affected_configs_rules() -> None:
    configs = {f"model-deployments/{env}/{name}/config.yaml" for env in ("test", "prod")
               for name in ("a", "b", "c")}
    folders = {c: ("charts/other" if "/c/" in c else CHART) for c in configs}

    def affected(*changed: str, charts: bool = True) -> dict[str, set[str]]:
        chart_folders = (lambda: folders) if charts else None
        found = affected_changes.affected_configs(set(changed), configs, configs, chart_folders)
        return {c.split("/", 1)[1].rsplit("/", 1)[0]: r for c, r in found.items()}

    assert affected("model-deployments/test/a/config.yaml") == {"test/a": {"config"}}
    assert affected("model-deployments/test/environment.yaml") == {
        "test/a": {"environment"}, "test/b": {"environment"}, "test/c": {"environment"}}
    assert set(affected(f"{CHART}/templates/_helpers.tpl")) == {"test/a", "test/b", "prod/a", "prod/b"}
    everything = {f"{env}/{name}" for env in ("test", "prod") for name in ("a", "b", "c")}
    assert set(affected("charts/common/templates/_labels.tpl")) == everything  # a library chart
    assert set(affected("schemas/config.schema.json")) == everything
    assert affected("README.md", "model-deployments/test/a/README.md",
                    "model-deployments/test/applicationset.yaml") == {}
    assert affected(f"{CHART}/values.yaml", charts=False) == {}  # --charts-root: charts are elsewhere


def test_chart_fan_out_skips_deployments_of_other_charts(repo: GitopsRepo, helm4: Path) -> None:
    shutil.copytree(repo.root / CHART, repo.root / "charts/model-deployment/other")
    repo.config("test/second", config_text("second"))
    repo.config("prod/jukebox", config_text("jukebox"))
    repo.config("test/elsewhere", config_text("elsewhere", chart="charts/model-deployment/other"))
    repo.commit("more deployments")
    helpers = repo.root / CHART / "templates/_helpers.tpl"
    helpers.write_text(helpers.read_text().replace("music-transformer:1.0.0", "music-transformer:1.1.0"))
    result = repo.diff(helm4, base="HEAD")
    assert [d.label for d in result.deployments] == ["prod/jukebox", "test/jukebox", "test/second"]
    assert all(d.reasons == ("chart",) for d in result.deployments)


def test_path_arguments_limit_the_diff(repo: GitopsRepo, helm4: Path, run_cli: RunCli) -> None:
    repo.config("test/jukebox", config_text("jukebox", canary=50))
    repo.config("prod/jukebox", config_text("jukebox"))
    only_prod = repo.diff(helm4, base="HEAD", paths=("model-deployments/prod",))
    assert [d.label for d in only_prod.deployments] == ["prod/jukebox"]
    proc = run_cli(["diff", "--base", "HEAD", "jukebox/config.yaml"],
                   cwd=repo.root / "model-deployments/test")
    assert proc.returncode == 0, proc.stderr
    assert "test/jukebox" in proc.stdout and "prod/jukebox" not in proc.stdout
    missing = run_cli(["diff", "--base", "HEAD", "model-deployments/nowhere"], cwd=repo.root)
    assert missing.returncode == 2
    assert "model-deployments/nowhere: names no config.yaml" in missing.stderr


def test_external_charts_root_serves_both_sides(tmp_path: Path, helm4: Path) -> None:
    charts = tmp_path / "charts-repo"
    shutil.copytree(REPO_ROOT / CHART, charts / CHART)
    repo = GitopsRepo.create(tmp_path / "gitops", {"test/jukebox": config_text("jukebox", canary=20)},
                             charts=False)
    repo.config("test/jukebox", config_text("jukebox", canary=0))
    repo.write("charts/README.md", "not the charts in use\n")
    (deployment,) = repo.diff(helm4, base="HEAD", charts_root=charts).deployments
    assert deployment.reasons == ("config",)
    assert [s.rule for s in deployment.sentences] == ["canary-step", "rollback"]


def test_charts_root_inside_the_repository_is_read_at_each_ref(repo: GitopsRepo, helm4: Path) -> None:
    helpers = repo.root / CHART / "templates/_helpers.tpl"
    helpers.write_text(helpers.read_text().replace("music-transformer:1.0.0", "music-transformer:1.1.0"))
    (deployment,) = repo.diff(helm4, base="HEAD", charts_root=repo.root).deployments
    assert deployment.reasons == ("chart",)
    assert deployment.objects[0].text.count("music-transformer:1.1.0") == 1


# -- invalid configs, errors and exit codes --------------------------------------------------------

INVALID = config_text("jukebox", canary=20).replace("version: 4562a17c17", "version: 1234e56")


def test_invalid_head_config_is_reported_and_fails(repo: GitopsRepo, run_cli: RunCli) -> None:
    repo.config("test/jukebox", INVALID)
    repo.config("test/other", config_text("other"))
    proc = run_cli(["diff", "--base", "HEAD"], cwd=repo.root)
    assert proc.returncode == 1
    # path:line:col first, as validate prints it (editors, problem matchers); the working tree: no suffix
    assert proc.stderr.startswith("model-deployments/test/jukebox/config.yaml:4:10: error: "
                                  "`version: 1234e56` is read by Helm as the number")
    assert proc.stderr.splitlines()[0].endswith("[yaml-implicit-type]")
    assert "head config model-deployments/test/jukebox/config.yaml is invalid" in proc.stdout
    assert "new deployment 'other'" in proc.stdout  # the others still diff
    assert "Traceback" not in proc.stderr


def test_invalid_base_config_is_reported_but_does_not_fail(tmp_path: Path, run_cli: RunCli) -> None:
    repo = GitopsRepo.create(tmp_path / "gitops", {"test/jukebox": INVALID})
    repo.config("test/jukebox", config_text("jukebox", canary=20))
    proc = run_cli(["diff", "--base", "HEAD", "--format", "json"], cwd=repo.root)
    assert proc.returncode == 0, proc.stderr
    document = json.loads(proc.stdout)
    assert [p["side"] for p in document["problems"]] == ["base"]
    assert proc.stderr.startswith("model-deployments/test/jukebox/config.yaml:4:10: error:")
    assert proc.stderr.splitlines()[0].endswith("[yaml-implicit-type] (at --base HEAD)")
    (deployment,) = document["deployments"]
    assert deployment["base_invalid"] and not deployment["head_invalid"]
    assert {o["status"] for o in deployment["objects"]} == {"added"}


def test_what_helm_rendered_is_shown_even_when_the_checks_refuse_it(repo: GitopsRepo,
                                                                    run_cli: RunCli) -> None:
    # A chart that renders an object the checks refuse (here a Deployment of an API version
    # Kubernetes removed) on both sides: the version change still shows, beside the problem.
    repo.write(f"{CHART}/templates/legacy.yaml",
               "apiVersion: extensions/v1beta1\nkind: Deployment\nmetadata:\n  name: legacy\n")
    repo.commit("a legacy object in the chart")
    repo.config("test/jukebox", config_text("jukebox", version="9b2c41d0e7", canary=20))
    proc = run_cli(["diff", "--base", "HEAD", "--format", "json"], cwd=repo.root)
    assert proc.returncode == 1  # the head's problem fails the check
    document = json.loads(proc.stdout)
    assert {p["rule"] for p in document["problems"]} == {"manifest-no-schema"}
    (deployment,) = document["deployments"]
    assert not (deployment["base_invalid"] or deployment["head_invalid"])
    assert "model version 4562a17c17 -> 9b2c41d0e7" in " ".join(s["text"] for s in deployment["summary"])
    changed = {o["kind"]: o["status"] for o in deployment["objects"]}
    assert changed["InferenceService"] == "changed" and "Deployment" not in changed  # legacy: the same
    assert "is invalid and was not rendered" not in proc.stdout


@pytest.mark.parametrize(("args", "message"), [
    (["--base", "no-such-branch"], "modeldeploy: error: --base no-such-branch: no such commit in "),
    (["--base", "HEAD", "--head", "v9"], "modeldeploy: error: --head v9: no such commit in "),
    (["--base", "HEAD", "--charts-root", "missing"], "modeldeploy: error: --charts-root missing: no such"),
    (["--base", "HEAD", "--format", "xml"], "invalid choice: 'xml'"),
])
def test_usage_errors_exit_2(repo: GitopsRepo, run_cli: RunCli, args: list[str], message: str) -> None:
    proc = run_cli(["diff", *args], cwd=repo.root)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""


def test_outside_a_git_repository_exits_2(tmp_path: Path, run_cli: RunCli) -> None:
    proc = run_cli(["diff", "--base", "main"], cwd=tmp_path)
    assert (proc.returncode, proc.stderr) == (
        2, "modeldeploy: error: modeldeploy diff compares git refs: run it inside a git repository "
        f"({tmp_path} is not in one)\n")


def test_exit_code_flag(repo: GitopsRepo, run_cli: RunCli) -> None:
    repo.write("README.md", "no deployment changes\n")
    quiet = run_cli(["diff", "--base", "HEAD", "--exit-code"], cwd=repo.root)
    assert (quiet.returncode, quiet.stdout) == (0, "no deployment changes between HEAD and working tree\n")
    repo.config("test/jukebox", config_text("jukebox", canary=50))
    assert run_cli(["diff", "--base", "HEAD"], cwd=repo.root).returncode == 0
    assert run_cli(["diff", "--base", "HEAD", "--exit-code"], cwd=repo.root).returncode == 1


# -- formats ---------------------------------------------------------------------------------------

def test_text_colour_only_on_request(repo: GitopsRepo, helm4: Path, run_cli: RunCli) -> None:
    repo.config("test/jukebox", config_text("jukebox", canary=50))
    result = repo.diff(helm4, base="HEAD")
    coloured = diff_report.format_text(result, color=True)
    assert "\033[31m-    canaryTrafficPercent: 20\033[0m" in coloured
    assert "\033[32m+    canaryTrafficPercent: 50\033[0m" in coloured
    assert diff_report.format_text(result) == re.sub(r"\033\[\d+m", "", coloured)
    proc = run_cli(["diff", "--base", "HEAD"], cwd=repo.root)  # stdout is a pipe: no colour
    assert "\033" not in proc.stdout and proc.stdout == diff_report.format_text(result)


def test_json_document(repo: GitopsRepo, helm4: Path) -> None:
    repo.config("test/jukebox", config_text("jukebox", canary=50))
    document = json.loads(diff_report.format_json(repo.diff(helm4, base="HEAD")))
    assert document["base"] == "HEAD" and document["head"] == "working tree" and document["differences"]
    (deployment,) = document["deployments"]
    assert deployment["summary"][0] == {"rule": "canary-step", "text": "canary traffic 20% -> 50%"}
    (obj,) = deployment["objects"]
    assert (obj["kind"], obj["name"], obj["namespace"], obj["added_lines"], obj["removed_lines"]) == (
        "InferenceService", "jukebox", "team-a-test", 1, 1)


def synthetic_result(deployments: int, lines_each: int) -> DiffResult:
    result = DiffResult("origin/main", "working tree")
    for i in range(deployments):
        body = "\n".join(f"+    line {n} of a long diff {'x' * 60}" for n in range(lines_each))
        text = f"--- /dev/null\n+++ b/test/m{i:03d}/ConfigMap/big\n@@ -0,0 +1,{lines_each} @@\n{body}\n"
        key = ObjectKey("ConfigMap", "team-a-test", "big", "v1")
        result.deployments.append(DeploymentDiff(
            "test", None, f"model-deployments/test/m{i:03d}/config.yaml", ("config",), "added",
            [Sentence("new-deployment", f"new deployment 'm{i:03d}': version v1 receives all traffic")],
            [ObjectDiff(key, "added", text, lines_each, 0)]))
    return result


def test_markdown_cuts_diffs_not_the_summary() -> None:
    result = synthetic_result(deployments=6, lines_each=400)
    full = diff_report.format_markdown(result, limit=10**9)
    text = diff_report.format_markdown(result)
    assert len(full.encode()) > diff_report.COMMENT_LIMIT >= len(text.encode())
    table = full.split("<details>")[0]
    assert text.startswith(table)  # the summary table is whole
    assert text.count("<details>") == 6
    cuts = re.findall(r"> \*\*Cut:\*\* (\d+) of 403 diff lines not shown", text)
    assert len(cuts) == 6 and len(set(cuts)) == 1  # equal shares: every diff shows its beginning
    small = synthetic_result(deployments=1, lines_each=10).deployments[0]
    result.deployments.append(small)  # a small diff next to long ones stays whole
    assert "> **Cut:**" not in diff_report.format_markdown(result).split("test/m000: +10 -0")[1]
    assert ("See it in full: `modeldeploy diff --base origin/main model-deployments/test/m005/config.yaml`"
            in text)
    assert_golden("diff/truncated-tail.md", "\n".join(text.splitlines()[-8:]) + "\n")


def test_markdown_summary_alone_too_long_keeps_the_table() -> None:
    result = synthetic_result(deployments=30, lines_each=5)
    text = diff_report.format_markdown(result, limit=3000)
    assert "<details>" not in text
    assert text.count("| new deployment") == 30
    assert "**Diffs omitted:** the summary alone fills" in text


def test_markdown_problems_are_listed_and_capped() -> None:
    result = DiffResult("HEAD", "working tree")
    result.problems = [SideProblem("head", error(f"model-deployments/test/m{i}/config.yaml", 1, 1,
                                                 "<b>bad</b>", "r")) for i in range(60)]
    text = diff_report.format_markdown(result)
    assert text.count("- **head** error at") == diff_report.MAX_PROBLEMS_SHOWN
    assert "… and 10 more" in text and "&lt;b>bad&lt;/b>" in text


# -- manifest diffs --------------------------------------------------------------------------------

def test_key_and_document_order_make_no_noise() -> None:
    first = "---\napiVersion: v1\nkind: A\nmetadata: {name: x, namespace: n}\ndata: {k: 1, j: 2}\n" \
            "---\napiVersion: v1\nkind: B\nmetadata: {name: y}\n"
    second = "kind: B\napiVersion: v1\nmetadata: {name: y}\n---\n# a comment\n" \
             "data: {j: 2, k: 1}\nmetadata: {namespace: n, name: x}\nkind: A\napiVersion: v1\n"
    assert manifest_diff.diff_manifests(first, second, "a/t/d", "b/t/d") == []


def test_added_removed_and_changed_objects() -> None:
    common = "kind: A\napiVersion: v1\nmetadata: {name: x}\n"
    before = common + "spec: {n: 1}\n---\nkind: Gone\nmetadata: {name: g}\n"
    after = common + "spec: {n: 2}\n---\nkind: New\nmetadata: {name: n}\n"
    diffs = manifest_diff.diff_manifests(before, after, "a/test/d", "b/test/d")
    assert [(d.key.label, d.status, d.added, d.removed) for d in diffs] == [
        ("A/x", "changed", 1, 1), ("Gone/g", "removed", 0, 3), ("New/n", "added", 3, 0)]
    assert diffs[0].text.splitlines()[:2] == ["--- a/test/d/A/x", "+++ b/test/d/A/x"]
    assert diffs[1].text.splitlines()[:2] == ["--- a/test/d/Gone/g", "+++ /dev/null"]
    assert diffs[2].text.splitlines()[:2] == ["--- /dev/null", "+++ b/test/d/New/n"]


# -- the golden-file helper ------------------------------------------------------------------------

def test_golden_files_fail_when_missing_and_change_only_on_request(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(golden, "GOLDEN_DIR", tmp_path)
    monkeypatch.delenv(golden.UPDATE_ENV, raising=False)
    with pytest.raises(pytest.fail.Exception, match="does not exist"):
        assert_golden("diff/x.md", "one\n")
    assert not (tmp_path / "diff/x.md").exists()  # never written silently
    monkeypatch.setenv(golden.UPDATE_ENV, "1")
    assert_golden("diff/x.md", "one\n")
    assert (tmp_path / "diff/x.md").read_bytes() == b"one\n"
    monkeypatch.delenv(golden.UPDATE_ENV)
    assert_golden("diff/x.md", "one\n")
    with pytest.raises(pytest.fail.Exception, match=r"(?s)@@.*-one\n\+two"):
        assert_golden("diff/x.md", "two\n")
    with pytest.raises(pytest.fail.Exception, match="only in line endings"):
        assert_golden("diff/x.md", "one\r\n")
    with pytest.raises(ValueError):
        golden.golden_path("../outside.md")


def test_same_data_is_type_strict() -> None:
    from modeldeploy.manifests.object_diff import diff_manifests, same_data

    assert same_data({"a": [1, "x"]}, {"a": [1, "x"]})
    assert not same_data({"replicas": 1}, {"replicas": True})
    assert not same_data({"replicas": 1}, {"replicas": 1.0})
    before = "kind: Deployment\nmetadata: {name: d}\nspec: {replicas: 1}\n"
    (change,) = diff_manifests(before, before.replace("1}", "true}"), "a/x", "b/x")
    assert "-  replicas: 1" in change.text and "+  replicas: true" in change.text
