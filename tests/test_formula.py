import numpy as np
import pandas as pd
import pytest

from minml.chemistry.formulas import cation_sum
from minml.chemistry.oxides import molar_mass


def _wt(formula: dict) -> pd.DataFrame:
    """wt% of an ideal end-member from its oxide moles, e.g. {'CaO': 1, 'Al2O3': 1, 'SiO2': 2}."""
    mass = {k: n * molar_mass(k) for k, n in formula.items()}
    total = sum(mass.values())
    return pd.DataFrame({k: [100 * v / total] for k, v in mass.items()})


@pytest.mark.parametrize(
    ("formula", "oxygens", "expected"),
    [
        ({"MgO": 2, "SiO2": 1}, 4, 3.0),  # forsterite
        ({"MgO": 2, "SiO2": 2}, 6, 4.0),  # enstatite Mg2Si2O6
        ({"CaO": 1, "MgO": 1, "SiO2": 2}, 6, 4.0),  # diopside
        ({"CaO": 1, "Al2O3": 1, "SiO2": 2}, 8, 5.0),  # anorthite
        ({"Na2O": 0.5, "Al2O3": 0.5, "SiO2": 3}, 8, 5.0),  # albite
        ({"MgO": 3, "Al2O3": 1, "SiO2": 3}, 12, 8.0),  # pyrope
        ({"MgO": 1, "Al2O3": 1}, 4, 3.0),  # spinel
    ],
)
def test_end_members(formula, oxygens, expected):
    assert cation_sum(_wt(formula), oxygens)[0] == pytest.approx(expected, abs=1e-9)


def test_ferric_iron_as_ferrous_raises_the_sum():
    # magnetite Fe3O4 (FeO + Fe2O3) given as FeOt: 3 FeO per 3 O -> 4 cations per 4 O, not 3
    feot = 100.0
    assert cation_sum(pd.DataFrame({"FeOt": [feot]}), 4)[0] == pytest.approx(4.0)


def test_no_oxygen_is_nan_and_halogens_are_ignored():
    out = cation_sum(pd.DataFrame({"SiO2": [0.0, 42.71], "MgO": [0.0, 57.29], "F": [0.0, 3.0]}), 4)
    assert np.isnan(out[0]) and out[1] == pytest.approx(3.0, abs=1e-3)
