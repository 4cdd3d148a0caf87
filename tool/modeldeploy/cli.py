"""Command line: the only module that parses arguments, prints and chooses exit codes.

Exit codes: 0 all good; 1 the checked files have problems; 2 usage or environment
error (bad option, missing path, no helm); 3 internal error (a bug in modeldeploy).
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path

from . import __version__, helm_install, pipeline
from .diagnostics import ToolError
from .reporters import FORMAT_CHOICES, reporter_for
from .schema_registry import DEFAULT_KUBERNETES_VERSION

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3
ISSUES_URL = "https://github.com/modeldeploy/modeldeploy/issues"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        sys.stderr.write(f"modeldeploy: error: {message}\n")
        raise SystemExit(EXIT_USAGE)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="*", metavar="PATH",
                        help="config files, or folders searched for */config.yaml "
                             "(default: the repository's model-deployments/)")
    parser.add_argument("--format", choices=FORMAT_CHOICES, default="auto",
                        help="how to print problems (auto: github in GitHub Actions, else text)")
    parser.add_argument("--strict", action="store_true", help="warnings fail the run too")
    parser.add_argument("--charts-root", type=Path, metavar="DIR",
                        help="folder chart_path is relative to (default: the configs' repository root)")


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
                        help="write DIR/<env>/<name>.yaml per deployment instead of stdout")
    render.add_argument("--kubernetes-version", default=DEFAULT_KUBERNETES_VERSION, metavar="X.Y.Z",
                        help=f"Kubernetes version for core schemas and helm (default {DEFAULT_KUBERNETES_VERSION})")
    render.add_argument("--schema-location", action="append", default=[], metavar="TEMPLATE",
                        help="extra kubeconform-style schema path template, tried before the built-in "
                             "ones, e.g. 'crds/{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json'")

    # (new subcommands: add their parser above this line)
    install = sub.add_parser("install-helm", help="install the pinned, checksum-verified helm")
    install.add_argument("--major", choices=["3", "4", "all"], default=helm_install.DEFAULT_MAJOR,
                         help="which helm to install (default 4; tests use all)")
    return parser


def run(argv: Sequence[str]) -> int:
    args = build_parser().parse_args(argv)
    handler = HANDLERS[args.command]
    return handler(args, Path.cwd())


def _options(args: argparse.Namespace) -> pipeline.Options:
    if args.charts_root and not args.charts_root.is_dir():
        raise ToolError(f"--charts-root {args.charts_root}: no such directory")
    return pipeline.Options(
        charts_root=args.charts_root.resolve() if args.charts_root else None,
        kubernetes_version=getattr(args, "kubernetes_version", DEFAULT_KUBERNETES_VERSION),
        schema_locations=tuple(getattr(args, "schema_location", ())),
        output_dir=getattr(args, "output_dir", None),
    )


def _run_install_helm(args: argparse.Namespace, cwd: Path) -> int:
    majors = ["4", "3"] if args.major == "all" else [args.major]
    for major in majors:
        path = helm_install.install(major)
        print(f"helm {helm_install.HELM_RELEASES[major].version}: {path}")
    return EXIT_OK


def _run_validate(args: argparse.Namespace, cwd: Path) -> int:
    reporter = reporter_for(args.format, os.environ)
    result = pipeline.validate(args.paths, _options(args), cwd)
    sys.stdout.write(reporter.format(result.diagnostics, result.files_checked))
    _summary(result)
    return result.exit_code(args.strict)


def _run_render(args: argparse.Namespace, cwd: Path) -> int:
    reporter = reporter_for(args.format, os.environ)
    result = pipeline.render(args.paths, _options(args), cwd)
    code = result.exit_code(args.strict)
    # Diagnostics go to stderr so stdout stays a clean manifest stream; with
    # problems, stdout stays empty: a partial stream must never reach kubectl apply.
    sys.stderr.write(reporter.format(result.diagnostics, result.files_checked))
    if args.output_dir is None and code == EXIT_OK:
        sys.stdout.write(pipeline.joined_manifests(result))
    _summary(result)
    return code


# (new subcommands: add their handler functions above this line)
HANDLERS: dict[str, Callable[[argparse.Namespace, Path], int]] = {
    "validate": _run_validate,
    "render": _run_render,
    "install-helm": _run_install_helm,
    # (new subcommands: register handlers above this line)
}


def _summary(result: pipeline.RunResult) -> None:
    if sys.stderr.isatty():
        sys.stderr.write(f"{result.files_checked} config(s) checked: {result.errors} error(s), "
                         f"{result.warnings} warning(s)\n")


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return run(sys.argv[1:] if argv is None else argv)
    except ToolError as exc:
        sys.stderr.write(f"modeldeploy: error: {exc}\n")
        return EXIT_USAGE
    except KeyboardInterrupt:
        sys.stderr.write("modeldeploy: interrupted\n")
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception:
        sys.stderr.write("modeldeploy: internal error (a bug in modeldeploy, not in your files); "
                         f"please report it at {ISSUES_URL} with this output:\n")
        traceback.print_exc(limit=-3, file=sys.stderr)
        return EXIT_INTERNAL
