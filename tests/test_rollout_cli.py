"""The rollout commands through the real CLI, in a temporary GitOps repo.

The repo is a copy of charts/ and model-deployments/ plus the odd-format fixtures of
tests/data/rollout/ (CRLF, 4-space indent, flow style, no final newline, a BOM),
each placed as model-deployments/test/<fixture>/config.yaml. Edits must change
only the lines they have to; refused requests must leave the bytes and the mtime
of every file as they were.
"""

from __future__ import annotations

import difflib
import shutil
import stat
from pathlib import Path

import pytest

from conftest import ROLLOUT_FIXTURES, RunCli, make_gitops

JUKEBOX_TEST = Path("model-deployments/test/jukebox/config.yaml")
JUKEBOX_PROD = Path("model-deployments/prod/jukebox/config.yaml")


@pytest.fixture
def gitops(tmp_path: Path) -> Path:
    return make_gitops(tmp_path, sorted(ROLLOUT_FIXTURES.glob("*.yaml")))


def config(repo: Path, name: str, env: str = "test") -> Path:
    return repo / "model-deployments" / env / name / "config.yaml"


def snapshot(repo: Path) -> dict[Path, tuple[bytes, int]]:
    return {path: (path.read_bytes(), path.stat().st_mtime_ns)
            for path in sorted((repo / "model-deployments").rglob("*")) if path.is_file()}


def changes(before: bytes, after: bytes) -> list[tuple[list[str], list[str]]]:
    """(removed lines, added lines) per changed hunk, line endings included."""
    old = before.decode().splitlines(keepends=True)
    new = after.decode().splitlines(keepends=True)
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    return [(old[a1:a2], new[b1:b2]) for tag, a1, a2, b1, b2 in matcher.get_opcodes() if tag != "equal"]


def test_canary_walk_through_changes_one_line_per_step(run_cli: RunCli, gitops: Path) -> None:
    path = gitops / JUKEBOX_TEST
    original = path.read_bytes()
    comment = " # 20% to the latest revision, 80% stays on the previous one\n"
    steps = [
        (20, 50, ["canary traffic 20% -> 50%",
                  "the latest revision receives 50% of traffic; 50% stays on the previous revision"]),
        (50, 100, ["canary traffic 50% -> 100%",
                   "blue/green cut-over: the latest revision receives 100% of traffic; the previous "
                   "revision stays available for rollback"]),
    ]
    previous = original
    line = next(n for n, text in enumerate(original.decode().splitlines(), 1) if "trafficPercent" in text)
    for old, new, sentences in steps:
        result = run_cli(["canary", "set", "test/jukebox", str(new)], cwd=gitops)
        assert result.returncode == 0, result.stderr
        for sentence in sentences:
            assert f"  {sentence}\n" in result.stdout
        assert f"  note: line {line} keeps its comment `# 20% to the latest" in result.stdout
        current = path.read_bytes()
        assert changes(previous, current) == [([f"  trafficPercent: {old}{comment}"],
                                               [f"  trafficPercent: {new}{comment}"])]
        previous = current

    result = run_cli(["canary", "promote", "test/jukebox"], cwd=gitops)
    assert result.returncode == 0, result.stderr
    assert "promotion: the canary is removed and the latest revision receives 100% of traffic" \
        in result.stdout
    assert changes(previous, path.read_bytes()) == [(["canary:\n", f"  trafficPercent: 100{comment}"],
                                                     [])]
    assert path.read_bytes() == original.replace(b"canary:\n  trafficPercent: 20" + comment.encode(), b"")


def test_rollback_is_one_command_and_one_line(run_cli: RunCli, gitops: Path) -> None:
    path = gitops / JUKEBOX_TEST
    before = path.read_bytes()
    result = run_cli(["canary", "rollback", "test/jukebox"], cwd=gitops)
    assert result.returncode == 0, result.stderr
    assert "rollback: all traffic returns to the previous revision" in result.stdout
    assert len(changes(before, path.read_bytes())) == 1
    assert path.read_bytes() == before.replace(b"trafficPercent: 20 ", b"trafficPercent: 0 ")
    again = run_cli(["canary", "rollback", "test/jukebox"], cwd=gitops)
    assert again.returncode == 0
    assert "already 0%" in again.stdout


@pytest.mark.parametrize(("fixture", "steps", "expected"), [
    pytest.param("crlf", [["set", "50"], ["set", "100"]],
                 b"  trafficPercent: 100 # \xf0\x9f\x91\x88 update this\r\n", id="crlf"),
    pytest.param("flow", [["set", "50"]], b"canary: {trafficPercent: 50}   # flow style\n", id="flow"),
    pytest.param("no-newline", [["set", "50"], ["rollback"]], b"  trafficPercent: 0", id="no-newline"),
])
def test_odd_formats_keep_every_other_byte(run_cli: RunCli, gitops: Path, fixture: str,
                                           steps: list[list[str]], expected: bytes) -> None:
    path = config(gitops, fixture)
    original = path.read_bytes()
    for step in steps:
        result = run_cli(["canary", step[0], f"test/{fixture}", *step[1:]], cwd=gitops)
        assert result.returncode == 0, result.stderr
    [(removed, added)] = changes(original, path.read_bytes())
    assert len(removed) == 1
    assert added == [expected.decode()]


@pytest.mark.parametrize("fixture", ["indent4", "bom", "raw-less"])
def test_adding_then_promoting_a_canary_restores_the_file(run_cli: RunCli, gitops: Path,
                                                          fixture: str) -> None:
    if fixture == "raw-less":  # the repo's own prod config: `---`, no canary
        path, ref = gitops / JUKEBOX_PROD, "prod/jukebox"
    else:
        path, ref = config(gitops, fixture), f"test/{fixture}"
    original = path.read_bytes()
    result = run_cli(["canary", "set", ref, "20"], cwd=gitops)
    assert result.returncode == 0, result.stderr
    assert "the latest revision receives 20% of traffic; 80% stays on the previous revision" \
        in result.stdout
    [(removed, added)] = changes(original, path.read_bytes())
    assert removed == []
    indent = "    " if fixture == "indent4" else "  "
    assert added == ["canary:\n", f"{indent}trafficPercent: 20\n"]
    assert path.read_bytes().startswith(original[:3])  # a BOM stays
    assert run_cli(["canary", "promote", ref], cwd=gitops).returncode == 0
    assert path.read_bytes() == original


def test_indent4_canary_goes_after_the_last_entry(run_cli: RunCli, gitops: Path) -> None:
    path = config(gitops, "indent4")
    assert run_cli(["canary", "set", "test/indent4", "20"], cwd=gitops).returncode == 0
    assert path.read_text().endswith("    limits:\n        memory: 4Gi\ncanary:\n    trafficPercent: 20\n"
                                     "# end of file\n")


def test_dry_run_prints_the_diff_and_writes_nothing(run_cli: RunCli, gitops: Path) -> None:
    before = snapshot(gitops)
    lines = (gitops / JUKEBOX_TEST).read_text().splitlines()
    start = lines.index("image_namespace: team-a-test") + 1  # the hunk's first line, 1-based
    result = run_cli(["canary", "set", "test/jukebox", "50", "--dry-run"], cwd=gitops)
    assert result.returncode == 0, result.stderr
    assert result.stdout.endswith(
        "--- a/model-deployments/test/jukebox/config.yaml\n"
        "+++ b/model-deployments/test/jukebox/config.yaml\n"
        f"@@ -{start},4 +{start},4 @@\n"
        " image_namespace: team-a-test\n"
        " autoscaling: true\n"
        " canary:\n"
        "-  trafficPercent: 20 # 20% to the latest revision, 80% stays on the previous one\n"
        "+  trafficPercent: 50 # 20% to the latest revision, 80% stays on the previous one\n"
        "dry run: nothing written\n")
    assert snapshot(gitops) == before


def test_dry_run_diff_marks_a_missing_final_newline(run_cli: RunCli, gitops: Path) -> None:
    result = run_cli(["canary", "promote", "test/no-newline", "--dry-run"], cwd=gitops)
    assert result.returncode == 0, result.stderr
    assert result.stdout.endswith(
        "-image_namespace: team-a-test\n-canary:\n-  trafficPercent: 20\n\\ No newline at end of file\n"
        "+image_namespace: team-a-test\n\\ No newline at end of file\ndry run: nothing written\n")


def test_no_op_is_said_gently_and_writes_nothing(run_cli: RunCli, gitops: Path) -> None:
    before = snapshot(gitops)
    result = run_cli(["canary", "set", "test/jukebox", "20"], cwd=gitops)
    assert (result.returncode, result.stdout) == (0, "test/jukebox: canary traffic is already 20%; "
                                                     "nothing to change\n")
    result = run_cli(["canary", "promote", "prod/jukebox"], cwd=gitops)
    assert result.returncode == 0
    assert "has no canary" in result.stdout
    assert snapshot(gitops) == before


@pytest.mark.parametrize(("args", "code", "message"), [
    # Exit 2: the command line names what cannot be (usage error); 1: a file refuses the edit.
    pytest.param(["canary", "set", "test/jukebox", "150"], 2, "'150' is not a percent from 0 to 100",
                 id="percent-150"),
    pytest.param(["canary", "set", "test/jukebox", "-5"], 2, "'-5' is not a percent", id="percent-negative"),
    pytest.param(["canary", "set", "test/jukebx", "50"], 2,
                 "no deployment test/jukebx; did you mean test/jukebox? (existing: prod/jukebox, "
                 "test/bom, test/crlf", id="unknown-deployment"),
    pytest.param(["canary", "promote", "staging/jukebox"], 2, "no deployment staging/jukebox",
                 id="unknown-env"),
    pytest.param(["canary", "rollback", "test/invalid"], 1,
                 "refused: model-deployments/test/invalid/config.yaml is invalid", id="invalid-file"),
    pytest.param(["canary", "set", "test/raw", "20"], 1,
                 "[canary-raw-deployment]", id="edit-makes-it-invalid"),
    pytest.param(["release", "jukebox", "--from", "test", "--to", "staging"], 2,
                 "no deployment staging/jukebox",
                 id="release-unknown-target"),
    pytest.param(["release", "jukebox", "--from", "test", "--to", "prod", "--canary", "101"], 2,
                 "argument --canary: '101' is not a percent from 0 to 100", id="release-percent"),
    pytest.param(["release", "jukebox", "--from", "prod", "--to", "prod"], 2,
                 "--from and --to are both 'prod'", id="release-same-env"),
])
def test_invalid_requests_change_nothing(run_cli: RunCli, gitops: Path, args: list[str], code: int,
                                         message: str) -> None:
    before = snapshot(gitops)
    result = run_cli(args, cwd=gitops)
    assert result.returncode == code, result.stdout + result.stderr
    assert message in result.stderr
    assert snapshot(gitops) == before


def test_invalid_file_lists_its_problems(run_cli: RunCli, gitops: Path) -> None:
    result = run_cli(["canary", "set", "test/invalid", "50"], cwd=gitops)
    assert result.returncode == 1
    assert "model-deployments/test/invalid/config.yaml:3:10: error:" in result.stderr
    assert "[yaml-implicit-type]" in result.stderr


def test_invalid_environment_settings_refuse_the_edit(run_cli: RunCli, gitops: Path) -> None:
    (gitops / "model-deployments" / "test" / "environment.yaml").write_text("namespace: Team A\n")
    before = snapshot(gitops)
    result = run_cli(["canary", "set", "test/jukebox", "50"], cwd=gitops)
    assert result.returncode == 1
    assert "refused: model-deployments/test/environment.yaml is invalid" in result.stderr
    assert snapshot(gitops) == before


def test_release_copies_version_and_image_with_a_canary(run_cli: RunCli, gitops: Path) -> None:
    source, target = gitops / JUKEBOX_TEST, gitops / JUKEBOX_PROD
    source.write_bytes(source.read_bytes()
                       .replace(b"version: 4562a17c17", b'version: "1234e56"')
                       .replace(b"image_namespace: team-a-test", b"image_namespace: team-a-models"))
    before = target.read_bytes()
    result = run_cli(["release", "jukebox", "--from", "test", "--to", "prod", "--canary", "10"], cwd=gitops)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(
        "prod/jukebox (model-deployments/prod/jukebox/config.yaml):\n"
        "  model image oci://image-registry.openshift-image-registry.svc:5000/team-a-test/jukebox:"
        "4562a17c17 -> oci://image-registry.openshift-image-registry.svc:5000/team-a-models/jukebox:1234e56\n"
        "  the new version receives 10% of traffic; 90% stays on the previous revision\n")
    # A version Helm would read as a number is quoted; nothing else moves.
    assert changes(before, target.read_bytes()) == [
        (["version: 4562a17c17\n"], ['version: "1234e56"\n']),
        (["image_namespace: team-a-test\n"], ["image_namespace: team-a-models\n"]),
        ([], ["canary:\n", "  trafficPercent: 10\n"]),
    ]
    again = run_cli(["release", "jukebox", "--from", "test", "--to", "prod"], cwd=gitops)
    assert (again.returncode, again.stdout) == (0, "prod/jukebox already runs version 1234e56 from the "
                                                   "same image as test/jukebox; nothing to release\n")


def test_release_keeps_the_target_canary_without_the_option(run_cli: RunCli, gitops: Path) -> None:
    prod = gitops / JUKEBOX_PROD
    prod.write_text(prod.read_text() + "canary:\n  trafficPercent: 0\n")
    source = gitops / JUKEBOX_TEST
    source.write_text(source.read_text().replace("version: 4562a17c17", "version: 9f8e7d6c5b"))
    result = run_cli(["release", "jukebox", "--from", "test", "--to", "prod"], cwd=gitops)
    assert result.returncode == 0, result.stderr
    assert "model version 4562a17c17 -> 9f8e7d6c5b" in result.stdout
    assert "the new version is deployed but receives 0% of traffic" in result.stdout
    assert "trafficPercent: 0\n" in prod.read_text()


def test_release_to_production_raw_deployment_with_canary_is_refused(run_cli: RunCli,
                                                                     gitops: Path) -> None:
    raw = (ROLLOUT_FIXTURES / "raw.yaml").read_text()
    for env, version in (("test", "9f8e7d6c5b"), ("prod", "4562a17c17")):
        path = config(gitops, "raw", env)
        path.parent.mkdir(exist_ok=True)
        path.write_text(raw.replace("version: 4562a17c17", f"version: {version}"))
    before = snapshot(gitops)
    result = run_cli(["release", "raw", "--from", "test", "--to", "prod", "--canary", "20"], cwd=gitops)
    assert result.returncode == 1
    assert "[canary-raw-deployment]" in result.stderr
    assert "refused: the change would make model-deployments/prod/raw/config.yaml invalid" in result.stderr
    assert snapshot(gitops) == before
    # Without a canary the same release is fine: RawDeployment takes the new version at once.
    result = run_cli(["release", "raw", "--from", "test", "--to", "prod"], cwd=gitops)
    assert result.returncode == 0, result.stderr
    assert "model version 4562a17c17 -> 9f8e7d6c5b" in result.stdout


def test_release_from_an_invalid_source_is_refused(run_cli: RunCli, gitops: Path) -> None:
    prod = config(gitops, "invalid", "prod")
    prod.parent.mkdir()
    shutil.copyfile(ROLLOUT_FIXTURES / "indent4.yaml", prod)
    prod.write_text(prod.read_text().replace("'indent4'", "invalid"))
    before = snapshot(gitops)
    result = run_cli(["release", "invalid", "--from", "test", "--to", "prod"], cwd=gitops)
    assert result.returncode == 1
    assert "refused: the source model-deployments/test/invalid/config.yaml is invalid" in result.stderr
    assert snapshot(gitops) == before


def test_write_keeps_permissions(run_cli: RunCli, gitops: Path) -> None:
    path = gitops / JUKEBOX_TEST
    path.chmod(0o640)
    assert run_cli(["canary", "set", "test/jukebox", "30"], cwd=gitops).returncode == 0
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert [p.name for p in path.parent.iterdir()] == ["config.yaml"]  # no temp file left


def test_repo_option_and_working_directory(run_cli: RunCli, gitops: Path) -> None:
    inside = run_cli(["canary", "set", "test/jukebox", "30", "--dry-run"],
                     cwd=gitops / "model-deployments" / "test")
    assert inside.returncode == 0, inside.stderr
    outside = run_cli(["canary", "set", "test/jukebox", "30", "--repo", str(gitops)], cwd=gitops.parent)
    assert outside.returncode == 0, outside.stderr
    assert b"trafficPercent: 30 " in (gitops / JUKEBOX_TEST).read_bytes()
    (gitops / ".git").rename(gitops / "not-git")
    no_repo = run_cli(["canary", "promote", "test/jukebox"], cwd=gitops)
    assert no_repo.returncode == 2
    assert "not inside a git repository; pass --repo DIR" in no_repo.stderr


def test_help_lists_the_commands(run_cli: RunCli) -> None:
    result = run_cli(["canary", "--help"])
    assert result.returncode == 0
    for word in ("set", "promote", "rollback"):
        assert word in result.stdout
