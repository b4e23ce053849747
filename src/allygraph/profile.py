"""Is an ontology in OWL 2 DL? The OWL API's OWL2DLProfile, run from the HermiT.jar that owlready2 bundles.

`dl_violations(path)` runs `java -cp HermiT.jar ProfileCheck.java FILE` (Java 11 or later runs a single
source file without a separate compile step). Nothing is downloaded: the OWL API is inside HermiT.jar,
and imports are not followed. Files that are not RDF/XML (Turtle, N-Triples, ...) are converted to
RDF/XML with rdflib first.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import tempfile
from pathlib import Path

from rdflib import Graph
from rdflib.util import guess_format

from .errors import AllygraphError

JAVA_SOURCE = Path(__file__).resolve().parent / "java" / "ProfileCheck.java"
RDF_XML_SUFFIXES = frozenset({".rdf", ".owl", ".xml"})

# ProfileCheck.java's exit codes
_IN_PROFILE, _NOT_IN_PROFILE = 0, 1


class ProfileCheckError(AllygraphError, RuntimeError):
    """The profile check could not run: no Java, no HermiT.jar, or an ontology that cannot be read."""


def hermit_jar() -> Path:
    """The HermiT.jar bundled with owlready2 (it contains the OWL API).

    :raises ProfileCheckError: if owlready2 or its HermiT.jar is missing.
    """
    spec = importlib.util.find_spec("owlready2")
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    for location in locations:
        jar = Path(location) / "hermit" / "HermiT.jar"
        if jar.is_file():
            return jar
    raise ProfileCheckError("owlready2's HermiT.jar (which holds the OWL API) is missing: install owlready2")


def java_executable() -> str:
    """The `java` command on PATH.

    :raises ProfileCheckError: if there is none.
    """
    java = shutil.which("java")
    if java is None:
        raise ProfileCheckError(
            "Java is not installed (no `java` on PATH): the OWL 2 DL profile check runs the OWL API in a "
            "JVM; install Java 11 or later"
        )
    return java


def dl_violations(path: Path, *, timeout: float = 600) -> list[str]:
    """Every OWL 2 DL profile violation of the ontology in `path`, as the OWL API words it; [] if none.

    `path` may be RDF/XML (.rdf, .owl, .xml) or any RDF syntax rdflib reads (Turtle, N-Triples, ...).

    :raises ProfileCheckError: if Java or HermiT.jar is missing, or the ontology cannot be read.
    """
    path = Path(path)
    if not path.is_file():
        raise ProfileCheckError(f"no such file: {path}")
    java, jar = java_executable(), hermit_jar()
    with tempfile.TemporaryDirectory(prefix="allygraph-profile-") as tmp:
        document = path if path.suffix.lower() in RDF_XML_SUFFIXES else _to_rdf_xml(path, Path(tmp))
        command = [java, "-cp", str(jar), str(JAVA_SOURCE), str(document)]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=tmp, check=False)
        except subprocess.TimeoutExpired:
            raise ProfileCheckError(f"the OWL 2 DL profile check of {path} took longer than {timeout:.0f} s") from None
        except OSError as exc:
            raise ProfileCheckError(f"cannot run {java}: {exc.strerror}") from None
    violations = [line for line in done.stdout.splitlines() if line.strip()]
    if done.returncode == _IN_PROFILE:
        return []
    if done.returncode == _NOT_IN_PROFILE and violations:
        return violations
    detail = done.stderr.strip()[-2000:]
    if "ProfileCheck.java" in detail and ("main class" in detail or "invalid flag" in detail):
        detail += "\n(running a single Java source file needs Java 11 or later)"
    raise ProfileCheckError(f"the OWL 2 DL profile check of {path} failed (exit {done.returncode}): {detail}")


def _to_rdf_xml(path: Path, folder: Path) -> Path:
    graph = Graph()
    try:
        graph.parse(path, format=guess_format(str(path)) or "turtle")
    except Exception as exc:  # rdflib raises many kinds of parse errors
        raise ProfileCheckError(f"cannot read {path} as RDF: {exc}") from None
    target = folder / f"{path.stem}.rdf"
    graph.serialize(target, format="xml", encoding="utf-8")
    return target
