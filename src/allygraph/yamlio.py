"""A strict YAML reader for hand-written ledger files.

Every scalar is read as the string written (no implicit booleans, numbers or dates); tags, anchors,
aliases and duplicate keys are errors; every value remembers its line so errors can point at it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, ClassVar

import yaml

from .errors import InputError, Location

MAX_FILE_BYTES = 10_000_000
MAX_DEPTH = 64

_PLAIN_TAGS = {"tag:yaml.org,2002:str", "tag:yaml.org,2002:seq", "tag:yaml.org,2002:map"}
_SURROGATE = re.compile("[\ud800-\udfff]")  # only a \\u escape can put one in a scalar


class YStr(str):
    """A string read from YAML, with the location it was read from."""

    location: Location


class YList(list):  # type: ignore[type-arg]
    """A list read from YAML, with its location."""

    location: Location


class YMap(dict):  # type: ignore[type-arg]
    """A mapping read from YAML, with its location; keys are YStr and keep theirs."""

    location: Location


def read_text(path: Path, *, max_bytes: int = MAX_FILE_BYTES) -> str:
    """Read a UTF-8 file; a byte-order mark is dropped. Raises InputError naming the bad byte's line."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise InputError(f"cannot read file: {exc.strerror}", Location(path)) from exc
    if size > max_bytes:
        raise InputError(f"file is {size:,} bytes; the limit is {max_bytes:,}", Location(path))
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        # in characters, like every other column: the bytes before the first bad one are valid UTF-8
        column = len(data[data.rfind(b"\n", 0, exc.start) + 1 : exc.start].decode("utf-8")) + 1
        raise InputError(
            f"not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start})",
            Location(path, line, column),
            hint="save the file as UTF-8",
        ) from exc
    return text.removeprefix("\ufeff")


class _Loader(yaml.SafeLoader):
    """SafeLoader without implicit typing, refusing aliases, anchors and deep nesting as they are composed
    (PyYAML composes recursively: refusing at MAX_DEPTH keeps the error located, never a RecursionError)."""

    yaml_implicit_resolvers: ClassVar[dict[str, Any]] = {}
    _depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            raise _refusal("YAML aliases (*name) are not allowed", event)
        if getattr(event, "anchor", None):
            raise _refusal("YAML anchors (&name) are not allowed", event)
        if self._depth > MAX_DEPTH:  # the root is at depth 0, as in _convert
            raise _refusal(f"YAML nested too deeply (limit {MAX_DEPTH})", event)
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _refusal(message: str, event: Any) -> yaml.MarkedYAMLError:
    return yaml.MarkedYAMLError(problem=message, problem_mark=event.start_mark)


def load(path: Path) -> Any:
    """Load one YAML file strictly; returns YMap / YList / YStr (or None for an empty file).

    :raises InputError: on a syntax error, a tag, an anchor or alias, a duplicate key, a non-string
        key, nesting deeper than MAX_DEPTH, or a file that is not UTF-8.
    """
    text = read_text(path)
    return loads(text, path)


def loads(text: str, path: Path | str = "<string>") -> Any:
    """Load YAML text strictly (see :func:`load`).

    >>> doc = loads("a: NO\\nb: 1.10\\n")
    >>> doc["a"], doc["b"], doc["b"].location.line
    ('NO', '1.10', 2)
    """
    loader = None
    try:
        loader = _Loader(text)  # PyYAML rejects control characters here already
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        problem = exc.problem or exc.context or "invalid YAML"
        if not problem.startswith("YAML"):
            problem = f"YAML syntax: {problem}"
        raise InputError(problem, Location(path, line, col)) from None
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        column = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        raise InputError(f"character {exc.character!r} is not allowed in YAML", Location(path, line, column)) from None
    except yaml.YAMLError as exc:
        raise InputError(f"YAML syntax: {exc}", Location(path)) from None
    except (ValueError, OverflowError):  # PyYAML calls chr() on an escape beyond U+10FFFF ("\\U00110000"), or
        # beyond a C int ("\\UFFFFFFFF")
        mark = loader.get_mark() if loader is not None else None
        line, col = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        raise InputError(
            "YAML syntax: an escape beyond \\U0010FFFF is not a character", Location(path, line, col)
        ) from None
    except RecursionError:
        raise InputError(f"YAML nested too deeply (limit {MAX_DEPTH})", Location(path)) from None
    finally:
        if loader is not None:
            loader.dispose()
    if node is None:
        return None
    return _convert(node, path, 0)


def _convert(node: yaml.Node, path: Path | str, depth: int) -> Any:
    location = Location(path, node.start_mark.line + 1, node.start_mark.column + 1)
    if depth > MAX_DEPTH:
        raise InputError(f"YAML nested too deeply (limit {MAX_DEPTH})", location)
    if node.tag not in _PLAIN_TAGS:
        raise InputError(f"YAML tag {node.tag!r} is not allowed; write plain values", location)
    value: Any
    if isinstance(node, yaml.ScalarNode):
        if _SURROGATE.search(node.value):
            raise InputError(
                "a \\u escape gives a lone surrogate (not a character)",
                location,
                hint="write the character itself, or \\U followed by its eight hex digits",
            )
        value = YStr(node.value)
    elif isinstance(node, yaml.SequenceNode):
        value = YList(_convert(item, path, depth + 1) for item in node.value)
    else:
        value = YMap()
        for key_node, value_node in node.value:
            key = _convert(key_node, path, depth + 1)
            if not isinstance(key, YStr):
                raise InputError("mapping keys must be plain text", key.location)
            if key in value:
                first = next(k for k in value if k == key).location.line
                raise InputError(
                    f"duplicate key {key!r} (first at line {first}); YAML would silently keep the last",
                    key.location,
                )
            value[key] = _convert(value_node, path, depth + 1)
    value.location = location
    return value
