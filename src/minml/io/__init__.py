"""Reading and writing tables of analyses: CSV, Excel (one or all sheets), Parquet.

pandas is imported by the functions that return or take DataFrames only; CSV files can also
be read into, and written from, pyarrow tables (:func:`read_csv_arrow`,
:func:`write_csv_arrow`), which ``minml classify`` uses to start fast.
"""

from __future__ import annotations

import codecs
import csv
import os
import re
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from minml.chemistry.oxides import map_columns, species_names

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

__all__ = ["bom_for", "is_csv", "read_csv_arrow", "read_table", "writable_path", "write_csv_arrow", "write_table"]

_EXCEL = {".xlsx", ".xlsm", ".xls"}
_CSV = {".csv", ".txt", ".tsv"}
_PARQUET = {".parquet", ".pq"}
_EXCEL_WRITTEN = {".xlsx", ".xlsm"}  # the Excel formats write_table writes (not .xls)
# characters XML 1.0 cannot hold (C0 controls but tab, newline and return): openpyxl refuses them
_ILLEGAL_IN_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_HEADER_SEARCH = 50  # rows searched for column names when the first row holds none
_CSV_PIECE = 8_192  # rows rendered per task (the fastest of 8k-64k on 100k and 1 M rows)


def is_csv(path) -> bool:
    """Whether ``path`` names a CSV file (``.csv``, ``.tsv``, ``.txt``) by its extension."""
    return Path(path).suffix.lower() in _CSV


def _text_encoding(encoding: str | None, path: Path | None = None) -> str:
    """The codec a text file is read with: UTF-8 (a byte-order mark dropped) by default, or
    UTF-16 when ``path`` starts with its byte-order mark (Excel's "Unicode Text"): a mark
    declares the encoding, nothing is guessed."""
    if encoding is None:
        if path is not None and path.is_file():
            with open(path, "rb") as handle:
                if handle.read(2) in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
                    return "utf-16"
        return "utf-8-sig"
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        raise ValueError(
            f"Unknown encoding {encoding!r}; e.g. 'utf-8', 'cp1252' (Excel on Windows), 'latin-1'."
        ) from None
    return "utf-8-sig" if name in ("utf-8", "utf-8-sig") else encoding


def _not_utf8(path: Path, error: UnicodeDecodeError) -> ValueError:
    """What to tell a user whose text file is not UTF-8: where the first foreign byte is,
    and how to read the file."""
    data = path.read_bytes()
    try:
        data.decode("utf-8")
        where = ""
    except UnicodeDecodeError as first:  # the reader's error counts bytes from its own buffer
        line = data.count(b"\n", 0, first.start) + 1
        start = data.rfind(b"\n", 0, first.start) + 1
        end = data.find(b"\n", first.start)
        text = data[start : end if end >= 0 else len(data)].decode("utf-8", errors="replace").strip()
        where = f": byte 0x{data[first.start]:02x} on line {line} ({text[:60]!r})"
    return ValueError(
        f"{path.name!r} is not UTF-8 text{where or f' ({error.reason})'}. Files saved as 'CSV' by Excel on "
        "Windows are usually cp1252: pass encoding='cp1252' (on the command line: --encoding cp1252), "
        "or save the file as 'CSV UTF-8'."
    )


_WHITESPACE = r"\s+"  # columns aligned with spaces, as microprobe software prints them


def _sniff_separator(path: Path, encoding: str = "utf-8-sig") -> str:
    """``,``, ``;`` or tab, detected; or :data:`_WHITESPACE` when the file's first 64 kB hold
    none of them and its first line several words (``Sample   SiO2   MgO``)."""
    with open(path, newline="", encoding=encoding, errors="replace") as handle:
        sample = handle.read(64 * 1024)
    first = next((line for line in sample.splitlines() if line.strip()), "")
    if not any(sep in sample for sep in ",;\t") and len(first.split()) >= 2:
        return _WHITESPACE
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t").delimiter
    except csv.Error:
        return ","


def read_table(path, sheet=None, encoding: str | None = None, header_row: int | None = None) -> pd.DataFrame:
    """Read a table of analyses from CSV, Excel or Parquet.

    Parameters
    ----------
    path : str or path-like
        ``.csv``/``.tsv``/``.txt`` (separator ``,``, ``;``, tab or aligning spaces, detected),
        ``.xlsx``/``.xlsm``/``.xls``, or ``.parquet``.
    sheet : str, int or "all", optional
        Excel only: a sheet name or position (a number that names a sheet, such as 2023,
        is the name); ``"all"`` stacks every sheet with oxide columns, with a ``sheet``
        column saying where each row came from (``source_sheet`` when the sheets have a
        ``sheet`` column of their own).  By default the first sheet (with a warning
        when the workbook has more).
    encoding : str, optional
        Text files only: their codec, e.g. ``"cp1252"`` for a CSV file Excel saved on
        Windows.  By default UTF-8 (with or without a byte-order mark); a file that is not
        is refused with the line of the first foreign byte, never guessed at.
    header_row : int, optional
        The row holding the column names, counted from 1 as a spreadsheet shows it (in
        every sheet read: with ``sheet="all"``, a sheet with oxide names on another row is
        refused, never left out); the rows above it are skipped.  By default the first row; when
        that holds no oxide name but a row below does (a table's title above its column
        names, as in supplementary tables), the file is refused with that row's number.

    Returns
    -------
    pandas.DataFrame
        Cells as found; values are interpreted later by :func:`minml.check_oxides`.  A
        Parquet file's stored index (``entity_id``, sample names) comes back as columns.

    Raises
    ------
    FileNotFoundError, ValueError
        A missing file, an unknown extension, a sheet the workbook lacks, an empty text
        file, one that is not in ``encoding``, or column names below the first row.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"No such file: {str(path)!r}")
    suffix = path.suffix.lower()
    if sheet is not None and suffix not in _EXCEL:
        raise ValueError(f"sheet= applies to Excel files only; {path.name!r} is {suffix or 'without extension'}.")
    if encoding is not None and suffix not in _CSV:
        raise ValueError(
            f"encoding= applies to text files (.csv, .tsv, .txt) only; {path.name!r} is "
            f"{suffix or 'without extension'}."
        )
    counted = isinstance(header_row, int) and not isinstance(header_row, bool) and header_row >= 1
    if header_row is not None and not counted:
        raise ValueError(f"header_row counts rows from 1 (as a spreadsheet shows them), got {header_row!r}.")
    if header_row is not None and suffix in _PARQUET:
        raise ValueError(f"header_row= applies to CSV and Excel files; {path.name!r} is Parquet (named columns).")
    plain = sheet is None and encoding is None and header_row is None
    if plain and suffix not in _PARQUET | _EXCEL:
        from minml.io.instruments import read_instrument  # instrument exports, recognised from their content

        exported = read_instrument(path)
        if exported is not None:
            return exported
    if plain and suffix in _EXCEL:  # a workbook is read first, then judged (its first rows cost as much)
        from minml.io.instruments import exported_sheet, read_instrument

        try:
            table = _read_excel(path, sheet, header_row)
        except ValueError:
            exported = read_instrument(path)  # a title above the table, as AZtec writes
            if exported is None:
                raise
            return exported
        exported = read_instrument(path) if exported_sheet(table) else None
        return table if exported is None else exported
    if suffix in _CSV:
        return _read_csv(path, _text_encoding(encoding, path), header_row)
    if suffix in _PARQUET:
        return _read_parquet(path)
    if suffix in _EXCEL:
        return _read_excel(path, sheet, header_row)
    raise ValueError(
        f"Cannot read {path.name!r}: unknown extension {suffix!r}. Use one of {sorted(_CSV | _EXCEL | _PARQUET)}."
    )


def _read_csv(path: Path, codec: str, header_row: int | None) -> pd.DataFrame:
    import pandas as pd

    sep = _sniff_separator(path, codec)
    skip = 0 if header_row is None else header_row - 1
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", pd.errors.ParserWarning)
            # index_col=False: rows one field longer than the header must not turn the first
            # column into the index and shift every name one column to the right
            table = pd.read_csv(path, sep=sep, encoding=codec, low_memory=False, skiprows=skip, index_col=False)
        if any(issubclass(w.category, pd.errors.ParserWarning) for w in caught):
            if header_row is None:  # a title line above the table is the likelier cause
                _refuse_names_below(repr(path.name), _first_lines(path, codec, sep))
            _refuse_longer_rows(path, codec, sep, skip)
    except UnicodeDecodeError as error:
        raise (
            _not_utf8(path, error)
            if codec == "utf-8-sig"
            else ValueError(f"{path.name!r} is not {codec} text ({error.reason}).")
        ) from None
    except pd.errors.EmptyDataError:
        if header_row is not None and path.stat().st_size:
            raise ValueError(
                f"{path.name!r} has no row {header_row} to read column names from "
                "(header_row counts the file's rows from 1)."
            ) from None
        raise ValueError(f"{path.name!r} is empty: not even a header row of column names.") from None
    except pd.errors.ParserError as error:  # ragged rows: a title line above the table, or a broken file
        if header_row is None:
            _refuse_names_below(repr(path.name), _first_lines(path, codec, sep))
        detail = str(error).removeprefix("Error tokenizing data. C error: ").strip()
        raise ValueError(
            f"{path.name!r} is not one table of rows as long as its header: {detail}. "
            f"Separator read as {_separator_name(sep)}."
        ) from None
    if header_row is None and not species_names(table.columns):
        _refuse_names_below(repr(path.name), _first_lines(path, codec, sep))
    return _ids_as_written(table, path, codec, sep, skip)


def _ids_as_written(table: pd.DataFrame, path: Path, codec: str, sep: str, skip: int) -> pd.DataFrame:
    """``table`` with the columns that are not species, and that pandas read as numbers, back as
    the text written wherever the numbers lose it: identifiers with leading zeros (``007``,
    ``0123``) or with more digits than a float holds.  Other number columns (T, P) stay numbers."""
    import pandas as pd

    numeric = [
        i
        for i, (name, dtype) in enumerate(table.dtypes.items())
        if pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype) and not species_names([name])
    ]
    if not numeric:
        return table
    text = pd.read_csv(
        path, sep=sep, encoding=codec, low_memory=False, skiprows=skip, index_col=False, usecols=numeric, dtype=str
    )  # by position: names may be blank or repeated
    written = dict(zip(numeric, (text.iloc[:, k] for k in range(len(numeric))), strict=True))
    lost = [
        i
        for i, cells in written.items()
        if cells.str.strip().str.contains(r"^[+-]?0\d|^[+-]?\d{16,}$", regex=True, na=False).any()
    ]
    if not lost:
        return table
    table = table.copy()
    for i in lost:
        table.isetitem(i, written[i].to_numpy(dtype=object))
    return table


def _cells_of(handle, sep: str):
    """The cells of each line of an open text file, split on ``sep`` (:data:`_WHITESPACE`:
    on runs of spaces)."""
    return (line.split() for line in handle) if sep == _WHITESPACE else csv.reader(handle, delimiter=sep)


def _separator_name(sep: str) -> str:
    return "spaces" if sep == _WHITESPACE else repr(sep)


def _refuse_longer_rows(path: Path, codec: str, sep: str, skip: int) -> None:
    """Raise when a row holds a value beyond the header's last column; rows that only end
    with empty fields (a separator at the end of each line) are read as they are."""
    with open(path, newline="", encoding=codec, errors="replace") as handle:
        lines = _cells_of(handle, sep)
        width = None
        for number, cells in enumerate(lines, start=1):
            if number <= skip:
                continue
            if width is None:
                width = len(cells)
            elif any(cell.strip() for cell in cells[width:]):
                shown = " ".join(cells) if sep == _WHITESPACE else sep.join(cells)
                raise ValueError(
                    f"{path.name!r}: line {number} has {len(cells)} fields but the header names {width} columns "
                    f"({shown[:80]!r}); the values beyond the header would be lost or shifted. Add the missing "
                    f"column names to the header. Separator read as {_separator_name(sep)}."
                )


def _read_parquet(path: Path) -> pd.DataFrame:
    """A Parquet table, its stored pandas index (sample names, IDs) back among its columns,
    where every command reads and writes them (an index is not what MIN-ML reads)."""
    import pandas as pd

    table = pd.read_parquet(path)
    plain = isinstance(table.index, pd.RangeIndex) and table.index.name is None
    return table if plain else table.reset_index()


def _first_lines(path: Path, codec: str, sep: str) -> list[list[str]]:
    """The cells of the first :data:`_HEADER_SEARCH` lines of a text file (blank lines
    kept, so that positions are line numbers)."""
    with open(path, newline="", encoding=codec, errors="replace") as handle:
        reader = _cells_of(handle, sep)
        return [cells for _, cells in zip(range(_HEADER_SEARCH), reader)]


def _refuse_names_below(name: str, rows) -> None:
    """Raise when the first of ``rows`` names no species but a later one names several: the
    column names sit below a title. Returns when no row looks like column names."""
    if species_names(rows[0] if rows else []):
        return
    for number, cells in enumerate(rows[1:], start=2):
        found = species_names(cells)
        if len(found) >= 2:
            raise ValueError(
                f"{name}: row 1 holds no oxide names but row {number} does ({', '.join(found[:5])}"
                f"{', ...' if len(found) > 5 else ''}): if the column names are there, pass header_row={number} "
                f"(on the command line: --header-row {number})."
            )


def _read_sheet(book, name, header_row: int | None, where: str, short_ok: bool = False) -> pd.DataFrame:
    """One sheet, with its column names on ``header_row``, or on row 1 when they are there;
    a sheet shorter than ``header_row`` is an error, or an empty table with ``short_ok``."""
    import pandas as pd

    table = pd.read_excel(book, sheet_name=name, skiprows=0 if header_row is None else header_row - 1)
    if header_row is not None and len(table.columns) == 0 and short_ok:
        return table
    if header_row is not None and len(table.columns) == 0:
        raise ValueError(
            f"{where} has no row {header_row} to read column names from (header_row counts the sheet's rows from 1)."
        )
    if header_row is None and not species_names(table.columns):
        rows = [list(table.columns)] + table.head(_HEADER_SEARCH - 1).astype(object).to_numpy().tolist()
        _refuse_names_below(where, rows)
    return table


def _refuse_names_elsewhere(book, name, header_row: int, where: str) -> None:
    """Raise when a sheet read with ``sheet="all"`` has no oxide names on ``header_row`` but
    has them on another row: the sheets name their columns on different rows, and leaving
    this one out would lose its analyses."""
    import pandas as pd

    rows = pd.read_excel(book, sheet_name=name, header=None, nrows=_HEADER_SEARCH).astype(object).to_numpy().tolist()
    for number, cells in enumerate(rows, start=1):
        if number != header_row and len(species_names(cells)) >= 2:
            raise ValueError(
                f"{where}: row {header_row} holds no oxide names but row {number} does. header_row applies to "
                "every sheet: give the row that holds the column names in all of them, or, where the sheets differ, "
                "read them one at a time (sheet=NAME with its header_row; on the command line --sheet NAME "
                "--header-row N) and stack the tables (pd.concat)."
            )


def _excel_reader() -> str:
    """pandas' engine for reading workbooks: calamine (Rust; a dependency) reads them ten times
    faster than openpyxl (100,000 rows in 4 s, not 45 s) and gives the same cells (every
    training workbook reads identically with either); openpyxl where calamine is missing.
    Named, never left to pandas, whose default is changing (it warns when calamine is there)."""
    import importlib.util

    return "calamine" if importlib.util.find_spec("python_calamine") else "openpyxl"


def _read_excel(path: Path, sheet, header_row: int | None = None) -> pd.DataFrame:
    import pandas as pd

    with pd.ExcelFile(path, engine=_excel_reader()) as book:
        names = book.sheet_names

        def read(name, short_ok=False):
            where = f"{path.name!r}, sheet {name!r}" if len(names) > 1 else repr(path.name)
            return _read_sheet(book, name, header_row, where, short_ok)

        if sheet == "all":  # a sheet too short for header_row holds no analyses: left out as notes are
            tables = {name: read(name, short_ok=True) for name in names}
            kept = {name: table for name, table in tables.items() if species_names(table.columns)}
            if header_row is not None:
                for name in [name for name in names if name not in kept]:
                    _refuse_names_elsewhere(book, name, header_row, f"{path.name!r}, sheet {name!r}")
            if not kept:
                on = "" if header_row is None else f" on row {header_row}"
                raise ValueError(f"No sheet of {path.name} names an oxide in its columns{on}; its sheets are {names}.")
            if len(kept) < len(tables):  # notes, references: no analyses to stack
                warnings.warn(
                    f"{path.name}: sheets without oxide columns left out: "
                    f"{[name for name in names if name not in kept]}.",
                    stacklevel=3,
                )
            taken = {column for table in kept.values() for column in table.columns}
            origin = next((c for c in ("sheet", "source_sheet") if c not in taken), None)
            if origin is None:
                raise ValueError(
                    f"{path.name}: the sheets already have columns 'sheet' and 'source_sheet'; "
                    "rename one so that the stacked table can say which sheet each row came from."
                )
            return pd.concat([table.assign(**{origin: name}) for name, table in kept.items()], ignore_index=True)
        if sheet is None:
            table = read(names[0])
            if len(names) > 1 and not species_names(table.columns):
                others = [name for name in names[1:] if species_names(read(name).columns)]
                if others:
                    raise ValueError(
                        f"The first sheet of {path.name}, {names[0]!r}, has no oxide columns; "
                        f"sheets {others} have: pass sheet={others[0]!r} (on the command line: "
                        f'--sheet "{others[0]}"), or sheet="all" for every sheet with analyses.'
                    )
            if len(names) > 1:
                warnings.warn(
                    f"{path.name} has {len(names)} sheets {names}; read the first, {names[0]!r}. "
                    "Pass sheet=NAME for another, or sheet='all' for all of them.",
                    stacklevel=3,
                )
            return table
        if isinstance(sheet, int) and str(sheet) in names:  # a sheet named 2023: the name, not a position
            return read(str(sheet))
        if isinstance(sheet, int):
            if not -len(names) <= sheet < len(names):
                raise ValueError(f"{path.name} has {len(names)} sheets {names}; no sheet number {sheet}.")
            return read(names[sheet])
        if sheet not in names:
            raise ValueError(f"{path.name} has no sheet {sheet!r}; its sheets are {names}.")
        return read(sheet)


def write_table(df: pd.DataFrame, path, *, bom: bool = False, progress: bool = False) -> Path:
    """Write a table, choosing the format by extension (CSV, XLSX, Parquet).

    Parameters
    ----------
    df : pandas.DataFrame
        An index that says something (sample names, a named index, several levels) is
        written as the first column(s), as :func:`read_table` gives a Parquet file's stored
        index back; an unnamed index of integers (row positions) is not written.
    path : str or path-like
    bom : bool, default=False
        Start a CSV file (UTF-8) with a byte-order mark, by which Excel knows it is UTF-8
        (without one, Excel on Windows shows ``°C`` as ``Â°C``); see :func:`bom_for`.
    progress : bool, default=False
        Show a progress bar while an Excel file is written (about 25,000 rows a second; CSV
        and Parquet take a second for a million rows).

    Returns
    -------
    pathlib.Path
        The path written.
    """
    path = writable_path(path)
    check_fits(path, len(df))
    df = _index_as_columns(df)
    suffix = path.suffix.lower()
    if suffix in _CSV:
        _write_csv(df, path, "\t" if suffix == ".tsv" else ",", bom)
    elif suffix in _PARQUET:
        _write_parquet(df, path)
    else:
        _write_excel(df, path, progress)
    return path


def _index_as_columns(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with its index as leading columns where the index says something (names, labels
    or several levels), else ``df`` itself (also where the index repeats columns of its names,
    as ``set_index(..., drop=False)`` leaves it); a level named as a column that differs from
    it is refused (the file would hold two columns of one name)."""
    import numpy as np
    import pandas as pd

    index = df.index
    positions = index.nlevels == 1 and index.name is None and pd.api.types.is_integer_dtype(index.dtype)
    if positions:
        return df
    names = [
        name if name is not None else ("index" if index.nlevels == 1 else f"level_{i}")
        for i, name in enumerate(index.names)
    ]
    taken = [name for name in names if name in df.columns]
    repeats = len(taken) == len(names) and all(
        np.array_equal(index.get_level_values(i).to_numpy(), df[name].to_numpy()) for i, name in enumerate(names)
    )
    if repeats:  # set_index(..., drop=False): the index repeats its columns
        return df
    if taken:
        raise ValueError(
            f"The table's index is named {taken[0]!r}, as one of its columns is; the file would hold "
            "two columns of that name: rename the index (df.rename_axis('sample')) or drop it "
            "(df.reset_index(drop=True))."
        )
    return df.rename_axis(names).reset_index()


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


_EXCEL_TEXT_LIMIT = 32_767  # characters a cell holds
_EXCEL_ROWS_PER_STEP = 10_000


def _write_excel(df: pd.DataFrame, path: Path, progress: bool = False) -> None:
    """An Excel file of ``df``, names in bold, missing values as empty cells.

    openpyxl writes the workbook; for a table of numbers and text (every table MIN-ML
    writes), the rows of the sheet are rendered here in the very XML openpyxl's write-only
    mode renders (tested byte for byte), seven times faster (100,000 rows of 24 columns in about
    4 s, against 29 s through openpyxl and 57 s through ``DataFrame.to_excel``); dates and other
    objects take openpyxl's own path.  Text stays as written: openpyxl would store a string
    beginning with "=" as a formula (live in the output: a way to run formulas nobody wrote)
    and "#N/A" or "#DIV/0!" as an error; control characters (which an Excel file cannot
    hold) become spaces and text beyond Excel's 32,767 characters is cut, each with a warning.
    """
    import pandas as pd

    zoned = [name for name, dtype in df.dtypes.items() if isinstance(dtype, pd.DatetimeTZDtype)]
    if zoned:  # refused before anything is written
        name = zoned[0]
        raise ValueError(
            f"Column {name!r} holds dates with a time zone, which Excel cannot store: convert them "
            f"first, e.g. df[{name!r}] = df[{name!r}].dt.tz_localize(None)."
        )
    changed: dict[str, list] = {
        "held control characters (such as \\x0b, a line break pasted from Word) that "
        "an Excel file cannot store; written as spaces": [],
        f"held text longer than an Excel cell's {_EXCEL_TEXT_LIMIT:,} characters; cut there": [],
    }
    spaced, cut = changed.values()

    def text(value: str, name) -> str:
        if _ILLEGAL_IN_XML.search(value):
            value = _ILLEGAL_IN_XML.sub(" ", value)
            spaced.append(name)
        if len(value) > _EXCEL_TEXT_LIMIT:
            value = value[:_EXCEL_TEXT_LIMIT]
            cut.append(name)
        return value

    header = [text(str(name), name) for name in df.columns]

    def parts():  # rows a step at a time: a million rows never become 24 million Python objects at once
        for start in range(0, len(df), _EXCEL_ROWS_PER_STEP):
            part = df.iloc[start : start + _EXCEL_ROWS_PER_STEP]
            yield [
                _excel_cells(part.iloc[:, j], name, lambda value, name=name: text(value, name))
                for j, name in enumerate(df.columns)
            ]

    writer = _write_sheet_rendered if _numbers_and_text(df) else _write_sheet_openpyxl
    writer(header, parts(), len(df), path, progress)
    for what, names in changed.items():
        if names:
            warnings.warn(
                f"{path.name}: columns {list(dict.fromkeys(names))} {what} (a CSV output keeps them).", stacklevel=3
            )


def _numbers_and_text(df: pd.DataFrame) -> bool:
    """Whether every cell of ``df`` goes to Excel as a number, a boolean, text or nothing
    (:func:`_excel_cells`): no dates, times or decimals, which openpyxl renders itself."""
    import datetime
    import decimal

    import pandas as pd

    for j, dtype in enumerate(df.dtypes):
        if pd.api.types.is_datetime64_any_dtype(dtype):
            return False
        if dtype == object and any(  # noqa: E721 (numpy dtypes compare with ==)
            isinstance(value, (decimal.Decimal, datetime.date, datetime.time)) for value in df.iloc[:, j].tolist()
        ):
            return False
    return True


def _excel_book(header: list[str]):
    """A write-only openpyxl workbook of one sheet whose first row is ``header`` in bold, and
    the sheet."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook(write_only=True)
    sheet = book.create_sheet("Sheet1")
    bold = Font(bold=True)
    sheet.append([_text_cell(sheet, name, bold) for name in header])  # a name such as "=x" stays text
    return book, sheet


def _text_cell(sheet, value: str, font=None):
    """A write-only cell holding ``value`` as text: openpyxl would make "=..." a formula and
    "#N/A" an error cell."""
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(sheet, value=value)
    cell.data_type = "s"
    if font is not None:
        cell.font = font
    return cell


def _write_sheet_openpyxl(header, parts, n_rows: int, path: Path, progress: bool) -> None:
    """The rows appended through openpyxl (any cell type it knows: dates, decimals, ...);
    ``parts`` gives the rows a step at a time, as lists of columns of cells."""
    from openpyxl.cell.cell import ERROR_CODES

    from minml._parallel import progress_bar

    book, sheet = _excel_book(header)

    def as_written(value):
        if isinstance(value, str) and (value.startswith("=") or value in ERROR_CODES):
            return _text_cell(sheet, value)
        return value

    with progress_bar(n_rows, f"writing {path.name}", progress, unit="row") as bar:
        for columns in parts:
            for row in zip(*columns):
                sheet.append([as_written(value) for value in row])
            bar.update(len(columns[0]) if columns else 0)
    book.save(path)


def _write_sheet_rendered(header, parts, n_rows: int, path: Path, progress: bool) -> None:
    """openpyxl writes the workbook with the names only; the rows of numbers and text
    (``parts``: a step of rows at a time, as lists of columns) are rendered here as openpyxl
    renders them and streamed into its sheet, the other parts of the package copied as
    openpyxl wrote them."""
    import io
    import zipfile

    from openpyxl.utils import get_column_letter

    from minml._parallel import progress_bar

    book, _ = _excel_book(header)
    skeleton = io.BytesIO()
    book.save(skeleton)
    letters = [get_column_letter(j) for j in range(1, len(header) + 1)]
    big = n_rows * max(len(header), 1) * 64 > 2**31  # may pass 2 GiB: ZIP64
    with zipfile.ZipFile(skeleton) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename != "xl/worksheets/sheet1.xml":
                target.writestr(info, data)
                continue
            head, tail = data.split(b"</sheetData>")
            with (
                target.open(info, "w", force_zip64=big) as sheet,
                progress_bar(n_rows, f"writing {path.name}", progress, unit="row") as bar,
            ):
                sheet.write(head)
                first = 2  # row 1 holds the names
                for columns in parts:
                    sheet.write(_rows_xml(columns, letters, first).encode("utf-8"))
                    done = len(columns[0]) if columns else 0
                    first += done
                    bar.update(done)
                sheet.write(b"</sheetData>" + tail)


def _rows_xml(columns: list[list], letters: list[str], first: int) -> str:
    """SpreadsheetML rows ``first``, ``first + 1``, ... of the cells in ``columns`` (None,
    bool, int, float or str), as openpyxl's write-only mode renders them: cells with their
    reference, numbers as "%.16g", text inline, an empty row as <row r="n"></row>."""
    from xml.sax.saxutils import escape

    out = []
    for i, row in enumerate(zip(*columns)):
        r = first + i
        out.append(f'<row r="{r}">')
        for letter, value in zip(letters, row):
            kind = type(value)
            if value is None:
                continue
            if kind is str:
                if not value:
                    out.append(f'<c r="{letter}{r}" t="inlineStr" />')
                    continue
                stripped = value.strip()
                space = ' xml:space="preserve"' if stripped and stripped != value else ""
                out.append(f'<c r="{letter}{r}" t="inlineStr"><is><t{space}>{escape(value)}</t></is></c>')
            elif kind is bool:
                out.append(f'<c r="{letter}{r}" t="b"><v>{int(value)}</v></c>')
            else:
                out.append(f'<c r="{letter}{r}" t="n"><v>{"%.16g" % value}</v></c>')  # noqa: UP031 (the exact text openpyxl writes)
        out.append("</row>")
    return "".join(out)


def _excel_cells(column: pd.Series, name, text) -> list:
    """The values of one column as openpyxl writes them: numbers as Python numbers, missing
    values as None (an empty cell), text through ``text``, dates as they are, anything else
    as its text.  What Excel cannot hold as a number is written as text: infinity (openpyxl
    dropped it) and integers beyond 2**53 (a float's digits: 20-digit IDs lost their last)."""
    import datetime
    import decimal
    import math

    import numpy as np
    import pandas as pd

    kind = column.dtype.kind if isinstance(column.dtype, np.dtype) else ""
    if kind == "b":
        return column.tolist()
    if kind and kind in "iu":
        return [text(str(v)) if abs(v) > 2**53 else v for v in column.tolist()]
    if kind == "f":
        return [
            None if v != v else text(repr(v)) if v in (math.inf, -math.inf) else v
            for v in column.to_numpy(dtype=float).tolist()
        ]
    out = []
    for value in column.astype(object).tolist():
        if isinstance(value, np.generic):
            value = value.item()
        if isinstance(value, str):
            out.append(text(value))
        elif value is None or (pd.api.types.is_scalar(value) and pd.isna(value)):
            out.append(None)
        elif isinstance(value, float) and math.isinf(value):
            out.append(text(repr(value)))
        elif isinstance(value, int) and not isinstance(value, bool) and abs(value) > 2**53:
            out.append(text(str(value)))
        elif isinstance(value, (bool, int, float, decimal.Decimal, datetime.datetime, datetime.date, datetime.time)):
            out.append(value)
        else:
            out.append(text(str(value)))
    return out


def writable_path(path, *, table: bool = True) -> Path:
    """``path`` as a :class:`~pathlib.Path` once it is known to be writable: its folder exists
    and, for a ``table``, :func:`write_table` knows its extension.  For checking an output
    before long work rather than failing after it.

    Raises
    ------
    ValueError
        With what to change.
    """
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"Cannot write {str(path)!r}: it is a folder; give a file name.")
    if table and path.suffix.lower() not in _CSV | _PARQUET | _EXCEL_WRITTEN:
        raise ValueError(f"Cannot write {path.name!r}: use .csv, .tsv, .xlsx or .parquet.")
    if not path.parent.is_dir():
        raise ValueError(f"Cannot write {str(path)!r}: there is no folder {str(path.parent)!r}; create it first.")
    if not os.access(path.parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise ValueError(
            f"Cannot write {str(path)!r}: {'it' if path.exists() else 'its folder'} is read-only "
            "here; write to another folder (on the command line: -o PATH)."
        )
    return path


EXCEL_ROWS = 1_048_576  # rows of an Excel sheet, the header's included


def check_fits(path, n_rows: int) -> None:
    """Refuse, before long work, a table of ``n_rows`` rows (and a header) for an Excel file
    that cannot hold them."""
    if Path(path).suffix.lower() in _EXCEL_WRITTEN and n_rows + 1 > EXCEL_ROWS:
        raise ValueError(
            f"{n_rows:,} rows do not fit an Excel sheet ({EXCEL_ROWS:,} rows, the header's "
            f"included): write {Path(path).stem}.csv or .parquet instead."
        )


def bom_for(source, encoding: str | None = None) -> bool:
    """Whether CSV output made from the table at ``source`` should start with a UTF-8
    byte-order mark: when the table came from Excel's world (a workbook, a CSV file saved
    with a mark, as Excel's "CSV UTF-8" is, or one in another encoding, as Excel's "CSV"
    is on Windows), so that Excel reads the output's text as it read the input's. A plain
    UTF-8 CSV file gets plain UTF-8 back."""
    path = Path(source)
    if path.suffix.lower() in _EXCEL:
        return True
    if not is_csv(path) or not path.is_file():
        return False
    if _text_encoding(encoding, path) != "utf-8-sig":
        return True
    with open(path, "rb") as handle:
        return handle.read(len(codecs.BOM_UTF8)) == codecs.BOM_UTF8


def _write_csv(df: pd.DataFrame, path: Path, sep: str, bom: bool = False) -> None:
    """CSV through pyarrow's writer (several times faster than pandas on large tables);
    pandas writes the tables pyarrow cannot type (columns mixing numbers and text)."""
    import pandas as pd
    import pyarrow as pa

    plain = df.copy(deep=False)
    for column in plain.columns:  # categories as their text (pyarrow writes no dictionaries)
        if isinstance(plain[column].dtype, pd.CategoricalDtype) and not _text_categories(plain[column]):
            plain[column] = plain[column].astype(str)
    try:
        table = pa.Table.from_pandas(plain, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        df.to_csv(path, index=False, sep=sep, encoding="utf-8-sig" if bom else "utf-8")
        return
    table = pa.table(
        [c.cast(pa.string()) if pa.types.is_dictionary(c.type) else c for c in table.columns], names=table.column_names
    )
    write_csv_arrow(table, path, sep, bom=bom)


def write_csv_arrow(table: pa.Table, path, sep: str = ",", *, bom: bool = False) -> Path:
    """Write a pyarrow table as CSV (no index, fields quoted where needed), rendered in
    pieces of rows on a few threads and written in order.

    Parameters
    ----------
    table : pyarrow.Table
        Columns of numbers or text (no dictionaries); missing values are written as
        empty fields.
    path : str or path-like
    sep : str, default=","
    bom : bool, default=False
        As :func:`write_table`.

    Returns
    -------
    pathlib.Path
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    from minml._parallel import ordered_in_threads

    def render(start: int):
        sink = pa.BufferOutputStream()
        options = pacsv.WriteOptions(delimiter=sep, quoting_style="needed", include_header=start == 0)
        pacsv.write_csv(table.slice(start, _CSV_PIECE), sink, write_options=options)
        return sink.getvalue()

    path = Path(path)
    with open(path, "wb") as handle:
        if bom:
            handle.write(codecs.BOM_UTF8)
        handle.writelines(ordered_in_threads(render, range(0, max(len(table), 1), _CSV_PIECE)))
    return path


def read_csv_arrow(
    path, suffix: str | None = None, encoding: str | None = None, elements: bool = False
) -> pa.Table | None:
    """A CSV file of analyses as a pyarrow table, read without pandas.

    Species columns (:func:`minml.map_columns` with ``suffix`` and ``elements``) are typed by their cells;
    every other column is read as text, as written.  Cells pandas reads as missing
    (``""``, ``NA``, ``nan``, ...) are missing here too.

    Parameters
    ----------
    path : str or path-like
        ``.csv``/``.tsv``/``.txt`` (separator detected as by :func:`read_table`).
    suffix : str, optional
        As :func:`minml.check_oxides`.
    encoding : str, optional
        As :func:`read_table`.
    elements : bool, default=False
        As :func:`minml.check_oxides`.

    Returns
    -------
    pyarrow.Table or None
        None where :func:`read_table` should read the file instead: not a UTF-8 CSV file,
        repeated column names, no species column, or rows pyarrow cannot parse (ragged
        rows, text that is not UTF-8), so that its messages and choices apply.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    from minml.tables._values import MISSING_TEXT

    path = Path(path)
    if not is_csv(path) or not path.is_file() or _text_encoding(encoding, path) != "utf-8-sig":
        return None
    from minml.io.instruments import looks_like_instrument

    if looks_like_instrument(path):  # read_table reads instrument exports
        return None
    sep = _sniff_separator(path)
    if sep == _WHITESPACE:  # Arrow splits on one character: pandas reads these
        return None
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            header = next(csv.reader(handle, delimiter=sep), None)
        if not header:
            return None
        names = [name or f"Unnamed: {i}" for i, name in enumerate(header)]  # pandas' names for blank headers
        if len(set(names)) < len(names):
            return None
        species = set(map_columns(names, suffix=suffix, elements=elements).mapped)
    except (UnicodeDecodeError, csv.Error, ValueError):
        return None
    if not species:
        return None
    try:
        return pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=1),
            parse_options=pacsv.ParseOptions(delimiter=sep, newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(
                column_types={n: pa.string() for n in names if n not in species},
                null_values=list(MISSING_TEXT),
                strings_can_be_null=True,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None


def _text_categories(column) -> bool:
    """Whether a categorical column's categories are all text (pyarrow then writes them as
    they are, missing values as empty fields)."""
    return all(isinstance(c, str) for c in column.cat.categories)
