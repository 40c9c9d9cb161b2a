"""Maps past memory: lazy readers into Dask arrays, classification band by band, modes as reductions.

:func:`open_lazy` reads a Zarr group (one 2-D array per channel), or a folder of ``.npy``
(memory-mapped) or ``.tif`` files (one per channel, named as :func:`minml.read_map` names
them), into an :class:`~minml.maps.read.OxideMap` of Dask arrays: nothing is read yet.

:func:`classify_lazy` classifies the map in two passes over bands of ``band_rows`` full rows,
as :func:`minml.classify_map` does in memory: first every pixel of each band (no context
needed) with the moments of its confident pixels, summed over the bands into the analytical
noise of the whole map; then each band with its halo rows above and below
(:meth:`minml.maps.classify.MixtureStage.halo`: what the mixture step at contacts reads,
with its local means on cells aligned on the whole map's rows) through the same mixture step
with that noise, cleaned on request (radius 1), and its own rows kept.  So the phase map is
the in-memory one, pixel for pixel.  The per-mineral probability sums are summed over the
bands' own rows.  The result (:class:`LazyMapResult`) holds Dask arrays, the mixed pixels'
phases and shares included.

:meth:`LazyMapResult.modes` is :func:`minml.maps.modes.modal_table` as a reduction over the
bands, each band's arrays read by one task (:func:`_band_modes`), whose sums add up over the
bands to the whole map's: pixel counts and allocated shares per tile of the block bootstrap
(the tiles are cut from the whole map's rows and columns, so a band's pixels add to the tiles
they lie in, wherever the bands and tiles cut), the sums of ``s (1 - s)`` of the boundary
term, and of the connected regions the moments (sums of size², size² w, size² w² with w = 1 -
mean probability) that the classification term is a polynomial of; regions that touch a
band's first or last row are sent whole (size, probability sum and their labels along those
rows) and joined with the neighbouring bands' before their moments are taken.  Unknown pixels
whose 5 x 5 square (the minerals within 2 pixels they are shared among) crosses into the bands
beside them are shared by a small task per band (:func:`_seam_shares`) from the first and last
4 rows of the bands within 2 rows; unknown pixels with three minerals or more near (rare) are
sent as their 5 x 5 squares of codes and shared at the end, among the minerals present in the
whole map, as in memory (the float32 sum of their shares rounds by where those minerals lie
among the columns).  So the table is the in-memory one, every column, to floating-point
rounding.  :meth:`LazyMapResult.write` writes the phase map and probability to Zarr band by
band (each band one task, one Zarr chunk row), with the modes summed in the same pass, and a
downsampled ``phase_map.png``.  Between the passes the first pass's codes and probabilities
(6 bytes a pixel) wait on the workers.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from minml._parallel import one_blas_thread

__all__ = ["HALO", "LazyMapResult", "classify_lazy", "open_lazy"]

HALO = 4
"""The fewest rows of the neighbouring bands that the second pass reads above and below each
band; the mixture step reads more (:meth:`minml.maps.classify.MixtureStage.halo`)."""


def open_lazy(path, *, band_rows: int = 256, units: str | None = None, pixel_size: float | None = None):
    """An OxideMap of Dask arrays (chunks of ``band_rows`` full rows) from a Zarr group, or a
    folder of ``.npy`` (memory-mapped) or ``.tif`` files, one channel each; element channels in
    ``units``, by default in the units their names give (``Si At%.npy``), else wt%, as
    :func:`minml.maps.read_map` reads them."""
    import dask.array as da

    from minml.maps.read import OxideMap, _Channels, _is_channel, _units_of, to_oxides

    path = Path(path)
    raw = _Channels()
    if path.suffix == ".zarr" or (path / "zarr.json").is_file() or (path / ".zgroup").is_file():
        import zarr

        group = zarr.open_group(str(path), mode="r")
        for name, array in group.arrays():
            raw.add(name, da.from_zarr(array, chunks=(band_rows, array.shape[1])), repr(name))
    elif path.is_dir():
        for file in sorted(path.iterdir()):
            suffix = file.suffix.lower()
            if suffix not in (".npy", ".tif", ".tiff") or not _is_channel(file.stem):
                continue
            grid = np.load(file, mmap_mode="r") if suffix == ".npy" else _tiff_array(file)
            raw.add(file.stem, da.from_array(grid, chunks=(band_rows, grid.shape[1])), file.name)
    else:
        raise ValueError(f"Cannot read {path} lazily: give a Zarr group or a folder of .npy or .tif files.")
    if not raw:
        raise ValueError(f"No channel named by an element or oxide in {path}.")
    notes: list = []
    units = _units_of(raw, units, None, str(path), notes)
    oxides, more = to_oxides(raw, units=units)
    return OxideMap(oxides, pixel_size=pixel_size, source=str(path), notes=notes + more)


def _tiff_array(path: Path):
    """A TIFF's first image, read region by region (:class:`_Tiff`)."""
    import tifffile

    with tifffile.TiffFile(path) as tif:
        page = tif.pages.first
        return _Tiff(str(path), tuple(page.shape), page.dtype)


class _Tiff:
    """A TIFF image as an array Dask can slice: each read opens the file and reads the tiles of
    that region only (tifffile's Zarr view); nothing stays open, so it travels to workers."""

    def __init__(self, path: str, shape: tuple, dtype):
        self.path, self.shape, self.dtype, self.ndim = path, shape, np.dtype(dtype), len(shape)

    def __getitem__(self, key):
        import tifffile
        import zarr

        with tifffile.TiffFile(self.path) as tif, tif.pages.first.aszarr() as store:
            return zarr.open(store, mode="r")[key]


@dataclass
class LazyMapResult:
    """A classified map as Dask arrays (see :class:`minml.maps.classify.MapResult`).

    Attributes
    ----------
    codes : dask.array.Array of int16
    probability : dask.array.Array of float32
    names : list of str
    class_proba_sum, class_proba_var : dask.array.Array
        Summed over the bands.
    pixel_size : float or None
    mixtures : Mixtures of dask.array.Array, optional
        The mixed pixels' majority phase, second phase, share and fit
        (:class:`minml.maps.mixtures.Mixtures`, each field a Dask array of the map's shape).
    """

    codes: Any
    probability: Any
    names: list
    class_proba_sum: Any
    class_proba_var: Any
    pixel_size: float | None = None
    mixtures: Any = None

    def _arrays(self) -> list:
        """The arrays to compute or persist together (the mixtures' last, when there are any)."""
        arrays = [self.codes, self.probability, self.class_proba_sum, self.class_proba_var]
        if self.mixtures is not None:
            m = self.mixtures
            arrays += [m.major, m.other, m.fraction, m.chi2]
        return arrays

    def compute(self):
        """The whole :class:`~minml.maps.classify.MapResult` in memory (maps that fit)."""
        import dask

        from minml.maps.classify import MapResult
        from minml.maps.mixtures import Mixtures

        parts = dask.compute(*self._arrays())
        mixtures = Mixtures(*parts[4:]) if self.mixtures is not None else None
        return MapResult(*parts[:2], self.names, *parts[2:4], self.pixel_size, mixtures)

    def persist(self) -> LazyMapResult:
        """The same result with its arrays computed and kept on the workers (for several reads)."""
        import dask

        from minml.maps.mixtures import Mixtures

        parts = dask.persist(*self._arrays())
        mixtures = Mixtures(*parts[4:]) if self.mixtures is not None else None
        return LazyMapResult(parts[0], parts[1], self.names, parts[2], parts[3], self.pixel_size, mixtures)

    def modes(self, *, min_area: float | None = None, blocks: int = 8, random_state=0):
        """:meth:`minml.maps.classify.MapResult.modes`, as a reduction over the bands.

        The same table as in memory (every column, to floating-point rounding; see the module):
        each band's arrays are read by one task, and its first and last 4 rows by the tasks of
        the bands beside it.

        Parameters
        ----------
        min_area : float, optional
            As :func:`minml.maps.modes.modal_table`: phases whose own pixels cover less (µm²,
            pixels without a pixel size; default :func:`minml.maps.modes.default_min_area`)
            are ``listed_apart``.
        blocks : int, default=8
            Tiles along each side of the map for the block bootstrap.
        random_state : int or numpy.random.Generator, default=0
            Of the block bootstrap.

        Returns
        -------
        pandas.DataFrame
        """
        import dask

        parts, seams = dask.compute(*self._mode_parts(blocks))
        table = (self.names, self.codes.shape, self.pixel_size, min_area, blocks, random_state)
        return _modes_table(parts, seams, *table)

    def _mode_parts(self, blocks: int) -> tuple[list, list]:
        """Per band of the codes' chunks, a delayed :func:`_band_modes` of its own arrays, and a
        delayed :func:`_seam_shares` of its unknown pixels whose 5 x 5 square crosses into the
        bands beside it (from those bands' first and last rows only: each band's arrays are
        let go once its own task has read them)."""
        import dask

        rows = self.codes.chunks[0]
        h = self.codes.shape[0]

        def bands(array) -> list:  # one delayed block per band, in the codes' bands
            return list(array.rechunk({0: rows, 1: -1}).to_delayed(optimize_graph=False).ravel())

        codes, probability = bands(self.codes), bands(self.probability)
        mixed = None
        if self.mixtures is not None:
            mixed = [bands(a) for a in (self.mixtures.major, self.mixtures.other, self.mixtures.fraction)]
        k = len(self.names) - 3
        starts = np.cumsum((0, *rows[:-1])).tolist()
        parts, rims = [], []
        for i, start in enumerate(starts):
            band_mixed = None if mixed is None else [m[i] for m in mixed]
            part = dask.delayed(_band_modes, nout=2)(
                codes[i], probability[i], band_mixed, start, self.codes.shape, k, blocks
            )
            parts.append(part[0])
            rims.append(part[1])
        seams = []
        for i, (start, n) in enumerate(zip(starts, rows, strict=True)):
            near, _ = _spanned(rows, max(0, start - 2), min(h, start + n + 2))
            seams.append(
                dask.delayed(_seam_shares)([rims[j] for j in near], near.index(i), self.codes.shape, k, blocks)
            )
        return parts, seams

    def write(
        self, out_dir, *, title: str = "", preview_pixels: int = 4_000_000, min_area: float | None = None
    ) -> list[Path]:
        """Write ``phase_map.zarr`` (``codes``, ``probability``; one chunk per band, written band
        by band), ``modes.csv`` (:meth:`modes`, summed in the same pass over the bands: each band
        is classified once) and a ``phase_map.png`` subsampled to about ``preview_pixels``.

        Parameters
        ----------
        out_dir : str or path
            Made if absent.
        title : str, default=""
            Of the PNG.
        preview_pixels : int, default=4_000_000
            About the pixels of the PNG.
        min_area : float, optional
            As :meth:`modes`.

        Returns
        -------
        list of Path
            The Zarr group, ``modes.csv`` and ``phase_map.png``.
        """
        import dask
        import dask.array as da

        from minml.io import atomic_path
        from minml.maps.classify import MapResult
        from minml.maps.figures import phase_map
        from minml.maps.outputs import _modes_csv

        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        store = out_dir / "phase_map.zarr"
        writes = [
            da.to_zarr(array, str(store), component=name, overwrite=True, compute=False)
            for name, array in (("codes", self.codes), ("probability", self.probability))
        ]
        # one pass over the bands: each band written and summed for the modes by the tasks that made it
        done = dask.compute(
            *writes, self.class_proba_sum, self.class_proba_var, *self._mode_parts(8), optimize_graph=False
        )
        p_sum, p_var, parts, seams = done[2:]
        modes = _modes_table(parts, seams, self.names, self.codes.shape, self.pixel_size, min_area, 8, 0)
        with atomic_path(out_dir / "modes.csv") as part:  # whole or not at all, as write_outputs writes it
            _modes_csv(modes, self.pixel_size).to_csv(part, float_format="%.4f")
        step = max(1, int(np.ceil(np.sqrt(self.codes.size / preview_pixels))))
        codes, probability = dask.compute(
            da.from_zarr(str(store), component="codes")[::step, ::step],
            da.from_zarr(str(store), component="probability")[::step, ::step],
        )
        size = None if self.pixel_size is None else self.pixel_size * step
        ax = phase_map(MapResult(codes, probability, self.names, p_sum, p_var, size), title=title, modes=modes)
        with atomic_path(out_dir / "phase_map.png") as part:
            ax.figure.savefig(part, dpi=150, format="png")
        import matplotlib.pyplot as plt

        plt.close(ax.figure)
        return [store, out_dir / "modes.csv", out_dir / "phase_map.png"]


def _bands(height: int, chunks, halo: int = HALO) -> list:
    """Per band: the rows read (with ``halo`` rows above and below) and where the band's own
    rows lie in them."""
    out, start = [], 0
    for size in chunks:
        a, b = max(0, start - halo), min(height, start + size + halo)
        out.append(((a, b), (start - a, start - a + size)))
        start += size
    return out


def _spanned(rows, a: int, b: int) -> tuple[list[int], int]:
    """The blocks of ``rows`` rows each (laid end to end) that rows a:b span, and row a's place
    in the first of them."""
    starts = np.cumsum((0, *rows[:-1])).tolist()
    near = [i for i, (s, n) in enumerate(zip(starts, rows, strict=True)) if s < b and s + n > a]
    return near, a - starts[near[0]]


def _joined_rows(blocks: list, skip: int, height: int) -> np.ndarray:
    """``height`` rows of consecutive blocks of rows laid end to end, from row ``skip`` of the
    first.  Bands read their halo's rows from the blocks they span as delayed results: a slice
    of a Dask array given to a delayed call had the blocks behind it computed again for every
    band that read them."""
    return np.concatenate(blocks)[skip : skip + height]


@dataclass
class _Shares:
    """What the mixed and unknown pixels of some part of the map add to its modes."""

    by_tile: np.ndarray  # tiles x minerals: the sums of their shares
    boundary: np.ndarray  # per mineral, the sum of s (1 - s) over those shares
    unclaimed: int  # unknown pixels with no mineral within 2 pixels (and not mixed)
    deferred: tuple  # unknown pixels with three minerals or more near: their tiles and 5 x 5 squares of codes


@dataclass
class _BandModes:
    """What one band adds to the modes of the whole map (:func:`_band_modes`)."""

    tiles: np.ndarray  # tiles x codes: pixels of each code in each tile of the bootstrap
    shares: _Shares  # of its mixed pixels and of its unknown pixels whose 5 x 5 square is the band's
    moments: np.ndarray  # 4 x answers (minerals, unknown): of the regions inside the band
    edge: tuple  # the regions touching an edge: answer, size, p sum; their labels on the top and bottom row


def _band_modes(codes, probability, mixed, first_row: int, shape: tuple, k: int, blocks: int):
    """The sums of :func:`minml.maps.modes.modal_table` over one band (``codes``, rows
    ``first_row``... of the map of ``shape``): pixels per tile of the bootstrap, the shares of
    the mixed pixels (``mixed``: majority phase, second phase and share, or None) and of the
    unknown pixels among the minerals within 2 pixels, and the regions of one answer
    (:class:`_BandModes`); and its rim for :func:`_seam_shares`: its first and last 4 rows
    (the map's rows and their codes), and the unknown pixels whose 5 x 5 square crosses into
    the bands beside it (their rows and columns in the map, and whether they are mixed too)."""
    from minml.maps.modes import _tile_rows

    h, w = shape
    codes = np.asarray(codes)
    n = len(codes)
    flat = codes.ravel()
    n_names, tile_count = k + 3, blocks * blocks
    rows, cols = _tile_rows(h, blocks)[first_row : first_row + n], _tile_rows(w, blocks)
    tiles = np.zeros((blocks, blocks * n_names), dtype=np.int64)
    for i in np.unique(rows).tolist():  # the band's rows of each row of tiles
        tiles[i] = np.bincount((cols * n_names + codes[rows == i]).ravel(), minlength=blocks * n_names)

    def tile_of(index: np.ndarray) -> np.ndarray:
        r, c = np.divmod(index, w)
        return rows[r] * blocks + cols[c]

    index, mineral, share = np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    is_mixed = np.zeros(flat.size, dtype=bool)
    if mixed is not None:
        major, other, fraction = (np.asarray(m).ravel() for m in mixed)
        at = np.flatnonzero(major >= 0)
        is_mixed[at] = True
        f = fraction[at].astype(np.float64)
        index, mineral, share = np.r_[at, at], np.r_[major[at], other[at]].astype(np.int64), np.r_[f, 1.0 - f]
    lost = np.flatnonzero(flat == k)
    row = lost // w
    seam = ((row < 2) & (first_row > 0)) | ((row >= n - 2) & (first_row + n < h))
    inner = lost[~seam]  # their squares lie in the band (or past the map's edge: nothing)
    shares = _unknown_shares(codes, inner, tile_of(inner), is_mixed[inner], k, tile_count)
    shares.by_tile += _sums(tile_of(index) * k + mineral, share, tile_count * k).reshape(tile_count, k)
    shares.boundary += _sums(mineral, share * (1 - share), k)
    moments, edge = _band_regions(codes, np.asarray(probability), k, (first_row > 0, first_row + n < h))
    kept = np.unique(np.r_[0 : min(4, n), max(0, n - 4) : n])
    rim = (first_row + kept, codes[kept], first_row + row[seam], lost[seam] % w, is_mixed[lost[seam]])
    return _BandModes(tiles.reshape(tile_count, n_names), shares, moments, edge), rim


def _sums(index: np.ndarray, weights: np.ndarray, size: int) -> np.ndarray:
    """``weights`` summed by ``index`` into ``size`` float64 bins (``np.bincount``'s, which are
    integers when nothing is summed)."""
    return np.bincount(index, weights=weights, minlength=size).astype(np.float64, copy=False)


def _unknown_shares(codes, centres, tiles, mixed, k: int, tile_count: int) -> _Shares:
    """:class:`_Shares` of the unknown pixels at the flat indices ``centres`` of ``codes``
    (nothing beyond its edges), in ``tiles``, ``mixed`` or not: shared among the minerals
    within 2 pixels by :func:`minml.maps.modes._near_shares`.  Those with three minerals or
    more near are left for :func:`_deferred_shares`: the float32 sum of their shares rounds by
    where those minerals lie among the whole map's (with two or fewer, it is one sum)."""
    from minml.maps.modes import _near_shares

    deferred = (np.zeros(0, np.int64), np.zeros((0, 5, 5), np.int16))
    if not len(centres):
        return _Shares(np.zeros((tile_count, k)), np.zeros(k), 0, deferred)
    present = np.flatnonzero(np.bincount(codes.ravel() + 1, minlength=k + 1)[1 : k + 1])  # -1: none
    near = _near_shares(codes, centres, present)
    several = np.count_nonzero(near, axis=1) > 2
    if several.any():
        r, c = np.divmod(centres[several], codes.shape[1])
        windows = np.lib.stride_tricks.sliding_window_view(np.pad(codes, 2, constant_values=-1), (5, 5))
        deferred = (tiles[several], windows[r, c].astype(np.int16))
        near[several] = 0
    unclaimed = int(np.count_nonzero(~near.any(axis=1) & ~several & ~mixed))
    r, j = np.nonzero(near > 0)
    mineral, share = present[j], near[r, j].astype(np.float64)
    by_tile = _sums(tiles[r] * k + mineral, share, tile_count * k).reshape(tile_count, k)
    return _Shares(by_tile, _sums(mineral, share * (1 - share), k), unclaimed, deferred)


def _seam_shares(rims: list, own: int, shape: tuple, k: int, blocks: int) -> _Shares:
    """:class:`_Shares` of the unknown pixels of band ``own`` of ``rims`` (:func:`_band_modes`)
    whose 5 x 5 square crosses into the bands beside it, read from the rims of the bands
    within 2 rows: their first and last 4 rows hold every row those squares reach."""
    from minml.maps.modes import _tile_rows

    h, w = shape
    rows, cols, mixed = rims[own][2:]
    if not len(rows):
        return _unknown_shares(rims[own][1], rows, rows, mixed, k, blocks * blocks)  # none: nothing
    kept = np.concatenate([rim[0] for rim in rims])
    order = np.argsort(kept)
    kept = kept[order]
    codes = np.pad(np.concatenate([rim[1] for rim in rims])[order], ((0, 1), (2, 2)), constant_values=-1)
    want = rows[:, None] + np.arange(-2, 3)  # each pixel's 5 rows; past the map's edge: the row of -1
    at = np.minimum(np.searchsorted(kept, want), len(kept) - 1)
    at = np.where(kept[at] == want, at, len(codes) - 1)
    squares = codes[at[:, :, None], cols[:, None, None] + np.arange(5)]  # n x 5 x 5
    strip = squares.transpose(1, 0, 2).reshape(5, -1)  # side by side: each square alone in its 5 columns
    centres = 2 * strip.shape[1] + 5 * np.arange(len(rows)) + 2
    tiles = _tile_rows(h, blocks)[rows] * blocks + _tile_rows(w, blocks)[cols]
    return _unknown_shares(strip, centres, tiles, mixed, k, blocks * blocks)


def _deferred_shares(shares: list, present: np.ndarray, k: int, tile_count: int):
    """The shares of the unknown pixels that the bands left for the end (three minerals or more
    near), as :func:`minml.maps.modes._near_shares` takes them among the minerals ``present`` in
    the whole map: per tile and mineral, and per mineral the sum of s (1 - s)."""
    from minml.maps.modes import _near_shares

    tile = np.concatenate([s.deferred[0] for s in shares])
    windows = np.concatenate([s.deferred[1] for s in shares])
    if not len(tile):
        return np.zeros((tile_count, k)), np.zeros(k)
    strip = windows.transpose(1, 0, 2).reshape(5, -1)  # the pixels' 5 x 5 squares side by side
    near = _near_shares(strip, 2 * strip.shape[1] + 5 * np.arange(len(tile)) + 2, present)
    r, j = np.nonzero(near > 0)
    mineral, share = present[j], near[r, j].astype(np.float64)
    by_tile = _sums(tile[r] * k + mineral, share, tile_count * k).reshape(tile_count, k)
    return by_tile, _sums(mineral, share * (1 - share), k)


def _band_regions(codes: np.ndarray, probability: np.ndarray, k: int, edges: tuple):
    """The connected regions of one answer (a mineral, or unknown: code ``k``) in a band, as
    :func:`minml.maps.modes._regions` labels them in the whole map: the moments of those inside
    the band (:func:`_region_moments`), and those touching its first or last row where
    ``edges`` says a band lies beyond: answer, size, probability sum, and their labels (0, 1,
    ...; -1: none) along the first and last row, to be joined with the neighbouring bands'."""
    from scipy.ndimage import label

    labels = np.zeros(codes.shape, dtype=np.int32)
    answers = [np.zeros(0, np.int64)]
    found = 0
    for a in np.unique(codes[(codes < k) | (codes == k)]).tolist():
        regions, n = label(codes == a)
        if found:
            np.add(regions, np.int32(found), out=regions, where=regions > 0)
        labels += regions
        answers.append(np.full(n, a, np.int64))
        found += n
    answer = np.concatenate(answers)
    flat = labels.ravel()
    size = np.bincount(flat, minlength=found + 1)[1:].astype(np.float64)
    p = np.nan_to_num(probability.ravel(), nan=1.0).astype(np.float64)
    p_sum = _sums(flat, p, found + 1)[1:]
    rims = [labels[0] if edges[0] else labels[:0, 0], labels[-1] if edges[1] else labels[:0, 0]]
    on_edge = np.zeros(found + 1, dtype=bool)
    for rim in rims:
        on_edge[rim] = True
    on_edge = on_edge[1:]
    inside = ~on_edge
    moments = _region_moments(answer[inside], size[inside], p_sum[inside], k)
    renumber = np.r_[-1, np.cumsum(on_edge) - 1]  # label 0 (not a region) -> -1
    renumber[1:][inside] = -1
    return moments, (answer[on_edge], size[on_edge], p_sum[on_edge], *(renumber[rim] for rim in rims))


def _region_moments(answer: np.ndarray, size: np.ndarray, p_sum: np.ndarray, k: int) -> np.ndarray:
    """4 x (k + 1): per answer, the sums over its regions of size², size² w, size² w² and
    size² w (1 - w), with w the chance that the region is named wrong (1 - its mean
    probability; 1 for an unknown region): :func:`minml.maps.modes._region_variance` is a
    polynomial of these."""
    wrong = np.where(answer == k, 1.0, 1.0 - p_sum / np.maximum(size, 1))
    square = size**2
    weights = (square, square * wrong, square * wrong**2, square * wrong * (1 - wrong))
    return np.stack([_sums(answer, x, k + 1) for x in weights])


def _joined_regions(edges: list, k: int) -> np.ndarray:
    """The moments (:func:`_region_moments`) of the regions that touch the bands' edges, each
    joined with those of the bands above and below that its pixels touch (one region of the
    whole map: a grain cut by the bands)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    answer = np.concatenate([e[0] for e in edges])
    if not len(answer):
        return np.zeros((4, k + 1))
    offsets = np.cumsum([0, *(len(e[0]) for e in edges[:-1])])
    left, right = [], []
    for upper, lower, first, second in zip(edges[:-1], edges[1:], offsets[:-1], offsets[1:], strict=True):
        bottom, top = upper[4], lower[3]
        if len(bottom) and len(top):  # pixels one above the other of one answer: one region
            touch = (bottom >= 0) & (top >= 0)
            touch[touch] = answer[bottom[touch] + first] == answer[top[touch] + second]
            left.append(bottom[touch] + first)
            right.append(top[touch] + second)
    n = len(answer)
    pairs = (np.concatenate([np.zeros(0, np.int64), *left]), np.concatenate([np.zeros(0, np.int64), *right]))
    graph = coo_matrix((np.ones(len(pairs[0])), pairs), shape=(n, n))
    count, region = connected_components(graph, directed=False)
    size = _sums(region, np.concatenate([e[1] for e in edges]), count)
    p_sum = _sums(region, np.concatenate([e[2] for e in edges]), count)
    joined_answer = np.zeros(count, np.int64)
    joined_answer[region] = answer
    return _region_moments(joined_answer, size, p_sum, k)


def _modes_table(parts: list, seams: list, names: list, shape: tuple, pixel_size, min_area, blocks: int, random_state):
    """:func:`minml.maps.modes.modal_table` of the whole map from its bands' sums (lists of
    :class:`_BandModes` and :class:`_Shares` of their seams, in the map's order): the same
    table, by the same formulas."""
    import inspect

    from minml.maps.classify import MASKED
    from minml.maps.modes import _block_bootstrap, modal_table, modes_frame

    k = len(names) - 3
    masked = names.index(MASKED)
    n = shape[0] * shape[1]
    band = inspect.signature(modal_table).parameters["band"].default  # what MapResult.modes uses
    tiles = np.sum([p.tiles for p in parts], axis=0)
    counts = tiles.sum(axis=0)
    shares = [p.shares for p in parts] + seams
    by_tile, boundary = _deferred_shares(shares, np.flatnonzero(counts[:k]), k, len(tiles))
    tile_shares = np.sum([s.by_tile for s in shares], axis=0) + by_tile
    analysed = max(n - counts[masked], 1)
    allocated = counts[:k] + tile_shares.sum(axis=0)
    boundary_var = (np.sum([s.boundary for s in shares], axis=0) + boundary) * band
    moments = np.sum([p.moments for p in parts], axis=0) + _joined_regions([p.edge for p in parts], k)
    sd_class = 100.0 * np.sqrt(_region_variance(moments, allocated)) / analysed
    sd_boundary = 100.0 * np.sqrt(boundary_var) / analysed
    # the shares as one triple per tile and mineral: the bootstrap sums each tile's triples
    shared = (np.repeat(np.arange(len(tiles)), k), np.tile(np.arange(k), len(tiles)), tile_shares.ravel())
    sd_sampling = _block_bootstrap(shared, tiles, masked, k, random_state)
    sds = (sd_class, sd_boundary, sd_sampling)
    return modes_frame(names, counts, allocated, sds, sum(s.unclaimed for s in shares), pixel_size, min_area)


def _region_variance(moments: np.ndarray, allocated: np.ndarray) -> np.ndarray:
    """:func:`minml.maps.modes._region_variance` from the regions' moments
    (:func:`_region_moments`): a region named wrong with chance w counts for another mineral
    c with chance q = w r_c (r_c: c's share of the modes, of the others' for a mineral's
    region), whose variance, summed over the regions with weight size², is
    r_c (Σ size² w) - r_c² (Σ size² w²)."""
    k = len(allocated)
    prior = allocated / max(allocated.sum(), 1e-9)
    out = moments[3, :k].copy()  # each mineral's own regions named right or wrong
    for a in np.flatnonzero(moments[0] > 0).tolist():
        if a == k:  # unknown regions: any mineral in proportion to the modes
            rest = prior
        else:
            rest = prior * (np.arange(k) != a) / max(1.0 - prior[a], 1e-9)
        out += rest * (moments[1, a] - rest * moments[2, a])
    return out


@one_blas_thread
def _band_classified(grids: np.ndarray, channels: list, first_row: int, model, settings: dict):
    """First pass, one band: every pixel classified (no context needed), and the moments of the
    confident pixels (summed over the bands: the noise the mixture step uses on every band)."""
    from minml import _dask
    from minml.maps.classify import _BLOCK_PIXELS, _classify_blocks
    from minml.maps.read import OxideMap

    part = OxideMap({name: grids[i] for i, name in enumerate(channels)})
    with warnings.catch_warnings():  # the map's warnings come once, from classify_lazy
        warnings.simplefilter("ignore")
        return _classify_blocks(
            part, _dask._model(model), settings["min_total"], settings["max_total"],
            settings["mixture_probability"], _BLOCK_PIXELS, False, row_offset=first_row,
        )  # fmt: skip


@one_blas_thread
def _band_resolved(
    grids, first_codes: list, first_probability: list, skip: int, channels: list, rows: tuple, noise, model,
    settings: dict, min_region,
):  # fmt: skip
    """Second pass, one band with its halo rows (``rows``: the whole map's first row of the
    halo, and the band's own rows within it): mixtures resolved with the whole map's ``noise``
    (:class:`~minml.maps.classify.MixtureStage`), cleaned on request; the band's own rows kept,
    with their probability sums and mixtures (majority phase, second phase, share, fit).
    ``first_codes`` and ``first_probability``: the first pass's bands that the halo's rows
    span, in order, the first of them starting ``skip`` rows above the halo."""
    from minml import _dask
    from minml.maps.classify import _probability_sums, clean
    from minml.maps.read import OxideMap

    first, top, stop = rows
    height = grids.shape[1]
    codes = _joined_rows(first_codes, skip, height)  # new arrays: resolved in place
    probability = _joined_rows(first_probability, skip, height)
    part = OxideMap({name: grids[i] for i, name in enumerate(channels)}, pixel_size=settings["pixel_size"])
    stage = _mixture_stage(_dask._model(model), settings)
    result = stage.resolve(part, codes, probability, noise, row_offset=first)
    p_sum, p_var = _probability_sums(result.codes[top:stop], result.probability[top:stop], stage.k)
    if min_region is not None:
        result = clean(result, min_region=min_region)
    m = result.mixtures
    own = (m.major[top:stop], m.other[top:stop], m.fraction[top:stop], m.chi2[top:stop])
    return (result.codes[top:stop], result.probability[top:stop], p_sum, p_var, *own)


def _mixture_stage(runtime, settings: dict):
    """The mixture step of :func:`minml.classify_map` with ``settings`` (:func:`_settings`)."""
    from minml.maps.classify import MixtureStage

    keys = ("beam_width", "pixel_size", "mixture_probability", "max_chi2")
    return MixtureStage(runtime, *(settings[key] for key in keys))


def _settings(options: dict, pixel_size) -> dict:
    """:func:`minml.classify_map`'s settings: its defaults, with ``options`` over them."""
    import inspect

    from minml.maps.classify import classify_map

    defaults = {
        name: p.default
        for name, p in inspect.signature(classify_map).parameters.items()
        if p.kind is p.KEYWORD_ONLY and name not in ("block_pixels", "progress")
    }
    unknown = set(options) - set(defaults)
    if unknown:
        raise TypeError(
            f"classify_lazy takes classify_map's settings ({', '.join(defaults)}) and min_region; "
            f"not {', '.join(sorted(unknown))}."
        )
    return {**defaults, **options, "pixel_size": pixel_size}


def classify_lazy(oxide_map, model=None, *, band_rows: int = 256, min_region: int | None = None, **options):
    """:func:`minml.classify_map` of a map of any size, lazily (see the module).

    Parameters
    ----------
    oxide_map : OxideMap
        Channels as Dask arrays (:func:`open_lazy`), numpy or memory-mapped arrays.
    model : path, MineralClassifier or Runtime, optional
        Sent to each worker once (:mod:`minml._dask`).
    band_rows : int, default=256
        Map rows per task (memory per task is about band_rows x width x channels x 4 bytes, a
        few times over).
    min_region : int, optional
        Also :func:`minml.maps.classify.clean` the map with this setting.
    **options
        ``min_total``, ``max_total``, ``mixture_probability``, ``beam_width``, ``max_chi2`` as
        :func:`minml.classify_map`.

    Returns
    -------
    LazyMapResult
    """
    import dask
    import dask.array as da

    from minml import _dask
    from minml.maps.classify import MASKED, MIXTURE, UNKNOWN, MixtureStage, _warn_absent_channels, check_map_options
    from minml.maps.mixtures import Mixtures

    settings = _settings(options, oxide_map.pixel_size)
    check_map_options(min_region=min_region, **options)
    arg, runtime = _dask._model_arg(model, "classifier")
    _warn_absent_channels(oxide_map, runtime.oxides)
    channels = list(oxide_map.data)
    h, w = oxide_map.shape
    stack = da.stack([da.asarray(oxide_map.data[c]) for c in channels]).astype(np.float32)
    rows = tuple(min(band_rows, h - s) for s in range(0, h, band_rows))
    names = [*(str(c) for c in runtime.classes), UNKNOWN, MIXTURE, MASKED]
    k = len(names) - 3
    starts = np.cumsum((0, *rows[:-1])).tolist()
    first = [
        dask.delayed(_band_classified, nout=3)(stack[:, s : s + n], channels, s, arg, settings)
        for s, n in zip(starts, rows, strict=True)
    ]
    noise = dask.delayed(MixtureStage.noise)(dask.delayed(sum)([f[2] for f in first]))
    halo = max(HALO, _mixture_stage(runtime, settings).halo())
    codes, probability, sums, variances = [], [], [], []
    mixed: list[list] = [[], [], [], []]  # majority phase, second phase, share, fit
    for (a, b), (top, stop) in _bands(h, rows, halo):
        # the first pass's bands that the rows a:b span, as delayed results (_joined_rows; 52
        # first-pass bands were computed for 8 on a 2048² map from slices of a Dask array)
        near, skip = _spanned(rows, a, b)
        band = dask.delayed(_band_resolved, nout=8)(
            stack[:, a:b], [first[i][0] for i in near], [first[i][1] for i in near], skip,
            channels, (a, top, stop), noise, arg, settings, min_region,
        )  # fmt: skip
        codes.append(da.from_delayed(band[0], (stop - top, w), dtype=np.int16))
        probability.append(da.from_delayed(band[1], (stop - top, w), dtype=np.float32))
        sums.append(da.from_delayed(band[2], (k,), dtype=float))
        variances.append(da.from_delayed(band[3], (k,), dtype=float))
        for i, (part, dtype) in enumerate(zip(mixed, (np.int16, np.int16, np.float32, np.float32), strict=True)):
            part.append(da.from_delayed(band[4 + i], (stop - top, w), dtype=dtype))
    return LazyMapResult(
        da.concatenate(codes),
        da.concatenate(probability),
        names,
        da.stack(sums).sum(axis=0),
        da.stack(variances).sum(axis=0),
        oxide_map.pixel_size,
        Mixtures(*(da.concatenate(part) for part in mixed)),
    )
