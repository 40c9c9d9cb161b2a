"""A CSV file's rows carried through as the text they were read from, with result columns
appended: the input's columns are written exactly as read (no parse and format round trip),
and only the results are rendered.

This is the route ``minml classify`` takes from CSV to CSV where a file's rows are its lines
(no quoted field over a line end, one kind of line ending, no blank lines): the rows are cut out of the
file's bytes without copying them, and each output row is the input row, the separator and
the result fields, as Arrow's CSV writer renders them (numbers unquoted, text quoted).
"""

from __future__ import annotations

import codecs
import csv
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from minml.io._paths import atomic_path

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["CsvLines", "csv_lines", "read_csv_rows", "write_beside_lines"]

_PIECE = 65_536  # rows rendered per task
_BLOCK = 1 << 24  # bytes searched for line ends at a time (a bounded temporary)


@dataclass(frozen=True)
class CsvLines:
    """A CSV file's header and rows as the text they were read from.

    Attributes
    ----------
    names : list of str
        The columns' names (:func:`minml.io.read_csv_arrow`'s).
    header : bytes
        The header line, without a byte-order mark or line ending.
    rows : pyarrow.Array
        One string per data row: the line ending before it, then the row's text (so the rows
        laid end to end are the file after its header, less the last line ending).
    eol : bytes
        The file's line ending (``b"\\n"`` or ``b"\\r\\n"``).
    sep : str
    """

    names: list[str]
    header: bytes
    rows: pa.Array
    eol: bytes
    sep: str


def read_csv_rows(
    path, sep: str, suffix: str | None = None, encoding: str | None = None, elements: bool = False
) -> tuple[pa.Table, CsvLines | None] | None:
    """A CSV file of analyses for a pass that writes its rows back beside results.

    Parameters
    ----------
    path : str or path-like
    sep : str
        The separator the rows are to be written with: they are carried as text only
        where the file has the same.
    suffix, encoding, elements
        As :func:`minml.io.read_csv_arrow`.

    Returns
    -------
    (pyarrow.Table, CsvLines or None) or None
        Where the file's rows are its lines (:func:`csv_lines`), its species columns only
        and its rows as text; otherwise every column (as :func:`minml.io.read_csv_arrow`) and
        None.  None where :func:`minml.io.read_csv_arrow` is: :func:`minml.read_table` reads
        the file.
    """
    from minml.io._csv_arrow import is_csv, read_csv_arrow
    from minml.io._sniff import _sniff_separator

    path = Path(path)
    if not is_csv(path) or not path.is_file():
        return None
    found = _sniff_separator(path)
    data = path.read_bytes() if found == sep else None  # read once, for both
    lines = None if data is None else csv_lines(path, sep, data)
    carried = lines is not None
    table = read_csv_arrow(
        path, suffix, encoding, elements, species_only=carried, quoted=not carried, data=data, sep=found
    )
    if table is None:
        return None
    if lines is not None and len(lines.rows) != table.num_rows:  # rows Arrow reads otherwise: write them from the table
        table, lines = read_csv_arrow(path, suffix, encoding, elements), None
    return None if table is None else (table, lines)


def csv_lines(path, sep: str, data: bytes | None = None) -> CsvLines | None:
    """The rows of a UTF-8 CSV file as their text, or None where its rows may not be its lines.

    Parameters
    ----------
    path : str or path-like
    sep : str
        The file's separator (as sniffed for reading it).
    data : bytes, optional
        The file's bytes, where read already.

    Returns
    -------
    CsvLines or None
        None for a file with a line of an odd number of quote characters (a quoted field
        may run over a line end), line endings of more than one kind or lone ``\\r``, a
        blank line, or no data row.  Compare the count of rows with the table's: a quote in
        the middle of a field, which CSV readers take as written, may leave a line even.
    """
    import pyarrow as pa

    from minml.io._arrow import _STRING_LIMIT
    from minml.io._csv_arrow import header_names

    try:
        names = header_names(Path(path), sep)
    except (UnicodeDecodeError, csv.Error):
        return None
    if names is None:
        return None
    data = Path(path).read_bytes() if data is None else data
    ends = _positions(data, b"\n")
    if not _quotes_close_on_their_line(data, ends):
        return None
    carriage = data.count(b"\r")
    if carriage and (carriage != len(ends) or data.count(b"\r\n") != carriage):  # mixed or lone \r
        return None
    eol = b"\r\n" if carriage else b"\n"
    starts = ends - (len(eol) - 1)  # where each line ending begins
    bounds = starts if data.endswith(b"\n") else np.append(starts, len(data))
    if len(bounds) < 2 or bounds[0] == 0 or np.any(np.diff(bounds) <= len(eol)):  # no row, or a blank line
        return None
    large = bounds[-1] > _STRING_LIMIT
    rows = pa.Array.from_buffers(
        pa.large_string() if large else pa.string(),
        len(bounds) - 1,
        [None, pa.py_buffer(bounds.astype(np.int64 if large else np.int32)), pa.py_buffer(data)],
        null_count=0,
    )
    header = data[: int(bounds[0])]
    return CsvLines(names, header.removeprefix(codecs.BOM_UTF8), rows, eol, sep)


def _positions(data: bytes, byte: bytes) -> np.ndarray:
    """Positions of ``byte`` in ``data``, found a block at a time (a bounded temporary)."""
    if byte not in data:
        return np.empty(0, dtype=np.int64)
    view, code = np.frombuffer(data, dtype=np.uint8), ord(byte)
    return np.concatenate([np.flatnonzero(view[at : at + _BLOCK] == code) + at for at in range(0, len(view), _BLOCK)])


def _quotes_close_on_their_line(data: bytes, ends: np.ndarray) -> bool:
    """Whether every line holds an even number of quote characters: a quoted field (its
    quotes inside doubled) then never runs past its line's end."""
    quotes = _positions(data, b'"')
    if not len(quotes):
        return True
    per_line = np.bincount(np.searchsorted(ends, quotes), minlength=len(ends) + 1)
    return not np.any(per_line % 2)


def write_beside_lines(lines: CsvLines, results: dict, path, *, bom: bool = False) -> Path:
    """Write each row of ``lines`` followed by the same row of ``results`` to ``path``.

    The results are rendered as Arrow's CSV writer renders them (``quoting_style="needed"``:
    names and text quoted, numbers as their shortest text, missing values empty); the input's
    text is written as read, with its line ending.

    Parameters
    ----------
    lines : CsvLines
    results : dict of str to array-like
        The result columns by name, each as long as ``lines.rows``: what
        :func:`minml.io._arrow.arrow_array` takes (floats, text, codes and categories).
    path : str or path-like
    bom : bool, default=False
        Start the file with a UTF-8 byte-order mark.

    Returns
    -------
    pathlib.Path
    """
    from minml._parallel import ordered_in_threads

    n_rows = len(lines.rows)
    wrong = {name: len(_codes(column)) for name, column in results.items() if len(_codes(column)) != n_rows}
    if wrong:
        raise ValueError(f"write_beside_lines was given {n_rows} rows of text but result columns of lengths {wrong}.")
    sep = lines.sep.encode()
    names = sep.join(_quote(name).encode() for name in results)
    columns = [
        _Coded(np.asarray(c.codes), [_quote(str(word)) for word in c.categories]) if _is_coded(c) else np.asarray(c)
        for c in results.values()
    ]

    def render(start: int) -> memoryview:
        piece = [
            _Coded(c.codes[start : start + _PIECE], c.categories)
            if isinstance(c, _Coded)
            else c[start : start + _PIECE]
            for c in columns
        ]
        return _render(lines.rows.slice(start, _PIECE), piece, lines.sep)

    path = Path(path)
    with atomic_path(path) as part, open(part, "wb") as handle:
        handle.write((codecs.BOM_UTF8 if bom else b"") + lines.header + sep + names)
        handle.writelines(ordered_in_threads(render, range(0, n_rows, _PIECE)))
        handle.write(lines.eol)
    return path


class _Coded(NamedTuple):
    """Codes into categories already rendered as fields (quoted)."""

    codes: np.ndarray
    categories: list


def _is_coded(column) -> bool:
    return hasattr(column, "codes") and hasattr(column, "categories")


def _codes(column):
    return column.codes if _is_coded(column) else column


def _quote(text: str) -> str:
    """``text`` as a quoted CSV field."""
    return '"' + text.replace('"', '""') + '"'


def _quoted_text(column: np.ndarray) -> _Coded:
    """A text column as codes into its quoted cells: most cells (flags) are empty, and share
    one code; each other cell is quoted once."""
    filled = np.flatnonzero(column != "")
    codes = np.zeros(len(column), dtype=np.int64)
    codes[filled] = np.arange(1, len(filled) + 1)
    return _Coded(codes, ['""', *(_quote(str(text)) for text in column[filled].tolist())])


def _render(rows: pa.Array, results: list, sep: str) -> memoryview:
    """The bytes of ``rows`` each followed by its results (see :func:`write_beside_lines`)."""
    import pyarrow as pa

    from minml.io._arrow import JoinOptions, arrow_array, call, cast

    n = len(rows)
    fields = []
    for column in results:
        if isinstance(column, _Coded):  # categories quoted once
            fields.append(arrow_array(column))
        elif np.asarray(column).dtype.kind == "f":
            fields.append(cast(arrow_array(column), pa.string()))
        else:
            fields.append(arrow_array(_quoted_text(np.asarray(column, dtype=object))))
    # one kind of string for the join: a piece of rows (of a file over 2 GiB too) is far below 2 GiB
    parts = [
        cast(a, pa.string()) if pa.types.is_large_string(a.type) else a for a in (rows, *fields, _constant(sep, n))
    ]
    joined = call("binary_join_element_wise", *parts, options=JoinOptions(null_handling="replace", null_replacement=""))
    offsets = np.frombuffer(joined.buffers()[1], dtype=np.int64 if pa.types.is_large_string(joined.type) else np.int32)
    first, last = int(offsets[joined.offset]), int(offsets[joined.offset + len(joined)])
    return memoryview(joined.buffers()[2])[first:last]


def _constant(text: str, n: int) -> pa.Array:
    """``text`` ``n`` times as a string array (a separator Arrow's join takes without
    ``pyarrow.scalar``, which would import pandas)."""
    from minml.io._arrow import _strings

    word = text.encode()
    return _strings(word * n, np.full(n, len(word), dtype=np.int64))
