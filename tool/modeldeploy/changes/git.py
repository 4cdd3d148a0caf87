"""The few read-only git commands `modeldeploy diff` needs, and extracting what it renders.

Nothing in the user's repository is written: a ref is read with `git ls-tree` and
`git cat-file` into a temporary folder (no worktree metadata), the working tree (the default head) is
read in place, and git runs plumbing commands only, with GIT_OPTIONAL_LOCKS=0, so
not even the index's stat cache gets refreshed.

From a ref, only what rendering the affected configs reads is extracted: the configs,
their environment.yaml, the repository's rule settings (.modeldeploy.yaml) and (charts in
the repository) the chart folders they name,
following symbolic links that stay in the repository to what they point at. A link
anywhere else in the repository never matters; one that leads out of the repository
from what is extracted is refused (exit 2), never followed.
"""

from __future__ import annotations

import os
import posixpath
import subprocess
from collections.abc import Iterable, Sequence
from pathlib import Path

from ..config.discovery import DEPLOYMENTS_DIRNAME
from ..config.settings_file import SETTINGS_FILENAME
from ..diagnostics import ToolError
from ..fileio import write_all
from .affected import chart_folder_of, under, with_environments


def repository_root(cwd: Path) -> Path:
    proc = _git_run(["rev-parse", "--show-toplevel"], cwd)
    if proc.returncode != 0:
        raise ToolError(f"modeldeploy diff compares git refs: run it inside a git repository "
                        f"({cwd} is not in one)")
    return Path(os.fsdecode(proc.stdout).strip())


def _git_env() -> dict[str, str]:
    # Optional locks off: even read-only git commands may otherwise rewrite the index.
    return {**os.environ, "GIT_OPTIONAL_LOCKS": "0", "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}


def _git_run(args: list[str], cwd: Path, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(["git", "--literal-pathspecs", *args], cwd=cwd, input=stdin,
                              capture_output=True, env=_git_env(), check=False)
    except FileNotFoundError as exc:
        raise ToolError("git not found: modeldeploy diff needs git on PATH") from exc


class Git:
    """The few read-only git commands diff needs, run at the repository root."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def run(self, *args: str, stdin: bytes | None = None) -> bytes:
        proc = _git_run(list(args), self.root, stdin)
        if proc.returncode != 0:
            message = " ".join(os.fsdecode(proc.stderr).split())[:400]
            raise ToolError(f"git {args[0]} failed in {self.root}: {message}")
        return proc.stdout

    def commit(self, ref: str, option: str) -> str:
        proc = _git_run(["rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}"],
                        self.root)
        if proc.returncode != 0:
            raise ToolError(f"{option} {ref}: no such commit in {self.root} (give a branch, tag or "
                            "commit; in CI fetch it first, e.g. actions/checkout with fetch-depth: 0)")
        return os.fsdecode(proc.stdout).strip()

    def charts_prefix(self, charts_root: Path | None, sha: str) -> str | None:
        """Where the charts root is in the repository ("" the root), None when outside it.

        Untracked folders and submodules count as outside: the base's tree does not
        contain them.
        """
        if charts_root is None:
            return ""
        relative = os.path.relpath(os.path.realpath(charts_root), os.path.realpath(self.root))
        if relative == os.curdir:
            return ""
        if relative == os.pardir or relative.startswith(os.pardir + os.sep):
            return None
        prefix = Path(relative).as_posix()
        kind = _git_run(["cat-file", "-t", f"{sha}:{prefix}"], self.root)
        return prefix if kind.returncode == 0 and kind.stdout.strip() == b"tree" else None

    def deployment_files(self, sha: str) -> set[str]:
        out = self.run("ls-tree", "-r", "-z", "--name-only", sha, "--", DEPLOYMENTS_DIRNAME)
        return {os.fsdecode(p) for p in out.split(b"\0") if p}

    def changed_paths(self, base: str, head: str | None) -> set[str]:
        if head is not None:
            out = self.run("diff-tree", "-r", "-z", "--no-renames", "--name-only", base, head)
            return {os.fsdecode(p) for p in out.split(b"\0") if p}
        # Working tree: tracked changes (plumbing: no index refresh), then untracked files.
        fields = self.run("diff-index", "-z", "--no-renames", base).split(b"\0")
        changed: set[str] = set()
        unhashed: dict[str, str] = {}  # path -> base blob; stat-dirty entries git did not hash
        for meta, raw_path in zip(fields[0::2], fields[1::2], strict=False):
            if not meta:
                continue
            _, _, old_sha, new_sha, status = os.fsdecode(meta).split(" ")
            path = os.fsdecode(raw_path)
            if status == "M" and set(new_sha) == {"0"} and (self.root / path).is_file():
                unhashed[path] = old_sha
            else:
                changed.add(path)
        if unhashed:
            # --stdin-paths reads one name a line: a name with a newline is hashed on its own
            names = sorted(n for n in unhashed if "\n" not in n)
            hashes = os.fsdecode(self.run("hash-object", "--stdin-paths",
                                          stdin="".join(f"{n}\n" for n in names).encode())).split()
            for odd in sorted(n for n in unhashed if "\n" in n):
                names.append(odd)
                hashes.append(os.fsdecode(self.run("hash-object", "--", odd)).strip())
            changed.update(n for n, h in zip(names, hashes, strict=True) if h != unhashed[n])
        untracked = self.run("ls-files", "-z", "--others", "--exclude-standard")
        changed.update(os.fsdecode(p) for p in untracked.split(b"\0") if p)
        return changed

    def read_blobs(self, sha: str, paths: list[str]) -> dict[str, bytes]:
        """The files `paths` at commit `sha`; a missing one is left out."""
        blobs = self.read_specs([f"{sha}:{path}" for path in paths])
        return {path: blobs[f"{sha}:{path}"] for path in paths if f"{sha}:{path}" in blobs}

    def read_specs(self, specs: list[str]) -> dict[str, bytes]:
        """The blobs named by `<rev>:<path>` specs, in one `git cat-file --batch`; a missing one
        (or one that is no file) is left out."""
        if not specs:
            return {}
        out = self.run("cat-file", "--batch", stdin="".join(f"{spec}\n" for spec in specs).encode())
        blobs: dict[str, bytes] = {}
        position = 0
        for spec in specs:
            end = out.index(b"\n", position)
            header = out[position:end].split()
            position = end + 1
            if len(header) != 3 or header[1] != b"blob":
                continue  # "<spec> missing", or not a file
            size = int(header[2])
            blobs[spec] = out[position:position + size]
            position += size + 1
        return blobs

    def extract_deployments(self, sha: str, configs: list[str], files: set[str], charts_prefix: str | None,
                            dest: Path) -> None:
        """Extract what rendering `configs` at `sha` reads (see the module doc) into `dest`."""
        dest.mkdir(parents=True)
        done: list[str] = []
        self._extract_with_links(sha, with_environments(configs, files), dest, done)
        if self.tree_entry(sha, SETTINGS_FILENAME) is not None:  # the rule settings at that ref
            self._extract_with_links(sha, [SETTINGS_FILENAME], dest, done)
        if charts_prefix is None:
            return
        folders = set()
        for config in configs:
            try:
                blob = (dest / config).read_bytes()  # a link: to what was extracted for it
            except OSError:
                continue
            folder = chart_folder_of(blob)
            if folder is not None:
                folders.add(posixpath.join(charts_prefix, folder) if charts_prefix else folder)
        self._extract_with_links(sha, sorted(folders), dest, done)

    def _extract_with_links(self, sha: str, paths: list[str], dest: Path, done: list[str]) -> None:
        """Extract `paths`, then what the links among them point at, until nothing new is named."""
        for _ in range(_MAX_LINK_ROUNDS):
            paths = [p for p in paths if not any(under(p, d) for d in done)]
            entries = self.tree_entries(sha, paths)
            specs: set[str] = set()
            for path in paths:
                if path in entries and entries[path][0] != _LINK_MODE:
                    specs.add(path)  # the common case: no link on the way
                    continue
                resolved, links = self.resolve(sha, path)
                specs.update(p for p in [*links, resolved] if p and not any(under(p, d) for d in done))
            if not specs:
                return
            self.extract(sha, sorted(specs), dest)
            done.extend(specs)
            paths = sorted(_link_targets(dest, specs))

    def tree_entries(self, sha: str, paths: Sequence[str]) -> dict[str, tuple[bytes, bytes]]:
        """path -> (mode, object) in the tree of `sha`, for those of `paths` git has an entry for."""
        entries: dict[str, tuple[bytes, bytes]] = {}
        for start in range(0, len(paths), 500):  # a command line of reasonable length
            chunk = paths[start:start + 500]
            for record in self.run("ls-tree", "-z", sha, "--", *chunk).split(b"\0"):
                meta, _, name = record.partition(b"\t")
                if name:
                    mode, _, rest = meta.partition(b" ")
                    entries[os.fsdecode(name)] = (mode, rest.partition(b" ")[2])
        wanted = set(paths)
        return {path: entry for path, entry in entries.items() if path in wanted}

    def tree_entry(self, sha: str, path: str) -> tuple[bytes, bytes] | None:
        return self.tree_entries(sha, [path]).get(path)

    def resolve(self, sha: str, path: str) -> tuple[str | None, list[str]]:
        """`path` with the links in it followed as the filesystem would, and the links passed.

        None for the path when it is missing or a link leads out of the repository."""
        links: list[str] = []
        pending, current = path.split("/"), ""
        for _ in range(_MAX_LINK_ROUNDS):
            if not pending:
                return current, links
            candidate = posixpath.join(current, pending[0]) if current else pending[0]
            entry = self.tree_entry(sha, candidate)
            if entry is None:
                return None, links
            if entry[0] != _LINK_MODE:
                current, pending = candidate, pending[1:]
                continue
            links.append(candidate)
            target = os.fsdecode(self.run("cat-file", "blob", os.fsdecode(entry[1])))
            joined = posixpath.normpath(posixpath.join(current, target))
            if posixpath.isabs(target) or joined == os.pardir or joined.startswith(os.pardir + "/"):
                return None, links  # leads out: extracted as a link, which extract refuses
            pending, current = ([] if joined == "." else joined.split("/")) + pending[1:], ""
        return None, links

    def extract(self, sha: str, specs: list[str], dest: Path) -> None:
        """The files under `specs` at `sha`, written into `dest` as `git archive | tar -x` with
        tar's "data" filter writes them: a link to an absolute path or out of `dest`, or a
        path leading out of it, is refused (ToolError) before anything is written for it.

        From `git ls-tree` and one `git cat-file --batch`: ~3x faster than reading an archive."""
        if not specs:
            return
        wanted = set(specs)
        entries: dict[str, tuple[bytes, bytes]] = {}  # path -> (mode, object)
        for start in range(0, len(specs), 500):  # a command line of reasonable length
            for record in self.run("ls-tree", "-r", "-z", sha, "--", *specs[start:start + 500]).split(b"\0"):
                meta, _, name = record.partition(b"\t")
                path = os.fsdecode(name)
                if name and _is_under_any(path, wanted):
                    mode, _, rest = meta.partition(b" ")
                    entries[path] = (mode, rest.partition(b" ")[2])
        blobs = self.read_specs(sorted({os.fsdecode(obj) for mode, obj in entries.values()
                                        if mode != _SUBMODULE_MODE}))
        real_dest = os.path.realpath(dest)
        folders: set[str] = set()
        for path in sorted(entries):
            mode, obj = entries[path]
            refusal = _leaves(path, real_dest, dest, folders)
            data = blobs.get(os.fsdecode(obj))
            if refusal is None and mode == _LINK_MODE and data is not None:
                refusal = _link_leaves(path, os.fsdecode(data), real_dest)
            if refusal is not None:
                raise ToolError(f"cannot extract {sha[:12]} from git: {refusal}")
            target = os.path.join(dest, path)
            if mode == _SUBMODULE_MODE:  # as git archive: an empty folder
                os.makedirs(target, exist_ok=True)
            elif data is None:
                raise ToolError(f"cannot extract {sha[:12]} from git: no object {os.fsdecode(obj)} "
                                f"for '{path}'")
            elif mode == _LINK_MODE:
                os.symlink(os.fsdecode(data), target)
            else:
                fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW,
                             0o755 if mode == b"100755" else 0o644)
                try:
                    write_all(fd, data)
                finally:
                    os.close(fd)


def _is_under_any(path: str, specs: set[str]) -> bool:
    """`path` is one of `specs` or inside one of them."""
    if path in specs:
        return True
    position = path.find("/")
    while position != -1:
        if path[:position] in specs:
            return True
        position = path.find("/", position + 1)
    return False


def _leaves(path: str, real_dest: str, dest: Path, folders: set[str]) -> str | None:
    """Why writing `path` would leave `dest` (tar's data filter's words); else None, its folder made."""
    parts = path.split("/")
    if path.startswith("/") or any(part in ("", ".", "..") for part in parts):
        return f"'{path}' would be extracted to a path outside the destination"
    folder = os.path.dirname(path)
    if folder and folder not in folders:
        made = os.path.join(dest, folder)
        os.makedirs(made, exist_ok=True)
        real = os.path.realpath(made)  # a link extracted before may stand on the way
        if real != real_dest and not real.startswith(real_dest + os.sep):
            return f"'{path}' would be extracted to a path outside the destination"
        folders.add(folder)
    return None


def _link_leaves(path: str, target: str, real_dest: str) -> str | None:
    """Why the link `path` -> `target` leads out (tar's data filter's words); else None."""
    if os.path.isabs(target):
        return f"'{path}' is a link to an absolute path"
    joined = os.path.normpath(os.path.join(real_dest, os.path.dirname(path), target))
    if joined != real_dest and not joined.startswith(real_dest + os.sep):
        return f"'{path}' would link to '{joined}', which is outside the destination"
    return None


_LINK_MODE = b"120000"
_SUBMODULE_MODE = b"160000"
_MAX_LINK_ROUNDS = 40  # as the kernel's limit on links followed in one path


def _link_targets(dest: Path, extracted: Iterable[str]) -> set[str]:
    """Repository paths the links under the extracted paths point at (inside the repository)."""
    targets: set[str] = set()
    for spec in extracted:
        top = dest / spec
        found = [top] if top.is_symlink() else []
        if top.is_dir() and not top.is_symlink():
            for current, dirs, names in os.walk(top):
                found += [Path(current) / n for n in [*dirs, *names] if (Path(current) / n).is_symlink()]
        for link in found:
            relative = link.relative_to(dest).as_posix()
            joined = posixpath.normpath(posixpath.join(posixpath.dirname(relative), os.readlink(link)))
            if not posixpath.isabs(joined) and joined != os.pardir and not joined.startswith(os.pardir + "/"):
                targets.add(joined)
    return targets


def working_tree_deployment_files(root: Path) -> set[str]:
    files: set[str] = set()
    top = root / DEPLOYMENTS_DIRNAME
    for current, dirs, names in os.walk(top):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        relative = Path(current).relative_to(root).as_posix()
        files.update(f"{relative}/{n}" for n in names)
    return files
