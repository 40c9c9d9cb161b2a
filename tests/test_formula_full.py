"""Mineral formulas against published analyses with their published formulas, and ideal end-members."""

import numpy as np
import pandas as pd
import pytest

from minml.chemistry.formulas import evaluate_index, formula, resolve_mineral
from minml.chemistry.minerals import end_member_table, mineral_table
from minml.chemistry.oxides import species_table
from minml.classifier.features import MODEL_OXIDES


def test_published_olivine():
    # GeoClassroom, Mineralogy: "Formulation" worked example (olivine on 4 O):
    # SiO2 34.96, FeO 36.77, MnO 0.52, MgO 27.04 -> Si 0.989, Fe 0.870, Mn 0.012, Mg 1.140
    ol = pd.DataFrame({"SiO2": [34.96], "FeO": [36.77], "MnO": [0.52], "MgO": [27.04]})
    f = formula(ol, "olivine").iloc[0]
    for element, published in {"Si": 0.989, "Fe2": 0.870, "Mn": 0.012, "Mg": 1.140}.items():
        assert f[element] == pytest.approx(published, abs=0.0005 + 1e-9), element
    assert f["fe3_method"] == "all Fe2+" and f["Fe3"] == 0.0
    assert f["cation_excess"] == pytest.approx(0.011, abs=0.001)


def test_published_aluminous_diopside_with_fe3_by_charge_balance():
    # Demange (2012) Mineralogy for Petrologists, CRC Press, Appendix, Table 2 (example 2):
    # aluminous diopside, FeO* 9.77 wt%, formula on 4 cations / 6 O. Published to 2 decimals:
    # Si 1.72, Al(IV) 0.28, Al 0.38, Al(VI) 0.10, Ti 0.03, Fe3+ 0.14, Fe2+ 0.16, Mg 0.57, Ca 0.97,
    # Na 0.02, recalculated Fe2O3 5.11, FeO 5.18 wt%. (Their Fe3+ comes from an O sum rounded to
    # 5.93; unrounded it is 0.145: one unit of the last digit is the published precision.)
    cpx = pd.DataFrame(
        {
            "SiO2": [45.76],
            "TiO2": [0.96],
            "Al2O3": [8.45],
            "FeO*": [9.77],
            "MnO": [0.09],
            "MgO": [10.15],
            "CaO": [24.01],
            "Na2O": [0.31],
            "K2O": [0.0],
            "BaO": [0.14],
        }
    )
    f = formula(cpx, "cpx").iloc[0]
    published = {
        "Si": 1.72,
        "AlIV": 0.28,
        "Al": 0.38,
        "AlVI": 0.10,
        "Ti": 0.03,
        "Fe3": 0.14,
        "Fe2": 0.16,
        "Mg": 0.57,
        "Ca": 0.97,
        "Na": 0.02,
    }
    for element, value in published.items():
        assert f[element] == pytest.approx(value, abs=0.01), element
    assert f["fe3_method"] == "charge balance (Droop 1987)"
    assert f["cation_sum"] == pytest.approx(4.0) and f["charge_deficit"] == pytest.approx(0.0, abs=1e-9)
    fe2o3 = 9.77 * f["Fe3"] / (f["Fe3"] + f["Fe2"]) * 2 * 71.844 / 159.687 * 159.687 / (2 * 71.844) * 1.11134
    assert fe2o3 == pytest.approx(5.11, abs=0.06)


def _ideal(formula_oxides: dict) -> dict:
    table = species_table()
    mass = {ox: moles * table[ox].molar_mass for ox, moles in formula_oxides.items() if ox in table}
    total = sum(mass.values())
    return {ox: 100 * m / total for ox, m in mass.items()}


@pytest.mark.parametrize("mineral", sorted(mineral_table()))
def test_every_end_member_gives_its_ideal_formula(mineral):
    spec = mineral_table()[mineral]
    for name in spec.end_members:
        members = end_member_table()[name]
        wt = _ideal(members.oxides)
        iron = wt.pop("FeO", 0.0) + wt.pop("Fe2O3", 0.0) * 0.89981
        row = pd.DataFrame([{**dict.fromkeys(MODEL_OXIDES, 0.0), **wt, "FeOt": iron}])  # the rest analysed: 0
        f = formula(row, mineral).iloc[0]
        if isinstance(spec.cations, (int, float)) and not set(members.oxides) & {"F", "Cl", "H2O", "B2O3", "Li2O"}:
            assert f["cation_sum"] == pytest.approx(spec.cations, abs=1e-6), name
            assert f["charge_deficit"] == pytest.approx(0.0, abs=1e-6), name
        assert f["misfit"] < 0.05, name


def test_magnetite_iron_split_and_indices():
    magnetite = pd.DataFrame({"FeOt": [93.09], "SiO2": [0.0]})  # Fe3O4 as FeO
    with pytest.warns(
        UserWarning,
        match=r"no column for oxides the end-members hold \(TiO2, in magnetite; Al2O3, in "
        r"magnetite; MgO, in magnetite; Cr2O3, in magnetite\): the formulas take them as 0 wt%",
    ):
        f = formula(magnetite, "magnetite").iloc[0]
    assert f["Fe3"] == pytest.approx(2.0, abs=0.01) and f["Fe2"] == pytest.approx(1.0, abs=0.01)
    assert f["Fe3_number"] == pytest.approx(100.0)
    assert np.isnan(f["Cr_number"])  # no Cr, no Al: no index, not 0


def test_analysed_ferric_iron_is_used_as_analysed():
    both = pd.DataFrame(
        {
            "SiO2": [45.76],
            "TiO2": [0.96],
            "Al2O3": [8.45],
            "FeO": [5.18],
            "Fe2O3": [5.11],
            "MnO": [0.09],
            "MgO": [10.15],
            "CaO": [24.01],
            "Na2O": [0.31],
            "K2O": [0.0],
        }
    )
    f = formula(both, "clinopyroxene").iloc[0]
    assert f["fe3_method"] == "analysed"
    assert f["Fe3"] == pytest.approx(0.14, abs=0.01) and f["Fe2"] == pytest.approx(0.16, abs=0.01)


def test_feldspar_iron_is_ferric_and_an_ab_or():
    an60 = pd.DataFrame({"SiO2": [53.0], "Al2O3": [29.6], "FeOt": [0.5], "CaO": [12.1], "Na2O": [4.5], "K2O": [0.2]})
    f = formula(an60, "plag").iloc[0]
    assert f["fe3_method"] == "all Fe3+" and f["Fe2"] == 0.0 and f["Fe3"] > 0
    assert f["An"] + f["Ab"] + f["Or"] == pytest.approx(100.0)
    assert 58 < f["An"] < 62


def test_per_row_labels_auto_and_bad_rows(shared_data):
    from minml.io import read_table

    lepr = read_table(shared_data / "test" / "lepr_allphases_lim.csv").sample(3000, random_state=0)
    before = lepr.copy(deep=True)
    by_label = formula(lepr, mineral_column="Mineral")
    pd.testing.assert_frame_equal(lepr, before)
    assert by_label.index.equals(lepr.index)
    ol = (lepr["Mineral"] == "Olivine") & (by_label["flag"] == "")
    assert ol.sum() > 100
    fo = by_label.loc[ol, "Fo"]
    assert (
        fo.dropna().between(0, 100).all() and fo.notna().mean() > 0.95
    )  # NaN: no Mg, no Fe (LEPR CaO-SiO2 "olivines")
    assert by_label.loc[ol, "cation_excess"].abs().median() < 0.03
    # FeTiOxide names several classes: no formula, and the row says why
    fe_ti = lepr["Mineral"] == "FeTiOxide"
    assert (by_label.loc[fe_ti, "mineral"] == "").all()
    assert (
        by_label.loc[fe_ti, "flag"]
        .str.startswith("no formula: label 'FeTiOxide' may be magnetite or ilmenite or spinel (name one)")
        .all()
    )
    auto = formula(lepr.head(200), "auto")
    assert (auto["mineral"] != "").mean() > 0.9


def test_bad_input():
    row = pd.DataFrame({"SiO2": [40.0], "MgO": [50.0], "FeOt": [10.0], "MnO": [0.0]})
    with pytest.raises(ValueError, match="Cannot compute a formula for mineral 'FeTiOxide': it names several"):
        formula(row, "FeTiOxide")
    with pytest.raises(ValueError, match="'nepheline': it is none of the classes"):
        formula(row, "nepheline")
    with pytest.raises(ValueError, match="'olivene': it is not a known name"):
        formula(row, "olivene")
    with pytest.raises(ValueError, match="'melt': glass has no formula"):  # was "not a known name"
        formula(row, "melt")
    with pytest.raises(ValueError, match="Give either mineral="):
        formula(row)
    with pytest.raises(ValueError, match=r"No label column 'Phase'.* Pass mineral_column=NAME, the column"):
        formula(row, mineral_column="Phase")
    junk = pd.DataFrame({"SiO2": ["abc"], "MgO": [50.0], "FeOt": [10.0], "MnO": [0.0]})
    f = formula(junk, "olivine")
    assert f.loc[0, "flag"].startswith("no formula: unusable values") and np.isnan(f.loc[0, "Si"])
    assert resolve_mineral("Ol") == "olivine"


def test_index_expressions_are_safe():
    with pytest.raises(ValueError, match="only numbers, names"):
        evaluate_index("__import__('os')", {})
    with pytest.raises(ValueError, match="names 'Xx'"):
        evaluate_index("Xx + 1", {"Mg": np.ones(1)})
    assert evaluate_index("max(Mg - 2, 0)", {"Mg": np.array([1.0, 3.0])}).tolist() == [0.0, 1.0]


def test_rows_without_a_formula_say_why():
    from .conftest import EXAMPLE

    table = pd.read_csv(EXAMPLE).head(7)
    table["Mineral"] = [np.nan, "  ", "Nepheline", "Plagioklas", "FeTiOxide", "Glass", "Cpx"]
    f = formula(table, mineral_column="Mineral")
    assert f["flag"].tolist()[:6] == [
        "no formula: no label",
        "no formula: no label",
        "no formula: label 'Nepheline' names no class with a formula",
        "no formula: label 'Plagioklas' is not in labels.toml",
        "no formula: label 'FeTiOxide' may be magnetite or ilmenite or spinel (name one)",
        "no formula: label 'Glass' names no class with a formula",
    ]
    assert f["mineral"].tolist() == [""] * 6 + ["clinopyroxene"]
    assert f.loc[6, "flag"].startswith("far from clinopyroxene: ")  # the example's row 6 is no pyroxene
    auto = formula(pd.read_csv(EXAMPLE), "auto")
    named = auto["mineral"] == ""
    assert auto.loc[named, "flag"].str.match(r"no formula: (classified (unknown|glass)|unusable values)").all()
    assert (auto["flag"] == "no formula: classified glass").sum() == 1  # the example's one glass answer


def test_a_table_without_iron_is_warned_of():
    """No iron column at all: the formulas would be those of an iron-free mineral (Mg# 100)."""
    cpx = pd.DataFrame(
        {
            "SiO2": [52.1],
            "TiO2": [0.5],
            "Al2O3": [3.2],
            "Cr2O3": [0.6],
            "MnO": [0.1],
            "MgO": [17.0],
            "CaO": [20.5],
            "Na2O": [0.4],
            "K2O": [0.0],
        }
    )
    with pytest.warns(
        UserWarning,
        match=r"no column for oxides the end-members hold \(FeOt \(no form of iron\), "
        r"in clinopyroxene\): the formulas take them as 0 wt%\. Add the columns \(0 where below "
        r"detection\)",
    ):
        f = formula(cpx, "cpx")
    assert f.loc[0, "Mg_number"] == 100.0
    formula(cpx.assign(FeOt=0.0), "cpx")  # analysed and absent: no warning (warnings are errors here)


def test_any_index_of_the_callers(shared_data):
    """Formulas come back on the caller's index, in its order, whatever it is: repeated labels
    (tables stacked with pd.concat) raised "cannot reindex on an axis with duplicate labels"."""
    lepr = pd.read_csv(shared_data / "test" / "lepr_allphases_lim.csv").sample(3000, random_state=4)
    expected = formula(lepr, mineral_column="Mineral")
    for index in ([7] * len(lepr), [f"r{i}" for i in range(len(lepr))][::-1]):
        result = formula(lepr.set_axis(index), mineral_column="Mineral")
        assert result.index.tolist() == index
        pd.testing.assert_frame_equal(result.set_axis(expected.index), expected)


def test_auto_on_fractions_says_why_no_row_has_a_formula(tmp_path, capsys):
    from minml.cli import main

    from .conftest import EXAMPLE

    table = pd.read_csv(EXAMPLE)
    oxides = [c for c in MODEL_OXIDES if c in table]
    table[oxides] = table[oxides] / 100.0  # fractions, not wt%
    result = formula(table, "auto")
    assert (result["mineral"] == "").all() and result["fe3_method"].eq("").all()
    assert result["flag"].str.startswith("no formula: classified unknown: fractions?").sum() >= 60
    path = tmp_path / "fractions.csv"
    table.to_csv(path, index=False)
    assert main(["formula", str(path), "--mineral", "auto", "-o", str(tmp_path / "out.csv")]) == 0
    out = capsys.readouterr().out
    assert "0 of 76 formulas computed" in out and "no formula: classified unknown: fractions?:" in out
