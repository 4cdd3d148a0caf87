"""Command line: the only module that parses arguments, prints and chooses exit codes.

Exit codes: 0 all good; 1 the checked files have problems; 2 usage or environment
error (bad option, missing path, no helm); 3 internal error (a bug in modeldeploy).

Habits (every parser is a _Parser, so a new subcommand has them by construction): `--help`
with examples and an epilog naming the docs and exit codes; `--color auto|always|never`
(NO_COLOR, FORCE_COLOR) and `-q/--quiet` before or after the command; a usage error is one
line naming the fix, exit 2; a one-line summary on stderr after the report (not with -q, not
in a machine format); `completion bash|zsh|fish` writes a script from the parser itself.

Output rules:
- every line printed passes through safe_output.escape (the writers escape theirs):
  no path, name or value can add a line, a terminal escape or a CI workflow command;
- `--format json` prints exactly one JSON document, whatever the exit code: on
  exit 2, 3 or 130 (and when `status` names an unknown deployment) it is the
  command's document with no results and a `failure` object (`exit_code`, `kind`,
  `message`). It goes where the command prints its report: stdout, except for
  `render`, whose stdout is the manifest stream (it stays empty on failure) and whose
  report goes to stderr; that stream then carries nothing else.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import os
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn, TextIO

from . import __version__, processes
from .checks.deployments import CheckRequest
from .commands import pipeline
from .config import deployment_refs, sharding
from .diagnostics import InternalError, ToolError
from .manifests.schema_registry import DEFAULT_KUBERNETES_VERSION
from .parallel import MAX_JOBS
from .render import helm_install
from .report import FORMAT_CHOICES, MACHINE_FORMATS, Reporter, progress, reporter_for
from .report import completion as completion_scripts
from .report.codequality import CodeQualityReporter
from .report.jsonout import document as diagnostics_document
from .report.sarif import SarifReporter
from .results.run import RunResult
from .safe_output import escape, escape_text, json_text

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, EXIT_INTERNAL, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
ISSUES_URL = "https://github.com/modeldeploy/modeldeploy/issues"
# the commands with --format json
JSON_COMMANDS = ("validate", "render", "status", "diff", "check", "history")
DIFF_FORMATS = ("text", "markdown", "json", "sarif", "codequality")


class _UsageError(Exception):
    """A bad command line; carries the usage line of the (sub)command."""

    def __init__(self, message: str, usage: str) -> None:
        super().__init__(message)
        self.usage = usage


class _Failed(Exception):
    """A handler's failure other than a ToolError: (exit code, kind, message)."""

    def __init__(self, code: int, kind: str, message: str) -> None:
        super().__init__(message)
        self.code, self.kind = code, kind


EPILOG = (
    "exit codes: 0 ok; 1 problems found in the checked files; 2 usage or environment error (bad "
    "option, missing path, no helm, unknown git ref); 3 internal error (a bug in modeldeploy: "
    f"please report it at {ISSUES_URL})\n"
    "docs: README.md and docs/ (rules.md, diff.md, rollout.md, check.md, pre-commit.md, ci/) at "
    "https://github.com/modeldeploy/modeldeploy"
)
# Options people type out of habit from other tools, and what modeldeploy spells them.
_HABITS = {"-o": "--format FORMAT", "--output": "--format FORMAT", "-f": "--format FORMAT",
           "--output-format": "--format FORMAT", "--no-color": "--color never"}


class _HelpFormatter(argparse.HelpFormatter):
    """Wraps paragraphs (one a line) of descriptions and epilogs, keeps lines indented by two
    spaces (examples) as written."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        return "\n".join(indent + line if line.startswith("  ") or not line.strip()
                         else super(_HelpFormatter, self)._fill_text(line, width, indent)
                         for line in text.splitlines())


class _Parser(argparse.ArgumentParser):
    """Every parser of the CLI, subcommands included (the subparsers use it through
    `parser_class`): a usage error raises _UsageError (exit 2) with a hint, the help gets the
    examples and the common epilog (docs, exit codes), and every parser takes the output
    options (`--color`, `-q`), so a new subcommand has all of it by construction."""

    def __init__(self, *args: Any, examples: Sequence[str] = (), **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _HelpFormatter)
        parts = ["examples:\n" + "\n".join(f"  {example}" for example in examples)] if examples else []
        if kwargs.get("epilog"):
            parts.append(kwargs["epilog"])
        kwargs["epilog"] = "\n\n".join([*parts, EPILOG])
        super().__init__(*args, **kwargs)
        self.register("action", "parsers", _Subcommands)
        _output_options(self)

    def error(self, message: str) -> None:  # type: ignore[override]
        # argparse reports a subcommand's unknown options from the top parser: name the subcommand.
        parser = _Subcommands.chosen if message.startswith("unrecognized") and _Subcommands.chosen else self
        raise _UsageError(_with_hint(message, parser.prog), parser.format_usage())


class _Subcommands(argparse._SubParsersAction):  # type: ignore[type-arg]
    """A subcommand's --help starts with its one-line `help` unless it has a description; the
    innermost subcommand chosen is remembered for usage errors."""

    chosen: argparse.ArgumentParser | None = None

    def add_parser(self, name: str, **kwargs: Any) -> Any:
        if "help" in kwargs and "description" not in kwargs:
            kwargs["description"] = kwargs["help"]
        return super().add_parser(name, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: Any, option_string: str | None = None) -> None:
        _Subcommands.chosen = self._name_parser_map.get(values[0]) if values else None
        super().__call__(parser, namespace, values, option_string)


def _with_hint(message: str, prog: str) -> str:
    """argparse's message, with the fix when it is an option spelled as in another tool."""
    if message.startswith("unrecognized arguments:"):
        for word in message.split(":", 1)[1].split():
            flag = word.split("=", 1)[0]
            if flag in _HABITS:
                return f"{message} ({prog} spells it {_HABITS[flag]}; see {prog} --help)"
    return f"{message} (see {prog} --help)"


def _output_options(parser: argparse.ArgumentParser) -> None:
    """Accepted before or after the subcommand; SUPPRESS: a subcommand parser does not reset
    what was given before it (read them with _color_choice and _quiet)."""
    group = parser.add_argument_group("output options")
    group.add_argument("--color", choices=("auto", "always", "never"), default=argparse.SUPPRESS,
                       help="colour the text output: auto (the default) colours on a terminal, "
                            "never with NO_COLOR set, always with FORCE_COLOR set")
    group.add_argument("-q", "--quiet", action="store_true", default=argparse.SUPPRESS,
                       help="print only problems (and what the command is for: manifests, the "
                            "report): no summary line, no progress bar, no notes")


def _common(parser: argparse.ArgumentParser, jobs_help: str) -> None:
    parser.add_argument("paths", nargs="*", metavar="PATH",
                        help="config files, or folders searched for */config.yaml "
                             "(default: the repository's model-deployments/)")
    parser.add_argument("--format", choices=FORMAT_CHOICES, default="auto",
                        help="how to print problems (auto: github in GitHub Actions, else text; "
                             "sarif: GitHub code scanning; codequality: GitLab Code Quality report)")
    parser.add_argument("--strict", action="store_true", help="warnings fail the run too")
    _charts_root_option(parser)
    _jobs_option(parser, jobs_help)
    parser.add_argument("--shard", metavar="I/N",
                        help="check only the I-th of N shards (1-based, e.g. 2/4): a CI matrix of N "
                             "runners covers every config exactly once")


def _charts_root_option(parser: argparse.ArgumentParser, help_text: str | None = None) -> None:
    """Every command that checks configs takes it (or MODELDEPLOY_CHARTS_ROOT): `_charts_root`."""
    parser.add_argument("--charts-root", type=Path, metavar="DIR",
                        help=help_text or "folder chart_path is relative to, e.g. a checkout of the charts "
                                          "repository (default: $MODELDEPLOY_CHARTS_ROOT, else the "
                                          "configs' repository root)")


JOBS_DEFAULT = "(default: the usable CPUs, at most 8)"
CHECK_JOBS = f"config-checking processes at once, 1 to 64; used only for many configs {JOBS_DEFAULT}"
HELM_JOBS = ("helm processes at once, 1 to 64 (the manifest-checking processes: at most max(8, the "
             f"usable CPUs)) {JOBS_DEFAULT}")


def _jobs_option(parser: argparse.ArgumentParser, help_text: str) -> None:
    parser.add_argument("--jobs", "-j", type=_jobs, metavar="N", help=help_text)


def _cache_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--no-cache", action="store_true",
                        help="render every config with helm, neither reading nor filling the render cache "
                             "(default: helm's outputs are reused from $MODELDEPLOY_RENDER_CACHE, else "
                             "the user's cache folder; MODELDEPLOY_RENDER_CACHE=off disables it)")


def _timeout_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--timeout", type=_seconds, default=processes.DEFAULT_TIMEOUT_SECONDS,
                        metavar="SECONDS", help="deadline for the whole run's helm processes; what is "
                        "not rendered by then is reported (default "
                        f"{processes.DEFAULT_TIMEOUT_SECONDS:g})")


def _helm_target_options(parser: argparse.ArgumentParser) -> None:
    """What helm is told about the cluster, as Argo CD tells it (README: Matching Argo CD)."""
    parser.add_argument("--kubernetes-version", "--kube-version", default=DEFAULT_KUBERNETES_VERSION,
                        metavar="X.Y.Z", dest="kubernetes_version",
                        help="the cluster's Kubernetes version: helm's --kube-version "
                             "(.Capabilities.KubeVersion) and the core schemas' version "
                             f"(default {DEFAULT_KUBERNETES_VERSION})")
    parser.add_argument("--api-versions", "-a", action="append", default=[], metavar="GROUP/VERSION[/KIND]",
                        dest="api_versions",
                        help="an API version the cluster serves, for .Capabilities.APIVersions "
                             "(helm's --api-versions); repeat it or separate with commas, e.g. "
                             "monitoring.coreos.com/v1 (default: helm's built-in list)")
    parser.add_argument("--schema-location", action="append", default=[], metavar="TEMPLATE",
                        help="extra kubeconform-style schema path template, tried before the built-in "
                             "ones, e.g. 'crds/{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json'")


def _positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive integer")
    return int(text)


def _percent(text: str) -> int:
    if not text.isdigit() or not 0 <= int(text) <= 100:
        raise argparse.ArgumentTypeError(f"{text!r} is not a percent from 0 to 100 (100 sends all "
                                         "traffic to the latest revision, 0 rolls back)")
    return int(text)


def _jobs(text: str) -> int:
    jobs = _positive_int(text)
    if jobs > MAX_JOBS:
        raise argparse.ArgumentTypeError(f"{jobs} is more than {MAX_JOBS}")
    return jobs


def _seconds(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        seconds = float("nan")
    if not 0 < seconds <= 86400:  # NaN fails too
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds from 0 to 86400")
    return seconds


DEPLOYMENT_HELP = "the deployment: its environment folder and deployment folder, e.g. test/jukebox"


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="modeldeploy", description="Validate, render and explain KServe model "
                     "deployments declared in a GitOps repo.", examples=[
                         "modeldeploy validate", "modeldeploy render -o rendered",
                         "modeldeploy diff --base origin/main", "modeldeploy <command> --help"])
    parser.add_argument("--version", action="version", version=f"modeldeploy {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)

    validate = sub.add_parser("validate", help="check config files as Helm reads them (no helm needed)",
                              examples=["modeldeploy validate",
                                        "modeldeploy validate model-deployments/prod --strict",
                                        "modeldeploy validate --format sarif > modeldeploy.sarif"])
    _common(validate, CHECK_JOBS)

    render = sub.add_parser("render", help="validate, render with helm, check the manifests", examples=[
        "modeldeploy render model-deployments/test/jukebox/config.yaml | kubectl diff -f -",
        "modeldeploy render -o rendered",
        "modeldeploy render --kube-version 1.33.0 --api-versions monitoring.coreos.com/v1",
        "modeldeploy render --format codequality 2> gl-code-quality.json > /dev/null"])
    _common(render, HELM_JOBS)
    render.add_argument("-o", "--output-dir", type=_output_dir, metavar="DIR",
                        help="write DIR/<env>/<name>.yaml per deployment instead of stdout; DIR then "
                             "mirrors the configs under PATH (files of removed deployments go, files "
                             "modeldeploy did not write stay) and changes in one step, only when the "
                             "run succeeds (a report format is --format, not -o)")
    _timeout_option(render)
    _cache_option(render)
    _helm_target_options(render)

    canary = sub.add_parser("canary", help="move canary traffic of one deployment (edits its config.yaml)",
                            examples=["modeldeploy canary set test/jukebox 20 --dry-run",
                                      "modeldeploy canary promote test/jukebox",
                                      "modeldeploy canary rollback prod/jukebox"])
    canary_sub = canary.add_subparsers(dest="canary_command", required=True, metavar="ACTION",
                                       parser_class=_Parser)
    canary_set = canary_sub.add_parser("set", help="send PERCENT of traffic to the latest revision",
                                       examples=["modeldeploy canary set test/jukebox 20",
                                                 "modeldeploy canary set prod/jukebox 100 --dry-run"])
    canary_set.add_argument("deployment", metavar="ENV/NAME", help=DEPLOYMENT_HELP)
    canary_set.add_argument("percent", type=_percent, metavar="PERCENT",
                            help="0 to 100: the latest revision's share of traffic")
    for action, text in (("promote", "remove the canary: all traffic to the latest revision"),
                         ("rollback", "canary 0%%: all traffic back to the previous revision")):
        canary_sub.add_parser(action, help=text, examples=[f"modeldeploy canary {action} test/jukebox"]) \
            .add_argument("deployment", metavar="ENV/NAME", help=DEPLOYMENT_HELP)
    canary_sub.choices["promote"].add_argument(
        "--force", action="store_true",
        help="promote a canary at 0%% (rolled back) too; never needed by, nor bypassing, the rollout policy")
    release = sub.add_parser("release", help="copy a model version (and image) from one environment "
                             "to another (edits the target's config.yaml)", examples=[
                                 "modeldeploy release jukebox --from test --to prod --canary 10",
                                 "modeldeploy release jukebox --from test --to prod --dry-run"])
    release.add_argument("name", metavar="NAME", help="the deployment's folder name in both environments")
    release.add_argument("--from", dest="from_env", required=True, metavar="ENV",
                         help="the environment whose version is copied")
    release.add_argument("--to", dest="to_env", required=True, metavar="ENV",
                         help="the environment whose config.yaml is edited")
    release.add_argument("--canary", type=_percent, metavar="PERCENT",
                         help="also send PERCENT of traffic to the new version (default: keep the "
                              "target's canary setting)")
    release.add_argument("--create", action="store_true",
                         help="create TO/NAME from the source config when it does not exist")
    version = sub.add_parser("version", help="set the model version of one deployment (edits its "
                             "config.yaml)", examples=["modeldeploy version set test/jukebox 4562a17c17"])
    version_sub = version.add_subparsers(dest="version_command", required=True, metavar="ACTION",
                                         parser_class=_Parser)
    version_set = version_sub.add_parser("set", help="set the model version (image tag), quoted when needed",
                                         examples=["modeldeploy version set test/jukebox 4562a17c17",
                                                   "modeldeploy version set prod/jukebox 0123 --canary 10"])
    version_set.add_argument("deployment", metavar="ENV/NAME", help=DEPLOYMENT_HELP)
    version_set.add_argument("tag", metavar="TAG", help="the image tag, e.g. 4562a17c17")
    version_set.add_argument("--canary", type=_percent, metavar="PERCENT",
                             help="also send PERCENT of traffic to the new version (default: keep the "
                                  "canary setting)")
    for rollout_parser in (*canary_sub.choices.values(), release, version_set):
        rollout_parser.add_argument("--dry-run", action="store_true",
                                    help="print the diff instead of writing the file")
        rollout_parser.add_argument("--repo", type=Path, metavar="DIR",
                                    help="the GitOps repo (default: the git repo of the working directory)")
        _charts_root_option(rollout_parser)
    history = sub.add_parser("history", help="what one deployment ran over time, from git history",
                             examples=["modeldeploy history prod/jukebox",
                                       "modeldeploy history test/jukebox --format json"])
    history.add_argument("deployment", metavar="ENV/NAME", help=DEPLOYMENT_HELP)
    history.add_argument("--format", choices=("text", "json"), default="text",
                         help="text (newest first) or json")
    history.add_argument("--repo", type=Path, metavar="DIR",
                         help="the GitOps repo (default: the git repo of the working directory)")
    status = sub.add_parser("status", help="table of the deployments declared in the repo", examples=[
        "modeldeploy status", "modeldeploy status prod", "modeldeploy status test/jukebox --format json"])
    status.add_argument("selector", nargs="?", metavar="ENV[/NAME]",
                        help="only this environment, or this one deployment (default: all)")
    status.add_argument("--format", choices=("text", "json"), default="text",
                        help="text (a table) or json")
    status.add_argument("--repo", type=Path, metavar="DIR",
                        help="the GitOps repo (default: the git repo of the working directory)")
    _charts_root_option(status)

    diff = sub.add_parser("diff", help="render what a change between two git refs does to each "
                          "deployment: rollout summary and manifest diff", examples=[
                              "modeldeploy diff --base origin/main",
                              "modeldeploy diff --base origin/main --format markdown > comment.md",
                              "modeldeploy diff --base v1.2 --head v1.3 model-deployments/prod",
                              "modeldeploy diff --base origin/main --format sarif > modeldeploy.sarif"])
    diff.add_argument("paths", nargs="*", metavar="PATH", help="only configs at or under these paths")
    diff.add_argument("--base", required=True, metavar="REF",
                      help="git ref to compare with, e.g. origin/main")
    diff.add_argument("--head", metavar="REF", help="git ref to compare (default: the working tree)")
    diff.add_argument("--format", choices=DIFF_FORMATS, default="text",
                      help="text (terminal), markdown (a PR comment), json, or the head's problems "
                           "alone as sarif (GitHub code scanning) or codequality (GitLab)")
    diff.add_argument("--exit-code", action="store_true",
                      help="exit 1 when the rendered manifests differ (like git diff --exit-code)")
    _charts_root_option(diff, "charts outside the repo (e.g. a charts repo checkout), used for both refs "
                              "(default: $MODELDEPLOY_CHARTS_ROOT, else the repository's charts)")
    _helm_target_options(diff)
    _jobs_option(diff, HELM_JOBS)
    _timeout_option(diff)
    _cache_option(diff)

    _check_parser(sub)
    # (new subcommands: add their parser above this line; sub.add_parser(..., examples=[...]) gives
    # them the epilog, the output options and the usage-error handling of every command)
    completion = sub.add_parser(
        "completion", help="print a shell completion script (bash, zsh or fish)",
        examples=["source <(modeldeploy completion bash)        # in ~/.bashrc",
                  "source <(modeldeploy completion zsh)         # in ~/.zshrc",
                  "modeldeploy completion fish > ~/.config/fish/completions/modeldeploy.fish"])
    completion.add_argument("shell", choices=completion_scripts.SHELLS, metavar="SHELL",
                            help="bash, zsh or fish")
    pinned = ", ".join(r.version[1:] for r in helm_install.PINNED_RELEASES)
    install = sub.add_parser(
        "install-helm", help="install a pinned, checksum-verified helm (linux x86-64)",
        description="Download a pinned helm build from the npm registry (official helm release "
                    "binaries repackaged by AWS CDK's lambda-layer-kubectl packages), check the "
                    "package's sha512 and the binary's sha256, and install it under the cache "
                    f"folder. Pinned: {pinned}. Any other helm: put it on PATH or in HELM_BIN.",
        examples=["modeldeploy install-helm", "modeldeploy install-helm --major 3",
                  f"HELM_BIN=$(modeldeploy install-helm --version {pinned.split(', ')[0]} | cut -d' ' -f3)"])
    which = install.add_mutually_exclusive_group()
    defaults = ", ".join(f"{major}: {v[1:]}" for major, v in helm_install.DEFAULT_VERSIONS.items())
    which.add_argument("--major", choices=["3", "4", "all"],
                       help=f"that major's default ({defaults}; default 4), or all: every pinned "
                            "version (the tests need them)")
    which.add_argument("--version", dest="helm_version", metavar="X.Y.Z",
                       help=f"a pinned version ({pinned}), e.g. the one your Argo CD embeds")
    return parser


def _check_parser(sub: Any) -> None:
    check = sub.add_parser(
        "check", help="check manifests rendered elsewhere (files, folders, - for stdin) like kubeconform",
        examples=["helm template jukebox charts/model-deployment/music-transformer -f config.yaml "
                  "| modeldeploy check -",
                  "modeldeploy check rendered/ --skip Secret --format github",
                  "modeldeploy check manifests.yaml --schema-location default "
                  "--schema-location 'crds/{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json'"],
        description="Check Kubernetes and KServe manifests against the same schemas and KServe rules as "
                    "render, with kubeconform's options: `helm template ... | modeldeploy check -`. "
                    "Unknown fields are errors (kubeconform -strict). Exit 0 valid, 1 invalid, 2 could "
                    "not check (a missing schema, a file that is no manifest) or usage.")
    check.add_argument("paths", nargs="*", metavar="PATH",
                       help="manifest files (multi-document YAML or JSON), folders (searched for *.yaml, "
                            "*.yml, *.json), or - for standard input")
    check.add_argument("--format", choices=FORMAT_CHOICES, default="auto",
                       help="as for validate; the summary line goes to stdout with text and github, "
                            "into the document with json, to stderr otherwise")
    check.add_argument("--strict", action="store_true",
                       help="warnings fail the run too (unknown fields are always errors, as with "
                            "kubeconform -strict)")
    check.add_argument("--schema-location", action="append", default=[], metavar="TEMPLATE",
                       help="kubeconform-style schema path template, e.g. "
                            "'schemas/{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json', or a "
                            "folder "
                            "laid out as kubernetes-json-schema; repeatable, tried in order; given ones "
                            "replace the built-in ones, which `default` names")
    check.add_argument("--kubernetes-version", default=DEFAULT_KUBERNETES_VERSION, metavar="X.Y.Z",
                       help=f"Kubernetes version of the core schemas (default {DEFAULT_KUBERNETES_VERSION})")
    check.add_argument("--skip", action="append", default=[], metavar="KIND,...",
                       help="kinds (or apiVersion/kind, e.g. apps/v1/Deployment) not to check, "
                            "comma-separated; counted as skipped")
    check.add_argument("--ignore-missing-schemas", action="store_true",
                       help="skip objects whose kind has no schema instead of failing (exit 2)")
    check.add_argument("--summary", action="store_true",
                       help="accepted for kubeconform compatibility: the summary line is always printed")


def _charts_root(args: argparse.Namespace) -> Path | None:
    """--charts-root, else MODELDEPLOY_CHARTS_ROOT (e.g. for pre-commit, CI), resolved; None: each
    config's repository root. The one place every command gets it from."""
    chosen = args.charts_root
    option = "--charts-root"
    if not chosen and os.environ.get("MODELDEPLOY_CHARTS_ROOT"):
        chosen, option = Path(os.environ["MODELDEPLOY_CHARTS_ROOT"]), "MODELDEPLOY_CHARTS_ROOT="
    if not chosen:
        return None
    if not os.path.isdir(chosen):  # False, not raising, on EACCES
        shown = f"--charts-root {chosen}" if option == "--charts-root" else f"{option}{chosen}"
        raise ToolError(f"{shown}: no such directory")
    return chosen.resolve()


def _options(args: argparse.Namespace) -> pipeline.Options:
    return pipeline.Options(
        charts_root=_charts_root(args),
        kubernetes_version=getattr(args, "kubernetes_version", DEFAULT_KUBERNETES_VERSION),
        api_versions=_api_versions(args),
        schema_locations=tuple(getattr(args, "schema_location", ())),
        output_dir=getattr(args, "output_dir", None),
        jobs=getattr(args, "jobs", None),
        shard=_shard(args),
        deadline=processes.Deadline.after(args.timeout) if getattr(args, "timeout", None) else None,
        strict=getattr(args, "strict", False),
        cache=not getattr(args, "no_cache", False),
    )


def _run_install_helm(args: argparse.Namespace, cwd: Path) -> int:
    if args.helm_version:
        selectors = [args.helm_version]
    elif args.major == "all":
        selectors = [r.version for r in helm_install.PINNED_RELEASES]
    else:
        selectors = [args.major or helm_install.DEFAULT_MAJOR]
    for selector in selectors:
        path = helm_install.install(selector)
        _say(sys.stdout, f"helm {helm_install.release(selector).version}: {path}")
    return EXIT_OK


def _api_versions(args: argparse.Namespace) -> tuple[str, ...]:
    """--api-versions, repeated or comma-separated as helm takes it, each checked."""
    versions = [v.strip() for given in getattr(args, "api_versions", ()) for v in given.split(",")]
    for version in versions:
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9.-]*(/[A-Za-z0-9.-]+){0,2}", version):
            raise _UsageError(f"--api-versions {version!r}: expected VERSION, GROUP/VERSION or "
                              "GROUP/VERSION/KIND, e.g. v1, apps/v1, monitoring.coreos.com/v1/ServiceMonitor",
                              "")
    return tuple(versions)


def _shard(args: argparse.Namespace) -> tuple[int, int] | None:
    return sharding.parse_shard(args.shard) if getattr(args, "shard", None) else None


def _progress_bar(args: argparse.Namespace, label: str) -> progress.ProgressBar:
    if _quiet(args):
        return progress.ProgressBar(sys.stderr, label, enabled=False)
    return progress.for_cli(sys.stderr, label, args.format)


# --- output habits: colour, quiet, the summary line ----------------------------------------------

def _quiet(args: argparse.Namespace | None) -> bool:
    return bool(getattr(args, "quiet", False))


def _color(args: argparse.Namespace | None, stream: TextIO) -> bool:
    """--color, else NO_COLOR (set and not empty: never), else FORCE_COLOR (set and not empty:
    always), else colour on a terminal that is not TERM=dumb (no-color.org, force-color.org)."""
    choice = getattr(args, "color", "auto")
    if choice != "auto":
        return bool(choice == "always")
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    try:
        return stream.isatty() and os.environ.get("TERM") != "dumb"
    except (AttributeError, ValueError):
        return False


def _reporter(args: argparse.Namespace, stream: TextIO) -> Reporter:
    return reporter_for(args.format, os.environ, color=_color(args, stream))


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _summary(args: argparse.Namespace, line: str) -> None:
    """The run's one-line summary, on stderr: in CI logs too, but never with -q or with a
    machine format (its stream holds one document; stderr is render's report stream)."""
    if _quiet(args) or getattr(args, "format", None) in MACHINE_FORMATS:
        return
    _say(sys.stderr, line)


def _counts(result: RunResult) -> str:
    """'3 configs valid', '3 configs valid, 1 warning', '3 configs checked: 1 error, 2 warnings'."""
    configs = _plural(result.files_checked, "config")
    if result.errors:
        return f"{configs} checked: {_plural(result.errors, 'error')}" + \
            (f", {_plural(result.warnings, 'warning')}" if result.warnings else "")
    return f"{configs} valid" + (f", {_plural(result.warnings, 'warning')}" if result.warnings else "")


def _run_validate(args: argparse.Namespace, cwd: Path) -> int:
    reporter = _reporter(args, sys.stdout)
    bar = _progress_bar(args, "validating")
    try:
        result = pipeline.validate(args.paths, _options(args), cwd, progress=bar)
    finally:
        bar.close()
    _report(sys.stdout, reporter.format(result.diagnostics, result.files_checked))
    _summary(args, _counts(result))
    return result.exit_code(args.strict)


# Words people pass to -o meaning a format (check-jsonschema, kubectl, helm's own -o): render's -o
# is the output folder, so such a name that is not an existing folder is a usage error.
_FORMAT_WORDS = frozenset({*FORMAT_CHOICES, "yaml", "yml", "markdown", "table", "wide", "name"})


def _output_dir(text: str) -> Path:
    """render's -o: a folder; a format's name (that is no existing folder) was meant as --format."""
    if text.lower() in _FORMAT_WORDS and not os.path.isdir(text):
        raise argparse.ArgumentTypeError(f"-o is the folder to write manifests into; for a report "
                                         f"format use --format {text.lower()} (a folder really named "
                                         f"so: -o ./{text})")
    return Path(text)


def _run_render(args: argparse.Namespace, cwd: Path) -> int:
    reporter = _reporter(args, sys.stderr)
    bar = _progress_bar(args, "rendering")
    try:
        result = pipeline.render(args.paths, _options(args), cwd, progress=bar)
    finally:
        bar.close()
    code = result.exit_code(args.strict)
    # Diagnostics go to stderr so stdout stays a clean manifest stream; with
    # problems, stdout stays empty: a partial stream must never reach kubectl apply.
    _report(sys.stderr, reporter.format(result.diagnostics, result.files_checked))
    if args.output_dir is None and code == EXIT_OK:
        sys.stdout.write(pipeline.joined_manifests(result))  # the product: written as helm made it
    line = _counts(result)
    if result.rendered:
        where = f" into {args.output_dir}" if args.output_dir is not None and code == EXIT_OK else ""
        line += f"; {_plural(len(result.rendered), 'deployment')} rendered{where} with helm " \
                f"{result.helm_version} and checked"
    _summary(args, line)
    return code


def _say(stream: TextIO, *lines: str) -> None:
    """Print lines the CLI composes itself, each escaped (safe_output.py)."""
    stream.write("".join(escape(line) + "\n" for line in lines))


def _run_rollout(args: argparse.Namespace, cwd: Path) -> int:
    """canary set/promote/rollback, release: plan the edit and write it (one step, under the
    deployment's edit lock), then say what it did; with --dry-run, say what it would do."""
    from .commands import rollout  # imported on use: keeps `validate` start-up small

    if args.command == "release" and args.from_env == args.to_env:
        raise _UsageError(f"--from and --to are both {args.from_env!r}: name the environment to copy "
                          "from and another one to copy to", "")
    repo = rollout.Repository(deployment_refs.deployments_root(args.repo, cwd),
                              CheckRequest(cwd, charts_root=_charts_root(args)))
    write = not args.dry_run
    try:
        if args.command == "release":
            plan = rollout.plan_release(repo, args.name, args.from_env, args.to_env, args.canary,
                                        create=args.create, write=write)
        elif args.command == "version":
            plan = rollout.plan_version_set(repo, args.deployment, args.tag, args.canary, write=write)
        elif args.canary_command == "set":
            plan = rollout.plan_canary_set(repo, args.deployment, args.percent, write=write)
        elif args.canary_command == "promote":
            plan = rollout.plan_canary_promote(repo, args.deployment, force=args.force, write=write)
        else:
            plan = rollout.plan_canary_rollback(repo, args.deployment, write=write)
    except deployment_refs.UnknownDeployment as exc:  # a name mistyped on the command line
        raise _Failed(EXIT_USAGE, "not-found", str(exc)) from exc
    except rollout.RolloutError as exc:
        raise _Failed(EXIT_PROBLEMS, "refused", str(exc)) from exc
    sys.stderr.write(reporter_for("auto", os.environ, color=_color(args, sys.stderr))
                     .format(plan.diagnostics, 1))
    _say(sys.stderr, *(f"{violation.message} [{violation.rule}]" for violation in plan.violations))
    if plan.refusal:
        _say(sys.stderr, f"modeldeploy: refused: {plan.refusal}")
        return EXIT_PROBLEMS
    quiet = _quiet(args)
    if plan.unchanged:
        if not quiet:
            _say(sys.stdout, plan.unchanged)
        return EXIT_OK
    # Written by now (or --dry-run): nothing above is said before the write succeeded.
    if not quiet:
        _say(sys.stdout, f"{plan.deployment.ref} ({plan.display}):",
             *(f"  {sentence.text}" for sentence in plan.sentences),
             *(f"  note: {note}" for note in plan.notes))
    if args.dry_run:
        sys.stdout.write(plan.diff())  # what --dry-run is for: printed even with -q
        if not quiet:
            _say(sys.stdout, "dry run: nothing written")
        return EXIT_OK
    if not plan.written:
        raise InternalError(f"{plan.display}: the edit was planned but not written")
    if not quiet:
        done = "created" if plan.created else "updated"
        _say(sys.stdout, f"{done} {plan.display}; review it with `git diff`, then commit and push to "
                         "roll out")
    return EXIT_OK


def _run_history(args: argparse.Namespace, cwd: Path) -> int:
    from .commands import history  # imported on use: keeps `validate` start-up small
    from .report import history as history_report

    root = deployment_refs.deployments_root(args.repo, cwd)
    try:
        entries = history.deployment_history(root, args.deployment, cwd)
    except deployment_refs.UnknownDeployment as exc:  # a name mistyped on the command line
        raise _Failed(EXIT_USAGE, "not-found", str(exc)) from exc
    _report(sys.stdout, history_report.format_json(args.deployment, entries) if args.format == "json"
            else history_report.format_text(args.deployment, entries))
    # no summary line: the report's first line is one
    return EXIT_OK


def _run_status(args: argparse.Namespace, cwd: Path) -> int:
    from .commands import status  # imported on use: keeps `validate` start-up small
    from .report import status as status_table

    root = deployment_refs.deployments_root(args.repo, cwd)
    request = CheckRequest(cwd, charts_root=_charts_root(args))
    try:
        deployments = deployment_refs.select_deployments(root, args.selector, cwd)
    except deployment_refs.UnknownDeployment as exc:  # a name mistyped on the command line
        raise _Failed(EXIT_USAGE, "not-found", str(exc)) from exc
    rows = status.collect_status(deployments, request, root)
    _report(sys.stdout, status_table.format_json(rows) if args.format == "json"
            else status_table.format_text(rows))
    invalid = sum(not row.valid for row in rows)
    environments = len({row.env for row in rows})
    _summary(args, f"{_plural(len(rows), 'deployment')} in {_plural(environments, 'environment')}: "
                   + (f"{invalid} invalid" if invalid else "all valid"))
    return EXIT_PROBLEMS if invalid else EXIT_OK


def _run_diff(args: argparse.Namespace, cwd: Path) -> int:
    from .commands import diff as diffing  # imported on use: keeps `validate` start-up small
    from .report import diff as diff_report
    from .results.diff import HEAD

    if args.head is not None and args.head == args.base:
        raise _UsageError(f"--base and --head are both {args.base!r}: nothing to compare (leave out "
                          "--head to compare with the working tree)", "")
    result = diffing.diff(args.base, args.head, args.paths, _options(args), cwd)
    if args.format in MACHINE_FORMATS - {"json"}:  # sarif, codequality: the head's problems are the findings
        head = [p.diagnostic for p in result.problems if p.side == HEAD]
        _report(sys.stdout, reporter_for(args.format, os.environ).format(head, len(result.deployments)))
        return result.exit_code(args.exit_code)
    for problem in result.problems:  # also inside markdown/json: CI logs show them either way
        sys.stderr.write(diff_report.format_problem(problem, result) + "\n")
    color = args.format == "text" and _color(args, sys.stdout)
    _report(sys.stdout, diff_report.format_report(args.format, result, color=color))
    if args.format != "text":  # the text report ends with the same totals
        _summary(args, f"{result.base} -> {result.head}: {diff_report.totals(result)}")
    return result.exit_code(args.exit_code)


def _run_check(args: argparse.Namespace, cwd: Path) -> int:
    from .commands import check as checking  # imported on use: keeps `validate` start-up small

    skip = frozenset(kind.strip() for text in args.skip for kind in text.split(",") if kind.strip())
    options = checking.CheckOptions(tuple(args.schema_location), args.kubernetes_version, skip,
                                    args.ignore_missing_schemas)
    stdin = sys.stdin.buffer.read() if "-" in args.paths else None
    result = checking.check(args.paths, options, cwd, stdin)
    reporter = reporter_for(args.format, os.environ, color=_color(args, sys.stdout))
    if reporter.name == "json":
        document = diagnostics_document(result.diagnostics, result.files)
        document["summary"] = result.summary()
        _report(sys.stdout, json_text(document))
    else:
        _report(sys.stdout, reporter.format(result.diagnostics, result.files))
        if not _quiet(args):  # kubeconform's summary line: stdout, as kubeconform prints it
            _say(sys.stderr if reporter.machine_readable else sys.stdout, result.summary_line())
    return result.exit_code(args.strict)


def _run_completion(args: argparse.Namespace, cwd: Path) -> int:
    sys.stdout.write(completion_scripts.script(args.shell, "modeldeploy", _describe(build_parser(), ())))
    return EXIT_OK


def _describe(parser: argparse.ArgumentParser, words: tuple[str, ...],
              help_text: str = "") -> completion_scripts.Command:
    """The parser as the completion writers see it (argparse's actions, read once here)."""
    options, subcommands = [], []
    positional_choices: tuple[str, ...] = ()
    takes_paths = False
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {choice.dest: choice.help or "" for choice in action._choices_actions}
            subcommands = [_describe(sub, (*words, name), helps.get(name, ""))
                           for name, sub in action.choices.items()]
        elif action.option_strings:
            options.append(completion_scripts.Option(
                tuple(action.option_strings), action.help or "", takes_value=action.nargs != 0,
                choices=tuple(str(c) for c in action.choices or ()),
                value_is_path=action.type is Path))
        elif action.choices:
            positional_choices = tuple(str(c) for c in action.choices)
        elif action.metavar in ("PATH", "DIR"):
            takes_paths = True
    return completion_scripts.Command(words, help_text, tuple(options), tuple(subcommands),
                                      positional_choices, takes_paths)


# (new subcommands: add their handler functions above this line)
HANDLERS: dict[str, Callable[[argparse.Namespace, Path], int]] = {
    "validate": _run_validate,
    "render": _run_render,
    "install-helm": _run_install_helm,
    "canary": _run_rollout,
    "release": _run_rollout,
    "status": _run_status,
    "diff": _run_diff,
    "check": _run_check,
    "version": _run_rollout,
    "history": _run_history,
    "completion": _run_completion,
    # (new subcommands: register handlers above this line)
}


# --- the run and its failures --------------------------------------------------------------------

class _Session:
    """What main needs to report a failure: whether JSON was asked for, and whether a report
    (the one JSON document, in json mode) was already printed."""

    command: str | None = None  # the command that asked for a machine format, if any
    format: str | None = None  # that format: json, sarif or codequality
    args: argparse.Namespace | None = None
    reported = False


_session = _Session()


def _report(stream: TextIO, text: str) -> None:
    """Print the command's report (already escaped by its writer)."""
    _session.reported = True
    stream.write(text)


def _machine_format(argv: Sequence[str]) -> tuple[str | None, str | None]:
    """(command, format) when `argv` asks for a machine format (read before, or without, a full
    parse); else (None, None)."""
    words = [word for word in argv if not word.startswith("-")]
    command = words[0] if words else None
    if command not in JSON_COMMANDS:
        return None, None
    wanted = None
    rest = list(argv[argv.index(command) + 1:])
    for index, word in enumerate(rest):
        if word == "--":
            break
        name, equals, value = word.partition("=")
        if len(name) > 2 and "--format".startswith(name):  # argparse takes unique prefixes too
            wanted = value if equals else (rest[index + 1] if index + 1 < len(rest) else None)
    if wanted == "json" or (wanted in ("sarif", "codequality")
                            and command in ("validate", "render", "diff", "check")):
        return command, wanted
    return None, None


def _failure_document(command: str, args: argparse.Namespace | None) -> dict[str, Any]:
    """The command's JSON document with no results, for a run that failed before it had any."""
    if command == "status":
        from .report import status as status_table

        return status_table.json_document([])
    if command == "history":
        from .report import history as history_report

        return history_report.json_document(getattr(args, "deployment", None) or "", [])
    if command == "diff":
        from .report import diff as diff_report
        from .results.diff import WORKING_TREE, DiffResult

        base = getattr(args, "base", None) or ""
        head = getattr(args, "head", None) or (WORKING_TREE if args is not None else "")
        return diff_report.json_document(DiffResult(base, head))
    return diagnostics_document([], 0)


def _fail(code: int, kind: str, message: str, *, usage: str = "", details: str = "",
          label: str = "error: ") -> int:
    """Report a failure: on stderr for people; in json mode also as the one JSON document."""
    command = _session.command
    human = [escape_text(usage), escape(f"modeldeploy: {label}{message}") + "\n", escape_text(details)]
    if command is None or _session.reported:
        sys.stderr.write("".join(human))
        return code
    if _session.format == "json":
        document = _failure_document(command, _session.args)
        document["failure"] = {"exit_code": code, "kind": kind, "message": message,
                               **({"details": details} if details else {})}
        text = json_text(document)
    else:  # sarif, codequality: the format's own way to say the run failed
        writer = SarifReporter() if _session.format == "sarif" else CodeQualityReporter()
        text = writer.format_failure(code, f"{label}{message}")
    if command == "render":  # stderr is render's report stream; stdout (manifests) stays empty
        sys.stderr.write(text)
    else:
        sys.stderr.write("".join(human))
        sys.stdout.write(text)
    _session.reported = True
    return code


def _tolerant_streams() -> None:
    # A terminal or pipe that cannot encode a character gets an escape, not a traceback.
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")


def run() -> NoReturn:
    """The console script and `python -m modeldeploy`: main(), then exit at once.

    A finished run needs nothing of the interpreter's teardown (freeing every object, ~20 ms
    after a big run): the atexit handlers run (a profiler's, a coverage tool's), the streams
    are flushed, and the process exits. Everything the run writes is on disk already (files
    renamed in place, the cache closed, workers joined)."""
    code = main()
    atexit._run_exitfuncs()  # what sys.exit would run first
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe: the reader left
            stream.flush()
    os._exit(code)


def main(argv: Sequence[str] | None = None) -> int:
    raw = list(sys.argv[1:] if argv is None else argv)
    _tolerant_streams()
    (_session.command, _session.format), _session.args, _session.reported = _machine_format(raw), None, False
    try:
        with processes.signals_as_exceptions():  # SIGTERM too unwinds: children killed, temp folders gone
            _Subcommands.chosen = None
            args = build_parser().parse_args(raw)
            _session.args = args
            if getattr(args, "format", None) not in ("json", "sarif", "codequality"):
                _session.command = _session.format = None
            return HANDLERS[args.command](args, Path.cwd())
    except _UsageError as exc:
        return _fail(EXIT_USAGE, "usage", str(exc), usage=exc.usage)
    except ToolError as exc:
        return _fail(EXIT_USAGE, "error", str(exc))
    except _Failed as exc:
        return _fail(exc.code, exc.kind, str(exc))
    except KeyboardInterrupt:
        return _fail(EXIT_INTERRUPTED, "interrupted", "interrupted", label="")
    except processes.Terminated as exc:
        return _fail(128 + exc.signum, "interrupted", f"stopped by {exc}", label="")
    except BrokenPipeError:
        return EXIT_OK
    except Exception:
        import traceback  # on use: only a bug needs it

        return _fail(EXIT_INTERNAL, "internal",
                     "internal error (a bug in modeldeploy, not in your files); please report it at "
                     f"{ISSUES_URL} with this output:", details=traceback.format_exc(limit=-3), label="")
