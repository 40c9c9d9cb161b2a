"""Reading the cells of one oxide column: numbers, text, detection limits, junk.

Each cell gets a value and a status.  Statuses that keep the row usable become 0 with a
note (``empty``, ``below_detection``, ``small_negative``, ``code``: a value such as -0.99
or 9999 repeated down a column, a code for "not analysed"), or keep the value before its
stated uncertainty (``with_uncertainty``: ``40.52(32)``, ``40.52 (0.32)``, ``40.52 ± 0.32``,
as experimental papers print a mean and its spread) or its footnote mark (``footnote``:
``49.25*``, ``†``, ``‡``), with a note.  A minus sign or dash as printed (``−0.01``) and a
percent sign after the number (``0.22%``) are read as written with ``-`` and without ``%``.
Statuses that make the value unknowable (``junk``, ``large_negative``, ``over_100``) become NaN
and flag the row, so a bad value is never silently turned into a number.
"""

from __future__ import annotations

import re
from enum import IntEnum

import numpy as np

__all__ = ["PURE_PHASE_MAX", "SMALL_NEGATIVE", "Status", "not_analysed", "parse_column"]

SMALL_NEGATIVE = -0.1
"""Negatives down to this value are analytical noise around zero and read as 0."""

PURE_PHASE_MAX = 104.0
"""Highest credible wt% of an oxide that forms a phase alone (quartz, rutile, ...): an
analysis of a pure phase closes at 100 within analytical error, as totals do (the
training compilations reach 103.2 wt% TiO2 in rutile, 102.2 wt% SiO2 in quartz)."""


class Status(IntEnum):
    """How a cell was read."""

    OK = 0
    EMPTY = 1
    BELOW_DETECTION = 2
    SMALL_NEGATIVE = 3
    LARGE_NEGATIVE = 4
    OVER_100 = 5
    JUNK = 6
    WITH_UNCERTAINTY = 7
    CODE = 8
    NOT_ANALYSED = 9
    """Text saying the oxide was not analysed (``#N/A``, ``NA``, ``null``, ``n.a.``): as an empty cell."""
    FOOTNOTE = 10
    """A number followed by a footnote mark (``49.25*``, ``†``, ``‡``): read as the number, noted."""


def not_analysed(status: np.ndarray) -> np.ndarray:
    """Cells that hold no analysis: empty, a text saying so, or a code (-0.99 down a column)."""
    return (status == Status.EMPTY) | (status == Status.NOT_ANALYSED) | (status == Status.CODE)


CODE_MIN_ROWS = 3
"""A negative value (beyond noise), or one above the species' limit written with nines only
(999, 9999, 99.99), that repeats exactly in at least this many rows of a column is a code for
"not analysed" (-0.99, -1, -9, -99, -999, 9999, as databases write it), not a measurement: read
as 0 (not analysed), with a note.  Any other value over the limit stays a flagged value, however
often it repeats (655.9 wt% Al2O3 in five rows is one bad analysis copied, not a code)."""


def _nines(values: np.ndarray) -> np.ndarray:
    """Whether each value is written with nines only (99, 999.9, 9999), as codes are."""
    text = np.char.replace(np.char.mod("%.6g", np.abs(values)), ".", "")
    return np.char.strip(text, "9") == ""


# "<0.01", "< 0.01", "bdl", "b.d.l.", "b.d.", "bd", "n.d.", "nd", "-", "--", "–", "—", "lod",
# "<lod", "below detection (limit)".
_BELOW_DETECTION = re.compile(
    r"^(<.*|b\.?d\.?l?\.?|n\.?d\.?|-+|[\u2013\u2014]|<?\s*lod|below\s+detection.*)$",
    re.IGNORECASE,
)
MISSING_TEXT = (
    "",
    "#N/A",
    "#N/A N/A",
    "#NA",
    "-1.#IND",
    "-1.#QNAN",
    "-NaN",
    "-nan",
    "1.#IND",
    "1.#QNAN",
    "<NA>",
    "N/A",
    "NA",
    "NULL",
    "NaN",
    "None",
    "n/a",
    "nan",
    "null",
)
"""Texts that mean "no value" (pandas' default ``na_values``): in an oxide column, the oxide was
not analysed (read as 0 and noted per row with the text, which the readers keep as written)."""
NUMBER_MISSING = ("", "NaN", "nan", "-NaN", "-nan", "1.#IND", "1.#QNAN", "-1.#IND", "-1.#QNAN", "<NA>")
"""How programs print a missing number (NumPy, pandas, MATLAB, Excel's C runtime): in an oxide
column of a text file the readers read these as an empty cell.  A person's text for "not
analysed" (``#N/A``, ``NA``, ``null``) is kept as written and noted by the checks."""
# "n.a.", "not analysed", "not analyzed": the oxide was not measured, as an empty cell says
_NOT_ANALYSED = re.compile(r"^(n\.?a\.?|not\s+analy[sz]ed)$", re.IGNORECASE)
_DECIMAL_COMMA = re.compile(r"^[+-]?\d*,\d+$")
# a value and its uncertainty: "40.52(32)" (in the last digits), "40.52 (0.32)", "40.52 ± 0.32",
# "40.52 +/- 0.32", decimal commas too; the value is the first number
_WITH_UNCERTAINTY = re.compile(
    r"^([+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+))\s*(?:\(\s*\d*[.,]?\d+\s*\)|(?:\u00b1|\+/-|\+-)\s*\d*[.,]?\d+)$"
)


# How printed tables write numbers that a plain parse does not read: a minus sign or dash
# before the number (U+2212 "−0.01", en dash, figure dash, as copied from a PDF or a word
# processor), a percent sign after it ("0.22%": the column is in wt%), a footnote mark after it
# ("49.25*", "†", "‡", "§", "‖", "¶").
_MINUS = re.compile(r"^[\u2010\u2011\u2012\u2013\u2212\ufe63\uff0d]\s*(?=[\d.,])")
_PERCENT = re.compile(r"\s*[%\uff05]$")
_FOOTNOTE = re.compile(r"^(.*\d)\s*[*\u2020\u2021\u00a7\u2016\u00b6]+$")


def _as_plain(text):
    """Cells (a pandas Series of text) as a plain parse reads them: decimal commas as points."""
    return text.where(~text.str.match(_DECIMAL_COMMA), text.str.replace(",", ".", regex=False))


def _read_printed(text) -> tuple[np.ndarray, np.ndarray]:
    """The numbers of cells (a pandas Series of text) that the plain parse did not read, written
    as printed tables write them (:data:`_MINUS`, :data:`_PERCENT`, :data:`_FOOTNOTE`; NaN for
    others), and which carried a footnote mark."""
    import pandas as pd

    cleaned = text.str.replace(_MINUS, "-", regex=True).str.replace(_PERCENT, "", regex=True)
    footnote = cleaned.str.match(_FOOTNOTE).to_numpy(dtype=bool, na_value=False)
    cleaned = cleaned.str.replace(_FOOTNOTE, r"\1", regex=True)
    values = pd.to_numeric(_as_plain(cleaned), errors="coerce").to_numpy(dtype=float)
    return values, footnote & ~np.isnan(values)


def _parse_text(raw) -> tuple[np.ndarray, np.ndarray]:
    import pandas as pd  # text cells only: a table of numbers is read without pandas

    text = pd.Series(raw, copy=False).astype("string").str.strip()
    values = np.full(len(raw), np.nan)
    status = np.full(len(raw), Status.OK, dtype=np.int8)
    blank = (text.isna() | (text == "")).to_numpy(dtype=bool, na_value=True)
    empty = blank | (text.isin(MISSING_TEXT) | text.str.match(_NOT_ANALYSED)).to_numpy(dtype=bool, na_value=False)
    status[empty] = Status.NOT_ANALYSED
    status[blank] = Status.EMPTY
    filled = text.fillna("")
    bdl = filled.str.match(_BELOW_DETECTION).to_numpy(dtype=bool) & ~empty
    status[bdl] = Status.BELOW_DETECTION
    rest = ~empty & ~bdl
    parsed = pd.to_numeric(_as_plain(filled).where(rest, None), errors="coerce").to_numpy(dtype=float)
    junk = rest & np.isnan(parsed)
    if junk.any():  # the slow path, for the cells the plain parse did not read
        printed, footnote = _read_printed(filled[junk])
        rows = np.flatnonzero(junk)
        read = ~np.isnan(printed)
        parsed[rows[read]] = printed[read]
        status[rows[footnote]] = Status.FOOTNOTE
        junk[rows[read]] = False
    if junk.any():
        value = filled.where(junk, "").str.extract(_WITH_UNCERTAINTY, expand=False)
        spread = pd.to_numeric(value.str.replace(",", ".", regex=False), errors="coerce").to_numpy(dtype=float)
        read = junk & ~np.isnan(spread)
        parsed[read] = spread[read]
        status[read] = Status.WITH_UNCERTAINTY
        junk &= ~read
    status[junk] = Status.JUNK
    values[rest & ~junk] = parsed[rest & ~junk]
    return values, status


def from_arrow(raw, out: np.ndarray | None = None):
    """A pyarrow column as a new numpy array (numbers into ``out`` where given; read
    without pandas, see :func:`minml.io._arrow.numpy_column`); any other column as it is."""
    if not hasattr(raw, "chunks"):
        return raw
    from minml.io._arrow import numpy_column

    return numpy_column(raw, out=out)


def _is_numbers(raw) -> bool:
    """Whether a column holds numbers only (not text, not booleans)."""
    if isinstance(raw.dtype, np.dtype):
        return raw.dtype.kind in "iuf"
    import pandas as pd  # a pandas extension dtype: pandas is loaded already

    return pd.api.types.is_numeric_dtype(raw.dtype) and not pd.api.types.is_bool_dtype(raw.dtype)


def parse_column(raw, max_value: float = 100.0, out: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Read one column of wt% values.

    Parameters
    ----------
    raw : pandas.Series, numpy.ndarray or pyarrow.ChunkedArray
        The column as read from the file (numbers, text, or a mix).  Not modified.
    max_value : float, default=100.0
        Values above this are impossible for the species (``OVER_100``).
    out : numpy.ndarray of float, optional
        Where to write the values (a column of the caller's matrix); a new array by default.

    Returns
    -------
    values : numpy.ndarray of float
        wt%; 0 where the cell was empty, below detection or a small negative;
        NaN where the value is unusable (see ``status``).
    status : numpy.ndarray of int8
        A :class:`Status` per cell.

    Examples
    --------
    >>> import pandas as pd
    >>> v, s = parse_column(pd.Series(["12,5", "<0.01", "abc", -0.05, 150, None, "40.52(32)"]))
    >>> v.tolist()
    [12.5, 0.0, nan, 0.0, nan, 0.0, 40.52]
    >>> [Status(x).name for x in s]
    ['OK', 'BELOW_DETECTION', 'JUNK', 'SMALL_NEGATIVE', 'OVER_100', 'EMPTY', 'WITH_UNCERTAINTY']
    """
    converted = from_arrow(raw, out)
    owned, raw = converted is not raw, converted
    if _is_numbers(raw):
        if not isinstance(raw, np.ndarray):
            raw = raw.to_numpy(dtype=float, na_value=np.nan, copy=False)
        if owned:
            values = raw
        elif out is None:
            values = np.array(raw, dtype=float)
        else:
            values = out
            values[:] = raw
        status = np.zeros(len(values), dtype=np.int8)
        empty = np.isnan(values)
        if empty.any():
            status[empty] = Status.EMPTY
            values[empty] = 0.0
    else:
        values, status = _parse_text(raw)
        if out is not None:
            out[:] = values
            values = out
        values[not_analysed(status) | (status == Status.BELOW_DETECTION)] = 0.0
    if ((values >= 0.0) & (values <= max_value)).all():  # the common case: nothing to mark
        return values, status
    with np.errstate(invalid="ignore"):
        negative = values < 0
        over = values > max_value
    odd = negative & (values < SMALL_NEGATIVE)
    if over.any():
        odd[over] = _nines(values[over])
    if odd.sum() >= CODE_MIN_ROWS:
        found, counts = np.unique(values[odd], return_counts=True)
        code = odd & np.isin(values, found[counts >= CODE_MIN_ROWS])
        status[code] = Status.CODE
        values[code] = 0.0
        negative &= ~code
        over &= ~code
    if negative.any():
        small = negative & (values >= SMALL_NEGATIVE)
        large = negative & ~small
        status[small] = Status.SMALL_NEGATIVE
        status[large] = Status.LARGE_NEGATIVE
        values[small] = 0.0
        values[large] = np.nan
    if over.any():
        status[over] = Status.OVER_100
        values[over] = np.nan
    return values, status
