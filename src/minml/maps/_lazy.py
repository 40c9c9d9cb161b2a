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
bands' own rows.  The result (:class:`LazyMapResult`) holds Dask arrays:
:meth:`LazyMapResult.modes` is a reduction over the bands (with halos for the neighbourhood
shares), :meth:`LazyMapResult.write` writes the phase map and probability to Zarr band by band
(each band one task, one Zarr chunk row) and a downsampled ``phase_map.png``.  Between the
passes the first pass's codes and probabilities (6 bytes a pixel) wait on the workers.
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
"""Rows of the neighbouring bands that the modes read for the neighbourhood shares (radius 2);
the mixture step reads more (:meth:`minml.maps.classify.MixtureStage.halo`)."""


def open_lazy(path, *, band_rows: int = 256, units: str = "wt%", pixel_size: float | None = None):
    """An OxideMap of Dask arrays (chunks of ``band_rows`` full rows) from a Zarr group, or a
    folder of ``.npy`` (memory-mapped) or ``.tif`` files, one channel each."""
    import dask.array as da

    from minml.maps.read import OxideMap, _Channels, _is_channel, to_oxides

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
    oxides, notes = to_oxides(raw, units=units)
    return OxideMap(oxides, pixel_size=pixel_size, source=str(path), notes=notes)


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
        Summed over the bands (computed with the modes).
    pixel_size : float or None
    """

    codes: Any
    probability: Any
    names: list
    class_proba_sum: Any
    class_proba_var: Any
    pixel_size: float | None = None

    def compute(self):
        """The whole :class:`~minml.maps.classify.MapResult` in memory (maps that fit)."""
        import dask

        from minml.maps.classify import MapResult

        parts = dask.compute(self.codes, self.probability, self.class_proba_sum, self.class_proba_var)
        return MapResult(*parts[:2], self.names, *parts[2:], self.pixel_size)

    def persist(self) -> LazyMapResult:
        """The same result with its arrays computed and kept on the workers (for several reads)."""
        import dask

        parts = dask.persist(self.codes, self.probability, self.class_proba_sum, self.class_proba_var)
        return LazyMapResult(parts[0], parts[1], self.names, parts[2], parts[3], self.pixel_size)

    def modes(self, radius: int = 2):
        """:meth:`minml.maps.classify.MapResult.modes`, as a reduction over the bands."""
        import dask

        k = len(self.names) - 3
        rows = self.codes.chunks[0]
        blocks = self.codes.rechunk({1: -1}).to_delayed().ravel()  # one per band: each computed once
        shares = []
        for (a, b), (top, stop) in _bands(self.codes.shape[0], rows):
            near, skip = _spanned(rows, a, b)
            joined = dask.delayed(_joined_rows)([blocks[i] for i in near], skip, b - a)
            shares.append(dask.delayed(_band_counts)(joined, top, stop, k, len(self.names), radius))
        counts, share, p_var = dask.compute(
            dask.delayed(sum)([s[0] for s in shares]), dask.delayed(sum)([s[1] for s in shares]), self.class_proba_var
        )
        p_var = np.asarray(p_var)
        return _modes_frame(counts, share, p_var, self.names, self.codes.size)

    def write(self, out_dir, *, title: str = "", preview_pixels: int = 4_000_000) -> list[Path]:
        """Write ``phase_map.zarr`` (``codes``, ``probability``; one chunk per band, written band
        by band), ``modes.csv`` and a ``phase_map.png`` subsampled to about ``preview_pixels``."""
        import dask
        import dask.array as da

        from minml.maps.classify import MapResult
        from minml.maps.figures import phase_map

        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        store = out_dir / "phase_map.zarr"
        writes = [
            da.to_zarr(array, str(store), component=name, overwrite=True, compute=False)
            for name, array in (("codes", self.codes), ("probability", self.probability))
        ]
        p_sum, p_var = dask.compute(*writes, self.class_proba_sum, self.class_proba_var)[2:]  # one pass over the bands
        stored = LazyMapResult(
            da.from_zarr(str(store), component="codes"),
            da.from_zarr(str(store), component="probability"),
            self.names,
            p_sum,
            p_var,
            self.pixel_size,
        )
        modes = stored.modes()
        modes.to_csv(out_dir / "modes.csv", float_format="%.4f")
        step = max(1, int(np.ceil(np.sqrt(self.codes.size / preview_pixels))))
        codes, probability = dask.compute(stored.codes[::step, ::step], stored.probability[::step, ::step])
        size = None if self.pixel_size is None else self.pixel_size * step
        ax = phase_map(MapResult(codes, probability, self.names, p_sum, p_var, size), title=title, modes=modes)
        ax.figure.savefig(out_dir / "phase_map.png", dpi=150)
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


def _band_counts(codes: np.ndarray, top: int, stop: int, k: int, n_names: int, radius: int):
    """Pixel counts of a band's own rows, and the shares of its unknown and mixture pixels among
    the minerals within ``radius`` (as :meth:`MapResult.modes` computes them on the whole map)."""
    from scipy.ndimage import uniform_filter

    own = codes[top:stop]
    counts = np.bincount(own.ravel(), minlength=n_names).astype(np.int64)
    shared = np.zeros(codes.shape, dtype=bool)
    shared[top:stop] = (own == n_names - 3) | (own == n_names - 2)
    share = np.zeros(k)
    if shared.any():
        size = 2 * radius + 1
        near = np.stack(
            [uniform_filter((codes == c).astype(np.float32), size, mode="constant")[shared] for c in range(k)], axis=1
        )
        total = near.sum(axis=1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.nan_to_num(near / total).sum(axis=0)
    return counts, share


def _modes_frame(counts, share, p_var, names: list, n: int):
    """The table of :meth:`MapResult.modes` from its sums (the same formulas)."""
    import pandas as pd

    from minml.maps.classify import MASKED

    k = len(p_var)
    analysed = max(n - counts[names.index(MASKED)], 1)
    frame = pd.DataFrame({"pixels": counts, "area_percent": 100.0 * counts / n}, index=names)
    frame["mode_percent"] = np.r_[100.0 * (counts[:k] + share) / analysed, [np.nan] * (len(names) - k)]
    frame["sd_percent"] = np.r_[100.0 * np.sqrt(p_var) / analysed, [np.nan] * (len(names) - k)]
    frame.index.name = "phase"
    return frame[(frame["pixels"] > 0) | (frame["mode_percent"] > 0.01)]


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
    with their probability sums.  ``first_codes`` and ``first_probability``: the first pass's
    bands that the halo's rows span, in order, the first of them starting ``skip`` rows above
    the halo."""
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
    return result.codes[top:stop], result.probability[top:stop], p_sum, p_var


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
    for (a, b), (top, stop) in _bands(h, rows, halo):
        # the first pass's bands that the rows a:b span, as delayed results (_joined_rows; 52
        # first-pass bands were computed for 8 on a 2048² map from slices of a Dask array)
        near, skip = _spanned(rows, a, b)
        band = dask.delayed(_band_resolved, nout=4)(
            stack[:, a:b], [first[i][0] for i in near], [first[i][1] for i in near], skip,
            channels, (a, top, stop), noise, arg, settings, min_region,
        )  # fmt: skip
        codes.append(da.from_delayed(band[0], (stop - top, w), dtype=np.int16))
        probability.append(da.from_delayed(band[1], (stop - top, w), dtype=np.float32))
        sums.append(da.from_delayed(band[2], (k,), dtype=float))
        variances.append(da.from_delayed(band[3], (k,), dtype=float))
    return LazyMapResult(
        da.concatenate(codes),
        da.concatenate(probability),
        names,
        da.stack(sums).sum(axis=0),
        da.stack(variances).sum(axis=0),
        oxide_map.pixel_size,
    )
