"""The validation report names each disagreement by the row number the CSV output gives it
(``validate_row``, counted from 1), whatever the table's index."""

from __future__ import annotations

from html.parser import HTMLParser

import pandas as pd
import pytest

from minml.cli import main

pytest.importorskip("matplotlib")

pytestmark = pytest.mark.shared_data

_SWAPS = {"Olivine": "Plagioclase", "Plagioclase": "Garnet", "Garnet": "Olivine", "Clinopyroxene": "Quartz"}
"""Labels planted on real analyses: a mineral the analysis cannot be."""


class _Tables(HTMLParser):
    """The rows of every ``<table>`` of a page, as lists of cell text, after the heading above it."""

    def __init__(self):
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._heading = self._cell = None
        self._row: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "h2":
            self._heading = ""
        elif tag == "table" and self._heading is not None:
            self.tables[self._heading] = []
        elif tag == "tr":
            self._row = []
        elif tag in ("td", "th"):
            self._cell = ""

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._row is not None and self._cell is not None:
            self._row.append(self._cell.strip())
            self._cell = None
        elif tag == "tr" and self._row is not None and self.tables:
            list(self.tables.values())[-1].append(self._row)
            self._row = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data
        elif self._heading is not None and self.lasttag == "h2":
            self._heading += data


def _disagreements(page: str) -> pd.DataFrame:
    parser = _Tables()
    parser.feed(page)
    (rows,) = [rows for heading, rows in parser.tables.items() if heading.endswith("most certain disagreements")]
    return pd.DataFrame(rows[1:], columns=rows[0])


@pytest.fixture(scope="module")
def swapped(shared_data, tmp_path_factory):
    """300 LEPR analyses of four minerals as written, with labels swapped on 16 rows (the first
    row among them), and those rows' places counted from 1."""
    table = pd.read_csv(shared_data / "test" / "lepr_allphases_lim.csv", dtype=str, keep_default_na=False)
    table = table[table["Mineral"].isin(list(_SWAPS))].sample(300, random_state=11).reset_index(drop=True)
    planted = [0, *range(7, 300, 20)]
    table.loc[planted, "Mineral"] = table.loc[planted, "Mineral"].map(_SWAPS)
    path = tmp_path_factory.mktemp("swap") / "swap.csv"
    table.to_csv(path, index=False)
    return path, [i + 1 for i in planted]


def test_report_rows_are_the_csv_rows(swapped, tmp_path):
    path, planted = swapped
    out, report = tmp_path / "swap_val.csv", tmp_path / "swap_report.html"
    assert main(["validate", str(path), "--label-column", "Mineral", "-o", str(out), "--report", str(report)]) == 0
    page = report.read_text(encoding="utf-8")
    assert "validate_row: the row's place in the input, counted from 1" in page
    listed = _disagreements(page)
    assert list(listed.columns[:3]) == ["validate_row", "label", "mineral"]
    written = pd.read_csv(out, dtype=str, keep_default_na=False).set_index("validate_row")
    rows = written.loc[listed["validate_row"]]
    assert rows["Mineral"].tolist() == listed["label"].tolist()
    assert rows["validate_verdict"].eq("disagree").all()
    assert rows["validate_mineral"].tolist() == listed["mineral"].tolist()
    disagree = written.index[written["validate_verdict"] == "disagree"]
    assert sorted(listed["validate_row"]) == sorted(disagree)  # fewer than 50: every one
    caught = [str(row) for row in planted if str(row) in disagree]
    assert "1" in caught and len(caught) >= len(planted) - 2  # the planted swaps (two read as unknown phases)


def test_report_rows_ignore_the_index(swapped, tmp_path):
    """A table on an index of its own (sample names, a slice of a bigger table): the report
    still counts the rows from 1, as the CSV output would."""
    from minml import validate
    from minml.validation.report import write_report

    path, _ = swapped
    table = pd.read_csv(path)
    table.index = table.index + 1000
    validated = validate(table, "Mineral")
    page = write_report(table, validated, tmp_path / "r.html").read_text(encoding="utf-8")
    places = [str(i + 1) for i, verdict in enumerate(validated["verdict"]) if verdict == "disagree"]
    assert "1" in places and sorted(_disagreements(page)["validate_row"]) == sorted(places)
