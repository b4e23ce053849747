"""`allygraph build`: what the store holds, the exports, and atomicity under failure, signals and concurrency."""

from __future__ import annotations

import fcntl
import os
import signal
import time
from pathlib import Path

import pyoxigraph
import pytest
from rdflib import BNode, Dataset, Graph, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import OWL, RDF

import allygraph
from conftest import (
    MINI,
    MINI_CLAIMS,
    ONTOLOGY_DIR,
    PreviousBuild,
    Running,
    append,
    current_target,
    edit,
    generations,
    run_allygraph,
    snapshot,
    store_quads,
)

ID = "https://w3id.org/allygraph/id/"
AG = "https://w3id.org/allygraph/ontology#"
GRAPH = "https://w3id.org/allygraph/graph/"
PARTS = ("head", "assertion", "provenance", "pubinfo")
PREFIXES = f"""
PREFIX ag: <{AG}>
PREFIX id: <{ID}>
PREFIX owl: <http://www.w3.org/2002/07/owl#>
PREFIX oa: <http://www.w3.org/ns/oa#>
PREFIX np: <http://www.nanopub.org/nschema#>
"""


def ask(store: pyoxigraph.Store, query: str) -> bool:
    return bool(store.query(PREFIXES + query))


def graph_triples(store: pyoxigraph.Store, name: str) -> list[pyoxigraph.Quad]:
    return list(store.quads_for_pattern(None, None, None, pyoxigraph.NamedNode(name)))


@pytest.fixture(scope="module")
def store(good_build: Path) -> pyoxigraph.Store:
    return allygraph.open_store(good_build)


# ----------------------------------------------------------------------------------------------------
# What a build holds
# ----------------------------------------------------------------------------------------------------


def test_build_and_open_store_take_string_paths(tmp_path: Path) -> None:
    allygraph.build(str(MINI), str(tmp_path / "out"), reason=False)
    assert len(allygraph.open_store(str(tmp_path / "out"))) > 0


def test_output_folder_layout(good_build: Path) -> None:
    current = good_build / current_target(good_build)
    assert current.is_dir() and current.name.startswith(".gen-")
    for name in ("store", "allygraph.trig", "allygraph.nq", "ontology.ttl"):
        assert (good_build / name).resolve() == (current / name).resolve()
        assert (current / name).exists()


def test_named_graphs_exist_and_are_not_empty(store: pyoxigraph.Store) -> None:
    names = {g.value for g in store.named_graphs() if isinstance(g, pyoxigraph.NamedNode)}
    expected = {GRAPH + "ontology", GRAPH + "sources", GRAPH + "entities"}
    expected |= {f"{ID}claim/{claim}/{part}" for claim in MINI_CLAIMS for part in PARTS}
    assert expected - names == set()
    for name in expected:
        assert graph_triples(store, name), f"graph {name} is empty"


@pytest.mark.parametrize("claim", MINI_CLAIMS)
def test_each_claim_is_a_nanopublication(store: pyoxigraph.Store, claim: str) -> None:
    node = f"<{ID}claim/{claim}>"
    assert ask(
        store,
        f"""ASK {{ GRAPH <{ID}claim/{claim}/head> {{
        {node} a np:Nanopublication , ag:Claim ;
            np:hasAssertion <{ID}claim/{claim}/assertion> ;
            np:hasProvenance <{ID}claim/{claim}/provenance> ;
            np:hasPublicationInfo <{ID}claim/{claim}/pubinfo> }} }}""",
    )
    assert ask(
        store,
        f"""ASK {{ GRAPH <{ID}claim/{claim}/pubinfo> {{
        {node} ag:claimId "{claim}" ; ag:line ?line }} }}""",
    )
    assert ask(
        store,
        f"""ASK {{ GRAPH <{ID}claim/{claim}/provenance> {{
        <{ID}claim/{claim}/assertion> ag:quote ?quote ; ag:modality ?modality }} }}""",
    )


def test_asserted_claim_holds_the_plain_triple(store: pyoxigraph.Store) -> None:
    assert ask(
        store,
        f"""ASK {{ GRAPH <{ID}claim/ann-long-term/assertion> {{
        id:freedonia-sylvania ag:hasTimeHorizon ag:longTerm }} }}""",
    )


def assert_no_positive_statement(store: pyoxigraph.Store, claim: str) -> None:
    """Nothing in the assertion graph states a property of a named thing, or types it with a named class."""
    for quad in graph_triples(store, f"{ID}claim/{claim}/assertion"):
        if isinstance(quad.subject, pyoxigraph.NamedNode):
            assert quad.predicate.value == str(RDF.type), f"positive triple in a denied claim: {quad}"
            assert isinstance(quad.object, pyoxigraph.BlankNode), f"positive type in a denied claim: {quad}"


def test_denied_property_value_is_a_negative_property_assertion(store: pyoxigraph.Store) -> None:
    assert ask(
        store,
        f"""ASK {{ GRAPH <{ID}claim/bob-not-alliance/assertion> {{
        ?n a owl:NegativePropertyAssertion ;
           owl:sourceIndividual id:freedonia-sylvania ;
           owl:assertionProperty ag:hasTimeHorizon ;
           owl:targetIndividual ag:longTerm }} }}""",
    )
    assert not ask(
        store,
        f"""ASK {{ GRAPH <{ID}claim/bob-not-alliance/assertion> {{
        id:freedonia-sylvania ag:hasTimeHorizon ?any }} }}""",
    )
    assert_no_positive_statement(store, "bob-not-alliance")


def test_denied_some_value_is_a_class_complement(store: pyoxigraph.Store) -> None:
    assert ask(
        store,
        f"""ASK {{ GRAPH <{ID}claim/bob-not-state/assertion> {{
        id:freedonia-sylvania a ?complement .
        ?complement owl:complementOf ?restriction .
        ?restriction a owl:Restriction ; owl:onProperty ag:directedAgainst ; owl:someValuesFrom ag:StateThreat }} }}""",
    )
    assert not ask(
        store,
        f"""ASK {{ GRAPH <{ID}claim/bob-not-state/assertion> {{
        id:freedonia-sylvania ag:directedAgainst ?any }} }}""",
    )
    assert_no_positive_statement(store, "bob-not-state")


@pytest.mark.parametrize(
    ("claim", "document", "exact"),
    [
        ("ann-threat", "alpha", "The treaty is directed against Marsovia’s “armed build-up” on their border"),
        ("ann-threat", "alpha-copy", "The treaty is directed against Marsovias armed build-up on their border"),
        ("ann-long-term", "alpha-copy", "Both governments say the pact is meant tolast for decades."),
        ("bob-not-state", "beta", "cooperate only against smugglers"),
    ],
)
def test_quotes_are_anchored_in_every_copy_at_their_offsets(
    store: pyoxigraph.Store, claim: str, document: str, exact: str
) -> None:
    text = (MINI / "corpus" / f"{document}.txt").read_text(encoding="utf-8")
    start = text.index(exact)
    rows = list(
        store.query(
            PREFIXES
            + f"""
        SELECT ?exact ?start ?end WHERE {{ GRAPH <{ID}claim/{claim}/provenance> {{
            <{ID}claim/{claim}/assertion> ag:hasAnchor ?target .
            ?target oa:hasSource <{ID}document/{document}> ; oa:hasSelector ?q , ?p .
            ?q a oa:TextQuoteSelector ; oa:exact ?exact .
            ?p a oa:TextPositionSelector ; oa:start ?start ; oa:end ?end }} }}"""
        )
    )
    assert [(r["exact"].value, int(r["start"].value), int(r["end"].value)) for r in rows] == [
        (exact, start, start + len(exact))
    ]


def test_exports_parse_into_isomorphic_datasets(good_build: Path, store: pyoxigraph.Store) -> None:
    trig = Dataset().parse(good_build / "allygraph.trig", format="trig")
    nquads = Dataset().parse(good_build / "allygraph.nq", format="nquads")

    def named(ds: Dataset) -> dict[URIRef, Graph]:
        return {g.identifier: g for g in ds.graphs() if len(g) and isinstance(g.identifier, URIRef)}

    trig_graphs, nq_graphs = named(trig), named(nquads)
    store_graphs = {g.value for g in store.named_graphs()}
    assert {str(name) for name in trig_graphs} == {str(name) for name in nq_graphs} == store_graphs
    for name, graph in trig_graphs.items():
        assert len(graph) == len(nq_graphs[name])
        assert isomorphic(graph, nq_graphs[name]), f"graph {name} differs between the TriG and N-Quads exports"
    assert sum(len(g) for g in nq_graphs.values()) == len(store)


def test_ontology_export_holds_the_ontology(good_build: Path) -> None:
    exported = Graph().parse(good_build / "ontology.ttl", format="turtle")
    source = Graph().parse(ONTOLOGY_DIR / "allygraph.ttl", format="turtle")
    assert (URIRef("https://w3id.org/allygraph/ontology"), RDF.type, OWL.Ontology) in exported
    ground = [t for t in source if not any(isinstance(term, BNode) for term in t)]
    assert ground and [t for t in ground if t not in exported] == []
    assert len(exported) >= len(source)


# ----------------------------------------------------------------------------------------------------
# Atomicity: failed builds, readers, signals, a second build
# ----------------------------------------------------------------------------------------------------


def test_failed_build_keeps_the_previous_store_and_the_next_good_one_replaces_it(
    mini: Path, previous_build: PreviousBuild, cli
) -> None:
    out = previous_build.out
    old = current_target(out)
    edit(mini / "claims" / "alpha.yaml", "directedAgainst, marsovian", "directedAganst, marsovian")
    assert cli("build", "--project", mini, "--out", out).code == 2
    previous_build.assert_unchanged()

    edit(mini / "claims" / "alpha.yaml", "directedAganst, marsovian", "directedAgainst, marsovian")
    append(
        mini / "claims" / "beta.yaml",
        '  - id: bob-case-by-case\n    quote: "case by case"\n    attribution: author\n'
        "    modality: asserted\n    statements:\n      - [freedonia-sylvania, hasTimeHorizon, shortTerm]\n",
    )
    result = cli("build", "--project", mini, "--out", out)
    assert result.code == 0, result.stderr
    new = current_target(out)
    assert new != old
    assert generations(out) == {new, old}  # the previous generation stays for readers that have it open
    quads = store_quads(out)
    assert quads != previous_build.quads
    assert any(f"<{ID}claim/bob-case-by-case/assertion>" in q for q in quads)


def test_reader_keeps_its_store_while_a_build_replaces_it(mini: Path, previous_build: PreviousBuild) -> None:
    reader = allygraph.open_store(previous_build.out)
    before = len(reader)
    append(
        mini / "claims" / "beta.yaml",
        '  - id: bob-case-by-case\n    quote: "case by case"\n    attribution: author\n'
        "    modality: asserted\n    statements:\n      - [freedonia-sylvania, hasTimeHorizon, shortTerm]\n",
    )
    allygraph.build(mini, previous_build.out)
    assert len(reader) == before
    assert len(list(reader.quads_for_pattern(None, None, None, None))) == before
    assert len(allygraph.open_store(previous_build.out)) > before


def test_sigint_while_validating_exits_130_and_writes_nothing(
    large_ledger: Path, previous_build: PreviousBuild, running, tmp_path: Path
) -> None:
    build: Running = running("build", "--project", large_ledger, "--out", previous_build.out, cwd=tmp_path)
    build.wait_for("validating")
    build.send(signal.SIGINT)
    assert build.finish() == 130, build.stderr
    assert "interrupted" in build.stderr and "Traceback" not in build.stderr
    previous_build.assert_unchanged()


def test_sigterm_while_validating_exits_130_and_writes_nothing(
    large_ledger: Path, previous_build: PreviousBuild, running, tmp_path: Path
) -> None:
    build: Running = running("build", "--project", large_ledger, "--out", previous_build.out, cwd=tmp_path)
    build.wait_for("validating")
    build.send(signal.SIGTERM)
    assert build.finish() == 130, build.stderr
    previous_build.assert_unchanged()


def test_sigkill_while_validating_keeps_the_store_and_the_next_build_works(
    large_ledger: Path, mini: Path, previous_build: PreviousBuild, running, tmp_path: Path, cli
) -> None:
    out = previous_build.out
    old = current_target(out)
    build: Running = running("build", "--project", large_ledger, "--out", out, cwd=tmp_path)
    build.wait_for("validating")
    build.send(signal.SIGKILL)
    assert build.finish() == -signal.SIGKILL
    previous_build.assert_unchanged()

    result = cli("build", "--project", mini, "--out", out)  # the dead build's lock must not block this one
    assert result.code == 0, result.stderr
    assert generations(out) == {current_target(out), old}


def stop_mid_write(build: Running, out: Path, before: set[str]) -> str:
    """Wait for the build to create its generation folder, freeze it (SIGSTOP) there; the folder's name."""
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        new = generations(out) - before
        if new:
            build.send(signal.SIGSTOP)
            (name,) = new
            return name
        if build.process.poll() is not None:
            pytest.fail(f"the build ended before writing a generation:\n{build.stderr}")
        time.sleep(0.001)
    pytest.fail("the build did not start writing in time")


def test_sigkill_while_writing_the_store_leaves_the_previous_store_and_the_next_build_cleans_up(
    large_ledger: Path, mini: Path, previous_build: PreviousBuild, running, tmp_path: Path, cli
) -> None:
    out = previous_build.out
    old, before = current_target(out), generations(out)
    build: Running = running("build", "--project", large_ledger, "--out", out, cwd=tmp_path)
    leftover = stop_mid_write(build, out, before)
    assert current_target(out) == old, "the build was not caught before it committed"
    build.send(signal.SIGKILL)
    assert build.finish() == -signal.SIGKILL

    assert leftover in generations(out)  # a killed build cannot clean up after itself
    unchanged = {k: v for k, v in snapshot(out).items() if not k.startswith(leftover)}
    assert unchanged == previous_build.snapshot
    assert store_quads(out) == previous_build.quads

    stray = out / ".gen-1-999999"  # and the remains of an older crash
    (stray / "store").mkdir(parents=True)
    (stray / "store" / "000001.sst").write_bytes(b"junk")
    result = cli("build", "--project", mini, "--out", out)
    assert result.code == 0, result.stderr
    assert generations(out) == {current_target(out), old}


def test_sigint_while_writing_the_store_removes_the_new_generation(
    large_ledger: Path, previous_build: PreviousBuild, running, tmp_path: Path
) -> None:
    out = previous_build.out
    old, before = current_target(out), generations(out)
    build: Running = running("build", "--project", large_ledger, "--out", out, cwd=tmp_path)
    stop_mid_write(build, out, before)
    assert current_target(out) == old, "the build was not caught before it committed"
    build.send(signal.SIGINT)
    build.send(signal.SIGCONT)
    assert build.finish() == 130, build.stderr
    assert generations(out) == before
    previous_build.assert_unchanged()


def test_build_fails_busy_while_another_process_holds_the_lock(
    mini: Path, previous_build: PreviousBuild, tmp_path: Path
) -> None:
    out = previous_build.out
    fd = os.open(out / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        result = run_allygraph("build", "--project", mini, "--out", out, cwd=tmp_path)
    finally:
        os.close(fd)
    assert result.code == 2, result.stderr
    assert "busy" in result.stderr and str(os.getpid()) in result.stderr
    assert "Traceback" not in result.stderr
    previous_build.assert_unchanged()


def test_two_concurrent_builds_the_second_fails_busy(
    large_ledger: Path, mini: Path, previous_build: PreviousBuild, running, tmp_path: Path
) -> None:
    out = previous_build.out
    first: Running = running("build", "--project", large_ledger, "--out", out, cwd=tmp_path)
    first.wait_for("reading the ledger")  # printed once it holds the lock
    first.send(signal.SIGSTOP)  # keep it holding the lock, however slow the second one is to start
    second = run_allygraph("build", "--project", mini, "--out", out, cwd=tmp_path)
    assert second.code == 2, second.stderr
    assert "busy" in second.stderr and str(first.process.pid) in second.stderr
    first.send(signal.SIGINT)
    first.send(signal.SIGCONT)
    assert first.finish() == 130
    previous_build.assert_unchanged()


def test_build_refused_by_a_foreign_file_in_the_output_folder_keeps_the_previous_store(
    mini: Path, previous_build: PreviousBuild, cli
) -> None:
    """A build that cannot publish its exports (a hand-made file where a link belongs) must change nothing."""
    out = previous_build.out
    old = current_target(out)
    (out / "allygraph.nq").unlink()
    (out / "allygraph.nq").write_text("made by hand\n", encoding="utf-8")
    result = cli("build", "--project", mini, "--out", out)
    assert result.code == 2, result.stderr
    assert "allygraph.nq" in result.stderr
    assert current_target(out) == old, "`current` was switched by a build that failed"
    assert store_quads(out) == previous_build.quads


def _small_files() -> None:  # in the child: files may not grow past 200 kB, as on a full disk
    import resource

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # so a write fails with EFBIG instead of killing
    resource.setrlimit(resource.RLIMIT_FSIZE, (200_000, 200_000))


def test_disk_full_while_writing_gives_a_clear_error_and_keeps_the_previous_store(
    mini: Path, previous_build: PreviousBuild, tmp_path: Path
) -> None:
    import subprocess

    from conftest import allygraph_command

    out = previous_build.out
    before = generations(out)
    done = subprocess.run(
        allygraph_command("build", "--project", mini, "--out", out),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        preexec_fn=_small_files,
    )
    assert done.returncode == 2, done.stderr
    assert "cannot write the new store" in done.stderr and "previous build is untouched" in done.stderr
    assert "Traceback" not in done.stderr
    assert generations(out) == before  # the half-written generation is gone
    previous_build.assert_unchanged()
