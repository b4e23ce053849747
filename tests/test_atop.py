"""`allygraph import atop`: ATOP CSV files as ledger RDF, classified by the same engines as the articles.

The fixture `tests/data/atop/` is written by hand (see tests/data/README.md); the expected outcomes below
were worked out by hand from its rows with the rules of issue 5, not by running the code.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

import allygraph
from allygraph.atop import read_atop
from allygraph.errors import InputError, InputErrors
from allygraph.query import load_query, run
from conftest import MINI, REPO, Result, snapshot

FIXTURE = Path(__file__).resolve().parent / "data" / "atop"
REAL = REPO.parent / "shared" / "data" / "atop-v4"

# atopid -> (D-VALDAI outcome, its three criteria, D-ATOP outcome), by hand from alliances.csv
# (the file covers up to 2010, so endyr 0 counts as 2010):
EXPECTED = {
    # statthr1 9003; organ1 1, milinst 2; in effect 1990-2010: 20 years
    1001: ("meets", ("holds", "holds", "holds"), "meets"),
    # statthr 0/0; organ1 0, milinst 0; length 24, 2000-2002
    1002: ("does-not-meet", ("fails", "fails", "fails"), "meets"),
    # statthr1 missing (statthr2 0): unknown; milinst 1; 2005-2010: 5 years
    1003: ("undetermined", ("no-evidence", "holds", "holds"), "meets"),
    # statthr1 9003; organ1 missing, milinst 0: unknown; length 60 (though it lasted one year)
    1004: ("undetermined", ("holds", "no-evidence", "holds"), "meets"),
    # statthr2 9001; organ1 2; length 0 and 2010-2010: not long-term
    1005: ("does-not-meet", ("holds", "holds", "fails"), "meets"),
    # nothing holds for D-VALDAI; defense missing, every other pledge 0: D-ATOP cannot tell
    1006: ("does-not-meet", ("fails", "fails", "fails"), "undetermined"),
}
VALDAI_CRITERIA = ("AgainstStateThreat", "InstitutionallyBased", "LongTermRelationship")


def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    shutil.copytree(MINI, root / "data")
    (root / "allygraph.toml").write_text('[allygraph]\ndata = "data"\nout = "build"\n', encoding="utf-8")
    return root


def import_args(root: Path, folder: Path = FIXTURE, *extra: str) -> list[object]:
    return [
        "import",
        "atop",
        "--project",
        root,
        "--alliances",
        folder / "alliances.csv",
        "--members",
        folder / "members.csv",
        "--states",
        folder / "states.csv",
        "-q",
        *extra,
    ]


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = project(tmp_path_factory.mktemp("atop"))
    assert allygraph.cli.main([str(a) for a in import_args(root)]) == 0
    return root


def classifications(root: Path, *definitions: str, engine: str = "sparql") -> list[dict]:  # type: ignore[type-arg]
    store = allygraph.open_store(root / "build")
    return allygraph.classify(store, names=definitions or None, views=["all"], engine=engine).as_json()


def test_every_agreement_is_a_relationship_with_its_atop_id(imported: Path) -> None:
    found = {c["atop_id"]: c for c in classifications(imported, "valdai") if "atop_id" in c}
    assert set(found) == set(EXPECTED)
    assert found[1006]["participants"] == ["FRE", "MAR", "SYL"]
    corpus = [c for c in classifications(imported, "valdai") if "atop_id" not in c]
    assert [c["label"] for c in corpus] == ["Freedonia–Sylvania"]  # the ledger's own relationship is still there


@pytest.mark.parametrize("atopid", sorted(EXPECTED))
def test_valdai_and_atop_on_treaty_data(imported: Path, atopid: int) -> None:
    valdai, statuses, atop = EXPECTED[atopid]
    rows = {(c["definition"]): c for c in classifications(imported, "valdai", "atop") if c.get("atop_id") == atopid}
    assert rows["valdai"]["outcome"] == valdai
    got = {k["criterion"]: k["status"] for k in rows["valdai"]["criteria"]}
    assert tuple(got[name] for name in VALDAI_CRITERIA) == statuses
    assert rows["atop"]["outcome"] == atop
    for check in rows["valdai"]["criteria"]:  # the evidence is the agreement's own record
        if check["status"] in ("holds", "fails"):
            assert check["evidence"] == [f"atop-{atopid}"]


def test_missing_values_stay_unknown(imported: Path) -> None:
    """An empty cell writes nothing: no 0, no false (1003 has no statthr1, 1004 no organ1)."""
    store = allygraph.open_store(imported / "build")
    ask = "ASK {{ GRAPH ?g {{ <https://w3id.org/allygraph/id/atop/{}> <https://w3id.org/allygraph/ontology#{}> ?v }} }}"
    assert not bool(store.query(ask.format(1003, "firstThreateningStateCode")))
    assert bool(store.query(ask.format(1003, "secondThreateningStateCode")))
    assert not bool(store.query(ask.format(1004, "organisationCode")))
    assert bool(store.query(ask.format(1004, "militaryInstitutionalisation")))


def test_provenance_names_dataset_version_file_and_line(imported: Path) -> None:
    store = allygraph.open_store(imported / "build")
    query = """
        PREFIX ag: <https://w3id.org/allygraph/ontology#>
        PREFIX prov: <http://www.w3.org/ns/prov#>
        PREFIX dct: <http://purl.org/dc/terms/>
        SELECT ?file ?line ?title WHERE {
          GRAPH ?p { <https://w3id.org/allygraph/id/claim/atop-1004/assertion> prov:wasDerivedFrom ?row ;
                     ag:fromWork ?work . ?row ag:mediaFile ?file ; ag:line ?line }
          GRAPH ?e { ?work dct:title ?title } }"""
    (row,) = list(store.query(query))
    lines = (FIXTURE / "alliances.csv").read_text().splitlines()
    assert row["file"].value == "alliances.csv"
    assert lines[int(row["line"].value) - 1].startswith("1004,")
    assert "4.01" in row["title"].value


def test_states_share_the_ledger_iris(imported: Path) -> None:
    """Members are the same state IRIs the ledger's claims use (by COW code), not new ones."""
    found = {c["atop_id"]: c for c in classifications(imported, "valdai") if "atop_id" in c}
    store = allygraph.open_store(imported / "build")
    query = """SELECT ?label WHERE { GRAPH ?g { <https://w3id.org/allygraph/id/state/9001>
               <http://www.w3.org/2000/01/rdf-schema#label> ?label } }"""
    assert {r["label"].value for r in store.query(query)} == {"Freedonia", "FRE"}
    assert found[1001]["participants"] == ["FRE", "SYL"]


def test_cross_check_query_lists_agreements_and_the_articles(imported: Path) -> None:
    store = allygraph.open_store(imported / "build")
    results = run(store, load_query("agreements-between"), ["first=id:state/9001", "second=id:state/9002"])
    rows = [{v.value: (s[v.value].value if s[v.value] else "") for v in results.variables} for s in results]
    treaty = {r["atopId"]: (r["atop"], r["valdai"]) for r in rows if r["basis"] == "treaty data"}
    assert treaty == {
        "1001": ("meets", "meets"),
        "1004": ("meets", "undetermined"),
        "1006": ("undetermined", "does-not-meet"),
    }
    articles = [r for r in rows if r["basis"] == "articles"]
    assert [r["label"] for r in articles] == ["Freedonia–Sylvania"]


@pytest.mark.parametrize("engine", ["sparql", pytest.param("hermit", marks=pytest.mark.slow)])
def test_every_pledge_coded_0_fails_atop(tmp_path: Path, engine: str) -> None:
    """1006 with its missing defence pledge coded 0 has no pledge at all: ¬∃hasPledge.Pledge follows from
    a negative assertion for each of Pledge's five members (and, with no institutions, from no other basis)."""
    folder = tmp_path / "atop"
    shutil.copytree(FIXTURE, folder)
    alliances = folder / "alliances.csv"
    text = alliances.read_text(encoding="utf-8")
    assert "\n1006,1995,1996,,0," in text
    alliances.write_text(text.replace("\n1006,1995,1996,,0,", "\n1006,1995,1996,0,0,"), encoding="utf-8")
    root = project(tmp_path)
    assert allygraph.cli.main([str(a) for a in import_args(root, folder)]) == 0
    (row,) = [c for c in classifications(root, "atop", engine=engine) if c.get("atop_id") == 1006]
    assert row["outcome"] == "does-not-meet"


@pytest.mark.slow
def test_hermit_agrees_on_treaty_data(imported: Path) -> None:
    def key(rows: list[dict]) -> dict:  # type: ignore[type-arg]
        return {
            (r["relationship"], r["definition"]): (r["outcome"], [c["status"] for c in r["criteria"]]) for r in rows
        }

    sparql = key(classifications(imported))  # every definition, not only the two issue 5 spells out
    hermit = key(classifications(imported, engine="hermit"))
    assert len(sparql) >= 7 * 7 and set(hermit) == set(sparql)  # seven definitions of every relationship
    assert {k: v for k, v in hermit.items() if v != sparql[k]} == {}


# ----------------------------------------------------------------------------------------------------
# Malformed files: file and line, and nothing written
# ----------------------------------------------------------------------------------------------------


def broken(tmp_path: Path, name: str, old: str, new: str) -> Path:
    folder = tmp_path / "atop"
    shutil.copytree(FIXTURE, folder)
    path = folder / name
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return folder


@pytest.mark.parametrize(
    ("name", "old", "new", "file", "line", "message"),
    [
        (
            "alliances.csv",
            "1002,2000,2002,0,0,1,0,0,0,0,0,0,0,24,",
            "1002,2000,2002,0,0,1,0,0,0,0,0,0,24,",
            "alliances.csv",
            3,
            "17 fields where the header has 18",
        ),
        (
            "alliances.csv",
            "1005,2010,0,1,0,0,0,1,1,0,9001,2",
            "1005,2010,0,1,0,0,0,1,1,0,9001,two",
            "alliances.csv",
            6,
            "organ1 must be a whole number, not 'two'",
        ),
        ("members.csv", "1004,9002,", "1004,9999,", "members.csv", 9, "member 9999 is not a state code"),
        ("members.csv", "1003,9003,", "1003,x9003,", "members.csv", 7, "member must be a whole number"),
        ("members.csv", "1006,9003,", "1007,9003,", "members.csv", 14, "atopid 1007 is not in alliances.csv"),
    ],
)
def test_malformed_rows_are_reported_and_nothing_is_written(
    tmp_path: Path, cli: Callable[..., Result], name: str, old: str, new: str, file: str, line: int, message: str
) -> None:
    root = project(tmp_path)
    assert cli(*import_args(root)).code == 0  # a good import and build first
    before = snapshot(root / "build")
    imported_file = (root / "data" / "imports" / "atop.nq").read_bytes()
    folder = broken(tmp_path, name, old, new)
    result = cli(*import_args(root, folder))
    assert result.code == 2
    assert f"{folder / file}:{line}: {message}" in result.stderr
    assert "nothing was written" in result.stderr
    assert (root / "data" / "imports" / "atop.nq").read_bytes() == imported_file
    assert snapshot(root / "build") == before


def test_unknown_states_can_be_allowed(tmp_path: Path) -> None:
    folder = broken(tmp_path, "members.csv", "1004,9002,", "1004,9999,")
    with pytest.raises(InputErrors):
        read_atop(folder / "alliances.csv", folder / "members.csv", folder / "states.csv")
    data = read_atop(folder / "alliances.csv", folder / "members.csv", folder / "states.csv", allow_unknown_states=True)
    assert 9999 in data.agreements[1004].members
    assert set(data.unknown_states) == {9999}


def test_import_refuses_the_bundled_corpus(
    cli: Callable[..., Result], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no allygraph.toml here or above
    args = import_args(tmp_path)
    args[args.index("--project") : args.index("--project") + 2] = []
    result = cli(*args)
    assert result.code == 2
    assert "your own project" in result.stderr


# ----------------------------------------------------------------------------------------------------
# The real ATOP 4.01 files (from ../shared, when present)
# ----------------------------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.skipif(not REAL.is_dir(), reason="the ATOP files of ../shared/data/atop-v4 are not here")
def test_real_atop_with_the_corpus(tmp_path: Path, cli: Callable[..., Result]) -> None:
    root = tmp_path / "corpus"
    shutil.copytree(REPO / "data", root / "data", ignore=shutil.ignore_patterns("imports"))
    (root / "allygraph.toml").write_text('[allygraph]\ndata = "data"\nout = "build"\n', encoding="utf-8")
    args = [
        "import", "atop", "--project", root, "--allow-unknown-states", "-q",
        "--alliances", REAL / "atop-alliance-level.csv",
        "--members", REAL / "atop-member-level.csv",
        "--states", REAL / "cow-state-codes.csv",
    ]  # fmt: skip
    result = cli(*args)
    assert result.code == 0, result.stderr
    assert "state code 626 is not in" in result.stderr  # South Sudan (2011) is past the state-codes file
    store = allygraph.open_store(root / "build")
    results = run(store, load_query("agreements-between"), ["first=id:state/630", "second=id:state/365"])
    rows = [{v.value: (s[v.value].value if s[v.value] else "") for v in results.variables} for s in results]
    treaty = {r["atopId"]: (r["year"], r["atop"], r["valdai"]) for r in rows if r["basis"] == "treaty data"}
    # by hand from the rows: 2195 (1927) neutrality and non-aggression, nothing else; 2550 (1942) names
    # Germany but has no institutions; 2555 (1942) names Germany, milinst 2, lasted four years; 4968
    # (2001) names no threat and has no institutions
    assert treaty == {
        "2195": ("1927", "meets", "does-not-meet"),
        "2550": ("1942", "meets", "does-not-meet"),
        "2555": ("1942", "meets", "does-not-meet"),
        "4968": ("2001", "meets", "does-not-meet"),
    }
    articles = {r["label"]: r["valdai"] for r in rows if r["basis"] == "articles"}
    assert articles["Iran–Russia relationship"] == "does-not-meet"
    listed = [
        c
        for c in json.loads(
            cli("classify", "--project", root, "--view", "all", "--definition", "atop", "--format", "json").stdout
        )
        if "atop_id" in c
    ]
    assert len(listed) == 745


def test_an_unclosed_quote_is_a_row_error_not_a_hang(tmp_path: Path) -> None:
    folder = broken(tmp_path, "alliances.csv", "1003,2005,0,", '1003,"2005,0,')
    with pytest.raises(InputErrors) as caught:
        read_atop(folder / "alliances.csv", folder / "members.csv", folder / "states.csv")
    assert f"{folder / 'alliances.csv'}:" in str(caught.value)


def test_oversized_csv_is_refused_before_reading(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import allygraph.atop as atop

    monkeypatch.setattr(atop, "MAX_CSV_BYTES", 100)  # the real cap is 512 MB; the rule is the same
    with pytest.raises(InputError, match="the limit is 100"):
        read_atop(FIXTURE / "alliances.csv", FIXTURE / "members.csv")


def test_explain_shows_the_record_behind_each_criterion(imported: Path, cli: Callable[..., Result]) -> None:
    result = cli("explain", "https://w3id.org/allygraph/id/atop/1004/relationship", "--project", imported)
    assert result.code == 0, result.stderr
    line = next(
        i for i, s in enumerate((FIXTURE / "alliances.csv").read_text().splitlines(), 1) if s.startswith("1004,")
    )
    assert (
        "supported by atop-1004 (asserted; Alliance Treaty Obligations and Provisions (ATOP) project; "
        f"alliances.csv:{line})" in result.stdout
    )
    assert f"from ATOP dataset, version 4.01, alliances.csv line {line}" in result.stdout
    assert "UNDETERMINED" in result.stdout
