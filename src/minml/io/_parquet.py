"""Parquet tables: read with their stored index back among the columns, written with mixed
columns as text; and read into, and written from, Arrow tables without pandas."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa


def _read_parquet(path: Path) -> pd.DataFrame:
    """A Parquet table, its stored pandas index (sample names, IDs) back among its columns,
    where every command reads and writes them (an index is not what MIN-ML reads)."""
    import pandas as pd

    _refuse_unreadable(path)
    table = pd.read_parquet(path)
    plain = isinstance(table.index, pd.RangeIndex) and table.index.name is None
    return table if plain else table.reset_index()


def _refuse_unreadable(path: Path) -> None:
    """Raise, naming the columns, for what no table of analyses holds: a file that is no
    Parquet (or is cut short), repeated column names, cells of lists, structs or maps."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        schema = pq.read_schema(path)
    except (pa.ArrowException, OSError) as error:
        raise ValueError(
            f"{path.name!r} is not a Parquet file that can be read ({error}); it may be cut short or of another "
            "kind: give it the extension of its kind (.csv, .xlsx)."
        ) from None
    names = [name for name in schema.names if not name.startswith("__index_level_")]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ValueError(
            f"{path.name!r} has several columns named {repeated}: a column is found by its name, so rename "
            "them apart (e.g. df.columns = [...]) and write the file again."
        )
    nested = {field.name: str(field.type) for field in schema if pa.types.is_nested(field.type)}
    if nested:
        raise ValueError(
            f"{path.name!r}: columns {list(nested)} hold lists or records ({', '.join(dict.fromkeys(nested.values()))}), "
            "not one value per cell: flatten them into columns of numbers or text (e.g. df.explode or "
            "pd.json_normalize) and write the file again."
        )


def _write_parquet(df: pd.DataFrame, path: Path) -> None:
    """Parquet of ``df``; a column that mixes numbers and text (an oxide column with ``bdl``
    cells) is written as its text, since a Parquet column holds one type, with a warning
    naming it (pyarrow refused the whole table: "Expected bytes, got a 'float' object")."""
    import pandas as pd

    mixed = [
        column
        for column in df.columns
        if df[column].dtype == object and pd.api.types.infer_dtype(df[column], skipna=True).startswith("mixed")
    ]
    if mixed:
        warnings.warn(
            f"{path.name}: columns {mixed} mix numbers and text; written as text (a Parquet column "
            "holds one type), numbers as they print.",
            stacklevel=3,
        )
        df = df.copy(deep=False)  # the caller's table stays as it is
        for column in mixed:
            df[column] = df[column].map(lambda v: None if pd.isna(v) else str(v))
    df.to_parquet(path, index=False)


def read_parquet_arrow(path) -> pa.Table | None:
    """A Parquet table as Arrow, without pandas, for a pass that writes it back with results.

    Refused as :func:`minml.read_table` refuses it (not Parquet, repeated names, nested
    cells).  The schema's pandas metadata is dropped: the columns keep their stored types.

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    pyarrow.Table or None
        None where :func:`minml.read_table` would put a stored pandas index back among the
        columns (sample names, a named index), or where pandas' nullable types need the
        metadata (``Int64`` ids, ``boolean``): it reads the file then.
    """
    import pyarrow.parquet as pq

    path = Path(path)
    _refuse_unreadable(path)
    handle = pq.ParquetFile(path)  # pq.read_table would import pandas
    pandas_meta = (handle.schema_arrow.metadata or {}).get(b"pandas")
    if pandas_meta is not None:
        meta = json.loads(pandas_meta)
        index = meta.get("index_columns", [])
        if any(not (isinstance(i, dict) and i.get("kind") == "range" and i.get("name") is None) for i in index):
            return None  # stored index columns: read_table's rules
        if any(_extension_dtype(column.get("numpy_type")) for column in meta.get("columns", [])):
            return None  # pandas' nullable types (Int64, boolean, string): the metadata must come back with them
    return handle.read().replace_schema_metadata(None)


def _extension_dtype(numpy_type) -> bool:
    """Whether pandas metadata's ``numpy_type`` names one of pandas' own (extension) dtypes,
    which only the metadata brings back (an Int64 column would read back as float64)."""
    return isinstance(numpy_type, str) and (numpy_type[:1].isupper() or numpy_type in ("boolean", "string"))


def write_parquet_arrow(table: pa.Table, path) -> Path:
    """Write an Arrow table as Parquet, whole or not at all (:func:`minml.io.atomic_path`).

    Parameters
    ----------
    table : pyarrow.Table
    path : str or path-like

    Returns
    -------
    pathlib.Path
    """
    import pyarrow.parquet as pq

    from minml.io._paths import atomic_path

    path = Path(path)
    with atomic_path(path) as part:
        pq.write_table(table, part)
    return path
