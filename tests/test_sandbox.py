"""The OS-level guard: a process that ran forbid_network() cannot open a socket, so pyoxigraph's own HTTP
client (which Python audit hooks do not see) cannot follow a SERVICE clause that got past the text check."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading

import pytest

from allygraph.sandbox import forbid_network

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="seccomp is Linux only")

PROBE = """
import sys, pyoxigraph
from allygraph.sandbox import forbid_network
if sys.argv[2] == "guarded":
    assert forbid_network()
try:
    list(pyoxigraph.Store().query("SELECT * WHERE { SERVICE <http://127.0.0.1:%s/sparql> { ?s ?p ?o } }" % sys.argv[1]))
except Exception as exc:
    print(type(exc).__name__, exc)
"""


def _listener() -> tuple[socket.socket, list[int], threading.Thread]:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(10)
    hits: list[int] = []

    def accept() -> None:
        try:
            conn, _ = server.accept()
            hits.append(1)
            conn.close()
        except OSError:
            pass

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    return server, hits, thread


@pytest.mark.parametrize("mode", ["open", "guarded"])
def test_service_reaches_the_network_only_without_the_guard(mode: str) -> None:
    server, hits, thread = _listener()
    port = server.getsockname()[1]
    done = subprocess.run([sys.executable, "-c", PROBE, str(port), mode], capture_output=True, text=True, timeout=60)
    if mode == "open":
        thread.join(timeout=15)
    server.close()
    thread.join(timeout=15)
    assert done.returncode == 0, done.stderr
    if mode == "open":  # the control: pyoxigraph really does fetch, so the guarded case means something
        assert hits == [1]
    else:
        assert hits == [], done.stdout
        assert "13" in done.stdout or "denied" in done.stdout.lower(), done.stdout


def test_guard_is_per_process() -> None:
    """Applying it in a child leaves this process (the test runner) free to use the network."""
    code = "from allygraph.sandbox import forbid_network; import socket; print(forbid_network())"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "True"
    socket.socket(socket.AF_INET, socket.SOCK_STREAM).close()
    assert callable(forbid_network)
