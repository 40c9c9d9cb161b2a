"""CSV rows written back as read, with the results beside them (minml.io._csv_lines): the
route ``minml classify`` takes from CSV to CSV."""

import codecs

import numpy as np
import pandas as pd
import pytest

from minml.cli import main
from minml.io import read_csv_arrow, read_csv_rows, read_table, write_beside_lines
from minml.io._csv_lines import csv_lines

from .conftest import EXAMPLE

RESULTS = 8  # mineral, group, probability, uncertainty, second_mineral, second_probability, ood_score, flag


def _classify(source, out) -> list[bytes]:
    assert main(["classify", str(source), "-o", str(out)]) == 0
    return out.read_bytes().split(b"\n")


def _rendered_results(tmp_path, source) -> list[bytes]:
    """Each row's result fields as the table writer renders them (a TSV output: no row is
    carried as text there, every column is written from its cells), joined by commas."""
    rows = _classify(source, tmp_path / "rendered.tsv")
    return [b",".join(row.split(b"\t")[-RESULTS:]) for row in rows[:-1]]


def test_rows_are_written_as_read_with_the_results_as_the_writer_renders_them(tmp_path, capsys):
    # the example's rows hold quoted fields ("SEM,EMP") on some lines and numbers as LEPR wrote them
    rows = _classify(EXAMPLE, tmp_path / "out.csv")
    source = EXAMPLE.read_bytes().split(b"\n")
    assert any(b'"' in line for line in source)
    assert rows[-1] == b"" and len(rows) == len(source)
    rendered = _rendered_results(tmp_path, EXAMPLE)
    assert rows[0] == source[0] + b"," + rendered[0]  # the header as read, then the result names
    for row, line, results in zip(rows[1:-1], source[1:-1], rendered[1:], strict=True):
        assert row == line + b"," + results
    # read back, the input's columns are the input's and the results those of the API
    written, given = read_table(tmp_path / "out.csv"), read_table(EXAMPLE)
    pd.testing.assert_frame_equal(written[given.columns], given)
    import minml

    expected = minml.classify(given)
    assert written["mineral"].tolist() == expected["mineral"].astype(str).tolist()
    assert np.allclose(written["probability"], expected["probability"], atol=1e-6, equal_nan=True)


def test_windows_line_endings_are_kept_and_a_missing_last_line_end_is_added(tmp_path):
    text = EXAMPLE.read_bytes()
    crlf = tmp_path / "windows.csv"
    crlf.write_bytes(text.replace(b"\n", b"\r\n"))
    rows = _classify(crlf, tmp_path / "out.csv")
    plain = _classify(EXAMPLE, tmp_path / "plain.csv")
    assert all(row.endswith(b"\r") for row in rows[:-1]) and rows[-1] == b""
    assert [row[:-1] for row in rows[:-1]] == plain[:-1]
    cut = tmp_path / "cut.csv"
    cut.write_bytes(text.rstrip(b"\n"))  # no line end after the last row
    assert _classify(cut, tmp_path / "cut_out.csv") == plain


def test_a_byte_order_mark_is_written_once(tmp_path):
    marked = tmp_path / "excel.csv"
    marked.write_bytes(codecs.BOM_UTF8 + EXAMPLE.read_bytes())
    rows = _classify(marked, tmp_path / "out.csv")
    plain = _classify(EXAMPLE, tmp_path / "plain.csv")
    assert rows[0] == codecs.BOM_UTF8 + plain[0] and rows[1:] == plain[1:]


HEADER = "Sample,SiO2,Al2O3,FeOt,MgO,CaO"
OLIVINE = "40.1,0.1,10.1,49.0,0.2"


@pytest.mark.parametrize(
    "text, why",
    [
        (f'{HEADER}\n"two\nlines",{OLIVINE}\nb,{OLIVINE}\n', "a quoted field over a line end"),
        (f"{HEADER}\na,{OLIVINE}\n\nb,{OLIVINE}\n", "a blank line"),
        (f"{HEADER}\r\na,{OLIVINE}\nb,{OLIVINE}\r\n", "line ends of two kinds"),
        # even quotes on each line, yet the quote opened in the middle of a line runs over its end
        (f'{HEADER}\nx"y,"z\nw"v",0.1,10.1,49.0,0.2\nb,{OLIVINE}\n', "rows that are not lines"),
    ],
)
def test_rows_that_are_not_lines_are_written_from_their_cells(tmp_path, text, why):
    source = tmp_path / "odd.csv"
    source.write_text(text, newline="")
    table, lines = read_csv_rows(source, ",")
    assert lines is None, why
    assert table.equals(read_csv_arrow(source))  # every column, as the table writer needs them
    rows = _classify(source, tmp_path / "out.csv")
    assert rows[0].startswith(b'"Sample","SiO2"'), why  # the writer's header: each name quoted


def test_another_separator_is_written_from_the_cells(tmp_path):
    semicolons = tmp_path / "semicolons.csv"
    semicolons.write_text(EXAMPLE.read_text().replace(",", ";"))
    assert read_csv_rows(semicolons, ",")[1] is None
    assert read_csv_rows(semicolons, ";")[1] is not None
    rows = _classify(semicolons, tmp_path / "out.csv")
    assert rows[1].split(b",")[-RESULTS:] == _classify(EXAMPLE, tmp_path / "plain.csv")[1].split(b",")[-RESULTS:]


def test_carried_rows_read_only_the_species_and_label_columns(tmp_path):
    """The text columns before the first species (entity_id, Mineral, method: where a row may be
    labelled Mean or SD) are read with the species; those after them are not."""
    table, lines = read_csv_rows(EXAMPLE, ",")
    assert lines is not None and lines.names == read_csv_arrow(EXAMPLE).column_names
    assert table.column_names[:3] == ["entity_id", "Mineral", "method"] and "SiO2" in table.column_names
    shifted = tmp_path / "shifted.csv"
    read_table(EXAMPLE).pipe(lambda t: t[[*t.columns[3:], *t.columns[:3]]]).to_csv(shifted, index=False)
    table, lines = read_csv_rows(shifted, ",")
    assert "Mineral" in lines.names and "Mineral" not in table.column_names
    assert len(lines.rows) == table.num_rows == len(read_table(EXAMPLE))
    assert csv_lines(EXAMPLE, ",").header == EXAMPLE.read_bytes().split(b"\n")[0]


def test_results_of_another_length_are_refused(tmp_path):
    lines = csv_lines(EXAMPLE, ",")
    with pytest.raises(ValueError, match=r"76 rows of text but result columns of lengths \{'p': 3\}"):
        write_beside_lines(lines, {"p": np.zeros(3, dtype=np.float32)}, tmp_path / "out.csv")
    assert not (tmp_path / "out.csv").exists()


@pytest.mark.parametrize("chosen, expected", [(None, "system"), ("mimalloc", "mimalloc")])
def test_the_command_puts_arrow_on_the_c_allocator_unless_one_is_chosen(tmp_path, chosen, expected):
    # the command imports pyarrow only once it runs (the allocator is chosen at that import)
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "ARROW_DEFAULT_MEMORY_POOL"}
    if chosen:
        env["ARROW_DEFAULT_MEMORY_POOL"] = chosen
    code = (
        "from minml.cli import main; "
        f"status = main(['classify', {str(EXAMPLE)!r}, '-o', {str(tmp_path / 'out.csv')!r}]); "
        "import pyarrow as pa; print(status, pa.default_memory_pool().backend_name)"
    )
    code += "; import os; print(os.environ.get('ARROW_DEFAULT_MEMORY_POOL', 'unset'))"
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert done.stdout.split()[-3:] == ["0", expected, chosen or "unset"]  # the caller's environment as it was


def test_a_file_past_two_gib_is_carried_in_pieces(tmp_path, monkeypatch):
    """Rows of a file over 2 GiB are Arrow large strings; each piece is joined as string (the
    limit lowered to 0 makes this example such a file)."""
    import minml.io._arrow

    expected = _classify(EXAMPLE, tmp_path / "small.csv")
    monkeypatch.setattr(minml.io._arrow, "_STRING_LIMIT", 0)
    assert _classify(EXAMPLE, tmp_path / "large.csv") == expected
