"""Square neighbourhoods of a map of codes, in whole-array passes: the largest and smallest code
within a window, the number of marked pixels within it, and the 8-neighbours alike.

:mod:`minml.maps.mixtures` asks, of every pixel, whether two phases lie within its
neighbourhood and how many grain-interior pixels of its own phase do.  One box filter per
phase over the whole map answered it (a second per phase for the grain interiors); these
answer it for all phases at once, with integer sums (exact: no rounding of a float mean
back to a count) and a few shifted comparisons, as the box filters did with ``mode="constant"``
(nothing outside the map).
"""

from __future__ import annotations

import numpy as np

__all__ = ["BoxCounts", "alike_neighbours", "scattered_counts", "window_extremes"]


def _pad(x: np.ndarray, before: int, after: int, axis: int, value) -> np.ndarray:
    width = [(0, 0)] * x.ndim
    width[axis] = (before, after)
    return np.pad(x, width, constant_values=value)


def _take(x: np.ndarray, start: int, stop: int, axis: int) -> np.ndarray:
    index = [slice(None)] * x.ndim
    index[axis] = slice(start, stop)
    return x[tuple(index)]


def _sliding(x: np.ndarray, half: int, axis: int, reduce, fill) -> np.ndarray:
    """``reduce`` (np.maximum or np.minimum) over ``x[i - half : i + half + 1]`` along ``axis``,
    ``fill`` outside: windows doubled in width (1, 2, 4, ...) and the two that cover each
    window combined, so log2 of the width in passes."""
    n, size = x.shape[axis], 2 * half + 1
    m = _pad(x, half, half, axis, fill)
    width = 1
    while 2 * width <= size:
        m = reduce(_take(m, 0, m.shape[axis] - width, axis), _take(m, width, m.shape[axis], axis))
        width *= 2
    return reduce(_take(m, 0, n, axis), _take(m, size - width, size - width + n, axis))


def window_extremes(codes: np.ndarray, half: int) -> tuple[np.ndarray, np.ndarray]:
    """The smallest and largest code ``>= 0`` within ``half`` pixels (a square of side
    ``2 half + 1``) of each pixel; -1 codes count as none: the largest is then -1 and the
    smallest the dtype's maximum where the window holds no code."""
    top = np.iinfo(codes.dtype).max
    low = np.where(codes >= 0, codes, top).astype(codes.dtype)
    low = _sliding(_sliding(low, half, 0, np.minimum, top), half, 1, np.minimum, top)
    high = _sliding(_sliding(codes, half, 0, np.maximum, -1), half, 1, np.maximum, -1)
    return low, high


class BoxCounts:
    """Number of marked pixels within ``half`` pixels (a square of side ``2 half + 1``) of any
    pixel, from the summed-area table of ``mask`` (int32): ``BoxCounts(mask, half)[rows, cols]``."""

    def __init__(self, mask: np.ndarray, half: int):
        self.half = half
        table = np.zeros((mask.shape[0] + 1, mask.shape[1] + 1), dtype=np.int32)
        np.cumsum(mask, axis=0, dtype=np.int32, out=table[1:, 1:])
        np.cumsum(table[1:, 1:], axis=1, out=table[1:, 1:])
        self.table = table
        self.shape = mask.shape

    def _edges(self, index: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
        return np.clip(index - self.half, 0, size), np.clip(index + self.half + 1, 0, size)

    def __getitem__(self, where) -> np.ndarray:
        rows, cols = where
        (r0, r1), (c0, c1) = self._edges(rows, self.shape[0]), self._edges(cols, self.shape[1])
        t = self.table
        return t[r1, c1] - t[r0, c1] - t[r1, c0] + t[r0, c0]

    def whole(self) -> np.ndarray:
        """The counts of every pixel (int32)."""
        (r0, r1), (c0, c1) = (self._edges(np.arange(n), n) for n in self.shape)
        across = self.table[r1] - self.table[r0]
        return across[:, c1] - across[:, c0]


def scattered_counts(mask: np.ndarray, half: int) -> np.ndarray:
    """``BoxCounts(mask, half).whole()`` (the same counts, int64) for a mask of few marked
    pixels: each adds one to the pixels of its window, cheaper than a summed-area table when
    the marked pixels times the window's area are far fewer than the pixels."""
    h, w = mask.shape
    r, c = np.nonzero(mask)
    offsets = np.arange(-half, half + 1)
    rows = (r[:, None] + offsets)[:, :, None]
    cols = (c[:, None] + offsets)[:, None, :]
    inside = (rows >= 0) & (rows < h) & (cols >= 0) & (cols < w)  # nothing outside the map
    return np.bincount((rows * w + cols)[inside], minlength=h * w).reshape(h, w)


def alike_neighbours(codes: np.ndarray) -> np.ndarray:
    """How many of each pixel's 8 neighbours have its code (uint8; outside the map: none)."""
    h, w = codes.shape
    padded = np.pad(codes, 1, constant_values=np.iinfo(codes.dtype).min)
    out = np.zeros((h, w), dtype=np.uint8)
    for dr in range(3):
        for dc in range(3):
            if (dr, dc) != (1, 1):
                out += padded[dr : dr + h, dc : dc + w] == codes
    return out
