"""Parquet tables: read with their stored index back among the columns, written with mixed
columns as text."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd


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
