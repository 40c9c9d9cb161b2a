"""CSV files read into, and written from, pyarrow tables without pandas: the route ``minml
classify`` takes to start fast."""

from __future__ import annotations

import codecs
import csv
from pathlib import Path
from typing import TYPE_CHECKING

from minml.chemistry.oxides import digit_for_letter, map_columns
from minml.io._arrow import release_unused
from minml.io._paths import atomic_path
from minml.io._sniff import _WHITESPACE, _refuse_wide_header, _sniff_separator, _text_encoding

if TYPE_CHECKING:
    import pyarrow as pa

_CSV = {".csv", ".txt", ".tsv"}
_CSV_PIECE = 8_192  # rows rendered per task (the fastest of 8k-64k on 100k and 1 M rows)
COMMA_NUMBER = r"\s*[+-]?(?:\d+|\d*,\d+)\s*"
"""A cell of a column of numbers written with decimal commas (``49,54``, ``-0,5``, ``,5``), or
an integer among them: such species columns of a file separated otherwise than by commas are
read as numbers (the number :func:`minml.check_oxides` reads from the text)."""


def is_csv(path) -> bool:
    """Whether ``path`` names a CSV file (``.csv``, ``.tsv``, ``.txt``) by its extension."""
    return Path(path).suffix.lower() in _CSV


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
    path = Path(path)
    with atomic_path(path) as part:
        _write_csv_arrow_to(table, part, sep, bom)
    return path


def _write_csv_arrow_to(table: pa.Table, path: Path, sep: str, bom: bool) -> None:
    """:func:`write_csv_arrow` straight into ``path`` (the caller makes it atomic)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    from minml._parallel import ordered_in_threads

    def render(start: int):
        sink = pa.BufferOutputStream()
        options = pacsv.WriteOptions(delimiter=sep, quoting_style="needed", include_header=start == 0)
        pacsv.write_csv(table.slice(start, _CSV_PIECE), sink, write_options=options)
        return sink.getvalue()

    with open(path, "wb") as handle:
        if bom:
            handle.write(codecs.BOM_UTF8)
        handle.writelines(ordered_in_threads(render, range(0, max(len(table), 1), _CSV_PIECE)))


def header_names(path: Path, sep: str) -> list[str] | None:
    """The names of a UTF-8 CSV file's columns, as pandas names them (``Unnamed: 3`` for a
    blank one); None for no header or repeated names.  Raises UnicodeDecodeError or
    csv.Error for a header that is not UTF-8 or not CSV."""
    with open(path, newline="", encoding="utf-8-sig") as handle:
        header = next(csv.reader(handle, delimiter=sep), None)
    if not header:
        return None
    names = [name or f"Unnamed: {i}" for i, name in enumerate(header)]  # pandas' names for blank headers
    return names if len(set(names)) == len(names) else None


def read_csv_arrow(
    path,
    suffix: str | None = None,
    encoding: str | None = None,
    elements: bool = False,
    *,
    species_only: bool = False,
    quoted: bool = True,
    data: bytes | None = None,
    sep: str | None = None,
) -> pa.Table | None:
    """A CSV file of analyses as a pyarrow table, read without pandas.

    Species columns (:func:`minml.map_columns` with ``suffix`` and ``elements``) are typed by their cells
    (in a file not separated by commas, a column of numbers written with decimal commas as
    numbers: :data:`COMMA_NUMBER`); every other column is read as text, as written.  Cells
    pandas reads as missing (``""``, ``NA``, ``nan``, ...) are missing here too.

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
    species_only : bool, default=False
        Read the species columns only, and the text columns before them that may label a row
        as a statistic (:func:`minml.tables._statistics.label_columns`); the others are not
        parsed.
    quoted : bool, default=True
        False where the caller knows that no quoted field of the file holds a line end
        (read faster: each line is a row).
    data : bytes, optional
        The file's bytes, where the caller has read them (they are parsed instead of the
        file; the file's header, encoding and layout are still checked).
    sep : str, optional
        The file's separator, where the caller has detected it already (as :func:`read_table`
        detects it: the file is not looked at again for it).

    Returns
    -------
    pyarrow.Table or None
        None where :func:`read_table` should read the file instead: not a UTF-8 CSV file,
        repeated column names, no species column, or rows pyarrow cannot parse (ragged
        rows, text that is not UTF-8), so that its messages and choices apply.
    """
    import pyarrow as pa

    path = Path(path)
    if not is_csv(path) or not path.is_file() or _text_encoding(encoding, path) != "utf-8-sig":
        return None
    from minml.io.instruments import looks_like_instrument

    if looks_like_instrument(path):  # read_table reads instrument exports
        return None
    sep = _sniff_separator(path) if sep is None else sep
    if sep == _WHITESPACE:  # Arrow splits on one character: pandas reads these
        return None
    from minml.io._sniff import rows_left_out

    if rows_left_out(path, sep):  # a units row or notes: read_table leaves them out, with a warning
        return None
    try:
        _refuse_wide_header(path, "utf-8-sig", sep)  # read_table refuses it
        names = header_names(path, sep)
        if names is None:
            return None
        mapping = map_columns(names, suffix=suffix, elements=elements)
        # an oxide spelt with a digit for a letter (Na20) is read too: the check counts its rows
        species = set(mapping.mapped) | {c for c in mapping.unrecognised if digit_for_letter(c)}
    except (UnicodeDecodeError, csv.Error, ValueError):
        return None
    if not species:
        return None
    table = _parse(path if data is None else pa.BufferReader(data), names, species, sep, species_only, quoted)
    if table is None:
        return None
    table = _empty_as_missing(table, species)
    return table if sep == "," else _decimal_commas_as_numbers(table, species)


def _parse(source, names: list, species: set, sep: str, species_only: bool, quoted: bool) -> pa.Table | None:
    """pyarrow's CSV parse of ``source`` (a path or a buffer): species columns typed by their
    cells, the others text as written; None where pyarrow cannot parse it."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    from minml.tables._statistics import label_columns
    from minml.tables._values import NUMBER_MISSING

    labels = set(label_columns(names, species)) if species_only else set()  # typed as their cells say: only
    # their text labels are looked at (a column of numbers, such as ids, labels no statistics row)
    try:
        return pacsv.read_csv(
            source,
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=1),
            parse_options=pacsv.ParseOptions(delimiter=sep, newlines_in_values=quoted),
            convert_options=pacsv.ConvertOptions(
                include_columns=[n for n in names if n in species or n in labels] if species_only else None,
                column_types={n: pa.string() for n in names if n not in species and n not in labels},
                null_values=list(NUMBER_MISSING),
                strings_can_be_null=False,  # text such as NA in a column of names stays as written
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    finally:
        release_unused()  # the parse's blocks


def _empty_as_missing(table: pa.Table, species: set) -> pa.Table:
    """``table`` with its empty text cells missing, as pandas reads them, and in species columns
    read as text (``bdl`` among the numbers) a missing number as programs print it (``NaN``)
    too; other text (``NA`` as a sample's name, ``#N/A`` in an oxide column) as written."""
    import numpy as np
    import pyarrow as pa

    from minml.io._arrow import SetLookupOptions, _strings, call, cast
    from minml.tables._values import NUMBER_MISSING

    columns = []
    for name, column in zip(table.column_names, table.columns, strict=True):
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            words = [w.encode() for w in (NUMBER_MISSING if name in species else ("",))]
            missing = cast(_strings(b"".join(words), np.array([len(w) for w in words])), column.type)
            found = call("is_in", column, options=SetLookupOptions(value_set=missing))
            column = call("if_else", found, pa.nulls(len(column), column.type), column)
        columns.append(column)
    return pa.table(columns, names=table.column_names)


def _decimal_commas_as_numbers(table: pa.Table, species: set) -> pa.Table:
    """``table`` with its species columns of text whose every filled cell is a number written
    with a decimal comma (or an integer: :data:`COMMA_NUMBER`), one comma at least, as float64
    (as :func:`minml.io._csv._decimal_commas_as_numbers` reads them with pandas)."""
    import pyarrow as pa

    from minml.io._arrow import MatchSubstringOptions, ReplaceSubstringOptions, call, cast

    whole = MatchSubstringOptions("^" + COMMA_NUMBER + "$")
    columns = []
    for name, column in zip(table.column_names, table.columns, strict=True):
        text = pa.types.is_string(column.type) or pa.types.is_large_string(column.type)
        if (
            text
            and name in species
            and call("all", call("match_substring_regex", column, options=whole)).as_py() is not False
            and call("any", call("match_substring", column, options=MatchSubstringOptions(","))).as_py()
        ):
            points = call(
                "replace_substring", call("utf8_trim_whitespace", column), options=ReplaceSubstringOptions(",", ".")
            )
            column = cast(points, pa.float64())
        columns.append(column)
    return pa.table(columns, names=table.column_names)
