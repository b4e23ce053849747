"""A real Oxigraph server for the tests that need one (the `oxigraph` package of the `test` extra).

`oxigraph_server` starts `oxigraph serve` on 127.0.0.1 with a free port and its own data folder, waits
until it answers, and stops it after the test, whether the test passed or failed. Only the standard
library talks to it here, so the fixture does not depend on the client under test.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

STARTUP_SECONDS = 20.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (at the time of asking)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def oxigraph_executable() -> str:
    """The `oxigraph` executable installed beside this Python, else on PATH."""
    beside = Path(sys.executable).parent / "oxigraph"
    found = str(beside) if beside.is_file() else shutil.which("oxigraph")
    if found is None:
        pytest.fail("the Oxigraph server is not installed: pip install -e '.[test]' (it brings `oxigraph`)")
    return found


@dataclass
class OxigraphServer:
    """A running `oxigraph serve`: its base URL, its Graph Store (`/store`) and query (`/query`) URLs."""

    base: str
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def store(self) -> str:
        return f"{self.base}/store"

    @property
    def query(self) -> str:
        return f"{self.base}/query"

    def nquads(self) -> list[str]:
        """Every quad the server holds, as sorted N-Quads lines."""
        request = urllib.request.Request(self.store, headers={"Accept": "application/n-quads"})
        with urllib.request.urlopen(request, timeout=30) as response:
            return sorted(line for line in response.read().decode("utf-8").splitlines() if line.strip())

    def put(self, graph: str | None, ntriples: str) -> None:
        """Create or replace one named graph (None: the default graph)."""
        where = "default" if graph is None else f"graph={urllib.parse.quote(graph, safe='')}"
        request = urllib.request.Request(
            f"{self.store}?{where}",
            data=ntriples.encode(),
            method="PUT",
            headers={"Content-Type": "application/n-triples"},
        )
        urllib.request.urlopen(request, timeout=30).close()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def _start(location: Path) -> OxigraphServer:
    executable = oxigraph_executable()
    for _attempt in range(3):  # another process may take the free port before the server binds it
        port = free_port()
        log = location.parent / f"{location.name}-{port}.log"
        with log.open("wb") as handle:
            process = subprocess.Popen(
                [executable, "serve", "--location", str(location), "--bind", f"127.0.0.1:{port}"],
                stdout=handle,
                stderr=subprocess.STDOUT,
            )
        server = OxigraphServer(f"http://127.0.0.1:{port}", process, log)
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline and process.poll() is None:
            try:
                urllib.request.urlopen(f"{server.store}?default", timeout=2).close()
                return server
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.05)
        server.stop()
    pytest.fail(f"oxigraph serve did not start:\n{log.read_text(errors='replace')}")


@pytest.fixture
def oxigraph_server(tmp_path: Path) -> Iterator[OxigraphServer]:
    """A fresh, empty Oxigraph server on 127.0.0.1, stopped after the test."""
    server = _start(tmp_path / "oxigraph-data")
    try:
        yield server
    finally:
        server.stop()
