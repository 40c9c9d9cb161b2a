"""Mineral formulas from oxide wt%: cations per formula unit on an oxygen basis.

This first piece gives the cation sum with all iron as Fe2+ (FeOt), the quantity the
training build screens with; the full formula (sites, Fe3+ by charge balance, end-members)
grows here.
"""

from __future__ import annotations

import re
from collections import Counter

import numpy as np
import pandas as pd

from minml.oxides import species_table

__all__ = ["cation_oxygen_ratio", "cation_sum", "parse_formula"]

_SKIP = {"FeO", "Fe2O3", "Fe2O3t", "H2O"}  # iron enters as FeOt; H is not a cation of these formulas


def cation_sum(oxides: pd.DataFrame, oxygens: float) -> np.ndarray:
    """Cations per formula unit of ``oxygens`` oxygens, all iron as Fe2+.

    Parameters
    ----------
    oxides : pandas.DataFrame
        Canonical species in wt% (as :func:`minml.check_oxides` returns them); NaN reads as 0.
        Halogens are ignored.
    oxygens : float
        The formula's oxygen basis (olivine 4, pyroxene 6, feldspar 8, garnet 12, ...).

    Returns
    -------
    numpy.ndarray
        NaN for rows without oxygen.

    Examples
    --------
    Forsterite Mg2SiO4 (SiO2 42.71, MgO 57.29 wt%) has 3 cations per 4 oxygens:

    >>> import pandas as pd
    >>> cation_sum(pd.DataFrame({"SiO2": [42.71], "MgO": [57.29]}), 4).round(3).tolist()
    [3.0]
    """
    table = species_table()
    names = [c for c in oxides.columns if c in table and c not in _SKIP and not table[c].halogen]
    values = np.nan_to_num(oxides[names].to_numpy(dtype=float), nan=0.0)
    moles = values / np.array([table[c].molar_mass for c in names])
    cations = moles @ np.array([table[c].cations for c in names], dtype=float)
    anions = moles @ np.array([table[c].oxygens for c in names], dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(anions > 0, cations * oxygens / anions, np.nan)


def cation_oxygen_ratio(values: np.ndarray, oxides) -> np.ndarray:
    """Cations per oxygen of each row of a wt% array, all iron as Fe2+ (``FeOt``).

    The cation sum on any oxygen basis is this ratio times the basis, so one number per row
    gives the stoichiometric misfit under every class at once.

    Parameters
    ----------
    values : numpy.ndarray
        Rows x ``oxides``, wt% (NaN reads as 0).
    oxides : sequence of str
        Canonical species of the columns (``FeOt`` counts as FeO).

    Returns
    -------
    numpy.ndarray of float64
        NaN for rows without oxygen.

    Examples
    --------
    >>> cation_oxygen_ratio(np.array([[42.71, 57.29]]), ["SiO2", "MgO"]).round(3).tolist()  # forsterite
    [0.75]
    """
    table = species_table()
    names = ["FeO" if ox == "FeOt" else ox for ox in oxides]
    unknown = [ox for ox in names if ox not in table]
    if unknown:
        raise ValueError(f"No species {unknown} in the oxide table.")
    used = np.array([not table[ox].halogen and ox != "H2O" for ox in names])
    moles = np.nan_to_num(np.asarray(values, dtype=np.float64), nan=0.0) / np.array(
        [table[ox].molar_mass for ox in names])
    cations = moles @ np.where(used, [table[ox].cations for ox in names], 0.0)
    anions = moles @ np.where(used, [table[ox].oxygens for ox in names], 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(anions > 0, cations / anions, np.nan)


_TOKEN = re.compile(r"([A-Z][a-z]?|\(|\))(\d+(?:\.\d+)?)?")


def parse_formula(formula: str) -> dict[str, float]:
    """Atoms per formula unit of a chemical formula, with parentheses and decimal counts.

    Parameters
    ----------
    formula : str
        E.g. ``"KMg3AlSi3O10(OH)2"`` or ``"Na(Li1.5Al1.5)Al6Si6O18(BO3)3(OH)4"``.

    Returns
    -------
    dict of str to float

    Raises
    ------
    ValueError
        For characters that are no part of a formula, or unbalanced parentheses.

    Examples
    --------
    >>> parse_formula("KMg3AlSi3O10(OH)2")
    {'K': 1.0, 'Mg': 3.0, 'Al': 1.0, 'Si': 3.0, 'O': 12.0, 'H': 2.0}
    """
    stack = [Counter()]
    position = 0
    for match in _TOKEN.finditer(formula):
        if match.start() != position:
            raise ValueError(f"Cannot read formula {formula!r} at {formula[position:]!r}.")
        position = match.end()
        token, count = match.group(1), float(match.group(2) or 1)
        if token == "(":
            if match.group(2):
                raise ValueError(f"Cannot read formula {formula!r}: a count after '('.")
            stack.append(Counter())
        elif token == ")":
            if len(stack) == 1:
                raise ValueError(f"Unbalanced ')' in formula {formula!r}.")
            group = stack.pop()
            for element, n in group.items():
                stack[-1][element] += n * count
        else:
            stack[-1][token] += count
    if position != len(formula) or len(stack) != 1:
        raise ValueError(f"Cannot read formula {formula!r}.")
    return {element: float(n) for element, n in stack[0].items()}
