"""`render -o DIR`: DIR mirrors the deployments and changes in one step (output_tree.py).

Through the real CLI and the real helm: files of removed, renamed and moved deployments
go, files modeldeploy did not write stay untouched (same inode, bytes and time), a run
with errors leaves DIR as it was, a kill at any moment leaves the old tree or the new
one and nothing beside it, and a DIR that cannot be replaced is an exit 2 before
anything is rendered.
"""

from __future__ import annotations

import fcntl
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
from functools import partial
from pathlib import Path

import pytest

from conftest import RunCli
from modeldeploy.commands import pipeline
from modeldeploy.render import helm as helm_runner
from modeldeploy.render import output_tree
from process_tools import (
    SLOW_REAL,
    add_config,
    as_ordinary_user,
    cli_env,
    fake_helm,
    leftovers,
    repo,
    run_cli_as,
    snapshot,
    start_cli,
    still_alive,
    stop,
    wait_until,
)

MANIFEST = ".modeldeploy-rendered.json"


def contents(root: Path) -> dict[str, bytes | None]:
    """What a reader sees under root: file bytes, link targets, folders (None)."""
    return {rel: None if data == b"" and (root / rel).is_dir() else data
            for rel, (_, _, _, data) in snapshot(root).items()}


def owned(out: Path) -> dict[str, str]:
    files: dict[str, str] = json.loads((out / MANIFEST).read_text())["files"]
    return files


def yaml_files(out: Path) -> list[str]:
    return sorted(p.relative_to(out).as_posix() for p in out.rglob("*.yaml"))


def user_files(out: Path, fifo: bool = True) -> None:
    (out / "README.md").write_text("hand-written\n")
    (out / "dev" / "notes").mkdir()
    (out / "dev" / "notes" / "kustomization.yaml").write_text("resources: []\n")
    (out / "empty").mkdir()
    (out / "link").symlink_to("README.md")
    if fifo:
        os.mkfifo(out / "fifo")


def untouched(state: dict[str, tuple[int, int, int, bytes]], root: Path) -> dict[str, tuple[int, ...]]:
    """Files: inode, mode, time and bytes; folders (made anew in the new tree): mode and time."""
    return {rel: (mode, mtime) if (root / rel).is_dir() and not (root / rel).is_symlink()
            else (inode, mode, mtime, hash(data)) for rel, (inode, mode, mtime, data) in state.items()}


def test_the_folder_mirrors_the_deployments_and_keeps_what_it_did_not_write(tmp_path: Path,
                                                                            run_cli: RunCli) -> None:
    root = tmp_path / "repo"
    configs = repo(root, 6)
    out = root / "out"
    first = run_cli(["render", "-o", "out"], cwd=root)
    assert first.returncode == 0, first.stderr
    assert owned(out) == {f"{c.parent.parent.name}/{c.parent.name}.yaml": c.relative_to(root).as_posix()
                          for c in configs}
    user_files(out)
    mine = {rel: state for rel, state in snapshot(out).items()
            if rel in ("README.md", "dev/notes", "dev/notes/kustomization.yaml", "empty", "link", "fifo")}
    assert len(mine) == 6
    shutil.rmtree(configs[0].parent)  # removed: dev/model-000
    configs[1].write_text(configs[1].read_text().replace("name: model-001", "name: renamed"))  # renamed
    configs[2].parent.rename(configs[2].parent.parent / "moved")  # the folder moved, same name
    shutil.move(str(configs[3].parent), str(root / "model-deployments" / "test" / "model-003"))  # other env
    second = run_cli(["render", "-o", "out"], cwd=root)
    assert second.returncode == 0, second.stderr
    assert yaml_files(out) == ["dev/notes/kustomization.yaml", "prod/model-002.yaml", "prod/model-005.yaml",
                               "test/model-003.yaml", "test/model-004.yaml", "test/renamed.yaml"]
    assert owned(out) == {
        "prod/model-002.yaml": "model-deployments/prod/moved/config.yaml",
        "prod/model-005.yaml": "model-deployments/prod/model-005/config.yaml",
        "test/model-003.yaml": "model-deployments/test/model-003/config.yaml",
        "test/model-004.yaml": "model-deployments/test/model-004/config.yaml",
        "test/renamed.yaml": "model-deployments/test/model-001/config.yaml"}
    now = snapshot(out)
    assert untouched({rel: now[rel] for rel in mine}, out) == untouched(mine, out)
    for rel in owned(out):
        single = run_cli(["render", str(root / owned(out)[rel])], cwd=root)
        assert (out / rel).read_text() == single.stdout
    assert leftovers(out) == []
    assert not list(out.rglob("*.tmp"))


def test_a_folder_left_with_no_deployment_goes_unless_the_user_has_files_in_it(tmp_path: Path,
                                                                               run_cli: RunCli) -> None:
    root = tmp_path / "repo"
    configs = repo(root, 3)
    assert run_cli(["render", "-o", "out"], cwd=root).returncode == 0
    (root / "out" / "test" / "keep.txt").write_text("mine\n")
    for config in configs[:2]:  # dev and test lose their only deployment
        shutil.rmtree(config.parent)
    assert run_cli(["render", "-o", "out"], cwd=root).returncode == 0
    assert sorted(p.name for p in (root / "out").iterdir()) == [MANIFEST, "prod", "test"]
    assert os.listdir(root / "out" / "test") == ["keep.txt"]


@pytest.mark.parametrize("problem", ["error", "strict warning", "helm fails"])
def test_a_run_with_problems_leaves_the_folder_as_it_was(tmp_path: Path, run_cli: RunCli,
                                                         problem: str) -> None:
    root = tmp_path / "repo"
    configs = repo(root, 7)
    assert run_cli(["render", "-o", "out"], cwd=root).returncode == 0
    user_files(root / "out")
    before = snapshot(root / "out")
    shutil.rmtree(configs[0].parent)  # would remove a file, if the run succeeded
    args = ["render", "-o", "out"]
    helm = None
    if problem == "error":
        configs[1].write_text(configs[1].read_text().replace("version: abc0001", "version: 1234e56"))
    elif problem == "strict warning":
        configs[1].write_text(configs[1].read_text().replace("name: model-001", "name: elsewhere"))
        args.append("--strict")  # directory-name: a warning
    else:  # helm refuses one deployment (in a batch, then alone)
        helm = fake_helm(tmp_path, "helm", "values = sys.argv[sys.argv.index('--values') + 1]\n"
                         "if 'abc0001' in open(values).read():\n"
                         "    sys.exit('Error: refused')\nos.execv(REAL, [REAL, *sys.argv[1:]])\n")
    proc = run_cli(args, cwd=root, helm=helm)
    assert proc.returncode == 1, proc.stderr
    assert snapshot(root / "out") == before
    assert leftovers(root / "out") == []


def test_path_arguments_limit_what_the_folder_mirrors(tmp_path: Path, run_cli: RunCli) -> None:
    root = tmp_path / "repo"
    configs = repo(root, 6)
    assert run_cli(["render", "-o", "out"], cwd=root).returncode == 0
    shutil.rmtree(configs[1].parent)  # test/model-001: under the path below, so its file goes
    shutil.rmtree(configs[0].parent)  # dev/model-000: not under it, so its file stays
    configs[4].write_text(configs[4].read_text().replace("abc0004", "abc9999"))
    proc = run_cli(["render", "model-deployments/test", "-o", "out"], cwd=root)
    assert proc.returncode == 0, proc.stderr
    assert yaml_files(root / "out") == ["dev/model-000.yaml", "dev/model-003.yaml", "prod/model-002.yaml",
                                        "prod/model-005.yaml", "test/model-004.yaml"]
    assert "abc9999" in (root / "out" / "test" / "model-004.yaml").read_text()
    # A pre-commit hook passes one changed config: only its file is rewritten.
    configs[3].write_text(configs[3].read_text().replace("abc0003", "abc8888"))
    proc = run_cli(["render", str(configs[3]), "-o", "out"], cwd=root)
    assert proc.returncode == 0, proc.stderr
    assert "abc8888" in (root / "out" / "dev" / "model-003.yaml").read_text()
    assert len(yaml_files(root / "out")) == 5
    proc = run_cli(["render", "-o", "out"], cwd=root)  # everything: the removed one goes now
    assert yaml_files(root / "out") == ["dev/model-003.yaml", "prod/model-002.yaml", "prod/model-005.yaml",
                                        "test/model-004.yaml"]


def test_shards_write_their_files_and_keep_the_other_shards(tmp_path: Path, run_cli: RunCli) -> None:
    root = tmp_path / "repo"
    configs = repo(root, 9)
    everything = sorted(f"{c.parent.parent.name}/{c.parent.name}.yaml" for c in configs)
    per_runner = []
    for index in (1, 2, 3):  # a CI matrix: one folder per runner holds that shard's files
        proc = run_cli(["render", "--shard", f"{index}/3", "-o", f"out{index}"], cwd=root)
        assert proc.returncode == 0, proc.stderr
        per_runner.append(yaml_files(root / f"out{index}"))
    assert sorted(f for files in per_runner for f in files) == everything
    assert all(len(files) == 3 for files in per_runner)
    for index in (1, 2, 3):  # one folder, shard after shard: all of them
        assert run_cli(["render", "--shard", f"{index}/3", "-o", "out"], cwd=root).returncode == 0
    assert yaml_files(root / "out") == everything
    assert sorted(owned(root / "out")) == everything
    shutil.rmtree(configs[4].parent)  # its file goes with the next shard's run, whichever shard
    configs[5].write_text(configs[5].read_text().replace("name: model-005", "name: renamed"))
    assert run_cli(["render", "--shard", "1/3", "-o", "out"], cwd=root).returncode == 0
    remaining = yaml_files(root / "out")
    assert "test/model-004.yaml" not in remaining and "prod/model-005.yaml" not in remaining
    assert len(remaining) == 7
    for index in (2, 3):
        assert run_cli(["render", "--shard", f"{index}/3", "-o", "out"], cwd=root).returncode == 0
    assert yaml_files(root / "out") == sorted([*remaining, "prod/renamed.yaml"])


# --- folders that cannot be replaced -----------------------------------------------------------------

def _immutable(path: Path) -> bool:
    """chattr +i where this process may (root with CAP_LINUX_IMMUTABLE)."""
    return subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode == 0 \
        if shutil.which("chattr") else False


@pytest.mark.parametrize("case", ["file", "fifo", "file above", "read-only", "immutable", "read-only inside",
                                  "read-only parent", "holds the working directory", "in the way"])
def test_an_output_folder_that_cannot_be_replaced_is_exit_2(tmp_path: Path, case: str) -> None:
    root = tmp_path / "repo"
    repo(root, 2)
    target = root / "out"
    env = cli_env()
    as_user = as_ordinary_user()
    cwd = root
    expected = "is not writable"
    if case in ("file", "fifo", "file above"):
        target.write_text("x") if case != "fifo" else os.mkfifo(target)
        expected = "is a FIFO, not a folder" if case == "fifo" else f"{target} is a file, not a folder"
        if case == "file above":
            target = target / "sub"
    elif case == "holds the working directory":
        target = root
        expected = "the folder holds"
    else:
        assert subprocess.run([sys.executable, "-m", "modeldeploy", "render", "-o", str(target)], cwd=root,
                              env=env, capture_output=True).returncode == 0
        if case == "immutable" and _immutable(target):
            as_user = None  # even root cannot change it
        elif case == "read-only inside":
            (target / "dev").chmod(0o555)
        elif case == "read-only parent":
            target = root / "sub" / "out"
            target.mkdir(parents=True)
            (root / "sub").chmod(0o555)
            expected = "cannot create a folder in"
        elif case == "in the way":
            (target / "dev").rename(target / "dev-old")
            (target / "dev").mkdir()
            (target / "dev" / "model-000.yaml").mkdir()  # a folder where a rendered file goes
            (target / "dev" / "model-000.yaml" / "mine").write_text("x")
            expected = "is in the way of a rendered file (render -o did not write it)"
        else:
            target.chmod(0o555)
    before = snapshot(root)
    try:
        proc = run_cli_as(["render", "-o", str(target)], cwd, env, as_user)
        after = snapshot(root)
    finally:
        subprocess.run(["chattr", "-i", str(target)], capture_output=True) if case == "immutable" else None
        for folder in (target, target / "dev", root / "sub"):
            if folder.is_dir():
                folder.chmod(0o755)
    assert proc.returncode == 2, proc.stderr
    assert expected in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr
    assert after == before  # nothing written, nothing left beside it


def test_a_write_that_fails_midway_leaves_the_folder_as_it_was(tmp_path: Path, run_cli: RunCli) -> None:
    """A full disk, stood in for by a file size limit: writes fail with an OSError (EFBIG) mid-build."""
    root = tmp_path / "repo"
    configs = repo(root, 4)  # each rendered alone: the first write over the limit is one of DIR's
    assert run_cli(["render", "-o", "out"], cwd=root).returncode == 0
    before = snapshot(root)
    for config in configs:
        config.write_text(config.read_text() + "resources:\n  requests:\n    memory: 2Gi\n")

    def small_files() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (2000, 2000))

    changed = snapshot(root)
    proc = run_cli_as(["render", "-o", "out"], root, cli_env(), small_files)
    assert proc.returncode == 2, proc.stderr
    assert "-o out: cannot write the new tree: File too large" in proc.stderr
    assert "the folder was left as it was" in proc.stderr
    assert snapshot(root) == changed and snapshot(root / "out") == {
        k[len("out/"):]: v for k, v in before.items() if k.startswith("out/")}


# --- kills, leftovers, the swap ----------------------------------------------------------------------

def test_a_kill_at_any_moment_leaves_the_old_tree_or_the_new_one(tmp_path: Path, run_cli: RunCli) -> None:
    root = tmp_path / "repo"
    configs = repo(root, 24)
    add_config(root, "dev", "gone")
    out = root / "out"
    assert run_cli(["render", "-o", "out"], cwd=root).returncode == 0
    user_files(out, fifo=False)
    old = contents(out)
    template = tmp_path / "old-tree"
    shutil.copytree(out, template, symlinks=True)
    shutil.rmtree(root / "model-deployments" / "dev" / "gone")
    for config in configs:
        config.write_text(config.read_text().replace("version: abc", "version: cafe"))
    helm = fake_helm(tmp_path, "helm", SLOW_REAL)
    env = cli_env(helm, SLOW_HELM="0.4")
    started = time.monotonic()
    assert subprocess.run([sys.executable, "-m", "modeldeploy", "render", "-o", "out", "--jobs", "2"],
                          cwd=root, env=env, capture_output=True).returncode == 0
    duration = time.monotonic() - started
    new = contents(out)
    assert new != old and b"cafe" in new["dev/model-000.yaml"] and "dev/gone.yaml" not in new
    outcomes = []
    rendering = []  # per kill: whether the run was still rendering (its commit not begun)
    # Kills while rendering, then as soon as the build folder holds its list (the commit
    # has begun: fsync, swap, removing the old tree), then no kill.
    for moment in (0.1, 0.3, 0.5, "commit", "commit", "commit", "no kill"):
        shutil.rmtree(out)
        shutil.copytree(template, out, symlinks=True)
        proc = start_cli(["render", "-o", "out", "--jobs", "2"], root, env)
        try:
            if isinstance(moment, float):
                time.sleep(duration * moment)
            elif moment == "commit":
                wait_until(partial(_committing, root, proc), 120)
            else:
                proc.wait(120)
            rendering.append(not _committing(root, proc))
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGKILL)
            proc.communicate(timeout=60)
        finally:
            stop(proc)
        assert wait_until(lambda: leftovers(out) == [], 15), leftovers(out)
        now = contents(out)
        assert now in (old, new), moment
        outcomes.append("new" if now == new else "old")
    # killed while rendering: DIR as it was (on a busy machine a run may be past rendering by then)
    while_rendering = [o for o, r in zip(outcomes[:3], rendering[:3], strict=True) if r]
    assert while_rendering == ["old"] * len(while_rendering), outcomes
    assert any(rendering[:3]), "no kill came while rendering: the test proves nothing"
    assert outcomes[-1] == "new", outcomes  # the run that was not killed


def _committing(root: Path, proc: subprocess.Popen[str]) -> bool:
    """The build folder holds its list of files (the commit has begun), or the run is over."""
    return bool(list(root.glob(f".out.modeldeploy-*/{MANIFEST}"))) or proc.poll() is not None


def test_leftovers_of_killed_runs_are_cleaned_up_by_the_next_run(tmp_path: Path, run_cli: RunCli) -> None:
    root = tmp_path / "repo"
    repo(root, 3)
    out = root / "out"
    assert run_cli(["render", "-o", "out"], cwd=root).returncode == 0
    abandoned = root / ".out.modeldeploy-0123456789ab"  # a build folder of a run killed with everything
    (abandoned / "dev").mkdir(parents=True)
    (abandoned / "dev" / "half.yaml").write_text("half")
    in_use = root / ".out.modeldeploy-abcdefabcdef"  # the build folder of a run still going
    in_use.mkdir()
    lock = os.open(in_use, os.O_RDONLY | os.O_DIRECTORY)
    fcntl.flock(lock, fcntl.LOCK_EX)
    try:
        proc = run_cli(["render", "-o", "out"], cwd=root)
        assert proc.returncode == 0, proc.stderr
        assert not abandoned.exists()
        assert in_use.exists()
    finally:
        os.close(lock)
    # Killed between the two renames of the fallback swap: DIR aside, not yet replaced.
    expected = contents(out)
    aside = root / ".out.modeldeploy-00000000000a-old"
    out.rename(aside)
    proc = run_cli(["validate"], cwd=root)  # another command does not touch it
    assert aside.exists()
    proc = run_cli(["render", "-o", "out"], cwd=root)
    assert proc.returncode == 0, proc.stderr
    assert contents(out) == expected
    assert leftovers(out) == []  # the run that held it is gone now


def test_the_swap_without_rename_exchange_gives_the_same_tree(tmp_path: Path, helm4: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Where renameat2(RENAME_EXCHANGE) is missing, DIR is renamed aside and the new tree renamed in."""
    root = tmp_path / "repo"
    configs = repo(root, 5)
    helm = helm_runner.find_helm({"HELM_BIN": str(helm4)})
    options = pipeline.Options(output_dir=root / "out")
    assert pipeline.render([], options, root, helm).errors == 0
    user_files(root / "out", fifo=False)
    shutil.rmtree(configs[0].parent)
    exchanged = tmp_path / "exchanged"
    shutil.copytree(root / "out", exchanged, symlinks=True)
    assert pipeline.render([], pipeline.Options(output_dir=exchanged), root, helm).errors == 0
    calls: list[str] = []
    real_rename = os.rename

    def rename(source: str | Path, target: str | Path) -> None:
        calls.append(Path(target).name)
        real_rename(source, target)

    monkeypatch.setattr(output_tree, "_RENAMEAT2", None)
    monkeypatch.setattr(os, "rename", rename)
    assert pipeline.render([], options, root, helm).errors == 0
    monkeypatch.undo()
    assert calls[-2:] == [calls[-2], "out"] and calls[-2].endswith("-old")
    assert contents(root / "out") == contents(exchanged)
    assert leftovers(root / "out") == [] and not list(tmp_path.glob(".exchanged.*"))


def test_files_added_to_the_folder_during_the_run_are_kept(tmp_path: Path, run_cli: RunCli) -> None:
    root = tmp_path / "repo"
    repo(root, 3)
    assert run_cli(["render", "-o", "out"], cwd=root).returncode == 0
    helm = fake_helm(tmp_path, "helm", f"open({str(root / 'out' / 'late.txt')!r}, 'w').write('late')\n"
                     "os.execv(REAL, [REAL, *sys.argv[1:]])\n")
    proc = run_cli(["render", "-o", "out"], cwd=root, helm=helm)
    assert proc.returncode == 0, proc.stderr
    assert (root / "out" / "late.txt").read_text() == "late"
    assert "late.txt" not in owned(root / "out")


def test_an_output_folder_reached_through_a_link_stays_a_link(tmp_path: Path, run_cli: RunCli) -> None:
    root = tmp_path / "repo"
    repo(root, 2)
    (tmp_path / "real-out").mkdir()
    (root / "out").symlink_to(tmp_path / "real-out")
    proc = run_cli(["render", "-o", "out"], cwd=root)
    assert proc.returncode == 0, proc.stderr
    assert (root / "out").is_symlink()
    assert yaml_files(tmp_path / "real-out") == ["dev/model-000.yaml", "test/model-001.yaml"]


def test_a_sigterm_during_the_run_leaves_the_folder_and_no_process(tmp_path: Path, run_cli: RunCli) -> None:
    root = tmp_path / "repo"
    configs = repo(root, 10)
    assert run_cli(["render", "-o", "out"], cwd=root).returncode == 0
    before = snapshot(root)
    configs[0].write_text(configs[0].read_text().replace("abc0000", "abc9999"))
    changed = snapshot(root)
    assert changed != before
    helm = fake_helm(tmp_path, "helm", SLOW_REAL)
    proc = start_cli(["render", "-o", "out"], root, cli_env(helm, SLOW_HELM="30"))
    try:
        assert wait_until(lambda: bool(os.listdir(helm.parent / "helm.calls")), 60)
        os.kill(proc.pid, signal.SIGTERM)
        _, stderr = proc.communicate(timeout=30)
        assert proc.returncode == 143, stderr
    finally:
        stop(proc)
    assert still_alive(int(p) for p in os.listdir(helm.parent / "helm.calls")) == set()
    assert snapshot(root) == changed
