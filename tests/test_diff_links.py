"""diff reads from a git ref only what rendering the affected configs needs (changes/git.py).

A symbolic link elsewhere in the repository (`tools/python -> /usr/bin/python3`) never
stops it; links inside the repository on the way to what it reads are followed; a link
leading out of the repository from what it reads is still refused (exit 2).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import RunCli
from test_diff import CHART, GitopsRepo, config_text


def _link(repo: GitopsRepo, relative: str, target: str) -> None:
    path = repo.root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.is_symlink() or path.exists():
        path.unlink()
    path.symlink_to(target)


@pytest.fixture
def linked(tmp_path: Path) -> GitopsRepo:
    """A repository whose base commit holds links that lead out of it, none on diff's way."""
    repo = GitopsRepo.create(tmp_path / "gitops", {"test/jukebox": config_text("jukebox", canary=20),
                                                   "prod/jukebox": config_text("jukebox")})
    _link(repo, "tools/python", "/usr/bin/python3")
    _link(repo, "docs/outside", "../../../outside")
    _link(repo, "docs/dangling", "no-such-file")
    _link(repo, "charts/unused/templates/x.yaml", "/etc/passwd")  # a chart no config uses
    _link(repo, "model-deployments/notes", "/etc")  # in model-deployments/, not a config
    repo.commit("links")
    return repo


def test_links_leading_out_elsewhere_in_the_repository_never_stop_diff(linked: GitopsRepo,
                                                                       run_cli: RunCli) -> None:
    linked.config("test/jukebox", config_text("jukebox", canary=50))
    proc = run_cli(["diff", "--base", "HEAD"], cwd=linked.root)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert "canary traffic 20% -> 50%" in proc.stdout
    linked.commit("canary 50")
    proc = run_cli(["diff", "--base", "HEAD~1", "--head", "HEAD"], cwd=linked.root)
    assert proc.returncode == 0, proc.stderr
    assert "canary traffic 20% -> 50%" in proc.stdout
    # A chart change renders every deployment of the chart, at both refs.
    values = linked.root / CHART / "values.yaml"
    values.write_text(values.read_text() + "\n# a comment\n")
    proc = run_cli(["diff", "--base", "HEAD"], cwd=linked.root)
    assert proc.returncode == 0, proc.stderr


def test_links_inside_the_repository_lead_to_what_diff_reads(tmp_path: Path, run_cli: RunCli) -> None:
    repo = GitopsRepo.create(tmp_path / "gitops", {
        "test/jukebox": config_text("jukebox", canary=20, chart="charts/current"),
        "test/linked": config_text("linked", chart="charts/current")})
    _link(repo, "charts/current", "model-deployment/music-transformer")  # chart_path through a link
    helpers = repo.root / CHART / "templates" / "_helpers.tpl"
    (repo.root / "shared").mkdir()
    (repo.root / "shared" / "helpers.tpl").write_text(helpers.read_text())
    _link(repo, f"{CHART}/templates/_helpers.tpl", "../../../../shared/helpers.tpl")  # a file of it
    env = repo.root / "model-deployments" / "test" / "environment.yaml"
    (repo.root / "shared" / "test-environment.yaml").write_text(env.read_text())
    _link(repo, "model-deployments/test/environment.yaml", "../../shared/test-environment.yaml")
    config = repo.root / "model-deployments" / "test" / "linked" / "config.yaml"
    (repo.root / "shared" / "linked.yaml").write_text(config.read_text())
    _link(repo, "model-deployments/test/linked/config.yaml", "../../../shared/linked.yaml")
    repo.commit("links inside")
    repo.config("test/jukebox", config_text("jukebox", canary=40, chart="charts/current"))
    (repo.root / "shared" / "linked-v2.yaml").write_text(config_text("linked", version="c0ffee1234",
                                                                     chart="charts/current"))
    _link(repo, "model-deployments/test/linked/config.yaml", "../../../shared/linked-v2.yaml")
    repo.commit("changes through links")
    for args in (["--base", "HEAD~1"], ["--base", "HEAD~1", "--head", "HEAD"]):
        proc = run_cli(["diff", *args, "--format", "json"], cwd=repo.root)
        assert proc.returncode == 0, proc.stderr
        assert proc.stderr == ""
        assert "canary traffic 20% -> 40%" in proc.stdout
        assert "4562a17c17 -> c0ffee1234" in proc.stdout
        assert '"invalid' not in proc.stdout.replace('"invalid": false', "")


@pytest.mark.parametrize("what", ["config", "chart file", "environment"])
def test_a_link_leading_out_from_what_diff_reads_is_refused(tmp_path: Path, run_cli: RunCli,
                                                             what: str) -> None:
    outside = tmp_path / "secret.yaml"
    outside.write_text("namespace: team-a-test\n")
    repo = GitopsRepo.create(tmp_path / "gitops", {"test/jukebox": config_text("jukebox", canary=20)})
    link = {"config": "model-deployments/test/jukebox/config.yaml",
            "chart file": f"{CHART}/templates/_extra.tpl",
            "environment": "model-deployments/test/environment.yaml"}[what]
    _link(repo, link, str(outside))
    repo.commit("a link out")
    (repo.root / link).unlink()  # the working tree holds a plain file there now
    repo.write(link, "namespace: team-a-test\n" if what == "environment" else "")
    repo.config("test/jukebox", config_text("jukebox", canary=40))
    proc = run_cli(["diff", "--base", "HEAD"], cwd=repo.root)
    assert proc.returncode == 2, proc.stderr
    assert f"'{link}' is a link to an absolute path" in proc.stderr
    assert outside.read_text() == "namespace: team-a-test\n"
