"""What the SPARQL compiler needs to know about the ontology's axioms, computed once from its graph:
named sub- and superclasses, class definitions, disjointness, domains, ranges, functional properties
and individuals known to be distinct."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from rdflib import Graph, URIRef
from rdflib.collection import Collection

from .definitions import And, Expr, Named, OneOf, Or, parse_expression
from .namespaces import OWL, RDF, RDFS


@dataclass(frozen=True)
class TBox:
    sub: dict[URIRef, frozenset[URIRef]]  # A -> every named B with B ⊑ A (A included)
    sup: dict[URIRef, frozenset[URIRef]]  # A -> every named B with A ⊑ B (A included)
    definitions: dict[URIRef, tuple[Expr, ...]]  # A -> expressions E with A ≡ E
    disjoint: dict[URIRef, frozenset[URIRef]]  # A -> every named B disjoint with A (through hierarchy)
    domain_of: dict[URIRef, frozenset[URIRef]]  # property -> its named domains
    range_of: dict[URIRef, frozenset[URIRef]]  # property -> its named ranges
    functional: frozenset[URIRef]
    distinct: dict[URIRef, frozenset[URIRef]]  # individual -> individuals declared different from it
    types: dict[URIRef, frozenset[URIRef]]  # the ontology's own individuals -> all their named classes

    def types_of(self, individual: URIRef) -> frozenset[URIRef]:
        return self.types.get(individual, frozenset())

    def subclasses(self, cls: URIRef) -> frozenset[URIRef]:
        return self.sub.get(cls, frozenset({cls}))

    def superclasses(self, cls: URIRef) -> frozenset[URIRef]:
        return self.sup.get(cls, frozenset({cls}))

    def disjoint_with(self, cls: URIRef) -> frozenset[URIRef]:
        return self.disjoint.get(cls, frozenset())

    def distinct_from_all(self, members: tuple[URIRef, ...]) -> frozenset[URIRef]:
        """Individuals declared different from every one of `members`."""
        sets = [self.distinct.get(m, frozenset()) for m in members]
        return frozenset.intersection(*sets) if sets else frozenset()


def analyse(graph: Graph) -> TBox:
    """Read the axioms the compiler uses from an ontology graph (core + definitions)."""
    direct: dict[URIRef, set[URIRef]] = defaultdict(set)  # A -> direct named superclasses
    definitions: dict[URIRef, list[Expr]] = defaultdict(list)
    classes: set[URIRef] = {c for c in graph.subjects(RDF.type, OWL.Class) if isinstance(c, URIRef)}

    for a, b in graph.subject_objects(RDFS.subClassOf):
        if isinstance(a, URIRef) and isinstance(b, URIRef):
            direct[a].add(b)
            classes |= {a, b}
    for a, e in graph.subject_objects(OWL.equivalentClass):
        if not isinstance(a, URIRef):
            continue
        if isinstance(e, URIRef):
            direct[a].add(e)
            direct[e].add(a)
            continue
        expr = parse_expression(graph, e, "ontology")
        definitions[a].append(expr)
        if isinstance(expr, And):  # A ≡ B ⊓ ... gives A ⊑ B
            direct[a].update(p.iri for p in expr.parts if isinstance(p, Named))
        if isinstance(expr, Or):  # A ≡ B ⊔ ... gives B ⊑ A
            for p in expr.parts:
                if isinstance(p, Named):
                    direct[p.iri].add(a)

    sup: dict[URIRef, set[URIRef]] = {}
    for cls in classes | set(direct):
        seen, todo = {cls}, [cls]
        while todo:
            for parent in direct.get(todo.pop(), ()):
                if parent not in seen:
                    seen.add(parent)
                    todo.append(parent)
        sup[cls] = seen
    sub: dict[URIRef, set[URIRef]] = defaultdict(set)
    for cls, parents in sup.items():
        for parent in parents:
            sub[parent].add(cls)

    declared: dict[URIRef, set[URIRef]] = defaultdict(set)
    for a, b in graph.subject_objects(OWL.disjointWith):
        if isinstance(a, URIRef) and isinstance(b, URIRef):
            declared[a].add(b)
            declared[b].add(a)
    for node in graph.subjects(RDF.type, OWL.AllDisjointClasses):
        members = [m for m in Collection(graph, graph.value(node, OWL.members)) if isinstance(m, URIRef)]
        for m in members:
            declared[m].update(x for x in members if x != m)
    disjoint: dict[URIRef, frozenset[URIRef]] = {}
    for cls in sup:
        found: set[URIRef] = set()
        for parent in sup[cls]:
            for other in declared.get(parent, ()):
                found |= sub.get(other, {other})
        disjoint[cls] = frozenset(found)

    distinct: dict[URIRef, set[URIRef]] = defaultdict(set)
    for node in graph.subjects(RDF.type, OWL.AllDifferent):
        members = [m for m in Collection(graph, graph.value(node, OWL.distinctMembers)) if isinstance(m, URIRef)]
        for m in members:
            distinct[m].update(x for x in members if x != m)
    for a, b in graph.subject_objects(OWL.differentFrom):
        if isinstance(a, URIRef) and isinstance(b, URIRef):
            distinct[a].add(b)
            distinct[b].add(a)

    def named(prop: URIRef) -> dict[URIRef, frozenset[URIRef]]:
        out: dict[URIRef, set[URIRef]] = defaultdict(set)
        for p, c in graph.subject_objects(prop):
            if isinstance(p, URIRef) and isinstance(c, URIRef):
                out[p].add(c)
        return {p: frozenset(cs) for p, cs in out.items()}

    types: dict[URIRef, set[URIRef]] = defaultdict(set)
    for ind in graph.subjects(RDF.type, OWL.NamedIndividual):
        for cls in graph.objects(ind, RDF.type):
            if isinstance(ind, URIRef) and isinstance(cls, URIRef) and cls != OWL.NamedIndividual:
                types[ind] |= sup.get(cls, {cls})

    return TBox(
        sub={k: frozenset(v) for k, v in sub.items()},
        sup={k: frozenset(v) for k, v in sup.items()},
        definitions={k: tuple(v) for k, v in definitions.items()},
        disjoint=disjoint,
        domain_of=named(RDFS.domain),
        range_of=named(RDFS.range),
        functional=frozenset(p for p in graph.subjects(RDF.type, OWL.FunctionalProperty) if isinstance(p, URIRef)),
        distinct={k: frozenset(v) for k, v in distinct.items()},
        types={k: frozenset(v) for k, v in types.items()},
    )


def one_of_members(tbox: TBox, cls: URIRef) -> tuple[URIRef, ...] | None:
    """The members if `cls` is defined as an enumeration of individuals."""
    for expr in tbox.definitions.get(cls, ()):
        if isinstance(expr, OneOf):
            return expr.members
    return None
