"""The benchmarks of issue 5: our stack and the baselines side by side, in one run, one table.

    python benchmarks/run.py [--sizes 1k,10k,100k,1m] [--atop DIR] [--quick] [--skip TASK,...]

Workloads: the corpus build (benchmarks/corpus.py's `allygraph.build`), the real ATOP files imported and
classified under every definition, and synthetic ledgers (benchmarks/synthetic.py, seed 1) of the
given sizes. For each, every task of benchmarks/tasks.py runs in its own process, stopped after 10
minutes of wall time or 8 GB of resident memory (the process and its children, polled with psutil),
with its peak resident memory recorded. Prints the table (markdown) with the ratio of each baseline to
our stack, the classification agreement of every engine that finishes, and writes
benchmarks/results.md. `--quick` (a few minutes): the corpus and 1k only, no validation, with the
rdflib load and `reasonable` baselines (10k would not be quick: our classification takes over 10 minutes
there, see benchmarks/README.md). Never part of the test run.
"""

from __future__ import annotations

import argparse
import compileall
import dataclasses
import importlib.util
import json
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import psutil

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from synthetic import generate, parse_size  # noqa: E402

WALL_LIMIT = 600.0  # the baselines' caps (issue 5)
MEMORY_LIMIT = 8 * 1024**3
# our own tasks must finish: their caps only stop a runaway (at 1M the load alone is about 10 minutes)
OUR_WALL_LIMIT = 3600.0
OUR_MEMORY_LIMIT = 20 * 1024**3
ATOP = Path("/work/shared/data/atop-v4")

# (stage, our task, baseline label, baseline task); our task runs first, baselines after
STAGES = (
    ("load", "ours-load", "rdflib Dataset parse", "rdflib-load"),
    ("validate", "ours-validate", "pyshacl on rdflib", "rdflib-validate"),
    ("classify", "ours-classify", "rdflib SPARQL (same compiled queries)", "rdflib-classify"),
    ("classify", None, "owlrl materialise + query", "owlrl-classify"),
    ("classify", None, "reasonable materialise + query", "reasonable-classify"),
    ("classify", None, "owlready2 + HermiT (allygraph hermit engine)", "hermit-classify"),
    ("classify", None, "owlready2 sync_reasoner", "owlready-sync"),
    ("query", "ours-query", "rdflib SPARQL", "rdflib-query"),
)
QUICK_BASELINES = {"rdflib-load", "reasonable-classify"}


@dataclass
class Run:
    """One task process: its JSON lines, how it ended, its wall time and peak memory."""

    task: str
    lines: list[dict[str, object]] = field(default_factory=list)
    status: str = "ok"  # ok | stopped at 10 min | stopped at 8 GB | failed (other caps for our tasks)
    wall: float = 0.0
    peak: int = 0
    error: str = ""

    def seconds(self, stage: str) -> float | None:
        for line in self.lines:
            if line.get("stage") == stage:
                return float(line["seconds"])  # type: ignore[arg-type]
        return None

    def value(self, stage: str, key: str) -> object:
        for line in self.lines:
            if line.get("stage") == stage:
                return line.get(key)
        return None


def _tree_rss(process: psutil.Process) -> int:
    total = 0
    for p in [process, *process.children(recursive=True)]:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            pass
    return total


def run_task(task: str, data: Path, work: Path, *, extra: tuple[str, ...] = ()) -> Run:
    """Run one task of tasks.py in a subprocess under the wall-time and memory caps."""
    command = [sys.executable, str(HERE / "tasks.py"), task, "--data", str(data), "--work", str(work), *extra]
    log = work / f"{task}.out"
    err = work / f"{task}.err"
    result = Run(task)
    ours = task.startswith("ours-") or task == "dump-results"
    wall_cap, memory_cap = (OUR_WALL_LIMIT, OUR_MEMORY_LIMIT) if ours else (WALL_LIMIT, MEMORY_LIMIT)
    started = time.perf_counter()
    with log.open("w") as out, err.open("w") as errors:
        child = subprocess.Popen(command, stdout=out, stderr=errors, start_new_session=True)
        watched = psutil.Process(child.pid)
        try:
            while child.poll() is None:
                rss = _tree_rss(watched)
                result.peak = max(result.peak, rss)
                elapsed = time.perf_counter() - started
                if rss > memory_cap or elapsed > wall_cap:
                    over = f"{memory_cap / 1024**3:.0f} GB" if rss > memory_cap else f"{wall_cap / 60:.0f} min"
                    result.status = f"stopped at {over}"
                    break
                time.sleep(0.1)
        finally:
            if child.poll() is None:  # over a cap, or this run interrupted: stop the task and its children
                for p in [*watched.children(recursive=True), watched]:
                    try:
                        p.kill()
                    except psutil.Error:
                        pass
                child.wait()
    result.wall = time.perf_counter() - started
    for line in log.read_text().splitlines():
        if line.startswith("{"):
            result.lines.append(json.loads(line))
    if result.status == "ok" and child.returncode != 0:
        result.status = "failed"
        result.error = err.read_text().strip().splitlines()[-1:][0] if err.read_text().strip() else "?"
    return result


# ----------------------------------------------------------------------------------------------------
# Workloads
# ----------------------------------------------------------------------------------------------------


def atop_nquads(target: Path, atop: Path) -> float:
    """ATOP files imported (read_atop, quads) plus the ontology and definitions; the import's seconds."""
    import pyoxigraph
    from synthetic import background_nquads

    from allygraph.atop import quads, read_atop

    started = time.perf_counter()
    data = read_atop(
        atop / "atop-alliance-level.csv",
        atop / "atop-member-level.csv",
        atop / "cow-state-codes.csv",
        allow_unknown_states=True,
    )
    body = pyoxigraph.serialize(quads(data), format=pyoxigraph.RdfFormat.N_QUADS) or b""
    seconds = time.perf_counter() - started
    target.write_text(background_nquads() + body.decode(), encoding="utf-8")
    return seconds


def corpus_nquads(target: Path, work: Path) -> dict[str, float]:
    """Build the bundled corpus (timed, per stage) and keep its export without the results graphs."""
    import allygraph

    started = time.perf_counter()
    result = allygraph.build(ROOT / "data", work / "build")
    seconds = {"build": time.perf_counter() - started, **result.seconds}
    with (work / "build" / "allygraph.nq").open(encoding="utf-8") as src, target.open("w", encoding="utf-8") as out:
        for line in src:
            if "<https://w3id.org/allygraph/graph/results/" not in line:
                out.write(line)
    return seconds


# ----------------------------------------------------------------------------------------------------
# The table
# ----------------------------------------------------------------------------------------------------


def _secs(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.1f} s"


def _mem(run: Run) -> str:
    return f"{run.peak / 1024**2:,.0f} MB"


def _cell(run: Run, stage: str) -> str:
    done = run.seconds(stage)
    if run.status == "ok" or done is not None:
        return _secs(done)
    return run.status if run.status != "failed" else f"failed: {run.error[:80]}"


def _ratio(ours: float | None, theirs: Run, stage: str) -> str:
    """Baseline time / ours; for a stopped baseline a lower bound from the time it had spent on the stage."""
    base = theirs.seconds(stage)
    if ours is None or ours <= 0:
        return "–"
    if base is not None:
        return f"{base / ours:,.1f}×"
    if theirs.status == "stopped at 10 min" and not stage.startswith("query "):
        spent = theirs.wall - sum(float(line["seconds"]) for line in theirs.lines)  # type: ignore[arg-type]
        return f"> {spent / ours:,.1f}×"
    return "–"


def _outcomes(work: Path, task: str) -> set[tuple[str, ...]] | None:
    path = work / f"outcomes-{task}.tsv"
    if not path.exists():
        return None
    return {tuple(line.split("\t")) for line in path.read_text(encoding="utf-8").splitlines()}


def agreement(work: Path, task: str) -> str:
    ours, theirs = _outcomes(work, "ours-classify"), _outcomes(work, task)
    if ours is None or theirs is None:
        return "–"
    mismatches = len({(r, d) for r, d, _o in ours ^ theirs})
    return f"{mismatches} of {len(ours)} differ" if mismatches else f"identical ({len(ours)})"


def workload_rows(name: str, data: Path, work: Path, tasks: set[str], notes: list[str]) -> list[str]:
    """Run every stage of one workload; the markdown rows."""
    rows: list[str] = []
    ours: dict[str, Run] = {}
    baseline_runs: dict[str, Run] = {}
    quads = None
    cold: Run | None = None
    for stage, our_task, label, base_task in STAGES:
        load = ours.get("ours-load")
        if load is not None and load.status != "ok" and our_task and our_task not in ours:
            notes.append(f"{name}: {our_task} not run, the load was {load.status}")
            ours[our_task] = Run(our_task, status="not run (load incomplete)")
        if our_task and our_task not in ours and our_task in tasks:
            if our_task == "ours-classify" and "ours-classify-cold" in tasks:  # first: it fills the cache
                cold = run_task("ours-classify-cold", data, work)
            ours[our_task] = run_task(our_task, data, work)
            if our_task == "ours-load":
                quads = ours[our_task].value("load", "quads")
            if our_task == "ours-classify" and "rdflib-query" in tasks:  # its input
                run_task("dump-results", data, work)
                if cold is not None:
                    rows.append(_row(name, "classify", cold, None, "", quads, title="classify, empty cache"))
        mine = ours.get(our_task or "ours-classify")
        if stage == "query":
            if mine is None:
                continue
            theirs = run_task(base_task, data, work) if base_task in tasks else None
            for line in mine.lines:
                key = str(line["stage"])
                if key.startswith("query "):
                    seconds = float(line["seconds"])  # type: ignore[arg-type]
                    cell = _cell(theirs, key) if theirs else "(not run)"
                    ratio = _ratio(seconds, theirs, key) if theirs else "–"
                    runs = line.get("runs", 5)
                    rows.append(
                        f"| {name} | {key} (median of {runs}) | {_secs(seconds)} | {label} | {cell} | {ratio} "
                        f"| {line.get('rows')} rows | | |"
                    )
            continue
        if base_task not in tasks:
            if our_task and mine is not None:
                rows.append(_row(name, stage, mine, None, label, quads))
            continue
        theirs = baseline_runs[base_task] = run_task(base_task, data, work)
        agree = ""
        if stage == "classify" and base_task != "owlready-sync":
            agree = agreement(work, base_task) if theirs.status == "ok" else "–"
        rows.append(_row(name, stage, mine, theirs, label, quads, agree))
        if stage == "load" and "ours-load-memory" in tasks:
            in_memory = run_task("ours-load-memory", data, work)
            in_memory.lines = [{**line, "stage": "load"} for line in in_memory.lines]
            rows.append(_row(name, "load", in_memory, theirs, label, quads, title="load (in memory)"))
    mine = ours.get("ours-classify")
    if mine is not None and mine.seconds("classify (repeated)") is not None:  # both warm, side by side
        label = "owlready2 + HermiT, repeated in one process"
        hermit = baseline_runs.get("hermit-classify")
        rows.append(_row(name, "classify (repeated)", mine, hermit, label, quads, title="classify, repeated (median)"))
    for task, extra in (
        ("ours-load", ("compact",)),
        ("ours-classify", ("store results", "compact results", "classify all views")),
    ):
        if mine := ours.get(task):  # our own later steps, no baseline
            for line in mine.lines:
                if line["stage"] in extra:
                    rows.append(f"| {name} | {line['stage']} | {_secs(float(line['seconds']))} | | | | | |")  # type: ignore[arg-type]
    if "ours-floor" in tasks and "ours-classify" in ours:  # reads the results the classification stored
        ours["ours-floor"] = floor = run_task("ours-floor", data, work)
        for line in floor.lines:
            facts = ", ".join(
                f"{k.replace('_', ' ')} {v:,.1f}" if isinstance(v, float) else f"{k} {v:,}"
                for k, v in line.items()
                if k not in ("stage", "seconds")
            )
            rows.append(f"| {name} | {line['stage']} | {_secs(float(line['seconds']))} | | | | {facts} | | |")  # type: ignore[arg-type]
    for run in ours.values():
        if run.status != "ok":
            notes.append(f"{name}: our task {run.task} {run.status} {run.error}")
    return rows


def _row(
    name: str,
    stage: str,
    mine: Run | None,
    theirs: Run | None,
    label: str,
    quads: object,
    agree: str = "",
    *,
    title: str = "",
) -> str:
    our_seconds = mine.seconds(stage) if mine else None
    our_cell = _cell(mine, stage) if mine else "–"
    extra = ""
    if stage == "load" and our_seconds and isinstance(quads, int):
        extra = f"{quads:,} quads, {quads / our_seconds:,.0f}/s"
    if stage == "validate" and mine:
        extra = f"violations: ours {mine.value('validate', 'violations')}"
        if theirs is not None:
            extra += f", pyshacl {theirs.value('validate', 'violations')}"
    memory = f"{_mem(mine)} vs {_mem(theirs)}" if mine and theirs else (_mem(mine) if mine else "")
    if theirs is None:
        return f"| {name} | {title or stage} | {our_cell} | {label} (not run) | | | {extra} | {memory} | |"
    return (
        f"| {name} | {title or stage} | {our_cell} | {label} | {_cell(theirs, stage)} "
        f"| {_ratio(our_seconds, theirs, stage)} | {extra} | {memory} | {agree} |"
    )


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    memory = psutil.virtual_memory().total / 1024**3
    versions = ", ".join(
        f"{p} {metadata.version(p)}"
        for p in ("pyoxigraph", "rdflib", "pyshacl", "owlready2", "owlrl", "reasonable", "psutil")
    )
    return (
        f"{psutil.cpu_count()} cores ({cpu}), {memory:.0f} GB RAM, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}; {versions}"
    )


def _synthetic(work: Path, size: int, seed: int, *, reuse: bool) -> dict[str, Any]:
    """A fresh work folder with the synthetic ledger in `data.nq` (its stats in `data.json`); with `reuse`,
    the ledger already there when `data.json` says it has this size and seed."""
    meta = work / "data.json"
    if reuse and meta.exists() and (work / "data.nq").exists():
        stats = json.loads(meta.read_text(encoding="utf-8"))
        if stats.get("relationships") == size and stats.get("seed") == seed:
            for child in work.iterdir():  # the rest is an earlier run's
                if child.name not in ("data.nq", "data.json"):
                    shutil.rmtree(child) if child.is_dir() else child.unlink()
            return {**stats, "reused": " (generated by an earlier run)"}
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    stats = {**dataclasses.asdict(generate(size, work / "data.nq", seed=seed)), "seed": seed}
    meta.write_text(json.dumps(stats), encoding="utf-8")
    return {**stats, "reused": ""}


HEADER = (
    "| workload | stage | ours | baseline | baseline time | ratio (baseline / ours) | notes "
    "| peak RSS (ours vs baseline) | classification agreement |\n|---|---|---|---|---|---|---|---|---|"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1k,10k,100k", help="synthetic sizes, e.g. 1k,10k,100k,1m")
    parser.add_argument("--atop", type=Path, default=ATOP, help="folder of the ATOP 4.01 CSV files")
    parser.add_argument("--quick", action="store_true", help="the corpus and 1k, two baselines, no ATOP")
    parser.add_argument("--skip", default="", help="tasks to leave out, e.g. owlready-sync,rdflib-validate")
    parser.add_argument("--no-corpus", action="store_true")
    parser.add_argument("--no-atop", action="store_true")
    parser.add_argument("--work", type=Path, help="keep the work files here (default: a temporary folder)")
    parser.add_argument("--out", type=Path, default=HERE / "results.md")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--reuse-data",
        action="store_true",
        help="keep a synthetic ledger already generated in --work with the same size and seed (1M: 12 GB, 3 min)",
    )
    args = parser.parse_args()
    # byte-compiled once, as pip does for an installed package: where PYTHONDONTWRITEBYTECODE is set (it is
    # on this machine) every task would otherwise compile the modules it imports inside the timed calls
    package = importlib.util.find_spec("allygraph")
    if package is not None and package.origin is not None:
        compileall.compile_dir(Path(package.origin).parent, quiet=1)
    ours = {
        "ours-load",
        "ours-load-memory",
        "ours-validate",
        "ours-classify-cold",
        "ours-classify",
        "ours-query",
        "ours-floor",
    }
    baselines = {t for _s, _o, _l, t in STAGES}
    tasks = ours | (QUICK_BASELINES if args.quick else baselines)
    tasks -= set(filter(None, args.skip.split(",")))
    if args.quick:
        tasks -= {"ours-validate"}
    sizes = ["1k"] if args.quick else [s for s in args.sizes.split(",") if s]
    root = args.work or Path(tempfile.mkdtemp(prefix="allygraph-bench-"))
    root.mkdir(parents=True, exist_ok=True)
    rows: list[str] = []
    notes: list[str] = []
    try:
        workloads: list[tuple[str, Path, Path]] = []
        if not args.no_corpus:
            work = root / "corpus"
            shutil.rmtree(work, ignore_errors=True)
            work.mkdir()
            seconds = corpus_nquads(work / "data.nq", work)
            stages = ", ".join(f"{k} {_secs(v)}" for k, v in seconds.items() if k != "build")
            rows.append(f"| corpus | allygraph build | {_secs(seconds['build'])} | | | | {stages} | | |")
            workloads.append(("corpus", work / "data.nq", work))
        if not args.no_atop and not args.quick and (args.atop / "atop-alliance-level.csv").exists():
            work = root / "atop"
            shutil.rmtree(work, ignore_errors=True)
            work.mkdir()
            seconds = atop_nquads(work / "data.nq", args.atop)
            rows.append(f"| ATOP 4.01 | import (read_atop + quads) | {_secs(seconds)} | | | | 745 agreements | | |")
            workloads.append(("ATOP 4.01", work / "data.nq", work))
        for size in sizes:
            work = root / f"synthetic-{size}"
            stats = _synthetic(work, parse_size(size), args.seed, reuse=args.reuse_data)
            rows.append(
                f"| synthetic {size} | generate | {_secs(stats['seconds'])} | | | | {stats['lines']:,} lines, "
                f"{stats['claims']:,} claims ({stats['evidence_claims']:,} evidence), "
                f"{stats['violations']} planted violations{stats['reused']} | | |"
            )
            workloads.append((f"synthetic {size}", work / "data.nq", work))
        for name, data, work in workloads:
            print(f"running {name} ...", file=sys.stderr, flush=True)
            rows += workload_rows(name, data, work, tasks, notes)
            print("\n".join(rows[-3:]), file=sys.stderr, flush=True)
    finally:
        if args.work is None:
            shutil.rmtree(root, ignore_errors=True)
    table = "\n".join([HEADER, *rows])
    text = f"Machine: {machine()}\n\nCommand: `{' '.join(['python', 'benchmarks/run.py', *sys.argv[1:]])}`\n\n{table}\n"
    if notes:
        text += "\n" + "\n".join(f"- {n}" for n in notes) + "\n"
    print(text)
    args.out.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
