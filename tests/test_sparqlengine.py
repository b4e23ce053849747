"""The SPARQL engine's compiled queries: their algebra, the shapes pyoxigraph runs in linear time, and
closed-world counting by distinct values.

Speed is measured in `benchmarks/`, never asserted here; these tests pin the query shapes that the
benchmarks showed to matter (a UNION nested in a join, FILTER NOT EXISTS and EXISTS are evaluated by
pyoxigraph 0.5.13 once per row on their left: quadratic on treaty data).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

import allygraph
from allygraph.definitions import load_definitions
from allygraph.reason import classify
from allygraph.sparqlengine import _EMPTY, _NEVER, Compiler, SparqlEngine, Vocabulary, _atom, vocabulary

TESTS = Path(__file__).resolve().parent
DEFS = TESTS / "data" / "defs"
ID = "https://w3id.org/allygraph/id/"


def test_a_join_distributes_over_unions_into_flat_conjunctions() -> None:
    a, b, c = _atom("A", ("?g1",)), _atom("B", ("?g2",)), _atom("C", ("?g3",))
    joined = Compiler._join([a, Compiler._union([b, c])])
    assert joined.branches == (("A", "B"), ("A", "C"))
    assert joined.graph_vars == ("?g1", "?g2", "?g3")
    assert joined.text == "{ { A B } UNION { A C } }"


def test_never_annihilates_a_join_and_vanishes_from_a_union() -> None:
    a = _atom("A")
    assert Compiler._join([a, _NEVER]).never
    assert Compiler._union([a, _NEVER]).branches == (("A",),)
    assert Compiler._join([a, _EMPTY]).branches == (("A",),)
    assert Compiler._union([]).text == "{ FILTER(false) }"


def test_a_join_that_would_multiply_past_the_cap_keeps_the_union_nested() -> None:
    wide = Compiler._union([_atom(f"A{i}") for i in range(40)])
    joined = Compiler._join([wide, Compiler._union([_atom("B"), _atom("C")])])
    assert len(joined.branches) == 40  # 80 conjunctions would pass the cap: the second union stays one group
    assert all(atoms[-1] == "{ { B } UNION { C } }" for atoms in joined.branches)


def _queries() -> list[tuple[str, str]]:
    texts = []
    for q in SparqlEngine().queries(load_definitions()):
        for label, query in (("pos", q.pos), ("neg", q.neg), ("closed", q.neg_closed)):
            if query is not None:
                texts.append((f"{label} {q.criterion.iri}", query.text))
    return texts


def _without_nested_bodies(text: str) -> str:
    """`text` with the groups of subqueries, MINUS and OPTIONAL cut out (they may hold unions)."""
    out, i = [], 0
    while i < len(text):
        match = re.compile(r"\{ SELECT |MINUS \{|OPTIONAL \{").search(text, i)
        if not match:
            out.append(text[i:])
            break
        out.append(text[i : match.start()])
        depth, j = 0, match.start()
        while True:  # skip to the brace that closes the body
            depth += {"{": 1, "}": -1}.get(text[j], 0)
            j += 1
            if depth == 0 and text[j - 1] == "}":
                break
        i = j
    return "".join(out)


def _top_level_branches(where: str) -> list[str]:
    body = where[where.index("{") + 1 : where.rindex("}")]
    branches, depth, start = [], 0, 0
    for i, ch in enumerate(body):
        depth += {"{": 1, "}": -1}.get(ch, 0)
        if depth == 0 and body.startswith(" UNION ", i):
            branches.append(body[start:i])
            start = i + len(" UNION ")
    return [*branches, body[start:]]


@pytest.mark.parametrize(("label", "text"), _queries(), ids=[label.rsplit("#", 1)[-1] for label, _ in _queries()])
def test_compiled_queries_avoid_what_pyoxigraph_evaluates_per_row(label: str, text: str) -> None:
    assert "EXISTS" not in text, label
    where = _without_nested_bodies(text[text.index("WHERE") :])
    for branch in _top_level_branches(where):  # flat groups: no union inside a branch
        assert "UNION" not in branch, (label, branch[:300])


def test_every_compiled_query_parses_and_runs(tmp_path: Path) -> None:
    import pyoxigraph

    store = pyoxigraph.Store()
    for label, text in _queries():
        assert list(store.query(text)) == [], label


def test_closed_world_counts_distinct_participants_not_statements(tmp_path: Path) -> None:
    """Arden–Red Brigades has one state participant; a claim that repeats Arden's participation must not
    make it two (counting rows instead of values would turn "fails" into "no evidence")."""
    data = tmp_path / "defs"
    shutil.copytree(DEFS, data)
    claims = data / "claims" / "one.yaml"
    text = claims.read_text(encoding="utf-8")
    quote = re.search(r"- id: ab-treaty\n    quote: (.*)\n", text)
    assert quote is not None
    claims.write_text(
        text.replace(
            "claims:\n",
            "claims:\n"
            "  - id: rebels-arden-again\n"
            f"    quote: {quote.group(1)}\n"
            "    attribution: author\n"
            "    modality: asserted\n"
            "    statements:\n"
            "      - [arden-rebels, hasParticipant, arden]\n",
            1,
        ),
        encoding="utf-8",
    )
    out = tmp_path / "out"
    allygraph.build(data, out)
    result = classify(allygraph.open_store(out), views=["all"], names=["atop"])
    (c,) = [c for c in result.classifications if c.relationship == ID + "arden-rebels"]
    assert {k.criterion.name: k.status for k in c.checks}["StateParties"] == "fails"
    assert c.outcome == "does-not-meet"


# ----------------------------------------------------------------------------------------------------
# Pruning by the store's vocabulary
# ----------------------------------------------------------------------------------------------------

P = "https://example.org/p"
Q = "https://example.org/q"
TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"


def _store_with(*quads: tuple[str, str, str]) -> object:
    import pyoxigraph

    store = pyoxigraph.Store()
    g = pyoxigraph.NamedNode("https://example.org/g")
    for s, p, o in quads:
        store.add(pyoxigraph.Quad(pyoxigraph.NamedNode(s), pyoxigraph.NamedNode(p), pyoxigraph.NamedNode(o), g))
    return store


def test_vocabulary_finds_exactly_the_predicates_and_classes_present() -> None:
    store = _store_with(
        ("https://example.org/a", P, "https://example.org/b"), ("https://example.org/a", TYPE, "https://example.org/C")
    )
    asked = Vocabulary({P, Q}, {"https://example.org/C", "https://example.org/D"})
    assert vocabulary(store, asked) == Vocabulary(frozenset({P}), frozenset({"https://example.org/C"}))  # type: ignore[arg-type]


def test_patterns_needing_what_the_store_lacks_are_compiled_away() -> None:
    from allygraph.definitions import Named, Some
    from allygraph.namespaces import AG
    from allygraph.tbox import analyse

    tbox = analyse(load_definitions().graph)
    threat = Some(AG.directedAgainst, Named(AG.StateThreat))
    full = Compiler(tbox)
    everything = full.pos(threat, "?x")
    assert str(AG.directedAgainst) in full.asked.predicates and str(AG.StateThreat) in full.asked.classes
    assert Compiler(tbox, Vocabulary(frozenset(), frozenset())).pos(threat, "?x").never
    typed_only = Vocabulary(frozenset({str(AG.directedAgainst)}), frozenset({str(AG.StateThreat)}))
    pruned = Compiler(tbox, typed_only).pos(threat, "?x")
    assert not pruned.never and len(pruned.text) < len(everything.text)
    assert str(AG.posedBy) not in pruned.text  # the derivation through posedBy needs a predicate not there


def _solutions(store: object, text: str) -> set[tuple[str, frozenset[str]]]:
    return {(x.value, frozenset(used.value.split())) for x, used in store.query(text)}  # type: ignore[attr-defined]


def test_pruned_queries_find_exactly_what_the_full_ones_find(tmp_path: Path) -> None:
    """On the mini ledger with the ATOP fixture imported (articles, denials, treaties): every query compiled
    for the store's vocabulary has the same solutions as the query compiled for any store, and pruning
    removed something (else this would test nothing)."""
    root = tmp_path / "project"
    shutil.copytree(TESTS / "data" / "mini", root / "data")
    (root / "allygraph.toml").write_text('[allygraph]\ndata = "data"\nout = "build"\n', encoding="utf-8")
    atop = TESTS / "data" / "atop"
    args = ["import", "atop", "--project", str(root), "-q"]
    args += ["--alliances", str(atop / "alliances.csv"), "--members", str(atop / "members.csv")]
    assert allygraph.cli.main([*args, "--states", str(atop / "states.csv")]) == 0
    store = allygraph.open_store(root / "build")
    engine, definitions = SparqlEngine(), load_definitions()
    present = vocabulary(store, engine._compiled(definitions)[2])
    shorter = 0
    for full, pruned in zip(engine.queries(definitions), engine.queries(definitions, present), strict=True):
        assert full.criterion == pruned.criterion
        for a, b in ((full.pos, pruned.pos), (full.neg, pruned.neg), (full.neg_closed, pruned.neg_closed)):
            if a is None or b is None:
                assert a is b
                continue
            assert _solutions(store, b.text) == _solutions(store, a.text), a.text[:200]
            shorter += len(b.text) < len(a.text)
    assert shorter > 0


def test_queries_that_differ_only_in_variable_names_have_one_text() -> None:
    from allygraph.sparqlengine import _canonical

    a = "SELECT DISTINCT ?x (STR(?g1) AS ?used) WHERE { GRAPH ?g1 { ?x <https://e.org/p?q=1> ?v2 } }"
    b = "SELECT DISTINCT ?x (STR(?g7) AS ?used) WHERE { GRAPH ?g7 { ?x <https://e.org/p?q=1> ?v9 } }"
    c = "SELECT DISTINCT ?x (STR(?g7) AS ?used) WHERE { GRAPH ?g7 { ?v9 <https://e.org/p?q=1> ?x } }"
    assert _canonical(a) == _canonical(b) != _canonical(c)
    assert "<https://e.org/p?q=1>" in _canonical(a)  # an IRI with a '?' is not a variable


def test_the_tbox_graphs_are_copied_as_their_individuals_only() -> None:
    import pyoxigraph

    from allygraph.sparqlengine import copy_graphs

    store = pyoxigraph.Store()
    onto, claims = pyoxigraph.NamedNode("https://e.org/onto"), pyoxigraph.NamedNode("https://e.org/claim")
    ind, cls, prop = (pyoxigraph.NamedNode(f"https://e.org/{n}") for n in ("ind", "Cls", "p"))
    owl = "http://www.w3.org/2002/07/owl#"
    rdf_type = pyoxigraph.NamedNode(TYPE)
    store.extend(
        [
            pyoxigraph.Quad(ind, rdf_type, pyoxigraph.NamedNode(owl + "NamedIndividual"), onto),
            pyoxigraph.Quad(ind, rdf_type, cls, onto),
            pyoxigraph.Quad(cls, rdf_type, pyoxigraph.NamedNode(owl + "Class"), onto),
            pyoxigraph.Quad(prop, rdf_type, pyoxigraph.NamedNode(owl + "ObjectProperty"), onto),
            pyoxigraph.Quad(cls, rdf_type, pyoxigraph.NamedNode(owl + "Class"), claims),
        ]
    )
    copy = copy_graphs(store, [onto.value, claims.value], individuals_only=frozenset({onto.value}))
    assert {(q.subject.value, q.graph_name.value) for q in copy} == {
        (ind.value, onto.value),  # both of the individual's types
        (cls.value, claims.value),  # a graph outside individuals_only is copied whole
    }
    assert len(copy) == 3


def test_large_background_graphs_are_copied_by_the_predicates_the_patterns_use() -> None:
    import pyoxigraph

    from allygraph.sparqlengine import copy_graphs

    store = pyoxigraph.Store()
    entities = pyoxigraph.NamedNode("https://e.org/entities")
    claim = pyoxigraph.NamedNode("https://e.org/claim")
    a, label = (
        pyoxigraph.NamedNode("https://e.org/a"),
        pyoxigraph.NamedNode("http://www.w3.org/2000/01/rdf-schema#label"),
    )
    store.extend(
        [
            pyoxigraph.Quad(a, pyoxigraph.NamedNode(TYPE), pyoxigraph.NamedNode("https://e.org/State"), entities),
            pyoxigraph.Quad(a, label, pyoxigraph.Literal("A"), entities),
            pyoxigraph.Quad(a, label, pyoxigraph.Literal("A"), claim),
        ]
    )
    copy = copy_graphs(
        store, [entities.value, claim.value], predicates=frozenset({TYPE}), by_predicate=frozenset({entities.value})
    )
    assert sorted((q.predicate.value, q.graph_name.value) for q in copy) == [
        (TYPE, entities.value),
        (label.value, claim.value),  # a graph outside by_predicate is copied whole
    ]


def test_a_copy_can_merge_graphs_into_one_and_keeps_the_others_apart() -> None:
    import pyoxigraph

    from allygraph.sparqlengine import copy_graphs

    store = pyoxigraph.Store()
    a, p = pyoxigraph.NamedNode("https://e.org/a"), pyoxigraph.NamedNode("https://e.org/p")
    names = ["https://e.org/entities", "https://e.org/imported", "https://e.org/claim"]
    store.extend([pyoxigraph.Quad(a, p, pyoxigraph.Literal(n), pyoxigraph.NamedNode(n)) for n in names])
    merged = "https://e.org/background"
    copy = copy_graphs(
        store,
        names,
        predicates=frozenset({p.value}),
        by_predicate=frozenset({names[1]}),
        merge={names[0]: merged, names[1]: merged},
    )
    assert sorted((q.object.value, q.graph_name.value) for q in copy) == [
        (names[2], names[2]),  # not merged: its own name
        (names[0], merged),  # copied whole, into the merged graph
        (names[1], merged),  # copied by predicate, into the merged graph
    ]


def test_a_nested_class_the_background_derives_adds_no_solution_through_a_claim() -> None:
    """The threat is posed by a state the entities type as one; a claim that also names that state as a
    threatening state is a second, non-minimal derivation, and must not multiply the solutions."""
    import pyoxigraph

    from allygraph.namespaces import AG, ID
    from allygraph.sparqlengine import BACKGROUND_GRAPH

    (text,) = [
        q.pos.text
        for q in SparqlEngine().queries(load_definitions())
        if q.criterion.name == "AgainstStateThreat" and q.pos is not None
    ]
    n = pyoxigraph.NamedNode
    background, about, naming = n(str(BACKGROUND_GRAPH)), n(f"{ID}claim/a/assertion"), n(f"{ID}claim/b/assertion")
    rel, threat, state, pact = n(f"{ID}rel"), n(f"{ID}threat"), n(f"{ID}state"), n(f"{ID}pact")
    store = pyoxigraph.Store()
    store.extend(
        [
            pyoxigraph.Quad(rel, n(TYPE), n(str(AG.Relationship)), background),
            pyoxigraph.Quad(threat, n(str(AG.posedBy)), state, background),
            pyoxigraph.Quad(state, n(TYPE), n(str(AG.State)), background),
            pyoxigraph.Quad(rel, n(str(AG.directedAgainst)), threat, about),
            pyoxigraph.Quad(pact, n(str(AG.namesThreateningState)), state, naming),
        ]
    )
    used = [set(row["used"].value.split()) for row in store.query(text)]
    assert used == [{about.value, background.value}]
