"""The query library (`queries/`): named SPARQL files, parameters bound as RDF terms, W3C result formats,
and the data-quality checks (`queries/qc/*-violation.rq`) that `build` runs."""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph

from .errors import AllygraphError, InputError, Location
from .namespaces import AG, ID
from .ontology import suggest
from .paths import queries_dir
from .validate import Violation
from .yamlio import read_text

FORMATS = {
    "csv": pyoxigraph.QueryResultsFormat.CSV,
    "tsv": pyoxigraph.QueryResultsFormat.TSV,
    "json": pyoxigraph.QueryResultsFormat.JSON,
    "xml": pyoxigraph.QueryResultsFormat.XML,
}

# What a query may not do: fetch anything from elsewhere. Checked on the text with comments, strings,
# IRIs, escapes (`ex:a\\#`) and variables blanked out, so a keyword inside a literal is not mistaken for
# one; with no word boundaries, because pyoxigraph reads `1SERVICE` as `1 SERVICE`. A second reading
# blanks only IRIs with a scheme, since `?a<(...)>` may be a comparison rather than an IRI. This is a
# first line: processes that run user queries also lose the right to open sockets (sandbox.py).
#
# The tokens blanked follow the SPARQL 1.1 grammar (and pyoxigraph's reading of it), since any token read
# longer than the parser reads it hides query text: strings step over escapes (`"""\""""` is one string),
# a short string holds no raw CR or LF, a comment ends at CR or LF (EOL), and an IRIREF excludes only
# `<>"{}|^`\` and U+0000-U+0020 (so U+00A0 or U+2028 are IRI characters), with `\uXXXX` / `\UXXXXXXXX`
# escapes, which pyoxigraph accepts in IRIs.
_FORBIDDEN = re.compile(r"(SERVICE|LOAD)", re.IGNORECASE)
_ESCAPE = r"\\."  # ECHAR (and UCHAR's `\u` / `\U`, its digits being ordinary characters)
_STRINGS = (
    rf'"""(?:[^"\\]|{_ESCAPE}|"(?!""))*"""'
    rf"|'''(?:[^'\\]|{_ESCAPE}|'(?!''))*'''"
    rf'|"(?:[^"\\\n\r]|{_ESCAPE})*"'
    rf"|'(?:[^'\\\n\r]|{_ESCAPE})*'"
)
_IRI_CHARS = r'(?:[^<>"{}|^`\\\x00-\x20]|\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8})*'
_COMMENT = r"#[^\n\r]*"
_VARIABLE = r"[?$][A-Za-z0-9_]+"
_BLANKS = re.compile(rf"{_ESCAPE}|{_STRINGS}|<{_IRI_CHARS}>|{_COMMENT}|{_VARIABLE}")
_STRICT_BLANKS = re.compile(rf"{_ESCAPE}|{_STRINGS}|<[A-Za-z][A-Za-z0-9+.-]*:{_IRI_CHARS}>|{_COMMENT}|{_VARIABLE}")


def _readings(text: str) -> list[str]:
    """The query text blanked two ways (see above); a check must pass on both."""
    return [pattern.sub(lambda m: " " * len(m.group(0)), text) for pattern in (_BLANKS, _STRICT_BLANKS)]


MAX_DEPTH = 128
_OPENERS, _CLOSERS = "{([", "})]"


@dataclass(frozen=True)
class NamedQuery:
    name: str
    path: Path
    text: str

    @property
    def intent(self) -> str:
        """The first line of the header comment."""
        for line in self.text.splitlines():
            if line.startswith("#"):
                return line.lstrip("# ").strip()
        return self.name


def library() -> dict[str, Path]:
    """The bundled queries by name (file name without .rq)."""
    return {p.stem: p for p in sorted(queries_dir().glob("*.rq"))}


def load_query(name_or_file: str) -> NamedQuery:
    """A bundled query by name, or a query file.

    :raises InputError: for an unknown name (with the nearest), an unreadable file, or a query that would
        reach outside the store (SERVICE, LOAD).
    """
    path = Path(name_or_file)
    if not path.is_file():
        known = library()
        if name_or_file.removesuffix(".rq") not in known:
            raise InputError(
                f"no query {name_or_file!r}: neither a file nor one of {', '.join(known)}",
                hint=suggest(name_or_file, set(known)),
            )
        path = known[name_or_file.removesuffix(".rq")]
    text = read_text(path)
    check_local(text, path)
    check_depth(text, path)
    return NamedQuery(path.stem, path, text)


def check_local(text: str, where: Path | str = "<query>") -> None:
    """Refuse a query that asks to fetch data from elsewhere (SERVICE, LOAD).

    >>> check_local('SELECT * WHERE { ?s ?p "SERVICE" }')
    >>> check_local("SELECT * WHERE { ?service ?p <http://example.org/service> }")
    >>> check_local("SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }")
    Traceback (most recent call last):
    ...
    allygraph.errors.InputError: <query>:1: SERVICE is refused: queries never reach outside the store
    """
    for blanked in _readings(text):
        match = _FORBIDDEN.search(blanked)
        if match:
            break
    if match:
        line = text.count("\n", 0, match.start()) + 1
        raise InputError(
            f"{match.group(1).upper()} is refused: queries never reach outside the store", Location(where, line)
        )


def check_depth(text: str, where: Path | str = "<query>", *, limit: int = MAX_DEPTH) -> None:
    """Refuse a query whose `{ ( [` nest deeper than `limit`, before any SPARQL parser sees it.

    Counted on the text with comments, strings and IRIs blanked out, like `check_local`.

    >>> check_depth("SELECT * WHERE { ?s ?p ?o FILTER(?o IN (1, 2)) }")
    >>> check_depth("ASK " + "{" * 200 + "}" * 200)
    Traceback (most recent call last):
    ...
    allygraph.errors.InputError: <query>:1:133: { ( [ nest more than 128 levels deep; refused (no real query does)
    """
    for blanked in _readings(text):
        _check_depth(text, blanked, where, limit)


def _check_depth(text: str, blanked: str, where: Path | str, limit: int) -> None:
    depth = 0
    for offset, char in enumerate(blanked):
        if char in _OPENERS:
            depth += 1
            if depth > limit:
                line = text.count("\n", 0, offset) + 1
                column = offset - text.rfind("\n", 0, offset)
                raise InputError(
                    f"{{ ( [ nest more than {limit} levels deep; refused (no real query does)",
                    Location(where, line, column),
                )
        elif char in _CLOSERS and depth:
            depth -= 1


def parse_param(text: str) -> tuple[pyoxigraph.Variable, pyoxigraph.NamedNode | pyoxigraph.Literal]:
    """`name=value` as a variable and an RDF term: `<iri>`, `http(s)://...` or `urn:...` is an IRI,
    `id:x` the ledger entity x, anything else a plain string.

    >>> parse_param("relationship=id:iran-russia")[1].value
    'https://w3id.org/allygraph/id/iran-russia'
    >>> parse_param("view=all")
    (<Variable value=view>, <Literal value=all datatype=<NamedNode value=http://www.w3.org/2001/XMLSchema#string>>)
    >>> parse_param("v=<urn:a b>")
    Traceback (most recent call last):
    ...
    allygraph.errors.InputError: --param v: the IRI <urn:a b> holds whitespace (U+0020), which an IRI cannot

    :raises InputError: if the text is not name=value, the name is not a SPARQL variable name, or the value
        reads as an IRI but is not one: it holds whitespace of any kind (a no-break space too, legal in an
        IRI but invisible), a character an IRI cannot hold (`<>"{}|^`\\`, controls), or no scheme.
    """
    name, sep, value = text.partition("=")
    if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise InputError(f"--param {text!r}: write name=value, with a SPARQL variable name")
    variable = pyoxigraph.Variable(name)
    if not _encodable(value):
        raise InputError(f"--param {name}: the value {value!r} is not valid Unicode (an undecodable byte?)")
    if value.startswith("<") and value.endswith(">"):
        return variable, _param_iri(name, value[1:-1])
    if value.startswith(("http://", "https://", "urn:")):
        return variable, _param_iri(name, value)
    if value.startswith("id:"):
        return variable, _param_iri(name, f"{ID}{value[3:]}")
    return variable, pyoxigraph.Literal(value)


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate, as undecodable bytes in argv become
        return False
    return True


def _param_iri(name: str, iri: str) -> pyoxigraph.NamedNode:
    """`iri` as a NamedNode for parameter `name`, or an InputError saying what is wrong with it."""
    space = next((c for c in iri if c.isspace()), None)
    if space is not None:
        raise InputError(f"--param {name}: the IRI <{iri}> holds whitespace (U+{ord(space):04X}), which an IRI cannot")
    try:
        return pyoxigraph.NamedNode(iri)
    except ValueError as exc:  # pyoxigraph's reason: "Invalid IRI code point '\"'", "No scheme found ...", ...
        raise InputError(f"--param {name}: <{iri}> is not an IRI: {exc}") from None


def run(store: pyoxigraph.Store, query: NamedQuery, params: Sequence[str] = ()) -> object:
    """Run a query with its parameters bound as RDF terms (SPARQL substitution, never text pasting).

    :raises InputError: for a parameter the query does not project, or a syntax error in the query.
    """
    bound = dict(parse_param(p) for p in params)
    try:
        return store.query(query.text, substitutions=bound or None)
    except SyntaxError as exc:
        raise InputError(f"SPARQL syntax: {exc}", Location(query.path)) from None
    except RuntimeError as exc:
        raise InputError(f"{exc} (a parameter must be a variable the query selects)", Location(query.path)) from None


DEFAULT_TIMEOUT = 60.0  # seconds, for `allygraph query`
DEFAULT_MAX_BYTES = 256 * 1024 * 1024


class QueryStopped(AllygraphError, TimeoutError):
    """A query ran past its deadline or its output cap, or crashed the process running it."""


def run_isolated(
    out: Path,
    query: NamedQuery,
    params: Sequence[str] = (),
    fmt: str = "table",
    *,
    timeout: float = DEFAULT_TIMEOUT,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> bytes:
    """Run a query on the store in `out` in a process of its own, with no network, that is killed at the
    deadline (pyoxigraph cannot stop a query from inside); the rendered results.

    :raises QueryStopped: past `timeout` seconds or `max_bytes` of output, or if the process crashed.
    :raises InputError: for the errors `run` reports (syntax, parameters).
    """
    import multiprocessing

    context = multiprocessing.get_context("fork" if sys.platform == "linux" else "spawn")  # fork: no re-import
    ours, theirs = context.Pipe(duplex=False)
    process = context.Process(
        target=_isolated_main, args=(theirs, str(out), query, list(params), fmt, max_bytes), daemon=True
    )
    process.start()
    theirs.close()
    try:
        if not ours.poll(timeout):
            raise QueryStopped(f"{query.path}: the query ran past {timeout:g} s and was stopped (--timeout)")
        kind, payload = ours.recv()
    except EOFError:
        process.join(5)
        raise QueryStopped(
            f"{query.path}: the query crashed the process running it (exit {process.exitcode}); nothing was printed"
        ) from None
    finally:
        if process.is_alive():
            process.kill()
        process.join(5)
        ours.close()
    if kind == "error":
        raise AllygraphError(payload)  # already names the file and line
    if kind == "too-big":
        raise QueryStopped(f"{query.path}: the results pass {max_bytes} bytes; add a LIMIT (--max-bytes)")
    return payload  # type: ignore[no-any-return]


def _isolated_main(conn: object, out: str, query: NamedQuery, params: list[str], fmt: str, max_bytes: int) -> None:
    from .sandbox import forbid_network
    from .store import open_store

    forbid_network()
    try:
        body = render(run(open_store(Path(out)), query, params), fmt)
    except AllygraphError as exc:
        conn.send(("error", str(exc)))  # type: ignore[attr-defined]
        return
    conn.send(("too-big", b"") if len(body) > max_bytes else ("ok", body))  # type: ignore[attr-defined]


def render(results: object, fmt: str) -> bytes:
    """Results in a W3C SPARQL 1.1 results format (csv, tsv, json, xml) or as a text table."""
    if isinstance(results, pyoxigraph.QueryBoolean):
        if fmt == "table":
            return f"{bool(results)}\n".encode()
        return results.serialize(format=FORMATS[fmt])
    if isinstance(results, pyoxigraph.QueryTriples):
        return results.serialize(format=pyoxigraph.RdfFormat.N_TRIPLES)
    assert isinstance(results, pyoxigraph.QuerySolutions)
    if fmt != "table":
        return results.serialize(format=FORMATS[fmt])
    names = [v.value for v in results.variables]
    rows = [[_cell(solution[n]) for n in names] for solution in results]
    widths = [min(max([len(n), *(len(r[i]) for r in rows)]), 60) for i, n in enumerate(names)]
    lines = ["  ".join(n.ljust(w) for n, w in zip(names, widths, strict=True))]
    lines += ["  ".join(c[:w].ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    lines.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return ("\n".join(lines) + "\n").encode()


def _cell(term: object) -> str:
    if term is None:
        return ""
    value = getattr(term, "value", str(term))
    return str(value).replace("\n", " ")


def quality_checks(store: pyoxigraph.Store) -> list[Violation]:
    """Run every `queries/qc/*-violation.rq`; each row is a violation, its first column the offender."""
    violations = []
    for path in sorted((queries_dir() / "qc").glob("*-violation.rq")):
        query = NamedQuery(path.stem, path, read_text(path))
        results = store.query(query.text)
        names = [v.value for v in results.variables]
        for solution in results:
            focus = _cell(solution[names[0]])
            claim, file, line = _locate(store, focus)
            details = ", ".join(f"{n}={_cell(solution[n])}" for n in names[1:] if solution[n] is not None)
            violations.append(
                Violation(
                    message=f"{query.intent} ({details})" if details else query.intent,
                    focus=focus,
                    shape=f"queries/qc/{path.name}",
                    claim=claim,
                    file=file,
                    line=line,
                )
            )
    return violations


def _locate(store: pyoxigraph.Store, focus: str) -> tuple[str, str, int]:
    """(claim id, file, line) of a claim, a part of one, or an entity."""
    prefix = f"{ID}claim/"
    node = f"{prefix}{focus[len(prefix) :].split('/', 1)[0]}" if focus.startswith(prefix) else focus
    query = f"""SELECT ?id ?file ?line WHERE {{ GRAPH ?g {{ <{node}> <{AG.mediaFile}> ?file ; <{AG.line}> ?line }}
                OPTIONAL {{ GRAPH ?h {{ <{node}> <{AG.claimId}> ?id }} }} }} LIMIT 1"""
    if not focus.startswith(("http://", "https://", "urn:")):
        return "", "", 0
    for row in store.query(query):
        return (_cell(row["id"]), _cell(row["file"]), int(row["line"].value))
    return "", "", 0
