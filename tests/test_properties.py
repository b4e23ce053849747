"""Property tests for hostile input (issue 7): claim files through the strict YAML reader, quote anchoring in
damaged texts, the exporters' round trip, and the query guard.

Deterministic: every property runs under the "allygraph-properties" profile registered below (derandomized,
a fixed number of examples, no deadline, no example database), so CI sees the same examples on every run.
The parametrized tests beside some properties pin the minimal reproductions of bugs they found, since fixed:
a final newline in an id, query-guard misreadings, JSON-LD losses, bad IRIs in query parameters.
"""

from __future__ import annotations

import io
import re
import string
import tempfile
import unicodedata
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from allygraph import yamlio
from allygraph.anchor import CONTEXT, Anchor, Index
from allygraph.errors import InputError, InputErrors
from allygraph.export import FORMATS, export
from allygraph.ledger import MODALITIES, load_ledger
from allygraph.query import check_depth, check_local, parse_param
from conftest import MINI, copy_mini

settings.register_profile(
    "allygraph-properties",
    derandomize=True,
    max_examples=100,
    deadline=None,
    database=None,
    print_blob=False,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)
PROFILE = settings.get_profile("allygraph-properties")


def lines_in(text: str) -> int:
    """How many lines PyYAML counts in `text` (it also breaks lines at CR, NEL, LS and PS)."""
    return len(re.findall("\r\n|[\n\r\x85\u2028\u2029]", text)) + 1


def located_error(exc: BaseException, path: str | Path) -> InputError:
    """The InputError `exc` must be, naming `path` and a line."""
    assert isinstance(exc, InputError), f"{type(exc).__name__}: {exc}"
    assert exc.location is not None and str(exc.location.path) == str(path), exc
    assert exc.location.line >= 1, f"no line in {exc}"
    return exc


# ====================================================================================================
# 1. Claim files: exact strings in, exact strings out; hostile files refused with file and line
# ====================================================================================================

TRICKY = [
    *["NO", "no", "No", "yes", "Yes", "on", "OFF", "y", "n", "true", "False", "TRUE"],
    *["1.10", "1e3", "0x1F", "012", "0o17", "0b101", "-0", "+1", "1_000", ".inf", "-.Inf", ".nan", "190:20:30"],
    *["2016-10-28", "2016-10-28T12:00:00Z", "2001-12-14 21:59:43.10 -5", "12:30:00", "2020/2021"],
    *["~", "null", "Null", "NULL", "", " ", "  ", "<<", "=", "0"],
    *["-", "- x", "-x", "--", "---", "--- x", "...", "... x", "? x", "?", ":", "a:b", "key: value", "a :b", ": a"],
    *["#", "# not a comment", "a #b", "a# b", "[a, b]", "{a: b}", "[", "}", ",", "a, b", "|", ">", "|-", ">+"],
    *["&anchor", "*alias", "!tag", "!!python/object/apply:os.system", "!!str", "%YAML 1.1", "@x", "`x`"],
    *["'", "''", '"', '""', "’", "‘’", "“”", "«»", "\\", "\\n", '\\"', "'\\''", "it’s", 'say "NO"'],
    *["\t", "tab\there", " lead", "trail ", "line\nbreak", "two\n\nbreaks", "crlf\r\nx", "cr\rx", "\n", "end\n"],
    *["\u2028", "\u2029", "\x85", "\ufeff", "\x00", "\x07", "\x1b[31m", "\x7f", "\x9f", "\ufffe", "\uffff"],
    *["😀", "👨‍👩‍👧", "𝔘𝔫𝔦", "a\u0301", "\u200b", "\u00a0", "İ", "ß", "ﬁ", "Ἀθῆναι", "العربية", "中文"],
]

YAML_SCALARS = st.one_of(
    st.sampled_from(TRICKY),
    st.text(max_size=30),
    st.lists(st.one_of(st.sampled_from(TRICKY), st.text(max_size=6)), max_size=5).map("".join),
)


class PlainDumper(yaml.SafeDumper):
    """A dumper with no implicit typing either: it writes NO, 1.10, ~ and dates as plain (unquoted) scalars,
    which is exactly how a person writes them, so the reader's "every scalar is the string written" is tested
    on unquoted text too (yaml.safe_dump would quote them and hide any implicit typing)."""

    yaml_implicit_resolvers: dict[str, Any] = {}  # noqa: RUF012  (PyYAML's class attribute)

    def ignore_aliases(self, data: Any) -> bool:
        return True  # a list drawn twice is written twice, never as &id001 / *id001

    def choose_scalar_style(self) -> str:
        # PyYAML's emitter writes a raw NEL (U+0085) in plain, single-quoted and block scalars, where YAML 1.1
        # reads it as a line break: its own round trip is lossy there. Double quotes escape it.
        if "\x85" in self.event.value:
            return '"'
        return super().choose_scalar_style()  # type: ignore[no-any-return]


@st.composite
def claim_documents(draw: st.DrawFn) -> dict[str, Any]:
    """A claims file as a Python value: every scalar a string, keys in any order, odd extra keys."""

    def statement() -> list[str]:
        return [draw(YAML_SCALARS), draw(YAML_SCALARS), draw(YAML_SCALARS)]

    claims = []
    for _ in range(draw(st.integers(0, 3))):
        fields: dict[str, Any] = {
            "id": draw(YAML_SCALARS),
            "quote": draw(YAML_SCALARS),
            "attribution": draw(st.one_of(st.just("author"), YAML_SCALARS)),
            "modality": draw(st.one_of(st.sampled_from(MODALITIES), YAML_SCALARS)),
            "statements": [statement() for _ in range(draw(st.integers(0, 3)))],
        }
        for key in ("when", "when_text", "note"):
            if draw(st.booleans()):
                fields[key] = draw(YAML_SCALARS)
        for key in draw(st.lists(YAML_SCALARS, max_size=2)):
            fields.setdefault(key, draw(st.one_of(YAML_SCALARS, st.lists(YAML_SCALARS, max_size=3))))
        order = draw(st.permutations(list(fields)))
        claims.append({key: fields[key] for key in order})
    return {"source": draw(YAML_SCALARS), "claims": claims}


def dump(draw: st.DrawFn, document: Any) -> str:
    return yaml.dump(
        document,
        Dumper=PlainDumper,
        allow_unicode=draw(st.booleans()),
        default_flow_style=draw(st.sampled_from([False, None, True])),
        default_style=draw(st.sampled_from([None, None, None, '"', "'", "|", ">"])),
        width=draw(st.sampled_from([20, 80, 100_000])),
        indent=draw(st.sampled_from([2, 4])),
        line_break=draw(st.sampled_from([None, "\r\n", "\r"])),
        explicit_start=draw(st.booleans()),
        explicit_end=draw(st.booleans()),
        sort_keys=False,
    )


def plain(value: Any, path: str, lines: int) -> Any:
    """The value read, as plain Python, after checking every part is a Y* type located inside the file."""
    assert isinstance(value, yamlio.YStr | yamlio.YList | yamlio.YMap), type(value)
    assert str(value.location.path) == path and 1 <= value.location.line <= lines, value.location
    if isinstance(value, yamlio.YStr):
        assert type(value) is yamlio.YStr
        return str(value)
    if isinstance(value, yamlio.YList):
        return [plain(item, path, lines) for item in value]
    return {plain(key, path, lines): plain(item, path, lines) for key, item in value.items()}


@st.composite
def dumped_claim_documents(draw: st.DrawFn) -> tuple[dict[str, Any], str]:
    document = draw(claim_documents())
    return document, dump(draw, document)


@settings(PROFILE, max_examples=200)
@given(dumped_claim_documents())
def test_claim_documents_read_back_as_exactly_the_strings_written(case: tuple[dict[str, Any], str]) -> None:
    document, text = case
    path = "claims/generated.yaml"
    read = yamlio.loads(text, path)
    assert plain(read, path, lines_in(text)) == document


def test_the_round_trip_writes_implicit_types_unquoted() -> None:
    """The property above has teeth: its dumper leaves NO, 1.10, ~ and dates unquoted, which a standard
    YAML reader turns into a boolean, a number, None and a date."""
    document = {"quote": "NO", "id": "1.10", "note": "~", "when": "2016-10-28"}
    text = yaml.dump(document, Dumper=PlainDumper, sort_keys=False)
    assert text == "quote: NO\nid: 1.10\nnote: ~\nwhen: 2016-10-28\n"
    assert yaml.safe_load(text) != document
    assert yamlio.loads(text) == document


@settings(PROFILE, max_examples=60)
@given(dumped_claim_documents(), st.booleans())
def test_a_byte_order_mark_changes_no_value_and_no_line(case: tuple[dict[str, Any], str], bom: bool) -> None:
    document, text = case
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "claims.yaml"
        path.write_bytes(("\ufeff" if bom else "").encode() + text.encode("utf-8"))
        read = yamlio.load(path)
    expected = yamlio.loads(text, path)
    assert read == expected == document
    if read["claims"]:
        assert read["claims"].location == expected["claims"].location


# -- hostile files, written with our own emitter so each line is known --------------------------------


def double_quoted(text: str) -> str:
    """A YAML double-quoted scalar for `text`: printable characters as they are, everything else escaped."""
    out = []
    for char in text:
        if char in '"\\':
            out.append("\\" + char)
        elif char == "\x85" or (not char.isprintable() and char not in "\u00a0"):
            code = ord(char)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


CLAIM_LINES = [
    ("id", "    - id: {}"),
    ("quote", "      quote: {}"),
    ("attribution", "      attribution: {}"),
    ("modality", "      modality: {}"),
    ("note", "      note: {}"),
    ("statements", "      statements:"),
    ("statement", "        - [{}, {}, {}]"),
]


@st.composite
def claim_file_lines(draw: st.DrawFn) -> list[str]:
    """The lines of a well-formed claims file (block style, double-quoted values)."""
    value = YAML_SCALARS.map(double_quoted)
    lines = ["source: " + draw(value), "claims:"]
    for _ in range(draw(st.integers(1, 3))):
        for _, template in CLAIM_LINES:
            lines.append(template.format(*(draw(value) for _ in range(template.count("{}")))))
    return lines


def indent_of(line: str) -> str:
    return line[: len(line) - len(line.lstrip(" -"))].replace("-", " ")


@st.composite
def hostile_documents(draw: st.DrawFn) -> tuple[str, int, str]:
    """(text, the 1-based line the refusal must name, what was done) for a claims file with one hostile line."""
    lines = draw(claim_file_lines())
    value_lines = [i for i, line in enumerate(lines) if re.match(r" *(- )?[a-z]+: \"", line)]
    at = draw(st.sampled_from(value_lines))
    line = lines[at]
    key, _, _ = line.strip(" -").partition(":")
    head = line[: line.index(key) + len(key) + 1]
    kind = draw(
        st.sampled_from(
            ["tag", "key tag", "anchor", "alias", "duplicate", "tab", "control", "surrogate", "escape", "nesting"]
        )
    )
    if kind == "tag":
        tag = draw(
            st.sampled_from(
                [
                    "!!python/object/apply:os.system ['touch pwned']",
                    "!!python/name:os.system",
                    "!!python/object:__main__.X {}",
                    "!!int 3",
                    "!!bool yes",
                    "!!timestamp 2020-01-01",
                    "!!binary aGk=",
                    "!!set {a, b}",
                    "!!omap [a: b]",
                    "!local x",
                    "!<tag:example.com,2000:x> y",
                ]
            )
        )
        lines[at] = f"{head} {tag}"
    elif kind == "key tag":
        lines[at] = line.replace(key + ":", f"!!python/name:os.system {key}:", 1)
    elif kind == "anchor":
        lines[at] = f"{head} &{draw(st.sampled_from(['a', 'x1', 'lol']))} {line[len(head) :].strip()}"
    elif kind == "alias":
        lines[at] = f"{head} *a"
    elif kind == "duplicate":  # the same key again on the next line, quoted, so only its text is the same
        quoted = draw(st.sampled_from([f'"{key}"', f"'{key}'", key]))
        lines.insert(at + 1, f"{indent_of(line)}{quoted}: {double_quoted(draw(YAML_SCALARS))}")
        at += 1
    elif kind == "tab":
        lines[at] = "\t" + line.lstrip(" ") if not line.lstrip().startswith("-") else line.replace("- ", "-\t", 1)
    elif kind == "control":
        char = draw(st.sampled_from(["\x00", "\x01", "\x08", "\x0b", "\x0c", "\x1b", "\x7f", "\x80", "\x9f", "\ufffe"]))
        lines[at] = f"{head} {char}{draw(st.sampled_from(['', 'x', 'tail']))}"
    elif kind in ("surrogate", "escape"):  # escapes that give no character
        choices = (
            ["\\ud800", "\\udfff", "\\ud83d\\ude00", "x\\udc80"]
            if kind == "surrogate"
            else ["\\U00110000", "\\UFFFFFFFF", "\\q", "\\x4", "\\u12"]
        )
        lines[at] = f'{head} "{draw(st.sampled_from(choices))}"'
    elif draw(st.booleans()):  # nesting deeper than the reader allows, in flow style: refused on that line
        depth = draw(st.sampled_from([66, 70, 300, 2_000, 20_000]))
        lines[at] = f"{head} {'[' * depth}x{']' * depth}"
    else:  # ... or in block style: refused at the first level too deep, on a later line
        pad = indent_of(line) + "  "
        lines[at : at + 1] = [head] + [
            f"{pad}{' ' * level}k{level}:" for level in range(draw(st.sampled_from([66, 70, 400, 800])))
        ]
        return "\n".join(lines) + "\n", at + 1, "block nesting"
    return "\n".join(lines) + "\n", at + 1, kind


@settings(PROFILE, max_examples=200)
@given(hostile_documents())
def test_hostile_claim_files_are_refused_at_their_line(case: tuple[str, int, str]) -> None:
    """A tag (on a value or a key), an anchor, an alias, a duplicate key, a tab, a control character, an escape
    that is no character, nesting too deep: an InputError naming the file and the line, never another error."""
    text, line, kind = case
    with pytest.raises(Exception) as caught:
        yamlio.loads(text, "claims/hostile.yaml")
    err = located_error(caught.value, "claims/hostile.yaml")
    if kind == "block nesting":
        assert "nested too deeply" in err.message
        assert err.location is not None and err.location.line > line
    else:
        assert err.location is not None and err.location.line == line, (kind, str(err))


@pytest.mark.parametrize(
    ("style", "depth"),
    [("flow", depth) for depth in (65, 66, 300, 2_000, 20_000)] + [("block", depth) for depth in (65, 66, 300, 2_000)],
)
def test_nesting_too_deep_is_refused_at_its_line(style: str, depth: int) -> None:
    """Not only with `_convert`'s depth check (which needs the whole tree) but before PyYAML's recursive
    composer overflows the stack, which used to give an error with no line."""
    if style == "flow":
        text = "source: beta\nclaims: " + "[" * depth + "x" + "]" * depth + "\n"
        first_too_deep = 2
    else:
        text = "source: beta\nclaims:\n" + "".join(" " * (level + 1) + f"k{level}:\n" for level in range(depth))
        first_too_deep = 3 + 63  # key k63 is at depth 65 (the root is at 0, each key one deeper than its mapping)
    try:
        yamlio.loads(text, "deep.yaml")
    except InputError as err:
        assert "nested too deeply" in err.message
        assert err.location is not None and err.location.line == first_too_deep, str(err)
    else:
        pytest.fail("not refused")


INVALID_UTF8 = [  # bytes no UTF-8 text holds there: stray, truncated, surrogate, beyond U+10FFFF, overlong
    *[b"\xff", b"\xfe", b"\x80", b"\xc3", b"\xc3(", b"\xe2\x82", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xc0\xaf"],
]


@settings(PROFILE, max_examples=150)
@given(claim_file_lines(), st.data())
def test_invalid_utf8_is_refused_at_the_line_and_column_of_the_bad_byte(lines: list[str], data: st.DataObject) -> None:
    text = "\n".join(lines) + "\n"
    at = data.draw(st.integers(0, len(text)), label="character offset")
    bad = data.draw(st.sampled_from(INVALID_UTF8), label="bytes")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "claims.yaml"
        path.write_bytes(text[:at].encode() + bad + text[at:].encode())
        with pytest.raises(Exception) as caught:
            yamlio.load(path)
    err = located_error(caught.value, path)
    before = text[:at]
    assert err.location is not None
    assert (err.location.line, err.location.column) == (before.count("\n") + 1, len(before.rsplit("\n", 1)[-1]) + 1)
    assert "UTF-8" in err.message


YAML_TOKENS = [
    *[":", ": ", "- ", "-", "? ", "[", "]", "{", "}", ",", "&a ", "*a", "!!str ", "!x ", "!!python/name:x ", "|"],
    *[">", "|-", "'", '"', "#", "%YAML 1.1\n", "---\n", "...\n", "\n", "\r\n", "\t", "  ", "\\", "\\U00110000"],
    *["\\ud800", '"\\U00110000"', '"\\ud83d\\ude00"', "a: ", "\n- ", "\n  ", "\ufeff", "\x85", "\u2028", "\x00"],
    *["a", "key", "NO", "1.10", "~", "<<"],
]
YAML_NOISE = st.lists(
    st.one_of(
        st.sampled_from(YAML_TOKENS),
        st.text(max_size=8),
        st.sampled_from(["\ud800", "\udfff"]),  # lone surrogates, which st.text() never makes
    ),
    max_size=40,
).map("".join)


@settings(PROFILE, max_examples=400)
@given(YAML_NOISE)
def test_any_text_is_read_or_refused_with_an_input_error(text: str) -> None:
    try:
        value = yamlio.loads(text, "noise.yaml")
    except Exception as exc:
        err = located_error(exc, "noise.yaml")
        assert err.location is not None and err.location.line <= lines_in(text)
        return
    if value is not None:
        plain(value, "noise.yaml", lines_in(text))


@settings(PROFILE, max_examples=150)
@given(st.binary(max_size=200), st.sampled_from([b"", b"\xef\xbb\xbf", b"a: ", b"claims:\n  - id: "]))
def test_any_bytes_are_read_or_refused_with_an_input_error(data: bytes, head: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "claims.yaml"
        path.write_bytes(head + data)
        try:
            yamlio.load(path)
        except Exception as exc:
            located_error(exc, path)


# -- the whole ledger reader: claims with awkward text come out as the text written ----------------------

BETA_QUOTES = [
    "Freedonia and Sylvania cooperate only against smugglers, case by case.",
    "The so-called pact will not outlast this government.",
    "pact  will  not outlast",  # whitespace differs from the text
    "“The so-called pact”",  # quotation marks the text does not have
]
BETA_STATEMENTS = [
    ["freedonia-sylvania", "directedAgainst", "smuggling"],
    ["freedonia-sylvania", "hasTimeHorizon", "shortTerm"],
    ["freedonia-sylvania", "directedAgainst", "StateThreat"],
]
BETA_TEXT = (MINI / "corpus" / "beta.txt").read_text(encoding="utf-8")
CLAIM_IDS = st.one_of(
    st.sampled_from(["NO", "1.10", "2016-10-28", "0x1F", "1e3", "true", "null", "012", "a.b_c-d", "Z"]),
    st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,12}", fullmatch=True),
)


@st.composite
def beta_claim_files(draw: st.DrawFn) -> tuple[list[dict[str, str]], str]:
    claims = []
    for claim_id in draw(
        st.lists(CLAIM_IDS.filter(lambda i: not i.startswith("ann-")), min_size=1, max_size=3, unique=True)
    ):
        claim = {
            "id": claim_id,
            "quote": draw(st.sampled_from(BETA_QUOTES)) + draw(st.sampled_from(["", " ", "\n"])),
            "attribution": "author",
            "modality": draw(st.sampled_from(MODALITIES)),
            "when": draw(st.sampled_from(["2020", "2020-03", "2020-03-03", "2019/2020", "2020-02-29"])),
            "when_text": draw(YAML_SCALARS),
            "note": draw(YAML_SCALARS),
            "statements": draw(st.lists(st.sampled_from(BETA_STATEMENTS), min_size=1, max_size=3)),
        }
        claims.append(claim)
    return claims, dump(draw, {"source": "beta", "claims": claims})


@settings(PROFILE, max_examples=40)
@given(beta_claim_files())
def test_ledger_claims_keep_the_text_written(case: tuple[list[dict[str, str]], str]) -> None:
    claims, text = case
    with tempfile.TemporaryDirectory() as folder:
        root = copy_mini(Path(folder) / "mini")
        (root / "claims" / "beta.yaml").write_text(text, encoding="utf-8")
        ledger = load_ledger(root)
    for written in claims:
        claim = ledger.claims[written["id"]]
        assert (claim.id, claim.quote, claim.modality) == (written["id"], written["quote"].strip(), written["modality"])
        assert (claim.when, claim.when_text, claim.note) == (written["when"], written["when_text"], written["note"])
        assert [[s.subject, s.predicate, s.object.text] for s in claim.statements] == written["statements"]
        (anchor,) = [a.anchor for a in claim.anchors if a.document == "beta"]
        assert BETA_TEXT[anchor.start : anchor.end] == anchor.exact
        assert comparable(anchor.exact) == comparable(claim.quote)


@pytest.mark.parametrize(
    ("file", "old", "new"),
    [
        ("claims/beta.yaml", "id: bob-smugglers", 'id: "bob-smugglers\\n"'),
        ("entities.yaml", "smuggling:", '"extra\\n": {a: NonStateActor, label: Extra}\nsmuggling:'),
    ],
    ids=["claim", "entity"],
)
def test_an_id_with_a_final_newline_is_refused(tmp_path: Path, file: str, old: str, new: str) -> None:
    """Refused when the ledger is read (re.match with `$` let it through, and the build died in the store stage
    with pyoxigraph's "Invalid IRI code point")."""
    root = copy_mini(tmp_path / "mini")
    path = root / file
    path.write_text(path.read_text(encoding="utf-8").replace(old, new, 1), encoding="utf-8")
    with pytest.raises(InputErrors) as caught:
        load_ledger(root)
    assert "id " in str(caught.value)


# ====================================================================================================
# 2. Quote anchoring
#
# What anchor.py promises (module and Index.find_all docstrings): matching ignores whitespace (and format
# characters), apostrophes and quotation marks, and letter case, and maps each match back to exact offsets
# [start, end) in code points into the text as it is, taking in the quotation marks the quote itself begins
# or ends with when the text has them there. So, for every anchor a of quote q in text t:
#   - t[a.start:a.end] == a.exact, and a.prefix / a.suffix are the CONTEXT characters around it;
#   - a.exact and q are the same words: equal once ignorable characters are dropped and case folded;
#   - a.exact starts and ends on a word character or a quotation mark (never on whitespace), and on a mark
#     only if the quote starts / ends with one;
# and every occurrence is listed: damage to whitespace, marks or case never loses one.
# ====================================================================================================

MARKS = "'\"`´‘’‚‛“”„‟«»‹›′″"  # the apostrophes and quotation marks the module documents as ignored
SWAPPABLE_MARKS = "'’\"“”"


def ignorable(char: str) -> bool:
    return char.isspace() or char in MARKS or unicodedata.category(char) == "Cf"


def comparable(text: str) -> str:
    return "".join(c for c in text if not ignorable(c)).casefold()


def core(text: str, anchor: Anchor) -> tuple[int, int]:
    """An anchor's span without the quotation marks it took in at its ends."""
    start, end = anchor.start, anchor.end
    while start < end and text[start] in MARKS:
        start += 1
    while end > start and text[end - 1] in MARKS:
        end -= 1
    return start, end


def simple_case_swap(char: str) -> str | None:
    """The other case of `char` when both are single characters that fold alike, else None."""
    other = char.swapcase()
    if len(other) == 1 and other != char and len(char.casefold()) == 1 and other.casefold() == char.casefold():
        return other
    return None


def check_anchors(text: str, quote: str, found: list[Anchor]) -> None:
    """The soundness half of the promise, for every anchor found."""
    lead = re.match(f"[{re.escape(MARKS)}]*", quote.strip()).group(0)  # type: ignore[union-attr]
    trail = re.search(f"[{re.escape(MARKS)}]*$", quote.strip()).group(0)  # type: ignore[union-attr]
    for anchor in found:
        assert text[anchor.start : anchor.end] == anchor.exact
        assert anchor.prefix == text[max(0, anchor.start - CONTEXT) : anchor.start]
        assert anchor.suffix == text[anchor.end : anchor.end + CONTEXT]
        assert comparable(anchor.exact) == comparable(quote) != ""
        start, end = core(text, anchor)
        assert not ignorable(text[start]) and not ignorable(text[end - 1]), anchor
        assert start - anchor.start <= len(lead) and anchor.end - end <= len(trail), anchor


WORDS = ["Iran", "Russia", "pact", "it’s", "Marsovia’s", "“armed build-up”", "'quoted'", '"NO"', "ÉTÉ", "ß", "İ"]
WORDS += ["😀", "🇫🇷", "𝔘𝔫𝔦", "a\u0301", "\u200b", "x\u00ady", "ﬁ", "Σας", "中文"]
SEPARATORS = [" ", " ", "\n", "\t", "  ", *SWAPPABLE_MARKS, "‘", "«", "»", "`", ".", ",", "-", "\u00a0", "\u2028"]
TEXTS = st.lists(
    st.one_of(
        st.sampled_from(WORDS),
        st.sampled_from(SEPARATORS),
        st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=3),
    ),
    min_size=1,
    max_size=24,
).map("".join)


@st.composite
def damaged(draw: st.DrawFn) -> tuple[str, str, tuple[int, int], str, tuple[int, int]]:
    """(text, quote = text[i:j], the quote's words' span in text, damaged text, that span in it)."""
    text = draw(TEXTS)
    i = draw(st.integers(0, len(text) - 1))
    j = draw(st.integers(i + 1, len(text)))
    words = [k for k in range(i, j) if not ignorable(text[k])]
    assume(words)
    out: list[str] = []
    moved_to: list[int] = []
    for char in text:
        out.append(draw(st.sampled_from(["", "", "", " ", "\n", "  ", "\t"])))  # whitespace inserted
        moved_to.append(len("".join(out)))
        if char.isspace():
            out.append(draw(st.sampled_from([char, "", char * 2, "\n", " "])))  # dropped, doubled, replaced
        elif char in SWAPPABLE_MARKS:
            out.append(draw(st.sampled_from(["", char, *SWAPPABLE_MARKS])))  # dropped or swapped
        elif (other := simple_case_swap(char)) is not None and draw(st.booleans()):
            out.append(other)
        else:
            out.append(char)
    damaged_text = "".join(out)
    span = (words[0], words[-1] + 1)
    return text, text[i:j], span, damaged_text, (moved_to[words[0]], moved_to[words[-1]] + 1)


@settings(PROFILE, max_examples=300)
@given(damaged())
def test_damaged_copies_still_anchor_the_quote_at_the_right_offsets(
    case: tuple[str, str, tuple[int, int], str, tuple[int, int]],
) -> None:
    text, quote, span, damaged_text, damaged_span = case
    clean = Index(text).find_all(quote)
    check_anchors(text, quote, clean)
    assert span in [core(text, a) for a in clean]
    found = Index(damaged_text).find_all(quote)
    check_anchors(damaged_text, quote, found)
    assert damaged_span in [core(damaged_text, a) for a in found], (damaged_text, quote)


@settings(PROFILE, max_examples=300)
@given(TEXTS, st.data())
def test_a_quote_whose_words_are_not_in_the_text_is_never_found(text: str, data: st.DataObject) -> None:
    if text and data.draw(st.booleans(), label="near miss"):
        i = data.draw(st.integers(0, len(text) - 1), label="i")
        j = data.draw(st.integers(i + 1, len(text)), label="j")
        k = data.draw(st.integers(i, j - 1), label="changed")
        quote = text[i:k] + data.draw(st.characters(exclude_categories=["Cs"]), label="new") + text[k + 1 : j]
    else:
        quote = data.draw(TEXTS, label="quote")
    assume(comparable(quote) not in comparable(text) or not comparable(quote))
    assert Index(text).find_all(quote) == []


ASTRAL = st.characters(min_codepoint=0x10000, max_codepoint=0x10FFFF, exclude_categories=["Cs", "Cn", "Co"])


@settings(PROFILE, max_examples=150)
@given(
    st.lists(st.one_of(ASTRAL, TEXTS), max_size=6).map("".join),
    st.lists(st.one_of(ASTRAL, TEXTS), min_size=1, max_size=6).map("".join),
    st.lists(st.one_of(ASTRAL, TEXTS), max_size=6).map("".join),
)
def test_offsets_count_code_points_even_for_astral_characters(before: str, quote: str, after: str) -> None:
    assume(comparable(quote))
    text = before + quote + after
    words = [k for k in range(len(before), len(before) + len(quote)) if not ignorable(text[k])]
    found = Index(text).find_all(quote)
    check_anchors(text, quote, found)
    assert (words[0], words[-1] + 1) in [core(text, a) for a in found]


def test_offsets_after_emoji_are_code_points_not_utf16_or_bytes() -> None:
    text = "😀👨‍👩‍👧 the pact"
    (found,) = Index(text).find_all("the pact")
    assert (found.start, found.end) == (7, 15) == (text.index("the"), len(text))
    assert len(text[:7].encode("utf-16-le")) // 2 == 11 and len(text[:7].encode()) == 23  # what it is not


@settings(PROFILE, max_examples=200)
@given(damaged(), st.data())
def test_a_search_in_a_range_finds_what_a_search_of_that_slice_finds(
    case: tuple[str, str, tuple[int, int], str, tuple[int, int]], data: st.DataObject
) -> None:
    """find_all(start=, end=) is how a quote is looked up in one passage of another copy of a work."""
    _, quote, _, text, _ = case
    start = data.draw(st.integers(0, len(text)), label="start")
    end = data.draw(st.integers(start, len(text)), label="end")
    in_range = [(a.start, a.end, a.exact) for a in Index(text).find_all(quote, start=start, end=end)]
    in_slice = [(a.start + start, a.end + start, a.exact) for a in Index(text[start:end]).find_all(quote)]
    assert in_range == in_slice


# ====================================================================================================
# 3. Exporters: every format parses back (with pyoxigraph, independent of the serializer for JSON-LD) to
#    the store's data, blank nodes up to renaming; Turtle and N-Triples hold the union of the named graphs.
# ====================================================================================================

XSD = "http://www.w3.org/2001/XMLSchema#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
IRI_BASES = [
    "https://w3id.org/allygraph/id/",
    "https://w3id.org/allygraph/ontology#",
    "https://w3id.org/allygraph/graph/",
    "http://www.w3.org/2001/XMLSchema#",
    "http://example.org/",
    "urn:x:",
    "id:",  # an IRI whose scheme is a prefix of the shipped JSON-LD context
]
IRI_SUFFIX = st.text(st.sampled_from(string.ascii_letters + string.digits + "-._~/:@!$&'()*+,;=é中"), max_size=12)
IRIS = st.builds(lambda base, suffix: ox.NamedNode(base + suffix), st.sampled_from(IRI_BASES), IRI_SUFFIX)
LITERAL_TEXT = st.one_of(
    st.text(st.characters(exclude_categories=["Cs"]), max_size=20),
    st.sampled_from(['"', "'", '"""', "'''", "\\", "\\n", "\n", "\r\n", "\t", "\x00", "a\nb", "😀", "\u2028", "@en"]),
)
LANGUAGE = st.one_of(
    st.sampled_from(["en", "en-GB", "EN-us", "fr", "de-CH-1996", "zh-Hans-CN", "sr-Latn", "x-private", "i-klingon"]),
    st.from_regex(r"[a-zA-Z]{2,3}(-[a-zA-Z]{2})?", fullmatch=True),
)


def literals() -> st.SearchStrategy[ox.Literal]:
    return st.one_of(
        st.builds(lambda t: ox.Literal(t), LITERAL_TEXT),
        st.builds(lambda t, lang: ox.Literal(t, language=lang), LITERAL_TEXT, LANGUAGE),
        st.builds(lambda t, dt: ox.Literal(t, datatype=dt), LITERAL_TEXT, IRIS),
        st.builds(lambda n: ox.Literal(str(n), datatype=ox.NamedNode(XSD + "integer")), st.integers(-(2**53), 2**53)),
        st.builds(lambda b: ox.Literal(b, datatype=ox.NamedNode(XSD + "boolean")), st.sampled_from(["true", "false"])),
        st.builds(lambda d: ox.Literal(str(d), datatype=ox.NamedNode(XSD + "date")), st.dates()),
        st.builds(
            lambda d: ox.Literal(str(d), datatype=ox.NamedNode(XSD + "decimal")),
            st.decimals(places=3, allow_nan=False, allow_infinity=False),
        ),
        st.builds(lambda t: ox.Literal(t, datatype=ox.NamedNode(XSD + "integer")), LITERAL_TEXT),  # ill-typed
        st.builds(lambda f: ox.Literal(repr(f), datatype=ox.NamedNode(XSD + "double")), st.floats()),  # NaN, inf
        st.builds(lambda n: ox.Literal(str(n), datatype=ox.NamedNode(XSD + "integer")), st.integers(2**53 + 1, 10**30)),
    )


@st.composite
def datasets(draw: st.DrawFn) -> list[ox.Quad]:
    """Quads in several named graphs: IRIs, literals and blank nodes, some blank nodes shared, an RDF list."""
    bnodes = [ox.BlankNode() for _ in range(draw(st.integers(0, 4)))]
    graphs = draw(st.lists(IRIS, min_size=1, max_size=4, unique_by=str))
    subjects = st.one_of(IRIS, st.sampled_from(bnodes)) if bnodes else IRIS
    terminals = st.one_of(IRIS, literals())
    objects = st.one_of(terminals, st.sampled_from(bnodes)) if bnodes else terminals
    quads = []
    for _ in range(draw(st.integers(1, 25))):
        subject = draw(subjects)
        predicate = draw(st.one_of(IRIS, st.just(ox.NamedNode(RDF_TYPE))))
        obj = draw(objects)
        quads.append(ox.Quad(subject, predicate, obj, draw(st.sampled_from(graphs))))
    if draw(st.booleans()):  # an RDF list, as owl:intersectionOf and friends write them
        rdf = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
        items = draw(st.lists(st.one_of(IRIS, literals()), min_size=1, max_size=4))
        cells = [ox.BlankNode() for _ in items]
        graph = draw(st.sampled_from(graphs))
        quads.append(ox.Quad(draw(IRIS), ox.NamedNode("http://www.w3.org/2002/07/owl#intersectionOf"), cells[0], graph))
        for cell, item, rest in zip(cells, items, [*cells[1:], ox.NamedNode(rdf + "nil")], strict=True):
            quads.append(ox.Quad(cell, ox.NamedNode(rdf + "first"), item, graph))
            quads.append(ox.Quad(cell, ox.NamedNode(rdf + "rest"), rest, graph))
    return quads


def canonical(quads: list[ox.Quad], *, triples: bool = False) -> list[str]:
    """The quads with blank nodes relabelled canonically (RDFC), as sorted N-Quads; `triples`: as one graph."""
    if triples:
        quads = [ox.Quad(q.subject, q.predicate, q.object) for q in quads]
    dataset = ox.Dataset(quads)
    dataset.canonicalize(ox.CanonicalizationAlgorithm.UNSTABLE)
    return sorted(str(q) for q in dataset)


def exported(store: ox.Store, fmt: str, graph: str | None = None) -> list[ox.Quad]:
    out = io.BytesIO()
    export(store, fmt, out, graph=graph)
    return list(ox.parse(out.getvalue(), format=FORMATS[fmt]))


def store_of(quads: list[ox.Quad]) -> ox.Store:
    store = ox.Store()
    store.extend(quads)
    return store


@settings(PROFILE, max_examples=80)
@given(datasets(), st.sampled_from(["trig", "nquads", "turtle", "ntriples"]))
def test_exports_parse_back_to_the_stored_data(quads: list[ox.Quad], fmt: str) -> None:
    store = store_of(quads)
    stored = list(store)  # what the store holds (it normalises some literals: "01"^^xsd:integer is "1")
    union = fmt in ("turtle", "ntriples")
    assert canonical(exported(store, fmt), triples=union) == canonical(stored, triples=union)
    graph = quads[0].graph_name
    in_graph = [q for q in stored if q.graph_name == graph]
    assert canonical(exported(store, fmt, graph.value), triples=True) == canonical(in_graph, triples=True)


@settings(PROFILE, max_examples=80)
@given(datasets())
def test_json_ld_export_parses_back_to_the_stored_data(quads: list[ox.Quad]) -> None:
    """JSON-LD too, read back by pyoxigraph's (strict) JSON-LD parser: rdf:type of blank nodes and literals,
    ill-typed and huge literals, NaN, blank nodes referring only to each other, IRIs like `id:x`."""
    store = store_of(quads)
    stored = list(store)
    assert canonical(exported(store, "jsonld")) == canonical(stored)
    graph = quads[0].graph_name
    assert canonical(exported(store, "jsonld", graph.value)) == canonical([q for q in stored if q.graph_name == graph])


def _jsonld_case(obj: ox.NamedNode | ox.Literal | ox.BlankNode, predicate: str = RDF_TYPE) -> list[ox.Quad]:
    return [
        ox.Quad(
            ox.NamedNode("http://example.org/s"), ox.NamedNode(predicate), obj, ox.NamedNode("http://example.org/g")
        )
    ]


@pytest.mark.parametrize(
    "quads",
    [
        # rdf:type of a blank node (a denied claim's class complement, in every build) and of a literal
        _jsonld_case(ox.BlankNode()),
        _jsonld_case(ox.Literal("text")),
        # literals JSON numbers would change: ill-typed, past 2**53, a double's lexical form, NaN (not JSON)
        _jsonld_case(ox.Literal("abc", datatype=ox.NamedNode(XSD + "integer")), "http://example.org/p"),
        _jsonld_case(ox.Literal("1" + "0" * 20, datatype=ox.NamedNode(XSD + "integer")), "http://example.org/p"),
        _jsonld_case(ox.Literal("1", datatype=ox.NamedNode(XSD + "double")), "http://example.org/p"),
        _jsonld_case(ox.Literal("NaN", datatype=ox.NamedNode(XSD + "double")), "http://example.org/p"),
        # blank nodes that only refer to each other, with everything said about them
        [
            ox.Quad(b, ox.NamedNode("http://example.org/p"), b, ox.NamedNode("http://example.org/g"))
            for b in [ox.BlankNode()]
        ],
        # an IRI whose scheme is a prefix of the context (read as a compact IRI if the prefix were there), and
        # one in a prefix's namespace whose rest starts with "//" (not compacted: "id:///x" is an IRI)
        _jsonld_case(ox.NamedNode("id:x"), "http://example.org/p"),
        _jsonld_case(ox.NamedNode("https://w3id.org/allygraph/id///x"), "http://example.org/p"),
    ],
    ids=[
        "type-bnode",
        "type-literal",
        "ill-typed-integer",
        "big-integer",
        "double-lexical",
        "double-nan",
        "bnode-cycle",
        "iri-scheme-is-a-prefix",
        "iri-rest-starts-with-slashes",
    ],
)
def test_json_ld_export_of_awkward_terms(quads: list[ox.Quad]) -> None:
    store = store_of(quads)
    assert canonical(exported(store, "jsonld")) == canonical(list(store))


# ====================================================================================================
# 4. The query guard
# ====================================================================================================

SPARQLISH = st.lists(
    st.one_of(
        st.sampled_from(
            [
                "SELECT",
                "*",
                "WHERE",
                "{",
                "}",
                "(",
                ")",
                "[",
                "]",
                ".",
                ";",
                ",",
                "?s",
                "$o",
                "<",
                ">",
                "<=",
                "&&",
                "FILTER",
                "BIND",
                "AS",
                "GRAPH",
                "SERVICE",
                "service",
                "SeRvIcE",
                "LOAD",
                "SILENT",
                "INTO",
                "<http://x/>",
                "ex:a",
                "ex:a\\#",
                "\\",
                "\\u0053",
                '"',
                "'",
                '"""',
                "'''",
                "#",
                "\n",
                "\r",
                "\t",
                " ",
                "1",
                "a",
                "$",
                "?",
                "\\'",
                '\\"',
                "\u00a0",
                "\u2028",
            ]
        ),
        st.text(max_size=5),
    ),
    max_size=40,
).map("".join)


@settings(PROFILE, max_examples=400)
@given(SPARQLISH)
def test_the_guards_raise_nothing_but_input_errors(text: str) -> None:
    for check in (check_local, check_depth):
        try:
            check(text, "q.rq")
        except Exception as exc:
            located_error(exc, "q.rq")


QUOTE_FREE = st.lists(st.sampled_from(list("abc SERVICE#<>{}`?$:.'\n")), max_size=10).map("".join)


def _short(quote: str) -> st.SearchStrategy[str]:
    """A complete short string: no raw newline or own quote; escapes included."""
    other = "'" if quote == '"' else '"'
    chars = st.sampled_from([*"abc SERVICE#<>{}`?$:.", other, "\\\\", '\\"', "\\'", "\\n", "\\t"])
    return st.lists(chars, max_size=8).map(lambda cs: quote + "".join(cs) + quote)


def _long(quote: str) -> st.SearchStrategy[str]:
    """A complete long string: raw line breaks, escapes (an escaped quote last, too), and one or two of its
    own quote inside."""
    other = "'" if quote == '"' else '"'
    pieces = st.sampled_from([*"abc SERVICE#<>{}`?$:.\n\r", other, "\\\\", "\\" + quote, quote + "a", quote * 2 + "b"])
    return st.lists(pieces, max_size=8).map(lambda ps: quote * 3 + "".join(ps) + quote * 3)


NOISE_TOKENS = st.one_of(
    st.sampled_from(
        [
            "SELECT",
            "*",
            "WHERE",
            "{",
            "}",
            "(",
            ")",
            ".",
            ";",
            ",",
            "FILTER",
            "BIND",
            "AS",
            "OPTIONAL",
            "UNION",
            "GRAPH",
            "a",
            "1",
            "2.5",
            "true",
            "?s",
            "?service",
            "$SERVICE",
            "?o",
            "<",
            ">",
            "<=",
            "&&",
            "||",
            "!",
            "=",
            "ex:a",
            "ex:a\\#b",
            "ex:serv\\.ice",
            "_:b",
            "<http://example.org/SERVICE>",
            "<urn:x:load#SERVICE>",
            "<>",
            "^^",
            "@en",
        ]
    ),
    _short('"'),
    _short("'"),
    _long('"'),
    _long("'"),
    # a comment, ended by LF, CR or CRLF (SPARQL ends a comment at either)
    st.builds(lambda s, eol: "#" + s.replace("\n", " ") + eol, QUOTE_FREE, st.sampled_from(["\n", "\r", "\r\n"])),
)
SERVICE_CLAUSES = st.builds(
    lambda word, silent, iri, sep: f"{word}{sep}{silent}<{iri}>{sep}{{ ?s ?p ?o }}",
    st.sampled_from(["SERVICE", "service", "Service", "sErViCe"]),
    st.sampled_from(["", "SILENT "]),
    st.sampled_from(["http://127.0.0.1:9/sparql", "https://example.org/sparql", "urn:x"]),
    st.sampled_from([" ", "\n", "\t", ""]),
)


@st.composite
def service_queries(draw: st.DrawFn) -> tuple[str, int]:
    """(a query text with a SERVICE clause among well-formed noise, the line the clause starts on)."""

    def noise() -> str:
        tokens = draw(st.lists(NOISE_TOKENS, max_size=12))
        return "".join(token + draw(st.sampled_from([" ", "\n", "\t", "  \n"])) for token in tokens)

    before, clause, after = noise(), draw(SERVICE_CLAUSES), noise()
    return before + clause + " " + after, before.count("\n") + 1


@settings(PROFILE, max_examples=300)
@given(service_queries())
def test_a_service_clause_outside_strings_and_comments_is_refused(case: tuple[str, int]) -> None:
    text, line = case
    with pytest.raises(InputError) as caught:
        check_local(text, "q.rq")
    assert caught.value.message.startswith("SERVICE is refused")
    assert caught.value.location is not None and caught.value.location.line == line


@pytest.mark.parametrize(
    "text",
    [
        # a long string ending in an escaped quote is one string to SPARQL; ending it one character early
        # would leave a '"' that opens a short string running over the SERVICE clause
        'SELECT * WHERE { BIND("""\\"""" AS ?x) SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } } #"',
        "SELECT * WHERE { BIND('''\\'''' AS ?x) SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } } #'",
        # SPARQL ends a comment at a carriage return too, not only at a line feed
        "SELECT * WHERE { # note\r SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }",
        # an IRI with a no-break space or a line separator (legal IRI characters) or a \u escape (which
        # pyoxigraph reads in IRIs) is an IRI: its '#' does not start a comment running over the SERVICE clause
        "SELECT * WHERE { BIND(<http://a/\u00a0#x> AS ?x) SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }",
        'SELECT*WHERE{BIND(<p:\u2028#>AS?x)BIND(""AS?y)SERVICE<http://2>{}}',
        "SELECT * WHERE { BIND(<http://a/\\u0041#x> AS ?x) SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }",
    ],
    ids=[
        "long-string-escaped-quote",
        "long-single-quoted",
        "comment-ended-by-cr",
        "iri-with-nbsp",
        "iri-with-line-separator",
        "iri-with-uchar",
    ],
)
def test_service_hidden_from_the_guard_but_not_from_sparql(text: str) -> None:
    """Shapes a text check can read differently from pyoxigraph's parser, each running its SERVICE clause in
    pyoxigraph: the guard lexes strings, comments and IRIs as SPARQL does, so it refuses them all."""
    with pytest.raises(InputError):
        check_local(text)


PARAM_VALUES = st.one_of(
    st.text(max_size=20),
    st.builds(
        lambda head, body, tail: head + body + tail,
        st.sampled_from(["<", "<http://", "http://", "https://", "urn:", "id:", "<id:", ""]),
        st.text(
            st.one_of(st.characters(exclude_categories=["Cs"]), st.sampled_from(' <>"{}|^`\\\n\t\r\x00')), max_size=15
        ),
        st.sampled_from([">", "", ">>", " >"]),
    ),
)
IRIREF_FORBIDDEN = set('<>"{}|^`\\') | {chr(c) for c in range(0x21)}


PARAM_NAMES = st.one_of(
    st.sampled_from(["view", "x", "_a1", "relationship"]), st.text(st.characters(exclude_characters="="), max_size=6)
)


@settings(PROFILE, max_examples=400)
@given(PARAM_NAMES, PARAM_VALUES)
def test_parse_param_binds_a_variable_to_an_iri_that_cannot_break_out_or_to_the_text(name: str, value: str) -> None:
    """`<x>`, `http(s)://…` and `urn:…` are IRIs, `id:x` the entity x, anything else the text itself; an IRI never
    holds a character SPARQL's IRIREF forbids (`<>"{}|^\\``, controls, space) or any other whitespace. A bad name,
    and a value that reads as an IRI but is not one, is an InputError."""
    good_name = re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) is not None
    if value.startswith("<") and value.endswith(">") and len(value) > 1:
        iri: str | None = value[1:-1]
    elif value.startswith(("http://", "https://", "urn:")):
        iri = value
    elif value.startswith("id:"):
        iri = "https://w3id.org/allygraph/id/" + value[3:]
    else:
        iri = None
    try:
        variable, term = parse_param(f"{name}={value}")
    except InputError:
        assert not good_name or iri is not None
        return
    assert good_name and variable.value == name
    if iri is None:
        assert isinstance(term, ox.Literal) and term.value == value and term.datatype.value == XSD + "string"
    else:
        assert isinstance(term, ox.NamedNode) and term.value == iri
        assert not set(term.value) & IRIREF_FORBIDDEN, term
        assert not any(c.isspace() for c in term.value), term


@pytest.mark.parametrize("text", ["v=<http://a b>", "v=http://a>b", 'v=id:a"b', "v=id:\udcff", "v=<http://a/\u00a0>"])
def test_parse_param_refuses_a_bad_iri_with_an_input_error(text: str) -> None:
    """`allygraph query q --param 'v=id:a b'` says what is wrong, never a traceback. (The last: a no-break space
    is a legal IRI character, but an invisible one; whitespace of any kind is refused, to catch copy-paste
    accidents.)"""
    with pytest.raises(InputError) as caught:
        parse_param(text)
    assert caught.value.message.startswith("--param v: "), caught.value
