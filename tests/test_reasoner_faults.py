"""The reference reasoner's faults: Java missing, or a JVM that hangs. Each gives a clear message and a
deadline, leaves no temporary files, and the SPARQL engine still answers."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import allygraph_command


def _run(argv: list[object], path: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {"HOME": os.environ.get("HOME", "/tmp"), "PATH": path, "TMPDIR": str(cwd / "tmp"), **env}
    (cwd / "tmp").mkdir(exist_ok=True)
    return subprocess.run(
        allygraph_command(*argv), cwd=cwd, capture_output=True, text=True, timeout=300, env=environment
    )


def test_without_java_hermit_says_so_and_sparql_still_answers(good_build: Path, tmp_path: Path) -> None:
    only_python = str(Path(sys.executable).parent)  # no java on this PATH
    hermit = _run(["classify", "--out", good_build, "--engine", "hermit", "--view", "all"], only_python, tmp_path)
    assert hermit.returncode == 2
    assert "Java is not installed" in hermit.stderr and "--engine sparql" in hermit.stderr
    sparql = _run(["classify", "--out", good_build, "--engine", "sparql", "--view", "all"], only_python, tmp_path)
    assert sparql.returncode == 0, sparql.stderr
    assert "Freedonia–Sylvania" in sparql.stdout


@pytest.mark.slow
def test_a_hanging_jvm_is_stopped_at_the_deadline_and_cleaned_up(good_build: Path, tmp_path: Path) -> None:
    fake = tmp_path / "bin"
    fake.mkdir()
    java = fake / "java"  # a JVM that starts and never answers
    java.write_text(f"#!/bin/sh\nexec {shutil.which('sleep')} 600\n", encoding="utf-8")
    java.chmod(0o755)
    path = f"{fake}{os.pathsep}{Path(sys.executable).parent}"
    argv = ["classify", "--out", good_build, "--engine", "hermit", "--view", "all"]
    done = _run(argv, path, tmp_path, ALLYGRAPH_HERMIT_TIMEOUT="3", XDG_CACHE_HOME=str(tmp_path / "cache"))
    assert done.returncode == 2
    assert "did not finish within 3 s" in done.stderr and "--engine sparql" in done.stderr
    assert list((tmp_path / "tmp").glob("allygraph-hermit-*")) == []  # its temporary folder is gone
    leftovers = subprocess.run(["pgrep", "-af", "sleep 600"], capture_output=True, text=True)
    assert leftovers.stdout == ""  # the hung JVM was killed, not left behind
