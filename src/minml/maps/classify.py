"""Phase maps from quantified EDS/WDS maps: mineral, confidence, mixtures, modal abundance.

:func:`classify_map` runs the classifier (:func:`minml.classifier.predict.classify_values`, the unknown
answer included) over a map (:class:`minml.maps.read.OxideMap`) in blocks of rows, so memory is
bounded by the block size (memory-mapped ``.npy`` and dask arrays are read block by block).  Per pixel:

* ``masked``: oxide sum below ``min_total`` (epoxy, holes, cracks) -- not classified;
* ``unknown``: what ``classify`` calls unknown (none of the classes, bad analyses);
* ``mixture``: a pixel whose top probability is below ``mixture_probability`` or that is
  unknown while its neighbours are minerals -- boundary pixels mix two phases;
* otherwise the mineral, with its probability.

Modal abundances (:meth:`MapResult.modes`): hard area % of every phase (with the unknown,
mixture and masked shares), and per mineral the mode from the per-pixel probabilities (so
boundary pixels count for both their phases) with its uncertainty.
:func:`clean` optionally replaces isolated pixels by their neighbourhood's majority.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from minml.maps.read import OxideMap

__all__ = ["MASKED", "MIXTURE", "UNKNOWN", "MapResult", "classify_map", "clean", "write_outputs"]

UNKNOWN, MIXTURE, MASKED = "unknown", "mixture", "masked"
_BLOCK_PIXELS = 262_144


@dataclass
class MapResult:
    """A classified map.

    Attributes
    ----------
    codes : numpy.ndarray of int16
        Height x width index into ``names``.
    probability : numpy.ndarray of float32
        Probability of the pixel's mineral (NaN where none).
    names : list of str
        Minerals, then ``unknown``, ``mixture``, ``masked``.
    class_proba_sum : numpy.ndarray
        Per mineral, the sum of the top probability over the pixels it was named for.
    class_proba_var : numpy.ndarray
        Per mineral, the sum of p (1 - p) over those pixels (the variance of its pixel count
        if each pixel were a Bernoulli draw: the uncertainty of the mode).
    pixel_size : float or None
    """

    codes: np.ndarray
    probability: np.ndarray
    names: list
    class_proba_sum: np.ndarray
    class_proba_var: np.ndarray
    pixel_size: float | None = None

    def mineral(self) -> np.ndarray:
        """Height x width array of names."""
        return np.asarray(self.names, dtype=object)[self.codes]

    def modes(self, radius: int = 2) -> pd.DataFrame:
        """Modal abundance.

        Columns: ``pixels`` and ``area_percent`` (hard counts over all pixels, with the
        unknown, mixture and masked shares); per mineral ``mode_percent``, % of the pixels
        that are not masked, where each mixture or unknown pixel is shared between the
        minerals within ``radius`` pixels in proportion to their pixels there (a boundary
        pixel belongs to one of its neighbouring grains), and ``sd_percent``, the standard
        deviation of the mode if each pixel were a Bernoulli draw with its top probability.
        """
        from scipy.ndimage import uniform_filter

        counts = np.bincount(self.codes.ravel(), minlength=len(self.names))
        n = self.codes.size
        k = len(self.class_proba_sum)
        analysed = max(n - counts[self.names.index(MASKED)], 1)
        shared = np.isin(self.codes, [self.names.index(UNKNOWN), self.names.index(MIXTURE)])
        share = np.zeros(k)
        if shared.any():
            size = 2 * radius + 1
            near = np.stack(
                [uniform_filter((self.codes == c).astype(np.float32), size, mode="constant")[shared] for c in range(k)],
                axis=1,
            )
            total = near.sum(axis=1, keepdims=True)
            with np.errstate(invalid="ignore", divide="ignore"):
                share = np.nan_to_num(near / total).sum(axis=0)
        frame = pd.DataFrame({"pixels": counts, "area_percent": 100.0 * counts / n}, index=self.names)
        frame["mode_percent"] = np.r_[100.0 * (counts[:k] + share) / analysed, [np.nan] * (len(self.names) - k)]
        frame["sd_percent"] = np.r_[100.0 * np.sqrt(self.class_proba_var) / analysed, [np.nan] * (len(self.names) - k)]
        frame.index.name = "phase"
        return frame[(frame["pixels"] > 0) | (frame["mode_percent"] > 0.01)]

    def pixels(self, rows: slice = slice(None)) -> pd.DataFrame:
        """One row per pixel of map rows ``rows``: ``row``, ``col``, ``mineral``, ``probability``, ``flag``."""
        codes = self.codes[rows]
        h, w = codes.shape
        first = range(self.codes.shape[0])[rows].start if h else 0
        r, c = np.divmod(np.arange(h * w), w)
        k = len(self.class_proba_sum)
        code = codes.ravel()
        minerals = [*self.names[:k], UNKNOWN]
        flags = ["", *self.names[k:]]
        return pd.DataFrame(
            {
                "row": (r + first).astype(np.int32),
                "col": c.astype(np.int32),
                "mineral": pd.Categorical.from_codes(np.minimum(code, k), minerals),
                "probability": self.probability[rows].ravel(),
                "flag": pd.Categorical.from_codes(np.where(code >= k, code - k + 1, 0), flags),
            }
        )

    def write_pixels(self, path, rows_per_part: int = 512) -> Path:
        """Write :meth:`pixels` to Parquet part by part (memory bounded by ``rows_per_part`` map rows)."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        path = Path(path)
        writer = None
        try:
            for start in range(0, self.codes.shape[0], rows_per_part):
                part = pa.Table.from_pandas(self.pixels(slice(start, start + rows_per_part)), preserve_index=False)
                writer = writer or pq.ParquetWriter(path, part.schema)
                writer.write_table(part)
        finally:
            if writer is not None:
                writer.close()
        return path


def classify_map(
    oxide_map: OxideMap,
    model=None,
    *,
    min_total: float = 80.0,
    max_total: float = 110.0,
    mixture_probability: float = 0.8,
    block_pixels: int = _BLOCK_PIXELS,
    progress: bool = False,
) -> MapResult:
    """Classify every pixel of a map.

    Parameters
    ----------
    oxide_map : OxideMap
        From :func:`minml.maps.read.read_map`.
    model : MineralClassifier, Runtime or path, optional
        Defaults to the shipped model.
    min_total : float, default=80.0
        Pixels whose oxide sum is lower are masked (epoxy, holes, cracks).
    max_total : float, default=110.0
        Pixels whose oxide sum is higher are no analysis (channels in another unit, pile-up
        peaks): unknown.  Above the 105 wt% of point analyses, for a pixel's fewer counts.
    mixture_probability : float, default=0.8
        Pixels whose top probability is lower are mixtures (phase boundaries).
    block_pixels : int
        Pixels per block (memory is proportional to it).
    progress : bool, default=False

    Returns
    -------
    MapResult
    """
    from tqdm.auto import tqdm

    from minml.classifier.predict import classify_values, resolve_model

    check_map_options(min_total=min_total, max_total=max_total, mixture_probability=mixture_probability)
    if min_total >= max_total:
        raise ValueError(f"min_total ({min_total:g}) must be below max_total ({max_total:g}).")
    runtime = resolve_model(model)
    _warn_absent_channels(oxide_map, runtime.oxides)
    classes = [str(c) for c in runtime.classes]
    k = len(classes)
    names = [*classes, UNKNOWN, MIXTURE, MASKED]
    h, w = oxide_map.shape
    codes = np.empty((h, w), dtype=np.int16)
    probability = np.full((h, w), np.nan, dtype=np.float32)
    p_sum, p_var = np.zeros(k), np.zeros(k)
    step = max(1, block_pixels // max(w, 1))
    over_total = np.zeros((h, w), dtype=bool)
    for start in tqdm(range(0, h, step), desc="classifying map", unit="block", disable=not progress):
        stop = min(h, start + step)
        table = oxide_map.rows(start, stop)
        total = table.sum(axis=1).to_numpy()
        masked = total < min_total
        over = total > max_total  # no analysis: unknown, unclassified
        over_total[start:stop] = over.reshape(stop - start, w)
        code = np.where(over, names.index(UNKNOWN), names.index(MASKED)).astype(np.int16)
        prob = np.full(len(table), np.nan, dtype=np.float32)
        analysed = ~masked & ~over
        if analysed.any():  # map values are numbers already: no table checks, straight to the model
            inputs = table.loc[analysed].reindex(columns=list(runtime.oxides), fill_value=0.0)
            top, p = classify_values(inputs.to_numpy(dtype=np.float32), runtime)  # k: unknown
            c = top.copy()
            c[(c < k) & (p < mixture_probability)] = names.index(MIXTURE)
            code[analysed], prob[analysed] = c, p
            keep = top < k
            p_sum += np.bincount(top[keep], weights=p[keep], minlength=k)
            p_var += np.bincount(top[keep], weights=(p * (1.0 - p))[keep], minlength=k)
        codes[start:stop] = code.reshape(stop - start, w)
        probability[start:stop] = prob.reshape(stop - start, w)
    _mixtures_at_contacts(codes, k, names)
    codes[over_total] = names.index(UNKNOWN)  # no analysis, even between two grains
    if (codes == names.index(MASKED)).all():
        warnings.warn(
            f"Every pixel's oxide sum is below min_total={min_total:g} wt%: the whole map is masked. "
            "Check the channels' units (units=) or lower min_total.",
            stacklevel=2,
        )
    if over_total.sum() > 0.5 * (codes != names.index(MASKED)).sum():
        warnings.warn(
            f"{over_total.sum()} pixels, most of those not masked, have oxide sums above max_total="
            f"{max_total:g} wt% and are unknown: are the channels in wt% (not wt% x 100, counts or ppm)?",
            stacklevel=2,
        )
    return MapResult(codes, probability, names, p_sum, p_var, oxide_map.pixel_size)


def _warn_absent_channels(oxide_map: OxideMap, oxides) -> None:
    """Warn of the model's oxides the map has no channel for: they are read as 0 wt%, which
    is right for an element below detection and wrong for one not mapped."""
    absent = [name for name in oxides if name not in oxide_map.data]
    if absent:
        warnings.warn(
            f"The map has no channel for {', '.join(absent)}: read as 0 wt% in every pixel. Map the "
            "elements of the minerals present (a map without Al, Na or Ca cannot tell feldspars and "
            "pyroxenes well apart).",
            stacklevel=3,
        )


def check_map_options(*, min_total=None, max_total=None, mixture_probability=None, min_region=None) -> None:
    """Refuse settings of :func:`classify_map` and :func:`clean` that cannot mean anything:
    ``min_total`` outside 0-100 wt%, ``max_total`` outside 100-1000 wt%,
    ``mixture_probability`` outside 0-1, ``min_region`` outside 1-8 neighbours."""
    if min_total is not None and not 0.0 <= float(min_total) <= 100.0:
        raise ValueError(f"min_total must be an oxide sum in wt% between 0 and 100, got {min_total!r}.")
    if max_total is not None and not 100.0 <= float(max_total) <= 1000.0:
        raise ValueError(f"max_total must be an oxide sum in wt% between 100 and 1000, got {max_total!r}.")
    if mixture_probability is not None and not 0.0 <= float(mixture_probability) <= 1.0:
        raise ValueError(f"mixture_probability must lie between 0 and 1, got {mixture_probability!r}.")
    if min_region is not None and (int(min_region) != min_region or not 1 <= min_region <= 8):
        raise ValueError(f"min_region must be a number of like neighbours from 1 to 8, got {min_region!r}.")


def _mixtures_at_contacts(codes: np.ndarray, k: int, names: list, radius: int = 2) -> None:
    """Unknown pixels with two different minerals within ``radius`` pixels are boundary
    mixtures (in place)."""
    from scipy.ndimage import maximum_filter

    unknown = codes == names.index(UNKNOWN)
    if not unknown.any():
        return
    size = 2 * radius + 1
    present = np.unique(codes[codes < k])
    near = sum(maximum_filter(codes == c, size=size, mode="constant")[unknown].astype(np.int8) for c in present)
    rows = np.flatnonzero(unknown.ravel())[np.asarray(near) >= 2]
    codes.ravel()[rows] = names.index(MIXTURE)


def clean(result: MapResult, *, min_region: int = 3) -> MapResult:
    """Replace mineral pixels with fewer than ``min_region`` neighbours (of 8) of the same
    mineral by the majority mineral of their neighbourhood. Masked pixels are kept.
    Returns a new result (the modes then describe the cleaned map)."""
    check_map_options(min_region=min_region)
    codes = result.codes.copy()
    k = len(result.class_proba_sum)
    padded = np.pad(codes, 1, constant_values=-1)
    h, w = codes.shape
    windows = np.lib.stride_tricks.sliding_window_view(padded, (3, 3)).reshape(h, w, 9)
    same = (windows == codes[:, :, None]).sum(axis=2) - 1
    lonely = (codes < k) & (same < min_region)
    for r, c in np.argwhere(lonely):
        around = windows[r, c]
        around = around[(around >= 0) & (around < k)]
        if len(around):
            codes[r, c] = np.bincount(around).argmax()
    return MapResult(
        codes, result.probability, result.names, result.class_proba_sum, result.class_proba_var, result.pixel_size
    )


def write_outputs(result: MapResult, outdir, *, title: str = "") -> list[Path]:
    """Write ``phase_map.png``, ``confidence.png``, ``pixels.parquet`` and ``modes.csv``."""
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    written = [outdir / "pixels.parquet", outdir / "modes.csv"]
    result.write_pixels(written[0])
    modes = result.modes()  # one pass of the neighbourhood filters, for the table and the legend
    modes.to_csv(written[1], float_format="%.4f")
    from functools import partial

    from minml.plot import confidence_map, phase_map

    for name, draw in (("phase_map.png", partial(phase_map, modes=modes)), ("confidence.png", confidence_map)):
        ax = draw(result, title=title)
        ax.figure.savefig(outdir / name, dpi=150)
        import matplotlib.pyplot as plt

        plt.close(ax.figure)
        written.append(outdir / name)
    return written
