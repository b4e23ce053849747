"""Mutational fuzzing of the ledger reader on the mini ledger's claim files.

Each iteration takes a fresh copy of tests/data/mini's claim files, applies a few random byte, line and token
mutations to one or both, and runs `allygraph.load_ledger` on the copy. A Ledger or an InputErrors is the
expected outcome; anything else (another exception, a hang past --timeout) is a finding. With the default
--compile, a ledger that reads cleanly is also compiled to RDF and loaded into an in-memory pyoxigraph store,
as `allygraph build` does, since a value the reader accepts but the store cannot hold is a reader bug too.

Findings are saved under fuzz/findings/claims/<signature>/ (the mutated files, the traceback, the seed and
iteration), one folder per distinct signature (exception type and the innermost allygraph frame).

    python fuzz/claims.py --seconds 60 --seed 1
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import shutil
import signal
import sys
import tempfile
import time
import traceback
import warnings
from collections import Counter
from pathlib import Path
from types import FrameType

import pyoxigraph
from rdflib import Graph

from allygraph.errors import InputErrors
from allygraph.ledger import load_ledger
from allygraph.ontology import vocabulary
from allygraph.rdf import compile_ledger

REPO = Path(__file__).resolve().parent.parent
MINI = REPO / "tests" / "data" / "mini"
FINDINGS = Path(__file__).resolve().parent / "findings" / "claims"

TOKENS = [
    # YAML syntax and the constructs the strict reader refuses
    *[": ", ":", "- ", "-", "? ", "[", "]", "{", "}", ", ", "'", '"', "#", "|", ">", "|-", ">+", "---\n", "...\n"],
    *["&a ", "*a", "&x [1, 2]", "<<: *a", "!!str ", "!!int ", "!!python/object/apply:os.system ['true'] ", "!x "],
    *["%YAML 1.1\n", "%TAG ! tag:yaml.org,2002:\n", "\t", "\r", "\r\n", "\n", "\ufeff", "\x85", "\u2028", "\x00"],
    *['"\\U00110000"', '"\\ud800"', '"\\x00"', '"a\\nb"', '"\\n"', '"\\t"', '"\\/"', "'it''s'", '"\\"', "\\"],
    *['"ann-x\\n"', '"freedonia\\n"', '"2020\\n"', '" pact "', '"\\u2028"', '"\\x85"', '"\\N"', '"\\_"'],
    *["[" * 70, "]" * 70, "{a: " * 70, "- " * 70, "x" * 5000],
    # implicit types, dates, intervals
    *["NO", "yes", "1.10", "~", "null", "0x1F", "1e3", ".inf", "2020-02-30", "2020-13", "2020/2019", "0000"],
    *["2016-10-28", "2020-03-03/2020-03-02", "99999", "-1", "+1", "1_000", "٣", "２０２０"],
    # the ledger's own words: keys, ids, classes, properties, modalities
    *["id", "quote", "attribution", "modality", "statements", "when", "when_text", "note", "source", "claims"],
    *["alpha", "beta", "author", "asserted", "denied", "hypothetical", "a", "label", "cowCode", "date"],
    *["freedonia", "sylvania", "freedonia-sylvania", "smuggling", "StateThreat", "foreign-ministers"],
    *["geneva-treaty", "directedAgainst", "hasTimeHorizon", "longTerm", "shortTerm", "hasPledge", "involves"],
    *["ann-signing", "bob-smugglers", "ann-analyst", "Alliance", "owl:Thing", "Relationship", "Person"],
    # quotes and text that stress the anchoring
    *["the", "pact", "’", "“", "”", "\u200b", "\u00ad", "😀", "İ", "ß", "e\u0301", "  ", " \n "],
]
INTERESTING_BYTES = [b"\xff", b"\xfe", b"\xc3", b"\xe2\x80", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\x80", b"\x00"]


class Hang(BaseException):
    """Raised by the alarm when one iteration runs past --timeout (not an Exception: nothing may catch it)."""


def _alarm(_signum: int, _frame: FrameType | None) -> None:
    raise Hang


def mutate(rng: random.Random, data: bytes, other: bytes) -> bytes:
    """One random mutation of `data` (`other` is the other claim file, for splices)."""
    op = rng.choices(range(12), weights=[1, 1, 1, 1, 1, 2, 2, 6, 2, 1, 1, 2])[0]  # word swaps keep YAML valid
    n = len(data)
    at = rng.randint(0, n)
    if op == 0 and n:  # flip a bit
        i = rng.randrange(n)
        return data[:i] + bytes([data[i] ^ (1 << rng.randrange(8))]) + data[i + 1 :]
    if op == 1:  # insert a random or interesting byte sequence
        chunk = rng.choice(INTERESTING_BYTES) if rng.random() < 0.5 else bytes([rng.randrange(256)])
        return data[:at] + chunk + data[at:]
    if op == 2 and n:  # delete a run of bytes
        return data[:at] + data[at + rng.randint(1, 8) :]
    if op == 3 and n:  # duplicate a chunk
        i = rng.randrange(n)
        return data[:at] + data[i : i + rng.randint(1, 64)] + data[at:]
    if op == 4:  # splice in a piece of the other file
        i = rng.randrange(max(1, len(other)))
        return data[:at] + other[i : i + rng.randint(1, 200)] + data[at:]
    if op in (5, 6):  # insert a token at a random place
        return data[:at] + rng.choice(TOKENS).encode("utf-8", "surrogatepass") + data[at:]
    lines = data.split(b"\n")
    i = rng.randrange(len(lines))
    if op == 7:  # replace a word by a token
        words = list(re.finditer(rb"[A-Za-z0-9_.-]+", data))
        if words:
            word = rng.choice(words)
            return data[: word.start()] + rng.choice(TOKENS).encode("utf-8", "surrogatepass") + data[word.end() :]
    if op == 8:  # duplicate or delete a line
        lines[i : i + 1] = [lines[i], lines[i]] if rng.random() < 0.5 else []
    elif op == 9:  # swap two lines
        j = rng.randrange(len(lines))
        lines[i], lines[j] = lines[j], lines[i]
    elif op == 10:  # change a line's indentation
        stripped = lines[i].lstrip(b" ")
        lines[i] = b" " * max(0, len(lines[i]) - len(stripped) + rng.choice([-4, -2, -1, 1, 2, 4])) + stripped
    else:  # insert a line made of tokens, indented like its neighbour
        indent = lines[i][: len(lines[i]) - len(lines[i].lstrip(b" -"))]
        made = "".join(rng.choice(TOKENS) for _ in range(rng.randint(1, 4))).encode("utf-8", "surrogatepass")
        lines.insert(i, indent + made)
    return b"\n".join(lines)


def signature(exc: BaseException) -> str:
    """Exception type plus the innermost frame in allygraph (else the innermost frame): one per distinct bug."""
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if "allygraph" in f.filename] or frames
    where = f"{Path(ours[-1].filename).name}:{ours[-1].lineno}" if ours else "?"
    return f"{type(exc).__name__} at {where}"


def compile_and_load(ledger: object) -> None:
    """What `allygraph build` does with a clean ledger, short of SHACL: RDF, N-Quads, an Oxigraph store."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # rdflib warns about IRIs it will not check
        dataset = compile_ledger(ledger, ontology=Graph())  # type: ignore[arg-type]
        nquads = dataset.serialize(format="nquads", encoding="utf-8")
    pyoxigraph.Store().load(nquads, format=pyoxigraph.RdfFormat.N_QUADS)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60, help="how long to run (default 60)")
    parser.add_argument("--seed", type=int, default=None, help="random seed (default: from the clock, printed)")
    parser.add_argument("--timeout", type=float, default=10, help="seconds one iteration may take (default 10)")
    parser.add_argument("--no-compile", action="store_true", help="only run load_ledger on each mutant")
    parser.add_argument("--out", type=Path, default=FINDINGS, help=f"findings folder (default {FINDINGS})")
    parser.add_argument("--replay", type=Path, metavar="FINDING", help="run one saved finding again and show it")
    args = parser.parse_args(argv)
    if args.replay:
        return replay(args.replay)
    seed = args.seed if args.seed is not None else int(time.time())
    rng = random.Random(seed)
    vocab = vocabulary()
    originals = {p.name: p.read_bytes() for p in sorted((MINI / "claims").glob("*.yaml"))}
    counts: Counter[str] = Counter()
    messages: Counter[str] = Counter()
    found: dict[str, int] = {}
    unlocated: list[str] = []
    signal.signal(signal.SIGALRM, _alarm)
    print(f"fuzz/claims.py: seed {seed}, {args.seconds:g} s", flush=True)
    with tempfile.TemporaryDirectory(prefix="fuzz-claims-") as folder:
        root = Path(folder) / "mini"
        shutil.copytree(MINI, root)
        deadline = time.monotonic() + args.seconds
        iteration = 0
        while time.monotonic() < deadline:
            iteration += 1
            names = list(originals)
            mutants = dict(originals)
            for name in rng.sample(names, rng.choice([1, 1, 1, 2])):
                other = originals[next(n for n in names if n != name)] if len(names) > 1 else b""
                for _ in range(rng.choice([1, 1, 1, 2, 3])):
                    mutants[name] = mutate(rng, mutants[name], other)
            for name, data in mutants.items():
                (root / "claims" / name).write_bytes(data)
            stage = "read"
            signal.setitimer(signal.ITIMER_REAL, args.timeout)
            try:
                ledger = load_ledger(root, vocab=vocab)
                if not args.no_compile:
                    stage = "compile"
                    compile_and_load(ledger)
                counts["read cleanly"] += 1
            except InputErrors as exc:
                counts["refused (InputErrors)"] += 1
                for error in exc.errors:
                    messages[re.sub(r"'[^']*'|\d+", "…", error.message)[:70]] += 1
                    if error.location is None or not error.location.line:
                        unlocated.append(str(error))
            except Exception as exc:
                counts[f"finding ({stage})"] += 1
                record(args.out, signature(exc), exc, mutants, seed, iteration, stage, found)
            except Hang:
                counts["finding (hang)"] += 1
                record(args.out, f"hang in {stage}", None, mutants, seed, iteration, stage, found)
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
    print(f"{iteration} iterations: " + ", ".join(f"{n} {k}" for k, n in counts.most_common()))
    print("most frequent refusals:")
    for message, n in messages.most_common(12):
        print(f"  {n:6d}  {message}")
    print(f"refusals without a line: {len(unlocated)}" + (f" (e.g. {unlocated[0]!r})" if unlocated else ""))
    for sig, n in found.items():
        print(f"FINDING x{n}: {sig}")
    return 1 if found else 0


def replay(finding: Path) -> int:
    """Put a finding's claim files into a fresh copy of the mini ledger and read (and compile) it again."""
    with tempfile.TemporaryDirectory(prefix="fuzz-claims-") as folder:
        root = Path(folder) / "mini"
        shutil.copytree(MINI, root)
        for path in finding.glob("*.yaml"):
            shutil.copy(path, root / "claims" / path.name)
        try:
            compile_and_load(load_ledger(root))
        except InputErrors as exc:
            print(f"refused, as it should be:\n{exc}")
            return 0
        print("read and compiled cleanly")
        return 0


def record(
    out: Path,
    sig: str,
    exc: BaseException | None,
    mutants: dict[str, bytes],
    seed: int,
    iteration: int,
    stage: str,
    found: dict[str, int],
) -> None:
    """Save the first example of each signature (the smallest one seen so far replaces it)."""
    found[sig] = found.get(sig, 0) + 1
    folder = out / hashlib.sha1(sig.encode()).hexdigest()[:12]
    size = sum(len(d) for d in mutants.values())
    info = folder / "finding.json"
    if info.exists() and json.loads(info.read_text())["size"] <= size:
        return
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in mutants.items():
        (folder / name).write_bytes(data)
    trace = "".join(traceback.format_exception(exc)) if exc is not None else "hang\n"
    (folder / "traceback.txt").write_text(trace, encoding="utf-8")
    info.write_text(
        json.dumps({"signature": sig, "stage": stage, "seed": seed, "iteration": iteration, "size": size}, indent=2),
        encoding="utf-8",
    )
    print(f"finding: {sig} -> {folder}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
