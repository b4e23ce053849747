"""`allygraph export`: the built dataset in a standard RDF syntax.

TriG and N-Quads keep the named graphs. Turtle and N-Triples hold one graph: the union of all of them,
or the one named with `graph`. JSON-LD keeps the named graphs and uses the context the project ships
(`ontology/context.jsonld`), embedded in the document, so reading it back never fetches a context.
"""

from __future__ import annotations

import json
from functools import cache
from typing import BinaryIO

import pyoxigraph
from rdflib import Dataset

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


@cache
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
        dataset = Dataset()
        source = graph and pyoxigraph.NamedNode(graph)
        data = store.dump(format=pyoxigraph.RdfFormat.N_QUADS) if source is None else _as_quads(store, source)
        dataset.parse(data=data.decode("utf-8"), format="nquads")
        out.write(dataset.serialize(format="json-ld", context=context(), encoding="utf-8"))  # type: ignore[arg-type]
        return
    if graph is not None:
        store.dump(out, format=FORMATS[fmt], from_graph=pyoxigraph.NamedNode(graph), **_prefixes(fmt))
    elif fmt in _WITH_GRAPHS:
        store.dump(out, format=FORMATS[fmt], **_prefixes(fmt))
    else:  # the union of every named graph
        triples = store.query("CONSTRUCT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } }")
        out.write(triples.serialize(format=FORMATS[fmt]))  # type: ignore[union-attr]


def _as_quads(store: pyoxigraph.Store, graph: pyoxigraph.NamedNode) -> bytes:
    return pyoxigraph.serialize(store.quads_for_pattern(None, None, None, graph), format=pyoxigraph.RdfFormat.N_QUADS)


def _prefixes(fmt: str) -> dict[str, dict[str, str]]:
    return {"prefixes": PREFIXES} if fmt in ("trig", "turtle") else {}
