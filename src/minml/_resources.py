"""Access to the data files shipped inside the package (``minml/data``)."""

from __future__ import annotations

import sys
from functools import cache
from importlib import resources

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib


def data_path(name: str):
    """A traversable path to ``minml/data/<name>``."""
    return resources.files("minml") / "data" / name


@cache
def load_toml(name: str) -> dict:
    """Parse ``minml/data/<name>`` as TOML (cached: treat the result as read-only)."""
    return tomllib.loads(data_path(name).read_text(encoding="utf-8"))


_SHIPPED: dict = {}


def load_shipped(name: str, loader, rebuild: str):
    """A model file shipped in ``minml/data``, read once by ``loader(path)`` and kept.

    Raises FileNotFoundError naming the command that rebuilds it (``rebuild``) when the file
    is missing from the package.
    """
    if name not in _SHIPPED:
        path = data_path(name)
        if not path.is_file():
            raise FileNotFoundError(
                f"The shipped model {name} is missing from the package; rebuild it with `{rebuild}`."
            )
        _SHIPPED[name] = loader(path)
    return _SHIPPED[name]
