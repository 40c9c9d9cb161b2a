"""The oxide table: each species MIN-ML reads, with its element, cations and oxygens per formula
unit and its molar mass from the standard atomic weights of ``minml/data/oxides.toml``
(re-exported by :mod:`minml.chemistry.oxides`)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from minml._resources import load_toml

__all__ = [
    "CORE_OXIDES",
    "FEO_PER_FE2O3",
    "Species",
    "atomic_weight",
    "element_oxides",
    "molar_mass",
    "species_table",
]


@dataclass(frozen=True)
class Species:
    """One analysed species (an oxide, or a halogen as the element).

    Attributes
    ----------
    name : str
        Canonical name, e.g. ``"Al2O3"``.
    element : str
        The cation (or, for halogens, the anion) symbol.
    cations, oxygens : int
        Atoms per formula unit of the species.
    molar_mass : float
        g/mol, from the standard atomic weights of the table.
    core : bool
        Part of the canonical oxide list of the models.
    pure_phase : bool
        Forms a natural phase on its own (≈100 wt% of it is not a column shift).
    halogen : bool
        Counted in the total less its oxygen equivalent.
    total_iron : bool
        Reports all iron as one oxide (``FeOt``, ``Fe2O3t``).
    """

    name: str
    element: str
    cations: int
    oxygens: int
    molar_mass: float
    core: bool = False
    pure_phase: bool = False
    halogen: bool = False
    total_iron: bool = False

    @property
    def charge(self) -> float:
        """Charge of one cation (oxygens balance it); ``-1`` for a halogen."""
        if self.halogen:
            return -1.0
        return 2.0 * self.oxygens / self.cations


@lru_cache(maxsize=1)
def species_table() -> dict[str, Species]:
    """All known species by canonical name, in the table's order.

    Returns
    -------
    dict of str to Species

    Examples
    --------
    >>> round(species_table()["SiO2"].molar_mass, 3)
    60.083
    """
    raw = load_toml("oxides.toml")
    weights = raw["atomic_weight"]
    table = {}
    for name, spec in raw["species"].items():
        mass = spec["cations"] * weights[spec["element"]] + spec["oxygens"] * weights["O"]
        table[name] = Species(
            name=name,
            element=spec["element"],
            cations=spec["cations"],
            oxygens=spec["oxygens"],
            molar_mass=mass,
            core=spec.get("core", False),
            pure_phase=spec.get("pure_phase", False),
            halogen=spec.get("halogen", False),
            total_iron=spec.get("total_iron", False),
        )
    return table


def atomic_weight(symbol: str) -> float:
    """Standard atomic weight of an element (g/mol), from the oxide table.

    Examples
    --------
    >>> atomic_weight("O")
    15.999
    """
    weights = load_toml("oxides.toml")["atomic_weight"]
    try:
        return weights[symbol]
    except KeyError:
        raise KeyError(f"No atomic weight for {symbol!r}; known: {sorted(weights)}") from None


def molar_mass(name: str) -> float:
    """Molar mass of a canonical species in g/mol.

    Examples
    --------
    >>> round(molar_mass("FeO"), 3)
    71.844
    """
    try:
        return species_table()[name].molar_mass
    except KeyError:
        raise KeyError(f"Unknown species {name!r}; known: {sorted(species_table())}") from None


CORE_OXIDES: tuple[str, ...] = tuple(n for n, s in species_table().items() if s.core)
"""The canonical oxides, in model order: SiO2 TiO2 Al2O3 Cr2O3 FeOt FeO Fe2O3 MnO MgO NiO CaO
Na2O K2O P2O5."""

FEO_PER_FE2O3: float = 2.0 * molar_mass("FeO") / molar_mass("Fe2O3")
"""wt% FeO equivalent to 1 wt% Fe2O3 (2 FeO / Fe2O3 = 0.8998)."""


@lru_cache(maxsize=1)
def element_oxides() -> dict[str, tuple[str, float]]:
    """Each element's oxide as analyses report it, and wt% of that oxide per wt% of the element.

    The oxide is the element's first species in ``oxides.toml`` (iron as ``FeOt``); the
    halogens F and Cl are reported as elements already and are not in the result.

    Returns
    -------
    dict of str to (str, float)

    Examples
    --------
    >>> species, factor = element_oxides()["Si"]
    >>> species, round(factor, 4)
    ('SiO2', 2.1393)
    """
    out: dict[str, tuple[str, float]] = {}
    weights = load_toml("oxides.toml")["atomic_weight"]
    for name, spec in species_table().items():
        if spec.halogen or (spec.element == "Fe" and name != "FeOt"):
            continue
        out.setdefault(spec.element, (name, spec.molar_mass / (spec.cations * weights[spec.element])))
    return out
