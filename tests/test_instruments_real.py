"""Instrument exports in the layouts of real files found in public repositories (each writer in
``tests/real_layouts.py`` names the file it follows), written with LEPR analyses: read with no
options, every point and nothing else, the oxides as written, classified as the clean table."""

import re

import numpy as np
import pandas as pd
import pytest

from minml import check_oxides, classify, read_table
from minml.chemistry.oxides import element_symbol
from minml.io.instruments import looks_like_instrument

from .conftest import same_oxides
from .real_layouts import (
    write_aztec_blocks,
    write_calczaf_export,
    write_edax_spectrum,
    write_jeol_all,
    write_jeol_summary,
    write_pfe_standard,
)


def _minerals(table) -> list[str]:
    return classify(table)["mineral"].astype(str).tolist()


def test_jeol_summary_report_saved_as_csv(tmp_path, analyses, answers):
    read = read_table(write_jeol_summary(analyses, tmp_path / "D2872_oxide.csv"))
    assert read.attrs["minml_instrument"] == "JEOL"
    assert read["No."].tolist() == list(range(1, 25))  # Minimum ... Sigma and "No. of data" left out
    assert set(read["sample"]) == {"10112021_0004_QNT"}  # the title's Sample, not its Group
    assert read["Comment"].str.startswith("grain_").all()
    same_oxides(read, analyses)
    assert _minerals(read) == answers


def test_jeol_reports_of_two_runs_in_one_file(tmp_path, analyses, answers):
    """Two reports one after the other (two QNT runs, or two pages): JEOL, not Probe for EPMA for
    holding several tables, and the run of each point in ``sample``."""
    first = write_jeol_summary(analyses.head(10), tmp_path / "a.csv").read_text()
    second = write_jeol_summary(analyses.iloc[10:], tmp_path / "b.csv", qnt="0005").read_text()
    (tmp_path / "runs.csv").write_text(first + second)
    read = read_table(tmp_path / "runs.csv")
    assert read.attrs["minml_instrument"] == "JEOL"
    assert read["sample"].tolist() == ["10112021_0004_QNT"] * 10 + ["10112021_0005_QNT"] * 14
    assert read["No."].tolist() == list(range(1, 11)) + list(range(1, 15))
    assert _minerals(read) == answers


@pytest.mark.parametrize("title", ["Counting error(%) of X-ray intensities", "Detection Limit (ppm)"])
def test_jeol_reports_of_other_units_are_refused_by_name(tmp_path, analyses, title):
    """The counting-error report was read as analyses (its Si, Al ... columns element wt%); the
    detection-limit report was refused as a table of rows of unequal length."""
    path = write_jeol_summary(analyses, tmp_path / "D2893_1_stdev.txt", title=title)
    assert looks_like_instrument(path) == "JEOL"
    with pytest.raises(ValueError, match=rf"JEOL report of '{re.escape(title)}', not of weight percents"):
        read_table(path)


def test_jeol_all_report_reads_its_mass_percents(tmp_path, analyses, answers):
    """Its statistics rows follow a blank line: the reader saw no statistics, took the file for a
    plain table and refused it for the title above the names."""
    read = read_table(write_jeol_all(analyses, tmp_path / "d2872_all.txt"))
    assert read.attrs["minml_instrument"] == "JEOL" and len(read) == len(analyses)
    mapped = check_oxides(read).mapping.mapped
    assert mapped and all(name.endswith("(Mass%)") for name in mapped)  # Norm%, Cation, mole% kept, unread
    same_oxides(read, analyses)
    assert _minerals(read) == answers


def test_calczaf_export_dat_of_element_percents(tmp_path, analyses, answers):
    """A ``.dat`` file was refused for its extension; its element wt% (with Cl by element in the
    real file) are read as oxides since the oxygen column is the oxides' oxygen."""
    path = write_calczaf_export(analyses, tmp_path / "D2872_1_base_Export.dat")
    read = read_table(path)
    assert read.attrs == {"minml_instrument": "Probe for EPMA", "minml_elements": True}
    assert read["SAMPLE"].tolist()[:2] == ["Un    1  glass_30um_1", "Un    2  glass_30um_2"]
    same_oxides(read, analyses, atol=0.01)
    assert _minerals(read) == answers
    from minml.cli import main

    out = tmp_path / "out.csv"
    assert main(["classify", str(path), "-o", str(out)]) == 0
    assert pd.read_csv(out)["mineral"].tolist() == answers


def test_probe_for_epma_standard_printout_has_no_published_row(tmp_path, analyses, answers):
    """PUBL:, %VAR: and DIFF: follow %RSD: without a blank line: they were read as analyses."""
    six = analyses.head(6)
    read = read_table(write_pfe_standard(six, tmp_path / "standard.txt"))
    assert read.attrs["minml_instrument"] == "Probe for EPMA" and read.attrs["minml_elements"]
    assert read["point"].tolist() == list(range(131, 137))
    assert set(read["sample"]) == {"Set 1 LEPR glass (secondary standard)"}
    same_oxides(read, six, atol=0.01)
    assert _minerals(read) == answers[:6]


@pytest.mark.parametrize(
    ("specimen", "name"), [("", "EDS Spectrum: Emae | 18_554_1 | Area 1 | Full Area 1"), ("23_122b", "23_122b")]
)
def test_edax_single_spectrum_is_one_analysis(tmp_path, analyses, answers, specimen, name):
    """One spectrum a file, one element a row named with its X-ray line: refused before.  Its
    name: the Specimen where given, else the Project line."""
    path = write_edax_spectrum(analyses.head(1), tmp_path / "18_554_1_1_1.csv", "Emae | 18_554_1", specimen)
    assert looks_like_instrument(path) == "EDS element wt%"
    read = read_table(path)
    assert read.attrs["minml_elements"] is True and len(read) == 1
    assert read["point"].tolist() == [name]
    assert "O" in read.columns and "Error %" not in read.columns
    same_oxides(read, analyses.head(1), atol=0.02)
    with pytest.warns(UserWarning, match="No column for P2O5"):  # only the elements found are printed
        assert _minerals(read) == answers[:1]


def test_edax_atomic_percent_under_a_weight_header_is_told_apart(tmp_path, analyses, answers):
    """``24_081_1.csv`` prints atomic % under ``Weight %`` (O 62.9): the advice was elements=True,
    which reads them as oxides summing far below 100.  Its specimen ``24_081`` read as the
    number 24081 (Python's float takes the underscore), which stopped the reader with a pandas
    error.  Now: the name kept, the numbers told apart by their oxygen, and the advice
    followed literally classifies the spectrum as its clean analysis."""
    from minml.chemistry.oxides import atomic_weight

    path = write_edax_spectrum(analyses.head(1), tmp_path / "24_081_1.csv", "Emae | 24_081", "24_081", atomic=True)
    read = read_table(path)
    assert read["point"].tolist() == ["24_081"] and not read.attrs.get("minml_elements")
    assert read["O"].iloc[0] > 55  # atomic % of a silicate's oxygen
    with pytest.raises(ValueError, match=r"'O' column holds 1\.\d times the oxygen .* look like atomic %"):
        classify(read)
    symbols = [c for c in read.columns if element_symbol(c) is not None]
    mass = read[symbols] * [atomic_weight(element_symbol(c)) for c in symbols]
    converted = read.drop(columns=symbols).join(100 * mass.div(mass.sum(axis=1), axis=0))
    with pytest.warns(UserWarning, match="No column for"):
        assert classify(converted, elements=True)["mineral"].astype(str).tolist() == answers[:1]


@pytest.mark.parametrize("atomic", [False, True])
def test_element_tables_are_told_apart_by_their_oxygen(analyses, answers, atomic):
    """Each of the 24 analyses (silicates, apatite, quartz, ilmenite) alone, as element wt% and as atomic %
    under element names: the advice for each names what its numbers are."""
    from .layouts import atomic_percent, elements_of

    table = atomic_percent(elements_of(analyses)) if atomic else elements_of(analyses)
    said = []
    for i in range(len(table)):
        with pytest.raises(ValueError, match="name elements") as refused:
            classify(table.iloc[[i]])
        said.append("look like atomic %" in str(refused.value))
    assert said == [atomic] * len(table), answers


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_aztec_blocks_one_row_per_spectrum(tmp_path, analyses, answers, suffix):
    path = write_aztec_blocks(analyses, tmp_path / "aztec_blocks.csv")
    if suffix == ".xlsx":  # the same rows saved as a workbook, read with its first row as header
        book = tmp_path / "aztec_blocks.xlsx"
        rows = [line.split(",") for line in path.read_text().splitlines()]
        rows = [row + [""] * (10 - len(row)) for row in rows]
        pd.DataFrame(rows).replace("", None).to_excel(book, header=False, index=False)
        path = book
    read = read_table(path)
    assert read.attrs["minml_instrument"] == "Oxford AZtec" and not read.attrs.get("minml_elements")
    assert read["point"].tolist() == [f"Spectrum {i + 1}" for i in range(24)]
    assert "Wt% Sigma" not in read.columns and "O" not in read.columns  # the oxide % column read
    np.testing.assert_allclose(read["Total"], check_oxides(analyses).oxides.sum(axis=1), atol=0.1)
    same_oxides(read, analyses)
    assert _minerals(read) == answers


def test_element_columns_named_with_their_xray_line(analyses):
    """EDAX names elements by their line (``O  K``, ``Si K``); a table of them, as users join
    single-spectrum files, is read as element wt% when asked (tupuni/sem-eds-data-processing,
    ``2025-05-06_MEB-EMAE/data/raw_data/combined_output.txt``)."""
    assert [element_symbol(n) for n in ("O  K", "Si K", "K  K", "Fe L", "Si Ka1", "K series")] == [
        "O",
        "Si",
        "K",
        "Fe",
        "Si",
        None,
    ]
    from .layouts import elements_of

    table = elements_of(analyses).rename(columns=lambda s: f"{s:<2} K")
    checked = check_oxides(table, elements=True)
    assert checked.mapping.mapped["Si K"] == "SiO2"
    np.testing.assert_allclose(checked.oxides["SiO2"], check_oxides(analyses).oxides["SiO2"], atol=1e-6)


def test_a_blank_cell_is_an_element_not_found(tmp_path, analyses, answers):
    """AZtec prints nothing for an element it did not find in a spectrum (the real JEOL
    detection-limit report has empty cells too): the column came back as text ("0.5", ""),
    though the export holds numbers there (check_oxides read it as the same numbers)."""
    from .layouts import write_aztec

    path = write_aztec(analyses, tmp_path / "aztec.csv", elements=True)
    lines = path.read_text().splitlines()
    na = lines[0].split(",").index("Na")
    cells = lines[1].split(",")
    cells[na] = ""
    path.write_text("\n".join([lines[0], ",".join(cells), *lines[2:]]) + "\n")
    read = read_table(path)
    assert read["Na"].dtype == float and np.isnan(read["Na"].iloc[0]) and read["Na"].iloc[1:].notna().all()
    assert read.attrs["minml_elements"] is True
