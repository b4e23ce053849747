"""Compile a checked ledger to an RDF dataset.

Named graphs:
- the ontology, the sources (documents with their text, works, agents, passages) and the entities each
  have one graph;
- datasets imported by `allygraph import` (`imports/*.nq`) keep their own graphs: an entities graph
  (`graph/imports/<name>/entities`) and one nanopublication per record;
- each claim is a nanopublication of four graphs: `<claim>/head` lists the others, `<claim>/assertion`
  holds only what the claim states, `<claim>/provenance` says who states it, where it is quoted from
  (Web Annotation selectors per copy), with what modality and date context, and `<claim>/pubinfo` says
  where the claim was written (file and line).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import pyoxigraph
from rdflib import BNode, Dataset, Graph, Literal, URIRef
from rdflib.term import Node

from .errors import InputError, Location
from .ledger import Claim, Entity, Ledger, Statement, Value, parse_date, parse_interval
from .namespaces import (
    AG,
    DCTERMS,
    ENTITIES_GRAPH,
    ID,
    NP,
    OA,
    ONTOLOGY_GRAPH,
    OWL,
    PROV,
    RDF,
    RDFS,
    SOURCES_GRAPH,
    XSD,
    rdflib_term,
)
from .ontology import core_ontology_path

_AGENT_CLASSES = {"Person": PROV.Person, "Organization": PROV.Organization}


def entity_iri(ledger: Ledger, key: str) -> URIRef:
    """The IRI of an entity or agent. States with a COW code get `id/state/<code>`, shared with ATOP."""
    entity = ledger.entities.get(key)
    if entity is not None:
        for prop in entity.properties:
            if prop.predicate == "cowCode":
                return ID[f"state/{int(prop.object.text)}"]
    return ID[key]


def claim_iri(claim_id: str) -> URIRef:
    return ID[f"claim/{claim_id}"]


def claim_graphs(claim_id: str) -> dict[str, URIRef]:
    """The four named graphs of a claim's nanopublication."""
    base = claim_iri(claim_id)
    return {part: URIRef(f"{base}/{part}") for part in ("head", "assertion", "provenance", "pubinfo")}


def document_iri(doc_id: str) -> URIRef:
    return ID[f"document/{doc_id}"]


def work_iri(work_id: str) -> URIRef:
    return ID[f"work/{work_id}"]


def compile_ledger(ledger: Ledger, *, ontology: Graph | None = None) -> Dataset:
    """The whole ledger as a dataset of named graphs (see the module docstring)."""
    dataset = Dataset()
    _bind(dataset)
    onto = dataset.graph(ONTOLOGY_GRAPH)
    if ontology is None:
        onto.parse(core_ontology_path(), format="turtle")
        onto.parse(core_ontology_path().with_name("results.ttl"), format="turtle")
    else:
        for triple in ontology:
            onto.add(triple)
    _sources(ledger, dataset.graph(SOURCES_GRAPH))
    entities = dataset.graph(ENTITIES_GRAPH)
    for entity in ledger.entities.values():
        _entity(ledger, entity, entities)
    for claim in ledger.claims.values():
        _claim(ledger, claim, dataset)
    for path in ledger.imports:
        _import(path, dataset)
    return dataset


def _import(path: Path, dataset: Dataset) -> None:
    """An imported dataset (N-Quads written by `allygraph import`), its graphs added as they are."""
    try:
        for quad in pyoxigraph.parse(path=str(path), format=pyoxigraph.RdfFormat.N_QUADS):
            dataset.add(tuple(rdflib_term(t) for t in (quad.subject, quad.predicate, quad.object, quad.graph_name)))
    except SyntaxError as exc:
        line = getattr(exc, "lineno", None)
        raise InputError(
            f"not valid N-Quads: {exc.msg if hasattr(exc, 'msg') else exc}", Location(path, line)
        ) from None
    except OSError as exc:
        raise InputError(f"cannot read the import: {exc.strerror}", Location(path)) from None
    except TypeError as exc:
        raise InputError(f"{exc} in an import", Location(path)) from None


def _bind(dataset: Dataset) -> None:
    for prefix, ns in (("ag", AG), ("id", ID), ("oa", OA), ("np", NP), ("prov", PROV), ("dct", DCTERMS)):
        dataset.bind(prefix, ns)


def _date_literal(text: str) -> Literal:
    lexical, datatype = parse_date(text)
    return Literal(lexical, datatype=XSD[datatype])


def _sources(ledger: Ledger, g: Graph) -> None:
    for agent in ledger.agents.values():
        node = ID[agent.id]
        g.add((node, RDF.type, _AGENT_CLASSES[agent.kind]))
        g.add((node, RDFS.label, Literal(agent.label)))
        if agent.note:
            g.add((node, AG.note, Literal(agent.note)))
    for work in ledger.works.values():
        node = work_iri(work.id)
        g.add((node, RDF.type, AG.Work))
        g.add((node, DCTERMS.title, Literal(work.title)))
        g.add((node, DCTERMS.creator, ID[work.creator]))
        g.add((node, DCTERMS.identifier, Literal(work.id)))
        if work.publisher:
            g.add((node, DCTERMS.publisher, Literal(work.publisher)))
        if work.issued:
            g.add((node, DCTERMS.issued, _date_literal(work.issued)))
        if work.note:
            g.add((node, AG.note, Literal(work.note)))
    for doc in ledger.documents.values():
        node = document_iri(doc.id)
        g.add((node, RDF.type, AG.SourceDocument))
        g.add((node, DCTERMS.identifier, Literal(doc.id)))
        g.add((node, DCTERMS.title, Literal(doc.title)))
        g.add((node, AG.mediaFile, Literal(doc.file)))
        g.add((node, AG.text, Literal(doc.text)))
        for key, value in (("publisher", doc.publisher), ("note", doc.note)):
            if value:
                g.add((node, DCTERMS.publisher if key == "publisher" else AG.note, Literal(value)))
        if doc.issued:
            g.add((node, DCTERMS.issued, _date_literal(doc.issued)))
        for number, passage in enumerate(doc.passages, start=1):
            work = work_iri(passage.work)
            g.add((node, AG.carriesWork, work))
            if len(doc.passages) == 1:
                g.add((node, DCTERMS.isVersionOf, work))
            part = URIRef(f"{node}/passage/{number}")
            selector = URIRef(f"{part}/position")
            g.add((node, AG.hasPassage, part))
            g.add((part, RDF.type, AG.Passage))
            g.add((part, DCTERMS.isPartOf, node))
            g.add((part, AG.carriesWork, work))
            g.add((part, RDFS.label, Literal(f"lines {passage.lines}")))
            g.add((part, OA.hasSelector, selector))
            g.add((selector, RDF.type, OA.TextPositionSelector))
            g.add((selector, OA.start, Literal(passage.start)))
            g.add((selector, OA.end, Literal(passage.end)))


def _location(ledger: Ledger, node: URIRef, location: Location, g: Graph) -> None:
    g.add((node, AG.mediaFile, Literal(ledger.relpath(Path(location.path)))))
    g.add((node, AG.line, Literal(location.line)))


def _entity(ledger: Ledger, entity: Entity, g: Graph) -> None:
    node = entity_iri(ledger, entity.id)
    for triple in entity_triples(lambda key: entity_iri(ledger, key), entity, node):
        g.add(triple)
    _location(ledger, node, entity.location, g)


def entity_triples(iri_of: IriOf, entity: Entity, node: URIRef) -> Iterator[tuple[Node, Node, Node]]:
    """An entity's types, label, identifier and properties."""
    for name in entity.types:
        yield node, RDF.type, _AGENT_CLASSES.get(name, AG[name])
    yield node, RDFS.label, Literal(entity.label)
    yield node, DCTERMS.identifier, Literal(entity.id)
    for statement in entity.properties:
        yield from _asserted(iri_of, statement, node, mint=lambda n: URIRef(f"{node}/some/{n}"))


def assertion_triples(
    iri_of: IriOf, statements: Iterable[Statement], modality: str, claim: URIRef
) -> Iterator[tuple[Node, Node, Node]]:
    """The content of a claim's assertion graph: its statements, negated if the claim denies them."""
    counter = iter(range(1, 1_000_000))
    for statement in statements:
        subject = iri_of(statement.subject)
        if modality == "denied":
            yield from _denied(iri_of, statement, subject)
        else:
            yield from _asserted(iri_of, statement, subject, mint=lambda _name: URIRef(f"{claim}/some/{next(counter)}"))


IriOf = Callable[[str], URIRef]


def _object(iri_of: IriOf, value: Value) -> Node:
    if value.kind == "entity":
        return iri_of(value.text)
    if value.kind in ("individual", "class"):
        return AG[value.text]
    return Literal(value.text, datatype=XSD[value.datatype]) if value.datatype else Literal(value.text)


def _asserted(
    iri_of: IriOf, s: Statement, subject: URIRef, *, mint: Callable[[str], URIRef]
) -> Iterator[tuple[Node, Node, Node]]:
    """Triples stating `s` as true. A class in object position means 'some member of the class'."""
    if s.predicate == "a":
        yield subject, RDF.type, _AGENT_CLASSES.get(s.object.text, AG[s.object.text])
    elif s.object.kind == "class":
        some = mint(s.object.text)
        yield subject, AG[s.predicate], some
        yield some, RDF.type, AG[s.object.text]
        yield some, RDFS.label, Literal(f"some {s.object.text} (unnamed)")
    else:
        yield subject, AG[s.predicate], _object(iri_of, s.object)


def _denied(iri_of: IriOf, s: Statement, subject: URIRef) -> Iterator[tuple[Node, Node, Node]]:
    """Triples stating `s` is false, in OWL 2: a class complement or a negative property assertion."""
    if s.predicate == "a" or s.object.kind == "class":
        complement = BNode()
        yield subject, RDF.type, complement
        yield complement, RDF.type, OWL.Class
        if s.predicate == "a":
            yield complement, OWL.complementOf, AG[s.object.text]
            return
        restriction = BNode()
        yield complement, OWL.complementOf, restriction
        yield restriction, RDF.type, OWL.Restriction
        yield restriction, OWL.onProperty, AG[s.predicate]
        yield restriction, OWL.someValuesFrom, AG[s.object.text]
        return
    negative = BNode()
    yield negative, RDF.type, OWL.NegativePropertyAssertion
    yield negative, OWL.sourceIndividual, subject
    yield negative, OWL.assertionProperty, AG[s.predicate]
    target = OWL.targetValue if s.object.kind == "literal" else OWL.targetIndividual
    yield negative, target, _object(iri_of, s.object)


def _claim(ledger: Ledger, claim: Claim, dataset: Dataset) -> None:
    node = claim_iri(claim.id)
    graphs = claim_graphs(claim.id)
    head = dataset.graph(graphs["head"])
    head.add((node, RDF.type, NP.Nanopublication))
    head.add((node, RDF.type, AG.Claim))
    head.add((node, NP.hasAssertion, graphs["assertion"]))
    head.add((node, NP.hasProvenance, graphs["provenance"]))
    head.add((node, NP.hasPublicationInfo, graphs["pubinfo"]))

    assertion = dataset.graph(graphs["assertion"])
    for triple in assertion_triples(lambda key: entity_iri(ledger, key), claim.statements, claim.modality, node):
        assertion.add(triple)

    prov = dataset.graph(graphs["provenance"])
    subject = graphs["assertion"]
    work = ledger.works[claim.work]
    author = ID[work.creator]
    prov.add((subject, AG.quote, Literal(claim.quote)))
    prov.add((subject, AG.modality, AG[claim.modality]))
    prov.add((subject, AG.fromWork, work_iri(claim.work)))
    if claim.attribution == "author":
        prov.add((subject, AG.attributionKind, AG.authorial))
        prov.add((subject, PROV.wasAttributedTo, author))
    else:
        prov.add((subject, AG.attributionKind, AG.reportedSpeech))
        prov.add((subject, AG.reportedSpeaker, entity_iri(ledger, claim.attribution)))
        prov.add((subject, PROV.wasAttributedTo, author))
    if claim.when:
        start, end = parse_interval(claim.when)
        prov.add((subject, AG.startDate, _date_literal(start)))
        prov.add((subject, AG.endDate, _date_literal(end)))
    if claim.when_text:
        prov.add((subject, AG.dateText, Literal(claim.when_text)))
    annotation = URIRef(f"{node}/annotation")
    prov.add((annotation, RDF.type, OA.Annotation))
    prov.add((annotation, OA.hasBody, node))
    for anchored in claim.anchors:
        doc = document_iri(anchored.document)
        target = URIRef(f"{node}/anchor/{anchored.document}")
        quote_selector, position_selector = URIRef(f"{target}/quote"), URIRef(f"{target}/position")
        a = anchored.anchor
        prov.add((subject, PROV.wasQuotedFrom, doc))
        prov.add((subject, AG.hasAnchor, target))
        prov.add((annotation, OA.hasTarget, target))
        prov.add((target, RDF.type, OA.SpecificResource))
        prov.add((target, OA.hasSource, doc))
        prov.add((target, OA.hasSelector, quote_selector))
        prov.add((target, OA.hasSelector, position_selector))
        prov.add((quote_selector, RDF.type, OA.TextQuoteSelector))
        prov.add((quote_selector, OA.exact, Literal(a.exact)))
        prov.add((quote_selector, OA.prefix, Literal(a.prefix)))
        prov.add((quote_selector, OA.suffix, Literal(a.suffix)))
        prov.add((position_selector, RDF.type, OA.TextPositionSelector))
        prov.add((position_selector, OA.start, Literal(a.start)))
        prov.add((position_selector, OA.end, Literal(a.end)))

    pubinfo = dataset.graph(graphs["pubinfo"])
    pubinfo.add((node, AG.claimId, Literal(claim.id)))
    _location(ledger, node, claim.location, pubinfo)
    if claim.note:
        pubinfo.add((node, AG.note, Literal(claim.note)))
