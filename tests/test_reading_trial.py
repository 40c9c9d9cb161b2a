"""How columns and cells are read, as a user trial found them: a misspelt total-iron header
beside other iron columns, headers copied from PDFs (``FeOᵀ``), phase affixes set apart by a
space or brackets, cells as printed tables write them (``−0.01``, ``0.22%``, ``49.25*``), the
iron rule of a table with FeO only, and a transposed DataFrame."""

import re

import numpy as np
import pandas as pd
import pytest

from minml import check_oxides, classify
from minml.chemistry.iron import IRON_RULES
from minml.chemistry.oxides import canonical_name, map_columns
from minml.tables._values import Status, parse_column
from minml.tables.checks import transpose_advice

OXIDES = ["SiO2", "TiO2", "Al2O3", "Cr2O3", "FeOt", "MnO", "MgO", "NiO", "CaO", "Na2O", "K2O", "P2O5"]


@pytest.fixture(scope="module")
def lepr(shared_data):
    """Twelve good LEPR analyses of silicates (amphibole, biotite, clinopyroxene, garnet, ...), as
    published, each with the major oxides analysed."""
    table = pd.read_csv(shared_data / "test" / "lepr_allphases_lim.csv", usecols=["entity_id", "Mineral", *OXIDES])
    majors = table[["SiO2", "Al2O3", "FeOt", "MgO", "CaO", "Na2O"]].gt(0.1).all(axis=1)
    good = table[check_oxides(table).ok.to_numpy() & majors.to_numpy()]
    return good.groupby("Mineral").head(2).head(12).reset_index(drop=True)


# 1. a misspelt iron header beside other iron columns


def _sparse_iron(table, total_name: str):
    """``table`` with its FeOt under ``total_name`` and FeO and Fe2O3 columns that hold a value
    in one row only (a compilation's other sources), as the trial's file had them."""
    out = table.rename(columns={"FeOt": total_name})
    out["FeO"] = np.nan
    out["Fe2O3"] = np.nan
    out.loc[0, ["FeO", "Fe2O3"]] = [6.0, 2.0]
    out.loc[0, total_name] = np.nan
    return out


def test_a_misspelt_total_iron_beside_other_iron_columns_is_refused_with_the_rename(lepr):
    table = _sparse_iron(lepr, "Fe0T")
    before = table.copy()
    rename = r"Rename 'Fe0T' to 'FeOt' in the table's header"
    with pytest.raises(ValueError, match=r"Column 'Fe0T' not read: it spells FeOt with the digit 0[\s\S]*" + rename):
        check_oxides(table)
    with pytest.raises(ValueError, match=rename):  # filling would not help either
        classify(table, fill_missing=0.0)
    pd.testing.assert_frame_equal(table, before)
    # the rename, followed, reads every row's iron
    checked = check_oxides(table.rename(columns={"Fe0T": "FeOt"}))
    assert (checked.flags["iron_rule"] != "none").all()
    np.testing.assert_allclose(checked.oxides["FeOt"][1:], lepr["FeOt"][1:])


def test_a_misspelt_feo_beside_fe2o3_is_refused_and_one_alone_still_left_to_classify(lepr):
    table = lepr.rename(columns={"FeOt": "Fe0"}).assign(Fe2O3=np.nan)
    table.loc[[0, 1], "Fe2O3"] = 1.5
    with pytest.raises(ValueError, match=r"Iron is read from 'Fe2O3' only[\s\S]*Rename 'Fe0' to 'FeO'"):
        check_oxides(table)
    # as the only iron column, the check shows the near miss and classifying refuses (as for Si02)
    alone = lepr.rename(columns={"FeOt": "Fe0T"})
    assert check_oxides(alone).mapping.hints == {"Fe0T": "FeOt"}
    with pytest.raises(ValueError, match=r"Rename 'Fe0T' to 'FeOt'"):
        classify(alone, fill_missing=0.0)


def test_a_calculated_iron_column_is_not_taken_for_a_misspelling(lepr):
    """A fuzzy near miss (``Fe2O3c``, Fe2O3 calculated from FeOt) is no 0-for-O spelling: read as before."""
    table = lepr.assign(Fe2O3c=1.0)
    checked = check_oxides(table)
    assert "Fe2O3c" in checked.mapping.unrecognised
    assert (checked.flags["iron_rule"] == "FeOt").all()


# 2. headers in Unicode compatibility forms


@pytest.mark.parametrize(
    ("header", "species"),
    [
        ("FeOᵀ", "FeOt"),
        ("FeOᵗ", "FeOt"),
        ("FeO*", "FeOt"),
        ("FeOtot", "FeOt"),
        ("Fe₂O₃ᵀ", "Fe2O3t"),
        ("SiO₂", "SiO2"),
        ("ＭｇＯ", "MgO"),
        ("Al₂O₃ (wt％)", "Al2O3"),
    ],
)
def test_headers_are_read_in_their_unicode_compatibility_form(header, species):
    assert canonical_name(header) == species


def test_a_superscript_t_is_total_iron_not_a_near_miss_of_feo(lepr):
    table = lepr.rename(columns={"FeOt": "FeOᵀ"})
    checked = check_oxides(table)
    assert checked.mapping.mapped["FeOᵀ"] == "FeOt" and not checked.mapping.hints
    np.testing.assert_allclose(checked.oxides["FeOt"], lepr["FeOt"])
    assert (checked.flags["iron_rule"] == "FeOt").all()


# 3. phase affixes set apart by a space or brackets


@pytest.mark.parametrize(
    ("form", "affix"),
    [
        ("Cpx {}", "prefix 'Cpx '"),
        ("{} (Cpx)", "suffix ' (Cpx)'"),
        ("Core {}", "prefix 'Core '"),
        ("{} rim", "suffix ' rim'"),
        ("{}(Cpx)", "suffix '(Cpx)'"),
    ],
)
def test_a_phase_affix_set_apart_by_a_space_or_brackets_is_read(lepr, form, affix):
    table = lepr.rename(columns={c: form.format(c) for c in OXIDES})
    checked = check_oxides(table)
    pd.testing.assert_frame_equal(checked.oxides, check_oxides(lepr).oxides)
    assert set(checked.mapping.how.values()) == {affix}
    assert checked.mapping.unrecognised == ["entity_id", "Mineral"]


def test_spaced_affixes_side_by_side_name_the_suffix_to_pass(lepr):
    table = lepr.rename(columns={c: f"Core {c}" for c in OXIDES})
    for c in OXIDES:
        table[f"Rim {c}"] = lepr[c] * 1.05
    with pytest.raises(ValueError, match=r"Pass suffix='Core ' or suffix='Rim ': each reads 12 species"):
        check_oxides(table)
    checked = check_oxides(table, suffix="Rim ")
    np.testing.assert_allclose(checked.oxides["SiO2"], lepr["SiO2"] * 1.05)


def test_words_beside_plain_columns_are_not_read_as_a_phase(lepr):
    """``FeO (calc)`` beside FeOt and the other oxides named plainly says how it was obtained:
    kept, with a note naming the ``suffix=`` that would read it (``FeO_calc``'s reading is unchanged)."""
    table = lepr.assign(**{"FeO (calc)": lepr["FeOt"] * 0.8, "Fe2O3 (calc)": lepr["FeOt"] * 0.2})
    checked = check_oxides(table)
    assert "FeO (calc)" in checked.mapping.unrecognised
    assert checked.mapping.notes["FeO (calc)"] == (
        "FeO with ' (calc)', not read beside the columns named without it (suffix=' (calc)' reads it)"
    )
    assert (checked.flags["iron_rule"] == "FeOt").all() and (checked.flags["flag"] == "").all()


# 4. cells as printed tables write them


def test_minus_signs_percent_signs_and_footnote_marks_are_read(lepr):
    table = lepr.astype({c: object for c in OXIDES})
    table.loc[0, "K2O"] = "\u22120.01"  # minus sign
    table.loc[1, "Na2O"] = f"{lepr.loc[1, 'Na2O']}%"
    table.loc[2, "SiO2"] = f"{lepr.loc[2, 'SiO2']}*"
    table.loc[3, "MgO"] = f"{lepr.loc[3, 'MgO']}\u2020"  # dagger
    table.loc[4, "CaO"] = f"{lepr.loc[4, 'CaO']} \u2021"  # double dagger
    table.loc[5, "TiO2"] = "\u22125.0"  # a large negative stays flagged
    table.loc[6, "MnO"] = "#VALUE!"  # junk stays junk
    before = table.copy()
    checked = check_oxides(table)
    pd.testing.assert_frame_equal(table, before)
    expected = lepr[OXIDES].fillna(0.0).copy()
    expected.loc[0, "K2O"] = 0.0  # small negative
    for row, name in ((1, "Na2O"), (2, "SiO2"), (3, "MgO"), (4, "CaO")):
        assert checked.oxides.loc[row, name] == pytest.approx(expected.loc[row, name])
    flags, notes = checked.flags["flag"], checked.flags["notes"]
    assert "small negative read as 0: K2O '\u22120.01'" in notes[0]
    assert flags[:5].eq("").all()
    assert f"read without its footnote mark: SiO2 '{lepr.loc[2, 'SiO2']}*'" in notes[2]
    assert "read without its footnote mark: MgO" in notes[3] and "CaO" in notes[4]
    assert "footnote" not in notes[1]  # a percent sign in a wt% column says nothing more
    assert flags[5] == "TiO2 negative: '\u22125.0'"
    assert flags[6].startswith("MnO not a number: '#VALUE!'")


def test_parse_column_reads_printed_numbers_on_the_slow_path_only():
    cells = pd.Series(["12.5", "\u22120.05", "\u20130.5", "0.22%", "49.25*", "3,5\u2021", "0.40a", "#DIV/0!", "-"])
    values, status = parse_column(cells)
    np.testing.assert_allclose(values[:6], [12.5, 0.0, np.nan, 0.22, 49.25, 3.5])
    assert [Status(s).name for s in status] == [
        "OK",
        "SMALL_NEGATIVE",
        "LARGE_NEGATIVE",
        "OK",
        "FOOTNOTE",
        "FOOTNOTE",
        "JUNK",
        "JUNK",
        "BELOW_DETECTION",
    ]


# 5. the iron rule of a table with FeO only


def test_the_iron_rule_says_feo_where_the_table_has_no_fe2o3_column(lepr):
    checked = check_oxides(lepr.rename(columns={"FeOt": "FeO"}))
    assert set(checked.flags["iron_rule"]) == {"FeO"}
    np.testing.assert_allclose(checked.oxides["FeOt"], lepr["FeOt"])
    assert re.search(r"Iron \(rule used per row\):\n  FeO +12 rows\n\n", checked.summary())
    both = check_oxides(lepr.rename(columns={"FeOt": "FeO"}).assign(Fe2O3=np.nan))
    assert set(both.flags["iron_rule"]) == {"FeO+Fe2O3"}
    assert IRON_RULES[:4] == ("FeOt", "FeO+Fe2O3", "Fe2O3t", "none")  # the codes others compare stay


# 6. a transposed DataFrame


def test_a_transposed_dataframe_is_told_to_transpose(lepr):
    transposed = lepr.set_index("entity_id")[OXIDES].T
    advice = r"The oxides are rows here \(index: SiO2, TiO2, Al2O3, Cr2O3, FeOt, \.\.\.\), the analyses columns: "
    with pytest.raises(ValueError, match=r"No oxide columns found among [\s\S]*" + advice + r".*in pandas: df\.T\)"):
        check_oxides(transposed)
    with pytest.raises(ValueError, match=advice):
        classify(transposed)
    # one wording for the index and for a file's first column (the command's transposed file)
    as_read = transposed.reset_index(names="Oxide")
    with pytest.raises(ValueError, match=r"\(first column: SiO2, .*df\.set_index\(df\.columns\[0\]\)\.T\)"):
        check_oxides(as_read)
    assert transpose_advice(index=transposed.index) == transpose_advice(first_column=as_read["Oxide"]).replace(
        "first column", "index"
    ).replace("df.set_index(df.columns[0]).T", "df.T")
    assert map_columns(transposed.columns).mapped == {}
