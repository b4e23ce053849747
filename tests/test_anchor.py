"""Finding a quote in a source text, in clean and damaged copies, with exact offsets into the text as it is."""

from __future__ import annotations

import unicodedata

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from allygraph.anchor import CONTEXT, Anchor, Index, line_span
from conftest import MINI

ALPHA = (MINI / "corpus" / "alpha.txt").read_text(encoding="utf-8")
ALPHA_COPY = (MINI / "corpus" / "alpha-copy.txt").read_text(encoding="utf-8")

THREAT_QUOTE = "The treaty is directed against Marsovia’s “armed build-up” on their border"


def spans(anchors: list) -> list[tuple[int, int]]:  # type: ignore[type-arg]
    return [(a.start, a.end) for a in anchors]


# ----------------------------------------------------------------------------------------------------
# Clean texts
# ----------------------------------------------------------------------------------------------------


def test_verbatim_quote_gets_its_exact_offsets() -> None:
    quote = "On March 3 the foreign ministers of Freedonia and Sylvania signed a mutual defence treaty in Geneva."
    start = ALPHA.index(quote)
    (found,) = Index(ALPHA).find_all(quote)
    assert (found.start, found.end) == (start, start + len(quote))
    assert found.exact == quote


def test_quote_with_curly_quotation_marks_in_the_original() -> None:
    (found,) = Index(ALPHA).find_all(THREAT_QUOTE)
    assert found.start == ALPHA.index(THREAT_QUOTE)
    assert found.exact == THREAT_QUOTE


def test_quote_written_with_straight_quotes_finds_curly_ones() -> None:
    (found,) = Index(ALPHA).find_all('directed against Marsovia\'s "armed build-up"')
    # quotation marks the quote ends with are taken in when the text has them there
    assert found.exact == "directed against Marsovia’s “armed build-up”"
    assert ALPHA[found.start : found.end] == found.exact


def test_prefix_and_suffix_are_the_text_around_the_quote() -> None:
    text = "x" * 40 + "Sylvania signs" + "y" * 40
    (found,) = Index(text).find_all("Sylvania signs")
    assert (found.start, found.end) == (40, 54)
    assert found.prefix == "x" * CONTEXT
    assert found.suffix == "y" * CONTEXT


def test_prefix_and_suffix_are_cut_at_the_ends_of_the_text() -> None:
    (found,) = Index("ab Sylvania signs cd").find_all("Sylvania signs")
    assert (found.prefix, found.exact, found.suffix) == ("ab ", "Sylvania signs", " cd")


def test_prefix_and_suffix_in_a_fixture_text() -> None:
    (found,) = Index(ALPHA).find_all("it creates a joint command")
    assert found.suffix == ".\nBoth governments say the pact is"[:CONTEXT]
    assert found.prefix == " build-up” on their border, and "[-CONTEXT:]


def test_every_occurrence_is_listed_in_order() -> None:
    text = "the pact. The Pact. the  pact"
    found = Index(text).find_all("the pact")
    assert spans(found) == [(0, 8), (10, 18), (20, 29)]
    assert [a.exact for a in found] == ["the pact", "The Pact", "the  pact"]


def test_absent_quote_and_empty_quote_find_nothing() -> None:
    index = Index(ALPHA)
    assert index.find_all("Marsovia signed a treaty") == []
    assert index.find_all("") == []
    assert index.find_all(" “ ’ ") == []


def test_passage_bounds_are_respected() -> None:
    text = "first: a pact here.\nsecond: a pact there.\n"
    index = Index(text)
    assert spans(index.find_all("a pact")) == [(7, 13), (28, 34)]
    second_line = (20, len(text))
    assert spans(index.find_all("a pact", start=second_line[0], end=second_line[1])) == [(28, 34)]
    assert spans(index.find_all("a pact", start=0, end=20)) == [(7, 13)]
    # an occurrence that crosses the bound is not inside the passage
    assert index.find_all("a pact", start=0, end=12) == []
    assert index.find_all("a pact", start=8) == [index.find_all("a pact")[1]]


def test_line_span_gives_the_offsets_of_whole_lines() -> None:
    text = "one\ntwo\nthree\n"
    assert line_span(text, 1, 1) == (0, 4)
    assert line_span(text, 2, 3) == (4, 14)
    assert text[slice(*line_span(text, 2, 2))] == "two\n"


# ----------------------------------------------------------------------------------------------------
# Damaged copies: missing spaces, dropped apostrophes and quotation marks
# ----------------------------------------------------------------------------------------------------


def test_damaged_copy_with_missing_spaces() -> None:
    quote = "On March 3 the foreign ministers of Freedonia and Sylvania signed a mutual defence treaty in Geneva."
    damaged = "On March 3 the foreign ministers ofFreedonia and Sylvania signed a mutual defence treaty inGeneva."
    (found,) = Index(ALPHA_COPY).find_all(quote)
    assert found.exact == damaged
    assert found.start == ALPHA_COPY.index(damaged)
    assert ALPHA_COPY[found.start : found.end] == found.exact
    assert found.prefix == "Ann Analyst: "


def test_damaged_copy_with_dropped_apostrophe_and_quotation_marks() -> None:
    damaged = "The treaty is directed against Marsovias armed build-up on their border"
    (found,) = Index(ALPHA_COPY).find_all(THREAT_QUOTE)
    assert found.exact == damaged
    assert (found.start, found.end) == (ALPHA_COPY.index(damaged), ALPHA_COPY.index(damaged) + len(damaged))


def test_quote_across_a_line_break_in_the_copy() -> None:
    quote = "it creates a joint command. Both governments say"
    (found,) = Index(ALPHA_COPY).find_all(quote)
    assert found.exact == "it creates a joint command.\nBoth governments say"


def test_damaged_quote_found_in_clean_text() -> None:
    text = "Russia plans to lift visa requirements for Iran’s citizens"
    (found,) = Index(text).find_all("planstolift visa requirements for Irans")
    assert found.exact == "plans to lift visa requirements for Iran’s"
    assert found.start == text.index("plans")


# ----------------------------------------------------------------------------------------------------
# Property: damage never loses a quote, and offsets always point into the damaged text
# ----------------------------------------------------------------------------------------------------

SPACES = " \n\t"
MARKS = "'’‘\"“”"
ALPHABET = "abcXYZé.,-0" + SPACES + MARKS


def ignorable(char: str) -> bool:
    return char in SPACES or char in MARKS


def comparable(text: str) -> str:
    """The test's own notion of 'the same words': no whitespace or quote marks, case folded."""
    return "".join(c for c in text if not ignorable(c)).casefold()


def core_spans(text: str, anchors: list[Anchor]) -> list[tuple[int, int]]:
    """Spans without the quotation marks an anchor may take in at its ends (only marks, never words)."""
    out = []
    for a in anchors:
        start, end = a.start, a.end
        while start < end and text[start] in MARKS:
            start += 1
        while end > start and text[end - 1] in MARKS:
            end -= 1
        out.append((start, end))
    return out


@st.composite
def damaged_texts(draw: st.DrawFn) -> tuple[str, str, int, int, str, list[int]]:
    """(text, quote, start, end, damaged text, where each kept character of text went in it)."""
    text = draw(st.text(alphabet=ALPHABET, min_size=1, max_size=120))
    start = draw(st.integers(0, len(text) - 1))
    end = draw(st.integers(start + 1, len(text)))
    quote = text[start:end]
    damaged: list[str] = []
    moved_to: list[int] = []  # -1 for a deleted character
    for char in text:
        damaged.append(draw(st.sampled_from(["", "", "", " ", "\n", "  "])))  # inserted whitespace
        if ignorable(char) and draw(st.booleans()):
            moved_to.append(-1)  # whitespace or an apostrophe / quotation mark dropped
        else:
            moved_to.append(len("".join(damaged)))
            damaged.append(char)
    return text, quote, start, end, "".join(damaged), moved_to


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(damaged_texts())
def test_damage_never_loses_the_quote(case: tuple[str, str, int, int, str, list[int]]) -> None:
    text, quote, start, end, damaged, moved_to = case
    meaningful = [i for i in range(start, end) if not ignorable(text[i])]
    if not meaningful:
        assert Index(damaged).find_all(quote) == []
        return
    # the span the quote's words occupy, in the original and in the damaged text
    original_span = (meaningful[0], meaningful[-1] + 1)
    damaged_span = (moved_to[meaningful[0]], moved_to[meaningful[-1]] + 1)

    found = Index(damaged).find_all(quote)
    assert damaged_span in core_spans(damaged, found)
    for anchor in found:
        assert damaged[anchor.start : anchor.end] == anchor.exact
        assert comparable(anchor.exact) == comparable(quote)
        assert anchor.prefix == damaged[: anchor.start][-CONTEXT:]
        assert anchor.suffix == damaged[anchor.end :][:CONTEXT]

    index = Index(text)
    first, again = index.find_all(quote), index.find_all(quote)
    assert spans(first) == spans(again) == spans(Index(text).find_all(quote))
    assert original_span in core_spans(text, first)


@given(st.text(min_size=1, max_size=60))
@settings(max_examples=100, deadline=None)
def test_any_unicode_substring_is_found_with_offsets_into_the_text(text: str) -> None:
    """Whatever the characters, a verbatim substring is found and its slice is its `exact`."""
    quote = text[len(text) // 3 :]
    found = Index(text).find_all(quote)
    if not any(not (c.isspace() or unicodedata.category(c) == "Cf" or c in MARKS + "`´‚‛„‟«»‹›′″") for c in quote):
        return  # nothing but ignorable characters: nothing to anchor
    assert found, f"{quote!r} not found in {text!r}"
    for anchor in found:
        assert text[anchor.start : anchor.end] == anchor.exact
