"""Benchmark: the corpus build and both reasoning engines, measured side by side in one run.

    .venv/bin/python benchmarks/corpus.py [--repeat N]

Prints the median wall time of each stage over N runs (default 3) and the ratio of the HermiT engine to
the SPARQL engine on the same work. Never part of the test run. The ATOP and synthetic-ledger workloads
of the benchmark issue are not here yet.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import allygraph

DATA = Path(__file__).resolve().parent.parent / "data"


def timed(func: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        func()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "build"
        rows: list[tuple[str, float]] = []
        rows.append(
            (
                "build (read, compile, SHACL, store, classify, export)",
                timed(lambda: allygraph.build(DATA, out), args.repeat),
            )
        )
        result = allygraph.build(DATA, out)
        for stage, seconds in result.seconds.items():
            rows.append((f"  stage {stage} (last build)", seconds))
        store = allygraph.open_store(out)
        one_view = {"views": ["source:004_7e0a52477b7e2d2d"], "names": ["valdai"]}
        sparql_all = timed(lambda: allygraph.classify(store, engine="sparql"), args.repeat)
        hermit_all = timed(lambda: allygraph.classify(store, engine="hermit"), args.repeat)
        sparql_one = timed(lambda: allygraph.classify(store, engine="sparql", **one_view), args.repeat)
        hermit_one = timed(lambda: allygraph.classify(store, engine="hermit", **one_view), args.repeat)
        rows += [
            ("classify, all views x all definitions, SPARQL engine", sparql_all),
            ("classify, all views x all definitions, HermiT engine", hermit_all),
            ("classify, view source:004 x valdai, SPARQL engine", sparql_one),
            ("classify, view source:004 x valdai, HermiT engine", hermit_one),
        ]
    width = max(len(name) for name, _ in rows)
    print(f"{'workload':{width}}  median s")
    for name, seconds in rows:
        print(f"{name:{width}}  {seconds:8.3f}")
    print(f"HermiT / SPARQL, all views: {hermit_all / sparql_all:.1f}x; one view: {hermit_one / sparql_one:.1f}x")


if __name__ == "__main__":
    main()
