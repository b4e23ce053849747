"""The SPARQL engine: definitions compiled from their OWL axioms into SPARQL that runs inside the store.

For a criterion C and a relationship r in a view, three queries are compiled from C's expression tree
and the ontology's axioms (tbox.py):

- pos(C): r is entailed to be a C by the view's evidence (open world);
- neg(C): r is entailed not to be a C (denials, disjointness, functional properties, distinct values);
- neg(C) with the world closed on C's `ag:closesWorldOn` properties: their known values are all values.

Every triple pattern that reads evidence is wrapped in `GRAPH ?gN`, so each solution names the claim
graphs it used: the supporting (or contradicting) claims come straight out of the query. A view is the
set of named graphs the query may read (background graphs plus the view's claim assertion graphs).
No definition is written in SPARQL by hand.
"""

from __future__ import annotations

import hashlib
import itertools
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import ClassVar

import pyoxigraph
from rdflib import URIRef

from .cache import cached
from .definitions import (
    And,
    AtLeast,
    Criterion,
    DataRange,
    DefinitionSet,
    Expr,
    HasValue,
    Named,
    Not,
    OneOf,
    Or,
    Some,
    Top,
)
from .namespaces import AG, GRAPH, ONTOLOGY_GRAPH, OWL, RDF
from .reason import DEFINITIONS_GRAPH, Finding, Findings, View, quads_of
from .tbox import TBox, analyse, one_of_members

# the graph the engine's copy merges the background graphs into (never one of a store's own graphs)
BACKGROUND_GRAPH = GRAPH["background"]

_MAX_BRANCHES = 64  # a union joined into more conjunctions than this stays one nested group


@dataclass(frozen=True)
class Pattern:
    """A group pattern kept as a union of conjunctions of atoms (triple blocks, VALUES, FILTERs, subqueries).

    Joins distribute over unions, so every conjunction can sit in one flat group beside the candidates:
    pyoxigraph re-evaluates a UNION nested in a join for every row on its left (relationships x
    agreements on treaty data), but joins a flat group with index lookups.
    """

    branches: tuple[tuple[str, ...], ...]  # () never matches; ((),) is the empty group
    graph_vars: tuple[str, ...] = ()

    @property
    def never(self) -> bool:
        return not self.branches

    @property
    def text(self) -> str:
        """The pattern as one SPARQL group."""
        if not self.branches:
            return "{ FILTER(false) }"
        groups = ["{ " + " ".join(atoms) + " }" if atoms else "{ }" for atoms in self.branches]
        return groups[0] if len(groups) == 1 else "{ " + " UNION ".join(groups) + " }"


_NEVER = Pattern(())
_EMPTY = Pattern(((),))


def _atom(text: str, graph_vars: tuple[str, ...] = ()) -> Pattern:
    return Pattern(((text,),), graph_vars)


def _iri(iri: URIRef | str) -> str:
    return f"<{iri}>"


_COMPARE = {"minInclusive": ">=", "maxInclusive": "<=", "minExclusive": ">", "maxExclusive": "<"}


def _in_data_range(var: str, expr: DataRange) -> str:
    """A SPARQL condition: `var` is a literal of the range's datatype within its facets."""
    tests = [f"DATATYPE({var}) = <{expr.datatype}>"] + [f"{var} {_COMPARE[f]} {bound}" for f, bound in expr.facets]
    return " && ".join(tests)


def _values(var: str, iris: Iterable[URIRef]) -> Pattern:
    members = " ".join(_iri(i) for i in sorted(iris))
    return _atom(f"VALUES {var} {{ {members} }}") if members else _NEVER


class Compiler:
    """Compiles expression trees to SPARQL group patterns over a focus variable."""

    def __init__(self, tbox: TBox, vocabulary: Vocabulary | None = None) -> None:
        self.tbox = tbox
        self.vocabulary = vocabulary  # when given: patterns needing a predicate or class it lacks never match
        self.asked = Vocabulary(set(), set())  # every predicate and rdf:type class a pattern needed
        self._counter = itertools.count()
        self._depth = 0  # nesting of named-class patterns: only the outermost stays a flat union

    def fresh(self, prefix: str) -> str:
        return f"?{prefix}{next(self._counter)}"

    def _graph(self, triples: str) -> Pattern:
        needs = _predicates(triples)
        self.asked.predicates.update(needs)
        if self.vocabulary is not None and not needs <= self.vocabulary.predicates:
            return _NEVER
        g = self.fresh("g")
        return _atom(f"GRAPH {g} {{ {triples} }}", (g,))

    def _typed(self, x: str, classes: Iterable[URIRef]) -> Pattern:
        """`x` is typed with one of `classes` in some graph."""
        names = {str(c) for c in classes}
        self.asked.classes.update(names)
        if self.vocabulary is not None:
            names &= self.vocabulary.classes
        t = self.fresh("t")
        return self._join([self._graph(f"{x} <{RDF.type}> {t} ."), _values(t, (URIRef(n) for n in names))])

    def _nested(self, build: Callable[[], Pattern], x: str) -> Pattern:
        """A named-class pattern; nested in another one, a union of flat branches becomes one DISTINCT
        subquery binding `x`, its graph names in one variable. pyoxigraph joins a subquery once, where a
        union of derivations joined into every branch would repeat the join per derivation (3x on 10k)."""
        self._depth += 1
        try:
            pattern = build()
        finally:
            self._depth -= 1
        flat = not any(a.startswith("{") for b in pattern.branches for a in b)
        if self._depth == 0 or len(pattern.branches) <= 1 or not flat:
            return pattern
        shared = _positional(pattern, f"?{self.fresh('w')[1:]}_")
        u = self.fresh("u")
        # where the background alone derives it, a derivation through claims is not minimal: left out here,
        # it does not multiply the solutions of the pattern this one is nested in. What the background
        # derives is one subquery, joined once (an EXISTS would be evaluated per solution).
        background = f"<{BACKGROUND_GRAPH}>"
        alone = " && ".join(f"COALESCE({g} = {background}, true)" for g in shared.graph_vars) or "true"
        b = self.fresh("b")
        derived = f"{{ SELECT DISTINCT {x} (true AS {b}) WHERE {_in_background(shared.text, x)} }}"
        return _atom(
            f"{{ SELECT DISTINCT {x} ({_concat(shared.graph_vars)} AS {u}) WHERE "
            f"{{ {shared.text} OPTIONAL {{ {derived} }} FILTER (!BOUND({b}) || {alone}) }} }}",
            (u,),
        )

    # -- combinators -------------------------------------------------------------------------------

    @staticmethod
    def _join(parts: list[Pattern]) -> Pattern:
        branches: list[tuple[str, ...]] = [()]
        for part in parts:
            if part.never:
                return _NEVER
            if len(branches) * len(part.branches) > _MAX_BRANCHES:
                part = _atom(part.text)  # too many to distribute: keep it nested
            branches = [left + right for left in branches for right in part.branches]
        return Pattern(tuple(branches), tuple(v for p in parts for v in p.graph_vars))

    @staticmethod
    def _union(parts: list[Pattern]) -> Pattern:
        return Pattern(tuple(b for p in parts for b in p.branches), tuple(v for p in parts for v in p.graph_vars))

    # -- positive: the evidence entails x ∈ expr ---------------------------------------------------

    def pos(
        self, expr: Expr, x: str, *, known: frozenset[URIRef] = frozenset(), stack: tuple[URIRef, ...] = ()
    ) -> Pattern:
        if isinstance(expr, Top):
            return _EMPTY
        if isinstance(expr, Named):
            return self._nested(lambda: self._pos_named(expr.iri, x, known=known, stack=stack), x)
        if isinstance(expr, And):
            return self._join([self.pos(p, x, known=known, stack=stack) for p in expr.parts])
        if isinstance(expr, Or):
            return self._union([self.pos(p, x, known=known, stack=stack) for p in expr.parts])
        if isinstance(expr, Not):
            return self.neg(expr.part, x, closed=frozenset(), known=known, stack=stack)
        if isinstance(expr, HasValue):
            return self._graph(f"{x} {_iri(expr.prop)} {_iri(expr.value)} .")
        if isinstance(expr, OneOf):
            return _values(x, expr.members)
        if isinstance(expr, DataRange):  # joined into the group that binds x (a Some's edge)
            return _atom(f"FILTER({_in_data_range(x, expr)})")
        if isinstance(expr, Some):
            v = self.fresh("v")
            edge = self._graph(f"{x} {_iri(expr.prop)} {v} .")
            return self._join([edge, self.pos(expr.filler, v, known=self._in_range(expr.prop), stack=stack)])
        if isinstance(expr, AtLeast):
            return self._pos_at_least(expr, x, stack)
        raise TypeError(expr)

    def _pos_named(self, cls: URIRef, x: str, *, known: frozenset[URIRef], stack: tuple[URIRef, ...]) -> Pattern:
        if known & self.tbox.subclasses(cls):
            return _EMPTY  # already known: a candidate is a relationship, a value is in the range
        subclasses = self.tbox.subclasses(cls)
        branches = [self._typed(x, subclasses)]
        individuals = sorted(i for i, types in self.tbox.types.items() if cls in types)
        if individuals:  # the ontology's own individuals (longTerm, defencePledge, ...)
            branches.append(_values(x, individuals))
        for prop, domains in sorted(self.tbox.domain_of.items()):
            if domains & subclasses:
                branches.append(self._graph(f"{x} {_iri(prop)} [] ."))
        for prop, ranges in sorted(self.tbox.range_of.items()):
            if ranges & subclasses:
                branches.append(self._graph(f"[] {_iri(prop)} {x} ."))
        for sub in sorted(subclasses):
            if sub in stack:
                continue
            members = one_of_members(self.tbox, sub)
            if members is not None:
                branches.append(_values(x, members))
                continue
            for definition in self.tbox.definitions.get(sub, ()):
                if sub != cls and self._entails_named(definition, cls):
                    continue  # sub ≡ P ⊓ ... with P ⊑ cls: P's own branch already finds these
                branches.append(self.pos(definition, x, known=known, stack=(*stack, sub)))
        return self._union(branches)

    def _in_range(self, prop: URIRef) -> frozenset[URIRef]:
        """Classes every value of `prop` belongs to, by its declared range."""
        return frozenset().union(*(self.tbox.superclasses(r) for r in self.tbox.range_of.get(prop, ())))

    def _entails_named(self, expr: Expr, cls: URIRef) -> bool:
        """True if `expr` is an intersection with a named part that is a subclass of `cls`."""
        return isinstance(expr, And) and any(
            isinstance(p, Named) and cls in self.tbox.superclasses(p.iri) for p in expr.parts
        )

    def _pos_at_least(self, expr: AtLeast, x: str, stack: tuple[URIRef, ...]) -> Pattern:
        v = self.fresh("v")
        self._depth += 1  # the filler is nested: its named classes become subqueries
        try:
            filler = self.pos(expr.filler, v, known=self._in_range(expr.prop), stack=stack)
        finally:
            self._depth -= 1
        if filler.graph_vars and not filler.never:  # each value's derivations once, not once per edge
            f = self.fresh("f")
            filler = _atom(
                f"{{ SELECT {v} (GROUP_CONCAT(DISTINCT {_concat(filler.graph_vars)}; separator=' ') AS {f}) "
                f"WHERE {filler.text} GROUP BY {v} }}",
                (f,),
            )
        inner = self._join([self._graph(f"{x} {_iri(expr.prop)} {v} ."), filler])
        gs = self.fresh("gs")
        concat = _concat(inner.graph_vars)
        return _atom(
            f"{{ SELECT {x} (GROUP_CONCAT(DISTINCT {concat}; separator=' ') AS {gs}) WHERE {inner.text} "
            f"GROUP BY {x} HAVING (COUNT(DISTINCT {v}) >= {expr.count}) }}",
            (gs,),
        )

    # -- negative: the evidence entails x ∉ expr ---------------------------------------------------

    def neg(
        self,
        expr: Expr,
        x: str,
        *,
        closed: frozenset[URIRef],
        known: frozenset[URIRef] = frozenset(),
        stack: tuple[URIRef, ...] = (),
    ) -> Pattern:
        if isinstance(expr, Top):
            return _NEVER
        if isinstance(expr, Named):
            return self._nested(lambda: self._neg_named(expr.iri, x, closed=closed, known=known, stack=stack), x)
        if isinstance(expr, And):
            return self._union([self.neg(p, x, closed=closed, known=known, stack=stack) for p in expr.parts])
        if isinstance(expr, Or):
            return self._join([self.neg(p, x, closed=closed, known=known, stack=stack) for p in expr.parts])
        if isinstance(expr, Not):
            return self.pos(expr.part, x, known=known, stack=stack)
        if isinstance(expr, OneOf):
            return _values(x, self.tbox.distinct_from_all(expr.members))
        if isinstance(expr, DataRange):  # a literal outside the range (reached through a functional property)
            return _atom(f"FILTER(!({_in_data_range(x, expr)}))")
        if isinstance(expr, HasValue):
            return self._neg_some(expr.prop, OneOf((expr.value,)), x, closed, stack)
        if isinstance(expr, Some):
            return self._neg_some(expr.prop, expr.filler, x, closed, stack)
        if isinstance(expr, AtLeast):
            return self._neg_at_least(expr, x, closed, stack)
        raise TypeError(expr)

    def _neg_named(
        self, cls: URIRef, x: str, *, closed: frozenset[URIRef], known: frozenset[URIRef], stack: tuple[URIRef, ...]
    ) -> Pattern:
        branches: list[Pattern] = []
        disjoint = self.tbox.disjoint_with(cls)
        if disjoint:
            branches.append(self._typed(x, disjoint))
            for other in sorted(disjoint):  # membership of a defined class disjoint with cls
                if other not in stack and other in self.tbox.definitions:
                    branches.append(self._pos_named(other, x, known=frozenset(), stack=(*stack, cls)))
        c, a = self.fresh("c"), self.fresh("a")
        complement = self._graph(f"{x} <{RDF.type}> {c} . {c} <{OWL.complementOf}> {a} .")
        branches.append(self._join([complement, _values(a, self.tbox.superclasses(cls))]))
        if cls not in stack:
            members = one_of_members(self.tbox, cls)
            if members is not None:
                branches.append(_values(x, self.tbox.distinct_from_all(members)))
            for definition in self.tbox.definitions.get(cls, ()):
                branches.append(self.neg(definition, x, closed=closed, known=known, stack=(*stack, cls)))
        return self._union(branches)

    def _named_supers(self, expr: Expr) -> frozenset[URIRef]:
        """Named classes every member of `expr` belongs to (for matching denied restrictions)."""
        if isinstance(expr, Named):
            return self.tbox.superclasses(expr.iri) | {OWL.Thing}
        if isinstance(expr, And):
            return frozenset().union(*(self._named_supers(p) for p in expr.parts))
        if isinstance(expr, OneOf):
            shared = frozenset.intersection(*(self.tbox.types_of(m) for m in expr.members))
            return shared | {OWL.Thing}
        return frozenset({OWL.Thing})

    def _neg_some(
        self,
        prop: URIRef,
        filler: Expr,
        x: str,
        closed: frozenset[URIRef],
        stack: tuple[URIRef, ...],
    ) -> Pattern:
        branches: list[Pattern] = []
        # a denied claim: x ∈ ¬∃prop.D' with D ⊑ D'
        c, r, d = self.fresh("c"), self.fresh("r"), self.fresh("d")
        denial = self._graph(
            f"{x} <{RDF.type}> {c} . {c} <{OWL.complementOf}> {r} . "
            f"{r} <{OWL.onProperty}> {_iri(prop)} ; <{OWL.someValuesFrom}> {d} ."
        )
        branches.append(self._join([denial, _values(d, self._named_supers(filler))]))
        members = filler.members if isinstance(filler, OneOf) else None
        if isinstance(filler, Named):
            members = one_of_members(self.tbox, filler.iri)
        if members:  # D enumerates its members (a value, or Pledge): a negative property assertion for each
            branches.append(self._join([self._negative_assertion(prop, x, m) for m in members]))
        holders = self._holders(prop, filler)
        for holder in holders:  # x ∉ N, where every x with a prop-value in D is an N
            if holder not in stack:
                others = tuple(h for h in holders if h != holder)  # each is a branch of its own here
                negated = self.neg(Named(holder), x, closed=closed, stack=(*stack, *others))
                branches.append(_distinct(negated, x, self.fresh("u")))
        if prop in self.tbox.functional:  # its one value is known not to be a D
            v = self.fresh("v")
            edge = self._graph(f"{x} {_iri(prop)} {v} .")
            branches.append(self._join([edge, self.neg(filler, v, closed=frozenset(), stack=stack)]))
        edge = self._graph(f"{x} {_iri(prop)} {self.fresh('v')} .")
        if prop in closed and not edge.never:  # every known value is not a D, and there is at least one
            w = self.fresh("v")
            others = self._graph(f"{x} {_iri(prop)} {w} .").branches[0][0]
            known_not = self._known_not(prop, filler, x, w, stack).text
            # MINUS, not FILTER NOT EXISTS: pyoxigraph evaluates NOT EXISTS by rescanning for every row
            branches.append(self._join([edge, _atom(f"MINUS {{ {others} MINUS {known_not} }}")]))
        return self._union(branches)

    def _negative_assertion(self, prop: URIRef, x: str, value: URIRef) -> Pattern:
        n = self.fresh("n")
        return self._graph(
            f"{n} <{RDF.type}> <{OWL.NegativePropertyAssertion}> ; <{OWL.sourceIndividual}> {x} ; "
            f"<{OWL.assertionProperty}> {_iri(prop)} ; <{OWL.targetIndividual}> {_iri(value)} ."
        )

    def _holders(self, prop: URIRef, filler: Expr) -> tuple[URIRef, ...]:
        """Named classes N ≡ P ⊓ ... ⊓ ∃prop.D' with ∃prop.D ⊑ N: each P a superclass of prop's domain and
        D ⊑ D' by the hierarchy or prop's range (InstitutionallyBased for ∃hasInstitutionalBasis.D)."""
        domain = frozenset().union(*(self.tbox.superclasses(d) for d in self.tbox.domain_of.get(prop, ()))) | {
            OWL.Thing
        }
        values = self._named_supers(filler) | self._in_range(prop)

        def implied(part: Expr) -> bool:
            if isinstance(part, Named):
                return part.iri in domain
            return (
                isinstance(part, Some)
                and part.prop == prop
                and (isinstance(part.filler, Top) or (isinstance(part.filler, Named) and part.filler.iri in values))
            )

        found = []
        for cls, definitions in sorted(self.tbox.definitions.items()):
            for definition in definitions:
                parts = definition.parts if isinstance(definition, And) else (definition,)
                if any(isinstance(p, Some) for p in parts) and all(implied(p) for p in parts):
                    found.append(cls)
                    break
        return tuple(found)

    def _neg_at_least(self, expr: AtLeast, x: str, closed: frozenset[URIRef], stack: tuple[URIRef, ...]) -> Pattern:
        if expr.prop not in closed:
            return _NEVER
        v, flag, counted, gs = self.fresh("v"), self.fresh("k"), self.fresh("v"), self.fresh("gs")
        edge = self._graph(f"{x} {_iri(expr.prop)} {v} .")
        if edge.never:  # no values at all: nothing to count (a relationship without any has no group)
            return _NEVER
        known_not = self._known_not(expr.prop, expr.filler, x, v, stack)
        could_be = f"COUNT(DISTINCT {counted})"  # values not known to fall outside the filler
        return _atom(
            f"{{ SELECT {x} (GROUP_CONCAT(DISTINCT STR({edge.graph_vars[0]}); separator=' ') AS {gs}) "
            f"WHERE {{ {edge.branches[0][0]} "
            f"OPTIONAL {{ SELECT DISTINCT {x} {v} (true AS {flag}) WHERE {known_not.text} }} "
            f"BIND(IF(BOUND({flag}), ?unbound, {v}) AS {counted}) }} "
            f"GROUP BY {x} HAVING ({could_be} < {expr.count}) }}",
            (gs,),
        )

    def _known_not(self, prop: URIRef, filler: Expr, x: str, v: str, stack: tuple[URIRef, ...]) -> Pattern:
        """Binds `x` and `v`, a value of `x`'s `prop` that is known not to be a `filler`."""
        edge = self._graph(f"{x} {_iri(prop)} {v} .")
        return self._join([edge, self.neg(filler, v, closed=frozenset(), stack=stack)])


def _distinct(pattern: Pattern, x: str, u: str) -> Pattern:
    """`pattern` as one DISTINCT subquery binding `x`, its graph names in `u`: joined once as a whole,
    where a union nested in a branch would be evaluated again for every row on its left."""
    if pattern.never or len(pattern.branches) <= 1:
        return pattern
    shared = _positional(pattern, f"{u}_")
    return _atom(f"{{ SELECT DISTINCT {x} ({_concat(shared.graph_vars)} AS {u}) WHERE {shared.text} }}", (u,))


def _concat(graph_vars: tuple[str, ...]) -> str:
    """The names bound to `graph_vars`, space-separated, as one string (unbound ones left out)."""
    if not graph_vars:
        return "''"
    parts = [f"COALESCE(STR({g}), '')" for g in graph_vars]
    return parts[0] if len(parts) == 1 else "CONCAT(" + ", ' ', ".join(parts) + ")"


def _in_background(text: str, keep: str) -> str:
    """`text` with each variable but `keep` renamed apart and each graph variable the background graph."""

    def rename(match: re.Match[str]) -> str:
        token = match.group(0)
        return token if token.startswith("<") or token == keep else f"{token}_bg"

    renamed = re.sub(r"<[^<>\s]*>|\?\w+", rename, text)
    return re.sub(r"GRAPH \?\w+", f"GRAPH <{BACKGROUND_GRAPH}>", renamed)


def _positional(pattern: Pattern, prefix: str) -> Pattern:
    """The same union with the graph variables of each branch renamed `<prefix>0`, `<prefix>1`, ... in the
    order they occur: a projection then concatenates as many as the widest branch binds, not every one."""
    width, branches = 0, []
    for atoms in pattern.branches:
        text = " ".join(atoms)
        present = sorted(
            (v for v in set(pattern.graph_vars) if re.search(re.escape(v) + r"\b", text)),
            key=lambda v: re.search(re.escape(v) + r"\b", text).start(),  # type: ignore[union-attr]
        )
        names = {v: f"{prefix}{i}" for i, v in enumerate(present)}
        width = max(width, len(names))
        branches.append(tuple(re.sub(r"\?\w+\b", lambda m, n=names: n.get(m.group(0), m.group(0)), a) for a in atoms))
    return Pattern(tuple(branches), tuple(f"{prefix}{i}" for i in range(width)))


# ----------------------------------------------------------------------------------------------------
# Queries per criterion
# ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Query:
    text: str
    per_view: bool  # True when a smaller view can change a solution (closure, counting), not just drop it
    never: bool = False  # no pattern can match (all compiled away): nothing to run


@dataclass(frozen=True)
class Vocabulary:
    """Predicates and rdf:type classes (IRIs): those a store uses, or those compiled patterns need."""

    predicates: set[str] | frozenset[str]
    classes: set[str] | frozenset[str]

    def key(self) -> str:
        """A stable digest (for the compile cache)."""
        text = "\n".join(sorted(self.predicates)) + "\n\n" + "\n".join(sorted(self.classes))
        return hashlib.sha256(text.encode()).hexdigest()[:32]


def vocabulary(store: pyoxigraph.Store, asked: Vocabulary) -> Vocabulary:
    """Which of the `asked` predicates and classes occur in `store`: one query of index lookups."""
    if not asked.predicates and not asked.classes:
        return Vocabulary(frozenset(), frozenset())
    predicates = " ".join(f"<{p}>" for p in sorted(asked.predicates))
    classes = " ".join(f"<{c}>" for c in sorted(asked.classes))
    text = (
        f"SELECT ?p ?c WHERE {{ {{ VALUES ?p {{ {predicates} }} FILTER EXISTS {{ GRAPH ?g {{ ?s ?p ?o }} }} }} "
        f"UNION {{ VALUES ?c {{ {classes} }} FILTER EXISTS {{ GRAPH ?g {{ ?s <{RDF.type}> ?c }} }} }} }}"
    )
    found_p: set[str] = set()
    found_c: set[str] = set()
    for row in store.query(text):
        if row["p"] is not None:
            found_p.add(row["p"].value)
        if row["c"] is not None:
            found_c.add(row["c"].value)
    return Vocabulary(frozenset(found_p), frozenset(found_c))


_TYPE = f"<{RDF.type}>"


@cache
def _predicates(triples: str) -> frozenset[str]:
    """The constant predicates (rdf:type aside) of a block of triple patterns as the compiler writes them."""
    found, position = set(), 0
    for token in triples.split():
        if token == ".":
            position = 0
        elif token == ";":
            position = 1
        elif position == 1:
            if token.startswith("<") and token != _TYPE:
                found.add(token[1:-1])
            position = 2
        else:
            position = 1 if position == 0 else position
    return frozenset(found)


@dataclass(frozen=True)
class CriterionQueries:
    criterion: Criterion
    pos: Query
    neg: Query
    neg_closed: Query | None


def _binds_x(atom: str) -> bool:
    starts = ("GRAPH", "{ SELECT ?x ", "{ SELECT DISTINCT ?x ", "VALUES ?x ")
    return atom.startswith(starts) and re.search(r"\?x\b", atom) is not None


def compile_criterion(
    tbox: TBox, criterion: Criterion, candidates: tuple[str, ...], vocabulary: Vocabulary | None = None
) -> tuple[CriterionQueries, Vocabulary]:
    """The three SELECT queries for `criterion`, and what their patterns asked of the store's vocabulary.

    `candidates` are atoms binding ?x to relationships; with `vocabulary`, the patterns that need a
    predicate or class the store lacks are left out (on a store without treaty data, most of them).
    A conjunction that binds ?x itself leaves the candidates out (six times faster on treaty data), so its
    solutions may name other nodes: keep only the candidates' (see `evaluate`).
    """
    compiler = Compiler(tbox, vocabulary)

    def select(pattern: Pattern) -> Query:
        # one string of graph names per solution, graph variables shared by position across branches
        shared = _positional(pattern, "?w_")
        projection = f"?x ({_concat(shared.graph_vars)} AS ?used)"
        groups = [" ".join(a if any(_binds_x(x) for x in a) else (*candidates, *a)) for a in shared.branches]
        groups = groups or [f"{' '.join(candidates)} FILTER(false)"]
        where = groups[0] if len(groups) == 1 else " UNION ".join(f"{{ {g} }}" for g in groups)
        text = _canonical(f"SELECT DISTINCT {projection} WHERE {{ {where} }}")
        # closure works through MINUS and counting through GROUP BY: without them a smaller view only drops
        # solutions (a closed query is then the negation itself)
        return Query(text, per_view="MINUS" in text or "GROUP BY" in text, never=not shared.branches)

    root = tbox.superclasses(AG.Relationship)
    # the named class, when it has a definition, so subclasses (treaty criteria) and disjoint classes count
    expr: Expr = Named(criterion.iri) if criterion.iri in tbox.definitions else criterion.expression
    pos = select(compiler.pos(expr, "?x", known=root))
    neg = select(compiler.neg(expr, "?x", closed=frozenset(), known=root))
    neg_closed = None
    if criterion.closes:
        neg_closed = select(compiler.neg(expr, "?x", closed=criterion.closes, known=root))
    return CriterionQueries(criterion, pos, neg, neg_closed), compiler.asked


def candidates_pattern(tbox: TBox) -> tuple[str, ...]:
    """Atoms binding ?x to every relationship typed in a background graph."""
    return (
        f"GRAPH ?gcand {{ ?x <{RDF.type}> ?xtype . }}",
        _values("?xtype", tbox.subclasses(AG.Relationship)).branches[0][0],
    )


def relationships_in(store: pyoxigraph.Store, candidates: tuple[str, ...]) -> frozenset[str]:
    """The IRIs the candidates pattern binds ?x to in `store`."""
    return frozenset(s["x"].value for s in store.query(f"SELECT DISTINCT ?x WHERE {{ {' '.join(candidates)} }}"))


def copy_graphs(
    store: pyoxigraph.Store,
    graphs: Iterable[str],
    *,
    individuals_only: frozenset[str] = frozenset(),
    predicates: frozenset[str] | None = None,
    by_predicate: frozenset[str] = frozenset(),
    merge: Mapping[str, str] | None = None,
) -> pyoxigraph.Store:
    """An in-memory store holding `graphs` of `store`, with their names (or, for a graph in `merge`, the
    name it maps to: several graphs may go into one).

    Of a graph in `individuals_only` (the ontology's, the definitions'), only what it says of its named
    individuals: the rest is the TBox, which the compiled queries already hold. Of a graph in
    `by_predicate` (the large background graphs), only the statements whose predicate is one of
    `predicates`: every pattern the compiler writes has a constant predicate, so the others (labels,
    dates, descriptions) cannot match; reading them is most of the copy's time on a store on disk.
    """
    merge = merge or {}
    copy = pyoxigraph.Store()
    names = list(dict.fromkeys(graphs))
    whole = [g for g in names if g not in individuals_only and (predicates is None or g not in by_predicate)]
    copy.extend(quads_of(store, [g for g in whole if g not in merge]))
    for name in names:
        graph = pyoxigraph.NamedNode(merge.get(name, name))
        if name in individuals_only:
            rows = store.query(f"SELECT ?s ?p ?o WHERE {{ GRAPH <{name}> {{ ?s a <{OWL.NamedIndividual}> ; ?p ?o }} }}")
        elif predicates is not None and name in by_predicate:
            values = " ".join(f"<{p}>" for p in sorted(predicates))
            rows = store.query(f"SELECT ?s ?p ?o WHERE {{ VALUES ?p {{ {values} }} GRAPH <{name}> {{ ?s ?p ?o }} }}")
        elif name in merge:
            rows = store.query(f"SELECT ?s ?p ?o WHERE {{ GRAPH <{name}> {{ ?s ?p ?o }} }}")
        else:
            continue
        copy.extend(pyoxigraph.Quad(s, p, o, graph) for s, p, o in rows)
    return copy


Compiled = tuple[tuple[str, ...], list["CriterionQueries"], Vocabulary]  # candidates, queries, asked


class SparqlEngine:
    """Runs the compiled queries inside the store, one set per view."""

    name = "sparql"

    # compiled queries per definition set and vocabulary, for the life of the process (the set is kept, so
    # its id stays unique)
    _cache: ClassVar[dict[tuple[int, str], tuple[DefinitionSet, Compiled]]] = {}

    def _compiled(self, definitions: DefinitionSet, present: Vocabulary | None = None) -> Compiled:
        key = (id(definitions), present.key() if present is not None else "")
        if key not in self._cache:

            def compile_all() -> Compiled:
                tbox = analyse(definitions.graph)
                candidates = candidates_pattern(tbox)
                compiled, predicates, classes = [], set(), set()
                for criterion in definitions.criteria().values():
                    queries, asked = compile_criterion(tbox, criterion, candidates, present)
                    compiled.append(queries)
                    predicates |= asked.predicates
                    classes |= asked.classes
                return candidates, compiled, Vocabulary(frozenset(predicates), frozenset(classes))

            # on disk too (cache.py): compiling is most of the time a small ledger takes
            name = f"sparql-{definitions.key}-{key[1] or 'all'}"
            self._cache[key] = (definitions, cached(name, compile_all) if definitions.key else compile_all())
        return self._cache[key][1]

    def queries(self, definitions: DefinitionSet, present: Vocabulary | None = None) -> list[CriterionQueries]:
        """The compiled queries (with `present`, only the patterns a store with that vocabulary can match)."""
        return self._compiled(definitions, present)[1]

    def evaluate(
        self,
        store: pyoxigraph.Store,
        definitions: DefinitionSet,
        criteria: list[Criterion],
        views: dict[str, View],
        background: list[str],
        progress: Callable[[str], None],
    ) -> Findings:
        """Monotone queries run once over every view's evidence, and each solution is kept in the views
        that hold all the claim graphs it used; closure and counting queries run once per view."""
        wanted = {c.iri for c in criteria}
        claim_of = {c.assertion: c.id for v in views.values() for c in (*v.claims, *v.assumed)}

        # Every query runs on graphs copied into memory: pyoxigraph slows down by orders of magnitude when a
        # query is restricted to hundreds of named graphs (140 s against 0.06 s on ATOP + corpus), and its
        # on-disk store answers these queries about three times slower. The monotone queries read one copy
        # of every view's evidence; a view that holds all of it (`all`, alone) reuses that copy.
        tbox_graphs = frozenset({str(ONTOLOGY_GRAPH), str(DEFINITIONS_GRAPH)})
        asked = self._compiled(definitions)[2]
        predicates = frozenset(asked.predicates | {str(RDF.type)})

        # the background graphs go into one graph of the copy: a derivation reads the background as one
        # body (as HermiT does), and the same derivation through two background graphs is one solution
        merged = dict.fromkeys(background, str(BACKGROUND_GRAPH))

        def copy_of(graphs: list[str]) -> pyoxigraph.Store:
            return copy_graphs(
                store,
                graphs,
                individuals_only=tbox_graphs,
                predicates=predicates,
                by_predicate=frozenset(background) - tbox_graphs,
                merge=merged,
            )

        shared = copy_of(background + list(claim_of))
        copies: dict[str, pyoxigraph.Store] = {}

        def view_store(name: str) -> pyoxigraph.Store:
            if set(views[name].graphs) == set(claim_of):
                return shared
            if name not in copies:
                copies.clear()  # one view at a time: queries are grouped by view below
                copies[name] = copy_of(background + views[name].graphs)
            return copies[name]

        # (view, relationship, criterion) -> claim-id sets per kind (pos, neg, closed), one per solution.
        # Kept small, as there is an entry per relationship and criterion found: a kind's set is made
        # when first needed, and the relationship strings and one-claim sets are shared.
        found: dict[tuple[str, str, str], list[set[frozenset[str]] | None]] = {}
        view_ids = {name: frozenset(c.id for c in (*v.claims, *v.assumed)) for name, v in views.items()}
        single: dict[str, frozenset[str]] = {}

        def solution_of(ids: list[str]) -> frozenset[str]:
            if len(ids) != 1:
                return frozenset(ids)
            value = single.get(ids[0])
            if value is None:
                value = single[ids[0]] = frozenset(ids)
            return value

        def add(targets: list[tuple[str, int]], view: str, r: str, ids: frozenset[str]) -> None:
            for key, kind in targets:
                entry = found.get((view, r, key))
                if entry is None:
                    entry = found[(view, r, key)] = [None, None, None]
                sets = entry[kind]
                if sets is None:
                    entry[kind] = {ids}
                else:
                    sets.add(ids)

        def collect(text: str, targets: list[tuple[str, int]]) -> None:
            every = [name for name, members in view_ids.items() if members == everything]  # all evidence
            others = [(name, members) for name, members in view_ids.items() if members != everything]
            for x, used in shared.query(text):
                r = relationships.get(x.value)
                if r is None:
                    continue
                ids = []
                for g in used.value.split():
                    claim = claim_of.get(g)
                    if claim is not None:
                        ids.append(claim)
                    elif g not in background_graphs:
                        break  # read a graph that is no view's evidence (a hypothetical, say)
                else:
                    solution = solution_of(ids)
                    for name in every:
                        add(targets, name, r, solution)
                    for name, members in others:
                        if solution <= members:
                            add(targets, name, r, solution)

        everything = frozenset(claim_of.values())
        background_graphs = frozenset({str(BACKGROUND_GRAPH)})
        present = vocabulary(shared, asked)  # what the store holds of what the patterns may ask
        candidates, all_compiled, _ = self._compiled(definitions, present)
        relationships = {r: r for r in relationships_in(shared, candidates)}  # one string for each
        # each distinct query once (closure often adds nothing to a negation: the same query; texts are
        # canonical, see _canonical), for every (criterion, kind) it answers
        monotone: dict[str, list[tuple[str, int]]] = defaultdict(list)
        per_view: dict[str, list[tuple[str, int]]] = defaultdict(list)
        for queries in all_compiled:
            if queries.criterion.iri not in wanted:
                continue
            for kind, query in enumerate((queries.pos, queries.neg, queries.neg_closed)):
                if query is not None and not query.never:
                    group = per_view if query.per_view else monotone
                    group[query.text].append((str(queries.criterion.iri), kind))
        for text, targets in monotone.items():
            collect(text, targets)
        for name in views if per_view else ():
            copy = view_store(name)
            in_copy = relationships_in(copy, candidates)
            for text, targets in per_view.items():
                for x, used in copy.query(text):
                    if x.value in in_copy:
                        r = relationships.get(x.value, x.value)
                        add(targets, name, r, solution_of([claim_of[g] for g in used.value.split() if g in claim_of]))

        # each entry dropped as its finding is made: the two never both fill memory
        findings: Findings = {}
        while found:
            where, (pos, neg, closed) = found.popitem()
            findings[where] = Finding(holds=_minimal(pos), fails=_minimal(neg), fails_closed=_minimal(closed))
        return findings


def _canonical(text: str) -> str:
    """`text` with its variables renamed `?v_0`, `?v_1`, ... in the order they occur (?x and ?used kept,
    IRIs untouched): one string for queries that differ only in the names the compiler gave them."""
    names: dict[str, str] = {"?x": "?x", "?used": "?used"}

    def rename(match: re.Match[str]) -> str:
        token = match.group(0)
        return token if token.startswith("<") else names.setdefault(token, f"?v_{len(names) - 2}")

    return re.sub(r"<[^<>\s]*>|\?\w+", rename, text)


def _minimal(sets: set[frozenset[str]] | None) -> tuple[frozenset[str], ...]:
    """The claim-id sets no other one is a proper subset of (minimal derivations), in a stable order."""
    if not sets:
        return ()
    if len(sets) == 1:
        return tuple(sets)
    return tuple(sorted((s for s in sets if not any(other < s for other in sets)), key=sorted))
