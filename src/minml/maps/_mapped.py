"""A ``.npy`` map memory-mapped so that the rows already read leave the process's memory.

A memory-mapped file's pages count in the memory of the process that reads them until it
unmaps them: a 4096 x 4096 x 11 float32 map read once from top to bottom holds its 700 MB in
the process's resident memory, as if read whole.  :func:`open_npy` maps the file itself
(the header read by :mod:`numpy.lib.format`) and hands back, with the array, a
:class:`PageRelease` that tells the kernel it may drop the pages of the rows before the one a
block starts at (``madvise(MADV_DONTNEED)``: they stay in the page cache, and are read again
from it if a later pass asks).  Where ``madvise`` is missing, nothing is released.
"""

from __future__ import annotations

import mmap
from pathlib import Path

import numpy as np

__all__ = ["PageRelease", "open_npy"]


class PageRelease:
    """Drops the pages of the rows a pass over the map has left behind (see the module)."""

    def __init__(self, mapping: mmap.mmap, offset: int, row_bytes: int):
        self.mapping, self.offset, self.row_bytes = mapping, offset, row_bytes
        self.kept_from = 0  # the first row whose pages may be resident

    def before(self, row: int) -> None:
        """A block of rows starting at ``row`` is being read: the rows above it may go (a
        block that starts higher up is another pass: its rows will be read again)."""
        if row <= self.kept_from:
            self.kept_from = min(self.kept_from, row)
            return
        page = mmap.PAGESIZE
        start = (self.offset + self.kept_from * self.row_bytes) // page * page
        stop = (self.offset + row * self.row_bytes) // page * page
        if stop > start and hasattr(self.mapping, "madvise"):
            self.mapping.madvise(mmap.MADV_DONTNEED, start, stop - start)
        self.kept_from = row


def open_npy(path: Path) -> tuple[np.ndarray, PageRelease | None]:
    """The array of a ``.npy`` file, memory-mapped read-only, and its :class:`PageRelease`
    (None for a file in Fortran order, whose rows are not contiguous)."""
    readers = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
    with open(path, "rb") as handle:
        read = readers.get(np.lib.format.read_magic(handle))
        shape, fortran, dtype = read(handle) if read else ((), True, np.dtype(object))
        offset = handle.tell()
        if dtype.hasobject or not np.prod(shape, dtype=np.int64):  # other versions, empty or object arrays
            return np.load(path, mmap_mode="r"), None
        mapping = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    array = np.ndarray(shape, dtype=dtype, buffer=mapping, offset=offset, order="F" if fortran else "C")
    if fortran or array.ndim < 2:
        return array, None
    return array, PageRelease(mapping, offset, array.strides[0])
