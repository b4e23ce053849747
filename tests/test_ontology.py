"""The core ontology: consistent under HermiT, in OWL 2 DL, documented, and resolvable offline.

The tests that start the JVM (HermiT, the OWL API) are marked slow.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, SKOS

from allygraph.profile import ProfileCheckError, dl_violations
from conftest import ONTOLOGY_DIR

CORE = ONTOLOGY_DIR / "allygraph.ttl"
CATALOG = ONTOLOGY_DIR / "catalog-v001.xml"
AG = "https://w3id.org/allygraph/ontology#"
SOURCE = DCTERMS.source
ONTOLOGY_IRI = URIRef("https://w3id.org/allygraph/ontology")

# Deliberately outside OWL 2 DL: a property that is both an object and a data property, and a
# transitive (non-simple) property in a cardinality restriction.
NOT_DL = """\
@prefix : <http://example.org/not-dl#> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
<http://example.org/not-dl> a owl:Ontology .
:both a owl:ObjectProperty , owl:DatatypeProperty .
:ancestorOf a owl:ObjectProperty , owl:TransitiveProperty .
:Lonely a owl:Class ; rdfs:subClassOf [ a owl:Restriction ; owl:onProperty :ancestorOf ; owl:maxCardinality 1 ] .
"""


def core() -> Graph:
    return Graph().parse(CORE, format="turtle")


# ----------------------------------------------------------------------------------------------------
# HermiT through owlready2
# ----------------------------------------------------------------------------------------------------


def reason(turtle: Graph, tmp_path: Path) -> list[object]:
    """Load `turtle` into a fresh owlready2 World (as N-Triples), run HermiT; the unsatisfiable classes
    (other than owl:Nothing, which always is)."""
    import owlready2

    path = tmp_path / "ontology.nt"
    turtle.serialize(path, format="nt", encoding="utf-8")
    world = owlready2.World()
    world.get_ontology(path.as_uri()).load()
    owlready2.sync_reasoner_hermit(world, infer_property_values=False, debug=0)
    return [c for c in world.inconsistent_classes() if c is not owlready2.Nothing]


@pytest.mark.slow
def test_core_ontology_is_consistent_under_hermit(tmp_path: Path) -> None:
    graph = core()
    assert len(graph) > 100
    assert reason(graph, tmp_path) == []


@pytest.mark.slow
def test_hermit_finds_an_unsatisfiable_class(tmp_path: Path) -> None:
    """The check above can fail: a class below two disjoint classes is reported."""
    graph = core()
    graph.parse(
        data=f"""
        @prefix ag: <{AG}> . @prefix owl: <http://www.w3.org/2002/07/owl#> .
        @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
        ag:StateAndBloc a owl:Class ; rdfs:subClassOf ag:State , ag:Bloc .""",
        format="turtle",
    )
    assert [str(c.iri) for c in reason(graph, tmp_path)] == [AG + "StateAndBloc"]  # type: ignore[attr-defined]


@pytest.mark.slow
def test_hermit_finds_an_inconsistent_ontology(tmp_path: Path) -> None:
    import owlready2

    graph = core()
    graph.parse(
        data=f"""
        @prefix ag: <{AG}> . @prefix owl: <http://www.w3.org/2002/07/owl#> .
        ag:notAThreat a owl:NamedIndividual , ag:StateThreat , ag:NonStateThreat .""",
        format="turtle",
    )
    with pytest.raises(owlready2.OwlReadyInconsistentOntologyError):
        reason(graph, tmp_path)


# ----------------------------------------------------------------------------------------------------
# OWL 2 DL profile (the OWL API inside HermiT.jar)
# ----------------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_core_ontology_is_owl2_dl() -> None:
    assert dl_violations(CORE) == []


@pytest.mark.slow
def test_non_dl_ontology_has_violations(tmp_path: Path) -> None:
    path = tmp_path / "not-dl.nt"
    Graph().parse(data=NOT_DL, format="turtle").serialize(path, format="nt", encoding="utf-8")
    violations = dl_violations(path)
    assert any("http://example.org/not-dl#both" in v for v in violations), violations
    assert any("http://example.org/not-dl#ancestorOf" in v for v in violations), violations


@pytest.mark.slow
def test_rdf_xml_is_checked_as_it_is(tmp_path: Path) -> None:
    path = tmp_path / "not-dl.rdf"
    Graph().parse(data=NOT_DL, format="turtle").serialize(path, format="xml", encoding="utf-8")
    assert dl_violations(path)


@pytest.mark.slow
def test_unreadable_ontology_is_an_error_not_a_pass(tmp_path: Path) -> None:
    path = tmp_path / "broken.rdf"
    path.write_text("<rdf:RDF this is not XML", encoding="utf-8")
    with pytest.raises(ProfileCheckError):
        dl_violations(path)


def test_missing_java_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty folder: no java anywhere on PATH
    with pytest.raises(ProfileCheckError, match="Java"):
        dl_violations(CORE)


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ProfileCheckError, match="no such file"):
        dl_violations(tmp_path / "absent.ttl")


# ----------------------------------------------------------------------------------------------------
# Documentation and metadata
# ----------------------------------------------------------------------------------------------------


def test_every_term_has_label_definition_and_source() -> None:
    graph = core()
    kinds = (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty)
    terms = {s for kind in kinds for s in graph.subjects(RDF.type, kind) if str(s).startswith(AG)}
    assert len(terms) > 50
    missing = [
        f"{term} has no {name}"
        for term in sorted(terms)
        for name, prop in (("rdfs:label", RDFS.label), ("skos:definition", SKOS.definition), ("dct:source", SOURCE))
        if graph.value(term, prop) is None
    ]
    assert missing == []


def test_every_ag_term_used_is_declared() -> None:
    graph = core()
    declared = {s for s, _, _ in graph.triples((None, RDF.type, None)) if str(s).startswith(AG)}
    used = {t for triple in graph for t in triple if isinstance(t, URIRef) and str(t).startswith(AG)}
    assert used - declared == set()


def test_ontology_has_a_version_iri() -> None:
    graph = core()
    assert (ONTOLOGY_IRI, RDF.type, OWL.Ontology) in graph
    version_iri = graph.value(ONTOLOGY_IRI, OWL.versionIRI)
    assert isinstance(version_iri, URIRef)
    assert str(version_iri).startswith(str(ONTOLOGY_IRI) + "/")
    info = graph.value(ONTOLOGY_IRI, OWL.versionInfo)
    assert info is not None and str(version_iri).endswith(str(info))


def catalog_entries() -> list[tuple[str, Path]]:
    root = ET.parse(CATALOG).getroot()
    namespace = "{urn:oasis:names:tc:entity:xmlns:xml:catalog}"
    assert root.tag == f"{namespace}catalog"
    return [(e.attrib["name"], CATALOG.parent / e.attrib["uri"]) for e in root.iter(f"{namespace}uri")]


def test_catalog_maps_every_iri_to_a_file_that_declares_it() -> None:
    assert CATALOG.is_file(), "ontology/catalog-v001.xml is missing"
    entries = catalog_entries()
    assert entries
    for name, path in entries:
        assert path.is_file(), f"the catalog maps {name} to {path}, which does not exist"
        graph = Graph().parse(path, format="turtle" if path.suffix == ".ttl" else None)
        ontologies = set(graph.subjects(RDF.type, OWL.Ontology))
        iris = {str(o) for o in ontologies} | {str(v) for o in ontologies for v in graph.objects(o, OWL.versionIRI)}
        assert name in iris, f"{path.name} does not declare the ontology {name} the catalog maps to it"


def test_catalog_covers_the_core_ontology_and_its_version() -> None:
    assert CATALOG.is_file(), "ontology/catalog-v001.xml is missing"
    names = {name for name, _ in catalog_entries()}
    version_iri = core().value(ONTOLOGY_IRI, OWL.versionIRI)
    assert {str(ONTOLOGY_IRI), str(version_iri)} <= names
