"""Command line: the only module that parses arguments, prints and chooses exit codes.

Exit codes: 0 all good; 1 the checked files have problems; 2 usage or environment
error (bad option, missing path, no helm); 3 internal error (a bug in modeldeploy).

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
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TextIO

from . import __version__, processes
from .checks.deployments import CheckRequest
from .commands import pipeline
from .config import deployment_refs, sharding
from .diagnostics import InternalError, ToolError
from .manifests.schema_registry import DEFAULT_KUBERNETES_VERSION
from .parallel import MAX_JOBS
from .render import helm_install
from .report import FORMAT_CHOICES, progress, reporter_for
from .report.codequality import CodeQualityReporter
from .report.jsonout import document as diagnostics_document
from .report.sarif import SarifReporter
from .results.run import RunResult
from .safe_output import escape, escape_text, json_text

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, EXIT_INTERNAL, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
ISSUES_URL = "https://github.com/modeldeploy/modeldeploy/issues"
JSON_COMMANDS = ("validate", "render", "status", "diff")  # the commands with --format json


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


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise _UsageError(message, self.format_usage())


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="*", metavar="PATH",
                        help="config files, or folders searched for */config.yaml "
                             "(default: the repository's model-deployments/)")
    parser.add_argument("--format", choices=FORMAT_CHOICES, default="auto",
                        help="how to print problems (auto: github in GitHub Actions, else text; "
                             "sarif: GitHub code scanning; codequality: GitLab Code Quality report)")
    parser.add_argument("--strict", action="store_true", help="warnings fail the run too")
    _charts_root_option(parser)
    _jobs_option(parser)
    parser.add_argument("--shard", metavar="I/N",
                        help="check only the I-th of N shards (1-based, e.g. 2/4): a CI matrix of N "
                             "runners covers every config exactly once")


def _charts_root_option(parser: argparse.ArgumentParser, help_text: str | None = None) -> None:
    """Every command that checks configs takes it (or MODELDEPLOY_CHARTS_ROOT): `_charts_root`."""
    parser.add_argument("--charts-root", type=Path, metavar="DIR",
                        help=help_text or "folder chart_path is relative to, e.g. a checkout of the charts "
                                          "repository (default: $MODELDEPLOY_CHARTS_ROOT, else the "
                                          "configs' repository root)")


def _jobs_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--jobs", "-j", type=_jobs, metavar="N",
                        help="helm processes (and checking processes) at once, 1 to 64; checking "
                             "processes at most max(8, the usable CPUs) (default: the usable CPUs, "
                             "at most 8)")
    parser.add_argument("--no-cache", action="store_true",
                        help="render every config with helm, neither reading nor filling the render cache "
                             "(default: helm's outputs are reused from $MODELDEPLOY_RENDER_CACHE, else "
                             "the user's cache folder; MODELDEPLOY_RENDER_CACHE=off disables it)")


def _timeout_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--timeout", type=_seconds, default=processes.DEFAULT_TIMEOUT_SECONDS,
                        metavar="SECONDS", help="deadline for the whole run's helm processes; what is "
                        "not rendered by then is reported (default "
                        f"{processes.DEFAULT_TIMEOUT_SECONDS:g})")


def _positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive integer")
    return int(text)


def _jobs(text: str) -> int:
    jobs = _positive_int(text)
    if jobs > MAX_JOBS:
        raise argparse.ArgumentTypeError(f"{jobs} is more than {MAX_JOBS} (each job is a helm process)")
    return jobs


def _seconds(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        seconds = float("nan")
    if not 0 < seconds <= 86400:  # NaN fails too
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds from 0 to 86400")
    return seconds


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="modeldeploy", description="Validate, render and explain KServe model "
                     "deployments declared in a GitOps repo.")
    parser.add_argument("--version", action="version", version=f"modeldeploy {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    validate = sub.add_parser("validate", help="check config files (no helm needed)")
    _common(validate)

    render = sub.add_parser("render", help="validate, render with helm, check the manifests")
    _common(render)
    render.add_argument("-o", "--output-dir", type=Path, metavar="DIR",
                        help="write DIR/<env>/<name>.yaml per deployment instead of stdout; DIR then "
                             "mirrors the configs under PATH (files of removed deployments go, files "
                             "modeldeploy did not write stay) and changes in one step, only when the "
                             "run succeeds")
    _timeout_option(render)
    render.add_argument("--kubernetes-version", default=DEFAULT_KUBERNETES_VERSION, metavar="X.Y.Z",
                        help="Kubernetes version for core schemas and helm "
                             f"(default {DEFAULT_KUBERNETES_VERSION})")
    render.add_argument("--schema-location", action="append", default=[], metavar="TEMPLATE",
                        help="extra kubeconform-style schema path template, tried before the built-in "
                             "ones, e.g. 'crds/{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json'")

    canary = sub.add_parser("canary", help="move canary traffic of one deployment (edits its config.yaml)")
    canary_sub = canary.add_subparsers(dest="canary_command", required=True, parser_class=_Parser)
    canary_set = canary_sub.add_parser("set", help="send PERCENT of traffic to the latest revision")
    canary_set.add_argument("deployment", metavar="ENV/NAME")
    canary_set.add_argument("percent", type=int, metavar="PERCENT", help="0..100")
    for action, text in (("promote", "remove the canary: all traffic to the latest revision"),
                         ("rollback", "canary 0%%: all traffic back to the previous revision")):
        canary_sub.add_parser(action, help=text).add_argument("deployment", metavar="ENV/NAME")
    release = sub.add_parser("release", help="copy a model version (and image) from one environment "
                             "to another (edits the target's config.yaml)")
    release.add_argument("name", metavar="NAME")
    release.add_argument("--from", dest="from_env", required=True, metavar="ENV")
    release.add_argument("--to", dest="to_env", required=True, metavar="ENV")
    release.add_argument("--canary", type=int, metavar="PERCENT",
                         help="also send PERCENT of traffic to the new version (default: keep the "
                              "target's canary setting)")
    for rollout_parser in (*canary_sub.choices.values(), release):
        rollout_parser.add_argument("--dry-run", action="store_true",
                                    help="print the diff instead of writing the file")
        rollout_parser.add_argument("--repo", type=Path, metavar="DIR",
                                    help="the GitOps repo (default: the git repo of the working directory)")
        _charts_root_option(rollout_parser)
    status = sub.add_parser("status", help="table of the deployments declared in the repo")
    status.add_argument("selector", nargs="?", metavar="ENV[/NAME]")
    status.add_argument("--format", choices=("text", "json"), default="text")
    status.add_argument("--repo", type=Path, metavar="DIR",
                        help="the GitOps repo (default: the git repo of the working directory)")
    _charts_root_option(status)

    diff = sub.add_parser("diff", help="render what a change between two git refs does to each "
                          "deployment: rollout summary and manifest diff")
    diff.add_argument("paths", nargs="*", metavar="PATH", help="only configs at or under these paths")
    diff.add_argument("--base", required=True, metavar="REF",
                      help="git ref to compare with, e.g. origin/main")
    diff.add_argument("--head", metavar="REF", help="git ref to compare (default: the working tree)")
    diff.add_argument("--format", choices=("text", "markdown", "json"), default="text",
                      help="text (terminal), markdown (a PR comment) or json")
    diff.add_argument("--exit-code", action="store_true",
                      help="exit 1 when the rendered manifests differ (like git diff --exit-code)")
    _charts_root_option(diff, "charts outside the repo (e.g. a charts repo checkout), used for both refs "
                              "(default: $MODELDEPLOY_CHARTS_ROOT, else the repository's charts)")
    diff.add_argument("--kubernetes-version", default=DEFAULT_KUBERNETES_VERSION, metavar="X.Y.Z",
                      help=f"as for render (default {DEFAULT_KUBERNETES_VERSION})")
    diff.add_argument("--schema-location", action="append", default=[], metavar="TEMPLATE",
                      help="as for render")

    _jobs_option(diff)
    _timeout_option(diff)

    # (new subcommands: add their parser above this line)
    pinned = ", ".join(r.version[1:] for r in helm_install.PINNED_RELEASES)
    install = sub.add_parser(
        "install-helm", help="install a pinned, checksum-verified helm (linux x86-64)",
        description="Download a pinned helm build from the npm registry (official helm release "
                    "binaries repackaged by AWS CDK's lambda-layer-kubectl packages), check the "
                    "package's sha512 and the binary's sha256, and install it under the cache "
                    f"folder. Pinned: {pinned}. Any other helm: put it on PATH or in HELM_BIN.")
    which = install.add_mutually_exclusive_group()
    defaults = ", ".join(f"{major}: {v[1:]}" for major, v in helm_install.DEFAULT_VERSIONS.items())
    which.add_argument("--major", choices=["3", "4", "all"],
                       help=f"that major's default ({defaults}; default 4), or all: every pinned "
                            "version (the tests need them)")
    which.add_argument("--version", dest="helm_version", metavar="X.Y.Z",
                       help=f"a pinned version ({pinned}), e.g. the one your Argo CD embeds")
    return parser


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


def _shard(args: argparse.Namespace) -> tuple[int, int] | None:
    return sharding.parse_shard(args.shard) if getattr(args, "shard", None) else None


def _progress_bar(args: argparse.Namespace, label: str) -> progress.ProgressBar:
    return progress.for_cli(sys.stderr, label, args.format)


def _run_validate(args: argparse.Namespace, cwd: Path) -> int:
    reporter = reporter_for(args.format, os.environ)
    bar = _progress_bar(args, "validating")
    try:
        result = pipeline.validate(args.paths, _options(args), cwd, progress=bar)
    finally:
        bar.close()
    _report(sys.stdout, reporter.format(result.diagnostics, result.files_checked))
    _summary(args, result)
    return result.exit_code(args.strict)


def _run_render(args: argparse.Namespace, cwd: Path) -> int:
    reporter = reporter_for(args.format, os.environ)
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
    _summary(args, result)
    return code


def _say(stream: TextIO, *lines: str) -> None:
    """Print lines the CLI composes itself, each escaped (safe_output.py)."""
    stream.write("".join(escape(line) + "\n" for line in lines))


def _run_rollout(args: argparse.Namespace, cwd: Path) -> int:
    """canary set/promote/rollback, release: plan the edit and write it (one step, under the
    deployment's edit lock), then say what it did; with --dry-run, say what it would do."""
    from .commands import rollout  # imported on use: keeps `validate` start-up small

    repo = rollout.Repository(deployment_refs.deployments_root(args.repo, cwd),
                              CheckRequest(cwd, charts_root=_charts_root(args)))
    write = not args.dry_run
    try:
        if args.command == "release":
            plan = rollout.plan_release(repo, args.name, args.from_env, args.to_env, args.canary, write=write)
        elif args.canary_command == "set":
            plan = rollout.plan_canary_set(repo, args.deployment, args.percent, write=write)
        elif args.canary_command == "promote":
            plan = rollout.plan_canary_promote(repo, args.deployment, write=write)
        else:
            plan = rollout.plan_canary_rollback(repo, args.deployment, write=write)
    except (rollout.RolloutError, deployment_refs.UnknownDeployment) as exc:
        raise _Failed(EXIT_PROBLEMS, "refused", str(exc)) from exc
    sys.stderr.write(reporter_for("auto", os.environ).format(plan.diagnostics, 1))
    if plan.refusal:
        _say(sys.stderr, f"modeldeploy: refused: {plan.refusal}")
        return EXIT_PROBLEMS
    if plan.unchanged:
        _say(sys.stdout, plan.unchanged)
        return EXIT_OK
    # Written by now (or --dry-run): nothing above is said before the write succeeded.
    _say(sys.stdout, f"{plan.deployment.ref} ({plan.display}):",
         *(f"  {sentence.text}" for sentence in plan.sentences),
         *(f"  note: {note}" for note in plan.notes))
    if args.dry_run:
        sys.stdout.write(plan.diff())
        _say(sys.stdout, "dry run: nothing written")
        return EXIT_OK
    if not plan.written:
        raise InternalError(f"{plan.display}: the edit was planned but not written")
    _say(sys.stdout, f"updated {plan.display}; review it with `git diff`, then commit and push to roll out")
    return EXIT_OK


def _run_status(args: argparse.Namespace, cwd: Path) -> int:
    from .commands import status  # imported on use: keeps `validate` start-up small
    from .report import status as status_table

    root = deployment_refs.deployments_root(args.repo, cwd)
    request = CheckRequest(cwd, charts_root=_charts_root(args))
    try:
        deployments = deployment_refs.select_deployments(root, args.selector, cwd)
    except deployment_refs.UnknownDeployment as exc:
        raise _Failed(EXIT_PROBLEMS, "not-found", str(exc)) from exc
    rows = status.collect_status(deployments, request, root)
    _report(sys.stdout, status_table.format_json(rows) if args.format == "json"
            else status_table.format_text(rows))
    return EXIT_PROBLEMS if any(not row.valid for row in rows) else EXIT_OK


def _run_diff(args: argparse.Namespace, cwd: Path) -> int:
    from .commands import diff as diffing  # imported on use: keeps `validate` start-up small
    from .report import diff as diff_report

    result = diffing.diff(args.base, args.head, args.paths, _options(args), cwd)
    for problem in result.problems:  # also inside markdown/json: CI logs show them either way
        sys.stderr.write(diff_report.format_problem(problem) + "\n")
    color = args.format == "text" and sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    _report(sys.stdout, diff_report.format_report(args.format, result, color=color))
    return result.exit_code(args.exit_code)


# (new subcommands: add their handler functions above this line)
HANDLERS: dict[str, Callable[[argparse.Namespace, Path], int]] = {
    "validate": _run_validate,
    "render": _run_render,
    "install-helm": _run_install_helm,
    "canary": _run_rollout,
    "release": _run_rollout,
    "status": _run_status,
    "diff": _run_diff,
    # (new subcommands: register handlers above this line)
}


def _summary(args: argparse.Namespace, result: RunResult) -> None:
    if sys.stderr.isatty() and args.format != "json":  # json: the report stream holds one document
        sys.stderr.write(f"{result.files_checked} config(s) checked: {result.errors} error(s), "
                         f"{result.warnings} warning(s)\n")


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
    if wanted == "json" or (wanted in ("sarif", "codequality") and command in ("validate", "render")):
        return command, wanted
    return None, None


def _failure_document(command: str, args: argparse.Namespace | None) -> dict[str, Any]:
    """The command's JSON document with no results, for a run that failed before it had any."""
    if command == "status":
        from .report import status as status_table

        return status_table.json_document([])
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


def main(argv: Sequence[str] | None = None) -> int:
    raw = list(sys.argv[1:] if argv is None else argv)
    _tolerant_streams()
    (_session.command, _session.format), _session.args, _session.reported = _machine_format(raw), None, False
    try:
        with processes.signals_as_exceptions():  # SIGTERM too unwinds: children killed, temp folders gone
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
        return _fail(EXIT_INTERNAL, "internal",
                     "internal error (a bug in modeldeploy, not in your files); please report it at "
                     f"{ISSUES_URL} with this output:", details=traceback.format_exc(limit=-3), label="")
