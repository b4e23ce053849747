"""allygraph's SHACL engine: the shapes graph compiled to set-based SPARQL queries run by pyoxigraph.

Each constraint component of each shape becomes one SPARQL query over *all* its focus nodes at once (the
focus nodes are a sub-select built from the shape's targets, so a query never runs once per node). The
data graph is the union of every graph of the store (`use_default_graph_as_union`), as SHACL validates
one data graph. Shapes referenced by sh:node, sh:or, sh:and, sh:xone, sh:not and sh:qualifiedValueShape
are evaluated the same way with the parent's value nodes as their focus nodes, and combined as sets.

The results mirror pySHACL's (the reference engine, `validate(..., engine="pyshacl")`): the same focus
node, source shape, result path, value and messages (sh:message as written for core constraints; for
SPARQL-based constraints with {?var}/{$var} filled in from the solution, as pySHACL renders them).

Any shape feature this engine does not implement raises `UnsupportedShape` naming the shape: a shapes file
is data a user can edit, and a constraint must never be skipped silently.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import OWL, RDF, RDFS, SH, XSD
from rdflib.term import Node

from .namespaces import rdflib_term

RDF_TYPE_PATH = f"<{RDF.type}>/<{RDFS.subClassOf}>*"
_ILL_TYPED = ox.NamedNode("urn:allygraph:shacl:illTyped")
_TRUE = ox.Literal("true", datatype=ox.NamedNode(str(XSD.boolean)))
_FALSE = ox.Literal("false", datatype=ox.NamedNode(str(XSD.boolean)))
_ILL_TYPED_CACHE: dict[tuple[str, str], bool] = {}  # (lexical form, datatype IRI) -> ill-typed (pySHACL's view)

# Predicates of the SHACL vocabulary a shape may carry without them changing what is validated.
_NON_VALIDATING = {SH.message, SH.severity, SH.deactivated, SH.name, SH.description, SH.order, SH.group}
_NON_VALIDATING |= {SH.defaultValue, SH.path, SH.property, SH.targetClass, SH.targetNode, SH.targetSubjectsOf}
_NON_VALIDATING |= {SH.targetObjectsOf, SH.qualifiedMinCount, SH.qualifiedMaxCount, SH.flags}
_NON_VALIDATING |= {SH.qualifiedValueShapesDisjoint, SH.prefixes, SH.declare}
_SUPPORTED = {SH["class"], SH.datatype, SH.nodeKind, SH.minCount, SH.maxCount, SH.minInclusive, SH.minExclusive}
_SUPPORTED |= {SH.maxInclusive, SH.maxExclusive, SH.minLength, SH.maxLength, SH.pattern, SH.languageIn, SH["in"]}
_SUPPORTED |= {SH.hasValue, SH.node, SH["or"], SH["and"], SH["not"], SH.xone, SH.qualifiedValueShape, SH.sparql}

_COMPONENT = {
    SH["class"]: SH.ClassConstraintComponent,
    SH.datatype: SH.DatatypeConstraintComponent,
    SH.nodeKind: SH.NodeKindConstraintComponent,
    SH.minCount: SH.MinCountConstraintComponent,
    SH.maxCount: SH.MaxCountConstraintComponent,
    SH.minInclusive: SH.MinInclusiveConstraintComponent,
    SH.minExclusive: SH.MinExclusiveConstraintComponent,
    SH.maxInclusive: SH.MaxInclusiveConstraintComponent,
    SH.maxExclusive: SH.MaxExclusiveConstraintComponent,
    SH.minLength: SH.MinLengthConstraintComponent,
    SH.maxLength: SH.MaxLengthConstraintComponent,
    SH.pattern: SH.PatternConstraintComponent,
    SH.languageIn: SH.LanguageInConstraintComponent,
    SH["in"]: SH.InConstraintComponent,
    SH.hasValue: SH.HasValueConstraintComponent,
    SH.node: SH.NodeConstraintComponent,
    SH["or"]: SH.OrConstraintComponent,
    SH["and"]: SH.AndConstraintComponent,
    SH["not"]: SH.NotConstraintComponent,
    SH.xone: SH.XoneConstraintComponent,
    SH.sparql: SH.SPARQLConstraintComponent,
}


class UnsupportedShape(ValueError):
    """The shapes graph uses a SHACL feature this engine does not implement (or uses one wrongly)."""


@dataclass(frozen=True)
class Result:
    """One validation result, in rdflib terms (data terms for focus and value, shapes-graph nodes for shapes)."""

    focus: Node
    shape: Node
    component: URIRef
    severity: URIRef
    value: Node | None = None
    path: Node | None = None
    messages: tuple[str, ...] = ()
    constraint: Node | None = None


@dataclass
class _Raw:
    """A result while evaluating: pyoxigraph terms for the data, before messages are rendered."""

    focus: ox.NamedNode | ox.BlankNode | ox.Literal
    shape: _Shape
    component: URIRef
    value: object = None
    path: object = None  # an rdflib path node of the shapes graph, or a data term bound to ?path
    bound: tuple[tuple[str, object], ...] | None = None  # SPARQL solution, for message templates
    messages: tuple[str, ...] = ()
    constraint: Node | None = None


class Focus:
    """A SPARQL group pattern binding a given variable to each focus node, once (nested `depth` deep)."""

    def __init__(self, pattern: Callable[[str], str], depth: int = 0) -> None:
        self.pattern, self.depth = pattern, depth

    def __call__(self, v: str) -> str:
        return self.pattern(v)


@dataclass
class _Shape:
    node: Node
    name: str
    path: Node | None = None
    sparql_path: str | None = None
    severity: URIRef = SH.Violation
    deactivated: bool = False
    messages: tuple[str, ...] = ()
    constraints: list[tuple[URIRef, object]] = field(default_factory=list)
    properties: list[_Shape] = field(default_factory=list)
    targets: list[str] = field(default_factory=list)  # SPARQL patterns over the variable {v}


@dataclass
class _SparqlConstraint:
    node: Node
    query: str
    messages: tuple[str, ...]
    projects_this: bool
    set_based: bool
    current_shape: ox.NamedNode | None


def sparql_term(node: Node, where: str) -> str:
    if isinstance(node, URIRef):
        return f"<{node}>"
    if isinstance(node, Literal):
        return node.n3()
    raise UnsupportedShape(f"{where}: a blank node cannot be matched in the data graph ({node.n3()})")


class ShaclEngine:
    """The shapes of `shapes`, compiled once; `validate(store)` runs them on a pyoxigraph store."""

    def __init__(self, shapes: Graph) -> None:
        self.sg = shapes
        self._shapes: dict[Node, _Shape] = {}
        self._compiling: set[Node] = set()
        if (None, RDF.type, SH.ConstraintComponent) in shapes:
            raise UnsupportedShape("custom constraint components (sh:ConstraintComponent) are not supported")
        for feature in (SH.target, SH.rule, SH.closed, SH.uniqueLang, SH.equals, SH.disjoint, SH.lessThan):
            for subject in shapes.subjects(feature, None):
                raise UnsupportedShape(f"{self._name(subject)}: {self._short(feature)} is not supported")
        for subject in shapes.subjects(SH.lessThanOrEquals, None):
            raise UnsupportedShape(f"{self._name(subject)}: sh:lessThanOrEquals is not supported")
        self.top: list[_Shape] = []
        for node in sorted(self._top_level(), key=str):
            shape = self._shape(node)
            if shape.targets:
                self.top.append(shape)

    # ------------------------------------------------------------------------------------------------
    # Compiling the shapes graph
    # ------------------------------------------------------------------------------------------------

    def _short(self, node: Node) -> str:
        try:
            return node.n3(self.sg.namespace_manager)
        except Exception:
            return str(node)

    def _name(self, node: Node) -> str:
        """A shape's name for error messages: its IRI, or the named shape holding a blank one."""
        if isinstance(node, URIRef):
            return self._short(node)
        seen = {node}
        owner: Node | None = node
        while isinstance(owner, BNode):
            parents = [s for s in self.sg.subjects(None, owner) if s not in seen]
            owner = parents[0] if parents else None
            if owner is not None:
                seen.add(owner)
        path = self.sg.value(node, SH.path)
        where = f"a shape in {self._short(owner)}" if owner is not None else "a blank shape"
        return f"{where} (sh:path {self._short(path)})" if path is not None else where

    def _top_level(self) -> set[Node]:
        sg = self.sg
        nodes: set[Node] = set()
        for target in (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf):
            nodes.update(sg.subjects(target, None))
        classes = set(sg.subjects(RDFS.subClassOf, RDFS.Class)) | {RDFS.Class}
        for kind in (SH.NodeShape, SH.PropertyShape):
            for shape in sg.subjects(RDF.type, kind):
                if any(t in classes for t in sg.objects(shape, RDF.type)):
                    nodes.add(shape)
        return nodes

    def _shape(self, node: Node) -> _Shape:
        if node in self._shapes:
            return self._shapes[node]
        if node in self._compiling:
            raise UnsupportedShape(f"{self._name(node)}: recursive shapes are not supported")
        self._compiling.add(node)
        try:
            shape = self._compile(node)
        finally:
            self._compiling.discard(node)
        self._shapes[node] = shape
        return shape

    def _compile(self, node: Node) -> _Shape:
        sg, name = self.sg, self._name(node)
        shape = _Shape(node=node, name=name)
        for p in set(sg.predicates(node, None)):
            if str(p).startswith(str(SH)) and p not in _NON_VALIDATING and p not in _SUPPORTED and p != RDF.type:
                raise UnsupportedShape(f"{name}: {self._short(p)} is not supported")
        path = sg.value(node, SH.path)
        if path is not None:
            shape.path, shape.sparql_path = path, self._path(path, name)
        severity = sg.value(node, SH.severity)
        shape.severity = severity if isinstance(severity, URIRef) else SH.Violation
        shape.deactivated = _true(sg.value(node, SH.deactivated))
        shape.messages = tuple(sorted(str(m) for m in sg.objects(node, SH.message)))
        shape.targets = self._targets(node, name)
        for parameter in sorted(_SUPPORTED, key=str):
            for value in sorted(sg.objects(node, parameter), key=str):
                shape.constraints.append((parameter, self._parameter(shape, parameter, value)))
        if (node, SH.qualifiedValueShape, None) not in sg:
            for orphan in (SH.qualifiedMinCount, SH.qualifiedMaxCount):
                if (node, orphan, None) in sg:
                    raise UnsupportedShape(f"{name}: {self._short(orphan)} without sh:qualifiedValueShape")
        if path is None:
            for only_property in (SH.minCount, SH.maxCount, SH.qualifiedValueShape):
                if (node, only_property, None) in sg:
                    raise UnsupportedShape(f"{name}: {self._short(only_property)} needs sh:path")
        shape.properties = [self._shape(p) for p in sorted(sg.objects(node, SH.property), key=str)]
        for p in shape.properties:
            if p.path is None:
                raise UnsupportedShape(f"{p.name}: a sh:property value must have sh:path")
        return shape

    def _targets(self, node: Node, name: str) -> list[str]:
        sg, patterns = self.sg, []
        classes = list(sg.objects(node, SH.targetClass))
        implicit = set(sg.subjects(RDFS.subClassOf, RDFS.Class)) | {RDFS.Class}
        if any(t in implicit for t in sg.objects(node, RDF.type)):
            classes.append(node)
        for cls in classes:
            patterns.append(f"{{v}} {RDF_TYPE_PATH} {sparql_term(cls, name)} .")
        for target in sg.objects(node, SH.targetNode):
            patterns.append(f"BIND({sparql_term(target, name)} AS {{v}})")
        for p in sg.objects(node, SH.targetSubjectsOf):
            patterns.append(f"{{v}} {sparql_term(p, name)} [] .")
        for p in sg.objects(node, SH.targetObjectsOf):
            patterns.append(f"[] {sparql_term(p, name)} {{v}} .")
        return sorted(patterns)

    def _path(self, path: Node, name: str) -> str:
        """A SHACL property path as a SPARQL property path."""
        sg = self.sg
        if isinstance(path, URIRef):
            return f"<{path}>"
        if isinstance(path, Literal):
            raise UnsupportedShape(f"{name}: a literal is not a path")
        if (path, RDF.first, None) in sg:
            items = list(Collection(sg, path))
            if len(items) < 2:
                raise UnsupportedShape(f"{name}: a sequence path needs at least two members")
            return "(" + "/".join(self._path(i, name) for i in items) + ")"
        for predicate, template in (
            (SH.inversePath, "^({})"),
            (SH.zeroOrMorePath, "({})*"),
            (SH.oneOrMorePath, "({})+"),
            (SH.zeroOrOnePath, "({})?"),
        ):
            inner = sg.value(path, predicate)
            if inner is not None:
                return template.format(self._path(inner, name))
        alternatives = sg.value(path, SH.alternativePath)
        if alternatives is not None:
            items = list(Collection(sg, alternatives))
            if len(items) < 2:
                raise UnsupportedShape(f"{name}: an alternative path needs at least two members")
            return "(" + "|".join(self._path(i, name) for i in items) + ")"
        raise UnsupportedShape(f"{name}: unsupported sh:path {self._short(path)}")

    def _list(self, value: Node, name: str, what: str) -> list[Node]:
        if value != RDF.nil and (value, RDF.first, None) not in self.sg:
            raise UnsupportedShape(f"{name}: {what} must be an RDF list")
        return list(Collection(self.sg, value))

    def _parameter(self, shape: _Shape, parameter: URIRef, value: Node) -> object:
        sg, name = self.sg, shape.name
        if parameter in (SH.minCount, SH.maxCount, SH.minLength, SH.maxLength):
            number = value.toPython() if isinstance(value, Literal) else None
            if not isinstance(number, int) or isinstance(number, bool) or number < 0:
                raise UnsupportedShape(f"{name}: {self._short(parameter)} must be a non-negative integer")
            return number
        if parameter in (SH["class"], SH.datatype):
            if not isinstance(value, URIRef):
                raise UnsupportedShape(f"{name}: {self._short(parameter)} must be an IRI")
            return value
        if parameter == SH.nodeKind:
            kinds = {SH.IRI, SH.BlankNode, SH.Literal, SH.BlankNodeOrIRI, SH.BlankNodeOrLiteral, SH.IRIOrLiteral}
            if value not in kinds:
                raise UnsupportedShape(f"{name}: unknown sh:nodeKind {self._short(value)}")
            return value
        if parameter in (SH.minInclusive, SH.minExclusive, SH.maxInclusive, SH.maxExclusive):
            if not isinstance(value, Literal):
                raise UnsupportedShape(f"{name}: {self._short(parameter)} must be a literal")
            return value
        if parameter == SH.pattern:
            flags = sg.value(shape.node, SH.flags)
            return (str(value), str(flags) if flags is not None else "")
        if parameter == SH.languageIn:
            return [str(tag) for tag in self._list(value, name, "sh:languageIn")]
        if parameter == SH["in"]:
            members = self._list(value, name, "sh:in")
            return [sparql_term(m, name) for m in members]
        if parameter == SH.hasValue:
            return sparql_term(value, name)
        if parameter in (SH.node, SH["not"]):
            return self._shape(value)
        if parameter in (SH["or"], SH["and"], SH.xone):
            return [self._shape(m) for m in self._list(value, name, self._short(parameter))]
        if parameter == SH.qualifiedValueShape:
            if _true(sg.value(shape.node, SH.qualifiedValueShapesDisjoint)):
                raise UnsupportedShape(f"{name}: sh:qualifiedValueShapesDisjoint is not supported")
            low, high = sg.value(shape.node, SH.qualifiedMinCount), sg.value(shape.node, SH.qualifiedMaxCount)
            bounds = [b.toPython() if isinstance(b, Literal) else b for b in (low, high)]
            for b in bounds:
                if b is not None and (not isinstance(b, int) or b < 0):
                    raise UnsupportedShape(f"{name}: qualified counts must be non-negative integers")
            if bounds == [None, None]:
                raise UnsupportedShape(f"{name}: sh:qualifiedValueShape needs sh:qualifiedMinCount or MaxCount")
            return (self._shape(value), bounds[0], bounds[1])
        if parameter == SH.sparql:
            return self._sparql(shape, value)
        raise UnsupportedShape(f"{name}: {self._short(parameter)} is not supported")  # pragma: no cover

    def _sparql(self, shape: _Shape, node: Node) -> _SparqlConstraint:
        sg, name = self.sg, shape.name
        for p in set(sg.predicates(node, None)):
            if p in (SH.ask, SH.construct, SH.update):
                raise UnsupportedShape(f"{name}: SPARQL constraints with {self._short(p)} are not supported")
        selects = list(sg.objects(node, SH.select))
        if len(selects) != 1:
            raise UnsupportedShape(f"{name}: a SPARQL constraint needs exactly one sh:select")
        text = str(selects[0])
        masked = _mask(text)
        if re.search(r"[?$]shapesGraph\b", masked):
            raise UnsupportedShape(f"{name}: $shapesGraph is not supported")
        if re.search(r"\$PATH\b", masked):
            if shape.sparql_path is None:
                raise UnsupportedShape(f"{name}: $PATH in a SPARQL constraint of a shape without sh:path")
            text = re.sub(r"\$PATH\b", lambda _m: shape.sparql_path or "", text)
            masked = _mask(text)
        current = None
        if re.search(r"[?$]currentShape\b", masked):
            if not isinstance(shape.node, URIRef):
                raise UnsupportedShape(f"{name}: $currentShape of a blank-node shape is not supported")
            current = ox.NamedNode(str(shape.node))
        prefixes = self._prefixes(node, name)
        query, projects_this, set_based = _set_based(text, masked)
        messages = tuple(sorted(str(m) for m in sg.objects(node, SH.message)))
        if _true(sg.value(node, SH.deactivated)):
            query = ""
        return _SparqlConstraint(node, prefixes + query, messages, projects_this, set_based, current)

    def _prefixes(self, node: Node, name: str) -> str:
        sg, declared = self.sg, {}
        ontologies = set(sg.subjects(RDF.type, OWL.Ontology))
        for source in sg.objects(node, SH.prefixes):
            holders = {source} if source in ontologies else {source, *ontologies}
            for holder in holders:
                for declaration in sg.objects(holder, SH.declare):
                    prefix, namespace = sg.value(declaration, SH.prefix), sg.value(declaration, SH.namespace)
                    if prefix is None or namespace is None:
                        raise UnsupportedShape(f"{name}: sh:declare needs sh:prefix and sh:namespace")
                    declared[str(prefix)] = str(namespace)
        return "".join(f"PREFIX {p}: <{ns}>\n" for p, ns in sorted(declared.items()))

    # ------------------------------------------------------------------------------------------------
    # Evaluating
    # ------------------------------------------------------------------------------------------------

    def validate(self, store: ox.Store) -> list[Result]:
        """Every validation result of the union of `store`'s graphs (all severities)."""
        run = _Run(self, store)
        results: list[Result] = []
        for shape in self.top:
            focus = _target_focus(shape.targets)
            for raw in run.evaluate(shape, focus):
                results.append(run.result(raw))
        return results


def _true(value: Node | None) -> bool:
    return isinstance(value, Literal) and value.toPython() is True


def _target_focus(targets: list[str]) -> Focus:
    def focus(v: str) -> str:
        body = " UNION ".join("{ " + t.replace("{v}", v) + " }" for t in targets)
        return f"{{ SELECT DISTINCT {v} WHERE {{ {body} }} }}"

    return Focus(focus)


def _value_focus(parent: Focus, path: str | None) -> Focus:
    """The value nodes of a shape with focus `parent` and `path` (None: a node shape), as focus nodes."""
    if path is None:
        return parent

    u = f"?ag_shacl_{parent.depth + 1}"

    def focus(v: str) -> str:
        return f"{{ SELECT DISTINCT {v} WHERE {{ {parent(u)} {u} {path} {v} . }} }}"

    return Focus(focus, parent.depth + 1)


def _mask(text: str) -> str:
    """`text` with strings, IRIs and comments blanked out (same length), to look for keywords safely."""
    pattern = (
        r'"""(?:.|\n)*?"""|\'\'\'(?:.|\n)*?\'\'\'|"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\''
        r'|<[^<>"{}|^`\\\s]*>|#[^\n]*'
    )
    return re.sub(pattern, lambda m: " " * len(m.group(0)), text)


_AGGREGATE = re.compile(r"\b(COUNT|SUM|MIN|MAX|AVG|SAMPLE|GROUP_CONCAT)\s*\(", re.IGNORECASE)


def _set_based(text: str, masked: str) -> tuple[str, bool, bool]:
    """(query, does it project $this, can it run for all focus nodes at once).

    A set-based query gets the focus nodes as a sub-select at the start of its WHERE clause, and ?this
    in its projection; queries where that would change the meaning (sub-selects, MINUS, VALUES, SERVICE,
    aggregates not grouped by $this) run once per focus node with $this substituted instead.
    """
    select = re.search(r"\bSELECT\b", masked, re.IGNORECASE)
    if select is None:
        return text, False, False
    head_end = masked.find("{", select.end())
    head = masked[select.end() : head_end if head_end >= 0 else len(masked)]
    projects_this = bool(re.search(r"[?$]this\b", re.sub(r"\bWHERE\b", "", head, flags=re.IGNORECASE)))
    star = re.match(r"\s*(DISTINCT|REDUCED)?\s*\*", head, re.IGNORECASE) is not None
    projects_this = projects_this or star
    if len(re.findall(r"\bSELECT\b", masked, re.IGNORECASE)) > 1:
        return text, projects_this, False
    if re.search(r"\b(MINUS|VALUES|SERVICE)\b", masked, re.IGNORECASE):
        return text, projects_this, False
    group = re.search(r"\bGROUP\s+BY\b(.*?)(\bHAVING\b|\bORDER\b|\bLIMIT\b|\bOFFSET\b|$)", masked, re.I | re.S)
    if re.search(r"\b(LIMIT|OFFSET)\b", masked[masked.rfind("}") :], re.IGNORECASE):
        return text, projects_this, False
    if group is not None:
        if not re.search(r"[?$]this\b", group.group(1)):
            return text, projects_this, False
    elif _AGGREGATE.search(masked):
        return text, projects_this, False
    if head_end < 0:
        return text, projects_this, False
    query = text[: head_end + 1] + " {FOCUS} " + text[head_end + 1 :]
    if not projects_this:
        modifier = re.match(r"\s*(DISTINCT|REDUCED)?", head, re.IGNORECASE)
        cut = select.end() + (modifier.end() if modifier else 0)
        query = query[:cut] + " ?this " + query[cut:]
    return query, projects_this, True


def _pre_bind(query: str, term: str) -> str:
    """`query` with $this replaced by `term` (SPARQL syntax), as `(term AS ?this)` in projections."""
    masked = _mask(query)
    heads = []
    for select in re.finditer(r"\bSELECT\b", masked, re.IGNORECASE):
        end = re.compile(r"\{|\bWHERE\b", re.IGNORECASE).search(masked, select.end())
        heads.append((select.end(), end.start() if end else len(masked)))
    out, last = [], 0
    for m in re.finditer(r"[?$]this\b", masked):
        in_head = any(a <= m.start() < b for a, b in heads)
        out += [query[last : m.start()], f"({term} AS ?this)" if in_head else term]
        last = m.end()
    return "".join([*out, query[last:]])


def _ill_typed_check(datatype: URIRef) -> bool:
    """Does an ill-formed lexical form need checking for `datatype` (pySHACL's notion of ill-typed)?"""
    return datatype not in (XSD.string, RDF.langString, RDFS.Literal, RDFS.Datatype)


class _Run:
    """One validation of one store: the queries, and the nested-shape results they share."""

    def __init__(self, engine: ShaclEngine, store: ox.Store) -> None:
        self.engine, self.store = engine, store
        self._failing: dict[tuple[int, str], set[object]] = {}
        self._stringify = Graph().namespace_manager

    def query(self, text: str, **kwargs: object) -> ox.QuerySolutions:
        return self.store.query(
            text,
            use_default_graph_as_union=True,
            custom_functions={_ILL_TYPED: self._ill_typed},
            **kwargs,  # type: ignore[arg-type]
        )

    def _ill_typed(self, term: object) -> ox.Literal:
        if not isinstance(term, ox.Literal):
            return _FALSE
        key = (term.value, term.datatype.value)
        bad = _ILL_TYPED_CACHE.get(key)
        if bad is None:
            literal = Literal(term.value, datatype=URIRef(term.datatype.value))
            bad = getattr(literal, "ill_typed", None) is True or not _actual_datatype(literal)
            if len(_ILL_TYPED_CACHE) > 100_000:
                _ILL_TYPED_CACHE.clear()
            _ILL_TYPED_CACHE[key] = bad
        return _TRUE if bad else _FALSE

    def rows(self, text: str, names: Iterable[str]) -> list[tuple[object, ...]]:
        return [tuple(s[n] for n in names) for s in self.query(text)]

    def evaluate(self, shape: _Shape, focus: Focus) -> list[_Raw]:
        if shape.deactivated:
            return []
        results: list[_Raw] = []
        for parameter, argument in shape.constraints:
            results += self._constraint(shape, focus, parameter, argument)
        for prop in shape.properties:
            results += self.evaluate(prop, focus)
        return results

    def failing(self, shape: _Shape, focus: Focus) -> set[object]:
        """The focus nodes (given by `focus`) that do not conform to `shape`."""
        key = (id(shape), focus("?ag_shacl_key"))
        if key not in self._failing:
            self._failing[key] = {r.focus for r in self.evaluate(shape, focus)}
        return self._failing[key]

    def _values(self, shape: _Shape, focus: Focus) -> str:
        if shape.sparql_path is None:
            return f"{focus('?this')} BIND(?this AS ?value)"
        return f"{focus('?this')} ?this {shape.sparql_path} ?value ."

    def _constraint(self, shape: _Shape, focus: Focus, parameter: URIRef, argument: object) -> list[_Raw]:
        component = _COMPONENT.get(parameter, SH.QualifiedMinCountConstraintComponent)
        values = self._values(shape, focus)

        def per_value(condition: str) -> list[_Raw]:
            text = f"SELECT DISTINCT ?this ?value WHERE {{ {values} FILTER ({condition}) }}"
            return [_Raw(t, shape, component, v) for t, v in self.rows(text, ("this", "value"))]

        def per_focus(text: str) -> list[_Raw]:
            return [_Raw(t, shape, component) for (t,) in self.rows(text, ("this",))]

        if parameter == SH["class"]:
            text = (
                f"SELECT DISTINCT ?this ?value WHERE {{ {values} "
                f"FILTER NOT EXISTS {{ ?value {RDF_TYPE_PATH} <{argument}> }} }}"
            )
            return [_Raw(t, shape, component, v) for t, v in self.rows(text, ("this", "value"))]
        if parameter == SH.datatype:
            return per_value(_datatype_condition(argument))  # type: ignore[arg-type]
        if parameter == SH.nodeKind:
            return per_value(_NODE_KIND[argument])  # type: ignore[index]
        if parameter == SH.minCount:
            if argument == 0:
                return []
            if argument == 1:
                return per_focus(
                    f"SELECT ?this WHERE {{ {focus('?this')} FILTER NOT EXISTS {{ ?this {shape.sparql_path} ?any }} }}"
                )
            return per_focus(
                f"SELECT ?this WHERE {{ {focus('?this')} OPTIONAL {{ ?this {shape.sparql_path} ?value }} }} "
                f"GROUP BY ?this HAVING (COUNT(DISTINCT ?value) < {argument})"
            )
        if parameter == SH.maxCount:
            return per_focus(
                f"SELECT ?this WHERE {{ {values} }} GROUP BY ?this HAVING (COUNT(DISTINCT ?value) > {argument})"
            )
        if parameter in _RANGE:
            bound = argument.n3()  # type: ignore[attr-defined]
            bound_is_string = isinstance(argument.value, str)  # type: ignore[attr-defined]
            kind = "isLiteral(?value) && " + ("" if bound_is_string else "!") + _STRINGY
            return per_value(f"!COALESCE({kind} && ?value {_RANGE[parameter]} {bound}, false)")
        if parameter == SH.minLength:
            return per_value(f"isBlank(?value) || !COALESCE(STRLEN(STR(?value)) >= {argument}, false)")
        if parameter == SH.maxLength:
            return per_value(f"isBlank(?value) || !COALESCE(STRLEN(STR(?value)) <= {argument}, false)")
        if parameter == SH.pattern:
            regex, flags = argument  # type: ignore[misc]
            args = Literal(regex).n3() + (", " + Literal(flags).n3() if flags else "")
            return per_value(f"isBlank(?value) || !COALESCE(REGEX(STR(?value), {args}), false)")
        if parameter == SH.languageIn:
            tests = " || ".join(f"langMatches(lang(?value), {Literal(t).n3()})" for t in argument)  # type: ignore[attr-defined]
            return per_value(f"!isLiteral(?value) || !COALESCE({tests or 'false'}, false)")
        if parameter == SH["in"]:
            tests = " || ".join(f"sameTerm(?value, {m})" for m in argument)  # type: ignore[attr-defined]
            return per_value(f"!({tests or 'false'})")
        if parameter == SH.hasValue:
            if shape.sparql_path is None:
                return per_focus(f"SELECT ?this WHERE {{ {focus('?this')} FILTER (!sameTerm(?this, {argument})) }}")
            pattern = f"?this {shape.sparql_path} {argument}"
            return per_focus(f"SELECT ?this WHERE {{ {focus('?this')} FILTER NOT EXISTS {{ {pattern} }} }}")
        if parameter == SH.sparql:
            return self._sparql(shape, focus, argument)  # type: ignore[arg-type]
        # shape-based: which value nodes conform to the nested shapes
        nested = _value_focus(focus, shape.sparql_path)
        if parameter == SH.qualifiedValueShape:
            qualified, low, high = argument  # type: ignore[misc]
            bad = self.failing(qualified, nested)
            optional = f"OPTIONAL {{ ?this {shape.sparql_path} ?value }}"
            text = f"SELECT DISTINCT ?this ?value WHERE {{ {focus('?this')} {optional} }}"
            counts: dict[object, int] = {}
            for t, v in self.rows(text, ("this", "value")):
                counts[t] = counts.get(t, 0) + (v is not None and v not in bad)
            results = []
            for t, n in counts.items():
                if low is not None and n < low:
                    results.append(_Raw(t, shape, SH.QualifiedMinCountConstraintComponent))
                if high is not None and n > high:
                    results.append(_Raw(t, shape, SH.QualifiedMaxCountConstraintComponent))
            return results
        pairs = self.rows(f"SELECT DISTINCT ?this ?value WHERE {{ {values} }}", ("this", "value"))
        if not pairs:
            return []
        if parameter in (SH.node, SH["not"]):
            bad = self.failing(argument, nested)  # type: ignore[arg-type]
            wrong = (lambda v: v in bad) if parameter == SH.node else (lambda v: v not in bad)
        else:
            bads = [self.failing(member, nested) for member in argument]  # type: ignore[attr-defined]
            if parameter == SH["or"]:
                wrong = lambda v: all(v in b for b in bads)  # noqa: E731
            elif parameter == SH["and"]:
                wrong = lambda v: any(v in b for b in bads)  # noqa: E731
            else:
                wrong = lambda v: sum(v not in b for b in bads) != 1  # noqa: E731
        return [_Raw(t, shape, component, v) for t, v in pairs if wrong(v)]

    def _sparql(self, shape: _Shape, focus: Focus, constraint: _SparqlConstraint) -> list[_Raw]:
        if not constraint.query:
            return []  # deactivated
        substitutions: dict[ox.Variable, object] = {}
        if constraint.current_shape is not None:
            substitutions[ox.Variable("currentShape")] = constraint.current_shape
        runs: list[tuple[object, ox.QuerySolutions]] = []
        if constraint.set_based:
            text = constraint.query.replace("{FOCUS}", focus("?this"), 1)
            runs.append((None, self.query(text, substitutions=substitutions)))
        else:
            for (node,) in self.rows(f"SELECT ?this WHERE {{ {focus('?this')} }}", ("this",)):
                if isinstance(node, ox.BlankNode):
                    raise UnsupportedShape(
                        f"{shape.name}: this SPARQL constraint cannot run for all focus nodes at once, "
                        "and a blank-node focus node cannot be pre-bound"
                    )
                runs.append((node, self.query(_pre_bind(constraint.query, str(node)), substitutions=substitutions)))
        results: list[_Raw] = []
        seen: set[tuple[object, ...]] = set()
        for fixed, solutions in runs:
            names = [v.value for v in solutions.variables]
            for solution in solutions:
                bound = {n: solution[n] for n in names if solution[n] is not None}
                f = fixed if fixed is not None else bound.get("this")
                failure = bound.pop("failure", None)
                if failure is not None:
                    key: tuple[object, ...] = (f, True)
                    if key in seen:
                        continue
                    seen.add(key)
                    value = f if shape.path is None else None
                    raw = _Raw(f, shape, SH.SPARQLConstraintComponent, value, None, tuple(bound.items()))
                    raw.messages, raw.constraint = constraint.messages, constraint.node
                    results.append(raw)
                    continue
                this = bound.pop("this", None)
                t = this if constraint.projects_this else None
                p, v = bound.pop("path", None), bound.pop("value", None)
                if t is None and p is None and v is None:
                    continue
                key = (f, t, p, v, tuple(sorted((k, str(x)) for k, x in bound.items())))
                if key in seen:
                    continue
                seen.add(key)
                if v is None:
                    v = f if shape.path is None else None
                extra = (*bound.items(), ("this", t), ("path", p), ("value", v))
                raw = _Raw(t or f, shape, SH.SPARQLConstraintComponent, v, p, extra)
                raw.messages, raw.constraint = constraint.messages, constraint.node
                results.append(raw)
        return results

    def result(self, raw: _Raw) -> Result:
        shape = raw.shape
        focus = rdflib_term(raw.focus)
        value = rdflib_term(raw.value) if raw.value is not None else None
        path = (
            shape.path if raw.path is None else (rdflib_term(raw.path) if not isinstance(raw.path, Node) else raw.path)
        )
        messages = list(raw.messages) + [m for m in shape.messages if m not in raw.messages]
        if raw.component != SH.SPARQLConstraintComponent and not shape.messages:
            messages = [self._generic(raw, focus, value)]
        if raw.bound is not None:
            messages = [_format(m, raw.bound) for m in messages]
        if not messages:
            messages = [f"SPARQLConstraint on {_n3(focus, self._stringify)} failed"]
        return Result(
            focus=focus,
            shape=shape.node,
            component=raw.component,
            severity=shape.severity,
            value=value,
            path=path,
            messages=tuple(messages),
            constraint=raw.constraint,
        )

    def _generic(self, raw: _Raw, focus: Node, value: Node | None) -> str:
        """pySHACL's wording for a constraint without sh:message (best effort)."""
        shape, sg = raw.shape, self.engine.sg
        args = {p: a for p, a in shape.constraints}
        on = _n3(focus, self._stringify)
        if shape.path is not None:
            on += "->" + _n3(shape.path, sg.namespace_manager)
        c = raw.component
        if c == SH.MinCountConstraintComponent:
            return f"Less than {args[SH.minCount]} values on {on}"
        if c == SH.MaxCountConstraintComponent:
            return f"More than {args[SH.maxCount]} values on {on}"
        if c == SH.ClassConstraintComponent:
            return f"Value does not have class {_n3(sg.value(shape.node, SH['class']), sg.namespace_manager)}"
        if c == SH.DatatypeConstraintComponent:
            return f"Value is not Literal with datatype {_n3(args[SH.datatype], sg.namespace_manager)}"  # type: ignore[arg-type]
        if c == SH.InConstraintComponent:
            return f"Value {_n3(value, self._stringify)} not in list {args[SH['in']]}"
        if c == SH.MinLengthConstraintComponent:
            return f"String length not >= {args[SH.minLength]}"
        if c == SH.MaxLengthConstraintComponent:
            return f"String length not <= {args[SH.maxLength]}"
        return f"Value does not conform to {self.engine._short(c)} of {shape.name}"


def _n3(node: Node | None, ns: object) -> str:
    if node is None:
        return "None"
    try:
        return node.n3(ns)  # type: ignore[arg-type]
    except Exception:
        return str(node)


def _format(message: str, bound: tuple[tuple[str, object], ...]) -> str:
    """pySHACL's rendering of {?var} and {$var} in a SPARQL constraint's message."""
    for name, term in bound:
        if term is None:
            continue
        rendered = str(term) if isinstance(term, Node) else str(rdflib_term(term))
        message = re.sub(f"{{[?$]{name}}}", rendered, message)
    return message


def _actual_datatype(literal: Literal) -> bool:
    """pySHACL's check that a literal's Python value fits its datatype."""
    value, datatype = literal.value, literal.datatype
    checks = {
        XSD.integer: lambda: isinstance(value, int),
        XSD.float: lambda: isinstance(value, float),
        XSD.boolean: lambda: isinstance(value, bool),
    }
    if datatype in checks:
        return checks[datatype]()
    from datetime import date, datetime, time
    from decimal import Decimal

    types = {XSD.decimal: Decimal, XSD.date: date, XSD.time: time, XSD.dateTime: datetime}
    return isinstance(value, types[datatype]) if datatype in types else True


def _datatype_condition(datatype: URIRef) -> str:
    if datatype == RDFS.Literal:
        return "!isLiteral(?value)"
    if datatype == RDFS.Datatype:
        return f'!isLiteral(?value) || lang(?value) != "" || datatype(?value) = <{XSD.string}>'
    condition = f"!isLiteral(?value) || datatype(?value) != <{datatype}>"
    if _ill_typed_check(datatype):
        condition += f" || <{_ILL_TYPED.value}>(?value)"
    return condition


_STRINGY = f'(datatype(?value) = <{XSD.string}> || lang(?value) != "")'
_RANGE = {SH.minInclusive: ">=", SH.minExclusive: ">", SH.maxInclusive: "<=", SH.maxExclusive: "<"}
_NODE_KIND = {
    SH.IRI: "!isIRI(?value)",
    SH.BlankNode: "!isBlank(?value)",
    SH.Literal: "!isLiteral(?value)",
    SH.BlankNodeOrIRI: "isLiteral(?value)",
    SH.BlankNodeOrLiteral: "isIRI(?value)",
    SH.IRIOrLiteral: "isBlank(?value)",
}
