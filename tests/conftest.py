"""Shared fixtures and helpers.

Every test works on a copy of the small fixture ledger `tests/data/mini` (never on `data/`), builds into
its own temporary folder, and compares outputs with what the test itself knows about its input.
"""

from __future__ import annotations

import atexit
import gc
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph
import pytest

import allygraph
from allygraph import cli as cli_module
from oxigraph_server import oxigraph_server  # noqa: F401  (a fixture: a real Oxigraph server)

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
MINI = TESTS / "data" / "mini"
ONTOLOGY_DIR = REPO / "ontology"

# The cache of parsed definitions and compiled queries (cache.py) goes to a folder of this test run, never
# to the user's ~/.cache; subprocesses inherit it.
_CACHE = tempfile.mkdtemp(prefix="allygraph-test-cache-")
os.environ["ALLYGRAPH_CACHE"] = _CACHE
atexit.register(shutil.rmtree, _CACHE, ignore_errors=True)

# A user's own definition file (Turtle): one definition, `mine`, of two criteria.
MINE = """
@prefix ag: <https://w3id.org/allygraph/ontology#> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix ex: <https://example.org/mine#> .
ex:Mine a owl:Class ; skos:notation "mine" ; rdfs:label "my alliance" ;
    owl:equivalentClass [ owl:intersectionOf ( ex:Military ex:Long ) ] ;
    ag:criterion ex:Military , ex:Long .
ex:Military a owl:Class ; rdfs:label "military cooperation" ;
    owl:equivalentClass [ owl:intersectionOf ( ag:Relationship
        [ a owl:Restriction ; owl:onProperty ag:inSphere ; owl:hasValue ag:militarySphere ] ) ] .
ex:Long a owl:Class ; rdfs:label "long-term" ;
    owl:equivalentClass [ owl:intersectionOf ( ag:Relationship
        [ a owl:Restriction ; owl:onProperty ag:hasTimeHorizon ; owl:hasValue ag:longTerm ] ) ] .
"""

# The claims of tests/data/mini, as written in its claim files.
MINI_CLAIMS = (
    "ann-signing",
    "ann-threat",
    "ann-joint-command",
    "ann-long-term",
    "bob-smugglers",
    "bob-not-state",
    "bob-not-alliance",
)

# How many claims the generated "large" ledger gets. The interrupt tests choose their moment from the
# stage the build prints (and freeze it with SIGSTOP when they need it mid-write), so the ledger only
# has to keep each stage busy for a second or so; a few hundred claims do that without slowing the suite.
LARGE_EXTRA_CLAIMS = 200


# ----------------------------------------------------------------------------------------------------
# Ledger files
# ----------------------------------------------------------------------------------------------------


def copy_mini(dest: Path) -> Path:
    """A fresh, writable copy of the mini ledger at `dest`."""
    shutil.copytree(MINI, dest)
    return dest


def line_of(path: Path, text: str) -> int:
    """The 1-based line where `text` occurs in the file; it must occur exactly once."""
    content = path.read_text(encoding="utf-8")
    assert content.count(text) == 1, f"{text!r} occurs {content.count(text)} times in {path}"
    return content[: content.index(text)].count("\n") + 1


def edit(path: Path, old: str, new: str) -> int:
    """Replace the one occurrence of `old` in the file by `new`; the line where `old` began."""
    line = line_of(path, old)
    content = path.read_text(encoding="utf-8")
    path.write_text(content.replace(old, new), encoding="utf-8")
    return line


def append(path: Path, text: str) -> int:
    """Append `text` to the file; the line number of its first line."""
    content = path.read_text(encoding="utf-8")
    if not content.endswith("\n"):
        content += "\n"
    path.write_text(content + text, encoding="utf-8")
    return content.count("\n") + 1


def add_claims(root: Path, n: int, *, document: str = "generated") -> list[str]:
    """Add a source document with `n` distinct sentences and one valid claim per sentence to a ledger.

    The document carries the mini ledger's work `bob-convenience`; each claim quotes one sentence (unique
    in the document: every sentence has its own five-digit number) and states a fact the mini entities
    support. Returns the new claim ids.
    """
    sentences = [f"Item {i:05d} says the ministers of Freedonia and Sylvania met again." for i in range(n)]
    (root / "corpus" / f"{document}.txt").write_text("\n".join(sentences) + "\n", encoding="utf-8")
    append(
        root / "sources.yaml",
        f"  {document}:\n    file: corpus/{document}.txt\n    title: Generated test document\n"
        "    work: bob-convenience\n",
    )
    ids = [f"{document}-{i:05d}" for i in range(n)]
    lines = [f"source: {document}", "claims:"]
    for i, claim_id in enumerate(ids):
        lines += [
            f"  - id: {claim_id}",
            f'    quote: "Item {i:05d} says the ministers"',
            "    attribution: author",
            "    modality: asserted",
            "    statements:",
            "      - [geneva-signing, involves, freedonia]",
        ]
    (root / "claims" / f"{document}.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return ids


@pytest.fixture
def mini(tmp_path: Path) -> Path:
    """A writable copy of tests/data/mini."""
    return copy_mini(tmp_path / "mini")


@pytest.fixture(scope="session")
def large_ledger(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The mini ledger plus LARGE_EXTRA_CLAIMS generated claims (read only: tests must not change it)."""
    root = copy_mini(tmp_path_factory.mktemp("large") / "ledger")
    add_claims(root, LARGE_EXTRA_CLAIMS)
    return root


# ----------------------------------------------------------------------------------------------------
# Output folders
# ----------------------------------------------------------------------------------------------------


def snapshot(out: Path) -> dict[str, tuple[str, ...]]:
    """Every file, folder and link under `out` (except the lock file) with its content hash or target."""
    found: dict[str, tuple[str, ...]] = {}
    for folder, dirs, files in os.walk(out):
        for name in dirs + files:
            path = Path(folder) / name
            rel = str(path.relative_to(out))
            if rel == ".lock":
                continue
            if path.is_symlink():
                found[rel] = ("link", os.readlink(path))
            elif path.is_dir():
                found[rel] = ("dir",)
            else:
                found[rel] = ("file", hashlib.sha256(path.read_bytes()).hexdigest())
    return found


def store_quads(out: Path) -> list[str]:
    """The quads of the current store in `out` (opened read-only), as sorted N-Quads lines."""
    store = allygraph.open_store(out)
    try:
        dump = store.dump(format=pyoxigraph.RdfFormat.N_QUADS)
    finally:
        del store
        gc.collect()
    return sorted(dump.decode("utf-8").splitlines())


def generations(out: Path) -> set[str]:
    """The generation folders (.gen-*) in `out`."""
    return {p.name for p in out.iterdir() if p.name.startswith(".gen-")} if out.exists() else set()


def current_target(out: Path) -> str:
    return os.readlink(out / "current")


def assert_nothing_written(out: Path) -> None:
    """`out` holds no build at all: at most the lock file."""
    if out.exists():
        leftovers = sorted(p.name for p in out.iterdir() if p.name != ".lock")
        assert leftovers == [], f"a failed build wrote {leftovers} into {out}"


@dataclass
class PreviousBuild:
    """An output folder holding a good build of the mini ledger, and what it looked like."""

    out: Path
    snapshot: dict[str, tuple[str, ...]]
    quads: list[str]

    def assert_unchanged(self) -> None:
        assert snapshot(self.out) == self.snapshot, "the previous build's files changed"
        assert store_quads(self.out) == self.quads, "the previous build's store changed"


@pytest.fixture(scope="session")
def good_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One successful build of the mini ledger (read only; copy it with `previous_build`)."""
    base = tmp_path_factory.mktemp("good")
    out = base / "out"
    allygraph.build(copy_mini(base / "mini"), out)
    return out


@pytest.fixture
def previous_build(tmp_path: Path, good_build: Path) -> PreviousBuild:
    """A private copy of a good build of the mini ledger, to try to damage."""
    out = tmp_path / "out"
    shutil.copytree(good_build, out, symlinks=True)
    return PreviousBuild(out, snapshot(out), store_quads(out))


# ----------------------------------------------------------------------------------------------------
# Running the command line
# ----------------------------------------------------------------------------------------------------


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Iterator[Callable[..., Result]]:
    """Run `allygraph ARGS...` in this process (allygraph.cli.main) and capture its exit code and output."""
    previous = signal.getsignal(signal.SIGTERM)

    def run(*argv: object) -> Result:
        capsys.readouterr()
        code = cli_module.main([str(a) for a in argv])
        out, err = capsys.readouterr()
        return Result(code, out, err)

    yield run
    signal.signal(signal.SIGTERM, previous)  # main() installs its own handler


def allygraph_command(*argv: object) -> list[str]:
    return [sys.executable, "-m", "allygraph", *(str(a) for a in argv)]


def run_allygraph(*argv: object, cwd: Path, timeout: float = 300) -> Result:
    """Run `allygraph ARGS...` in a subprocess."""
    done = subprocess.run(allygraph_command(*argv), cwd=cwd, capture_output=True, text=True, timeout=timeout)
    return Result(done.returncode, done.stdout, done.stderr)


class Running:
    """`allygraph ARGS...` running in a subprocess, with its progress lines (stderr) collected as they come."""

    def __init__(self, *argv: object, cwd: Path) -> None:
        self.process = subprocess.Popen(
            allygraph_command(*argv),
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            # SIGINT as a terminal gives it: a suite started in the background (`&`, nohup) passes it on
            # ignored, and Python then never raises KeyboardInterrupt, so the interrupt tests would fail
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
        self.lines: list[str] = []
        self.stdout = ""
        self._changed = threading.Condition()
        self._readers = [
            threading.Thread(target=self._read_stderr, daemon=True),
            threading.Thread(target=self._read_stdout, daemon=True),
        ]
        for reader in self._readers:
            reader.start()

    def _read_stderr(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            with self._changed:
                self.lines.append(line)
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    def _read_stdout(self) -> None:
        assert self.process.stdout is not None
        self.stdout = self.process.stdout.read()

    @property
    def stderr(self) -> str:
        with self._changed:
            return "".join(self.lines)

    def wait_for(self, text: str, timeout: float = 120) -> None:
        """Block until the process has printed a line containing `text` (fail if it ends first)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not any(text in line for line in self.lines):
                if self.process.poll() is not None and not self._readers[0].is_alive():
                    pytest.fail(
                        f"allygraph ended (exit {self.process.returncode}) before printing {text!r}:\n"
                        + "".join(self.lines)
                    )
                left = deadline - time.monotonic()
                if left <= 0:
                    pytest.fail(f"allygraph did not print {text!r} within {timeout} s:\n" + "".join(self.lines))
                self._changed.wait(min(left, 0.2))

    def send(self, signum: int) -> None:
        self.process.send_signal(signum)

    def finish(self, timeout: float = 120) -> int:
        """Wait for the process to end; its exit code (negative: killed by that signal)."""
        code = self.process.wait(timeout=timeout)
        for reader in self._readers:
            reader.join(timeout=10)
        return code

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)
            self.process.kill()
        self.process.wait(timeout=30)


@pytest.fixture
def running() -> Iterator[Callable[..., Running]]:
    """Start `allygraph` subprocesses; any still running at the end of the test are killed."""
    started: list[Running] = []

    def start(*argv: object, cwd: Path) -> Running:
        started.append(Running(*argv, cwd=cwd))
        return started[-1]

    yield start
    for process in started:
        process.kill()
