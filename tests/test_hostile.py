"""Hostile input and faults (issue 7) that no other test file covered: each test fails if its protection
is removed. The catalogue, case by case, is in tests/README.md."""

from __future__ import annotations

import gzip
import http.server
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import allygraph_command, copy_mini, run_allygraph

TESTS = Path(__file__).resolve().parent
ATOP = TESTS / "data" / "atop"


# ----------------------------------------------------------------------------------------------------
# A remote store that answers with hostile RDF (items 4 and 5: push and classify --endpoint parse it)
# ----------------------------------------------------------------------------------------------------


class HostileStore:
    """A Graph Store on 127.0.0.1 that says yes to HEAD and answers every GET (and every POST: a SPARQL
    endpoint) with `body` as `media`."""

    def __init__(self, media: str, body: bytes, headers: dict[str, str] | None = None) -> None:
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_HEAD(self) -> None:
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", media)
                for name, value in (headers or {"Content-Length": str(len(body))}).items():
                    self.send_header(name, value)
                self.end_headers()
                if (headers or {}).get("Transfer-Encoding") == "chunked":
                    for start in range(0, len(body), 65536):
                        chunk = body[start : start + 65536]
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                    self.wfile.write(b"0\r\n\r\n")
                else:
                    self.wfile.write(body)

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self.do_GET()

            def log_message(self, *_args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/store"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(10)


@pytest.fixture
def hostile_store() -> Iterator[type[HostileStore]]:
    started: list[HostileStore] = []

    def start(media: str, body: bytes, headers: dict[str, str] | None = None) -> HostileStore:
        started.append(HostileStore(media, body, headers))
        return started[-1]

    yield start  # type: ignore[misc]
    for server in started:
        server.close()


DEEP_JSON_LD = ('{"@id": "urn:a", "urn:p": ' + '{"urn:p": ' * 5000 + '"x"' + "}" * 5000 + "}").encode()
LAUGHS = "".join(f'<!ENTITY a{i} "{f"&a{i - 1};" * 10}">' for i in range(1, 7))
ENTITY_BOMB = (
    '<?xml version="1.0"?>\n<!DOCTYPE rdf:RDF [<!ENTITY a0 "lollollollol">' + LAUGHS + "]>\n"
    '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:e="urn:e#">'
    '<rdf:Description rdf:about="urn:a"><e:p>&a6;</e:p></rdf:Description></rdf:RDF>\n'
).encode()


@pytest.mark.parametrize(
    ("media", "body", "refusal"),
    [
        ("application/ld+json", DEEP_JSON_LD, "answered with application/ld+json, which is refused"),
        ("application/rdf+xml", ENTITY_BOMB, "RDF/XML with a DOCTYPE or entity declaration, which is refused"),
    ],
    ids=["json-ld-5000-deep", "rdf-xml-entity-bomb"],
)
def test_a_remote_answering_hostile_rdf_is_refused_before_parsing(
    hostile_store, good_build: Path, tmp_path: Path, media: str, body: bytes, refusal: str
) -> None:  # type: ignore[no-untyped-def]
    """Unguarded, pyoxigraph's JSON-LD parser segfaults on the deep document (the push dies with SIGSEGV)
    and its RDF/XML parser expands the entities (10 bytes to 10 MB here; one more line, 100 MB)."""
    remote = hostile_store(media, body)
    done = run_allygraph("push", "--endpoint", remote.url, "--out", good_build, "--retries", "0", cwd=tmp_path)
    assert done.code == 2, (done.code, done.stderr[-2000:])
    assert remote.url in done.stderr and refusal in done.stderr
    assert "Traceback" not in done.stderr


RDF_NS = 'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:e="urn:e#"'
DEEP_RDF_XML = (
    f'<?xml version="1.0"?>\n<rdf:RDF {RDF_NS}>\n<rdf:Description rdf:about="urn:a">'
    + "<e:p><rdf:Description>" * 50_000
    + "</rdf:Description></e:p>" * 50_000
    + "</rdf:Description></rdf:RDF>\n"
).encode()


def test_a_remote_answering_rdf_xml_nested_100_000_deep_is_refused_before_parsing(
    hostile_store, good_build: Path, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """Unguarded, pyoxigraph's RDF/XML parser works for over a minute on these 100,000 nested elements
    (the limit is the one on SPARQL nesting, 128)."""
    remote = hostile_store("application/rdf+xml", DEEP_RDF_XML)
    started = time.monotonic()
    done = run_allygraph("push", "--endpoint", remote.url, "--out", good_build, "--retries", "0", cwd=tmp_path)
    assert done.code == 2, (done.code, done.stderr[-2000:])
    assert remote.url in done.stderr
    assert "answered RDF/XML with elements nested more than 128 levels deep (line 3), which is refused" in done.stderr
    assert "Traceback" not in done.stderr
    assert time.monotonic() - started < 50


def test_rdf_xml_nested_up_to_the_limit_is_read(hostile_store) -> None:  # type: ignore[no-untyped-def]
    """Depth 128 (rdf:RDF, a description, 125 property elements, one more holding CDATA) is read, 129 is
    refused; comments, CDATA, empty elements and `>` in attribute values are not counted as nesting."""
    from allygraph.errors import RemoteError
    from allygraph.remote import Client, GraphStore

    def nested(levels: int) -> bytes:
        return (
            f'<?xml version="1.0"?>\n<!-- <a><a><a> --><rdf:RDF {RDF_NS}>\n<rdf:Description rdf:about="urn:a">'
            + '<e:p rdf:parseType="Resource"><e:r e:q="a>b"/>' * levels
            + "<e:t><![CDATA[<x><x><x>]]></e:t>"
            + "</e:p>" * levels
            + "</rdf:Description></rdf:RDF>\n"
        ).encode()

    with Client() as client:
        triples = GraphStore(hostile_store("application/rdf+xml", nested(125)).url, client=client).get("urn:g")
        assert triples is not None and len(triples) == 125 * 3 + 1
        with pytest.raises(RemoteError, match="nested more than 128 levels deep"):
            GraphStore(hostile_store("application/rdf+xml", nested(126)).url, client=client).get("urn:g")


@pytest.mark.parametrize("transfer", ["content-length", "chunked", "gzip"])
def test_a_remote_answer_past_the_size_cap_is_refused_naming_the_url_and_the_cap(hostile_store, transfer: str) -> None:  # type: ignore[no-untyped-def]
    """Read in chunks and refused as soon as it passes the cap, whether the size is announced or not;
    a gzip answer is counted uncompressed (60 kB that grow to 2 MB)."""
    from allygraph.errors import RemoteError
    from allygraph.remote import Client, GraphStore, RemoteOptions

    body = b"<urn:a> <urn:b> <urn:c> .\n" * 80_000  # 2 MB of N-Triples
    headers = {
        "content-length": None,
        "chunked": {"Transfer-Encoding": "chunked"},
        "gzip": {"Content-Encoding": "gzip"},
    }[transfer]
    if transfer == "gzip":
        body = gzip.compress(body)
        headers["Content-Length"] = str(len(body))
    remote = hostile_store("application/n-triples", body, headers)
    with Client(RemoteOptions(max_answer=1024 * 1024, retries=0)) as client:
        with pytest.raises(RemoteError) as refused:
            GraphStore(remote.url, client=client).get("urn:g")
        assert str(refused.value) == (
            f"GET {remote.url}?graph=urn%3Ag: the answer is larger than the cap of 1048576 bytes; refused "
            "(raise the cap with RemoteOptions.max_answer if the store is trusted)"
        )
    with Client(RemoteOptions(max_answer=4 * 1024 * 1024)) as client:  # under the cap: read
        assert len(GraphStore(remote.url, client=client).get("urn:g") or []) == 80_000


def test_the_default_cap_on_an_answer_is_the_endpoint_cap_on_a_response(
    hostile_store, good_build: Path, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """64 MiB, serve's --max-bytes; a push meeting one byte more stops with the cap in its error."""
    from allygraph.remote import DEFAULT_MAX_ANSWER, RemoteOptions, remote_options
    from allygraph.serve import ServerConfig

    assert DEFAULT_MAX_ANSWER == ServerConfig(out=tmp_path).max_bytes == 64 * 1024 * 1024
    assert RemoteOptions().max_answer == remote_options(environ={}).max_answer == DEFAULT_MAX_ANSWER
    remote = hostile_store("text/turtle", b"#" * (DEFAULT_MAX_ANSWER + 1))
    done = run_allygraph("push", "--endpoint", remote.url, "--out", good_build, "--retries", "0", cwd=tmp_path)
    assert done.code == 2, (done.code, done.stderr[-2000:])
    assert (
        remote.url in done.stderr and f"the answer is larger than the cap of {DEFAULT_MAX_ANSWER} bytes" in done.stderr
    )


TRIPLE_TERMS_100_000_DEEP = "<<( <urn:s> <urn:p> " * 100_000 + "<urn:o>" + " )>>" * 100_000
DEEP_JSON_RESULTS = '{"type": "uri", "value": "urn:o"}'
for _ in range(5000):
    DEEP_JSON_RESULTS = (
        '{"type": "triple", "value": {"subject": {"type": "uri", "value": "urn:s"}, '
        f'"predicate": {{"type": "uri", "value": "urn:p"}}, "object": {DEEP_JSON_RESULTS}}}}}'
    )
DEEP_JSON_RESULTS = '{"head": {"vars": ["x"]}, "results": {"bindings": [{"x": ' + DEEP_JSON_RESULTS + "}]}}"
SPARQL_RESULTS_NS = "http://www.w3.org/2005/sparql-results#"


@pytest.mark.parametrize(
    ("media", "body"),
    [
        ("application/n-triples", f"<urn:a> <urn:p> {TRIPLE_TERMS_100_000_DEEP} .\n"),
        ("text/turtle", f"# <<( in a comment\n<urn:a> <urn:p> {TRIPLE_TERMS_100_000_DEEP} .\n"),
    ],
    ids=["n-triples", "turtle"],
)
def test_a_remote_answering_triple_terms_100_000_deep_is_refused_before_parsing(
    hostile_store, good_build: Path, tmp_path: Path, media: str, body: str
) -> None:  # type: ignore[no-untyped-def]
    """Unguarded, pyoxigraph's N-Triples and Turtle parsers crash the process (the push dies of SIGSEGV)."""
    remote = hostile_store(media, body.encode())
    done = run_allygraph("push", "--endpoint", remote.url, "--out", good_build, "--retries", "0", cwd=tmp_path)
    assert done.code == 2, (done.code, done.stderr[-2000:])
    assert remote.url in done.stderr
    line = 2 if media == "text/turtle" else 1
    assert f"answered {media} nested more than 128 levels deep (line {line}), which is refused" in done.stderr
    assert "Traceback" not in done.stderr


ASK_A_REMOTE = """
import sys
from allygraph.errors import RemoteError
from allygraph.remote import RemoteStore
try:
    print("answered", list(RemoteStore(sys.argv[1]).query("SELECT ?x WHERE { ?x ?p ?o }")))
except RemoteError as exc:
    print("refused:", exc)
"""


@pytest.mark.parametrize(
    ("media", "body", "refusal"),
    [
        (
            "application/sparql-results+json",
            DEEP_JSON_RESULTS,
            "answered application/sparql-results+json nested more than 128 levels deep (line 1), which is refused",
        ),
        (
            "application/sparql-results+xml",
            ENTITY_BOMB.decode().split("<rdf:RDF")[0]
            + f'<sparql xmlns="{SPARQL_RESULTS_NS}"><head><variable name="x"/></head><results><result>'
            + '<binding name="x"><literal>&a6;</literal></binding></result></results></sparql>',
            "answered application/sparql-results+xml with a DOCTYPE or entity declaration, which is refused",
        ),
        (
            "text/tab-separated-values",
            f"?x\n{TRIPLE_TERMS_100_000_DEEP}\n",
            "answered text/tab-separated-values nested more than 128 levels deep (line 2), which is refused",
        ),
        (  # a row pyoxigraph parses only when it is read: refused before the caller sees a traceback
            "text/tab-separated-values",
            "?x\n<http://example.org/a>\n<http://example.org/b\n",
            "unreadable text/tab-separated-values results",
        ),
    ],
    ids=["json-triple-terms-5000-deep", "xml-entity-bomb", "tsv-triple-terms-100-000-deep", "tsv-bad-second-row"],
)
def test_remote_query_results_that_would_crash_or_bloat_the_parser_are_refused(
    hostile_store, media: str, body: str, refusal: str
) -> None:  # type: ignore[no-untyped-def]
    """Asked in a child process: unguarded, pyoxigraph's SPARQL JSON results parser crashes it (SIGSEGV) on
    the nested triple terms."""
    remote = hostile_store(media, body.encode())
    child = subprocess.run(
        [sys.executable, "-c", ASK_A_REMOTE, remote.url], capture_output=True, text=True, timeout=300
    )
    assert child.returncode == 0, (child.returncode, child.stderr[-2000:])
    assert child.stdout.startswith(f"refused: {remote.url}: {refusal}"), child.stdout[:2000]


# ----------------------------------------------------------------------------------------------------
# Faults: an import killed (kill -9) while it writes data/imports/atop.nq
# ----------------------------------------------------------------------------------------------------


def _atop_project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    copy_mini(root / "data")
    (root / "allygraph.toml").write_text('[allygraph]\ndata = "data"\nout = "build"\n', encoding="utf-8")
    return root


def _import(root: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    argv = ["import", "atop", "--project", root, "--no-build", "-q"]
    for option, name in (("--alliances", "alliances.csv"), ("--members", "members.csv"), ("--states", "states.csv")):
        argv += [option, ATOP / name]
    return subprocess.run(allygraph_command(*argv), cwd=cwd, capture_output=True, text=True, timeout=300)


def test_an_import_killed_while_writing_leaves_the_last_import_and_no_orphan(tmp_path: Path) -> None:
    """What kill -9 leaves mid-write is the previous atop.nq (replaced only by a rename) and the dead
    process's `.atop.nq.<pid>.tmp`; the next import removes that, and not a running import's."""
    root = _atop_project(tmp_path)
    assert _import(root, tmp_path).returncode == 0
    imports = root / "data" / "imports"
    good = (imports / "atop.nq").read_bytes()
    killed = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    half = imports / f".atop.nq.{killed.pid}.tmp"
    half.write_bytes(good[: len(good) // 2])  # the killed import had written half its file
    killed.kill()
    killed.wait()
    live = imports / f".atop.nq.{os.getpid()}.tmp"  # an import still writing (this process is alive)
    live.write_bytes(b"")
    assert (imports / "atop.nq").read_bytes() == good  # the kill cost nothing already imported
    done = _import(root, tmp_path)
    assert done.returncode == 0, done.stderr
    assert not half.exists(), "the killed import's temporary file was left behind"
    assert live.exists(), "a running import's temporary file was removed"
    assert (imports / "atop.nq").read_bytes() == good
    live.unlink()


# ----------------------------------------------------------------------------------------------------
# Faults: HermiT out of memory
# ----------------------------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("java") is None, reason="needs Java to run HermiT")
def test_hermit_out_of_memory_is_a_clear_error_cleaned_up_and_sparql_still_answers(
    good_build: Path, tmp_path: Path
) -> None:
    """A real JVM with a heap too small (_JAVA_OPTIONS overrides the -Xmx allygraph passes)."""
    (tmp_path / "tmp").mkdir()
    env = {**os.environ, "TMPDIR": str(tmp_path / "tmp"), "_JAVA_OPTIONS": "-Xmx5m", "ALLYGRAPH_HERMIT_TIMEOUT": "120"}
    argv = ["classify", "--out", good_build, "--engine", "hermit", "--view", "all"]
    hermit = subprocess.run(
        allygraph_command(*argv), cwd=tmp_path, capture_output=True, text=True, timeout=300, env=env
    )
    assert hermit.returncode == 2, hermit.stderr[-2000:]
    assert "HermiT failed" in hermit.stderr and "OutOfMemoryError" in hermit.stderr, hermit.stderr[-2000:]
    assert "--engine sparql" in hermit.stderr and "Traceback" not in hermit.stderr
    assert list((tmp_path / "tmp").iterdir()) == []  # its temporary folder (the TBox, the jobs) is gone
    argv[argv.index("hermit")] = "sparql"
    sparql = subprocess.run(
        allygraph_command(*argv), cwd=tmp_path, capture_output=True, text=True, timeout=300, env=env
    )
    assert sparql.returncode == 0, sparql.stderr
    assert "Freedonia–Sylvania" in sparql.stdout


# ----------------------------------------------------------------------------------------------------
# Item 1 from the command line: SERVICE and LOAD naming a file: or http: URL
# ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "keyword"),
    [
        ("SELECT * WHERE {{ SERVICE <{file}> {{ ?s ?p ?o }} }}", "SERVICE"),
        ("SELECT * WHERE {{ SERVICE <http://127.0.0.1:{port}/sparql> {{ ?s ?p ?o }} }}", "SERVICE"),
        ("LOAD <{file}>", "LOAD"),
        ("LOAD <http://127.0.0.1:{port}/data> INTO GRAPH <urn:x>", "LOAD"),
    ],
)
def test_allygraph_query_refuses_service_and_load_naming_the_file(
    good_build: Path, tmp_path: Path, cli, text: str, keyword: str
) -> None:  # type: ignore[no-untyped-def]
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.5)
    secret = tmp_path / "secret.ttl"
    secret.write_text("<urn:a> <urn:b> <urn:leaked> .\n", encoding="utf-8")
    query = tmp_path / "reach.rq"
    query.write_text(
        "# reaches out\n" + text.format(file=secret.as_uri(), port=listener.getsockname()[1]), encoding="utf-8"
    )
    try:
        result = cli("query", query, "--out", good_build)
        with pytest.raises(TimeoutError):
            listener.accept()[0].close()  # nothing connected
    finally:
        listener.close()
    assert result.code == 2
    assert f"{query}:2: {keyword} is refused" in result.stderr
    assert "leaked" not in result.stdout


# ----------------------------------------------------------------------------------------------------
# Items 2, 3 and 4 in profile.dl_violations: XML declarations, JSON-LD contexts and owl:imports
# ----------------------------------------------------------------------------------------------------


class Listener:
    """A TCP port on 127.0.0.1 that counts the connections made to it and closes each at once."""

    def __init__(self) -> None:
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.socket.settimeout(0.1)
        self.port = self.socket.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.connections = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while not self.stop.is_set():
            try:
                self.socket.accept()[0].close()
                self.connections += 1
            except TimeoutError:
                continue

    def close(self) -> None:
        self.stop.set()
        self.thread.join(10)
        self.socket.close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    started = Listener()
    yield started
    started.close()


RDF_XML_HEAD = '<?xml version="1.0"?>\n'
RDF_XML_BODY = (
    '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:owl="http://www.w3.org/2002/07/owl#"'
    ' xmlns:rdfs="http://www.w3.org/2000/01/rdf-schema#">\n'
    '<owl:Ontology rdf:about="urn:o"><rdfs:label>{label}</rdfs:label></owl:Ontology>\n</rdf:RDF>\n'
)


@pytest.mark.parametrize(
    ("name", "text", "line"),
    [
        ("bomb.rdf", ENTITY_BOMB.decode(), 2),
        (
            "external.owl",
            RDF_XML_HEAD
            + '<!DOCTYPE rdf:RDF [\n<!ENTITY x SYSTEM "{url}/entity">\n]>\n'
            + RDF_XML_BODY.format(label="&x;"),
            2,
        ),
        ("dtd.xml", RDF_XML_HEAD + '\n\n<!doctype Ontology SYSTEM "{url}/owl.dtd">\n<Ontology/>\n', 4),
    ],
    ids=["entity-bomb", "external-entity", "external-dtd"],
)
def test_the_profile_check_refuses_xml_declarations_before_any_parser(
    listener: Listener, tmp_path: Path, name: str, text: str, line: int
) -> None:
    """Unguarded, the OWL API's XML parser (in the JVM) fetches the external entity and the DTD from the
    listener, and expands the entities of the bomb."""
    from allygraph.errors import InputError
    from allygraph.profile import dl_violations

    path = tmp_path / name
    path.write_text(text.replace("{url}", listener.url), encoding="utf-8")
    with pytest.raises(InputError) as refused:
        dl_violations(path, timeout=120)
    assert str(refused.value).startswith(f"{path}:{line}: XML with a DOCTYPE or entity declaration is refused")
    assert listener.connections == 0


def test_the_profile_check_refuses_xml_a_byte_check_cannot_read(listener: Listener, tmp_path: Path) -> None:
    """A DOCTYPE in UTF-16 (or EBCDIC) is invisible to a check of ASCII bytes, not to the XML parser."""
    from allygraph.errors import InputError
    from allygraph.profile import dl_violations

    doctype = f'<!DOCTYPE rdf:RDF SYSTEM "{listener.url}/x.dtd">\n'
    utf16 = tmp_path / "utf16.rdf"
    utf16.write_text('<?xml version="1.0" encoding="UTF-16"?>\n' + doctype + RDF_XML_BODY.format(label="x"), "utf-16")
    ebcdic = tmp_path / "ebcdic.rdf"
    ebcdic.write_bytes(b'<?xml version="1.0" encoding="IBM037"?>\n' + doctype.encode("cp037"))
    for path, refusal in ((utf16, "UTF-16 or UTF-32 XML is refused"), (ebcdic, "XML in encoding 'IBM037' is refused")):
        with pytest.raises(InputError, match=refusal) as refused:
            dl_violations(path, timeout=120)
        assert str(refused.value).startswith(f"{path}: ")
    assert listener.connections == 0


@pytest.mark.parametrize("suffix", [".jsonld", ".json"])
def test_the_profile_check_refuses_json_ld_and_fetches_no_context(
    listener: Listener, tmp_path: Path, suffix: str
) -> None:
    """Unguarded, rdflib fetches the remote @context (the listener sees the connection)."""
    from allygraph.errors import InputError
    from allygraph.profile import dl_violations

    path = tmp_path / f"ontology{suffix}"
    path.write_text(json.dumps({"@context": f"{listener.url}/context.jsonld", "@id": "urn:o"}), encoding="utf-8")
    with pytest.raises(InputError, match="json-ld ontologies are refused here") as refused:
        dl_violations(path, timeout=120)
    assert str(refused.value).startswith(f"{path}: ")
    assert listener.connections == 0


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("java") is None, reason="needs Java to run the OWL API")
@pytest.mark.parametrize("suffix", [".ttl", ".rdf"])
def test_the_profile_check_never_follows_owl_imports(listener: Listener, tmp_path: Path, suffix: str) -> None:
    """The import names the listener; unguarded (no IRI mapper in ProfileCheck.java), the OWL API
    connects to it and, the connection closed, fails to load the ontology."""
    from rdflib import Graph

    from allygraph.profile import dl_violations

    turtle = (
        "@prefix owl: <http://www.w3.org/2002/07/owl#> .\n"
        f"<urn:o> a owl:Ontology ; owl:imports <{listener.url}/imported.owl> .\n"
        "<urn:C> a owl:Class .\n"
    )
    path = tmp_path / f"importing{suffix}"
    Graph().parse(data=turtle, format="turtle").serialize(
        path, format="xml" if suffix == ".rdf" else "turtle", encoding="utf-8"
    )
    assert dl_violations(path, timeout=240) == []
    assert listener.connections == 0


# ----------------------------------------------------------------------------------------------------
# Item 5 in definition files: Turtle nested 100,000 deep, read in a child process (a crash fails the test)
# ----------------------------------------------------------------------------------------------------

DEFINITION_HEAD = """@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix ag: <https://w3id.org/allygraph/ontology#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix : <urn:x#> .
"""
READ_DEFINITIONS = """
import sys
from pathlib import Path
from allygraph.definitions import load_definitions
from allygraph.errors import InputError
try:
    found = load_definitions([Path(sys.argv[1])])
except InputError as exc:
    print("refused:", exc)
else:
    print("parsed", len(found.graph))
"""
DEEP = 100_000


def _read_definitions_in_a_child(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", READ_DEFINITIONS, str(path)], capture_output=True, text=True, timeout=300
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    "body",
    [
        ":a :p " + "[ :p " * DEEP + ":b" + " ]" * DEEP + " .\n",
        ":a :p " + "( " * DEEP + ":b" + " )" * DEEP + " .\n",
        ":C owl:equivalentClass " + "[ owl:complementOf " * DEEP + ":B" + " ]" * DEEP + " .\n",
    ],
    ids=["blank-nodes", "collections", "expression-outside-a-definition"],
)
def test_turtle_nested_100_000_deep_in_a_definition_file_is_read_or_refused_never_a_crash(
    tmp_path: Path, body: str
) -> None:
    """pyoxigraph's Turtle parser reads this without recursion; rdflib's (what read_definition_file used
    before) dies of a RecursionError, a traceback instead of an error at the file."""
    path = tmp_path / "deep.ttl"
    path.write_text(DEFINITION_HEAD + body, encoding="utf-8")
    child = _read_definitions_in_a_child(path)
    assert child.returncode == 0, (child.returncode, child.stderr[-2000:])
    assert child.stdout.startswith("parsed ") or child.stdout.startswith(f"refused: {path}"), child.stdout


@pytest.mark.slow
def test_triple_terms_100_000_deep_in_a_definition_file_are_refused_at_the_file(tmp_path: Path) -> None:
    path = tmp_path / "deep-triple-terms.ttl"
    path.write_text(f"{DEFINITION_HEAD}:a :p {TRIPLE_TERMS_100_000_DEEP} .\n", encoding="utf-8")
    child = _read_definitions_in_a_child(path)
    assert child.returncode == 0, (child.returncode, child.stderr[-2000:])
    assert child.stdout.startswith(f"refused: {path}"), child.stdout


@pytest.mark.slow
def test_a_criterion_nested_5000_deep_is_refused_at_its_file(tmp_path: Path) -> None:
    path = tmp_path / "deep-criterion.ttl"
    path.write_text(
        DEFINITION_HEAD
        + ':Deep a owl:Class ; skos:notation "deep" ; ag:criterion :C ;\n'
        + "    owl:equivalentClass [ a owl:Class ; owl:intersectionOf ( :C ) ] .\n"
        + ":C a owl:Class ; owl:equivalentClass "
        + "[ owl:complementOf " * 5000
        + "ag:Relationship"
        + " ]" * 5000
        + " .\n",
        encoding="utf-8",
    )
    child = _read_definitions_in_a_child(path)
    assert child.returncode == 0, (child.returncode, child.stderr[-2000:])
    assert child.stdout.startswith(f"refused: {path}"), child.stdout


# ----------------------------------------------------------------------------------------------------
# Item 6 from the command line: property paths and a huge OFFSET stopped at --timeout
# ----------------------------------------------------------------------------------------------------

# Each runs for over 15 s on the mini ledger's store (measured on the test machine), so a 1 s deadline
# only holds if the query is really stopped.
ANY_STEP = "(<urn:p>|!<urn:p>)*"
EXPENSIVE_QUERIES = {
    "path-closures": "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { "
    f"?s {ANY_STEP} ?o . ?o {ANY_STEP} ?x . ?x {ANY_STEP} ?y }} }}",
    "undirected-path-closure": "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s (<urn:p>|!<urn:p>|^!<urn:p>)* ?o } }",
    "huge-offset": "SELECT ?s WHERE { GRAPH ?g { ?s ?p ?o } GRAPH ?h { ?a ?b ?c } GRAPH ?k { ?d ?e ?f } } "
    "OFFSET 1000000000000 LIMIT 1",
}


@pytest.mark.parametrize("name", list(EXPENSIVE_QUERIES))
def test_allygraph_query_stops_expensive_paths_and_offsets_at_the_deadline(
    good_build: Path, tmp_path: Path, cli, name: str
) -> None:  # type: ignore[no-untyped-def]
    query = tmp_path / f"{name}.rq"
    query.write_text(f"# expensive\n{EXPENSIVE_QUERIES[name]}\n", encoding="utf-8")
    started = time.monotonic()
    result = cli("query", query, "--out", good_build, "--timeout", "1")
    took = time.monotonic() - started
    assert result.code == 2, (result.code, result.stderr)
    assert "ran past 1 s and was stopped" in result.stderr and "Traceback" not in result.stderr
    assert result.stdout == ""  # never a partial result
    assert took < 12, took
