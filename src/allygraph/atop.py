"""`allygraph import atop`: ATOP treaty data (alliance- and member-level CSV files) as ledger RDF.

Each agreement becomes what a claim from an article becomes: a nanopublication whose assertion states
what the ATOP row codes (members, years, pledges, named threatening states, organisation, military
institutionalisation, specified length) and whose provenance names the dataset, its version and the
file and line of the row. Codes are written as they are; a missing value is left out, never read as 0.
What the codes mean for a definition (a named threat, an institutional basis, a long term) is decided
by the ontology (`ag:AgreementNamingStateThreat`, `ag:LongTermAgreement`, ...) and the reasoning
engines, not here. The one computed value is `ag:yearsInEffect` (endyr − begyr, endyr 0 counting as
the last year the file covers), because OWL cannot subtract.

The import is written as N-Quads to `<data>/imports/atop.nq`, which `build` reads with the rest of the
ledger; a file with any malformed row writes nothing.
"""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph
from rdflib import URIRef

from .errors import InputError, InputErrors, Location
from .namespaces import AG, DCTERMS, GRAPH, ID, NP, OWL, PROV, RDF, RDFS, XSD
from .rdf import claim_graphs, claim_iri, work_iri

DATASET = "atop"
ENTITIES = GRAPH["imports/atop/entities"]
WORK_ID = "atop"
AGENT = ID["atop-project"]
PLEDGES = {
    "defense": AG.defencePledge,
    "offense": AG.offencePledge,
    "neutral": AG.neutralityPledge,
    "nonagg": AG.nonAggressionPledge,
    "consul": AG.consultationPledge,
}
# ATOP column -> the ontology's data property for it (codes written as they are)
CODES = {
    "statthr1": AG.firstThreateningStateCode,
    "statthr2": AG.secondThreateningStateCode,
    "organ1": AG.organisationCode,
    "milinst": AG.militaryInstitutionalisation,
    "length": AG.specifiedLengthMonths,
}
ALLIANCE_COLUMNS = ("atopid", "begyr", "endyr", *PLEDGES, *CODES)
MEMBER_COLUMNS = ("atopid", "member")
_INTEGER = re.compile(r"-?[0-9]+")
MAX_CSV_BYTES = 512 * 1024 * 1024  # the real ATOP 4.01 files are under 1 MB


@dataclass
class Agreement:
    atopid: int
    line: int
    codes: dict[str, int | None]  # every column of ALLIANCE_COLUMNS but atopid; None = missing
    members: list[int] = field(default_factory=list)
    version: str = ""


@dataclass
class AtopData:
    alliances: Path
    members_file: Path
    agreements: dict[int, Agreement]
    states: dict[int, str]  # COW code -> abbreviation ("" if the states file does not list it)
    last_year: int
    unknown_states: dict[int, Location] = field(default_factory=dict)

    @property
    def version(self) -> str:
        versions = {a.version for a in self.agreements.values() if a.version}
        return versions.pop() if len(versions) == 1 else ""


class _Rows:
    """CSV rows as dicts with their line numbers; wrong column counts and bad numbers become errors."""

    def __init__(self, path: Path, required: tuple[str, ...], errors: list[InputError]) -> None:
        self.path, self.required, self.errors = path, required, errors

    def __iter__(self) -> Iterator[tuple[int, dict[str, str]]]:
        try:
            size = self.path.stat().st_size
        except OSError as exc:
            raise InputError(f"cannot read {self.path}: {exc.strerror}", Location(self.path)) from None
        if size > MAX_CSV_BYTES:
            raise InputError(f"file is {size:,} bytes; the limit is {MAX_CSV_BYTES:,}", Location(self.path))
        try:
            handle = self.path.open(encoding="utf-8", newline="")
        except OSError as exc:
            raise InputError(f"cannot read {self.path}: {exc.strerror}", Location(self.path)) from None
        with handle:
            csv.field_size_limit(1024 * 1024)  # one cell may not swallow the file (an unclosed quote)
            reader = csv.reader(handle)
            try:
                header = next(reader)
            except StopIteration:
                raise InputError("empty file: expected a CSV header row", Location(self.path, 1)) from None
            except (csv.Error, UnicodeDecodeError) as exc:
                raise InputError(f"not a CSV file: {exc}", Location(self.path, 1)) from None
            missing = [c for c in self.required if c not in header]
            if missing:
                raise InputError(f"missing column(s) {', '.join(missing)} in the header", Location(self.path, 1))
            try:
                for row in reader:
                    line = reader.line_num
                    if not row:
                        continue
                    if len(row) != len(header):
                        self.errors.append(
                            InputError(
                                f"{len(row)} fields where the header has {len(header)}", Location(self.path, line)
                            )
                        )
                        continue
                    yield line, dict(zip(header, row, strict=True))
            except (csv.Error, UnicodeDecodeError) as exc:
                raise InputError(f"unreadable CSV: {exc}", Location(self.path, reader.line_num)) from None

    def integer(self, row: dict[str, str], column: str, line: int, *, required: bool = False) -> int | None:
        text = row[column].strip()
        if not text:
            if required:
                self.errors.append(InputError(f"{column} is empty", Location(self.path, line)))
            return None
        if _INTEGER.fullmatch(text):
            return int(text)
        if re.fullmatch(r"-?[0-9]+\.0*", text):  # "3.0" as some exports write integers
            return int(float(text))
        self.errors.append(InputError(f"{column} must be a whole number, not {text!r}", Location(self.path, line)))
        return None


def read_states(path: Path) -> dict[int, str]:
    """COW state codes -> abbreviations from a `ccode,stateabb,...` file."""
    errors: list[InputError] = []
    rows = _Rows(path, ("ccode", "stateabb"), errors)
    states: dict[int, str] = {}
    for line, row in rows:
        code = rows.integer(row, "ccode", line, required=True)
        if code is not None:
            states[code] = row["stateabb"].strip()
    if errors:
        raise InputErrors(errors)
    return states


def read_atop(
    alliances: Path, members: Path, states: Path | None = None, *, allow_unknown_states: bool = False
) -> AtopData:
    """Read and check the ATOP files; every problem is collected, with its file and line.

    :raises InputErrors: for malformed rows (wrong column count, a non-numeric code, a member row for an
        agreement the alliance file lacks, a state code the states file lacks unless allowed).
    """
    errors: list[InputError] = []
    known_states = read_states(states) if states is not None else None
    rows = _Rows(alliances, ALLIANCE_COLUMNS, errors)
    agreements: dict[int, Agreement] = {}
    for line, row in rows:
        atopid = rows.integer(row, "atopid", line, required=True)
        codes = {c: rows.integer(row, c, line) for c in ALLIANCE_COLUMNS[1:]}
        if atopid is None:
            continue
        if atopid in agreements:
            errors.append(
                InputError(
                    f"atopid {atopid} again (first on line {agreements[atopid].line})", Location(alliances, line)
                )
            )
            continue
        agreements[atopid] = Agreement(atopid, line, codes, version=row.get("version", "").strip())

    unknown: dict[int, Location] = {}
    member_rows = _Rows(members, MEMBER_COLUMNS, errors)
    for line, row in member_rows:
        atopid = member_rows.integer(row, "atopid", line, required=True)
        code = member_rows.integer(row, "member", line, required=True)
        if atopid is None or code is None:
            continue
        if atopid not in agreements:
            errors.append(InputError(f"atopid {atopid} is not in {alliances.name}", Location(members, line)))
            continue
        if known_states is not None and code not in known_states:
            unknown.setdefault(code, Location(members, line))
            if not allow_unknown_states:
                errors.append(
                    InputError(
                        f"member {code} is not a state code in {states.name if states else ''}",
                        Location(members, line),
                        hint="check the code, or pass --allow-unknown-states to import it with its code only",
                    )
                )
                continue
        if code not in agreements[atopid].members:
            agreements[atopid].members.append(code)
    for agreement in agreements.values():
        for column in ("statthr1", "statthr2"):
            code = agreement.codes[column]
            if code and known_states is not None and code not in known_states:
                unknown.setdefault(code, Location(alliances, agreement.line))
                if not allow_unknown_states:
                    errors.append(
                        InputError(f"{column} {code} is not a state code", Location(alliances, agreement.line))
                    )
    if errors:
        raise InputErrors(errors)
    years = [y for a in agreements.values() for y in (a.codes["begyr"], a.codes["endyr"]) if y]
    return AtopData(
        alliances,
        members,
        agreements,
        known_states or {},
        max(years, default=0),
        unknown,
    )


# ----------------------------------------------------------------------------------------------------
# RDF
# ----------------------------------------------------------------------------------------------------


def state_iri(code: int) -> URIRef:
    """The IRI of a state by COW code, the same the ledger gives states with a `cowCode`."""
    return ID[f"state/{code}"]


def agreement_iri(atopid: int) -> URIRef:
    return ID[f"atop/{atopid}"]


def relationship_iri(atopid: int) -> URIRef:
    return ID[f"atop/{atopid}/relationship"]


def years_in_effect(agreement: Agreement, last_year: int) -> int | None:
    begin, end = agreement.codes["begyr"], agreement.codes["endyr"]
    if begin is None or end is None:
        return None
    return (end or last_year) - begin


def _n(iri: str) -> pyoxigraph.NamedNode:
    return pyoxigraph.NamedNode(str(iri))


def _int(value: int) -> pyoxigraph.Literal:
    return pyoxigraph.Literal(str(value), datatype=_n(XSD.integer))


def _text(value: str) -> pyoxigraph.Literal:
    return pyoxigraph.Literal(value)


def quads(data: AtopData, *, files_as: tuple[str, str] | None = None) -> list[pyoxigraph.Quad]:
    """The import as quads: one entities graph, and one nanopublication per agreement.

    `files_as` gives the file names recorded in the provenance (default: the paths as given).
    """
    alliances_name, members_name = files_as or (str(data.alliances), str(data.members_file))
    out: list[pyoxigraph.Quad] = []
    ent = _n(ENTITIES)

    def add(s: object, p: object, o: object, g: pyoxigraph.NamedNode) -> None:
        out.append(pyoxigraph.Quad(s, p, o, g))  # type: ignore[arg-type]

    version = data.version
    work = _n(work_iri(WORK_ID))
    add(_n(AGENT), _n(RDF.type), _n(PROV.Organization), ent)
    add(_n(AGENT), _n(RDFS.label), _text("Alliance Treaty Obligations and Provisions (ATOP) project"), ent)
    add(work, _n(RDF.type), _n(AG.Work), ent)
    title = f"ATOP dataset{f', version {version}' if version else ''}"
    add(work, _n(DCTERMS.title), _text(title), ent)
    add(work, _n(DCTERMS.creator), _n(AGENT), ent)
    add(work, _n(DCTERMS.identifier), _text(WORK_ID), ent)

    used = sorted({m for a in data.agreements.values() for m in a.members})
    for code in used:
        state = _n(state_iri(code))
        abbreviation = data.states.get(code, "")
        add(state, _n(RDF.type), _n(AG.State), ent)
        add(state, _n(AG.cowCode), _int(code), ent)
        add(state, _n(RDFS.label), _text(abbreviation or f"COW state {code}"), ent)
        if abbreviation:
            add(state, _n(AG.cowAbbreviation), _text(abbreviation), ent)

    def abbreviation(code: int) -> str:
        return data.states.get(code) or str(code)

    for atopid, agreement in sorted(data.agreements.items()):
        a, r = _n(agreement_iri(atopid)), _n(relationship_iri(atopid))
        begin = agreement.codes["begyr"]
        members = ", ".join(abbreviation(m) for m in agreement.members)
        add(a, _n(RDF.type), _n(AG.Agreement), ent)
        add(a, _n(RDFS.label), _text(f"ATOP {atopid}{f' ({begin})' if begin else ''}: {members}"), ent)
        add(a, _n(AG.atopId), _int(atopid), ent)
        add(r, _n(RDF.type), _n(AG.TreatyRelationship), ent)
        add(r, _n(RDFS.label), _text(f"{'–'.join(abbreviation(m) for m in agreement.members)} (ATOP {atopid})"), ent)
        for m in agreement.members:
            add(r, _n(AG.hasParticipant), _n(state_iri(m)), ent)

        claim_id = f"atop-{atopid}"
        node = _n(claim_iri(claim_id))
        graphs = {k: _n(v) for k, v in claim_graphs(claim_id).items()}
        head, assertion, provenance, pubinfo = (graphs[k] for k in ("head", "assertion", "provenance", "pubinfo"))
        add(node, _n(RDF.type), _n(NP.Nanopublication), head)
        add(node, _n(RDF.type), _n(AG.Claim), head)
        add(node, _n(NP.hasAssertion), assertion, head)
        add(node, _n(NP.hasProvenance), provenance, head)
        add(node, _n(NP.hasPublicationInfo), pubinfo, head)

        add(r, _n(AG.constitutedBy), a, assertion)
        for m in agreement.members:
            add(a, _n(AG.hasParty), _n(state_iri(m)), assertion)
        if begin is not None:
            add(a, _n(AG.beginYear), _int(begin), assertion)
        if agreement.codes["endyr"]:
            add(a, _n(AG.endYear), _int(agreement.codes["endyr"]), assertion)  # type: ignore[arg-type]
        if (years := years_in_effect(agreement, data.last_year)) is not None:
            add(a, _n(AG.yearsInEffect), _int(years), assertion)
        for column, prop in CODES.items():
            value = agreement.codes[column]
            if value is not None:
                add(a, _n(prop), _int(value), assertion)
        for column in ("statthr1", "statthr2"):
            if agreement.codes[column]:
                add(a, _n(AG.namesThreateningState), _n(state_iri(agreement.codes[column])), assertion)  # type: ignore[arg-type]
        for column, pledge in PLEDGES.items():
            value = agreement.codes[column]
            if value == 1:
                add(a, _n(AG.hasPledge), _n(pledge), assertion)
            elif value == 0:  # coded absent: a negative property assertion (OWL 2)
                negative = pyoxigraph.BlankNode(f"atop{atopid}{column}")
                add(negative, _n(RDF.type), _n(OWL.NegativePropertyAssertion), assertion)
                add(negative, _n(OWL.sourceIndividual), a, assertion)
                add(negative, _n(OWL.assertionProperty), _n(AG.hasPledge), assertion)
                add(negative, _n(OWL.targetIndividual), _n(pledge), assertion)

        row = _n(f"{claim_iri(claim_id)}/record")
        add(assertion, _n(AG.modality), _n(AG.asserted), provenance)
        add(assertion, _n(AG.attributionKind), _n(AG.authorial), provenance)
        add(assertion, _n(PROV.wasAttributedTo), _n(AGENT), provenance)
        add(assertion, _n(AG.fromWork), work, provenance)
        add(assertion, _n(PROV.wasDerivedFrom), row, provenance)
        add(row, _n(RDF.type), _n(AG.DatasetRecord), provenance)
        add(row, _n(RDFS.label), _text(f"{title}, {alliances_name} line {agreement.line}"), provenance)
        add(row, _n(AG.mediaFile), _text(alliances_name), provenance)
        add(row, _n(AG.line), _int(agreement.line), provenance)

        add(node, _n(AG.claimId), _text(claim_id), pubinfo)
        add(node, _n(AG.mediaFile), _text(alliances_name), pubinfo)
        add(node, _n(AG.line), _int(agreement.line), pubinfo)
        add(node, _n(AG.note), _text(f"Imported from {alliances_name} and {members_name}"), pubinfo)
    return out


def import_path(data_dir: Path) -> Path:
    return data_dir / "imports" / f"{DATASET}.nq"


def write_import(data: AtopData, data_dir: Path) -> Path:
    """Write the import to `<data_dir>/imports/atop.nq` atomically (a temporary file, then a rename)."""
    target = import_path(data_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    files_as = (data.alliances.name, data.members_file.name)
    body = pyoxigraph.serialize(quads(data, files_as=files_as), format=pyoxigraph.RdfFormat.N_QUADS)
    _remove_dead_temporaries(target)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        with tmp.open("wb") as handle:
            handle.write(body or b"")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def _remove_dead_temporaries(target: Path) -> None:
    """Remove `.<target>.<pid>.tmp` files left by an import that was killed (kill -9) while writing; those
    of a process still running are another import's, and are left alone."""
    for leftover in target.parent.glob(f".{target.name}.*.tmp"):
        pid = leftover.name.removeprefix(f".{target.name}.").removesuffix(".tmp")
        if not pid.isdigit() or _running(int(pid)):
            continue
        leftover.unlink(missing_ok=True)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True
