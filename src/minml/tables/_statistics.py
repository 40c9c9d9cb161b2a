"""Rows of a table that are statistics of its analyses, not analyses: ``Mean``, ``SD``, ``n``.

Published tables print them between or below the analyses of a grain or a sample, labelled in
one of their first cells (``Average (n=8)``, ``1σ``, ``2SD``, ``Median``, ``Min``), in the
column of the sample's name or in that of the point's (``Grain | Analysis | SiO2 ...``).  A mean
has the composition of its mineral and would be named and counted as one more analysis; a
standard deviation is no composition at all.  Such rows are kept, flagged as statistics rows
and answered as no analysis (:func:`minml.check_oxides`).

A row is a statistics row when a cell of its leading text columns (those before the first
species column, :data:`LABEL_COLUMNS` at most) is such a label, and only where such labels are
a minority of that column's filled cells: a table whose every row is labelled ``Average``
reports averages as its analyses, nor in a column of phase names (``Sd`` is siderite in a
``Mineral`` column).  Cells are matched on their pyarrow array (RE2), some 30 ms a million.
"""

from __future__ import annotations

import re

import numpy as np

__all__ = ["LABEL_COLUMNS", "label_columns", "statistics_in_cells", "statistics_rows"]

LABEL_COLUMNS = 3
"""The leading text columns (before the first species column) whose cells may label a row."""

_SAMPLE = 2000  # a column's first cells, from which its kind (few words, phase names) is judged

_WORDS = (
    r"(?:mean|average|median|mittelwert|moyenne|promedio)\b{rest}"  # "Average (n=8)", "Mean of 5", "Average ol"
    r"|(?:aver|avg|ave|av)\.?\s*(?:\({rest}\)|of\s+\d{rest})?"  # short forms alone: "Av-12" is a sample
    r"|(?:[12]\s*)?(?:s\.?d\.?|std\.?|stdev|sdev|st\.?\s*dev(?:iation)?|std\.?\s*dev(?:iation)?"
    r"|standard\s+(?:deviation|error)|s\.?e\.?(?:m\.?)?|serr|s|σ|sigma|%?\s*rsd|rsd\s*%?|c\.?v\.?)\.?\s*(?:\({rest}\))?"
    r"|(?:min(?:imum)?|max(?:imum)?|range|n|count)\.?\s*(?:\({rest}\))?"
)


_CELL = re.compile(r"^\s*(?:" + _WORDS.format(rest=r"[^\n]*") + r")\s*:?\s*$", re.IGNORECASE)


def label_columns(names: list, species) -> list:
    """The columns that may label a row: those before the first of ``species`` (a container of
    the species columns' names), :data:`LABEL_COLUMNS` at most."""
    leading: list = []
    for name in names:
        if name in species or len(leading) == LABEL_COLUMNS:
            break
        leading.append(name)
    return leading


def statistics_rows(columns: list) -> tuple[np.ndarray, dict[int, str]] | None:
    """:func:`statistics_in_cells` of several label columns (their cells, in order): a row is a
    statistics row where any of them labels it (the first such label is its label); None for
    no column."""
    found = [statistics_in_cells(cells) for cells in columns if cells is not None]
    if not found:
        return None
    mask = np.logical_or.reduce([m for m, _ in found])
    labels: dict[int, str] = {}
    for _, named in found:
        for i, label in named.items():
            labels.setdefault(i, label)
    return mask, labels


def statistics_in_cells(cells) -> tuple[np.ndarray, dict[int, str]]:
    """Which cells of a table's leading text column label a statistics row.

    Parameters
    ----------
    cells : array-like
        The column: a pyarrow array, a pandas Series or a numpy array.  Columns of numbers label
        no row.

    Returns
    -------
    mask : numpy.ndarray of bool
    labels : dict of int to str
        The label of each such row, by position.

    Examples
    --------
    >>> mask, labels = statistics_in_cells(["ol-1", "ol-2", "Average (n=2)", "1σ", "cpx-1", "Median of 4"])
    >>> mask.tolist(), labels
    ([False, False, True, True, False, True], {2: 'Average (n=2)', 3: '1σ', 5: 'Median of 4'})
    """
    import pyarrow as pa

    from minml.io._arrow import call

    text = _as_text(cells)
    n = len(cells) if text is None else len(text)
    if text is None or not n:
        return np.zeros(n, dtype=bool), {}
    if not isinstance(text, pa.DictionaryArray):
        head = text.slice(0, _SAMPLE).to_pylist()
        if n >= 4 * _SAMPLE and len(set(head)) <= _SAMPLE // 20:  # a column of a few words (a method, a phase)
            if _names_phases(head):  # a column of phase names, known from its first words
                return np.zeros(n, dtype=bool), {}
            text = call("dictionary_encode", text)  # each word matched once
    if isinstance(text, pa.DictionaryArray):
        words, index = text.dictionary, _indices(text)
    else:
        words, index = text, None
    hit_words = _matches(words)
    if not len(hit_words) or _names_phases(words.slice(0, _SAMPLE).to_pylist()):  # 'Sd' is siderite there
        return np.zeros(n, dtype=bool), {}
    said = dict(zip(hit_words.tolist(), _texts_at(words, hit_words), strict=True))
    valid = _valid(text if index is None else text.indices)
    if index is None:
        at, label_of = hit_words, said
    else:
        hit = np.zeros(len(words) + 1, dtype=bool)
        hit[hit_words] = True
        at = np.flatnonzero(hit[np.where(valid, index, len(words))])
        label_of = {i: said[int(index[i])] for i in at.tolist()}
    filled = n - text.null_count - _blank(words, index, valid)
    return _unless_most(at, label_of, filled, n)


def _matches(words) -> np.ndarray:
    """Positions of the cells of a string array that label a statistic (:data:`_CELL`, in RE2)."""
    from minml.io._arrow import MatchSubstringOptions, booleans, call

    found = call("match_substring_regex", words, options=MatchSubstringOptions(_CELL.pattern, ignore_case=True))
    return np.flatnonzero(booleans(found))


def _texts_at(words, at: np.ndarray) -> list[str]:
    from minml.io._arrow import call, positions

    return [str(w).strip() for w in call("take", words, positions(at)).to_pylist()]


def _blank(words, index, valid: np.ndarray) -> int:
    """Cells holding an empty string (nulls are counted apart)."""
    from minml.io._arrow import call

    lengths = call("binary_length", words)  # int32 (int64 for large strings), 0 for blank cells
    zero: np.ndarray = np.frombuffer(lengths.buffers()[1], dtype=_offset_type(words))[
        lengths.offset : lengths.offset + len(words)
    ]
    zero = (zero == 0) & _valid(lengths)
    if index is None:
        return int(np.count_nonzero(zero))
    return int(np.count_nonzero(zero[index[valid]]))


def _indices(array) -> np.ndarray:
    """A dictionary array's indices as numpy (nulls: any value; see :func:`_valid`)."""
    indices = array.indices
    width = {1: np.int8, 2: np.int16, 4: np.int32, 8: np.int64}[indices.type.bit_width // 8]
    return np.frombuffer(indices.buffers()[1], dtype=width)[indices.offset : indices.offset + len(indices)].astype(
        np.int64
    )


def _names_phases(words: list) -> bool:
    """Whether most of a column's distinct filled cells (``words``: its first ones) are, as
    written, phase names of ``labels.toml`` (a ``Mineral`` column): its short words are phases,
    not statistics.  Points named after their phase (``ol-1``) are no phase names."""
    from minml.chemistry.labels import names_a_phase

    distinct = {w for w in words if w}
    return bool(distinct) and sum(names_a_phase(w) for w in distinct) > len(distinct) / 2


def _offset_type(array) -> type:
    """The integer type of a string array's offsets (and of its lengths)."""
    import pyarrow as pa

    return np.int64 if pa.types.is_large_string(array.type) else np.int32


def _valid(array) -> np.ndarray:
    """Which cells of a pyarrow array hold a value."""
    from minml.io._arrow import valid_cells

    valid = valid_cells(array)
    return np.ones(len(array), dtype=bool) if valid is None else valid


def _as_text(cells):
    """``cells`` as a pyarrow string array, or None for a column of numbers (or of no text)."""
    import pyarrow as pa

    if isinstance(cells, pa.ChunkedArray):
        cells = cells.combine_chunks()
    if isinstance(cells, pa.DictionaryArray):
        return cells if _is_text(cells.dictionary.type) else None
    if isinstance(cells, pa.Array):
        return cells if _is_text(cells.type) else None
    values = np.asarray(getattr(cells, "to_numpy", lambda: cells)())
    if values.dtype.kind not in "OUS":
        return None
    try:
        return pa.array(values.astype(object), type=pa.string(), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # numbers and text mixed: the numbers as text (filled cells)
        return pa.array(
            [v if isinstance(v, str) else None if v is None or v != v else str(v) for v in values.tolist()],
            type=pa.string(),
        )


def _is_text(kind) -> bool:
    import pyarrow as pa

    return pa.types.is_string(kind) or pa.types.is_large_string(kind)


def _unless_most(hit: np.ndarray, labels: dict, filled: int, n: int) -> tuple[np.ndarray, dict[int, str]]:
    """The rows ``hit``, unless labels of statistics are most of the column's ``filled`` cells
    (a table that reports averages as its analyses)."""
    mask = np.zeros(n, dtype=bool)
    if not len(hit) or 2 * len(hit) > max(filled, 1):
        return mask, {}
    mask[hit] = True
    return mask, labels
