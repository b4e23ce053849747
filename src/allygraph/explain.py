"""Explanations a reader understands: each criterion's status with the quoted sentences behind it."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

import pyoxigraph

from .errors import InputError
from .namespaces import AG, DCTERMS, ID, NP, OA, PROV, RDFS
from .ontology import suggest
from .reason import Classification, CriterionCheck, Relationship, _local, read_relationships

MARKS = {"holds": "[x] holds", "fails": "[ ] fails", "no-evidence": "[?] no evidence", "contested": "[!] contested"}


@dataclass(frozen=True)
class Anchor:
    document: str
    start: int
    end: int
    exact: str


@dataclass(frozen=True)
class ClaimDetail:
    id: str
    quote: str
    modality: str
    attribution: str
    speaker: str
    author: str
    file: str
    line: int
    anchors: tuple[Anchor, ...]

    def as_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "quote": self.quote,
            "modality": self.modality,
            "attribution": self.attribution,
            "speaker": self.speaker,
            "author": self.author,
            "file": self.file,
            "line": self.line,
            "anchors": [{"source": a.document, "start": a.start, "end": a.end, "exact": a.exact} for a in self.anchors],
        }


def claim_details(store: pyoxigraph.Store, ids: set[str]) -> dict[str, ClaimDetail]:
    """Quote, modality, attribution, author, file, line and every anchor of each claim in `ids`."""
    if not ids:
        return {}
    values = " ".join(f"<{ID}claim/{i}>" for i in sorted(ids))
    query = f"""
        SELECT ?id ?quote ?modality ?kind ?speaker ?author ?file ?line ?doc ?start ?end ?exact WHERE {{
          VALUES ?claim {{ {values} }}
          GRAPH ?head {{ ?claim <{NP.hasAssertion}> ?a }}
          GRAPH ?pubinfo {{ ?claim <{AG.claimId}> ?id ; <{AG.mediaFile}> ?file ; <{AG.line}> ?line }}
          GRAPH ?prov {{
            ?a <{AG.modality}> ?modality ; <{AG.attributionKind}> ?kind .
            OPTIONAL {{ ?a <{AG.quote}> ?quoted }}
            OPTIONAL {{ ?a <{PROV.wasDerivedFrom}> ?record . ?record <{RDFS.label}> ?recordLabel }}
            OPTIONAL {{ ?a <{PROV.wasAttributedTo}> ?authorNode }}
            OPTIONAL {{ ?a <{AG.reportedSpeaker}> ?speakerNode }}
            OPTIONAL {{ ?a <{AG.hasAnchor}> ?anchor . ?anchor <{OA.hasSource}> ?docNode ;
                         <{OA.hasSelector}> ?q , ?p . ?q <{OA.exact}> ?exact .
                         ?p <{OA.start}> ?start ; <{OA.end}> ?end }}
          }}
          OPTIONAL {{ GRAPH ?sg {{ ?docNode <{DCTERMS.identifier}> ?doc }} }}
          OPTIONAL {{ GRAPH ?ag {{ ?authorNode <{RDFS.label}> ?author }} }}
          OPTIONAL {{ GRAPH ?eg {{ ?speakerNode <{RDFS.label}> ?speaker }} }}
          BIND (COALESCE(?quoted, CONCAT("[record] ", ?recordLabel)) AS ?quote)
        }} ORDER BY ?id ?start"""
    rows: dict[str, dict[str, object]] = {}
    for row in store.query(query):
        claim_id = row["id"].value
        entry = rows.setdefault(
            claim_id,
            {
                "quote": row["quote"].value,
                "modality": _local(row["modality"].value),
                "attribution": _local(row["kind"].value),
                "speaker": row["speaker"].value if row["speaker"] else "",
                "author": row["author"].value if row["author"] else "",
                "file": row["file"].value,
                "line": int(row["line"].value),
                "anchors": {},
            },
        )
        if row["doc"] is not None and row["start"] is not None:
            anchors = entry["anchors"]
            assert isinstance(anchors, dict)
            anchors[row["doc"].value] = Anchor(
                row["doc"].value, int(row["start"].value), int(row["end"].value), row["exact"].value
            )
    return {
        claim_id: ClaimDetail(
            id=claim_id,
            quote=str(e["quote"]),
            modality=str(e["modality"]),
            attribution=str(e["attribution"]),
            speaker=str(e["speaker"]),
            author=str(e["author"]),
            file=str(e["file"]),
            line=int(e["line"]),  # type: ignore[call-overload]
            anchors=tuple(e["anchors"].values()),  # type: ignore[union-attr]
        )
        for claim_id, e in rows.items()
    }


def find_relationship(store: pyoxigraph.Store, name: str) -> Relationship:
    """A relationship by IRI, entity id (`iran-russia`) or label.

    :raises InputError: naming close matches when nothing or several things match.
    """
    relationships = read_relationships(store)
    if name in relationships:
        return relationships[name]
    by_id = {_local(iri): r for iri, r in relationships.items()}
    if name in by_id:
        return by_id[name]
    by_label = [r for r in relationships.values() if r.label.casefold() == name.casefold()]
    if len(by_label) == 1:
        return by_label[0]
    hint = suggest(name, set(by_id))
    raise InputError(f"no relationship {name!r}; known ids: {', '.join(sorted(by_id))}", hint=hint)


def render(classification: Classification, details: dict[str, ClaimDetail], *, width: int = 100) -> str:
    """The checklist for one classification, as plain text."""
    c = classification
    lines = [
        f"{c.label} ({', '.join(c.participants)})",
        f"  relationship: {c.relationship}",
        f"  definition:   {c.definition.name}: {c.definition.label}",
    ]
    if c.definition.statement:
        lines += textwrap.wrap(
            c.definition.statement, width, initial_indent="                ", subsequent_indent="                "
        )
    lines += [f"  view:         {c.view}", f"  outcome:      {c.outcome.upper()}", ""]
    combination = "every criterion is required" if c.definition.combination == "all" else "any criterion suffices"
    lines.append(f"  Criteria ({combination}):")
    lines += _render_checks(c.checks, details, width)
    for also in c.also:
        lines += ["", f"  Also: {also.classifier.label}: {also.outcome.upper()}"]
        lines += _render_checks(also.checks, details, width)
    return "\n".join(lines)


def _render_checks(checks: tuple[CriterionCheck, ...], details: dict[str, ClaimDetail], width: int) -> list[str]:
    lines: list[str] = []
    for item in checks:
        lines.append(f"  {MARKS[item.status]:18s} {item.criterion.label}")
        if item.criterion.statement:
            lines.append(f"  {'':18s} ({item.criterion.statement})")
        for heading, ids in (
            ("supported by", item.supporting),
            ("contradicted by", item.contradicting),
            ("overridden by the scenario", item.overridden),
        ):
            for claim_id in ids:
                lines += _render_claim(heading, details.get(claim_id), claim_id, width)
        if item.status == "holds" and not item.supporting:
            lines.append(f"  {'':18s} supported by the entity definitions (background), no claim needed")
        if item.status == "no-evidence":
            lines.append(f"  {'':18s} no claim in this view bears on it")
    return lines


def _render_claim(heading: str, detail: ClaimDetail | None, claim_id: str, width: int) -> list[str]:
    indent = " " * 21
    if detail is None:
        return [f"{indent}{heading} {claim_id}"]
    who = detail.author
    if detail.attribution == "reportedSpeech":
        who = f"{detail.speaker}, reported by {detail.author}"
    lines = [f"{indent}{heading} {claim_id} ({detail.modality}; {who}; {detail.file}:{detail.line})"]
    record = detail.quote.removeprefix("[record] ")
    shown = f"from {record}" if record != detail.quote else f"“{detail.quote}”"  # imported data has no quote
    lines += textwrap.wrap(shown, width - 4, initial_indent=indent + "  ", subsequent_indent=indent + "   ")
    for anchor in detail.anchors:
        lines.append(f"{indent}  in {anchor.document} [{anchor.start}:{anchor.end}]")
    return lines
