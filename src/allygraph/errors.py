"""Every exception allygraph raises, and the exit code each one maps to."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

# Exit codes, documented in the README and used only through these names.
EXIT_OK = 0
EXIT_NOT_CONFORMING = 1
EXIT_INPUT_ERROR = 2
EXIT_INTERRUPTED = 130


class AllygraphError(Exception):
    """Base class: an error with a message an analyst can act on."""

    exit_code = EXIT_INPUT_ERROR


@dataclass(frozen=True)
class Location:
    """Where in an input file something is: path and 1-based line and column (0 when unknown)."""

    path: Path | str
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        text = str(self.path)
        if self.line:
            text += f":{self.line}"
            if self.column:
                text += f":{self.column}"
        return text


class InputError(AllygraphError, ValueError):
    """Bad input: a file that cannot be read, parsed or understood. Carries file and line."""

    def __init__(self, message: str, location: Location | None = None, *, hint: str = "") -> None:
        self.message = message
        self.location = location
        self.hint = hint
        super().__init__(str(self))

    def __str__(self) -> str:
        text = f"{self.location}: {self.message}" if self.location else self.message
        return f"{text}\n  hint: {self.hint}" if self.hint else text


class InputErrors(AllygraphError, ValueError):
    """Several input errors found in one pass, reported together."""

    def __init__(self, errors: list[InputError]) -> None:
        self.errors = errors
        super().__init__("\n".join(str(e) for e in errors))


class ValidationFailed(AllygraphError):
    """The compiled graph does not conform to the SHACL shapes or a quality check."""

    exit_code = EXIT_NOT_CONFORMING

    def __init__(self, report: object) -> None:
        self.report = report
        super().__init__(str(report))


class StoreBusy(AllygraphError, RuntimeError):
    """Another process is writing to the store."""


class StoreError(AllygraphError, RuntimeError):
    """The store cannot be opened or written."""


class RemoteError(AllygraphError, ConnectionError):
    """A remote store cannot be reached, or refused a request; the message names the URL and the status."""
