"""The reference engine: the OWL definitions as written, decided by HermiT.

HermiT is the one owlready2 bundles, driven by a small Java program (java/HermitDriver.java) that asks
it only the questions needed: for each relationship and criterion C, is C entailed, is ¬C entailed?
(owlready2's sync_reasoner realizes every class for every individual, which takes minutes here.)
Each body of evidence is its own small ontology importing the ontology and definitions; one JVM answers
for all of them, in two runs:

1. the background alone, and each claim with the background: which criteria, and which negations,
   each claim entails on its own (open world);
2. each view's evidence together, open, and with the world closed on the criteria's `ag:closesWorldOn`
   properties (every subject with known values gets `∀p.{those values}`, as owlready2's close_world
   does). Claims whose single-claim results contradict each other are left out of this run, so its
   copies stay consistent; their disagreement is already recorded by run 1.

Named individuals a criterion counts (participants, for "at least two states") are declared distinct.
A copy that is inconsistent all the same yields no conclusions, never a crash.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.term import Node

from .cache import cache_dir
from .definitions import And as AndExpr
from .definitions import AtLeast, Criterion, DefinitionSet, Expr, Not
from .definitions import Or as OrExpr
from .definitions import Some as SomeExpr
from .errors import AllygraphError
from .namespaces import AG, OWL, RDF, XSD
from .reason import Finding, Findings, View
from .tbox import analyse

Triple = tuple[Node, Node, Node]


class ReasonerError(AllygraphError, RuntimeError):
    """HermiT could not run (Java missing, out of memory, crashed)."""


def _props(expr: Expr) -> set[URIRef]:
    """Properties an expression mentions."""
    if isinstance(expr, (AndExpr, OrExpr)):
        return set().union(*(_props(p) for p in expr.parts))
    if isinstance(expr, Not):
        return _props(expr.part)
    if isinstance(expr, (SomeExpr, AtLeast)):
        return {expr.prop} | _props(expr.filler)
    prop = getattr(expr, "prop", None)
    return {prop} if prop is not None else set()


@dataclass
class _Copy:
    """One body of evidence, reasoned over as its own ontology."""

    key: str
    claims: frozenset[str]
    triples: list[Triple] = field(default_factory=list)
    closed: frozenset[URIRef] = frozenset()
    focus: frozenset[Node] = frozenset()  # the relationships to ask about
    criteria: tuple[Criterion, ...] = ()  # the criteria to ask about


class HermitEngine:
    name = "hermit"

    def evaluate(
        self,
        store: pyoxigraph.Store,
        definitions: DefinitionSet,
        criteria: list[Criterion],
        views: dict[str, View],
        background: list[str],
        progress: Callable[[str], None],
    ) -> Findings:
        tbox_graph = definitions.graph
        tbox = analyse(tbox_graph)
        back = _read_graphs(store, [g for g in background if g.endswith(("/entities", "/scenario"))])
        relationship_classes = tbox.subclasses(AG.Relationship)
        relationships = {s for s, o in back.subject_objects(RDF.type) if o in relationship_classes}
        claims = {c.id: c for v in views.values() for c in (*v.claims, *v.assumed)}
        assertions = {cid: _read_graphs(store, [c.assertion]) for cid, c in claims.items()}
        counting = {p for c in criteria for p in _counted(c.expression)}
        reach = {r: _nodes(_relevant(list(back), {r})) | {r} for r in relationships}
        everything = tuple(criteria)

        # run 1: the background alone, and each claim with the background, cut down to what the
        # relationships reach (nothing else can bear on a criterion); asked only about the relationships
        # the claim reaches
        copies = [
            _Copy(
                "bg",
                frozenset(),
                _relevant(list(back), relationships),
                focus=frozenset(relationships),
                criteria=everything,
            )
        ]
        for cid, graph in sorted(assertions.items()):
            touched = _nodes(list(graph))
            focus = frozenset(r for r in relationships if reach[r] & touched)
            if focus:
                triples = _relevant(list(back) + list(graph), set(focus))
                copies.append(_Copy(f"c{len(copies)}", frozenset({cid}), triples, focus=focus, criteria=everything))
        progress(f"hermit engine: run 1 of 2 ({len(copies)} bodies of evidence: background, each claim)")
        reasoner = _HermiT(tbox_graph)
        try:
            single = reasoner.ask(copies, counting)

            # run 2: each view's evidence together, open and closed, asked about the relationships it mentions
            conflicted = _conflicts(single, copies)
            groups = _closure_groups(criteria)
            copies2: list[_Copy] = []
            for view in views.values():
                members = frozenset(c.id for c in (*view.claims, *view.assumed)) - conflicted
                mentioned = frozenset(
                    r
                    for r in relationships
                    if any(_mentions(assertions[c.id], r) for c in (*view.claims, *view.assumed))
                )
                focus = frozenset(relationships) if view.name in ("all", "scenario") else mentioned
                triples = _relevant(list(back) + [t for cid in sorted(members) for t in assertions[cid]], set(focus))
                copies2.append(_Copy(f"v{len(copies2)}", members, triples, focus=focus, criteria=everything))
                for closed in groups:
                    which = tuple(c for c in criteria if c.closes and c.closes <= closed)
                    copies2.append(
                        _Copy(f"v{len(copies2)}", members, triples, closed=closed, focus=focus, criteria=which)
                    )
            progress(f"hermit engine: run 2 of 2 ({len(copies2)} bodies of evidence: each view, open and closed)")
            joint = reasoner.ask(copies2, counting)
        finally:
            reasoner.close()

        return _findings(views, criteria, relationships, copies, single, copies2, joint, assertions)


def _nodes(triples: Iterable[Triple]) -> set[Node]:
    return {n for t in triples for n in (t[0], t[2]) if isinstance(n, URIRef)}


def _counted(expr: Expr) -> set[URIRef]:
    if isinstance(expr, AtLeast):
        return {expr.prop}
    if isinstance(expr, (AndExpr, OrExpr)):
        return set().union(*(_counted(p) for p in expr.parts))
    if isinstance(expr, Not):
        return _counted(expr.part)
    if isinstance(expr, SomeExpr):
        return _counted(expr.filler)
    return set()


def _closure_groups(criteria: list[Criterion]) -> list[frozenset[URIRef]]:
    """Sets of properties to close together: a criterion is evaluated in a group only if every closed
    property it mentions is one it closes itself (greedy merging)."""
    groups: list[tuple[set[URIRef], list[Criterion]]] = []
    for criterion in criteria:
        if not criterion.closes:
            continue
        for props, members in groups:
            union = props | criterion.closes
            if all(_props(m.expression) & union <= m.closes for m in (*members, criterion)):
                props |= criterion.closes
                members.append(criterion)
                break
        else:
            groups.append((set(criterion.closes), [criterion]))
    return [frozenset(props) for props, _ in groups]


def _read_graphs(store: pyoxigraph.Store, graphs: Iterable[str]) -> Graph:
    graph = Graph()
    for name in graphs:
        data = store.dump(format=pyoxigraph.RdfFormat.N_TRIPLES, from_graph=pyoxigraph.NamedNode(name))
        if data:
            graph.parse(data=data.decode("utf-8"), format="nt")
    return graph


def _relevant(triples: list[Triple], relationships: set[Node]) -> list[Triple]:
    """The triples reachable from the relationships (following subject -> object, and class expressions),
    with the negative property assertions about anything reached."""
    outgoing: dict[Node, list[Triple]] = defaultdict(list)
    negatives: dict[Node, list[Node]] = defaultdict(list)
    for t in triples:
        outgoing[t[0]].append(t)
        if t[1] == OWL.sourceIndividual:
            negatives[t[2]].append(t[0])
    seen: set[Node] = set()
    todo = [r for r in relationships if r in outgoing]
    out: list[Triple] = []
    while todo:
        node = todo.pop()
        if node in seen:
            continue
        seen.add(node)
        todo.extend(negatives.get(node, ()))
        for t in outgoing.get(node, ()):
            out.append(t)
            if isinstance(t[2], (URIRef, BNode)):
                todo.append(t[2])
    return out


DRIVER = Path(__file__).resolve().parent / "java" / "HermitDriver.java"
TBOX_IRI = URIRef("urn:allygraph:tbox")
TIMEOUT = 600.0  # seconds for one reasoner run (ALLYGRAPH_HERMIT_TIMEOUT overrides)


def _deadline() -> float:
    try:
        return float(os.environ.get("ALLYGRAPH_HERMIT_TIMEOUT", TIMEOUT))
    except ValueError:
        raise ReasonerError("ALLYGRAPH_HERMIT_TIMEOUT must be a number of seconds") from None


class _HermiT:
    """One JVM running the driver with the TBox loaded; `ask` sends it one batch of copies at a time."""

    def __init__(self, tbox: Graph) -> None:
        from .profile import ProfileCheckError, hermit_jar, java_executable

        try:
            java, jar = java_executable(), hermit_jar()
        except ProfileCheckError as exc:
            raise ReasonerError(f"{exc}; or use --engine sparql") from None
        self._tmp = tempfile.TemporaryDirectory(prefix="allygraph-hermit-")
        self.folder = Path(self._tmp.name)
        merged = Graph()  # one ontology header only, so the copies' import resolves to it
        headers = set(tbox.subjects(RDF.type, OWL.Ontology))
        for triple in tbox:
            if triple[0] not in headers:
                merged.add(triple)
        merged.add((TBOX_IRI, RDF.type, OWL.Ontology))
        merged.serialize(self.folder / "tbox.nt", format="nt", encoding="utf-8")
        self._stderr = (self.folder / "stderr.txt").open("w+", encoding="utf-8")
        # out of memory in any thread ends the JVM at once with a message (it could hang with a small heap)
        command = [java, f"-Xmx{JAVA_MEMORY_MB}m", "-XX:+ExitOnOutOfMemoryError", *_driver(java, jar)]
        command.append(str(self.folder / "tbox.nt"))
        self._process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr, text=True, encoding="utf-8"
        )
        self._jobs = itertools.count()

    def __enter__(self) -> _HermiT:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._process.stdin and not self._process.stdin.closed:
            with contextlib.suppress(OSError):  # the JVM may be gone (killed at the deadline, crashed)
                self._process.stdin.close()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._stderr.close()
        self._tmp.cleanup()

    def ask(self, copies: list[_Copy], counting: set[URIRef]) -> dict[str, dict[tuple[str, str], bool]]:
        """For every focus relationship of every copy: which criteria, and which negations, are entailed."""
        job = self.folder / f"job-{next(self._jobs)}"
        job.mkdir()
        queries: list[str] = []
        for copy in copies:
            graph = _copy_graph(copy, counting)
            present = {s for s in graph.subjects() if s in copy.focus}
            if not present or not copy.criteria:
                continue
            graph.serialize(job / f"{copy.key}.nt", format="nt", encoding="utf-8")
            queries += [f"{copy.key}\t{r}\t{c.iri}" for r in sorted(present) for c in copy.criteria]
        (job / "queries.tsv").write_text("\n".join(queries) + "\n", encoding="utf-8")
        lines = self._exchange(str(job))
        shutil.rmtree(job, ignore_errors=True)
        members: dict[str, dict[tuple[str, str], bool]] = {c.key: {} for c in copies}
        for line in lines:
            key, individual, cls, answer = line.split("\t")
            if answer == "inconsistent":
                members[key] = {("inconsistent", ""): True}
                continue
            if answer in ("holds", "both"):
                members[key][(f"pos {cls}", individual)] = True
            if answer in ("fails", "both"):
                members[key][(f"neg {cls}", individual)] = True
        return members

    def _exchange(self, job: str) -> list[str]:
        assert self._process.stdin is not None and self._process.stdout is not None
        deadline = _deadline()
        watchdog = threading.Timer(deadline, self._process.kill)
        started = time.monotonic()
        watchdog.start()
        try:
            self._process.stdin.write(job + "\n")
            self._process.stdin.flush()
            lines = []
            while (line := self._process.stdout.readline()) and line.rstrip("\n") != "END":
                lines.append(line.rstrip("\n"))
        except BrokenPipeError:
            line = ""
        finally:
            watchdog.cancel()
        if not line:
            self._stderr.seek(0)
            message = self._stderr.read().strip()[-800:] or "the JVM ended without a word"
            # -XX:+ExitOnOutOfMemoryError says so on standard output, where the answers come
            said = [x for x in lines if x.startswith("Terminating due to java.lang.OutOfMemoryError")]
            if said:
                message = f"{said[0]} (the JVM has {JAVA_MEMORY_MB} MB unless _JAVA_OPTIONS says otherwise)"
            if time.monotonic() - started >= deadline:
                message = f"HermiT did not finish within {deadline:g} s (ALLYGRAPH_HERMIT_TIMEOUT) and was stopped"
            raise ReasonerError(f"HermiT failed: {message}; use --engine sparql")
        return lines


JAVA_MEMORY_MB = 2000


def _driver(java: str, jar: Path) -> list[str]:
    """The classpath and main class of the driver: compiled once into a cache folder when a `javac` sits
    beside `java` (saving a second per run), else run from its source file (Java 11+)."""
    javac = Path(java).resolve().with_name("javac")
    source = DRIVER.read_bytes()
    digest = hashlib.sha256(source + str(jar).encode()).hexdigest()[:16]
    folder = cache_dir()
    if folder is None:  # ALLYGRAPH_CACHE=off
        return ["-cp", str(jar), str(DRIVER)]
    cache = folder / f"java-{digest}"
    if not (cache / "HermitDriver.class").is_file() and javac.is_file():
        tmp = cache.with_name(f"{cache.name}.tmp-{os.getpid()}")
        try:
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            tmp.mkdir()
            done = subprocess.run(
                [str(javac), "-nowarn", "-d", str(tmp), "-cp", str(jar), str(DRIVER)],
                capture_output=True,
                timeout=_deadline(),
                check=False,
            )
            if done.returncode == 0:
                os.replace(tmp, cache)
        except OSError:
            pass
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    if (cache / "HermitDriver.class").is_file():
        return ["-cp", f"{cache}{os.pathsep}{jar}", "HermitDriver"]
    return ["-cp", str(jar), str(DRIVER)]


def _copy_graph(copy: _Copy, counting: set[URIRef]) -> Graph:
    """A copy as an ontology importing the TBox: its triples (of the literals only integers, which
    definitions compare; HermiT rejects dates), the individuals it counts declared distinct, and its
    closure axioms."""
    graph = Graph()
    node = URIRef(f"urn:allygraph:copy:{copy.key}")
    graph.add((node, RDF.type, OWL.Ontology))
    graph.add((node, OWL.imports, TBOX_IRI))
    triples = [t for t in copy.triples if not isinstance(t[2], Literal) or t[2].datatype == XSD.integer]
    for triple in triples:
        graph.add(triple)
    distinct = sorted({t[2] for t in triples if t[1] in counting and isinstance(t[2], URIRef)})
    if len(distinct) > 1:
        head, all_different = BNode(), BNode()
        graph.add((all_different, RDF.type, OWL.AllDifferent))
        Collection(graph, head, distinct)
        graph.add((all_different, OWL.distinctMembers, head))
    for prop in sorted(copy.closed):
        values: dict[Node, set[Node]] = defaultdict(set)
        for s, p, o in triples:
            if p == prop:
                values[s].add(o)
        for subject, objects in values.items():  # subject ∈ ∀prop.{its known values}
            restriction, one_of, members = BNode(), BNode(), BNode()
            graph.add((subject, RDF.type, restriction))
            graph.add((restriction, RDF.type, OWL.Restriction))
            graph.add((restriction, OWL.onProperty, prop))
            graph.add((restriction, OWL.allValuesFrom, one_of))
            graph.add((one_of, RDF.type, OWL.Class))
            Collection(graph, members, sorted(objects))
            graph.add((one_of, OWL.oneOf, members))
    return graph


def _conflicts(single: dict[str, dict[tuple[str, str], bool]], copies: list[_Copy]) -> frozenset[str]:
    """Claims whose own results contradict another claim's (or the background's) on some relationship."""
    by_fact: dict[tuple[str, str], set[str]] = defaultdict(set)
    out: set[str] = set()
    for copy in copies:
        for label, r in single.get(copy.key, {}):
            if label == "inconsistent":  # a claim at odds with the background itself
                out |= set(copy.claims)
                continue
            polarity, criterion = label.split(" ", 1)
            by_fact[(polarity + " " + criterion, r)] |= set(copy.claims) or {""}
    for (label, r), claims in by_fact.items():
        polarity, criterion = label.split(" ", 1)
        other = by_fact.get((("neg" if polarity == "pos" else "pos") + " " + criterion, r))
        if other:
            out |= (claims | other) - {""}
    return frozenset(out)


def _findings(
    views: dict[str, View],
    criteria: list[Criterion],
    relationships: set[Node],
    copies: list[_Copy],
    single: dict[str, dict[tuple[str, str], bool]],
    copies2: list[_Copy],
    joint: dict[str, dict[tuple[str, str], bool]],
    assertions: dict[str, Graph],
) -> Findings:
    findings: Findings = {}
    claim_copy = {next(iter(c.claims)): c.key for c in copies if c.claims}
    view_copies = iter(copies2)
    groups = _closure_groups(criteria)
    for view in views.values():
        open_copy = next(view_copies)
        closed_copies = {closed: next(view_copies) for closed in groups}
        members = [c.id for c in (*view.claims, *view.assumed)]
        for r in sorted(str(x) for x in relationships):
            mentions = [cid for cid in members if _mentions(assertions[cid], URIRef(r))]
            for criterion in criteria:
                key = str(criterion.iri)
                found: dict[str, list[frozenset[str]]] = {"pos": [], "neg": []}
                for polarity in ("pos", "neg"):
                    fact = (f"{polarity} {key}", r)
                    if single.get("bg", {}).get(fact):
                        found[polarity].append(frozenset())
                    found[polarity] += [
                        frozenset({cid}) for cid in members if single.get(claim_copy.get(cid, ""), {}).get(fact)
                    ]
                    if not found[polarity] and joint.get(open_copy.key, {}).get(fact):
                        found[polarity].append(frozenset(mentions))
                closed_fails: list[frozenset[str]] = []
                if criterion.closes:
                    group = next(g for g in groups if criterion.closes <= g)
                    if joint.get(closed_copies[group].key, {}).get((f"neg {key}", r)):
                        closed_fails.append(frozenset(_value_claims(assertions, members, URIRef(r), criterion.closes)))
                if found["pos"] or found["neg"] or closed_fails:
                    findings[(view.name, r, key)] = Finding(
                        holds=tuple(found["pos"]), fails=tuple(found["neg"]), fails_closed=tuple(closed_fails)
                    )
    return findings


def _mentions(graph: Graph, node: URIRef) -> bool:
    return (node, None, None) in graph or (None, None, node) in graph


def _value_claims(assertions: dict[str, Graph], members: list[str], r: URIRef, props: frozenset[URIRef]) -> set[str]:
    return {cid for cid in members if any((r, p, None) in assertions[cid] for p in props)}
