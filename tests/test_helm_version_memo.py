"""`helm version` is asked and the binary hashed once per binary file (render/binary_facts.py
keeps the answers in the user cache): again when the binary changes, and whatever the cache
file holds, the answer is helm's."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from modeldeploy.diagnostics import ToolError
from modeldeploy.render import binary_facts, helm_install
from modeldeploy.render import helm as helm_runner

REAL_SHA256 = hashlib.sha256  # the tests count the calls of a wrapper around it


def fake_helm(folder: Path, version: str) -> tuple[Path, Path]:
    """A helm that answers `version` with `version` and counts how often it was asked."""
    calls = folder / "calls"
    helm = folder / "helm"
    helm.write_text(f"#!/bin/sh\necho x >> {calls}\nprintf '{version}'\n")
    helm.chmod(0o755)
    return helm, calls


def asked(calls: Path) -> int:
    return len(calls.read_text().splitlines()) if calls.exists() else 0


def find(helm: Path) -> helm_runner.Helm:
    helm_runner._checked.cache_clear()  # a new run: only the file remembers
    return helm_runner.find_helm({"HELM_BIN": str(helm)})


@pytest.fixture
def hashes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """One item per sha256 binary_facts computes."""
    hashed: list[str] = []

    def counting_sha256(*args: object) -> object:
        hashed.append("x")
        return REAL_SHA256(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(hashlib, "sha256", counting_sha256)  # binary_facts imports hashlib on use
    return hashed


@pytest.fixture(autouse=True)
def own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MODELDEPLOY_CACHE", str(tmp_path / "cache"))
    yield tmp_path / "cache"
    helm_runner._checked.cache_clear()


def test_the_version_is_asked_once_per_binary(tmp_path: Path) -> None:
    helm, calls = fake_helm(tmp_path, "v4.1.4")
    assert [find(helm).version for _ in range(3)] == ["v4.1.4"] * 3
    assert asked(calls) == 1


def test_a_binary_rewritten_in_place_is_asked_again(tmp_path: Path) -> None:
    helm, calls = fake_helm(tmp_path, "v4.1.4")
    assert find(helm).version == "v4.1.4"
    fake_helm(tmp_path, "v3.18.0")  # same path, same size, new content
    assert find(helm).version == "v3.18.0"
    assert asked(calls) == 2


def test_a_binary_replaced_by_another_file_is_asked_again(tmp_path: Path) -> None:
    helm, _ = fake_helm(tmp_path, "v4.1.4")
    assert find(helm).version == "v4.1.4"
    (tmp_path / "other").mkdir()
    other, _ = fake_helm(tmp_path / "other", "v3.18.0")
    os.replace(other, helm)
    assert find(helm).version == "v3.18.0"


@pytest.mark.parametrize("content", ["", "{", "[]", '{"HELM": 1}', "\xff"])
def test_a_damaged_cache_file_is_not_believed(tmp_path: Path, own_cache: Path, content: str) -> None:
    helm, calls = fake_helm(tmp_path, "v4.1.4")
    own_cache.mkdir(parents=True)
    (own_cache / "helm-versions.json").write_text(content.replace("HELM", str(helm)),
                                                  errors="surrogateescape")
    assert find(helm).version == "v4.1.4"
    assert find(helm).version == "v4.1.4" and asked(calls) == 1  # and it was repaired


def test_a_remembered_answer_that_is_no_helm_version_is_asked_again(tmp_path: Path, own_cache: Path) -> None:
    helm, calls = fake_helm(tmp_path, "v4.1.4")
    find(helm)
    path = own_cache / "helm-versions.json"
    path.write_text(path.read_text().replace("v4.1.4", "v9"))
    assert find(helm).version == "v4.1.4" and asked(calls) == 2


def test_a_cache_that_cannot_be_written_still_answers(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    helm, calls = fake_helm(tmp_path, "v4.1.4")
    (tmp_path / "a-file").write_text("")
    monkeypatch.setenv("MODELDEPLOY_CACHE", str(tmp_path / "a-file" / "cache"))  # even root cannot
    assert find(helm).version == "v4.1.4" and find(helm).version == "v4.1.4"
    assert asked(calls) == 2


def test_what_is_no_helm_is_still_refused(tmp_path: Path) -> None:
    helm, _ = fake_helm(tmp_path, "v9.0.0")
    with pytest.raises(ToolError, match="supports Helm 3 and Helm 4"):
        find(helm)


def test_the_binary_is_hashed_once_and_again_when_it_changes(tmp_path: Path, hashes: list[str]) -> None:
    helm, _ = fake_helm(tmp_path, "v4.1.4")
    hashed = hashes
    first = binary_facts.sha256(str(helm))
    assert first == REAL_SHA256(helm.read_bytes()).hexdigest() and len(hashed) == 1
    assert binary_facts.sha256(str(helm)) == first and len(hashed) == 1
    assert find(helm).version == "v4.1.4"  # the version joins the same entry: neither forgets the other
    assert binary_facts.sha256(str(helm)) == first and len(hashed) == 1
    fake_helm(tmp_path, "v4.1.50")  # another size: a rewrite within one clock tick keeps the times
    assert binary_facts.sha256(str(helm)) == REAL_SHA256(helm.read_bytes()).hexdigest() != first
    assert len(hashed) == 2


def test_an_installed_helm_is_hashed_once_per_file(hashes: list[str]) -> None:
    """install-helm's copy is checked against its pinned sha256 on every run that finds it, from
    the remembered digest while the file is the same one; a changed copy is hashed and refused."""
    pinned = helm_install.release(helm_install.DEFAULT_MAJOR)
    path = helm_install.installed_path(pinned.version)  # in own_cache's folder
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not the pinned helm")
    hashed = hashes
    assert not helm_install.is_installed(pinned.version)
    assert not helm_install.is_installed(pinned.version)
    assert len(hashed) == 1  # the second run used the remembered digest
    path.write_bytes(b"another binary, another size")
    assert not helm_install.is_installed(pinned.version)
    assert len(hashed) == 2
