"""``check_oxides``: a table of analyses in, a canonical oxide table and per-row flags out.

Nothing is guessed silently.  Each row gets

* ``iron_rule`` -- how FeOt was obtained (see :mod:`minml.chemistry.iron`);
* ``total`` -- the oxide sum with iron as FeOt over all analysed species, halogens less
  their oxygen equivalent;
* ``notes`` -- what was read as zero and why (empty cells, detection limits, small negatives);
* ``flag`` -- why the row should not be trusted (unusable values with the column and the
  value, a total outside the accepted range, an empty row, a column shift, fractions
  instead of wt%); empty when the row is fine.

Each kind of flag also sets a :class:`~minml.tables.reasons.Reason` bit in
``OxideCheck.reasons``: callers decide on the codes, never on the text.
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np

from minml import _dask
from minml.chemistry._stoichiometry import carried_oxygen_share
from minml.chemistry.oxides import (
    ColumnMapping,
    digit_for_letter,
    element_symbol,
    lookalike_words,
    map_columns,
    species_names,
    species_table,
)
from minml.tables._merge import SideBySide, merge_clashes
from minml.tables._oxide_check import OxideCheck
from minml.tables._row_checks import (
    cell_messages,
    flag_iron,
    flag_row_shape,
    read_cells,
    rows_with_text,
    sum_and_largest,
)
from minml.tables._values import Status, not_analysed, parse_column
from minml.tables.reasons import Messages, Reason

__all__ = ["DEFAULT_TOTAL_RANGE", "OxideCheck", "Reason", "check_oxides"]

DEFAULT_TOTAL_RANGE = (88.0, 105.0)
"""Accepted oxide sum in wt% (iron as FeOt)."""


def check_oxides(
    df,
    *,
    suffix: str | None = None,
    elements: bool = False,
    total_range: tuple[float, float] | None = DEFAULT_TOTAL_RANGE,
    notes: bool = True,
) -> OxideCheck:
    """Read a table of analyses into canonical oxides, with per-row flags.

    Parameters
    ----------
    df : pandas.DataFrame
        Analyses in wt%, one per row, columns named in any of the usual ways
        (see :func:`minml.map_columns`).  Not modified.
    suffix : str, optional
        Phase suffix (``"_Cpx"``) or prefix (``"Core_"``) of the oxide columns to read, for
        tables that hold several phases, or core and rim, side by side.
    elements : bool, default=False
        Read columns named by an element symbol (``Si``, ``Fe``, ...) as element wt% and
        convert each to its oxide (EDS output without oxides; see :func:`minml.map_columns`).
    total_range : tuple of float or None, default=(88.0, 105.0)
        Accepted oxide sum (wt%, iron as FeOt); rows outside it are flagged.  None leaves
        the sum unjudged (for callers with their own rule per mineral).
    notes : bool, default=True
        Build the ``notes`` column (what was read as 0).  False leaves it out, which saves
        time on large tables whose notes nobody reads.

    Returns
    -------
    OxideCheck
        ``.oxides`` and ``.flags`` on the caller's index, ``.mapping``, ``.other``.

    Raises
    ------
    ValueError
        If no column names a species, or two columns name the same one and hold different
        values in many rows (phases side by side: the message names the ``suffix=`` to pass).
        Columns of one species that never both hold a value in a row (a compilation of
        sources, ``NiO`` and ``NiO_Cpx``) are merged; rows where both hold different values
        are flagged naming both.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"SiO2 (wt%)": ["40.1", "40,2"], "FeO*": [9.5, 9.4],
    ...                    "MgO": [49.8, "bdl"], "NiO": [0.35, -0.02]})
    >>> checked = check_oxides(df)
    >>> checked.oxides[["SiO2", "FeOt", "MgO", "NiO"]].to_numpy().tolist()
    [[40.1, 9.5, 49.8, 0.35], [40.2, 9.4, 0.0, 0.0]]
    >>> checked.flags["flag"].tolist()
    ['', 'total outside 88-105: 49.6 wt%']
    """
    if _dask.is_dask(df):
        return _dask.check_oxides(df, suffix=suffix, elements=elements, total_range=total_range, notes=notes)
    require_table(df)
    if not elements and suffix is None and df.attrs.get("minml_elements"):  # an EDS export of element wt%
        elements = True  # (minml.io.instruments: its O column is the oxygen of the cations' oxides)
    first = df.iloc[:, 0] if df.shape[1] else None
    mapping, raw, merged = _read_mapped(list(df.columns), df.__getitem__, len(df), suffix, elements, first, df.index)
    return _check(
        mapping,
        raw,
        len(df),
        index=df.index,
        other=df[mapping.unrecognised],
        total_range=total_range,
        notes=notes,
        extra_flags=merged,
        statistics=_statistics_rows(mapping, list(df.columns), df.__getitem__),
    )  # copy on write


def _statistics_rows(mapping: ColumnMapping, names: list, cells):
    """The rows that a cell of the leading text columns labels as a statistic of the analyses
    (:mod:`minml.tables._statistics`; ``cells``: column name -> its cells, or None where the
    column was not read); None where no column leads the species."""
    from minml.tables._statistics import label_columns, statistics_rows

    leading = label_columns(names, mapping.mapped)
    if len(set(names)) != len(names):  # a repeated name: its cells are not one column
        leading = [name for name in leading if names.count(name) == 1]
    return statistics_rows([cells(name) for name in leading])


def require_table(value) -> None:
    """Raise a TypeError, saying how to make one, unless ``value`` is a pandas DataFrame."""
    import pandas as pd

    if isinstance(value, pd.DataFrame):
        if isinstance(value.columns, pd.MultiIndex):  # e.g. read_excel(header=[0, 1])
            raise ValueError(
                f"The table's columns have {value.columns.nlevels} header levels (a MultiIndex, such as "
                "read_excel(header=[0, 1]) makes): give each column one name first, e.g. "
                "table.columns = ['_'.join(map(str, c)) for c in table.columns] (a phase prefix such as "
                "Cpx_SiO2 is read), or table.columns = table.columns.get_level_values(-1)."
            )
        return
    fix = {
        pd.Series: "for one analysis, pass series.to_frame().T (one row)",
        dict: "pass pd.DataFrame(data)",
    }
    how = next((text for kind, text in fix.items() if isinstance(value, kind)), None)
    if how is None and hasattr(value, "shape") and hasattr(value, "dtype"):  # numpy and the like
        how = "name the oxide of each column: pd.DataFrame(values, columns=['SiO2', 'TiO2', ...])"
    raise TypeError(
        "Expected a pandas DataFrame of analyses (one per row, oxides as named columns), "
        f"got {type(value).__name__}" + (f": {how}." if how else ".")
    )


def check_columns(
    columns,
    n_rows: int,
    *,
    other=None,
    suffix: str | None = None,
    elements: bool = False,
    total_range: tuple[float, float] | None = DEFAULT_TOTAL_RANGE,
    notes: bool = True,
) -> OxideCheck:
    """:func:`check_oxides` for a table given as named columns (no pandas needed).

    Parameters
    ----------
    columns : mapping of str to array-like
        The table's columns in order, each a numpy array (numbers, or objects for text
        cells), a pandas Series or a pyarrow column, ``n_rows`` long.  Not modified.  A
        column that names no species may be None (its name is all that is read of it).
    n_rows : int
    other : callable, optional
        Returns the columns that are not species as a DataFrame, when ``.other`` is asked for.
    suffix, elements, total_range, notes
        As :func:`check_oxides`.

    Returns
    -------
    OxideCheck
        On a default (0 .. n_rows - 1) index.

    Raises
    ------
    ValueError
        As :func:`check_oxides`, and when a species column is not ``n_rows`` long.
    """
    # columns given as None are named only (the caller keeps their text): never read as species
    wrong = {col: len(cells) for col, cells in columns.items() if cells is not None and len(cells) != n_rows}
    if wrong:
        raise ValueError(f"check_columns was told of {n_rows} rows, but columns have other lengths: {wrong}.")
    mapping, raw, merged = _read_mapped(list(columns), columns.__getitem__, n_rows, suffix, elements)
    statistics = _statistics_rows(mapping, list(columns), columns.__getitem__)
    return _check(
        mapping,
        raw,
        n_rows,
        index=None,
        other=other,
        total_range=total_range,
        notes=notes,
        extra_flags=merged,
        statistics=statistics,
    )


def _read_mapped(
    names: list, cells, n: int, suffix, elements, first_column=None, index=None
) -> tuple[ColumnMapping, dict, list]:
    """The columns' mapping, the cells to read (``cells``: column name -> its cells) with the
    columns of one species merged (:func:`minml.tables._merge.merge_clashes`), and the rows whose
    merged columns disagree.  Phases side by side, with no ``suffix``: the phase affix that reads
    the most species is read, said in a warning and in ``mapping.chosen``; a tie is refused.
    ``first_column`` and ``index`` are read only to say that a table names its oxides in them."""
    mapping = _mapping(names, suffix, elements, first_column, cells, index, n)
    try:
        raw, merged = merge_clashes(mapping, {col: cells(col) for col in mapping.mapped}, n)
    except SideBySide as clash:
        if suffix is not None or clash.choice is None:
            raise
        chosen = clash.choice
        others = ", ".join(f"{a!r} {k}" for a, k in clash.reads.items() if a not in ("", chosen))
        mapping = _mapping(names, chosen, elements, first_column, cells, index, n)
        mapping.chosen = (
            f"phases side by side: suffix={chosen!r} read, the group with the most species "
            f"({clash.reads[chosen]}; {others}); pass suffix= to read another"
        )
        warnings.warn(mapping.chosen[0].upper() + mapping.chosen[1:] + ".", stacklevel=4)
        raw, merged = merge_clashes(mapping, {col: cells(col) for col in mapping.mapped}, n)
    return mapping, raw, merged


def _mapping(names, suffix, elements, first_column=None, cells=None, index=None, n: int = 0) -> ColumnMapping:
    """The columns' mapping; an error when none names a species, saying so of a table whose
    ``first_column`` or ``index`` names them (oxides as rows, analyses as columns:
    :func:`transpose_advice`), or whose columns are element symbols (element wt% from EDS
    software; ``cells``, column name -> its cells, tells atomic % by their oxygen); an error
    when a column not read spells an oxide with a digit for a letter (``Fe0T``, ``Na20``) and
    holds it in rows where the columns read hold none (:func:`_refuse_lookalikes`, over ``n``
    rows)."""
    mapping = map_columns(names, suffix=suffix, elements=elements, merge=True)
    if not mapping.mapped:
        raise _no_species(names, mapping, suffix, elements, first_column, cells, index)
    if cells is not None:
        _refuse_lookalikes(mapping, cells, n)
    return mapping


def _no_species(names, mapping: ColumnMapping, suffix, elements, first_column, cells, index) -> ValueError:
    """The error for a table none of whose columns names a species (see :func:`_mapping`)."""
    hints = "".join(f"\n  {c!r}: did you mean {h!r}?" for c, h in mapping.hints.items())
    hints += "".join(f"\n  {c!r}: {n}" for c, n in mapping.notes.items())
    symbols = [c for c in mapping.unrecognised if element_symbol(c) not in (None, "O")]
    fix = transpose_advice(first_column, index, suffix)
    if fix is None and len(symbols) >= 2 and not elements:
        fix = f"Columns {', '.join(map(str, symbols[:6]))} name elements. " + _element_advice(
            symbols, mapping.unrecognised, cells
        )
    fix = fix or "Name columns as oxides in wt% (SiO2, TiO2, Al2O3, FeOt, MgO, CaO, ...)."
    return ValueError(f"No oxide columns found among {list(names)}.{hints}\n{fix}")


def transpose_advice(first_column=None, index=None, suffix: str | None = None) -> str | None:
    """The advice for a table whose oxides are rows and analyses columns, where its first column
    (a file read as written) or its index (a DataFrame transposed, ``df.set_index("Sample").T``)
    names at least two species among its first 100 labels; None otherwise.

    Examples
    --------
    >>> transpose_advice(index=["SiO2", "Al2O3", "MgO"]).split(", the analyses")[0]
    'The oxides are rows here (index: SiO2, Al2O3, MgO, ...)'
    """
    for where, labels, how in (
        ("first column", first_column, "df.set_index(df.columns[0]).T"),
        ("index", index, "df.T"),
    ):
        found = [] if labels is None else species_names(list(itertools.islice(labels, 100)), suffix)
        if len(found) >= 2:
            return (
                f"The oxides are rows here ({where}: {', '.join(found[:5])}, ...), the analyses columns: transpose the table "
                f"(in Excel: Paste Special > Transpose; in pandas: {how})."
            )
    return None


def _refuse_lookalikes(mapping: ColumnMapping, cells, n: int) -> None:
    """Raise where a column not read spells an oxide with a digit for a letter it looks like
    (``Fe0T``, ``Fe0``, ``Fe203``, ``Na20``, ``A12O3``: :func:`~minml.chemistry.oxides.digit_for_letter`)
    and holds a value in rows where the columns read as that oxide hold none, while its element
    is read from other columns (``FeOT`` in some rows of a compilation and ``Fe0T`` in the
    others; ``Fe0`` beside ``Fe2O3``): those rows would be read without it, or with the other
    columns' iron alone.  Where the columns read as the oxide hold a value in every row it does
    (``Na20`` beside a full ``Na2O``), it is kept with a note instead of its "did you mean"
    (in place).  With its element read from no other column, the check keeps the "did you mean"
    and classifying refuses the table, naming the rename, as for ``Si02``
    (:func:`minml.classifier.features.model_inputs`).

    ``cells``: column name -> its cells, None where the caller did not read them (a column it
    took for no species, :func:`check_columns`): such a column may hold a value in any row."""
    table = species_table()
    refused: dict[str, tuple[str, str]] = {}  # column -> (its oxide, why it is refused)
    for col, name in list(mapping.hints.items()):
        if digit_for_letter(col) != name:
            continue
        element = table[name].element
        kin = [c for c, s in mapping.mapped.items() if table[s].element == element]
        if not kin:
            continue
        holds = _holds_value(cells(col), n)
        same = [c for c in kin if mapping.mapped[c] == name]
        covered = np.zeros(n, dtype=bool)
        for c in same:
            covered |= _holds_value(cells(c), n)
        alone = holds & ~covered
        if not alone.any():
            mapping.hints.pop(col)
            mapping.notes[col] = (
                f"{name} spelt with {lookalike_words(col)}, not read: {name} is read from "
                f"{', '.join(map(repr, same))}, which holds a value in every row this column does"
                if holds.any()
                else f"{name} spelt with {lookalike_words(col)}, holding no value: not read"
            )
            continue
        what, whose = ("Iron", "iron") if element == "Fe" else (name, name)
        rows = "" if cells(col) is None else f" ({int(alone.sum())} of {n})"
        refused[col] = (
            name,
            f"{what} is read from {', '.join(map(repr, kin))} only, so rows whose {whose} is in {col!r}{rows} "
            "would be read without it.",
        )
    if not refused:
        return
    if len(refused) == 1:
        col, (name, why) = next(iter(refused.items()))
        head = f"Column {col!r} not read: it spells {name} with {lookalike_words(col)}. {why}"
    else:
        head = "Columns not read, each spelling an oxide with a digit for a letter:\n" + "\n".join(
            f"  {col!r}: {name} with {lookalike_words(col)}. {why}" for col, (name, why) in refused.items()
        )
    header = {str(col) for col in [*mapping.mapped, *mapping.unrecognised]}
    # a name the header holds already would repeat it: another spelling of the species is read with it
    target = {
        col: next(
            t for t in (name, f"{name} (wt%)", f"{name} wt%", f"{name} (wt.%)", col) if t not in header or t == col
        )
        for col, (name, _) in refused.items()
    }
    renames = ", ".join(f"{col!r} to {name!r}" for col, name in target.items())
    taken = [name for col, (name, _) in refused.items() if target[col] != name]
    why = (
        f" ({', '.join(map(repr, taken))} {'names a column' if len(taken) == 1 else 'name columns'} already: "
        "the columns of one species are read as one, merged row by row)"
        if taken
        else ""
    )
    raise ValueError(f"{head}\nRename {renames} in the table's header{why}.")


def _holds_value(cells, n: int) -> np.ndarray:
    """Rows where a column holds a value (an analysis, below detection included; not an empty
    cell nor a code for "not analysed"); every row where its cells were not read (None)."""
    if cells is None:
        return np.ones(n, dtype=bool)
    return ~not_analysed(parse_column(cells)[1])


def _check(
    mapping: ColumnMapping, raw: dict, n: int, *, index, other, total_range, notes, extra_flags=(), statistics=None
) -> OxideCheck:
    """The checks on the mapped columns ``raw`` (column name to its cells); ``statistics``: the
    rows that are statistics of the analyses, with their labels."""
    total_range = _valid_total_range(total_range)
    columns, matrix, values, status = read_cells(mapping, raw, n)
    order = [name for name in species_table() if name in set(mapping.mapped.values())]
    flags = Messages(n)
    for mask, text, name in extra_flags:  # merged columns that disagree: the value is unusable
        flags.add(mask, text)
        values[name][mask] = np.nan
        status[name][mask] = Status.OK  # analysed, but unusable (not "not analysed")
    note = None
    if notes:
        note = Messages(n)
        texted = rows_with_text(status)  # noted cell by cell, with the text (cell_messages)
        note.add_patterns(order, [(status[c] == Status.EMPTY) & ~texted for c in order], "not analysed, read as 0")
        note.add_patterns(
            order, [status[c] == Status.WITH_UNCERTAINTY for c in order], "value read without its uncertainty"
        )
    codes, below = cell_messages(mapping, raw, order, status, flags, note)
    feot, rule = flag_iron(values, status, n, flags)
    matrix[:, columns.index("FeOt")] = feot

    total, largest, top = sum_and_largest(columns, matrix)
    no_analysis, total_outside = flag_row_shape(columns, total, largest, top, flags, total_range, statistics)
    result = OxideCheck(
        species=columns,
        values=matrix,
        iron_rule=rule,
        total=total,
        flag_text=flags.text,
        notes_text=None if note is None else note.text,
        mapping=mapping,
        other=other,
        total_range=total_range,
        no_analysis=no_analysis,
        total_outside=total_outside,
        index=index,
        reasons=flags.codes,
        flag_kinds=flags.kinds,
        note_kinds=None if note is None else note.kinds,
    )
    result.codes = codes
    result.below_detection = below
    return result


def _element_advice(symbols: list, names: list, cells) -> str:
    """What to do with a table of element columns: pass ``elements=True`` for element wt%; where
    its ``O`` column fits its cations' oxides better when the numbers are read as atomic % (each
    weighed by its atomic mass), they are atomic %, whatever the header says
    (:func:`~minml.chemistry._stoichiometry.carried_oxygen_share`)."""
    oxygen = [c for c in names if element_symbol(c) == "O"]
    share = atomic = None
    if oxygen and cells is not None:
        columns = {element_symbol(c): cells(c) for c in symbols}
        share = carried_oxygen_share(columns, cells(oxygen[0]))
        atomic = carried_oxygen_share(columns, cells(oxygen[0]), atomic=True)
    if share is not None and atomic is not None and abs(np.log(atomic)) < abs(np.log(share)):
        return (
            f"Their {oxygen[0]!r} column holds {1 / share:.1f} times the oxygen that their cations carry as "
            "oxides (element wt% holds 1 time): the numbers look like atomic %, not weight %. Export weight % "
            "(or oxide wt%) from the EDS software, or convert: wt% = at% x atomic mass / sum(at% x atomic mass) "
            "x 100 for every element, O included; then pass elements=True."
        )
    return (
        "If they hold element wt% (as EDS software reports without oxides), pass elements=True to read each "
        "as its oxide; at% or cations per formula unit must be converted to oxide wt% first."
    )


def _valid_total_range(total_range) -> tuple[float, float] | None:
    """``total_range`` as (low, high) floats (None stays None); a clear error for anything else."""
    if total_range is None:
        return None
    try:
        lo, hi = (float(v) for v in total_range)
    except (TypeError, ValueError):
        raise ValueError(f"total_range must be (low, high) in wt%, e.g. (88, 105), got {total_range!r}.") from None
    if not lo < hi:
        raise ValueError(f"total_range must be (low, high) with low < high, got {total_range!r}.")
    return (lo, hi)
