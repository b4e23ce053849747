"""The evidence ledger: sources, entities and claims read from the hand-written files, checked and anchored.

Reading never stops at the first mistake: every error found in one pass is reported with its file and
line, and nothing is compiled until the ledger is clean.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from . import yamlio
from .anchor import Anchor, Index, line_span
from .errors import InputError, InputErrors, Location
from .ontology import DATE_PROPERTIES, Vocabulary, suggest, vocabulary
from .yamlio import YList, YMap, YStr

MODALITIES = ("asserted", "denied", "hypothetical")
AGENT_CLASSES = ("Person", "Organization")
# Used with fullmatch (re.match with `$` would let a final newline through) and ASCII digits only
# (`\d` also matches other scripts' digits, which XSD lexical forms do not allow).
ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]*")
CLAIM_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_DATE_FORMATS = (
    (re.compile(r"[0-9]{4}"), "gYear"),
    (re.compile(r"[0-9]{4}-[0-9]{2}"), "gYearMonth"),
    (re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}"), "date"),
)


@dataclass(frozen=True)
class Agent:
    id: str
    kind: str  # "Person" or "Organization"
    label: str
    note: str
    location: Location


@dataclass(frozen=True)
class Work:
    id: str
    title: str
    creator: str
    publisher: str
    issued: str
    year_context: str
    note: str
    location: Location


@dataclass(frozen=True)
class Passage:
    work: str
    start: int
    end: int
    lines: str


@dataclass
class Document:
    id: str
    path: Path
    file: str  # as written in sources.yaml, relative to the data folder
    text: str
    title: str
    publisher: str
    issued: str
    note: str
    passages: list[Passage]
    location: Location
    index: Index = field(repr=False, default=None)  # type: ignore[assignment]

    def works(self) -> set[str]:
        return {p.work for p in self.passages}

    def work_at(self, offset: int) -> str | None:
        return next((p.work for p in self.passages if p.start <= offset < p.end), None)


@dataclass(frozen=True)
class Value:
    """An object of a statement or entity property, resolved against the vocabulary."""

    kind: str  # "entity", "individual", "class", "literal"
    text: str
    datatype: str = ""  # for literals: an XSD local name, or "" for a plain string


@dataclass(frozen=True)
class Statement:
    subject: str
    predicate: str  # "a" or an ontology property's local name
    object: Value
    location: Location


@dataclass
class Entity:
    id: str
    types: list[str]
    label: str
    properties: list[Statement]
    location: Location


@dataclass
class ClaimAnchor:
    document: str
    anchor: Anchor


@dataclass
class Claim:
    id: str
    document: str
    quote: str
    attribution: str  # "author" or an agent id
    modality: str
    when: str
    when_text: str
    statements: list[Statement]
    note: str
    location: Location
    work: str = ""
    anchors: list[ClaimAnchor] = field(default_factory=list)


@dataclass
class Ledger:
    root: Path
    agents: dict[str, Agent]
    works: dict[str, Work]
    documents: dict[str, Document]
    entities: dict[str, Entity]
    claims: dict[str, Claim]
    imports: list[Path] = field(default_factory=list)  # imports/*.nq, written by `allygraph import`

    def relpath(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.root))
        except ValueError:
            return str(path)


def parse_date(text: str) -> tuple[str, str]:
    """(lexical form, XSD datatype local name) for an ISO 8601 date, year-month or year.

    >>> parse_date("2016-10-28"), parse_date("2015-09"), parse_date("1996")
    (('2016-10-28', 'date'), ('2015-09', 'gYearMonth'), ('1996', 'gYear'))

    :raises ValueError: if the text is not such a date, or names a day that does not exist.
    """
    for pattern, datatype in _DATE_FORMATS:
        if pattern.fullmatch(text):
            parts = [int(p) for p in text.split("-")] + [1, 1]
            date(parts[0], parts[1], parts[2])  # raises ValueError on 2016-02-30
            return text, datatype
    raise ValueError(f"{text!r} is not a date of the form YYYY, YYYY-MM or YYYY-MM-DD")


def parse_interval(text: str) -> tuple[str, str]:
    """The start and end of 'A' or 'A/B' (ISO 8601 dates); start and end are equal for a single date.

    :raises ValueError: if a part is not a date or the interval ends before it starts.
    """
    start, _, end = text.partition("/")
    parse_date(start)
    if end:
        parse_date(end)
        if end[: len(start)] < start[: len(end)]:
            raise ValueError(f"interval {text!r} ends before it starts")
    return start, end or start


class _Reader:
    """Collects errors while reading, so one run reports them all."""

    def __init__(self, root: Path, vocab: Vocabulary) -> None:
        self.root = root
        self.vocab = vocab
        self.errors: list[InputError] = []

    def error(self, message: str, location: Location | None, hint: str = "") -> None:
        self.errors.append(InputError(message, location, hint=hint))

    def load(self, path: Path) -> Any:
        try:
            return yamlio.load(path)
        except InputError as exc:
            self.errors.append(exc)
            return None

    def mapping(self, value: Any, what: str, location: Location) -> YMap | None:
        if isinstance(value, YMap):
            return value
        self.error(f"{what} must be a mapping of keys to values", getattr(value, "location", location))
        return None

    def keys(self, item: YMap, what: str, required: Iterable[str], optional: Iterable[str]) -> bool:
        """Check a mapping's keys; unknown keys get a suggestion, missing ones an error."""
        required, allowed = set(required), set(required) | set(optional)
        ok = True
        for key in item:
            if key not in allowed:
                self.error(f"unknown key {key!r} in {what}", key.location, suggest(key, allowed))
                ok = False
        for key in sorted(required - set(item)):
            self.error(f"{what} has no {key!r}", item.location)
            ok = False
        return ok

    def text(self, item: YMap, key: str, default: str = "") -> str:
        value = item.get(key, default)
        if isinstance(value, YStr) or value == default:
            return str(value)
        self.error(f"{key!r} must be a single text value", value.location)
        return default


def load_ledger(root: Path, *, vocab: Vocabulary | None = None) -> Ledger:
    """Read `sources.yaml`, `entities.yaml` and `claims/*.yaml` under `root`, check and anchor them
    (and note the imported datasets in `imports/*.nq`).

    :raises InputErrors: listing every problem found, each with file and line.
    """
    reader = _Reader(root, vocab or vocabulary())
    agents, works, documents = _read_sources(reader, root / "sources.yaml")
    entities = _read_entities(reader, root / "entities.yaml", agents)
    claims = _read_claims(reader, root / "claims", documents, agents, entities)
    if reader.errors:
        raise InputErrors(reader.errors)
    ledger = Ledger(root, agents, works, documents, entities, claims, sorted((root / "imports").glob("*.nq")))
    _anchor_claims(reader, ledger)
    if reader.errors:
        raise InputErrors(reader.errors)
    return ledger


# ----------------------------------------------------------------------------------------------------
# sources.yaml
# ----------------------------------------------------------------------------------------------------


def _read_sources(reader: _Reader, path: Path) -> tuple[dict[str, Agent], dict[str, Work], dict[str, Document]]:
    agents: dict[str, Agent] = {}
    works: dict[str, Work] = {}
    documents: dict[str, Document] = {}
    top = reader.load(path)
    if top is None:
        if not reader.errors:
            reader.error("sources file is empty", Location(path))
        return agents, works, documents
    top = reader.mapping(top, "the sources file", Location(path))
    if top is None or not reader.keys(top, "the sources file", ["works", "documents"], ["agents"]):
        return agents, works, documents

    for key, item in (top.get("agents") or YMap()).items():
        if not _check_id(reader, key) or (item := reader.mapping(item, f"agent {key!r}", key.location)) is None:
            continue
        if not reader.keys(item, f"agent {key!r}", ["a", "label"], ["note"]):
            continue
        kind = reader.text(item, "a")
        if kind not in AGENT_CLASSES:
            reader.error(f"agent {key!r}: 'a' must be Person or Organization, not {kind!r}", item["a"].location)
        agents[key] = Agent(key, kind, reader.text(item, "label"), reader.text(item, "note"), key.location)

    for key, item in (top.get("works") or YMap()).items():
        if not _check_id(reader, key) or (item := reader.mapping(item, f"work {key!r}", key.location)) is None:
            continue
        optional = ["publisher", "issued", "year_context", "year_context_note", "note"]
        if not reader.keys(item, f"work {key!r}", ["title", "creator"], optional):
            continue
        creator = reader.text(item, "creator")
        if creator not in agents:
            reader.error(
                f"work {key!r}: unknown creator {creator!r}", item["creator"].location, suggest(creator, set(agents))
            )
        for date_key in ("issued", "year_context"):
            if date_key in item:
                _check_date(reader, item[date_key], f"work {key!r}: {date_key}")
        works[key] = Work(
            key,
            reader.text(item, "title"),
            creator,
            reader.text(item, "publisher"),
            reader.text(item, "issued"),
            reader.text(item, "year_context"),
            " ".join(filter(None, [reader.text(item, "note"), reader.text(item, "year_context_note")])),
            key.location,
        )

    for key, item in (top.get("documents") or YMap()).items():
        if (item := reader.mapping(item, f"document {key!r}", key.location)) is None:
            continue
        optional = ["publisher", "issued", "note", "work", "passages"]
        if not reader.keys(item, f"document {key!r}", ["file", "title"], optional):
            continue
        if "issued" in item:
            _check_date(reader, item["issued"], f"document {key!r}: issued")
        doc_path = (path.parent / reader.text(item, "file")).resolve()
        try:
            text = yamlio.read_text(doc_path)
        except InputError as exc:
            reader.error(f"document {key!r}: {exc.message} ({exc.location})", item["file"].location, exc.hint)
            continue
        passages = _read_passages(reader, key, item, text, works)
        document = Document(
            key,
            doc_path,
            reader.text(item, "file"),
            text,
            reader.text(item, "title"),
            reader.text(item, "publisher"),
            reader.text(item, "issued"),
            reader.text(item, "note"),
            passages,
            key.location,
        )
        document.index = Index(text)
        documents[key] = document
    return agents, works, documents


def _read_passages(reader: _Reader, key: str, item: YMap, text: str, works: dict[str, Work]) -> list[Passage]:
    if ("work" in item) == ("passages" in item):
        reader.error(f"document {key!r} needs exactly one of 'work' (whole document) or 'passages'", item.location)
        return []
    if "work" in item:
        specs = [(reader.text(item, "work"), item["work"].location, "all")]
    else:
        specs = []
        for passage in item["passages"] if isinstance(item["passages"], YList) else []:
            if (passage := reader.mapping(passage, "a passage", item.location)) is None:
                continue
            if reader.keys(passage, f"a passage of {key!r}", ["lines", "work"], []):
                specs.append((reader.text(passage, "work"), passage.location, reader.text(passage, "lines")))
    total = len(text.splitlines())
    passages = []
    for work, location, lines in specs:
        if work not in works:
            reader.error(f"document {key!r}: unknown work {work!r}", location, suggest(work, set(works)))
            continue
        if lines == "all":
            passages.append(Passage(work, 0, len(text), f"1-{total}"))
            continue
        match = re.fullmatch(r"(\d+)-(\d+)", lines)
        if not match or not 1 <= int(match[1]) <= int(match[2]) <= total:
            reader.error(f"document {key!r}: lines {lines!r} must be 'first-last' within 1-{total}", location)
            continue
        start, end = line_span(text, int(match[1]), int(match[2]))
        passages.append(Passage(work, start, end, lines))
    return passages


# ----------------------------------------------------------------------------------------------------
# entities.yaml
# ----------------------------------------------------------------------------------------------------


def _check_id(reader: _Reader, key: YStr, pattern: re.Pattern[str] = ID_PATTERN) -> bool:
    if pattern.fullmatch(key):
        return True
    reader.error(f"id {key!r} must be lower case letters, digits and '-'", key.location)
    return False


def _check_date(reader: _Reader, value: Any, what: str) -> None:
    try:
        parse_date(str(value))
    except ValueError as exc:
        reader.error(f"{what}: {exc}", getattr(value, "location", None))


def _read_entities(reader: _Reader, path: Path, agents: dict[str, Agent]) -> dict[str, Entity]:
    entities: dict[str, Entity] = {}
    top = reader.load(path)
    if top is None or (top := reader.mapping(top, "the entities file", Location(path))) is None:
        return entities
    raw: list[tuple[YStr, YMap]] = []
    for key, item in top.items():
        if not _check_id(reader, key) or (item := reader.mapping(item, f"entity {key!r}", key.location)) is None:
            continue
        if key in agents:
            reader.error(f"entity {key!r} is also an agent in sources.yaml", key.location)
            continue
        if reader.vocab.kind(key):
            reader.error(f"entity id {key!r} is also an ontology term; choose another id", key.location)
            continue
        raw.append((key, item))
    known = {key for key, _ in raw} | set(agents)
    for key, item in raw:
        if (entity := read_entity(reader, key, item, known)) is not None:
            entities[key] = entity
    codes: dict[int, Entity] = {}
    for entity in entities.values():
        for prop in entity.properties:
            if prop.predicate == "cowCode":
                code = int(prop.object.text)
                if code in codes:
                    first = codes[code]
                    reader.error(
                        f"entities {first.id!r} and {entity.id!r} have the same COW code {code} "
                        f"(first at {first.location}); a state is one entity",
                        prop.location,
                    )
                codes.setdefault(code, entity)
    return entities


def read_entity(reader: _Reader, key: YStr, item: YMap, known: set[str]) -> Entity | None:
    """One entity description: its classes, label and properties (values resolved against `known`)."""
    if "a" not in item or "label" not in item:
        reader.error(f"entity {key!r} needs 'a' (its class) and 'label'", item.location)
        return None
    types = [t for t in _as_list(item["a"]) if _check_class(reader, t)]
    properties = [
        statement
        for prop, value in item.items()
        if prop not in ("a", "label", "note")
        for v in _as_list(value)
        if (statement := _statement(reader, key, prop, v, known, prop.location)) is not None
    ]
    return Entity(key, types, reader.text(item, "label"), properties, key.location)


def read_statements(reader: _Reader, raw_statements: Any, known: set[str], label: str) -> list[Statement]:
    """A claim's `statements`: [subject, predicate, object] lists resolved against the vocabulary."""
    if not isinstance(raw_statements, YList) or not raw_statements:
        reader.error(f"{label}: 'statements' must be a non-empty list", getattr(raw_statements, "location", None))
        return []
    statements = []
    for raw in raw_statements:
        if not isinstance(raw, YList) or len(raw) != 3 or not all(isinstance(x, YStr) for x in raw):
            reader.error(f"{label}: a statement is [subject, predicate, object]", raw.location)
            continue
        subject, predicate, obj = raw
        if subject not in known:
            reader.error(f"{label}: unknown entity {subject!r}", subject.location, suggest(subject, known))
            continue
        if (statement := _statement(reader, subject, predicate, obj, known, raw.location)) is not None:
            statements.append(statement)
    return statements


def _as_list(value: Any) -> list[YStr]:
    return list(value) if isinstance(value, YList) else [value]


def _check_class(reader: _Reader, name: Any) -> bool:
    if isinstance(name, YStr) and (name in reader.vocab.classes or name in AGENT_CLASSES):
        return True
    reader.error(
        f"unknown class {name!r}",
        getattr(name, "location", None),
        suggest(str(name), reader.vocab.classes | set(AGENT_CLASSES)),
    )
    return False


def _statement(
    reader: _Reader, subject: str, predicate: YStr, obj: Any, known: set[str], location: Location
) -> Statement | None:
    """Resolve one [subject, predicate, object] against the vocabulary and the known entity ids."""
    vocab = reader.vocab
    if not isinstance(obj, YStr):
        reader.error(f"the object of {predicate!r} must be a single value", getattr(obj, "location", location))
        return None
    if predicate == "a":
        return Statement(subject, "a", Value("class", obj), location) if _check_class(reader, obj) else None
    kind = vocab.kind(predicate)
    if kind == "datatype":
        return _literal_statement(reader, subject, predicate, obj, location)
    if kind != "object":
        properties = vocab.object_properties | vocab.datatype_properties
        reader.error(f"unknown property {predicate!r}", predicate.location, suggest(predicate, properties | {"a"}))
        return None
    if obj in known:
        value = Value("entity", obj)
    elif obj in vocab.individuals:
        value = Value("individual", obj)
    elif obj in vocab.classes:
        value = Value("class", obj)
    else:
        hint = suggest(obj, frozenset(known) | vocab.individuals | vocab.classes)
        reader.error(f"unknown entity or term {obj!r} (object of {predicate!r})", obj.location, hint)
        return None
    return Statement(subject, str(predicate), value, location)


def _literal_statement(
    reader: _Reader, subject: str, predicate: str, obj: YStr, location: Location
) -> Statement | None:
    datatype = ""
    if predicate in DATE_PROPERTIES:
        try:
            _, datatype = parse_date(obj)
        except ValueError as exc:
            reader.error(f"{predicate}: {exc}", obj.location)
            return None
    elif (range_ := reader.vocab.ranges.get(predicate)) is not None:
        datatype = str(range_).rsplit("#", 1)[1]
        if datatype == "integer" and not re.fullmatch(r"-?[0-9]+", obj):
            reader.error(f"{predicate} must be a whole number, not {obj!r}", obj.location)
            return None
        if datatype == "string":
            datatype = ""
    return Statement(subject, predicate, Value("literal", obj, datatype), location)


# ----------------------------------------------------------------------------------------------------
# claims/*.yaml
# ----------------------------------------------------------------------------------------------------

_CLAIM_KEYS = ["id", "quote", "attribution", "modality", "statements"]
_CLAIM_OPTIONAL = ["when", "when_text", "note"]


def _read_claims(
    reader: _Reader,
    folder: Path,
    documents: dict[str, Document],
    agents: dict[str, Agent],
    entities: dict[str, Entity],
) -> dict[str, Claim]:
    claims: dict[str, Claim] = {}
    if not folder.is_dir():
        reader.error("no claims folder", Location(folder))
        return claims
    known = set(entities) | set(agents)
    speakers = set(agents) | {k for k, e in entities.items() if set(e.types) & set(AGENT_CLASSES)}
    for path in sorted(folder.glob("*.yaml")):
        top = reader.load(path)
        if top is None or (top := reader.mapping(top, "a claims file", Location(path))) is None:
            continue
        if not reader.keys(top, "the claims file", ["source", "claims"], []):
            continue
        source = reader.text(top, "source")
        if source not in documents:
            reader.error(f"unknown source document {source!r}", top["source"].location, suggest(source, set(documents)))
            continue
        if not isinstance(top["claims"], YList):
            reader.error("'claims' must be a list", top["claims"].location)
            continue
        for item in top["claims"]:
            claim = _read_claim(reader, item, source, known, speakers)
            if claim is None:
                continue
            if claim.id in claims:
                first = claims[claim.id].location
                reader.error(f"duplicate claim id {claim.id!r} (first at {first})", claim.location)
                continue
            claims[claim.id] = claim
    return claims


def _read_claim(reader: _Reader, item: Any, source: str, known: set[str], speakers: set[str]) -> Claim | None:
    if (item := reader.mapping(item, "a claim", Location("?"))) is None:
        return None
    label = f"claim {item.get('id', '(no id)')!s}"
    if not reader.keys(item, label, _CLAIM_KEYS, _CLAIM_OPTIONAL):
        return None
    claim_id = item["id"]
    if not isinstance(claim_id, YStr) or not _check_id(reader, claim_id, CLAIM_ID_PATTERN):
        return None
    quote = reader.text(item, "quote").strip()
    if not quote:
        reader.error(f"{label}: empty quote", item["quote"].location)
    attribution = reader.text(item, "attribution")
    if attribution != "author" and attribution not in speakers:
        hint = suggest(attribution, speakers | {"author"})
        reader.error(
            f"{label}: attribution must be 'author' or a person or group id, not {attribution!r}",
            item["attribution"].location,
            hint,
        )
    modality = reader.text(item, "modality")
    if modality not in MODALITIES:
        reader.error(
            f"{label}: modality must be one of {', '.join(MODALITIES)}, not {modality!r}",
            item["modality"].location,
            suggest(modality, set(MODALITIES)),
        )
    when = reader.text(item, "when")
    if when:
        try:
            parse_interval(when)
        except ValueError as exc:
            reader.error(f"{label}: when: {exc}", item["when"].location)
    statements = read_statements(reader, item["statements"], known, label)
    return Claim(
        id=str(claim_id),
        document=source,
        quote=quote,
        attribution=attribution,
        modality=modality,
        when=when,
        when_text=reader.text(item, "when_text"),
        statements=statements,
        note=reader.text(item, "note"),
        location=item.location,
    )


def _anchor_claims(reader: _Reader, ledger: Ledger) -> None:
    """Find each claim's quote in its own document, then in every other copy of the same work."""
    for claim in ledger.claims.values():
        own = ledger.documents[claim.document]
        found = own.index.find_all(claim.quote)
        if not found:
            reader.error(
                f"claim {claim.id!r}: quote not found in {own.file}",
                claim.location,
                "copy the quote verbatim from the source; whitespace and quotation marks may differ",
            )
            continue
        if len(found) > 1:
            reader.error(
                f"claim {claim.id!r}: quote occurs {len(found)} times in {own.file}; quote more to make it unique",
                claim.location,
            )
            continue
        work = own.work_at(found[0].start)
        if work is None:
            reader.error(f"claim {claim.id!r}: quote lies outside every passage of {own.file}", claim.location)
            continue
        claim.work = work
        claim.anchors.append(ClaimAnchor(own.id, found[0]))
        for other in ledger.documents.values():
            if other.id == own.id:
                continue
            for passage in other.passages:
                if passage.work == work:
                    hits = other.index.find_all(claim.quote, start=passage.start, end=passage.end)
                    if hits:
                        claim.anchors.append(ClaimAnchor(other.id, hits[0]))
                        break
