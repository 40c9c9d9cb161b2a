"""CSV files through pandas: every layout the sniffing finds, with its refusals (rows longer
than the header, names below a title), identifiers kept as written; and CSV written through
pyarrow where the table allows it."""

from __future__ import annotations

import codecs
import itertools
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from minml.chemistry.oxides import species_names
from minml.io._csv_arrow import COMMA_NUMBER, _write_csv_arrow_to, is_csv
from minml.io._excel import _EXCEL_SUFFIXES
from minml.io._sniff import (
    _FALLBACK,
    _HEADER_SEARCH,
    _WHITESPACE,
    _cells_of,
    _first_foreign_byte,
    _first_lines,
    _not_utf8,
    _refuse_binary,
    _refuse_names_below,
    _refuse_wide_header,
    _separator_name,
    _sniff_separator,
    _text_encoding,
    note_lines,
    notes_below,
    notes_note,
    units_note,
    units_row,
    with_units,
)

if TYPE_CHECKING:
    import pandas as pd


def read_csv(path: Path, encoding: str | None = None, header_row: int | None = None) -> pd.DataFrame:
    """A CSV file as :func:`minml.io.read_table` reads it (``encoding`` and ``header_row`` as there).

    A file that is not UTF-8 but is cp1252 text is read as cp1252, with a warning naming the
    first byte that is not UTF-8 (numbers read the same in either; only text such as ``‰`` or
    ``°`` depends on it); a file that looks binary is refused."""
    codec = _text_encoding(encoding, path)
    _refuse_binary(path, codec)
    if encoding is None and codec == _FALLBACK:
        with open(path, "rb") as handle:
            where = _first_foreign_byte(handle.read(1 << 20), shown=_FALLBACK)
        warnings.warn(
            f"{path.name!r} is not UTF-8 text{where}; read as {_FALLBACK} (Excel's 'CSV' on Windows): "
            f"numbers read the same in either, only text depends on it. Pass encoding= to read it otherwise.",
            stacklevel=4,
        )
    return _read_csv(path, codec, header_row, given=encoding is not None)


def _missing_text(path: Path, codec: str, sep: str, skip: int) -> dict[int, list[str]]:
    """pandas' ``na_values`` by column position: in species columns a missing number as programs
    print it (``NaN``, ``nan``); elsewhere only an empty field, so that a sample named ``NA`` or a
    note saying ``None`` comes back as written, and so does an oxide's ``#N/A`` (noted by the checks)."""
    import pandas as pd

    from minml.tables._values import NUMBER_MISSING

    names = pd.read_csv(path, sep=sep, encoding=codec, skiprows=skip, index_col=False, nrows=0).columns
    return {i: list(NUMBER_MISSING) if species_names([name]) else [""] for i, name in enumerate(names)}


def _read_csv(path: Path, codec: str, header_row: int | None, given: bool = False) -> pd.DataFrame:
    sep = _sniff_separator(path, codec)
    _refuse_wide_header(path, codec, sep)
    skip = 0 if header_row is None else header_row - 1
    table = _parse(path, codec, sep, skip, header_row, given)
    if header_row is None and not species_names(table.columns):
        _refuse_names_below(repr(path.name), _first_lines(path, codec, sep))
    skiprows: int | list[int] = skip
    nrows = None
    layout = _layout(table, path, codec, sep, skip)
    if layout is not None:  # read again without the rows that are no analyses, so that columns type as they would
        skiprows, nrows, names = layout
        table = _parse(path, codec, sep, skip, header_row, given, skiprows, nrows)
        table.columns = names
    return _ids_as_written(_decimal_commas_as_numbers(table, sep), path, codec, sep, skiprows, nrows)


def _parse(
    path: Path,
    codec: str,
    sep: str,
    skip: int,
    header_row: int | None,
    given: bool,
    skiprows: int | list[int] | None = None,
    nrows: int | None = None,
) -> pd.DataFrame:
    """The file as pandas reads it below ``skip`` lines (or without the records ``skiprows``, and
    ``nrows`` rows only), with the refusals of :func:`read_csv`."""
    import pandas as pd

    try:
        missing = _missing_text(path, codec, sep, skip)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", pd.errors.ParserWarning)
            # index_col=False: rows one field longer than the header must not turn the first
            # column into the index and shift every name one column to the right
            table = pd.read_csv(
                path,
                sep=sep,
                encoding=codec,
                low_memory=False,
                skiprows=skip if skiprows is None else skiprows,
                nrows=nrows,
                index_col=False,
                keep_default_na=False,
                na_values=missing,
            )
        if any(issubclass(w.category, pd.errors.ParserWarning) for w in caught):
            if header_row is None:  # a title line above the table is the likelier cause
                _refuse_names_below(repr(path.name), _first_lines(path, codec, sep))
            _refuse_longer_rows(path, codec, sep, skip)
    except UnicodeDecodeError as error:
        raise (
            _not_utf8(path, error, given)
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
    return table


def _layout(table: pd.DataFrame, path: Path, codec: str, sep: str, skip: int) -> tuple[list, int, list] | None:
    """How to read the file again without its rows that are no analyses, with a warning naming
    them: a units row under the column names (:func:`~minml.io._sniff.units_row`: its units go
    into the names where they are not wt%) and notes below the last analysis
    (:func:`~minml.io._sniff.notes_below`).  (records to skip, rows to read, column names), or
    None where there are none.  Columns aligned with spaces have no empty cells to place the
    units of a units row: such a row is read as a row."""
    names = list(table.columns)
    units = units_row(table.iloc[0].tolist(), names) if len(table) and sep != _WHITESPACE else None
    count = notes_below(table)
    if units is None and not count:
        return None
    where = repr(path.name)
    skiprows: list[int] = list(range(skip))
    if units is not None:
        record = _record_below_header(path, codec, sep, skip)
        renamed = with_units(names, units)
        warnings.warn(units_note(where, record + 1, units, names, renamed), stacklevel=5)
        skiprows.append(record)
        names = renamed
    if count:
        first, lines = note_lines(path, codec, count)
        warnings.warn(notes_note(where, lines, "lines", first, _rows_of(table.iloc[-count:])), stacklevel=5)
    return skiprows, len(table) - count - (units is not None), names


def _rows_of(table: pd.DataFrame) -> list[list]:
    return table.astype(object).to_numpy().tolist()


def _record_below_header(path: Path, codec: str, sep: str, skip: int) -> int:
    """The record (counted from 0, as pandas' ``skiprows`` counts them) of the first row below
    the header, the header being the first row that is not blank from record ``skip`` on."""
    with open(path, newline="", encoding=codec, errors="replace") as handle:
        records = itertools.islice(_cells_of(handle, sep), skip + _HEADER_SEARCH)
        filled = [i for i, cells in enumerate(records) if i >= skip and (len(cells) > 1 or any(map(str.strip, cells)))]
    return filled[1]


def _decimal_commas_as_numbers(table: pd.DataFrame, sep: str) -> pd.DataFrame:
    """``table`` with its species columns written with decimal commas as floats, where the
    separator is not a comma and every filled cell of the column is a number so written
    (``49,54``, ``-0,5``, ``50``, spaces around it): the values :func:`minml.check_oxides`
    reads from the text, so that an output in another format holds the numbers read.  A
    column holding any other text (``<0,01``, ``#N/A``, ``40,52(32)``) stays text as written,
    as a column of points with such text does."""
    import pandas as pd

    if sep == ",":
        return table
    converted = {}
    for i, (name, dtype) in enumerate(table.dtypes.items()):
        if pd.api.types.is_numeric_dtype(dtype) or not species_names([name]):
            continue
        text = table.iloc[:, i].astype("string").str.strip()
        filled = text.notna() & (text != "")
        numbers = text.str.fullmatch(COMMA_NUMBER).fillna(False)
        if not (numbers | ~filled).all() or not text.str.contains(",", regex=False).fillna(False).any():
            continue
        values = text.where(filled).str.replace(",", ".", regex=False)
        converted[i] = pd.to_numeric(values, errors="raise").to_numpy(dtype=float, na_value=float("nan"))
    if not converted:
        return table
    table = table.copy(deep=False)
    for i, values in converted.items():
        table.isetitem(i, values)
    return table


ID_AS_WRITTEN = r"^[+-]?0\d|^[+-]?\d{16,}$"
"""Numbers whose text a number loses: identifiers with leading zeros (``007``) or with more
digits than a float holds (:func:`_ids_as_written`; the folder runs type their parts alike)."""


def _ids_as_written(
    table: pd.DataFrame, path: Path, codec: str, sep: str, skip: int | list[int], nrows: int | None = None
) -> pd.DataFrame:
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
        path,
        sep=sep,
        encoding=codec,
        low_memory=False,
        skiprows=skip,
        nrows=nrows,
        index_col=False,
        usecols=numeric,
        dtype=str,
    )  # by position: names may be blank or repeated
    written = dict(zip(numeric, (text.iloc[:, k] for k in range(len(numeric))), strict=True))
    lost = [
        i for i, cells in written.items() if cells.str.strip().str.contains(ID_AS_WRITTEN, regex=True, na=False).any()
    ]
    if not lost:
        return table
    table = table.copy()
    for i in lost:
        table.isetitem(i, written[i].to_numpy(dtype=object))
    return table


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


def bom_for(source, encoding: str | None = None) -> bool:
    """Whether CSV output made from the table at ``source`` should start with a UTF-8
    byte-order mark: when the table came from Excel's world (a workbook, a CSV file saved
    with a mark, as Excel's "CSV UTF-8" is, or one in another encoding, as Excel's "CSV"
    is on Windows), so that Excel reads the output's text as it read the input's. A plain
    UTF-8 CSV file gets plain UTF-8 back."""
    path = Path(source)
    if path.suffix.lower() in _EXCEL_SUFFIXES:
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
    _write_csv_arrow_to(table, path, sep, bom)


def _text_categories(column) -> bool:
    """Whether a categorical column's categories are all text (pyarrow then writes them as
    they are, missing values as empty fields)."""
    return all(isinstance(c, str) for c in column.cat.categories)
