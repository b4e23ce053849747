"""`allygraph docs`: the ontology and the definitions of alliance as one self-contained HTML page.

pyLODE was the first choice, but the releases that install on Python 3.11 (3.2–3.4) crash on nested class
expressions such as a union inside an intersection (`TypeError: unhashable type: 'list'`), which the
definitions use, and 3.6 needs Python 3.12. So the page is written here, from the same expression trees
the reasoning engines read: every class and property with its label, definition, source and axioms
(in Manchester-like syntax), and the definitions of alliance side by side with their criteria.
"""

from __future__ import annotations

import html
from pathlib import Path

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, SKOS

from .definitions import (
    AGD,
    And,
    AtLeast,
    DataRange,
    DefinitionSet,
    Expr,
    HasValue,
    Named,
    Not,
    OneOf,
    Or,
    Some,
    Top,
    load_definitions,
    parse_expression,
)
from .namespaces import AG, PREFIXES

_PREFIXES = {**PREFIXES, "agd": AGD}
_FACETS = {"minInclusive": "≥", "maxInclusive": "≤", "minExclusive": ">", "maxExclusive": "<"}
_KINDS = (
    (OWL.ObjectProperty, "Object properties"),
    (OWL.DatatypeProperty, "Datatype properties"),
    (OWL.AnnotationProperty, "Annotation properties"),
)
_CSS = """
body { font: 15px/1.5 system-ui, sans-serif; max-width: 70em; margin: 2em auto; padding: 0 1em; color: #222; }
h1, h2, h3 { line-height: 1.2; } h3 { margin-bottom: .2em; } code { font-size: 90%; }
section.term { border-top: 1px solid #ddd; padding: .3em 0 .6em; }
dl { display: grid; grid-template-columns: 10em 1fr; gap: .2em 1em; margin: .3em 0; } dt { color: #666; }
table { border-collapse: collapse; width: 100%; } td, th { border: 1px solid #ccc; padding: .3em .5em;
vertical-align: top; text-align: left; } nav ul { columns: 3; } .iri { color: #666; font-size: 85%; }
"""


def _short(iri: URIRef) -> str:
    for prefix, ns in sorted(_PREFIXES.items(), key=lambda kv: -len(kv[1])):
        if str(iri).startswith(ns):
            return f"{prefix}:{str(iri)[len(ns) :]}"
    return f"<{iri}>"


def _anchor(iri: URIRef) -> str:
    return _short(iri).replace(":", "-").strip("<>")


class _Page:
    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self.documented: set[URIRef] = set()

    def link(self, iri: URIRef) -> str:
        text = html.escape(_short(iri))
        if iri in self.documented:
            return f'<a href="#{html.escape(_anchor(iri))}"><code>{text}</code></a>'
        return f"<code>{text}</code>"

    def expression(self, expr: Expr) -> str:
        """Manchester-like syntax, with links to documented terms."""
        if isinstance(expr, Named):
            return self.link(expr.iri)
        if isinstance(expr, Top):
            return "<code>owl:Thing</code>"
        if isinstance(expr, And | Or):
            word = " <b>and</b> " if isinstance(expr, And) else " <b>or</b> "
            return "(" + word.join(self.expression(p) for p in expr.parts) + ")"
        if isinstance(expr, Not):
            return f"<b>not</b> {self.expression(expr.part)}"
        if isinstance(expr, Some):
            return f"{self.link(expr.prop)} <b>some</b> {self.expression(expr.filler)}"
        if isinstance(expr, HasValue):
            return f"{self.link(expr.prop)} <b>value</b> {self.link(expr.value)}"
        if isinstance(expr, AtLeast):
            return f"{self.link(expr.prop)} <b>min</b> {expr.count} {self.expression(expr.filler)}"
        if isinstance(expr, OneOf):
            return "{" + ", ".join(self.link(m) for m in expr.members) + "}"
        if isinstance(expr, DataRange):
            facets = ", ".join(f"{_FACETS[f]} {bound}" for f, bound in expr.facets)
            return f"<code>{html.escape(_short(expr.datatype))}[{html.escape(facets)}]</code>"
        raise TypeError(expr)

    def text(self, node: URIRef, prop: URIRef) -> str:
        values = [v for v in self.graph.objects(node, prop) if isinstance(v, Literal | URIRef)]
        english = [v for v in values if not isinstance(v, Literal) or v.language in (None, "en")]
        return "; ".join(html.escape(str(v)) for v in sorted(english or values, key=str))

    def term(self, iri: URIRef) -> str:
        g = self.graph
        rows = [("IRI", f'<span class="iri">{html.escape(str(iri))}</span>')]
        for label, prop in (("Definition", SKOS.definition), ("Source", DCTERMS.source), ("Comment", RDFS.comment)):
            if value := self.text(iri, prop):
                rows.append((label, value))
        supers = sorted(o for o in g.objects(iri, RDFS.subClassOf) if isinstance(o, URIRef))
        if supers:
            rows.append(("Subclass of", ", ".join(self.link(s) for s in supers)))
        for node in g.objects(iri, OWL.equivalentClass):
            rows.append(("Equivalent to", self.expression(parse_expression(g, node, "ontology"))))
        disjoint = sorted(o for o in g.objects(iri, OWL.disjointWith) if isinstance(o, URIRef))
        if disjoint:
            rows.append(("Disjoint with", ", ".join(self.link(d) for d in disjoint)))
        for label, prop in (("Domain", RDFS.domain), ("Range", RDFS.range)):
            targets = [o for o in g.objects(iri, prop)]
            if targets:
                rendered = [
                    self.link(t) if isinstance(t, URIRef) else self.expression(parse_expression(g, t, "ontology"))
                    for t in targets
                ]
                rows.append((label, ", ".join(rendered)))
        if (iri, RDF.type, OWL.FunctionalProperty) in g:
            rows.append(("Characteristics", "functional"))
        title = self.text(iri, RDFS.label) or html.escape(_short(iri))
        body = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in rows)
        return f'<section class="term" id="{html.escape(_anchor(iri))}"><h3>{title}</h3><dl>{body}</dl></section>'


def _named(graph: Graph, kind: URIRef) -> list[URIRef]:
    found = {s for s in graph.subjects(RDF.type, kind) if isinstance(s, URIRef)}
    return sorted((s for s in found if str(s).startswith((str(AG), AGD))), key=lambda s: _short(s).lower())


def render(definitions: DefinitionSet | None = None) -> str:
    """The documentation page as HTML text."""
    definitions = definitions or load_definitions()
    graph = definitions.graph
    page = _Page(graph)
    classes = _named(graph, OWL.Class)
    properties = [(title, _named(graph, kind)) for kind, title in _KINDS]
    individuals = _named(graph, OWL.NamedIndividual)
    page.documented = set(classes) | {p for _t, ps in properties for p in ps} | set(individuals)

    side = ["<table><tr><th>definition</th><th>combines</th><th>criteria</th></tr>"]
    for definition in definitions.definitions.values():
        criteria = "".join(
            f"<li>{page.link(c.iri)}: {html.escape(c.statement or c.label)}<br>"
            f"<small>{page.expression(c.expression)}</small></li>"
            for c in definition.criteria
        )
        combines = "all criteria" if definition.combination == "all" else "any one criterion"
        side.append(
            f'<tr><td id="definition-{html.escape(definition.name)}"><b>{html.escape(definition.name)}</b>: '
            f"{page.link(definition.iri)}<br>{html.escape(definition.statement or definition.label)}</td>"
            f"<td>{combines}</td><td><ul>{criteria}</ul></td></tr>"
        )
    side.append("</table>")

    sections = [("Classes", classes), *properties, ("Named individuals", individuals)]
    toc = "".join(f'<li><a href="#{t.lower().replace(" ", "-")}">{t}</a> ({len(ts)})</li>' for t, ts in sections)
    parts = [
        "<!doctype html><html lang=en><head><meta charset=utf-8>",
        "<title>allygraph ontology</title><style>" + _CSS + "</style></head><body>",
        "<h1>allygraph: alliances, strategic cooperation and threats</h1>",
        f"<p>{page.text(URIRef(str(AG).rstrip('#')), RDFS.comment)}</p>",
        '<nav><ul><li><a href="#definitions">Definitions of alliance, side by side</a></li>' + toc + "</ul></nav>",
        '<h2 id="definitions">Definitions of alliance, side by side</h2>',
        *side,
    ]
    for title, terms in sections:
        parts.append(f'<h2 id="{title.lower().replace(" ", "-")}">{title}</h2>')
        parts.extend(page.term(t) for t in terms)
    parts.append("</body></html>")
    return "\n".join(parts)


def write_docs(out: Path, definitions: DefinitionSet | None = None) -> Path:
    """Write the page to `out` (a folder: `out/index.html`) and return its path."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / "index.html"
    path.write_text(render(definitions), encoding="utf-8")
    return path
