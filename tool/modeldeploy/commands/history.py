"""`modeldeploy history ENV/NAME`: what one deployment ran over time, from the git history of its config.

Each commit that changed `model-deployments/ENV/NAME/config.yaml` (reachable from HEAD, as
`git log -- PATH` lists them, newest first) is described with the sentences `diff` uses
(explain/rollout_summary.py), comparing the config with the one of the commit's first parent.
A commit that changed other settings only says so. Reading git only: nothing is written.
"""

from __future__ import annotations

from pathlib import Path

from ..changes.git import Git, repository_root
from ..config.deployment_refs import UnknownDeployment, find_deployment
from ..diagnostics import ToolError
from ..explain.rollout_summary import RolloutState, describe_change
from ..policy.check import has_commits
from ..policy.history import History
from ..results.history import HistoryEntry
from ..results.sentence import Sentence

UNCHANGED_TRAFFIC = Sentence("settings-change", "other settings changed; traffic unchanged")


def deployment_history(root: Path, ref: str, cwd: Path) -> list[HistoryEntry]:
    """The transitions of ENV/NAME, newest first. A deployment removed since is found in history too."""
    env, sep, name = ref.strip("/").partition("/")
    if not sep or not env or not name or "/" in name:
        raise ToolError(f"{ref!r}: name a deployment as ENV/NAME, e.g. test/jukebox")
    git = Git(repository_root(root))
    path = (root / env / name / "config.yaml").resolve().relative_to(git.root.resolve()).as_posix()
    revisions = History(git, ["HEAD"]).revisions(path) if has_commits(git) else []
    if not revisions:
        find_deployment(root, ref, cwd)  # an unknown name: the error lists those that exist
        raise UnknownDeployment(f"{ref}: no commit changed {path} yet (commit it first)")
    entries = []
    for revision in revisions:
        before = RolloutState.from_values(revision.before) if revision.before is not None else None
        after = RolloutState.from_values(revision.after) if revision.after is not None else None
        sentences = describe_change(before, after) or [UNCHANGED_TRAFFIC]
        entries.append(HistoryEntry(revision.commit, revision.date, revision.author, revision.subject,
                                    sentences))
    return entries
