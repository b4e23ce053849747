"""The strict YAML reader: plain strings only, no tags, anchors, aliases or duplicate keys, located errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from allygraph import yamlio
from allygraph.errors import InputError, Location


def error_of(text: str, name: str = "f.yaml") -> InputError:
    with pytest.raises(InputError) as caught:
        yamlio.loads(text, name)
    return caught.value


# ----------------------------------------------------------------------------------------------------
# Scalars
# ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    ["NO", "no", "yes", "off", "1.10", "2016-10-28", "0x1F", "~", "null", "012", "1e3", ".inf", "12:30:00", "-0"],
)
def test_plain_scalars_stay_the_string_written(raw: str) -> None:
    doc = yamlio.loads(f"value: {raw}\nlist: [{raw}, x]\n{raw}: key\n")
    assert doc["value"] == raw and type(doc["value"]) is yamlio.YStr
    assert doc["list"][0] == raw and isinstance(doc["list"][0], str)
    assert doc[raw] == "key"  # as a key too


def test_quoted_scalars_keep_their_text() -> None:
    doc = yamlio.loads('a: "1.10"\nb: \'~\'\nc: "say \\"NO\\""\n')
    assert doc == {"a": "1.10", "b": "~", "c": 'say "NO"'}


def test_empty_value_is_empty_text_and_empty_file_is_none() -> None:
    assert yamlio.loads("a:\n") == {"a": ""}
    assert yamlio.loads("") is None
    assert yamlio.loads("# only a comment\n") is None


def test_byte_order_mark_is_dropped(tmp_path: Path) -> None:
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbfkey: value\n")
    doc = yamlio.load(path)
    assert list(doc) == ["key"]
    assert doc["key"].location.line == 1


# ----------------------------------------------------------------------------------------------------
# Tags, anchors, aliases
# ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "tagged",
    [
        "!!python/object/apply:os.system ['echo pwned']",
        "!!python/name:os.system",
        "!!int 3",
        "!!bool yes",
        "!!float 1.10",
        "!!binary aGk=",
        "!!set {a, b}",
        "!local value",
    ],
)
def test_tags_are_refused_with_their_line(tagged: str) -> None:
    err = error_of(f"a: 1\nb: {tagged}\n")
    assert "tag" in err.message
    assert err.location is not None and err.location.line == 2


def test_python_tag_in_a_file_runs_nothing(tmp_path: Path) -> None:
    sentinel = tmp_path / "pwned"
    path = tmp_path / "evil.yaml"
    path.write_text(f"ok: 1\nevil: !!python/object/apply:os.system ['touch {sentinel}']\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        yamlio.load(path)
    assert str(caught.value).startswith(f"{path}:2:")
    assert not sentinel.exists()


def test_anchor_is_refused() -> None:
    err = error_of("a: 1\nb: &x [1, 2]\n")
    assert "anchor" in err.message
    assert err.location is not None and err.location.line == 2


def test_alias_is_refused() -> None:
    err = error_of("a: 1\nb: 2\nc: *x\n")
    assert "alias" in err.message
    assert err.location is not None and err.location.line == 3


def billion_laughs(levels: int = 9) -> str:
    lines = ['lol0: &lol0 "lol"']
    for level in range(1, levels + 1):
        refs = ", ".join([f"*lol{level - 1}"] * 10)
        lines.append(f"lol{level}: &lol{level} [{refs}]")
    return "\n".join(lines) + "\n"


@pytest.mark.timeout(20)  # 10**9 strings if the aliases were expanded: this guards against a hang
def test_billion_laughs_alias_bomb_fails_fast(tmp_path: Path) -> None:
    path = tmp_path / "bomb.yaml"
    path.write_text(billion_laughs(), encoding="utf-8")
    with pytest.raises(InputError) as caught:
        yamlio.load(path)
    assert caught.value.location is not None and caught.value.location.line == 1


# ----------------------------------------------------------------------------------------------------
# Duplicate keys, syntax errors, encodings, nesting
# ----------------------------------------------------------------------------------------------------


def test_duplicate_key_names_both_lines() -> None:
    err = error_of("a: 1\nb: 2\na: 3\n")
    assert err.location is not None and err.location.line == 3
    assert "line 1" in err.message and "'a'" in err.message


def test_duplicate_key_inside_a_list_item_and_differently_quoted() -> None:
    text = "claims:\n  - id: x\n    quote: q\n  - id: y\n    \"quote\": q\n    'quote': r\n"
    err = error_of(text)
    assert err.location is not None and err.location.line == 6
    assert "line 5" in err.message


def test_same_key_in_different_mappings_is_fine() -> None:
    doc = yamlio.loads("- id: a\n- id: b\n")
    assert [item["id"] for item in doc] == ["a", "b"]


@pytest.mark.parametrize(
    ("text", "line", "column"),
    [
        ("a: 1\nb: 2\nk: v: w\n", 3, 5),  # the second ':' of line 3
        ("a: 1\n\tb: 2\n", 2, 1),  # a tab cannot indent
        ("a: 1\nb: [1, 2\nc: 3\n", 3, 2),  # an unclosed flow sequence, noticed at 'c:'
    ],
)
def test_syntax_error_reports_file_line_and_column(tmp_path: Path, text: str, line: int, column: int) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as caught:
        yamlio.load(path)
    assert str(caught.value).startswith(f"{path}:{line}:{column}: ")
    assert "YAML" in caught.value.message


def test_second_document_is_refused() -> None:
    err = error_of("a: 1\n---\nb: 2\n")
    assert err.location is not None and err.location.line == 2


def test_non_text_key_is_refused() -> None:
    err = error_of("ok: 1\n? [a, b]\n: 2\n")
    assert err.location is not None and err.location.line == 2


def test_non_utf8_file_reports_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"a: 1\nb: caf\xe9\n")
    with pytest.raises(InputError) as caught:
        yamlio.load(path)
    assert caught.value.location == Location(path, 2, 7)
    assert "UTF-8" in caught.value.message and "0xe9" in caught.value.message


def test_control_character_reports_line() -> None:
    """A stray control character (here a vertical tab pasted with a quote) is an input error with its line."""
    err = error_of('a: 1\nquote: "x\x0by"\n')
    assert err.location is not None and err.location.line == 2


def test_oversized_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_text("a: " + "x" * 100 + "\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        yamlio.read_text(path, max_bytes=50)
    assert "limit" in caught.value.message


def test_nesting_up_to_the_limit_is_read() -> None:
    doc = yamlio.loads("[" * 60 + "x" + "]" * 60)
    for _ in range(59):
        doc = doc[0]
    assert doc == ["x"]


@pytest.mark.parametrize(
    "text",
    [
        "[" * 200 + "]" * 200,
        "[" * 20_000 + "]" * 20_000,
        "".join(" " * level + f"k{level}:\n" for level in range(3000)),
        "{a: " * 5000 + "x" + "}" * 5000,
    ],
    ids=["flow-200", "flow-20000", "block-3000", "mapping-5000"],
)
@pytest.mark.timeout(60)
def test_deep_nesting_is_refused_without_crashing(text: str) -> None:
    err = error_of(text)
    assert "nested too deeply" in err.message


# ----------------------------------------------------------------------------------------------------
# Locations
# ----------------------------------------------------------------------------------------------------

LOCATED = """\
# a comment
source: beta
claims:
  - id: first
    quote: "a
      folded quote"
    statements:
      - [a, b, c]
      - - d
        - e
  - id: second
    statements: [[f,
      g, h]]
"""


def test_every_value_and_key_knows_its_line_and_column() -> None:
    doc = yamlio.loads(LOCATED, "claims/beta.yaml")
    claims = doc["claims"]
    first, second = claims
    assert (doc.location.line, doc.location.column) == (2, 1)
    assert doc["source"].location.line == 2 and doc["source"].location.column == 9
    assert claims.location.line == 4
    assert (first.location.line, first.location.column) == (4, 5)
    assert first["quote"] == "a folded quote" and first["quote"].location.line == 5
    keys = list(first)
    assert [(k, k.location.line) for k in keys] == [("id", 4), ("quote", 5), ("statements", 7)]
    assert first["statements"][0].location.line == 8
    assert first["statements"][1][1] == "e" and first["statements"][1][1].location.line == 10
    assert second["id"].location.line == 11
    assert second["statements"][0][1] == "g" and second["statements"][0][1].location.line == 13
    assert str(second["statements"][0][2].location) == "claims/beta.yaml:13:10"


@pytest.mark.parametrize("escape", ["\\U00110000", "\\UFFFFFFFF"])
def test_an_escape_beyond_unicode_is_refused_at_its_line(escape: str) -> None:
    """PyYAML calls chr() on it: a ValueError past U+10FFFF, an OverflowError past a C int."""
    with pytest.raises(InputError) as caught:
        yamlio.loads(f'a: b\nc: "{escape}"\n', "x.yaml")
    assert caught.value.location is not None and caught.value.location.line == 2
    assert "escape" in caught.value.message
