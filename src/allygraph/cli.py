"""The `allygraph` command: a thin layer over the Python API.

Exit codes: 0 success (the ledger conforms), 1 the ledger does not conform to the shapes,
2 input or runtime error, 130 interrupted.
"""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn

from . import __version__
from .build import build, check
from .errors import (
    EXIT_INPUT_ERROR,
    EXIT_INTERRUPTED,
    EXIT_NOT_CONFORMING,
    EXIT_OK,
    AllygraphError,
    InputErrors,
)
from .project import find_project

WORKFLOW = """\
workflow:
  1. allygraph build        read the ledger (sources, entities, claims), validate it with SHACL,
                            and write the store and exports (default: the bundled corpus -> ./build)
  2. allygraph validate     the same checks without writing anything

exit codes: 0 ok, 1 does not conform to the shapes, 2 input or runtime error, 130 interrupted
"""


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _progress(args: argparse.Namespace) -> Callable[[str], None]:
    return (lambda _m: None) if args.quiet else (lambda m: _stderr(f"allygraph: {m}"))


def _cmd_build(args: argparse.Namespace) -> int:
    project = find_project(args.project, out=args.out)
    if project.bundled and not args.quiet:
        _stderr(f"allygraph: no allygraph.toml here; building the bundled corpus into {project.out}")
    result = build(project.data, project.out, progress=_progress(args))
    if not args.quiet:
        print(f"store: {project.out / 'store'}")
        for name in ("allygraph.trig", "allygraph.nq", "ontology.ttl"):
            print(f"export: {project.out / name}")
        print(f"{result.claims} claims, {result.quads} quads, {result.graphs} named graphs; conforms")
    return EXIT_OK


def _cmd_validate(args: argparse.Namespace) -> int:
    project = find_project(args.project)
    _ledger, report = check(project.data, progress=_progress(args))
    print(report)
    return EXIT_OK if report.conforms else EXIT_NOT_CONFORMING


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="allygraph",
        description="Alliances, strategic cooperation and the claims that argue about them, as linked data.",
        epilog=WORKFLOW,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    top.add_argument("--version", action="version", version=f"allygraph {__version__}")
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help_: str, func: Callable[[argparse.Namespace], int]) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_, description=help_)
        p.set_defaults(func=func)
        p.add_argument(
            "--project",
            type=Path,
            metavar="DIR",
            help="project folder (with allygraph.toml); default: the nearest one above the "
            "working directory, else the bundled corpus",
        )
        p.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")
        return p

    p = command("build", "compile, validate and store the ledger (atomically replaces the previous build)", _cmd_build)
    p.add_argument("--out", type=Path, metavar="DIR", help="output folder (default: the project's, or ./build)")
    command("validate", "check the ledger against the SHACL shapes without writing anything", _cmd_validate)
    return top


def _terminate(_signum: int, _frame: object) -> NoReturn:
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    args = parser().parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)  # clean up like Ctrl-C
    try:
        return int(args.func(args))
    except InputErrors as exc:
        _stderr(f"allygraph: {len(exc.errors)} problem(s) in the input; nothing was written:")
        for error in exc.errors:
            _stderr(str(error))
        return EXIT_INPUT_ERROR
    except AllygraphError as exc:
        _stderr(f"allygraph: {exc}")
        if exc.exit_code == EXIT_NOT_CONFORMING:
            _stderr("allygraph: nothing was written")
        return exc.exit_code
    except KeyboardInterrupt:
        _stderr("allygraph: interrupted; nothing was written")
        return EXIT_INTERRUPTED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
