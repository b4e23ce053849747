"""`allygraph init` (a new project that builds at once, then takes the user's own article) and
`allygraph docs` (every class and property documented; the definitions side by side)."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path

import pytest
from rdflib import Graph
from rdflib.namespace import OWL, RDF, RDFS, SKOS

from allygraph.definitions import load_definitions
from conftest import Result

AG = "https://w3id.org/allygraph/ontology#"
AGD = "https://w3id.org/allygraph/definitions#"

ARTICLE = "Westland and Eastland signed a defence treaty against Northland's army, to last fifty years.\n"
SOURCE = """
  westland-article:
    file: corpus/westland.txt
    title: A new pact
    work: westland-work
"""
WORK = """
  westland-work:
    title: A new pact
    creator: example-author
"""
ENTITIES = """
westland: {a: State, label: Westland, cowCode: "9911"}
eastland: {a: State, label: Eastland, cowCode: "9912"}
westland-eastland:
  a: Relationship
  label: Westland–Eastland
  hasParticipant: [westland, eastland]
northland-army:
  a: StateThreat
  label: Northland's army
  posedBy: northland
"""
CLAIMS = """source: westland-article
claims:
  - id: westland-threat
    quote: "signed a defence treaty against Northland's army"
    attribution: author
    modality: asserted
    statements:
      - [westland-eastland, directedAgainst, northland-army]
      - [westland-eastland, hasTimeHorizon, longTerm]
"""


def test_init_build_then_add_an_article(tmp_path: Path, cli: Callable[..., Result]) -> None:
    root = tmp_path / "mine"
    assert cli("init", root).code == 0
    assert (root / "README.md").read_text(encoding="utf-8").count("allygraph build") >= 1
    assert cli("build", "--project", root, "-q").code == 0  # the worked example builds as it is

    # the user's own article and claim, added the way the README says
    data = root / "data"
    (data / "corpus" / "westland.txt").write_text(ARTICLE, encoding="utf-8")
    sources = (data / "sources.yaml").read_text(encoding="utf-8")
    sources = sources.replace("documents:\n", "documents:" + SOURCE, 1).replace("works:\n", "works:" + WORK, 1)
    (data / "sources.yaml").write_text(sources, encoding="utf-8")
    with (data / "entities.yaml").open("a", encoding="utf-8") as handle:
        handle.write(ENTITIES)
    (data / "claims" / "westland.yaml").write_text(CLAIMS, encoding="utf-8")
    assert cli("build", "--project", root, "-q").code == 0
    result = cli("classify", "--project", root, "--view", "all", "--definition", "valdai", "--format", "json")
    outcomes = {c["label"]: c for c in json.loads(result.stdout)}
    checks = {k["criterion"]: k for k in outcomes["Westland–Eastland"]["criteria"]}
    assert checks["AgainstStateThreat"]["supporting"] == ["westland-threat"]
    assert checks["LongTermRelationship"]["status"] == "holds"
    assert outcomes["Westland–Eastland"]["outcome"] == "undetermined"  # no institutional basis claimed


def test_an_error_in_the_new_project_points_at_file_and_line(tmp_path: Path, cli: Callable[..., Result]) -> None:
    root = tmp_path / "mine"
    assert cli("init", root).code == 0
    claims = root / "data" / "claims" / "example.yaml"
    text = claims.read_text(encoding="utf-8").replace("directedAgainst", "directedAgianst")
    claims.write_text(text, encoding="utf-8")
    result = cli("build", "--project", root, "-q")
    assert result.code == 2
    line = next(i for i, s in enumerate(text.splitlines(), 1) if "directedAgianst" in s)
    assert re.search(rf"example\.yaml:{line}:\d+: .*directedAgianst", result.stderr)
    assert "directedAgainst" in result.stderr  # the nearest known term is suggested


def test_init_never_overwrites(tmp_path: Path, cli: Callable[..., Result]) -> None:
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine", encoding="utf-8")
    result = cli("init", tmp_path / "busy")
    assert result.code == 2
    assert "not an empty folder" in result.stderr
    assert [p.name for p in (tmp_path / "busy").iterdir()] == ["notes.txt"]


class _Anchors(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("id"):
            self.ids.add(values["id"] or "")
        if tag == "a" and values.get("href"):
            self.hrefs.append(values["href"] or "")


@pytest.fixture(scope="module")
def docs_page(tmp_path_factory: pytest.TempPathFactory) -> str:
    from allygraph.cli import main

    out = tmp_path_factory.mktemp("docs")
    assert main(["docs", "--out", str(out), "-q"]) == 0
    return (out / "index.html").read_text(encoding="utf-8")


def test_docs_document_every_term(docs_page: str) -> None:
    graph = Graph()
    for name in ("allygraph.ttl", "definitions.ttl"):
        graph.parse(Path(__file__).resolve().parent.parent / "ontology" / name, format="turtle")
    terms = {
        s
        for kind in (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.NamedIndividual)
        for s in graph.subjects(RDF.type, kind)
        if str(s).startswith((AG, AGD))
    }
    assert len(terms) > 100
    anchors = _Anchors()
    anchors.feed(docs_page)
    for term in terms:
        prefix = "ag-" if str(term).startswith(AG) else "agd-"
        local = str(term).split("#", 1)[1]
        assert f"{prefix}{local}" in anchors.ids, term
        definition = graph.value(term, SKOS.definition)
        if definition is not None:
            assert html.escape(str(definition)) in docs_page, term
        label = graph.value(term, RDFS.label)
        if label is not None:
            assert html.escape(str(label)) in docs_page
    missing = [h for h in anchors.hrefs if h.startswith("#") and h[1:] not in anchors.ids]
    assert missing == []
    assert "<script" not in docs_page and "http-equiv" not in docs_page  # a static page, nothing fetched


def test_docs_put_the_definitions_side_by_side(docs_page: str) -> None:
    definitions = load_definitions()
    table = docs_page[docs_page.index('id="definitions"') :]
    table = table[: table.index("</table>")]
    for definition in definitions.definitions.values():
        assert f'id="definition-{definition.name}"' in table
        for criterion in definition.criteria:
            assert html.escape(criterion.statement or criterion.label) in table
    assert "xsd:integer[≥ 60]" in docs_page  # the treaty-data thresholds, as the engines read them
