"""Workbooks a second user trial found misread: ``sheet="all"`` over sheets whose columns carry
different phase affixes, and AZtec exports saved as workbooks (element wt% under a title; the
oxide and the element table on one sheet).  Each file is built from real LEPR analyses (the
bundled example, ``analyses``), in the instruments' layouts of ``tests/layouts.py``."""

from __future__ import annotations

import csv
import warnings

import numpy as np
import pandas as pd
import pytest

from minml import check_oxides, read_table

from .conftest import same_oxides
from .layouts import write_aztec

SPECIES = ["SiO2", "TiO2", "Al2O3", "Cr2O3", "FeOt", "MnO", "MgO", "NiO", "CaO", "Na2O", "K2O"]


def _read(path, **options) -> tuple[pd.DataFrame, list[str]]:
    """The table and the warnings its reading gave."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        table = read_table(path, **options)
    return table, [str(w.message) for w in caught]


def _sheets(path, sheets: dict[str, pd.DataFrame]) -> None:
    with pd.ExcelWriter(path) as writer:
        for name, table in sheets.items():
            table.to_excel(writer, sheet_name=name, index=False)


def _phase(analyses: pd.DataFrame, mineral: str, name) -> pd.DataFrame:
    """The analyses of one mineral, a ``Sample`` column and the species as ``name(species)``."""
    rows = analyses[analyses["Mineral"] == mineral].reset_index(drop=True)
    table = rows[SPECIES].rename(columns=name)
    table.insert(0, "Sample", [f"{mineral[:3].lower()}{k}" for k in range(len(rows))])
    return table


def test_sheet_all_keeps_the_analyses_of_sheets_with_a_phase_affix(tmp_path, analyses):
    """Sheets ``SiO2``, ``Opx SiO2`` and ``SiO2 (Pl)`` stacked: the affixed sheets' rows came back
    as "empty row: no oxide values" (the stacked table read the plain columns only)."""
    path = tmp_path / "phases.xlsx"
    minerals = {
        "amph": ("Amphibole", str),
        "cpx": ("Clinopyroxene", "Cpx {}".format),
        "bt": ("Biotite", "{} (Bt)".format),
    }
    _sheets(path, {sheet: _phase(analyses, mineral, name) for sheet, (mineral, name) in minerals.items()})
    table, said = _read(path, sheet="all")
    expected = pd.concat([analyses[analyses["Mineral"] == m] for m, _ in minerals.values()], ignore_index=True)
    assert len(table) == len(expected) == 12
    assert table["sheet"].tolist() == ["amph"] * 4 + ["cpx"] * 4 + ["bt"] * 4
    assert not [c for c in table.columns if str(c).startswith("Cpx ") or str(c).endswith(" (Bt)")]
    checked = check_oxides(table)
    assert checked.flags["flag"].eq("").all(), checked.flags["flag"].tolist()
    same_oxides(table, expected)
    told = [s for s in said if "phase affixes" in s]
    assert len(told) == 1 and "'cpx'" in told[0] and "'Cpx '" in told[0] and "'bt'" in told[0] and "' (Bt)'" in told[0]
    for sheet in minerals:  # each sheet alone reads the same analyses
        alone = read_table(path, sheet=sheet)
        np.testing.assert_allclose(
            check_oxides(alone).oxides.to_numpy(),
            check_oxides(table[table["sheet"] == sheet].drop(columns="sheet")).oxides.to_numpy(),
        )


def test_sheet_all_refuses_sheets_of_several_phases_beside_a_plain_one(tmp_path, analyses):
    """A sheet of mineral-liquid pairs (``_Cpx`` and ``_Liq``) beside a sheet of plain names: no
    one ``suffix=`` reads both, so stacking would lose one sheet's analyses; refused, naming them."""
    path = tmp_path / "pairs.xlsx"
    cpx = _phase(analyses, "Clinopyroxene", "{}_Cpx".format)
    liquid = _phase(analyses, "Amphibole", "{}_Liq".format).drop(columns="Sample")
    _sheets(path, {"pairs": pd.concat([cpx, liquid], axis=1), "ol": _phase(analyses, "Biotite", str)})
    with pytest.raises(
        ValueError, match=r"pairs.xlsx: the sheets cannot be stacked without losing analyses.*'pairs'.*'ol'"
    ):
        read_table(path, sheet="all")


def test_aztec_element_workbook_reads_as_its_csv(tmp_path, analyses):
    """AZtec's element wt% saved as .xlsx (a title, the names two rows down: O, Si, ...) was read
    with the title as its header and refused ("No oxide columns found among ['All results in
    weight%', 'Unnamed: 1', ...]"), even with --elements; its CSV read with no option."""
    book = write_aztec(analyses, tmp_path / "aztec_el.xlsx", elements=True)
    text = write_aztec(analyses, tmp_path / "aztec_el.csv", elements=True)
    table, said = _read(book)
    assert not said
    assert table.attrs == {"minml_elements": True, "minml_instrument": "Oxford AZtec"}
    assert table["point"].tolist() == [f"Spectrum {k + 1}" for k in range(len(analyses))]  # no Mean ... Min.
    pd.testing.assert_frame_equal(table, read_table(text))
    same_oxides(table, analyses, atol=0.03)  # element wt% printed to 2 decimals, x 2.14 as SiO2
    assert check_oxides(table).ok.all()


def _two_tables(analyses: pd.DataFrame, tmp_path) -> list[list]:
    """The rows of one sheet holding AZtec's oxide table, a blank row, then its element table of
    the same points (each as :func:`write_aztec` writes it in a workbook: title, blank, header)."""
    rows: list[list] = []
    for elements in (False, True):
        part = write_aztec(analyses, tmp_path / f"part{int(elements)}.xlsx", elements=elements)
        cells = pd.read_excel(part, header=None, dtype=object, engine="calamine").astype(object).to_numpy().tolist()
        rows += [[None if pd.isna(c) else c for c in row] for row in cells] + [[None] * len(cells[0])]
    width = max(map(len, rows))
    return [row + [None] * (width - len(row)) for row in rows[:-1]]


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_aztec_oxide_and_element_tables_on_one_sheet(tmp_path, analyses, suffix):
    """Both tables on one sheet gave twice the analyses, half of them empty rows (the element
    table stacked as extra columns): the oxide table is read, the element table named as left out."""
    rows = _two_tables(analyses, tmp_path)
    path = tmp_path / f"aztec_two{suffix}"
    if suffix == ".csv":
        with open(path, "w", newline="", encoding="utf-8") as handle:
            csv.writer(handle).writerows(rows)
    else:
        pd.DataFrame(rows).to_excel(path, header=False, index=False)
    table, said = _read(path)
    assert table.attrs["minml_instrument"] == "Oxford AZtec"
    assert len(table) == len(analyses) and "Si" not in table.columns and "O" not in table.columns
    assert check_oxides(table).ok.all()
    same_oxides(table, analyses)
    assert len(said) == 1
    assert said[0].startswith(f"aztec_two{suffix}: {len(analyses)} analyses read from the table of oxide wt%")
    assert f"left out: the same {len(analyses)} points as element wt% under 'All results in weight%'" in said[0]
