"""Maps past memory: lazy readers into Dask arrays, classification band by band, modes as reductions.

:func:`open_lazy` reads a Zarr group (one 2-D array per channel), or a folder of ``.npy``
(memory-mapped) or ``.tif`` files (one per channel, named as :func:`minml.read_map` names
them), into an :class:`~minml.maps.read.OxideMap` of Dask arrays: nothing is read yet, so the
pixels without a value (NaN) or with an infinite one, masked as :func:`minml.read_map` masks
them, are not counted (its notes say so).  Both are :mod:`minml.maps`'s too
(``minml.maps.open_lazy``, ``minml.maps.classify_lazy``).

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
rows) and joined with the neighbouring bands' before their moments are taken.  Each band's
task also reads the codes of the bands within ``max(2, r)`` rows (``r``: the beam-overlap
radius in pixels; codes are 2 bytes a pixel): the 5 x 5 squares its unknown pixels are shared
over, and the squares of the beam that tell an unknown region.  The patches of unknown pixels
deeper than the beam are first labelled per band (:func:`_band_cores`), joined over the bands
and judged on the whole map's minimum area (:func:`_decided`), so that a vein crossing many
bands is one region, as in memory; the unknown pixels are shared among the minerals present in
the whole map.  So the table is the in-memory one, every column, to floating-point rounding.
:meth:`LazyMapResult.write` writes the phase map and probability to Zarr band by band (each
band one task, one Zarr chunk row), with the modes summed in the same pass, and a downsampled
``phase_map.png``.  Between the passes the first pass's codes and probabilities (6 bytes a
pixel) wait on the workers.
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
    :func:`minml.maps.read_map` reads them.  Its notes say that pixels without a value or with
    an infinite one are masked, uncounted (nothing is read yet).

    Parameters
    ----------
    path : str or path
        The Zarr group or the folder.
    band_rows : int, default=256
        Rows per chunk.
    units : {"wt%", "at%"}, optional
        Of element channels.
    pixel_size : float, optional
        Micrometres per pixel.

    Returns
    -------
    OxideMap
    """
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
    return OxideMap(oxides, pixel_size=pixel_size, source=str(path), notes=notes + more + _unread_note(raw))


def _unread_note(raw) -> list[str]:
    """What :func:`minml.read_map` says of the pixels without a value or with an infinite one
    (``_non_finite_note``: it counts them, reading every channel), for channels not read yet:
    that such pixels are masked, uncounted (counting would read the whole map before its
    classification reads it again).  None for channels of whole numbers, which hold no NaN."""
    if not any(np.dtype(grid.dtype).kind in "fc" for grid in raw.values()):
        return []
    return [
        "masked: pixels with no value (NaN) or an infinite one in any channel, a pixel missing a channel being no "
        "analysis; not counted here, as the map is read lazily (band by band, when it is classified)"
    ]


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
    beam_width : float, optional
        Micrometres, as the map was classified with (the modes' unknown regions are wider);
        None: :func:`minml.classify_map`'s default.
    """

    codes: Any
    probability: Any
    names: list
    class_proba_sum: Any
    class_proba_var: Any
    pixel_size: float | None = None
    mixtures: Any = None
    beam_width: float | None = None

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
        return MapResult(*parts[:2], self.names, *parts[2:4], self.pixel_size, mixtures, self.beam_width)

    def persist(self) -> LazyMapResult:
        """The same result with its arrays computed and kept on the workers (for several reads)."""
        import dask

        from minml.maps.mixtures import Mixtures

        parts = dask.persist(*self._arrays())
        mixtures = Mixtures(*parts[4:]) if self.mixtures is not None else None
        return LazyMapResult(
            parts[0], parts[1], self.names, parts[2], parts[3], self.pixel_size, mixtures, self.beam_width
        )

    def modes(self, *, min_area: float | None = None, blocks: int = 8, random_state=0):
        """:meth:`minml.maps.classify.MapResult.modes`, as a reduction over the bands.

        The same table as in memory (every column, to floating-point rounding; see the module):
        each band's codes are read by its own tasks and by those of the bands within
        ``max(2, r)`` rows (``r``: the beam-overlap radius in pixels).

        Parameters
        ----------
        min_area : float, optional
            As :func:`minml.maps.modes.modal_table`: phases whose own pixels cover less (µm²,
            pixels without a pixel size; default :func:`minml.maps.modes.default_min_area`)
            are ``listed_apart``, and patches of unknown pixels wider than the beam that cover
            less are shared as speckle.
        blocks : int, default=8
            Tiles along each side of the map for the block bootstrap.
        random_state : int or numpy.random.Generator, default=0
            Of the block bootstrap.

        Returns
        -------
        pandas.DataFrame
        """
        import dask

        (parts,) = dask.compute(self._mode_parts(blocks, min_area))
        return _modes_table(parts, self.names, self.codes.shape, self.pixel_size, min_area, blocks, random_state)

    def _mode_parts(self, blocks: int, min_area: float | None) -> list:
        """Per band of the codes' chunks, a delayed :func:`_band_modes` of its own arrays and
        the codes of the bands within ``max(2, r)`` rows, after the patches of unknown pixels
        deeper than the beam (:func:`_band_cores`, each band's) are joined over the bands and
        the regions among them told (:func:`_decided`)."""
        import dask

        from minml.maps.modes import beam_radius

        rows = self.codes.chunks[0]
        h = self.codes.shape[0]
        k = len(self.names) - 3

        def bands(array) -> list:  # one delayed block per band, in the codes' bands
            return list(array.rechunk({0: rows, 1: -1}).to_delayed(optimize_graph=False).ravel())

        codes, probability = bands(self.codes), bands(self.probability)
        mixed = None
        if self.mixtures is not None:
            mixed = [bands(a) for a in (self.mixtures.major, self.mixtures.other, self.mixtures.fraction)]
        radius = beam_radius(self.beam_width, self.pixel_size)
        halo = max(radius, 2)  # rows of context: the beam's squares, the 5 x 5 squares of the shares
        starts = np.cumsum((0, *rows[:-1])).tolist()
        windows, cores = [], []
        for start, n in zip(starts, rows, strict=True):
            a, b = max(0, start - halo), min(h, start + n + halo)
            near, skip = _spanned(rows, a, b)
            window = ([codes[j] for j in near], skip, b - a, start - a, n)
            windows.append(window)
            cores.append(dask.delayed(_band_cores)(*window, k, radius))
        decided = dask.delayed(_decided)(cores, self.names, self.pixel_size, min_area)
        parts = []
        for i, (start, n) in enumerate(zip(starts, rows, strict=True)):
            near, _ = _spanned(rows, max(0, start - radius), min(h, start + n + radius))
            beside = [(j, starts[j], rows[j], cores[j]) for j in near if j != i]
            band_mixed = None if mixed is None else [m[i] for m in mixed]
            place = (i, start, self.codes.shape, k, blocks, radius)
            parts.append(dask.delayed(_band_modes)(windows[i], probability[i], band_mixed, *place, beside, decided))
        return parts

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
            *writes, self.class_proba_sum, self.class_proba_var, self._mode_parts(8, min_area), optimize_graph=False
        )
        p_sum, p_var, parts = done[2:]
        modes = _modes_table(parts, self.names, self.codes.shape, self.pixel_size, min_area, 8, 0)
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
class _Cores:
    """One band's patches of unknown pixels deeper than the beam (:func:`_band_cores`)."""

    size: np.ndarray  # pixels of each patch (labels 1, 2, ...; index 0: none)
    top: np.ndarray  # the patches' labels on the band's first rows (up to the beam radius)
    bottom: np.ndarray  # and on its last rows
    counts: np.ndarray  # the band's pixels of each code


@dataclass
class _Decided:
    """Of the whole map (:func:`_decided`): the minerals present, and per band which of its
    patches of unknown pixels deeper than the beam are regions (by label; index 0: none)."""

    present: np.ndarray
    regions: list


@dataclass
class _BandModes:
    """What one band adds to the modes of the whole map (:func:`_band_modes`)."""

    tiles: np.ndarray  # tiles x codes: pixels of each code in each tile of the bootstrap
    alone: np.ndarray  # per tile: the unknown pixels kept as unknown (regions; no mineral near)
    by_tile: np.ndarray  # tiles x phases: the sums of the shares of its mixed and shared unknown pixels
    boundary: np.ndarray  # per phase, the sum of s (1 - s) over those shares
    moments: np.ndarray  # 4 x answers (minerals, unknown): of the regions inside the band
    edge: tuple  # the regions touching an edge: answer, size, p sum; their labels on the top and bottom row


def _core_labels(window: tuple, unknown: int, radius: int) -> tuple[np.ndarray, int]:
    """The band's own rows of :func:`minml.maps.modes.unknown_core` (exact: the window holds
    ``radius`` rows beyond them, or the map's edge), labelled as
    :func:`minml.maps.modes._regions_kept` joins them (8 neighbours), and the labels' count."""
    from scipy.ndimage import label

    from minml.maps.modes import unknown_core

    blocks, skip, height, top, n = window
    core = unknown_core(_joined_rows(blocks, skip, height), unknown, radius)[top : top + n]
    labels, count = label(core, structure=np.ones((3, 3), dtype=bool))
    return labels, int(count)


def _band_cores(blocks: list, skip: int, height: int, top: int, n: int, k: int, radius: int) -> _Cores:
    """:class:`_Cores` of the band whose rows are ``top``, ... of the ``height`` rows of
    ``blocks`` from row ``skip`` (its window: ``max(2, radius)`` rows beyond it)."""
    labels, count = _core_labels((blocks, skip, height, top, n), k, radius)
    own = _joined_rows(blocks, skip, height)[top : top + n]
    r = min(radius, n)
    size = np.bincount(labels.ravel(), minlength=count + 1)
    return _Cores(size, labels[:r].copy(), labels[n - r :].copy(), np.bincount(own.ravel(), minlength=k + 3))


def _decided(cores: list, names: list, pixel_size, min_area) -> _Decided:
    """The patches of all bands (:class:`_Cores`, in the map's order) joined where they touch
    across the bands (8 neighbours), each joined patch a region when it covers the minimum area
    (:func:`minml.maps.modes.kept_unknown`), and the minerals present."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    from minml.maps.classify import MASKED
    from minml.maps.modes import _min_pixels

    k = len(names) - 3
    counts = np.sum([c.counts for c in cores], axis=0)
    analysed = max(int(counts.sum() - counts[names.index(MASKED)]), 1)
    found = [len(c.size) - 1 for c in cores]
    offsets = np.cumsum([0, *found])
    left, right = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
    for i in range(len(cores) - 1):
        bottom, top = cores[i].bottom[-1], cores[i + 1].top[0]
        for shift in (-1, 0, 1):  # diagonal neighbours too
            a = bottom[max(0, -shift) : len(bottom) - max(0, shift)]
            b = top[max(0, shift) : len(top) - max(0, -shift)]
            both = (a > 0) & (b > 0)
            left.append(a[both] - 1 + offsets[i])
            right.append(b[both] - 1 + offsets[i + 1])
    total = int(offsets[-1])
    if not total:
        return _Decided(np.flatnonzero(counts[:k]), [np.zeros(1, dtype=bool) for _ in cores])
    pairs = (np.concatenate(left), np.concatenate(right))
    graph = coo_matrix((np.ones(len(pairs[0])), pairs), shape=(total, total))
    _count, patch = connected_components(graph, directed=False)
    size = np.bincount(patch, weights=np.concatenate([c.size[1:] for c in cores]).astype(float))
    big = size[patch] >= _min_pixels(min_area, analysed, pixel_size)
    regions = [np.r_[False, big[offsets[i] : offsets[i + 1]]] for i in range(len(cores))]
    return _Decided(np.flatnonzero(counts[:k]), regions)


def _band_modes(
    window: tuple, probability, mixed, index: int, first_row: int, shape: tuple, k: int, blocks: int, radius: int,
    beside: list, decided: _Decided,
) -> _BandModes:  # fmt: skip
    """The sums of :func:`minml.maps.modes.modal_table` over one band (its ``window`` of codes:
    the blocks, the first row taken, the rows, where its own rows lie; rows ``first_row``... of
    the map of ``shape``): pixels per tile of the bootstrap, the unknown pixels kept as unknown
    (near the band's own and the bands ``beside`` it's patches that are regions, and those with
    no mineral near), the shares of the mixed pixels (``mixed``: majority phase, second phase
    and share, or None) and of the other unknown pixels among the minerals within 2 pixels
    (:func:`minml.maps.modes._near_shares`, among the minerals of the whole map), and the
    regions of one answer (:class:`_BandModes`)."""
    from scipy.ndimage import maximum_filter

    from minml.maps.modes import _near_shares, _tile_rows

    h, w = shape
    blocks_, skip, height, top, n = window
    codes_near = _joined_rows(blocks_, skip, height)
    codes = codes_near[top : top + n]
    flat = codes.ravel()
    n_names, tile_count = k + 3, blocks * blocks
    rows, cols = _tile_rows(h, blocks)[first_row : first_row + n], _tile_rows(w, blocks)
    tiles = np.zeros((blocks, blocks * n_names), dtype=np.int64)
    for i in np.unique(rows).tolist():  # the band's rows of each row of tiles
        tiles[i] = np.bincount((cols * n_names + codes[rows == i]).ravel(), minlength=blocks * n_names)

    def tile_of(at: np.ndarray) -> np.ndarray:
        r, c = np.divmod(at, w)
        return rows[r] * blocks + cols[c]

    # the regions' pixels: within the beam radius of a patch that is a region, this band's or beside it
    labels, _ = _core_labels(window, k, radius)
    lo = max(0, first_row - radius)
    big = np.zeros((min(h, first_row + n + radius) - lo, w), dtype=np.uint8)
    big[first_row - lo : first_row - lo + n] = decided.regions[index][labels]
    for j, start, size, cores in beside:
        if start < first_row:  # its last rows, above the band
            rim = decided.regions[j][cores.bottom]
            end = start + size
            big[max(start, lo) - lo : end - lo] = rim[len(rim) - (end - max(start, lo)) :]
        else:
            rim = decided.regions[j][cores.top]
            stop = min(start + size, lo + len(big))
            big[start - lo : stop - lo] = rim[: stop - start]
    kept = maximum_filter(big, size=2 * radius + 1, mode="constant", cval=0)[first_row - lo : first_row - lo + n]

    index_, mineral, share = np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    claimed = np.zeros(flat.size, dtype=bool)
    if mixed is not None:
        major, other, fraction = (np.asarray(m).ravel() for m in mixed)
        at = np.flatnonzero(major >= 0)
        claimed[at] = True
        f = fraction[at].astype(np.float64)
        index_, mineral, share = np.r_[at, at], np.r_[major[at], other[at]].astype(np.int64), np.r_[f, 1.0 - f]
    lost = flat == k
    shared = np.flatnonzero(lost & ~kept.ravel().astype(bool))
    if len(shared):
        near = _near_shares(codes_near, shared + top * w, decided.present)
        r, j = np.nonzero(near > 0)
        claimed[shared[r]] = True
        index_, mineral = np.r_[index_, shared[r]], np.r_[mineral, decided.present[j]]
        share = np.r_[share, near[r, j].astype(np.float64)]
    alone = np.bincount(tile_of(np.flatnonzero(lost & ~claimed)), minlength=tile_count)
    by_tile = _sums(tile_of(index_) * (k + 1) + mineral, share, tile_count * (k + 1)).reshape(tile_count, k + 1)
    boundary = _sums(mineral, share * (1 - share), k + 1)
    moments, edge = _band_regions(codes, np.asarray(probability), k, (first_row > 0, first_row + n < h))
    return _BandModes(tiles.reshape(tile_count, n_names), alone, by_tile, boundary, moments, edge)


def _sums(index: np.ndarray, weights: np.ndarray, size: int) -> np.ndarray:
    """``weights`` summed by ``index`` into ``size`` float64 bins (``np.bincount``'s, which are
    integers when nothing is summed)."""
    return np.bincount(index, weights=weights, minlength=size).astype(np.float64, copy=False)


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


def _modes_table(parts: list, names: list, shape: tuple, pixel_size, min_area, blocks: int, random_state):
    """:func:`minml.maps.modes.modal_table` of the whole map from its bands' sums (a list of
    :class:`_BandModes`, in the map's order): the same table, by the same formulas."""
    from minml.maps.classify import MASKED
    from minml.maps.modes import BOUNDARY_BAND, _block_bootstrap, modes_frame

    k = len(names) - 3
    masked = names.index(MASKED)
    n = shape[0] * shape[1]
    band = BOUNDARY_BAND  # what MapResult.modes uses
    tiles = np.sum([p.tiles for p in parts], axis=0)
    counts = tiles.sum(axis=0)
    pure = np.c_[tiles[:, :k], np.sum([p.alone for p in parts], axis=0)]  # per tile: wholly a phase's
    tile_shares = np.sum([p.by_tile for p in parts], axis=0)
    analysed = max(n - counts[masked], 1)
    allocated = pure.sum(axis=0) + tile_shares.sum(axis=0)
    boundary_var = np.sum([p.boundary for p in parts], axis=0) * band
    moments = np.sum([p.moments for p in parts], axis=0) + _joined_regions([p.edge for p in parts], k)
    sd_class = 100.0 * np.sqrt(_region_variance(moments, allocated)) / analysed
    sd_boundary = 100.0 * np.sqrt(boundary_var) / analysed
    # the shares as one triple per tile and phase: the bootstrap sums each tile's triples
    phases = k + 1
    shared = (np.repeat(np.arange(len(tiles)), phases), np.tile(np.arange(phases), len(tiles)), tile_shares.ravel())
    sd_sampling = _block_bootstrap(shared, pure, tiles.sum(axis=1) - tiles[:, masked], random_state)
    sds = (sd_class, sd_boundary, sd_sampling)
    return modes_frame(names, counts, allocated, sds, pixel_size, min_area)


def _region_variance(moments: np.ndarray, allocated: np.ndarray) -> np.ndarray:
    """:func:`minml.maps.modes._region_variance` from the regions' moments
    (:func:`_region_moments`): a region named wrong with chance w counts for another phase
    c with chance q = w r_c (r_c: c's share of the modes, unknown among them, of the others'
    for a mineral's region), whose variance, summed over the regions with weight size², is
    r_c (Σ size² w) - r_c² (Σ size² w²)."""
    phases = len(allocated)  # the minerals, then unknown: the answers of the moments
    prior = allocated / max(allocated.sum(), 1e-9)
    out = moments[3, :phases].copy()  # each mineral's own regions named right or wrong
    for a in np.flatnonzero(moments[0] > 0).tolist():
        if a == phases - 1:  # unknown regions: any phase in proportion to the modes
            rest = prior
        else:
            rest = prior * (np.arange(phases) != a) / max(1.0 - prior[a], 1e-9)
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
        settings["beam_width"],
    )
