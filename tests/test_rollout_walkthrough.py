"""docs/rollout.md's walkthrough is the output of a real run (tool/scripts/rollout_walkthrough.py).

The run is repeated here with the real CLI and helm, and must print what the document
shows, commit ids aside: they hash every byte of the chart and model-deployments/
the run copies, so a chart change alone does not make the walkthrough stale.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest

from conftest import REPO_ROOT

SCRIPT = REPO_ROOT / "tool" / "scripts" / "rollout_walkthrough.py"
COMMIT_ID = re.compile(r"^[0-9a-f]{10}(?=  )", re.M)


def _load() -> object:
    sys.path.insert(0, str(SCRIPT.parent))
    spec = importlib.util.spec_from_file_location("rollout_walkthrough", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_walkthrough_in_docs_is_the_output_of_a_real_run(helm4: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HELM_BIN", str(helm4))
    walkthrough = _load()
    wanted = walkthrough.document()[walkthrough.DOC]  # type: ignore[attr-defined]
    current = walkthrough.DOC.read_text("utf-8")  # type: ignore[attr-defined]
    assert COMMIT_ID.sub("<commit>", current) == COMMIT_ID.sub("<commit>", wanted), \
        "docs/rollout.md's walkthrough is stale: run python tool/scripts/rollout_walkthrough.py"
    # It shows the flow it claims: each step's real words are there.
    for words in ("[policy-require-canary]", "[policy-step]", "canary traffic 20% -> 50%",
                  "promotion: the canary is removed", "rollback: all traffic returns",
                  "would send all traffic to the version that was rolled back", "(exit 1)"):
        assert words in current, words
