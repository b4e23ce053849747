"""allygraph: alliances, strategic cooperation and the claims that argue about them, as linked data."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("allygraph")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0"

from .build import BuildResult, build, check
from .errors import AllygraphError, InputError, InputErrors, StoreBusy, ValidationFailed
from .ledger import Ledger, load_ledger
from .rdf import compile_ledger
from .reason import Result, classify
from .store import open_store
from .validate import Report, validate

__all__ = [
    "AllygraphError",
    "BuildResult",
    "InputError",
    "InputErrors",
    "Ledger",
    "Report",
    "Result",
    "StoreBusy",
    "ValidationFailed",
    "__version__",
    "build",
    "check",
    "classify",
    "compile_ledger",
    "load_ledger",
    "open_store",
    "validate",
]
