"""The reference engine: the OWL definitions as written, decided by HermiT through owlready2.

One reasoning world holds many renamed copies of the evidence, so a whole classification needs two
reasoner runs (one JVM start each), not one per view or claim:

1. the background alone, and each claim with the background it reaches: which criteria (and which
   negated criteria, `¬C`) each claim entails on its own, for each relationship;
2. each view's evidence together (open world), and the same with the world closed on the criteria's
   `ag:closesWorldOn` properties (`r ∈ ∀p.{known values}`, owlready2's close_world, per relationship
   that has known values). Claims whose single-claim results contradict each other are left out of
   this run so the copy stays consistent; their disagreement was already recorded by run 1.

Named individuals are declared all different within a copy where counting needs it (at least two
states). If a run is inconsistent all the same, the claims responsible are found by bisection and set
aside with a warning, never a crash.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import tempfile
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.term import Node

from .definitions import And as AndExpr
from .definitions import AtLeast, Criterion, DefinitionSet, Expr, Not
from .definitions import Or as OrExpr
from .definitions import Some as SomeExpr
from .errors import AllygraphError
from .namespaces import AG, OWL, RDF
from .reason import Finding, Findings, View
from .tbox import analyse

NOT = "https://w3id.org/allygraph/reasoning#not-"
_VOCABULARIES = (str(OWL), str(RDF), "http://www.w3.org/2000/01/rdf-schema#", "http://www.w3.org/2001/XMLSchema#")
Triple = tuple[Node, Node, Node]


class ReasonerError(AllygraphError, RuntimeError):
    """HermiT could not run (Java missing, out of memory, crashed)."""


def _props(expr: Expr) -> set[URIRef]:
    """Properties an expression mentions."""
    if isinstance(expr, (AndExpr, OrExpr)):
        return set().union(*(_props(p) for p in expr.parts))
    if isinstance(expr, Not):
        return _props(expr.part)
    if isinstance(expr, (SomeExpr, AtLeast)):
        return {expr.prop} | _props(expr.filler)
    prop = getattr(expr, "prop", None)
    return {prop} if prop is not None else set()


@dataclass
class _Copy:
    """One renamed copy of some evidence in the reasoning world."""

    key: str
    claims: frozenset[str]
    triples: list[Triple] = field(default_factory=list)
    closed: frozenset[URIRef] = frozenset()


class HermitEngine:
    name = "hermit"

    def evaluate(
        self,
        store: pyoxigraph.Store,
        definitions: DefinitionSet,
        criteria: list[Criterion],
        views: dict[str, View],
        background: list[str],
        progress: Callable[[str], None],
    ) -> Findings:
        tbox_graph = definitions.graph
        tbox = analyse(tbox_graph)
        terms = {s for s in tbox_graph.subjects() if isinstance(s, URIRef)} | {OWL.Thing, OWL.Nothing}
        back = _read_graphs(store, [g for g in background if g.endswith(("/entities", "/scenario"))])
        relationship_classes = tbox.subclasses(AG.Relationship)
        relationships = {s for s, o in back.subject_objects(RDF.type) if o in relationship_classes}
        claims = {c.id: c for v in views.values() for c in (*v.claims, *v.assumed)}
        assertions = {cid: _read_graphs(store, [c.assertion]) for cid, c in claims.items()}
        counting = {p for c in criteria for p in _counted(c.expression)}

        # run 1: background alone, and each claim alone with the background it reaches
        copies = [_Copy("bg", frozenset(), list(back))]
        for cid, graph in sorted(assertions.items()):
            copies.append(_Copy(f"c{len(copies)}", frozenset({cid}), _reach(back, graph) + list(graph)))
        progress(f"hermit engine: run 1 of 2 ({len(copies)} copies: background and each claim)")
        single = self._reason(tbox_graph, terms, criteria, copies, counting, relationships)

        conflicted = _conflicts(single, copies, criteria)
        # run 2: each view together, open and closed
        groups = _closure_groups(criteria)
        copies2: list[_Copy] = []
        for view in views.values():
            members = frozenset(c.id for c in (*view.claims, *view.assumed)) - conflicted
            triples = list(back) + [t for cid in sorted(members) for t in assertions[cid]]
            copies2.append(_Copy(f"v{len(copies2)}", members, triples))
            for closed in groups:
                copies2.append(_Copy(f"v{len(copies2)}", members, triples, closed=closed))
        progress(f"hermit engine: run 2 of 2 ({len(copies2)} copies: each view, open and closed)")
        joint = self._reason(tbox_graph, terms, criteria, copies2, counting, relationships)

        return _findings(views, criteria, relationships, copies, single, copies2, joint, assertions)

    # ------------------------------------------------------------------------------------------------

    def _reason(
        self,
        tbox: Graph,
        terms: set[Node],
        criteria: list[Criterion],
        copies: list[_Copy],
        counting: set[URIRef],
        relationships: set[Node],
    ) -> dict[str, dict[tuple[str, str], bool]]:
        """Membership of each copy's relationships in each criterion and its negation, by copy key."""
        try:
            return _run(tbox, terms, criteria, copies, counting, relationships)
        except _Inconsistent:
            if len(copies) == 1:
                return {copies[0].key: {}}
            middle = len(copies) // 2
            left = self._reason(tbox, terms, criteria, copies[:middle], counting, relationships)
            right = self._reason(tbox, terms, criteria, copies[middle:], counting, relationships)
            return {**left, **right}


class _Inconsistent(Exception):
    pass


def _counted(expr: Expr) -> set[URIRef]:
    if isinstance(expr, AtLeast):
        return {expr.prop}
    if isinstance(expr, (AndExpr, OrExpr)):
        return set().union(*(_counted(p) for p in expr.parts))
    if isinstance(expr, Not):
        return _counted(expr.part)
    if isinstance(expr, SomeExpr):
        return _counted(expr.filler)
    return set()


def _closure_groups(criteria: list[Criterion]) -> list[frozenset[URIRef]]:
    """Sets of properties to close together: a criterion is evaluated in a group only if every closed
    property it mentions is one it closes itself (greedy merging)."""
    groups: list[tuple[set[URIRef], list[Criterion]]] = []
    for criterion in criteria:
        if not criterion.closes:
            continue
        for props, members in groups:
            union = props | criterion.closes
            if all(_props(m.expression) & union <= m.closes for m in (*members, criterion)):
                props |= criterion.closes
                members.append(criterion)
                break
        else:
            groups.append((set(criterion.closes), [criterion]))
    return [frozenset(props) for props, _ in groups]


def _read_graphs(store: pyoxigraph.Store, graphs: Iterable[str]) -> Graph:
    graph = Graph()
    for name in graphs:
        data = store.dump(format=pyoxigraph.RdfFormat.N_TRIPLES, from_graph=pyoxigraph.NamedNode(name))
        if data:
            graph.parse(data=data.decode("utf-8"), format="nt")
    return graph


def _reach(back: Graph, claim: Graph) -> list[Triple]:
    """Background triples about the individuals a claim mentions, and what those reach in turn."""
    todo = [n for t in claim for n in (t[0], t[2]) if not isinstance(n, (BNode,)) and isinstance(n, URIRef)]
    seen: set[Node] = set()
    out: list[Triple] = []
    while todo:
        node = todo.pop()
        if node in seen:
            continue
        seen.add(node)
        for p, o in back.predicate_objects(node):
            out.append((node, p, o))
            if isinstance(o, URIRef) and p != RDF.type:
                todo.append(o)
    return out


def _rename(node: Node, key: str, terms: set[Node]) -> Node:
    if isinstance(node, BNode):
        return BNode(f"{node}{key}")
    if isinstance(node, URIRef) and node not in terms and not node.startswith(_VOCABULARIES):
        return URIRef(f"{node}__{key}")
    return node


def _run(
    tbox: Graph,
    terms: set[Node],
    criteria: list[Criterion],
    copies: list[_Copy],
    counting: set[URIRef],
    relationships: set[Node],
) -> dict[str, dict[tuple[str, str], bool]]:
    import owlready2

    world_graph = Graph()
    for triple in tbox:
        world_graph.add(triple)
    for criterion in criteria:  # not-C ≡ Relationship ⊓ ¬C: only relationships are worth realizing
        complement, both, members = BNode(), BNode(), BNode()
        world_graph.add((URIRef(NOT + criterion.name), RDF.type, OWL.Class))
        world_graph.add((URIRef(NOT + criterion.name), OWL.equivalentClass, both))
        world_graph.add((both, RDF.type, OWL.Class))
        Collection(world_graph, members, [AG.Relationship, complement])
        world_graph.add((both, OWL.intersectionOf, members))
        world_graph.add((complement, RDF.type, OWL.Class))
        world_graph.add((complement, OWL.complementOf, criterion.iri))
    for copy in copies:
        # literals play no part in the definitions, and HermiT rejects dates (not OWL 2 datatypes)
        renamed = [
            (_rename(s, copy.key, terms), p, _rename(o, copy.key, terms))
            for s, p, o in copy.triples
            if not isinstance(o, Literal)
        ]
        for triple in renamed:
            world_graph.add(triple)  # type: ignore[arg-type]
        distinct = sorted({t[2] for t in renamed if t[1] in counting and isinstance(t[2], URIRef)})
        if len(distinct) > 1:
            node, head = BNode(), BNode()
            world_graph.add((node, RDF.type, OWL.AllDifferent))
            Collection(world_graph, head, distinct)
            world_graph.add((node, OWL.distinctMembers, head))
        for prop in sorted(copy.closed):
            values: dict[Node, list[Node]] = defaultdict(list)
            for s, p, o in renamed:
                if p == prop:
                    values[s].append(o)
            for subject, objects in values.items():
                restriction, one_of, members = BNode(), BNode(), BNode()
                world_graph.add((subject, RDF.type, restriction))
                world_graph.add((restriction, RDF.type, OWL.Restriction))
                world_graph.add((restriction, OWL.onProperty, prop))
                world_graph.add((restriction, OWL.allValuesFrom, one_of))
                world_graph.add((one_of, RDF.type, OWL.Class))
                Collection(world_graph, members, sorted(set(objects)))
                world_graph.add((one_of, OWL.oneOf, members))

    fd, path = tempfile.mkstemp(prefix="allygraph-hermit-", suffix=".nt")
    os.close(fd)
    world = owlready2.World()
    try:
        world_graph.serialize(path, format="nt", encoding="utf-8")
        onto = world.get_ontology(Path(path).as_uri()).load()
        try:
            with onto:
                owlready2.sync_reasoner_hermit(world, infer_property_values=False, debug=0)
        except owlready2.OwlReadyInconsistentOntologyError:
            raise _Inconsistent() from None
        except owlready2.OwlReadyJavaError as exc:
            raise ReasonerError(f"HermiT failed: {str(exc).strip()[-500:]}") from None
        except FileNotFoundError as exc:
            raise ReasonerError(f"cannot run Java for HermiT ({exc}); install Java or use --engine sparql") from None
        members: dict[str, dict[tuple[str, str], bool]] = {c.key: {} for c in copies}
        suffixes = {f"__{c.key}": c.key for c in copies}
        for criterion in criteria:
            for label, iri in (("pos", str(criterion.iri)), ("neg", NOT + criterion.name)):
                cls = world[iri]
                if cls is None:
                    continue
                for individual in cls.instances(world=world):
                    base, sep, key = individual.iri.rpartition("__")
                    if sep and f"__{key}" in suffixes and URIRef(base) in relationships:
                        members[key][(label + " " + str(criterion.iri), base)] = True
        return members
    finally:
        world.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        _remove_owlready_leftovers()


def _remove_owlready_leftovers() -> None:
    """owlready2 leaves a dump of the world in the temp folder when the ontology is inconsistent."""
    folder = Path(tempfile.gettempdir())
    for leftover in itertools.chain(folder.glob("tmp*.owl"), folder.glob("tmp*.nt")):
        with contextlib.suppress(OSError):
            if leftover.stat().st_size and leftover.read_bytes()[:200].find(b"allygraph") >= 0:
                leftover.unlink()


def _conflicts(
    single: dict[str, dict[tuple[str, str], bool]], copies: list[_Copy], criteria: list[Criterion]
) -> frozenset[str]:
    """Claims whose own results contradict another claim's (or the background's) on some relationship."""
    by_fact: dict[tuple[str, str], set[str]] = defaultdict(set)
    for copy in copies:
        for label, r in single.get(copy.key, {}):
            polarity, criterion = label.split(" ", 1)
            by_fact[(polarity + " " + criterion, r)] |= set(copy.claims) or {""}
    out: set[str] = set()
    for (label, r), claims in by_fact.items():
        polarity, criterion = label.split(" ", 1)
        other = by_fact.get((("neg" if polarity == "pos" else "pos") + " " + criterion, r))
        if other:
            out |= (claims | other) - {""}
    return frozenset(out)


def _findings(
    views: dict[str, View],
    criteria: list[Criterion],
    relationships: set[Node],
    copies: list[_Copy],
    single: dict[str, dict[tuple[str, str], bool]],
    copies2: list[_Copy],
    joint: dict[str, dict[tuple[str, str], bool]],
    assertions: dict[str, Graph],
) -> Findings:
    findings: Findings = {}
    claim_copy = {next(iter(c.claims)): c.key for c in copies if c.claims}
    view_copies = iter(copies2)
    groups = _closure_groups(criteria)
    for view in views.values():
        open_copy = next(view_copies)
        closed_copies = {closed: next(view_copies) for closed in groups}
        members = [c.id for c in (*view.claims, *view.assumed)]
        for r in sorted(str(x) for x in relationships):
            mentions = [cid for cid in members if _mentions(assertions[cid], URIRef(r))]
            for criterion in criteria:
                key = str(criterion.iri)
                found: dict[str, list[frozenset[str]]] = {"pos": [], "neg": []}
                for polarity in ("pos", "neg"):
                    fact = (f"{polarity} {key}", r)
                    if single.get("bg", {}).get(fact):
                        found[polarity].append(frozenset())
                    found[polarity] += [
                        frozenset({cid}) for cid in members if single.get(claim_copy[cid], {}).get(fact)
                    ]
                    if not found[polarity] and joint.get(open_copy.key, {}).get(fact):
                        found[polarity].append(frozenset(mentions))
                closed_fails: list[frozenset[str]] = []
                if criterion.closes:
                    group = next(g for g in groups if criterion.closes <= g)
                    if joint.get(closed_copies[group].key, {}).get((f"neg {key}", r)):
                        closed_fails.append(frozenset(_value_claims(assertions, members, URIRef(r), criterion.closes)))
                if found["pos"] or found["neg"] or closed_fails:
                    findings[(view.name, r, key)] = Finding(
                        holds=tuple(found["pos"]), fails=tuple(found["neg"]), fails_closed=tuple(closed_fails)
                    )
    return findings


def _mentions(graph: Graph, node: URIRef) -> bool:
    return (node, None, None) in graph or (None, None, node) in graph


def _value_claims(assertions: dict[str, Graph], members: list[str], r: URIRef, props: frozenset[URIRef]) -> set[str]:
    return {cid for cid in members if any((r, p, None) in assertions[cid] for p in props)}
