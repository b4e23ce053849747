"""A synthetic ledger in allygraph's own RDF layout, written as N-Quads: seeded, reproducible, streaming.

    python benchmarks/synthetic.py 10k out.nq [--seed 1]

The file is self-contained: the ontology and definitions graphs, then for each relationship what
`rdf.py` and `atop.py` write for a real ledger, so the compiled classification queries and the
competency queries run on it unchanged.

- Entities graph (`graph/entities`): 200 states (`id/state/<cow code>`, typed `ag:State`, with a COW
  code), 100 non-state actors, 600 state and 400 non-state threats (`ag:posedBy` a state / an actor),
  30 international organisations, and per article relationship `id/rel/<i>`: an `ag:Relationship`
  with a label and two state participants, plus the agreement, membership or joint body its claims
  name as a basis.
- Sources graph (`graph/sources`): one work per 25 relationships (authored by one of a third as many
  people, each with a publication date) and one source document per work whose text is the work's
  quotes, one a line; every claim's anchor (quote and position selectors) points into it.
- Claims: nanopublications (`id/claim/<id>/head|assertion|provenance|pubinfo`), as rdf.py writes them.
  Each article relationship gets one story, drawn with these weights: alliance 15 % (a state threat, an
  institutional basis with a defence or consultation pledge, long-term, military sphere), strategic
  cooperation 35 % (a non-state threat, short-term, often a denial that it targets a state threat,
  an OWL complement of `∃directedAgainst.StateThreat`), partial evidence 30 % (one or two of those
  statements), contested 10 % (two works disagree: one asserts long-term or a state threat, another
  denies it with an OWL negative property assertion or a complement), economic 10 % (economic sphere,
  an organisation membership). Of the other claims 4 % are reported speech and 3 % hypotheticals (kept,
  not evidence). One claim in 5,000 leaves out its `ag:line`: a deliberate SHACL violation, so the
  validators have something to find.
- Treaty relationships: 15 % of all relationships are ATOP-style agreements written by
  `allygraph.atop.quads` from synthetic `AtopData` (2–3 members, pledges, threats, organ1, milinst,
  length coded with plausible frequencies), in `graph/imports/atop/entities` and one nanopublication each.

Entities carry no `ag:mediaFile`/`ag:line` (the ledger writes them; nothing reads them), and anchors no
prefix/suffix. About 60 quads per relationship: 10k ≈ 0.6 M quads, 100k ≈ 5.9 M, 1M ≈ 59 M (12 GB).
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph
from rdflib import Dataset, Graph
from rdflib.compare import to_canonical_graph

from allygraph.atop import Agreement, AtopData, quads
from allygraph.definitions import load_definitions
from allygraph.namespaces import AG, DCTERMS, ENTITIES_GRAPH, ID, NP, OA, ONTOLOGY_GRAPH, OWL, PROV, RDF, RDFS, XSD
from allygraph.ontology import core_ontology_path
from allygraph.reason import DEFINITIONS_GRAPH, definitions_nquads

STATES = 200
ACTORS = 100
STATE_THREATS = 600
NONSTATE_THREATS = 400
ORGANISATIONS = 30
RELATIONSHIPS_PER_WORK = 25
TREATY_SHARE = 0.15
STORIES = (("alliance", 15), ("cooperation", 35), ("partial", 30), ("contested", 10), ("economic", 10))
VIOLATION_EVERY = 5000
TREATY_CHUNK = 2000
SOURCES = "https://w3id.org/allygraph/graph/sources"

_SIZE = re.compile(r"^([0-9.]+)([km]?)$", re.IGNORECASE)


def parse_size(text: str) -> int:
    """`10k` -> 10000, `1m` -> 1000000, `250` -> 250."""
    match = _SIZE.match(text.strip())
    if not match:
        raise ValueError(f"not a size: {text!r} (use e.g. 500, 10k, 1m)")
    return int(float(match.group(1)) * {"": 1, "k": 1_000, "m": 1_000_000}[match.group(2).lower()])


def _iri(value: str) -> str:
    return f"<{value}>"


def _lit(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    return f'"{escaped}"'


def _int(value: int) -> str:
    return f'"{value}"^^<{XSD.integer}>'


def _date(text: str) -> str:
    return f'"{text}"^^<{XSD.date}>'


T = {
    name: _iri(str(term))
    for name, term in {
        "type": RDF.type,
        "label": RDFS.label,
        "ident": DCTERMS.identifier,
        "title": DCTERMS.title,
        "creator": DCTERMS.creator,
        "issued": DCTERMS.issued,
        "isVersionOf": DCTERMS.isVersionOf,
        "Person": PROV.Person,
        "attributed": PROV.wasAttributedTo,
        "quotedFrom": PROV.wasQuotedFrom,
        "Nanopub": NP.Nanopublication,
        "hasAssertion": NP.hasAssertion,
        "hasProvenance": NP.hasProvenance,
        "hasPubinfo": NP.hasPublicationInfo,
        "Annotation": OA.Annotation,
        "hasBody": OA.hasBody,
        "hasTarget": OA.hasTarget,
        "SpecificResource": OA.SpecificResource,
        "hasSource": OA.hasSource,
        "hasSelector": OA.hasSelector,
        "TQS": OA.TextQuoteSelector,
        "TPS": OA.TextPositionSelector,
        "exact": OA.exact,
        "start": OA.start,
        "end": OA.end,
        "owlClass": OWL.Class,
        "complementOf": OWL.complementOf,
        "Restriction": OWL.Restriction,
        "onProperty": OWL.onProperty,
        "someValuesFrom": OWL.someValuesFrom,
        "NPA": OWL.NegativePropertyAssertion,
        "sourceIndividual": OWL.sourceIndividual,
        "assertionProperty": OWL.assertionProperty,
        "targetIndividual": OWL.targetIndividual,
    }.items()
}


def ag(name: str) -> str:
    return _iri(str(AG[name]))


def ident(path: str) -> str:
    return _iri(str(ID[path]))


ENT = _iri(str(ENTITIES_GRAPH))
SRC = _iri(SOURCES)


@dataclass
class Stats:
    """What one generation wrote."""

    relationships: int = 0
    article_relationships: int = 0
    treaty_relationships: int = 0
    claims: int = 0
    evidence_claims: int = 0
    violations: int = 0
    lines: int = 0
    seconds: float = 0.0
    stories: dict[str, int] = field(default_factory=dict)


@dataclass
class _Work:
    index: int
    text: list[str] = field(default_factory=list)
    length: int = 0

    def add(self, quote: str) -> tuple[int, int]:
        start = self.length
        self.text.append(quote)
        self.length += len(quote) + 1  # a newline after each quote
        return start, start + len(quote)


@dataclass(frozen=True)
class _Statement:
    triples: tuple[tuple[str, str, str], ...]  # N-Quads terms; blank nodes as _:labels
    quote: str


class _Writer:
    """Buffers N-Quads lines and writes them in large chunks."""

    def __init__(self, handle: object) -> None:
        self.handle = handle
        self.buffer: list[str] = []
        self.lines = 0

    def quad(self, s: str, p: str, o: str, g: str) -> None:
        self.buffer.append(f"{s} {p} {o} {g} .\n")
        if len(self.buffer) >= 200_000:
            self.flush()

    def raw(self, text: str) -> None:
        self.flush()
        self.lines += text.count("\n")
        self.handle.write(text)  # type: ignore[attr-defined]

    def flush(self) -> None:
        if self.buffer:
            self.lines += len(self.buffer)
            self.handle.write("".join(self.buffer))  # type: ignore[attr-defined]
            self.buffer.clear()


def background_nquads() -> str:
    """The ontology graph (core ontology and results vocabulary) and the bundled definitions graph, with
    canonical blank node labels and sorted lines, so the same inputs give the same bytes."""
    ontology = Graph()
    ontology.parse(core_ontology_path(), format="turtle")
    ontology.parse(core_ontology_path().with_name("results.ttl"), format="turtle")
    definitions = Dataset()
    definitions.parse(data=definitions_nquads(load_definitions()), format="nquads")
    lines: list[str] = []
    for name, graph in ((ONTOLOGY_GRAPH, ontology), (DEFINITIONS_GRAPH, _union(definitions))):
        canonical = to_canonical_graph(graph)
        lines += sorted(f"{s.n3()} {p.n3()} {o.n3()} <{name}> .\n" for s, p, o in canonical)
    return "".join(lines)


def _union(dataset: Dataset) -> Graph:
    graph = Graph()
    for s, p, o, _g in dataset.quads((None, None, None, None)):
        graph.add((s, p, o))
    return graph


class Generator:
    """Writes the synthetic ledger for `n` relationships (see the module docstring)."""

    def __init__(self, n: int, seed: int = 1) -> None:
        self.n = n
        self.rng = random.Random(seed)
        self.codes = sorted(self.rng.sample(range(2, 1000), STATES))
        self.works = [_Work(k) for k in range(max(4, n // RELATIONSHIPS_PER_WORK))]
        self.authors = max(2, len(self.works) // 3)
        self.stats = Stats()
        self.claim_count = 0

    # -- entities --------------------------------------------------------------------------------------

    def state_label(self, code: int) -> str:
        return f"State {code}"

    def _entities(self, w: _Writer) -> None:
        for code in self.codes:
            s = ident(f"state/{code}")
            w.quad(s, T["type"], ag("State"), ENT)
            w.quad(s, T["label"], _lit(self.state_label(code)), ENT)
            w.quad(s, ag("cowCode"), _int(code), ENT)
        for k in range(ACTORS):
            a = ident(f"actor/{k}")
            w.quad(a, T["type"], ag("NonStateActor"), ENT)
            w.quad(a, T["label"], _lit(f"Armed group {k}"), ENT)
        for k in range(STATE_THREATS):
            t = ident(f"threat/state/{k}")
            w.quad(t, T["type"], ag("StateThreat"), ENT)
            w.quad(t, T["label"], _lit(f"the military build-up of State {self.codes[k % STATES]}"), ENT)
            w.quad(t, ag("posedBy"), ident(f"state/{self.codes[k % STATES]}"), ENT)
        for k in range(NONSTATE_THREATS):
            t = ident(f"threat/nonstate/{k}")
            w.quad(t, T["type"], ag("NonStateThreat"), ENT)
            w.quad(t, T["label"], _lit(f"terrorism by armed group {k % ACTORS}"), ENT)
            w.quad(t, ag("posedBy"), ident(f"actor/{k % ACTORS}"), ENT)
        for k in range(ORGANISATIONS):
            o = ident(f"organisation/{k}")
            w.quad(o, T["type"], ag("InternationalOrganisation"), ENT)
            w.quad(o, T["label"], _lit(f"Regional Organisation {k}"), ENT)

    def _agents_and_works(self, w: _Writer) -> None:
        for a in range(self.authors):
            node = ident(f"author-{a}")
            w.quad(node, T["type"], T["Person"], SRC)
            w.quad(node, T["label"], _lit(f"Analyst {a}"), SRC)
        for work in self.works:
            node = ident(f"work/w{work.index}")
            w.quad(node, T["type"], ag("Work"), SRC)
            w.quad(node, T["title"], _lit(f"Synthetic article {work.index}"), SRC)
            w.quad(node, T["creator"], ident(f"author-{work.index % self.authors}"), SRC)
            w.quad(node, T["ident"], _lit(f"w{work.index}"), SRC)
            year, month, day = 2000 + work.index % 24, 1 + work.index % 12, 1 + work.index % 28
            w.quad(node, T["issued"], _date(f"{year}-{month:02d}-{day:02d}"), SRC)

    def _documents(self, w: _Writer) -> None:
        for work in self.works:
            doc = ident(f"document/d{work.index}")
            w.quad(doc, T["type"], ag("SourceDocument"), SRC)
            w.quad(doc, T["ident"], _lit(f"d{work.index}"), SRC)
            w.quad(doc, T["title"], _lit(f"Synthetic article {work.index}"), SRC)
            w.quad(doc, ag("mediaFile"), _lit(f"corpus/d{work.index}.txt"), SRC)
            w.quad(doc, ag("text"), _lit("".join(q + "\n" for q in work.text)), SRC)
            w.quad(doc, ag("carriesWork"), ident(f"work/w{work.index}"), SRC)
            w.quad(doc, T["isVersionOf"], ident(f"work/w{work.index}"), SRC)

    # -- claims ----------------------------------------------------------------------------------------

    def _claim(
        self,
        w: _Writer,
        statement: _Statement,
        work: _Work,
        *,
        modality: str = "asserted",
        attribution: str = "authorial",
    ) -> None:
        self.claim_count += 1
        cid = f"s{self.claim_count}"
        node = ident(f"claim/{cid}")
        base = str(ID[f"claim/{cid}"])
        head, assertion, prov, pubinfo = (
            _iri(f"{base}/{part}") for part in ("head", "assertion", "provenance", "pubinfo")
        )
        w.quad(node, T["type"], T["Nanopub"], head)
        w.quad(node, T["type"], ag("Claim"), head)
        w.quad(node, T["hasAssertion"], assertion, head)
        w.quad(node, T["hasProvenance"], prov, head)
        w.quad(node, T["hasPubinfo"], pubinfo, head)
        for s, p, o in statement.triples:
            w.quad(s.replace("_:", f"_:{cid}"), p, o.replace("_:", f"_:{cid}"), assertion)
        author = ident(f"author-{work.index % self.authors}")
        w.quad(assertion, ag("quote"), _lit(statement.quote), prov)
        w.quad(assertion, ag("modality"), ag(modality), prov)
        w.quad(assertion, ag("fromWork"), ident(f"work/w{work.index}"), prov)
        w.quad(assertion, ag("attributionKind"), ag(attribution), prov)
        if attribution == "reportedSpeech":
            w.quad(assertion, ag("reportedSpeaker"), ident(f"state/{self.codes[self.claim_count % STATES]}"), prov)
        w.quad(assertion, T["attributed"], author, prov)
        doc = ident(f"document/d{work.index}")
        start, end = work.add(statement.quote)
        target, quote_sel, pos_sel = (
            _iri(f"{base}/anchor/d{work.index}{part}") for part in ("", "/quote", "/position")
        )
        annotation = _iri(f"{base}/annotation")
        w.quad(assertion, T["quotedFrom"], doc, prov)
        w.quad(assertion, ag("hasAnchor"), target, prov)
        w.quad(annotation, T["type"], T["Annotation"], prov)
        w.quad(annotation, T["hasBody"], node, prov)
        w.quad(annotation, T["hasTarget"], target, prov)
        w.quad(target, T["type"], T["SpecificResource"], prov)
        w.quad(target, T["hasSource"], doc, prov)
        w.quad(target, T["hasSelector"], quote_sel, prov)
        w.quad(target, T["hasSelector"], pos_sel, prov)
        w.quad(quote_sel, T["type"], T["TQS"], prov)
        w.quad(quote_sel, T["exact"], _lit(statement.quote), prov)
        w.quad(pos_sel, T["type"], T["TPS"], prov)
        w.quad(pos_sel, T["start"], _int(start), prov)
        w.quad(pos_sel, T["end"], _int(end), prov)
        w.quad(node, ag("claimId"), _lit(cid), pubinfo)
        w.quad(node, ag("mediaFile"), _lit(f"claims/w{work.index}.yaml"), pubinfo)
        if self.claim_count % VIOLATION_EVERY:
            w.quad(node, ag("line"), _int(self.claim_count), pubinfo)
        else:
            self.stats.violations += 1
        self.stats.claims += 1
        if modality in ("asserted", "denied") and attribution == "authorial":
            self.stats.evidence_claims += 1

    def _mixed(self, w: _Writer, statement: _Statement, work: _Work) -> None:
        """An ordinary claim: mostly the author's assertion, sometimes reported speech or a hypothetical."""
        roll = self.rng.random()
        if roll < 0.04:
            self._claim(w, statement, work, attribution="reportedSpeech")
        elif roll < 0.07:
            self._claim(w, statement, work, modality="hypothetical")
        else:
            self._claim(w, statement, work)

    # -- statements ------------------------------------------------------------------------------------

    def _state_threat(self, r: str, names: str) -> _Statement:
        k = self.rng.randrange(STATE_THREATS)
        return _Statement(
            ((r, ag("directedAgainst"), ident(f"threat/state/{k}")),),
            f"{names} act together against the military build-up of State {self.codes[k % STATES]}.",
        )

    def _nonstate_threat(self, r: str, names: str, *, short: bool) -> _Statement:
        k = self.rng.randrange(NONSTATE_THREATS)
        triples = [(r, ag("directedAgainst"), ident(f"threat/nonstate/{k}"))]
        if short:
            triples.append((r, ag("hasTimeHorizon"), ag("shortTerm")))
        return _Statement(
            tuple(triples),
            f"{names} cooperate against terrorism by armed group {k % ACTORS}{', case by case' if short else ''}.",
        )

    def _basis(self, w: _Writer, i: int, r: str, names: str, a: int, b: int) -> _Statement:
        """A treaty (defence or consultation pledge, sometimes a mutual security agreement) or a joint body."""
        roll = self.rng.random()
        basis = ident(f"basis/{i}")
        if roll < 0.75:
            types = ["Treaty", "MutualSecurityAgreement"] if self.rng.random() < 0.4 else ["Treaty"]
            for t in types:
                w.quad(basis, T["type"], ag(t), ENT)
            w.quad(basis, T["label"], _lit(f"Treaty {i} of {names}"), ENT)
            w.quad(basis, ag("hasParty"), ident(f"state/{a}"), ENT)
            w.quad(basis, ag("hasParty"), ident(f"state/{b}"), ENT)
            pledge = self.rng.choice(("defencePledge", "defencePledge", "consultationPledge", "neutralityPledge"))
            return _Statement(
                ((r, ag("hasInstitutionalBasis"), basis), (basis, ag("hasPledge"), ag(pledge))),
                f"{names} signed treaty {i}, with a {pledge.removesuffix('Pledge')} pledge.",
            )
        w.quad(basis, T["type"], ag("JointBody"), ENT)
        w.quad(basis, T["label"], _lit(f"Joint command {i} of {names}"), ENT)
        return _Statement(((r, ag("hasInstitutionalBasis"), basis),), f"{names} set up joint command {i}.")

    def _membership(self, w: _Writer, i: int, r: str, names: str) -> _Statement:
        basis = ident(f"membership/{i}")
        org = self.rng.randrange(ORGANISATIONS)
        w.quad(basis, T["type"], ag("OrganisationMembership"), ENT)
        w.quad(basis, T["label"], _lit(f"Membership {i} in Regional Organisation {org}"), ENT)
        w.quad(basis, ag("ofOrganisation"), ident(f"organisation/{org}"), ENT)
        return _Statement(
            ((r, ag("hasInstitutionalBasis"), basis), (r, ag("inSphere"), ag("economicSphere"))),
            f"{names} trade within Regional Organisation {org}.",
        )

    @staticmethod
    def _long_term(r: str, names: str) -> _Statement:
        return _Statement(((r, ag("hasTimeHorizon"), ag("longTerm")),), f"{names} are in it for decades.")

    @staticmethod
    def _sphere(r: str, names: str, sphere: str) -> _Statement:
        return _Statement(((r, ag("inSphere"), ag(sphere)),), f"{names} cooperate in the {sphere[:-6]} sphere.")

    @staticmethod
    def _deny_long_term(r: str, names: str) -> _Statement:
        return _Statement(
            (
                ("_:n", T["type"], T["NPA"]),
                ("_:n", T["sourceIndividual"], r),
                ("_:n", T["assertionProperty"], ag("hasTimeHorizon")),
                ("_:n", T["targetIndividual"], ag("longTerm")),
            ),
            f"The partnership of {names} will not outlast this government.",
        )

    @staticmethod
    def _deny_state_threat(r: str, names: str) -> _Statement:
        return _Statement(
            (
                (r, T["type"], "_:c"),
                ("_:c", T["type"], T["owlClass"]),
                ("_:c", T["complementOf"], "_:r"),
                ("_:r", T["type"], T["Restriction"]),
                ("_:r", T["onProperty"], ag("directedAgainst")),
                ("_:r", T["someValuesFrom"], ag("StateThreat")),
            ),
            f"{names} are not aimed at any state.",
        )

    def _relationship(self, w: _Writer, i: int) -> None:
        a, b = self.rng.sample(self.codes, 2)
        r = ident(f"rel/{i}")
        names = f"State {a} and State {b}"
        w.quad(r, T["type"], ag("Relationship"), ENT)
        w.quad(r, T["label"], _lit(f"State {a}–State {b} ({i})"), ENT)
        w.quad(r, T["ident"], _lit(f"rel-{i}"), ENT)
        w.quad(r, ag("hasParticipant"), ident(f"state/{a}"), ENT)
        w.quad(r, ag("hasParticipant"), ident(f"state/{b}"), ENT)
        story = self.rng.choices([s for s, _ in STORIES], weights=[p for _, p in STORIES])[0]
        self.stats.stories[story] = self.stats.stories.get(story, 0) + 1
        work = self.works[self.rng.randrange(len(self.works))]
        if story == "alliance":
            self._mixed(w, self._state_threat(r, names), work)
            self._mixed(w, self._basis(w, i, r, names, a, b), work)
            long_term = self._long_term(r, names)
            military = self._sphere(r, names, "militarySphere")
            self._mixed(w, _Statement(long_term.triples + military.triples, long_term.quote), work)
        elif story == "cooperation":
            self._mixed(w, self._nonstate_threat(r, names, short=True), work)
            if self.rng.random() < 0.5:
                self._mixed(w, self._deny_state_threat(r, names), work)
            if self.rng.random() < 0.5:
                self._mixed(w, self._sphere(r, names, "securitySphere"), work)
        elif story == "partial":
            options = [
                lambda: self._state_threat(r, names),
                lambda: self._basis(w, i, r, names, a, b),
                lambda: self._long_term(r, names),
                lambda: self._nonstate_threat(r, names, short=False),
            ]
            for make in self.rng.sample(options, self.rng.choice((1, 1, 2))):
                self._mixed(w, make(), work)
        elif story == "contested":
            other = self.works[(work.index + 1 + self.rng.randrange(len(self.works) - 1)) % len(self.works)]
            if self.rng.random() < 0.5:
                self._claim(w, self._long_term(r, names), work)
                self._claim(w, self._deny_long_term(r, names), other, modality="denied")
            else:
                self._claim(w, self._state_threat(r, names), work)
                self._claim(w, self._deny_state_threat(r, names), other, modality="denied")
        else:
            self._mixed(w, self._membership(w, i, r, names), work)

    # -- treaty data -----------------------------------------------------------------------------------

    def _agreement(self, atopid: int) -> Agreement:
        rng = self.rng
        begin = rng.randrange(1815, 2015)
        end = 0 if rng.random() < 0.3 else min(2018, begin + rng.randrange(1, 40))
        members = rng.sample(self.codes, rng.choice((2, 2, 2, 3)))

        def flag(p: float) -> int:
            return 1 if rng.random() < p else 0

        threat = rng.choice(self.codes) if rng.random() < 0.35 else 0
        codes: dict[str, int | None] = {
            "begyr": begin,
            "endyr": end,
            "defense": flag(0.45),
            "offense": flag(0.1),
            "neutral": flag(0.3),
            "nonagg": flag(0.4),
            "consul": flag(0.5),
            "statthr1": threat,
            "statthr2": 0,
            "organ1": rng.choice(self.codes) if rng.random() < 0.2 else 0,
            "milinst": rng.choice((0, 0, 0, 1, 2)),
            "length": rng.choice((0, 0, 60, 120, 240, 36)),
        }
        if rng.random() < 0.05:  # some codes missing, as in the real data
            codes["length"] = None
        return Agreement(atopid, atopid + 1, codes, members, "synthetic")

    def _treaties(self, w: _Writer, count: int) -> None:
        states = {c: f"S{c}" for c in self.codes}
        for start in range(0, count, TREATY_CHUNK):
            agreements = {
                100_000 + k: self._agreement(100_000 + k) for k in range(start, min(count, start + TREATY_CHUNK))
            }
            data = AtopData(Path("synthetic-alliances.csv"), Path("synthetic-members.csv"), agreements, states, 2018)
            text = pyoxigraph.serialize(quads(data), format=pyoxigraph.RdfFormat.N_QUADS) or b""
            w.raw(text.decode())
            self.stats.claims += len(agreements)
            self.stats.evidence_claims += len(agreements)

    # -- the whole file --------------------------------------------------------------------------------

    def write(self, out: Path) -> Stats:
        """Write the ledger to `out` (N-Quads, UTF-8) and return what was written."""
        started = time.perf_counter()
        treaties = round(self.n * TREATY_SHARE)
        articles = self.n - treaties
        with out.open("w", encoding="utf-8") as handle:
            w = _Writer(handle)
            w.raw(background_nquads())
            self._entities(w)
            self._agents_and_works(w)
            for i in range(articles):
                self._relationship(w, i)
            self._documents(w)  # after the claims: a document's text is its work's quotes
            self._treaties(w, treaties)
            w.flush()
        self.stats.relationships = self.n
        self.stats.article_relationships = articles
        self.stats.treaty_relationships = treaties
        self.stats.lines = w.lines
        self.stats.seconds = time.perf_counter() - started
        return self.stats


def generate(n: int, out: Path, *, seed: int = 1) -> Stats:
    """Write a synthetic ledger with `n` relationships to `out` (see the module docstring)."""
    return Generator(n, seed).write(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("size", help="relationships: 500, 10k, 1m ...")
    parser.add_argument("out", type=Path)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    stats = generate(parse_size(args.size), args.out, seed=args.seed)
    print(stats, file=sys.stderr)


if __name__ == "__main__":
    main()
