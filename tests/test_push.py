"""`allygraph push` and `allygraph classify --endpoint` against a real Oxigraph server, and the HTTP
client's authentication, timeouts, retries, redirects and errors against small local servers that record
what they receive (no mock of the client: every request goes over a socket on 127.0.0.1)."""

from __future__ import annotations

import base64
import http.server
import json
import signal
import socket
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph
import pytest
from rdflib import Graph
from rdflib.compare import isomorphic

import allygraph
from allygraph.errors import InputError, RemoteError
from allygraph.push import CREATE, REPLACE, UNCHANGED, push
from allygraph.query import library, load_query, run
from allygraph.remote import Client, GraphStore, RemoteOptions, RemoteStore, bind, remote_options
from conftest import Result, Running, copy_mini, edit
from oxigraph_server import OxigraphServer, free_port

DEFAULT = "(default graph)"
HOSTILE = 'view=all" } UNION { ?c ?p ?o } #'

# Parameters for the bundled queries on the mini ledger; every query also runs without any.
PARAMS: dict[str, list[list[str]]] = {
    "relationships-meeting-definition": [["definition=valdai", "view=all"], ["definition=valdai", HOSTILE]],
    "criteria-of-relationship": [["relationship=id:freedonia-sylvania", "definition=valdai", "view=all"]],
    "works-per-criterion": [["definition=valdai", "view=all"]],
    "outcomes-across-sources": [["definition=valdai"]],
    "agreements-between": [["first=id:state/9001", "second=id:state/9002"]],
    "claims-by-attribution": [["attribution=reportedSpeech"], ["modality=denied"]],
}
EMPTY_ON_MINI = {("hypotheticals", ()), ("relationships-meeting-definition", ("definition=valdai", HOSTILE))}


# ----------------------------------------------------------------------------------------------------
# Helpers
# ----------------------------------------------------------------------------------------------------


Triples = list[pyoxigraph.Triple]


def graphs_of(nquads: bytes) -> dict[str, Triples]:
    """An N-Quads document's graphs by name (DEFAULT for the default graph)."""
    graphs: dict[str, Triples] = defaultdict(list)
    for quad in pyoxigraph.parse(nquads, format=pyoxigraph.RdfFormat.N_QUADS):
        graphs[quad.graph_name.value if isinstance(quad.graph_name, pyoxigraph.NamedNode) else DEFAULT].append(
            quad.triple
        )
    return dict(graphs)


def built(out: Path) -> dict[str, Triples]:
    return graphs_of((out / "allygraph.nq").read_bytes())


def on_server(server: OxigraphServer) -> dict[str, Triples]:
    return graphs_of("\n".join(server.nquads()).encode())


def nt(triples: Triples) -> str:
    return (pyoxigraph.serialize(triples, format=pyoxigraph.RdfFormat.N_TRIPLES) or b"").decode()


def canonical(triples: Triples) -> frozenset[str]:
    """The graph with its blank nodes named canonically (RDFC-1.0), as N-Triples lines."""
    dataset = pyoxigraph.Dataset(pyoxigraph.Quad(t.subject, t.predicate, t.object) for t in triples)
    dataset.canonicalize(pyoxigraph.CanonicalizationAlgorithm.RDFC_1_0)
    return frozenset(str(q) for q in dataset)


def assert_same_graphs(found: dict[str, Triples], expected: dict[str, Triples]) -> None:
    assert sorted(found) == sorted(expected)
    different = [name for name in expected if canonical(found[name]) != canonical(expected[name])]
    assert different == [], f"graphs that differ: {different}"


def rdflib_graph(triples: Triples) -> Graph:
    return Graph().parse(data=nt(triples), format="nt")


def has_blank(triples: Triples) -> bool:
    return any(
        isinstance(t.subject, pyoxigraph.BlankNode) or isinstance(t.object, pyoxigraph.BlankNode) for t in triples
    )


def solutions(results: object) -> tuple[list[str], Counter[tuple[str, ...]]]:
    """Variable names and the rows as a multiset (blank nodes all alike: their labels are the store's)."""
    assert isinstance(results, pyoxigraph.QuerySolutions)
    names = [v.value for v in results.variables]

    def cell(term: object) -> str:
        return "" if term is None else "_:" if isinstance(term, pyoxigraph.BlankNode) else str(term)

    return names, Counter(tuple(cell(row[n]) for n in names) for row in results)


def listing(stdout: str) -> dict[str, set[str]]:
    """The lines of `push --dry-run` by action."""
    found: dict[str, set[str]] = defaultdict(set)
    for line in stdout.splitlines():
        action, _, name = line.partition(" ")
        if action in (CREATE, REPLACE, UNCHANGED, "remote-only"):
            found[action].add(name.strip())
    return found


def mini_project(good_build: Path) -> Path:
    return good_build.parent / "mini"  # the ledger good_build was built from


# ----------------------------------------------------------------------------------------------------
# Small local servers: one that records requests and answers from a script, one that never answers
# ----------------------------------------------------------------------------------------------------

Answer = tuple[int, dict[str, str], bytes]
NO_RESULTS = json.dumps({"head": {"vars": ["g"]}, "results": {"bindings": []}}).encode()


def graph_store(method: str, path: str, _index: int) -> Answer:
    """A minimal Graph Store and SPARQL endpoint with no data: what push and query need to run."""
    if method == "POST":
        return 200, {"Content-Type": "application/sparql-results+json"}, NO_RESULTS
    if method in ("GET", "HEAD"):
        if path.endswith("?default"):
            return 200, {"Content-Type": "application/n-triples"}, b""
        return 404, {"Content-Type": "text/plain"}, b"no such graph"
    return 201, {}, b""


@dataclass
class Recorder:
    """An HTTP server on 127.0.0.1 recording each request (method, path, headers) and answering with
    `respond(method, path, index of the request)`."""

    respond: Callable[[str, str, int], Answer]
    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        recorder = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                with recorder.lock:
                    index = len(recorder.requests)
                    recorder.requests.append((self.command, self.path, dict(self.headers.items())))
                status, headers, body = recorder.respond(self.command, self.path, index)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            do_GET = do_HEAD = do_PUT = do_POST = answer

            def log_message(self, *_args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


@pytest.fixture
def recorder() -> Iterator[Callable[..., Recorder]]:
    started: list[Recorder] = []

    def start(respond: Callable[[str, str, int], Answer] = graph_store) -> Recorder:
        started.append(Recorder(respond))
        return started[-1]

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port on 127.0.0.1 where connections are accepted and then never answered."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.settimeout(0.1)
    stop = threading.Event()
    held: list[socket.socket] = []

    def accept() -> None:
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield int(listener.getsockname()[1])
    stop.set()
    thread.join(timeout=10)
    for connection in held:
        connection.close()
    listener.close()


# ----------------------------------------------------------------------------------------------------
# Push into Oxigraph, and the queries through RemoteStore
# ----------------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_push_copies_every_graph_and_every_query_answers_as_embedded(
    oxigraph_server: OxigraphServer, good_build: Path
) -> None:
    bar: list[tuple[int, int]] = []
    result = push(good_build, oxigraph_server.store, bar=lambda done, total: bar.append((done, total)))
    expected = built(good_build)
    assert set(result.names(CREATE)) == set(expected) and not result.names(REPLACE) and not result.names(UNCHANGED)
    assert result.triples_sent == result.triples == sum(len(g) for g in expected.values())
    assert result.remote_only == []
    assert bar[0] == (0, len(expected)) and bar[-1] == (len(expected), len(expected))
    assert_same_graphs(on_server(oxigraph_server), expected)

    embedded = allygraph.open_store(good_build)
    remote = RemoteStore(oxigraph_server.query)
    compared = 0
    for name in library():
        for params in [[], *PARAMS.get(name, [])]:
            query = load_query(name)
            local = solutions(run(embedded, query, params))
            assert solutions(run(remote, query, params)) == local, (name, params)
            if (name, tuple(params)) not in EMPTY_ON_MINI:
                assert local[1], f"{name} {params} finds nothing on the mini ledger: the comparison proves nothing"
            compared += 1
    assert compared == len(library()) + sum(len(p) for p in PARAMS.values())
    for store in (embedded, remote):  # a parameter the query does not select is refused the same way
        with pytest.raises(InputError, match="a parameter must be a variable the query selects"):
            run(store, load_query("threats"), ["definition=valdai"])


def test_second_push_changes_nothing(
    oxigraph_server: OxigraphServer, good_build: Path, cli: Callable[..., Result]
) -> None:
    first = cli("push", "--endpoint", oxigraph_server.store, "--out", good_build)
    assert first.code == 0, first.stderr
    graphs = len(built(good_build))
    assert f"{graphs} graph(s) created, 0 replaced, 0 unchanged" in first.stdout
    assert "push [" in first.stderr  # the progress bar
    before = oxigraph_server.nquads()

    again = cli("push", "--endpoint", oxigraph_server.store, "--out", good_build)
    assert again.code == 0, again.stderr
    assert f"0 graph(s) created, 0 replaced, {graphs} unchanged (skipped); 0 of" in again.stdout
    assert oxigraph_server.nquads() == before  # not one graph rewritten (blank node labels would change)

    quiet = cli("push", "--endpoint", oxigraph_server.store, "--out", good_build, "-q")
    assert (quiet.code, quiet.stdout, quiet.stderr) == (0, "", "")


def test_a_rerun_completes_an_interrupted_push(oxigraph_server: OxigraphServer, good_build: Path) -> None:
    expected = built(good_build)
    names = sorted(expected)
    done, missing = names[: len(names) // 2], names[len(names) // 2 :]
    cut = done[0]  # a graph whose PUT was cut short: only some of its triples arrived
    for name in done:
        triples = expected[name][: len(expected[name]) // 2] if name == cut else expected[name]
        oxigraph_server.put(name, nt(triples))
    result = push(good_build, oxigraph_server.store)
    assert result.names(REPLACE) == [cut]
    assert set(result.names(CREATE)) == set(missing)
    assert set(result.names(UNCHANGED)) == set(done) - {cut}
    assert_same_graphs(on_server(oxigraph_server), expected)


@pytest.mark.slow
def test_a_killed_push_is_completed_by_the_next(
    oxigraph_server: OxigraphServer, good_build: Path, running: Callable[..., Running], tmp_path: Path
) -> None:
    process = running("push", "--endpoint", oxigraph_server.store, "--out", good_build, cwd=tmp_path)
    process.wait_for("push [###")  # at least a tenth of the graphs written
    process.send(signal.SIGKILL)
    assert process.finish() in (-signal.SIGKILL, 0)
    result = push(good_build, oxigraph_server.store)
    expected = built(good_build)
    assert sorted(g.label for g in result.graphs) == sorted(expected)
    assert len(result.names(UNCHANGED)) >= len(expected) // 10  # written by the killed push, not again
    assert_same_graphs(on_server(oxigraph_server), expected)


def test_a_failed_push_says_how_to_complete_it(recorder: Callable[..., Recorder], good_build: Path) -> None:
    puts: list[int] = []

    def respond(method: str, path: str, index: int) -> Answer:
        if method == "PUT":
            puts.append(index)
            if len(puts) > 3:
                return 500, {}, b"disk full"
        return graph_store(method, path, index)

    server = recorder(respond)
    with pytest.raises(
        RemoteError, match=r"HTTP 500 .*disk full\n  note: \d+ graph\(s\) were written before; push again"
    ):
        push(good_build, f"{server.url}/store", workers=1)


@pytest.mark.slow
def test_changed_build_dry_run_then_push(
    oxigraph_server: OxigraphServer, good_build: Path, tmp_path: Path, cli: Callable[..., Result]
) -> None:
    ledger = copy_mini(tmp_path / "mini")
    edit(ledger / "claims" / "alpha.yaml", "id: ann-joint-command", "id: ann-joint-body")
    changed = tmp_path / "out"
    allygraph.build(ledger, changed)
    old, new = built(good_build), built(changed)
    create = set(new) - set(old)
    remote_only = set(old) - set(new)
    # the expectation comes from rdflib's isomorphism check, independent of push's own
    replace = {g for g in set(new) & set(old) if not isomorphic(rdflib_graph(new[g]), rdflib_graph(old[g]))}
    unchanged = (set(new) & set(old)) - replace
    assert create and remote_only and replace and unchanged  # the edit exercises every case
    assert any(has_blank(new[g]) for g in unchanged)  # blank nodes (negative property assertions) compare equal

    assert push(good_build, oxigraph_server.store).names(CREATE)
    before = oxigraph_server.nquads()
    dry = cli("push", "--endpoint", oxigraph_server.store, "--out", changed, "--dry-run")
    assert dry.code == 0, dry.stderr
    assert listing(dry.stdout) == {CREATE: create, REPLACE: replace, UNCHANGED: unchanged, "remote-only": remote_only}
    assert "dry run, nothing written" in dry.stdout
    assert oxigraph_server.nquads() == before

    result = push(changed, oxigraph_server.store)
    assert (set(result.names(CREATE)), set(result.names(REPLACE)), set(result.names(UNCHANGED))) == (
        create,
        replace,
        unchanged,
    )
    assert set(result.remote_only or ()) == remote_only
    assert_same_graphs(on_server(oxigraph_server), {**{g: old[g] for g in remote_only}, **new})
    assert len(oxigraph_server.nquads()) == sum(len(new[g]) for g in new) + sum(len(old[g]) for g in remote_only)


# ----------------------------------------------------------------------------------------------------
# classify --endpoint
# ----------------------------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["sparql", "hermit"])
def test_classify_at_an_endpoint_gives_the_same_json(
    oxigraph_server: OxigraphServer, good_build: Path, cli: Callable[..., Result], engine: str
) -> None:
    push(good_build, oxigraph_server.store)
    common = ("classify", "--format", "json", "--engine", engine, "--project", mini_project(good_build), "-q")
    local = cli(*common, "--out", good_build)
    remote = cli(*common, "--endpoint", oxigraph_server.query)
    assert (local.code, remote.code) == (0, 0), remote.stderr
    found = json.loads(remote.stdout)
    assert found and {c["engine"] for c in found} == {engine}
    assert remote.stdout == local.stdout


def test_classify_endpoint_refuses_assumptions(good_build: Path, cli: Callable[..., Result], tmp_path: Path) -> None:
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text("claims: []\n", encoding="utf-8")
    found = cli("classify", "--endpoint", "http://127.0.0.1:9/query", "--assume", scenario)
    assert found.code == 2
    assert "--assume" in found.stderr and "--endpoint" in found.stderr


# ----------------------------------------------------------------------------------------------------
# RemoteStore: dataset and substitution semantics, as pyoxigraph's
# ----------------------------------------------------------------------------------------------------

EX = "http://example.org/"
SMALL = (
    f'<{EX}a> <{EX}p> "1" <{EX}g1> .\n<{EX}b> <{EX}p> "2" <{EX}g1> .\n<{EX}a> <{EX}q> <{EX}c> <{EX}g1> .\n'
    f'<{EX}b> <{EX}p> "3" <{EX}g2> .\n'
    f'<{EX}s> <{EX}label> "a \\"quoted\\" }} UNION {{ ?s ?p ?o }} #\\nline" <{EX}g2> .\n'
    f'<{EX}d> <{EX}p> "default" .\n'
)
N = pyoxigraph.NamedNode
L = pyoxigraph.Literal
P = f"PREFIX ex: <{EX}> "
EDGE_CASES: list[tuple[str, dict[str, object]]] = [
    (P + "SELECT ?s WHERE { ?s ?p ?o }", {}),
    (P + "SELECT ?s WHERE { ?s ?p ?o }", {"default_graph": []}),
    (P + "SELECT ?s WHERE { ?s ?p ?o }", {"default_graph": [N(f"{EX}g2")]}),
    (P + "SELECT ?g ?s WHERE { GRAPH ?g { ?s ?p ?o } }", {}),
    (P + "SELECT ?g ?s WHERE { GRAPH ?g { ?s ?p ?o } }", {"named_graphs": []}),
    (P + "SELECT ?g ?s WHERE { GRAPH ?g { ?s ?p ?o } }", {"named_graphs": [N(f"{EX}g2")], "default_graph": []}),
    (P + "SELECT ?x ?o WHERE { GRAPH ?g { ?x ex:p ?o } }", {"x": N(f"{EX}a")}),
    (P + "SELECT * WHERE { GRAPH ?g { ?x ex:p ?o } }", {"x": N(f"{EX}b")}),
    (P + "SELECT ?x ?o WHERE { GRAPH ?g { ?s ex:p ?o } OPTIONAL { GRAPH ?g { ?s ex:q ?x } } }", {"x": N(f"{EX}c")}),
    (P + "SELECT ?x ?o WHERE { GRAPH ?g { ?s ex:p ?o } FILTER(?o = ?x) }", {"x": L("1")}),
    (
        P + "SELECT ?x ?o WHERE { GRAPH ?g { ?s ex:p ?o } FILTER NOT EXISTS { GRAPH ?h { ?x ex:p ?o } } }",
        {"x": N(f"{EX}a")},
    ),
    (P + "SELECT ?x ?o WHERE { GRAPH ?g { ?s ex:p ?o } MINUS { GRAPH ?h { ?x ex:p ?o } } }", {"x": N(f"{EX}b")}),
    (P + "SELECT ?x ?o WHERE { { SELECT ?o WHERE { GRAPH ?g { ?x ex:p ?o } } } }", {"x": N(f"{EX}a")}),
    (P + 'SELECT ?x WHERE { BIND("1" AS ?x) }', {"x": L("1")}),
    (P + 'SELECT ?x WHERE { BIND("1" AS ?x) }', {"x": L("2")}),
    (P + "SELECT ?x (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?x ex:p ?o } } GROUP BY ?x", {"x": N(f"{EX}b")}),
    (P + "SELECT ?l ?s WHERE { GRAPH ?g { ?s ex:label ?l } }", {"l": L('a "quoted" } UNION { ?s ?p ?o } #\nline')}),
    (P + "SELECT ?l ?s WHERE { GRAPH ?g { ?s ex:label ?l } }", {"l": L('a "quoted" } UNION { ?s ?p ?o } #')}),
]


def test_remote_queries_mean_what_they_mean_in_pyoxigraph(oxigraph_server: OxigraphServer) -> None:
    local = pyoxigraph.Store()
    local.load(SMALL.encode(), format=pyoxigraph.RdfFormat.N_QUADS)
    for name, triples in graphs_of(SMALL.encode()).items():
        oxigraph_server.put(None if name == DEFAULT else name, nt(triples))
    remote = RemoteStore(oxigraph_server.query)
    for text, options in EDGE_CASES:
        kwargs = {k: v for k, v in options.items() if k in ("default_graph", "named_graphs")}
        subs = {pyoxigraph.Variable(k): v for k, v in options.items() if k not in kwargs}
        expected = solutions(local.query(text, substitutions=subs or None, **kwargs))  # type: ignore[arg-type]
        assert solutions(remote.query(text, substitutions=subs or None, **kwargs)) == expected, (text, options)  # type: ignore[arg-type]
    ask = P + "ASK { GRAPH ?g { ?x ex:p ?o } }"
    for x in (N(f"{EX}a"), N(f"{EX}zzz")):
        subs = {pyoxigraph.Variable("x"): x}
        assert bool(remote.query(ask, substitutions=subs)) == bool(local.query(ask, substitutions=subs))
    assert sorted(g.value for g in remote.named_graphs()) == [f"{EX}g1", f"{EX}g2"]
    dumped = remote.dump(format=pyoxigraph.RdfFormat.N_TRIPLES, from_graph=N(f"{EX}g2"))
    assert isomorphic(Graph().parse(data=dumped, format="nt"), rdflib_graph(graphs_of(SMALL.encode())[f"{EX}g2"]))


def test_substitutions_are_terms_never_text() -> None:
    hostile = L('x" } UNION { ?s ?p ?o } #')
    text = bind("SELECT ?v WHERE { ?s ?p ?v }", {pyoxigraph.Variable("v"): hostile})
    assert text == 'SELECT ?v WHERE { VALUES (?v) { ("x\\" } UNION { ?s ?p ?o } #") } ?s ?p ?v }'
    with pytest.raises(TypeError, match="only IRIs and literals"):
        bind("SELECT ?v WHERE { ?s ?p ?v }", {pyoxigraph.Variable("v"): pyoxigraph.BlankNode()})
    with pytest.raises(RuntimeError, match="does not contain variable"):
        bind("SELECT ?s WHERE { ?s ?p ?v }", {pyoxigraph.Variable("v"): hostile})
    # keywords inside strings, IRIs, comments and language tags do not move the VALUES block
    tricky = 'SELECT ?v WHERE # WHERE {\n { ?s <http://e/WHERE#x> "{" , "x"@as ; <http://e/p> ?v }'
    expected = (
        'SELECT ?v WHERE # WHERE {\n { VALUES (?v) { ("1") } ?s <http://e/WHERE#x> "{" , "x"@as ; <http://e/p> ?v }'
    )
    assert bind(tricky, {pyoxigraph.Variable("v"): L("1")}) == expected


# ----------------------------------------------------------------------------------------------------
# Authentication, timeouts, retries, redirects, errors
# ----------------------------------------------------------------------------------------------------


def test_basic_auth_is_sent_and_the_password_never_shown(
    recorder: Callable[..., Recorder], good_build: Path, cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    server = recorder()
    monkeypatch.setenv("MY_PASSWORD", "s3cret-pw")
    found = cli(
        "push",
        "--endpoint",
        f"{server.url}/store",
        "--out",
        good_build,
        "--user",
        "ann",
        "--password-env",
        "MY_PASSWORD",
    )
    assert found.code == 0, found.stderr
    expected = "Basic " + base64.b64encode(b"ann:s3cret-pw").decode()
    assert len(server.requests) > len(built(good_build))  # a GET and a PUT per graph
    assert {headers.get("Authorization") for _m, _p, headers in server.requests} == {expected}
    assert "s3cret" not in found.stdout + found.stderr

    monkeypatch.delenv("MY_PASSWORD")
    missing = cli(
        "push",
        "--endpoint",
        f"{server.url}/store",
        "--out",
        good_build,
        "--user",
        "ann",
        "--password-env",
        "MY_PASSWORD",
    )
    assert missing.code == 2 and "MY_PASSWORD is not set" in missing.stderr


def test_bearer_token_is_sent(
    recorder: Callable[..., Recorder], good_build: Path, cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    server = recorder()
    monkeypatch.setenv("MY_TOKEN", "tok-123")
    found = cli(
        "push", "--endpoint", f"{server.url}/store", "--out", good_build, "--token-env", "MY_TOKEN", "--dry-run"
    )
    assert found.code == 0, found.stderr
    assert {h.get("Authorization") for _m, _p, h in server.requests} == {"Bearer tok-123"}
    assert {m for m, _p, _h in server.requests} <= {"HEAD", "GET", "POST"}  # a dry run writes nothing

    server.requests.clear()
    options = remote_options(environ={"ALLYGRAPH_TOKEN": "from-env"})  # the default variable
    list(RemoteStore(f"{server.url}/query", options=options).named_graphs())
    assert [(m, h.get("Authorization")) for m, _p, h in server.requests] == [("POST", "Bearer from-env")]


def test_refused_credentials_get_a_hint(
    recorder: Callable[..., Recorder], good_build: Path, cli: Callable[..., Result]
) -> None:
    server = recorder(lambda _m, _p, _i: (401, {"WWW-Authenticate": 'Basic realm="x"'}, b"who are you?"))
    found = cli("push", "--endpoint", f"{server.url}/store", "--out", good_build)
    assert found.code == 2
    assert f"{server.url}/store?default: HTTP 401 Unauthorized" in found.stderr
    assert "hint:" in found.stderr and "--user" in found.stderr and "ALLYGRAPH_TOKEN" in found.stderr
    assert len(server.requests) == 1  # 401 is not retried


def test_a_server_that_never_answers_times_out(silent_port: int, good_build: Path, cli: Callable[..., Result]) -> None:
    started = time.monotonic()
    found = cli(
        "push",
        "--endpoint",
        f"http://127.0.0.1:{silent_port}/store",
        "--out",
        good_build,
        "--timeout",
        "0.5",
        "--retries",
        "3",
    )
    assert found.code == 2
    assert f"http://127.0.0.1:{silent_port}/store?default: no answer within 0.5 s (read timeout" in found.stderr
    assert time.monotonic() - started < 5  # not retried, no hang
    with pytest.raises(RemoteError, match="read timeout"):
        RemoteStore(f"http://127.0.0.1:{silent_port}/query", options=RemoteOptions(read_timeout=0.3)).query("ASK {}")


@pytest.mark.parametrize("status", [502, 503, 504])
def test_idempotent_requests_are_retried_a_bounded_number_of_times(
    recorder: Callable[..., Recorder], status: int
) -> None:
    flaky = recorder(lambda m, p, i: (status, {}, b"busy") if i < 2 else graph_store(m, p, i))
    with Client(RemoteOptions(retries=3, backoff=0.01)) as client:
        assert GraphStore(f"{flaky.url}/store", client=client).get(f"{EX}g") is None  # 404 in the end: absent
    assert len(flaky.requests) == 3

    down = recorder(lambda _m, _p, _i: (status, {}, b"down"))
    with Client(RemoteOptions(retries=2, backoff=0.01)) as client:
        with pytest.raises(RemoteError, match=f"HTTP {status} .* \\(gave up after 3 attempts\\)"):
            GraphStore(f"{down.url}/store", client=client).put(f"{EX}g", b"")
        assert len(down.requests) == 3
        with pytest.raises(RemoteError, match=f"HTTP {status}"):
            RemoteStore(f"{down.url}/query", client=client).query("ASK {}")  # POST: never repeated
        assert len(down.requests) == 4


def test_refused_connection_and_wrong_url_fail_clearly(
    oxigraph_server: OxigraphServer, good_build: Path, cli: Callable[..., Result]
) -> None:
    nobody = f"http://127.0.0.1:{free_port()}"
    found = cli("push", "--endpoint", f"{nobody}/store", "--out", good_build, "--retries", "1")
    assert found.code == 2
    assert f"{nobody}/store?default: cannot connect" in found.stderr and "gave up after 2 attempts" in found.stderr
    found = cli("classify", "--endpoint", f"{nobody}/query", "--project", mini_project(good_build), "--retries", "0")
    assert found.code == 2 and f"POST {nobody}/query: cannot connect" in found.stderr

    wrong = cli("push", "--endpoint", f"{oxigraph_server.base}/sparql", "--out", good_build)
    assert wrong.code == 2
    assert f"{oxigraph_server.base}/sparql?default: HTTP 404" in wrong.stderr and "check the URL" in wrong.stderr
    assert oxigraph_server.nquads() == []

    for url in ("not a url", "ftp://127.0.0.1/store"):
        assert cli("push", "--endpoint", url, "--out", good_build).code == 2


def test_redirects_only_on_the_same_host(recorder: Callable[..., Recorder]) -> None:
    target = recorder()
    elsewhere = target.url.replace("127.0.0.1", "localhost")
    away = recorder(lambda _m, _p, _i: (307, {"Location": f"{elsewhere}/store?default"}, b""))
    with pytest.raises(RemoteError, match="another host; not followed"):
        GraphStore(f"{away.url}/store", client=Client()).probe()
    assert target.requests == []

    moved = recorder(
        lambda m, p, i: (308, {"Location": "/new" + p}, b"") if not p.startswith("/new") else graph_store(m, p, i)
    )
    GraphStore(f"{moved.url}/store", client=Client()).probe()
    assert [p for _m, p, _h in moved.requests] == ["/store?default", "/new/store?default"]


def test_credentials_come_from_the_environment_only() -> None:
    assert remote_options(user="ann", environ={"ALLYGRAPH_PASSWORD": "pw"}).password == "pw"
    assert remote_options(environ={}).token is None
    with pytest.raises(InputError, match="no password for --user ann"):
        remote_options(user="ann", environ={}, interactive=False)
    with pytest.raises(InputError, match="not both"):
        remote_options(user="ann", token_env="T", environ={"T": "x", "ALLYGRAPH_PASSWORD": "pw"})
    with pytest.raises(InputError, match="--retries"):
        remote_options(retries=-1, environ={})
    with pytest.raises(InputError, match="timeouts"):
        remote_options(read_timeout=0, environ={})
    assert "pw" not in repr(remote_options(user="ann", environ={"ALLYGRAPH_PASSWORD": "pw"}))


# ----------------------------------------------------------------------------------------------------
# A store that never completes the TCP handshake: the connect timeout (issue 7, "remote never answers")
# ----------------------------------------------------------------------------------------------------


@pytest.fixture
def unanswered_port() -> Iterator[int]:
    """A port on 127.0.0.1 that drops every new SYN: listening with backlog 0, its queue filled by a
    connection nobody accepts (Linux then drops further SYNs, so a connect waits, as for a dead host)."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = int(listener.getsockname()[1])
    held: list[socket.socket] = []
    for _ in range(16):
        probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        probe.settimeout(0.3)
        try:
            probe.connect(("127.0.0.1", port))
        except TimeoutError:
            probe.close()
            break
        held.append(probe)
    else:
        pytest.skip("the kernel kept accepting connections into a full backlog")
    yield port
    for connection in held:
        connection.close()
    listener.close()


def test_a_server_that_never_completes_the_connection_times_out(
    unanswered_port: int, good_build: Path, cli: Callable[..., Result]
) -> None:
    """Unguarded (no connect timeout), each attempt waits for the kernel to give up on the SYN: minutes."""
    started = time.monotonic()
    url = f"http://127.0.0.1:{unanswered_port}/store"
    found = cli("push", "--endpoint", url, "--out", good_build, "--connect-timeout", "0.5", "--retries", "2")
    took = time.monotonic() - started
    assert found.code == 2, found.stderr
    assert f"{url}?default: no connection within 0.5 s" in found.stderr
    assert "(gave up after 3 attempts)" in found.stderr  # a connect timeout is retried, a bounded number of times
    assert "Traceback" not in found.stderr
    assert took < 15, took
    started = time.monotonic()
    with pytest.raises(RemoteError, match=r"no connection within 0\.3 s"):
        RemoteStore(f"http://127.0.0.1:{unanswered_port}/query", options=RemoteOptions(connect_timeout=0.3)).query(
            "ASK {}"
        )
    assert time.monotonic() - started < 5
