"""One benchmark task per process, started by run.py under its wall-time and memory caps.

    python benchmarks/tasks.py TASK --data FILE.nq --work DIR

Each task prints JSON lines to standard output as it goes (`{"stage": ..., "seconds": ...}`), so a task
stopped by a cap still reports what it finished. Only the work named in a line is inside its timing;
parsing the input for a later stage is reported as its own line. Outcomes are written to
`DIR/outcomes-<task>.tsv` (relationship, definition, outcome) for the agreement check.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pyoxigraph
from rdflib import BNode, Dataset, Graph, Literal, URIRef

import allygraph
from allygraph import sparqlengine
from allygraph.definitions import DefinitionSet, load_definitions
from allygraph.namespaces import ONTOLOGY_GRAPH, OWL, RDF
from allygraph.query import quality_checks
from allygraph.reason import (
    AGR,
    DEFINITIONS_GRAPH,
    Result,
    all_views,
    entity_graphs,
    outcome,
    read_claims,
    read_relationships,
    results_graph_iri,
    write_results,
)

QUERIES = Path(__file__).resolve().parent.parent / "queries"
STORE = "store"


def emit(**fields: Any) -> None:
    """One result line (flushed at once: the parent may stop this process at any moment)."""
    print(json.dumps(fields), flush=True)


def timed(func: Callable[[], Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    value = func()
    return value, time.perf_counter() - started


def write_outcomes(work: Path, task: str, rows: Iterable[tuple[str, str, str]]) -> int:
    lines = sorted(f"{r}\t{d}\t{o}" for r, d, o in rows)
    (work / f"outcomes-{task}.tsv").write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    return len(lines)


def outcomes_of(result: Result) -> Iterator[tuple[str, str, str]]:
    for c in result.classifications:
        yield c.relationship, c.definition.name, c.outcome


# ----------------------------------------------------------------------------------------------------
# Our stack: pyoxigraph store, compiled SPARQL classification, competency queries
# ----------------------------------------------------------------------------------------------------


def ours_load(data: Path, work: Path) -> None:
    store = pyoxigraph.Store(str(work / STORE))
    _, seconds = timed(lambda: store.bulk_load(path=str(data), format=pyoxigraph.RdfFormat.N_QUADS))
    store.flush()
    emit(stage="load", seconds=seconds, quads=len(store))
    _, seconds = timed(store.optimize)  # as build does after loading: later reads seek less
    emit(stage="compact", seconds=seconds)


def ours_load_memory(data: Path, work: Path) -> None:
    """The same bulk load into an in-memory store (what validation and per-view copies use)."""
    store = pyoxigraph.Store()
    _, seconds = timed(lambda: store.bulk_load(path=str(data), format=pyoxigraph.RdfFormat.N_QUADS))
    emit(stage="load (in memory)", seconds=seconds, quads=len(store))


def _cache_in(work: Path, *, empty: bool = False) -> None:
    """The compile cache (allygraph.cache) of this workload's tasks: its own folder, so a run does not
    depend on what earlier runs left in ~/.cache."""
    folder = work / "cache"
    if empty:
        shutil.rmtree(folder, ignore_errors=True)
    os.environ["ALLYGRAPH_CACHE"] = str(folder)


def ours_classify_cold(data: Path, work: Path) -> None:
    """Classification from an empty cache: the definitions parsed and the queries compiled in the run."""
    _cache_in(work, empty=True)
    store = pyoxigraph.Store.read_only(str(work / STORE))
    result, seconds = timed(lambda: allygraph.classify(store, views=["all"], engine="sparql"))
    emit(stage="classify", seconds=seconds, classifications=len(result.classifications))


def repeated(run: Callable[[], Any], first: float, *, times: int, under: float) -> None:
    """When the first run took under `under` seconds, the median of `times` more in the same process:
    what a server or a notebook calling again sees, without the first call's imports and caches."""
    if first < under:
        seconds = statistics.median(timed(run)[1] for _ in range(times))
        emit(stage="classify (repeated)", seconds=seconds, runs=times)


def ours_classify(data: Path, work: Path, *, all_views_too: bool = False) -> None:
    _cache_in(work)  # filled by ours-classify-cold when it ran first
    store = pyoxigraph.Store(str(work / STORE))

    def run() -> Any:
        return allygraph.classify(store, views=["all"], engine="sparql")

    result, seconds = timed(run)
    count = write_outcomes(work, "ours-classify", outcomes_of(result))
    emit(stage="classify", seconds=seconds, classifications=count)
    repeated(run, seconds, times=5, under=2.0)
    _, seconds = timed(lambda: write_results(store, result))  # as build writes them
    store.flush()
    emit(stage="store results", seconds=seconds)
    _, seconds = timed(store.optimize)  # as build does
    emit(stage="compact results", seconds=seconds)
    if all_views_too:
        result, seconds = timed(lambda: allygraph.classify(store, engine="sparql"))
        emit(stage="classify all views", seconds=seconds, classifications=len(result.classifications))


def ours_floor(data: Path, work: Path) -> None:
    """What reading costs on this store, whatever the engine: a floor under classification and the queries.

    - The quads any classifier of the `all` view must read (every evidence claim's assertion graph and the
      background graphs), dumped by the store itself in Rust, no Python object per quad; then loaded by
      the store into an in-memory one, the least an engine running SPARQL in memory adds. The list of
      graphs (our own query for the evidence claims) is timed apart.
    - One triple pattern over one definition's results graph: what a listing query returning one row per
      classification reads at the least, before any join, sort or label.
    """
    store = pyoxigraph.Store.read_only(str(work / STORE))
    claims, seconds = timed(lambda: read_claims(store, evidence_only=True))
    emit(stage="floor: list the evidence claims", seconds=seconds, graphs=len(claims))
    background = [str(ONTOLOGY_GRAPH), str(DEFINITIONS_GRAPH), *entity_graphs(store)]
    names = [pyoxigraph.NamedNode(g) for g in (*background, *(c.assertion for c in claims))]
    nquads = pyoxigraph.RdfFormat.N_QUADS
    body, seconds = timed(lambda: b"".join(store.dump(format=nquads, from_graph=g) or b"" for g in names))
    quads = body.count(b"\n")
    emit(stage="floor: read the evidence", seconds=seconds, quads=quads, per_quad_us=seconds / max(quads, 1) * 1e6)
    memory = pyoxigraph.Store()
    _, seconds = timed(lambda: memory.bulk_load(body, format=nquads))
    emit(stage="floor: load it into memory", seconds=seconds, quads=len(memory))
    graph = results_graph_iri("valdai", "all")
    text = f"SELECT ?c ?o WHERE {{ GRAPH <{graph}> {{ ?c <{AGR}outcome> ?o }} }}"
    times, rows = [], 0
    for _ in range(5):
        started = time.perf_counter()
        rows = sum(1 for _ in store.query(text))
        times.append(time.perf_counter() - started)
    emit(stage="floor: one pattern over one definition's results", seconds=statistics.median(times), rows=rows)


def ours_validate(data: Path, work: Path) -> None:
    from allygraph.validate import validate_store

    def load() -> pyoxigraph.Store:
        memory = pyoxigraph.Store()
        memory.load(path=str(data), format=pyoxigraph.RdfFormat.N_QUADS)
        return memory

    memory, seconds = timed(load)
    emit(stage="load (pyoxigraph, in memory, for SHACL)", seconds=seconds)
    report, seconds = timed(lambda: validate_store(memory))  # allygraph's SHACL engine (SPARQL on pyoxigraph)
    found = sorted({v.focus for v in report.violations})  # focus nodes, as counted for pyshacl
    (work / "violations-ours-validate.txt").write_text("\n".join(found), encoding="utf-8")
    emit(stage="validate", seconds=seconds, violations=len(found))
    store = pyoxigraph.Store(str(work / STORE))
    violations, seconds = timed(lambda: quality_checks(store))
    emit(stage="qc queries", seconds=seconds, violations=len(violations))


def query_params(store: Any) -> dict[str, dict[str, str]]:
    """Sensible parameters for each competency query: the first relationship and state pair in IRI order
    (so that both engines are given the same ones). Minima, not ORDER BY ... LIMIT 1 over every row: at 1M
    the two sorts (7 M results, every pair of parties) had run 15 minutes when stopped."""

    def first(query: str, *names: str) -> list[str]:
        row = next(iter(store.query(query)), None)
        values = [row[n] if row is not None else None for n in names]
        return [str(getattr(v, "value", v)) if v is not None else "" for v in values]

    (relationship,) = first(
        "SELECT (MIN(STR(?r)) AS ?m) WHERE { GRAPH ?g { ?c <https://w3id.org/allygraph/results#relationship> ?r } }",
        "m",
    )
    # the least ?a, then the least ?b beside it: one group per state, not a sort of every pair
    first_state, second_state = first(
        "SELECT ?a (MIN(STR(?b)) AS ?m) WHERE { GRAPH ?g { ?t <https://w3id.org/allygraph/ontology#hasParty> ?a , ?b } "
        "FILTER(STR(?a) < STR(?b)) } GROUP BY ?a ORDER BY STR(?a) LIMIT 1",
        "a",
        "m",
    )
    return {
        "relationships-meeting-definition": {"definition": "valdai", "view": "all"},
        "criteria-of-relationship": {"relationship": relationship, "definition": "valdai", "view": "all"},
        "works-per-criterion": {"definition": "valdai", "view": "all"},
        "agreements-between": {"first": first_state, "second": second_state},
        "outcomes-across-sources": {"definition": "valdai"},
    }


def _bindings(params: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in params.items() if v}


def ours_query(data: Path, work: Path, *, repeat: int = 5, budget: float = 30.0) -> None:
    """Each competency query `repeat` times (the median), fewer once a query has taken `budget` seconds."""
    store = pyoxigraph.Store(str(work / STORE))
    params = query_params(store)
    for path in sorted(QUERIES.glob("*.rq")):
        text = path.read_text(encoding="utf-8")
        bound = {
            pyoxigraph.Variable(k): (pyoxigraph.NamedNode(v) if v.startswith("http") else pyoxigraph.Literal(v))
            for k, v in _bindings(params.get(path.stem, {})).items()
        }
        times, rows = [], 0
        while len(times) < repeat and sum(times) < budget:
            started = time.perf_counter()
            rows = sum(1 for _ in store.query(text, substitutions=bound or None))
            times.append(time.perf_counter() - started)
        emit(stage=f"query {path.stem}", seconds=statistics.median(times), rows=rows, runs=len(times))


# ----------------------------------------------------------------------------------------------------
# Baselines on rdflib
# ----------------------------------------------------------------------------------------------------


def _rdflib_dataset(*paths: Path) -> Dataset:
    dataset = Dataset()
    for path in paths:
        dataset.parse(str(path), format="nquads")
    return dataset


def rdflib_load(data: Path, work: Path) -> None:
    dataset, seconds = timed(lambda: _rdflib_dataset(data))
    emit(stage="load", seconds=seconds, quads=sum(1 for _ in dataset.quads((None, None, None, None))))


def rdflib_validate(data: Path, work: Path) -> None:
    import pyshacl

    from allygraph.validate import shapes_graph

    def union() -> Graph:
        graph = Graph()
        for s, p, o, _g in _rdflib_dataset(data).quads((None, None, None, None)):
            graph.add((s, p, o))
        return graph

    graph, seconds = timed(union)
    emit(stage="parse (rdflib, union graph)", seconds=seconds, triples=len(graph))

    def run() -> Any:
        return pyshacl.validate(graph, shacl_graph=shapes_graph(), inference="none", allow_warnings=True, advanced=True)

    (_conforms, results, _text), seconds = timed(run)
    from rdflib.namespace import SH

    found = set()
    for result in results.subjects(SH.focusNode, None):
        if results.value(result, SH.resultSeverity) == SH.Violation:
            found.add(str(results.value(result, SH.focusNode)))
    emit(stage="validate", seconds=seconds, violations=len(found))


class _Term:
    """An rdflib term seen through pyoxigraph's interface (`.value` is the lexical form)."""

    __slots__ = ("value",)

    def __init__(self, term: Any) -> None:
        self.value = str(term)

    def __str__(self) -> str:
        return self.value


class _Solution:
    __slots__ = ("_row",)

    def __init__(self, row: Any) -> None:
        self._row = row

    def __getitem__(self, name: str) -> _Term | None:
        try:
            value = self._row[name]
        except KeyError:
            return None
        return None if value is None else _Term(value)

    def __iter__(self) -> Iterator[_Term | None]:  # pyoxigraph solutions unpack by position too
        return (None if value is None else _Term(value) for value in self._row)


class _Results:
    def __init__(self, result: Any) -> None:
        self.variables = [_Term(v) for v in result.vars]
        self._result = result

    def __iter__(self) -> Iterator[_Solution]:
        return (_Solution(row) for row in self._result)


class RdflibStore:
    """Just enough of pyoxigraph.Store over an rdflib Dataset for `allygraph.classify` to run the same
    compiled queries on rdflib's SPARQL engine."""

    def __init__(self, dataset: Dataset) -> None:
        self.dataset = dataset

    def query(self, text: str, **_options: Any) -> _Results:
        # rdflib raises NotBoundError aggregating an unbound variable (a claim with no quoted document, an
        # article relationship with no ATOP id); COALESCE gives the same groups and the same strings
        text = text.replace("GROUP_CONCAT(DISTINCT ?docid;", 'GROUP_CONCAT(DISTINCT COALESCE(?docid, "");')
        text = text.replace("(SAMPLE(?atop) AS ?atopId)", '(SAMPLE(COALESCE(?atop, "")) AS ?atopId)')
        return _Results(self.dataset.query(text))

    def named_graphs(self) -> Iterator[pyoxigraph.NamedNode]:
        for graph in self.dataset.graphs():
            if isinstance(graph.identifier, URIRef):
                yield pyoxigraph.NamedNode(str(graph.identifier))

    def quads_for_graph(self, name: str) -> Iterator[tuple[Any, Any, Any, Any]]:
        graph = self.dataset.graph(URIRef(name))
        for s, p, o in graph:
            yield s, p, o, graph.identifier


def _copy_rdflib(
    store: RdflibStore,
    graphs: Iterable[str],
    *,
    individuals_only: frozenset[str] = frozenset(),
    predicates: frozenset[str] | None = None,
    by_predicate: frozenset[str] = frozenset(),
    merge: Mapping[str, str] | None = None,
) -> RdflibStore:
    """sparqlengine.copy_graphs over rdflib, with the same limits (and graphs merged the same way)."""
    copy = Dataset()
    for name in dict.fromkeys(graphs):
        target = copy.graph(URIRef((merge or {}).get(name, name)))
        source = store.dataset.graph(URIRef(name))
        individuals = set(source.subjects(RDF.type, OWL.NamedIndividual)) if name in individuals_only else None
        wanted = {URIRef(p) for p in predicates} if predicates is not None and name in by_predicate else None
        for s, p, o in source:
            if (individuals is None or s in individuals) and (wanted is None or p in wanted):
                target.add((s, p, o))
    return RdflibStore(copy)


def rdflib_classify(data: Path, work: Path) -> None:
    dataset, seconds = timed(lambda: _rdflib_dataset(data))
    emit(stage="parse (rdflib)", seconds=seconds)
    sparqlengine.copy_graphs = _copy_rdflib  # type: ignore[assignment]  # the view copy stays in rdflib
    store = RdflibStore(dataset)
    result, seconds = timed(lambda: allygraph.classify(store, views=["all"], engine="sparql"))  # type: ignore[arg-type]
    count = write_outcomes(work, "rdflib-classify", outcomes_of(result))
    emit(stage="classify", seconds=seconds, classifications=count)


def rdflib_query(data: Path, work: Path, *, repeat: int = 3) -> None:
    dataset, seconds = timed(lambda: _rdflib_dataset(data, work / "results.nq"))
    emit(stage="parse (rdflib)", seconds=seconds)
    store = RdflibStore(dataset)
    params = query_params(store)
    for path in sorted(QUERIES.glob("*.rq")):
        text = path.read_text(encoding="utf-8")
        bound = {
            k: (URIRef(v) if v.startswith("http") else Literal(v))
            for k, v in _bindings(params.get(path.stem, {})).items()
        }
        times, rows = [], 0
        for _ in range(repeat):
            started = time.perf_counter()
            rows = sum(1 for _ in dataset.query(text, initBindings=bound))
            times.append(time.perf_counter() - started)
            if times[-1] > 20:
                break  # one run of a slow query is enough
        emit(stage=f"query {path.stem}", seconds=statistics.median(times), rows=rows)


# ----------------------------------------------------------------------------------------------------
# Materialisation baselines (OWL 2 RL) and HermiT
# ----------------------------------------------------------------------------------------------------


def evidence_union(work: Path) -> Path:
    """Background graphs and every evidence claim's assertion graph, as one N-Triples (Turtle) file."""
    target = work / "union.ttl"
    if target.exists():
        return target
    store = pyoxigraph.Store.read_only(str(work / STORE))
    claims = read_claims(store)
    graphs = [str(ONTOLOGY_GRAPH), str(DEFINITIONS_GRAPH), *entity_graphs(store)]
    graphs += [c.assertion for c in all_views(claims)["all"].claims]
    with target.open("wb") as handle:
        for name in graphs:
            triples = (q.triple for q in store.quads_for_pattern(None, None, None, pyoxigraph.NamedNode(name)))
            handle.write(pyoxigraph.serialize(triples, format=pyoxigraph.RdfFormat.N_TRIPLES) or b"")
    return target


def _relationships(work: Path) -> list[str]:
    """The relationships to classify: those of our classification, or (if it was stopped) the store's."""
    ours = work / "outcomes-ours-classify.tsv"
    if ours.exists():
        return sorted({line.split("\t")[0] for line in ours.read_text(encoding="utf-8").splitlines()})
    return sorted(read_relationships(pyoxigraph.Store.read_only(str(work / STORE))))


def membership_outcomes(
    ask: Callable[[str], set[str]], definitions: DefinitionSet, relationships: list[str]
) -> Iterator[tuple[str, str, str]]:
    """Outcomes from class membership after materialisation: a criterion holds for the members of its
    class, fails for those typed with its complement, else has no evidence (OWL RL derives no negation)."""
    statuses: dict[str, tuple[set[str], set[str]]] = {}
    for definition in definitions.definitions.values():
        for criterion in definition.criteria:
            iri = str(criterion.iri)
            if iri not in statuses:
                statuses[iri] = (
                    ask(f"SELECT ?x WHERE {{ ?x a <{iri}> }}"),
                    ask(f"SELECT ?x WHERE {{ ?x a ?c . ?c <{OWL.complementOf}> <{iri}> }}"),
                )
    for r in relationships:
        for definition in definitions.definitions.values():
            found = []
            for criterion in definition.criteria:
                holds, fails = statuses[str(criterion.iri)]
                found.append(
                    "contested"
                    if r in holds and r in fails
                    else "holds"
                    if r in holds
                    else "fails"
                    if r in fails
                    else "no-evidence"
                )
            yield r, definition.name, outcome(definition.combination, found)


def owlrl_classify(data: Path, work: Path) -> None:
    import owlrl

    union = evidence_union(work)
    graph, seconds = timed(lambda: Graph().parse(str(union), format="turtle"))
    emit(stage="parse (rdflib)", seconds=seconds, triples=len(graph))
    _, materialise = timed(lambda: owlrl.DeductiveClosure(owlrl.OWLRL_Semantics).expand(graph))
    emit(stage="materialise", seconds=materialise, triples=len(graph))

    def ask(text: str) -> set[str]:
        return {str(row[0]) for row in graph.query(text)}

    rows, seconds = timed(lambda: list(membership_outcomes(ask, load_definitions(), _relationships(work))))
    write_outcomes(work, "owlrl-classify", rows)
    emit(stage="query", seconds=seconds)
    emit(stage="classify", seconds=materialise + seconds, classifications=len(rows))


def _oxi(term: Any) -> Any:
    if isinstance(term, URIRef):
        return pyoxigraph.NamedNode(str(term))
    if isinstance(term, BNode):
        return pyoxigraph.BlankNode(str(term))
    if isinstance(term, Literal):
        if term.language:
            return pyoxigraph.Literal(str(term), language=term.language)
        datatype = term.datatype or URIRef("http://www.w3.org/2001/XMLSchema#string")
        return pyoxigraph.Literal(str(term), datatype=pyoxigraph.NamedNode(str(datatype)))
    raise TypeError(term)


def reasonable_classify(data: Path, work: Path) -> None:
    import reasonable

    union = evidence_union(work)
    reasoner = reasonable.PyReasoner()
    _, seconds = timed(lambda: reasoner.load_file(str(union)))
    emit(stage="parse (reasonable)", seconds=seconds)
    triples, materialise = timed(reasoner.reason)
    emit(stage="materialise", seconds=materialise, triples=len(triples))

    def query() -> list[tuple[str, str, str]]:
        store = pyoxigraph.Store()
        store.extend(pyoxigraph.Quad(_oxi(s), _oxi(p), _oxi(o)) for s, p, o in triples)

        def ask(text: str) -> set[str]:
            return {row[0].value for row in store.query(text)}

        return list(membership_outcomes(ask, load_definitions(), _relationships(work)))

    rows, seconds = timed(query)
    write_outcomes(work, "reasonable-classify", rows)
    emit(stage="query (pyoxigraph)", seconds=seconds)
    emit(stage="classify", seconds=materialise + seconds, classifications=len(rows))


def hermit_classify(data: Path, work: Path) -> None:
    store = pyoxigraph.Store.read_only(str(work / STORE))

    def run() -> Any:
        return allygraph.classify(store, views=["all"], engine="hermit")

    result, seconds = timed(run)
    count = write_outcomes(work, "hermit-classify", outcomes_of(result))
    emit(stage="classify", seconds=seconds, classifications=count)
    repeated(run, seconds, times=2, under=60.0)


def owlready_sync(data: Path, work: Path) -> None:
    """owlready2's own sync_reasoner (HermiT realising every class for every individual) on the union."""
    import owlready2

    union = evidence_union(work)
    xml = work / "union.owl"
    Graph().parse(str(union), format="turtle").serialize(str(xml), format="xml")
    world = owlready2.World()
    onto, seconds = timed(lambda: world.get_ontology(f"file://{xml}").load())
    emit(stage="parse (owlready2)", seconds=seconds)
    _, seconds = timed(lambda: owlready2.sync_reasoner_hermit(world, infer_property_values=False, debug=0))
    emit(stage="classify", seconds=seconds)
    del onto


def dump_results(data: Path, work: Path) -> None:
    """The results graphs of our classification, for the rdflib query baseline."""
    store = pyoxigraph.Store.read_only(str(work / STORE))
    prefix = "https://w3id.org/allygraph/graph/results/"
    graphs = [g for g in store.named_graphs() if isinstance(g, pyoxigraph.NamedNode) and g.value.startswith(prefix)]
    quads = (q for g in graphs for q in store.quads_for_pattern(None, None, None, g))
    (work / "results.nq").write_bytes(pyoxigraph.serialize(quads, format=pyoxigraph.RdfFormat.N_QUADS) or b"")
    emit(stage="dump results", seconds=0.0)


TASKS: dict[str, Callable[..., None]] = {
    "ours-load": ours_load,
    "ours-load-memory": ours_load_memory,
    "ours-validate": ours_validate,
    "ours-classify-cold": ours_classify_cold,
    "ours-classify": ours_classify,
    "ours-query": ours_query,
    "ours-floor": ours_floor,
    "dump-results": dump_results,
    "rdflib-load": rdflib_load,
    "rdflib-validate": rdflib_validate,
    "rdflib-classify": rdflib_classify,
    "rdflib-query": rdflib_query,
    "owlrl-classify": owlrl_classify,
    "reasonable-classify": reasonable_classify,
    "hermit-classify": hermit_classify,
    "owlready-sync": owlready_sync,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("task", choices=sorted(TASKS))
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--all-views", action="store_true")
    args = parser.parse_args()
    sys.setrecursionlimit(10_000)  # rdflib's SPARQL algebra recurses deeply on the compiled queries
    if args.task == "ours-classify":
        ours_classify(args.data, args.work, all_views_too=args.all_views)
    else:
        TASKS[args.task](args.data, args.work)


if __name__ == "__main__":
    main()
