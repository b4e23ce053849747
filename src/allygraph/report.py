"""`allygraph report`: a static HTML site of the evidence, written from a built store.

Pages (relative links only; each page's Content-Security-Policy forbids loading anything from anywhere but
the report's own stylesheet, so it opens from the file system with no network):

- `index.html`: a map (actors as nodes, relationships as edges coloured by outcome, laid out here in
  Python) and a table of every relationship's outcomes, switchable between definitions by a few lines of
  inline JavaScript;
- `rel/<relationship>.html`: the definitions × criteria matrix, each cell linking to the claims behind it;
- `sources/<document>.html`: the document's text with each claim's quote in a `<mark id="m-<claim>">`,
  placed by the stored TextPositionSelector (code-point offsets into `ag:text`); quotes may nest or cross;
- `claims.html`: every claim, with its quote or, for a claim imported from a dataset, its record's file
  and line;
- `disagreements.html`: contested criteria with the supporting and contradicting claims;
- `timeline.html`: the dated events, in date order.

The whole report is that of one view. The map, the relationship pages and the disagreements are read from
the results graphs the build wrote (`graph/results/<definition>/<view>`). In view `all`, claims, sources
and the timeline show everything in the store (hypotheticals and reported speech included). In any other
view they show what `reason` puts in it (`read_claims`, `all_views`): its claims, which are evidence
only; of each claim, the anchors in the view's documents (`source:<document>` reads that one copy, a
work or author view every copy its claims are quoted from); the source pages of those documents (each
highlighting only the view's claims); the events its claims date; and the overview counts those. A
claim or relationship out of the view is named as plain text, never linked. Every text from the store
is HTML-escaped; an IRI becomes a link only if it is http(s).
"""

from __future__ import annotations

import base64
import hashlib
import html
import math
import os
import re
import shutil
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from urllib.parse import urlsplit

import pyoxigraph
from pyoxigraph import NamedNode

from .definitions import BUNDLED_ORDER
from .errors import InputError, StoreError
from .namespaces import (
    AG,
    DCTERMS,
    ENTITIES_GRAPH,
    GRAPH,
    ID,
    NP,
    OA,
    ONTOLOGY_GRAPH,
    OWL,
    PROV,
    RDF,
    RDFS,
    SKOS,
    SOURCES_GRAPH,
)
from .reason import (
    AGR,
    DEFINITIONS_GRAPH,
    OUTCOMES,
    all_views,
    entity_graphs,
    read_claims,
    read_relationships,
    results_graph_iri,
    select_views,
)

Progress = Callable[[str], None]
MARKER = ".allygraph-report"  # marks a folder as a report, so writing a new one may replace it
_OUTCOME = {
    AGR + "meets": "meets",
    AGR + "doesNotMeet": "does-not-meet",
    AGR + "undetermined": "undetermined",
    AGR + "contested": "contested",
}
_STATUS = {
    AGR + "holds": "holds",
    AGR + "fails": "fails",
    AGR + "noEvidence": "no-evidence",
    AGR + "contestedCriterion": "contested",
}
# the ledger's own graphs: their labels win over those of imported datasets ("Russia" over ATOP's "RUS")
_OWN_GRAPHS = frozenset(str(g) for g in (ENTITIES_GRAPH, SOURCES_GRAPH, ONTOLOGY_GRAPH, DEFINITIONS_GRAPH))
_ACTOR_KINDS = ("State", "NonStateActor", "InternationalOrganisation", "Bloc")


def _quiet(_message: str) -> None:
    pass


# ----------------------------------------------------------------------------------------------------
# What the report shows, read from the store
# ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    """One criterion's status for one relationship, with the claim IRIs behind it."""

    criterion: str
    status: str
    supporting: tuple[str, ...] = ()
    contradicting: tuple[str, ...] = ()
    overridden: tuple[str, ...] = ()


@dataclass(frozen=True)
class Verdict:
    """The outcome of one classifier (a definition, or a class it also classifies) for one relationship."""

    classifier: str
    outcome: str
    checks: tuple[Check, ...]


@dataclass(frozen=True)
class DefinitionInfo:
    name: str
    iri: str
    label: str
    statement: str


@dataclass(frozen=True)
class RelationshipInfo:
    iri: str
    label: str
    participants: tuple[str, ...]  # actor IRIs
    atop_id: str = ""


@dataclass(frozen=True)
class Anchor:
    document: str  # the document's identifier
    start: int
    end: int


@dataclass
class ClaimInfo:
    """A claim as the report shows it: a quote with its anchors, or a dataset record's file and line."""

    iri: str
    id: str
    quote: str = ""
    modality: str = ""
    attribution: str = ""
    author: str = ""
    speaker: str = ""
    file: str = ""
    line: int = 0
    record: str = ""  # the label of the ag:DatasetRecord it was derived from, if any
    record_file: str = ""
    record_line: int = 0
    anchors: list[Anchor] = field(default_factory=list)
    bears_on: set[str] = field(default_factory=set)  # relationship IRIs


@dataclass(frozen=True)
class Document:
    id: str
    title: str
    file: str
    text: str
    publisher: str = ""
    issued: str = ""


@dataclass(frozen=True)
class Event:
    iri: str
    label: str
    kind: str
    date: str  # the lexical form: 2016, 2015-09 or 2016-10-24
    claims: tuple[str, ...]
    actors: tuple[str, ...]
    relationships: tuple[str, ...]


@dataclass
class Evidence:
    """Everything one report shows, for one view."""

    view: str
    definitions: list[DefinitionInfo]
    relationships: dict[str, RelationshipInfo]  # those classified in the view
    verdicts: dict[tuple[str, str], tuple[Verdict, tuple[Verdict, ...]]]  # (relationship, definition) -> verdicts
    claims: dict[str, ClaimInfo]  # by claim IRI
    documents: dict[str, Document]  # by identifier
    events: list[Event]
    labels: dict[str, str]  # actors, classes, criteria
    statements: dict[str, str]  # plain-language statements of definitions and criteria
    kinds: dict[str, str]  # actor IRI -> state, nonstateactor, internationalorganisation, bloc


def _n(iri: object) -> NamedNode:
    return NamedNode(str(iri))


def _local(iri: str) -> str:
    return re.split(r"[/#]", iri.rstrip("/#"))[-1] or iri


class _Texts:
    """Labels and other one-valued texts of IRIs, from any graph, English or untagged first."""

    def __init__(self, store: pyoxigraph.Store) -> None:
        self.store = store
        self._cache: dict[tuple[str, str], str] = {}

    def get(self, iri: str, prop: object = RDFS.label, default: str | None = None) -> str:
        key = (iri, str(prop))
        if key not in self._cache:
            found = [
                (q.graph_name.value not in _OWN_GRAPHS, q.object.language not in (None, "en"), q.object.value)
                for q in self.store.quads_for_pattern(_n(iri), _n(prop), None, None)
                if isinstance(q.object, pyoxigraph.Literal) and isinstance(q.graph_name, NamedNode)
            ]
            self._cache[key] = min(found)[2] if found else (_local(iri) if default is None else default)
        return self._cache[key]


def read_evidence(store: pyoxigraph.Store, view: str = "all", *, progress: Progress = _quiet) -> Evidence:
    """Read what a report of `view` shows from a built store (classification results included).

    :raises StoreError: if the build holds no classification results (built with --no-reason).
    :raises InputError: for a view the results do not cover, naming those they do.
    """
    texts = _Texts(store)
    definitions = [
        d for d in _definitions(store, texts) if store.contains_named_graph(_n(results_graph_iri(d.name, "all")))
    ]
    if not definitions:
        raise StoreError("the build holds no classification results: run `allygraph build` without --no-reason")
    if not any(store.contains_named_graph(_n(results_graph_iri(d.name, view))) for d in definitions):
        prefix = f"{GRAPH}results/{definitions[0].name}/"
        known = sorted(
            g.value[len(prefix) :].replace("/", ":", 1)
            for g in store.named_graphs()
            if isinstance(g, NamedNode) and g.value.startswith(prefix)
        )
        raise InputError(f"no results for view {view!r} in the store; known: {', '.join(known)}")
    progress(f"reading the results of {len(definitions)} definitions in view {view}")
    verdicts: dict[tuple[str, str], tuple[Verdict, tuple[Verdict, ...]]] = {}
    criteria = _criteria(store)
    for definition in definitions:
        for relationship, found in _verdicts(store, results_graph_iri(definition.name, view), criteria).items():
            verdicts[(relationship, definition.name)] = found
    every = read_relationships(store)
    labels: dict[str, str] = {r: rel.label for r, rel in every.items()}
    in_view = sorted({r for r, _d in verdicts}, key=lambda r: (every[r].label if r in every else r, r))
    for r in in_view:  # every definition classifies every relationship of a view; never fail on a gap
        for d in definitions:
            verdicts.setdefault((r, d.name), (Verdict(d.iri, "undetermined", ()), ()))
    entity = [_n(g) for g in entity_graphs(store)]
    relationships: dict[str, RelationshipInfo] = {}
    kinds: dict[str, str] = {}
    for r in in_view:
        participants = sorted(
            {
                q.object.value
                for g in entity
                for q in store.quads_for_pattern(_n(r), _n(AG.hasParticipant), None, g)
                if isinstance(q.object, NamedNode)
            }
        )
        known = every.get(r)
        relationships[r] = RelationshipInfo(
            r, known.label if known else texts.get(r), tuple(participants), known.atop_id if known else ""
        )
        for actor in participants:
            labels[actor] = texts.get(actor)
            kinds.setdefault(actor, _kind(store, actor, entity))
    progress(f"reading claims, sources and events ({len(relationships)} relationships)")
    scope = _scope(store, view)
    claims = _claims(store, texts)
    documents = _documents(store)
    if scope is not None:
        claims = {iri: claim for iri, claim in claims.items() if iri in scope.claims}
        for claim in claims.values():  # a source view holds one copy of a work's text, a work view all of them
            claim.anchors = [a for a in claim.anchors if a.document in scope.documents]
        anchored = {a.document for claim in claims.values() for a in claim.anchors}
        documents = {d: doc for d, doc in documents.items() if d in anchored}
    _bearing(store, claims, set(every) | set(relationships), verdicts)
    statements: dict[str, str] = {}
    for d in definitions:
        statements[d.iri] = d.statement
    for main, also in verdicts.values():
        for verdict in (main, *also):
            labels.setdefault(verdict.classifier, texts.get(verdict.classifier))
            for check in verdict.checks:
                if check.criterion not in labels:
                    labels[check.criterion] = texts.get(check.criterion)
                    statements[check.criterion] = texts.get(check.criterion, AG.plainStatement, "")
    events = _events(store, texts, labels, None if scope is None else scope.claims)
    return Evidence(
        view=view,
        definitions=definitions,
        relationships=relationships,
        verdicts=verdicts,
        claims=claims,
        documents=documents,
        events=events,
        labels=labels,
        statements=statements,
        kinds=kinds,
    )


@dataclass(frozen=True)
class _Scope:
    """What a view other than `all` holds: its claims (IRIs) and the documents whose copies of a text it reads."""

    claims: frozenset[str]
    documents: frozenset[str]  # document identifiers


def _scope(store: pyoxigraph.Store, view: str) -> _Scope | None:
    """The claims and documents of `view` as `reason` defines the view (None for `all`: the whole store).

    The claims are those of :func:`reason.all_views`, built as `classify` builds them; they are evidence
    only, so hypotheticals and reported speech (which are not) are in the report of `all` alone. A view's
    documents are those its claims are quoted from, except that `source:<document>` reads that one copy:
    `reason.View` does not say which documents a view reads, so that is taken from the view's name here.

    :raises InputError: for a view `reason` does not know (such as a scenario's).
    """
    if view == "all":
        return None
    (chosen,) = select_views(all_views([c for c in read_claims(store) if not c.assumed]), [view]).values()
    claims = (*chosen.claims, *chosen.assumed)
    if view.startswith("source:"):
        documents = frozenset({view.removeprefix("source:")})
    else:
        documents = frozenset(d for c in claims for d in c.documents)
    return _Scope(frozenset(c.iri for c in claims), documents)


def _definitions(store: pyoxigraph.Store, texts: _Texts) -> list[DefinitionInfo]:
    query = f"""SELECT DISTINCT ?cls ?name WHERE {{
        GRAPH <{DEFINITIONS_GRAPH}> {{ ?cls <{SKOS.notation}> ?name ; <{AG.criterion}> ?criterion }} }}"""
    found = {row["name"].value: row["cls"].value for row in store.query(query)}
    order = {name: i for i, name in enumerate(BUNDLED_ORDER)}
    return [
        DefinitionInfo(name, iri, texts.get(iri), texts.get(iri, AG.plainStatement, ""))
        for name, iri in sorted(found.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0]))
    ]


def _criteria(store: pyoxigraph.Store) -> dict[str, list[str]]:
    """Each definition's (and also-classified class's) criteria, by class IRI."""
    criteria: dict[str, list[str]] = defaultdict(list)
    query = f"SELECT ?d ?c WHERE {{ GRAPH <{DEFINITIONS_GRAPH}> {{ ?d <{AG.criterion}> ?c }} }}"
    for row in store.query(query):
        criteria[row["d"].value].append(row["c"].value)
    return criteria


def _verdicts(
    store: pyoxigraph.Store, graph: str, criteria: dict[str, list[str]]
) -> dict[str, tuple[Verdict, tuple[Verdict, ...]]]:
    """The classifications in one results graph, by relationship IRI; a criterion in `criteria` without a
    check in the results has no evidence."""
    props: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for q in store.quads_for_pattern(None, None, None, _n(graph)):
        props[q.subject.value][q.predicate.value].append(q.object.value)

    def one(node: str, prop: str) -> str:
        values = props.get(node, {}).get(AGR + prop, [])
        return sorted(values)[0] if values else ""

    def verdict(node: str) -> Verdict:
        checked = {one(check, "criterion"): check for check in props[node].get(AGR + "check", [])}
        definition = one(node, "definition")
        for criterion in criteria.get(definition, []):
            checked.setdefault(criterion, f"{node}/{_local(criterion)}")  # the IRI it would have had
        checks = []
        for criterion, check in sorted(checked.items(), key=lambda item: item[1]):
            p = props.get(check, {})
            checks.append(
                Check(
                    criterion=criterion,
                    status=_STATUS.get(one(check, "status"), "no-evidence"),
                    supporting=tuple(sorted(p.get(AGR + "supportedBy", []))),
                    contradicting=tuple(sorted(p.get(AGR + "contradictedBy", []))),
                    overridden=tuple(sorted(p.get(AGR + "overriddenBy", []))),
                )
            )
        return Verdict(definition, _OUTCOME.get(one(node, "outcome"), "undetermined"), tuple(checks))

    found = {}
    for node in sorted(props):
        if AGR + "definitionName" in props[node]:
            also = tuple(verdict(a) for a in sorted(props[node].get(AGR + "alsoClassifiedAs", [])))
            found[one(node, "relationship")] = (verdict(node), also)
    return found


def _kind(store: pyoxigraph.Store, actor: str, graphs: list[NamedNode]) -> str:
    types = {q.object.value for g in graphs for q in store.quads_for_pattern(_n(actor), _n(RDF.type), None, g)}
    for name in _ACTOR_KINDS:
        if str(AG[name]) in types:
            return name.lower()
    return "actor"


def _values(store: pyoxigraph.Store, subject: object, graph: object) -> dict[str, list[str]]:
    """The objects of `subject` in `graph` (any graph when None), by predicate IRI, as strings."""
    if not isinstance(subject, pyoxigraph.NamedNode | pyoxigraph.BlankNode):
        return {}
    found: dict[str, list[str]] = defaultdict(list)
    for q in store.quads_for_pattern(subject, None, None, graph):  # type: ignore[arg-type]
        found[q.predicate.value].append(q.object.value)
    return found


def _claims(store: pyoxigraph.Store, texts: _Texts) -> dict[str, ClaimInfo]:
    """Every claim (a nanopublication with an ag:claimId), read graph by graph: one SPARQL join over them all
    is slow on a store with thousands of imported claims."""
    claims: dict[str, ClaimInfo] = {}
    for q in store.quads_for_pattern(None, _n(NP.hasAssertion), None, None):
        claim, assertion = q.subject, q.object
        head = _values(store, claim, q.graph_name)
        prov = _n(head[str(NP.hasProvenance)][0]) if head.get(str(NP.hasProvenance)) else None
        pubinfo = _n(head[str(NP.hasPublicationInfo)][0]) if head.get(str(NP.hasPublicationInfo)) else None
        info, about = _values(store, claim, pubinfo), _values(store, assertion, prov)
        if not info.get(str(AG.claimId)) or not isinstance(claim, NamedNode):
            continue

        def one(values: dict[str, list[str]], prop: object) -> str:
            found = sorted(values.get(str(prop), []))
            return found[0] if found else ""

        record: dict[str, list[str]] = {}
        for derived in sorted(about.get(str(PROV.wasDerivedFrom), [])):
            candidate = _values(store, _n(derived), prov)
            if str(AG.DatasetRecord) in candidate.get(str(RDF.type), []):
                record = {**candidate, "iri": [derived]}
                break
        author, speaker = one(about, PROV.wasAttributedTo), one(about, AG.reportedSpeaker)
        anchors = []
        for anchor in sorted(about.get(str(AG.hasAnchor), [])):
            target = _values(store, _n(anchor), prov)
            document = texts.get(one(target, OA.hasSource), DCTERMS.identifier, "") if target else ""
            for selector in sorted(target.get(str(OA.hasSelector), [])):
                position = _values(store, _n(selector), prov)
                if document and str(OA.TextPositionSelector) in position.get(str(RDF.type), []):
                    anchors.append(Anchor(document, _int(one(position, OA.start)), _int(one(position, OA.end))))
        claims[claim.value] = ClaimInfo(
            iri=claim.value,
            id=one(info, AG.claimId),
            quote=one(about, AG.quote),
            modality=_local(one(about, AG.modality)),
            attribution=_local(one(about, AG.attributionKind)),
            author=texts.get(author) if author else "",
            speaker=texts.get(speaker) if speaker else "",
            file=one(info, AG.mediaFile),
            line=_int(one(info, AG.line)),
            record=(one(record, RDFS.label) or _local(one(record, "iri"))) if record else "",
            record_file=one(record, AG.mediaFile),
            record_line=_int(one(record, AG.line)),
            anchors=sorted(anchors, key=lambda a: (a.document, a.start)),
        )
    return dict(sorted(claims.items(), key=lambda kv: kv[1].id))


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        return 0


def _bearing(
    store: pyoxigraph.Store,
    claims: dict[str, ClaimInfo],
    relationships: set[str],
    verdicts: dict[tuple[str, str], tuple[Verdict, tuple[Verdict, ...]]],
) -> None:
    """Fill each claim's `bears_on`: relationships its assertion mentions, or whose criteria it is evidence for."""
    by_assertion = {f"{iri}/assertion": claim for iri, claim in claims.items()}
    for r in relationships:
        node = _n(r)
        for q in (*store.quads_for_pattern(node, None, None, None), *store.quads_for_pattern(None, None, node, None)):
            claim = by_assertion.get(q.graph_name.value) if isinstance(q.graph_name, NamedNode) else None
            if claim is not None:
                claim.bears_on.add(r)
    for (r, _d), (main, also) in verdicts.items():
        for verdict in (main, *also):
            for check in verdict.checks:
                for iri in (*check.supporting, *check.contradicting, *check.overridden):
                    if iri in claims:
                        claims[iri].bears_on.add(r)


def _documents(store: pyoxigraph.Store) -> dict[str, Document]:
    g = _n(SOURCES_GRAPH)
    docs = {}
    for q in store.quads_for_pattern(None, _n(RDF.type), _n(AG.SourceDocument), g):
        values: dict[str, str] = {}
        for p in store.quads_for_pattern(q.subject, None, None, g):
            if isinstance(p.object, pyoxigraph.Literal):
                values.setdefault(p.predicate.value, p.object.value)
        doc_id = values.get(str(DCTERMS.identifier), _local(q.subject.value))
        docs[doc_id] = Document(
            id=doc_id,
            title=values.get(str(DCTERMS.title), doc_id),
            file=values.get(str(AG.mediaFile), ""),
            text=values.get(str(AG.text), ""),
            publisher=values.get(str(DCTERMS.publisher), ""),
            issued=values.get(str(DCTERMS.issued), ""),
        )
    return dict(sorted(docs.items()))


def _events(
    store: pyoxigraph.Store, texts: _Texts, labels: dict[str, str], in_view: frozenset[str] | None = None
) -> list[Event]:
    """The dated events: every one in the store when `in_view` is None, else those a claim in `in_view`
    (claim IRIs) dates, with what those claims (and the entity descriptions) say of them."""
    kinds = {
        row["t"].value
        for row in store.query(
            f"SELECT ?t WHERE {{ GRAPH <{ONTOLOGY_GRAPH}> {{ ?t <{RDFS.subClassOf}>* <{AG.Event}> }} }}"
        )
    }
    query = f"""SELECT ?e ?date ?claim WHERE {{
        GRAPH ?g {{ ?e <{AG.date}> ?date }} OPTIONAL {{ GRAPH ?head {{ ?claim <{NP.hasAssertion}> ?g }} }} }}"""
    dated: dict[tuple[str, str], set[str]] = defaultdict(set)
    for row in store.query(query):
        if isinstance(row["e"], NamedNode):
            claims = dated[(row["e"].value, row["date"].value)]
            if row["claim"] is not None:
                claims.add(row["claim"].value)
    hidden: set[str] = set()  # the assertion graphs of claims out of the view
    if in_view is not None:
        dated = {key: claims for key, claims in dated.items() if claims & in_view}
        hidden = {
            q.object.value
            for q in store.quads_for_pattern(None, _n(NP.hasAssertion), None, None)
            if q.subject.value not in in_view
        }
    events = []
    for (iri, date), claims in dated.items():

        def objects(prop: object, iri: str = iri) -> list[str]:
            return sorted(
                {
                    q.object.value
                    for q in store.quads_for_pattern(_n(iri), _n(prop), None, None)
                    if not (isinstance(q.graph_name, NamedNode) and q.graph_name.value in hidden)
                }
                - {str(OWL.NamedIndividual)}
            )

        kind = [t for t in objects(RDF.type) if t in kinds and t != str(AG.Event)] or [str(AG.Event)]
        actors = objects(AG.involves)
        for actor in actors:
            labels.setdefault(actor, texts.get(actor))
        events.append(
            Event(
                iri,
                texts.get(iri),
                texts.get(kind[0]),
                date,
                tuple(sorted(claims if in_view is None else claims & in_view)),
                tuple(actors),
                tuple(objects(AG.eventOf)),
            )
        )
    return sorted(events, key=lambda e: (e.date, e.label, e.iri))


# ----------------------------------------------------------------------------------------------------
# HTML pieces
# ----------------------------------------------------------------------------------------------------


def e(text: object) -> str:
    """`text` escaped for HTML text and attribute values.

    >>> e('<script>alert("x")</script>')
    '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;'
    """
    return html.escape(str(text), quote=True)


def external_href(iri: str) -> str | None:
    """`iri` if it may be a link out of the report (http or https), else None: never `javascript:`, `data:` ...

    >>> external_href("https://w3id.org/allygraph/id/iran"), external_href("javascript:alert(1)")
    ('https://w3id.org/allygraph/id/iran', None)
    """
    try:
        parts = urlsplit(iri)
    except ValueError:
        return None
    return iri if parts.scheme.lower() in ("http", "https") and parts.netloc else None


def _iri(iri: str) -> str:
    href = external_href(iri)
    return f'<a class="iri" href="{e(href)}"><code>{e(iri)}</code></a>' if href else f"<code>{e(iri)}</code>"


class _Slugs:
    """Short, unique names safe in file names and fragment ids, one per key."""

    def __init__(self) -> None:
        self._names: dict[str, str] = {}
        self._taken: set[str] = set()

    def __call__(self, key: str) -> str:
        if key not in self._names:
            base = re.sub(r"[^a-z0-9]+", "-", key.lower()).strip("-")[:60].strip("-") or "x"
            name, n = base, 2
            while name in self._taken:
                name, n = f"{base}-{n}", n + 1
            self._taken.add(name)
            self._names[key] = name
        return self._names[key]


@dataclass(frozen=True)
class Span:
    """A stretch [start, end) of a text to highlight: `key` names it (`data-claim`), `id` goes on its first
    piece, `title` on every piece, and `note` (HTML) right after its last piece."""

    start: int
    end: int
    key: str
    id: str = ""
    title: str = ""
    note: str = ""


def highlight(text: str, spans: Sequence[Span]) -> str:
    """`text`, escaped, with each span in `<mark>` elements; spans may nest, cross and share bounds.

    Marks nest where the spans do; a span crossing the end of an enclosing one is closed there and
    reopened (without the id) after it, so the HTML stays well formed. Spans outside the text are ignored.

    >>> highlight("a<b>c", [Span(0, 3, "x", id="m-x")])
    '<mark class="q" data-claim="x" id="m-x">a&lt;b</mark>&gt;c'
    >>> highlight("abcd", [Span(0, 2, "x"), Span(1, 4, "y")]).replace(' class="q"', "")
    '<mark data-claim="x">a<mark data-claim="y">b</mark></mark><mark data-claim="y">cd</mark>'
    """
    valid = sorted(
        (i for i, s in enumerate(spans) if 0 <= s.start < s.end <= len(text)),
        key=lambda i: (spans[i].start, -spans[i].end, i),
    )
    starts: dict[int, list[int]] = defaultdict(list)
    ends: dict[int, set[int]] = defaultdict(set)
    for i in valid:
        starts[spans[i].start].append(i)
        ends[spans[i].end].add(i)

    def open_tag(i: int, first: bool) -> str:
        s = spans[i]
        attrs = f' class="q" data-claim="{e(s.key)}"'
        if first and s.id:
            attrs += f' id="{e(s.id)}"'
        if s.title:
            attrs += f' title="{e(s.title)}"'
        return f"<mark{attrs}>"

    out: list[str] = []
    stack: list[int] = []
    position = 0
    for boundary in sorted(set(starts) | set(ends)):
        out.append(e(text[position:boundary]))
        position = boundary
        closing = ends.get(boundary, set())
        reopen: list[int] = []
        while closing & set(stack):
            top = stack.pop()
            out.append("</mark>")
            if top in closing:
                closing = closing - {top}
                out.append(spans[top].note)
            else:
                reopen.append(top)
        for i in reversed(reopen):
            out.append(open_tag(i, first=False))
            stack.append(i)
        for i in starts.get(boundary, []):
            out.append(open_tag(i, first=True))
            stack.append(i)
    out.append(e(text[position:]))
    return "".join(out)


def _csp(script: str) -> str:
    policy = "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'"
    if script:
        digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")
        policy += f"; script-src 'sha256-{digest}'"
    return policy


def _page(title: str, body: str, *, depth: int, view: str, script: str = "") -> str:
    root = "../" * depth
    nav = " ".join(
        f'<a href="{root}{href}">{label}</a>'
        for href, label in (
            ("index.html", "Overview"),
            ("disagreements.html", "Disagreements"),
            ("timeline.html", "Timeline"),
            ("sources.html", "Sources"),
            ("claims.html", "Claims"),
        )
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="{_csp(script)}">
<title>{e(title)} · allygraph report</title>
<link rel="stylesheet" href="{root}report.css">
</head>
<body>
<header><nav>{nav}</nav></header>
<main>
{body}
</main>
<footer>allygraph report · view <code>{e(view)}</code> · written from the built store; nothing here is
fetched from the network.</footer>
{f"<script>{script}</script>" if script else ""}
</body>
</html>
"""


def _badge(kind: str, value: str, *, href: str = "", title: str = "") -> str:
    text = e(value.replace("-", " "))
    attrs = f' title="{e(title)}"' if title else ""
    if href:
        return f'<a class="badge {kind}-{e(value)}" href="{e(href)}"{attrs}>{text}</a>'
    return f'<span class="badge {kind}-{e(value)}"{attrs}>{text}</span>'


# ----------------------------------------------------------------------------------------------------
# The map
# ----------------------------------------------------------------------------------------------------


def layout(count: int, links: dict[tuple[int, int], float], *, size: float) -> list[tuple[float, float]]:
    """Deterministic positions of `count` nodes in a size × size square: Fruchterman–Reingold from a circle.

    `links` maps node pairs to attraction weights. The work is capped (about 1.5 million pair steps), so a
    map of a few hundred actors takes about a second.

    >>> [tuple(round(c) for c in p) for p in layout(1, {}, size=100)]
    [(50, 50)]
    >>> a, b = layout(2, {(0, 1): 1.0}, size=100); round(math.dist(a, b)) > 50
    True
    """
    if count == 0:
        return []
    if count == 1:
        return [(size / 2, size / 2)]
    center = size / 2
    xs = [center + size * 0.4 * math.cos(2 * math.pi * i / count + 0.4) for i in range(count)]
    ys = [center + size * 0.4 * math.sin(2 * math.pi * i / count + 0.4) for i in range(count)]
    k = 0.6 * size / math.sqrt(count)
    k2 = k * k
    steps = max(15, min(200, 1_500_000 // (count * count)))
    temperature = size / 10
    for step in range(steps):
        fx = [0.0] * count
        fy = [0.0] * count
        for i in range(count):
            xi, yi = xs[i], ys[i]
            for j in range(i + 1, count):
                dx, dy = xi - xs[j], yi - ys[j]
                f = k2 / (dx * dx + dy * dy or 1e-6)
                fx[i] += dx * f
                fy[i] += dy * f
                fx[j] -= dx * f
                fy[j] -= dy * f
        for (i, j), weight in links.items():
            dx, dy = xs[i] - xs[j], ys[i] - ys[j]
            f = math.hypot(dx, dy) * weight / k
            fx[i] -= dx * f
            fy[i] -= dy * f
            fx[j] += dx * f
            fy[j] += dy * f
        limit = temperature * (1 - step / steps) + 1
        for i in range(count):
            gx = fx[i] + (center - xs[i]) * k / size * 4
            gy = fy[i] + (center - ys[i]) * k / size * 4
            length = math.hypot(gx, gy)
            if length > 0:
                move = min(length, limit) / length
                xs[i] += gx * move
                ys[i] += gy * move
    margin = size * 0.08
    low_x, low_y = min(xs), min(ys)
    span = max(max(xs) - low_x, max(ys) - low_y) or 1.0
    scale = (size - 2 * margin) / span
    off_x = (size - (max(xs) - low_x) * scale) / 2
    off_y = (size - (max(ys) - low_y) * scale) / 2
    return [(off_x + (x - low_x) * scale, off_y + (y - low_y) * scale) for x, y in zip(xs, ys, strict=True)]


def _map(ev: Evidence, pages: dict[str, str], selected: int) -> str:
    """The overview map as inline SVG: one `<a class="edge">` per relationship, one `<g class="node">` per actor."""
    actors = sorted({a for r in ev.relationships.values() for a in r.participants}, key=lambda a: (ev.labels[a], a))
    index = {a: i for i, a in enumerate(actors)}
    links: dict[tuple[int, int], float] = defaultdict(float)
    for r in ev.relationships.values():
        members = [index[a] for a in r.participants]
        for x, i in enumerate(members):
            for j in members[x + 1 :]:
                links[(min(i, j), max(i, j))] += 1.0 / (len(members) - 1)
    size = max(480.0, min(1400.0, 110.0 * math.sqrt(len(actors))))
    pos = layout(len(actors), dict(links), size=size)
    dense = len(actors) > 60
    radius = 4.0 if dense else 7.0
    parallel: dict[tuple[str, ...], list[str]] = defaultdict(list)
    for r in ev.relationships.values():
        parallel[r.participants].append(r.iri)
    edges = []
    for r in ev.relationships.values():
        points = [pos[index[a]] for a in r.participants]
        if len(points) < 2:
            continue
        siblings = parallel[r.participants]
        offset = (siblings.index(r.iri) - (len(siblings) - 1) / 2) * 16.0
        hub = ""
        if len(points) == 2:
            (x1, y1), (x2, y2) = points
            length = math.hypot(x2 - x1, y2 - y1) or 1.0
            cx = (x1 + x2) / 2 - (y2 - y1) / length * offset * 2
            cy = (y1 + y2) / 2 + (x2 - x1) / length * offset * 2
            d = f"M{x1:.1f} {y1:.1f} Q{cx:.1f} {cy:.1f} {x2:.1f} {y2:.1f}"
        else:
            hx = sum(x for x, _ in points) / len(points) + offset
            hy = sum(y for _, y in points) / len(points) + offset
            d = " ".join(f"M{hx:.1f} {hy:.1f} L{x:.1f} {y:.1f}" for x, y in points)
            hub = f'<circle cx="{hx:.1f}" cy="{hy:.1f}" r="{radius * 0.6:.1f}"/>'
        outcomes = [ev.verdicts[(r.iri, d.name)][0].outcome for d in ev.definitions]
        edges.append(
            f'<a class="edge o-{outcomes[selected]}" href="{e(pages[r.iri])}" data-o="{e(" ".join(outcomes))}" '
            f'data-label="{e(r.label)}"><title>{e(r.label)}: {e(outcomes[selected].replace("-", " "))}</title>'
            f'<path d="{d}"/>{hub}</a>'
        )
    nodes = []
    for a, (x, y) in zip(actors, pos, strict=True):
        nodes.append(
            f'<g class="node k-{e(ev.kinds.get(a, "actor"))}"><title>{e(ev.labels[a])}</title>'
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{radius:.0f}"/>'
            + (  # labels point away from the middle, so those on the right stay inside the frame
                f'<text x="{x + radius + 2:.1f}" y="{y + 4:.1f}">'
                if x < size / 2
                else f'<text x="{x - radius - 2:.1f}" y="{y + 4:.1f}" text-anchor="end">'
            )
            + f"{e(ev.labels[a])}</text></g>"
        )
    return (
        f'<svg id="map" class="{"dense" if dense else ""}" xmlns="http://www.w3.org/2000/svg" '
        f'width="{size:.0f}" height="{size:.0f}" viewBox="0 0 {size:.0f} {size:.0f}" role="img" '
        f'aria-label="Map of {len(actors)} actors and '
        f'{len(edges)} relationships, coloured by outcome">\n<g class="edges">\n'
        + "\n".join(edges)
        + '\n</g>\n<g class="nodes">\n'
        + "\n".join(nodes)
        + "\n</g>\n</svg>"
    )


# ----------------------------------------------------------------------------------------------------
# Pages
# ----------------------------------------------------------------------------------------------------


@dataclass
class _Site:
    ev: Evidence
    selected: int
    rel_pages: dict[str, str] = field(default_factory=dict)  # relationship IRI -> rel/<slug>.html
    doc_pages: dict[str, str] = field(default_factory=dict)  # document id -> sources/<slug>.html
    claim_ids: _Slugs = field(default_factory=_Slugs)

    def rel_link(self, r: str, depth: int, fragment: str = "", *, text: str = "") -> str:
        """A link to a relationship's page (a fragment of it), or just its label if it has no page.

        A relationship has a page only if the view classifies it. One out of the view (an event's, say) is
        named as plain text rather than left out, since what the claim or event says of it is still true; a
        link would lead nowhere, and a link to another view's report would leave this one."""
        label = text or (self.ev.relationships[r].label if r in self.ev.relationships else self.ev.labels.get(r, r))
        if r not in self.rel_pages:
            return e(label)
        return f'<a href="{"../" * depth}{e(self.rel_pages[r])}{"#" + e(fragment) if fragment else ""}">{e(label)}</a>'

    def claim_href(self, iri: str, depth: int) -> str:
        claim = self.ev.claims[iri]
        return f"{'../' * depth}claims.html#c-{self.claim_ids(claim.id)}"

    def claim_card(self, iri: str, depth: int) -> str:
        """A claim's quote (or dataset record), who says it and where, with links to its highlights."""
        claim = self.ev.claims.get(iri)
        if claim is None:  # not in the view: named, not linked (the report has no card of it to link to)
            return f'<div class="claim"><p class="meta">claim <code>{e(_local(iri))}</code></p></div>'
        parts = []
        if claim.quote:
            parts.append(f"<blockquote><p>“{e(claim.quote)}”</p></blockquote>")
        elif claim.record:
            where = f"{claim.record_file}:{claim.record_line}" if claim.record_file else ""
            parts.append(
                f'<p class="record">Dataset record: {e(claim.record)}'
                + (f" (<code>{e(where)}</code>)" if where else "")
                + "</p>"
            )
        who = claim.author or "unknown author"
        if claim.attribution == "reportedSpeech":
            who = f"{claim.speaker or 'someone'}, reported by {who}"
        meta = [
            f'<a href="{e(self.claim_href(iri, depth))}">{e(claim.id)}</a>',
            e(claim.modality),
            e(who),
        ]
        if claim.file:
            meta.append(f"<code>{e(claim.file)}:{claim.line}</code>")
        parts.append(f'<p class="meta">{" · ".join(meta)}</p>')
        quoted = [
            f'<a href="{"../" * depth}{e(self.doc_pages[a.document])}#m-{self.claim_ids(claim.id)}">'
            f"{e(self.ev.documents[a.document].title)}</a> (characters {a.start}–{a.end})"
            for a in claim.anchors
            if a.document in self.doc_pages
        ]
        if quoted:
            parts.append(f'<p class="meta">highlighted in: {", ".join(quoted)}</p>')
        return f'<div class="claim">{"".join(parts)}</div>'

    def bears_on(self, claim: ClaimInfo, depth: int, *, extra: str = "") -> str:
        """The relationships a claim bears on, as links (and `extra` HTML), in one line."""
        links = [self.rel_link(r, depth) for r in sorted(claim.bears_on, key=lambda r: (self.ev.labels.get(r, r), r))]
        parts = [f"bears on: {', '.join(links)}"] if links else []
        return f'<p class="meta">{" · ".join([*parts, extra] if extra else parts)}</p>' if parts or extra else ""


@dataclass(frozen=True)
class _Row:
    """A row of a relationship's matrix: a definition, or a class the definition also classifies."""

    id: str
    name: str  # what the matrix shows
    heading: str  # what evidence sections show
    verdict: Verdict
    also: bool = False


def _rows(ev: Evidence, r: str) -> list[_Row]:
    rows = []
    for d in ev.definitions:
        main, also = ev.verdicts[(r, d.name)]
        rows.append(_Row(d.name, d.name, f"{d.name}: {d.label}", main))
        for a in also:
            label = ev.labels.get(a.classifier, _local(a.classifier))
            rows.append(_Row(f"{d.name}-{_local(a.classifier)}", f"↳ {label}", f"{d.name}, also: {label}", a, True))
    return rows


def _cells(rows: list[_Row]) -> dict[tuple[str, str], str]:
    """The fragment id of each (row, criterion) cell's evidence section, the same wherever it is linked from."""
    ids = _Slugs()
    return {
        (row.id, c.criterion): "ev-" + ids(f"{row.id}-{_local(c.criterion)}")
        for row in rows
        for c in row.verdict.checks
    }


def _relationship_page(site: _Site, r: str) -> str:
    ev = site.ev
    info = ev.relationships[r]
    rows = _rows(ev, r)
    cells = _cells(rows)
    criteria: list[str] = []
    for row in rows:
        criteria += [c.criterion for c in row.verdict.checks if c.criterion not in criteria]
    head = "".join(
        f'<th scope="col" title="{e(ev.statements.get(c, ""))}">{e(ev.labels.get(c, _local(c)))}</th>' for c in criteria
    )
    matrix = []
    sections = []
    for row in rows:
        by_criterion = {c.criterion: c for c in row.verdict.checks}
        tds = []
        for c in criteria:
            check = by_criterion.get(c)
            if check is None:
                tds.append('<td class="na" title="not a criterion of this definition"></td>')
                continue
            anchor = cells[(row.id, c)]
            n = len({*check.supporting, *check.contradicting})
            tds.append(
                f'<td class="cell" data-criterion="{e(_local(c))}">'
                f"{_badge('s', check.status, href=f'#{anchor}', title=f'{n} claim(s)')}</td>"
            )
            sections.append(_evidence_section(site, anchor, row.heading, check))
        matrix.append(
            f'<tr class="{"also" if row.also else "definition"}" data-row="{e(row.id)}">'
            f'<th scope="row" title="{e(row.heading)}">'
            f"{e(row.name)}</th>"
            f"<td>{_badge('o', row.verdict.outcome)}</td>{''.join(tds)}</tr>"
        )
    participants = ", ".join(sorted(e(ev.labels.get(a, _local(a))) for a in info.participants))
    mentions = sorted((c for c in ev.claims.values() if r in c.bears_on), key=lambda c: c.id)
    mention_list = "".join(
        f'<li><a href="{e(site.claim_href(c.iri, 1))}">{e(c.id)}</a>'
        + (f": “{e(_short(c.quote))}”" if c.quote else (f": {e(c.record)}" if c.record else ""))
        + "</li>"
        for c in mentions
    )
    atop = f" · ATOP agreement {e(info.atop_id)}" if info.atop_id else ""
    body = f"""<h1>{e(info.label)}</h1>
<p>Participants: {participants or "none recorded"}{atop}<br>{_iri(r)}</p>
<h2 id="matrix">Definitions × criteria (view <code>{e(ev.view)}</code>)</h2>
<p class="muted">Each cell is a criterion's status under the evidence of the view: holds, fails, no evidence or
contested (sources disagree). Click a cell for the claims behind it; hatched cells are not criteria of that
definition.</p>
<div class="scroll"><table class="matrix">
<thead><tr><th scope="col">definition</th><th scope="col">outcome</th>{head}</tr></thead>
<tbody>
{chr(10).join(matrix)}
</tbody></table></div>
<h2>Evidence</h2>
{chr(10).join(sections)}
<h2>Claims that bear on it</h2>
<ul>{mention_list or "<li>none</li>"}</ul>"""
    return _page(info.label, body, depth=1, view=ev.view)


def _short(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _evidence_section(site: _Site, anchor: str, heading: str, check: Check) -> str:
    ev = site.ev
    criterion = ev.labels.get(check.criterion, _local(check.criterion))
    parts = [
        f'<section class="evidence" id="{e(anchor)}">',
        f"<h3>{e(heading)}: {e(criterion)} {_badge('s', check.status)}</h3>",
    ]
    if ev.statements.get(check.criterion):
        parts.append(f'<p class="muted">{e(ev.statements[check.criterion])}</p>')
    for title, claims in (
        ("Supported by", check.supporting),
        ("Contradicted by", check.contradicting),
        ("Overridden by the scenario", check.overridden),
    ):
        if claims:
            parts.append(f"<h4>{title}</h4>" + "".join(site.claim_card(c, 1) for c in claims))
    if check.status == "holds" and not check.supporting:
        parts.append("<p>Holds by the entity descriptions (background); no claim is needed.</p>")
    if check.status == "no-evidence":
        parts.append("<p>No claim in this view bears on it.</p>")
    parts.append('<p><a href="#matrix">back to the matrix</a></p></section>')
    return "\n".join(parts)


def _index_page(site: _Site) -> str:
    ev = site.ev
    definitions = ev.definitions
    options = "".join(
        f'<option value="{i}"{" selected" if i == site.selected else ""}>{e(d.name)}: {e(d.label)}</option>'
        for i, d in enumerate(definitions)
    )
    statements = "".join(
        f'<p class="definition-statement muted" data-def="{i}"{"" if i == site.selected else " hidden"}>'
        f"{e(d.statement)}</p>"
        for i, d in enumerate(definitions)
    )
    counts = {
        o: [sum(1 for r in ev.relationships if ev.verdicts[(r, d.name)][0].outcome == o) for d in definitions]
        for o in OUTCOMES
    }
    legend = "".join(
        f'<li class="o-{o}"><span data-n="{" ".join(map(str, counts[o]))}">{counts[o][site.selected]}</span> '
        f"{o.replace('-', ' ')}</li>"
        for o in OUTCOMES
    )
    head = "".join(
        f'<th scope="col" data-col="{i}"{_sel(i == site.selected)} title="{e(d.label)}">{e(d.name)}</th>'
        for i, d in enumerate(definitions)
    )
    rows = []
    for r, info in ev.relationships.items():
        cells = "".join(
            f'<td data-col="{i}"{_sel(i == site.selected)}>'
            + _badge("o", ev.verdicts[(r, d.name)][0].outcome)
            + "</td>"
            for i, d in enumerate(definitions)
        )
        participants = ", ".join(e(ev.labels.get(a, _local(a))) for a in info.participants)
        rows.append(f"<tr><td>{site.rel_link(r, 0)}</td><td>{participants}</td>{cells}</tr>")
    contested = len(_disagreements(ev))
    script = (files("allygraph") / "report_assets" / "report.js").read_text(encoding="utf-8")
    body = f"""<h1>Evidence report</h1>
<p>{len(ev.relationships)} relationship(s) in view <code>{e(ev.view)}</code>, {len(ev.claims)} claims,
{len(ev.documents)} source documents, <a href="disagreements.html">{contested} disagreements</a>,
<a href="timeline.html">{len(ev.events)} dated events</a>.</p>
<h2>Map</h2>
<div class="controls"><label for="definition">Colour by definition:</label>
<select id="definition">{options}</select>
<ul class="legend">{legend}</ul></div>
{statements}
{_map(ev, site.rel_pages, site.selected)}
<p class="muted">Nodes are actors, edges relationships (a relationship of more than two participants joins them
at a small hub). Click an edge for its definitions × criteria matrix.</p>
<h2>Relationships</h2>
<div class="scroll"><table class="relationships">
<thead><tr><th scope="col">relationship</th><th scope="col">participants</th>{head}</tr></thead>
<tbody>
{chr(10).join(rows)}
</tbody></table></div>"""
    return _page("Overview", body, depth=0, view=ev.view, script=script)


def _sel(selected: bool) -> str:
    return ' class="sel"' if selected else ""


def _source_page(site: _Site, doc: Document) -> str:
    ev = site.ev
    anchored = sorted(
        ((a, c) for c in ev.claims.values() for a in c.anchors if a.document == doc.id),
        key=lambda ac: (ac[0].start, -ac[0].end, ac[1].id),
    )
    spans = []
    notes = []
    for number, (anchor, claim) in enumerate(anchored, start=1):
        slug = site.claim_ids(claim.id)
        fits = 0 <= anchor.start < anchor.end <= len(doc.text)
        spans.append(
            Span(
                anchor.start,
                anchor.end,
                claim.id,
                id=f"m-{slug}",
                title=f"[{number}] {claim.id}",
                note=f'<sup class="ref"><a href="#c-{slug}" title="claim {e(claim.id)}">[{number}]</a></sup>',
            )
        )
        back = f'<a href="#m-{slug}">↑ in the text</a>' if fits else "(its position is outside this text)"
        notes.append(f'<li id="c-{slug}">{site.claim_card(claim.iri, 1)}{site.bears_on(claim, 1, extra=back)}</li>')
    meta = " · ".join(e(x) for x in (doc.file, doc.publisher, doc.issued) if x)
    body = f"""<h1>{e(doc.title)}</h1>
<p class="muted">{meta} · {len(anchored)} quoted claim(s)</p>
<div class="text">{highlight(doc.text, spans)}</div>
<h2>Claims quoted here</h2>
<ol class="notes">{"".join(notes) or "<li>none</li>"}</ol>"""
    return _page(doc.title, body, depth=1, view=ev.view)


def _sources_page(site: _Site) -> str:
    ev = site.ev
    items = []
    for doc in ev.documents.values():
        n = sum(1 for c in ev.claims.values() for a in c.anchors if a.document == doc.id)
        items.append(
            f'<li><a href="{e(site.doc_pages[doc.id])}">{e(doc.title)}</a> '
            f'<span class="muted">{e(doc.id)} · {e(doc.file)} · {n} quoted claim(s)</span></li>'
        )
    unanchored = sum(1 for c in ev.claims.values() if not c.anchors)
    body = f"""<h1>Sources</h1>
<ul>{"".join(items) or "<li>none</li>"}</ul>
<p class="muted">{unanchored} claim(s) quote no document (claims imported from datasets cite their record's file
and line instead): see <a href="claims.html">the claims</a>.</p>"""
    return _page("Sources", body, depth=0, view=ev.view)


def _claims_page(site: _Site) -> str:
    ev = site.ev
    articles = [
        f'<article class="claim" id="c-{site.claim_ids(c.id)}"><h3>{e(c.id)}</h3>'
        f"{site.claim_card(c.iri, 0)}{site.bears_on(c, 0)}</article>"
        for c in sorted(ev.claims.values(), key=lambda c: c.id)
    ]
    scope = (
        ""
        if ev.view == "all"
        else f"""
<p class="muted">The claims of view <code>{e(ev.view)}</code> are its evidence: hypotheticals and reported speech,
which are not evidence, are listed in the report of view <code>all</code> only.</p>"""
    )
    body = f"""<h1>Claims</h1>
<p class="muted">{len(articles)} claims, each with its quote (or dataset record), who states it, the file and line
where it is written, and the relationships it bears on.</p>{scope}
{chr(10).join(articles)}"""
    return _page("Claims", body, depth=0, view=ev.view)


def _disagreements(ev: Evidence) -> list[tuple[str, str, list[_Row], dict[tuple[str, str], str], Check]]:
    """Contested criteria: (relationship, criterion, the rows contesting it, the cells' ids, the check)."""
    found = []
    for r in ev.relationships:
        rows = _rows(ev, r)
        contested: dict[str, tuple[list[_Row], Check]] = {}
        for row in rows:
            for check in row.verdict.checks:
                if check.status == "contested":
                    contested.setdefault(check.criterion, ([], check))[0].append(row)
        found += [(r, c, where, _cells(rows), check) for c, (where, check) in contested.items()]
    return found


def _disagreements_page(site: _Site) -> str:
    ev = site.ev
    sections = []
    for r, criterion, rows, cells, check in _disagreements(ev):
        under = ", ".join(site.rel_link(r, 0, cells[(row.id, criterion)], text=row.heading) for row in rows)
        supporting = "".join(site.claim_card(c, 0) for c in check.supporting) or "<p>none</p>"
        contradicting = "".join(site.claim_card(c, 0) for c in check.contradicting) or "<p>none</p>"
        sections.append(
            f'<section class="evidence"><h2>{site.rel_link(r, 0)}: {e(ev.labels.get(criterion, _local(criterion)))}'
            f"</h2><p>Contested under: {under}</p>"
            f'<div class="columns"><div><h3>Supporting</h3>{supporting}</div>'
            f"<div><h3>Contradicting</h3>{contradicting}</div></div></section>"
        )
    body = f"""<h1>Disagreements between sources</h1>
<p class="muted">Criteria the evidence of view <code>{e(ev.view)}</code> both supports and contradicts, with the
claims on each side.</p>
{chr(10).join(sections) or "<p>No criterion is contested in this view.</p>"}"""
    return _page("Disagreements", body, depth=0, view=ev.view)


def _timeline_page(site: _Site) -> str:
    ev = site.ev
    years: dict[str, list[str]] = defaultdict(list)
    for event in ev.events:
        actors = ", ".join(e(ev.labels.get(a, _local(a))) for a in event.actors)
        relationships = ", ".join(site.rel_link(r, 0) for r in event.relationships)
        reported = ", ".join(
            f'<a href="{e(site.claim_href(c, 0))}">{e(ev.claims[c].id)}</a>' for c in event.claims if c in ev.claims
        )
        details = [
            x
            for x in (
                f"involves: {actors}" if actors else "",
                f"relationship: {relationships}" if relationships else "",
                f"reported by: {reported}" if reported else "",
            )
            if x
        ]
        years[event.date[:4]].append(
            f'<li><time datetime="{e(event.date)}">{e(event.date)}</time><strong>{e(event.label)}</strong> '
            f'<span class="muted">({e(event.kind)})</span><br><span class="meta">{" · ".join(details)}</span></li>'
        )
    body = "<h1>Timeline of dated events</h1>\n" + (
        "\n".join(
            f'<h2 id="y-{e(year)}">{e(year)}</h2><ol class="timeline">{"".join(items)}</ol>'
            for year, items in sorted(years.items())
        )
        or "<p>No claim dates an event.</p>"
    )
    return _page("Timeline", body, depth=0, view=ev.view)


# ----------------------------------------------------------------------------------------------------
# Writing the site
# ----------------------------------------------------------------------------------------------------


def write_report(
    store: pyoxigraph.Store,
    out: Path,
    *,
    definition: str = "valdai",
    view: str = "all",
    progress: Progress = _quiet,
) -> Path:
    """Write the report of `view` into the folder `out`, the map coloured by `definition`; the index page's path.

    The site is written beside `out` and moved into place when complete, replacing an earlier report there.

    :raises InputError: for an unknown definition or view, or an `out` that holds something else than a report.
    :raises StoreError: if the build holds no classification results.
    """
    names = [d.name for d in _definitions(store, _Texts(store))]
    if definition not in names:
        raise InputError(f"unknown definition {definition!r}; known: {', '.join(names)}")
    ev = read_evidence(store, view, progress=progress)
    out = out.absolute()
    if out.exists() and not (out / MARKER).is_file() and (not out.is_dir() or any(out.iterdir())):
        raise InputError(f"{out} exists and is not an allygraph report; choose another --out")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.parent / f".{out.name}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        _write_site(ev, tmp, names.index(definition), progress)
        old = out.parent / f".{out.name}.old-{os.getpid()}"
        if out.exists():
            out.rename(old)
        tmp.rename(out)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    progress(f"wrote the report to {out}")
    return out / "index.html"


def _write_site(ev: Evidence, folder: Path, selected: int, progress: Progress) -> None:
    site = _Site(ev, selected)
    slugs = _Slugs()
    site.rel_pages = {r: f"rel/{slugs(_relationship_key(r))}.html" for r in ev.relationships}
    docs = _Slugs()
    site.doc_pages = {d: f"sources/{docs(d)}.html" for d in ev.documents}
    for claim in sorted(ev.claims.values(), key=lambda c: c.id):
        site.claim_ids(claim.id)
    (folder / "rel").mkdir(parents=True)
    (folder / "sources").mkdir()
    (folder / MARKER).write_text("written by allygraph report; the next report replaces this folder\n")
    shutil.copyfile(str(files("allygraph") / "report_assets" / "report.css"), folder / "report.css")
    progress(f"laying out the map and writing {len(ev.relationships)} relationship pages")
    _write(folder / "index.html", _index_page(site))
    for r in ev.relationships:
        _write(folder / site.rel_pages[r], _relationship_page(site, r))
    progress(f"writing {len(ev.documents)} source pages, the claims, disagreements and timeline")
    for doc in ev.documents.values():
        _write(folder / site.doc_pages[doc.id], _source_page(site, doc))
    _write(folder / "sources.html", _sources_page(site))
    _write(folder / "claims.html", _claims_page(site))
    _write(folder / "disagreements.html", _disagreements_page(site))
    _write(folder / "timeline.html", _timeline_page(site))


def _relationship_key(iri: str) -> str:
    return iri.removeprefix(str(ID))


def _write(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")
