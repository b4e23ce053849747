"""The ontology as a vocabulary: load it, look terms up by local name, suggest the nearest on a typo."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from rdflib import Graph, URIRef

from .namespaces import AG, OWL, RDF, RDFS, XSD
from .paths import ontology_dir

DATE_PROPERTIES = frozenset({"date", "startDate", "endDate"})


@dataclass(frozen=True)
class Vocabulary:
    """The local names of the ontology's classes, properties and individuals."""

    graph: Graph
    classes: frozenset[str]
    object_properties: frozenset[str]
    datatype_properties: frozenset[str]
    individuals: frozenset[str]
    ranges: dict[str, URIRef] = field(default_factory=dict)

    @property
    def terms(self) -> frozenset[str]:
        return self.classes | self.object_properties | self.datatype_properties | self.individuals

    def kind(self, name: str) -> str | None:
        """'class', 'object', 'datatype', 'individual', or None for an unknown name."""
        for kind, names in (
            ("class", self.classes),
            ("object", self.object_properties),
            ("datatype", self.datatype_properties),
            ("individual", self.individuals),
        ):
            if name in names:
                return kind
        return None

    def suggest(self, name: str, among: frozenset[str] | None = None) -> str:
        """A hint naming the nearest known term(s), or '' when nothing is close."""
        return suggest(name, among if among is not None else self.terms)


def suggest(name: str, candidates: frozenset[str] | set[str]) -> str:
    """'did you mean ...?' for the closest candidates (case-insensitive), or ''."""
    lowered = {c.lower(): c for c in candidates}
    close = difflib.get_close_matches(name.lower(), list(lowered), n=3, cutoff=0.6)
    if not close:
        return ""
    return "did you mean " + " or ".join(repr(lowered[c]) for c in close) + "?"


def core_ontology_path() -> Path:
    return ontology_dir() / "allygraph.ttl"


@cache
def vocabulary(path: Path | None = None) -> Vocabulary:
    """The vocabulary of the core ontology (or of the ontology file given)."""
    graph = Graph()
    graph.parse(path or core_ontology_path(), format="turtle")
    ns = str(AG)

    def local(kind: URIRef) -> frozenset[str]:
        return frozenset(str(s)[len(ns) :] for s in graph.subjects(RDF.type, kind) if str(s).startswith(ns))

    datatype = local(OWL.DatatypeProperty)
    ranges = {
        name: r
        for name in datatype
        if (r := graph.value(AG[name], RDFS.range)) is not None and str(r).startswith(str(XSD))
    }
    return Vocabulary(
        graph=graph,
        classes=local(OWL.Class),
        object_properties=local(OWL.ObjectProperty),
        datatype_properties=datatype,
        individuals=local(OWL.NamedIndividual),
        ranges=ranges,
    )
