"""The SHACL shapes, one failing input per constraint.

`CASES` is the manifest: each case names a shape of ontology/shapes.ttl and the sh:message of one of its
constraints, and breaks a freshly compiled mini dataset in a small named function so that exactly that
constraint must fire. `test_every_message_has_a_case` compares the manifest with shapes.ttl, so a shape
added without a failing-input case here fails the suite.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from rdflib import Dataset, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, RDF, RDFS, SH
from rdflib.term import Node

from allygraph import compile_ledger, load_ledger, validate
from allygraph.validate import Report, Violation
from conftest import MINI, ONTOLOGY_DIR

AG = Namespace("https://w3id.org/allygraph/ontology#")
ID = Namespace("https://w3id.org/allygraph/id/")
GRAPH = Namespace("https://w3id.org/allygraph/graph/")
OA = Namespace("http://www.w3.org/ns/oa#")
NP = Namespace("http://www.nanopub.org/nschema#")
PROV = Namespace("http://www.w3.org/ns/prov#")
XSD = Namespace("http://www.w3.org/2001/XMLSchema#")
SHAPES = "https://w3id.org/allygraph/shapes#"

ENTITIES, SOURCES = GRAPH["entities"], GRAPH["sources"]
ALPHA, WORK_ANN, WORK_BOB = ID["document/alpha"], ID["work/ann-pact"], ID["work/bob-convenience"]
FREEDONIA, SYLVANIA, MARSOVIA = ID["state/9001"], ID["state/9002"], ID["state/9003"]  # IRIs by COW code
SMUGGLERS, RELATIONSHIP = ID["smugglers"], ID["freedonia-sylvania"]
BUILD_UP, SMUGGLING = ID["marsovian-build-up"], ID["smuggling"]
TREATY, SIGNING = ID["geneva-treaty"], ID["geneva-signing"]


def claim(claim_id: str) -> URIRef:
    return ID[f"claim/{claim_id}"]


def assertion(claim_id: str) -> URIRef:
    return ID[f"claim/{claim_id}/assertion"]


# ----------------------------------------------------------------------------------------------------
# Editing a dataset (all graphs)
# ----------------------------------------------------------------------------------------------------


def quads(ds: Dataset, s: Node | None = None, p: Node | None = None, o: Node | None = None) -> list:  # type: ignore[type-arg]
    return list(ds.quads((s, p, o, None)))


def objects(ds: Dataset, s: Node, p: Node) -> list[Node]:
    return [q[2] for q in quads(ds, s, p)]


def drop(ds: Dataset, s: Node, p: Node, o: Node | None = None) -> URIRef:
    """Remove the matching triples from every graph; the graph they were in."""
    found = quads(ds, s, p, o)
    assert found, f"nothing to drop: {s} {p} {o}"
    for quad in found:
        ds.remove(quad)
    return found[0][3]


def put(ds: Dataset, s: Node, p: Node, o: Node, graph: URIRef = ENTITIES) -> None:
    ds.add((s, p, o, graph))


def replace(ds: Dataset, s: Node, p: Node, o: Node) -> None:
    graph = drop(ds, s, p)
    put(ds, s, p, o, graph)


def anchor(ds: Dataset, claim_id: str, document: URIRef = ALPHA) -> URIRef:
    """The oa:SpecificResource anchoring a claim's quote in a document."""
    (target,) = [t for t in objects(ds, assertion(claim_id), AG.hasAnchor) if quads(ds, t, OA.hasSource, document)]
    return target  # type: ignore[return-value]


def selector(ds: Dataset, target: Node, kind: URIRef) -> URIRef:
    (found,) = [s for s in objects(ds, target, OA.hasSelector) if quads(ds, s, RDF.type, kind)]
    return found  # type: ignore[return-value]


def passage_selector(ds: Dataset, document: URIRef = ALPHA) -> URIRef:
    (passage,) = objects(ds, document, AG.hasPassage)
    return selector(ds, passage, OA.TextPositionSelector)


def threat_anchor(ds: Dataset) -> URIRef:
    return anchor(ds, "ann-threat")


# ----------------------------------------------------------------------------------------------------
# The manifest
# ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    shape: str  # ags:LocalName of the node shape
    message: str | None  # the constraint's sh:message, verbatim from shapes.ttl; None if it has none
    mutate: Callable[[Dataset], None]
    path: str = ""  # for a constraint without a message: the result path it reports ("" for the node)
    claim: str = ""  # the claim the violation must be located at, when it concerns one
    file: str = ""  # the ledger file the violation must point to, when known

    @property
    def name(self) -> str:
        return self.mutate.__name__


def document_without_identifier(ds: Dataset) -> None:
    drop(ds, ALPHA, DCTERMS.identifier)


def document_without_title(ds: Dataset) -> None:
    drop(ds, ALPHA, DCTERMS.title)


def document_without_text(ds: Dataset) -> None:
    drop(ds, ALPHA, AG.text)


def document_without_work(ds: Dataset) -> None:
    drop(ds, ALPHA, AG.carriesWork)


def document_issued_in_words(ds: Dataset) -> None:
    replace(ds, ALPHA, DCTERMS.issued, Literal("5 March 2020"))


def anchor_offsets_shifted(ds: Dataset) -> None:
    position = selector(ds, threat_anchor(ds), OA.TextPositionSelector)
    (start,) = objects(ds, position, OA.start)
    replace(ds, position, OA.start, Literal(int(start.toPython()) + 1))  # type: ignore[union-attr]


def work_without_title(ds: Dataset) -> None:
    drop(ds, WORK_ANN, DCTERMS.title)


def work_without_creator(ds: Dataset) -> None:
    drop(ds, WORK_ANN, DCTERMS.creator)


def work_issued_twice(ds: Dataset) -> None:
    put(ds, WORK_ANN, DCTERMS.issued, Literal("2021", datatype=XSD.gYear), SOURCES)


def claim_without_id(ds: Dataset) -> None:
    drop(ds, claim("ann-threat"), AG.claimId)


def claim_without_assertion(ds: Dataset) -> None:
    drop(ds, claim("ann-threat"), NP.hasAssertion)


def claim_without_file(ds: Dataset) -> None:
    drop(ds, claim("ann-threat"), AG.mediaFile)


def claim_without_line(ds: Dataset) -> None:
    drop(ds, claim("ann-threat"), AG.line)


def claim_line_in_words(ds: Dataset) -> None:
    replace(ds, claim("ann-threat"), AG.line, Literal("sixteen"))


def claim_without_quote(ds: Dataset) -> None:
    drop(ds, assertion("ann-threat"), AG.quote)


def claim_with_two_quotes(ds: Dataset) -> None:
    put(ds, assertion("ann-threat"), AG.quote, Literal("a second quote"), ID["claim/ann-threat/provenance"])


def claim_derived_from_a_document(ds: Dataset) -> None:
    put(ds, assertion("ann-threat"), PROV.wasDerivedFrom, ALPHA, ID["claim/ann-threat/provenance"])


RECORD = ID["claim/ann-threat/record"]


def dataset_record(ds: Dataset, *, file: bool = True, line: bool = True) -> None:
    """ann-threat as if imported: derived from a record (of a made-up file and line)."""
    graph = ID["claim/ann-threat/provenance"]
    put(ds, assertion("ann-threat"), PROV.wasDerivedFrom, RECORD, graph)
    put(ds, RECORD, RDF.type, AG.DatasetRecord, graph)
    if file:
        put(ds, RECORD, AG.mediaFile, Literal("alliances.csv"), graph)
    if line:
        put(ds, RECORD, AG.line, Literal(7), graph)


def record_without_file(ds: Dataset) -> None:
    dataset_record(ds, file=False)


def record_without_line(ds: Dataset) -> None:
    dataset_record(ds, line=False)


def claim_with_unknown_modality(ds: Dataset) -> None:
    replace(ds, assertion("ann-threat"), AG.modality, AG.probable)


def claim_with_unknown_attribution_kind(ds: Dataset) -> None:
    replace(ds, assertion("ann-threat"), AG.attributionKind, AG.hearsay)


def claim_attributed_to_nobody(ds: Dataset) -> None:
    drop(ds, assertion("ann-threat"), PROV.wasAttributedTo)


def claim_from_two_works(ds: Dataset) -> None:
    put(ds, assertion("ann-threat"), AG.fromWork, WORK_BOB, ID["claim/ann-threat/provenance"])


def claim_without_anchor(ds: Dataset) -> None:
    drop(ds, assertion("ann-threat"), AG.hasAnchor)


def reported_speech_without_speaker(ds: Dataset) -> None:
    drop(ds, assertion("ann-long-term"), AG.reportedSpeaker)


def start_date_in_words(ds: Dataset) -> None:
    replace(ds, assertion("ann-signing"), AG.startDate, Literal("March 3"))


def end_date_in_words(ds: Dataset) -> None:
    replace(ds, assertion("ann-signing"), AG.endDate, Literal("March 3"))


def event_date_in_words(ds: Dataset) -> None:
    replace(ds, SIGNING, AG.date, Literal("March 3"))


def time_context_ending_before_it_starts(ds: Dataset) -> None:
    replace(ds, assertion("ann-signing"), AG.endDate, Literal("2019", datatype=XSD.gYear))


def anchor_not_a_specific_resource(ds: Dataset) -> None:
    drop(ds, threat_anchor(ds), RDF.type, OA.SpecificResource)


def anchor_without_source(ds: Dataset) -> None:
    drop(ds, threat_anchor(ds), OA.hasSource)


def anchor_without_quote_selector(ds: Dataset) -> None:
    target = threat_anchor(ds)
    drop(ds, target, OA.hasSelector, selector(ds, target, OA.TextQuoteSelector))


def anchor_without_position_selector(ds: Dataset) -> None:
    target = threat_anchor(ds)
    drop(ds, target, OA.hasSelector, selector(ds, target, OA.TextPositionSelector))


def quote_selector_with_empty_exact(ds: Dataset) -> None:
    replace(ds, selector(ds, threat_anchor(ds), OA.TextQuoteSelector), OA.exact, Literal(""))


def quote_selector_with_two_prefixes(ds: Dataset) -> None:
    quote = selector(ds, threat_anchor(ds), OA.TextQuoteSelector)
    put(ds, quote, OA.prefix, Literal("another prefix"), ID["claim/ann-threat/provenance"])


def quote_selector_with_two_suffixes(ds: Dataset) -> None:
    quote = selector(ds, threat_anchor(ds), OA.TextQuoteSelector)
    put(ds, quote, OA.suffix, Literal("another suffix"), ID["claim/ann-threat/provenance"])


def position_with_negative_start(ds: Dataset) -> None:
    replace(ds, passage_selector(ds), OA.start, Literal(-1))


def position_with_end_in_words(ds: Dataset) -> None:
    replace(ds, passage_selector(ds), OA.end, Literal("the end"))


def state_without_label(ds: Dataset) -> None:
    drop(ds, FREEDONIA, RDFS.label)


def treaty_as_participant(ds: Dataset) -> None:
    put(ds, RELATIONSHIP, AG.hasParticipant, TREATY)


def directed_against_a_state(ds: Dataset) -> None:
    put(ds, RELATIONSHIP, AG.directedAgainst, FREEDONIA)


def state_as_institutional_basis(ds: Dataset) -> None:
    put(ds, RELATIONSHIP, AG.hasInstitutionalBasis, FREEDONIA)


def sphere_as_time_horizon(ds: Dataset) -> None:
    put(ds, RELATIONSHIP, AG.hasTimeHorizon, AG.securitySphere)


def episode_of_a_state(ds: Dataset) -> None:
    put(ds, RELATIONSHIP, AG.episodeOf, FREEDONIA)


def relationship_with_one_participant(ds: Dataset) -> None:
    drop(ds, RELATIONSHIP, AG.hasParticipant, SYLVANIA)


def state_threat_posed_by_smugglers(ds: Dataset) -> None:
    replace(ds, BUILD_UP, AG.posedBy, SMUGGLERS)


def non_state_threat_posed_by_a_state(ds: Dataset) -> None:
    put(ds, SMUGGLING, AG.posedBy, MARSOVIA)


def threat_posed_by_a_treaty(ds: Dataset) -> None:
    put(ds, SMUGGLING, AG.posedBy, TREATY)


def time_horizon_as_pledge(ds: Dataset) -> None:
    put(ds, TREATY, AG.hasPledge, AG.longTerm)


def event_as_party(ds: Dataset) -> None:
    put(ds, TREATY, AG.hasParty, SIGNING)


def atop_id_in_letters(ds: Dataset) -> None:
    put(ds, TREATY, AG.atopId, Literal("ATOP-one"))


def membership_of_a_state(ds: Dataset) -> None:
    membership = ID["membership-of-freedonia"]
    put(ds, membership, RDF.type, AG.OrganisationMembership)
    put(ds, membership, RDFS.label, Literal("Membership of Freedonia"))
    put(ds, membership, AG.ofOrganisation, FREEDONIA)


def event_involving_a_treaty(ds: Dataset) -> None:
    put(ds, SIGNING, AG.involves, TREATY)


def event_of_a_state(ds: Dataset) -> None:
    put(ds, SIGNING, AG.eventOf, FREEDONIA)


def cow_code_zero(ds: Dataset) -> None:
    replace(ds, FREEDONIA, AG.cowCode, Literal(0))


DATE = "A publication date must be one valid date, year-month or year."
ALPHA_CLAIMS = "claims/alpha.yaml"

CASES = [
    Case(
        "ags:SourceDocumentShape",
        "A source document needs exactly one identifier (its file name without .txt).",
        document_without_identifier,
    ),
    Case("ags:SourceDocumentShape", "A source document needs a title.", document_without_title),
    Case("ags:SourceDocumentShape", "A source document needs exactly one text.", document_without_text),
    Case(
        "ags:SourceDocumentShape", "A source document must carry at least one work (an article).", document_without_work
    ),
    Case("ags:SourceDocumentShape", DATE, document_issued_in_words),
    Case(
        "ags:SourceDocumentShape",
        "The quoted text {?exact} does not occur in the source at the recorded offsets {?start}–{?end}.",
        anchor_offsets_shifted,
        claim="ann-threat",
        file=ALPHA_CLAIMS,
    ),
    Case("ags:WorkShape", "A work needs a title.", work_without_title),
    Case("ags:WorkShape", "A work needs an author (a person or organisation).", work_without_creator),
    Case("ags:WorkShape", DATE, work_issued_twice),
    Case("ags:ClaimShape", "A claim needs exactly one id.", claim_without_id, file=ALPHA_CLAIMS),
    Case("ags:ClaimShape", "A claim needs exactly one assertion graph.", claim_without_assertion),
    Case("ags:ClaimShape", "A claim must record the file it was written in.", claim_without_file),
    Case("ags:ClaimShape", "A claim must record the line it was written at.", claim_without_line, claim="ann-threat"),
    Case(
        "ags:QuotedClaimShape",
        "A claim needs exactly one quote.",
        claim_without_quote,
        claim="ann-threat",
        file=ALPHA_CLAIMS,
    ),
    Case("ags:ClaimProvenanceShape", "A claim needs exactly one quote.", claim_with_two_quotes, claim="ann-threat"),
    Case(
        "ags:ClaimProvenanceShape",
        "An imported claim is derived from a dataset record.",
        claim_derived_from_a_document,
        claim="ann-threat",
    ),
    Case("ags:DatasetRecordShape", "A dataset record names the file it was read from.", record_without_file),
    Case("ags:DatasetRecordShape", "A dataset record names the line it was read from.", record_without_line),
    Case(
        "ags:ClaimProvenanceShape",
        "A claim's modality must be exactly one of asserted, denied, hypothetical.",
        claim_with_unknown_modality,
        claim="ann-threat",
        file=ALPHA_CLAIMS,
    ),
    Case(
        "ags:ClaimProvenanceShape",
        "A claim must say whether it is the author's own words or reported speech.",
        claim_with_unknown_attribution_kind,
        claim="ann-threat",
    ),
    Case(
        "ags:ClaimProvenanceShape",
        "A claim must be attributed to its author.",
        claim_attributed_to_nobody,
        claim="ann-threat",
    ),
    Case("ags:ClaimProvenanceShape", "A claim belongs to exactly one work.", claim_from_two_works, claim="ann-threat"),
    Case(
        "ags:AnchoredClaimShape",
        "A claim's quote must be anchored in at least one source document.",
        claim_without_anchor,
        claim="ann-threat",
    ),
    Case(
        "ags:ClaimProvenanceShape",
        "Reported speech must name the person or group whose words are reported.",
        reported_speech_without_speaker,
        claim="ann-long-term",
        file=ALPHA_CLAIMS,
    ),
    Case(
        "ags:DateContextShape",
        "A start date must be one valid date (YYYY-MM-DD), year-month or year.",
        start_date_in_words,
        claim="ann-signing",
    ),
    Case(
        "ags:DateContextShape",
        "An end date must be one valid date (YYYY-MM-DD), year-month or year.",
        end_date_in_words,
        claim="ann-signing",
    ),
    Case(
        "ags:DateContextShape",
        "A date must be a valid date (YYYY-MM-DD), year-month or year.",
        event_date_in_words,
        file="entities.yaml",
    ),
    Case(
        "ags:TimeOrderShape",
        "The time context ends ({?end}) before it starts ({?start}).",
        time_context_ending_before_it_starts,
        claim="ann-signing",
        file=ALPHA_CLAIMS,
    ),
    Case(
        "ags:AnchorShape",
        "An anchor must be a Web Annotation specific resource (oa:SpecificResource).",
        anchor_not_a_specific_resource,
        claim="ann-threat",
    ),
    Case(
        "ags:AnchorShape",
        "An anchor must point into exactly one source document.",
        anchor_without_source,
        claim="ann-threat",
    ),
    Case(
        "ags:AnchorShape",
        "An anchor needs a text quote selector (exact, prefix, suffix).",
        anchor_without_quote_selector,
        claim="ann-threat",
    ),
    Case(
        "ags:AnchorShape",
        "An anchor needs a text position selector (start, end).",
        anchor_without_position_selector,
        claim="ann-threat",
    ),
    Case(
        "ags:TextQuoteSelectorShape",
        "A quote selector needs exactly one non-empty exact text.",
        quote_selector_with_empty_exact,
        claim="ann-threat",
    ),
    Case("ags:TextQuoteSelectorShape", "A quote selector has at most one prefix.", quote_selector_with_two_prefixes),
    Case("ags:TextQuoteSelectorShape", "A quote selector has at most one suffix.", quote_selector_with_two_suffixes),
    Case(
        "ags:TextPositionSelectorShape",
        "A position selector needs one start offset, a whole number ≥ 0.",
        position_with_negative_start,
    ),
    Case(
        "ags:TextPositionSelectorShape",
        "A position selector needs one end offset, a whole number ≥ 0.",
        position_with_end_in_words,
    ),
    Case(
        "ags:LabelShape",
        "Every actor, relationship, threat, basis, event, scope and interest needs a label.",
        state_without_label,
        file="entities.yaml",
    ),
    Case(
        "ags:RelationshipShape",
        "A relationship's participants must be actors (states, non-state actors, organisations or blocs).",
        treaty_as_participant,
        file="entities.yaml",
    ),
    Case("ags:RelationshipShape", "A relationship can only be directed against a threat.", directed_against_a_state),
    Case(
        "ags:RelationshipShape",
        "An institutional basis must be an agreement, an organisation membership or a joint body.",
        state_as_institutional_basis,
    ),
    Case("ags:RelationshipShape", "A time horizon is longTerm or shortTerm.", sphere_as_time_horizon),
    Case("ags:RelationshipShape", "A relationship can only be an episode of another relationship.", episode_of_a_state),
    Case(
        "ags:RelationshipShape",
        "A relationship needs at least two distinct participants; it has {?count}.",
        relationship_with_one_participant,
        file="entities.yaml",
    ),
    Case(
        "ags:StateThreatShape",
        "A state threat must name the state that poses it (posedBy a State).",
        state_threat_posed_by_smugglers,
        file="entities.yaml",
    ),
    Case(
        "ags:NonStateThreatShape",
        "A non-state threat cannot be posed by a state; make it a StateThreat.",
        non_state_threat_posed_by_a_state,
    ),
    Case("ags:ThreatShape", "A threat is posed by an actor.", threat_posed_by_a_treaty),
    Case(
        "ags:AgreementShape",
        "A pledge is one of defencePledge, offencePledge, neutralityPledge, nonAggressionPledge, consultationPledge.",
        time_horizon_as_pledge,
    ),
    Case("ags:AgreementShape", "An agreement's parties must be actors.", event_as_party),
    Case("ags:AgreementShape", "An agreement has at most one ATOP id, a whole number.", atop_id_in_letters),
    Case(
        "ags:OrganisationMembershipShape",
        "A membership basis must refer to an international organisation or a bloc.",
        membership_of_a_state,
    ),
    Case("ags:EventShape", "An event involves actors.", event_involving_a_treaty),
    Case("ags:EventShape", "An event is an event of a relationship.", event_of_a_state),
    Case(
        "ags:StateShape",
        "A state has at most one COW code, a positive whole number.",
        cow_code_zero,
        file="entities.yaml",
    ),
]


# ----------------------------------------------------------------------------------------------------
# Tests
# ----------------------------------------------------------------------------------------------------


def fresh_dataset() -> Dataset:
    return compile_ledger(load_ledger(MINI))


def template(message: str) -> re.Pattern[str]:
    """A pattern for a message with {?var} placeholders filled in."""
    parts = re.split(r"\{[?$]\w+\}", message)
    return re.compile(".+?".join(re.escape(p) for p in parts), re.DOTALL)


def matches(case: Case, violation: Violation) -> bool:
    if violation.shape.split(" (")[0] != case.shape:
        return False
    if case.message is None:
        return violation.path == case.path
    return template(case.message).fullmatch(violation.message) is not None


def test_mini_dataset_conforms() -> None:
    report = validate(fresh_dataset())
    assert report.conforms, str(report)
    assert report.violations == []


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_shape_reports_its_violation(case: Case) -> None:
    dataset = fresh_dataset()
    case.mutate(dataset)
    report: Report = validate(dataset)
    assert not report.conforms
    found = [v for v in report.violations if matches(case, v)]
    assert found, f"no {case.shape} violation {case.message!r} in:\n{report}"
    if case.claim:
        assert case.claim in {v.claim for v in found}, f"not located at claim {case.claim}:\n{report}"
    if case.file:
        assert case.file in {v.file for v in found}, f"not located in {case.file}:\n{report}"
        assert all(v.line > 0 for v in found if v.file == case.file)


def test_a_line_that_is_not_a_number_is_reported_not_a_crash() -> None:
    """validate() must report the ClaimShape line constraint, not fail while locating the violation."""
    dataset = fresh_dataset()
    claim_line_in_words(dataset)
    report = validate(dataset)
    case = Case("ags:ClaimShape", "A claim must record the line it was written at.", claim_line_in_words)
    assert [v for v in report.violations if matches(case, v)], str(report)


def shape_messages() -> set[tuple[str, str]]:
    """(node shape, sh:message) for every message in shapes.ttl, however deep the constraint sits."""
    shapes = Graph().parse(ONTOLOGY_DIR / "shapes.ttl", format="turtle")
    found = set()
    for node, message in shapes.subject_objects(SH.message):
        owner = node
        while (owner, RDF.type, SH.NodeShape) not in shapes:
            parents = set(shapes.subjects(None, owner))
            assert len(parents) == 1, f"cannot find the shape that holds {message!r}"
            owner = parents.pop()  # a property shape, a SPARQL constraint, or a list cell of sh:or
        found.add((str(owner).replace(SHAPES, "ags:"), str(message)))
    return found


def test_every_message_has_a_case() -> None:
    declared = shape_messages()
    covered = {(c.shape, c.message) for c in CASES if c.message is not None}
    assert declared, "no sh:message found in shapes.ttl"
    assert declared - covered == set(), "shapes without a failing-input case in test_shapes.CASES"
    assert covered - declared == set(), "cases for messages shapes.ttl no longer has"


def test_every_constraint_has_a_message() -> None:
    """shapes.ttl promises a plain-words sh:message on every shape: no analyst should see pySHACL's wording."""
    shapes = Graph().parse(ONTOLOGY_DIR / "shapes.ttl", format="turtle")
    node_level = {SH["class"], SH["or"], SH["not"], SH["in"], SH.datatype, SH.nodeKind, SH.hasValue, SH.node}
    missing = []
    for shape in shapes.subjects(RDF.type, SH.NodeShape):
        if any((shape, c, None) in shapes for c in node_level) and (shape, SH.message, None) not in shapes:
            missing.append(f"{shape} (node)")
        for part in (*shapes.objects(shape, SH.property), *shapes.objects(shape, SH.sparql)):
            if (part, SH.message, None) not in shapes:
                missing.append(f"{shape} ({shapes.value(part, SH.path) or 'sparql'})")
    assert missing == []
