"""Merged compilations: one species in several columns (``NiO`` in some rows, ``NiO_Cpx`` in others).

A compilation that gathers tables of several sources often keeps each source's column name:
the columns of one species then never both hold a value in a row, and together they are the
species' column.  They are merged, cell by cell, into the first of them; rows where two hold
values that disagree beyond rounding are flagged naming both (the value is unusable).  When
they disagree in many rows, the columns are phases side by side (``SiO2_Cpx`` beside
``SiO2_Liq``): the group that reads the most species is read (and said so, :func:`minml.check_oxides`); groups
equally full are refused, naming each ``suffix=`` that reads one.
"""

from __future__ import annotations

import numpy as np

from minml.chemistry.oxides import ColumnMapping
from minml.tables._values import from_arrow, not_analysed, parse_column

__all__ = ["SIDE_BY_SIDE", "SideBySide", "merge_clashes"]

SIDE_BY_SIDE = 0.1
"""Share of the rows with a value in which two columns of a species disagree, above which they
are phases side by side (refused) rather than one species gathered from several sources."""

_ROUNDING = 0.0101  # wt%: two values printed to 2 decimals of one number differ by <= 0.01
_RELATIVE = 0.005  # ... or by half a percent where 3 significant figures are printed


class SideBySide(ValueError):
    """Phases side by side (``SiO2_Min`` beside ``SiO2_Liq``): the message names the ``suffix=``
    choices that read the most species; ``reads`` gives each choice's count, most first."""

    def __init__(self, message: str, reads: dict[str, int]):
        super().__init__(message)
        self.reads = reads

    @property
    def choice(self) -> str | None:
        """The phase affix that alone reads the most species (None: a tie, or only plain columns)."""
        counts = list(self.reads.values())
        best = next(iter(self.reads), "")
        return best if best and (len(counts) == 1 or counts[0] > counts[1]) else None


def _holds(status: np.ndarray) -> np.ndarray:
    return ~not_analysed(status)


def merge_clashes(mapping: ColumnMapping, raw: dict, n: int) -> tuple[dict, list]:
    """Merge each species of ``mapping.clashes`` into one column of cells.

    Parameters
    ----------
    mapping : ColumnMapping
        Changed in place: the merged columns leave ``mapped``, ``merged`` names them under the
        first of each group, and ``clashes`` is emptied.
    raw : dict
        Column name -> its cells (as :func:`minml.check_oxides` reads them).
    n : int
        Rows.

    Returns
    -------
    raw : dict
        The columns to read, the merged ones as object arrays of cells.
    flags : list of (numpy.ndarray of bool, callable, str)
        Rows whose columns disagree (their value is unusable), a function of their positions
        giving the message, and the species.

    Raises
    ------
    ValueError
        When the columns of a species disagree in many rows (phases side by side), naming the
        ``suffix=`` that reads the group holding the most species.
    """
    flags: list = []
    raw = dict(raw)
    side_by_side, done = {}, []
    for name, cols in mapping.clashes.items():
        cells = [np.asarray(from_arrow(raw[c]), dtype=object) for c in cols]
        merged, holds, disagree, first_of, other_of = _merged(cells, n)
        if disagree.sum() > SIDE_BY_SIDE * max(int(holds.sum()), 1):
            side_by_side[name] = cols
        else:
            done.append((name, cols, cells, merged, disagree, first_of, other_of))
    if side_by_side:
        lines = [f"  {name}: {cols}" for name, cols in side_by_side.items()]
        raise SideBySide(
            "Several columns name the same species and hold different values in the same rows (phases "
            "side by side?):\n" + "\n".join(lines) + "\n" + mapping.affix_advice(),
            mapping.affix_reads(),
        )
    for name, cols, cells, merged, disagree, first_of, other_of in done:
        merged[disagree] = None
        for col in cols[1:]:
            del mapping.mapped[col]
            raw.pop(col)
        raw[cols[0]] = merged
        mapping.merged[cols[0]] = list(cols[1:])
        flags.append((disagree, _disagreement(name, cols, cells, first_of, other_of), name))
    mapping.clashes = {}
    return raw, flags


def _merged(cells: list, n: int) -> tuple:
    """The cells of several columns of one species merged: each row's first value; the rows
    holding any; those where two columns hold values that disagree beyond rounding, with the
    positions of the two columns."""
    parsed = [parse_column(c) for c in cells]
    merged = cells[0].copy()
    holds = _holds(parsed[0][1])
    value = np.where(holds, parsed[0][0], np.nan)
    disagree = np.zeros(n, dtype=bool)
    first_of = np.zeros(n, dtype=np.intp)
    other_of = np.zeros(n, dtype=np.intp)
    for k in range(1, len(cells)):
        v, s = parsed[k]
        here = _holds(s)
        with np.errstate(invalid="ignore"):
            apart = np.abs(v - value) > np.maximum(_ROUNDING, _RELATIVE * np.fmax(np.abs(v), np.abs(value)))
        clash = here & holds & (apart | (np.isnan(v) != np.isnan(value)))
        other_of[clash & ~disagree] = k
        disagree |= clash
        take = here & ~holds
        merged[take] = cells[k][take]
        first_of[take] = k
        value = np.where(take, v, value)
        holds |= here
    return merged, holds, disagree, first_of, other_of


def _disagreement(name, cols, cells, first_of, other_of):
    """The message of rows whose columns of ``name`` hold different values."""

    def text(idx):
        return [
            f"{name} columns disagree: {cols[first_of[i]]} {cells[first_of[i]][i]!s}, "
            f"{cols[other_of[i]]} {cells[other_of[i]][i]!s}"
            for i in idx
        ]

    return text
