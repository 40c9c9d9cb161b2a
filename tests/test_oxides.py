import pytest

from minml.oxides import (
    CORE_OXIDES,
    FEO_PER_FE2O3,
    atomic_weight,
    canonical_name,
    map_columns,
    molar_mass,
    species_table,
)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("FeOT", "FeOt"), ("FeO*", "FeOt"), ("FeOtot", "FeOt"), ("FeO_tot", "FeOt"), ("FeOt", "FeOt"),
        ("Fe2O3T", "Fe2O3t"), ("FeO", "FeO"), ("Fe2O3", "Fe2O3"),
        ("SiO2 (wt%)", "SiO2"), ("SIO2(WT%)", "SiO2"), ("sio2", "SiO2"), (" SiO2 ", "SiO2"),
        ("SiO2\u00a0", "SiO2"), ("Na2O [wt.%]", "Na2O"), ("Al2O3 wt%", "Al2O3"),
        ("SiO2_Cpx", "SiO2"), ("FeOt_Amp", "FeOt"), ("Clinopyroxene_SiO2", "SiO2"),
        ("ZrO2", "ZrO2"), ("BaO", "BaO"), ("SrO", "SrO"), ("ZnO", "ZnO"), ("V2O3", "V2O3"),
        ("F", "F"), ("Cl", "Cl"), ("H2O", "H2O"), ("B2O3", "B2O3"), ("Cr2O3", "Cr2O3"), ("P2O5", "P2O5"),
        ("SiO2_wt%", "SiO2"), ("MgO_wt", "MgO"),
        # subscripts, as tables copied from a PDF or a word processor spell them
        ("TiO\u2082", "TiO2"), ("Al\u2082O\u2083", "Al2O3"), ("Na\u2082O (wt%)", "Na2O"), ("Fe\u2082O\u2083", "Fe2O3"),
    ],
)
def test_aliases_map_to_canonical_names(name, expected):
    assert canonical_name(name) == expected


@pytest.mark.parametrize("name", ["Si02", "Al203", "Total", "Sample Name", "Mineral", "Na2O + K2O", "Si", "O"])
def test_non_species_are_not_mapped(name):
    assert canonical_name(name) is None


def test_core_oxides_in_model_order():
    assert CORE_OXIDES == ("SiO2", "TiO2", "Al2O3", "Cr2O3", "FeOt", "FeO", "Fe2O3",
                           "MnO", "MgO", "NiO", "CaO", "Na2O", "K2O", "P2O5")


def test_molar_masses_from_atomic_weights():
    # hand sums: Si 28.085 + 2 x 15.999; 2 Fe 55.845 + 3 O
    assert molar_mass("SiO2") == pytest.approx(60.083)
    assert molar_mass("Fe2O3") == pytest.approx(159.687)
    assert molar_mass("H2O") == pytest.approx(18.015)
    assert FEO_PER_FE2O3 == pytest.approx(0.8998, abs=5e-5)
    assert atomic_weight("O") == 15.999


def test_every_species_is_charge_balanced_by_its_oxygens():
    for species in species_table().values():
        if not species.halogen:
            assert species.cations * species.charge == pytest.approx(2 * species.oxygens)


def test_unknown_species_and_element_say_what_is_known():
    with pytest.raises(KeyError, match="Unknown species 'SiO3'"):
        molar_mass("SiO3")
    with pytest.raises(KeyError, match="No atomic weight for 'Xx'"):
        atomic_weight("Xx")


def test_map_columns_reports_unrecognised_and_hints():
    mapping = map_columns(["Si02", "Al203", "FeOT", "Sample", "Total"])
    assert mapping.mapped == {"FeOT": "FeOt"}
    assert mapping.unrecognised == ["Si02", "Al203", "Sample", "Total"]
    assert mapping.hints == {"Si02": "SiO2", "Al203": "Al2O3"}
    assert any("did you mean 'SiO2'" in line for line in mapping.describe())


def test_thermobar_suffix_auto_and_explicit():
    auto = map_columns(["SiO2_Cpx", "Al2O3_Cpx", "FeOt_Cpx", "Sample_ID"])
    assert auto.mapped == {"SiO2_Cpx": "SiO2", "Al2O3_Cpx": "Al2O3", "FeOt_Cpx": "FeOt"}
    assert auto.how["SiO2_Cpx"] == "suffix '_Cpx'"
    explicit = map_columns(["SiO2_Cpx", "SiO2_Liq", "MgO_Cpx", "MgO_Liq"], suffix="_Liq")
    assert explicit.mapped == {"SiO2_Liq": "SiO2", "MgO_Liq": "MgO"}
    assert explicit.unrecognised == ["SiO2_Cpx", "MgO_Cpx"]


def test_prefix_is_detected():
    mapping = map_columns(["Clinopyroxene_SiO2", "Clinopyroxene_MgO"])
    assert mapping.mapped == {"Clinopyroxene_SiO2": "SiO2", "Clinopyroxene_MgO": "MgO"}
    assert mapping.how["Clinopyroxene_SiO2"] == "prefix 'Clinopyroxene_'"


def test_two_phases_side_by_side_need_a_suffix():
    with pytest.raises(ValueError, match=r"Several columns name the same species:\n  SiO2: \['SiO2_Cpx', 'SiO2_Liq'\]"
                       r"[\s\S]*suffix='_Cpx'"):
        map_columns(["SiO2_Cpx", "SiO2_Liq"])


def test_two_spellings_of_one_species_clash():
    with pytest.raises(ValueError, match="FeOt: \\['FeOT', 'FeO\\*'\\]"):
        map_columns(["FeOT", "FeO*"])


def test_one_name_given_twice_clashes():
    """A spreadsheet with two SiO2 columns: pandas keeps both; neither may be picked silently."""
    with pytest.raises(ValueError, match=r"SiO2: \['SiO2', 'SiO2'\]\nRename or drop all but one of each"):
        map_columns(["SiO2", "MgO", "SiO2"])
    import pandas as pd

    from minml import check_oxides, classify

    from .conftest import EXAMPLE

    table = pd.read_csv(EXAMPLE)
    twice = pd.concat([table, table[["MgO"]]], axis=1)
    for call in (check_oxides, classify):
        with pytest.raises(ValueError, match=r"MgO: \['MgO', 'MgO'\]"):
            call(twice)
