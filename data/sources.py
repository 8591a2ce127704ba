"""The public datasets that ``glimpse data fetch NAME`` can download, and where they go.

Each source registers a fetch function here. A fetch function takes the destination folder
and an optional base URL (tests point it at a local server) and returns the folder it filled.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

DATA_DIR_ENV = "GLIMPSE_DATA_DIR"


def data_dir() -> Path:
    """Return the folder where fetched datasets live: ``$GLIMPSE_DATA_DIR`` or ``~/.cache/glimpse``."""
    configured = os.environ.get(DATA_DIR_ENV)
    return Path(configured).expanduser() if configured else Path.home() / ".cache" / "glimpse"


@dataclass(frozen=True)
class Source:
    """A fetchable dataset: its name, a one-line description, licence and fetch function."""

    name: str
    description: str
    licence: str
    fetch: Callable[..., Path]


_SOURCES: dict[str, Source] = {}


def register(source: Source) -> Source:
    """Add a source to the registry, rejecting a name that is taken."""
    if source.name in _SOURCES:
        raise ValueError(f"data source {source.name!r} is registered twice")
    _SOURCES[source.name] = source
    return source


def sources() -> dict[str, Source]:
    """Return every registered source by name, importing the modules that register them."""
    _import_all()
    return dict(_SOURCES)


def get(name: str) -> Source:
    """Return the source called ``name``.

    Raises:
        KeyError: no such source; the message lists the known names.
    """
    known = sources()
    if name not in known:
        raise KeyError(f"unknown data source {name!r}; known sources: {', '.join(sorted(known))}")
    return known[name]


def _import_all() -> None:
    # Each loader module registers its source on import.
    import data.atari_head_fetch
    import data.austen
    import data.fashion_mnist
    import data.fsdd
    import data.spiking_speech  # noqa: F401
