"""Between Arrow tables and numpy arrays without pandas.

``pyarrow.array`` and ``Array.to_numpy`` load pandas (about half a second) whenever it is
installed, which would be most of the time ``minml classify`` takes on a CSV file.  The
arrays here are read from and built on Arrow's buffers instead: numbers as float64 with NaN
for missing cells (nulls), text as str (None for missing), and back.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

try:  # the compiled module under pyarrow.compute, without its Python wrappers (see call)
    from pyarrow._compute import (
        CastOptions,
        JoinOptions,
        MatchSubstringOptions,
        ReplaceSubstringOptions,
        SetLookupOptions,
        SliceOptions,
    )
    from pyarrow._compute import call_function as _call_function
except ImportError:  # pragma: no cover - a pyarrow that moved them
    from pyarrow.compute import (
        CastOptions,
        JoinOptions,
        MatchSubstringOptions,
        ReplaceSubstringOptions,
        SetLookupOptions,
        SliceOptions,
    )
    from pyarrow.compute import call_function as _call_function

__all__ = [
    "CastOptions",
    "JoinOptions",
    "MatchSubstringOptions",
    "ReplaceSubstringOptions",
    "SetLookupOptions",
    "SliceOptions",
    "arrow_array",
    "booleans",
    "call",
    "cast",
    "numpy_column",
    "positions",
    "release_unused",
    "stored_array",
    "texts",
    "valid_cells",
]

_NUMBERS = {pa.int64(): np.int64, pa.float64(): np.float64, pa.int32(): np.int32, pa.float32(): np.float32}
_STRING_LIMIT = 2**31 - 1  # bytes a pa.string() array can hold (int32 offsets)


def call(name: str, *args, options=None):
    """Arrow's compute function ``name`` on ``args`` (as ``pyarrow.compute.call_function``),
    reached without importing :mod:`pyarrow.compute`.

    That import wraps each of Arrow's ~300 compute functions in Python, docstring parsed:
    ~70 ms of CPU, a fifth of what ``minml classify`` takes on a small file.  The Array
    methods that run a compute function (``cast``, ``take``, ``filter``, ``is_null``, ...)
    import it too: the Arrow routes call this, or :func:`cast`, instead, with the options
    classes imported here (``SetLookupOptions``, ``JoinOptions``, ``CastOptions``).
    """
    return _call_function(name, list(args), options)


def cast(array, to: pa.DataType):
    """``array.cast(to)`` (a safe cast), without importing :mod:`pyarrow.compute` (see :func:`call`)."""
    return _call_function("cast", [array], CastOptions.safe(to))


def release_unused() -> None:
    """Hand back to the system the memory Arrow's allocator keeps for reuse after a large
    read (a CSV file's parse leaves about three times the table's size held)."""
    pa.default_memory_pool().release_unused()


def valid_cells(chunk: pa.Array) -> np.ndarray | None:
    """The chunk's validity as booleans (read from its bitmap, without pandas), or None when it
    has no nulls."""
    if not chunk.null_count:
        return None
    return _bitmap(chunk, 0)


def booleans(chunk: pa.Array) -> np.ndarray:
    """A boolean chunk as numpy booleans, a null read as False (without pandas)."""
    values = _bitmap(chunk, 1)
    valid = valid_cells(chunk)
    return values if valid is None else values & valid


def _bitmap(chunk: pa.Array, buffer: int) -> np.ndarray:
    """Buffer ``buffer`` of a chunk, a bitmap, as one boolean per cell."""
    bits = np.unpackbits(np.frombuffer(chunk.buffers()[buffer], dtype=np.uint8), bitorder="little")
    return bits[chunk.offset : chunk.offset + len(chunk)].astype(bool)


def _fill(out: np.ndarray, chunk: pa.Array) -> None:
    """Write a chunk of numbers into ``out`` as float64, NaN where a cell is missing."""
    if pa.types.is_null(chunk.type):
        out[:] = np.nan
        return
    out[:] = np.frombuffer(chunk.buffers()[1], dtype=_NUMBERS[chunk.type])[chunk.offset : chunk.offset + len(chunk)]
    valid = valid_cells(chunk)
    if valid is not None:
        out[~valid] = np.nan


def numpy_column(column: pa.ChunkedArray | pa.Array, out: np.ndarray | None = None) -> np.ndarray:
    """One column as a new numpy array: integers and floats as float64 (NaN where missing),
    written into ``out`` where given; other types as objects (str for text, None where
    missing; ``out`` is then not used)."""
    chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
    if not all(c.type in _NUMBERS or pa.types.is_null(c.type) for c in chunks):  # text, for the text parser
        cells = [cell for chunk in chunks for cell in chunk.to_pylist()]
        return np.array(cells + [None], dtype=object)[:-1]  # 1-D even when cells are lists
    if out is None:
        out = np.empty(sum(len(c) for c in chunks))
    start = 0
    for chunk in chunks:  # straight into one array: no copy per chunk, no concatenation
        _fill(out[start : start + len(chunk)], chunk)
        start += len(chunk)
    return out


def _floats(values: np.ndarray) -> pa.Array:
    single = values.dtype == np.float32
    values = np.ascontiguousarray(values, dtype=np.float32 if single else np.float64)
    missing = np.isnan(values)
    n_missing = int(missing.sum())
    validity = pa.py_buffer(np.packbits(~missing, bitorder="little")) if n_missing else None
    return pa.Array.from_buffers(
        pa.float32() if single else pa.float64(), len(values), [validity, pa.py_buffer(values)], null_count=n_missing
    )


def _strings(data: bytes, lengths: np.ndarray) -> pa.Array:
    """A string array of the UTF-8 ``data`` cut into pieces of ``lengths`` bytes."""
    offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    large = offsets[-1] > _STRING_LIMIT
    return pa.Array.from_buffers(
        pa.large_string() if large else pa.string(),
        len(lengths),
        [None, pa.py_buffer(offsets if large else offsets.astype(np.int32)), pa.py_buffer(data)],
        null_count=0,
    )


def positions(rows) -> pa.Array:
    """Row positions (integers) as an Arrow int64 array, for ``call("take", ...)``, without
    :func:`pyarrow.array` (which loads pandas)."""
    rows = np.ascontiguousarray(rows, dtype=np.int64)
    return pa.Array.from_buffers(pa.int64(), len(rows), [None, pa.py_buffer(rows)])


def texts(words) -> pa.Array:
    """A list of str as an Arrow string array, without :func:`pyarrow.array` (which loads pandas)."""
    pieces = [str(word).encode() for word in words]
    return _strings(b"".join(pieces), np.array([len(p) for p in pieces], dtype=np.int64))


def arrow_array(column) -> pa.Array:
    """A result column as Arrow: floats (NaN as a missing value), an object array of str, or
    anything with ``codes`` and ``categories`` (:class:`minml.classifier.predict.Coded`), as text."""
    if hasattr(column, "codes") and hasattr(column, "categories"):
        words = [str(c).encode() for c in column.categories]
        sizes = np.array([len(w) for w in words], dtype=np.int64)
        codes = np.ascontiguousarray(column.codes, dtype=np.int64)
        dictionary = _strings(b"".join(words), sizes)
        if len(codes) and sizes[codes].sum() > _STRING_LIMIT:
            dictionary = cast(dictionary, pa.large_string())
        return call("take", dictionary, pa.Array.from_buffers(pa.int64(), len(codes), [None, pa.py_buffer(codes)]))
    column = np.asarray(column)
    if column.dtype.kind == "f":
        return _floats(column)
    if column.dtype == object or column.dtype.kind == "U":
        filled = np.flatnonzero(column != "")  # most rows' flags are empty: encode only the others
        pieces = [str(text).encode() for text in column[filled].tolist()]
        lengths = np.zeros(len(column), dtype=np.int64)
        lengths[filled] = [len(p) for p in pieces]
        return _strings(b"".join(pieces), lengths)
    raise TypeError(f"No Arrow column for numpy dtype {column.dtype}.")


def stored_array(column) -> pa.Array:
    """A result column as pandas would store it in Parquet (:func:`minml.write_table`), so
    that a table written from Arrow reads back as one written from pandas: codes and
    categories as a dictionary (int8 codes where the categories allow, every category
    kept), text as ``large_string``, floats as :func:`arrow_array`."""
    if hasattr(column, "codes") and hasattr(column, "categories"):
        words = [str(c).encode() for c in column.categories]
        dictionary = _strings(b"".join(words), np.array([len(w) for w in words], dtype=np.int64))
        width = next(t for t in (np.int8, np.int16, np.int32, np.int64) if len(words) < np.iinfo(t).max)  # as pandas
        codes = np.ascontiguousarray(column.codes, dtype=width)
        indices = pa.Array.from_buffers(pa.from_numpy_dtype(width), len(codes), [None, pa.py_buffer(codes)])
        return pa.DictionaryArray.from_arrays(indices, dictionary)
    array = arrow_array(column)
    return cast(array, pa.large_string()) if pa.types.is_string(array.type) else array
