"""Package metadata as installed: one version source, the licence, URLs and classifiers.

The nox session `build` checks the sdist and wheel built with the pinned build tools
(tool/scripts/check_dist.py); these check the copy the tests run against."""

from __future__ import annotations

import re
import subprocess
import sys
from importlib import metadata

import modeldeploy
from conftest import REPO_ROOT


def test_one_version_source() -> None:
    assert metadata.version("modeldeploy") == modeldeploy.__version__
    pyproject = (REPO_ROOT / "pyproject.toml").read_text()
    assert re.search(r'^dynamic = \["version"\]', pyproject, re.M)
    assert not re.search(r'^version = "', pyproject, re.M)  # no second, literal copy
    proc = subprocess.run([sys.executable, "-m", "modeldeploy", "--version"], capture_output=True,
                          text=True, check=True)
    assert proc.stdout.strip() == f"modeldeploy {modeldeploy.__version__}"


def test_licence_urls_and_classifiers() -> None:
    meta = metadata.metadata("modeldeploy")
    assert meta["License-Expression"] == "Apache-2.0"
    licence = REPO_ROOT / "LICENSE"
    assert licence.read_text().split()[:5] == ["Apache", "License", "Version", "2.0,", "January"]
    installed = [f for f in metadata.files("modeldeploy") or [] if f.name == "LICENSE"]
    assert installed and installed[0].read_text() == licence.read_text()
    urls = dict(u.split(", ", 1) for u in meta.get_all("Project-URL") or [])
    assert {"Homepage", "Source", "Issues"} <= set(urls)
    classifiers = meta.get_all("Classifier") or []
    for minor in range(10, 14):
        assert f"Programming Language :: Python :: 3.{minor}" in classifiers
    assert meta["Requires-Python"] == ">=3.10"
