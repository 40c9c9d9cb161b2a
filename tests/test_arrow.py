"""Arrow tables to numpy and back without pandas (minml.io._arrow), and CSV files read that way."""

import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from minml.classifier.predict import Coded
from minml.io import read_csv_arrow, read_table
from minml.io._arrow import arrow_array, numpy_column

from .conftest import EXAMPLE, ROOT


def _read_back(array: pa.Array) -> list:
    return array.to_pylist()


def test_numbers_with_missing_cells_become_nan_even_in_sliced_chunks():
    ints = pa.chunked_array([pa.array([1, None, 3]), pa.array([None, 5])])
    floats = pa.array([0.5, None, 2.25, None, 4.0, 5.5]).slice(1, 4)  # an offset into the buffers
    assert np.array_equal(numpy_column(ints), [1.0, np.nan, 3.0, np.nan, 5.0], equal_nan=True)
    assert np.array_equal(numpy_column(floats), [np.nan, 2.25, np.nan, 4.0], equal_nan=True)
    assert numpy_column(ints).dtype == np.float64
    assert np.isnan(numpy_column(pa.array([None, None]))).all()  # a column with no value at all


def test_text_cells_stay_text_with_none_where_missing():
    column = numpy_column(pa.chunked_array([pa.array(["40.1", None]), pa.array(["bdl"])]))
    assert column.dtype == object and column.tolist() == ["40.1", None, "bdl"]
    assert numpy_column(pa.array(["a", "b", "c"]).slice(1)).tolist() == ["b", "c"]
    assert numpy_column(pa.chunked_array([], type=pa.float64())).shape == (0,)


def test_arrow_columns_check_as_the_dataframe():
    from minml import check_oxides
    from minml.tables.checks import check_columns

    frame = pd.DataFrame(
        {
            "SiO2": [40.1, None, 40.0, 39.9],
            "MgO": [49.0, 49.5, -3.2, 49.1],
            "FeO": ["9.5", "bdl", "9,4", "x"],
            "Sample": ["a", "b", "c", "d"],
        }
    )
    table = pa.table(
        {
            "SiO2": [40.1, None, 40.0, 39.9],
            "MgO": [49.0, 49.5, -3.2, 49.1],
            "FeO": ["9.5", "bdl", "9,4", "x"],
            "Sample": ["a", "b", "c", "d"],
        }
    )
    table = pa.concat_tables([table.slice(0, 2), table.slice(2)])  # two chunks per column
    checked = check_columns({name: table.column(name) for name in table.column_names}, table.num_rows)
    expected = check_oxides(frame)
    pd.testing.assert_frame_equal(checked.oxides, expected.oxides)
    pd.testing.assert_frame_equal(checked.flags, expected.flags)
    assert checked.flag_text[2].startswith("MgO negative: -3.2") and "FeO not a number: 'x'" in checked.flag_text[3]
    assert table.column("MgO").to_pylist()[2] == -3.2  # the caller's table is untouched


def test_result_columns_to_arrow():
    floats = arrow_array(np.array([0.25, np.nan, 1.0], dtype=np.float32))
    assert floats.type == pa.float32() and _read_back(floats) == [0.25, None, 1.0]  # NaN is a blank cell
    assert _read_back(arrow_array(np.array([np.nan, 2.0]))) == [None, 2.0]
    text = arrow_array(np.array(["", "total outside 88-105: 49.6 wt%", "", "Mg# ≥ 90 — ok"], dtype=object))
    assert _read_back(text) == ["", "total outside 88-105: 49.6 wt%", "", "Mg# ≥ 90 — ok"]  # multi-byte text
    coded = arrow_array(Coded(np.array([2, 0, 0, 1]), ["olivine", "spinel", "unknown"]))
    assert _read_back(coded) == ["unknown", "olivine", "olivine", "spinel"]
    assert _read_back(arrow_array(Coded(np.array([], dtype=int), ["olivine"]))) == []
    with pytest.raises(TypeError, match="No Arrow column"):
        arrow_array(np.array([1, 2]))


def test_csv_read_without_pandas_matches_read_table(tmp_path):
    arrow = read_csv_arrow(EXAMPLE)
    frame = read_table(EXAMPLE)
    assert arrow.column_names == list(frame.columns)
    for name in ["SiO2", "FeOt", "K2O"]:
        assert np.array_equal(numpy_column(arrow.column(name)), frame[name].to_numpy(dtype=float), equal_nan=True)
    # columns that are not species are read as written (text)
    assert pa.types.is_string(arrow.schema.field("entity_id").type)
    assert numpy_column(arrow.column("Mineral")).tolist() == frame["Mineral"].tolist()


def test_csv_read_without_pandas_cells_and_headers(tmp_path):
    path = tmp_path / "messy.csv"
    path.write_bytes("\ufeff;SiO2;MgO;Sample;Date\n1;40,1;bdl;007;2020-01-01\n2;NA;49.5;NA;\n".encode())
    table = read_csv_arrow(path)
    assert table.column_names == ["Unnamed: 0", "SiO2", "MgO", "Sample", "Date"]  # pandas' name, no BOM
    assert numpy_column(table.column("SiO2")).tolist() == ["40,1", "NA"]  # text for the parser, as written
    assert numpy_column(table.column("MgO")).tolist() == ["bdl", "49.5"]
    # as written: not the number 7, and a sample named NA is no missing value (an empty field is)
    assert numpy_column(table.column("Sample")).tolist() == ["007", "NA"]
    assert numpy_column(table.column("Date")).tolist() == ["2020-01-01", None]
    assert read_table(path)["Sample"].tolist() == ["007", "NA"]  # the pandas route reads them alike


@pytest.mark.parametrize(
    "text, why",
    [
        ("SiO2,MgO,SiO2\n40,49,41\n", "repeated column names"),
        ("SiO2,MgO\n40,49\n41\n", "a ragged row"),
        ("Sample,Note\na,b\n", "no species column"),
    ],
)
def test_csv_that_pandas_must_read(tmp_path, text, why):
    path = tmp_path / "odd.csv"
    path.write_text(text)
    assert read_csv_arrow(path) is None, why


def test_csv_read_without_pandas_line_break_inside_a_field(tmp_path):
    path = tmp_path / "note.csv"
    path.write_text('SiO2,MgO,Note\n40,49,"two\nlines"\n41,48,one\n')
    assert numpy_column(read_csv_arrow(path).column("Note")).tolist() == ["two\nlines", "one"]


def test_csv_read_without_pandas_refuses_other_files(tmp_path):
    assert read_csv_arrow(tmp_path / "missing.csv") is None
    latin = tmp_path / "latin.csv"
    latin.write_bytes("Échantillon,SiO2\nA,40\n".encode("latin-1"))
    assert read_csv_arrow(latin) is None  # not UTF-8: pandas reads it, with its message
    pd.DataFrame({"SiO2": [40.0]}).to_parquet(tmp_path / "x.parquet")
    assert read_csv_arrow(tmp_path / "x.parquet") is None


def test_arrow_routes_run_on_pyarrow_compute_where_its_compiled_module_cannot_be_imported(tmp_path):
    """minml.io._arrow takes Arrow's compute functions from the private pyarrow._compute, and
    from pyarrow.compute where a pyarrow no longer has it there: the CSV route then writes the
    same bytes."""
    from minml.pipelines import classify_file

    code = (
        "import sys; import pyarrow.compute as pc; "
        "sys.modules['pyarrow._compute'] = None; "  # as a pyarrow that moved its compiled module
        "import minml.io._arrow as a; from minml.pipelines import classify_file; "
        f"done = classify_file({str(EXAMPLE)!r}, {str(tmp_path / 'fallback.csv')!r}); "
        "print(done.route, a._call_function is pc.call_function, a.CastOptions is pc.CastOptions)"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", "")}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert done.stdout.splitlines()[-1] == "arrow True True"
    assert classify_file(EXAMPLE, tmp_path / "private.csv").route == "arrow"
    assert (tmp_path / "fallback.csv").read_bytes() == (tmp_path / "private.csv").read_bytes()
