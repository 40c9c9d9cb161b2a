"""Modal abundance of a classified map, with an uncertainty that covers more than counting.

Each analysed (not masked) pixel is allocated to the phases: wholly to its mineral; a mixed
pixel (:mod:`minml.maps.mixtures`) by its share to its majority phase and the rest to its
second phase; an unknown pixel either kept as unknown or shared between the minerals within 2
pixels in proportion to their pixels there.  Sharing is for the unknown pixels that belong to a
neighbouring grain: a boundary the mixture step left unknown (within a beam width of a
contact) and isolated speckle.  An unknown *region* keeps its pixels: the unknown pixels that
lie in a square of unknown pixels wider than the beam (``2 r + 1`` pixels a side, ``r`` the
beam-overlap radius in pixels, as the mixture step takes it from ``beam_width`` and the pixel
size), where those squares join into a patch covering at least ``min_area`` (a vein, a grain
of a phase outside the classes: its pixels are no boundary's).  An unknown pixel with no
mineral near stays unknown too.  The mode of a phase (the minerals, and unknown when it keeps
pixels) is its allocated pixels over the analysed pixels: the modes sum to 100 %.

The standard deviation has three parts, added in quadrature:

* ``sd_classification``: the pixels of one grain share one composition, so they are named
  right or wrong together: each connected region of one answer is one draw, right with its
  mean calibrated probability p, else (and an unknown region always) any other phase in
  proportion to the modes (unknown among them when it keeps pixels: an unknown region may be
  a phase outside the classes or a mineral the classifier failed on), weighing its pixel
  count squared;
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

__all__ = [
    "allocation",
    "beam_radius",
    "default_min_area",
    "kept_unknown",
    "modal_table",
    "modes_frame",
    "unknown_core",
]

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


def beam_radius(beam_width: float | None = None, pixel_size: float | None = None) -> int:
    """The beam-overlap radius in pixels, as the mixture step takes it
    (:attr:`minml.maps.classify.MixtureStage.radius`): half the beam width, at least 1 pixel.

    Parameters
    ----------
    beam_width : float, optional
        Micrometres; default :func:`minml.classify_map`'s (2 µm).
    pixel_size : float, optional
        Micrometres per pixel (1 when the map gives none).

    Returns
    -------
    int

    Examples
    --------
    >>> beam_radius(), beam_radius(2.0, 0.5), beam_radius(1.0, 2.0)
    (1, 2, 1)
    """
    if beam_width is None:
        from minml.maps.classify import DEFAULT_BEAM_WIDTH

        beam_width = DEFAULT_BEAM_WIDTH
    return max(1, int(np.ceil(beam_width / (pixel_size or 1.0) / 2)))


def unknown_core(codes: np.ndarray, unknown: int, radius: int) -> np.ndarray:
    """The unknown pixels deeper than the beam: those whose square of ``2 radius + 1`` pixels
    a side (within the map) holds unknown pixels only, farther than ``radius`` from any other
    answer.  A boundary the beam straddles is about ``2 radius`` pixels across: none of it is
    this deep, nor is much of the speckle of a grain that the classifier half rejects.

    Parameters
    ----------
    codes : numpy.ndarray
        Height x width codes.
    unknown : int
        The code of unknown pixels.
    radius : int
        The beam-overlap radius in pixels (:func:`beam_radius`).

    Returns
    -------
    numpy.ndarray of bool

    Examples
    --------
    >>> codes = np.zeros((6, 9), dtype=int)
    >>> codes[1:5, 1:5] = codes[1:3, 6:9] = 1  # 4 x 4 unknown pixels, and 2 x 3
    >>> unknown_core(codes, 1, 1).sum(axis=0).tolist()
    [0, 0, 2, 2, 0, 0, 0, 0, 0]
    """
    from scipy.ndimage import minimum_filter

    lost = (codes == unknown).view(np.uint8)
    if not lost.any():
        return np.zeros(codes.shape, dtype=bool)
    # squares past the map's edge count as broken (outside: not unknown)
    return minimum_filter(lost, size=2 * radius + 1, mode="constant", cval=0).astype(bool)


def _regions_kept(core: np.ndarray, radius: int, min_pixels: float) -> np.ndarray:
    """The unknown regions' pixels: the patches of ``core`` (joined where their squares
    overlap: 8 neighbours) of ``min_pixels`` or more, with their squares of ``2 radius + 1``
    pixels a side (unknown pixels, all)."""
    from scipy.ndimage import label, maximum_filter

    if not core.any():
        return core
    labels, n = label(core, structure=np.ones((3, 3), dtype=bool))
    size = np.bincount(labels.ravel(), minlength=n + 1)
    big = ((size >= min_pixels) & (np.arange(n + 1) > 0))[labels]
    return maximum_filter(big.view(np.uint8), size=2 * radius + 1, mode="constant", cval=0).astype(bool)


def _min_pixels(min_area: float | None, analysed: int, pixel_size: float | None) -> float:
    """The minimum area in pixels: ``min_area`` (µm², pixels without a pixel size), by default
    :func:`default_min_area`."""
    limit = default_min_area(analysed, pixel_size) if min_area is None else float(min_area)
    return limit / (pixel_size or 1.0) ** 2


def kept_unknown(result, *, beam_width: float | None = None, min_area: float | None = None) -> np.ndarray:
    """The unknown pixels of a classified map that its modes keep as unknown (the unknown
    regions: see the module), not shared between the minerals near them.

    Parameters
    ----------
    result : MapResult
    beam_width : float, optional
        Micrometres (:func:`beam_radius`); default :func:`minml.classify_map`'s.
    min_area : float, optional
        µm² (pixels without a pixel size); default :func:`default_min_area`.

    Returns
    -------
    numpy.ndarray of bool
        Height x width: the pixels of unknown regions.  Unknown pixels with no mineral within
        2 pixels are not among them, and are kept as unknown too.
    """
    codes = result.codes
    analysed = max(codes.size - int(np.count_nonzero(codes == result.names.index("masked"))), 1)
    radius = beam_radius(beam_width, result.pixel_size)
    core = unknown_core(codes, result.names.index("unknown"), radius)
    return _regions_kept(core, radius, _min_pixels(min_area, analysed, result.pixel_size))


def allocation(result, *, beam_width: float | None = None, min_area: float | None = None):
    """Each analysed pixel's shares of the phases, as triples (flat pixel index, phase, share):
    pure pixels share 1 to their mineral, mixed pixels their two phases', shared unknown pixels
    their neighbours', the unknown pixels kept as unknown (:func:`kept_unknown`, and those with
    no mineral near) 1 to unknown (the phase after the minerals); masked pixels have none.

    Parameters
    ----------
    result : MapResult
    beam_width, min_area : float, optional
        As :func:`modal_table` (the beam width by default the one the map was classified with).

    Returns
    -------
    index, phase, share : numpy.ndarray
    """
    k = len(result.class_proba_sum)
    codes = result.codes.ravel()
    pure = np.flatnonzero(codes < k)
    beam_width = getattr(result, "beam_width", None) if beam_width is None else beam_width  # as modal_table
    index, mineral, share, alone = _shared(result, kept_unknown(result, beam_width=beam_width, min_area=min_area))
    return (
        np.r_[pure, index, alone],
        np.r_[codes[pure].astype(np.int64), mineral, np.full(len(alone), k)],
        np.r_[np.ones(len(pure)), share, np.ones(len(alone))],
    )


def _shared(result, kept: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The triples of :func:`allocation` of the pixels shared between minerals: the mixed
    pixels, and the unknown pixels not ``kept`` with a mineral near (few, where the pure pixels
    are most of a map's); and the flat indices of the unknown pixels left as unknown (``kept``,
    and those with no mineral near)."""
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
    lost = codes == result.names.index("unknown")
    unknown = np.flatnonzero(lost & ~kept.ravel())
    if len(unknown):
        present = np.flatnonzero(np.bincount(codes, minlength=k)[:k])
        near = _near_shares(result.codes, unknown, present)
        r, j = np.nonzero(near > 0)
        index.append(unknown[r])
        mineral.append(present[j].astype(np.int64))
        share.append(near[r, j].astype(np.float64))
    shared = np.concatenate(index)
    claimed = np.zeros(codes.size, dtype=bool)
    claimed[shared] = True
    alone = np.flatnonzero(lost & ~claimed)  # kept, or no mineral near (and not mixed)
    return shared, np.concatenate(mineral), np.concatenate(share), alone


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


BOUNDARY_BAND = 3.0
"""Pixels a boundary runs together, the band of its error (:func:`modal_table`'s ``band``)."""


def modal_table(
    result,
    *,
    min_area: float | None = None,
    blocks: int = 8,
    band: float = BOUNDARY_BAND,
    beam_width: float | None = None,
    random_state=0,
):
    """The modes of a :class:`~minml.maps.classify.MapResult` (see the module docstring).

    Parameters
    ----------
    result : MapResult
    min_area : float, optional
        µm² (pixels without a pixel size): a phase whose own pixels cover less is
        ``listed_apart``, and a patch of unknown pixels wider than the beam that covers less is
        shared as speckle; default :func:`default_min_area`.
    blocks : int, default=8
        Tiles along each side of the map for the block bootstrap.
    band : float, default=3.0
        Pixels a boundary runs together (``sd_boundary``).
    beam_width : float, optional
        Micrometres, as the map was classified with (:func:`minml.classify_map`): unknown
        pixels wider than the beam are an unknown region (:func:`kept_unknown`); by default the
        result's ``beam_width`` when it has one, else :func:`minml.classify_map`'s.
    random_state : int or numpy.random.Generator, default=0
        Of the block bootstrap.

    Returns
    -------
    pandas.DataFrame
        Index ``phase``; columns ``pixels`` and ``area_percent`` (hard counts, with the
        unknown, mixture and masked shares), ``mode_percent``, ``sd_percent``, ``sd_map_percent``,
        ``sd_classification``, ``sd_boundary``, ``sd_sampling`` (% points; for the minerals,
        and for unknown when it keeps pixels: the modes sum to 100 %), ``area_um2`` (or
        pixels without a pixel size: the area each row holds after mixed and unknown pixels are
        shared, as ``mode_percent`` counts it; unknown keeps the pixels no mineral is given,
        mixture none, masked its own, so that the column sums to the map's area) and
        ``listed_apart`` (the phase's own pixels, ``pixels``, cover less than ``min_area``;
        default :func:`default_min_area`).
    """
    k = len(result.class_proba_sum)
    names = result.names
    codes = result.codes
    n = codes.size
    beam_width = getattr(result, "beam_width", None) if beam_width is None else beam_width
    tiles = _tile_counts(codes, blocks, len(names))  # tiles x codes
    counts = tiles.sum(axis=0)
    kept = kept_unknown(result, beam_width=beam_width, min_area=min_area)
    index, mineral, share, alone = _shared(result, kept)
    # per tile, each phase's pixels wholly its own: the pure pixels, and the unknown pixels kept as unknown
    pure = tiles[:, : k + 1].copy()
    pure[:, k] = np.bincount(_tile_of(alone, codes.shape, blocks), minlength=len(tiles))
    analysed = max(n - counts[names.index("masked")], 1)
    # the pure pixels' shares (1 each) summed first, then the others' in order: as the sums of all the triples
    weights = np.r_[pure.sum(axis=0).astype(float), share]
    allocated = np.bincount(np.r_[np.arange(k + 1), mineral], weights=weights, minlength=k + 1)
    boundary_var = np.bincount(mineral, weights=share * (1 - share), minlength=k + 1) * band  # pure pixels: 0
    sd_class = 100.0 * np.sqrt(_region_variance(result, allocated)) / analysed
    sd_boundary = 100.0 * np.sqrt(boundary_var) / analysed
    shared = (_tile_of(index, codes.shape, blocks), mineral, share)
    sd_sampling = _block_bootstrap(shared, pure, tiles.sum(axis=1) - tiles[:, names.index("masked")], random_state)
    sds = (sd_class, sd_boundary, sd_sampling)
    return modes_frame(names, counts, allocated, sds, result.pixel_size, min_area)


def modes_frame(names, counts, allocated, sds, pixel_size, min_area) -> pd.DataFrame:
    """The table of :func:`modal_table` from its sums, built once for the map in memory and for
    the lazy map's bands (:mod:`minml.maps._lazy`).

    Parameters
    ----------
    names : list of str
        The codes' names: the minerals, then unknown, mixture and masked.
    counts : numpy.ndarray
        Pixels per code.
    allocated : numpy.ndarray
        Pixels per mineral after mixed and unknown pixels are shared, then the unknown pixels
        kept as unknown.
    sds : tuple of numpy.ndarray
        ``sd_classification``, ``sd_boundary``, ``sd_sampling`` per mineral and unknown (% points).
    pixel_size, min_area : float or None
        As :func:`modal_table`.

    Returns
    -------
    pandas.DataFrame
    """
    k = len(allocated) - 1
    n = int(np.sum(counts))
    analysed = max(n - counts[names.index("masked")], 1)
    sd_class, sd_boundary, sd_sampling = sds
    unit = (pixel_size or 1.0) ** 2
    frame = pd.DataFrame({"pixels": counts, "area_percent": 100.0 * counts / n}, index=names)
    # unknown has a mode when it keeps pixels (else every one of them is a mineral's)
    has_mode = np.r_[np.ones(k, dtype=bool), allocated[k] > 0]
    pad = [np.nan] * (len(names) - k - 1)

    def column(values) -> np.ndarray:
        return np.r_[np.where(has_mode, values, np.nan), pad]

    frame["mode_percent"] = column(100.0 * allocated / analysed)
    sd_map = np.sqrt(sd_class**2 + sd_boundary**2)
    frame["sd_percent"] = column(np.sqrt(sd_map**2 + sd_sampling**2))
    frame["sd_map_percent"] = column(sd_map)
    frame["sd_classification"] = column(sd_class)
    frame["sd_boundary"] = column(sd_boundary)
    frame["sd_sampling"] = column(sd_sampling)
    # after sharing: a mineral its allocated pixels, unknown the pixels kept as unknown, mixture
    # none (each mixed pixel is its two phases'), masked its own: the rows sum to the map's area
    left = np.zeros(len(names) - k - 1)
    left[names.index("masked") - k - 1] = counts[names.index("masked")]
    frame["area_um2"] = np.r_[allocated, left] * unit
    # judged on the pixels named the phase: a speck of 3 pixels gains 8 more from the unknown ring around it
    limit = default_min_area(analysed, pixel_size) if min_area is None else float(min_area)
    frame["listed_apart"] = np.r_[counts[:k] * unit < limit, [False] * (len(names) - k)]
    frame.index.name = "phase"
    return frame[(frame["pixels"] > 0) | (frame["mode_percent"] > 0.01)]


def _region_variance(result, allocated: np.ndarray) -> np.ndarray:
    """Per phase (the minerals, then unknown), the variance (pixels^2) of its count if each
    connected region of one answer were named right (its phase) or wrong as a whole: a region
    of mineral a with mean probability p belongs to a with probability p, else to another phase
    c in proportion to the modes (``allocated``); an unknown region (p = 0) to any phase in
    that proportion, unknown included."""
    k = len(result.class_proba_sum)
    unknown = result.names.index("unknown")
    phases = len(allocated)
    prior = allocated / max(allocated.sum(), 1e-9)
    answers, first, regions = _regions(result.codes, (result.codes < k) | (result.codes == unknown))
    size = np.bincount(regions, minlength=first[-1])[1:].astype(np.float64)
    p = np.nan_to_num(result.probability.ravel(), nan=1.0).astype(np.float64)
    mean_p = np.bincount(regions, weights=p, minlength=first[-1])[1:] / np.maximum(size, 1)
    out = np.zeros(phases)
    for i, a in enumerate(answers.tolist()):
        n = slice(first[i] - 1, first[i + 1] - 1)  # its regions
        if a == unknown:
            wrong, rest = np.ones(n.stop - n.start), prior
        else:
            wrong = 1.0 - mean_p[n]
            rest = prior * (np.arange(phases) != a) / max(1.0 - prior[a], 1e-9)
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


def _block_bootstrap(shared, pure: np.ndarray, analysed: np.ndarray, random_state) -> np.ndarray:
    """sd (% points) of each phase's mode over bootstrap draws of the map's tiles: ``pure``
    (tiles x phases) counts each tile's pixels wholly a phase's, ``shared`` (tile, phase, share)
    the shares of its other pixels, ``analysed`` its analysed (not masked) pixels."""
    tile, mineral, share = shared
    n_tiles, k = pure.shape
    # a tile's pure pixels summed first, then its shared pixels in order: as the sum over all of its triples
    weights = np.r_[pure.ravel().astype(float), share]
    per_tile = np.bincount(np.r_[np.arange(n_tiles * k), tile * k + mineral], weights=weights, minlength=n_tiles * k)
    per_tile = per_tile.reshape(n_tiles, k)
    pixels = analysed.astype(float)
    used = pixels > 0
    per_tile, pixels = per_tile[used], pixels[used]
    if len(pixels) < 2:
        return np.zeros(k)
    rng = np.random.default_rng(random_state)
    draws = rng.multinomial(len(pixels), np.full(len(pixels), 1 / len(pixels)), size=_REPLICATES)
    modes = 100.0 * (draws @ per_tile) / np.maximum(draws @ pixels, 1)[:, None]
    return modes.std(axis=0, ddof=1)
