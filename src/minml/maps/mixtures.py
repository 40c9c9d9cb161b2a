"""Mixed pixels: a pixel on a grain boundary is a mixture of its neighbours, never a third phase.

The electron beam's interaction volume (1-3 µm across in silicates at 15 kV) straddles grain
boundaries, so a boundary pixel's analysis is a mass-weighted mix of its two grains: olivine
+ plagioclase at 50/50 looks like neither (an amphibole, a glass to the classifier).
:func:`resolve_mixtures` looks at every pixel whose class is *not* among the confident classes
of its neighbourhood (radius: the beam-overlap width in pixels, plus one to reach past the mixed
band; confident pixels count when 6 of their 8 neighbours are of their class: grain interiors),
and unknown or low-probability pixels, and fits its composition (normalised to 100 wt%,
so that epoxy at a crack's edge dilutes nothing) as ``f A + (1 - f) B`` of the local mean
compositions ``A``, ``B`` of the neighbourhood's confident phases (the best of its two or three
most frequent; ``f`` in [0, 1] by weighted least squares).  When the fit's mean squared
standardised residual is within ``max_chi2`` (the per-oxide noise: the spread of each phase's
confident pixels), the pixel is that mixture (or, for ``f`` near 0 or 1, that one phase);
otherwise an isolated pixel of a third phase is unknown and the others keep their class.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from minml._parallel import run_in_threads

__all__ = ["Mixtures", "context_rows", "resolve_mixtures"]

_PURE = 0.9  # a fit with f above this (or below 1 - this) is that one phase
_CHUNK = 16384  # candidate pixels per vectorised step
_BLOCK = 524_288  # pixels per block of rows whose local means are summed at once (a cell or two more above and below)


@dataclass
class Mixtures:
    """Mixed pixels found by :func:`resolve_mixtures`.

    Attributes
    ----------
    major, other : numpy.ndarray of int16
        Height x width: the majority and the second phase of a mixed pixel (their codes), -1
        elsewhere.
    fraction : numpy.ndarray of float32
        Height x width: the share of the majority phase (>= 0.5), 1 for pure pixels.
    chi2 : numpy.ndarray of float32
        Height x width: the best fit's mean squared standardised residual (NaN: not tested).
    """

    major: np.ndarray
    other: np.ndarray
    fraction: np.ndarray
    chi2: np.ndarray


@dataclass
class _State:
    """What the fits read and write: the map's codes and probabilities (changed in place),
    the mixtures found, and the settings."""

    codes: np.ndarray
    probability: np.ndarray
    found: Mixtures
    confident_codes: np.ndarray
    classes: np.ndarray
    noise: np.ndarray
    k: int
    codes_of: dict
    max_chi2: float
    min_neighbours: int


class _HoodCounts:
    """Per class, how many of its grain-interior pixels lie within ``hood`` pixels of a pixel
    (the pixel itself left out), for the pixels of map rows ``start:stop``: summed-area tables
    of the classes met within ``hood`` rows of them, built once for the rows (or, for a class
    of few pixels there, its counts at every pixel, :func:`~minml.maps._windows.scattered_counts`)."""

    def __init__(self, core: np.ndarray, classes: np.ndarray, hood: int, start: int, stop: int):
        from minml.maps._windows import BoxCounts, scattered_counts

        self.first = max(0, start - hood)
        rows = core[self.first : min(core.shape[0], stop + hood)]
        met = np.bincount(rows[rows >= 0].ravel(), minlength=int(classes.max()) + 1)
        self.core, self.classes = rows, classes
        few = rows.size // (4 * (2 * hood + 1) ** 2)  # pixels of a class under which scattering its windows is cheaper
        self.tables = {
            i: (scattered_counts if met[c] < few else BoxCounts)(rows == c, hood)
            for i, c in enumerate(classes)
            if met[c]
        }

    def __call__(self, rr: np.ndarray, cc: np.ndarray) -> np.ndarray:
        """Candidates x classes, int16, for map pixels ``(rr, cc)`` of the rows."""
        local = rr - self.first
        out = np.zeros((len(rr), len(self.classes)), dtype=np.int16)
        own = self.core[local, cc]
        for i, table in self.tables.items():
            out[:, i] = table[local, cc] - (own == self.classes[i])
        return out


def _core(confident_codes: np.ndarray) -> np.ndarray:
    """Confident pixels of which at least 6 of the 8 neighbours are confident pixels of their
    class (-1 for the others): grain interiors.  A band of boundary pixels that the classifier names alike (a
    garnet-looking mix of pyroxene and plagioclase) supports no phase."""
    from minml.maps._windows import alike_neighbours

    inner = (confident_codes >= 0) & (alike_neighbours(confident_codes) >= 6)
    return np.where(inner, confident_codes, -1).astype(np.int16)


def context_rows(radius: int) -> int:
    """Rows above and below a pixel that its answer from :func:`resolve_mixtures` depends on
    (for a beam-overlap ``radius``): the neighbourhood counts (``radius + 2``) of grain
    interiors (one row more), and the local means over 3 x 3 cells of that size, aligned on
    the whole map's rows."""
    hood = radius + 2
    return max(hood + 1, 2 * hood + 1) + 1


def _down(row: int, cell: int) -> int:
    return (row // cell) * cell


def resolve_mixtures(
    values,
    codes: np.ndarray,
    probability: np.ndarray,
    k: int,
    codes_of: dict,
    noise: np.ndarray,
    *,
    radius: int = 2,
    confident: float = 0.8,
    max_chi2: float = 4.0,
    min_neighbours: int = 2,
    row_offset: int = 0,
) -> Mixtures:
    """Find the mixed pixels and re-code them (``codes`` and ``probability`` changed in place).

    Parameters
    ----------
    values : callable
        ``values(r0, r1)`` -> rows r0:r1 of the map, height x width x oxides, wt%: a new
        float32 array each call (it is normalised in place).
    codes : numpy.ndarray of int16
        Classes ``< k``; ``codes_of["unknown"]``, ``["mixture"]``, ``["masked"]`` and
        ``["no_analysis"]`` (pixels that are no analysis: never resolved) above.
    probability : numpy.ndarray
    k : int
        Number of classes.
    codes_of : dict
    noise : numpy.ndarray
        Classes x oxides: 1 sd of each oxide within each class (wt%, normalised compositions).
    radius : int
        Beam-overlap radius in pixels.
    confident, max_chi2, min_neighbours : see module docstring (``min_neighbours`` at least 1).
    row_offset : int, default=0
        The whole map's row of ``codes``' first row, for a band of a larger map: the cells of
        the local means are aligned on the whole map's rows, so that a band with
        :func:`context_rows` rows of context above and below answers its own rows as the
        whole map does.

    Returns
    -------
    Mixtures
    """
    if min_neighbours < 1:
        raise ValueError(f"min_neighbours must be at least 1 grain-interior pixel, got {min_neighbours!r}.")
    h, w = codes.shape
    confident_codes = _core(np.where((codes < k) & (probability >= confident), codes, -1).astype(np.int16))
    classes = np.unique(confident_codes[confident_codes >= 0])
    found = Mixtures(
        np.full((h, w), -1, np.int16),
        np.full((h, w), -1, np.int16),
        np.ones((h, w), np.float32),
        np.full((h, w), np.nan, np.float32),
    )
    if len(classes) == 0:
        return found
    hood = radius + 2  # past the mixed band (its own width) and the ring of non-core pixels
    state = _State(codes, probability, found, confident_codes, classes, noise, k, codes_of, max_chi2, min_neighbours)
    cell = max(2, hood)

    def fit_block(start: int) -> None:  # a block's fits change its own rows only: blocks run side by side
        stop = min(h, start + step)
        r, c = np.nonzero(_candidates(state, hood, confident, start, stop))
        if not len(r):
            return
        # whole cells two cells past the block's rows, aligned on the whole map's rows
        lo = max(0, _down(row_offset + start - 2 * cell, cell) - row_offset)
        hi = min(h, _down(row_offset + stop + 3 * cell - 1, cell) - row_offset)
        block = _normalised(values(lo, hi))
        sums = _LocalSums(block, state.confident_codes[lo:hi], cell, classes, row_offset + lo)
        near = _HoodCounts(state.confident_codes, classes, hood, start, stop)
        for i in range(0, len(r), _CHUNK):
            rr, cc = r[i : i + _CHUNK] + start, c[i : i + _CHUNK]
            _fit_chunk(state, rr, cc, lo, block, sums, near(rr, cc))

    step = max(1, _BLOCK // max(w, 1))
    run_in_threads(fit_block, range(0, h, step))
    return found


def _candidates(state: _State, hood: int, confident: float, start: int, stop: int) -> np.ndarray:
    """The pixels of rows ``start:stop`` to fit: not masked and not over the oxide sum, and
    unknown, not confident, between grain interiors of two phases within ``hood`` pixels (a
    boundary), or of a class that fewer than ``min_neighbours`` grain-interior pixels within
    ``hood`` share.  Read from the rows with ``hood`` rows more above and below."""
    from minml.maps._windows import BoxCounts, window_extremes

    first = max(0, start - hood)
    own = slice(start - first, stop - first)
    codes, probability = state.codes[start:stop], state.probability[start:stop]
    core = state.confident_codes[first : min(len(state.codes), stop + hood)]
    skip = np.isin(codes, [state.codes_of["masked"], state.codes_of["no_analysis"]])
    low, high = (extreme[own] for extreme in window_extremes(core, hood))
    between = (high >= 0) & (low != high)  # core pixels of two phases near: a boundary
    candidate = ~skip & (between | (probability < confident) | (codes >= state.k))
    # the others have at most one phase's core pixels near (``high``): supported by those when their own
    interior = core >= 0
    near = BoxCounts(interior, hood).whole()[own] - interior[own]
    candidate |= ~skip & ~((codes == high) & (near >= state.min_neighbours))
    return candidate


class _LocalSums:
    """Local mean composition of each phase near each candidate, over one block of rows: the
    block is cut into square cells of ``cell`` pixels; per class, the sums of the normalised
    compositions of its grain-interior pixels (and their count) in each cell; a candidate's
    local mean is over the 3 x 3 cells around its own (the candidate itself left out).
    Cost: one pass over the block, whatever the number of classes."""

    def __init__(self, block: np.ndarray, core: np.ndarray, cell: int, classes: np.ndarray, first_row: int = 0):
        from scipy.ndimage import uniform_filter

        self.block, self.core, self.cell = block, core, cell
        self.skew = first_row % cell  # the block's first row within its cell of the whole map
        nb, w = core.shape
        self.shape = (-(-(nb + self.skew) // cell), -(-w // cell))
        ncell = self.shape[0] * self.shape[1]
        self.slot = {int(c): i for i, c in enumerate(classes)}
        flat = np.flatnonzero(core >= 0)
        values = block.reshape(-1, block.shape[-1])[flat]  # pixels x oxides: one gather
        if not np.isfinite(values).all():  # a pixel without a composition (NaN) counts for none
            valid = np.isfinite(values).all(axis=1)
            flat, values = flat[valid], values[valid]
        r, q = np.divmod(flat, w)
        present = np.unique(core.ravel()[flat])
        lookup = np.full(int(max(classes.max(), 0)) + 1, -1, dtype=np.int64)
        lookup[present] = [self.slot[int(c)] for c in present]
        index = lookup[core.ravel()[flat]] * ncell + ((r + self.skew) // cell) * self.shape[1] + q // cell
        size = len(classes) * ncell
        n = np.bincount(index, minlength=size).astype(np.float32)
        m = block.shape[-1]  # each (cell, oxide) summed in float64, in pixel order, kept in float32: one bincount
        every = (index[:, None] * m + np.arange(m)).ravel()
        flat_sums = np.bincount(every, weights=values.ravel(), minlength=size * m).astype(np.float32)
        grid = (len(classes), *self.shape)
        counts, sums = n.reshape(grid), flat_sums.reshape(*grid, m)
        self.n, self.sums = np.zeros_like(counts), np.zeros_like(sums)
        met = [self.slot[int(c)] for c in present]  # the others' sums are 0 and stay 0
        if met:
            self.n[met] = uniform_filter(counts[met], (1, 3, 3), mode="constant") * 9
            self.sums[met] = uniform_filter(sums[met], (1, 3, 3, 1), mode="constant") * 9

    def mean(self, cls: np.ndarray, rr: np.ndarray, cc: np.ndarray) -> np.ndarray:
        """Mean composition of class ``cls[i]`` near local pixel ``(rr[i], cc[i])`` (NaN: none)."""
        slot = np.array([self.slot.get(int(c), -1) for c in cls]) if len(cls) < 64 else self._slots(cls)
        gr, gc = (rr + self.skew) // self.cell, cc // self.cell
        x = self.block[rr, cc]
        own = ((self.core[rr, cc] == cls) & np.isfinite(x).all(axis=1)).astype(np.float32)
        count = self.n[slot, gr, gc] - own
        total = self.sums[slot, gr, gc] - own[:, None] * np.nan_to_num(x)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where((count > 0.5)[:, None], total / count[:, None], np.nan).astype(np.float32)

    def _slots(self, cls: np.ndarray) -> np.ndarray:
        lookup = np.full(int(cls.max()) + 1, 0, dtype=np.int64)
        for c, i in self.slot.items():
            if c < len(lookup):
                lookup[c] = i
        return lookup[cls]


def _normalised(block: np.ndarray) -> np.ndarray:
    """``block`` (float32, pixels' last axis the oxides) normalised to 100 wt% in place; NaN
    where the sum is not above 0."""
    total = block.sum(axis=-1, keepdims=True)
    np.multiply(block, np.float32(100.0), out=block)
    with np.errstate(invalid="ignore", divide="ignore"):
        np.divide(block, total, out=block)
    block[~(total[..., 0] > 0)] = np.nan
    return block


def _fit_chunk(state: _State, rr, cc, lo, block, sums: _LocalSums, here: np.ndarray) -> None:
    """Fit the candidates ``(rr, cc)`` as two-phase mixtures of their neighbourhood (in place);
    ``here``: candidates x classes, the grain-interior pixels of each class near them.  Each
    pair of the three classes most frequent near a candidate is fitted to the candidates that
    have both (most have one class near, or two)."""
    x = block[rr - lo, cc]  # N x oxides
    top = np.argsort(-here, axis=1)[:, :3]
    n_top = np.take_along_axis(here, top, axis=1)
    best_chi = np.full(len(rr), np.inf)
    best = np.zeros((len(rr), 3))  # a, b, f
    means: dict[int, np.ndarray] = {}  # the local mean of the i-th most frequent class near each candidate
    for i, j in ((0, 1), (0, 2), (1, 2), (0, 0), (1, 1), (2, 2)):
        if j >= top.shape[1]:
            continue
        rows = np.flatnonzero((n_top[:, i] >= state.min_neighbours) & (n_top[:, j] >= state.min_neighbours))
        if not len(rows):
            continue
        for n in (i, j):
            if n not in means:
                means[n] = _local_means(state, sums, top[:, n], n_top[:, n], rr - lo, cc)
        a, b = state.classes[top[rows, i]], state.classes[top[rows, j]]
        f, chi = _fit_pair(state, x[rows], means[i][rows], means[j][rows], a, b, i == j)
        better = chi < best_chi[rows]
        best_chi[rows[better]] = chi[better]
        best[rows[better]] = np.column_stack([a, b, f])[better]
    _apply(state, rr, cc, best, best_chi, here)


def _local_means(state: _State, sums: _LocalSums, slot, count, rr, cc) -> np.ndarray:
    """Candidates x oxides: the local mean of class ``state.classes[slot]`` near each
    candidate, where at least ``min_neighbours`` of its grain-interior pixels are (``count``;
    NaN elsewhere: no fit reads those)."""
    need = np.flatnonzero(count >= state.min_neighbours)
    out = np.full((len(rr), sums.block.shape[-1]), np.nan, dtype=np.float32)
    out[need] = sums.mean(state.classes[slot[need]], rr[need], cc[need])
    return out


def _fit_pair(state: _State, x, mean_a, mean_b, a, b, same: bool) -> tuple[np.ndarray, np.ndarray]:
    """Share ``f`` of ``a`` in ``f a + (1 - f) b`` (1 for one phase, ``same``) by weighted least
    squares, and the fit's mean squared standardised residual (inf: no oxide to compare)."""
    var_a = state.noise[a] ** 2 + 0.04
    var_b = var_a if same else state.noise[b] ** 2 + 0.04
    if same:
        f = np.ones(len(x))
    else:
        weight = 2.0 / (var_a + var_b)
        d = mean_a - mean_b
        with np.errstate(invalid="ignore", divide="ignore"):
            f = np.nansum(weight * (x - mean_b) * d, axis=1) / np.nansum(weight * d * d, axis=1)
        f = np.clip(np.nan_to_num(f, nan=1.0), 0.0, 1.0)
    fit = f[:, None] * mean_a + (1 - f[:, None]) * mean_b
    var = f[:, None] * var_a + (1 - f[:, None]) * var_b
    with np.errstate(invalid="ignore", divide="ignore"):
        terms = (x - fit) ** 2 / var
        used = np.isfinite(terms).sum(axis=1)
        chi = np.where(used > 0, np.nansum(terms, axis=1) / np.maximum(used, 1), np.inf)
    return f, np.where(np.isfinite(chi), chi, np.inf)


def _apply(state: _State, rr, cc, best, chi, here) -> None:
    """Re-code the fitted candidates: a phase, a mixture, or (an isolated third phase) unknown."""
    a, b, f = best[:, 0].astype(np.int16), best[:, 1].astype(np.int16), best[:, 2]
    fits = chi <= state.max_chi2
    state.found.chi2[rr, cc] = np.where(np.isfinite(chi), chi, np.nan)
    pure_a, pure_b = fits & (f >= _PURE), fits & (f <= 1 - _PURE)
    mixed = fits & ~pure_a & ~pure_b
    state.codes[rr[pure_a], cc[pure_a]] = a[pure_a]
    state.codes[rr[pure_b], cc[pure_b]] = b[pure_b]
    rm, cm = rr[mixed], cc[mixed]
    state.codes[rm, cm] = state.codes_of["mixture"]
    state.found.major[rm, cm] = np.where(f >= 0.5, a, b)[mixed]
    state.found.other[rm, cm] = np.where(f >= 0.5, b, a)[mixed]
    state.found.fraction[rm, cm] = np.maximum(f, 1 - f)[mixed]
    state.probability[rm, cm] = np.nan
    own = state.codes[rr, cc].astype(np.int64)
    slot = np.full(max(state.k, int(state.classes.max()) + 1) + 1, -1)
    slot[state.classes] = np.arange(len(state.classes))
    own_slot = np.where(own < state.k, slot[np.minimum(own, len(slot) - 1)], -1)
    support = np.where(own_slot >= 0, here[np.arange(len(rr)), np.maximum(own_slot, 0)], 0)
    others = here.sum(axis=1) >= state.min_neighbours  # grain interiors near, to compare with
    third = ~fits & others & (own < state.k) & (support < state.min_neighbours)  # none near is it, no mix fits
    state.codes[rr[third], cc[third]] = state.codes_of["unknown"]
    state.probability[rr[third], cc[third]] = np.nan
