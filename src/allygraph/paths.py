"""Where the bundled ontology, shapes, queries and corpus live (a source checkout or an installed wheel)."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
_CHECKOUT = _PACKAGE.parent.parent  # src/allygraph -> repository root


def _bundled(name: str) -> Path:
    """The top-level folder `name` of a checkout, or its copy inside an installed wheel."""
    for candidate in (_CHECKOUT / name, _PACKAGE / "bundled" / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"allygraph's bundled {name}/ folder is missing from the installation")


def ontology_dir() -> Path:
    return _bundled("ontology")


def queries_dir() -> Path:
    return _bundled("queries")


def default_data_dir() -> Path:
    return _bundled("data")
