"""A project: where its ledger is and where builds go, from `allygraph.toml` or the bundled default."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from .errors import InputError, Location
from .paths import default_data_dir

CONFIG = "allygraph.toml"


@dataclass(frozen=True)
class Project:
    """`data` holds sources.yaml, entities.yaml and claims/; builds are written under `out`."""

    root: Path
    data: Path
    out: Path
    bundled: bool = False
    definitions: tuple[Path, ...] = ()  # the user's own definition files (Turtle)


def find_project(start: Path | None = None, *, out: Path | None = None) -> Project:
    """The project at or above `start` (default: the working directory).

    A folder with `allygraph.toml` is a project; without one anywhere above, the bundled corpus is
    used and builds go to `./build`. `out` overrides where builds go.

    :raises InputError: if `allygraph.toml` cannot be read or names a missing folder.
    """
    here = (start or Path.cwd()).resolve()
    if start is not None and not (here / CONFIG).is_file() and (here / "sources.yaml").is_file():
        return Project(here, here, out or here / "build")  # a bare data folder
    for folder in (here, *here.parents):
        config = folder / CONFIG
        if config.is_file():
            return _read(config, out)
    return Project(Path.cwd(), default_data_dir(), out or Path.cwd() / "build", bundled=True)


def _read(config: Path, out: Path | None) -> Project:
    try:
        settings = tomllib.loads(config.read_text(encoding="utf-8")).get("allygraph", {})
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read project configuration: {exc}", Location(config)) from None
    root = config.parent
    data = (root / settings.get("data", "data")).resolve()
    if not (data / "sources.yaml").is_file():
        raise InputError(f"data folder {data} has no sources.yaml", Location(config))
    definitions = tuple((root / d).resolve() for d in settings.get("definitions", []))
    for path in definitions:
        if not path.is_file():
            raise InputError(f"definition file {path} does not exist", Location(config))
    return Project(root, data, out or (root / settings.get("out", "build")).resolve(), definitions=definitions)
