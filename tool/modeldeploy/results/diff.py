"""The result of `modeldeploy diff`: per deployment, what changed between two refs and why."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field

from ..diagnostics import Diagnostic, Severity
from .policy import Violation
from .sentence import Sentence

BASE, HEAD = "base", "head"
WORKING_TREE = "working tree"


@dataclass(frozen=True, order=True)
class ObjectKey:
    kind: str
    namespace: str
    name: str
    api_version: str

    @property
    def label(self) -> str:
        return f"{self.kind}/{self.name}"


@dataclass(frozen=True)
class ObjectDiff:
    key: ObjectKey
    status: str  # "added", "removed" or "changed"
    text: str  # the unified diff, lines joined by "\n", with a final "\n"
    added: int  # "+" lines, headers excluded
    removed: int


@dataclass(frozen=True)
class SideProblem:
    side: str  # BASE or HEAD
    diagnostic: Diagnostic


@dataclass
class DeploymentDiff:
    env: str
    base_config: str | None  # repository-relative path at the base; None: absent there
    head_config: str | None
    reasons: tuple[str, ...]  # why it was rendered again
    status: str  # added, removed, moved, modified or unchanged
    sentences: list[Sentence]
    objects: list[ObjectDiff]
    base_invalid: bool = False
    head_invalid: bool = False

    @property
    def config(self) -> str:
        return self.head_config or self.base_config or ""

    @property
    def name(self) -> str:
        """The deployment's folder name (what a reviewer sees in the repository)."""
        return posixpath.basename(posixpath.dirname(self.config))

    @property
    def label(self) -> str:
        return f"{self.env}/{self.name}"

    @property
    def added_lines(self) -> int:
        return sum(o.added for o in self.objects)

    @property
    def removed_lines(self) -> int:
        return sum(o.removed for o in self.objects)


@dataclass
class DiffResult:
    base: str  # the refs as given; the head may be WORKING_TREE
    head: str
    deployments: list[DeploymentDiff] = field(default_factory=list)  # the ones with something to say
    unchanged: int = 0  # rendered again, but neither manifests nor traffic changed
    problems: list[SideProblem] = field(default_factory=list)
    violations: list[Violation] = field(default_factory=list)  # rollout policy (policy/rules.py)

    @property
    def has_differences(self) -> bool:
        return any(d.objects for d in self.deployments)

    @property
    def head_errors(self) -> int:
        return sum(p.side == HEAD and p.diagnostic.severity is Severity.ERROR for p in self.problems)

    def exit_code(self, fail_on_differences: bool) -> int:
        if self.head_errors or self.violations:
            return 1
        return 1 if fail_on_differences and self.has_differences else 0
