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


def test_formulas_far_from_their_class_are_flagged_and_counted(tmp_path):
    """formula(mineral='olivine') on a table of several minerals: the plagioclases' and the
    pyroxenes' olivine formulas are computed, but flagged as far from olivine (the trial's
    plagioclase at Fo 7.5 and 52 wt% misfit had an empty flag); the olivines are not."""
    from minml import formula, read_table
    from minml.classifier.predict import classify_table
    from minml.pipelines import formula_file

    from .conftest import EXAMPLE

    table = read_table(EXAMPLE)
    answered = classify_table(table).frame()["mineral"]
    result = formula(table, mineral="olivine")
    limit = result["misfit_limit"].dropna().unique()
    assert len(limit) == 1 and 1.0 < limit[0] < 4.0
    far = result["misfit"] > result["misfit_limit"]
    assert far[answered == "plagioclase"].all() and not far[answered == "olivine"].any()
    assert result.loc[far, "flag"].str.startswith("far from olivine: ").all()
    assert (result.loc[~far, "flag"].str.contains("far from") == False).all()  # noqa: E712
    summary = formula_file(EXAMPLE, tmp_path / "f.csv", mineral="olivine")
    assert summary.far == int(far.sum())
    assert any("far from their class's end-members" in line for line in summary.lines())
