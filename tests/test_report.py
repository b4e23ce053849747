"""`allygraph report`: the static HTML evidence report.

The pages are checked as files (every internal link and fragment resolves, elements nest, hostile text is
escaped, the matrix says what `classify` says, a view's report holds only that view's claims, documents and
events) and in a real browser (headless Chromium driven by
Selenium with the system chromedriver: the map renders and switches definitions, a matrix cell leads to a
highlighted quote, every link navigates). The browser tests are `slow` and are skipped only when Chromium
or chromedriver is not installed (CI installs both).
"""

from __future__ import annotations

import html
import os
import re
import shutil
from collections import defaultdict
from collections.abc import Callable, Iterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pyoxigraph
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

import allygraph
from allygraph import cli as cli_module
from allygraph.errors import InputError, StoreError
from allygraph.explain import claim_details
from allygraph.namespaces import AG, DCTERMS, ENTITIES_GRAPH, GRAPH, ID, NP, RDF, RDFS
from allygraph.reason import OUTCOMES, results_quads
from allygraph.report import Span, external_href, highlight, layout, write_report
from conftest import MINI, MINI_CLAIMS, REPO, PreviousBuild, Result

ATOP = Path(__file__).resolve().parent / "data" / "atop"
ARTIFACTS = REPO / "test-artifacts"
REPORT_JS = (REPO / "src" / "allygraph" / "report_assets" / "report.js").read_text(encoding="utf-8")
NQUADS = pyoxigraph.RdfFormat.N_QUADS


# ----------------------------------------------------------------------------------------------------
# Reading the pages back
# ----------------------------------------------------------------------------------------------------


class Page(HTMLParser):
    """One HTML page: its elements (checked to nest), ids, links, script texts, and what each mark covers."""

    VOID = frozenset({"meta", "link", "br", "img", "input", "hr", "wbr", "source", "area", "base", "col"})

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.ids: list[str] = []
        self.links: list[str] = []
        self.scripts: list[str] = []
        self.errors: list[str] = []
        self.text = ""  # the text outside <sup> notes (the document text, on a source page)
        self.covered: dict[str, list[int]] = defaultdict(list)  # mark data-claim -> offsets into self.text
        self.sections: dict[str, list[str]] = {}  # evidence section id -> links inside it
        self.cells: dict[tuple[str, str], tuple[str, str]] = {}  # (row, criterion) -> (status, href)
        self.outcomes: dict[str, str] = {}  # matrix row -> outcome
        self._stack: list[tuple[str, dict[str, str]]] = []
        self._section = ""
        self.feed(text)
        self.close()
        if self._stack:
            self.errors.append(f"unclosed: {[t for t, _ in self._stack]}")

    def _open(self, tag: str, attrs: list[tuple[str, str | None]], *, void: bool) -> None:
        a = {k: v or "" for k, v in attrs}
        self.tags.append((tag, a))
        if "id" in a:
            self.ids.append(a["id"])
        self.links += [a[k] for k in ("href", "src", "xlink:href") if k in a]
        if tag == "section" and "id" in a:
            self._section = a["id"]
            self.sections[self._section] = []
        if self._section and "href" in a:
            self.sections[self._section].append(a["href"])
        row = next((x.get("data-row") for t, x in reversed(self._stack) if t == "tr" and "data-row" in x), None)
        if row is not None and tag in ("a", "span") and "badge" in a.get("class", ""):
            kind = re.search(r"\b([os])-([a-z-]+)", a["class"])
            assert kind, a
            cell = next((x for t, x in reversed(self._stack) if t == "td"), {})
            if kind.group(1) == "o":
                self.outcomes[row] = kind.group(2)
            else:
                self.cells[(row, cell.get("data-criterion", ""))] = (kind.group(2), a.get("href", ""))
        if not void:
            self._stack.append((tag, a))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._open(tag, attrs, void=tag in self.VOID)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._open(tag, attrs, void=True)

    def handle_endtag(self, tag: str) -> None:
        if not self._stack or self._stack[-1][0] != tag:
            self.errors.append(f"</{tag}> closes <{self._stack[-1][0] if self._stack else None}>")
            return
        if tag == "section":
            self._section = ""
        self._stack.pop()

    def handle_data(self, data: str) -> None:
        open_tags = [t for t, _ in self._stack]
        if open_tags and open_tags[-1] == "script":
            self.scripts.append(data)
        if "sup" in open_tags:
            return
        for _tag, a in self._stack:
            if "data-claim" in a:
                self.covered[a["data-claim"]] += range(len(self.text), len(self.text) + len(data))
        self.text += data


def read_site(site: Path) -> dict[Path, Page]:
    return {p.resolve(): Page(p.read_text(encoding="utf-8")) for p in sorted(site.rglob("*.html"))}


def check_site(site: Path) -> int:
    """Every page is well formed with unique ids; every link stays in the site and resolves, fragment
    included (http(s) links out are allowed; no other scheme). The number of internal links checked."""
    pages = read_site(site)
    root = site.resolve()
    checked = 0
    for path, page in pages.items():
        assert page.errors == [], f"{path}: {page.errors[:3]}"
        duplicates = sorted({i for i in page.ids if page.ids.count(i) > 1})
        assert duplicates == [], f"{path}: duplicate ids {duplicates[:5]}"
        assert any(t == "meta" and a.get("http-equiv") == "Content-Security-Policy" for t, a in page.tags), path
        for href in page.links:
            parts = urlsplit(href)
            if parts.scheme in ("http", "https"):
                continue
            assert parts.scheme == "" and not parts.netloc, f"{path}: link {href!r}"
            target = (path.parent / unquote(parts.path)).resolve() if parts.path else path
            assert target == root or root in target.parents, f"{path}: {href} leaves the report"
            assert target.is_file(), f"{path}: {href} -> {target} does not exist"
            if parts.fragment:
                assert target in pages, f"{path}: {href} has a fragment into a non-page"
                assert unquote(parts.fragment) in pages[target].ids, f"{path}: {href}: no such id"
            checked += 1
    return checked


# ----------------------------------------------------------------------------------------------------
# Fixtures
# ----------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mini_report(good_build: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The report of the mini ledger's build (read only)."""
    out = tmp_path_factory.mktemp("report") / "site"
    assert cli_module.main(["report", "--store", str(good_build), "--out", str(out), "-q"]) == 0
    return out


@pytest.fixture(scope="module")
def atop_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project: the mini ledger plus the ATOP fixture imported, built, and its report in build/report."""
    root = tmp_path_factory.mktemp("atop") / "project"
    shutil.copytree(MINI, root / "data")
    (root / "allygraph.toml").write_text('[allygraph]\ndata = "data"\nout = "build"\n', encoding="utf-8")
    args = ["import", "atop", "--project", root, "-q"]
    args += ["--alliances", ATOP / "alliances.csv", "--members", ATOP / "members.csv", "--states", ATOP / "states.csv"]
    assert cli_module.main([str(a) for a in args]) == 0
    assert cli_module.main(["report", "--project", str(root), "-q"]) == 0
    return root


CORPUS_SOURCE = "004_7e0a52477b7e2d2d"  # one document of the bundled corpus, the only copy of its work


@pytest.fixture(scope="module")
def corpus_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project of the bundled corpus (data/), built, with the report of view source:004... in build/view."""
    root = tmp_path_factory.mktemp("corpus") / "project"
    shutil.copytree(REPO / "data", root / "data", ignore=shutil.ignore_patterns("imports"))
    (root / "allygraph.toml").write_text('[allygraph]\ndata = "data"\nout = "build"\n', encoding="utf-8")
    allygraph.build(root / "data", root / "build")
    args = ["report", "--project", str(root), "--out", str(root / "build" / "view"), "-q"]
    assert cli_module.main([*args, "--view", f"source:{CORPUS_SOURCE}"]) == 0
    assert cli_module.main(["report", "--project", str(root), "--out", str(root / "build" / "all"), "-q"]) == 0
    return root


def ledger_claims(data: Path) -> dict[str, tuple[str, bool]]:
    """Every claim written in a ledger's claim files: id -> (the source its file names, whether it is evidence:
    asserted or denied by the author in their own words), read from the YAML."""
    found = {}
    for path in sorted((data / "claims").glob("*.yaml")):
        written = yaml.safe_load(path.read_text(encoding="utf-8"))
        for claim in written["claims"]:
            evidence = claim["attribution"] == "author" and claim["modality"] in ("asserted", "denied")
            found[claim["id"]] = (written["source"], evidence)
    return found


def claim_ids_on(site: Path) -> dict[Path, set[str]]:
    """The claim ids each page names: claims listed, quotes marked, and claims linked to."""
    found = {}
    for path, page in read_site(site).items():
        ids = {a["data-claim"] for _t, a in page.tags if "data-claim" in a}
        ids |= {i.removeprefix("c-") for i in page.ids if i.startswith("c-") and path.name == "claims.html"}
        ids |= {h.split("#c-")[1] for h in page.links if "claims.html#c-" in h}
        ids |= {h.split("#m-")[1] for h in page.links if "#m-" in h}
        found[path] = ids
    return found


def classifications(out: Path) -> dict[tuple[str, str], tuple[str, tuple[str, set[str]], dict[str, object]]]:
    """What `classify` says in view all, by (relationship, matrix row): outcome and each criterion's evidence."""
    found = {}
    for c in allygraph.classify(allygraph.open_store(out), views=["all"]).classifications:
        rows = [(c.definition.name, c.outcome, c.checks)]
        rows += [(f"{c.definition.name}-{a.classifier.iri.split('#')[-1]}", a.outcome, a.checks) for a in c.also]
        for row, outcome, checks in rows:
            found[(c.relationship, row)] = (
                outcome,
                {k.criterion.name: (k.status, set(k.supporting) | set(k.contradicting)) for k in checks},
            )
    return found  # type: ignore[return-value]


# ----------------------------------------------------------------------------------------------------
# The site, as files
# ----------------------------------------------------------------------------------------------------


def test_cli_writes_the_report_into_the_build_folder(previous_build: PreviousBuild, cli: Callable[..., Result]) -> None:
    result = cli("report", "--store", previous_build.out)
    assert result.code == 0, result.stderr
    site = previous_build.out / "report"
    assert result.stdout.strip().splitlines()[-1] == f"report: {site.absolute() / 'index.html'}"
    assert "allygraph: writing 3 source pages" in result.stderr  # progress on stderr
    for name in ("index.html", "disagreements.html", "timeline.html", "sources.html", "claims.html", "report.css"):
        assert (site / name).is_file(), name
    assert sorted(p.name for p in (site / "sources").iterdir()) == ["alpha-copy.html", "alpha.html", "beta.html"]
    assert sorted(p.name for p in (site / "rel").iterdir()) == ["freedonia-sylvania.html"]
    (site / "rel" / "stale.html").write_text("from an earlier report")
    quiet = cli("report", "--store", previous_build.out, "-q")
    assert (quiet.code, quiet.stdout, quiet.stderr) == (0, "", "")
    assert not (site / "rel" / "stale.html").exists(), "a new report replaces the old one whole"


def test_every_internal_link_and_fragment_resolves(mini_report: Path, atop_project: Path) -> None:
    assert check_site(mini_report) > 100
    assert check_site(atop_project / "build" / "report") > 150


def test_matrix_cells_say_what_classify_says_and_link_to_those_claims(mini_report: Path, good_build: Path) -> None:
    page = Page((mini_report / "rel" / "freedonia-sylvania.html").read_text(encoding="utf-8"))
    expected = {row: v for (r, row), v in classifications(good_build).items() if r == str(ID["freedonia-sylvania"])}
    assert page.outcomes == {row: outcome for row, (outcome, _checks) in expected.items()}
    seen = {}
    for (row, criterion), (status, href) in page.cells.items():
        links = page.sections[href.removeprefix("#")]
        claims = {h.split("#c-")[1] for h in links if h.startswith("../claims.html#c-")}
        seen[(row, criterion)] = (status, claims)
    assert seen == {(row, k): v for row, (_o, checks) in expected.items() for k, v in checks.items()}
    assert seen[("valdai", "AgainstStateThreat")] == ("contested", {"ann-threat", "bob-not-state"})


def test_quotes_are_highlighted_at_their_stored_offsets(mini_report: Path, good_build: Path) -> None:
    details = claim_details(allygraph.open_store(good_build), set(MINI_CLAIMS))
    marked = 0
    for document in ("alpha", "alpha-copy", "beta"):
        page = Page((mini_report / "sources" / f"{document}.html").read_text(encoding="utf-8"))
        text = (MINI / "corpus" / f"{document}.txt").read_text(encoding="utf-8")
        assert text in page.text, "the document's text is on the page, whole"
        offset = page.text.index(text)
        for claim in details.values():
            anchors = [a for a in claim.anchors if a.document == document]
            covered = page.covered.get(claim.id, [])
            if not anchors:
                assert covered == []
                continue
            (anchor,) = anchors
            assert covered == list(range(offset + anchor.start, offset + anchor.end)), claim.id
            assert text[anchor.start : anchor.end] == anchor.exact
            assert page.ids.count(f"m-{claim.id}") == 1 and f"c-{claim.id}" in page.ids
            marked += 1
    assert marked == 11  # ann's four claims in alpha and again in its copy, bob's three (two nested) in beta


def test_hostile_labels_quotes_and_iris_are_escaped(good_build: Path, tmp_path: Path) -> None:
    store = pyoxigraph.Store()
    store.load(allygraph.open_store(good_build).dump(format=NQUADS), format=NQUADS)
    for g in list(store.named_graphs()):
        if isinstance(g, pyoxigraph.NamedNode) and g.value.startswith(f"{GRAPH}results/"):
            store.remove_graph(g)

    def n(iri: object) -> pyoxigraph.NamedNode:
        return pyoxigraph.NamedNode(str(iri))

    def replace(subject: object, prop: object, value: Callable[[str], str]) -> None:
        (quad,) = list(store.quads_for_pattern(n(subject), n(prop), None, None))
        store.remove(quad)
        store.add(
            pyoxigraph.Quad(quad.subject, quad.predicate, pyoxigraph.Literal(value(quad.object.value)), quad.graph_name)
        )

    evil, actor, entities = n("javascript:alert(1)"), n("javascript:alert(2)//"), n(ENTITIES_GRAPH)
    for s, p, o in (
        (evil, RDF.type, n(AG.Relationship)),
        (evil, RDFS.label, pyoxigraph.Literal('<script>alert("rel")</script>')),
        (evil, AG.hasParticipant, actor),
        (evil, AG.hasParticipant, n(ID["state/9001"])),
        (actor, RDF.type, n(AG.State)),
        (actor, RDFS.label, pyoxigraph.Literal('"><img src=x onerror=alert(3)>')),
    ):
        store.add(pyoxigraph.Quad(s, n(p), o, entities))
    replace(f"{ID}claim/ann-threat/assertion", AG.quote, lambda _q: "</blockquote><script>alert(4)</script>")
    replace(ID["document/alpha"], DCTERMS.title, lambda _t: "<script>alert(5)</script>")
    replace(ID["document/alpha"], AG.text, lambda t: t + '\n<script>alert(6)</script> & <b onclick="x">bold</b>')
    store.extend(results_quads(allygraph.classify(store, views=["all"])))

    site = tmp_path / "site"
    write_report(store, site)
    assert check_site(site) > 100
    pages = read_site(site)
    for path, page in pages.items():
        scripts = [a for t, a in page.tags if t == "script"]
        assert len(scripts) == (1 if path.name == "index.html" else 0), path
        assert page.scripts == ([REPORT_JS] if scripts else []), path
        assert not [t for t, _a in page.tags if t in ("img", "b", "iframe", "object")], path
        for tag, attrs in page.tags:
            assert not [k for k in attrs if k.startswith("on")], (path, tag, attrs)
            for value in attrs.values():
                assert not value.strip().lower().startswith(("javascript:", "data:")), (path, tag, attrs)
    index = (site / "index.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(&quot;rel&quot;)&lt;/script&gt;" in index
    assert "&quot;&gt;&lt;img src=x onerror=alert(3)&gt;" in index
    (evil_page,) = [p for p in (site / "rel").iterdir() if p.name.startswith("javascript")]
    assert "<code>javascript:alert(1)</code>" in evil_page.read_text(encoding="utf-8")
    alpha = (site / "sources" / "alpha.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(6)&lt;/script&gt; &amp; &lt;b onclick=&quot;x&quot;&gt;bold&lt;/b&gt;" in alpha
    assert "&lt;/blockquote&gt;&lt;script&gt;alert(4)&lt;/script&gt;" in alpha


def test_dataset_claims_show_their_record_instead_of_a_quote(atop_project: Path) -> None:
    site = atop_project / "build" / "report"
    claims = (site / "claims.html").read_text(encoding="utf-8")
    article = re.search(r'<article class="claim" id="c-atop-1001">.*?</article>', claims, re.S)
    assert article, "claim atop-1001 is listed"
    assert "Dataset record" in article.group(0) and "<code>alliances.csv:2</code>" in article.group(0)
    assert "<blockquote>" not in article.group(0)
    page = Page((site / "rel" / "atop-1001-relationship.html").read_text(encoding="utf-8"))
    assert page.outcomes["valdai"] == "meets" and page.outcomes["atop"] == "meets"  # by hand: see test_atop.py
    status, href = page.cells[("valdai", "AgainstStateThreat")]
    assert status == "holds"
    assert "../claims.html#c-atop-1001" in page.sections[href.removeprefix("#")]
    text = (site / "rel" / "atop-1001-relationship.html").read_text(encoding="utf-8")
    assert "ATOP agreement 1001" in text and "alliances.csv:2" in text


def test_a_source_view_shows_only_that_documents_claims(corpus_project: Path) -> None:
    site = corpus_project / "build" / "view"
    written = ledger_claims(corpus_project / "data")
    expected = {c for c, (source, evidence) in written.items() if source == CORPUS_SOURCE and evidence}
    assert 20 < len(expected) < len(written)
    assert any(source == CORPUS_SOURCE and not evidence for source, evidence in written.values()), "a hypothetical"
    named = claim_ids_on(site)
    assert named[(site / "claims.html").resolve()] == expected, "claims.html lists the view's claims, all of them"
    assert set().union(*named.values()) == expected
    others = sorted(set(written) - expected)  # other documents' claims, and this one's non-evidence claims
    pattern = re.compile(r"(?<![\w-])(" + "|".join(map(re.escape, others)) + r")(?![\w-])")
    for path in sorted(site.rglob("*.html")):
        found = pattern.findall(path.read_text(encoding="utf-8"))
        assert found == [], f"{path.relative_to(site)} names claims out of the view: {sorted(set(found))[:5]}"
    index = (site / "index.html").read_text(encoding="utf-8")
    assert f"{len(expected)} claims,\n1 source documents," in index, "the overview counts the view"


def test_a_source_view_has_only_that_documents_page(corpus_project: Path) -> None:
    site = corpus_project / "build" / "view"
    assert sorted(p.name for p in (site / "sources").iterdir()) == [f"{CORPUS_SOURCE.replace('_', '-')}.html"]
    assert len(list((corpus_project / "build" / "all" / "sources").iterdir())) == 5, "view all: every document"
    (path,) = (site / "sources").iterdir()
    page = Page(path.read_text(encoding="utf-8"))
    written = ledger_claims(corpus_project / "data")
    assert set(page.covered) == {c for c, (s, evidence) in written.items() if s == CORPUS_SOURCE and evidence}
    text = (corpus_project / "data" / "corpus" / f"{CORPUS_SOURCE}.txt").read_text(encoding="utf-8")
    assert text in page.text
    sources = Page((site / "sources.html").read_text(encoding="utf-8"))
    assert [h for h in sources.links if h.startswith("sources/")] == [f"sources/{path.name}"]


def timeline_events(site: Path) -> set[tuple[str, str]]:
    """(date, label) of each event on a report's timeline."""
    text = (site / "timeline.html").read_text(encoding="utf-8")
    found = re.findall(r'<time datetime="([^"]*)">[^<]*</time><strong>([^<]*)</strong>', text)
    return {(date, html.unescape(label)) for date, label in found}


def test_a_source_views_timeline_holds_only_the_events_its_claims_date(corpus_project: Path) -> None:
    written = ledger_claims(corpus_project / "data")
    ids = {c for c, (source, evidence) in written.items() if source == CORPUS_SOURCE and evidence}
    query = f"""SELECT DISTINCT ?id ?date ?label WHERE {{
        GRAPH ?g {{ ?event <{AG.date}> ?date }}
        GRAPH ?head {{ ?claim <{NP.hasAssertion}> ?g }}
        GRAPH ?pubinfo {{ ?claim <{AG.claimId}> ?id }}
        GRAPH ?eg {{ ?event <{RDFS.label}> ?label }} }}"""
    dated = [
        (row["id"].value, row["date"].value, row["label"].value)
        for row in allygraph.open_store(corpus_project / "build").query(query)
    ]
    expected = {(date, label) for claim, date, label in dated if claim in ids}
    every = timeline_events(corpus_project / "build" / "all")
    assert expected and expected < every, "the view's events are some of the corpus's"
    assert timeline_events(corpus_project / "build" / "view") == expected


def test_a_work_view_reads_every_copy_and_a_source_view_one(good_build: Path, tmp_path: Path) -> None:
    written = ledger_claims(MINI)
    ann = {c for c, (source, evidence) in written.items() if source == "alpha" and evidence}
    assert ann and ann < {c for c, (source, _e) in written.items() if source == "alpha"}, "ann-long-term: speech"
    for view, documents in (
        ("source:alpha", ["alpha"]),
        ("source:alpha-copy", ["alpha-copy"]),
        ("work:ann-pact", ["alpha", "alpha-copy"]),
    ):
        site = tmp_path / view.replace(":", "-")
        write_report(allygraph.open_store(good_build), site, view=view)
        assert check_site(site) > 20
        assert sorted(p.stem for p in (site / "sources").iterdir()) == documents, view
        claims = Page((site / "claims.html").read_text(encoding="utf-8"))
        highlighted = {h.split("#")[0] for h in claims.links if h.startswith("sources/")}
        assert highlighted == {f"sources/{d}.html" for d in documents}, view
        for d in documents:
            page = Page((site / "sources" / f"{d}.html").read_text(encoding="utf-8"))
            assert set(page.covered) == ann, (view, d)
        assert set().union(*claim_ids_on(site).values()) == ann, view


def test_every_internal_link_of_a_source_view_resolves(corpus_project: Path) -> None:
    assert check_site(corpus_project / "build" / "view") > 100


@settings(max_examples=200, deadline=None)
@given(
    text=st.text(alphabet="ab <&\"'\n", max_size=24),
    bounds=st.lists(st.tuples(st.integers(-2, 26), st.integers(-2, 26)), max_size=6),
)
def test_overlapping_quotes_keep_the_html_well_formed(text: str, bounds: list[tuple[int, int]]) -> None:
    spans = [
        Span(min(a, b), max(a, b), f"k{i}", id=f"m-k{i}", note=f'<sup class="ref"><a href="#c-k{i}">[{i}]</a></sup>')
        for i, (a, b) in enumerate(bounds)
    ]
    page = Page(highlight(text, spans))
    assert page.errors == []
    assert page.text == text
    for span in spans:
        inside = 0 <= span.start < span.end <= len(text)
        assert page.covered.get(span.key, []) == (list(range(span.start, span.end)) if inside else [])
        assert page.ids.count(span.id) == (1 if inside else 0)


def test_crossing_quotes_are_split_and_reopened() -> None:
    html = highlight("one two three", [Span(0, 7, "a", id="m-a"), Span(4, 13, "b", id="m-b")])
    assert html == (
        '<mark class="q" data-claim="a" id="m-a">one <mark class="q" data-claim="b" id="m-b">two</mark></mark>'
        '<mark class="q" data-claim="b"> three</mark>'
    )


def test_only_http_links_leave_the_report() -> None:
    assert external_href("https://w3id.org/allygraph/id/iran") == "https://w3id.org/allygraph/id/iran"
    for iri in ("javascript:alert(1)", "JavaScript:alert(1)", "data:text/html,x", "file:///etc/passwd", "urn:x:y"):
        assert external_href(iri) is None, iri


def test_layout_is_deterministic_and_stays_in_the_frame() -> None:
    links = {(0, 1): 1.0, (1, 2): 1.0, (2, 0): 1.0, (3, 4): 0.5}
    first = layout(6, links, size=500.0)
    assert first == layout(6, links, size=500.0)
    assert all(0 <= x <= 500 and 0 <= y <= 500 for x, y in first)
    assert len({(round(x), round(y)) for x, y in first}) == 6, "no two actors on one spot"


def test_bad_requests_are_refused(good_build: Path, tmp_path: Path, cli: Callable[..., Result]) -> None:
    unknown_view = cli("report", "--store", good_build, "--out", tmp_path / "a", "--view", "source:nope")
    assert unknown_view.code == 2 and "source:alpha" in unknown_view.stderr  # the known views are listed
    unknown_definition = cli("report", "--store", good_build, "--out", tmp_path / "a", "--definition", "nope")
    assert unknown_definition.code == 2 and "valdai, azizi" in unknown_definition.stderr
    assert not (tmp_path / "a").exists()
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "mine.txt").write_text("keep me")
    with pytest.raises(InputError, match="not an allygraph report"):
        write_report(allygraph.open_store(good_build), tmp_path / "notes")
    assert (tmp_path / "notes" / "mine.txt").read_text() == "keep me"
    unreasoned = pyoxigraph.Store()
    for quad in allygraph.open_store(good_build).quads_for_pattern(None, None, None, None):
        if not quad.graph_name.value.startswith(f"{GRAPH}results/"):  # type: ignore[union-attr]
            unreasoned.add(quad)
    with pytest.raises(StoreError, match="without --no-reason"):
        write_report(unreasoned, tmp_path / "b")


# ----------------------------------------------------------------------------------------------------
# In a real browser
# ----------------------------------------------------------------------------------------------------

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
browser = pytest.mark.skipif(
    not (CHROMIUM and CHROMEDRIVER),
    reason="headless Chromium tests need Debian's chromium and chromium-driver (apt-get install chromium "
    "chromium-driver); CI installs them",
)


@pytest.fixture(scope="module")
def chrome(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """Headless Chromium driven by the system chromedriver; Selenium Manager may not download anything."""
    os.environ["SE_OFFLINE"] = "true"
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1280,900",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium')}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def console_errors(driver: object) -> list[dict[str, object]]:
    return [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]  # type: ignore[attr-defined]


@pytest.mark.slow
@browser
def test_the_map_renders_and_switches_definitions(chrome: object, mini_report: Path, good_build: Path) -> None:
    from selenium.webdriver.support.ui import Select

    driver = chrome
    driver.get((mini_report / "index.html").as_uri())  # type: ignore[attr-defined]
    shapes = driver.execute_script(  # type: ignore[attr-defined]
        """const svg = document.getElementById('map').getBoundingClientRect();
        const box = el => { const r = el.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; };
        return {svg: [svg.width, svg.height],
                inside: box(document.getElementById('map')),
                edges: [...document.querySelectorAll('#map .edge path')].map(p => [p.getTotalLength(), box(p)]),
                nodes: [...document.querySelectorAll('#map .node circle')].map(c => box(c)),
                classes: [...document.querySelectorAll('#map .edge')].map(a => a.getAttribute('class'))};"""
    )
    ARTIFACTS.mkdir(exist_ok=True)
    driver.save_screenshot(str(ARTIFACTS / "report-overview.png"))  # type: ignore[attr-defined]
    assert shapes["svg"][0] > 100 and shapes["svg"][1] > 100
    left, top, right, bottom = shapes["inside"]
    assert len(shapes["edges"]) == 1 and len(shapes["nodes"]) == 2  # Freedonia–Sylvania
    for length, (x0, y0, x1, y1) in shapes["edges"]:
        assert length > 50 and left <= x0 <= x1 <= right and top <= y0 <= y1 <= bottom
    for x0, y0, x1, y1 in shapes["nodes"]:
        assert x1 - x0 > 5 and y1 - y0 > 5 and left <= x0 and x1 <= right and top <= y0 and y1 <= bottom
    expected = {row: outcome for (_r, row), (outcome, _checks) in classifications(good_build).items()}
    assert shapes["classes"] == [f"edge o-{expected['valdai']}"]
    select = Select(driver.find_element("id", "definition"))  # type: ignore[attr-defined]
    for name in ("azizi", "walt", "valdai"):
        select.select_by_visible_text(next(o.text for o in select.options if o.text.startswith(f"{name}: ")))
        edge, legend = driver.execute_script(  # type: ignore[attr-defined]
            """const a = document.querySelector('#map .edge');
            return [a.getAttribute('class') + ' | ' + a.querySelector('title').textContent,
                    [...document.querySelectorAll('.legend span')].map(s => s.textContent).join(' ')];"""
        )
        outcome = expected[name]
        assert edge == f"edge o-{outcome} | Freedonia–Sylvania: {outcome.replace('-', ' ')}"
        assert legend == " ".join("1" if o == outcome else "0" for o in OUTCOMES)
    assert console_errors(driver) == []  # the script ran under the page's CSP; nothing failed to load


@pytest.mark.slow
@browser
def test_a_matrix_cell_leads_to_the_highlighted_quote(chrome: object, mini_report: Path) -> None:
    driver = chrome
    driver.get((mini_report / "rel" / "freedonia-sylvania.html").as_uri())  # type: ignore[attr-defined]
    cell = driver.find_element(  # type: ignore[attr-defined]
        "css selector", 'tr[data-row="valdai"] td[data-criterion="AgainstStateThreat"] a'
    )
    assert cell.text == "contested"
    cell.click()
    section = driver.execute_script("return document.querySelector(':target')")  # type: ignore[attr-defined]
    assert section.tag_name == "section" and "ann-threat" in section.text
    section.find_element("css selector", 'a[href*="sources/alpha.html#m-ann-threat"]').click()
    assert driver.current_url.endswith("/sources/alpha.html#m-ann-threat")  # type: ignore[attr-defined]
    mark = driver.execute_script(  # type: ignore[attr-defined]
        """const m = document.querySelector(':target'); const r = m.getBoundingClientRect();
        return {tag: m.tagName, id: m.id, text: m.textContent, top: r.top, bottom: r.bottom,
                height: innerHeight, outline: getComputedStyle(m).outlineStyle};"""
    )
    assert mark["tag"] == "MARK" and mark["id"] == "m-ann-threat"
    assert mark["text"].startswith("The treaty is directed against Marsovia")
    assert 0 <= mark["top"] < mark["bottom"] <= mark["height"], "the quote is scrolled into view"
    assert mark["outline"] != "none", "the quote is highlighted as the target"


def _links(driver: object, site: Path) -> set[str]:
    """Every file: link on every page of the report in `site`, resolved by the browser."""
    targets: set[str] = set()
    for page in sorted(site.rglob("*.html")):
        driver.get(page.as_uri())  # type: ignore[attr-defined]
        hrefs = driver.execute_script(  # type: ignore[attr-defined]
            "return [...document.querySelectorAll('a[href]')]"
            ".map(a => new URL(a.getAttribute('href'), location.href).href)"
        )
        targets |= {h for h in hrefs if h.startswith("file:")}
    return targets


def _assert_each_reaches_a_report_page(driver: object, targets: set[str]) -> None:
    """Each link opens a report page and, with a fragment, an element of that id; no console error."""
    for url in sorted(targets):
        driver.get(url)  # type: ignore[attr-defined]
        found = driver.execute_script(  # type: ignore[attr-defined]
            """const id = decodeURIComponent(location.hash.slice(1));
            return [document.title, !id || document.getElementById(id) !== null];"""
        )
        assert found[0].endswith("· allygraph report") and found[1], url
    assert console_errors(driver) == []


@pytest.mark.slow
@browser
def test_every_link_navigates_in_the_browser(chrome: object, mini_report: Path) -> None:
    targets = _links(chrome, mini_report)
    assert len(targets) > 40
    _assert_each_reaches_a_report_page(chrome, targets)


@pytest.mark.slow
@browser
def test_every_link_of_a_source_view_navigates_in_the_browser(chrome: object, corpus_project: Path) -> None:
    site = corpus_project / "build" / "view"
    targets = _links(chrome, site)
    assert len(targets) > 40
    assert all(site.as_uri() in url for url in targets), "no link leaves the report"
    _assert_each_reaches_a_report_page(chrome, targets)
