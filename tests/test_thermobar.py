"""The per-mineral workbook for thermobarometry (minml.thermobar, minml classify --by-mineral)."""

import warnings

import pandas as pd
import pytest

import minml
from minml.cli import main
from minml.thermobar import REVIEW_SHEET, by_mineral, write_by_mineral

EXAMPLE = "examples/lepr_sample.csv"


@pytest.fixture(scope="module")
def sorted_sheets():
    table = minml.read_table(EXAMPLE)
    classified = minml.classify(table, coverage=0.95)
    validated = minml.validate(table, "Mineral")
    return table, classified, validated, by_mineral(table, classified, validated=validated)


def test_each_mineral_gets_thermobar_names_and_the_doubtful_rows_a_sheet_of_their_own(sorted_sheets):
    table, classified, validated, sheets = sorted_sheets
    assert list(sheets)[-1] == REVIEW_SHEET
    cpx = sheets["clinopyroxene"]
    assert [c for c in cpx.columns if c.endswith("_Cpx")][:4] == ["SiO2_Cpx", "TiO2_Cpx", "Al2O3_Cpx", "FeOt_Cpx"]
    assert (cpx["minml_mineral"] == "clinopyroxene").all()
    assert cpx["SiO2_Cpx"].tolist() == table.loc[cpx.index, "SiO2"].tolist()  # the values as read
    assert "FeOt_Amp" in sheets["amphibole"] and "Na2O_Plag" in sheets["plagioclase"]
    assert "SiO2_Ol" in sheets["olivine"] and "NiO_Ol" in sheets["olivine"]
    assert "SiO2" in sheets["quartz"]  # no Thermobar phase: plain names
    review = sheets[REVIEW_SHEET]
    # every row lands once: on its mineral's sheet or on the review sheet
    placed = pd.concat([rows["entity_id"] for rows in sheets.values()])
    assert sorted(placed) == sorted(table["entity_id"]) and not placed.index.duplicated().any()
    unknown = classified.index[classified["mineral"] == "unknown"]
    disputed = validated.index[validated["verdict"].isin(["disagree", "uncertain"])]
    assert set(unknown) | set(disputed) <= set(review.index)
    assert review.loc[unknown, "review_reason"].str.startswith("unknown: ").all()
    assert not review["review_reason"].str.contains("unknown: unknown:").any()  # once, not doubled
    # only the iron the table reports: FeOt here (FeO and Fe2O3 were written as 0 on plain sheets)
    for rows in (sheets["quartz"], review):
        assert "FeOt" in rows and "FeO" not in rows and "Fe2O3" not in rows
    assert review.loc[disputed, "review_reason"].str.contains("label (?:disagree|uncertain)").all()
    for name, rows in sheets.items():  # no row the model is unsure of outside the review sheet
        if name != REVIEW_SHEET:
            assert not rows["minml_prediction_set"].str.contains("|", regex=False).any(), name
            assert (rows["minml_flag"] == "").all(), name


def test_thermobar_reads_the_workbook_back(sorted_sheets, tmp_path):
    pt = pytest.importorskip("Thermobar")
    sheets = sorted_sheets[3]
    path = write_by_mineral(sheets, tmp_path / "by_mineral.xlsx")
    for name, key, column in [
        ("clinopyroxene", "Cpxs", "SiO2_Cpx"),
        ("amphibole", "Amps", "FeOt_Amp"),
        ("plagioclase", "Plags", "Na2O_Plag"),
        ("orthopyroxene", "Opxs", "MgO_Opx"),
        ("olivine", "Ols", "FeOt_Ol"),
    ]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Thermobar's own warnings about columns it does not use
            read = pt.import_excel(str(path), sheet_name=name)[key]
        assert read[column].tolist() == pytest.approx(sheets[name][column].tolist()), name


def test_without_prediction_sets_or_rows_nothing_is_written(sorted_sheets, tmp_path):
    table, classified, _, sheets = sorted_sheets
    with pytest.raises(ValueError, match=r"needs the prediction sets: classify with coverage="):
        by_mineral(table, classified.drop(columns="prediction_set"))
    with pytest.raises(ValueError, match="name it .xlsx, got"):
        write_by_mineral(sheets, tmp_path / "by_mineral.csv")
    with pytest.raises(ValueError, match="is not a folder"):
        write_by_mineral(sheets, tmp_path / "missing" / "by_mineral.xlsx")
    assert list(tmp_path.iterdir()) == []


def test_classify_by_mineral_writes_the_workbook(tmp_path, capsys):
    out, book = tmp_path / "classified.csv", tmp_path / "by_mineral.xlsx"
    assert main(["classify", EXAMPLE, "-o", str(out), "--by-mineral", str(book)]) == 0
    assert f"wrote {book}" in capsys.readouterr().out
    sheets = pd.read_excel(book, sheet_name=None, engine="calamine")
    assert "clinopyroxene" in sheets and REVIEW_SHEET in sheets
    classified = pd.read_csv(out)
    cpx = classified[classified["mineral"] == "clinopyroxene"]
    assert set(sheets["clinopyroxene"]["entity_id"]) <= set(cpx["entity_id"])
    for bad in [tmp_path / "x.csv", tmp_path / "missing" / "x.xlsx"]:
        with pytest.raises(SystemExit):  # refused by the parser, before any work
            main(["classify", EXAMPLE, "-o", str(tmp_path / "again.csv"), "--by-mineral", str(bad)])
        assert f"name an .xlsx file in an existing folder, got {str(bad)!r}" in capsys.readouterr().err
    assert not (tmp_path / "again.csv").exists()


def test_a_checked_table_gives_the_same_sheets(sorted_sheets):
    """``minml classify --by-mineral`` passes the check it classified from: no second check."""
    import minml

    table, classified, validated, sheets = sorted_sheets
    again = by_mineral(minml.check_oxides(table, notes=False), classified, validated=validated)
    assert list(again) == list(sheets)
    for name, sheet in sheets.items():
        pd.testing.assert_frame_equal(again[name], sheet)
