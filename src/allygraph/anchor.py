"""Find a claim's quote in a source text, tolerating damaged copies, and describe where it is.

Damaged copies lose spaces ("planstolift"), apostrophes ("Irans") and quotation marks. Matching
compares texts with whitespace and quote marks removed and letter case folded, then maps the match
back to exact offsets in the original text, so selectors always point into the text as it is.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

CONTEXT = 32  # characters of prefix and suffix kept in a TextQuoteSelector

_IGNORED = frozenset("'\"`´‘’‚‛“”„‟«»‹›′″")


@dataclass(frozen=True)
class Anchor:
    """A span [start, end) of a text, in Unicode code points, with its Web Annotation selectors."""

    start: int
    end: int
    exact: str
    prefix: str
    suffix: str


def _ignored(char: str) -> bool:
    return char in _IGNORED or char.isspace() or unicodedata.category(char) == "Cf"


def _fold(char: str) -> str:
    folded = char.casefold()
    return folded if len(folded) == 1 else char


def normalise(text: str) -> tuple[str, list[int]]:
    """The comparable form of `text`, and for each of its characters the offset it came from."""
    chars: list[str] = []
    offsets: list[int] = []
    for offset, char in enumerate(text):
        if not _ignored(char):
            chars.append(_fold(char))
            offsets.append(offset)
    return "".join(chars), offsets


class Index:
    """A source text prepared for repeated quote look-ups."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._norm, self._offsets = normalise(text)

    def find_all(self, quote: str, *, start: int = 0, end: int | None = None) -> list[Anchor]:
        """Every place `quote` occurs in text[start:end], tolerantly; [] when nowhere.

        >>> Index("Russia plans to lift visa requirements for Iran’s citizens").find_all("planstolift")[0].exact
        'plans to lift'
        >>> [a.start for a in Index("speak ofan alliance").find_all("of an “alliance”")]
        [6]
        """
        needle, _ = normalise(quote)
        if not needle:
            return []
        end = len(self.text) if end is None else min(end, len(self.text))
        found: list[Anchor] = []
        stripped = quote.strip()
        lead = len(stripped) - len(stripped.lstrip("".join(_IGNORED)))  # quote marks the quote starts with
        trail = len(stripped) - len(stripped.rstrip("".join(_IGNORED)))
        at = self._norm.find(needle)
        while at != -1:
            first, last = self._offsets[at], self._offsets[at + len(needle) - 1] + 1
            if first >= start and last <= end:
                found.append(self.anchor(*self._widen(first, last, lead, trail, start, end)))
            at = self._norm.find(needle, at + 1)
        return found

    def _widen(self, first: int, last: int, lead: int, trail: int, start: int, end: int) -> tuple[int, int]:
        """Take in up to `lead`/`trail` quotation marks the quote has at its ends, if the text has them
        within [start, end) (a mark just outside a passage never hides a match inside it)."""
        for _ in range(lead):
            if first > start and self.text[first - 1] in _IGNORED:
                first -= 1
        for _ in range(trail):
            if last < end and self.text[last] in _IGNORED:
                last += 1
        return first, last

    def anchor(self, start: int, end: int) -> Anchor:
        """The selectors for text[start:end]."""
        return Anchor(
            start=start,
            end=end,
            exact=self.text[start:end],
            prefix=self.text[max(0, start - CONTEXT) : start],
            suffix=self.text[end : end + CONTEXT],
        )


def line_span(text: str, first: int, last: int) -> tuple[int, int]:
    """Character offsets [start, end) of lines first..last (1-based, inclusive) of `text`."""
    lines = text.splitlines(keepends=True)
    start = sum(len(line) for line in lines[: first - 1])
    end = start + sum(len(line) for line in lines[first - 1 : last])
    return start, end
