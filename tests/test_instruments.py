"""Instrument exports (minml.io.instruments), on files written in each export's layout
(tests/layouts.py, which cites where each layout comes from) from real LEPR analyses."""

import numpy as np
import pandas as pd
import pytest

from minml import check_oxides, classify, read_table
from minml.io.instruments import looks_like_instrument, read_instrument

from .conftest import EXAMPLE, same_oxides
from .layouts import (
    elements_of,
    write_aztec,
    write_cameca,
    write_jeol,
    write_probe_for_epma,
    write_probe_for_epma_custom,
)


@pytest.mark.parametrize(
    ("write", "name", "kind", "label"),
    [
        (write_aztec, "aztec.csv", "Oxford AZtec", "point"),
        (write_aztec, "aztec.xlsx", "Oxford AZtec", "point"),
        (write_cameca, "cameca.txt", "Cameca SX / PeakSight", "DataSet/Point"),
        (write_jeol, "jeol.txt", "JEOL", "No."),
        (write_cameca, "cameca.dat", "Cameca SX / PeakSight", "DataSet/Point"),  # by content, any name
    ],
)
def test_exports_read_as_their_analyses(tmp_path, analyses, answers, write, name, kind, label):
    path = write(analyses, tmp_path / name)
    assert looks_like_instrument(path) == kind
    read = read_instrument(path)
    assert len(read) == len(analyses)  # the statistics rows (mean, sd, max, min) are left out
    assert read.attrs["minml_instrument"] == kind and label in read.columns
    same_oxides(read, analyses)
    if path.suffix != ".dat":
        assert classify(read_table(path))["mineral"].astype(str).tolist() == answers


def test_probe_for_epma_tables_per_sample(tmp_path, analyses, answers):
    path = write_probe_for_epma({"ol-1": analyses.head(10), "cpx 2": analyses.iloc[10:]}, tmp_path / "run.txt")
    read = read_table(path)
    assert read.attrs["minml_instrument"] == "Probe for EPMA"
    # the oxide tables only (the same points are printed as element wt% above them), one row per point
    assert read["sample"].tolist() == ["ol-1"] * 10 + ["cpx 2"] * 14
    assert read["point"].tolist() == list(range(100, 110)) + list(range(200, 214))
    assert "SUM" in read.columns and "XRAY:" not in read["point"].astype(str).tolist()
    same_oxides(read, analyses)
    assert classify(read)["mineral"].astype(str).tolist() == answers


def test_probe_for_epma_custom_output_keeps_its_label_columns(tmp_path, analyses, answers):
    """SAMPLE and LINE before the oxides (Probe for EPMA's documented custom formats) were read as
    one label, and every oxide a column to the left: the line number as SiO2."""
    path = write_probe_for_epma_custom(analyses, tmp_path / "custom.txt")
    read = read_table(path)
    assert read.attrs["minml_instrument"] == "Probe for EPMA"
    assert list(read.columns[:3]) == ["SAMPLE", "LINE", "SiO2 WT%"]
    assert read["SAMPLE"].unique().tolist() == ["Un 3 ol-1"] and read["LINE"].tolist() == list(range(1, 25))
    same_oxides(read, analyses)
    checked = check_oxides(read)
    assert "Si AT%" in checked.mapping.unrecognised and "Si WT%" in checked.mapping.unrecognised  # atoms, elements
    assert classify(read)["mineral"].astype(str).tolist() == answers


def test_element_wt_percent_is_read_as_its_oxides(tmp_path, analyses, answers):
    path = write_aztec(analyses, tmp_path / "eds.csv", elements=True)
    read = read_table(path)
    assert read.attrs.get("minml_elements") is True  # O is the oxygen the cations carry
    checked = check_oxides(read)
    np.testing.assert_allclose(checked.oxides["SiO2"], check_oxides(analyses).oxides["SiO2"], atol=0.03)
    assert classify(read)["mineral"].astype(str).tolist() == answers
    # atomic percent looks alike but its O is no oxide oxygen: not read as element wt%
    atoms = elements_of(analyses)
    atoms["O"] = atoms["O"] * 1.6
    at = tmp_path / "eds_at.csv"
    write_aztec(analyses, at, elements=True)
    text = at.read_text().splitlines()
    rows = [text[0]] + [
        ",".join([line.split(",")[0], f"{o:.2f}", *line.split(",")[2:]])
        for line, o in zip(text[1:], list(atoms["O"]) + [0, 0, 0, 0], strict=True)
    ]
    at.write_text("\n".join(rows) + "\n")
    assert not read_instrument(at).attrs.get("minml_elements")


def test_plain_tables_are_left_to_the_ordinary_reader(tmp_path, analyses):
    assert looks_like_instrument(EXAMPLE) is None and read_instrument(EXAMPLE) is None
    plain = tmp_path / "plain.csv"
    analyses.to_csv(plain, index=False)
    assert looks_like_instrument(plain) is None
    pd.testing.assert_frame_equal(read_table(plain), pd.read_csv(plain), check_dtype=False)
    binary = tmp_path / "noise.txt"
    binary.write_bytes(bytes(range(256)) * 4)
    assert looks_like_instrument(binary) is None


@pytest.mark.parametrize("name", ["grains.csv", "grains.xlsx"])
def test_a_published_table_with_averages_between_its_grains_keeps_every_row(tmp_path, analyses, name):
    """A published table prints "Average" and "SD" rows after each grain's analyses (and a
    sample may be named "Mean"): rows labelled like statistics with analyses below them make a
    plain table, not an export, and no row is lost (an export prints its statistics below all
    its points)."""
    groups = []
    for start in range(0, 9, 3):
        grain = analyses.iloc[start : start + 3].copy()
        grain.insert(0, "Sample Name", [f"grain{start}_{k}" for k in range(3)])
        oxides = grain.select_dtypes("number")
        summary = pd.DataFrame([oxides.mean(), oxides.std()])
        summary.insert(0, "Sample Name", ["Average", "SD"])
        groups += [grain, summary]
    table = pd.concat(groups, ignore_index=True)
    table.loc[1, "Sample Name"] = "Mean"  # an analysis named like a statistic
    path = tmp_path / name
    table.to_csv(path, index=False) if path.suffix == ".csv" else table.to_excel(path, index=False)
    assert looks_like_instrument(path) is None
    read = read_table(path)
    assert len(read) == len(table) == 15
    assert read["Sample Name"].tolist() == table["Sample Name"].tolist()
    assert list(read.columns) == list(table.columns)  # no column dropped


def test_the_command_classifies_an_export_with_no_options(tmp_path, analyses, answers):
    from minml.cli import main

    source = write_jeol(analyses, tmp_path / "jeol.txt")
    out = tmp_path / "out.csv"
    assert main(["classify", str(source), "-o", str(out)]) == 0
    result = pd.read_csv(out)
    assert result["mineral"].tolist() == answers and result["Comment"].str.startswith("grain").all()


def test_an_aztec_workbook_without_a_title_is_read_again_as_an_export(tmp_path, analyses, answers):
    from minml.io.instruments import exported_sheet

    path = write_aztec(analyses, tmp_path / "aztec.csv")
    book = tmp_path / "aztec_plain.xlsx"
    pd.read_csv(path).to_excel(book, index=False)  # the header on the first row: 'Unnamed: 0' names the points
    assert exported_sheet(pd.read_excel(book, engine="calamine"))
    read = read_table(book)
    assert len(read) == len(analyses) and read.attrs["minml_instrument"] == "Oxford AZtec"
    assert classify(read)["mineral"].astype(str).tolist() == answers
    assert not exported_sheet(analyses)


def test_check_says_which_export_a_file_was_read_as(tmp_path, capsys):
    """`minml check` named the columns but not the layout it recognised (a second trial)."""
    from minml.cli import main

    from .layouts import write_aztec

    table = pd.read_csv(EXAMPLE).head(10)
    write_aztec(table, tmp_path / "elements.csv", elements=True)
    table.to_csv(tmp_path / "plain.csv", index=False)
    assert main(["check", str(tmp_path / "elements.csv")]) == 0
    assert "read as an export of Oxford AZtec of element wt%" in capsys.readouterr().out
    assert main(["check", str(tmp_path / "plain.csv")]) == 0
    assert "read as an export" not in capsys.readouterr().out
