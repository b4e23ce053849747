"""`allygraph build`: ledger -> RDF -> validation -> a new store generation -> exports, atomically."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph

from . import store as stores
from .errors import ValidationFailed
from .ledger import Ledger, load_ledger
from .namespaces import ONTOLOGY_GRAPH, PREFIXES
from .rdf import compile_ledger
from .validate import Report, validate

Progress = Callable[[str], None]


@dataclass
class BuildResult:
    out: Path
    generation: Path
    claims: int
    quads: int
    graphs: int
    report: Report
    seconds: dict[str, float] = field(default_factory=dict)


def _quiet(_message: str) -> None:
    pass


class _Stages:
    """Times each stage and reports it through `progress`."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.seconds: dict[str, float] = {}

    def run(self, name: str, label: str, func: Callable[[], object]) -> object:
        self.progress(f"{label} ...")
        started = time.perf_counter()
        value = func()
        self.seconds[name] = time.perf_counter() - started
        self.progress(f"{label}: done in {self.seconds[name]:.2f} s")
        return value


def check(data: Path, *, progress: Progress = _quiet) -> tuple[Ledger, Report]:
    """Read, compile and validate the ledger in `data` without writing anything."""
    stages = _Stages(progress)
    ledger: Ledger = stages.run("read", "reading the ledger", lambda: load_ledger(data))  # type: ignore[assignment]
    dataset = compile_ledger(ledger)
    report: Report = stages.run("validate", "validating (SHACL)", lambda: validate(dataset))  # type: ignore[assignment]
    return ledger, report


def build(data: Path, out: Path, *, progress: Progress = _quiet) -> BuildResult:
    """Build the store and exports for the ledger in `data` into the output folder `out`.

    Nothing in `out` changes unless every stage succeeds: on any error or interruption the previous
    store and exports stay exactly as they were.

    :raises InputErrors: if a ledger file is malformed (nothing is written).
    :raises ValidationFailed: if the compiled graph violates a shape (nothing is written).
    :raises StoreBusy: if another build holds `out`.
    """
    stages = _Stages(progress)
    with stores.write_lock(out):
        stores.collect_garbage(out, keep={stores.current_generation(out)})
        ledger: Ledger = stages.run("read", "reading the ledger", lambda: load_ledger(data))  # type: ignore[assignment]
        dataset = stages.run("compile", f"compiling {len(ledger.claims)} claims to RDF", lambda: compile_ledger(ledger))
        report: Report = stages.run("validate", "validating (SHACL)", lambda: validate(dataset))  # type: ignore[arg-type, assignment]
        if not report.conforms:
            raise ValidationFailed(report)
        generation = stores.new_generation(out)
        try:
            nquads = dataset.serialize(format="nquads", encoding="utf-8")  # type: ignore[attr-defined]
            quads, graphs = stages.run("store", "writing the store", lambda: _write(generation, nquads))  # type: ignore[misc]
            stores.commit(out, generation)
        except BaseException:
            stores.discard(generation)
            raise
    progress(f"built {out}: {quads} quads in {graphs} named graphs from {len(ledger.claims)} claims")
    return BuildResult(out, generation, len(ledger.claims), quads, graphs, report, stages.seconds)


def _write(generation: Path, nquads: bytes) -> tuple[int, int]:
    """Load N-Quads into a new store in `generation` and write the exports beside it."""
    store = pyoxigraph.Store(str(generation / stores.STORE))
    try:
        store.load(nquads, format=pyoxigraph.RdfFormat.N_QUADS)
        store.flush()
        store.dump(str(generation / "allygraph.trig"), format=pyoxigraph.RdfFormat.TRIG, prefixes=PREFIXES)
        store.dump(str(generation / "allygraph.nq"), format=pyoxigraph.RdfFormat.N_QUADS)
        store.dump(
            str(generation / "ontology.ttl"),
            format=pyoxigraph.RdfFormat.TURTLE,
            from_graph=pyoxigraph.NamedNode(str(ONTOLOGY_GRAPH)),
            prefixes=PREFIXES,
        )
        quads = len(store)
        graphs = sum(1 for _ in store.named_graphs())
    finally:
        del store
        gc.collect()  # closes RocksDB before the generation is published
    return quads, graphs
