"""A throw-away git repository of model-deployments/ that tests write, commit and diff."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path


def fixed_git_env(author: str) -> dict[str, str]:
    """Git's environment for reproducible commits: `author` at a fixed date, no user or system config."""
    email = f"{author.lower()}@example.com"
    return {"GIT_AUTHOR_NAME": author, "GIT_AUTHOR_EMAIL": email,
            "GIT_COMMITTER_NAME": author, "GIT_COMMITTER_EMAIL": email,
            "GIT_AUTHOR_DATE": "2026-01-01T00:00:00Z", "GIT_COMMITTER_DATE": "2026-01-01T00:00:00Z",
            "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}


class GitRepo:
    """The files and commits of a test repository; `git_env` fixes the author and the dates."""

    def __init__(self, root: Path, git_env: dict[str, str]) -> None:
        self.root, self.git_env = root, git_env

    def git(self, *args: str) -> str:
        return subprocess.run(["git", *args], cwd=self.root, env={**os.environ, **self.git_env},
                              capture_output=True, text=True, check=True).stdout

    def write(self, relative: str, text: str) -> None:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")

    def config(self, deployment: str, text: str) -> None:
        self.write(f"model-deployments/{deployment}/config.yaml", text)

    def commit(self, message: str) -> None:
        self.git("add", "--all")
        self.git("commit", "--quiet", "--allow-empty", "-m", message)
