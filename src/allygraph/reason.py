"""Classification: for each relationship × definition × view, one of four outcomes, criterion by criterion,
with the claims that support or contradict each criterion.

Evidence. A view is a body of evidence: the claims its authors assert or deny in their own words
(reported speech and hypotheticals are shown in explanations but are not evidence), plus the background
(the ontology, the definitions, the entities). Views: `all`, `source:<document>` (every claim anchored
in that document, copies included), `work:<id>` (all copies of a work, each claim once), `author:<id>`,
and `scenario` (`all` plus the claims of an `--assume` file; with `--view V`, V plus them).

Criterion status, from what an engine finds (open world unless stated):
- holds: the evidence entails the criterion;
- fails: the evidence entails its negation, or, with the world closed on the criterion's
  `ag:closesWorldOn` properties (their known values are all of them), the negation follows;
- contested: the evidence entails both (different sources disagree);
- no evidence: neither.
In the scenario view an assumption settles a criterion it bears on: evidence against it is listed as
overridden, not as a contest.

Outcome of a definition whose criteria are all required: does-not-meet if any criterion fails, else
contested if any is contested, else meets if all hold, else undetermined. For a definition any of whose
criteria suffices: meets if any holds, else contested if any is contested, else does-not-meet if all
fail, else undetermined.
"""

from __future__ import annotations

import gc
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import islice
from typing import Any, Protocol

import pyoxigraph
from rdflib import URIRef

from .definitions import Classifier, Criterion, Definition, DefinitionSet, load_definitions
from .errors import InputError
from .namespaces import AG, DCTERMS, ENTITIES_GRAPH, GRAPH, ID, NP, ONTOLOGY_GRAPH, PROV, RDFS

OUTCOMES = ("meets", "does-not-meet", "undetermined", "contested")
STATUSES = ("holds", "fails", "no-evidence", "contested")
AGR = "https://w3id.org/allygraph/results#"
DEFINITIONS_GRAPH = GRAPH["definitions"]
SCENARIO_GRAPH = GRAPH["scenario"]
IMPORTS = str(GRAPH["imports/"])


# ----------------------------------------------------------------------------------------------------
# Claims and views
# ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ClaimInfo:
    id: str
    iri: str
    assertion: str
    modality: str
    attribution: str  # "authorial" or "reportedSpeech"
    work: str
    author: str
    documents: frozenset[str]
    assumed: bool = False

    @property
    def is_evidence(self) -> bool:
        return self.assumed or (self.modality in ("asserted", "denied") and self.attribution == "authorial")


@dataclass(frozen=True)
class View:
    name: str
    claims: tuple[ClaimInfo, ...]
    assumed: tuple[ClaimInfo, ...] = ()

    @property
    def graphs(self) -> list[str]:
        return [c.assertion for c in (*self.claims, *self.assumed)]


_LOCAL = re.compile(r"[/#]([^/#]+)$")


def _local(iri: str) -> str:
    match = _LOCAL.search(iri)
    return match.group(1) if match else iri


def read_claims(store: pyoxigraph.Store, *, evidence_only: bool = False) -> list[ClaimInfo]:
    """Every claim in the store (and assumed claims in a scenario copy), with what views need.

    With `evidence_only`, only what the `all` and `scenario` views need: the evidence claims (assumed or
    authorial and asserted or denied) with their ids and assertion graphs, the rest of each left empty.
    On a large store that reads a fraction of the terms (each term an IRI costs the store a lookup).
    """
    if evidence_only:
        return _read_evidence(store)
    # one row per claim and document, grouped here (cheaper than GROUP BY with GROUP_CONCAT in the store)
    query = f"""
        SELECT ?claim ?id ?assertion ?modality ?kind ?work ?author ?assumption ?docid WHERE {{
          GRAPH ?head {{ ?claim <{NP.hasAssertion}> ?assertion
                        OPTIONAL {{ ?claim a ?assumption FILTER(?assumption = <{AG.Assumption}>) }} }}
          GRAPH ?pubinfo {{ ?claim <{AG.claimId}> ?id }}
          GRAPH ?prov {{
            ?assertion <{AG.modality}> ?modality ; <{AG.attributionKind}> ?kind ; <{AG.fromWork}> ?work .
          }}
          OPTIONAL {{ GRAPH ?wg {{ ?work <{DCTERMS.creator}> ?author }} }}
          OPTIONAL {{ GRAPH ?qg {{ ?assertion <{PROV.wasQuotedFrom}> ?doc }}
                     GRAPH ?dg {{ ?doc <{DCTERMS.identifier}> ?docid }} }}
        }}"""
    groups: dict[tuple[Any, ...], set[str]] = {}
    for claim, claim_id, assertion, modality, kind, work, author, assumption, docid in store.query(query):
        key = (claim_id.value, claim, assertion, modality, kind, work, author, assumption is not None)
        docs = groups.get(key)
        if docs is None:
            docs = groups[key] = set()
        if docid is not None:
            docs.add(docid.value)
    local: dict[str, str] = {}

    def short(term: Any) -> str:
        iri = term.value
        value = local.get(iri)
        if value is None:
            value = local[iri] = _local(iri)
        return value

    claims = [
        ClaimInfo(
            id=claim_id,
            iri=claim.value,
            assertion=assertion.value,
            modality=short(modality),
            attribution=short(kind),
            work=short(work),
            author=short(author) if author is not None else "",
            documents=frozenset(docs),
            assumed=assumed,
        )
        for (claim_id, claim, assertion, modality, kind, work, author, assumed), docs in groups.items()
    ]
    claims.sort(key=lambda c: c.id)  # stable: the order the store gave within one id
    return claims


def _read_evidence(store: pyoxigraph.Store) -> list[ClaimInfo]:
    # plain joins only (no OPTIONAL): each solution costs the store a few index lookups
    evidence = f"""
        SELECT ?id ?assertion ?denied WHERE {{
          GRAPH ?prov {{ ?assertion <{AG.attributionKind}> <{AG.authorial}> ; <{AG.modality}> ?modality }}
          FILTER (?modality IN (<{AG.asserted}>, <{AG.denied}>))
          GRAPH ?head {{ ?claim <{NP.hasAssertion}> ?assertion }}
          GRAPH ?pubinfo {{ ?claim <{AG.claimId}> ?id }}
          BIND (?modality = <{AG.denied}> AS ?denied)
        }}"""
    assumed = f"""
        SELECT ?id ?assertion ?modality WHERE {{
          GRAPH ?head {{ ?claim a <{AG.Assumption}> ; <{NP.hasAssertion}> ?assertion }}
          GRAPH ?pubinfo {{ ?claim <{AG.claimId}> ?id }}
          GRAPH ?prov {{ ?assertion <{AG.modality}> ?modality }}
        }}"""
    found: dict[str, ClaimInfo] = {}
    for claim_id, assertion, modality in store.query(assumed):
        found[assertion.value] = ClaimInfo(
            claim_id.value, "", assertion.value, _local(modality.value), "", "", "", frozenset(), True
        )
    for claim_id, assertion, denied in store.query(evidence):
        if assertion.value not in found:
            modality = "denied" if denied.value == "true" else "asserted"
            found[assertion.value] = ClaimInfo(
                claim_id.value, "", assertion.value, modality, "authorial", "", "", frozenset()
            )
    return sorted(found.values(), key=lambda c: c.id)


def all_views(claims: list[ClaimInfo]) -> dict[str, View]:
    """Every view the evidence allows: all, each source document, each work, each author."""
    evidence = [c for c in claims if c.is_evidence]
    views = {"all": View("all", tuple(evidence))}
    groups: dict[str, list[ClaimInfo]] = defaultdict(list)
    for claim in claims:  # every document, work and author gets a view, even one with no evidence
        for doc in sorted(claim.documents):
            groups[f"source:{doc}"]
        groups[f"work:{claim.work}"]
        groups[f"author:{claim.author}"]
    for claim in evidence:
        for doc in claim.documents:
            groups[f"source:{doc}"].append(claim)
        groups[f"work:{claim.work}"].append(claim)
        groups[f"author:{claim.author}"].append(claim)
    for name in sorted(groups):
        views[name] = View(name, tuple(groups[name]))
    return views


def select_views(views: dict[str, View], wanted: Iterable[str] | None) -> dict[str, View]:
    """The views named in `wanted` (all when None).

    :raises InputError: for an unknown view name, listing the known ones.
    """
    if wanted is None:
        return views
    chosen = {}
    for name in wanted:
        if name not in views:
            raise InputError(f"unknown view {name!r}; known: {', '.join(views)}")
        chosen[name] = views[name]
    return chosen


# ----------------------------------------------------------------------------------------------------
# Engines and statuses
# ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Finding:
    """What an engine found for one criterion, relationship and view: claim-id sets, one per derivation."""

    holds: tuple[frozenset[str], ...] = ()
    fails: tuple[frozenset[str], ...] = ()
    fails_closed: tuple[frozenset[str], ...] = ()


Findings = dict[tuple[str, str, str], Finding]  # (view, relationship IRI, criterion IRI) -> finding


class Engine(Protocol):
    name: str

    def evaluate(
        self,
        store: pyoxigraph.Store,
        definitions: DefinitionSet,
        views: dict[str, View],
        background: list[str],
        progress: Callable[[str], None],
    ) -> Findings: ...


@dataclass(frozen=True, slots=True)
class CriterionCheck:
    criterion: Criterion
    status: str
    supporting: tuple[str, ...]
    contradicting: tuple[str, ...]
    overridden: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {
            "criterion": self.criterion.name,
            "label": self.criterion.label,
            "status": self.status,
            "evidence": sorted(set(self.supporting) | set(self.contradicting)),
            "supporting": list(self.supporting),
            "contradicting": list(self.contradicting),
            **({"overridden": list(self.overridden)} if self.overridden else {}),
        }


def _claims(sets: Sequence[frozenset[str]]) -> tuple[str, ...]:
    if len(sets) == 1:  # the usual case: one derivation
        return tuple(sorted(sets[0]))
    return tuple(sorted(set().union(*sets))) if sets else ()


def check(criterion: Criterion, finding: Finding, assumed: frozenset[str] = frozenset()) -> CriterionCheck:
    """The status of one criterion from an engine's finding (see the module docstring)."""
    if not assumed:  # nothing can be overridden: the same steps as below, without copies
        if finding.holds:
            if finding.fails:
                return CriterionCheck(criterion, "contested", _claims(finding.holds), _claims(finding.fails))
            return CriterionCheck(criterion, "holds", _claims(finding.holds), ())
        if finding.fails:
            return CriterionCheck(criterion, "fails", (), _claims(finding.fails))
        if finding.fails_closed:
            return CriterionCheck(criterion, "fails", (), _claims(finding.fails_closed))
        return CriterionCheck(criterion, "no-evidence", (), ())
    holds, fails = list(finding.holds), list(finding.fails)
    overridden: tuple[str, ...] = ()
    if assumed:
        by_assumption_holds = [s for s in holds if s & assumed]
        by_assumption_fails = [s for s in fails if s & assumed]
        if by_assumption_holds and not by_assumption_fails:
            overridden, fails = _claims(fails), []
            holds = by_assumption_holds
        elif by_assumption_fails and not by_assumption_holds:
            overridden, holds = _claims(holds), []
            fails = by_assumption_fails
    if holds and fails:
        return CriterionCheck(criterion, "contested", _claims(holds), _claims(fails), overridden)
    if holds:
        return CriterionCheck(criterion, "holds", _claims(holds), (), overridden)
    if fails:
        return CriterionCheck(criterion, "fails", (), _claims(fails), overridden)
    if finding.fails_closed:
        return CriterionCheck(criterion, "fails", (), _claims(finding.fails_closed), overridden)
    return CriterionCheck(criterion, "no-evidence", (), (), overridden)


def outcome(combination: str, statuses: list[str]) -> str:
    """Combine criterion statuses into an outcome (see the module docstring).

    >>> outcome("all", ["holds", "holds", "no-evidence"]), outcome("all", ["holds", "fails", "contested"])
    ('undetermined', 'does-not-meet')
    >>> outcome("any", ["fails", "holds"]), outcome("any", ["fails", "fails"])
    ('meets', 'does-not-meet')
    """
    if combination == "all":
        if "fails" in statuses:
            return "does-not-meet"
        if "contested" in statuses:
            return "contested"
        return "meets" if all(s == "holds" for s in statuses) else "undetermined"
    if "holds" in statuses:
        return "meets"
    if "contested" in statuses:
        return "contested"
    return "does-not-meet" if all(s == "fails" for s in statuses) else "undetermined"


@dataclass(frozen=True, slots=True)
class ClassifierResult:
    classifier: Classifier
    outcome: str
    checks: tuple[CriterionCheck, ...]


@dataclass(frozen=True, slots=True)
class Classification:
    relationship: str
    label: str
    participants: tuple[str, ...]
    definition: Definition
    view: str
    outcome: str
    checks: tuple[CriterionCheck, ...]
    also: tuple[ClassifierResult, ...] = ()
    engine: str = ""
    atop_id: str = ""  # the ATOP id of the agreement a treaty relationship consists of

    def as_json(self) -> dict[str, Any]:
        return {
            "relationship": self.relationship,
            **({"atop_id": int(self.atop_id)} if self.atop_id else {}),
            "label": self.label,
            "participants": list(self.participants),
            "definition": self.definition.name,
            "view": self.view,
            "outcome": self.outcome,
            "criteria": [c.as_json() for c in self.checks],
            "also": [
                {
                    "class": _local(a.classifier.iri),
                    "label": a.classifier.label,
                    "outcome": a.outcome,
                    "criteria": [c.as_json() for c in a.checks],
                }
                for a in self.also
            ],
            "engine": self.engine,
        }


@dataclass(frozen=True, slots=True)
class Relationship:
    iri: str
    label: str
    participants: tuple[str, ...]
    atop_id: str = ""


def entity_graphs(store: pyoxigraph.Store) -> list[str]:
    """The ledger's entities graph and those of imported datasets (`graph/imports/<name>/entities`)."""
    # the names are matched by the store (one query), not by listing every named graph here
    query = f"""
        SELECT DISTINCT ?g WHERE {{
          GRAPH ?g {{ }}
          FILTER (isIRI(?g) && STRSTARTS(STR(?g), "{IMPORTS}") && STRENDS(STR(?g), "/entities"))
        }}"""
    imported = sorted(row[0].value for row in store.query(query))
    return [str(ENTITIES_GRAPH), *imported]


_RELATIONSHIP_TYPES = f"VALUES ?type {{ <{AG.Relationship}> <{AG.Partnership}> <{AG.TreatyRelationship}> }}"


def _graph_values(var: str, graphs: list[str]) -> str:
    return f"VALUES {var} {{ {' '.join(f'<{g}>' for g in graphs)} }}"


def read_relationships(store: pyoxigraph.Store, graphs: list[str] | None = None) -> dict[str, Relationship]:
    """Every relationship (in IRI order) of the entities graphs (`graphs`, else :func:`entity_graphs`)."""
    entities = _graph_values("?eg", graphs if graphs is not None else entity_graphs(store))
    # three plain joins grouped here: an OPTIONAL would make the store join each row against the whole
    # right-hand side
    typed = f"{entities} {_RELATIONSHIP_TYPES} GRAPH ?eg {{ ?r a ?type ; <{RDFS.label}> ?label }}"
    labels: dict[str, str] = {}
    for r, label in store.query(f"SELECT ?r ?label WHERE {{ {typed} }}"):
        labels.setdefault(r.value, label.value)
    participants: dict[str, set[str]] = defaultdict(set)
    query = f"""
        SELECT ?r ?plabel WHERE {{
          {entities} {_RELATIONSHIP_TYPES}
          GRAPH ?eg {{ ?r a ?type ; <{AG.hasParticipant}> ?p . ?p <{RDFS.label}> ?plabel }}
        }}"""
    for r, plabel in store.query(query):
        participants[r.value].add(plabel.value)
    atop: dict[str, str] = {}
    query = f"""
        SELECT ?r ?atop WHERE {{
          GRAPH ?cg {{ ?r <{AG.constitutedBy}> ?agreement }} GRAPH ?ag {{ ?agreement <{AG.atopId}> ?atop }}
        }}"""
    for r, atop_id in store.query(query):
        atop.setdefault(r.value, atop_id.value)
    found = {}
    for iri in sorted(labels):
        names = participants.get(iri)
        found[iri] = Relationship(
            iri, labels[iri], tuple(sorted(names)) if names and names != {""} else (), atop.get(iri, "")
        )
    return found


def quads_of(store: pyoxigraph.Store, graphs: Iterable[str]) -> Iterator[pyoxigraph.Quad]:
    """Every quad of the named `graphs`, from a local store or (in batches of one query) a remote one."""
    names = list(dict.fromkeys(graphs))
    if isinstance(store, pyoxigraph.Store):
        for name in names:
            yield from store.quads_for_pattern(None, None, None, pyoxigraph.NamedNode(name))
        return
    for start in range(0, len(names), 200):
        batch = _graph_values("?g", names[start : start + 200])
        for row in store.query(f"SELECT ?s ?p ?o ?g WHERE {{ {batch} GRAPH ?g {{ ?s ?p ?o }} }}"):
            yield pyoxigraph.Quad(row["s"], row["p"], row["o"], row["g"])


def mentioned(store: pyoxigraph.Store, view: View, relationships: Iterable[str]) -> set[str]:
    """The `relationships` a view's claims mention (as subject or object of any statement)."""
    wanted = set(relationships)
    found: set[str] = set()
    for quad in quads_of(store, view.graphs):
        for term in (quad.subject, quad.object):
            if isinstance(term, pyoxigraph.NamedNode) and term.value in wanted:
                found.add(term.value)
    return found


@dataclass
class Result:
    """Every classification computed in one run, with the views and definitions they cover."""

    classifications: list[Classification] = field(default_factory=list)
    views: dict[str, View] = field(default_factory=dict)
    engine: str = ""

    def as_json(self) -> list[dict[str, Any]]:
        return [c.as_json() for c in self.classifications]


def classify(
    store: pyoxigraph.Store,
    *,
    definitions: DefinitionSet | None = None,
    names: Iterable[str] | None = None,
    views: Iterable[str] | None = None,
    engine: str = "sparql",
    assume: ClaimsBundle | None = None,
    progress: Callable[[str], None] = lambda _m: None,
) -> Result:
    """Classify every relationship under the chosen definitions in the chosen views.

    `store` holds a built ledger (and, with `assume`, the assumed claims, see :func:`with_assumptions`).

    :raises InputError: for an unknown definition or view name.
    """
    with _without_cycle_collection():
        return _classify(store, definitions, names, views, engine, assume, progress)


@contextmanager
def _without_cycle_collection() -> Iterator[None]:
    """Python's cycle collector paused for the duration. A run makes millions of small objects that live
    until it ends and hold no cycles, and every full collection walks all of them again: on 100k
    relationships 72 s with the collector, 45 s without. Reference counting still frees what is dropped."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _classify(
    store: pyoxigraph.Store,
    definitions: DefinitionSet | None,
    names: Iterable[str] | None,
    views: Iterable[str] | None,
    engine: str,
    assume: ClaimsBundle | None,
    progress: Callable[[str], None],
) -> Result:
    definitions = definitions or load_definitions()
    chosen = [definitions.get(n) for n in names] if names is not None else list(definitions.definitions.values())
    wanted = list(views) if views is not None else None
    # `all` (and the scenario built on it) needs only the evidence claims, and reading less is faster
    claims = read_claims(store, evidence_only=wanted is not None and set(wanted) <= {"all"})
    available = all_views([c for c in claims if not c.assumed])
    assumed = tuple(c for c in claims if c.assumed)
    if assume is not None or assumed:
        base = wanted if wanted is not None else ["all"]
        picked = select_views(available, base)
        selected = {
            ("scenario" if name == "all" else f"scenario:{name}"): View(
                "scenario" if name == "all" else f"scenario:{name}", view.claims, assumed
            )
            for name, view in picked.items()
        }
    else:
        selected = select_views(available, wanted)
    runner = _engine(engine)
    graphs = entity_graphs(store)  # the engine writes nothing: the same graphs for the relationships below
    background = [str(ONTOLOGY_GRAPH), str(DEFINITIONS_GRAPH), *graphs]
    if assumed:
        background.append(str(SCENARIO_GRAPH))
    criteria = list({c.iri: c for d in chosen for k in (d, *d.also) for c in k.criteria}.values())
    progress(f"{runner.name} engine: {len(criteria)} criteria in {len(selected)} view(s)")
    findings = runner.evaluate(store, definitions, criteria, selected, background, progress)
    relationships = read_relationships(store, graphs)
    result = Result(views=selected, engine=runner.name)
    assumed_ids = frozenset(c.id for c in assumed)
    _classify_all(result, chosen, criteria, findings, relationships, assumed_ids, store)
    return result


def _classify_all(
    result: Result,
    chosen: list[Definition],
    criteria: list[Criterion],
    findings: Findings,
    relationships: dict[str, Relationship],
    assumed_ids: frozenset[str],
    store: pyoxigraph.Store,
) -> None:
    """Append to `result` every relationship's classification under each of `chosen` in each of its views.

    Most criteria have no finding for most relationships: their check (no evidence) is one shared object,
    and a relationship with no finding at all shares its checks, outcomes and other classes' results too.
    """
    index = {c.iri: i for i, c in enumerate(criteria)}
    keys = [str(c.iri) for c in criteria]
    empty = [check(c, Finding(), assumed_ids) for c in criteria]
    plans = [
        (
            definition,
            [index[c.iri] for c in definition.criteria],
            [(a, [index[c.iri] for c in a.criteria]) for a in definition.also],
        )
        for definition in chosen
    ]
    outcomes: dict[tuple[str, tuple[str, ...]], str] = {}

    def combine(combination: str, checks: tuple[CriterionCheck, ...]) -> str:
        statuses = tuple([c.status for c in checks])
        key = (combination, statuses)
        value = outcomes.get(key)
        if value is None:
            value = outcomes[key] = outcome(combination, list(statuses))
        return value

    def classified(
        checked: list[CriterionCheck],
    ) -> list[tuple[Definition, str, tuple[CriterionCheck, ...], tuple[ClassifierResult, ...]]]:
        rows = []
        for definition, picks, also_picks in plans:
            checks = tuple([checked[i] for i in picks])
            also = tuple(
                [
                    ClassifierResult(a, combine(a.combination, ks), ks)
                    for a, ps in also_picks
                    for ks in [tuple([checked[i] for i in ps])]
                ]
            )
            rows.append((definition, combine(definition.combination, checks), checks, also))
        return rows

    unfound = classified(empty)  # a relationship without any finding: the same checks and outcomes
    by_pair: dict[tuple[str, str], dict[str, Finding]] = defaultdict(dict)
    for (view_name, r_iri, criterion), finding in findings.items():
        by_pair[(view_name, r_iri)][criterion] = finding
    engine = result.engine
    append = result.classifications.append
    for view in result.views.values():
        name = view.name
        in_view = relationships if name in ("all", "scenario") else mentioned(store, view, relationships)
        for r_iri in sorted(in_view):  # relationships come in IRI order already: a linear sort
            relationship = relationships[r_iri]
            found = by_pair.get((name, r_iri))
            if found is None:
                rows = unfound
            else:
                rows = classified(
                    [
                        empty[i] if (f := found.get(key)) is None else check(c, f, assumed_ids)
                        for i, (c, key) in enumerate(zip(criteria, keys, strict=True))
                    ]
                )
            label, participants, atop_id = relationship.label, relationship.participants, relationship.atop_id
            for definition, result_outcome, checks, also in rows:
                append(
                    Classification(
                        r_iri, label, participants, definition, name, result_outcome, checks, also, engine, atop_id
                    )
                )


def _engine(name: str) -> Engine:
    if name == "sparql":
        from .sparqlengine import SparqlEngine

        return SparqlEngine()
    if name == "hermit":
        from .hermit import HermitEngine

        return HermitEngine()
    raise InputError(f"unknown engine {name!r}; use hermit or sparql")


# ----------------------------------------------------------------------------------------------------
# Assumptions (--assume FILE)
# ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClaimsBundle:
    """Assumed claims compiled to N-Quads, ready to add to a copy of the store."""

    nquads: bytes
    ids: tuple[str, ...]


def with_assumptions(store: pyoxigraph.Store, bundle: ClaimsBundle) -> pyoxigraph.Store:
    """An in-memory copy of `store` with the assumed claims added (the store on disk is not touched)."""
    memory = pyoxigraph.Store()
    memory.load(store.dump(format=pyoxigraph.RdfFormat.N_QUADS), format=pyoxigraph.RdfFormat.N_QUADS)
    memory.load(bundle.nquads, format=pyoxigraph.RdfFormat.N_QUADS)
    return memory


def definitions_nquads(definitions: DefinitionSet) -> bytes:
    """The definition files' triples (not the core ontology's), for the store's definitions graph."""
    from rdflib import Dataset, Graph

    dataset = Dataset()
    target = dataset.graph(DEFINITIONS_GRAPH)
    for path in definitions.files:
        if path.name != "allygraph.ttl":
            graph = Graph()
            graph.parse(path, format="turtle")
            for triple in graph:
                target.add(triple)
    return dataset.serialize(format="nquads", encoding="utf-8")  # type: ignore[return-value]


def results_graph_iri(definition: str, view: str) -> str:
    """The named graph holding the results of one definition in one view."""
    return f"{GRAPH}results/{definition}/{_slug(view)}"


def _slug(view: str) -> str:
    return view.replace(":", "/")


def results_quads(result: Result) -> Iterator[pyoxigraph.Quad]:
    """Every classification as RDF (agr: vocabulary), one named graph per definition and view.

    A criterion without evidence (and nothing overridden) gets no check: the definition's criteria
    (`ag:criterion` in the definitions graph) without one have no evidence. That is most criteria of most
    relationships, and leaving them out makes the results about a third smaller.

    The quads are generated one classification at a time (see :func:`write_results` to store them in
    bounded memory); terms that recur (graphs, criteria, statuses, claims) are made once.
    """
    from pyoxigraph import Literal, NamedNode, Quad

    agr = {
        name: NamedNode(AGR + name)
        for name in (
            "Classification",
            "relationship",
            "definition",
            "definitionName",
            "view",
            "outcome",
            "engine",
            "check",
            "criterion",
            "status",
            "supportedBy",
            "contradictedBy",
            "overriddenBy",
            "alsoClassifiedAs",
        )
    }
    rdf_type = NamedNode(RDF_TYPE)
    a_classification = agr["Classification"]
    p_check, p_criterion, p_status = agr["check"], agr["criterion"], agr["status"]
    p_relationship, p_definition, p_view, p_outcome = (
        agr["relationship"],
        agr["definition"],
        agr["view"],
        agr["outcome"],
    )
    p_definition_name, p_engine, p_also = agr["definitionName"], agr["engine"], agr["alsoClassifiedAs"]
    evidence = (agr["supportedBy"], agr["contradictedBy"], agr["overriddenBy"])
    statuses = {status: NamedNode(AGR + iri) for status, iri in _STATUS_IRI.items()}
    outcomes = {name: NamedNode(AGR + iri) for name, iri in _OUTCOME_IRI.items()}
    id_prefix = str(ID)
    claim_prefix = f"{ID}claim/"
    claims: dict[str, NamedNode] = {}  # of the current relationship (its definitions share claims)
    iris: dict[str, NamedNode] = {}  # criteria and definitions
    literals: dict[str, Literal] = {}
    graphs: dict[tuple[str, str], tuple[NamedNode, str]] = {}

    def iri(value: str) -> NamedNode:
        node = iris.get(value)
        if node is None:
            node = iris[value] = NamedNode(value)
        return node

    def literal(value: str) -> Literal:
        node = literals.get(value)
        if node is None:
            node = literals[value] = Literal(value)
        return node

    def checks(node: NamedNode, items: tuple[CriterionCheck, ...], g: NamedNode) -> Iterator[Quad]:
        base = node.value
        for item in items:
            if item.status == "no-evidence" and not item.overridden:
                continue  # implied: a criterion of the definition without a check has no evidence
            criterion = item.criterion
            check_node = NamedNode(f"{base}/{criterion.name}")
            yield Quad(node, p_check, check_node, g)  # typed agr:CriterionCheck by the range of agr:check
            yield Quad(check_node, p_criterion, iri(str(criterion.iri)), g)
            yield Quad(check_node, p_status, statuses[item.status], g)
            for prop, ids in zip(evidence, (item.supporting, item.contradicting, item.overridden), strict=True):
                for claim_id in ids:
                    claim = claims.get(claim_id)
                    if claim is None:
                        claim = claims[claim_id] = NamedNode(claim_prefix + claim_id)
                    yield Quad(check_node, prop, claim, g)

    def classification(
        node: NamedNode, relationship: NamedNode, cls: URIRef, view: Literal, result_outcome: str, g: NamedNode
    ) -> Iterator[Quad]:
        yield Quad(node, rdf_type, a_classification, g)
        yield Quad(node, p_relationship, relationship, g)
        yield Quad(node, p_definition, iri(str(cls)), g)
        yield Quad(node, p_view, view, g)
        yield Quad(node, p_outcome, outcomes[result_outcome], g)

    relationship_iri, relationship, key = "", NamedNode(id_prefix), ""
    for c in result.classifications:
        name = c.definition.name
        graph = graphs.get((name, c.view))
        if graph is None:
            graph = graphs[(name, c.view)] = (
                NamedNode(results_graph_iri(name, c.view)),
                f"{ID}result/{name}/{_slug(c.view)}/",
            )
        g, prefix = graph
        if c.relationship != relationship_iri:  # classifications come relationship by relationship
            relationship_iri, relationship = c.relationship, NamedNode(c.relationship)
            claims.clear()
            key = (
                relationship_iri.removeprefix(id_prefix)
                if relationship_iri.startswith(id_prefix)
                else _slug(relationship_iri)
            )
        node = NamedNode(prefix + key)
        view = literal(c.view)
        yield from classification(node, relationship, c.definition.iri, view, c.outcome, g)
        yield Quad(node, p_definition_name, literal(name), g)
        yield Quad(node, p_engine, literal(c.engine), g)
        yield from checks(node, c.checks, g)
        for also in c.also:
            also_node = NamedNode(f"{node.value}/also/{_local(also.classifier.iri)}")
            yield Quad(node, p_also, also_node, g)
            yield from classification(also_node, relationship, also.classifier.iri, view, also.outcome, g)
            yield from checks(also_node, also.checks, g)


def write_results(store: pyoxigraph.Store, result: Result, *, chunk: int | None = None) -> int:
    """Add :func:`results_quads` to `store` with its bulk loader; the number of quads written.

    By default one streaming call: the loader keeps a bounded batch in memory, never the whole result
    (on 10k relationships 1.6 M quads in 13.5 s and 1.4 GB, against 25 s, 0.9 GB and a store half as large
    again in calls of 500,000). `chunk` splits it into calls of that many quads. The bulk loader is not
    transactional: use it for a store nobody reads yet (a new build generation) or one that may be
    thrown away if writing fails.
    """
    if chunk is not None and chunk < 1:
        raise ValueError(f"chunk must be at least 1, not {chunk}")
    written = 0

    def counted(quads: Iterable[pyoxigraph.Quad]) -> Iterator[pyoxigraph.Quad]:
        nonlocal written
        for quad in quads:
            written += 1
            yield quad

    quads = counted(results_quads(result))
    if chunk is None:
        store.bulk_extend(quads)
    else:
        while batch := list(islice(quads, chunk)):
            store.bulk_extend(batch)
    return written


RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
_OUTCOME_IRI = {
    "meets": "meets",
    "does-not-meet": "doesNotMeet",
    "undetermined": "undetermined",
    "contested": "contested",
}
_STATUS_IRI = {"holds": "holds", "fails": "fails", "no-evidence": "noEvidence", "contested": "contestedCriterion"}
