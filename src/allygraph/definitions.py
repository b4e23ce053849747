"""Alliance definitions: OWL classes read from Turtle, with their criteria as class expressions.

A definition is an OWL class with `skos:notation` (its short name) and `ag:criterion` links to named
criterion classes; it is equivalent to the intersection (all criteria) or union (any criterion) of them.
Criteria are parsed into a small expression tree that both reasoning engines consume: HermiT gets the
OWL as written, the SPARQL engine compiles the tree. Expressions outside the supported fragment are
refused with the file and the construct named, never silently approximated.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path

import pyoxigraph
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.term import Node

from .cache import cached, key_of
from .errors import InputError, Location
from .namespaces import AG, OWL, RDF, RDFS, SKOS, XSD, rdflib_term
from .paths import ontology_dir
from .query import MAX_DEPTH
from .remote import turtle_depth_exceeded
from .yamlio import read_text

AGD = "https://w3id.org/allygraph/definitions#"
OWLREADY_PYTHON_MODULE = URIRef("http://www.lesfleursdunormal.fr/static/_downloads/owlready_ontology.owl#python_module")
CORE_IRIS = {URIRef("https://w3id.org/allygraph/ontology"), URIRef("https://w3id.org/allygraph/ontology/0.1.0")}


# ----------------------------------------------------------------------------------------------------
# Class expressions (the supported fragment)
# ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Named:
    iri: URIRef


@dataclass(frozen=True)
class And:
    parts: tuple[Expr, ...]


@dataclass(frozen=True)
class Or:
    parts: tuple[Expr, ...]


@dataclass(frozen=True)
class Not:
    part: Expr


@dataclass(frozen=True)
class Some:
    prop: URIRef
    filler: Expr


@dataclass(frozen=True)
class HasValue:
    prop: URIRef
    value: URIRef


@dataclass(frozen=True)
class AtLeast:
    count: int
    prop: URIRef
    filler: Expr


@dataclass(frozen=True)
class OneOf:
    members: tuple[URIRef, ...]


@dataclass(frozen=True)
class Top:
    pass


@dataclass(frozen=True)
class DataRange:
    """A datatype restricted by facets, such as xsd:integer[>= 60]; only as the filler of a Some."""

    datatype: URIRef
    facets: tuple[tuple[str, int], ...]  # (min/max + Inclusive/Exclusive, bound)


Expr = Named | And | Or | Not | Some | HasValue | AtLeast | OneOf | Top | DataRange

_FACETS = ("minInclusive", "maxInclusive", "minExclusive", "maxExclusive")


def parse_expression(graph: Graph, node: Node, where: str, depth: int = 0) -> Expr:
    """The expression tree of an OWL class expression in `graph`.

    :raises InputError: for constructs outside the fragment (allValuesFrom, cardinalities other than
        minQualifiedCardinality, property chains, data ranges ...).
    """
    if depth > MAX_DEPTH:
        raise InputError(f"a class expression nested deeper than {MAX_DEPTH} levels", Location(where))
    if node == OWL.Thing:
        return Top()
    if isinstance(node, URIRef):
        return Named(node)
    if (members := graph.value(node, OWL.intersectionOf)) is not None:
        return And(tuple(parse_expression(graph, m, where, depth + 1) for m in Collection(graph, members)))
    if (members := graph.value(node, OWL.unionOf)) is not None:
        return Or(tuple(parse_expression(graph, m, where, depth + 1) for m in Collection(graph, members)))
    if (part := graph.value(node, OWL.complementOf)) is not None:
        return Not(parse_expression(graph, part, where, depth + 1))
    if (members := graph.value(node, OWL.oneOf)) is not None:
        return OneOf(tuple(_iri(m, where) for m in Collection(graph, members)))
    prop = graph.value(node, OWL.onProperty)
    if prop is not None:
        prop = _iri(prop, where)
        if (filler := graph.value(node, OWL.someValuesFrom)) is not None:
            if graph.value(filler, OWL.onDatatype) is not None:
                return Some(prop, _data_range(graph, filler, where))
            return Some(prop, parse_expression(graph, filler, where, depth + 1))
        if (value := graph.value(node, OWL.hasValue)) is not None:
            return HasValue(prop, _iri(value, where))
        if (count := graph.value(node, OWL.minQualifiedCardinality)) is not None:
            filler = graph.value(node, OWL.onClass) or OWL.Thing
            return AtLeast(int(count), prop, parse_expression(graph, filler, where, depth + 1))
        if (count := graph.value(node, OWL.minCardinality)) is not None:
            return AtLeast(int(count), prop, Top())
    constructs = sorted({str(p).rsplit("#", 1)[-1] for p in graph.predicates(node) if p != RDF.type})
    raise InputError(
        f"class expression with {', '.join(constructs) or 'no recognisable construct'} is not supported",
        Location(where),
        hint="definitions may use intersectionOf, unionOf, complementOf, oneOf, someValuesFrom (of a class or "
        "an xsd:integer range), hasValue and minQualifiedCardinality",
    )


def _data_range(graph: Graph, node: Node, where: str) -> DataRange:
    """An integer datatype restriction: owl:onDatatype xsd:integer with min/max facets."""
    datatype = graph.value(node, OWL.onDatatype)
    if datatype != XSD.integer:
        raise InputError(f"data range on {datatype} is not supported (only xsd:integer)", Location(where))
    facets = []
    for item in Collection(graph, graph.value(node, OWL.withRestrictions)):
        for facet, bound in graph.predicate_objects(item):
            name = str(facet).removeprefix(str(XSD))
            if name not in _FACETS or not isinstance(bound, Literal) or not isinstance(bound.toPython(), int):
                raise InputError(
                    f"facet {facet} {bound} is not supported (integer min/max bounds only)", Location(where)
                )
            facets.append((name, int(bound)))
    return DataRange(XSD.integer, tuple(sorted(facets)))


def _iri(node: Node, where: str) -> URIRef:
    if not isinstance(node, URIRef):
        raise InputError(f"expected a named property or individual, found {node!r}", Location(where))
    return node


# ----------------------------------------------------------------------------------------------------
# Definitions
# ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Criterion:
    iri: URIRef
    label: str
    statement: str
    expression: Expr
    closes: frozenset[URIRef]

    @property
    def name(self) -> str:
        return local_name(self.iri)


@dataclass(frozen=True)
class Classifier:
    """A class whose criteria are checked together: a definition, or a class it also classifies."""

    iri: URIRef
    label: str
    combination: str  # "all" (intersection of criteria) or "any" (union)
    criteria: tuple[Criterion, ...]


@dataclass(frozen=True)
class Definition(Classifier):
    name: str = ""
    statement: str = ""
    source: str = ""
    file: str = ""
    also: tuple[Classifier, ...] = field(default=())


def local_name(iri: URIRef | str) -> str:
    text = str(iri)
    return text.rsplit("#", 1)[-1] if "#" in text else text.rsplit("/", 1)[-1]


def core_files() -> list[Path]:
    return [ontology_dir() / "allygraph.ttl", ontology_dir() / "definitions.ttl"]


def read_definition_file(path: Path) -> Graph:
    """Parse a Turtle definition file safely: no imports followed, no owlready2 python_module.

    :raises InputError: if the file is not UTF-8 Turtle, imports anything but the core ontology, or
        carries owlready2's python_module annotation (which would make owlready2 import Python code).
    """
    text = read_text(path)
    if (offset := turtle_depth_exceeded(text.encode("utf-8"))) is not None:  # pyoxigraph would crash on it
        line = text.encode("utf-8")[:offset].count(b"\n") + 1
        raise InputError(f"triple terms nested deeper than {MAX_DEPTH} levels", Location(path, line))
    graph = Graph()
    try:
        for triple in pyoxigraph.parse(text, format=pyoxigraph.RdfFormat.TURTLE, base_iri=path.resolve().as_uri()):
            graph.add((rdflib_term(triple.subject), rdflib_term(triple.predicate), rdflib_term(triple.object)))
    except SyntaxError as exc:
        raise InputError(f"not valid Turtle: {exc.msg}", Location(path, exc.lineno)) from None
    except TypeError as exc:
        raise InputError(str(exc), Location(path)) from None
    for imported in graph.objects(None, OWL.imports):
        if imported not in CORE_IRIS:
            raise InputError(
                f"owl:imports <{imported}> is not followed; definitions may import only the core ontology",
                Location(path),
                hint="copy what you need into this file",
            )
    if any(True for _ in graph.triples((None, OWLREADY_PYTHON_MODULE, None))):
        raise InputError(
            "the owlready2 python_module annotation is refused (it would make owlready2 import Python code)",
            Location(path),
        )
    return graph


@dataclass(frozen=True)
class DefinitionSet:
    """Every definition known, and the merged graph (core ontology + definition files) they come from."""

    definitions: dict[str, Definition]
    files: tuple[Path, ...]
    key: str = ""  # the cache key of these files' contents (see cache.py); "" when not cached

    @cached_property
    def graph(self) -> Graph:
        """The merged graph (parsed when first asked for: a cached definition set has none yet)."""
        return _merged_graph(self.files)[0]

    def get(self, name: str) -> Definition:
        """The definition with short name `name`.

        :raises InputError: naming the known short names.
        """
        try:
            return self.definitions[name]
        except KeyError:
            known = ", ".join(self.definitions)
            raise InputError(f"unknown definition {name!r}; known: {known}") from None

    def criteria(self) -> dict[URIRef, Criterion]:
        """Every criterion of every definition and of the classes they also classify."""
        found: dict[URIRef, Criterion] = {}
        for definition in self.definitions.values():
            for classifier in (definition, *definition.also):
                for criterion in classifier.criteria:
                    found[criterion.iri] = criterion
        return found


def load_definitions(extra: Iterable[Path] = ()) -> DefinitionSet:
    """The core ontology, the bundled definitions and any user definition files, merged."""
    return _load(tuple(core_files()) + tuple(Path(p).resolve() for p in extra))


@cache
def _load(files: tuple[Path, ...]) -> DefinitionSet:
    try:
        key = key_of("definitions", files)
    except OSError:
        key = ""  # a file that cannot be read: not cached, and parsing names it
    parsed: list[Graph] = []

    def parse() -> dict[str, Definition]:
        graph, origin = _merged_graph(files)
        parsed.append(graph)
        return _definitions(graph, origin, files)

    result = DefinitionSet(cached(key, parse) if key else parse(), files, key)
    if parsed:
        result.__dict__["graph"] = parsed[0]  # already parsed: spare the property a second parse
    return result


def _merged_graph(files: tuple[Path, ...]) -> tuple[Graph, dict[URIRef, Path]]:
    """The files' triples in one graph, and the file each notation (definition name) comes from."""
    graph = Graph()
    origin: dict[URIRef, Path] = {}
    for path in files:
        part = read_definition_file(path)
        for notation_subject in part.subjects(SKOS.notation, None):
            if isinstance(notation_subject, URIRef):
                origin[notation_subject] = path
        graph += part
    return graph, origin


def _definitions(graph: Graph, origin: dict[URIRef, Path], files: tuple[Path, ...]) -> dict[str, Definition]:
    definitions: dict[str, Definition] = {}
    for cls, notation in sorted(graph.subject_objects(SKOS.notation)):
        if not isinstance(cls, URIRef) or (cls, AG.criterion, None) not in graph:
            continue
        name = str(notation)
        where = str(origin.get(cls, files[0]))
        if name in definitions:
            raise InputError(f"two definitions are named {name!r}", Location(where))
        classifier = _classifier(graph, cls, where)
        also = tuple(_classifier(graph, other, where) for other in sorted(graph.objects(cls, AG.alsoClassifies)))
        definitions[name] = Definition(
            iri=cls,
            label=_text(graph, cls, RDFS.label),
            combination=classifier.combination,
            criteria=classifier.criteria,
            name=name,
            statement=_text(graph, cls, AG.plainStatement),
            source=_text(graph, cls, _DCT_SOURCE),
            file=where,
            also=also,
        )
    order = {name: i for i, name in enumerate(BUNDLED_ORDER)}
    return dict(sorted(definitions.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0])))


BUNDLED_ORDER = ("valdai", "azizi", "atop", "cow-1", "cow-2", "cow-3", "walt")
_DCT_SOURCE = URIRef("http://purl.org/dc/terms/source")


def _text(graph: Graph, node: Node, prop: URIRef) -> str:
    values = list(graph.objects(node, prop))
    english = [v for v in values if isinstance(v, Literal) and v.language in (None, "en")]
    return str((english or values or [""])[0])


def _classifier(graph: Graph, cls: URIRef, where: str) -> Classifier:
    criteria_iris = set(graph.objects(cls, AG.criterion))
    if not criteria_iris:
        raise InputError(f"<{cls}> has no ag:criterion", Location(where))
    combination = ""
    for equivalent in graph.objects(cls, OWL.equivalentClass):
        for key, prop in (("all", OWL.intersectionOf), ("any", OWL.unionOf)):
            members = graph.value(equivalent, prop)
            if members is not None and set(Collection(graph, members)) == criteria_iris:
                combination = key
    if not combination:
        raise InputError(
            f"<{cls}> must be equivalent to the intersection or the union of exactly its ag:criterion classes",
            Location(where),
        )
    criteria = tuple(_criterion(graph, c, where) for c in sorted(criteria_iris))
    return Classifier(cls, _text(graph, cls, RDFS.label), combination, criteria)


def _criterion(graph: Graph, cls: Node, where: str) -> Criterion:
    if not isinstance(cls, URIRef):
        raise InputError("a criterion must be a named class", Location(where))
    definitions = [e for e in graph.objects(cls, OWL.equivalentClass) if isinstance(e, BNode)]
    if len(definitions) != 1:
        raise InputError(f"criterion <{cls}> needs exactly one owl:equivalentClass expression", Location(where))
    return Criterion(
        iri=cls,
        label=_text(graph, cls, RDFS.label),
        statement=_text(graph, cls, AG.plainStatement),
        expression=parse_expression(graph, definitions[0], where),
        closes=frozenset(p for p in graph.objects(cls, AG.closesWorldOn) if isinstance(p, URIRef)),
    )
