"""Reading workbooks: one sheet, a named one, or every sheet with oxide columns (calamine, or
openpyxl where calamine is missing)."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from minml.chemistry.oxides import ColumnMapping, canonical_name, map_columns, species_names
from minml.io._sniff import (
    _HEADER_SEARCH,
    _names_row,
    _refuse_names_below,
    _text_of,
    notes_below,
    notes_note,
    quoted,
    units_note,
    units_row,
    with_units,
)

if TYPE_CHECKING:
    import pandas as pd

_EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xls"}  # workbooks (for bom_for: output from Excel's world)


def _read_sheet(
    book,
    name,
    header_row: int | None,
    where: str,
    short_ok: bool = False,
    path: Path | None = None,
    find_header: bool = False,
) -> pd.DataFrame:
    """One sheet, with its column names on ``header_row``, or on row 1 when they are there;
    a sheet shorter than ``header_row`` is an error, or an empty table with ``short_ok``.
    Column names below a title are refused, naming their row, or with ``find_header`` read
    there, with a warning naming the rows above them (``sheet="all"``: each sheet on its own).
    A units row under the names and notes below the last analysis are left out, with a
    warning (:func:`_without_notes`).  Error cells and formulas without a saved value hold
    the text they show (``#DIV/0!``, ``=B2/C2``), not nothing (:mod:`minml.io._xlsx_cells`)."""
    skip = 0 if header_row is None else header_row - 1
    table = _sheet_table(book, name, skip, where, path)
    if header_row is not None and len(table.columns) == 0 and short_ok:
        return table
    if header_row is not None and len(table.columns) == 0:
        raise ValueError(
            f"{where} has no row {header_row} to read column names from (header_row counts the sheet's rows from 1)."
        )
    if header_row is None and not species_names(table.columns):
        rows = [list(table.columns)] + table.head(_HEADER_SEARCH - 1).astype(object).to_numpy().tolist()
        found = _names_row(rows) if find_header else None
        if found is None:
            _refuse_names_below(where, rows)
            return table
        warnings.warn(_title_note(where, rows, found), stacklevel=5)
        return _read_sheet(book, name, found, where, short_ok, path)
    return _without_notes(book, name, table, skip, where, path)


def _title_note(where: str, rows: list[list], found: int) -> str:
    """What to tell of the rows above a sheet's column names, found on row ``found`` of ``rows``
    (the sheet's first rows, the first as pandas names its columns: ``Unnamed: 1`` for a blank)."""
    above = " / ".join(
        " ".join(t for t in map(_text_of, cells) if t and not t.startswith("Unnamed:")) for cells in rows[: found - 1]
    ).strip(" /")
    return (
        f"{where}: column names found on row {found}; the {found - 1} row{'s' if found > 2 else ''} above them "
        f"left out{f' ({quoted(above)})' if above else ''}: a title, not analyses."
    )


def _sheet_table(
    book, name, skiprows: int | list[int], where: str, path: Path | None, nrows: int | None = None
) -> pd.DataFrame:
    """The sheet below ``skiprows`` rows (or without the rows listed), ``nrows`` rows of it or
    all, error cells and formulas without a value as the text they show."""
    import pandas as pd

    try:
        table = pd.read_excel(
            book, sheet_name=name, skiprows=skiprows, nrows=nrows, keep_default_na=False, na_values=[""]
        )
    except Exception as error:  # a damaged part of the workbook: the engine's own error
        raise ValueError(
            f"{where}: the sheet cannot be read ({type(error).__name__}: {error}); the workbook is damaged or cut "
            "short: copy it again, or open and save it in a spreadsheet program."
        ) from None
    if path is None:
        return table
    from minml.io._xlsx_cells import unreadable_cells  # xml.etree: imported where a workbook is read

    rows = skiprows if isinstance(skiprows, list) else list(range(skiprows))
    first = _first_row(rows)
    return _shown(table, unreadable_cells(path, name), first, set(rows))


def _first_row(skipped: list[int]) -> int:
    """The sheet row (counted from 1) of a table's first row, its header read from the first row
    not among ``skipped`` (counted from 0)."""
    header = next(i for i in range(len(skipped) + 1) if i not in set(skipped))
    return header + 2


def _without_notes(book, name, table: pd.DataFrame, skip: int, where: str, path: Path | None) -> pd.DataFrame:
    """``table`` (its names on sheet row ``skip + 1``) without a units row under its names
    (:func:`~minml.io._sniff.units_row`: its units go into the names where they are not wt%)
    and notes below its last analysis (:func:`~minml.io._sniff.notes_below`), each said in a
    warning; read again without them, so that columns type as they would have."""
    names = list(table.columns)
    units = units_row(table.iloc[0].tolist(), names) if len(table) else None
    count = notes_below(table)
    if units is None and not count:
        return table
    skipped = list(range(skip))
    if units is not None:
        renamed = with_units(names, units)
        warnings.warn(units_note(where, skip + 2, units, names, renamed), stacklevel=6)
        skipped.append(skip + 1)
        names = renamed
    if count:
        first = skip + 2 + len(table) - count
        rows = table.iloc[-count:].astype(object).to_numpy().tolist()
        warnings.warn(notes_note(where, count, "rows", first, rows), stacklevel=6)
    kept = _sheet_table(book, name, skipped, where, path, nrows=len(table) - count - (units is not None))
    kept.columns = names
    return kept


def _shown(
    table: pd.DataFrame, cells: dict[tuple[int, int], str], first: int, skipped: frozenset[int] | set[int] = frozenset()
) -> pd.DataFrame:
    """``table`` with the text of ``cells`` ((sheet row from 1, column from 0): text) where the
    engine left them empty; ``first`` is the sheet row of the table's first row, below which
    the sheet rows ``skipped`` (counted from 0: a units row) are no rows of the table."""
    below = sorted(row + 1 for row in skipped if row + 1 >= first)  # sheet rows, counted from 1

    def position(row: int) -> int:
        return row - first - sum(1 for r in below if r < row)

    inside = {
        (position(row), column): text
        for (row, column), text in cells.items()
        if row not in below and 0 <= position(row) < len(table) and column < table.shape[1]
    }
    if not inside:
        return table
    table = table.copy()
    for j in sorted({column for _, column in inside}):
        values = table.iloc[:, j].astype(object).to_numpy(copy=True)
        for (i, column), text in inside.items():
            if column == j:
                values[i] = text
        table.isetitem(j, values)
    return table


def _not_a_workbook(path: Path, error: Exception) -> ValueError:
    """What to say of a file named as a workbook that the engine cannot open: what it looks
    like from its first bytes, and what to do."""
    with open(path, "rb") as handle:
        head = handle.read(4096)
    if head.startswith(b"PK\x03\x04"):
        what = "a zip archive, but no workbook: its parts are missing or it was cut short (copy it again)"
    elif head.startswith(b"\xd0\xcf\x11\xe0"):
        what = "an old-style Office file that cannot be read (damaged, or not a worksheet)"
    elif head and b"\x00" not in head:
        what = "text, not a workbook: if it is a CSV file, give it the extension .csv"
    else:
        what = "not a workbook" if head else "empty"
    return ValueError(f"{path.name!r} is {what} ({type(error).__name__}: {error}).")


def _stacked(path: Path, book, tables: dict, header_row: int | None, first_notes: bool = False) -> pd.DataFrame:
    """The sheets of ``tables`` that have oxide columns, stacked, with a column ``sheet`` (or
    ``source_sheet``) naming each row's sheet; the others (notes, references) left out with a
    warning, which with ``first_notes`` (no sheet was asked for, and the first holds none)
    also says that the sheets with analyses were read in its place."""
    import pandas as pd

    names = list(tables)
    kept = {name: table for name, table in tables.items() if species_names(table.columns)}
    if header_row is not None:
        for name in [name for name in names if name not in kept]:
            _refuse_names_elsewhere(book, name, header_row, f"{path.name!r}, sheet {name!r}")
    if not kept:
        on = "" if header_row is None else f" on row {header_row}"
        raise ValueError(f"No sheet of {path.name} names an oxide in its columns{on}; its sheets are {names}.")
    taken = {column for table in kept.values() for column in table.columns}
    origin = next((c for c in ("sheet", "source_sheet") if c not in taken), None)
    if origin is None:
        raise ValueError(
            f"{path.name}: the sheets already have columns 'sheet' and 'source_sheet'; "
            "rename one so that the stacked table can say which sheet each row came from."
        )
    kept = _named_alike(path, kept, origin)
    left = [name for name in names if name not in kept]
    if first_notes:
        warnings.warn(
            f"The first sheet of {path.name}, {names[0]!r}, has no oxide columns: read the sheets that have, "
            f"{list(kept)}, stacked (as sheet='all'), the column {origin!r} naming each row's sheet; left out: "
            f"{left}. Pass sheet=NAME to read one sheet.",
            stacklevel=4,
        )
    elif left:  # notes, references: no analyses to stack
        warnings.warn(f"{path.name}: sheets without oxide columns left out: {left}.", stacklevel=4)
    return pd.concat([table.assign(**{origin: name}) for name, table in kept.items()], ignore_index=True)


def _affixes(table: pd.DataFrame) -> tuple[ColumnMapping | None, tuple[str, ...]]:
    """How a sheet's column names are read (:func:`~minml.chemistry.oxides.map_columns`) and the
    phase affixes its species columns carry (``''`` for names without one), in order; no mapping
    where the names cannot be read (a name given twice: the checks say so)."""
    try:
        mapping = map_columns(table.columns, merge=True)
    except ValueError:
        return None, ()
    return mapping, tuple(sorted(mapping.affix_groups()))


def _plain(column: str, species: str, how: str) -> str:
    """A species column's name without its phase affix (``how``: ``"prefix 'Opx '"``):
    ``Opx SiO2`` as ``SiO2``, ``FeOT (Pl)`` as ``FeOT``; the species' name where the affix
    cannot be cut from the name as written."""
    kind, _, quoted_affix = how.partition(" ")
    affix = quoted_affix.strip("'\"")
    text = str(column)
    cut = text[len(affix) :] if kind == "prefix" and text.startswith(affix) else None
    if kind == "suffix" and affix and text.endswith(affix):
        cut = text[: -len(affix)]
    return cut if cut and canonical_name(cut) == species else species


def _named_alike(path: Path, kept: dict[str, pd.DataFrame], origin: str) -> dict[str, pd.DataFrame]:
    """The sheets of ``kept`` with their species columns named so that they stack: where the
    sheets' species columns carry different phase affixes (``SiO2`` in one sheet, ``Opx SiO2``
    in another, ``SiO2 (Pl)`` in a third), the stacked table would read one group of columns
    and leave the others' rows empty.  A sheet whose species columns carry one affix throughout
    (:func:`~minml.chemistry.oxides.map_columns` finds it) has them renamed to their plain names,
    with a warning naming the sheets and their affixes; the ``sheet`` column keeps each row's
    phase.  Sheets of several affixes each (a mineral beside its liquid, ``_Cpx`` and ``_Liq``)
    stack as they are where every sheet carries one affix in common (``suffix=`` then reads
    them all); otherwise they are refused, naming the sheets: stacked, some would lose their
    analyses."""
    found = {name: _affixes(table) for name, table in kept.items()}
    if any(mapping is None for mapping, _ in found.values()) or len({a for _, a in found.values()}) <= 1:
        return kept
    single = {name: affixes[0] for name, (_, affixes) in found.items() if len(affixes) == 1}
    if len(single) < len(found):
        common = set.intersection(*(set(affixes) for _, affixes in found.values()))
        if common:
            return kept  # suffix= reads every sheet's rows
        listed = ", ".join(f"{name!r} {list(affixes)}" for name, (_, affixes) in found.items())
        raise ValueError(
            f"{path.name}: the sheets cannot be stacked without losing analyses: their species columns carry "
            f"different phase affixes ({listed}) and no affix is common to all; read them one at a time "
            "(sheet=NAME, with suffix=... where a sheet holds several phases) and stack the tables (pd.concat)."
        )
    out, renamed = {}, {}
    for name, table in kept.items():
        mapping = found[name][0]
        if not single[name] or mapping is None:
            out[name] = table
            continue
        renames = {col: _plain(col, species, mapping.how[col]) for col, species in mapping.mapped.items()}
        names = [renames.get(col, col) for col in table.columns]
        if len(set(map(str, names))) < len(names):  # two columns of one species, as the same plain name
            raise ValueError(
                f"{path.name}: sheet {name!r} cannot be stacked under its species' plain names: two of its "
                f"columns {list(renames)} would take one name; read it alone (sheet={name!r})."
            )
        out[name] = table.set_axis(names, axis=1)
        renamed[name] = (single[name], next(iter(renames.items())))
    told = "; ".join(
        f"sheet {name!r}: {affix!r} ({old!r} as {new!r}, ...)" for name, (affix, (old, new)) in renamed.items()
    )
    warnings.warn(
        f"{path.name}: the sheets name their species with different phase affixes; stacked under the plain "
        f"names, the column {origin!r} naming each row's sheet: {told}.",
        stacklevel=5,
    )
    return out


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
                "read them one at a time (sheet=NAME with its header_row) and stack the tables (pd.concat)."
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

    try:
        opened = pd.ExcelFile(path, engine=_excel_reader())
    except Exception as error:  # the engines' own errors (CalamineError, BadZipFile, KeyError, ...)
        raise _not_a_workbook(path, error) from None
    with opened as book:
        names = book.sheet_names

        def read(name, short_ok=False, find_header=False):
            where = f"{path.name!r}, sheet {name!r}" if len(names) > 1 else repr(path.name)
            return _read_sheet(book, name, header_row, where, short_ok, path, find_header)

        if sheet == "all":  # a sheet too short for header_row holds no analyses: left out as notes are
            every = {name: read(name, short_ok=True, find_header=True) for name in names}
            return _stacked(path, book, every, header_row)
        if sheet is None:
            table = read(names[0])
            if len(names) > 1 and not species_names(table.columns):
                others = {name: read(name, short_ok=True, find_header=True) for name in names[1:]}
                if any(species_names(other.columns) for other in others.values()):
                    return _stacked(path, book, {names[0]: table, **others}, header_row, first_notes=True)
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
