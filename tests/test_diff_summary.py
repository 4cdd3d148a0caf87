"""The rollout-aware summary of `modeldeploy diff`, scenario by scenario, with markdown goldens.

Each scenario makes real commits in a throw-away GitOps repository, diffs them with
the real helm (4 and 3: both must give the same golden file) and checks the rules
behind the summary sentences, then the whole PR comment against tests/golden/diff/.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from golden import assert_golden
from modeldeploy.report import diff as diff_report
from test_diff import CHART, INVALID, GitopsRepo, config_text


@dataclass(frozen=True)
class Scenario:
    start: dict[str, str]  # deployment -> config.yaml at the first commit
    change: Callable[[GitopsRepo], None]  # then committed; the diff is HEAD~1 -> HEAD
    expected: dict[str, list[str]]  # deployment label -> rule ids of its sentences
    exit_code: int = 0


def _set(deployment: str, text: str) -> Callable[[GitopsRepo], None]:
    return lambda repo: repo.config(deployment, text)


def _canary_steps(repo: GitopsRepo) -> None:
    """20 -> 50 committed first; the diff covers the next step, 50 -> 100."""
    repo.config("test/jukebox", config_text("jukebox", canary=50))
    repo.commit("canary 50")
    repo.config("test/jukebox", config_text("jukebox", canary=100))


def _new_and_removed(repo: GitopsRepo) -> None:
    repo.remove("model-deployments/test/old-model")
    repo.config("test/new-model", config_text("new-model", version="0a1b2c3d4e", canary=10))


def _chart_change(repo: GitopsRepo) -> None:
    template = repo.root / CHART / "templates/inferenceservice.yaml"
    template.write_text(template.read_text().replace("    minReplicas: 1\n    maxReplicas: {{ if",
                                                     "    minReplicas: 2\n    maxReplicas: {{ if", 1))


def _rename(repo: GitopsRepo) -> None:
    shutil.move(repo.root / "model-deployments/test/jukebox", repo.root / "model-deployments/test/jukebox-v2")
    repo.config("test/jukebox-v2", config_text("jukebox", version="5f6e7d8c9b", canary=20))


def _added_later(repo: GitopsRepo) -> None:
    """The config does not exist at the base (HEAD~2): it was added, then changed."""
    repo.config("test/ranker", config_text("ranker", canary=20))
    repo.commit("add ranker")
    repo.config("test/ranker", config_text("ranker", canary=40))


def _namespace(repo: GitopsRepo) -> None:
    repo.write("model-deployments/test/environment.yaml", "namespace: team-b-test\nproduction: false\n")


def _resources(repo: GitopsRepo) -> None:
    repo.config("test/jukebox", config_text("jukebox", canary=20, extra=(
        "resources:\n  limits:\n    memory: 8Gi\n")))


JUKEBOX_20 = {"test/jukebox": config_text("jukebox", canary=20)}
SCENARIOS: dict[str, Scenario] = {
    "canary-50-to-100": Scenario(JUKEBOX_20, _canary_steps, {"test/jukebox": ["canary-step", "cut-over"]}),
    "rollback": Scenario({"test/jukebox": config_text("jukebox", canary=100)},
                         _set("test/jukebox", config_text("jukebox", canary=0)),
                         {"test/jukebox": ["canary-step", "rollback"]}),
    "promotion": Scenario({"test/jukebox": config_text("jukebox", canary=50)},
                          _set("test/jukebox", config_text("jukebox")), {"test/jukebox": ["promotion"]}),
    "version-no-canary": Scenario({"test/jukebox": config_text("jukebox")},
                                  _set("test/jukebox", config_text("jukebox", version="5f6e7d8c9b")),
                                  {"test/jukebox": ["version-change", "all-at-once"]}),
    "version-under-canary": Scenario(JUKEBOX_20,
                                     _set("test/jukebox", config_text("jukebox", "5f6e7d8c9b", canary=20)),
                                     {"test/jukebox": ["version-change", "canary-split"]}),
    "new-and-removed": Scenario({**JUKEBOX_20, "test/old-model": config_text("old-model")}, _new_and_removed,
                                {"test/new-model": ["new-deployment"],
                                 "test/old-model": ["removed-deployment"]}),
    "chart-change-fan-out": Scenario(
        {**JUKEBOX_20, "test/ranker": config_text("ranker"), "prod/jukebox": config_text("jukebox")},
        _chart_change, {"prod/jukebox": ["chart-change"], "test/jukebox": ["chart-change"],
                        "test/ranker": ["chart-change"]}),
    "renamed-directory": Scenario(JUKEBOX_20, _rename,
                                  {"test/jukebox-v2": ["moved", "version-change", "canary-split"]}),
    "added-after-base": Scenario(JUKEBOX_20, _added_later, {"test/ranker": ["new-deployment"]}),
    # A canary in RawDeployment mode is invalid (canary-raw-deployment): the switch drops it.
    "raw-mode-switch": Scenario(JUKEBOX_20,
                                _set("test/jukebox", config_text("jukebox", mode="RawDeployment")),
                                {"test/jukebox": ["mode-change"]}),
    "namespace-change": Scenario({**JUKEBOX_20, "test/ranker": config_text("ranker")}, _namespace,
                                 {"test/jukebox": ["namespace-change"], "test/ranker": ["namespace-change"]}),
    "resources-change": Scenario(JUKEBOX_20, _resources, {"test/jukebox": ["config-change"]}),
    "invalid-head": Scenario({**JUKEBOX_20, "test/ranker": config_text("ranker")},
                             lambda repo: (repo.config("test/jukebox", INVALID),
                                           repo.config("test/ranker", config_text("ranker", "5f6e7d8c9b"))),
                             {"test/jukebox": ["invalid-config"],
                              "test/ranker": ["version-change", "all-at-once"]},
                             exit_code=1),
    "no-deployment-change": Scenario(JUKEBOX_20, lambda repo: repo.write("README.md", "docs only\n"), {}),
}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_scenario(name: str, tmp_path: Path, helm_bin: Path) -> None:
    scenario = SCENARIOS[name]
    repo = GitopsRepo.create(tmp_path / "gitops", scenario.start)
    scenario.change(repo)
    repo.commit(name)
    base = "HEAD~2" if name == "added-after-base" else "HEAD~1"
    result = repo.diff(helm_bin, base=base, head="HEAD")
    assert {d.label: [s.rule for s in d.sentences] for d in result.deployments} == scenario.expected
    assert result.exit_code(False) == scenario.exit_code
    assert_golden(f"diff/{name}.md", diff_report.format_markdown(result))


def test_chart_change_names_the_new_revision_share(tmp_path: Path, helm4: Path) -> None:
    scenario = SCENARIOS["chart-change-fan-out"]
    repo = GitopsRepo.create(tmp_path / "gitops", scenario.start)
    scenario.change(repo)
    sentences = {d.label: d.sentences[0].text for d in repo.diff(helm4, base="HEAD").deployments}
    assert sentences["test/jukebox"] == (
        "chart change: manifests changed, traffic split unchanged; the predictor rolls out a new revision: "
        "it receives 20% of traffic, 80% stays on the previous revision")
    assert sentences["prod/jukebox"].endswith("it receives 100% of traffic once ready (no canary)")


def test_pure_rename_has_no_manifest_diff(tmp_path: Path, helm4: Path) -> None:
    repo = GitopsRepo.create(tmp_path / "gitops", JUKEBOX_20)
    shutil.move(repo.root / "model-deployments/test/jukebox", repo.root / "model-deployments/test/music")
    (deployment,) = repo.diff(helm4, base="HEAD").deployments
    assert (deployment.status, deployment.base_config, deployment.head_config, deployment.objects) == (
        "moved", "model-deployments/test/jukebox/config.yaml", "model-deployments/test/music/config.yaml", [])
    assert [s.rule for s in deployment.sentences] == ["moved"]


def test_rename_with_another_name_is_removed_and_added(tmp_path: Path, helm4: Path) -> None:
    repo = GitopsRepo.create(tmp_path / "gitops", JUKEBOX_20)
    repo.remove("model-deployments/test/jukebox")
    repo.config("test/music", config_text("music", canary=20))
    result = repo.diff(helm4, base="HEAD")
    assert [(d.label, d.status) for d in result.deployments] == [("test/jukebox", "removed"),
                                                                  ("test/music", "added")]


def test_canary_20_to_50_in_every_format(tmp_path: Path, helm4: Path) -> None:
    repo = GitopsRepo.create(tmp_path / "gitops", JUKEBOX_20)
    repo.config("test/jukebox", config_text("jukebox", canary=50))
    repo.commit("canary 50")
    result = repo.diff(helm4, base="HEAD~1", head="HEAD")
    assert [s.text for s in result.deployments[0].sentences] == [
        "canary traffic 20% -> 50%",
        "the latest revision receives 50% of traffic; 50% stays on the previous revision"]
    assert_golden("diff/canary-20-to-50.md", diff_report.format_markdown(result))
    assert_golden("diff/canary-20-to-50.txt", diff_report.format_text(result))
    assert_golden("diff/canary-20-to-50.json", diff_report.format_json(result))
