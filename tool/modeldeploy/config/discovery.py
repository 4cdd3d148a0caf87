"""Finding config files, their environment and the repository they live in.

Layout: `<repo>/model-deployments/<env>/<name>/config.yaml`, with optional
per-environment settings in `<repo>/model-deployments/<env>/environment.yaml`.

PATH arguments never pass silently (ToolError, exit 2): a PATH that does not exist,
cannot be read, or is a folder holding no */config.yaml ("no config files under
PATH"). Anything else named config.yaml, or named as a PATH, is a config to check,
whatever it is: a FIFO, socket, device or folder gets its `io` diagnostic naming
what it is (yaml_loader), instead of being skipped.

PATH arguments are taken as a pre-commit hook passes them (`expand_paths`): an
environment.yaml stands for its environment's folder, whose configs are checked again.
Rule id:
- `file-name`: a `config.yml` or `environment.yml` is refused, since modeldeploy and Argo CD's
  ApplicationSet read only config.yaml and environment.yaml: the file would be ignored.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TypeVar

from ..diagnostics import Diagnostic, ToolError, declared_in

_declare = declared_in(__doc__, __name__)
RULE_FILE_NAME = _declare("file-name")
CONFIG_FILENAME = "config.yaml"
ENVIRONMENT_FILENAME = "environment.yaml"
DEPLOYMENTS_DIRNAME = "model-deployments"


@dataclass(frozen=True, order=True)
class ConfigFile:
    display: str  # as reported: relative to the working directory when inside it
    path: Path  # absolute

    @property
    def deployment_dir(self) -> Path:
        return self.path.parent

    @property
    def env_dir(self) -> Path:
        return self.path.parent.parent

    @property
    def env(self) -> str:
        return self.env_dir.name


def display_path(path: Path, cwd: Path) -> str:
    """`path` relative to `cwd` when inside it (as Path.relative_to, by string: a run shows thousands)."""
    text, base = str(path), str(cwd)
    if text == base:
        return "."
    prefix = base if base.endswith("/") else base + "/"
    return text[len(prefix):] if text.startswith(prefix) else text


def find_repo_root(start: Path) -> Path | None:
    """The nearest ancestor holding .git (a directory, or a file in worktrees)."""
    return _nearest_up(str(start), _ROOT_OF, _git_root)


def _git_root(folder: str) -> Path | None:
    # os.path.exists: False, not raising, where a folder is unreadable
    return Path(folder) if os.path.exists(os.path.join(folder, ".git")) else None


# A run asks for the root of each of thousands of configs, several times, and checks each for a
# symlink on its way: each folder is looked at once per run (find_configs forgets: each run
# looks anew, repositories may have been made or removed since the last).
T = TypeVar("T")
_ROOT_OF: dict[str, Path | None] = {}  # folder -> its repository root
_LINKED_FOLDERS: dict[str, bool | None] = {}  # folder -> a symlink is on the way to it (None: no)


def _nearest_up(start: str, memo: dict[str, T | None], look: Callable[[str], T | None]) -> T | None:
    """`look(folder)` of `start` or of the nearest folder above it where that is not None (None
    when there is none). Every folder walked keeps the answer in `memo`: the configs of a folder
    share the walk up."""
    walked: list[str] = []
    folder = start
    while True:
        if folder in memo:
            answer = memo[folder]
            break
        walked.append(folder)
        answer = look(folder)
        parent = os.path.dirname(folder)
        if answer is not None or parent == folder:
            break
        folder = parent
    for seen in walked:
        memo[seen] = answer
    return answer


def repository_of(config_path: Path) -> Path | None:
    """The repository root of the config; outside git, the folder above model-deployments/.

    The default charts root, and where `.modeldeploy.yaml` is looked for."""
    root = find_repo_root(config_path.parent)
    if root is not None:
        return root
    for candidate in config_path.parents:
        if candidate.name == DEPLOYMENTS_DIRNAME:
            return candidate.parent
    return None


def outside_repository(path: Path) -> str | None:
    """Why `path` is not read, when symlinks take it out of its repository; else None.

    The repository is repository_of's (outside git: the folder above
    model-deployments/, else the file's own folder). A file there that leads
    elsewhere (`config.yaml -> /etc/passwd`) is refused unread, so no message and
    no CI log can show content from outside the repository.
    """
    absolute = os.path.abspath(path)
    if not _through_symlink(absolute):  # the common case, checked with one lstat per folder
        return None
    real = os.path.realpath(absolute)
    root = repository_of(Path(absolute)) or Path(absolute).parent
    if Path(real).is_relative_to(os.path.realpath(root)):
        return None
    return (f"is a symbolic link leading outside the repository {root} (to {real}); modeldeploy reads "
            "no file outside it, so its content cannot show in messages or CI logs: replace the "
            "link with a copy of the file, or remove it")


def _through_symlink(absolute: str) -> bool:
    """Whether a symlink is on the way to `absolute` (a normalised path): 4x cheaper than realpath,
    and each folder above is looked at once per run (configs share them)."""
    found = _is_link(absolute)  # the file itself is looked at each time
    if found is not None:
        return found
    parent = os.path.dirname(absolute)
    if parent == absolute:
        return False
    above: bool | None = _nearest_up(parent, _LINKED_FOLDERS, _is_link)
    return bool(above)


def _is_link(path: str) -> bool | None:
    """True for a symlink; False (look no further) where it cannot be read: the loader reports
    it; None for anything else."""
    try:
        return True if stat.S_ISLNK(os.lstat(path).st_mode) else None
    except OSError:
        return False


def expand_paths(paths: list[str], cwd: Path) -> tuple[list[str], list[Path], list[Diagnostic]]:
    """PATH arguments as a pre-commit hook passes them: (paths, environment folders, `file-name`
    diagnostics). An environment.yaml stands for its folder; config.yml and environment.yml
    are refused."""
    expanded: list[str] = []
    env_dirs: list[Path] = []
    problems: list[Diagnostic] = []
    for raw in paths:
        name = Path(raw).name
        if name in (CONFIG_FILENAME[:-4] + "yml", ENVIRONMENT_FILENAME[:-4] + "yml"):
            wanted = name[:-3] + "yaml"
            problems.append(RULE_FILE_NAME.at(display_path(cwd / raw, cwd), 1, 1,
                                              f"modeldeploy and Argo CD read "
          f"only `{wanted}`, so this file is ignored: rename it to {wanted}"))
        elif name == ENVIRONMENT_FILENAME and os.path.isfile(cwd / raw):  # False, not raising, on EACCES
            env_dirs.append(Path(os.path.abspath(cwd / raw)).parent)
            expanded.append(str(Path(raw).parent))
        else:
            expanded.append(raw)
    if paths and not expanded:  # only refused names: nothing else to check
        return [], env_dirs, problems
    return expanded, env_dirs, problems


def default_paths(cwd: Path) -> list[str]:
    root = find_repo_root(cwd) or cwd
    deployments = root / DEPLOYMENTS_DIRNAME
    if not os.path.isdir(deployments):
        raise ToolError(f"no PATH given and no {DEPLOYMENTS_DIRNAME}/ folder in {root}; "
                        "name config files or folders to check")
    return [str(deployments)]


def find_configs(paths: list[str], cwd: Path, may_be_empty: frozenset[Path] = frozenset(),
                 ) -> list[ConfigFile]:
    """Config files named by `paths` (files as given, folders searched for */config.yaml).

    A folder in `may_be_empty` (absolute) may hold no config (an environment folder
    checked for its environment.yaml)."""
    _LINKED_FOLDERS.clear()  # a new run: each folder is looked at anew
    _ROOT_OF.clear()
    found: dict[Path, ConfigFile] = {}
    for raw in paths:
        path = (cwd / raw) if not os.path.isabs(raw) else Path(raw)
        absolute = Path(os.path.abspath(path))
        try:
            mode = os.stat(path).st_mode
        except OSError as exc:
            raise ToolError(_unusable(raw, path, exc)) from exc
        if stat.S_ISDIR(mode):
            configs = _walk(path, raw)
            if not configs and absolute not in may_be_empty:
                raise ToolError(_no_configs(raw, path))
            for config in configs:
                config_path = Path(os.path.abspath(config))
                found[config_path] = ConfigFile(display_path(config_path, cwd), config_path)
        else:  # a regular file, or a FIFO, socket, device: the loader says which
            found[absolute] = ConfigFile(display_path(absolute, cwd), absolute)
    return sorted(found.values())


def _unusable(raw: str, path: Path, exc: OSError) -> str:
    if isinstance(exc, FileNotFoundError) and os.path.islink(path):
        return f"{raw}: a symbolic link to {os.readlink(path)}, which does not exist"
    if isinstance(exc, FileNotFoundError):
        return f"{raw}: no such file or directory"
    return f"{raw}: {exc.strerror}"


def _no_configs(raw: str, path: Path) -> str:
    message = f"no config files under {raw}: folders are searched for <name>/{CONFIG_FILENAME}"
    if path.name == CONFIG_FILENAME:
        return f"{message}; {raw} is itself a directory, not a file"
    if os.path.lexists(path / CONFIG_FILENAME):
        return f"{message}; to check the one in this folder, name it: {os.path.join(raw, CONFIG_FILENAME)}"
    return f"{message}; this folder holds none"


def _walk(root: Path, shown: str) -> list[str]:
    """Every <folder>/config.yaml under `root`, of whatever kind (a folder named config.yaml too).

    os.walk's answer (symlinked folders listed, not entered; hidden ones and folders named
    config.yaml not entered), with one scandir per folder and no Path objects: a repository
    has a folder per deployment, and this runs before any other work can start."""
    top = str(root)
    configs: list[str] = []
    folders = [top]
    while folders:
        folder = folders.pop()
        below: list[str] = []
        found = False
        try:
            with os.scandir(folder) as entries:
                for entry in entries:
                    if entry.name == CONFIG_FILENAME:
                        found = True
                    elif not entry.name.startswith(".") and _is_folder(entry):
                        below.append(entry.path)
        except OSError as exc:
            where = exc.filename if exc.filename is not None else root
            raise ToolError(f"cannot search {where} (under {shown}) for config files: "
                            f"{exc.strerror}") from exc
        if found and folder != top:
            configs.append(os.path.join(folder, CONFIG_FILENAME))
        folders += sorted(below, reverse=True)  # depth first, in name order
    return configs


def _is_folder(entry: os.DirEntry[str]) -> bool:
    """A folder os.walk would enter: a real one, not a symlink to one."""
    try:
        return entry.is_dir(follow_symlinks=False)
    except OSError:
        return False


@lru_cache(maxsize=4096)  # a repo has few charts and many configs naming the same one
def resolve_chart(charts_root: Path, chart_path: str) -> tuple[Path | None, str | None]:
    """The chart folder `chart_path` names under `charts_root`, or why it names none.

    Refuses absolute paths and anything that leaves the charts root, including
    through `..` or a symlink, so a config cannot render a chart from elsewhere.
    OS errors (a name too long, a folder without permission) propagate: the
    chart-path rule reports them with their reason.
    """
    if os.path.isabs(chart_path):
        return None, "is an absolute path; give it relative to the charts root"
    if ".." in Path(chart_path).parts:
        return None, "contains `..`; it must stay inside the charts root"
    root = charts_root.resolve()
    candidate = (charts_root / chart_path).resolve()
    if not candidate.is_relative_to(root):
        return None, f"leads outside the charts root {charts_root} (through a symlink)"
    if not candidate.is_dir():
        return None, f"names no folder under the charts root {charts_root}"
    if not (candidate / "Chart.yaml").is_file():
        return None, f"names a folder without Chart.yaml under the charts root {charts_root}"
    return candidate, None
