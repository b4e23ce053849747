"""The IRIs allygraph mints and the vocabularies it reuses."""

from __future__ import annotations

import pyoxigraph
from rdflib import BNode, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, OWL, PROV, RDF, RDFS, SKOS, XSD
from rdflib.term import Node

BASE = "https://w3id.org/allygraph/"
AG = Namespace(BASE + "ontology#")  # the ontology's terms
ONTOLOGY_IRI = BASE + "ontology"
ID = Namespace(BASE + "id/")  # entities, agents, works, documents, claims
GRAPH = Namespace(BASE + "graph/")  # named graphs that are not per claim
OA = Namespace("http://www.w3.org/ns/oa#")
NP = Namespace("http://www.nanopub.org/nschema#")

PREFIXES = {
    "ag": str(AG),
    "id": str(ID),
    "graph": str(GRAPH),
    "oa": str(OA),
    "np": str(NP),
    "prov": str(PROV),
    "dct": str(DCTERMS),
    "skos": str(SKOS),
    "owl": str(OWL),
    "rdf": str(RDF),
    "rdfs": str(RDFS),
    "xsd": str(XSD),
}

ONTOLOGY_GRAPH = GRAPH["ontology"]
SOURCES_GRAPH = GRAPH["sources"]
ENTITIES_GRAPH = GRAPH["entities"]

__all__ = [
    "AG",
    "BASE",
    "DCTERMS",
    "ENTITIES_GRAPH",
    "GRAPH",
    "ID",
    "NP",
    "OA",
    "ONTOLOGY_GRAPH",
    "ONTOLOGY_IRI",
    "OWL",
    "PREFIXES",
    "PROV",
    "RDF",
    "RDFS",
    "SKOS",
    "SOURCES_GRAPH",
    "XSD",
]


def rdflib_term(term: object) -> Node:
    """A pyoxigraph term as the term rdflib's own parsers would make of it (an xsd:string literal is
    plain); pyoxigraph parses several times faster than rdflib.

    :raises TypeError: for a quoted triple (RDF 1.2), which allygraph does not use.
    """
    if isinstance(term, pyoxigraph.NamedNode):
        return URIRef(term.value)
    if isinstance(term, pyoxigraph.BlankNode):
        return BNode(term.value)
    if isinstance(term, pyoxigraph.Literal):
        if term.language:
            return Literal(term.value, lang=term.language)
        if term.datatype.value == str(XSD.string):
            return Literal(term.value)
        return Literal(term.value, datatype=URIRef(term.datatype.value))
    raise TypeError(f"unexpected term {term!r}")
