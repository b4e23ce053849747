"""`allygraph push`: copy the built dataset into a store speaking the SPARQL 1.1 Graph Store HTTP Protocol.

Graph by graph: each named graph of the current build (and the default graph, if the build has one)
is fetched from the remote store (`GET URL?graph=IRI`) and compared with the built one, isomorphism
aware (blank nodes, e.g. of OWL negative property assertions, are compared by RDFC-1.0 canonical form).
A graph the remote lacks is created and one that differs is replaced, whole, by `PUT URL?graph=IRI`
with an N-Triples body; an identical one is left alone. Pushing again therefore changes nothing and
duplicates nothing, and a push that was interrupted or killed is completed by running it again.
Graphs on the remote that the build does not have are never touched; they are listed when the
store's SPARQL query URL is known (given, or next to Oxigraph's `/store`, Fuseki's `/data` or
GraphDB's `/rdf-graphs/service`).
"""

from __future__ import annotations

import gc
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import httpx
import pyoxigraph

from .errors import RemoteError
from .remote import Client, GraphStore, RemoteOptions, RemoteStore, redact
from .store import open_store

CREATE, REPLACE, UNCHANGED = "create", "replace", "unchanged"
DEFAULT_GRAPH_LABEL = "(default graph)"

Progress = Callable[[str], None]
Bar = Callable[[int, int], None]


def _quiet(_message: str) -> None:
    pass


@dataclass(frozen=True)
class GraphPush:
    """What push did (or, in a dry run, would do) with one graph of the build."""

    graph: str | None  # None: the default graph
    action: str  # create, replace or unchanged
    triples: int

    @property
    def label(self) -> str:
        return DEFAULT_GRAPH_LABEL if self.graph is None else self.graph


@dataclass
class PushResult:
    """The outcome of one push: every graph of the build with its action, and the remote's own graphs."""

    endpoint: str
    dry_run: bool
    graphs: list[GraphPush] = field(default_factory=list)
    remote_only: list[str] | None = None  # None: the remote's graphs could not be listed
    remote_only_note: str = ""
    triples_sent: int = 0
    seconds: float = 0.0

    def names(self, action: str) -> list[str]:
        """The labels of the graphs with this action, in push order."""
        return [g.label for g in self.graphs if g.action == action]

    @property
    def triples(self) -> int:
        return sum(g.triples for g in self.graphs)

    def listing(self) -> str:
        """One line per graph: `create`, `replace`, `unchanged` or `remote-only` (left alone), then the name."""
        lines = [f"{g.action:<10} {g.label}" for g in self.graphs]
        lines += [f"{'remote-only':<10} {name}" for name in self.remote_only or ()]
        return "\n".join(lines)

    def summary(self) -> str:
        created, replaced, unchanged = (len(self.names(a)) for a in (CREATE, REPLACE, UNCHANGED))
        if self.dry_run:
            head = (
                f"dry run, nothing written: {redact(self.endpoint)} would get {created} graph(s) created, "
                f"{replaced} replaced, {unchanged} left alone (unchanged)"
            )
        else:
            head = (
                f"pushed to {redact(self.endpoint)}: {created} graph(s) created, {replaced} replaced, "
                f"{unchanged} unchanged (skipped); {self.triples_sent} of {self.triples} triples sent "
                f"in {self.seconds:.1f} s"
            )
        if self.remote_only is None:
            tail = f"graphs on the remote that the build does not have: not listed ({self.remote_only_note})"
        elif self.remote_only:
            tail = f"{len(self.remote_only)} graph(s) on the remote that the build does not have: left alone"
        else:
            tail = "the remote has no graph that the build does not have"
        return f"{head}\n{tail}"


class ProgressBar:
    """`push [#####-----] 120/458 graphs` on a terminal, redrawn in place; elsewhere a line per 10 %."""

    def __init__(self, stream: TextIO | None = None, *, width: int = 30) -> None:
        self.stream = stream or sys.stderr
        self.width = width
        self.tty = self.stream.isatty()
        self._tenth = -1

    def __call__(self, done: int, total: int) -> None:
        if total <= 0:
            return
        filled = self.width * done // total
        text = f"allygraph: push [{'#' * filled}{'-' * (self.width - filled)}] {done}/{total} graphs"
        if self.tty:
            self.stream.write("\r" + text + ("\n" if done >= total else ""))
        elif (tenth := 10 * done // total) > self._tenth:
            self._tenth = tenth
            self.stream.write(text + "\n")
        self.stream.flush()


def query_endpoint(graph_store: str) -> str | None:
    """The SPARQL query URL beside a Graph Store Protocol URL, for the layouts known; else None.

    >>> query_endpoint("http://localhost:7878/store")  # Oxigraph
    'http://localhost:7878/query'
    >>> query_endpoint("http://localhost:3030/ds/data")  # Fuseki
    'http://localhost:3030/ds/query'
    >>> query_endpoint("http://localhost:7200/repositories/ally/rdf-graphs/service")  # GraphDB, RDF4J
    'http://localhost:7200/repositories/ally'
    """
    url = httpx.URL(graph_store)
    for suffix, replacement in (("/store", "/query"), ("/data", "/query"), ("/rdf-graphs/service", "")):
        if url.path.endswith(suffix):
            return str(url.copy_with(path=url.path[: -len(suffix)] + replacement, query=None))
    return None


def read_build(out: Path) -> dict[str | None, list[pyoxigraph.Triple]]:
    """The current build's graphs (None: the default graph, only if it has triples), each as its triples.

    :raises StoreError: if nothing has been built in `out`.
    """
    store = open_store(out)
    try:
        found: dict[str | None, list[pyoxigraph.Triple]] = {}
        for name in store.named_graphs():
            if isinstance(name, pyoxigraph.NamedNode):
                found[name.value] = []
        for quad in store:
            graph = quad.graph_name
            if isinstance(graph, pyoxigraph.NamedNode):
                found[graph.value].append(quad.triple)
            elif isinstance(graph, pyoxigraph.DefaultGraph):
                found.setdefault(None, []).append(quad.triple)
    finally:
        del store
        gc.collect()  # close RocksDB before talking to the network
    return dict(sorted(found.items(), key=lambda item: "" if item[0] is None else item[0]))


def isomorphic(first: list[pyoxigraph.Triple], second: list[pyoxigraph.Triple]) -> bool:
    """True if the two graphs are the same up to blank node names.

    >>> from pyoxigraph import BlankNode as B, NamedNode as N, Triple as T
    >>> p = N("http://example.org/p")
    >>> isomorphic([T(B("a"), p, B("b"))], [T(B("x"), p, B("y"))])
    True
    >>> isomorphic([T(B("a"), p, B("a"))], [T(B("x"), p, B("y"))])
    False
    """
    a, b = set(first), set(second)
    if len(a) != len(b):
        return False
    if not any(_has_blank(t) for t in a) and not any(_has_blank(t) for t in b):
        return a == b
    return _canonical(a) == _canonical(b)


def _has_blank(triple: pyoxigraph.Triple) -> bool:
    return isinstance(triple.subject, pyoxigraph.BlankNode) or isinstance(triple.object, pyoxigraph.BlankNode)


def _canonical(triples: set[pyoxigraph.Triple]) -> pyoxigraph.Dataset:
    dataset = pyoxigraph.Dataset(pyoxigraph.Quad(t.subject, t.predicate, t.object) for t in triples)
    dataset.canonicalize(pyoxigraph.CanonicalizationAlgorithm.RDFC_1_0)
    return dataset


def push(
    out: Path,
    endpoint: str,
    *,
    options: RemoteOptions | None = None,
    sparql: str | None = None,
    dry_run: bool = False,
    progress: Progress = _quiet,
    bar: Bar | None = None,
    workers: int = 4,
) -> PushResult:
    """Push the current build in `out` to the Graph Store Protocol URL `endpoint` (see the module docstring).

    `sparql` is the store's query URL, used only to list the remote's graphs that the build lacks
    (default: derived from `endpoint` when its layout is known). With `dry_run` nothing is written.
    `workers` graphs are compared and written at a time; `bar(done, total)` is told after each.

    :raises StoreError: if nothing has been built in `out`.
    :raises RemoteError: if the store cannot be reached or refuses a request (graphs already written stay
        written: run push again to complete the copy).
    """
    started = time.perf_counter()
    graphs = read_build(out)
    result = PushResult(endpoint, dry_run)
    with Client(options) as client:
        remote = GraphStore(endpoint, client=client)
        remote.probe()
        result.remote_only, result.remote_only_note = _remote_only(client, endpoint, sparql, graphs)
        verb = "comparing" if dry_run else "pushing"
        progress(f"{verb} the {len(graphs)} graphs of the build in {out} with {redact(endpoint)}")

        def sync(name: str | None) -> GraphPush:
            triples = graphs[name]
            existing = remote.get(name)
            if existing is None:
                action = CREATE
            elif isomorphic(triples, existing):
                action = UNCHANGED
            else:
                action = REPLACE
            if action != UNCHANGED and not dry_run:
                remote.put(name, pyoxigraph.serialize(triples, format=pyoxigraph.RdfFormat.N_TRIPLES) or b"")
            return GraphPush(name, action, len(triples))

        done: dict[str | None, GraphPush] = {}
        if bar is not None:
            bar(0, len(graphs))
        executor = ThreadPoolExecutor(max_workers=max(1, workers))
        try:
            for future in as_completed([executor.submit(sync, name) for name in graphs]):
                item = future.result()
                done[item.graph] = item
                if bar is not None:
                    bar(len(done), len(graphs))
        except RemoteError as exc:
            written = sum(1 for g in done.values() if g.action != UNCHANGED)
            if dry_run or not written:
                raise
            raise RemoteError(
                f"{exc}\n  note: {written} graph(s) were written before; push again to complete the copy"
            ) from None
        finally:
            executor.shutdown(wait=True, cancel_futures=True)  # on an error, let the requests under way end
    result.graphs = [done[name] for name in graphs]
    result.triples_sent = 0 if dry_run else sum(g.triples for g in result.graphs if g.action != UNCHANGED)
    result.seconds = time.perf_counter() - started
    return result


def _remote_only(
    client: Client, endpoint: str, sparql: str | None, graphs: dict[str | None, list[pyoxigraph.Triple]]
) -> tuple[list[str] | None, str]:
    url = sparql or query_endpoint(endpoint)
    if url is None:
        return None, "give the store's SPARQL query URL with --sparql to list them"
    try:
        names = [g.value for g in RemoteStore(url, client=client).named_graphs() if isinstance(g, pyoxigraph.NamedNode)]
    except RemoteError as exc:
        if sparql is not None:
            raise
        return None, f"{redact(url)} did not answer as a SPARQL endpoint: {str(exc).splitlines()[0]}"
    return sorted(set(names) - {g for g in graphs if g is not None}), ""
