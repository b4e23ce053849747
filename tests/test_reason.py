"""Classification: definitions, views, four outcomes, evidence, the two engines, scenarios.

The expected outcomes below were worked out by hand from the fixture ledger `tests/data/defs` (see its
README entry) and from the corpus claims, not by running the code.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

import allygraph
from allygraph.assume import load_assumptions
from allygraph.definitions import load_definitions
from allygraph.errors import InputError
from allygraph.reason import classify, read_claims, with_assumptions
from conftest import MINE

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
DEFS = TESTS / "data" / "defs"
MINI = TESTS / "data" / "mini"
ID = "https://w3id.org/allygraph/id/"
D004 = "source:004_7e0a52477b7e2d2d"
AZIZI = "work:azizi-alliance-that-wasnt"


def _build(tmp_path_factory: pytest.TempPathFactory, data: Path, name: str) -> Path:
    out = tmp_path_factory.mktemp(name)
    allygraph.build(data, out)
    return out


@pytest.fixture(scope="session")
def defs_store(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    return allygraph.open_store(_build(tmp_path_factory, DEFS, "defs"))


@pytest.fixture(scope="session")
def corpus_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _build(tmp_path_factory, REPO / "data", "corpus")


@pytest.fixture(scope="session")
def corpus_store(corpus_out: Path):  # type: ignore[no-untyped-def]
    return allygraph.open_store(corpus_out)


def outcomes(result: allygraph.reason.Result) -> dict[tuple[str, str, str], str]:  # type: ignore[name-defined]
    return {(c.view, c.relationship.removeprefix(ID), c.definition.name): c.outcome for c in result.classifications}


def statuses(result, view: str, relationship: str, definition: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    (c,) = [
        c
        for c in result.classifications
        if (c.view, c.relationship, c.definition.name) == (view, ID + relationship, definition)
    ]
    return {k.criterion.name: k.status for k in c.checks}


# ----------------------------------------------------------------------------------------------------
# Fixtures: one relationship per outcome and per definition
# ----------------------------------------------------------------------------------------------------

# (relationship, definition) -> outcome in the `all` view, worked out by hand from tests/data/defs.
EXPECTED_ALL = {
    # Arden–Belmar: defence treaty (also a mutual security agreement) against Corvia, long-term, military.
    ("arden-belmar", "valdai"): "meets",
    ("arden-belmar", "azizi"): "meets",
    ("arden-belmar", "atop"): "meets",
    ("arden-belmar", "cow-1"): "meets",
    ("arden-belmar", "cow-2"): "does-not-meet",  # it has a defence pledge: a higher commitment
    ("arden-belmar", "cow-3"): "does-not-meet",
    ("arden-belmar", "walt"): "meets",
    # Arden–Dunmore: non-aggression pact, and the source denies any defence agreement.
    ("arden-dunmore", "cow-2"): "meets",
    ("arden-dunmore", "cow-1"): "does-not-meet",
    ("arden-dunmore", "atop"): "meets",
    ("arden-dunmore", "valdai"): "undetermined",
    # Belmar–Dunmore: consultation only, defence and neutrality agreements denied.
    ("belmar-dunmore", "cow-3"): "meets",
    ("belmar-dunmore", "cow-2"): "does-not-meet",
    # Arden against a rebel movement: one participant is not a state; non-state threat; short-term.
    ("arden-rebels", "valdai"): "does-not-meet",
    ("arden-rebels", "atop"): "does-not-meet",
    ("arden-rebels", "walt"): "does-not-meet",
    # Belmar–Corvia: source one says against Evaria's threat, source two denies any state target.
    ("belmar-corvia", "valdai"): "contested",
    # Corvia–Dunmore: only trade is known.
    ("corvia-dunmore", "valdai"): "undetermined",
    ("corvia-dunmore", "atop"): "undetermined",
    ("corvia-dunmore", "walt"): "does-not-meet",  # closed world on spheres: economic only
}


def test_fixture_outcomes_cover_every_outcome_and_definition() -> None:
    assert set(EXPECTED_ALL.values()) == {"meets", "does-not-meet", "undetermined", "contested"}
    met = {d for (_, d), o in EXPECTED_ALL.items() if o == "meets"}
    assert met == {"valdai", "azizi", "atop", "cow-1", "cow-2", "cow-3", "walt"}


def test_fixture_outcomes(defs_store) -> None:  # type: ignore[no-untyped-def]
    result = outcomes(classify(defs_store, views=["all"]))
    for (relationship, definition), expected in EXPECTED_ALL.items():
        assert result[("all", relationship, definition)] == expected, (relationship, definition)


def test_contested_criterion_names_both_sides(defs_store) -> None:  # type: ignore[no-untyped-def]
    result = classify(defs_store, views=["all"], names=["valdai"])
    (c,) = [c for c in result.classifications if c.relationship == ID + "belmar-corvia"]
    (threat,) = [k for k in c.checks if k.criterion.name == "AgainstStateThreat"]
    assert threat.status == "contested"
    assert threat.supporting == ("bc-against-evaria",)
    assert threat.contradicting == ("bc-no-enemy",)


def test_each_source_view_sees_only_its_claims(defs_store) -> None:  # type: ignore[no-untyped-def]
    result = classify(defs_store, views=["source:one", "source:two"], names=["valdai"])
    assert statuses(result, "source:one", "belmar-corvia", "valdai")["AgainstStateThreat"] == "holds"
    assert statuses(result, "source:two", "belmar-corvia", "valdai")["AgainstStateThreat"] == "fails"
    views = {c.view for c in result.classifications if c.relationship == ID + "arden-belmar"}
    assert views == {"source:one"}  # source two never mentions Arden–Belmar


def test_closed_world_only_on_declared_properties(defs_store) -> None:  # type: ignore[no-untyped-def]
    # Corvia–Dunmore has no time-horizon claim: LongTermRelationship has no closure, so no evidence.
    result = classify(defs_store, views=["all"], names=["valdai", "walt"])
    assert statuses(result, "all", "corvia-dunmore", "valdai")["LongTermRelationship"] == "no-evidence"
    assert statuses(result, "all", "corvia-dunmore", "walt")["SecurityCooperation"] == "fails"


def test_strategic_cooperation_is_classified_with_valdai(defs_store) -> None:  # type: ignore[no-untyped-def]
    result = classify(defs_store, views=["all"], names=["valdai"])
    (c,) = [c for c in result.classifications if c.relationship == ID + "arden-rebels"]
    (also,) = c.also
    assert also.classifier.label == "strategic cooperation"
    assert also.outcome == "meets"


# ----------------------------------------------------------------------------------------------------
# The corpus
# ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("episode", ["iran-russia-syria", "iran-russia-tajikistan", "iran-russia-afghanistan"])
def test_004_episodes_are_strategic_cooperation_not_alliance(corpus_store, episode: str) -> None:  # type: ignore[no-untyped-def]
    result = classify(corpus_store, views=[D004], names=["valdai"])
    (c,) = [c for c in result.classifications if c.relationship == ID + episode]
    assert c.outcome == "does-not-meet"
    assert {k.criterion.name: k.status for k in c.checks}["AgainstStateThreat"] == "fails"
    (strategic,) = c.also
    assert strategic.outcome == "meets"


def test_azizi_work_iran_russia_is_no_alliance_under_azizi(corpus_store) -> None:  # type: ignore[no-untyped-def]
    result = classify(corpus_store, views=[AZIZI], names=["azizi"])
    (c,) = [c for c in result.classifications if c.relationship == ID + "iran-russia"]
    assert c.outcome == "does-not-meet"
    assert {k.status for k in c.checks} == {"fails"}


def test_azizi_work_with_an_assumed_mutual_security_agreement_meets(corpus_store, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    scenario = tmp_path / "msa.yaml"
    scenario.write_text(
        "entities:\n"
        "  iran-russia-pact: {a: MutualSecurityAgreement, label: Iran–Russia mutual security agreement,"
        " hasParty: [iran, russia]}\n"
        "claims:\n"
        "  - id: msa\n"
        "    text: Iran and Russia sign a mutual security agreement.\n"
        "    statements:\n"
        "      - [iran-russia, hasInstitutionalBasis, iran-russia-pact]\n",
        encoding="utf-8",
    )
    store = with_assumptions(corpus_store, load_assumptions(scenario, corpus_store))
    result = classify(store, views=[AZIZI], names=["azizi"])
    (c,) = [c for c in result.classifications if c.relationship == ID + "iran-russia"]
    assert c.view == f"scenario:{AZIZI}"
    assert c.outcome == "meets"
    hard = next(k for k in c.checks if k.criterion.name == "AziziHardSecurity")
    assert hard.supporting == ("scenario-msa",)
    assert hard.overridden  # Azizi's own denial is set aside by the assumption, and said so


def test_russia_china_all_sources_valdai_is_undetermined(corpus_store) -> None:  # type: ignore[no-untyped-def]
    result = classify(corpus_store, views=["all"], names=["valdai"])
    assert statuses(result, "all", "russia-china", "valdai") == {
        "AgainstStateThreat": "holds",
        "InstitutionallyBased": "holds",
        "LongTermRelationship": "no-evidence",
    }
    assert outcomes(result)[("all", "russia-china", "valdai")] == "undetermined"


def test_atop_on_corpus_evidence_is_undetermined_for_iran_russia(corpus_store) -> None:  # type: ignore[no-untyped-def]
    result = classify(corpus_store, views=["all"], names=["atop"])
    assert outcomes(result)[("all", "iran-russia", "atop")] == "undetermined"
    assert statuses(result, "all", "iran-russia", "atop")["PledgedAgreement"] == "no-evidence"


def test_republished_copies_count_once(corpus_store) -> None:  # type: ignore[no-untyped-def]
    result = classify(corpus_store, views=["all", AZIZI], names=["valdai"])
    (c,) = [c for c in result.classifications if (c.view, c.relationship) == ("all", ID + "russia-china")]
    threat = next(k for k in c.checks if k.criterion.name == "AgainstStateThreat")
    assert len(threat.supporting) == len(set(threat.supporting))  # one claim id per claim, not per copy


def test_results_graphs_are_apart_from_claims(corpus_out: Path) -> None:
    store = allygraph.open_store(corpus_out)
    query = """SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?c <https://w3id.org/allygraph/results#outcome> ?o }
               FILTER(STRSTARTS(STR(?g), "https://w3id.org/allygraph/graph/results/valdai/")) }"""
    assert int(next(iter(store.query(query)))["n"].value) > 0
    mixed = """ASK { GRAPH ?g { ?c <https://w3id.org/allygraph/results#outcome> ?o }
                     FILTER(STRSTARTS(STR(?g), "https://w3id.org/allygraph/id/claim/")) }"""
    assert not store.query(mixed)


# ----------------------------------------------------------------------------------------------------
# Both engines agree, outcome by outcome and criterion by criterion
# ----------------------------------------------------------------------------------------------------


def _signature(result) -> dict[tuple[str, str, str], tuple]:  # type: ignore[no-untyped-def]
    return {
        (c.view, c.relationship, c.definition.name): (
            c.outcome,
            tuple((k.criterion.name, k.status) for k in c.checks),
            tuple((a.outcome, tuple((k.criterion.name, k.status) for k in a.checks)) for a in c.also),
        )
        for c in result.classifications
    }


@pytest.mark.slow
@pytest.mark.parametrize("ledger", ["mini", "defs", "corpus"])
def test_hermit_and_sparql_agree(ledger: str, tmp_path_factory: pytest.TempPathFactory, corpus_store) -> None:  # type: ignore[no-untyped-def]
    if ledger == "corpus":
        store = corpus_store
    else:
        store = allygraph.open_store(_build(tmp_path_factory, {"mini": MINI, "defs": DEFS}[ledger], ledger))
    hermit, sparql = _signature(classify(store, engine="hermit")), _signature(classify(store, engine="sparql"))
    assert hermit.keys() == sparql.keys()
    disagreements = {k: (hermit[k], sparql[k]) for k in sparql if hermit[k] != sparql[k]}
    assert disagreements == {}


# ----------------------------------------------------------------------------------------------------
# Definitions from a user's own Turtle file
# ----------------------------------------------------------------------------------------------------


def test_a_users_definition_file_needs_no_python(defs_store, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "mine.ttl"
    path.write_text(MINE, encoding="utf-8")
    definitions = load_definitions([path])
    result = classify(defs_store, definitions=definitions, names=["mine"], views=["all"])
    assert outcomes(result)[("all", "arden-belmar", "mine")] == "meets"
    assert outcomes(result)[("all", "corvia-dunmore", "mine")] == "undetermined"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("<https://example.org/mine> owl:imports <http://example.org/elsewhere.ttl> .", "owl:imports"),
        (
            'ex:Mine <http://www.lesfleursdunormal.fr/static/_downloads/owlready_ontology.owl#python_module> "os" .',
            "python_module",
        ),
    ],
)
def test_definition_files_cannot_reach_out(tmp_path: Path, extra: str, message: str) -> None:
    path = tmp_path / "mine.ttl"
    path.write_text(MINE + extra + "\n", encoding="utf-8")
    with pytest.raises(InputError, match=message) as info:
        load_definitions([path])
    assert str(path) in str(info.value)


def test_unsupported_construct_is_named(tmp_path: Path) -> None:
    path = tmp_path / "mine.ttl"
    path.write_text(
        MINE.replace("owl:hasValue ag:militarySphere", "owl:allValuesFrom ag:CooperationSphere"), encoding="utf-8"
    )
    with pytest.raises(InputError, match="allValuesFrom"):
        load_definitions([path])


# ----------------------------------------------------------------------------------------------------
# The commands
# ----------------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def defs_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("defs-project") / "defs"
    shutil.copytree(DEFS, folder)
    allygraph.build(folder, folder / "build")
    return folder


def test_classify_json_fields(defs_project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from allygraph.cli import main

    code = main(
        [
            "classify",
            "--project",
            str(defs_project),
            "--definition",
            "valdai",
            "--view",
            "all",
            "--format",
            "json",
            "--quiet",
        ]
    )
    assert code == 0
    rows = json.loads(capsys.readouterr().out)
    row = next(r for r in rows if r["relationship"] == ID + "belmar-corvia")
    assert row["participants"] == ["Belmar", "Corvia"]
    assert (row["definition"], row["view"], row["outcome"]) == ("valdai", "all", "contested")
    threat = next(c for c in row["criteria"] if c["criterion"] == "AgainstStateThreat")
    assert threat["status"] == "contested"
    assert threat["evidence"] == ["bc-against-evaria", "bc-no-enemy"]
    assert {r["outcome"] for r in rows} <= {"meets", "does-not-meet", "undetermined", "contested"}


def test_explain_shows_the_quotes(defs_project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from allygraph.cli import main

    code = main(["explain", "belmar-corvia", "--project", str(defs_project), "--quiet"])
    assert code == 0
    text = capsys.readouterr().out
    assert "CONTESTED" in text
    assert "“Belmar and Corvia are not directed against any state at all.”" in text
    assert "[!] contested" in text and "[x] holds" in text


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["classify", "--definition", "nato"], "unknown definition 'nato'"),
        (["classify", "--view", "source:nowhere"], "unknown view 'source:nowhere'"),
        (["explain", "atlantis"], "no relationship 'atlantis'"),
    ],
)
def test_bad_names_are_refused(
    defs_project: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    from allygraph.cli import main

    assert main([*argv, "--project", str(defs_project), "--quiet"]) == 2
    assert message in capsys.readouterr().err


def _evidence(claims: list) -> list[tuple[str, str, str, bool]]:  # type: ignore[type-arg]
    return [(c.id, c.assertion, c.modality, c.assumed) for c in claims if c.is_evidence]


def test_reading_only_the_evidence_gives_the_evidence_claims_of_a_full_read(corpus_store) -> None:  # type: ignore[no-untyped-def]
    full = read_claims(corpus_store)
    light = read_claims(corpus_store, evidence_only=True)
    assert len(light) < len(full)  # the corpus has reported speech and hypotheticals, left out
    assert all(c.is_evidence for c in light)
    assert _evidence(light) == _evidence(full)


def test_reading_only_the_evidence_keeps_assumed_claims(corpus_store, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    scenario = tmp_path / "s.yaml"
    scenario.write_text(
        "claims:\n  - id: extra\n    text: Iran and Russia cooperate.\n    statements:\n"
        "      - [iran-russia, hasParticipant, iran]\n",
        encoding="utf-8",
    )
    store = with_assumptions(corpus_store, load_assumptions(scenario, corpus_store))
    light = read_claims(store, evidence_only=True)
    assert [c.id for c in light if c.assumed] == ["scenario-extra"]
    assert _evidence(light) == _evidence(read_claims(store))
    # views=None reads every claim in full; the scenario built on `all` is the same either way
    assert classify(store, views=["all"]).as_json() == classify(store, views=None).as_json()


def test_the_all_view_alone_classifies_as_it_does_among_every_view(corpus_store) -> None:  # type: ignore[no-untyped-def]
    every = [c for c in classify(corpus_store, views=None).as_json() if c["view"] == "all"]
    assert every and classify(corpus_store, views=["all"]).as_json() == every
