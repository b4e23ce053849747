"""Scenario files (`--assume FILE`): hypothetical claims a user adds to the evidence to see what changes.

    # what if Iran and Russia signed a mutual security agreement?
    entities:                      # optional: new things the assumptions talk about
      iran-russia-pact:
        a: MutualSecurityAgreement
        label: Iran–Russia mutual security agreement
        hasParty: [iran, russia]
    claims:
      - id: assume-pact
        text: Iran and Russia sign a mutual security agreement.
        statements:
          - [iran-russia, hasInstitutionalBasis, iran-russia-pact]

Statements use the same terms and entity ids as the ledger (see data/README.md). Assumed claims are
compiled like ledger claims, typed `ag:Assumption`, and only ever added to an in-memory copy of the store.
"""

from __future__ import annotations

from pathlib import Path

import pyoxigraph
from rdflib import Dataset, Literal, URIRef

from .errors import InputError, InputErrors, Location
from .ledger import Entity, Statement, _check_id, _Reader, read_entity, read_statements
from .namespaces import AG, DCTERMS, ENTITIES_GRAPH, ID, NP, PROV, RDF, RDFS, SOURCES_GRAPH
from .ontology import vocabulary
from .rdf import assertion_triples, claim_graphs, claim_iri, entity_triples
from .reason import SCENARIO_GRAPH, ClaimsBundle
from .yamlio import YList, YMap

ASSUMER = ID["agent/scenario-user"]


def known_ids(store: pyoxigraph.Store) -> dict[str, URIRef]:
    """Entity and agent ids of the built ledger, to their IRIs."""
    query = f"""SELECT ?node ?id WHERE {{
        {{ GRAPH <{ENTITIES_GRAPH}> {{ ?node <{DCTERMS.identifier}> ?id }} }}
        UNION {{ GRAPH <{SOURCES_GRAPH}> {{ ?node a ?t ; <{RDFS.label}> ?l
                 FILTER(?t IN (<{PROV.Person}>, <{PROV.Organization}>))
                 BIND(REPLACE(STR(?node), "^.*/", "") AS ?id) }} }} }}"""
    return {row["id"].value: URIRef(row["node"].value) for row in store.query(query)}


def load_assumptions(path: Path, store: pyoxigraph.Store) -> ClaimsBundle:
    """Read and compile a scenario file against the ledger in `store`.

    :raises InputErrors: with file and line for every problem (unknown term or entity, bad YAML ...).
    """
    reader = _Reader(path.parent, vocabulary())
    ids = known_ids(store)
    top = reader.load(path)
    if top is not None:
        top = reader.mapping(top, "a scenario file", Location(path))
    if top is None or not reader.keys(top, "the scenario file", ["claims"], ["entities"]):
        raise InputErrors(reader.errors or [InputError("empty scenario file", Location(path))])

    entities: list[Entity] = []
    raw_entities = top.get("entities") or YMap()
    new_ids = {str(k) for k in raw_entities}
    known = set(ids) | new_ids
    for key, item in raw_entities.items():
        if not _check_id(reader, key) or (item := reader.mapping(item, f"entity {key!r}", key.location)) is None:
            continue
        if key in ids:
            reader.error(f"entity {key!r} already exists in the ledger; choose a new id", key.location)
        elif (entity := read_entity(reader, key, item, known)) is not None:
            entities.append(entity)

    claims: list[tuple[str, str, list[Statement], Location]] = []
    raw_claims = top["claims"]
    if not isinstance(raw_claims, YList) or not raw_claims:
        reader.error("'claims' must be a non-empty list", raw_claims.location)
        raw_claims = YList()
    for item in raw_claims:
        if (item := reader.mapping(item, "an assumed claim", Location(path))) is None:
            continue
        if not reader.keys(item, "an assumed claim", ["id", "statements"], ["text", "note"]):
            continue
        claim_id = item["id"]
        statements = read_statements(reader, item["statements"], known, f"assumed claim {claim_id}")
        claims.append((f"scenario-{claim_id}", reader.text(item, "text"), statements, item.location))
    if reader.errors:
        raise InputErrors(reader.errors)

    def iri_of(key: str) -> URIRef:
        return ids.get(key) or ID[f"scenario/{key}"]

    dataset = Dataset()
    scenario = dataset.graph(SCENARIO_GRAPH)
    for entity in entities:
        for triple in entity_triples(iri_of, entity, iri_of(entity.id)):
            scenario.add(triple)
    scenario.add((ASSUMER, RDF.type, PROV.Person))
    scenario.add((ASSUMER, RDFS.label, Literal("the user (scenario)")))
    work = ID["work/scenario"]
    scenario.add((work, RDF.type, AG.Work))
    scenario.add((work, DCTERMS.creator, ASSUMER))
    for claim_id, text, statements, location in claims:
        node = claim_iri(claim_id)
        graphs = claim_graphs(claim_id)
        head = dataset.graph(graphs["head"])
        head.add((node, RDF.type, AG.Assumption))
        head.add((node, RDF.type, AG.Claim))
        head.add((node, NP.hasAssertion, graphs["assertion"]))
        assertion = dataset.graph(graphs["assertion"])
        for triple in assertion_triples(iri_of, statements, "hypothetical", node):
            assertion.add(triple)
        prov = dataset.graph(graphs["provenance"])
        prov.add((graphs["assertion"], AG.quote, Literal(text or claim_id)))
        prov.add((graphs["assertion"], AG.modality, AG.hypothetical))
        prov.add((graphs["assertion"], AG.attributionKind, AG.authorial))
        prov.add((graphs["assertion"], AG.fromWork, work))
        prov.add((graphs["assertion"], PROV.wasAttributedTo, ASSUMER))
        pubinfo = dataset.graph(graphs["pubinfo"])
        pubinfo.add((node, AG.claimId, Literal(claim_id)))
        pubinfo.add((node, AG.mediaFile, Literal(str(path))))
        pubinfo.add((node, AG.line, Literal(location.line)))
    nquads = dataset.serialize(format="nquads", encoding="utf-8")
    return ClaimsBundle(nquads=nquads, ids=tuple(c[0] for c in claims))  # type: ignore[arg-type]
