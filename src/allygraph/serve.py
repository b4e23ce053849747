"""`allygraph serve`: the built store over HTTP, read-only: a SPARQL 1.1 Protocol endpoint, linked data, a query page.

- `/sparql` answers GET `?query=`, POST `application/x-www-form-urlencoded` and POST `application/sparql-query`
  with the W3C result formats by content negotiation; without a query it describes itself (SPARQL 1.1 Service
  Description) or, to a browser, serves a query page that works offline.
- Every other path is an allygraph IRI: `/id/state/630` is `https://w3id.org/allygraph/id/state/630`, described
  in Turtle, JSON-LD (the shipped context) or HTML.
- Queries run in a few worker processes (spawned, each with the store opened read-only). A query still running
  at the deadline has its worker killed and replaced; one that crashes its worker costs only that worker. On Linux
  the workers cannot open network sockets at all (seccomp), so no query reaches outside the store even if it got
  past the SERVICE/LOAD check. Nothing is ever written: updates are refused and the store is opened read-only.
- Every cap refuses with an error status and a plain message, before the first byte of a result is sent:
  a result is never truncated.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import html
import io
import json
import multiprocessing
import os
import queue
import re
import signal
import socket
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from multiprocessing.connection import Connection
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pyoxigraph
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import RDF, RDFS

from . import __version__
from .errors import AllygraphError, InputError, StoreError
from .export import context, jsonld
from .namespaces import BASE, PREFIXES
from .query import MAX_DEPTH, check_depth, check_local, library, load_query
from .sandbox import forbid_network, libc_handle
from .store import STORE, current_generation

__all__ = ["ServerConfig", "SparqlServer", "make_server", "negotiate", "serve"]

SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
FORMATS_NS = Namespace("http://www.w3.org/ns/formats/")

# Media types offered, in the server's order of preference, and the format each one gets.
_QRF, _RDF = pyoxigraph.QueryResultsFormat, pyoxigraph.RdfFormat
RESULT_TYPES: dict[str, tuple[str, pyoxigraph.QueryResultsFormat]] = {  # SELECT and ASK
    "application/sparql-results+json": ("application/sparql-results+json", _QRF.JSON),
    "application/json": ("application/sparql-results+json", _QRF.JSON),
    "application/sparql-results+xml": ("application/sparql-results+xml", _QRF.XML),
    "application/xml": ("application/sparql-results+xml", _QRF.XML),
    "text/csv": ("text/csv; charset=utf-8", _QRF.CSV),
    "text/tab-separated-values": ("text/tab-separated-values; charset=utf-8", _QRF.TSV),
}
GRAPH_TYPES: dict[str, tuple[str, pyoxigraph.RdfFormat | None]] = {  # CONSTRUCT, DESCRIBE, descriptions
    "text/turtle": ("text/turtle; charset=utf-8", _RDF.TURTLE),
    "application/n-triples": ("application/n-triples", _RDF.N_TRIPLES),
    "application/rdf+xml": ("application/rdf+xml", _RDF.RDF_XML),
    "application/ld+json": ("application/ld+json", None),  # export.jsonld, with the shipped context
}
_FORMAT_IRIS = {
    "application/sparql-results+json": "SPARQL_Results_JSON",
    "application/sparql-results+xml": "SPARQL_Results_XML",
    "text/csv": "SPARQL_Results_CSV",
    "text/tab-separated-values": "SPARQL_Results_TSV",
    "text/turtle": "Turtle",
    "application/n-triples": "N-Triples",
    "application/rdf+xml": "RDF_XML",
    "application/ld+json": "JSON-LD",
}
_HTML = "text/html"
_TEXT = "text/plain; charset=utf-8"
_SD_TYPES = ["text/turtle", _HTML, "application/ld+json", "application/n-triples", "application/rdf+xml"]
_RESOURCE_TYPES = ["text/turtle", "application/ld+json", _HTML, "application/n-triples", "application/rdf+xml"]

# A path that can be the rest of an allygraph IRI (RFC 3986 path characters only: nothing that could end an
# IRI inside a query), and a Host header worth echoing.
_PATH = re.compile(r"/[A-Za-z0-9\-._~!$&'()*+,;=:@%]+(?:/[A-Za-z0-9\-._~!$&'()*+,;=:@%]*)*")
_HOST = re.compile(r"(?:[A-Za-z0-9.\-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?")
_ORIGIN = re.compile(r"\*|https?://(?:[A-Za-z0-9.\-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?")
_LOOPBACK_NAMES = {"localhost", "::1"}


@dataclass(frozen=True)
class ServerConfig:
    """What `serve` serves, where, and its caps. Every cap answers with an error status, never a cut result."""

    out: Path  # the build folder (its `current` store is served)
    host: str = "127.0.0.1"
    port: int = 7878  # 0: any free port
    timeout: float = 30.0  # seconds a query may run -> 503 (a request waits up to 30 s more for a free worker)
    max_rows: int = 100_000  # rows of a result (triples of a graph) -> 422
    max_bytes: int = 64 * 1024 * 1024  # bytes of a response -> 422
    max_request: int = 1024 * 1024  # bytes of a request body -> 413
    max_url: int = 16 * 1024  # characters of the request target (path and query string) -> 414
    max_depth: int = MAX_DEPTH  # nesting of { ( [ in a query -> 400
    workers: int = 2  # query worker processes
    cors: str | None = None  # an origin (or *) allowed to read responses from a browser; None: no CORS headers

    def __post_init__(self) -> None:
        for name in ("timeout", "max_rows", "max_bytes", "max_request", "max_url", "max_depth", "workers"):
            if getattr(self, name) <= 0:
                raise InputError(f"serve: {name.replace('_', '-')} must be positive, not {getattr(self, name)}")
        if not 0 <= self.port <= 65535:
            raise InputError(f"serve: port must be 0 to 65535, not {self.port}")
        if self.cors is not None and not _ORIGIN.fullmatch(self.cors):
            raise InputError(f"serve: --cors {self.cors!r} is not an origin such as https://example.org or *")


def negotiate(accept: str | None, offers: list[str]) -> str | None:
    """The offer the Accept header prefers (ties: the first offer), or None if it accepts none of them.

    >>> negotiate("text/csv;q=0.5, application/*;q=0.9", ["text/csv", "application/json"])
    'application/json'
    >>> negotiate(None, ["text/turtle", "text/html"])
    'text/turtle'
    >>> negotiate("image/png", ["text/turtle"]) is None
    True
    """
    if accept is None or not accept.strip():
        return offers[0]
    ranges = []
    for part in accept.split(","):
        media, *params = (field.strip() for field in part.split(";"))
        q = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = min(max(float(value), 0.0), 1.0)
                except ValueError:
                    q = 0.0
        if "/" in media:
            ranges.append((media.lower(), q))
    best, best_q = None, 0.0
    for offer in offers:
        kind = offer.split("/", 1)[0]
        specificity, q = -1, 0.0
        for media, media_q in ranges:
            rank = 2 if media == offer else 1 if media == f"{kind}/*" else 0 if media == "*/*" else -1
            if rank > specificity:
                specificity, q = rank, media_q
        if specificity >= 0 and q > best_q:
            best, best_q = offer, q
    return best


# ----------------------------------------------------------------------------------------------------
# Worker processes
# ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Job:
    query: str
    accept: str | None
    default_graphs: tuple[str, ...] | None
    named_graphs: tuple[str, ...] | None
    max_rows: int
    max_bytes: int


@dataclass(frozen=True)
class _Reply:
    status: int
    content_type: str
    body: bytes
    rows: int = 0


def _plain(status: int, message: str) -> _Reply:
    return _Reply(status, _TEXT, f"{message}\n".encode())


class _TooLarge(Exception):
    pass


class _Capped(io.RawIOBase):
    """A byte sink that refuses to grow past `cap`."""

    def __init__(self, cap: int) -> None:
        super().__init__()
        self.cap, self.size, self.parts = cap, 0, []

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        self.size += len(data)
        if self.size > self.cap:
            raise _TooLarge
        self.parts.append(bytes(data))
        return len(data)


def _too_many_rows(job: _Job) -> _Reply:
    return _plain(
        422,
        f"the result has more than {job.max_rows} rows, this server's cap (--max-rows); "
        "add LIMIT to the query or narrow it",
    )


def _too_many_bytes(job: _Job) -> _Reply:
    return _plain(
        422,
        f"the result is larger than {job.max_bytes} bytes, this server's cap (--max-bytes); "
        "add LIMIT to the query, or select fewer or shorter values",
    )


def _answer(store: pyoxigraph.Store, job: _Job) -> _Reply:
    """Run one query and serialize its result in the negotiated format, within the caps."""
    dataset: dict[str, object] = {}
    if job.default_graphs is not None or job.named_graphs is not None:  # the protocol's dataset replaces FROM
        dataset["default_graph"] = [pyoxigraph.NamedNode(g) for g in job.default_graphs or ()]
        dataset["named_graphs"] = [pyoxigraph.NamedNode(g) for g in job.named_graphs or ()]
    try:
        results = store.query(job.query, **dataset)  # type: ignore[arg-type]
        if isinstance(results, pyoxigraph.QueryTriples):
            return _graph_reply(results, job)
        offer = negotiate(job.accept, list(RESULT_TYPES))
        if offer is None:
            return _not_acceptable(RESULT_TYPES)
        media_type, fmt = RESULT_TYPES[offer]
        if isinstance(results, pyoxigraph.QueryBoolean):
            return _Reply(200, media_type, results.serialize(format=fmt), 1)
        # Count the rows before anything is serialized: TSV (each term in N-Triples syntax) is the one format
        # written term by term; pyoxigraph's own writer then turns it into the format asked for.
        lines = ["\t".join(str(v) for v in results.variables)]
        for solution in results:
            if len(lines) > job.max_rows:
                return _too_many_rows(job)
            lines.append("\t".join("" if t is None else str(t).replace("\t", "\\t") for t in solution))
        table = pyoxigraph.parse_query_results(("\n".join(lines) + "\n").encode(), format=_QRF.TSV)
        sink = _Capped(job.max_bytes)
        table.serialize(sink, format=fmt)  # type: ignore[union-attr]
        return _Reply(200, media_type, b"".join(sink.parts), len(lines) - 1)
    except _TooLarge:
        return _too_many_bytes(job)
    except SyntaxError as exc:
        return _plain(400, f"SPARQL syntax: {exc}")
    except OSError as exc:
        if exc.errno == errno.EACCES or "(os error 13)" in str(exc):  # the seccomp filter at work
            return _plain(400, f"the query tried to reach the network, which this server forbids ({exc})")
        return _plain(500, f"the store could not be read: {exc}")
    except (RuntimeError, ValueError) as exc:
        return _plain(400, f"the query failed: {exc}")


def _graph_reply(results: pyoxigraph.QueryTriples, job: _Job) -> _Reply:
    offer = negotiate(job.accept, list(GRAPH_TYPES))
    if offer is None:
        return _not_acceptable(GRAPH_TYPES)
    triples = []
    for triple in results:
        if len(triples) >= job.max_rows:
            return _too_many_rows(job)
        triples.append(triple)
    media_type, fmt = GRAPH_TYPES[offer]
    if fmt is None:  # JSON-LD with the shipped context, as `allygraph export` writes it
        body = jsonld(triples)
        if len(body) > job.max_bytes:
            return _too_many_bytes(job)
        return _Reply(200, media_type, body, len(triples))
    sink = _Capped(job.max_bytes)
    prefixes = {"prefixes": PREFIXES} if fmt == _RDF.TURTLE else {}
    pyoxigraph.serialize(triples, sink, format=fmt, **prefixes)  # type: ignore[arg-type]
    return _Reply(200, media_type, b"".join(sink.parts), len(triples))


def _not_acceptable(offers: dict[str, object]) -> _Reply:
    return _plain(406, f"none of the formats asked for (Accept) is available; this result comes as {', '.join(offers)}")


def _worker_main(conn: Connection, out: str, parent: int) -> None:
    """A query worker: bar itself from the network, then answer jobs against the current store until EOF."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the server's to handle
    _die_with_parent(parent)
    with contextlib.suppress(ValueError, OSError):
        import resource

        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # a crash leaves no core file behind
    sandboxed = forbid_network()
    conn.send(("ready", sandboxed))
    store: pyoxigraph.Store | None = None
    generation: Path | None = None
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        now = current_generation(Path(out))  # a new build: serve it (builds never touch an open generation)
        if now is None:
            conn.send(_plain(503, f"no store in {out}: run `allygraph build` first"))
            continue
        if now != generation:
            store = None
            try:
                store, generation = pyoxigraph.Store.read_only(str(now / STORE)), now
            except OSError as exc:
                conn.send(_plain(503, f"cannot open the store in {now}: {exc}"))
                continue
        assert store is not None
        conn.send(_answer(store, job))


def _die_with_parent(parent: int) -> None:
    """Linux: be killed when the server dies, even by SIGKILL, so no query runs on unattended."""
    libc = libc_handle()
    if libc is not None:
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:
        os._exit(0)


class _Worker:
    def __init__(self, ctx: multiprocessing.context.SpawnContext, out: Path) -> None:
        ours, theirs = ctx.Pipe()
        self.process = ctx.Process(
            target=_worker_main, args=(theirs, str(out), os.getpid()), daemon=True, name="allygraph-query"
        )
        self.process.start()
        theirs.close()
        self.conn = ours
        self.ready = False
        self.sandboxed = False

    def wait_ready(self, timeout: float) -> bool:
        """Whether the worker has started (it says so once); raises EOFError if it died instead."""
        if not self.ready:
            if not self.conn.poll(max(timeout, 0)):
                return False
            _tag, self.sandboxed = self.conn.recv()
            self.ready = True
        return True

    def kill(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            self.process.kill()
            self.process.join(10)
        self.conn.close()


_QUEUE_WAIT = 30.0  # seconds a request may wait for a free worker, beyond its own timeout


class _Pool:
    """A few query workers. Workers are started by one long-lived thread, so that PR_SET_PDEATHSIG (tied to the
    thread that started a process) fires only when the server itself goes away."""

    def __init__(self, out: Path, size: int, *, startup: float = 120.0) -> None:
        self._ctx = multiprocessing.get_context("spawn")
        self._out = out
        self._idle: queue.Queue[_Worker | None] = queue.Queue()  # None: a worker could not be started
        self.failure = ""
        self._orders: queue.Queue[bool] = queue.Queue()
        self._workers: set[_Worker] = set()
        self._lock = threading.Lock()
        self._spawner = threading.Thread(target=self._spawn, name="allygraph-spawner", daemon=True)
        self._spawner.start()
        self.size = size
        for _ in range(size):
            self._orders.put(True)
        try:
            started = [self._idle.get(timeout=startup) for _ in range(size)]
            for worker in started:
                if worker is None:
                    raise StoreError(f"cannot start a query worker: {self.failure}")
                if not worker.wait_ready(startup):
                    raise StoreError(f"a query worker did not start within {startup:.0f} s")
        except EOFError:
            self.close()
            raise StoreError("a query worker failed to start; see the messages above") from None
        except queue.Empty:
            self.close()
            raise StoreError(f"the query workers did not start within {startup:.0f} s") from None
        except StoreError:
            self.close()
            raise
        self.sandboxed = all(w is not None and w.sandboxed for w in started)
        for worker in started:
            self._idle.put(worker)

    def _spawn(self) -> None:
        while self._orders.get():
            try:
                worker = _Worker(self._ctx, self._out)
            except BlockingIOError:  # out of processes for now: try again shortly
                time.sleep(1)
                self._orders.put(True)
                continue
            except Exception as exc:  # cannot start workers at all: say so to whoever waits for one
                self.failure = f"{type(exc).__name__}: {exc}".strip()
                self._idle.put(None)
                continue
            with self._lock:
                self._workers.add(worker)
            self._idle.put(worker)

    def _replace(self, worker: _Worker) -> None:
        worker.kill()
        with self._lock:
            self._workers.discard(worker)
        self._orders.put(True)

    def run(self, job: _Job, timeout: float) -> _Reply:
        """The worker's reply; 503 if the query runs past `timeout` seconds (its worker killed and replaced), or if
        no worker is free and started within `_QUEUE_WAIT` more seconds; 500 if the query crashed its worker."""
        wait = time.monotonic() + timeout + _QUEUE_WAIT
        try:
            worker = self._idle.get(timeout=timeout + _QUEUE_WAIT)
        except queue.Empty:
            return _plain(503, f"all {self.size} query workers stayed busy; try again later")
        if worker is None:
            self._idle.put(None)
            return _plain(500, f"cannot start a query worker: {self.failure}")
        try:
            if not worker.wait_ready(wait - time.monotonic()):
                self._idle.put(worker)  # still starting: keep it
                return _plain(503, "no query worker has started yet; try again later")
            worker.conn.send(job)
            if not worker.conn.poll(timeout):
                self._replace(worker)
                return _plain(
                    503,
                    f"the query ran longer than {timeout:g} s, this server's limit (--timeout), and was stopped; "
                    "narrow it or add LIMIT",
                )
            reply: _Reply = worker.conn.recv()
        except (EOFError, OSError):
            worker.process.join(5)
            code = worker.process.exitcode
            how = f"signal {signal.Signals(-code).name}" if code is not None and code < 0 else f"exit {code}"
            self._replace(worker)
            return _plain(500, f"the query crashed its worker process ({how}); the server replaced it and carries on")
        self._idle.put(worker)
        return reply

    def close(self) -> None:
        self._orders.put(False)
        self._spawner.join(30)
        with self._lock:
            workers = list(self._workers)
            self._workers.clear()
        for worker in workers:
            worker.kill()


# ----------------------------------------------------------------------------------------------------
# HTTP
# ----------------------------------------------------------------------------------------------------


class _Refused(Exception):
    def __init__(self, status: int, message: str, headers: tuple[tuple[str, str], ...] = ()) -> None:
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers


class SparqlServer(ThreadingHTTPServer):
    """The HTTP server with its worker pool; use as a context manager, or call `server_close()`."""

    daemon_threads = True

    def __init__(self, config: ServerConfig, *, log: Callable[[str], None] | None = None) -> None:
        if current_generation(config.out) is None:
            raise StoreError(f"no store in {config.out}: run `allygraph build` first")
        self.config = config
        self.log = log
        if ":" in config.host:
            self.address_family = socket.AF_INET6
        try:
            super().__init__((config.host, config.port), _Handler)
        except OSError as exc:
            raise InputError(f"cannot listen on {config.host} port {config.port}: {exc.strerror or exc}") from None
        try:
            self.pool = _Pool(config.out, config.workers)
        except BaseException:
            super().server_close()
            raise
        self.loopback = _is_loopback(config.host)
        self.query_page, self.query_page_csp = _query_page(config)

    @property
    def url(self) -> str:
        """The endpoint's address, e.g. http://127.0.0.1:7878/sparql."""
        host, port = self.server_address[:2]
        return f"http://{f'[{host}]' if ':' in str(host) else host}:{port}/sparql"

    def server_close(self) -> None:
        super().server_close()
        if hasattr(self, "pool"):
            self.pool.close()


def _is_loopback(host: str) -> bool:
    if host in _LOOPBACK_NAMES:
        return True
    with contextlib.suppress(OSError, ValueError):
        return socket.inet_pton(socket.AF_INET, host)[0] == 127
    return host == "::1"


def make_server(config: ServerConfig, *, log: Callable[[str], None] | None = None) -> SparqlServer:
    """A server listening on config.host and config.port, its workers started; run it with `serve_forever()`.

    The workers are spawned processes, which import the main module again: in a script, call this under
    `if __name__ == "__main__":`.

    :raises StoreError: if there is no store in config.out, or the workers cannot start.
    :raises InputError: if the address cannot be listened on.
    """
    return SparqlServer(config, log=log)


def serve(
    config: ServerConfig,
    *,
    log: Callable[[str], None] | None = None,
    ready: Callable[[SparqlServer], None] | None = None,
) -> None:
    """Serve until interrupted (KeyboardInterrupt, or any exception a signal handler raises); then stop the workers.

    `log` gets one line per request; `ready` is called once the server listens.
    """
    with make_server(config, log=log) as server:
        if ready is not None:
            ready(server)
        server.serve_forever()


class _Handler(BaseHTTPRequestHandler):
    server: SparqlServer
    server_version = f"allygraph/{__version__}"
    sys_version = ""
    timeout = 60  # seconds a client may take to send its request

    # -- dispatch ----------------------------------------------------------------------------------

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_HEAD(self) -> None:
        self._dispatch("HEAD")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_OPTIONS(self) -> None:
        self._head_only = False
        self._send(204, None, b"", (("Allow", "GET, HEAD, POST, OPTIONS"),), preflight=True)

    def _not_allowed(self) -> None:
        self._head_only = False
        self._drain()
        self._fail(_Refused(405, f"{self.command} is not allowed: this server is read-only", _ALLOW))

    do_PUT = do_DELETE = do_PATCH = _not_allowed

    def _dispatch(self, method: str) -> None:
        self._head_only = method == "HEAD"
        try:
            if len(self.path) > self.server.config.max_url:
                raise _Refused(
                    414,
                    f"the request target is longer than {self.server.config.max_url} characters, this server's cap "
                    "(--max-url); send the query with POST",
                )
            self._check_host()
            target = urlsplit(self.path)
            if target.path == "/sparql":
                self._sparql(method, target.query)
            elif target.path == "/":
                self._send(303, _TEXT, b"see /sparql\n", (("Location", "/sparql"),))
            elif method == "POST":
                self._drain()
                raise _Refused(405, "POST is only for /sparql; resources are read with GET", (("Allow", "GET, HEAD"),))
            else:
                self._resource(target.path)
        except _Refused as refusal:
            self._fail(refusal)
        except Exception:  # a bug: say so, keep serving
            traceback.print_exc(file=sys.stderr)
            self.close_connection = True
            self._fail(_Refused(500, "internal error in allygraph serve (details on the server's standard error)"))

    def _check_host(self) -> None:
        """On a loopback address, answer only requests addressed to a loopback name (no DNS rebinding)."""
        host = self.headers.get("Host")
        if not self.server.loopback or host is None:
            return
        name = host.rsplit(":", 1)[0] if not host.startswith("[") else host[1:].split("]", 1)[0]
        if not _is_loopback(name):
            raise _Refused(403, f"this server answers only requests addressed to this machine, not to {host!r}")

    # -- /sparql -----------------------------------------------------------------------------------

    def _sparql(self, method: str, query_string: str) -> None:
        if method == "POST":
            text, params = self._post(query_string)
        else:
            params = _form(query_string)
            _refuse_update(params)
            if "query" not in params:
                self._service_description()
                return
            text = _one(params, "query")
        self._query(text, _graphs(params, "default-graph-uri"), _graphs(params, "named-graph-uri"))

    def _post(self, query_string: str) -> tuple[str, dict[str, list[str]]]:
        media, charset = _content_type(self.headers.get("Content-Type"))
        if media == "application/sparql-update":
            self._drain()
            raise _Refused(403, "this endpoint is read-only: SPARQL Update is refused")
        if media not in ("application/x-www-form-urlencoded", "application/sparql-query"):
            self._drain()
            raise _Refused(
                415,
                f"POST a query as application/x-www-form-urlencoded (query=...) or application/sparql-query, "
                f"not {media or 'without a Content-Type'}",
            )
        if charset not in (None, "utf-8", "utf8") and not (media.endswith("urlencoded") and charset == "us-ascii"):
            self._drain()
            raise _Refused(415, f"the request body must be UTF-8, not {charset}")
        body = self._body()
        if media == "application/sparql-query":
            params = _form(query_string)
            _refuse_update(params)
            if "query" in params:
                raise _Refused(400, "a query is in both the body and the query string; send it once")
            try:
                return body.decode("utf-8"), params
            except UnicodeDecodeError as exc:
                raise _Refused(400, f"the query is not UTF-8 (byte {exc.start + 1})") from None
        try:
            params = _form(body.decode("ascii"))
        except UnicodeDecodeError:
            raise _Refused(400, "a form body must be percent-encoded ASCII (the query itself UTF-8)") from None
        _refuse_update(params)
        if "query" not in params:
            raise _Refused(400, "the form has no query parameter")
        return _one(params, "query"), params

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding"):
            self.close_connection = True
            raise _Refused(411, "send the body with a Content-Length, not chunked")
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            self.close_connection = True
            raise _Refused(411, "a POST needs a Content-Length") from None
        if length < 0:
            self.close_connection = True
            raise _Refused(400, "a negative Content-Length")
        if length > self.server.config.max_request:
            self.close_connection = True  # never read it
            raise _Refused(
                413,
                f"the request body is {length} bytes, more than this server's cap of "
                f"{self.server.config.max_request} (--max-request)",
            )
        return self.rfile.read(length)

    def _drain(self) -> None:
        """Read a small unwanted body so the client sees the answer; close the connection on a large one."""
        try:
            length = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            length = -1
        if 0 < length <= self.server.config.max_request:
            self.rfile.read(length)
        elif length:
            self.close_connection = True

    def _query(self, text: str, default: tuple[str, ...] | None, named: tuple[str, ...] | None) -> None:
        if not text.strip():
            raise _Refused(400, "the query is empty")
        try:
            check_local(text)
            check_depth(text, limit=self.server.config.max_depth)
        except InputError as exc:
            raise _Refused(400, str(exc)) from None
        reply = self._run(text, self.headers.get("Accept"), default, named)
        self._send(reply.status, reply.content_type, reply.body, _VARY)

    def _run(
        self,
        text: str,
        accept: str | None,
        default: tuple[str, ...] | None = None,
        named: tuple[str, ...] | None = None,
    ) -> _Reply:
        config = self.server.config
        job = _Job(text, accept, default, named, config.max_rows, config.max_bytes)
        return self.server.pool.run(job, config.timeout)

    def _service_description(self) -> None:
        kind = negotiate(self.headers.get("Accept"), _SD_TYPES)
        if kind is None:
            raise _Refused(406, f"the service description comes as {', '.join(_SD_TYPES)}")
        if kind == _HTML:
            headers = (*_VARY, ("Content-Security-Policy", self.server.query_page_csp))
            self._send(200, "text/html; charset=utf-8", self.server.query_page, headers)
            return
        reply = self._run(_GRAPHS_QUERY, "application/sparql-results+json")
        if reply.status != 200:
            self._send(reply.status, reply.content_type, reply.body)
            return
        graphs = [b["g"]["value"] for b in json.loads(reply.body)["results"]["bindings"]]
        body = _describe_service(f"{self._base()}/sparql", graphs, self.server.config).serialize(
            format=_RDFLIB[kind],
            encoding="utf-8",
            **({"context": {**context(), "sd": str(SD)}} if kind == "application/ld+json" else {}),
        )
        self._send(200, GRAPH_TYPES[kind][0], body, _VARY)

    def _base(self) -> str:
        """This server's address as the client reached it."""
        host = self.headers.get("Host")
        if host and _HOST.fullmatch(host):
            return f"http://{host}"
        return self.server.url.removesuffix("/sparql")

    # -- linked data -------------------------------------------------------------------------------

    def _resource(self, path: str) -> None:
        if not _PATH.fullmatch(path):
            raise _Refused(404, f"nothing here: {path} cannot be an allygraph IRI")
        iri = BASE + path[1:]
        kind = negotiate(self.headers.get("Accept"), _RESOURCE_TYPES)
        if kind is None:
            raise _Refused(406, f"a description comes as {', '.join(_RESOURCE_TYPES)}")
        if kind != _HTML:
            reply = self._run(_describe_query(iri, construct=True), kind)
        else:
            reply = self._run(_describe_query(iri, construct=False), "application/sparql-results+json")
        if reply.status == 200 and reply.rows == 0:
            raise _Refused(404, f"the store says nothing about <{iri}>")
        if reply.status != 200 or kind != _HTML:
            self._send(reply.status, reply.content_type, reply.body, _VARY)
            return
        page = _resource_page(iri, json.loads(reply.body)["results"]["bindings"])
        self._send(200, "text/html; charset=utf-8", page, (*_VARY, ("Content-Security-Policy", _RESOURCE_CSP)))

    # -- responses ---------------------------------------------------------------------------------

    def _fail(self, refusal: _Refused) -> None:
        self._send(refusal.status, _TEXT, f"{refusal.message}\n".encode(), refusal.headers)

    def _send(
        self,
        status: int,
        content_type: str | None,
        body: bytes,
        headers: tuple[tuple[str, str], ...] = (),
        *,
        preflight: bool = False,
    ) -> None:
        self.send_response(status)
        if content_type is not None:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Cache-Control", "no-store")
        for name, value in headers:
            self.send_header(name, value)
        origin = self.server.config.cors
        if origin is not None:
            self.send_header("Access-Control-Allow-Origin", origin)
            if origin != "*":
                self.send_header("Vary", "Origin")
            if preflight:
                self.send_header("Access-Control-Allow-Methods", "GET, HEAD, POST, OPTIONS")
                self.send_header("Access-Control-Allow-Headers", "Accept, Content-Type")
                self.send_header("Access-Control-Max-Age", "600")
        self.end_headers()
        if not getattr(self, "_head_only", False):
            self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        if self.server.log is not None:
            self.server.log(f"{self.address_string()} {format % args}")


_ALLOW = (("Allow", "GET, HEAD, POST, OPTIONS"),)
_VARY = (("Vary", "Accept"),)
_RDFLIB = {
    "text/turtle": "turtle",
    "application/ld+json": "json-ld",
    "application/n-triples": "nt",
    "application/rdf+xml": "xml",
}
_GRAPHS_QUERY = "SELECT DISTINCT ?g WHERE { GRAPH ?g { } } ORDER BY ?g"


def _form(text: str) -> dict[str, list[str]]:
    try:
        return parse_qs(text, keep_blank_values=True, encoding="utf-8", errors="strict", max_num_fields=1000)
    except UnicodeDecodeError:
        raise _Refused(400, "a parameter is not UTF-8 once percent-decoded") from None
    except ValueError as exc:
        raise _Refused(400, f"malformed parameters: {exc}") from None


def _one(params: dict[str, list[str]], name: str) -> str:
    values = params[name]
    if len(values) != 1:
        raise _Refused(400, f"the {name} parameter is given {len(values)} times; give it once")
    return values[0]


def _refuse_update(params: dict[str, list[str]]) -> None:
    if "update" in params or "using-graph-uri" in params or "using-named-graph-uri" in params:
        raise _Refused(403, "this endpoint is read-only: SPARQL Update is refused")


def _graphs(params: dict[str, list[str]], name: str) -> tuple[str, ...] | None:
    if name not in params:
        return None
    for value in params[name]:
        try:
            pyoxigraph.NamedNode(value)
        except ValueError:
            raise _Refused(400, f"{name} {value!r} is not an IRI") from None
    return tuple(params[name])


def _content_type(header: str | None) -> tuple[str, str | None]:
    if not header:
        return "", None
    media, *params = (part.strip() for part in header.split(";"))
    charset = None
    for param in params:
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset":
            charset = value.strip().strip('"').lower()
    return media.lower(), charset


def _describe_query(iri: str, *, construct: bool) -> str:
    """The triples about `iri` in every graph; for a top-level document (…/ontology) also about its #terms;
    for a graph name, also the graph's own triples. `iri` holds only RFC 3986 path characters (see _PATH)."""
    parts = [f"{{ GRAPH ?g {{ <{iri}> ?p ?o }} BIND(<{iri}> AS ?s) }}"]
    if "/" not in iri.removeprefix(BASE):
        parts.append(f'{{ GRAPH ?g {{ ?s ?p ?o }} FILTER(STRSTARTS(STR(?s), "{iri}#")) }}')
    parts.append(f"{{ GRAPH <{iri}> {{ ?s ?p ?o }} BIND(<{iri}> AS ?g) }}")
    where = " UNION ".join(parts)
    if construct:
        return f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ SELECT DISTINCT ?s ?p ?o WHERE {{ {where} }} }}"
    return f"SELECT ?s ?p ?o ?g WHERE {{ {where} }} ORDER BY ?s ?p ?o ?g"


def _describe_service(endpoint: str, graphs: list[str], config: ServerConfig) -> Graph:
    """The W3C SPARQL 1.1 Service Description of this endpoint."""
    graph = Graph()
    graph.bind("sd", SD)
    graph.bind("formats", FORMATS_NS)
    service, dataset, default = BNode(), BNode(), BNode()
    graph.add((service, RDF.type, SD.Service))
    graph.add((service, SD.endpoint, URIRef(endpoint)))
    graph.add((service, SD.supportedLanguage, SD.SPARQL11Query))
    for media_type in _FORMAT_IRIS.values():
        graph.add((service, SD.resultFormat, FORMATS_NS[media_type]))
    graph.add(
        (
            service,
            RDFS.comment,
            Literal(
                f"allygraph {__version__}, read-only: no update, no SERVICE, no LOAD. Caps: {config.timeout:g} s "
                f"per query, {config.max_rows} rows, {config.max_bytes} bytes per result. Every triple is in a "
                "named graph; the default graph is empty unless default-graph-uri names graphs."
            ),
        )
    )
    graph.add((service, SD.defaultDataset, dataset))
    graph.add((dataset, RDF.type, SD.Dataset))
    graph.add((dataset, SD.defaultGraph, default))
    graph.add((default, RDF.type, SD.Graph))
    for name in graphs:
        named = BNode()
        graph.add((dataset, SD.namedGraph, named))
        graph.add((named, RDF.type, SD.NamedGraph))
        graph.add((named, SD.name, URIRef(name)))
    return graph


# ----------------------------------------------------------------------------------------------------
# HTML: the query page and resource pages. Self-contained (inline style and script, allowed by hash in the
# Content-Security-Policy, which forbids everything else), every text escaped.
# ----------------------------------------------------------------------------------------------------

_STYLE = (
    "body{font:15px/1.45 system-ui,sans-serif;margin:1.5em auto;max-width:90em;padding:0 1em;color:#222}"
    "textarea{width:100%;height:18em;font:13px/1.4 ui-monospace,monospace;box-sizing:border-box}"
    "table{border-collapse:collapse;margin-top:1em}td,th{border:1px solid #ccc;padding:.2em .5em;text-align:left;"
    "vertical-align:top;font-size:13px}th{background:#f2f2f2}.error{color:#a00;white-space:pre-wrap}"
    "pre{white-space:pre-wrap;font-size:13px}.muted{color:#666}.iri{font-family:ui-monospace,monospace}"
    "select{max-width:100%}"
)
_SCRIPT = """\
"use strict";
const data = JSON.parse(document.getElementById("queries").textContent);
const pick = document.getElementById("pick"), text = document.getElementById("query");
const out = document.getElementById("results"), status = document.getElementById("status");
pick.addEventListener("change", () => { if (pick.value in data.queries) text.value = data.queries[pick.value]; });
function cell(term) {
  const td = document.createElement("td");
  if (!term) return td;
  if (term.type === "uri" && term.value.startsWith(data.base)) {
    const a = document.createElement("a");
    a.href = "/" + term.value.slice(data.base.length);
    a.textContent = term.value;
    td.appendChild(a);
  } else if (term.type === "literal") {
    td.textContent = term.value + (term["xml:lang"] ? "@" + term["xml:lang"] : "");
  } else if (term.type === "bnode") {
    td.textContent = "_:" + term.value;
  } else {
    td.textContent = typeof term.value === "string" ? term.value : JSON.stringify(term.value);
  }
  return td;
}
function table(results) {
  const t = document.createElement("table"), head = t.createTHead().insertRow();
  for (const name of results.head.vars) {
    const th = document.createElement("th");
    th.textContent = name;
    head.appendChild(th);
  }
  const body = t.createTBody();
  for (const row of results.results.bindings) {
    const tr = body.insertRow();
    for (const name of results.head.vars) tr.appendChild(cell(row[name]));
  }
  return t;
}
document.getElementById("form").addEventListener("submit", async (event) => {
  event.preventDefault();
  out.replaceChildren();
  status.textContent = "running…";
  const started = performance.now();
  try {
    const response = await fetch("/sparql", {
      method: "POST",
      headers: {"Content-Type": "application/x-www-form-urlencoded",
                "Accept": "application/sparql-results+json, text/turtle;q=0.9"},
      body: new URLSearchParams({query: text.value}),
    });
    const body = await response.text(), type = response.headers.get("Content-Type") || "";
    const took = " (" + ((performance.now() - started) / 1000).toFixed(2) + " s)";
    if (!response.ok) {
      const p = document.createElement("p");
      p.className = "error";
      p.textContent = response.status + " " + response.statusText + ": " + body;
      out.appendChild(p);
      status.textContent = "";
    } else if (type.startsWith("application/sparql-results+json")) {
      const results = JSON.parse(body);
      if ("boolean" in results) {
        status.textContent = String(results.boolean) + took;
      } else {
        out.appendChild(table(results));
        const n = results.results.bindings.length;
        status.textContent = n + (n === 1 ? " row" : " rows") + took;
      }
    } else {
      const pre = document.createElement("pre");
      pre.textContent = body;
      out.appendChild(pre);
      status.textContent = took.trim();
    }
  } catch (error) {
    status.textContent = "failed: " + error;
  }
});
"""
_START = """\
# Every triple is in a named graph (the default graph is empty): use GRAPH, FROM, or pick a query above.
SELECT ?g (COUNT(*) AS ?triples) WHERE { GRAPH ?g { ?s ?p ?o } }
GROUP BY ?g ORDER BY DESC(?triples) LIMIT 25
"""


def _csp_hash(text: str) -> str:
    import base64

    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


_RESOURCE_CSP = (
    f"default-src 'none'; style-src {_csp_hash(_STYLE)}; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


def _json_in_html(value: object) -> str:
    """JSON that cannot end the <script> element it sits in."""
    return json.dumps(value, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _query_page(config: ServerConfig) -> tuple[bytes, str]:
    """The query page (one self-contained document) and its Content-Security-Policy."""
    named = {}
    for name in library():
        with contextlib.suppress(AllygraphError):  # a query the checks refuse is not offered
            named[name] = load_query(name)
    e = html.escape
    options = "".join(f'<option value="{e(n)}">{e(n)}: {e(q.intent)}</option>' for n, q in named.items())
    data = _json_in_html({"base": BASE, "queries": {n: q.text for n, q in named.items()}})
    caps = (
        f"read-only; a query may run {config.timeout:g} s and return {config.max_rows} rows or "
        f"{config.max_bytes} bytes; results are never cut short, a query over a cap gets an error"
    )
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>allygraph SPARQL</title><style>{_STYLE}</style></head>
<body>
<h1>allygraph SPARQL</h1>
<p class="muted">{e(caps)}. Entities open at their own paths, e.g. <span class="iri">/id/…</span>.</p>
<form id="form">
<p><label>Bundled query: <select id="pick"><option value="">(choose one to load it)</option>{options}
</select></label></p>
<p><textarea id="query" name="query" spellcheck="false" aria-label="SPARQL query">{e(_START)}</textarea></p>
<p><button type="submit">Run</button> <span id="status" class="muted"></span></p>
</form>
<div id="results"></div>
<script type="application/json" id="queries">{data}</script>
<script>{_SCRIPT}</script>
</body></html>
"""
    csp = (
        f"default-src 'none'; script-src {_csp_hash(_SCRIPT)}; style-src {_csp_hash(_STYLE)}; connect-src 'self'; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )
    return page.encode("utf-8"), csp


def _compact(iri: str) -> str:
    for prefix, namespace in PREFIXES.items():
        if iri.startswith(namespace) and re.fullmatch(r"[A-Za-z0-9_\-./]*", iri[len(namespace) :]):
            return f"{prefix}:{iri[len(namespace) :]}"
    return f"<{iri}>"


def _html_term(term: dict[str, str] | None) -> str:
    """A SPARQL JSON term as escaped HTML: allygraph IRIs link here, other http(s) IRIs link out, nothing else does."""
    e = html.escape
    if term is None:
        return ""
    value = term["value"]
    if term["type"] == "uri":
        if value.startswith(BASE) and _PATH.fullmatch("/" + value[len(BASE) :].split("#", 1)[0]):
            return f'<a href="{e("/" + value[len(BASE) :])}">{e(_compact(value))}</a>'
        if urlsplit(value).scheme.lower() in ("http", "https"):
            return f'<a href="{e(value)}" rel="noreferrer nofollow">{e(_compact(value))}</a>'
        return e(_compact(value))
    if term["type"] == "bnode":
        return e(f"_:{value}")
    if term["type"] == "literal":
        suffix = ""
        if "xml:lang" in term:
            suffix = f"@{term['xml:lang']}"
        elif "datatype" in term:
            suffix = f"^^{_compact(term['datatype'])}"
        return f'{e(value)}<span class="muted">{e(suffix)}</span>'
    return e(json.dumps(value))


def _resource_page(iri: str, rows: list[dict[str, dict[str, str]]]) -> bytes:
    e = html.escape
    label = next((r["o"]["value"] for r in rows if r["s"]["value"] == iri and r["p"]["value"] == str(RDFS.label)), "")
    body, seen = [], set()
    for row in rows:
        subject = row["s"]["value"]
        anchor = ""
        if subject not in seen and subject.startswith(iri + "#"):
            anchor = f' id="{e(subject[len(iri) + 1 :])}"'
        seen.add(subject)
        cells = "".join(f"<td>{_html_term(row.get(k))}</td>" for k in ("s", "p", "o", "g"))
        body.append(f"<tr{anchor}>{cells}</tr>")
    title = label or _compact(iri)
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(title)}</title><style>{_STYLE}</style></head>
<body>
<p><a href="/sparql">allygraph SPARQL</a></p>
<h1>{e(title)}</h1>
<p class="iri">{e(iri)}</p>
<p class="muted">{len(rows)} statements. Also as Turtle or JSON-LD: ask for text/turtle or application/ld+json.</p>
<table><thead><tr><th>subject</th><th>property</th><th>value</th><th>graph</th></tr></thead>
<tbody>{"".join(body)}</tbody></table>
</body></html>
"""
    return page.encode("utf-8")
