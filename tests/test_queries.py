"""The query library, parameters as RDF terms, result formats, and the quality checks run by build."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

import allygraph
from allygraph.cli import main
from allygraph.errors import InputError
from allygraph.query import check_local, library, load_query, run

REPO = Path(__file__).resolve().parent.parent
QUERIES = REPO / "queries"
MINI = Path(__file__).resolve().parent / "data" / "mini"


@pytest.fixture(scope="session")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = tmp_path_factory.mktemp("corpus-project")
    shutil.copytree(REPO / "data", project / "data")
    (project / "allygraph.toml").write_text('[allygraph]\ndata = "data"\nout = "build"\n', encoding="utf-8")
    allygraph.build(project / "data", project / "build")
    return project


def rows(corpus: Path, name: str, *params: str) -> list[dict[str, str]]:
    results = run(allygraph.open_store(corpus / "build"), load_query(name), list(params))
    names = [v.value for v in results.variables]  # type: ignore[attr-defined]
    return [{n: (s[n].value if s[n] is not None else "") for n in names} for s in results]  # type: ignore[attr-defined]


def test_every_query_documents_itself_and_is_listed() -> None:
    readme = (QUERIES / "README.md").read_text(encoding="utf-8")
    files = sorted(QUERIES.glob("*.rq")) + sorted((QUERIES / "qc").glob("*.rq"))
    assert len(list(QUERIES.glob("*.rq"))) >= 10  # one per competency question of DOMAIN.md §6
    for path in files:
        header = "".join(line for line in path.read_text(encoding="utf-8").splitlines(True) if line.startswith("#"))
        assert header, path
        assert f"`{path.name}`" in readme, path
        if path.parent == QUERIES:
            assert "Parameters:" in header and "Columns" in header, path
    assert all(p.name.endswith("-violation.rq") for p in (QUERIES / "qc").glob("*.rq"))


def test_every_query_runs_on_the_corpus(corpus: Path) -> None:
    for name in library():
        rows(corpus, name)  # no syntax error, no unbound-parameter error


def test_relationships_meeting_a_definition(corpus: Path) -> None:
    found = rows(corpus, "relationships-meeting-definition", "definition=valdai", "view=source:004_7e0a52477b7e2d2d")
    outcome = {r["relationship"].rsplit("/", 1)[1]: r["outcome"] for r in found}
    assert outcome["iran-russia-syria"] == "does-not-meet"
    assert {r["view"] for r in found} == {"source:004_7e0a52477b7e2d2d"}


def test_disagreements_name_the_claims_on_both_sides(corpus: Path) -> None:
    found = rows(corpus, "disagreements")
    pairs = {(r["supporting"], r["contradicting"]) for r in found if r["relationship"].endswith("/iran-russia")}
    assert ("azizi-countering-us-through-iran", "club-threat-non-governmental") in pairs


def test_events_come_in_date_order_per_source(corpus: Path) -> None:
    found = rows(corpus, "events-by-source")
    for source in {r["source"] for r in found}:
        dates = [r["date"] for r in found if r["source"] == source]
        assert dates == sorted(dates)
    assert ("002_cc0add0a45bd4355", "2018-01-10") in {(r["source"], r["date"]) for r in found}


def test_reported_speech_is_told_apart(corpus: Path) -> None:
    found = rows(corpus, "claims-by-attribution")
    reported = {r["claim"]: r["speaker"] for r in found if r["attribution"] == "reportedSpeech"}
    assert reported and all(reported.values())
    assert any("Zarif" in speaker for speaker in reported.values())


def test_copies_of_a_work_count_once(corpus: Path) -> None:
    found = rows(corpus, "works-per-criterion", "definition=valdai", "view=all")
    (row,) = [
        r
        for r in found
        if r["relationship"].endswith("/russia-china") and r["criterion"].endswith("#AgainstStateThreat")
    ]
    assert row["works"] == "1"  # Azizi's article, carried by 000, 001 and 003


def test_parameters_are_terms_not_text(corpus: Path) -> None:
    hostile = 'view=all" } UNION { ?c ?p ?o } #'
    assert rows(corpus, "relationships-meeting-definition", "definition=valdai", hostile) == []


def test_iri_parameters(corpus: Path) -> None:
    found = rows(corpus, "agreements-between", "first=id:state/630", "second=id:state/365")
    assert {r["atopId"] for r in found} >= {"4968"}


@pytest.mark.parametrize(
    "text",
    [
        "SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }",
        "SELECT * WHERE {\n  service\t<file:///etc/passwd> { ?s ?p ?o } }",
    ],
)
def test_queries_never_reach_outside(text: str) -> None:
    with pytest.raises(InputError, match="SERVICE is refused"):
        check_local(text)


def test_keywords_inside_strings_and_iris_are_fine() -> None:
    check_local('SELECT * WHERE { ?s <http://example.org/SERVICE> "LOAD" } # SERVICE in a comment')


@pytest.mark.parametrize("fmt", ["csv", "tsv", "json", "xml", "table"])
def test_result_formats(corpus: Path, fmt: str, capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    code = main(["query", "disagreements", "--format", fmt, "--project", str(corpus), "--quiet"])
    assert code == 0
    out = capsysbinary.readouterr().out.decode("utf-8")
    if fmt == "json":
        bindings = json.loads(out)["results"]["bindings"]
        assert bindings and "relationship" in bindings[0]
    elif fmt == "xml":
        root = ElementTree.fromstring(out)
        assert root.tag.endswith("sparql")
    elif fmt == "csv":
        header = next(csv.reader(io.StringIO(out)))
        assert header[0] == "relationship"
    elif fmt == "tsv":
        assert out.splitlines()[0].split("\t")[0] == "?relationship"
    else:
        assert re.search(r"\(\d+ rows?\)", out)


def test_unknown_query_suggests_the_nearest(corpus: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["query", "disagreement", "--project", str(corpus), "--quiet"]) == 2
    assert "did you mean 'disagreements'" in capsys.readouterr().err


def test_quality_check_failure_stops_the_build(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ledger = shutil.copytree(MINI, tmp_path / "mini")
    claims = ledger / "claims" / "alpha.yaml"
    claims.write_text(
        claims.read_text(encoding="utf-8")
        + "  - id: ann-not-long-term\n"
        + '    quote: "the pact is meant to last for decades"\n'
        + "    attribution: author\n"
        + "    modality: denied\n"
        + "    statements:\n"
        + "      - [freedonia-sylvania, hasInstitutionalBasis, joint-command]\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    assert main(["build", "--project", str(ledger), "--out", str(out), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "self-contradiction-violation.rq" in err
    assert "claims/alpha.yaml" in err
    assert not (out / "current").exists()


SLOW = "SELECT (COUNT(*) AS ?n) WHERE { " + " ".join(f"GRAPH ?g{i} {{ ?s{i} ?p{i} ?o{i} }}" for i in range(5)) + " }"


def test_a_query_past_its_timeout_is_stopped(corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    slow = tmp_path / "slow.rq"
    slow.write_text(SLOW, encoding="utf-8")
    code = main(["query", str(slow), "--timeout", "1", "--project", str(corpus)])
    out, err = capsys.readouterr()
    assert code == 2
    assert "ran past 1 s and was stopped" in err
    assert out == ""  # never a partial result


def test_results_past_the_byte_cap_are_refused_not_truncated(corpus: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["query", "claims-by-attribution", "--max-bytes", "100", "--project", str(corpus)])
    out, err = capsys.readouterr()
    assert code == 2
    assert "pass 100 bytes" in err and out == ""
    assert main(["query", "claims-by-attribution", "--project", str(corpus), "-q"]) == 0
    assert len(capsys.readouterr().out.encode()) > 100


def test_from_clauses_read_no_file_and_open_no_connection(
    corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import socket
    import threading

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(3)
    hits: list[int] = []

    def accept() -> None:
        try:
            listener.accept()[0].close()
            hits.append(1)
        except OSError:
            pass

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    secret = tmp_path / "secret.ttl"
    secret.write_text("<urn:a> <urn:b> <urn:leaked> .\n", encoding="utf-8")
    query = tmp_path / "from.rq"
    port = listener.getsockname()[1]
    query.write_text(
        f"SELECT ?o FROM <{secret.as_uri()}> FROM NAMED <http://127.0.0.1:{port}/data> "
        "WHERE { { ?s ?p ?o } UNION { GRAPH ?g { ?s ?p ?o } } }",
        encoding="utf-8",
    )
    code = main(["query", str(query), "--format", "csv", "--project", str(corpus)])
    out, _err = capsys.readouterr()
    thread.join(timeout=5)
    listener.close()
    assert code == 0
    assert "leaked" not in out and out.strip() == "o"  # the FROM IRIs name graphs of the store; none exist
    assert hits == []


def test_criteria_without_evidence_are_listed_though_the_results_leave_their_checks_out(corpus: Path) -> None:
    found = rows(corpus, "criteria-of-relationship", "relationship=id:russia-china", "definition=valdai", "view=all")
    status = {r["criterion"]: r["status"] for r in found}
    # three criteria, D-VALDAI's, one each; no claim bears on the long-term one (DOMAIN.md: russia-china)
    assert len(status) == 3 and list(status.values()).count("no-evidence") == 1
    assert all(r["claim"] == "" for r in found if r["status"] == "no-evidence")
    store = allygraph.open_store(corpus / "build")
    no_evidence = "https://w3id.org/allygraph/results#noEvidence"
    status = "https://w3id.org/allygraph/results#status"
    written = store.query(f"ASK {{ GRAPH ?g {{ ?check <{status}> <{no_evidence}> }} }}")
    assert not bool(written)  # nothing overridden in the corpus: no no-evidence check is written
