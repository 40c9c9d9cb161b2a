import re
import warnings

import numpy as np
import pandas as pd
import pytest

from minml import check_oxides, read_table
from minml.chemistry.oxides import CORE_OXIDES

from .conftest import EXAMPLE, as_elements


@pytest.fixture()
def lepr():
    return read_table(EXAMPLE)


def _independent_sum(df):
    """Oxide sum computed apart from the package: small negatives (>= -0.1) count as 0."""
    cols = [c for c in df.columns if c not in ("Unnamed: 0", "entity_id", "Mineral", "method")]
    values = df[cols].apply(pd.to_numeric, errors="coerce").fillna(0)
    return values.mask((values < 0) & (values >= -0.1), 0.0).sum(axis=1)


def _impossible(df):
    """Rows with a value the reader must refuse: over 104 wt% or below -0.1."""
    cols = [c for c in df.columns if c not in ("Unnamed: 0", "entity_id", "Mineral", "method")]
    values = df[cols].apply(pd.to_numeric, errors="coerce")
    return ((values > 104) | (values < -0.1)).any(axis=1)


def test_caller_table_is_not_modified(lepr):
    before = lepr.copy(deep=True)
    checked = check_oxides(lepr)
    pd.testing.assert_frame_equal(lepr, before)
    checked.oxides.iloc[:, :] = -1.0  # the result does not share memory with the input
    pd.testing.assert_frame_equal(lepr, before)


def test_real_lepr_rows(lepr):
    checked = check_oxides(lepr)
    assert list(checked.oxides.index) == list(lepr.index)
    assert list(checked.oxides.columns[: len(CORE_OXIDES)]) == list(CORE_OXIDES)
    total, impossible = _independent_sum(lepr), _impossible(lepr)  # impossible: left out of the total, flagged
    assert impossible.sum() == 1
    np.testing.assert_allclose(checked.flags["total"][~impossible], total[~impossible], atol=1e-9)
    assert checked.flags.loc[impossible, "flag"].str.contains("SiO2 over 100 wt%: 1").all()
    assert (checked.flags["iron_rule"] == "FeOt").all()
    flagged = checked.flags["flag"] != ""
    expected = (total < 88) | (total > 105) | impossible
    assert flagged.tolist() == expected.tolist()
    assert checked.flags.loc[total == 0, "flag"].eq("empty row: no oxide values").all()
    fractions = checked.flags.loc[(total > 0.8) & (total < 1.2), "flag"]
    assert len(fractions) >= 2 and fractions.str.startswith("fractions?: oxide sum").all()
    assert checked.other.columns.tolist() == ["entity_id", "Mineral", "method"]
    # the row kinds as masks, the same rows the flag text names
    text = checked.flags["flag"]
    no_analysis = text.str.contains(r"(?:^|; )(?:empty row|fractions\?|column shift\?)").to_numpy()
    assert (checked.no_analysis == no_analysis).all() and no_analysis.sum() >= 3
    outside = text.str.contains("total outside").to_numpy()
    assert (checked.total_outside == outside).all() and not (outside & no_analysis).any()
    assert outside.sum() >= 3


def test_every_bad_value_names_column_and_value():
    df = pd.DataFrame(
        {
            "SiO2": ["40.1", "abc", "40.0", "40.0", "40,2", "<0.01"],
            "MgO": [49.0, 49.0, -3.2, 49.0, 49.0, 49.0],
            "FeOT": [10.0, 10.0, 10.0, 120.0, 10.0, 10.0],
            "NiO": [0.3, 0.3, 0.3, 0.3, -0.04, "bdl"],
        }
    )
    checked = check_oxides(df)
    flags, notes = checked.flags["flag"].tolist(), checked.flags["notes"].tolist()
    assert flags[0] == ""
    assert flags[1].startswith("SiO2 not a number: 'abc'")
    assert flags[2].startswith("MgO negative: -3.2")
    assert flags[3].startswith("FeOt over 100 wt%: 120")
    assert flags[4] == "" and notes[4] == "small negative read as 0: NiO -0.04"
    assert notes[5] == "below detection, read as 0: SiO2 '<0.01', NiO 'bdl'"
    # an unusable value is NaN, never silently 0
    assert np.isnan(checked.oxides.loc[1, "SiO2"]) and np.isnan(checked.oxides.loc[2, "MgO"])
    assert checked.oxides.loc[4, "SiO2"] == 40.2 and checked.oxides.loc[4, "NiO"] == 0.0


def test_column_shift_total_in_an_oxide_column():
    # a cpx analysis whose total landed in the MgO column
    row = {"SiO2": 52.0, "TiO2": 0.5, "Al2O3": 3.0, "FeOt": 8.0, "MgO": 99.7, "CaO": 20.0, "Na2O": 0.3}
    row["MgO"] = round(sum(v for k, v in row.items() if k != "MgO"), 2)
    checked = check_oxides(pd.DataFrame([row]))
    assert checked.flags["flag"][0].startswith("column shift?: MgO = 83.8 with the other oxides summing to 83.8")


def test_lonely_oxide_is_a_shift_unless_it_forms_a_phase():
    df = pd.DataFrame({"SiO2": [99.6, 0.05], "CaO": [0.02, 99.2], "MgO": [0.01, 0.1]})
    flags = check_oxides(df).flags["flag"]
    assert flags[0] == ""  # quartz
    assert flags[1].startswith("column shift?: CaO = 99.2")


def test_halogens_enter_the_total_less_oxygen_equivalent():
    df = pd.DataFrame({"CaO": [55.0], "P2O5": [41.0], "F": [3.7]})
    total = check_oxides(df).flags["total"][0]
    # O = F2: 3.7 x 15.999 / (2 x 18.998) = 1.558
    assert total == pytest.approx(55.0 + 41.0 + 3.7 - 1.558, abs=1e-3)


def test_iron_is_not_double_counted_in_the_total():
    df = pd.DataFrame({"SiO2": [0.1], "TiO2": [47.0], "FeOT": [47.4172], "FeO": [38.35], "Fe2O3": [10.07]})
    checked = check_oxides(df)
    assert checked.flags["total"][0] == pytest.approx(0.1 + 47.0 + 47.4172)
    assert checked.flags["iron_rule"][0] == "FeOt" and checked.flags["flag"][0] == ""
    assert checked.oxides.loc[0, "FeO"] == 38.35  # as reported, for formula work


def test_total_range_is_configurable_and_validated():
    df = pd.DataFrame({"SiO2": [40.0], "MgO": [45.0], "FeOt": [9.0]})
    assert check_oxides(df).flags["flag"][0] == ""
    assert check_oxides(df, total_range=(95, 105)).flags["flag"][0] == "total outside 95-105: 94.0 wt%"
    assert check_oxides(df, total_range=None).flags["flag"][0] == ""
    assert check_oxides(df, total_range=(95, 105)).total_outside.tolist() == [True]
    assert check_oxides(df, total_range=None).total_outside.tolist() == [False]
    with pytest.raises(ValueError, match="low < high"):
        check_oxides(df, total_range=(105, 88))
    for bad in ((88,), 88, ("88", "x"), (88, 95, 105)):
        with pytest.raises(ValueError, match=r"total_range must be \(low, high\) in wt%, e.g. \(88, 105\), got"):
            check_oxides(df, total_range=bad)


def test_no_oxide_columns_is_an_error_with_hints():
    with pytest.raises(ValueError, match=r"No oxide columns found[\s\S]*'Si02': did you mean 'SiO2'\?"):
        check_oxides(pd.DataFrame({"Si02": [50.0], "Sample": ["a"]}))
    with pytest.raises(TypeError, match=r"Expected a pandas DataFrame of analyses .*, got list\.$"):
        check_oxides([1, 2])


def test_a_row_or_an_array_is_refused_with_the_way_to_a_table(lepr):
    from minml import classify, validate

    with pytest.raises(TypeError, match=r"got Series: for one analysis, pass series\.to_frame\(\)\.T"):
        classify(lepr.iloc[0])
    assert classify(lepr.iloc[0].to_frame().T)["mineral"].tolist() == classify(lepr.iloc[:1])["mineral"].tolist()
    with pytest.raises(TypeError, match=r"got ndarray: name the oxide of each column: pd\.DataFrame\(values, "):
        classify(lepr[["SiO2", "MgO"]].to_numpy())
    with pytest.raises(TypeError, match=r"got dict: pass pd\.DataFrame\(data\)"):
        check_oxides({"SiO2": [40.0]})
    with pytest.raises(TypeError, match=r"got Series: for one analysis"):
        validate(lepr.iloc[0])  # before it looks for the label column


def test_columns_of_several_header_levels_are_refused_with_the_way_to_one(lepr):
    from minml import classify, formula, validate

    sample = lepr.iloc[:40]
    stacked = sample.copy()
    stacked.columns = pd.MultiIndex.from_product([["Cpx"], sample.columns])
    for call in (
        check_oxides,
        classify,
        lambda t: validate(t, label_column="Mineral"),
        lambda t: formula(t, mineral_column="Mineral"),
    ):
        with pytest.raises(ValueError, match=r"2 header levels \(a MultiIndex.*'_'\.join\(map\(str, c\)\)"):
            call(stacked)
    flattened = stacked.copy()
    flattened.columns = ["_".join(map(str, c)) for c in stacked.columns]  # the fix the message gives
    assert classify(flattened)["mineral"].tolist() == classify(sample)["mineral"].tolist()


def test_thermobar_style_table_with_suffix(lepr):
    cpx = lepr[(lepr["Mineral"] == "Clinopyroxene") & (lepr["SiO2"] < 100)].drop(
        columns=["Mineral", "method", "entity_id"]
    )
    side_by_side = pd.concat([cpx.add_suffix("_Cpx"), cpx.mul(0.5).add_suffix("_Liq")], axis=1)
    checked = check_oxides(side_by_side, suffix="_Cpx")
    np.testing.assert_allclose(checked.oxides["SiO2"], check_oxides(cpx).oxides["SiO2"])
    assert "SiO2_Liq" in checked.other.columns


def test_core_and_rim_side_by_side_are_chosen_by_their_prefix(lepr):
    """The clash message advises suffix='Core_' for prefixed columns, which found no column;
    core and rim equally full: both are named, neither is chosen."""
    cpx = lepr[(lepr["Mineral"] == "Clinopyroxene") & (lepr["SiO2"] < 100)]
    cpx = cpx.drop(columns=["Mineral", "method", "entity_id"])
    side_by_side = pd.concat([cpx.add_prefix("Core_"), cpx.mul(0.5).add_prefix("Rim_")], axis=1)
    with pytest.raises(
        ValueError,
        match=r"(?s)hold different values in the same rows.*Pass suffix='Core_' or suffix='Rim_': each reads 13 species",
    ):
        check_oxides(side_by_side)
    for prefix, scale in (("Core_", 1.0), ("rim_", 0.5)):  # the advice, in any case
        checked = check_oxides(side_by_side, suffix=prefix)
        np.testing.assert_allclose(checked.oxides["SiO2"], cpx["SiO2"] * scale)


def test_summary_reads_like_a_report(lepr):
    text = check_oxides(lepr).summary()
    assert "76 rows, 13 species columns, 3 other columns" in text
    assert "FeOt -> FeOt    (exact)" in text
    assert "empty row" in text and "fractions?" in text


def test_flag_counts_count_the_rows_each_kind_of_flag_names(lepr):
    checked = check_oxides(lepr)
    counts = checked.flag_counts().set_index("reason")["rows"]
    text = checked.flags["flag"]
    assert counts.sum() >= (text != "").sum() > 0
    for reason, rows in counts.items():  # each kind's text begins the flag (or follows a '; ')
        assert rows == text.str.contains(f"(?:^|; ){re.escape(reason)}").sum(), reason
    assert f"Flagged rows: {(text != '').sum()} of {len(text)}" in checked.summary()


@pytest.mark.shared_data
def test_reads_shared_test_files(shared_data):
    lepr = read_table(shared_data / "test" / "lepr_allphases_lim.csv")
    checked = check_oxides(lepr)
    assert set(checked.mapping.unrecognised) == {"Unnamed: 0", "entity_id", "Mineral", "method"}
    total, impossible = _independent_sum(lepr), _impossible(lepr)
    np.testing.assert_allclose(checked.flags["total"][~impossible], total[~impossible], atol=1e-9)
    outside = (total < 88) | (total > 105)
    assert (checked.flags.loc[outside | impossible, "flag"] != "").all()
    assert (checked.flags.loc[~outside & ~impossible, "flag"] == "").all()

    full = check_oxides(read_table(shared_data / "test" / "lepr_allphases.csv"))
    assert set(full.flags["iron_rule"]) == {"FeO+Fe2O3", "none"}
    assert "Si" in full.mapping.unrecognised  # element columns are not oxides

    glass = check_oxides(read_table(shared_data / "test" / "glasses_df.csv"))
    assert "Na2O + K2O" in glass.mapping.unrecognised
    assert (glass.flags["flag"] != "").sum() < 10


@pytest.mark.shared_data
@pytest.mark.slow
def test_reads_every_training_workbook(shared_data):
    provenance = {
        "Sample Name",
        "Total",
        "Tectonic Setting",
        "Mineral",
        "Sample Type",
        "Volcano",
        "Source",
        "Submineral",
    }
    for path in sorted((shared_data / "training").glob("*.xlsx")):
        checked = check_oxides(read_table(path))
        extra = set(checked.mapping.unrecognised) - provenance
        if path.stem == "Tourmaline":  # its formula columns (Si_at, ...) are not oxides
            assert all(c.endswith("_at") or c in {"T2", "Formula", "SiO2/Si(L6)"} for c in extra), extra
        else:
            assert not extra, (path.name, extra)
        assert not checked.mapping.hints
        assert checked.flags["flag"].ne("").mean() < 0.05, path.name


def test_named_columns_check_as_the_dataframe(lepr):
    from minml.tables.checks import check_columns

    messy = lepr.astype({"MgO": object})
    messy.loc[[0, 3], "MgO"] = ["bdl", "12..5"]
    expected = check_oxides(messy)
    columns = {name: messy[name].to_numpy() for name in messy.columns}  # numbers and objects, no index
    checked = check_columns(columns, len(messy), other=lambda: messy[["Mineral"]])
    assert checked.species == list(expected.oxides.columns)
    np.testing.assert_array_equal(checked.values, expected.oxides.to_numpy())
    pd.testing.assert_frame_equal(checked.oxides, expected.oxides)
    pd.testing.assert_frame_equal(checked.flags, expected.flags)
    assert "MgO not a number: '12..5'" in checked.flag_text[3]
    assert checked.other.columns.tolist() == ["Mineral"]  # made when asked for
    np.testing.assert_array_equal(checked.species_values("FeOt"), expected.oxides["FeOt"].to_numpy())
    assert len(checked) == len(messy)
    with pytest.raises(ValueError, match=r"told of 5 rows.*'SiO2': 76"):
        check_columns(columns, 5)


def test_named_columns_checked_already_take_no_check_options(lepr):
    from minml.classifier.features import model_inputs
    from minml.tables.checks import check_columns

    checked = check_columns({name: lepr[name].to_numpy() for name in lepr.columns}, len(lepr), notes=False)
    X, same = model_inputs(checked)
    assert same is checked and X.shape == (len(lepr), 11)
    with pytest.raises(TypeError, match="checked already"):
        model_inputs(checked, total_range=(90.0, 102.0))


def test_usable_rows_are_those_without_a_refused_cell(lepr):
    from minml.classifier.features import model_inputs, usable_rows

    messy = lepr.astype({"MgO": object})
    messy.loc[[0, 3], "MgO"] = ["junk", "150"]  # refused: NaN
    X, _ = model_inputs(messy)
    np.testing.assert_array_equal(usable_rows(X), np.isfinite(X).all(axis=1))
    before = usable_rows(model_inputs(lepr)[0])
    assert before[[0, 3]].all() and not usable_rows(X)[[0, 3]].any()
    assert usable_rows(X).sum() == before.sum() - 2
    odd = np.array([[np.inf, -np.inf], [-np.inf, 1.0], [0.0, 0.0]])
    assert usable_rows(odd).tolist() == [False, False, True]
    assert usable_rows(np.zeros((0, 11), dtype=np.float32)).shape == (0,)


def test_a_table_with_oxides_as_rows_is_told_to_transpose():
    """Papers print analyses as columns, oxides as rows; the fix the message gives works."""
    table = read_table(EXAMPLE).head(4)
    printed = table.set_index("entity_id").drop(columns=["Mineral", "method"]).T.reset_index()
    with pytest.raises(
        ValueError,
        match=r"The oxides are rows here \(first column: SiO2, TiO2, Al2O3, Cr2O3, FeOt, "
        r"\.\.\.\), the analyses columns: transpose the table",
    ):
        check_oxides(printed)
    from minml import classify

    fixed = printed.set_index(printed.columns[0]).T
    assert classify(fixed)["mineral"].tolist() == classify(table)["mineral"].tolist()
    with pytest.raises(ValueError, match=r"Name columns as oxides in wt%"):  # no oxides anywhere
        check_oxides(pd.DataFrame({"Sample": ["a", "b"], "Note": ["x", "y"]}))


def test_means_with_their_spread_are_read_with_a_note():
    """A supplementary table of run products: mean (1 sd in the last digits) per oxide."""
    table = read_table(EXAMPLE).head(3)
    printed = table.copy()
    for oxide in ("SiO2", "MgO"):
        printed[oxide] = [f"{v:.2f}({k + 3})" for k, v in enumerate(table[oxide])]
    checked = check_oxides(printed)
    np.testing.assert_allclose(checked.oxides["SiO2"], table["SiO2"].round(2))
    assert (checked.flags["notes"].str.contains("value read without its uncertainty: SiO2, MgO")).all()
    assert (checked.flags["flag"] == check_oxides(table).flags["flag"]).all()


def test_a_number_excel_turned_into_a_date_is_named_as_such(tmp_path):
    """Typed into Excel, 1.10 becomes 1 October: the flag says so and how to stop it."""
    import datetime

    from minml import write_table

    table = read_table(EXAMPLE).head(4).astype({"MgO": object})
    table.loc[1, "MgO"] = datetime.datetime(2026, 10, 1)
    path = write_table(table, tmp_path / "typed.xlsx")
    flags = check_oxides(read_table(path)).flags["flag"]
    assert flags[1].startswith(
        "MgO not a number: a date, 2026-10-01 (Excel reads numbers such as 1.10 as dates: format the column as Number)"
    )
    assert "date" not in flags[0] + flags[2] + flags[3]


def test_element_wt_percent_reads_as_its_oxides(lepr):
    """EDS output without oxides (Si, Al, Fe, ..., O in wt%) gives the oxides, iron rule,
    sums and flags of the same analyses given as oxides."""
    elements = as_elements(lepr)
    before = elements.copy()
    expected = check_oxides(lepr)
    checked = check_oxides(elements, elements=True)
    pd.testing.assert_frame_equal(elements, before)
    pd.testing.assert_frame_equal(checked.oxides, expected.oxides, check_exact=False, rtol=1e-12)
    pd.testing.assert_series_equal(checked.flags["iron_rule"], expected.flags["iron_rule"])
    np.testing.assert_allclose(checked.flags["total"], expected.flags["total"], rtol=1e-12)
    different = checked.flags["flag"] != expected.flags["flag"]
    assert different.sum() == 1  # the one cell over 100 wt%, named as the column holds it:
    assert checked.flags["flag"][different].item().startswith("SiO2 (from Si) over 100 wt%: 68.52")
    assert expected.flags["flag"][different].item() == "SiO2 over 100 wt%: 146.6"
    assert checked.other.columns.tolist() == ["entity_id", "Mineral", "method", "O"]


def test_element_columns_with_bad_cells_name_the_column():
    table = pd.DataFrame({"Si": [18.9, "bdl", "n.a.x", -5.0], "Mg": [30.0, 30.0, 30.0, 30.0], "Fe": [7.5] * 4})
    checked = check_oxides(table, elements=True)
    assert checked.oxides["SiO2"].iloc[1] == 0.0 and "below detection" in checked.flags["notes"].iloc[1]
    assert checked.flags["flag"].iloc[2].startswith("SiO2 (from Si) not a number: 'n.a.x'")
    assert checked.flags["flag"].iloc[3].startswith("SiO2 (from Si) negative: -5")
    assert checked.oxides["MgO"].iloc[0] == pytest.approx(30.0 * 40.304 / 24.305, rel=1e-4)


def test_element_columns_without_elements_are_pointed_at_it():
    with pytest.raises(ValueError, match=r"Columns Si, Mg, Fe name elements.*pass elements=True to read"):
        check_oxides(pd.DataFrame({"Si": [18.9], "Mg": [30.0], "Fe": [7.5], "O": [43.6]}))
    with pytest.raises(ValueError, match=r"(?s)'Cr2O3 \(ppm\)': in ppm, not read.*Name columns as oxides"):
        check_oxides(pd.DataFrame({"Cr2O3 (ppm)": [350.0], "Sample": ["a"]}))


def _compilation(lepr, columns, suffix="_Cpx"):
    """The first half of the rows under plain names, the rest under ``suffix`` names (a
    compilation of two sources whose columns never both hold a value in a row)."""
    half = len(lepr) // 2
    out = lepr.copy()
    for col in columns:
        out[f"{col}{suffix}"] = np.nan
        out.loc[out.index[half:], f"{col}{suffix}"] = out[col].iloc[half:].to_numpy()
        out.loc[out.index[half:], col] = np.nan
    return out


def test_a_merged_compilation_reads_as_the_table_it_came_from(lepr):
    merged = _compilation(lepr, ["SiO2", "NiO", "Na2O"])
    checked = check_oxides(merged)
    original = check_oxides(lepr)
    pd.testing.assert_frame_equal(checked.oxides, original.oxides)
    assert checked.flags["flag"].tolist() == original.flags["flag"].tolist()
    assert checked.mapping.merged == {"SiO2": ["SiO2_Cpx"], "NiO": ["NiO_Cpx"], "Na2O": ["Na2O_Cpx"]}
    read = checked.columns_read().set_index("column")
    assert read.loc["NiO_Cpx", "read_as"] == "NiO" and read.loc["NiO_Cpx", "how"] == "merged into NiO"
    assert read.loc["NiO", "how"] == "exact; merged with NiO_Cpx"
    assert "NiO_Cpx -> NiO     (merged into NiO)" in checked.summary()
    # both hold values in a row and disagree beyond rounding: that row is flagged naming both
    merged.loc[0, "SiO2_Cpx"] = 30.0
    merged.loc[1, "SiO2_Cpx"] = merged.loc[1, "SiO2"] + 0.004  # the same value, rounded otherwise
    checked = check_oxides(merged)
    assert checked.flags["flag"][0].startswith(f"SiO2 columns disagree: SiO2 {merged.loc[0, 'SiO2']}, SiO2_Cpx 30.0")
    assert np.isnan(checked.oxides["SiO2"][0]) and checked.oxides["SiO2"][1] == lepr["SiO2"][1]
    assert checked.flags["flag"][1] == original.flags["flag"][1]
    assert merged.loc[0, "SiO2_Cpx"] == 30.0  # the caller's table as it was


def test_phases_side_by_side_are_refused_with_advice_that_works(lepr):
    from minml import classify

    # the compilation of the issue: the nine main oxides plain, NiO in both forms, side by side
    side = lepr.assign(NiO_Cpx=lepr["NiO"].fillna(0.0) + 1.0)
    with pytest.raises(
        ValueError, match=r"(?s)NiO: \['NiO', 'NiO_Cpx'\].*Pass suffix='_Cpx': it reads 13 species"
    ) as error:
        check_oxides(side)
    assert "did you mean" not in str(error.value)
    advice = str(error.value).split("Pass suffix=")[1].split(":")[0]
    assert len(classify(side, suffix=eval(advice))) == len(lepr)  # the advice, followed literally
    # phases side by side under two suffixes, plain minor columns beside them
    two = lepr.rename(columns={c: f"{c}_Cpx" for c in ("SiO2", "Al2O3", "FeOt", "MgO", "CaO")})
    for col in ("SiO2", "Al2O3", "FeOt"):
        two[f"{col}_Liq"] = 50.0
    with pytest.warns(UserWarning, match=r"suffix='_Cpx' read, the group with the most species \(13; '_Liq' 11\)"):
        chosen = check_oxides(two)  # the fuller group is read, and said so
    checked = check_oxides(two, suffix="_Cpx")  # the plain columns are read for what _Cpx lacks
    pd.testing.assert_frame_equal(chosen.oxides, checked.oxides)
    pd.testing.assert_frame_equal(checked.oxides, check_oxides(lepr).oxides)
    pd.testing.assert_series_equal(classify(two, suffix="_Cpx")["mineral"], classify(lepr)["mineral"])
    kept = check_oxides(lepr.assign(SiO2_Cpx=lepr["SiO2"]), suffix="_Cpx").mapping
    assert kept.notes["SiO2"] == "SiO2, not read: suffix='_Cpx' reads the columns with it" and "SiO2" not in kept.hints


def test_a_value_repeated_down_a_column_is_a_code_for_not_analysed(lepr):
    coded = lepr.copy()
    coded["Na2O"] = coded["Na2O"].astype(object)
    coded.loc[:19, "Na2O"] = -0.99
    coded.loc[30:34, "P2O5"] = 9999
    coded.loc[40, "K2O"] = -3.0  # one odd negative: a flag, as before
    checked = check_oxides(coded)
    assert checked.codes == {"Na2O": {"-0.99": 20}, "P2O5": {"9999": 5}}
    assert (checked.oxides.loc[:19, "Na2O"] == 0).all() and (checked.oxides.loc[30:34, "P2O5"] == 0).all()
    assert checked.flags["notes"][0].endswith("code for not analysed, read as 0: Na2O -0.99")
    assert checked.flags["flag"][40] == "K2O negative: -3"
    assert not checked.flags.loc[:19, "flag"].str.contains("Na2O").any()
    read = checked.columns_read().set_index("column")
    assert read.loc["Na2O", "codes"] == "-0.99 in 20 rows: not analysed"
    assert "codes: -0.99 in 20 rows: not analysed" in checked.summary()
    two = lepr.copy()
    two.loc[:1, "K2O"] = -3.0  # twice is no code yet
    assert check_oxides(two).codes == {} and check_oxides(two).flags["flag"][1] == "K2O negative: -3"


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_text_for_not_analysed_or_below_detection_is_noted_with_its_text(lepr, tmp_path, suffix):
    """``#N/A``, ``null``, ``<0.01`` in an oxide column: read as 0 as before, but each row's note
    names the column and the text, and the table of what was read counts them."""
    from minml import read_table, write_table

    table = lepr.head(12).reset_index(drop=True)
    for col in ("MnO", "NiO", "K2O"):
        table[col] = table[col].astype(object)
    table.loc[0:2, "MnO"] = "#N/A"
    table.loc[3, "MnO"] = "null"
    table.loc[4, "NiO"] = "n.a."
    table.loc[5:6, "K2O"] = "<0.01"
    table.loc[7, "K2O"] = "b.d.l."
    path = tmp_path / f"in{suffix}"
    write_table(table, path)
    read = read_table(path)
    assert read.loc[0, "MnO"] == "#N/A" and read.loc[3, "MnO"] == "null"  # as written, nothing lost
    checked = check_oxides(read)
    notes = checked.flags["notes"]
    assert "not analysed, read as 0:" in notes[0] and "MnO '#N/A'" in notes[0]
    assert "MnO 'null'" in notes[3] and "NiO 'n.a.'" in notes[4]
    assert "below detection, read as 0: K2O '<0.01'" in notes[5] and "K2O 'b.d.l.'" in notes[7]
    assert checked.oxides.loc[0, "MnO"] == 0.0 and checked.oxides.loc[5, "K2O"] == 0.0
    assert not checked.flags["flag"][:8].str.contains("MnO|NiO|K2O").any()  # a note, never a flag
    codes = checked.columns_read().set_index("column")["codes"]
    assert codes["MnO"] == "'#N/A' in 3 rows: not analysed; 'null' in 1 rows: not analysed"
    assert codes["K2O"] == "'<0.01' in 2 rows: below detection; 'b.d.l.' in 1 rows: below detection"
    assert "codes: '#N/A' in 3 rows: not analysed" in checked.summary()


def _mineral_and_liquid(lepr, liquid_drop=()):
    """Real clinopyroxenes as ``SiO2_Min ...`` and, beside each, another real analysis (an
    amphibole of the same file) as ``SiO2_Liq ...``: two whole analyses a row, as LEPR and
    Thermobar print a mineral beside its liquid."""
    oxides = ["SiO2", "TiO2", "Al2O3", "FeOt", "MnO", "MgO", "CaO", "Na2O", "K2O"]
    cpx = lepr[lepr["Mineral"] == "Clinopyroxene"].reset_index(drop=True)
    other = lepr[lepr["Mineral"] == "Amphibole"].reset_index(drop=True).head(len(cpx))
    table = cpx[["entity_id"]].copy()
    for c in oxides:
        table[f"{c}_Min"] = cpx[c]
    for c in oxides:
        if c not in liquid_drop:
            table[f"{c}_Liq"] = other[c]
    return table, cpx


def test_mineral_and_liquid_side_by_side(lepr):
    """``_Min`` was taken for a statistic and ``_Liq`` read alone, silently: a phase suffix now.
    Equally full groups are refused naming both choices (each works); a fuller group is read."""
    from minml import classify

    table, cpx = _mineral_and_liquid(lepr)
    with pytest.raises(ValueError, match=r"Pass suffix='_Min' or suffix='_Liq': each reads 9 species") as refused:
        check_oxides(table)
    for choice in re.findall(r"suffix='([^']+)'", str(refused.value).splitlines()[-1])[:2]:  # the advice, followed
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # absent columns are named in a warning
            found = classify(table, suffix=choice)
        assert len(found) == len(table) and (found["mineral"] != "unknown").any()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        alone = classify(cpx[[c[: -len("_Min")] for c in table.columns if c.endswith("_Min")]])
        assert classify(table, suffix="_Min")["mineral"].tolist() == alone["mineral"].tolist()
    fuller, _ = _mineral_and_liquid(lepr, liquid_drop=("Na2O", "K2O"))
    with pytest.warns(UserWarning, match=r"suffix='_Min' read, the group with the most species \(9; '_Liq' 7\)"):
        checked = check_oxides(fuller)
    np.testing.assert_allclose(checked.oxides["SiO2"], check_oxides(cpx).oxides["SiO2"])
    read = checked.columns_read().set_index("column")
    assert read.loc["SiO2_Min", "how"] == "suffix '_Min' (chosen: the most species)"
    assert read.loc["SiO2_Liq", "how"] == "SiO2, not read: suffix='_Min' reads the columns with it"
    assert "suffix='_Min' read, the group with the most species" in checked.summary()
    # a minimum beside its mean stays a statistic
    stats = check_oxides(cpx[["SiO2", "MgO", "CaO"]].assign(SiO2_min=cpx["SiO2"] - 1, SiO2_max=cpx["SiO2"] + 1))
    assert "SiO2_min" in stats.mapping.unrecognised and stats.mapping.notes["SiO2_min"].startswith("a statistic")
