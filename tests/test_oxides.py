import pytest

from minml.chemistry.oxides import (
    CORE_OXIDES,
    FEO_PER_FE2O3,
    atomic_weight,
    canonical_name,
    element_oxides,
    map_columns,
    molar_mass,
    species_table,
)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("FeOT", "FeOt"),
        ("FeO*", "FeOt"),
        ("FeOtot", "FeOt"),
        ("FeO_tot", "FeOt"),
        ("FeOt", "FeOt"),
        ("Fe2O3T", "Fe2O3t"),
        ("FeO", "FeO"),
        ("Fe2O3", "Fe2O3"),
        ("SiO2 (wt%)", "SiO2"),
        ("SIO2(WT%)", "SiO2"),
        ("sio2", "SiO2"),
        (" SiO2 ", "SiO2"),
        ("SiO2\u00a0", "SiO2"),
        ("Na2O [wt.%]", "Na2O"),
        ("Al2O3 wt%", "Al2O3"),
        ("SiO2_Cpx", "SiO2"),
        ("FeOt_Amp", "FeOt"),
        ("Clinopyroxene_SiO2", "SiO2"),
        ("ZrO2", "ZrO2"),
        ("BaO", "BaO"),
        ("SrO", "SrO"),
        ("ZnO", "ZnO"),
        ("V2O3", "V2O3"),
        ("F", "F"),
        ("Cl", "Cl"),
        ("H2O", "H2O"),
        ("B2O3", "B2O3"),
        ("Cr2O3", "Cr2O3"),
        ("P2O5", "P2O5"),
        ("SiO2_wt%", "SiO2"),
        ("MgO_wt", "MgO"),
        # subscripts, as tables copied from a PDF or a word processor spell them
        ("TiO\u2082", "TiO2"),
        ("Al\u2082O\u2083", "Al2O3"),
        ("Na\u2082O (wt%)", "Na2O"),
        ("Fe\u2082O\u2083", "Fe2O3"),
        # units as spreadsheets write them, and total iron in words
        ("SiO2, wt%", "SiO2"),
        ("SiO2 %", "SiO2"),
        ("K2O%", "K2O"),
        ("SiO2 (mass%)", "SiO2"),
        ("MgO mass %", "MgO"),
        ("Total FeO", "FeOt"),
        ("FeO (total)", "FeOt"),
        ("Total Fe2O3", "Fe2O3t"),
        ("Fe2O3 (total)", "Fe2O3t"),
        # T-FeO was read as FeO with a phase prefix 'T-'
        ("T-FeO", "FeOt"),
        ("T.FeO", "FeOt"),
        ("FeO tot.", "FeOt"),
        ("Total Fe as FeO", "FeOt"),
        ("T-Fe2O3", "Fe2O3t"),
        ("Fe as Fe2O3", "Fe2O3t"),
    ],
)
def test_aliases_map_to_canonical_names(name, expected):
    assert canonical_name(name) == expected


@pytest.mark.parametrize("name", ["Si02", "Al203", "Total", "Sample Name", "Mineral", "Na2O + K2O", "Si", "O"])
def test_non_species_are_not_mapped(name):
    assert canonical_name(name) is None


def test_core_oxides_in_model_order():
    assert CORE_OXIDES == (
        "SiO2",
        "TiO2",
        "Al2O3",
        "Cr2O3",
        "FeOt",
        "FeO",
        "Fe2O3",
        "MnO",
        "MgO",
        "NiO",
        "CaO",
        "Na2O",
        "K2O",
        "P2O5",
    )


def test_molar_masses_from_atomic_weights():
    # hand sums: Si 28.085 + 2 x 15.999; 2 Fe 55.845 + 3 O
    assert molar_mass("SiO2") == pytest.approx(60.083)
    assert molar_mass("Fe2O3") == pytest.approx(159.687)
    assert molar_mass("H2O") == pytest.approx(18.015)
    assert pytest.approx(0.8998, abs=5e-5) == FEO_PER_FE2O3
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
    with pytest.raises(
        ValueError,
        match=r"Several columns name the same species:\n  SiO2: \['SiO2_Cpx', 'SiO2_Liq'\]"
        r"[\s\S]*suffix='_Cpx'",
    ):
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


def test_element_oxides_match_a_published_conversion_table():
    """Element wt% -> oxide wt% factors as the JEOL microprobe lab of Victoria University of
    Wellington tabulates them (J. E. Patterson, jepspectro.com/electron_microprobe/
    oxide_conversion.htm; its atomic weights are older, hence a tolerance of 3e-4)."""
    published = {
        "Si": ("SiO2", 2.1395),
        "Ti": ("TiO2", 1.6681),
        "Al": ("Al2O3", 1.8893),
        "Fe": ("FeOt", 1.2865),
        "Mn": ("MnO", 1.2912),
        "Mg": ("MgO", 1.6581),
        "Ca": ("CaO", 1.3992),
        "Na": ("Na2O", 1.3479),
        "K": ("K2O", 1.2045),
        "P": ("P2O5", 2.2915),
    }
    table = element_oxides()
    for element, (oxide, factor) in published.items():
        assert table[element][0] == oxide
        assert table[element][1] == pytest.approx(factor, rel=3e-4)
    assert "F" not in table and "Cl" not in table and "O" not in table  # halogens are reported as elements


def test_element_columns_are_read_only_when_told():
    columns = ["Sample", "Si", "Fe (wt%)", "MG", "O", "P", "Total"]
    plain = map_columns(columns)
    assert plain.mapped == {}  # Si may be at%, cations per formula unit; P may be a pressure
    mapping = map_columns(columns, elements=True)
    assert mapping.mapped == {"Si": "SiO2", "Fe (wt%)": "FeOt", "MG": "MgO", "P": "P2O5"}
    assert mapping.factors == {
        c: element_oxides()[s][1] for c, s in [("Si", "Si"), ("Fe (wt%)", "Fe"), ("MG", "Mg"), ("P", "P")]
    }
    assert mapping.unrecognised == ["Sample", "O", "Total"]
    assert "oxygen, not read" in mapping.notes["O"]
    assert "Si -> SiO2    (element Si wt% x 2.1393)" in "\n".join(mapping.describe())
    assert map_columns(["SiO2", "Cl"], elements=True).factors == {}  # oxides and halogens as they are
    with pytest.raises(ValueError, match=r"SiO2: \['SiO2', 'Si'\]"):
        map_columns(["SiO2", "Si"], elements=True)
    with pytest.raises(ValueError, match="does not combine with suffix="):
        map_columns(["Si_Cpx"], suffix="_Cpx", elements=True)


@pytest.mark.parametrize("elements", [False, True])
def test_ppm_columns_are_kept_and_said_not_read(elements):
    mapping = map_columns(["SiO2", "Cr2O3 (ppm)", "Ni_ppm", "ppm Zr", "Sr [ppm]"], elements=elements)
    assert mapping.mapped == {"SiO2": "SiO2"}
    assert mapping.notes["Cr2O3 (ppm)"].startswith("in ppm, not read: divide by 10,000")
    assert mapping.notes["Ni_ppm"].startswith("Ni in ppm, not read: NiO wt% is Ni ppm x 1.273 / 10,000")
    assert mapping.notes["ppm Zr"].startswith("Zr in ppm") and mapping.notes["Sr [ppm]"].startswith("Sr in ppm")
    assert mapping.hints == {}


@pytest.mark.parametrize("elements", [False, True])
def test_columns_in_other_units_are_kept_and_said_not_read(elements):
    """A unit word after an underscore was taken for a phase suffix: SiO2_mol, SiO2_apfu,
    Cr2O3_ppm and Cl_ppm were read as wt%, silently."""
    names = [
        "SiO2_mol",
        "Al2O3 (mol%)",
        "MgO mol %",
        "FeOt_apfu",
        "CaO (a.p.f.u.)",
        "Na2O (at%)",
        "Cr2O3_ppm",
        "Cl_ppm",
        "F (ppm)",
        "NiO (ppb)",
        "Si_cations",
        "K2O",
        "TiO2_Cpx",
    ]
    mapping = map_columns(names, elements=elements)
    assert mapping.mapped == {"K2O": "K2O", "TiO2_Cpx": "TiO2"}  # wt%, and a phase suffix, still read
    cations = "cations per formula unit"
    units = {
        "SiO2_mol": "mol%",
        "Al2O3 (mol%)": "mol%",
        "MgO mol %": "mol%",
        "FeOt_apfu": cations,
        "CaO (a.p.f.u.)": cations,
        "Na2O (at%)": "atoms (at% or atomic proportions)",
        "NiO (ppb)": "ppb",
        "Si_cations": cations,
    }
    for name, unit in units.items():
        assert mapping.notes[name] == f"in {unit}, not wt%: not read (give the analysis as oxide wt%)"
    for name, species in (("Cr2O3_ppm", "Cr2O3"), ("Cl_ppm", "Cl"), ("F (ppm)", "F")):
        assert mapping.notes[name] == (
            f"in ppm, not read: divide by 10,000 for wt% and name the column {species} to use it"
        )
    # words that are no unit stay phase suffixes; a name that is no species gets no note
    assert map_columns(["SiO2_Cat_Liq", "MgO_Catalina"]).mapped == {"MgO_Catalina": "MgO"}
    assert map_columns(["Total cations", "Sample_mol", "MgO"]).notes == {}
    import pandas as pd

    from minml import check_oxides

    with pytest.raises(ValueError, match=r"(?s)'SiO2_mol': in mol%, not wt%.*Name columns as oxides in wt%"):
        check_oxides(pd.DataFrame({"SiO2_mol": [40.0], "MgO_mol": [50.0]}))


def test_detection_limits_statistics_and_counts_beside_the_values_are_kept_not_read():
    """Microprobe exports print each oxide beside its detection limit (SiO2_DL) or counts: the
    advice was 'pass suffix=_DL', which would have classified the detection limits."""
    mapping = map_columns(
        ["SiO2", "SiO2_DL", "MgO", "LOD_MgO", "FeOt", "FeOt_max", "FeOt_n", "CaO", "CaO_cps", "Na2O", "Na2O_relerr"]
    )
    assert mapping.mapped == {name: name for name in ("SiO2", "MgO", "FeOt", "CaO", "Na2O")}
    assert mapping.notes == {
        "SiO2_DL": "the detection limit of SiO2, not read",
        "LOD_MgO": "the detection limit of MgO, not read",
        "FeOt_max": "a statistic (min, max, count) of FeOt, not read",
        "FeOt_n": "a statistic (min, max, count) of FeOt, not read",
        "CaO_cps": "X-ray counts or k-ratio of CaO, not read",
        "Na2O_relerr": "the spread (sd, error) of Na2O, not read",
    }


def test_a_species_named_twice_in_the_header_is_refused(tmp_path):
    """pandas reads a repeated header name as FeO, FeO.1: the second FeO column was left unread
    without a word (which of the two is total iron?)."""
    from minml import check_oxides, read_table

    path = tmp_path / "twice.csv"
    path.write_text("Sample,SiO2,MgO,FeO,FeO,CaO,Note,Note\na,40.1,48.0,10.2,11.3,0.1,x,y\n")
    table = read_table(path)
    assert list(table.columns) == ["Sample", "SiO2", "MgO", "FeO", "FeO.1", "CaO", "Note", "Note.1"]
    with pytest.raises(
        ValueError,
        match=r"names a species more than once:\n  'FeO' \(2 times; pandas named the "
        r"others \['FeO.1'\]\)\nRename them",
    ):
        check_oxides(table)
    # other repeated names (two Note columns) and near misses are as before
    assert map_columns(["SiO2", "Note", "Note.1", "MgO", "Si02.1"]).mapped == {"SiO2": "SiO2", "MgO": "MgO"}


def test_spread_columns_beside_the_means_are_kept_not_read():
    """Experimental tables print each mean beside its spread (SiO2, SiO2_sd, ...): the spread
    was read as a second phase ('several columns name the same species'), with advice to
    pass suffix='_sd', which would have classified the standard deviations."""
    mapping = map_columns(["SiO2", "SiO2_sd", "MgO", "err_MgO", "FeOt", "FeOt_stdev", "CaO_Cpx_sd"])
    assert mapping.mapped == {"SiO2": "SiO2", "MgO": "MgO", "FeOt": "FeOt"}
    assert mapping.notes == {
        "SiO2_sd": "the spread (sd, error) of SiO2, not read",
        "err_MgO": "the spread (sd, error) of MgO, not read",
        "FeOt_stdev": "the spread (sd, error) of FeOt, not read",
    }
    assert map_columns(["SiO2_Cpx", "SiO2_Cpx_sd", "MgO_Cpx"]).mapped == {"SiO2_Cpx": "SiO2", "MgO_Cpx": "MgO"}
    assert canonical_name("SiO2_sd") is None and canonical_name("SiO2_Cpx") == "SiO2"


@pytest.mark.parametrize("name", ["Sample mass", "An%", "Fo %", "SiO2 %RSD", "Mg#"])
def test_words_near_units_are_not_species(name):
    assert map_columns([name]).mapped == {}
