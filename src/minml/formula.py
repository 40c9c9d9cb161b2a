"""Mineral formulas from oxide wt%: cations per formula unit on an oxygen basis.

This first piece gives the cation sum with all iron as Fe2+ (FeOt), the quantity the
training build screens with; the full formula (sites, Fe3+ by charge balance, end-members)
grows here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from minml.oxides import species_table

__all__ = ["cation_sum"]

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
