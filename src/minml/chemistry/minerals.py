"""The mineral classes, read from ``minml/data/minerals.toml`` (minerals are data, not code)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from minml._resources import load_toml

__all__ = [
    "EndMember",
    "Mineral",
    "class_groups",
    "classes_with_index",
    "end_member_table",
    "index_names",
    "mineral_table",
    "nominal_total",
]


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
    essential : tuple of str
        Species of the class's ideal formula without which it cannot be told from others: a
        row predicted as this class from a table with no column for one is flagged.
    oxygens : float or None
        Oxygen basis of the formula (O of all oxides but ``basis_excludes``).
    cations : float, tuple of float, or None
        Ideal cation sum on that basis, or its (low, high) range.
    screen_cations : bool
        Whether the training build screens rows by cation sum (all iron as Fe2+).
    judge_cations : bool
        Whether :func:`minml.classify` holds a named row to ``cations`` per ``oxygens`` (iron
        read both ways) before a phase outside the classes may claim it
        (:mod:`minml.classifier._cations`).
    end_members : tuple of str
        Names in :func:`end_member_table` spanning the class's solid solutions.
    basis_excludes : tuple of str
        Species left out of the oxygen basis and the cation sum (H2O; B2O3 in tourmaline).
    fe3 : {"charge balance", "all", "none"}
        How :func:`minml.formula` splits iron when the analysis gives total iron only:
        Droop (1987) charge balance on ``cations`` per ``oxygens``, all Fe3+ (feldspars), or
        all Fe2+.
    tetrahedral : float or None
        Size of the tetrahedral site (Si + Al(IV)), for the Al(IV)/Al(VI) split.
    indices : dict of str to str
        Quantities users quote (Fo, Wo-En-Fs, An-Ab-Or, Cr#, ...) as arithmetic on cations
        per formula unit (see :mod:`minml.chemistry.formulas`).
    site_limits : dict of str to float
        The most cations of a species (by its oxide's name) that the formula's sites hold on
        ``oxygens``, iron read as Fe3+ (the fewest cations): a row beyond one is no member of
        the class (:mod:`minml.classifier._sites`).
    """

    name: str
    group: str
    training_file: str
    requires: tuple[str, ...] = ()
    unanalysed: dict = field(default_factory=dict)
    essential: tuple[str, ...] = ()
    oxygens: float | None = None
    cations: float | tuple | None = None
    screen_cations: bool = False
    judge_cations: bool = False
    end_members: tuple[str, ...] = ()
    basis_excludes: tuple[str, ...] = ("H2O",)
    fe3: str = "none"
    tetrahedral: float | None = None
    indices: dict = field(default_factory=dict)
    site_limits: dict = field(default_factory=dict)


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
            essential=tuple(spec.get("essential", ())),
            oxygens=spec.get("oxygens"),
            cations=tuple(spec["cations"]) if isinstance(spec.get("cations"), list) else spec.get("cations"),
            screen_cations=spec.get("screen_cations", False),
            judge_cations=spec.get("judge_cations", False),
            end_members=tuple(spec.get("end_members", ())),
            basis_excludes=tuple(spec.get("basis_excludes", ("H2O",))),
            fe3=spec.get("fe3", "none"),
            tetrahedral=spec.get("tetrahedral"),
            indices=dict(spec.get("indices", {})),
            site_limits=dict(spec.get("site_limits", {})),
        )
        for name, spec in sorted(raw.items())
    }


@dataclass(frozen=True)
class EndMember:
    """An ideal end-member composition.

    Attributes
    ----------
    name : str
    formula : str
        As written in the sources (``"CaMgSi2O6"``).
    oxides : dict of str to float
        The same composition as moles of oxides (halogens as atoms) per formula unit.
    """

    name: str
    formula: str
    oxides: dict


@lru_cache(maxsize=4)
def end_member_table(file: str = "minerals.toml") -> dict[str, EndMember]:
    """All end-members of a data table by name (``minerals.toml``; ``phases.toml`` holds those
    of the phases outside the classes, :mod:`minml.chemistry.phases`).

    Examples
    --------
    >>> end_member_table()["jadeite"].oxides
    {'Na2O': 0.5, 'Al2O3': 0.5, 'SiO2': 2}
    """
    raw = load_toml(file)["end_member"]
    return {name: EndMember(name, spec["formula"], dict(spec["oxides"])) for name, spec in raw.items()}


@lru_cache(maxsize=1)
def index_names() -> list[str]:
    """Every index ``minerals.toml`` defines for some class (``Fo``, ``An``, ``Wo``, ...), sorted."""
    return sorted({name for mineral in mineral_table().values() for name in mineral.indices})


def classes_with_index(index: str) -> list[str]:
    """The classes of ``minerals.toml`` that define ``index``, in class order.

    Examples
    --------
    >>> classes_with_index("Fo")
    ['olivine']
    >>> classes_with_index("An")
    ['k-feldspar', 'plagioclase']
    """
    return [name for name, mineral in mineral_table().items() if index in mineral.indices]


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


def nominal_total(total, oxides, mineral: Mineral):
    """Oxide sums plus the class's nominal ``unanalysed`` species where a row did not report them.

    Parameters
    ----------
    total : numpy.ndarray
        Oxide sums (wt%) of the rows.
    oxides : pandas.DataFrame or dict of str to numpy.ndarray
        The rows' canonical species by name (as :func:`minml.check_oxides` returns them).
    mineral : Mineral

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rows = pd.DataFrame({"SiO2": [36.0, 36.0], "B2O3": [0.0, 10.5]})
    >>> nominal_total(np.array([85.0, 95.5]), rows, mineral_table()["tourmaline"]).tolist()
    [99.1, 99.0]
    """
    import numpy as np

    total = np.asarray(total, dtype=float).copy()
    for species, wt in mineral.unanalysed.items():
        reported = np.asarray(oxides[species]) > 0 if species in oxides else np.zeros(len(total), bool)
        total += np.where(reported, 0.0, wt)
    return total
