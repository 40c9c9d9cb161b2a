"""Statistics rows (Mean, SD, n) among a published table's analyses: kept, flagged, no analysis
(a user trial found a 'Mean' named clinopyroxene at p 0.99997 and counted as one)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from minml import check_oxides, read_table
from minml.tables._statistics import statistics_in_cells
from minml.tables.reasons import Reason

from .conftest import EXAMPLE

LABELS = ["Mean", "SD", "n", "1σ", "2SD", "Median", "avg.", "Std. dev.", "RSD (%)", "Average (n=8)"]


def _with_statistics() -> pd.DataFrame:
    """The example's first 20 analyses with a statistics row after every second one: the mean
    of the two above it, or their spread."""
    table = read_table(EXAMPLE).head(20)
    oxides = [c for c in table.columns if table[c].dtype.kind == "f"]
    rows = []
    for k, label in enumerate(LABELS):
        pair = table.iloc[2 * k : 2 * k + 2]
        rows += [pair]
        stat = pair[oxides].mean() if k % 2 == 0 else pair[oxides].std()
        rows.append(pd.DataFrame([{table.columns[0]: label, **stat.to_dict()}]))
    return pd.concat(rows, ignore_index=True)


def test_statistics_rows_are_flagged_as_no_analysis():
    table = _with_statistics()
    checked = check_oxides(table)
    labelled = table.iloc[:, 0].isin(LABELS).to_numpy()
    assert labelled.sum() == len(LABELS)
    stats = (checked.reasons & np.uint16(Reason.STATISTICS_ROW)) != 0
    assert (stats == labelled).all()
    assert checked.no_analysis[labelled].all()
    assert checked.flags["flag"][labelled].str.startswith("statistics row: ").all()
    assert not checked.flags["flag"][labelled].str.contains("total outside").any()  # one reason, not two


def test_labels_that_only_begin_like_statistics_are_analyses():
    cells = ["SD-14", "n12", "Max-3 core", "Mn-rich ol", "AV-3", "Ave12", "1", None, "Mean", "ol-5", "cpx-9", "plag"]
    mask, labels = statistics_in_cells(pd.Series(cells, dtype=object))
    assert mask.tolist() == [False] * 8 + [True] + [False] * 3 and labels == {8: "Mean"}


@pytest.mark.parametrize("label", ["Ave.", "Av.", "Ave. of 3", "St.dev.", "s", "Mittelwert", "moyenne", "1 s.d."])
def test_short_and_foreign_labels_of_statistics(label):
    """Labels a second trial found classified as analyses."""
    cells = pd.Series(["ol-1", "ol-2", "ol-3", label], dtype=object)
    assert statistics_in_cells(cells)[0].tolist() == [False, False, False, True]


def test_a_table_whose_every_row_is_an_average_reports_averages():
    """Where most first cells say "Average", those are the table's analyses: none is flagged."""
    mask, _ = statistics_in_cells(pd.Series(["Average", "Average", "Average", "ol-1"]))
    assert not mask.any()


def test_a_label_in_the_column_of_the_points_is_read():
    """Grain | Analysis | SiO2 ...: the statistics label stands in the second column."""
    table = _with_statistics()
    table.insert(0, "Grain", "g1")
    checked = check_oxides(table)
    labelled = table.iloc[:, 1].isin(LABELS).to_numpy()
    assert (((checked.reasons & np.uint16(Reason.STATISTICS_ROW)) != 0) == labelled).all()


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".parquet"])
def test_every_route_of_the_command_flags_the_same_rows(tmp_path, suffix):
    """CSV to CSV reads the first cells from the rows' text (the column is never parsed); the
    pandas and Parquet routes from the column: the same rows, the same flags."""
    from minml.cli import main

    table = _with_statistics()
    table[table.columns[0]] = table.iloc[:, 0].astype(str)  # a column of text, as a Parquet file holds it
    table.insert(0, "Grain", "g1")  # the labels in the second column
    source = tmp_path / f"in{suffix}"
    {".csv": lambda: table.to_csv(source, index=False), ".xlsx": lambda: table.to_excel(source, index=False),
     ".parquet": lambda: table.to_parquet(source)}[suffix]()  # fmt: skip
    out = tmp_path / f"out{suffix}"
    assert main(["classify", str(source), "-o", str(out)]) == 0
    found = read_table(out)
    labelled = table.iloc[:, 1].isin(LABELS).to_numpy()
    assert (found["mineral"][labelled] == "unknown").all()
    assert found["flag"].fillna("").str.startswith("statistics row: ").to_numpy().tolist() == labelled.tolist()


def test_a_label_column_with_empty_cells_still_labels_its_statistics():
    """A sample named on its grain's first row only, then a 'Mean' row: the empty cells are not
    filled labels (a review found nulls counted twice, and no row flagged)."""
    import pyarrow as pa

    mask, labels = statistics_in_cells(pa.array(["ol-1", None, None, "Mean", "cpx-1", None, "", "SD"]))
    assert mask.tolist() == [False, False, False, True, False, False, False, True] and labels == {3: "Mean", 7: "SD"}
    table = _with_statistics()
    table.iloc[1::3, 0] = np.nan
    assert (((check_oxides(table).reasons & np.uint16(Reason.STATISTICS_ROW)) != 0).sum()) == len(LABELS)


def test_a_column_of_phase_names_labels_no_statistics():
    """'Sd' (siderite), 'Mn' or 'S' in a Mineral column are phases, not statistics."""
    cells = pd.Series(["Ol", "Cpx", "Sd", "Plag", "Cal", "Sd", "Opx", "Grt"], dtype=object)
    assert not statistics_in_cells(cells)[0].any()
