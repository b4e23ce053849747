"""Bad ledger input, through `allygraph build`: the right exit code, the file and line, and nothing written.

Each case breaks a fresh copy of tests/data/mini in one way and says what the error must name. Every case
is built twice: into an empty output folder (which must stay without a build) and over a previous good
build (whose files and store must stay exactly as they were).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from conftest import PreviousBuild, Result, append, assert_nothing_written, edit, line_of, run_allygraph


@dataclass
class Expect:
    """What `allygraph build` must report."""

    code: int
    where: list[tuple[str, int]]  # (path relative to the ledger, line) that stderr must name
    says: list[str] = field(default_factory=list)  # fragments stderr must contain


def yaml_syntax_error(root: Path) -> Expect:
    claims = root / "claims" / "alpha.yaml"
    quote = '    quote: "it creates a joint command"\n'
    line = edit(claims, quote, quote + "    note: a: b\n")
    return Expect(2, [("claims/alpha.yaml", line + 1)], ["YAML"])


def unknown_property(root: Path) -> Expect:
    line = edit(root / "claims" / "alpha.yaml", "sylvania, directedAgainst,", "sylvania, directedAganst,")
    return Expect(2, [("claims/alpha.yaml", line)], ["unknown property 'directedAganst'", "'directedAgainst'"])


def unknown_subject_entity(root: Path) -> Expect:
    line = edit(
        root / "claims" / "alpha.yaml",
        "[freedonia-sylvania, hasTimeHorizon, longTerm]",
        "[freedonia-sylvanai, hasTimeHorizon, longTerm]",
    )
    return Expect(2, [("claims/alpha.yaml", line)], ["unknown entity 'freedonia-sylvanai'", "'freedonia-sylvania'"])


def unknown_object_entity(root: Path) -> Expect:
    line = edit(root / "claims" / "alpha.yaml", "Basis, joint-command]", "Basis, joint-comand]")
    return Expect(2, [("claims/alpha.yaml", line)], ["'joint-comand'", "'joint-command'"])


def unknown_class(root: Path) -> Expect:
    line = edit(root / "entities.yaml", "  a: JointBody\n", "  a: JointBdy\n")
    return Expect(2, [("entities.yaml", line)], ["unknown class 'JointBdy'", "'JointBody'"])


def quote_not_found(root: Path) -> Expect:
    claims = root / "claims" / "alpha.yaml"
    edit(claims, '"it creates a joint command"', '"it creates a joint headquarters"')
    return Expect(
        2, [("claims/alpha.yaml", line_of(claims, "- id: ann-joint-command"))], ["quote not found in corpus/alpha.txt"]
    )


def quote_twice(root: Path) -> Expect:
    claims = root / "claims" / "beta.yaml"
    edit(claims, 'quote: "The so-called pact will not outlast this government."', 'quote: "pact"')
    return Expect(2, [("claims/beta.yaml", line_of(claims, "- id: bob-not-alliance"))], ["occurs 2 times"])


def duplicate_claim_id(root: Path) -> Expect:
    line = append(
        root / "claims" / "beta.yaml",
        "  - id: ann-signing\n"
        '    quote: "case by case"\n'
        "    attribution: author\n"
        "    modality: asserted\n"
        "    statements:\n"
        "      - [freedonia-sylvania, hasTimeHorizon, shortTerm]\n",
    )
    first = line_of(root / "claims" / "alpha.yaml", "- id: ann-signing")
    return Expect(2, [("claims/beta.yaml", line), ("claims/alpha.yaml", first)], ["duplicate claim id 'ann-signing'"])


def python_tag(root: Path) -> Expect:
    sentinel = root / "pwned"
    before = "    modality: denied\n    statements:\n      - [freedonia-sylvania, hasTimeHorizon"
    tag = f"    note: !!python/object/apply:os.system ['touch {sentinel}']\n"
    line = edit(root / "claims" / "beta.yaml", before, before.replace("    statements:", tag + "    statements:"))
    return Expect(2, [("claims/beta.yaml", line + 1)], ["tag"])


def alias_bomb(root: Path) -> Expect:
    lines = ["source: beta", 'lol0: &lol0 "lol"']
    lines += [f"lol{i}: &lol{i} [{', '.join([f'*lol{i - 1}'] * 10)}]" for i in range(1, 10)]
    lines += ["claims: []"]
    (root / "claims" / "bomb.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return Expect(2, [("claims/bomb.yaml", 2)], ["anchor"])


def source_not_utf8(root: Path) -> Expect:
    text = root / "corpus" / "beta.txt"
    data = text.read_bytes()
    line = data[: data.index(b"cooperate only")].count(b"\n") + 1
    text.write_bytes(data.replace(b"cooperate only", b"coop\xe9rate only"))
    declared = line_of(root / "sources.yaml", "file: corpus/beta.txt")
    return Expect(2, [("corpus/beta.txt", line), ("sources.yaml", declared)], ["not valid UTF-8", "0xe9"])


def claim_file_not_utf8(root: Path) -> Expect:
    claims = root / "claims" / "beta.yaml"
    line = line_of(claims, "case by case")
    claims.write_bytes(claims.read_bytes().replace(b"case by case", b"case par cas \xe0 cas"))
    return Expect(2, [("claims/beta.yaml", line)], ["not valid UTF-8"])


def control_character_in_claim_file(root: Path) -> Expect:
    line = edit(root / "claims" / "beta.yaml", '"cooperate only against', '"cooperate only\x0bagainst')
    return Expect(2, [("claims/beta.yaml", line)], [])


def bad_modality(root: Path) -> Expect:
    claims = root / "claims" / "beta.yaml"
    text = claims.read_text(encoding="utf-8")
    at = text.index("- id: bob-not-alliance")
    claims.write_text(text[:at] + text[at:].replace("modality: denied", "modality: deny", 1), encoding="utf-8")
    return Expect(2, [("claims/beta.yaml", line_of(claims, "modality: deny\n"))], ["modality", "'deny'", "'denied'"])


def impossible_date(root: Path) -> Expect:
    line = edit(root / "claims" / "alpha.yaml", 'when: "2020-03-03"', 'when: "2016-02-30"')
    return Expect(2, [("claims/alpha.yaml", line)], ["when"])


def interval_ending_before_it_starts(root: Path) -> Expect:
    line = edit(root / "claims" / "alpha.yaml", 'when: "2020-03-03"', 'when: "2020-03-03/2019"')
    return Expect(2, [("claims/alpha.yaml", line)], ["ends before it starts"])


def single_participant(root: Path) -> Expect:
    edit(root / "entities.yaml", "hasParticipant: [freedonia, sylvania]", "hasParticipant: [freedonia]")
    return Expect(
        1,
        [("entities.yaml", line_of(root / "entities.yaml", "freedonia-sylvania:"))],
        ["at least two distinct participants", "ags:RelationshipShape"],
    )


CASES: list[Callable[[Path], Expect]] = [
    yaml_syntax_error,
    unknown_property,
    unknown_subject_entity,
    unknown_object_entity,
    unknown_class,
    quote_not_found,
    quote_twice,
    duplicate_claim_id,
    python_tag,
    alias_bomb,
    source_not_utf8,
    claim_file_not_utf8,
    control_character_in_claim_file,
    bad_modality,
    impossible_date,
    interval_ending_before_it_starts,
    single_participant,
]


def assert_reported(result: Result, expect: Expect, root: Path) -> None:
    assert result.code == expect.code, f"exit code {result.code}, expected {expect.code}:\n{result.stderr}"
    assert "Traceback" not in result.stderr
    assert "nothing was written" in result.stderr
    for relative, line in expect.where:
        # a location is path:line or path:line:column; paths may be printed absolute or relative
        pattern = rf"(^|[\s(/]){re.escape(relative)}:{line}(:\d+)?[:)\s]"
        assert re.search(pattern, result.stderr, re.MULTILINE), f"{relative}:{line} not named in:\n{result.stderr}"
    for fragment in expect.says:
        assert fragment in result.stderr, f"{fragment!r} not in:\n{result.stderr}"


@pytest.mark.timeout(60)
@pytest.mark.parametrize("case", CASES, ids=[c.__name__ for c in CASES])
def test_bad_input_is_reported_and_nothing_is_written(
    case: Callable[[Path], Expect], mini: Path, previous_build: PreviousBuild, tmp_path: Path, cli
) -> None:
    expect = case(mini)

    fresh = tmp_path / "fresh-out"
    assert_reported(cli("build", "--project", mini, "--out", fresh), expect, mini)
    assert_nothing_written(fresh)

    assert_reported(cli("build", "--project", mini, "--out", previous_build.out), expect, mini)
    previous_build.assert_unchanged()
    assert not (mini / "pwned").exists()


def test_the_command_reports_in_a_subprocess_too(mini: Path, tmp_path: Path) -> None:
    """The same contract through a real process: exit code 2, file and line on stderr, nothing written."""
    expect = unknown_property(mini)
    out = tmp_path / "out"
    result = run_allygraph("build", "--project", mini, "--out", out, cwd=tmp_path)
    assert_reported(result, expect, mini)
    assert result.stdout == ""
    assert_nothing_written(out)


def test_every_problem_is_reported_in_one_pass(mini: Path, tmp_path: Path, cli) -> None:
    expected = [unknown_property(mini), unknown_class(mini), bad_modality(mini)]
    result = cli("build", "--project", mini, "--out", tmp_path / "out")
    for expect in expected:
        assert_reported(result, Expect(2, expect.where, expect.says), mini)
    assert "3 problem(s)" in result.stderr


def test_two_entities_with_one_cow_code_are_refused(mini: Path, tmp_path: Path, cli) -> None:
    """Entities with a COW code share the IRI id/state/<code>: two entity ids with the same code would be
    silently merged into one node, so the ledger must refuse them, naming both."""
    entities = mini / "entities.yaml"
    line = append(entities, 'freedonia-again: {a: State, label: Freedonia again, cowCode: "9001"}\n')
    first = line_of(entities, "freedonia: {")
    out = tmp_path / "out"
    result = cli("build", "--project", mini, "--out", out)
    assert_reported(result, Expect(2, [("entities.yaml", line), ("entities.yaml", first)], ["9001"]), mini)
    assert_nothing_written(out)
