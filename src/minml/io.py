"""Reading and writing tables of analyses: CSV, Excel (one or all sheets), Parquet."""

from __future__ import annotations

import csv
import warnings
from pathlib import Path

import pandas as pd

__all__ = ["read_table", "write_table"]

_EXCEL = {".xlsx", ".xlsm", ".xls"}
_CSV = {".csv", ".txt", ".tsv"}
_PARQUET = {".parquet", ".pq"}
_CSV_PIECE = 8_192  # rows rendered per task (the fastest of 8k-64k on 100k and 1 M rows)


def _sniff_separator(path: Path) -> str:
    with open(path, newline="", encoding="utf-8-sig", errors="replace") as handle:
        sample = handle.read(64 * 1024)
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t").delimiter
    except csv.Error:
        return ","


def read_table(path, sheet=None) -> pd.DataFrame:
    """Read a table of analyses from CSV, Excel or Parquet.

    Parameters
    ----------
    path : str or path-like
        ``.csv``/``.tsv``/``.txt`` (separator ``,``, ``;`` or tab, detected),
        ``.xlsx``/``.xlsm``/``.xls``, or ``.parquet``.
    sheet : str, int or "all", optional
        Excel only: a sheet name or position; ``"all"`` stacks every sheet with a
        ``sheet`` column saying where each row came from.  By default the first sheet
        (with a warning when the workbook has more).

    Returns
    -------
    pandas.DataFrame
        Cells as found; values are interpreted later by :func:`minml.check_oxides`.

    Raises
    ------
    FileNotFoundError, ValueError
        A missing file, an unknown extension, or a sheet the workbook lacks.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"No such file: {str(path)!r}")
    suffix = path.suffix.lower()
    if sheet is not None and suffix not in _EXCEL:
        raise ValueError(f"sheet= applies to Excel files only; {path.name!r} is {suffix or 'without extension'}.")
    if suffix in _CSV:
        return pd.read_csv(path, sep=_sniff_separator(path), encoding="utf-8-sig", low_memory=False)
    if suffix in _PARQUET:
        return pd.read_parquet(path)
    if suffix in _EXCEL:
        return _read_excel(path, sheet)
    raise ValueError(
        f"Cannot read {path.name!r}: unknown extension {suffix!r}. "
        f"Use one of {sorted(_CSV | _EXCEL | _PARQUET)}."
    )


def _read_excel(path: Path, sheet) -> pd.DataFrame:
    with pd.ExcelFile(path) as book:
        names = book.sheet_names
        if sheet == "all":
            frames = [pd.read_excel(book, sheet_name=name).assign(sheet=name) for name in names]
            return pd.concat(frames, ignore_index=True)
        if sheet is None:
            if len(names) > 1:
                warnings.warn(
                    f"{path.name} has {len(names)} sheets {names}; read the first, {names[0]!r}. "
                    "Pass sheet=NAME for another, or sheet='all' for all of them.",
                    stacklevel=3,
                )
            return pd.read_excel(book, sheet_name=names[0])
        if isinstance(sheet, int):
            if not -len(names) <= sheet < len(names):
                raise ValueError(f"{path.name} has {len(names)} sheets {names}; no sheet number {sheet}.")
            return pd.read_excel(book, sheet_name=names[sheet])
        if sheet not in names:
            raise ValueError(f"{path.name} has no sheet {sheet!r}; its sheets are {names}.")
        return pd.read_excel(book, sheet_name=sheet)


def write_table(df: pd.DataFrame, path) -> Path:
    """Write a table, choosing the format by extension (CSV, XLSX, Parquet).

    Parameters
    ----------
    df : pandas.DataFrame
    path : str or path-like

    Returns
    -------
    pathlib.Path
        The path written.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in _CSV:
        _write_csv(df, path, "\t" if suffix == ".tsv" else ",")
    elif suffix in {".xlsx", ".xlsm"}:
        df.to_excel(path, index=False)
    elif suffix in _PARQUET:
        df.to_parquet(path, index=False)
    else:
        raise ValueError(f"Cannot write {path.name!r}: use .csv, .tsv, .xlsx or .parquet.")
    return path


def _write_csv(df: pd.DataFrame, path: Path, sep: str) -> None:
    """CSV through pyarrow's writer (several times faster than pandas on large tables),
    rendered in pieces of rows on a few threads and written in order; pandas writes the
    tables pyarrow cannot type (columns mixing numbers and text)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    from minml._parallel import ordered_in_threads

    plain = df.copy(deep=False)
    for column in plain.columns:  # categories as their text (pyarrow writes no dictionaries)
        if isinstance(plain[column].dtype, pd.CategoricalDtype) and not _text_categories(plain[column]):
            plain[column] = plain[column].astype(str)
    try:
        table = pa.Table.from_pandas(plain, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        df.to_csv(path, index=False, sep=sep)
        return
    table = pa.table([c.cast(pa.string()) if pa.types.is_dictionary(c.type) else c for c in table.columns],
                     names=table.column_names)

    def render(start: int):
        sink = pa.BufferOutputStream()
        options = pacsv.WriteOptions(delimiter=sep, quoting_style="needed", include_header=start == 0)
        pacsv.write_csv(table.slice(start, _CSV_PIECE), sink, write_options=options)
        return sink.getvalue()

    with open(path, "wb") as handle:
        handle.writelines(ordered_in_threads(render, range(0, max(len(table), 1), _CSV_PIECE)))


def _text_categories(column: pd.Series) -> bool:
    """Whether a categorical column's categories are all text (pyarrow then writes them as
    they are, missing values as empty fields)."""
    return all(isinstance(c, str) for c in column.cat.categories)
