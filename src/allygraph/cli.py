"""The `allygraph` command: a thin layer over the Python API.

Exit codes: 0 success (the ledger conforms), 1 the ledger does not conform to the shapes,
2 input or runtime error, 130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn

import pyoxigraph

from . import __version__
from .assume import load_assumptions
from .build import build, check
from .definitions import load_definitions
from .errors import (
    EXIT_INPUT_ERROR,
    EXIT_INTERRUPTED,
    EXIT_NOT_CONFORMING,
    EXIT_OK,
    AllygraphError,
    InputError,
    InputErrors,
)
from .explain import claim_details, find_relationship, render
from .export import export
from .project import Project, find_project
from .query import load_query
from .query import render as render_results
from .query import run as run_query
from .reason import Result, classify, with_assumptions
from .store import open_store

WORKFLOW = """\
workflow:
  1. allygraph build        read the ledger (sources, entities, claims), validate it with SHACL, classify
                            every relationship, and write the store and exports
                            (default: the bundled corpus -> ./build)
     allygraph validate     the same checks without writing anything
  2. allygraph classify     outcomes per relationship, definition and view (--assume FILE for a scenario)
  3. allygraph explain R    the checklist behind one relationship's outcome, with the quotes
  4. allygraph query NAME   a competency question of queries/ (or any SPARQL file), W3C result formats
  5. allygraph export       the dataset as TriG, N-Quads, Turtle, N-Triples or JSON-LD

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
    result = build(
        project.data,
        project.out,
        definitions=_definition_files(args, project),
        reason=not args.no_reason,
        progress=_progress(args),
    )
    if not args.quiet:
        print(f"store: {project.out / 'store'}")
        for name in ("allygraph.trig", "allygraph.nq", "ontology.ttl"):
            print(f"export: {project.out / name}")
        print(f"{result.claims} claims, {result.quads} quads, {result.graphs} named graphs; conforms")
    return EXIT_OK


def _definition_files(args: argparse.Namespace, project: Project) -> tuple[Path, ...]:
    return project.definitions + tuple(args.definitions or ())


def _classify(
    args: argparse.Namespace, *, names: list[str] | None, views: list[str] | None
) -> tuple[Result, pyoxigraph.Store]:
    project = find_project(args.project, out=args.out)
    definitions = load_definitions(_definition_files(args, project))
    store = open_store(project.out)
    if args.assume:
        store = with_assumptions(store, load_assumptions(args.assume, store))
    return classify(
        store, definitions=definitions, names=names, views=views, engine=args.engine, progress=_progress(args)
    ), store


def _cmd_classify(args: argparse.Namespace) -> int:
    result, _store = _classify(args, names=args.definition, views=args.view)
    if args.format == "json":
        print(json.dumps(result.as_json(), ensure_ascii=False, indent=1))
        return EXIT_OK
    marks = {"holds": "+", "fails": "-", "no-evidence": "?", "contested": "!"}
    rows = [
        ("relationship", "definition", "view", "outcome", "criteria (+ holds, - fails, ? no evidence, ! contested)")
    ]
    for c in result.classifications:
        criteria = " ".join(f"{marks[k.status]}{k.criterion.name}" for k in c.checks)
        rows.append((c.label, c.definition.name, c.view, c.outcome, criteria))
    widths = [min(max(len(r[i]) for r in rows), 45) for i in range(4)]
    for row in rows:
        print("  ".join(cell[:w].ljust(w) for cell, w in zip(row[:4], widths, strict=True)) + "  " + row[4])
    return EXIT_OK


def _cmd_explain(args: argparse.Namespace) -> int:
    project = find_project(args.project, out=args.out)
    store = open_store(project.out)
    relationship = find_relationship(store, args.relationship)
    result, store = _classify(args, names=[args.definition], views=[args.view])
    wanted = [c for c in result.classifications if c.relationship == relationship.iri]
    if not wanted:
        raise InputError(f"no claim in view {args.view!r} mentions {relationship.label}; try --view all")
    ids = {
        i
        for c in wanted
        for k in (*c.checks, *(k for a in c.also for k in a.checks))
        for i in (*k.supporting, *k.contradicting, *k.overridden)
    }
    details = claim_details(store, ids)
    if args.format == "json":
        print(
            json.dumps(
                [{**c.as_json(), "claims": {i: details[i].as_json() for i in sorted(details)}} for c in wanted],
                ensure_ascii=False,
                indent=1,
            )
        )
    else:
        print("\n\n".join(render(c, details) for c in wanted))
    return EXIT_OK


def _cmd_query(args: argparse.Namespace) -> int:
    project = find_project(args.project, out=args.out)
    named = load_query(args.query)
    results = run_query(open_store(project.out), named, args.param or [])
    sys.stdout.buffer.write(render_results(results, args.format))
    sys.stdout.flush()
    return EXIT_OK


def _cmd_export(args: argparse.Namespace) -> int:
    project = find_project(args.project, out=args.store)
    store = open_store(project.out)
    if args.out is None:
        export(store, args.format, sys.stdout.buffer, graph=args.graph)
        sys.stdout.flush()
        return EXIT_OK
    tmp = args.out.with_name(f".{args.out.name}.tmp")
    try:
        with tmp.open("wb") as handle:
            export(store, args.format, handle, graph=args.graph)
        tmp.replace(args.out)  # a failed export never leaves half a file behind
    finally:
        tmp.unlink(missing_ok=True)
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

    def definitions_option(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--definitions",
            type=Path,
            action="append",
            metavar="FILE",
            help="an extra definition file (Turtle); repeatable",
        )

    def reasoning_options(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--engine",
            choices=("sparql", "hermit"),
            default="sparql",
            help="sparql (compiled from the OWL definitions, fast) or hermit (the reference "
            "OWL reasoner, needs Java); default: sparql",
        )
        p.add_argument(
            "--assume",
            type=Path,
            metavar="FILE",
            help="a scenario file of hypothetical claims; views become scenario views",
        )
        definitions_option(p)
        p.add_argument("--format", choices=("table", "json"), default="table")
        p.add_argument("--out", type=Path, metavar="DIR", help="the build folder to read (default: the project's)")

    p = command(
        "build", "compile, validate, classify and store the ledger (atomically replaces the previous build)", _cmd_build
    )
    p.add_argument("--out", type=Path, metavar="DIR", help="output folder (default: the project's, or ./build)")
    p.add_argument("--no-reason", action="store_true", help="skip classification")
    definitions_option(p)
    command("validate", "check the ledger against the SHACL shapes without writing anything", _cmd_validate)
    p = command("classify", "classify relationships under each definition of alliance, in each view", _cmd_classify)
    p.add_argument(
        "--definition",
        action="append",
        metavar="D",
        help="valdai, azizi, atop, cow-1, cow-2, cow-3, walt or your own; repeatable; default: all",
    )
    p.add_argument(
        "--view",
        action="append",
        metavar="V",
        help="all, source:<document>, work:<id>, author:<id>; repeatable; default: all views (with --assume: all)",
    )
    reasoning_options(p)
    p = command("query", "run a query of the library (queries/) or a SPARQL file against the built store", _cmd_query)
    p.add_argument("query", metavar="NAME|FILE", help="a query name (see queries/README.md) or a .rq file")
    p.add_argument(
        "--param",
        action="append",
        metavar="NAME=VALUE",
        help="bind a variable: <iri>, http(s)://..., id:entity, or a plain string; repeatable",
    )
    p.add_argument("--format", choices=("table", "csv", "tsv", "json", "xml"), default="table")
    p.add_argument("--out", type=Path, metavar="DIR", help="the build folder to read (default: the project's)")
    p = command("export", "write the built dataset in a standard RDF syntax (standard output by default)", _cmd_export)
    p.add_argument(
        "--format",
        choices=("trig", "nquads", "turtle", "ntriples", "jsonld"),
        default="trig",
        help="trig, nquads and jsonld keep named graphs; turtle and ntriples hold their union",
    )
    p.add_argument("--graph", metavar="IRI", help="export only this named graph")
    p.add_argument("--out", type=Path, metavar="FILE", help="write to FILE instead of standard output")
    p.add_argument("--store", type=Path, metavar="DIR", help="the build folder to read (default: the project's)")
    p = command("explain", "explain one relationship's outcome criterion by criterion, with the quotes", _cmd_explain)
    p.add_argument("relationship", metavar="RELATIONSHIP", help="an entity id (iran-russia), IRI or label")
    p.add_argument("--definition", default="valdai", metavar="D", help="default: valdai")
    p.add_argument("--view", default="all", metavar="V", help="default: all")
    reasoning_options(p)
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
