"""The formats a table is read from and written to, by extension: one table, :data:`FORMATS`.

A new format is one entry (:func:`register`): its readers and writers are plain functions;
``read_table``, ``write_table`` and ``writable_path`` take their choices, and their messages'
lists of extensions, from the table.  Extensions are matched case-insensitively
(``DATA.CSV``, ``Book.XLSX``).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from minml.io import _csv, _excel, _parquet, _xlsx
from minml.io._paths import atomic_path

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["EXCEL_ROWS", "FORMATS", "Format", "check_fits", "read_table", "register", "writable_path", "write_table"]

EXCEL_ROWS = 1_048_576  # rows of an Excel sheet, the header's included


@dataclass(frozen=True)
class Format:
    """One kind of table file.

    Attributes
    ----------
    kind : str
        Its name in messages ("CSV", "Excel").
    read : callable, optional
        ``read(path, **options) -> DataFrame``, taking the keywords named in ``options``.
    write : callable, optional
        ``write(df, path, *, bom, progress)``: writes ``df`` at ``path`` (a temporary file
        of the target's name, moved into place by :func:`write_table`).
    options : tuple of str
        The keywords of :func:`read_table` this format takes (``sheet``, ``encoding``,
        ``header_row``).
    max_rows : int, optional
        Rows a file holds, the header's included.
    shown : bool
        Whether its extension is offered in the messages listing what can be written.
    """

    kind: str
    read: Callable[..., Any] | None = None
    write: Callable[..., None] | None = None
    options: tuple[str, ...] = ()
    max_rows: int | None = None
    shown: bool = True


def _write_csv(df: pd.DataFrame, path: Path, *, bom: bool, progress: bool, sep: str = ",") -> None:
    _csv._write_csv(df, path, sep, bom)


def _write_parquet(df: pd.DataFrame, path: Path, *, bom: bool, progress: bool) -> None:
    _parquet._write_parquet(df, path)


def _write_excel(df: pd.DataFrame, path: Path, *, bom: bool, progress: bool) -> None:
    _xlsx._write_excel(df, path, progress)


_CSV = Format("CSV", _csv.read_csv, _write_csv, ("encoding", "header_row"))
_EXCEL = Format("Excel", _excel._read_excel, _write_excel, ("sheet", "header_row"), max_rows=EXCEL_ROWS)
_PARQUET = Format("Parquet", _parquet._read_parquet, _write_parquet)

FORMATS: dict[str, Format] = {
    ".csv": _CSV,
    ".tsv": Format("CSV", _csv.read_csv, functools.partial(_write_csv, sep="\t"), _CSV.options),
    ".txt": Format("CSV", _csv.read_csv, _write_csv, _CSV.options, shown=False),
    ".xlsx": _EXCEL,
    ".xlsm": Format("Excel", _excel._read_excel, _write_excel, _EXCEL.options, EXCEL_ROWS, shown=False),
    ".xls": Format("Excel", _excel._read_excel, None, _EXCEL.options),  # read only: nothing writes .xls now
    ".parquet": _PARQUET,
    ".pq": Format("Parquet", _parquet._read_parquet, _write_parquet, shown=False),
}
"""Extension (lower case, with its dot) to format."""


def register(suffix: str, fmt: Format) -> None:
    """Add (or replace) the format of files whose names end in ``suffix`` (any case)."""
    if not suffix.startswith(".") or len(suffix) < 2:
        raise ValueError(f"An extension starts with a dot, e.g. '.csv'; got {suffix!r}.")
    FORMATS[suffix.lower()] = fmt


def _format_of(path: Path) -> Format | None:
    return FORMATS.get(path.suffix.lower())


def _listed(suffixes: list[str]) -> str:
    return suffixes[0] if len(suffixes) == 1 else f"{', '.join(suffixes[:-1])} or {suffixes[-1]}"


def _refuse_options(path: Path, fmt: Format | None, given: dict[str, Any]) -> None:
    """Raise when ``given`` holds an option the file's format does not take."""
    for option, value in given.items():
        if value is None or (fmt is not None and option in fmt.options):
            continue
        takers = [suffix for suffix, f in FORMATS.items() if option in f.options]
        kinds = " and ".join(dict.fromkeys(FORMATS[s].kind for s in takers))
        what = fmt.kind if fmt is not None else path.suffix or "without extension"
        raise ValueError(
            f"{option}= applies to {kinds} files ({', '.join(takers)}) only; {path.name!r} is {what}"
            f"{' (named columns)' if option == 'header_row' and what == 'Parquet' else ''}."
        )


def read_table(path, sheet=None, encoding: str | None = None, header_row: int | None = None) -> pd.DataFrame:
    """Read a table of analyses from CSV, Excel or Parquet.

    Parameters
    ----------
    path : str or path-like
        ``.csv``/``.tsv``/``.txt`` (separator ``,``, ``;``, tab or aligning spaces, detected),
        ``.xlsx``/``.xlsm``/``.xls``, or ``.parquet``.
    sheet : str, int or "all", optional
        Excel only: a sheet name or position (a number that names a sheet, such as 2023,
        is the name); ``"all"`` stacks every sheet with oxide columns, each read from its own
        row of column names (below a title of any height: a warning names the rows left out),
        with a ``sheet`` column saying where each row came from (``source_sheet`` when the
        sheets have a ``sheet`` column of their own); sheets without oxide columns are left
        out, with a warning naming them.  Sheets whose species columns carry different phase
        affixes (``SiO2``, ``Opx SiO2``, ``SiO2 (Pl)``) stack under the plain names, each
        sheet's affix named in a warning; sheets that no single ``suffix=`` would read
        together (a sheet of ``_Cpx`` and ``_Liq`` pairs beside one of plain names) are refused.  By default the first sheet (with a warning
        when the workbook has more), or, when the first sheet holds no oxide column (notes)
        and later ones do, those sheets as ``"all"`` reads them, with a warning naming them.
    encoding : str, optional
        Text files only: their codec, e.g. ``"cp1252"`` for a CSV file Excel saved on
        Windows.  By default UTF-8 (with or without a byte-order mark), UTF-16 where its
        byte-order mark says so, or cp1252 for a file that is not UTF-8 but is cp1252 text
        throughout (with a warning naming the first byte that is not UTF-8: numbers read the
        same, only text depends on it); a file in neither, or one that looks binary, is refused.
    header_row : int, optional
        The row holding the column names, counted from 1 as a spreadsheet shows it (in
        every sheet read: with ``sheet="all"``, a sheet with oxide names on another row is
        refused, never left out); the rows above it are skipped.  By default the first row; when
        that holds no oxide name but a row below does (a table's title above its column
        names, as in supplementary tables), the file is refused with that row's number (with
        ``sheet="all"``, each sheet is read from that row).

    Returns
    -------
    pandas.DataFrame
        Cells as found; values are interpreted later by :func:`minml.check_oxides`.  A file
        read with no option whose content is an instrument's export (text or workbook alike:
        :func:`minml.io.instruments.read_instrument`) comes back as its analyses.  Rows that
        are no analyses are left out, each with a warning naming them: a units row under the
        column names (read with them: ``NiO`` over ``ppm`` comes back as ``NiO (ppm)``, which is
        not read as wt%), and notes, blank rows and references below the last analysis (not
        those between analyses, nor statistics rows such as ``Average``).  An oxide
        column of a text file not separated by commas whose every cell is a number written
        with a decimal comma (``49,54``) comes back as floats (the numbers the checks read).
        Text such as ``NA``, ``None`` or ``null`` stays text in columns that are not species
        (only empty cells are missing there); in species columns it is missing.  Excel error
        cells and formulas saved without their result hold the text they show (``#DIV/0!``,
        ``=B2/C2``), which the checks flag.  A Parquet file's stored index (``entity_id``, sample names)
        comes back as columns.

    Raises
    ------
    FileNotFoundError, ValueError
        A missing file, an unknown extension, a sheet the workbook lacks, an empty text
        file, one that is not in ``encoding``, or column names below the first row.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"No such file: {str(path)!r}")
    fmt = _format_of(path)
    _refuse_options(path, fmt, {"sheet": sheet, "encoding": encoding})
    counted = isinstance(header_row, int) and not isinstance(header_row, bool) and header_row >= 1
    if header_row is not None and not counted:
        raise ValueError(f"header_row counts rows from 1 (as a spreadsheet shows them), got {header_row!r}.")
    _refuse_options(path, fmt, {"header_row": header_row})
    if fmt is None and sheet is None and encoding is None and header_row is None:
        from minml.io.instruments import read_instrument

        exported = read_instrument(path)  # instrument software writes .dat, .prn, .QTI.txt ...
        if exported is not None:
            return exported
    if fmt is None or fmt.read is None:
        raise ValueError(
            f"Cannot read {path.name!r}: unknown extension {path.suffix!r}. "
            f"Use one of {sorted(s for s, f in FORMATS.items() if f.read is not None)}"
            f"{' (nor is its content an instrument export minml recognises)' if fmt is None else ''}."
        )
    given = {"sheet": sheet, "encoding": encoding, "header_row": header_row}
    options = {option: value for option, value in given.items() if option in fmt.options}
    if sheet is None and encoding is None and header_row is None and fmt.kind != "Parquet":
        return _read_or_export(path, fmt, options)
    return fmt.read(path, **options)


def _read_or_export(path: Path, fmt: Format, options: dict) -> pd.DataFrame:
    """A file read with no option: an instrument's export (:mod:`minml.io.instruments`) where
    its content says so, else the table.  Text files are sniffed on their first lines; a
    workbook is read first and judged after (its first rows cost as much as the whole), and
    read as an export only when it looks like one or is refused for a title above the table."""
    from minml.io.instruments import exported_sheet, read_instrument

    if fmt.read is None:  # refused by read_table before
        raise ValueError(f"Cannot read {path.name!r}: {fmt.kind} files are written, not read.")
    if fmt.kind != "Excel":
        exported = read_instrument(path)
        return fmt.read(path, **options) if exported is None else exported
    try:
        table = fmt.read(path, **options)
    except ValueError:
        exported = read_instrument(path)  # a title above the table, as AZtec writes
        if exported is None:
            raise
        return exported
    exported = read_instrument(path) if exported_sheet(table) else None
    return table if exported is None else exported


def write_table(df: pd.DataFrame, path, *, bom: bool = False, progress: bool = False) -> Path:
    """Write a table, choosing the format by extension (CSV, XLSX, Parquet), whole or not at
    all: into a temporary file beside ``path``, renamed onto it once complete
    (:func:`minml.io.atomic_path`), so that a failure, Ctrl-C or a second run writing the same
    path never leaves a part of a file.

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
    write = FORMATS[path.suffix.lower()].write
    assert write is not None  # writable_path refuses the others
    with atomic_path(path) as part:
        write(df, part, bom=bom, progress=progress)
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
    fmt = _format_of(path)
    if table and (fmt is None or fmt.write is None):
        shown = [suffix for suffix, f in FORMATS.items() if f.write is not None and f.shown]
        raise ValueError(f"Cannot write {path.name!r}: use {_listed(shown)}.")
    if not path.parent.is_dir():
        raise ValueError(f"Cannot write {str(path)!r}: there is no folder {str(path.parent)!r}; create it first.")
    if not os.access(path.parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise ValueError(
            f"Cannot write {str(path)!r}: {'it' if path.exists() else 'its folder'} is read-only "
            "here; write to another folder."
        )
    return path


def check_fits(path, n_rows: int) -> None:
    """Refuse, before long work, a table of ``n_rows`` rows (and a header) for an Excel file
    that cannot hold them."""
    fmt = _format_of(Path(path))
    if fmt is not None and fmt.max_rows is not None and n_rows + 1 > fmt.max_rows:
        raise ValueError(
            f"{n_rows:,} rows do not fit an {fmt.kind} sheet ({fmt.max_rows:,} rows, the header's "
            f"included): write {Path(path).stem}.csv or .parquet instead."
        )
