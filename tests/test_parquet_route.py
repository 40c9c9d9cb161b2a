"""classify_file from Parquet to Parquet on Arrow, without pandas (minml.io._parquet's
read_parquet_arrow and write_parquet_arrow, minml.io._arrow.stored_array)."""

import subprocess
import sys

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from minml import classify, classify_file, read_table
from minml.classifier.predict import Coded
from minml.io._arrow import stored_array

from .conftest import EXAMPLE


def _parquet(tmp_path, frame=None, name="analyses.parquet"):
    path = tmp_path / name
    (read_table(EXAMPLE) if frame is None else frame).to_parquet(path, index=False)
    return path


def test_parquet_to_parquet_is_the_table_the_pandas_route_writes(tmp_path):
    source = _parquet(tmp_path)
    summary = classify_file(source, tmp_path / "out.parquet")
    assert summary.route == "arrow"
    given = read_table(source)
    expected = pd.concat([given, classify(given)], axis=1)  # what the pandas route writes
    written = pd.read_parquet(tmp_path / "out.parquet")
    pd.testing.assert_frame_equal(written, expected)
    schema = pq.read_schema(tmp_path / "out.parquet")
    assert str(schema.field("mineral").type) == "dictionary<values=string, indices=int8, ordered=0>"
    assert schema.metadata is None  # no pandas block: the columns keep the types they are stored with


def test_a_stored_index_goes_by_pandas_and_comes_back_as_a_column(tmp_path):
    frame = read_table(EXAMPLE).set_index("entity_id")
    path = tmp_path / "indexed.parquet"
    frame.to_parquet(path)  # the index stored as a column of the file
    summary = classify_file(path, tmp_path / "out.parquet")
    assert summary.route == "pandas"
    assert pd.read_parquet(tmp_path / "out.parquet").columns[0] == "entity_id"


def test_nullable_integers_and_options_for_other_formats_go_by_pandas(tmp_path):
    frame = read_table(EXAMPLE)
    frame["entity_id"] = pd.array([2**60 + i if i % 3 else None for i in range(len(frame))], dtype="Int64")
    path = _parquet(tmp_path, frame)
    summary = classify_file(path, tmp_path / "out.parquet")
    assert summary.route == "pandas"  # the ids keep every digit only with pandas' metadata
    written = pd.read_parquet(tmp_path / "out.parquet")
    assert written["entity_id"].dtype == "Int64" and written["entity_id"].iloc[1] == 2**60 + 1
    with pytest.raises(ValueError, match="header_row= applies to CSV and Excel files"):
        classify_file(_parquet(tmp_path, name="plain.parquet"), tmp_path / "out2.parquet", header_row=3)


def test_parquet_to_parquet_imports_no_pandas(tmp_path):
    source = _parquet(tmp_path)
    code = (
        "import sys; from minml.pipelines import classify_file; "
        f"s = classify_file({str(source)!r}, {str(tmp_path / 'out.parquet')!r}); "
        "print(s.route, 'pandas' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["arrow", "False"]


def test_stored_arrays_are_typed_as_pandas_stores_them():
    many = stored_array(Coded(np.array([0, 200]), [f"c{i}" for i in range(300)]))
    assert str(many.type) == "dictionary<values=string, indices=int16, ordered=0>"
    assert many.to_pylist() == ["c0", "c200"] and len(many.dictionary) == 300  # every category kept
    assert str(stored_array(np.array(["", "low total"], dtype=object)).type) == "large_string"
    assert str(stored_array(np.array([0.5, np.nan], dtype=np.float32)).type) == "float"
