"""SHACL validation of a compiled dataset, reported in terms an analyst can act on."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pyshacl
from rdflib import Dataset, Graph, URIRef
from rdflib.namespace import SH
from rdflib.term import Node

from .namespaces import AG, ID, NP
from .paths import ontology_dir

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


def validate(dataset: Dataset | Graph, *, shapes: Graph | None = None) -> Report:
    """Validate the union of `dataset`'s graphs against the shapes (default: ontology/shapes.ttl).

    Each violation is located at the claim or entity it concerns, with file and line when known.
    """
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
    for result in results.subjects(SH.focusNode, None):
        if results.value(result, SH.resultSeverity) != SH.Violation:
            continue
        report.violations.append(_violation(data, results, result, shape_source))
    report.violations.sort(key=lambda v: (v.file, v.line, v.message))
    return report


def _violation(data: Graph, results: Graph, result: Node, shapes: Graph) -> Violation:
    focus = results.value(result, SH.focusNode)
    shape = results.value(result, SH.sourceShape)
    shape_name = _shape_name(shapes, shape)
    message = str(results.value(result, SH.resultMessage) or "does not conform")
    value = results.value(result, SH.value)
    path = results.value(result, SH.resultPath)
    claim, file, line = _locate(data, focus)
    if isinstance(value, URIRef) and (not claim or not line):
        # whole-graph and per-document checks report the offending node as the value
        by_value = _locate(data, value)
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
    file = data.value(node, AG.mediaFile)
    line = data.value(node, AG.line)
    claim_id = str(data.value(claim, AG.claimId) or "") if claim else ""
    number = line.toPython() if line is not None else 0
    return claim_id, str(file or ""), number if isinstance(number, int) else 0


def _claim_of(data: Graph, focus: URIRef) -> URIRef | None:
    """The claim a node belongs to: the claim itself, its assertion graph, or anything minted under it."""
    prefix = str(ID["claim/"])
    if not str(focus).startswith(prefix):
        return None
    claim = URIRef(prefix + str(focus)[len(prefix) :].split("/", 1)[0])
    return claim if (claim, NP.hasAssertion, None) in data else None


def _short(iri: str) -> str:
    for prefix, ns in (("ag:", str(AG)), ("ags:", "https://w3id.org/allygraph/shapes#"), ("id:", str(ID))):
        if iri.startswith(ns):
            return prefix + iri[len(ns) :]
    return iri
