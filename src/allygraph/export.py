"""`allygraph export`: the built dataset in a standard RDF syntax.

TriG and N-Quads keep the named graphs. Turtle and N-Triples hold one graph: the union of all of them,
or the one named with `graph`. JSON-LD keeps the named graphs and uses the context the project ships
(`ontology/context.jsonld`), embedded in the document, so reading it back never fetches a context.

The JSON-LD is written here, in flattened form (`jsonld`): one node object per subject and graph, objects
as node references, so blank nodes that refer only to each other are kept; every literal as a value
object with its lexical form and datatype or language tag as stored (never a JSON number, so
`"1"^^xsd:double`, big or ill-typed integers and `NaN` come back exactly); `@type` only for IRI classes
(a blank-node class, as a denied claim's complement class is, stays an `rdf:type` statement). IRIs are
compacted with the context's prefixes where that reads back the same; a prefix whose name is the scheme
of an IRI in the data (an IRI `id:x` would read as a compact IRI) is left out of the embedded context.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable, Mapping
from typing import BinaryIO

import pyoxigraph

from .errors import InputError
from .namespaces import PREFIXES
from .paths import ontology_dir

FORMATS = {
    "trig": pyoxigraph.RdfFormat.TRIG,
    "nquads": pyoxigraph.RdfFormat.N_QUADS,
    "turtle": pyoxigraph.RdfFormat.TURTLE,
    "ntriples": pyoxigraph.RdfFormat.N_TRIPLES,
    "jsonld": pyoxigraph.RdfFormat.JSON_LD,
}
_WITH_GRAPHS = {"trig", "nquads", "jsonld"}
_RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
_GEN_DELIMS = tuple(":/?#[]@")  # a term whose IRI ends in one of these can be a prefix (JSON-LD 1.1)


@functools.cache
def context() -> dict[str, object]:
    """The project's JSON-LD context (`ontology/context.jsonld`)."""
    return json.loads((ontology_dir() / "context.jsonld").read_text(encoding="utf-8"))["@context"]  # type: ignore[no-any-return]


def export(store: pyoxigraph.Store, fmt: str, out: BinaryIO, *, graph: str | None = None) -> None:
    """Write the store (or one named graph of it) to `out` in `fmt` (a key of FORMATS).

    :raises InputError: for an unknown format or a graph the store does not hold.
    """
    if fmt not in FORMATS:
        raise InputError(f"unknown export format {fmt!r}; use one of {', '.join(FORMATS)}")
    if graph is not None and not store.contains_named_graph(pyoxigraph.NamedNode(graph)):
        raise InputError(f"the store has no named graph <{graph}>")
    if fmt == "jsonld":
        source = None if graph is None else pyoxigraph.NamedNode(graph)
        out.write(jsonld(store.quads_for_pattern(None, None, None, source)))
        return
    if graph is not None:
        store.dump(out, format=FORMATS[fmt], from_graph=pyoxigraph.NamedNode(graph), **_prefixes(fmt))
    elif fmt in _WITH_GRAPHS:
        store.dump(out, format=FORMATS[fmt], **_prefixes(fmt))
    else:  # the union of every named graph
        triples = store.query("CONSTRUCT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } }")
        out.write(triples.serialize(format=FORMATS[fmt]))  # type: ignore[union-attr]


def _prefixes(fmt: str) -> dict[str, dict[str, str]]:
    return {"prefixes": PREFIXES} if fmt in ("trig", "turtle") else {}


_Term = pyoxigraph.NamedNode | pyoxigraph.BlankNode | pyoxigraph.Literal


def jsonld(
    statements: Iterable[pyoxigraph.Quad | pyoxigraph.Triple], *, extra_context: Mapping[str, str] | None = None
) -> bytes:
    """Quads (or triples, in the default graph) as a flattened JSON-LD document, UTF-8, that embeds the
    shipped context (plus `extra_context`) and reads back to exactly the same quads (see the module doc).

    >>> from pyoxigraph import Literal, NamedNode, Triple
    >>> a, p = NamedNode("https://w3id.org/allygraph/id/a"), NamedNode("http://e.org/p")
    >>> one = Literal("1", datatype=NamedNode("http://www.w3.org/2001/XMLSchema#double"))
    >>> doc = json.loads(jsonld([Triple(a, p, one)]))
    >>> doc["@graph"]
    [{'@id': 'id:a', 'http://e.org/p': [{'@value': '1', '@type': 'xsd:double'}]}]

    :raises InputError: for RDF 1.2 terms JSON-LD cannot hold (triple terms, base directions).
    """
    graphs: dict[str, dict[str, dict[str, list[object]]]] = {}
    iris: set[str] = set()
    quads = []
    for statement in statements:
        graph = getattr(statement, "graph_name", pyoxigraph.DefaultGraph())
        terms = (statement.subject, statement.predicate, statement.object, graph)
        for term in terms:
            if isinstance(term, pyoxigraph.Triple):
                raise InputError("JSON-LD cannot hold RDF 1.2 triple terms; export as TriG or N-Quads")
            if isinstance(term, pyoxigraph.NamedNode):
                iris.add(term.value)
            elif isinstance(term, pyoxigraph.Literal):
                if term.direction is not None:
                    raise InputError("JSON-LD cannot hold a literal's base direction; export as TriG or N-Quads")
                iris.add(term.datatype.value)
        quads.append(terms)
    ctx = _usable_context({**context(), **(extra_context or {})}, iris)
    compact = _compactor(ctx)
    for subject, predicate, obj, graph in quads:
        node = graphs.setdefault(_ref(graph, compact), {}).setdefault(_ref(subject, compact), {})
        if predicate.value == _RDF_TYPE and isinstance(obj, pyoxigraph.NamedNode):
            node.setdefault("@type", []).append(compact(obj.value))
        else:
            node.setdefault(compact(predicate.value), []).append(_value(obj, compact))
    # Laid out one node object a line: the default graph's, then each named graph's inside its graph object.
    dump = functools.partial(json.dumps, ensure_ascii=False)
    items = [dump(_node(key, props)) for key, props in graphs.pop("", {}).items()]
    for key, nodes in graphs.items():
        inner = ",\n      ".join(dump(_node(k, p)) for k, p in nodes.items())
        items.append(f'{{"@id": {dump(key)}, "@graph": [\n      {inner}\n    ]}}')
    head = dump({"@context": ctx}, indent=2)[:-2]  # without the closing "\n}"
    body = "\n    " + ",\n    ".join(items) + "\n  " if items else ""
    return f'{head},\n  "@graph": [{body}]\n}}\n'.encode()


def _usable_context(ctx: dict[str, object], iris: set[str]) -> dict[str, object]:
    """`ctx` without the terms that would read an IRI of the data as something else: one named like the
    IRI's scheme would expand it as a compact IRI, one with a colon could be taken for a written IRI."""
    schemes = {iri.split(":", 1)[0] for iri in iris}
    return {term: value for term, value in ctx.items() if term not in schemes and ":" not in term}


def _compactor(ctx: Mapping[str, object]) -> Callable[[str], str]:
    """IRI -> `prefix:rest` with the longest namespace of `ctx` that reads back the same, or the IRI."""
    prefixes = sorted(
        (
            (iri, term)
            for term, iri in ctx.items()
            if isinstance(iri, str) and iri.endswith(_GEN_DELIMS) and term not in ("", "_") and term[0] != "@"
        ),
        key=lambda pair: -len(pair[0]),
    )

    @functools.cache
    def compact(iri: str) -> str:
        for namespace, term in prefixes:
            if iri.startswith(namespace) and not iri[len(namespace) :].startswith("//"):
                return f"{term}:{iri[len(namespace) :]}"
        return iri

    return compact


def _ref(term: _Term | pyoxigraph.DefaultGraph, compact: Callable[[str], str]) -> str:
    """The `@id` of a node or graph name ("" for the default graph)."""
    if isinstance(term, pyoxigraph.BlankNode):
        return f"_:{term.value}"
    if isinstance(term, pyoxigraph.NamedNode):
        return compact(term.value)
    return ""


def _value(term: _Term, compact: Callable[[str], str]) -> dict[str, str]:
    if not isinstance(term, pyoxigraph.Literal):
        return {"@id": _ref(term, compact)}
    if term.language is not None:
        return {"@value": term.value, "@language": term.language}
    if term.datatype.value == _XSD_STRING:
        return {"@value": term.value}
    return {"@value": term.value, "@type": compact(term.datatype.value)}


def _node(key: str, props: dict[str, list[object]]) -> dict[str, object]:
    types = {"@type": props.pop("@type")} if "@type" in props else {}
    return {"@id": key, **types, **props}
