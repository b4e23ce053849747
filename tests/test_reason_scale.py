"""Classification at scale: results written in one stream or in chunks, imported entities graphs found
by one query, outcomes computed once per distinct set of statuses."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyoxigraph
import pytest

import allygraph
from allygraph.namespaces import ENTITIES_GRAPH, GRAPH
from allygraph.reason import (
    Result,
    classify,
    entity_graphs,
    outcome,
    read_relationships,
    results_graph_iri,
    results_quads,
    write_results,
)

DEFS = Path(__file__).resolve().parent / "data" / "defs"


@pytest.fixture(scope="module")
def ledger_nquads(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """The fixture ledger's store, without results, as N-Quads."""
    out = tmp_path_factory.mktemp("defs-noreason")
    allygraph.build(DEFS, out, reason=False)
    return (out / "allygraph.nq").read_bytes()


def _memory(nquads: bytes) -> pyoxigraph.Store:
    store = pyoxigraph.Store()
    store.load(nquads, format=pyoxigraph.RdfFormat.N_QUADS)
    return store


def _results(store: pyoxigraph.Store) -> list[str]:
    """The quads of the results graphs (the ledger's blank nodes are named afresh by each load)."""
    return sorted(str(q) for q in store if "/results/" in str(q.graph_name))


@pytest.fixture(scope="module")
def every_view(ledger_nquads: bytes) -> Result:
    return classify(_memory(ledger_nquads), views=None)


def test_results_quads_is_lazy(every_view: Result) -> None:
    quads = results_quads(every_view)
    assert isinstance(quads, Iterator)
    first = next(quads)
    assert isinstance(first, pyoxigraph.Quad)
    assert first.graph_name.value.startswith(f"{GRAPH}results/")


@pytest.mark.parametrize("chunk", [1, 7, 1000, None])
def test_writing_in_small_chunks_stores_the_same_quads_as_one_transaction(
    ledger_nquads: bytes, every_view: Result, chunk: int | None
) -> None:
    expected = list(results_quads(every_view))
    assert len(expected) > 1000  # several chunks for each size above, and a partial last one
    chunked = _memory(ledger_nquads)
    before = len(chunked)
    written = write_results(chunked, every_view, chunk=chunk)
    assert written == len(expected)
    whole = _memory(ledger_nquads)
    whole.extend(expected)  # the transactional path, all at once
    assert _results(chunked) == _results(whole) == sorted(str(q) for q in set(expected))
    assert len(chunked) == len(whole) == before + len(set(expected))


def test_the_store_holds_one_results_graph_per_definition_and_view(ledger_nquads: bytes, every_view: Result) -> None:
    store = _memory(ledger_nquads)
    write_results(store, every_view, chunk=50)
    held = {g.value for g in store.named_graphs() if "/results/" in g.value}
    wanted = {results_graph_iri(c.definition.name, c.view) for c in every_view.classifications}
    assert held == wanted
    assert len(wanted) == len({(c.definition.name, c.view) for c in every_view.classifications}) > 1
    for c in every_view.classifications[:20]:
        graph = pyoxigraph.NamedNode(results_graph_iri(c.definition.name, c.view))
        relationship = pyoxigraph.NamedNode(c.relationship)
        predicate = pyoxigraph.NamedNode("https://w3id.org/allygraph/results#relationship")
        assert list(store.quads_for_pattern(None, predicate, relationship, graph))


def test_a_chunk_must_hold_a_quad(every_view: Result) -> None:
    with pytest.raises(ValueError, match="chunk"):
        write_results(pyoxigraph.Store(), every_view, chunk=0)


def test_shared_checks_give_the_outcomes_of_their_statuses(every_view: Result) -> None:
    assert {c.outcome for c in every_view.classifications} >= {"meets", "does-not-meet", "undetermined"}
    for c in every_view.classifications:
        assert c.outcome == outcome(c.definition.combination, [k.status for k in c.checks])
        assert [k.criterion.iri for k in c.checks] == [k.iri for k in c.definition.criteria]
        for also in c.also:
            assert also.outcome == outcome(also.classifier.combination, [k.status for k in also.checks])
        for k in c.checks:
            if k.status == "no-evidence":
                assert k.supporting == k.contradicting == ()


def test_entity_graphs_are_the_ledgers_and_each_imported_datasets() -> None:
    store = pyoxigraph.Store()
    s = pyoxigraph.NamedNode("https://example.org/s")
    p = pyoxigraph.NamedNode("https://example.org/p")
    for name in (
        "imports/zeta/entities",
        "imports/atop/entities",
        "imports/atop/entities/more",  # not an entities graph
        "imports/atop/claims",
        "results/valdai/all",
    ):
        store.add(pyoxigraph.Quad(s, p, s, pyoxigraph.NamedNode(f"{GRAPH}{name}")))
    store.add(pyoxigraph.Quad(s, p, s, pyoxigraph.NamedNode("https://example.org/imports/x/entities")))
    store.add(pyoxigraph.Quad(s, p, s, pyoxigraph.BlankNode()))
    store.add_graph(pyoxigraph.NamedNode(f"{GRAPH}imports/empty/entities"))  # named, without quads
    assert entity_graphs(store) == [
        str(ENTITIES_GRAPH),
        f"{GRAPH}imports/atop/entities",
        f"{GRAPH}imports/empty/entities",
        f"{GRAPH}imports/zeta/entities",
    ]


def test_relationships_read_with_given_graphs_match_those_found(ledger_nquads: bytes) -> None:
    store = _memory(ledger_nquads)
    found = read_relationships(store)
    assert found
    assert list(found) == sorted(found)
    assert read_relationships(store, entity_graphs(store)) == found
    assert read_relationships(store, []) == {}


def test_classification_pauses_the_cycle_collector_and_leaves_it_as_it_was(ledger_nquads: bytes) -> None:
    import gc

    from allygraph.errors import InputError

    store = _memory(ledger_nquads)
    seen: list[bool] = []
    assert gc.isenabled()
    classify(store, views=["all"], progress=lambda _m: seen.append(gc.isenabled()))
    assert seen and not any(seen) and gc.isenabled()  # paused while classifying, enabled again after
    with pytest.raises(InputError):
        classify(store, views=["no-such-view"])
    assert gc.isenabled()  # also after an error
    gc.disable()
    try:
        classify(store, views=["all"])
        assert not gc.isenabled()  # a caller's choice is kept
    finally:
        gc.enable()
