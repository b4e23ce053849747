"""allygraph's SHACL engine (allygraph.shacl, on pyoxigraph) against pySHACL, the reference engine.

Both engines validate the same data with the same shapes and must report the same results: focus node,
source shape, constraint component, result path, value and messages. The data: the bundled corpus,
every broken mini dataset of test_shapes.CASES, a synthetic ledger with planted violations, and a small
crafted graph with one violation of each constraint kind the engine supports (with its own shapes).
"""

from __future__ import annotations

import subprocess
import sys
from collections import Counter

import pyshacl
import pytest
from rdflib import BNode, Dataset, Graph, Literal, URIRef
from rdflib.namespace import RDF, SH, XSD
from rdflib.term import Node

from allygraph import compile_ledger, load_ledger
from allygraph.shacl import ShaclEngine, UnsupportedShape
from allygraph.validate import _shape_name, shapes_graph, to_store, union, validate, validate_store
from conftest import REPO
from test_shapes import AG, CASES, Case, assertion, claim, fresh_dataset, template

Key = tuple[object, ...]


def _norm(term: Node | None) -> object:
    if term is None:
        return None
    if isinstance(term, BNode):
        return "_:"  # blank node labels differ between the engines' stores
    if isinstance(term, Literal):
        return (str(term), str(term.datatype or XSD.string), term.language)
    return str(term)


def reference(data: Dataset | Graph, shapes: Graph) -> Counter[Key]:
    graph = union(data) if isinstance(data, Dataset) else data
    _conforms, results, _text = pyshacl.validate(
        graph, shacl_graph=shapes, inference="none", allow_warnings=True, advanced=True
    )
    found: Counter[Key] = Counter()
    details = set(results.objects(None, SH.detail))  # nested results pySHACL attaches to an sh:node result
    for r in set(results.subjects(RDF.type, SH.ValidationResult)) - details:
        found[
            (
                _norm(results.value(r, SH.focusNode)),
                _shape_name(shapes, results.value(r, SH.sourceShape)),
                str(results.value(r, SH.sourceConstraintComponent)),
                str(results.value(r, SH.resultSeverity)),
                _norm(results.value(r, SH.resultPath)),
                _norm(results.value(r, SH.value)),
                frozenset(str(m) for m in results.objects(r, SH.resultMessage)),
            )
        ] += 1
    return found


def ours(data: Dataset | Graph, shapes: Graph) -> Counter[Key]:
    found: Counter[Key] = Counter()
    for r in ShaclEngine(shapes).validate(to_store(data)):
        found[
            (
                _norm(r.focus),
                _shape_name(shapes, r.shape),
                str(r.component),
                str(r.severity),
                _norm(r.path),
                _norm(r.value),
                frozenset(r.messages),
            )
        ] += 1
    return found


def difference(expected: Counter[Key], actual: Counter[Key]) -> str:
    missing, extra = expected - actual, actual - expected
    lines = [f"missed (pySHACL found): {k}" for k in missing] + [f"extra (pySHACL did not find): {k}" for k in extra]
    return "\n".join(lines)


def assert_same(data: Dataset | Graph, shapes: Graph | None = None) -> Counter[Key]:
    shapes = shapes if shapes is not None else shapes_graph()
    expected, actual = reference(data, shapes), ours(data, shapes)
    assert expected == actual, difference(expected, actual)
    return actual


def assert_same_report(data: Dataset) -> None:
    """validate() reports the same located violations, in the same order, with either engine."""
    ours_, theirs = validate(data), validate(data, engine="pyshacl")
    assert ours_.violations == theirs.violations, "\n".join(
        [f"ours only: {v!r}" for v in ours_.violations if v not in theirs.violations]
        + [f"pyshacl only: {v!r}" for v in theirs.violations if v not in ours_.violations]
    )


# ----------------------------------------------------------------------------------------------------
# The bundled shapes
# ----------------------------------------------------------------------------------------------------


def test_mini_dataset_agrees() -> None:
    assert assert_same(fresh_dataset()) == Counter()


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_every_broken_case_agrees(case: Case) -> None:
    dataset = fresh_dataset()
    case.mutate(dataset)
    found = assert_same(dataset)
    assert found, "the broken dataset must have at least one violation"
    assert_same_report(dataset)


def test_corpus_agrees() -> None:
    dataset = compile_ledger(load_ledger(REPO / "data"))
    assert_same(dataset)
    assert_same_report(dataset)


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    """A synthetic ledger (benchmarks/synthetic.py, 150 relationships) with violations planted in it."""
    out = tmp_path_factory.mktemp("synthetic") / "s.nq"
    script = REPO / "benchmarks" / "synthetic.py"
    subprocess.run([sys.executable, str(script), "150", str(out), "--seed", "3"], check=True, capture_output=True)
    dataset = Dataset()
    dataset.parse(out, format="nquads")
    claims = sorted({s for s, _p, _o, _g in dataset.quads((None, AG.claimId, None, None))}, key=str)
    assert len(claims) > 20
    g = URIRef("https://w3id.org/allygraph/graph/planted")
    for i, c in enumerate(claims[:12]):
        cid = str(c).rsplit("/", 1)[1]
        a = assertion(cid)
        if i == 0:
            dataset.remove((c, AG.line, None, None))
        elif i == 1:
            dataset.add((c, AG.line, Literal("twelve", datatype=XSD.integer), g))
        elif i == 2:
            dataset.remove((a, AG.modality, None, None))
            dataset.add((a, AG.modality, AG.probable, g))
        elif i == 3:
            dataset.add((a, AG.fromWork, URIRef("https://w3id.org/allygraph/id/work/nowhere"), g))
        elif i == 4:
            dataset.remove((a, AG.attributionKind, None, None))
            dataset.add((a, AG.attributionKind, AG.reportedSpeech, g))
        elif i == 5:
            dataset.add((c, AG.claimId, Literal(cid + "-again"), g))
        elif i == 6:
            for q in list(dataset.quads((a, AG.hasAnchor, None, None))):
                dataset.remove(q)
    assert claim("x") != claims[0]
    return dataset


def test_synthetic_ledger_agrees(synthetic: Dataset) -> None:
    found = assert_same(synthetic)
    assert sum(found.values()) >= 7
    assert_same_report(synthetic)


# ----------------------------------------------------------------------------------------------------
# Every constraint kind, on shapes of its own
# ----------------------------------------------------------------------------------------------------

PREFIXES = """
@prefix sh:  <http://www.w3.org/ns/shacl#> .
@prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix ex:  <http://example.org/> .
"""

SHAPES = (
    PREFIXES
    + """
ex: a owl:Ontology ; sh:declare [ sh:prefix "ex" ; sh:namespace "http://example.org/"^^xsd:anyURI ] .

ex:PersonShape a sh:NodeShape ;
    sh:targetClass ex:Person ;
    sh:property
        [ sh:path ex:name ; sh:minCount 1 ; sh:maxCount 1 ; sh:datatype xsd:string ; sh:message "name count/type" ] ,
        [ sh:path ex:name ; sh:minLength 2 ; sh:maxLength 10 ; sh:message "name length" ] ,
        [ sh:path ex:name ; sh:pattern "^[A-Z]" ; sh:message "name pattern" ] ,
        [ sh:path ex:code ; sh:pattern "^x-[0-9]+$" ; sh:flags "i" ; sh:message "code pattern" ] ,
        [ sh:path ex:age ; sh:datatype xsd:integer ; sh:message "age type" ] ,
        [ sh:path ex:age ; sh:minInclusive 0 ; sh:maxExclusive 150 ; sh:message "age range" ] ,
        [ sh:path ex:score ; sh:minExclusive 0.0 ; sh:maxInclusive 10 ; sh:message "score range" ] ,
        [ sh:path ex:born ; sh:datatype xsd:date ; sh:message "born type" ] ,
        [ sh:path ex:flag ; sh:datatype xsd:boolean ; sh:message "flag type" ] ,
        [ sh:path ex:label ; sh:languageIn ( "en" "fr" ) ; sh:message "label language" ] ,
        [ sh:path ex:knows ; sh:nodeKind sh:IRI ; sh:class ex:Person ; sh:message "knows" ] ,
        [ sh:path ( ex:knows ex:name ) ; sh:minCount 1 ; sh:message "sequence path" ] ,
        [ sh:path [ sh:inversePath ex:parent ] ; sh:maxCount 2 ; sh:message "inverse path" ] ,
        [ sh:path [ sh:alternativePath ( ex:email ex:phone ) ] ; sh:minCount 1 ; sh:message "alternative path" ] ,
        [ sh:path [ sh:zeroOrMorePath ex:parent ] ; sh:node ex:NamedShape ; sh:message "ancestors named" ] ,
        [ sh:path [ sh:oneOrMorePath ex:parent ] ; sh:qualifiedValueShape [ sh:class ex:Person ] ;
          sh:qualifiedMaxCount 2 ; sh:message "at most two ancestors" ] ,
        [ sh:path [ sh:zeroOrOnePath ex:friend ] ; sh:minCount 2 ; sh:message "self or a friend" ] ,
        [ sh:path ex:pet ; sh:xone ( [ sh:class ex:Dog ] [ sh:class ex:Cat ] ) ; sh:message "one kind of pet" ] ,
        [ sh:path ex:pet ; sh:and ( [ sh:nodeKind sh:IRI ] [ sh:property [ sh:path ex:petName ; sh:minCount 1 ] ] ) ;
          sh:message "pets are named" ] ,
        [ sh:path ex:status ; sh:in ( ex:active "retired" 1 ) ; sh:message "status" ] ,
        [ sh:path ex:role ; sh:hasValue ex:member ; sh:message "member" ] ,
        [ sh:path ex:nick ; sh:sparql [ sh:prefixes ex: ;
              sh:select "SELECT $this ?value WHERE { $this $PATH ?value FILTER (STRLEN(?value) > 5) }" ;
              sh:message "nick {?value} of {$this} too long" ] ] ;
    sh:sparql [ sh:prefixes ex: ;
        sh:select "SELECT $this ?years WHERE { $this ex:years ?years . FILTER (?years > 100) }" ;
        sh:message "{$this} is {?years}" ] ,
      [ sh:prefixes ex: ;
        sh:select "SELECT $this (COUNT(?k) AS ?n) WHERE { $this ex:knows ?k } GROUP BY $this HAVING (COUNT(?k) > 2)" ;
        sh:message "knows {?n} people" ] ,
      [ sh:prefixes ex: ;
        sh:select '''SELECT ?value WHERE {
            { SELECT $this ?value WHERE { $this ex:phone ?value FILTER (STRLEN(?value) < 3) } } }''' ;
        sh:message "short phone {?value}" ] .

ex:NamedShape a sh:NodeShape ; sh:property [ sh:path ex:name ; sh:minCount 1 ] .

ex:Robot a rdfs:Class, sh:NodeShape ;
    sh:property [ sh:path ex:serial ; sh:minCount 1 ; sh:message "implicit class target" ] .

ex:AliceShape a sh:NodeShape ;
    sh:targetNode ex:alice, ex:ghost, ex:r3 ;
    sh:hasValue ex:alice ;
    sh:not [ sh:class ex:Robot ] ;
    sh:message "alice" .

ex:MailerShape a sh:NodeShape ;
    sh:targetSubjectsOf ex:email ;
    sh:nodeKind sh:IRI ;
    sh:or ( [ sh:class ex:Person ] [ sh:class ex:Robot ] ) ;
    sh:message "mailers are people or robots" .

ex:PetShape a sh:NodeShape ;
    sh:targetObjectsOf ex:pet ;
    sh:property [ sh:path ex:petName ; sh:maxCount 1 ; sh:severity sh:Warning ; sh:message "a warning" ] ,
                [ sh:path ex:petName ; sh:minCount 5 ; sh:deactivated true ; sh:message "deactivated" ] .
"""
)

DATA = (
    PREFIXES
    + """
ex:Student rdfs:subClassOf ex:Person .
ex:alice a ex:Person ; ex:name "Alice" ; ex:age 30 ; ex:score 5 ; ex:born "1990-01-02"^^xsd:date ;
    ex:flag true ; ex:label "Alice"@en ; ex:knows ex:bob ; ex:email "a@x" ; ex:pet ex:rex ; ex:status ex:active ;
    ex:role ex:member ; ex:nick "al" ; ex:code "X-12" ; ex:friend ex:bob .
ex:rex a ex:Dog ; ex:petName "Rex" , "Rexy" .
ex:bob a ex:Student ; ex:name "b" , "Bobby" ; ex:age "old"^^xsd:integer ; ex:score 0 ; ex:born "2023-02-30"^^xsd:date ;
    ex:flag "true" ; ex:label "Bob"@de , "Bob" ; ex:knows "carol" , ex:carol , ex:dan , ex:alice ;
    ex:phone "12" ; ex:pet ex:tom , _:stray ; ex:status "active" ; ex:nick "bobbybob" ; ex:code "y-1" ;
    ex:parent ex:carol .
ex:tom a ex:Dog , ex:Cat ; ex:petName "Tom" .
_:stray a ex:Dog .
ex:carol a ex:Person ; ex:name "Carol has a long name" ; ex:age 170 ; ex:score 11 ; ex:email "c@x" ;
    ex:status 1 ; ex:role ex:member ; ex:parent ex:erin ; ex:knows ex:alice .
ex:erin a ex:Person ; ex:parent ex:frank .
ex:frank a ex:Student ; ex:parent ex:gina .
ex:kid1 ex:parent ex:carol .
ex:kid2 ex:parent ex:carol .
ex:dan a ex:Person , ex:Robot ; ex:name "Dan" ; ex:email "d@x" ; ex:role ex:member ; ex:years 120 ;
    ex:knows ex:alice , ex:bob , ex:carol .
ex:eve a ex:Person ; ex:name "Eve" .
ex:r2 a ex:Robot ; ex:serial "r2" .
ex:r3 a ex:Robot .
ex:thing ex:email "t@x" .
"""
)


def crafted() -> tuple[Graph, Graph]:
    return Graph().parse(data=DATA, format="turtle"), Graph().parse(data=SHAPES, format="turtle")


def test_every_constraint_kind_agrees() -> None:
    data, shapes = crafted()
    found = assert_same(data, shapes)
    messages = {m for key in found for m in key[-1]}  # type: ignore[attr-defined]
    declared = {str(m) for m in shapes.objects(None, SH.message)} - {"deactivated"}
    silent = {d for d in declared if not any(template(d).fullmatch(m) for m in messages)}
    assert silent == set(), "constraints that found no violation in the crafted data"
    components = {key[2] for key in found}
    for name in (
        "MinCount", "MaxCount", "Datatype", "MinLength", "MaxLength", "Pattern", "MinInclusive", "MaxExclusive",
        "MinExclusive", "MaxInclusive", "LanguageIn", "NodeKind", "Class", "Node", "QualifiedMaxCount", "Xone",
        "And", "In", "HasValue", "SPARQL", "Not", "Or",
    ):  # fmt: skip
        assert str(SH[f"{name}ConstraintComponent"]) in components, name
    assert str(SH.Warning) in {key[3] for key in found}
    assert all(v.message != "a warning" for v in validate_store(to_store(data), shapes=shapes).violations)


def test_generic_messages_without_sh_message() -> None:
    """Shapes without sh:message: the same results; the wording is pySHACL's for the common constraints."""
    data = Graph().parse(data=DATA, format="turtle")
    shapes = Graph().parse(
        data=PREFIXES
        + """
        ex:S a sh:NodeShape ; sh:targetClass ex:Person ;
            sh:property [ sh:path ex:name ; sh:maxCount 1 ] , [ sh:path ex:serial ; sh:minCount 1 ] ,
                        [ sh:path ex:knows ; sh:class ex:Person ] , [ sh:path ex:age ; sh:datatype xsd:integer ] ,
                        [ sh:path ex:name ; sh:maxLength 5 ] .
        """,
        format="turtle",
    )
    expected, actual = reference(data, shapes), ours(data, shapes)

    def without_messages(c: Counter[Key]) -> Counter[Key]:
        return Counter({k[:-1]: n for k, n in c.items()})

    assert without_messages(expected) == without_messages(actual), difference(expected, actual)


def test_a_missed_violation_fails_the_comparison() -> None:
    """The comparison is not vacuous: dropping one of our results makes it fail."""
    data, shapes = crafted()
    expected, actual = reference(data, shapes), ours(data, shapes)
    assert expected == actual
    actual[next(iter(actual))] -= 1
    assert difference(expected, +actual).startswith("missed")


# ----------------------------------------------------------------------------------------------------
# Refused features
# ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "shape",
    [
        "ex:S a sh:NodeShape ; sh:targetClass ex:P ; sh:closed true .",
        "ex:S a sh:NodeShape ; sh:targetClass ex:P ; sh:property [ sh:path ex:a ; sh:equals ex:b ] .",
        "ex:S a sh:NodeShape ; sh:targetClass ex:P ; sh:property [ sh:path ex:a ; sh:uniqueLang true ] .",
        "ex:S a sh:NodeShape ; sh:targetClass ex:P ; sh:property [ sh:path ex:a ; sh:lessThan ex:b ] .",
        "ex:S a sh:NodeShape ; sh:targetClass ex:P ; sh:madeUp 3 .",
        "ex:S a sh:NodeShape ; sh:targetClass ex:P ; "
        'sh:sparql [ sh:select "SELECT $this WHERE { GRAPH $shapesGraph { $this ?p ?o } }" ] .',
        'ex:S a sh:NodeShape ; sh:targetClass ex:P ; sh:sparql [ sh:ask "ASK { }" ] .',
        "ex:S a sh:NodeShape ; sh:targetClass ex:P ; sh:minCount 1 .",
        "ex:S a sh:NodeShape ; sh:targetClass ex:P ; sh:node ex:S .",
        'ex:S a sh:NodeShape ; sh:target [ a sh:SPARQLTarget ; sh:select "SELECT ?this WHERE { ?this ?p ?o }" ] .',
        "ex:C a sh:ConstraintComponent ; sh:parameter [ sh:path ex:p ] .",
    ],
)
def test_unsupported_features_are_refused_by_name(shape: str) -> None:
    shapes = Graph().parse(data=PREFIXES + shape, format="turtle")
    with pytest.raises(UnsupportedShape) as error:
        validate(Graph(), shapes=shapes)
    if "ex:S" in shape:
        assert "ex:S" in str(error.value), "the error must name the shape"


def test_unknown_engine() -> None:
    with pytest.raises(ValueError, match="unknown SHACL engine"):
        validate(Graph(), engine="nope")
