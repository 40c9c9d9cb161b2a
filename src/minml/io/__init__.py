"""Reading and writing tables of analyses: CSV, Excel (one or all sheets), Parquet.

One module per format (:mod:`~minml.io._csv` with its Arrow fast path
:mod:`~minml.io._csv_arrow`, :mod:`~minml.io._excel` and the writer :mod:`~minml.io._xlsx`,
:mod:`~minml.io._parquet`), chosen by extension in one table, :data:`FORMATS`
(:mod:`~minml.io._formats`); every output is written whole or not at all
(:func:`atomic_path`).  pandas is imported by the functions that return or take DataFrames
only; CSV files can also be read into, and written from, pyarrow tables
(:func:`read_csv_arrow`, :func:`write_csv_arrow`), which ``minml classify`` uses to start fast.

Imports :mod:`minml.chemistry` (column names) and :mod:`minml.tables` (missing-value text).
"""

from __future__ import annotations

from minml.io._csv import bom_for
from minml.io._csv_arrow import is_csv, read_csv_arrow, write_csv_arrow
from minml.io._csv_lines import read_csv_rows, write_beside_lines
from minml.io._formats import (
    EXCEL_ROWS,
    FORMATS,
    Format,
    check_fits,
    read_table,
    register,
    writable_path,
    write_table,
)
from minml.io._paths import atomic_path

__all__ = [
    "EXCEL_ROWS",
    "FORMATS",
    "Format",
    "atomic_path",
    "bom_for",
    "check_fits",
    "is_csv",
    "read_csv_arrow",
    "read_csv_rows",
    "read_table",
    "register",
    "writable_path",
    "write_beside_lines",
    "write_csv_arrow",
    "write_table",
]
