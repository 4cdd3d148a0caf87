"""The pinned helm builds: each is the upstream release it claims to be, `install-helm` installs
any of them by version, and the chart renders the same golden files under every one of them
(helm_bin covers each major's default; this covers the other pinned versions)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from conftest import REPO_ROOT, RunCli
from golden import assert_golden
from modeldeploy.diagnostics import ToolError
from modeldeploy.render import helm as helm_runner
from modeldeploy.render import helm_install
from test_render_golden import CASES

DEFAULTS = {release.version for release in helm_install.HELM_RELEASES.values()}
OTHERS = [r for r in helm_install.PINNED_RELEASES if r.version not in DEFAULTS]


def installed(release: helm_install.HelmRelease) -> Path:
    if not helm_install.is_installed(release.version):
        pytest.fail(f"helm {release.version} is not installed: run the tests through `nox -s tests` "
                    "(`modeldeploy install-helm --major all`)")
    return helm_install.installed_path(release.version)


@pytest.mark.parametrize("release", helm_install.PINNED_RELEASES, ids=lambda r: r.version)
def test_each_pinned_build_reports_its_upstream_release(release: helm_install.HelmRelease) -> None:
    proc = subprocess.run([str(installed(release)), "version", "--template", "{{.Version}} {{.GitCommit}}"],
                          capture_output=True, text=True, check=True, timeout=30)
    assert proc.stdout.split() == [release.version, release.upstream_commit]


def test_pins_are_consistent() -> None:
    versions = [r.version for r in helm_install.PINNED_RELEASES]
    assert len(set(versions)) == len(versions)
    assert {r.major for r in helm_install.PINNED_RELEASES} == {"3", "4"}
    for major, release in helm_install.HELM_RELEASES.items():
        assert release.major == major and release in helm_install.PINNED_RELEASES
    for release in helm_install.PINNED_RELEASES:
        assert helm_install.release(release.version) is release
        assert helm_install.release(release.version[1:]) is release
        assert len(release.sha256) == 64 and release.npm_integrity.startswith("sha512-")
    order = helm_install.fallback_order()
    assert order[0] is helm_install.HELM_RELEASES[helm_install.DEFAULT_MAJOR]
    assert sorted(r.version for r in order) == sorted(versions)


def test_an_unpinned_version_is_refused_with_the_way_out() -> None:
    with pytest.raises(ToolError, match=r"helm 3\.19\.4 is not a pinned build .*HELM_BIN"):
        helm_install.release("3.19.4")


@pytest.mark.parametrize(("args", "code", "text"), [
    (["--version", "3.19.4"], 2, "3.19.4 is not a pinned build"),
    (["--version", "4.2.3", "--major", "4"], 2, "not allowed with argument"),
])
def test_install_helm_refuses_bad_requests(run_cli: RunCli, args: list[str], code: int, text: str) -> None:
    proc = run_cli(["install-helm", *args])
    assert proc.returncode == code
    assert text in proc.stderr


@pytest.mark.parametrize("release", helm_install.PINNED_RELEASES, ids=lambda r: r.version)
def test_install_helm_by_version_reports_the_verified_copy(run_cli: RunCli,
                                                           release: helm_install.HelmRelease) -> None:
    path = installed(release)  # already there and verified: no download
    proc = run_cli(["install-helm", "--version", release.version[1:]])
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == f"helm {release.version}: {path}\n"


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("release", OTHERS, ids=lambda r: r.version)
def test_render_matches_golden_under_every_other_pinned_helm(case: str, release: helm_install.HelmRelease,
                                                            run_cli: RunCli) -> None:
    proc = run_cli(["render", str(CASES[case])], helm=installed(release))
    assert proc.returncode == 0, proc.stderr
    assert_golden(f"render/{case}.yaml", proc.stdout)


def test_readme_names_every_pinned_build() -> None:
    readme = (REPO_ROOT / "README.md").read_text()
    for release in helm_install.PINNED_RELEASES:
        row = next((line for line in readme.splitlines() if line.startswith(f"| {release.version[1:]} ")), "")
        assert f"`{release.npm_package}@{release.npm_version}`" in row, release.version
        assert f"`{release.sha256}`" in row and f"`{release.upstream_commit[:8]}`" in row


@pytest.mark.parametrize(("version", "user", "expected"), [
    ("v4.1.4", {}, {"GOGC": "off", "GOMEMLIMIT": "72MiB"}),  # collects near the limit only
    ("v3.18.0", {}, {"GOGC": "off", "GOMEMLIMIT": "72MiB"}),
    ("v3.11.3", {}, {"GOGC": "400", "GOMEMLIMIT": "72MiB"}),  # may predate GOMEMLIMIT: never off
    ("unknown", {}, {"GOGC": "400", "GOMEMLIMIT": "72MiB"}),
    ("v4.1.4", {"GOMEMLIMIT": "1GiB"}, {"GOGC": "400", "GOMEMLIMIT": "1GiB"}),  # theirs: not off
    ("v4.1.4", {"GOGC": "100"}, {"GOGC": "100", "GOMEMLIMIT": "72MiB"}),
])
def test_helm_collects_garbage_off_only_below_a_memory_limit(monkeypatch: pytest.MonkeyPatch, version: str,
                                                             user: dict[str, str],
                                                             expected: dict[str, str]) -> None:
    for name in ("GOGC", "GOMEMLIMIT", "GOMAXPROCS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in user.items():
        monkeypatch.setenv(name, value)
    env = helm_runner._helm_env(helm_runner.Helm("/bin/helm", version))
    assert {name: env[name] for name in expected} == expected
    assert env["GOMAXPROCS"] == "1"
