"""Package attributes imported on first use (PEP 562 ``__getattr__``), so that importing a package
does not import the heavier modules its names live in."""

from __future__ import annotations

import importlib

__all__ = ["lazy_attribute"]


def lazy_attribute(namespace: dict, modules: dict[str, str], name: str):
    """The attribute ``name`` of a package, imported from its module on first use.

    Parameters
    ----------
    namespace : dict
        The package's ``globals()``: the value is kept there, so the next use finds it
        without this call.
    modules : dict of str to str
        Each name the package offers and the module (absolute) it lives in.
    name : str

    Raises
    ------
    AttributeError
        For a name the package does not offer, as for any module.
    """
    if name not in modules:
        raise AttributeError(f"module {namespace['__name__']!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(modules[name]), name)
    namespace[name] = value
    return value
