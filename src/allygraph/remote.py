"""Remote stores over HTTP: SPARQL 1.1 Protocol queries and the SPARQL 1.1 Graph Store HTTP Protocol.

One small client on httpx (:class:`Client`) does what every request needs: basic or bearer
authentication, connect and read timeouts, bounded retries with exponential backoff of idempotent
requests (GET, HEAD, PUT) on connection failures and HTTP 502/503/504 (a read timeout is not retried:
a server that is slow to answer is not helped by asking again), redirects followed only to the same
scheme, host and port, and errors (:class:`RemoteError`, exit code 2) that name the URL and the status.

:class:`RemoteStore` answers `query()` like a `pyoxigraph.Store`, so the SPARQL engine and the query
library run unchanged against any SPARQL 1.1 endpoint; :class:`GraphStore` reads and replaces whole
graphs (what `allygraph push` needs).
"""

from __future__ import annotations

import getpass
import os
import re
import sys
import time
import urllib.parse
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
import pyoxigraph

from .errors import InputError, RemoteError
from .query import MAX_DEPTH

PASSWORD_ENV = "ALLYGRAPH_PASSWORD"
TOKEN_ENV = "ALLYGRAPH_TOKEN"
DEFAULT_CONNECT_TIMEOUT = 10.0
DEFAULT_READ_TIMEOUT = 60.0
DEFAULT_RETRIES = 3
# Bytes of one answer (after any Content-Encoding is undone): the endpoint's own cap on its responses
# (serve.py, --max-bytes). A larger answer is refused, not truncated.
DEFAULT_MAX_ANSWER = 64 * 1024 * 1024
MAX_RETRIES = 10
# A graph no store holds: the protocol has no way to say "an empty default graph" or "no named graphs",
# so those are asked for as this one graph.
EMPTY_GRAPH = "urn:x-allygraph:no-such-graph"

_IDEMPOTENT = frozenset({"GET", "HEAD", "PUT"})
_RETRY_STATUS = frozenset({502, 503, 504})
_MAX_REDIRECTS = 5
_MAX_BACKOFF = 10.0
_MAX_RETRY_AFTER = 30.0
_RESULTS_ACCEPT = (
    "application/sparql-results+json, application/sparql-results+xml;q=0.9, "
    "application/n-triples;q=0.8, text/turtle;q=0.7"
)
_GRAPH_ACCEPT = "application/n-triples, text/turtle;q=0.9, application/rdf+xml;q=0.5"
_AUTH_HINT = (
    "give --user NAME with the password in $ALLYGRAPH_PASSWORD (or --password-env VAR), "
    "or a bearer token in $ALLYGRAPH_TOKEN (or --token-env VAR)"
)


# ----------------------------------------------------------------------------------------------------
# Options and credentials
# ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RemoteOptions:
    """How to reach a remote store: credentials (never shown by repr), timeouts in seconds, retries."""

    user: str | None = None
    password: str | None = field(default=None, repr=False)
    token: str | None = field(default=None, repr=False)
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    read_timeout: float = DEFAULT_READ_TIMEOUT
    retries: int = DEFAULT_RETRIES
    backoff: float = 0.5  # seconds before the first retry; doubled each time, at most 10 s
    max_answer: int = DEFAULT_MAX_ANSWER  # bytes of one answer; more is refused


def remote_options(
    *,
    user: str | None = None,
    password_env: str | None = None,
    token_env: str | None = None,
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
    read_timeout: float = DEFAULT_READ_TIMEOUT,
    retries: int = DEFAULT_RETRIES,
    max_answer: int = DEFAULT_MAX_ANSWER,
    environ: Mapping[str, str] | None = None,
    interactive: bool | None = None,
) -> RemoteOptions:
    """Options with the credentials read from the environment, never from the command line.

    With `user`, basic authentication with the password in `$password_env` (default
    `$ALLYGRAPH_PASSWORD`), else asked for on the terminal. Without, a bearer token from `$token_env`
    (default `$ALLYGRAPH_TOKEN`, used when set). `interactive` defaults to whether stdin is a terminal.

    >>> remote_options(environ={"ALLYGRAPH_TOKEN": "t"}).token
    't'
    >>> remote_options(user="ann", environ={"ALLYGRAPH_PASSWORD": "pw"})
    RemoteOptions(user='ann', connect_timeout=10.0, read_timeout=60.0, retries=3, backoff=0.5, max_answer=67108864)

    :raises InputError: for a missing password or token, both kinds of credentials, or a timeout or
        retry count out of range.
    """
    env = os.environ if environ is None else environ
    if connect_timeout <= 0 or read_timeout <= 0:
        raise InputError("timeouts must be positive numbers of seconds")
    if not 0 <= retries <= MAX_RETRIES:
        raise InputError(f"--retries must be between 0 and {MAX_RETRIES}")
    if max_answer <= 0:
        raise InputError("the cap on the size of an answer must be a positive number of bytes")
    password = token = None
    if user:
        if token_env:
            raise InputError("give either --user (basic authentication) or --token-env (a bearer token), not both")
        name = password_env or PASSWORD_ENV
        password = env.get(name)
        if password is None:
            if password_env:
                raise InputError(f"--password-env {password_env}: the environment variable {password_env} is not set")
            if not (sys.stdin.isatty() if interactive is None else interactive):
                raise InputError(
                    f"no password for --user {user}: set ${PASSWORD_ENV} or name a variable with --password-env"
                )
            password = getpass.getpass(f"password for {user}: ")
    elif password_env:
        raise InputError("--password-env needs --user")
    else:
        token = env.get(token_env or TOKEN_ENV) or None
        if token_env and token is None:
            raise InputError(f"--token-env {token_env}: the environment variable {token_env} is not set or empty")
    return RemoteOptions(
        user or None, password, token, float(connect_timeout), float(read_timeout), retries, max_answer=max_answer
    )


def redact(url: str | httpx.URL) -> str:
    """The URL without any user name or password in it, for messages.

    >>> redact("http://ann:secret@example.org:7878/store?graph=x")
    'http://example.org:7878/store?graph=x'
    """
    try:
        parsed = httpx.URL(str(url))
    except httpx.InvalidURL:
        return re.sub(r"//[^/@]*@", "//", str(url))
    return str(parsed.copy_with(username=None, password=None)) if parsed.userinfo else str(parsed)


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    default = {"http": 80, "https": 443}.get(url.scheme)
    return url.scheme, url.host, url.port or default


# ----------------------------------------------------------------------------------------------------
# The HTTP client
# ----------------------------------------------------------------------------------------------------


class Client:
    """An httpx client with authentication, timeouts, bounded retries, same-origin redirects, clear errors."""

    def __init__(self, options: RemoteOptions | None = None) -> None:
        from . import __version__

        self.options = options or RemoteOptions()
        o = self.options
        headers = {"User-Agent": f"allygraph/{__version__}"}
        if o.token:
            headers["Authorization"] = f"Bearer {o.token}"
        self._http = httpx.Client(
            auth=httpx.BasicAuth(o.user, o.password or "") if o.user else None,
            headers=headers,
            timeout=httpx.Timeout(o.read_timeout, connect=o.connect_timeout, pool=o.connect_timeout),
            follow_redirects=False,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def request(
        self,
        method: str,
        url: str,
        *,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        ok: Sequence[int] = (200,),
    ) -> httpx.Response:
        """Send one request (retried if idempotent); the response if its status is in `ok`.

        :raises RemoteError: if the server cannot be reached, does not answer in time, answers with
            another status (401 and 403 with a hint about credentials), or redirects to another host.
        """
        attempts = 1 + (self.options.retries if method in _IDEMPOTENT else 0)
        for attempt in range(1, attempts + 1):
            wait = self.options.backoff * 2 ** (attempt - 1)
            try:
                response = self._send(method, url, content, headers)
            except httpx.ConnectTimeout as exc:
                failure: RemoteError = RemoteError(
                    f"{method} {redact(url)}: no connection within {self.options.connect_timeout:g} s ({exc})"
                )
            except (httpx.ReadTimeout, httpx.WriteTimeout, httpx.PoolTimeout):
                raise RemoteError(
                    f"{method} {redact(url)}: no answer within {self.options.read_timeout:g} s (read timeout; "
                    "raise it with --timeout SECONDS)"
                ) from None
            except httpx.ConnectError as exc:
                failure = RemoteError(f"{method} {redact(url)}: cannot connect ({exc}); is the server running?")
            except (httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError) as exc:
                failure = RemoteError(f"{method} {redact(url)}: the connection broke ({exc})")
            except (httpx.HTTPError, httpx.InvalidURL) as exc:  # not a URL, not http(s), ...
                raise RemoteError(f"{method} {redact(url)}: {exc}") from None
            else:
                if response.status_code in ok:
                    return response
                failure = _status_error(method, response)
                if response.status_code not in _RETRY_STATUS:
                    raise failure
                wait = max(wait, _retry_after(response))
            if attempt == attempts:
                if attempts > 1:
                    raise RemoteError(f"{failure} (gave up after {attempts} attempts)")
                raise failure
            time.sleep(min(wait, _MAX_RETRY_AFTER))
        raise AssertionError("unreachable")  # pragma: no cover

    def _send(self, method: str, url: str, content: bytes | None, headers: Mapping[str, str] | None) -> httpx.Response:
        target = httpx.URL(url)
        for _ in range(_MAX_REDIRECTS + 1):
            response = self._http.send(
                self._http.build_request(method, target, content=content, headers=headers), stream=True
            )
            try:
                self._read(method, response)
            finally:
                response.close()
            if not response.is_redirect:
                return response
            location = response.url.join(response.headers["location"])
            status = response.status_code
            if _origin(location) != _origin(response.url):
                raise RemoteError(
                    f"{method} {redact(response.url)}: redirected (HTTP {status}) to {redact(location)}, "
                    "another host; not followed (use that URL if you trust it)"
                )
            if status in (301, 302, 303) and method not in ("GET", "HEAD"):
                raise RemoteError(
                    f"{method} {redact(response.url)}: redirected (HTTP {status}) to {redact(location)}; use that URL"
                )
            target = location
        raise RemoteError(f"{method} {redact(url)}: more than {_MAX_REDIRECTS} redirects")

    def _read(self, method: str, response: httpx.Response) -> None:
        """Read the body of a streamed response, refusing it as soon as it passes the cap.

        :raises RemoteError: naming the URL and the cap.
        """
        cap = self.options.max_answer
        refusal = (
            f"{method} {redact(response.url)}: the answer is larger than the cap of {cap} bytes; refused "
            "(raise the cap with RemoteOptions.max_answer if the store is trusted)"
        )
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > cap and "content-encoding" not in response.headers:
            raise RemoteError(refusal)
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_bytes():  # decoded: a gzip bomb is stopped at the cap too
            size += len(chunk)
            if size > cap:
                raise RemoteError(refusal)
            chunks.append(chunk)
        response._content = b"".join(chunks)  # what httpx's own read() sets


def _retry_after(response: httpx.Response) -> float:
    value = response.headers.get("retry-after", "")
    return float(value) if value.strip().isdigit() else 0.0


def _status_error(method: str, response: httpx.Response) -> RemoteError:
    status = response.status_code
    body = " ".join(response.text.split())[:300] if response.content else ""
    message = f"{method} {redact(response.url)}: HTTP {status} {response.reason_phrase}" + (f": {body}" if body else "")
    if status == 401:
        message += f"\n  hint: the server wants credentials: {_AUTH_HINT}"
    elif status == 403:
        message += f"\n  hint: these credentials may not do this; check the user's rights, or {_AUTH_HINT}"
    elif status in (404, 405):
        message += "\n  hint: check the URL (Oxigraph: http://HOST:PORT/query to query, /store for graphs)"
    return RemoteError(message)


# ----------------------------------------------------------------------------------------------------
# SPARQL 1.1 Protocol
# ----------------------------------------------------------------------------------------------------

Term = pyoxigraph.NamedNode | pyoxigraph.BlankNode | pyoxigraph.Literal | pyoxigraph.Triple
Graph = pyoxigraph.NamedNode | pyoxigraph.BlankNode | pyoxigraph.DefaultGraph


class RemoteStore:
    """A SPARQL 1.1 Protocol endpoint that answers `query()` like a `pyoxigraph.Store`.

    `default_graph=[]` means an empty default graph and `named_graphs=[]` no named graphs, as for a
    pyoxigraph store; `substitutions` bind variables to RDF terms (see :func:`bind`).
    """

    def __init__(self, endpoint: str, *, options: RemoteOptions | None = None, client: Client | None = None) -> None:
        self.endpoint = endpoint
        self.client = client or Client(options)

    def __repr__(self) -> str:
        return f"RemoteStore({redact(self.endpoint)!r})"

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> RemoteStore:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def query(
        self,
        query: str,
        *,
        named_graphs: Sequence[pyoxigraph.NamedNode | pyoxigraph.BlankNode] | None = None,
        default_graph: Graph | Sequence[Graph] | None = None,
        substitutions: Mapping[pyoxigraph.Variable, Term] | None = None,
    ) -> pyoxigraph.QuerySolutions | pyoxigraph.QueryBoolean | pyoxigraph.QueryTriples:
        """Run a query at the endpoint (POST, form-encoded); results parsed by pyoxigraph.

        :raises RuntimeError: for a substituted variable a SELECT does not project (as pyoxigraph).
        :raises TypeError: for a blank node or triple as a substitution or a graph name.
        :raises RemoteError: if the endpoint cannot be reached or refuses the query.
        """
        text = bind(query, substitutions) if substitutions else query
        form: list[tuple[str, str]] = [("query", text)]
        if default_graph is not None:
            graphs = [default_graph] if not isinstance(default_graph, Sequence) else list(default_graph)
            form += [("default-graph-uri", _graph_iri(g)) for g in graphs] or [("default-graph-uri", EMPTY_GRAPH)]
        if named_graphs is not None:
            form += [("named-graph-uri", _graph_iri(g)) for g in named_graphs] or [("named-graph-uri", EMPTY_GRAPH)]
        response = self.client.request(
            "POST",
            self.endpoint,
            content=urllib.parse.urlencode(form).encode("ascii"),
            headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": _RESULTS_ACCEPT},
        )
        return _parse_results(response)

    def named_graphs(self) -> Iterator[pyoxigraph.NamedNode | pyoxigraph.BlankNode]:
        """The names of the endpoint's named graphs."""
        results = self.query("SELECT DISTINCT ?g WHERE { GRAPH ?g { } }")
        assert isinstance(results, pyoxigraph.QuerySolutions)
        return iter([row["g"] for row in results])

    def dump(self, *, format: pyoxigraph.RdfFormat, from_graph: pyoxigraph.NamedNode) -> bytes:
        """One named graph serialised (a CONSTRUCT at the endpoint): what the HermiT engine reads."""
        if not isinstance(from_graph, pyoxigraph.NamedNode):
            raise TypeError("a remote store dumps one named graph at a time")
        results = self.query(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH {from_graph} {{ ?s ?p ?o }} }}")
        assert isinstance(results, pyoxigraph.QueryTriples)
        return results.serialize(format=format) or b""


def _graph_iri(graph: object) -> str:
    if isinstance(graph, pyoxigraph.NamedNode):
        return graph.value
    raise TypeError(f"a remote store names graphs by IRI; cannot send {graph!r}")


def _media_type(response: httpx.Response) -> str:
    return response.headers.get("content-type", "").split(";")[0].strip().lower()


# What a remote's RDF answer may be: the syntaxes asked for (N-Triples, Turtle, RDF/XML) and their quad
# forms. Not JSON-LD: pyoxigraph's JSON-LD parser crashes the process on objects a few thousand deep.
_RDF_ANSWERS = frozenset(
    {
        pyoxigraph.RdfFormat.N_TRIPLES,
        pyoxigraph.RdfFormat.N_QUADS,
        pyoxigraph.RdfFormat.TURTLE,
        pyoxigraph.RdfFormat.TRIG,
        pyoxigraph.RdfFormat.RDF_XML,
    }
)
_DOCTYPE = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)
# One XML token: a comment, CDATA section or processing instruction (each to its end, or to the end of
# the text if unclosed), an end tag's `</`, or a whole start tag (`/>` if it is empty).
# Nothing inside a tag may hold `<`, so every attempt stops at the next `<`: the scan is linear.
_XML_TOKEN = re.compile(
    rb"<!--[\s\S]*?(?:-->|\Z)|<!\[CDATA\[[\s\S]*?(?:\]\]>|\Z)|<\?[\s\S]*?(?:\?>|\Z)|</"
    rb"""|<[^!?/<>][^<>"']*(?:(?:"[^"<]*"|'[^'<]*')[^<>"']*)*>"""
)


def xml_depth_exceeded(data: bytes, limit: int = MAX_DEPTH) -> int | None:
    """The offset of the first element nested deeper than `limit`, or None: a scan of the tags, cheap
    next to parsing (pyoxigraph's RDF/XML parser takes minutes over elements 100,000 deep).

    >>> xml_depth_exceeded(b"<a><b/><c>x</c></a>", limit=2)
    >>> xml_depth_exceeded(b"<a><b><c></c></b></a>", limit=2)
    6
    """
    depth = 0
    for token in _XML_TOKEN.finditer(data):
        text = token.group(0)
        if text == b"</":
            depth -= 1
        elif text[1:2] not in (b"!", b"?") and not text.endswith(b"/>"):
            depth += 1
            if depth > limit:
                return token.start()
    return None


# Triple terms `<<( s p o )>>` and quoted triples `<< s p o >>` in the Turtle family: strings, IRIs and
# comments are tokens of their own (so a `<<` or `>>` inside them is not counted); unclosed long strings
# run to the end of the text, so every failed attempt stops at the end of its line: the scan is linear.
_TURTLE_TOKEN = re.compile(
    rb'"""(?:[^"\\]|\\[\s\S]|"(?!""))*(?:"""|\Z)|\'\'\'(?:[^\'\\]|\\[\s\S]|\'(?!\'\'))*(?:\'\'\'|\Z)'
    rb'|"(?:[^"\\\n\r]|\\.)*"|\'(?:[^\'\\\n\r]|\\.)*\'|<[^<>"{}|^`\\\s]*>|#[^\n\r]*|<<|>>'
)
_JSON_TOKEN = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]')


def turtle_depth_exceeded(data: bytes, limit: int = MAX_DEPTH) -> int | None:
    """The offset of the first `<<` nested deeper than `limit` in N-Triples, Turtle, TriG or N-Quads, or
    None (pyoxigraph's parsers crash the process on triple terms 100,000 deep).

    >>> turtle_depth_exceeded(b'<a> <p> <<( <s> <p> <<( <s> <p> "<<" )>> )>> .', limit=2)
    >>> turtle_depth_exceeded(b"<a> <p> <<(<s> <p> <<(<s> <p> <<(<s> <p> <o>)>>)>>)>> .", limit=2)
    30
    """
    if data.count(b"<<") <= limit:
        return None
    depth = 0
    for token in _TURTLE_TOKEN.finditer(data):
        if token.group(0) == b"<<":
            depth += 1
            if depth > limit:
                return token.start()
        elif token.group(0) == b">>":
            depth -= 1
    return None


def _json_depth_exceeded(data: bytes, limit: int = MAX_DEPTH) -> int | None:
    """The offset of the first `{` or `[` nested deeper than `limit` (outside strings), or None
    (pyoxigraph's SPARQL JSON results parser crashes the process on triple terms 5,000 deep).

    >>> _json_depth_exceeded(b'{"a": [{"b": "[[[{{{"}]}', limit=3)
    >>> _json_depth_exceeded(b'{"a": [{"b": [1]}]}', limit=3)
    13
    """
    if data.count(b"{") + data.count(b"[") <= limit:
        return None
    depth = 0
    for token in _JSON_TOKEN.finditer(data):
        text = token.group(0)
        if text in (b"{", b"["):
            depth += 1
            if depth > limit:
                return token.start()
        elif text in (b"}", b"]"):
            depth -= 1
    return None


def _refuse_deep(response: httpx.Response, media: str, deep: int | None) -> None:
    if deep is not None:
        line = response.content.count(b"\n", 0, deep) + 1
        raise RemoteError(
            f"{redact(response.url)}: answered {media} nested more than {MAX_DEPTH} levels deep (line {line}), "
            "which is refused"
        )


def _check_results(response: httpx.Response, media: str, results_format: pyoxigraph.QueryResultsFormat) -> None:
    """Refuse SPARQL results before any parser sees them: JSON or XML nested deeper than MAX_DEPTH, XML
    with a DOCTYPE or entity declaration.

    :raises RemoteError: naming the URL and what was refused.
    """
    if results_format == pyoxigraph.QueryResultsFormat.JSON:
        _refuse_deep(response, media, _json_depth_exceeded(response.content))
    elif results_format == pyoxigraph.QueryResultsFormat.XML:
        if _DOCTYPE.search(response.content):
            raise RemoteError(
                f"{redact(response.url)}: answered {media} with a DOCTYPE or entity declaration, which is refused"
            )
        _refuse_deep(response, media, xml_depth_exceeded(response.content))
    else:  # TSV holds triple terms too
        _refuse_deep(response, media, turtle_depth_exceeded(response.content))


def _check_rdf(response: httpx.Response, media: str, rdf_format: pyoxigraph.RdfFormat) -> None:
    """Refuse an RDF answer before any parser sees it: a syntax not asked for, RDF/XML with a DOCTYPE
    (pyoxigraph expands its internal entities: a few lines of `<!ENTITY>` grow to gigabytes), or RDF/XML
    nested deeper than MAX_DEPTH, the limit on SPARQL nesting (pyoxigraph takes minutes over 100,000).

    :raises RemoteError: naming the URL and what was refused.
    """
    if rdf_format not in _RDF_ANSWERS:
        raise RemoteError(f"{redact(response.url)}: answered with {media}, which is refused (not asked for)")
    if rdf_format == pyoxigraph.RdfFormat.RDF_XML and _DOCTYPE.search(response.content):
        raise RemoteError(
            f"{redact(response.url)}: answered RDF/XML with a DOCTYPE or entity declaration, which is refused"
        )
    if rdf_format != pyoxigraph.RdfFormat.RDF_XML:
        _refuse_deep(response, media, turtle_depth_exceeded(response.content))
    else:
        deep = xml_depth_exceeded(response.content)
        if deep is not None:
            line = response.content.count(b"\n", 0, deep) + 1
            raise RemoteError(
                f"{redact(response.url)}: answered RDF/XML with elements nested more than {MAX_DEPTH} levels "
                f"deep (line {line}), which is refused"
            )


def _parse_results(
    response: httpx.Response,
) -> pyoxigraph.QuerySolutions | pyoxigraph.QueryBoolean | pyoxigraph.QueryTriples:
    media = _media_type(response)
    results_format = pyoxigraph.QueryResultsFormat.from_media_type(media) if media else None
    if results_format is not None:
        _check_results(response, media, results_format)
        try:
            results = pyoxigraph.parse_query_results(response.content, format=results_format)
            if isinstance(results, pyoxigraph.QuerySolutions):  # rows are parsed as they are read: read them
                for _ in results:  # here once, so a bad row is this error, not the caller's traceback
                    pass
                results = pyoxigraph.parse_query_results(response.content, format=results_format)
            return results
        except SyntaxError as exc:
            raise RemoteError(f"{redact(response.url)}: unreadable {media} results: {exc}") from None
    rdf_format = pyoxigraph.RdfFormat.from_media_type(media) if media else None
    if rdf_format is None:
        raise RemoteError(f"{redact(response.url)}: answered with {media or 'no content type'}, not SPARQL results")
    _check_rdf(response, media, rdf_format)
    memory = pyoxigraph.Store()  # CONSTRUCT / DESCRIBE: back into the same type pyoxigraph returns
    try:
        memory.load(response.content, format=rdf_format)
    except SyntaxError as exc:
        raise RemoteError(f"{redact(response.url)}: unreadable {media}: {exc}") from None
    return memory.query("CONSTRUCT WHERE { ?s ?p ?o }")


# ----------------------------------------------------------------------------------------------------
# Substitutions: VALUES blocks of serialised terms, placed by a small tokeniser
# ----------------------------------------------------------------------------------------------------

_TOKENS = re.compile(
    r'(?P<skip>"""[\s\S]*?"""|\'\'\'[\s\S]*?\'\'\'|"(?:[^"\\\n\r]|\\.)*"|\'(?:[^\'\\\n\r]|\\.)*\''
    r"|<[^<>\"{}|^`\\\s]*>|#[^\n]*|@[A-Za-z]+(?:-[A-Za-z0-9]+)*)"
    r"|(?P<var>[?$][A-Za-z0-9_\u00b7\u00c0-\U000effff]+)"
    r"|(?P<word>[A-Za-z_][A-Za-z0-9_\-]*(?::[^\s{}()<>\"',;]*)?|:[^\s{}()<>\"',;]*)"
    r"|(?P<punct>[{}()*])"
)


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str
    start: int
    end: int

    def word(self, *names: str) -> bool:
        return self.kind == "word" and self.text.upper() in names


def bind(query: str, substitutions: Mapping[pyoxigraph.Variable, Term]) -> str:
    """`query` with each variable bound to its RDF term, as pyoxigraph's substitution does it.

    The terms, serialised by pyoxigraph (never pasted text), go into a `VALUES` block at the start of
    the query's WHERE group, so filters, optionals and minus see them and sub-selects keep their own
    variables. A variable the group assigns itself (`BIND(... AS ?v)`) is joined at the group's end
    instead, where a BIND allows it; a query without a WHERE group gets a trailing VALUES clause.

    >>> bind('SELECT ?view ?x WHERE { ?x ?p ?view }', {pyoxigraph.Variable("view"): pyoxigraph.Literal('a"b')})
    'SELECT ?view ?x WHERE { VALUES (?view) { ("a\\\\"b") } ?x ?p ?view }'

    :raises RuntimeError: for a variable a SELECT does not project.
    :raises TypeError: for a blank node or a triple (a VALUES block cannot hold them).
    """
    values = {var.value: _term(term) for var, term in substitutions.items()}
    if not values:
        return query
    tokens = [_Token(m.lastgroup or "", m.group(0), m.start(), m.end()) for m in _TOKENS.finditer(query)]
    tokens = [t for t in tokens if t.kind != "skip"]
    form = next((i for i, t in enumerate(tokens) if t.word("SELECT", "CONSTRUCT", "DESCRIBE", "ASK")), None)
    if form is None:
        raise ValueError("not a SPARQL query: no SELECT, CONSTRUCT, DESCRIBE or ASK")
    open_at = _where_group(tokens, form)
    if tokens[form].word("SELECT"):
        projected = _projection(tokens[form + 1 : open_at if open_at is not None else len(tokens)])
        for name in values:
            if projected is not None and name not in projected:
                raise RuntimeError(f"The SPARQL query does not contain variable ?{name} in its SELECT projection")
    if open_at is None:
        return f"{query}\n{_values_block(values)}"
    close_at = _matching(tokens, open_at)
    assigned = _assigned(tokens[open_at + 1 : close_at])
    first = {n: t for n, t in values.items() if n not in assigned}
    last = {n: t for n, t in values.items() if n in assigned}
    start, end = tokens[open_at].end, tokens[close_at].start
    head = f" {_values_block(first)}" if first else ""
    tail = f"{_values_block(last)} " if last else ""
    return query[:start] + head + query[start:end] + tail + query[end:]


def _term(term: object) -> str:
    if isinstance(term, (pyoxigraph.NamedNode, pyoxigraph.Literal)):
        return str(term)  # N-Triples syntax: IRIs are checked by NamedNode, literals escaped
    raise TypeError(f"only IRIs and literals can be sent to a remote store as a parameter, not {term!r}")


def _values_block(values: Mapping[str, str]) -> str:
    return f"VALUES ({' '.join('?' + n for n in values)}) {{ ({' '.join(values.values())}) }}"


def _where_group(tokens: list[_Token], form: int) -> int | None:
    """The index of the `{` opening the query's WHERE group, or None (DESCRIBE without one, the
    CONSTRUCT WHERE short form)."""
    if tokens[form].word("CONSTRUCT") and form + 1 < len(tokens) and tokens[form + 1].word("WHERE"):
        return None
    depth = parens = 0
    seen_where = False
    for i in range(form + 1, len(tokens)):
        t = tokens[i]
        if t.text == "(":
            parens += 1
        elif t.text == ")":
            parens -= 1
        elif t.word("WHERE") and depth == 0 and parens == 0:
            seen_where = True
        elif t.text == "{" and parens == 0:
            if depth == 0 and (seen_where or not tokens[form].word("CONSTRUCT")):
                return i
            depth += 1
        elif t.text == "}" and parens == 0:
            depth -= 1
    return None


def _matching(tokens: list[_Token], open_at: int) -> int:
    depth = 0
    for i in range(open_at, len(tokens)):
        if tokens[i].text == "{":
            depth += 1
        elif tokens[i].text == "}":
            depth -= 1
            if depth == 0:
                return i
    raise ValueError("unbalanced braces in the query")


def _projection(tokens: list[_Token]) -> set[str] | None:
    """The variables a SELECT clause projects; None for `SELECT *`."""
    names: set[str] = set()
    parens = 0
    for i, t in enumerate(tokens):
        if t.text == "(":
            parens += 1
        elif t.text == ")":
            parens -= 1
        elif t.text == "*" and parens == 0:
            return None
        elif t.kind == "var" and (parens == 0 or (i > 0 and tokens[i - 1].word("AS"))):
            names.add(t.text[1:])
        elif t.word("FROM", "WHERE"):
            break
    return names


def _assigned(group: list[_Token]) -> set[str]:
    """Variables the group itself assigns with `AS` (BIND), not counting nested groups."""
    names: set[str] = set()
    depth = 0
    for i, t in enumerate(group):
        if t.text == "{":
            depth += 1
        elif t.text == "}":
            depth -= 1
        elif t.kind == "var" and depth == 0 and i > 0 and group[i - 1].word("AS"):
            names.add(t.text[1:])
    return names


# ----------------------------------------------------------------------------------------------------
# SPARQL 1.1 Graph Store HTTP Protocol
# ----------------------------------------------------------------------------------------------------


class GraphStore:
    """Whole graphs at a Graph Store Protocol URL: `?graph=IRI` for a named graph, `?default` for the
    default graph (None below)."""

    def __init__(self, endpoint: str, *, client: Client) -> None:
        self.endpoint = endpoint
        self.client = client

    def url(self, graph: str | None) -> str:
        joiner = "&" if "?" in self.endpoint else "?"
        return self.endpoint + joiner + ("default" if graph is None else "graph=" + urllib.parse.quote(graph, safe=""))

    def probe(self) -> None:
        """Check that the URL speaks the protocol (the default graph always exists).

        :raises RemoteError: if it does not answer, or not with success.
        """
        response = self.client.request("HEAD", self.url(None), ok=(200, 204, 405, 501))
        if response.status_code in (405, 501):  # no HEAD here: ask for the graph itself
            self.client.request("GET", self.url(None), headers={"Accept": _GRAPH_ACCEPT}, ok=(200, 204))

    def get(self, graph: str | None) -> list[pyoxigraph.Triple] | None:
        """The graph's triples, or None if the store does not have it (HTTP 404).

        :raises RemoteError: on any other failure, or a body that does not parse.
        """
        response = self.client.request("GET", self.url(graph), headers={"Accept": _GRAPH_ACCEPT}, ok=(200, 204, 404))
        if response.status_code == 404:
            return None
        if not response.content:
            return []
        media = _media_type(response)
        rdf_format = pyoxigraph.RdfFormat.from_media_type(media) if media else pyoxigraph.RdfFormat.N_TRIPLES
        if rdf_format is None:
            raise RemoteError(f"GET {redact(response.url)}: answered with {media}, not RDF")
        _check_rdf(response, media, rdf_format)
        try:
            return [_triple(q) for q in pyoxigraph.parse(response.content, format=rdf_format)]
        except SyntaxError as exc:
            raise RemoteError(f"GET {redact(response.url)}: unreadable {media}: {exc}") from None

    def put(self, graph: str | None, ntriples: bytes) -> int:
        """Create or replace the graph with these N-Triples; the status (201 created, 200/204 replaced).

        :raises RemoteError: if the store refuses it.
        """
        response = self.client.request(
            "PUT",
            self.url(graph),
            content=ntriples,
            headers={"Content-Type": "application/n-triples"},
            ok=(200, 201, 204),
        )
        return response.status_code


def _triple(item: Any) -> pyoxigraph.Triple:
    return item.triple if isinstance(item, pyoxigraph.Quad) else item
