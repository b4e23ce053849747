"""The `allygraph` command: a thin layer over the Python API.

Exit codes: 0 success (the ledger conforms), 1 the ledger does not conform to the shapes,
2 input or runtime error, 130 interrupted.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn

import pyoxigraph

from . import __version__
from .assume import load_assumptions
from .atop import read_atop, write_import
from .build import BuildResult, build, check
from .definitions import load_definitions
from .docs import write_docs
from .errors import (
    EXIT_INPUT_ERROR,
    EXIT_INTERRUPTED,
    EXIT_NOT_CONFORMING,
    EXIT_OK,
    AllygraphError,
    InputError,
    InputErrors,
    ValidationFailed,
)
from .explain import claim_details, find_relationship, render
from .export import export
from .init import init_project
from .project import Project, find_project
from .push import ProgressBar, push
from .query import DEFAULT_MAX_BYTES, DEFAULT_TIMEOUT, load_query, run_isolated
from .reason import Result, classify, with_assumptions
from .remote import (
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_READ_TIMEOUT,
    DEFAULT_RETRIES,
    RemoteOptions,
    RemoteStore,
    redact,
    remote_options,
)
from .report import write_report
from .serve import ServerConfig, SparqlServer, serve
from .store import open_store
from .validate import Report

WORKFLOW = """\
workflow:
  1. allygraph init DIR     a new project for your own articles (a worked example inside; see its README)
  2. add sources and claims data/corpus/*.txt, data/sources.yaml, data/entities.yaml, data/claims/*.yaml
     allygraph import atop  add ATOP treaty data to the ledger (then builds)
  3. allygraph build        read the ledger, validate it with SHACL, classify every relationship, write
                            the store and exports (without a project: the bundled corpus -> ./build)
     allygraph validate     the same checks without writing anything
  4. allygraph classify     outcomes per relationship, definition and view (--assume FILE for a scenario)
     allygraph explain R    the checklist behind one relationship's outcome, with the quotes
  5. allygraph query NAME   a competency question of queries/ (or any SPARQL file), W3C result formats
  6. allygraph report       an HTML report: relationship map, criteria matrices, highlighted sources
     allygraph docs         the ontology and the definitions of alliance as HTML
  7. allygraph serve        the store over HTTP, read-only: SPARQL 1.1 endpoint, linked data, a query page
     allygraph push --endpoint URL
                            copy the built dataset into a SPARQL store (Graph Store Protocol); pushing
                            again changes nothing (--dry-run shows what would change)
     allygraph export       the dataset as TriG, N-Quads, Turtle, N-Triples or JSON-LD

exit codes: 0 ok, 1 does not conform to the shapes, 2 input or runtime error, 130 interrupted
"""


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _progress(args: argparse.Namespace) -> Callable[[str], None]:
    return (lambda _m: None) if args.quiet else (lambda m: _stderr(f"allygraph: {m}"))


def _json(data: dict[str, object]) -> None:
    """One JSON document on standard output (`--json`): what a script reads instead of the text."""
    print(json.dumps({"ok": True, **data}, ensure_ascii=False, indent=1, default=str))


def _error_json(exc: BaseException, code: int) -> dict[str, object]:
    """An error as a JSON document: the message, and each located problem or violation."""
    data: dict[str, object] = {"ok": False, "exit_code": code, "error": type(exc).__name__, "message": str(exc)}
    if isinstance(exc, InputErrors | InputError):
        errors = exc.errors if isinstance(exc, InputErrors) else [exc]
        data["problems"] = [
            {
                "file": str(e.location.path) if e.location else "",
                "line": e.location.line if e.location else 0,
                "column": e.location.column if e.location else 0,
                "message": e.message,
                "hint": e.hint,
            }
            for e in errors
        ]
    if isinstance(exc, ValidationFailed) and isinstance(exc.report, Report):
        data["violations"] = [dataclasses.asdict(v) for v in exc.report.violations]
    return data


def _build_summary(project: Project, result: BuildResult) -> dict[str, object]:
    return {
        "store": project.out / "store",
        "exports": [project.out / name for name in ("allygraph.trig", "allygraph.nq", "ontology.ttl")],
        "claims": result.claims,
        "quads": result.quads,
        "graphs": result.graphs,
        "conforms": True,
        "seconds": {k: round(v, 3) for k, v in result.seconds.items()},
    }


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
    if args.json:
        _json({**_build_summary(project, result), **getattr(args, "imported", {})})
    elif not args.quiet:
        print(f"store: {project.out / 'store'}")
        for name in ("allygraph.trig", "allygraph.nq", "ontology.ttl"):
            print(f"export: {project.out / name}")
        print(f"{result.claims} claims, {result.quads} quads, {result.graphs} named graphs; conforms")
    return EXIT_OK


def _cmd_import(args: argparse.Namespace) -> int:
    project = find_project(args.project, out=args.out)
    if project.bundled:
        raise InputError(
            "import into your own project: run it in a folder with allygraph.toml (or pass --project DIR); "
            "the bundled corpus is read-only"
        )
    progress = _progress(args)
    progress(f"reading {args.alliances} and {args.members}")
    data = read_atop(args.alliances, args.members, args.states, allow_unknown_states=args.allow_unknown_states)
    for code, where in sorted(data.unknown_states.items()):
        _stderr(f"allygraph: warning: {where}: state code {code} is not in {args.states}; imported with its code only")
    target = write_import(data, project.data)
    members = sum(len(a.members) for a in data.agreements.values())
    progress(f"wrote {len(data.agreements)} agreements ({members} memberships) to {target}")
    args.imported = {"imported": {"file": target, "agreements": len(data.agreements), "memberships": members}}
    if args.no_build:
        if args.json:
            _json(args.imported)
        return EXIT_OK
    args.no_reason, args.definitions = False, None
    return _cmd_build(args)


def _definition_files(args: argparse.Namespace, project: Project) -> tuple[Path, ...]:
    return project.definitions + tuple(args.definitions or ())


def _remote(args: argparse.Namespace) -> RemoteOptions:
    return remote_options(
        user=args.user,
        password_env=args.password_env,
        token_env=args.token_env,
        connect_timeout=args.connect_timeout,
        read_timeout=args.timeout,
        retries=args.retries,
    )


def _classify(
    args: argparse.Namespace, *, names: list[str] | None, views: list[str] | None
) -> tuple[Result, pyoxigraph.Store | RemoteStore]:
    project = find_project(args.project, out=args.out)
    definitions = load_definitions(_definition_files(args, project))
    store: pyoxigraph.Store | RemoteStore
    if getattr(args, "endpoint", None):
        if args.assume:
            raise InputError("--assume adds claims to a local copy of the store; it cannot be used with --endpoint")
        store = RemoteStore(args.endpoint, options=_remote(args))
    else:
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
    open_store(project.out)  # "no store" is reported here, before a query process starts
    body = run_isolated(
        project.out, named, args.param or [], args.format, timeout=args.timeout, max_bytes=args.max_bytes
    )
    sys.stdout.buffer.write(body)
    sys.stdout.flush()
    return EXIT_OK


class _Stop(Exception):
    """SIGTERM while serving: a normal stop."""


def _cmd_serve(args: argparse.Namespace) -> int:
    project = find_project(args.project, out=args.out)
    config = ServerConfig(
        out=project.out,
        host=args.host,
        port=args.port,
        timeout=args.timeout,
        max_rows=args.max_rows,
        max_bytes=args.max_bytes,
        max_request=args.max_request,
        max_url=args.max_url,
        max_depth=args.max_depth,
        workers=args.workers,
        cors=args.cors,
    )

    def ready(server: SparqlServer) -> None:
        if not server.pool.sandboxed:
            _stderr("allygraph: warning: query workers cannot be barred from the network here (needs Linux seccomp)")
        _stderr(f"allygraph: serving {server.url} (read-only; Ctrl-C stops)")

    def stop(_signum: int, _frame: object) -> NoReturn:
        raise _Stop

    signal.signal(signal.SIGTERM, stop)
    try:
        serve(config, log=None if args.quiet else lambda line: _stderr(f"allygraph: {line}"), ready=ready)
    except _Stop:
        _stderr("allygraph: stopped")
        return EXIT_OK
    except KeyboardInterrupt:
        _stderr("allygraph: stopped (interrupted)")
        return EXIT_INTERRUPTED
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


def _cmd_push(args: argparse.Namespace) -> int:
    project = find_project(args.project, out=args.out)
    try:
        result = push(
            project.out,
            args.endpoint,
            options=_remote(args),
            sparql=args.sparql,
            dry_run=args.dry_run,
            progress=_progress(args),
            bar=None if args.quiet else ProgressBar(),
        )
    except KeyboardInterrupt:
        _stderr("allygraph: push interrupted; the graphs already pushed stay: run it again to complete the copy")
        return EXIT_INTERRUPTED
    if args.json:
        _json(
            {
                "endpoint": redact(result.endpoint),
                "dry_run": result.dry_run,
                "graphs": [{"graph": g.label, "action": g.action, "triples": g.triples} for g in result.graphs],
                "remote_only": result.remote_only,
                "triples_sent": result.triples_sent,
                "seconds": round(result.seconds, 3),
            }
        )
        return EXIT_OK
    if args.dry_run:
        print(result.listing())
    if not args.quiet:
        print(result.summary())
    return EXIT_OK


def _cmd_init(args: argparse.Namespace) -> int:
    written = init_project(args.folder)
    if args.json:
        _json({"created": written})
    elif not args.quiet:
        for path in written:
            print(f"created {path}")
        print(f"next: cd {args.folder} && allygraph build   (then read {args.folder / 'README.md'})")
    return EXIT_OK


def _cmd_docs(args: argparse.Namespace) -> int:
    project = find_project(args.project)
    out = args.out or (project.out / "docs")
    path = write_docs(out, load_definitions(_definition_files(args, project)))
    if args.json:
        _json({"documentation": path})
    elif not args.quiet:
        print(f"documentation: {path}")
    return EXIT_OK


def _cmd_report(args: argparse.Namespace) -> int:
    project = find_project(args.project, out=args.store)
    out = args.out or (project.out / "report")
    index = write_report(
        open_store(project.out), out, definition=args.definition, view=args.view, progress=_progress(args)
    )
    if args.json:
        _json({"report": index})
    elif not args.quiet:
        print(f"report: {index}")
    return EXIT_OK


def _cmd_validate(args: argparse.Namespace) -> int:
    project = find_project(args.project)
    _ledger, report = check(project.data, progress=_progress(args))
    if args.json:
        print(
            json.dumps(
                {
                    "ok": report.conforms,
                    "conforms": report.conforms,
                    "violations": [dataclasses.asdict(v) for v in report.violations],
                },
                ensure_ascii=False,
                indent=1,
            )
        )
    else:
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

    def json_option(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument(
            "--json",
            action="store_true",
            help="print one JSON document on standard output (the result, or the error with its problems)",
        )
        return p

    def definitions_option(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--definitions",
            type=Path,
            action="append",
            metavar="FILE",
            help="an extra definition file (Turtle); repeatable",
        )

    def endpoint_options(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--user",
            metavar="NAME",
            help="basic authentication; the password comes from $ALLYGRAPH_PASSWORD (or --password-env), "
            "else it is asked for",
        )
        p.add_argument("--password-env", metavar="VAR", help="the environment variable holding the password")
        p.add_argument(
            "--token-env",
            metavar="VAR",
            help="the environment variable holding a bearer token (default: ALLYGRAPH_TOKEN)",
        )
        p.add_argument(
            "--timeout",
            type=float,
            default=DEFAULT_READ_TIMEOUT,
            metavar="SECONDS",
            help=f"read timeout (default: {DEFAULT_READ_TIMEOUT:g})",
        )
        p.add_argument(
            "--connect-timeout",
            type=float,
            default=DEFAULT_CONNECT_TIMEOUT,
            metavar="SECONDS",
            help=f"connect timeout (default: {DEFAULT_CONNECT_TIMEOUT:g})",
        )
        p.add_argument(
            "--retries",
            type=int,
            default=DEFAULT_RETRIES,
            metavar="N",
            help=f"retries of GET and PUT on connection errors and HTTP 502/503/504 (default: {DEFAULT_RETRIES})",
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
    json_option(p)
    p = command("init", "create a new project for your own articles (never overwrites anything)", _cmd_init)
    p.add_argument("folder", type=Path, metavar="DIR", help="a new or empty folder")
    json_option(p)
    p = command("docs", "write the ontology and the definitions of alliance as one HTML page", _cmd_docs)
    p.add_argument("--out", type=Path, metavar="DIR", help="output folder (default: <build folder>/docs)")
    definitions_option(p)
    json_option(p)
    p = command("report", "write a static HTML report: map, criteria matrices, highlighted sources", _cmd_report)
    p.add_argument("--out", type=Path, metavar="DIR", help="output folder (default: <build folder>/report)")
    p.add_argument("--definition", default="valdai", metavar="D", help="the map's initial colouring (default: valdai)")
    p.add_argument("--view", default="all", metavar="V", help="the body of evidence (default: all)")
    p.add_argument("--store", type=Path, metavar="DIR", help="the build folder to read (default: the project's)")
    json_option(p)
    json_option(
        command("validate", "check the ledger against the SHACL shapes without writing anything", _cmd_validate)
    )
    p = command(
        "import",
        "import treaty data into the project's ledger (data/imports/), then build",
        _cmd_import,
    )
    p.add_argument("dataset", choices=("atop",), help="atop: ATOP alliance- and member-level CSV files")
    json_option(p)
    p.add_argument("--alliances", type=Path, required=True, metavar="FILE", help="the alliance-level CSV file")
    p.add_argument("--members", type=Path, required=True, metavar="FILE", help="the member-level CSV file")
    p.add_argument("--states", type=Path, metavar="FILE", help="COW state codes (ccode,stateabb): names and checks")
    p.add_argument(
        "--allow-unknown-states",
        action="store_true",
        help="import member codes the --states file lacks (with their code only) instead of refusing the files",
    )
    p.add_argument("--no-build", action="store_true", help="only write data/imports/atop.nq")
    p.add_argument("--out", type=Path, metavar="DIR", help="output folder of the build (default: the project's)")
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
    p.add_argument(
        "--endpoint",
        metavar="URL",
        help="classify the data at this SPARQL query URL (e.g. http://localhost:7878/query, after "
        "allygraph push) instead of the local build",
    )
    endpoint_options(p)
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
    p.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help=f"stop the query after this long (default {DEFAULT_TIMEOUT:g}); it runs in a process of its own, "
        "with no network",
    )
    p.add_argument(
        "--max-bytes", type=int, default=DEFAULT_MAX_BYTES, metavar="N", help="refuse results larger than this"
    )
    p.add_argument("--out", type=Path, metavar="DIR", help="the build folder to read (default: the project's)")
    p = command(
        "serve",
        "serve the built store read-only over HTTP: a SPARQL 1.1 endpoint at /sparql, linked data, a query page",
        _cmd_serve,
    )
    p.add_argument("--out", type=Path, metavar="DIR", help="the build folder to serve (default: the project's)")
    p.add_argument("--host", default=ServerConfig.host, help=f"address to listen on (default: {ServerConfig.host})")
    p.add_argument(
        "--port", type=int, default=ServerConfig.port, help=f"default: {ServerConfig.port}; 0 picks a free port"
    )
    p.add_argument(
        "--timeout",
        type=float,
        default=ServerConfig.timeout,
        metavar="SECONDS",
        help=f"stop a query after this long, answering 503 (default: {ServerConfig.timeout:g})",
    )
    for name, what, status in (
        ("max-rows", "rows (or triples) in a result", 422),
        ("max-bytes", "bytes in a response", 422),
        ("max-request", "bytes in a request body", 413),
        ("max-url", "characters in the request path and query string", 414),
        ("max-depth", "nesting of { ( [ in a query", 400),
    ):
        default = getattr(ServerConfig, name.replace("-", "_"))
        p.add_argument(
            f"--{name}",
            type=int,
            default=default,
            metavar="N",
            help=f"at most N {what}, else {status} (default: {default})",
        )
    p.add_argument(
        "--workers", type=int, default=ServerConfig.workers, metavar="N", help="query worker processes (default: 2)"
    )
    p.add_argument(
        "--cors",
        metavar="ORIGIN",
        help="let web pages from ORIGIN (https://host[:port], or *) read the answers; default: no CORS headers",
    )
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
    p = command("push", "copy the built dataset into a store speaking the SPARQL 1.1 Graph Store Protocol", _cmd_push)
    p.add_argument(
        "--endpoint",
        required=True,
        metavar="URL",
        help="the Graph Store Protocol URL: http://HOST:7878/store (Oxigraph), http://HOST:3030/DATASET/data "
        "(Fuseki), http://HOST:7200/repositories/REPO/rdf-graphs/service (GraphDB)",
    )
    p.add_argument(
        "--dry-run", action="store_true", help="list the graphs that would be created, replaced or left alone"
    )
    p.add_argument(
        "--sparql",
        metavar="URL",
        help="the store's SPARQL query URL, to list its graphs that the build lacks (default: derived for "
        "Oxigraph, Fuseki and GraphDB URLs)",
    )
    p.add_argument("--out", type=Path, metavar="DIR", help="the build folder to read (default: the project's)")
    endpoint_options(p)
    json_option(p)
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
        return _failed(args, exc, EXIT_INPUT_ERROR)
    except AllygraphError as exc:
        _stderr(f"allygraph: {exc}")
        if exc.exit_code == EXIT_NOT_CONFORMING:
            _stderr("allygraph: nothing was written")
        return _failed(args, exc, exc.exit_code)
    except KeyboardInterrupt as exc:
        _stderr("allygraph: interrupted; nothing was written")
        return _failed(args, exc, EXIT_INTERRUPTED)
    except BrokenPipeError:  # `allygraph ... | head` stopped reading: not an error, and no traceback
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK


def _failed(args: argparse.Namespace, exc: BaseException, code: int) -> int:
    """The exit code; with `--json`, the error as JSON on standard output too (the text stays on stderr)."""
    if getattr(args, "json", False):
        print(json.dumps(_error_json(exc, code), ensure_ascii=False, indent=1, default=str))
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
