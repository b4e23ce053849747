"""Every export format parses back to the same data."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph
import pytest
from rdflib import Dataset, Graph, URIRef
from rdflib.compare import isomorphic

import allygraph
from allygraph.cli import main

MINI = Path(__file__).resolve().parent / "data" / "mini"
ENTITIES = "https://w3id.org/allygraph/graph/entities"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Dataset]:
    out = tmp_path_factory.mktemp("export")
    allygraph.build(MINI, out)
    reference = Dataset()
    reference.parse(out / "allygraph.nq", format="nquads")  # what the store holds, as written by build
    return out, reference


def named_graphs(dataset: Dataset) -> dict[str, Graph]:
    graphs = {}
    for graph in dataset.graphs():
        if isinstance(graph.identifier, URIRef) and len(graph):
            copy = Graph()
            for triple in graph:
                copy.add(triple)
            graphs[str(graph.identifier)] = copy
    return graphs


def union(dataset: Dataset) -> Graph:
    graph = Graph()
    for s, p, o, _g in dataset.quads((None, None, None, None)):
        graph.add((s, p, o))
    return graph


@pytest.mark.parametrize(("fmt", "rdflib_format"), [("trig", "trig"), ("nquads", "nquads"), ("jsonld", "json-ld")])
def test_formats_with_named_graphs_round_trip(
    built: tuple[Path, Dataset], tmp_path: Path, fmt: str, rdflib_format: str
) -> None:
    out, reference = built
    target = tmp_path / f"export.{fmt}"
    assert (
        main(["export", "--format", fmt, "--store", str(out), "--out", str(target), "--quiet", "--project", str(MINI)])
        == 0
    )
    back = Dataset()
    back.parse(target, format=rdflib_format)
    expected, got = named_graphs(reference), named_graphs(back)
    assert got.keys() == expected.keys()
    for name, graph in expected.items():
        assert isomorphic(graph, got[name]), name


@pytest.mark.parametrize(("fmt", "rdflib_format"), [("turtle", "turtle"), ("ntriples", "nt")])
def test_single_graph_formats_hold_the_union(
    built: tuple[Path, Dataset], tmp_path: Path, fmt: str, rdflib_format: str
) -> None:
    out, reference = built
    target = tmp_path / f"export.{fmt}"
    assert (
        main(["export", "--format", fmt, "--store", str(out), "--out", str(target), "--quiet", "--project", str(MINI)])
        == 0
    )
    back = Graph()
    back.parse(target, format=rdflib_format)
    assert isomorphic(back, union(reference))


def test_one_named_graph(built: tuple[Path, Dataset], tmp_path: Path) -> None:
    out, reference = built
    target = tmp_path / "entities.ttl"
    assert (
        main(
            [
                "export",
                "--format",
                "turtle",
                "--graph",
                ENTITIES,
                "--store",
                str(out),
                "--out",
                str(target),
                "--quiet",
                "--project",
                str(MINI),
            ]
        )
        == 0
    )
    back = Graph().parse(target, format="turtle")
    assert isomorphic(back, named_graphs(reference)[ENTITIES])


def test_json_ld_reads_back_exactly_with_pyoxigraph(built: tuple[Path, Dataset], tmp_path: Path) -> None:
    """A second, strict JSON-LD reader, compared quad for quad (blank nodes relabelled canonically): the build
    holds blank-node classes (a denied claim's complement), which rdflib's serializer wrote as invalid JSON-LD."""
    out, _ = built
    target = tmp_path / "export.jsonld"
    main(["export", "--format", "jsonld", "--store", str(out), "--out", str(target), "--quiet", "--project", str(MINI)])

    def canonical(quads: list[pyoxigraph.Quad]) -> list[str]:
        dataset = pyoxigraph.Dataset(quads)
        dataset.canonicalize(pyoxigraph.CanonicalizationAlgorithm.UNSTABLE)
        return sorted(str(q) for q in dataset)

    back = list(pyoxigraph.parse(path=target, format=pyoxigraph.RdfFormat.JSON_LD))
    stored = list(pyoxigraph.parse(path=out / "allygraph.nq", format=pyoxigraph.RdfFormat.N_QUADS))
    assert canonical(back) == canonical(stored)


def test_json_ld_uses_the_shipped_context(built: tuple[Path, Dataset], tmp_path: Path) -> None:
    out, _ = built
    target = tmp_path / "export.jsonld"
    main(["export", "--format", "jsonld", "--store", str(out), "--out", str(target), "--quiet", "--project", str(MINI)])
    text = target.read_text(encoding="utf-8")
    assert '"@context": {' in text  # embedded, not a URL to fetch
    assert '"ag": "https://w3id.org/allygraph/ontology#"' in text


def test_unknown_graph_is_refused_and_nothing_written(
    built: tuple[Path, Dataset], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, _ = built
    target = tmp_path / "x.ttl"
    code = main(
        [
            "export",
            "--graph",
            "https://example.org/none",
            "--store",
            str(out),
            "--out",
            str(target),
            "--quiet",
            "--project",
            str(MINI),
        ]
    )
    assert code == 2
    assert "no named graph" in capsys.readouterr().err
    assert not target.exists()
