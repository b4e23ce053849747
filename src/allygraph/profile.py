"""Is an ontology in OWL 2 DL? The OWL API's OWL2DLProfile, run from the HermiT.jar that owlready2 bundles.

`dl_violations(path)` runs `java -cp HermiT.jar ProfileCheck.java FILE` (Java 11 or later runs a single
source file without a separate compile step). Nothing is downloaded: the OWL API is inside HermiT.jar,
and imports are not followed. Files that are not RDF/XML (Turtle, N-Triples, ...) are converted to
RDF/XML with rdflib first.

Before any parser sees a file it is checked (:func:`check_ontology_file`): XML with a DOCTYPE or an
entity declaration (which the OWL API's XML parser would expand, or fetch from elsewhere) is refused,
and so is JSON-LD (rdflib would fetch a remote @context) and any syntax rdflib reads through an XML or
HTML parser.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from rdflib import Graph
from rdflib.util import guess_format

from .errors import AllygraphError, InputError, Location

JAVA_SOURCE = Path(__file__).resolve().parent / "java" / "ProfileCheck.java"
RDF_XML_SUFFIXES = frozenset({".rdf", ".owl", ".xml"})
# The syntaxes rdflib converts to RDF/XML here: text formats that cannot point anywhere else. Not JSON-LD
# (rdflib fetches a remote @context), TriX or RDFa (XML and HTML parsers).
RDFLIB_FORMATS = frozenset({"turtle", "nt", "ntriples", "n3", "trig", "nquads"})
_DECLARATION = re.compile(rb"<!\s*(?:DOCTYPE|ENTITY)", re.IGNORECASE)
_XML_ENCODING = re.compile(rb"""\A(?:\xef\xbb\xbf)?\s*<\?xml[^>]*?encoding\s*=\s*["']([^"']*)["']""")
# Encodings in which "<!DOCTYPE" is the same bytes as in ASCII, so the check above sees it.
_ASCII_COMPATIBLE = re.compile(r"(?i)(?:utf-?8|us-ascii|ascii|iso-?8859-\d+|latin-?1|windows-125\d|cp125\d)")

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
    :raises InputError: for a file :func:`check_ontology_file` refuses (before any parser sees it).
    """
    path = Path(path)
    if not path.is_file():
        raise ProfileCheckError(f"no such file: {path}")
    check_ontology_file(path)
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


def check_ontology_file(path: Path) -> None:
    """Refuse an ontology file that could make a parser expand entities or reach outside: XML (RDF/XML,
    OWL/XML) with a DOCTYPE or ENTITY declaration, or in an encoding that hides one from this check, and
    any syntax but RDF/XML, Turtle, N-Triples, N3, TriG and N-Quads (JSON-LD fetches remote contexts).

    :raises InputError: naming the file (and the line of a declaration).
    """
    path = Path(path)
    if path.suffix.lower() not in RDF_XML_SUFFIXES:
        syntax = guess_format(str(path)) or "turtle"
        if syntax not in RDFLIB_FORMATS:
            raise InputError(
                f"{syntax} ontologies are refused here (JSON-LD may fetch a remote @context; TriX and RDFa go "
                "through XML and HTML parsers)",
                Location(path),
                hint="convert it to Turtle or RDF/XML",
            )
        return
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read the ontology: {exc.strerror}", Location(path)) from None
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in data[:4096]:
        raise InputError("UTF-16 or UTF-32 XML is refused: give the ontology in UTF-8", Location(path))
    declared = _XML_ENCODING.match(data)
    if declared and not _ASCII_COMPATIBLE.fullmatch(declared.group(1).decode("ascii", "replace")):
        raise InputError(
            f"XML in encoding {declared.group(1).decode('ascii', 'replace')!r} is refused: give the ontology in UTF-8",
            Location(path),
        )
    found = _DECLARATION.search(data)
    if found:
        line = data.count(b"\n", 0, found.start()) + 1
        raise InputError(
            "XML with a DOCTYPE or entity declaration is refused (entities can expand to gigabytes or read "
            "other files)",
            Location(path, line),
        )


def _to_rdf_xml(path: Path, folder: Path) -> Path:
    graph = Graph()
    try:
        graph.parse(path, format=guess_format(str(path)) or "turtle")
    except Exception as exc:  # rdflib raises many kinds of parse errors
        raise ProfileCheckError(f"cannot read {path} as RDF: {exc}") from None
    target = folder / f"{path.stem}.rdf"
    graph.serialize(target, format="xml", encoding="utf-8")
    return target
