"""The per-row checks of :func:`minml.tables.checks.check_oxides`: each cell read into its column,
the messages of cells read as 0 or unusable, total iron, and the checks of a row as a whole
(empty, fractions, column shift, oxide sum)."""

from __future__ import annotations

import datetime
from collections import Counter

import numpy as np

from minml._parallel import run_in_threads
from minml._text import one_decimal
from minml.chemistry.iron import IRON_FORMS, total_iron
from minml.chemistry.oxides import CORE_OXIDES, ColumnMapping, atomic_weight, species_table
from minml.tables._values import PURE_PHASE_MAX, Status, from_arrow, not_analysed, parse_column
from minml.tables.reasons import Messages, Reason

__all__ = ["cell_messages", "flag_iron", "flag_row_shape", "read_cells", "rows_with_text", "sum_and_largest"]

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


def read_cells(mapping: ColumnMapping, raw: dict, n: int) -> tuple[list[str], np.ndarray, dict, dict]:
    """The species columns of the result (every core oxide, then the others found), the matrix
    of their values, and each mapped species' values and cell status.  Each species is read
    straight into its column of the (column-major) matrix, on a few threads; FeOt (computed
    from the iron forms) and Fe2O3t into arrays of their own."""
    table = species_table()
    names = list(mapping.mapped.values())
    mapped = set(names)
    order = [name for name in table if name in mapped]
    columns = list(CORE_OXIDES) + [c for c in order if c not in CORE_OXIDES and not table[c].total_iron]
    matrix = np.zeros((n, len(columns)), order="F")  # column-major: each species is contiguous
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
    return columns, matrix, values, status


def rows_with_text(status: dict) -> np.ndarray:
    """Rows where a cell holds a text meaning "not analysed" (``#N/A``): their notes name each
    such cell with its text (and their empty cells beside), rather than by pattern."""
    texted = np.zeros(len(next(iter(status.values()), ())), dtype=bool)
    for cells in status.values():
        texted |= cells == Status.NOT_ANALYSED
    return texted


def _counted(column, mask: np.ndarray) -> dict[str, int]:
    """The cells of ``column`` where ``mask``, as shown, with their rows (most frequent first)."""
    return dict(Counter(_shown(cell) for cell in _cells(column, np.flatnonzero(mask))).most_common())


def cell_messages(
    mapping: ColumnMapping, raw: dict, order: list[str], status: dict, flags: Messages, note: Messages | None
) -> tuple[dict[str, dict[str, int]], dict[str, dict[str, int]]]:
    """Per species column: the cells read as 0 in ``note`` (None: no notes) -- codes and texts
    for "not analysed", detection limits, small negatives -- or read without a footnote mark
    (``49.25*``), and its unusable cells in
    ``flags``, each message showing the cell as read.  Returns, per column, the codes and texts
    for "not analysed" found (each as shown -> its rows), and the detection-limit texts alike."""
    codes: dict[str, dict[str, int]] = {}
    below: dict[str, dict[str, int]] = {}
    pending: dict[str, list] = {}  # note label -> (rows, cell as shown) per column
    texted = rows_with_text(status)
    for name in order:
        col = next(c for c, v in mapping.mapped.items() if v == name)
        said = f"{name} (from {col})" if col in mapping.factors else name  # the cells shown are the column's
        for state, label, found in (
            (Status.CODE, "code for not analysed, read as 0", codes),  # a value repeated down the column
            (Status.NOT_ANALYSED, "not analysed, read as 0", codes),  # #N/A, NA, null, n.a.
            (Status.BELOW_DETECTION, "below detection, read as 0", below),  # <0.01, bdl, n.d., -
            (Status.SMALL_NEGATIVE, "small negative read as 0", None),
            (Status.FOOTNOTE, "read without its footnote mark", None),  # 49.25*, †, ‡
        ):
            mask = status[name] == state
            if found is not None and mask.any():
                found.setdefault(col, {}).update(_counted(raw[col], mask))
            if note is not None and mask.any():
                idx = np.flatnonzero(mask)
                pending.setdefault(label, []).append((idx, [f"{said} {_shown(c)}" for c in _cells(raw[col], idx)]))
            if note is not None and state == Status.NOT_ANALYSED:  # empty cells of rows noted so: in one note
                idx = np.flatnonzero((status[name] == Status.EMPTY) & texted)
                pending.setdefault(label, []).append((idx, [said] * len(idx)))
        for code, problem in _CELL_PROBLEM.items():
            flags.add(
                status[name] == code,
                lambda idx, said=said, col=col, problem=problem: [
                    f"{said} {problem}: {_shown(cell)}" for cell in _cells(raw[col], idx)
                ],
                Reason.UNUSABLE_VALUE,
                f"{said} {problem}",
            )
    if note is not None:
        for label, parts in pending.items():
            _note_per_row(note, label, parts)
    return codes, below


def _note_per_row(note: Messages, label: str, parts: list) -> None:
    """One note per row, ``label: NiO '#N/A', P2O5 'null'``, from (rows, cells as shown) per column."""
    rows = np.concatenate([idx for idx, _ in parts])
    if not len(rows):
        return
    shown = [text for _, cells in parts for text in cells]
    by_row: dict[int, list[str]] = {}
    for i in np.argsort(rows, kind="stable").tolist():
        by_row.setdefault(int(rows[i]), []).append(shown[i])
    mask = np.zeros(len(note.text), dtype=bool)
    mask[list(by_row)] = True
    note.add(mask, lambda idx: [f"{label}: {', '.join(by_row[i])}" for i in idx.tolist()], kind=label)


def flag_iron(values: dict, status: dict, n: int, flags: Messages) -> tuple[np.ndarray, np.ndarray]:
    """Total iron (FeOt) of each row and the rule used (:func:`minml.chemistry.iron.total_iron`);
    rows whose iron forms disagree are flagged."""
    feot, rule, mismatch = total_iron(
        {k: values[k] for k in IRON_FORMS if k in values},
        {k: ~not_analysed(status[k]) for k in IRON_FORMS if k in values},
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
    return feot, rule


def sum_and_largest(columns: list[str], matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
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


def flag_row_shape(
    columns, total, largest, top, flags: Messages, total_range, statistics=None
) -> tuple[np.ndarray, np.ndarray]:
    """Flags that look at a row as a whole: a statistics row (``statistics``: its mask and the
    label of each, :mod:`minml.tables._statistics`), empty, fractions, column shift, total.
    Returns the rows that are no analysis, and the analyses with a total outside
    ``total_range``.  A statistics row gets no other of these flags."""
    table = species_table()
    stats = np.zeros(len(total), dtype=bool) if statistics is None else statistics[0]
    if stats.any():
        labels = statistics[1]
        flags.add(
            stats,
            lambda idx: [f"statistics row: {labels[i]!r} labels it, not an analysis" for i in idx],
            Reason.STATISTICS_ROW,
            "statistics row",
        )
        total = np.where(stats, np.nan, total)  # compared with nothing below
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
    no_analysis = empty | fractions | holds_total | alone | stats

    if total_range is None:
        return no_analysis, np.zeros(len(total), dtype=bool)
    lo, hi = total_range
    outside = ~empty & ~fractions & ~stats & ((total < lo) | (total > hi))
    flags.add(
        outside,
        lambda idx: one_decimal(total[idx], f"total outside {lo:g}-{hi:g}: {{}} wt%"),
        Reason.TOTAL_OUTSIDE,
        f"total outside {lo:g}-{hi:g}",
    )
    return no_analysis, outside
