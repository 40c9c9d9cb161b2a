"""Modal abundance of a classified map, with an uncertainty that covers more than counting.

Each analysed (not masked) pixel is allocated to the phases: wholly to its mineral; a mixed
pixel (:mod:`minml.maps.mixtures`) by its share to its majority phase and the rest to its
second phase; an unknown pixel shared between the minerals within 2 pixels in proportion to
their pixels there (a boundary pixel belongs to a neighbouring grain; an unknown pixel with no
mineral near stays unknown).  The mode of a mineral is its allocated pixels over the analysed
pixels.

The standard deviation has three parts, added in quadrature:

* ``sd_classification``: the pixels of one grain share one composition, so they are named
  right or wrong together: each connected region of one answer is one draw, right with its
  mean calibrated probability p, else (and an unknown region always) any other mineral in
  proportion to the modes, weighing its pixel count squared;
* ``sd_boundary``: each mixed or shared pixel's allocation a draw with its share s, sum of
  s (1 - s); boundary errors run along whole boundaries, so this is scaled by the number of
  pixels a boundary runs together (the beam-overlap band: ``band`` pixels);
* ``sd_sampling``: a block bootstrap (the map cut into ``blocks`` x ``blocks`` tiles, tiles drawn
  with replacement, 200 times): how well this area samples the rock, the point-counting error
  of modal analysis generalised to neighbouring pixels that are not independent.

``sd_map_percent`` (classification and boundary) is the error of the mode *of this map*;
``sd_percent`` (all three) is the error of the rock's mode estimated from it.
Phases whose own pixels (those named the phase, before any sharing) cover less than ``min_area``
(µm², or pixels when the map has no pixel size) are ``listed_apart``: kept in the table, not drawn
as phases.  The default is :func:`default_min_area`: 10 pixels, or 0.01 % of the analysed pixels
on a map of over 100 000 of them (specks of misnamed pixels grow in number with the map: a
1024 x 1024 map lists apart a phase of under 105 pixels, about a 10 x 10 pixel grain).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["allocation", "default_min_area", "modal_table", "modes_frame"]

_REPLICATES = 200

MIN_PIXELS = 10
"""The fewest pixels of its own a phase needs to be drawn as a phase (by default)."""

MIN_SHARE = 1e-4
"""... and the least share of the analysed pixels (0.01 %): what a phase needs on a large map."""


def default_min_area(analysed: int, pixel_size: float | None = None) -> float:
    """The minimum area of a phase when none is given: :data:`MIN_PIXELS` pixels or
    :data:`MIN_SHARE` of the ``analysed`` (not masked) pixels, whichever is more, in µm²
    (pixels without a pixel size).

    Parameters
    ----------
    analysed : int
        The map's analysed pixels.
    pixel_size : float, optional
        Micrometres per pixel.

    Returns
    -------
    float

    Examples
    --------
    >>> default_min_area(256 * 256), default_min_area(1024 * 1024), default_min_area(64 * 64, 0.5)
    (10.0, 104.8576, 2.5)
    """
    return max(float(MIN_PIXELS), MIN_SHARE * analysed) * (pixel_size or 1.0) ** 2


def allocation(result) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each analysed pixel's shares of the minerals, as triples (flat pixel index, mineral,
    share): pure pixels share 1, mixed pixels their two phases', unknown pixels their
    neighbours' (pixels of masked and of unknown pixels without a mineral near get none)."""
    k = len(result.class_proba_sum)
    codes = result.codes.ravel()
    pure = np.flatnonzero(codes < k)
    index, mineral, share = _shared(result)
    return np.r_[pure, index], np.r_[codes[pure].astype(np.int64), mineral], np.r_[np.ones(len(pure)), share]


def _shared(result) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The triples of :func:`allocation` of the pixels that are not one mineral wholly: the
    mixed and the unknown pixels (few, where the pure pixels are most of a map's)."""
    k = len(result.class_proba_sum)
    codes = result.codes.ravel()
    index, mineral, share = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)], [np.zeros(0)]
    if result.mixtures is not None:
        major, other = result.mixtures.major.ravel(), result.mixtures.other.ravel()
        mixed = np.flatnonzero(major >= 0)
        f = result.mixtures.fraction.ravel()[mixed].astype(np.float64)
        index += [mixed, mixed]
        mineral += [major[mixed].astype(np.int64), other[mixed].astype(np.int64)]
        share += [f, 1.0 - f]
    unknown = np.flatnonzero(codes == result.names.index("unknown"))
    if len(unknown):
        present = np.flatnonzero(np.bincount(codes, minlength=k)[:k])
        near = _near_shares(result.codes, unknown, present)
        r, j = np.nonzero(near > 0)
        index.append(unknown[r])
        mineral.append(present[j].astype(np.int64))
        share.append(near[r, j].astype(np.float64))
    return np.concatenate(index), np.concatenate(mineral), np.concatenate(share)


_FIFTHS = (np.arange(6) / 5.0).astype(np.float32)


def _near_shares(codes: np.ndarray, pixels: np.ndarray, classes: np.ndarray, chunk: int = 65536) -> np.ndarray:
    """Pixels x ``classes``: the share of each class among the pixels within 2 of each of
    ``pixels`` (flat indices; nothing outside the map), 0 where none is near.

    The share is the mean of the class's mask over the 5 x 5 square around the pixel, as
    ``scipy.ndimage.uniform_filter(mask, 5, mode="constant")`` gives it, over the sum of those
    means: the filter's first pass (down the columns) is the float32 of each column's count
    over 5, and its second (along the rows) the float32 of the sum of five of those over 5 (sums
    of such numbers are exact in float64), so the same numbers are computed here from the
    pixels' own squares rather than by filtering the whole map once per class."""
    from numpy.lib.stride_tricks import sliding_window_view

    windows = sliding_window_view(np.pad(codes, 2, constant_values=-1), (5, 5))
    slot = np.full(int(max(codes.max(), classes.max(initial=0))) + 2, -1)  # the last entry: -1, the padding
    slot[classes] = np.arange(len(classes))
    out = np.empty((len(pixels), len(classes)), dtype=np.float32)
    for start in range(0, len(pixels), chunk):
        r, c = np.divmod(pixels[start : start + chunk], codes.shape[1])
        found = slot[windows[r, c]]  # n x 5 rows x 5 columns
        where = np.broadcast_to((np.arange(len(r))[:, None] * 5 + np.arange(5))[:, None, :], found.shape)
        seen = found >= 0
        counts = np.bincount(where[seen] * len(classes) + found[seen], minlength=len(r) * 5 * len(classes))
        column = _FIFTHS[counts.reshape(len(r), 5, len(classes))]  # each column's count over 5, float32
        out[start : start + len(r)] = column.sum(axis=1, dtype=np.float64) / 5.0
    total = out.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.nan_to_num(out / total)


def modal_table(result, *, min_area: float | None = None, blocks: int = 8, band: float = 3.0, random_state=0):
    """The modes of a :class:`~minml.maps.classify.MapResult` (see the module docstring).

    Parameters
    ----------
    result : MapResult
    min_area : float, optional
        µm² (pixels without a pixel size): a phase whose own pixels cover less is
        ``listed_apart``; default :func:`default_min_area`.
    blocks : int, default=8
        Tiles along each side of the map for the block bootstrap.
    band : float, default=3.0
        Pixels a boundary runs together (``sd_boundary``).
    random_state : int or numpy.random.Generator, default=0
        Of the block bootstrap.

    Returns
    -------
    pandas.DataFrame
        Index ``phase``; columns ``pixels`` and ``area_percent`` (hard counts, with the
        unknown, mixture and masked shares), ``mode_percent``, ``sd_percent``, ``sd_map_percent``,
        ``sd_classification``, ``sd_boundary``, ``sd_sampling`` (% points), ``area_um2`` (or
        pixels without a pixel size: the area each row holds after mixed and unknown pixels are
        shared, as ``mode_percent`` counts it; unknown keeps the pixels no mineral claims,
        mixture none, masked its own, so that the column sums to the map's area) and
        ``listed_apart`` (the phase's own pixels, ``pixels``, cover less than ``min_area``;
        default :func:`default_min_area`).
    """
    k = len(result.class_proba_sum)
    names = result.names
    codes = result.codes
    n = codes.size
    tiles = _tile_counts(codes, blocks, len(names))  # tiles x codes
    counts = tiles.sum(axis=0)
    index, mineral, share = _shared(result)
    analysed = max(n - counts[names.index("masked")], 1)
    # the pure pixels' shares (1 each) summed first, then the others' in order: as the sums of all the triples
    allocated = np.bincount(np.r_[np.arange(k), mineral], weights=np.r_[counts[:k].astype(float), share], minlength=k)
    boundary_var = np.bincount(mineral, weights=share * (1 - share), minlength=k) * band  # pure pixels: 0
    sd_class = 100.0 * np.sqrt(_region_variance(result, allocated)) / analysed
    sd_boundary = 100.0 * np.sqrt(boundary_var) / analysed
    shared = (_tile_of(index, codes.shape, blocks), mineral, share)
    sd_sampling = _block_bootstrap(shared, tiles, names.index("masked"), k, random_state)
    unknown = np.flatnonzero(codes.ravel() == names.index("unknown"))
    unclaimed = np.count_nonzero(~np.isin(unknown, index))  # unknown pixels no mineral is near
    sds = (sd_class, sd_boundary, sd_sampling)
    return modes_frame(names, counts, allocated, sds, unclaimed, result.pixel_size, min_area)


def modes_frame(names, counts, allocated, sds, unclaimed, pixel_size, min_area) -> pd.DataFrame:
    """The table of :func:`modal_table` from its sums, built once for the map in memory and for
    the lazy map's bands (:mod:`minml.maps._lazy`).

    Parameters
    ----------
    names : list of str
        The codes' names: the minerals, then unknown, mixture and masked.
    counts : numpy.ndarray
        Pixels per code.
    allocated : numpy.ndarray
        Pixels per mineral after mixed and unknown pixels are shared.
    sds : tuple of numpy.ndarray
        ``sd_classification``, ``sd_boundary``, ``sd_sampling`` per mineral (% points).
    unclaimed : int
        Unknown pixels no mineral claims (they keep the unknown row's area).
    pixel_size, min_area : float or None
        As :func:`modal_table`.

    Returns
    -------
    pandas.DataFrame
    """
    k = len(allocated)
    n = int(np.sum(counts))
    analysed = max(n - counts[names.index("masked")], 1)
    sd_class, sd_boundary, sd_sampling = sds
    unit = (pixel_size or 1.0) ** 2
    frame = pd.DataFrame({"pixels": counts, "area_percent": 100.0 * counts / n}, index=names)
    pad = [np.nan] * (len(names) - k)
    frame["mode_percent"] = np.r_[100.0 * allocated / analysed, pad]
    sd_map = np.sqrt(sd_class**2 + sd_boundary**2)
    frame["sd_percent"] = np.r_[np.sqrt(sd_map**2 + sd_sampling**2), pad]
    frame["sd_map_percent"] = np.r_[sd_map, pad]
    frame["sd_classification"] = np.r_[sd_class, pad]
    frame["sd_boundary"] = np.r_[sd_boundary, pad]
    frame["sd_sampling"] = np.r_[sd_sampling, pad]
    # after sharing: a mineral its allocated pixels, unknown the pixels no mineral claims, mixture
    # none (each mixed pixel is its two phases'), masked its own: the rows sum to the map's area
    left = np.zeros(len(names) - k)
    left[names.index("unknown") - k] = unclaimed
    left[names.index("masked") - k] = counts[names.index("masked")]
    frame["area_um2"] = np.r_[allocated, left] * unit
    # judged on the pixels named the phase: a speck of 3 pixels gains 8 more from the unknown ring around it
    limit = default_min_area(analysed, pixel_size) if min_area is None else float(min_area)
    frame["listed_apart"] = np.r_[counts[:k] * unit < limit, [False] * (len(names) - k)]
    frame.index.name = "phase"
    return frame[(frame["pixels"] > 0) | (frame["mode_percent"] > 0.01)]


def _region_variance(result, allocated: np.ndarray) -> np.ndarray:
    """Per mineral, the variance (pixels^2) of its count if each connected region of one
    answer were named right (its mineral) or wrong as a whole: a region of mineral a with
    mean probability p belongs to a with probability p, else to another mineral c in
    proportion to the modes; an unknown region (p = 0) to any mineral in that proportion."""
    k = len(result.class_proba_sum)
    unknown = result.names.index("unknown")
    prior = allocated / max(allocated.sum(), 1e-9)
    answers, first, regions = _regions(result.codes, (result.codes < k) | (result.codes == unknown))
    size = np.bincount(regions, minlength=first[-1])[1:].astype(np.float64)
    p = np.nan_to_num(result.probability.ravel(), nan=1.0).astype(np.float64)
    mean_p = np.bincount(regions, weights=p, minlength=first[-1])[1:] / np.maximum(size, 1)
    out = np.zeros(k)
    for i, a in enumerate(answers.tolist()):
        n = slice(first[i] - 1, first[i + 1] - 1)  # its regions
        if a == unknown:
            wrong, rest = np.ones(n.stop - n.start), prior
        else:
            wrong = 1.0 - mean_p[n]
            rest = prior * (np.arange(k) != a) / max(1.0 - prior[a], 1e-9)
            out[a] += float(np.sum(size[n] ** 2 * wrong * (1 - wrong)))
        for c in np.flatnonzero(rest > 0):  # wrong regions counted for the others
            q = wrong * rest[c]
            out[c] += float(np.sum(size[n] ** 2 * q * (1 - q)))
    return out


def _regions(codes: np.ndarray, kept: np.ndarray):
    """The connected regions of one code, of the codes of the ``kept`` pixels: the codes met
    (ascending), where each one's regions start among the labels (1, ..., one past the last),
    and each pixel's label, flat (0: not kept)."""
    from scipy.ndimage import label

    answers = np.unique(codes[kept])
    labels = np.zeros(codes.size, dtype=np.int32)
    first = [1]
    for a in answers.tolist():
        regions, n = label(codes == a)
        if first[-1] > 1:  # the codes' regions are apart: numbered on from the last code's
            np.add(regions, np.int32(first[-1] - 1), out=regions, where=regions > 0)
        labels += regions.ravel()
        first.append(first[-1] + n)
    return answers, np.array(first), labels


def _tile_rows(n: int, blocks: int) -> np.ndarray:
    """The tile (of ``blocks`` along a side of ``n`` pixels) of each pixel along that side."""
    return np.minimum(np.arange(n) * blocks // max(n, 1), blocks - 1)


def _tile_of(index: np.ndarray, shape: tuple, blocks: int) -> np.ndarray:
    """The tile of each flat pixel index: the map cut into ``blocks`` x ``blocks`` tiles."""
    r, c = np.divmod(index, shape[1])
    return _tile_rows(shape[0], blocks)[r] * blocks + _tile_rows(shape[1], blocks)[c]


def _tile_counts(codes: np.ndarray, blocks: int, n_codes: int) -> np.ndarray:
    """Pixels of each code in each tile: tiles x codes, one band of tile rows at a time."""
    h, w = codes.shape
    rows, cols = _tile_rows(h, blocks), _tile_rows(w, blocks)
    out = np.zeros((blocks, blocks, n_codes), dtype=np.int64)
    for i in range(blocks):
        band = codes[rows == i]
        if band.size:
            found = np.bincount((cols[None, :] * n_codes + band).ravel(), minlength=blocks * n_codes)
            out[i] = found.reshape(blocks, n_codes)
    return out.reshape(blocks * blocks, n_codes)


def _block_bootstrap(shared, tiles: np.ndarray, masked: int, k: int, random_state) -> np.ndarray:
    """sd (% points) of each mode over bootstrap draws of the map's tiles: ``tiles`` (tiles x
    codes) counts each tile's pure pixels, ``shared`` (tile, mineral, share) the shares of
    its other pixels."""
    tile, mineral, share = shared
    n_tiles = len(tiles)
    # a tile's pure pixels summed first, then its shared pixels in order: as the sum over all of its triples
    weights = np.r_[tiles[:, :k].ravel().astype(float), share]
    per_tile = np.bincount(np.r_[np.arange(n_tiles * k), tile * k + mineral], weights=weights, minlength=n_tiles * k)
    per_tile = per_tile.reshape(n_tiles, k)
    pixels = (tiles.sum(axis=1) - tiles[:, masked]).astype(float)
    used = pixels > 0
    per_tile, pixels = per_tile[used], pixels[used]
    if len(pixels) < 2:
        return np.zeros(k)
    rng = np.random.default_rng(random_state)
    draws = rng.multinomial(len(pixels), np.full(len(pixels), 1 / len(pixels)), size=_REPLICATES)
    modes = 100.0 * (draws @ per_tile) / np.maximum(draws @ pixels, 1)[:, None]
    return modes.std(axis=0, ddof=1)
