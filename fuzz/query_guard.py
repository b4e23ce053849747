"""Fuzzing the query guard: can a query the text checks accept still reach the network?

Random SPARQL-ish texts are built from a token list (keywords, escapes, `<`, `#`, quotes of every kind, line
breaks of every kind, SERVICE clauses aimed at a local TCP listener) by three generators: token soup, a
template that hides a SERVICE clause between two runs of soup, and mutations of earlier texts that pyoxigraph
parsed. Each text that `check_local` and `check_depth` both accept is run, as `allygraph query` and the
endpoint run queries, in a worker subprocess that calls `allygraph.sandbox.forbid_network()` first and then
`pyoxigraph.Store().query(text)`.

Findings (saved under fuzz/findings/query_guard/, each with a minimised reproducer):

- network: the listener accepted a connection (the text check and the sandbox both failed);
- crash: the worker died from a signal (negative return code);
- hang: one query ran past --timeout;
- guard bypass: pyoxigraph evaluated a SERVICE clause the text check did not see; the sandbox refused the
  socket ("Permission denied (os error 13)"), so nothing left the machine, but the first line of defence
  failed. (SERVICE SILENT swallows that error: a bypass using SILENT is only seen if it reaches the network.)

    python fuzz/query_guard.py --seconds 60 --seed 1
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import select
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from allygraph.errors import InputError
from allygraph.query import check_depth, check_local

FINDINGS = Path(__file__).resolve().parent / "findings" / "query_guard"

WORKER = r"""
import json, sys, pyoxigraph
from allygraph.sandbox import forbid_network
if not forbid_network():
    print(json.dumps({"ready": False}), flush=True)
    sys.exit(3)
store = pyoxigraph.Store()  # a little data, so that patterns match and SERVICE clauses get evaluated
store.load(b'<http://example.org/s> <http://example.org/p> "o" .\n'
           b'<http://example.org/s> <http://example.org/p> <http://example.org/o> <http://example.org/g> .\n',
           format=pyoxigraph.RdfFormat.N_QUADS)
print(json.dumps({"ready": True}), flush=True)
for line in sys.stdin:
    text = json.loads(line)
    try:
        result = store.query(text)
        if isinstance(result, pyoxigraph.QueryBoolean):
            bool(result)
        else:
            for n, _ in enumerate(result):
                if n >= 1000:
                    break
        reply = {"outcome": "ok"}
    except Exception as exc:
        reply = {"outcome": "error", "type": type(exc).__name__, "message": str(exc)[:500]}
    print(json.dumps(reply), flush=True)
"""

# What pyoxigraph says when it tried to evaluate a SERVICE clause (the sandbox makes socket() fail with EACCES).
ATTEMPT = re.compile(
    r"os error 13|permission denied|connection refused|lookup address|not allowed for HTTP|error sending request"
    r"|service name is unbound|\bservice\b",
    re.IGNORECASE,
)


class Listener:
    """A TCP listener on 127.0.0.1 that counts the connections it accepts."""

    def __init__(self) -> None:
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen(16)
        self.port: int = self.socket.getsockname()[1]
        self.hits = 0
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.socket.accept()
            except OSError:
                return
            with self._lock:
                self.hits += 1
            conn.close()

    def count(self) -> int:
        with self._lock:
            return self.hits


class Worker:
    """The sandboxed subprocess that runs queries, restarted after a crash or a hang."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.process: subprocess.Popen[str] | None = None
        self.starts = 0
        self._start()

    def _start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", WORKER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            bufsize=1,
        )
        self.starts += 1
        ready = json.loads(self._read_line(60) or "{}")
        if not ready.get("ready"):
            raise SystemExit("the worker could not forbid itself the network (seccomp); refusing to fuzz without it")

    def _read_line(self, timeout: float) -> str | None:
        assert self.process is not None and self.process.stdout is not None
        ready, _, _ = select.select([self.process.stdout], [], [], timeout)
        if not ready:
            return None
        return self.process.stdout.readline() or None

    def run(self, text: str) -> dict[str, object]:
        """{"outcome": "ok" | "error" | "crash" | "hang", ...} for one query."""
        assert self.process is not None and self.process.stdin is not None
        try:
            self.process.stdin.write(json.dumps(text) + "\n")
            self.process.stdin.flush()
        except BrokenPipeError:
            pass
        line = self._read_line(self.timeout)
        if line is not None:
            return json.loads(line)  # type: ignore[no-any-return]
        if self.process.poll() is None:  # still running: a hang
            self.process.kill()
            self.process.wait()
            self._start()
            return {"outcome": "hang"}
        code = self.process.wait()
        self._start()
        return {"outcome": "crash", "returncode": code}

    def close(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def tokens(port: int) -> tuple[list[str], list[str], list[str]]:
    """(words, lexical tokens, SERVICE clauses aimed at the listener)."""
    listener = f"http://127.0.0.1:{port}/sparql"
    services = [
        f"SERVICE <{listener}> {{ ?s ?p ?o }}",
        f"SERVICE<{listener}>{{?s ?p ?o}}",
        f"service <{listener}> {{ }}",
        f"SERVICE <http://localhost:{port}/> {{ ?s ?p ?o }}",
        "SERVICE l:sparql { ?s ?p ?o }",
        f"SERVICE SILENT <{listener}> {{ ?s ?p ?o }}",
    ]
    words = [
        *["SELECT", "*", "WHERE", "ASK", "CONSTRUCT", "DESCRIBE", "{", "}", "(", ")", "[", "]", ".", ";", ","],
        *["FILTER", "BIND", "AS", "OPTIONAL", "UNION", "MINUS", "GRAPH", "VALUES", "SERVICE", "SILENT", "service"],
        *["PREFIX", "BASE", "LOAD", "INTO", "a", "?s", "?p", "?o", "?x", "$x", "?", "$", "1", "-1.5e3", "true"],
        *["ex:a", "ex:", ":", "_:b", "<", ">", "<=", "&&", "||", "!", "=", "^^", "@en", "/", "|", "^", "+"],
        *["ex:a\\#", "ex:a\\'", "ex:a\\.", "ex:a\\-", "ex:serv\\ice", "SERV", "ICE", "SERVIC\\u0045", "1SERVICE"],
        f"PREFIX l: <http://127.0.0.1:{port}/>",
        f"<http://127.0.0.1:{port}/sparql>",
    ]
    lexical = [  # what decides where strings, comments, IRIs and escapes begin and end
        *['"', "'", '"""', "'''", "\\", '\\"', "\\'", "\\\\", "\\u0053", "\\U00000053", "\\u0022", "\\u003E"],
        *["\\u0023", "#", "# c", "#\n", "\n", "\r", "\r\n", "\t", " ", "  ", "\u00a0", "\u2028", "\u3000", "\x85"],
        *["\x0c", "\x0b", "\ufeff", "\u200b", "<http://", "<urn:x:", "<a", "b>", "<>", "<http://example.org/a#b>"],
        *["<", ">", "{", "}", "(", ")", "?", "$", "^", "`", "|"],
    ]
    return words, lexical, services


# Valid queries calling a SERVICE (refused as they are): the "hide" generator inserts lexical tokens into them,
# looking for a text the guards accept and pyoxigraph still reads as a SERVICE call.
HIDE_BASES = [
    'SELECT * WHERE {{ BIND(<http://example.org/a> AS ?x) BIND("s" AS ?y) {service} }} # end',
    "SELECT * WHERE {{ BIND('''s''' AS ?y) BIND(\"\"\"t\"\"\" AS ?z) {service} ?s ?p ?o }}",
    "PREFIX ex: <http://example.org/> SELECT * WHERE {{ ex:s ex:p ?o . {service} FILTER(?o != 'x') }}",
    "ASK {{ VALUES ?v {{ <urn:x:a> 1 }}\n {service} }}\n# end",
]

SEEDS = [
    "SELECT * WHERE { ?s ?p ?o }",
    'ASK { BIND("x" AS ?x) }',
    "SELECT * WHERE { BIND(<http://example.org/a> AS ?x) ?s ?p ?o } # comment",
    "SELECT ?x WHERE { VALUES ?x { 1 2 } FILTER(?x < 2 && 3 > ?x) }",
    'PREFIX ex: <http://example.org/> SELECT * WHERE { ex:s ex:p ?o FILTER(?o != """a "quoted" b""") }',
    "SELECT * WHERE { GRAPH ?g { ?s ?p ?o } OPTIONAL { ?s a ?t } }",
]


class Generator:
    def __init__(self, rng: random.Random, port: int) -> None:
        self.rng = rng
        self.words, self.lexical, self.services = tokens(port)
        self.corpus = list(SEEDS)  # texts pyoxigraph parsed: mutated further

    def token(self) -> str:
        group = self.rng.random()
        return self.rng.choice(self.words if group < 0.5 else self.lexical if group < 0.95 else self.services)

    def soup(self, n: int) -> str:
        rng = self.rng
        parts = []
        for _ in range(min(n, rng.choice([0, 1, 1, 2, 2, 3, 4, 6, 8, 16, 40]))):
            parts.append(self.token())
            parts.append(rng.choice(["", " ", " ", "\n"]))
        return "".join(parts)

    def text(self) -> str:
        rng = self.rng
        mode = rng.random()
        if mode < 0.15:  # token soup
            return self.soup(40)
        if mode < 0.65:  # hide a SERVICE clause: a few lexical tokens inserted into a valid query calling one
            text = rng.choice(HIDE_BASES).format(service=rng.choice(self.services))
            for _ in range(rng.randint(1, 4)):
                at = rng.randint(0, len(text))
                text = text[:at] + rng.choice(self.lexical) + text[at:]
            return text
        if mode < 0.8:  # a SERVICE clause between two runs of soup
            head = rng.choice(["SELECT * WHERE { ", "ASK { ", "CONSTRUCT { ?s ?p ?o } WHERE { ", ""])
            prefix = rng.choice(["", f"{self.words[-2]} "])
            return f"{prefix}{head}{self.soup(8)} {rng.choice(self.services)} {self.soup(8)} }}{self.soup(4)}"
        text = rng.choice(self.corpus)  # a mutation of a text pyoxigraph parsed
        for _ in range(rng.randint(1, 3)):
            at = rng.randint(0, len(text))
            op = rng.random()
            if op < 0.6:
                text = text[:at] + self.token() + text[at:]
            elif op < 0.8:
                text = text[:at] + text[at + rng.randint(1, 6) :]
            else:
                other = rng.choice(self.corpus)
                i = rng.randint(0, len(other))
                text = text[:at] + other[i : i + rng.randint(1, 30)] + text[at:]
        return text

    def parsed(self, text: str) -> None:
        """`text` was accepted by the guards and parsed by pyoxigraph: keep it for mutation."""
        if len(self.corpus) < 5000 and len(text) < 2000:
            self.corpus.append(text)


def guards_accept(text: str) -> bool:
    try:
        check_local(text)
        check_depth(text)
    except InputError:
        return False
    return True


def classify(result: dict[str, object], hit: bool) -> str | None:
    """The finding kind for one run, or None."""
    if hit:
        return "network"
    if result["outcome"] in ("crash", "hang"):
        return str(result["outcome"])
    if result["outcome"] == "error" and result.get("type") != "SyntaxError":
        if ATTEMPT.search(str(result.get("message", ""))):
            return "guard bypass"
    return None


def minimise(text: str, still: Callable[[str], bool], budget: int = 400) -> str:
    """A smaller text for which `still` holds (delta debugging on characters), within `budget` tests."""
    chunk = max(1, len(text) // 2)
    while chunk >= 1 and budget > 0:
        at, shrunk = 0, False
        while at < len(text) and budget > 0:
            candidate = text[:at] + text[at + chunk :]
            budget -= 1
            if candidate and still(candidate):
                text, shrunk = candidate, True
            else:
                at += chunk
        if not shrunk:
            chunk //= 2
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60, help="how long to run (default 60)")
    parser.add_argument("--seed", type=int, default=None, help="random seed (default: from the clock, printed)")
    parser.add_argument("--timeout", type=float, default=10, help="seconds one query may take (default 10)")
    parser.add_argument("--out", type=Path, default=FINDINGS, help=f"findings folder (default {FINDINGS})")
    parser.add_argument("--minimise", type=int, default=20, help="findings to minimise per run (default 20)")
    args = parser.parse_args(argv)
    if sys.platform != "linux":
        raise SystemExit("the sandbox (seccomp) is Linux only")
    seed = args.seed if args.seed is not None else int(time.time())
    rng = random.Random(seed)
    listener = Listener()
    worker = Worker(args.timeout)
    generator = Generator(rng, listener.port)
    counts: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    found: dict[str, list[str]] = {}
    minimised = 0
    print(f"fuzz/query_guard.py: seed {seed}, {args.seconds:g} s, listener 127.0.0.1:{listener.port}", flush=True)

    def reproduces(kind: str) -> Callable[[str], bool]:
        def still(text: str) -> bool:
            if not guards_accept(text):
                return False
            before = listener.count()
            result = worker.run(text)
            return classify(result, listener.count() > before) == kind

        return still

    deadline = time.monotonic() + args.seconds
    try:
        while time.monotonic() < deadline:
            text = generator.text()
            counts["generated"] += 1
            if not guards_accept(text):
                counts["refused by the guards"] += 1
                continue
            counts["accepted and run"] += 1
            before = listener.count()
            result = worker.run(text)
            kind = classify(result, listener.count() > before)
            if result["outcome"] == "ok":
                counts["ran"] += 1
                generator.parsed(text)
            elif result["outcome"] == "error":
                errors[str(result["type"])] += 1
                if result["type"] != "SyntaxError":
                    generator.parsed(text)
            if kind is None:
                continue
            counts[f"FINDING {kind}"] += 1
            small = text
            if minimised < args.minimise:
                minimised += 1
                small = minimise(text, reproduces(kind))
            new = small not in found.setdefault(kind, [])
            if new:
                found[kind].append(small)
                save(args.out, kind, text, small, result, seed)
    finally:
        worker.close()
        listener.socket.close()
    print(", ".join(f"{n} {k}" for k, n in counts.most_common()))
    print("errors from pyoxigraph on accepted texts: " + ", ".join(f"{n} {k}" for k, n in errors.most_common()))
    print(f"worker starts: {worker.starts}, listener connections: {listener.count()}")
    for kind, examples in found.items():
        print(f"FINDING {kind}: {len(examples)} distinct (minimised) reproducers, e.g.")
        for example in sorted(examples, key=len)[:8]:
            print(f"    {example!r}")
    return 1 if found else 0


def save(out: Path, kind: str, text: str, small: str, result: dict[str, object], seed: int) -> None:
    name = f"{kind.replace(' ', '-')}-{hashlib.sha1(small.encode('utf-8', 'surrogatepass')).hexdigest()[:12]}"
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{name}.rq").write_bytes(small.encode("utf-8", "surrogatepass"))
    (out / f"{name}.json").write_text(
        json.dumps({"kind": kind, "minimised": small, "original": text, "result": result, "seed": seed}, indent=2),
        encoding="utf-8",
    )
    print(f"finding: {kind}: {small!r} -> {out / name}.rq", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
