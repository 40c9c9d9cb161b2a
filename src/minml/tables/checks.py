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

import datetime
from collections import Counter
from functools import cached_property

import numpy as np

from minml import _dask
from minml._parallel import run_in_threads
from minml._text import one_decimal
from minml.chemistry.iron import IRON_FORMS, IRON_RULES, total_iron
from minml.chemistry.oxides import (
    CORE_OXIDES,
    ColumnMapping,
    atomic_weight,
    element_symbol,
    map_columns,
    species_names,
    species_table,
)
from minml.tables._merge import merge_clashes
from minml.tables._values import PURE_PHASE_MAX, Status, from_arrow, parse_column
from minml.tables.reasons import Messages, Reason, kind_counts

__all__ = ["DEFAULT_TOTAL_RANGE", "OxideCheck", "Reason", "check_oxides"]

DEFAULT_TOTAL_RANGE = (88.0, 105.0)
"""Accepted oxide sum in wt% (iron as FeOt)."""

_SHIFT_SINGLE = 95.0  # wt%: one oxide this high with the rest ~0 ...
_SHIFT_REST = 5.0  # ... (below this) is a column shift unless the oxide forms a phase alone
_FRACTION_RANGE = (0.8, 1.2)  # an oxide sum near 1, with every value <= 1, is fractions not wt%
_TOTAL_LIKE = 80.0  # wt%: a value this high that equals the sum of the others is a total

_CELL_PROBLEM = {
    Status.JUNK: "not a number",
    Status.LARGE_NEGATIVE: "negative",
    Status.OVER_100: "over 100 wt%",  # over PURE_PHASE_MAX for quartz, rutile, ...
}


def _cells(column, rows: np.ndarray) -> list:
    """Some cells of a column (pandas Series, numpy array or pyarrow column) as read."""
    return np.asarray(from_arrow(column))[rows].tolist()


def _shown(value) -> str:
    """A cell as a person would want to see it in a message."""
    if isinstance(value, (int, float, np.number)) and not isinstance(value, bool):
        return f"{float(value):g}"
    if isinstance(value, (datetime.date, np.datetime64)):  # Excel turns 1.10 into 1 October
        return f"a date, {str(value)[:10]} (Excel reads numbers such as 1.10 as dates: format the column as Number)"
    return repr(str(value))


class OxideCheck:
    """The result of :func:`check_oxides` (or :func:`check_columns`).

    The results are held as arrays; the DataFrames are built when first asked for, so
    callers that need only the arrays (``minml classify`` on a file) never import pandas.

    Attributes
    ----------
    oxides : pandas.DataFrame
        Canonical species in wt% on the caller's index: every core oxide (0.0 when not
        analysed), then any further species found.  FeOt is total iron by the row's
        ``iron_rule``; FeO and Fe2O3 are as reported.  NaN marks an unusable value
        (the row's ``flag`` says which).
    flags : pandas.DataFrame
        ``iron_rule``, ``total``, ``notes`` (unless ``notes=False``), ``flag`` per row, on the
        caller's index.
    mapping : ColumnMapping
        Which column was read as which species, and what was not recognised.
    other : pandas.DataFrame
        The caller's columns that are not species (sample names, labels, ...), unchanged.
    total_range : tuple of float or None
        The accepted oxide sum (None: not judged).
    no_analysis : numpy.ndarray of bool
        Rows that are no analysis at all: empty, fractions, or a column shift (flagged).
    total_outside : numpy.ndarray of bool
        Analyses whose oxide sum lies outside ``total_range`` (flagged).
    codes : dict of str to dict
        Columns holding a code for "not analysed" (a value such as -0.99 repeated down the
        column, :data:`minml.tables._values.CODE_MIN_ROWS`) -> each code as shown -> its rows;
        read as 0, noted per row.
    absent : dict of str to str
        Oxides a model reads that the table has no column for -> what was read instead
        (filled in by :func:`minml.classifier.features.model_inputs`).
    species : list of str
        The columns of ``oxides``, in order.
    values : numpy.ndarray of float, shape (n_rows, len(species))
        ``oxides`` as an array (column-major).
    total : numpy.ndarray of float
        The ``total`` column of ``flags``.
    flag_text, notes_text : numpy.ndarray of object
        The ``flag`` and ``notes`` columns of ``flags`` (``notes_text`` is None with
        ``notes=False``).
    reasons : numpy.ndarray of uint16
        Per row, the :class:`~minml.tables.reasons.Reason` bits of its flags (0: not flagged):
        the codes that ``flag_text`` renders.
    """

    def __init__(
        self,
        *,
        species,
        values,
        iron_rule,
        total,
        flag_text,
        notes_text,
        mapping: ColumnMapping,
        other,
        total_range,
        no_analysis,
        total_outside,
        index=None,
        reasons=None,
        flag_kinds=None,
        note_kinds=None,
    ):
        self.species = list(species)
        self.values = values
        self.iron_rule = iron_rule
        self.total = total
        self.flag_text = flag_text
        self.notes_text = notes_text
        self.mapping = mapping
        self._other = other  # a DataFrame, or a function that makes one
        self.total_range = total_range
        self.no_analysis = no_analysis
        self.total_outside = total_outside
        self.index = index
        n = len(values)
        self.reasons = np.zeros(n, dtype=np.uint16) if reasons is None else reasons
        self._kinds = {"flag": flag_kinds, "notes": note_kinds}  # (rows, kind per row) per message added
        self.codes: dict[str, dict[str, int]] = {}  # column -> each code for "not analysed" -> its rows
        self.absent: dict[str, str] = {}  # model oxides without a column -> what was read (set by the model's reader)

    def __len__(self) -> int:
        return len(self.values)

    def species_values(self, name: str) -> np.ndarray:
        """One species' column of :attr:`values` (a view)."""
        return self.values[:, self.species.index(name)]

    @cached_property
    def oxides(self):
        import pandas as pd

        return pd.DataFrame(self.values, index=self.index, columns=self.species, copy=False)

    @cached_property
    def flags(self):
        import pandas as pd

        frame = pd.DataFrame(
            {
                "iron_rule": pd.Categorical.from_codes(self.iron_rule, IRON_RULES),
                "total": self.total,
                "flag": pd.Series(self.flag_text, index=self.index, dtype=object),
            },
            index=self.index,
            copy=False,
        )
        if self.notes_text is not None:
            frame.insert(2, "notes", pd.Series(self.notes_text, index=self.index, dtype=object))
        return frame

    @cached_property
    def other(self):
        return self._other() if callable(self._other) else self._other

    @property
    def ok(self):
        """True for rows with no flag (a pandas Series)."""
        return self.flags["flag"] == ""

    def columns_read(self):
        """What was read, one row per header: the species it was read as (or ``(kept)``), how
        and why; columns merged into another, codes for "not analysed" found in a column, and
        the model oxides the table has no column for (:attr:`absent`).  The table the summary
        (and ``minml check``) prints, as a DataFrame.

        Returns
        -------
        pandas.DataFrame
            ``column``, ``read_as``, ``how``, ``codes``.
        """
        import pandas as pd

        m = self.mapping
        rows = []
        for col, name in m.mapped.items():
            how = m.how[col] + (f"; merged with {', '.join(map(str, m.merged[col]))}" if col in m.merged else "")
            rows.append((col, name, how))
            rows += [(other, name, f"merged into {col}") for other in m.merged.get(col, [])]
        for col in m.unrecognised:
            why = m.notes.get(col) or (f"did you mean {m.hints[col]!r}?" if col in m.hints else "not a species")
            rows.append((col, "(kept)", why))
        rows += [("(no column)", name, how) for name, how in self.absent.items()]
        codes = [
            "; ".join(f"{code} in {count} rows: not analysed" for code, count in self.codes.get(col, {}).items())
            for col, _, _ in rows
        ]
        return pd.DataFrame(
            {
                "column": [str(c) for c, _, _ in rows],
                "read_as": [r for _, r, _ in rows],
                "how": [h for _, _, h in rows],
                "codes": codes,
            }
        )

    def summary(self) -> str:
        """A readable account of what was understood: one table of the columns (see
        :meth:`columns_read`), the iron rule, the oxide sum, the rows flagged and noted by reason."""
        n = len(self.flags)
        lines = [
            f"{n} rows, {len(self.mapping.mapped)} species columns, {len(self.mapping.unrecognised)} other columns",
            "",
            "Columns (header -> read as):",
        ]
        for row in self.columns_read().itertuples(index=False):
            codes = f"  codes: {row.codes}" if row.codes else ""
            lines.append(f"  {row.column:>24} -> {row.read_as:<7} ({row.how}){codes}")
        lines += ["", "Iron (rule used per row):"]
        for rule, count in self.flags["iron_rule"].value_counts().items():
            if count:
                lines.append(f"  {rule:<10} {count:>8} rows")
        total = self.flags["total"]
        lines += [
            "",
            f"Oxide sum (iron as FeOt): median {total.median():.1f} wt%, "
            f"5-95 % of rows {total.quantile(0.05):.1f}-{total.quantile(0.95):.1f} wt%",
        ]
        flagged = self.flags["flag"] != ""
        lines += ["", f"Flagged rows: {int(flagged.sum())} of {n}"]
        reasons = kind_counts(self._kinds["flag"])
        lines += [f"  {count:>8}  {reason}" for reason, count in reasons.items()]
        noted = kind_counts(self._kinds["notes"]) if self.notes_text is not None else {}
        if noted:
            lines += ["", "Read as 0 or noted (notes):"]
            lines += [f"  {count:>8}  {reason}" for reason, count in noted.items()]
        return "\n".join(lines)


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
    mapping = _mapping(df.columns, suffix, elements, first_column=df.iloc[:, 0] if df.shape[1] else None)
    raw, merged = merge_clashes(mapping, {col: df[col] for col in mapping.mapped}, len(df))
    return _check(
        mapping,
        raw,
        len(df),
        index=df.index,
        other=df[mapping.unrecognised],
        total_range=total_range,
        notes=notes,
        extra_flags=merged,
    )  # copy on write


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
        cells), a pandas Series or a pyarrow column, ``n_rows`` long.  Not modified.
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
    mapping = _mapping(list(columns), suffix, elements)
    raw = {col: columns[col] for col in mapping.mapped}
    wrong = {col: len(cells) for col, cells in raw.items() if len(cells) != n_rows}
    if wrong:
        raise ValueError(f"check_columns was told of {n_rows} rows, but columns have other lengths: {wrong}.")
    raw, merged = merge_clashes(mapping, raw, n_rows)
    return _check(
        mapping, raw, n_rows, index=None, other=other, total_range=total_range, notes=notes, extra_flags=merged
    )


def _mapping(names, suffix, elements, first_column=None) -> ColumnMapping:
    """The columns' mapping; an error when none names a species, saying so of a table whose
    ``first_column`` names them (oxides as rows, analyses as columns), or whose columns are
    element symbols (element wt% from EDS software)."""
    mapping = map_columns(names, suffix=suffix, elements=elements, merge=True)
    if not mapping.mapped:
        hints = "".join(f"\n  {c!r}: did you mean {h!r}?" for c, h in mapping.hints.items())
        hints += "".join(f"\n  {c!r}: {n}" for c, n in mapping.notes.items())
        in_rows = [] if first_column is None else species_names(first_column.head(100).tolist(), suffix)
        symbols = [c for c in mapping.unrecognised if element_symbol(c) not in (None, "O")]
        if len(in_rows) >= 2:
            fix = (
                "The oxides are rows here (first column: " + ", ".join(in_rows[:5]) + ", ...), the analyses "
                "columns: transpose the table (in Excel: Paste Special > Transpose; in pandas: "
                "df.set_index(df.columns[0]).T)."
            )
        elif len(symbols) >= 2 and not elements:
            fix = (
                f"Columns {', '.join(map(str, symbols[:6]))} name elements. If they hold element wt% (as EDS "
                "software reports without oxides), pass elements=True to "
                "read each as its oxide; at% or cations per formula unit must be converted to oxide wt% first."
            )
        else:
            fix = "Name columns as oxides in wt% (SiO2, TiO2, Al2O3, FeOt, MgO, CaO, ...)."
        raise ValueError(f"No oxide columns found among {list(names)}.{hints}\n{fix}")
    return mapping


def _check(
    mapping: ColumnMapping, raw: dict, n: int, *, index, other, total_range, notes, extra_flags=()
) -> OxideCheck:
    """The checks on the mapped columns ``raw`` (column name to its cells)."""
    if total_range is not None:
        try:
            lo, hi = (float(v) for v in total_range)
        except (TypeError, ValueError):
            raise ValueError(f"total_range must be (low, high) in wt%, e.g. (88, 105), got {total_range!r}.") from None
        if not lo < hi:
            raise ValueError(f"total_range must be (low, high) with low < high, got {total_range!r}.")
        total_range = (lo, hi)
    table = species_table()
    names = list(mapping.mapped.values())
    mapped = set(names)
    order = [name for name in table if name in mapped]
    columns = list(CORE_OXIDES) + [c for c in order if c not in CORE_OXIDES and not table[c].total_iron]
    matrix = np.zeros((n, len(columns)), order="F")  # column-major: each species is contiguous
    # each species is read straight into its column of the matrix; FeOt (computed from the
    # iron forms below) and Fe2O3t into arrays of their own
    direct = {name: j for j, name in enumerate(columns) if name != "FeOt"}
    factor = [mapping.factors.get(col, 1.0) for col in mapping.mapped]
    cells = [
        (
            raw[col],
            (PURE_PHASE_MAX if table[name].pure_phase else 100.0) / f,  # the limit in the column's unit
            matrix[:, direct[name]] if name in direct else None,
        )
        for (col, name), f in zip(mapping.mapped.items(), factor, strict=True)
    ]
    parsed = run_in_threads(lambda item: parse_column(*item), cells)  # numpy leaves the GIL: columns side by side
    for (v, _), f in zip(parsed, factor, strict=True):
        if f != 1.0:
            v *= f  # element wt% -> oxide wt%, in place (v may be a column of the matrix)
    values = {name: v for name, (v, _) in zip(names, parsed, strict=True)}
    status = {name: s for name, (_, s) in zip(names, parsed, strict=True)}

    flags = Messages(n)
    for mask, text, name in extra_flags:  # merged columns that disagree: the value is unusable
        flags.add(mask, text)
        values[name][mask] = np.nan
        status[name][mask] = Status.OK  # analysed, but unusable (not "not analysed")
    note = None
    if notes:
        note = Messages(n)
        note.add_patterns(order, [status[c] == Status.EMPTY for c in order], "not analysed, read as 0")
        note.add_patterns(order, [status[c] == Status.BELOW_DETECTION for c in order], "below detection, read as 0")
        note.add_patterns(
            order, [status[c] == Status.WITH_UNCERTAINTY for c in order], "value read without its uncertainty"
        )
    codes = {}
    for name in order:
        col = next(c for c, v in mapping.mapped.items() if v == name)
        said = f"{name} (from {col})" if col in mapping.factors else name  # the cells shown are the column's
        coded = status[name] == Status.CODE
        if coded.any():  # a value repeated down the column: a code for "not analysed"
            shown = [_shown(cell) for cell in _cells(raw[col], np.flatnonzero(coded))]
            codes[col] = dict(Counter(shown).most_common())
            if note is not None:
                note.add(
                    coded,
                    lambda idx, said=said, col=col: [
                        f"code for not analysed, read as 0: {said} {_shown(cell)}" for cell in _cells(raw[col], idx)
                    ],
                )
        if notes:
            note.add(
                status[name] == Status.SMALL_NEGATIVE,
                lambda idx, said=said, col=col: [
                    f"small negative read as 0: {said} {_shown(cell)}" for cell in _cells(raw[col], idx)
                ],
                kind="small negative read as 0",
            )
        for code, problem in _CELL_PROBLEM.items():
            flags.add(
                status[name] == code,
                lambda idx, said=said, col=col, problem=problem: [
                    f"{said} {problem}: {_shown(cell)}" for cell in _cells(raw[col], idx)
                ],
                Reason.UNUSABLE_VALUE,
                f"{said} {problem}",
            )

    feot, rule, mismatch = total_iron(
        {k: values[k] for k in IRON_FORMS if k in values},
        {k: (status[k] != Status.EMPTY) & (status[k] != Status.CODE) for k in IRON_FORMS if k in values},
        n,
    )
    flags.add(
        ~np.isnan(mismatch),
        lambda idx: [
            f"iron mismatch: FeOt {feot[i]:.4g} but FeO + 0.8998 Fe2O3 (or Fe2O3t) gives {mismatch[i]:.4g} "
            "(which is total iron?)"
            for i in idx
        ],
        Reason.IRON_MISMATCH,
        "iron mismatch",
    )

    matrix[:, columns.index("FeOt")] = feot

    total, largest, top = _sum_and_largest(columns, matrix)
    no_analysis, total_outside = _flag_row_shape(columns, total, largest, top, flags, total_range)
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
    return result


def _sum_and_largest(columns: list[str], matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Oxide sum (iron as FeOt; halogens less their oxygen equivalent; unusable cells left
    out), and the largest value of a row with its column index, one column at a time."""
    table = species_table()
    oxygen = atomic_weight("O")
    n = len(matrix)
    total, largest = np.zeros(n), np.zeros(n)
    top = np.zeros(n, dtype=np.intp)
    for j, name in enumerate(columns):
        if name in ("FeO", "Fe2O3"):  # counted as FeOt
            continue
        usable = np.fmax(matrix[:, j], 0.0)  # unusable (NaN) cells as 0; read values are >= 0
        # O = F2 / O = Cl2: each halogen replaces half an oxygen
        total += usable * (1.0 - 0.5 * oxygen / table[name].molar_mass) if table[name].halogen else usable
        top[usable > largest] = j
        np.maximum(largest, usable, out=largest)
    return total, largest, top


def _flag_row_shape(columns, total, largest, top, flags: Messages, total_range) -> tuple[np.ndarray, np.ndarray]:
    """Flags that look at a row as a whole: empty, fractions, column shift, total.  Returns
    the rows that are no analysis, and the analyses with a total outside ``total_range``."""
    table = species_table()
    empty = total <= 0
    flags.add(empty, "empty row: no oxide values", Reason.EMPTY_ROW, "empty row")
    lo_f, hi_f = _FRACTION_RANGE
    fractions = (total >= lo_f) & (total <= hi_f) & (largest <= 1.0)
    flags.add(
        fractions,
        lambda idx: [f"fractions?: oxide sum {total[i]:.4g}, multiply by 100 for wt%" for i in idx],
        Reason.FRACTIONS,
        "fractions?",
    )

    # a total written into an oxide column: one value equal to the sum of the others
    rest = total - largest
    holds_total = (
        (largest >= _TOTAL_LIKE) & (rest >= _TOTAL_LIKE) & (np.abs(largest - rest) <= np.maximum(2.0, 0.03 * largest))
    )
    # one oxide ~100 with nothing else, in a column that never forms a phase alone
    lonely = np.array([not table[name].pure_phase for name in columns], dtype=bool)
    alone = (largest >= _SHIFT_SINGLE) & (rest < _SHIFT_REST) & lonely[top]
    flags.add(
        holds_total | alone,
        lambda idx: [
            f"column shift?: {columns[top[i]]} = {largest[i]:.4g} with the other oxides summing to {rest[i]:.4g}"
            for i in idx
        ],
        Reason.COLUMN_SHIFT,
        "column shift?",
    )
    no_analysis = empty | fractions | holds_total | alone

    if total_range is None:
        return no_analysis, np.zeros(len(total), dtype=bool)
    lo, hi = total_range
    outside = ~empty & ~fractions & ((total < lo) | (total > hi))
    flags.add(
        outside,
        lambda idx: one_decimal(total[idx], f"total outside {lo:g}-{hi:g}: {{}} wt%"),
        Reason.TOTAL_OUTSIDE,
        f"total outside {lo:g}-{hi:g}",
    )
    return no_analysis, outside
