"""Layouts of published tables found in a user trial: a units row under the column names, notes
and GEOROC's references below the analyses, and supplements whose sheets stand under titles of
different heights (``sheet="all"``).  Each file is built from real LEPR analyses."""

from __future__ import annotations

import csv
import warnings

import numpy as np
import pandas as pd
import pytest

from minml import check_oxides, read_table

OXIDES = ["SiO2", "TiO2", "Al2O3", "Cr2O3", "FeOt", "MnO", "MgO", "NiO", "CaO", "Na2O", "K2O"]


@pytest.fixture(scope="module")
def rows(shared_data) -> pd.DataFrame:
    """Six olivines (NiO analysed) and six clinopyroxenes of LEPR, oxide sums 98-101 wt%."""
    lepr = pd.read_csv(shared_data / "test" / "lepr_allphases_lim.csv", index_col=0, low_memory=False)
    total = lepr[OXIDES].sum(axis=1)
    good = lepr[total.between(98, 101)]
    olivine = good[(good["Mineral"] == "Olivine") & good["NiO"].gt(0.1)].head(6)
    cpx = good[good["Mineral"] == "Clinopyroxene"].head(6)
    table = pd.concat([olivine, cpx], ignore_index=True)
    table.insert(0, "Sample", [f"grain{k}" for k in range(len(table))])
    return table[["Sample", *OXIDES, "Mineral"]]


def _write(rows: list[list], path) -> None:
    """``rows`` as a CSV file (text cells as written, numbers as Python prints them) or a sheet."""
    if path.suffix == ".csv":
        with open(path, "w", newline="", encoding="utf-8") as handle:
            csv.writer(handle).writerows(rows)
    else:
        pd.DataFrame(rows).to_excel(path, header=False, index=False)


def _cells(table: pd.DataFrame) -> list[list]:
    return [[None if pd.isna(v) else v for v in row] for row in table.astype(object).to_numpy().tolist()]


def _read(path, **options) -> tuple[pd.DataFrame, list[str]]:
    """The table and the warnings its reading gave."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        table = read_table(path, **options)
    return table, [str(w.message) for w in caught]


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
@pytest.mark.parametrize("unit", ["wt%", "wt.%", "(wt%)", "%"])
def test_a_units_row_is_read_with_the_column_names(tmp_path, rows, suffix, unit):
    """A units row under the names was read as an analysis: "SiO2 not a number: 'wt%'"."""
    path = tmp_path / f"units{suffix}"
    header = list(rows.columns)
    units = ["", *[unit] * len(OXIDES), ""]
    _write([header, units, *_cells(rows)], path)
    read, said = _read(path)
    assert len(read) == len(rows) and list(read.columns) == header
    assert read["SiO2"].dtype == float  # the numbers of the column, as without the units row
    np.testing.assert_allclose(read[OXIDES].to_numpy(float), rows[OXIDES].to_numpy(float))
    assert said == [
        f"'units{suffix}': row 2 holds the columns' units (wt%), not an analysis: read with the column names, "
        "and left out of the rows."
    ]
    assert (check_oxides(read).flags["flag"] == "").all()


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_a_column_in_ppm_by_its_units_row_is_not_read_as_wt_percent(tmp_path, rows, suffix):
    """A units row saying ``ppm`` under NiO was ignored: NiO in ppm read as wt% ("over 100 wt%")."""
    path = tmp_path / f"ppm{suffix}"
    table = rows.assign(NiO=(rows["NiO"] * 10_000).round(0), Ni=(rows["NiO"] * 7857).round(0))
    header = list(table.columns)
    units = ["(units)", *["wt%"] * (len(OXIDES) - 4), "ppm", "wt%", "wt%", "wt%", "", "µg/g"]
    assert units[header.index("NiO")] == "ppm"
    _write([header, units, *_cells(table)], path)
    read, said = _read(path)
    renamed = [f"{name} (ppm)" if name in ("NiO", "Ni") else name for name in header]
    assert list(read.columns) == renamed and len(read) == len(table)
    assert said == [
        f"'ppm{suffix}': row 2 holds the columns' units (wt%, ppm), not an analysis: read with the column names, "
        "and left out of the rows; columns in another unit than wt% renamed, so not read as wt%: "
        "['NiO (ppm)', 'Ni (ppm)']."
    ]
    checked = check_oxides(read)
    assert "NiO" not in checked.mapping.mapped.values()  # kept, named, not read: as a header 'NiO (ppm)' is
    assert checked.mapping.notes["NiO (ppm)"].startswith("in ppm, not read")
    assert (checked.flags["flag"] == "").all()
    np.testing.assert_allclose(checked.oxides["MgO"], rows["MgO"])


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_notes_below_the_analyses_are_left_out_and_named(tmp_path, rows, suffix):
    """Footnotes below a table (after a blank row) were read as analyses, "bad analyses"; a note
    between analyses and statistics rows (Average, SD) between grains stay rows."""
    path = tmp_path / f"notes{suffix}"
    width = rows.shape[1]
    first, second = _cells(rows.iloc[:6]), _cells(rows.iloc[6:])
    average = ["Average", *rows[OXIDES].iloc[:6].mean().round(3).tolist(), None]
    spread = ["SD", *rows[OXIDES].iloc[:6].std().round(3).tolist(), None]
    body = [list(rows.columns), *first, average, spread, ["Grain 2, rim to core"] + [None] * (width - 1), *second]
    notes = [
        [None] * width,
        ["a: analyses by EPMA at 15 kV, 20 nA"] + [None] * (width - 1),
        ["* below detection"] + [None] * (width - 1),
        ["Notes: FeOt", " total iron as FeO"] + [None] * (width - 2),
    ]
    _write(body + notes, path)
    read, said = _read(path)
    assert read["Sample"].tolist() == [r[0] for r in body[1:]]  # every row above the notes, none below
    kind = "lines" if suffix == ".csv" else "rows"
    assert said == [
        f"'notes{suffix}': 4 {kind} below the last analysis left out, from {kind[:-1]} {len(body) + 1} "
        "('a: analyses by EPMA at 15 kV, 20 nA'): notes or references, not analyses."
    ]
    assert read["SiO2"].dtype == float


def test_georoc_references_at_the_end_are_left_out(tmp_path, rows):
    """GEOROC's precompiled files end with a 'References:' block (a reference may hold a comma
    and a number): read as rows, 'bad analyses'."""
    path = tmp_path / "georoc.csv"
    table = rows.rename(columns={name: f"{name.upper()}(WT%)" for name in OXIDES})
    text = table.to_csv(index=False, lineterminator="\r\n")
    references = (
        "\r\nReferences:\r\n"
        "[1] SMITH J. (2020): Olivine in basalts. J PETROL 61, 1-20 doi: 10.1093/petrology/x\r\n"
        "[2] DOE A.; ROE B. (2019): Title, with comma. CONTRIB MINERAL PETROL, 174\r\n"
    )
    path.write_bytes((text + references).encode("cp1252"))
    read, said = _read(path)
    pd.testing.assert_frame_equal(read, table)
    assert said == [
        f"'georoc.csv': 4 lines below the last analysis left out, from line {len(rows) + 2} ('References:'): "
        "notes or references, not analyses."
    ]


def _supplement(rows: pd.DataFrame, path) -> None:
    """A supplement as the trial's: a sheet under two title rows and a blank one, with a units
    row and footnotes; a sheet under one title row; a sheet of references."""
    with pd.ExcelWriter(path) as writer:
        cpx, olivine = rows.iloc[6:], rows.iloc[:6]
        title = [["Supplementary Table S1. EPMA analyses of clinopyroxene"], ["All values in wt%"], []]
        units = [["", *["wt%"] * len(OXIDES), ""]]
        notes = [[], ["a: analysed at 15 kV, 20 nA."]]
        sheet = title + [list(cpx.columns)] + units + _cells(cpx) + notes
        width = cpx.shape[1]
        pd.DataFrame([cells + [None] * (width - len(cells)) for cells in sheet]).to_excel(
            writer, sheet_name="Table S1 cpx", header=False, index=False
        )
        pd.DataFrame([["Table S2. Olivine"]]).to_excel(writer, sheet_name="Table S2 ol", header=False, index=False)
        olivine.to_excel(writer, sheet_name="Table S2 ol", index=False, startrow=1)
        pd.DataFrame({"References": ["Stock et al. 2018"]}).to_excel(writer, sheet_name="References", index=False)


def test_every_sheet_is_read_from_its_own_row_of_names(tmp_path, rows):
    """sheet='all' refused a supplement whose sheets have titles of different heights ("row 3
    does", then advice to stack the sheets with pandas)."""
    path = tmp_path / "supp.xlsx"
    _supplement(rows, path)
    read, said = _read(path, sheet="all")
    assert read["sheet"].tolist() == ["Table S1 cpx"] * 6 + ["Table S2 ol"] * 6
    assert read["Sample"].tolist() == rows["Sample"].iloc[6:].tolist() + rows["Sample"].iloc[:6].tolist()
    oxides = check_oxides(read).oxides
    np.testing.assert_allclose(oxides["SiO2"], pd.concat([rows.iloc[6:], rows.iloc[:6]])["SiO2"])
    s1, s2 = "'supp.xlsx', sheet 'Table S1 cpx'", "'supp.xlsx', sheet 'Table S2 ol'"
    assert said == [
        f"{s1}: column names found on row 4; the 3 rows above them left out ('Supplementary Table S1. EPMA "
        "analyses of clinopyroxene / All values in wt%'): a title, not analyses.",
        f"{s1}: row 5 holds the columns' units (wt%), not an analysis: read with the column names, and left out "
        "of the rows.",
        f"{s1}: 2 rows below the last analysis left out, from row 12 ('a: analysed at 15 kV, 20 nA.'): notes or "
        "references, not analyses.",
        f"{s2}: column names found on row 2; the 1 row above them left out ('Table S2. Olivine'): a title, not "
        "analyses.",
        "supp.xlsx: sheets without oxide columns left out: ['References'].",
    ]
    with pytest.raises(ValueError, match=r"sheet 'Table S1 cpx': row 1 holds no oxide names but row 4 does"):
        read_table(path, sheet="Table S1 cpx")  # one sheet: asked for, as before


def test_the_command_classifies_the_trial_layouts(tmp_path, rows):
    """``minml classify`` (the pandas route: a workbook out) gives every analysis, and only them."""
    from minml.cli import main

    path = tmp_path / "ppm.csv"
    header = list(rows.columns)
    _write(
        [header, ["", *["wt%"] * 7, "ppm", "wt%", "wt%", "wt%", ""]] + _cells(rows.assign(NiO=rows["NiO"] * 1e4)), path
    )
    out = tmp_path / "out.xlsx"
    assert main(["classify", str(path), "-o", str(out)]) == 0
    result = pd.read_excel(out, engine="calamine")
    assert len(result) == len(rows) and (result["flag"].isna() | (result["flag"] == "")).all()
    assert result["mineral"].tolist() == ["olivine"] * 6 + ["clinopyroxene"] * 6


def test_files_with_rows_to_leave_out_are_told_apart(tmp_path, rows):
    """:func:`rows_left_out` says which CSV files read_table must read (pyarrow's reader keeps
    a units row and padded notes as rows)."""
    from minml.io._sniff import _sniff_separator, rows_left_out

    plain = tmp_path / "plain.csv"
    rows.to_csv(plain, index=False)
    units = tmp_path / "units.csv"
    units.write_text(
        rows.head(0).to_csv(index=False) + "," + "wt%," * len(OXIDES) + "\n" + rows.to_csv(index=False, header=False)
    )
    notes = tmp_path / "notes.csv"
    notes.write_text(rows.to_csv(index=False) + "* below detection" + "," * (rows.shape[1] - 1) + "\n")
    statistics = tmp_path / "statistics.csv"
    statistics.write_text(rows.to_csv(index=False) + "Average," + ",".join(["1.0"] * len(OXIDES)) + ",\n")
    told = {path.stem: rows_left_out(path, _sniff_separator(path)) for path in (plain, units, notes, statistics)}
    assert told == {"plain": False, "units": True, "notes": True, "statistics": False}


def test_the_command_classifies_a_units_row_from_csv_to_csv(tmp_path, rows):
    from minml.cli import main

    path = tmp_path / "units.csv"
    _write([list(rows.columns), ["", *["wt%"] * len(OXIDES), ""], *_cells(rows)], path)
    out = tmp_path / "out.csv"
    assert main(["classify", str(path), "-o", str(out)]) == 0
    assert len(pd.read_csv(out)) == len(rows)


def test_a_last_point_led_by_a_mark_keeps_the_arrow_route(tmp_path, rows):
    """A last row '#2,40.2,...' is an analysis, not a note: the CSV is read by Arrow (a review
    found it sent down the slow route)."""
    from minml.io import read_csv_arrow
    from minml.io._sniff import _sniff_separator, rows_left_out

    table = rows.copy()
    table.iloc[:, 0] = [f"#{i}" for i in range(len(table))]
    path = tmp_path / "marked.csv"
    table.to_csv(path, index=False)
    assert not rows_left_out(path, _sniff_separator(path))
    assert read_csv_arrow(path) is not None
