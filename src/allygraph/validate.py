"""SHACL validation of a compiled dataset, reported in terms an analyst can act on.

Two engines: "sparql" (the default) is allygraph's own (allygraph.shacl), the shapes compiled to set-based
SPARQL queries run by pyoxigraph; "pyshacl" is the reference engine, much slower, kept for comparison and
debugging. Both report the same violations.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pyoxigraph as ox
import pyshacl
from rdflib import Dataset, Graph, Literal, URIRef
from rdflib.namespace import SH
from rdflib.term import Node

from .namespaces import AG, ID, NP, rdflib_term
from .paths import ontology_dir
from .shacl import Result, ShaclEngine, UnsupportedShape

ENGINES = ("sparql", "pyshacl")
DEFAULT_ENGINE = "sparql"

__all__ = [
    "ENGINES",
    "Report",
    "UnsupportedShape",
    "Violation",
    "to_store",
    "validate",
    "validate_nquads",
    "validate_store",
]

# rdflib logs a traceback for every ill-typed literal it meets; SHACL reports them properly instead.
logging.getLogger("rdflib.term").setLevel(logging.ERROR)


@dataclass(frozen=True)
class Violation:
    """One thing wrong, located: which claim or entity, which file and line, what, and which shape."""

    message: str
    focus: str
    shape: str
    claim: str = ""
    file: str = ""
    line: int = 0
    value: str = ""
    path: str = ""

    def __str__(self) -> str:
        where = (f"{self.file}:{self.line}" if self.line else self.file) or "(no file)"
        who = f"claim {self.claim}" if self.claim else _short(self.focus)
        text = f"{where}: {who}: {self.message}"
        if self.value:
            text += f" [value: {self.value}]"
        return f"{text}\n  shape: {self.shape}"


@dataclass
class Report:
    """The outcome of validation; `conforms` is False if there is any violation."""

    violations: list[Violation] = field(default_factory=list)

    @property
    def conforms(self) -> bool:
        return not self.violations

    def __str__(self) -> str:
        if self.conforms:
            return "conforms: no violations"
        lines = [f"does not conform: {len(self.violations)} violation(s)"]
        lines += [str(v) for v in self.violations]
        return "\n".join(lines)


@cache
def shapes_graph(path: Path | None = None) -> Graph:
    graph = Graph()
    graph.parse(path or ontology_dir() / "shapes.ttl", format="turtle")
    return graph


def union(dataset: Dataset) -> Graph:
    """All named graphs merged into one graph (the form SHACL validates)."""
    graph = Graph()
    for s, p, o, _g in dataset.quads((None, None, None, None)):
        graph.add((s, p, o))
    return graph


def validate(dataset: Dataset | Graph, *, shapes: Graph | None = None, engine: str = DEFAULT_ENGINE) -> Report:
    """Validate the union of `dataset`'s graphs against the shapes (default: ontology/shapes.ttl).

    Each violation is located at the claim or entity it concerns, with file and line when known.
    `engine` is "sparql" (allygraph's, on pyoxigraph; the dataset is converted once) or "pyshacl".

    :raises UnsupportedShape: if the shapes use a SHACL feature the "sparql" engine does not implement.
    """
    if engine == "sparql":
        return validate_store(to_store(dataset), shapes=shapes)
    if engine != "pyshacl":
        raise ValueError(f"unknown SHACL engine {engine!r}; choose one of {', '.join(ENGINES)}")
    data = union(dataset) if isinstance(dataset, Dataset) else dataset
    _conforms, results, _text = pyshacl.validate(
        data,
        shacl_graph=shapes if shapes is not None else shapes_graph(),
        inference="none",
        allow_warnings=True,
        advanced=True,
    )
    report = Report()
    shape_source = shapes if shapes is not None else shapes_graph()
    details = set(results.objects(None, SH.detail))  # nested results, reported by the result holding them
    for result in set(results.subjects(SH.focusNode, None)) - details:
        if results.value(result, SH.resultSeverity) != SH.Violation:
            continue
        report.violations.append(
            _violation(
                results.value(result, SH.focusNode),
                _shape_name(shape_source, results.value(result, SH.sourceShape)),
                str(results.value(result, SH.resultMessage) or "does not conform"),
                results.value(result, SH.value),
                results.value(result, SH.resultPath),
                lambda node: _locate(data, node),
            )
        )
    report.violations.sort(key=_order)
    return report


def to_store(dataset: Dataset | Graph) -> ox.Store:
    """An in-memory pyoxigraph store holding `dataset` (its graphs, or the graph as the default graph)."""
    store = ox.Store()
    if isinstance(dataset, Dataset):
        store.load(dataset.serialize(format="nquads", encoding="utf-8"), format=ox.RdfFormat.N_QUADS)
    else:
        store.load(dataset.serialize(format="nt", encoding="utf-8"), format=ox.RdfFormat.N_TRIPLES)
    return store


def validate_nquads(nquads: bytes, *, shapes: Graph | None = None) -> Report:
    """Validate N-Quads (a compiled ledger, say) loaded once into an in-memory pyoxigraph store."""
    store = ox.Store()
    store.load(nquads, format=ox.RdfFormat.N_QUADS)
    return validate_store(store, shapes=shapes)


@cache
def _default_engine() -> ShaclEngine:
    return ShaclEngine(shapes_graph())


def engine_for(shapes: Graph | None = None) -> ShaclEngine:
    """The compiled shapes (default: ontology/shapes.ttl, compiled once per process)."""
    return _default_engine() if shapes is None else ShaclEngine(shapes)


def results(store: ox.Store, *, shapes: Graph | None = None) -> list[Result]:
    """The raw SHACL results (every severity) of the union of `store`'s graphs, by the "sparql" engine."""
    return engine_for(shapes).validate(store)


def validate_store(store: ox.Store, *, shapes: Graph | None = None) -> Report:
    """Validate the union of the graphs of a pyoxigraph store with allygraph's engine ("sparql")."""
    shape_source = shapes if shapes is not None else shapes_graph()
    found = [r for r in results(store, shapes=shapes) if r.severity == SH.Violation]
    nodes = {n for r in found for n in (r.focus, r.value) if isinstance(n, URIRef)}
    located = _locate_all(store, nodes)
    report = Report()
    for r in found:
        report.violations.append(
            _violation(
                r.focus,
                _shape_name(shape_source, r.shape),
                r.messages[0] if r.messages else "does not conform",
                r.value,
                r.path,
                lambda node: located.get(node, ("", "", 0)),
            )
        )
    report.violations.sort(key=_order)
    return report


def _order(v: Violation) -> tuple[str, int, str, str, str, str, str]:
    return (v.file, v.line, v.message, v.focus, v.shape, v.value, v.path)


def _violation(
    focus: Node | None,
    shape_name: str,
    message: str,
    value: Node | None,
    path: Node | None,
    locate: Callable[[Node | None], tuple[str, str, int]],
) -> Violation:
    claim, file, line = locate(focus)
    if isinstance(value, URIRef) and (not claim or not line):
        # whole-graph and per-document checks report the offending node as the value
        by_value = locate(value)
        if by_value[0] or (by_value[1] and not file):
            claim, file, line = by_value
    return Violation(
        message=message,
        focus=str(focus),
        shape=shape_name,
        claim=claim,
        file=file,
        line=line,
        value="" if value is None or value == focus else _short(str(value)),
        path=_short(str(path)) if isinstance(path, URIRef) else "",
    )


def _locate_all(store: ox.Store, nodes: set[URIRef], chunk: int = 500) -> dict[Node, tuple[str, str, int]]:
    """`_locate` for many nodes at once: a few batched queries instead of one per violation."""
    claims = {n: _claim_iri(n) for n in nodes}
    wanted = sorted(nodes | {c for c in claims.values() if c is not None}, key=str)
    facts: dict[URIRef, dict[str, list[Node]]] = {}
    for start in range(0, len(wanted), chunk):
        values = " ".join(f"<{n}>" for n in wanted[start : start + chunk])
        for name, predicate in (
            ("file", AG.mediaFile),
            ("line", AG.line),
            ("id", AG.claimId),
            ("claim", NP.hasAssertion),
        ):
            text = f"SELECT DISTINCT ?n ?o WHERE {{ VALUES ?n {{ {values} }} ?n <{predicate}> ?o }}"
            for solution in store.query(text, use_default_graph_as_union=True):
                facts.setdefault(URIRef(solution["n"].value), {}).setdefault(name, []).append(
                    rdflib_term(solution["o"])
                )
    located: dict[Node, tuple[str, str, int]] = {}
    for n in nodes:
        claim = claims[n]
        if claim is not None and "claim" not in facts.get(claim, {}):
            claim = None
        about = facts.get(claim or n, {})
        claim_ids = [str(i) for i in about.get("id", [])] if claim else []
        located[n] = _pick(claim_ids, [str(f) for f in about.get("file", [])], about.get("line", []))
    return located


def _shape_name(shapes: Graph, shape: Node | None) -> str:
    """The named node shape a result came from, with the path for a property shape (a blank node)."""
    if shape is None or isinstance(shape, URIRef):
        return _short(str(shape))
    parent = shapes.value(None, SH.property, shape) or shapes.value(None, SH.sparql, shape)
    path = shapes.value(shape, SH.path)
    name = _short(str(parent)) if isinstance(parent, URIRef) else "a shape"
    return f"{name} ({_short(str(path))})" if isinstance(path, URIRef) else name


def _locate(data: Graph, focus: Node | None) -> tuple[str, str, int]:
    """(claim id, file, line) for a focus node: a claim, a part of one, an entity, or unknown."""
    if not isinstance(focus, URIRef):
        return "", "", 0
    claim = _claim_of(data, focus)
    node = claim or focus
    files = [str(f) for f in data.objects(node, AG.mediaFile)]
    lines = list(data.objects(node, AG.line))
    claim_ids = [str(i) for i in data.objects(claim, AG.claimId)] if claim else []
    return _pick(claim_ids, files, lines)


def _pick(claim_ids: list[str], files: list[str], lines: list[Node]) -> tuple[str, str, int]:
    """(claim id, file, line) from what is recorded: the first by sort order when there are several
    (a shape reports those), a line only if it is a whole number."""
    numbers = [n for n in (x.toPython() for x in lines if isinstance(x, Literal)) if type(n) is int]
    return min(claim_ids, default=""), min(files, default=""), min(numbers, default=0)


def _claim_of(data: Graph, focus: URIRef) -> URIRef | None:
    """The claim a node belongs to: the claim itself, its assertion graph, or anything minted under it."""
    claim = _claim_iri(focus)
    return claim if claim is not None and (claim, NP.hasAssertion, None) in data else None


def _claim_iri(focus: URIRef) -> URIRef | None:
    """The IRI of the claim a node would belong to, by its IRI (whether that claim exists is not checked)."""
    prefix = str(ID["claim/"])
    if not str(focus).startswith(prefix):
        return None
    return URIRef(prefix + str(focus)[len(prefix) :].split("/", 1)[0])


def _short(iri: str) -> str:
    for prefix, ns in (("ag:", str(AG)), ("ags:", "https://w3id.org/allygraph/shapes#"), ("id:", str(ID))):
        if iri.startswith(ns):
            return prefix + iri[len(ns) :]
    return iri
