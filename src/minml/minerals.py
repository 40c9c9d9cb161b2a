"""The mineral classes, read from ``minml/data/minerals.toml`` (minerals are data, not code)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from minml._resources import load_toml

__all__ = ["Mineral", "class_groups", "mineral_table"]


@dataclass(frozen=True)
class Mineral:
    """One mineral class.

    Attributes
    ----------
    name : str
        Class name used in outputs (``"k-feldspar"``).
    group : str
        Its family (``"feldspar"``).
    training_file : str
        File stem of its compilation in the training data.
    requires : tuple of str
        Species an analysis must report to be judged as this class.
    unanalysed : dict of str to float
        Nominal wt% of essential species that analyses usually omit.
    oxygens, cations : float or None
        Oxygen basis of the formula and its ideal cation sum.
    screen_cations : bool
        Whether the training build screens rows by cation sum (all iron as Fe2+).
    """

    name: str
    group: str
    training_file: str
    requires: tuple[str, ...] = ()
    unanalysed: dict = field(default_factory=dict)
    oxygens: float | None = None
    cations: float | None = None
    screen_cations: bool = False


@lru_cache(maxsize=1)
def mineral_table() -> dict[str, Mineral]:
    """All mineral classes by name, in alphabetical order.

    Examples
    --------
    >>> mineral_table()["k-feldspar"].group
    'feldspar'
    """
    raw = load_toml("minerals.toml")["mineral"]
    return {
        name: Mineral(
            name=name,
            group=spec["group"],
            training_file=spec["training_file"],
            requires=tuple(spec.get("requires", ())),
            unanalysed=dict(spec.get("unanalysed", {})),
            oxygens=spec.get("oxygens"),
            cations=spec.get("cations"),
            screen_cations=spec.get("screen_cations", False),
        )
        for name, spec in sorted(raw.items())
    }


@lru_cache(maxsize=1)
def class_groups() -> dict[str, str]:
    """Group of every class a model may answer: the minerals, then the non-minerals (glass).

    Examples
    --------
    >>> class_groups()["glass"], class_groups()["orthopyroxene"]
    ('glass', 'pyroxene')
    """
    groups = {name: m.group for name, m in mineral_table().items()}
    for name, spec in sorted(load_toml("minerals.toml").get("other", {}).items()):
        groups[name] = spec["group"]
    return groups
