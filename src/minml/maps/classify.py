"""Phase maps from quantified EDS/WDS maps: mineral, confidence, mixtures, modal abundance.

:func:`classify_map` runs the classifier (:func:`classify_block`, the unknown answer included)
over a map (:class:`minml.maps.read.OxideMap`) in blocks of rows, so memory is bounded by the
block size (memory-mapped ``.npy`` and dask arrays are read block by block).  Per pixel:

* ``masked``: oxide sum below ``min_total`` (epoxy, holes, cracks) -- not classified;
* ``unknown``: what ``classify`` calls unknown (none of the classes, bad analyses), an oxide
  sum above ``max_total``, or an isolated pixel of a phase none of its neighbours is that no
  mixture of them explains;
* ``mixture``: a boundary pixel that is a mix of two neighbouring phases
  (:mod:`minml.maps.mixtures`), with its majority phase, its second phase and the share;
* otherwise the mineral, with its probability.

Modal abundances: :meth:`MapResult.modes` (:mod:`minml.maps.modes`).  :func:`clean`
optionally replaces isolated pixels by their neighbourhood's majority.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from minml._parallel import one_blas_thread
from minml.maps.mixtures import Mixtures, context_rows, resolve_mixtures
from minml.maps.read import OxideMap

if TYPE_CHECKING:
    from minml.classifier._runtime import Runtime

__all__ = [
    "DEFAULT_BEAM_WIDTH",
    "MASKED",
    "MIXTURE",
    "UNKNOWN",
    "MapResult",
    "classify_block",
    "classify_map",
    "clean",
]

UNKNOWN, MIXTURE, MASKED = "unknown", "mixture", "masked"
DEFAULT_BEAM_WIDTH = 2.0
"""Micrometres over which the beam mixes neighbouring grains, unless told (:func:`classify_map`)."""
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
    mixtures : Mixtures, optional
        The mixed pixels' majority phase, second phase and share (:mod:`minml.maps.mixtures`).
    beam_width : float, optional
        Micrometres: the beam width the map was classified with (the modes share unknown
        pixels within it; None: :data:`DEFAULT_BEAM_WIDTH`).
    """

    codes: np.ndarray
    probability: np.ndarray
    names: list
    class_proba_sum: np.ndarray
    class_proba_var: np.ndarray
    pixel_size: float | None = None
    mixtures: Mixtures | None = None
    beam_width: float | None = None

    def mineral(self) -> np.ndarray:
        """Height x width array of names."""
        return np.asarray(self.names, dtype=object)[self.codes]

    def modes(self, *, min_area: float | None = None, blocks: int = 8, random_state=0) -> pd.DataFrame:
        """Modal abundance with its uncertainty (:func:`minml.maps.modes.modal_table`)."""
        from minml.maps.modes import modal_table

        return modal_table(self, min_area=min_area, blocks=blocks, random_state=random_state)

    def pixels(self, rows: slice = slice(None)) -> pd.DataFrame:
        """One row per pixel of map rows ``rows``: ``row``, ``col``, ``mineral`` (a class,
        ``unknown``, or ``masked`` as ``modes.csv`` counts it; a mixed pixel's majority phase),
        ``probability``, ``flag``, ``mixed_with``, ``fraction``."""
        codes = self.codes[rows]
        h, w = codes.shape
        first = range(self.codes.shape[0])[rows].start if h else 0
        r, c = np.divmod(np.arange(h * w), w)
        k = len(self.class_proba_sum)
        code = codes.ravel()
        minerals = [*self.names[:k], UNKNOWN, MASKED]
        flags = ["", *self.names[k:]]
        major, other, share = self.mixed_pixels(rows)
        mixed = major >= 0
        own = np.where(code == self.names.index(MASKED), k + 1, np.minimum(code, k))
        return pd.DataFrame(
            {
                "row": (r + first).astype(np.int32),
                "col": c.astype(np.int32),
                "mineral": pd.Categorical.from_codes(np.where(mixed, major, own), minerals),
                "probability": self.probability[rows].ravel(),
                "flag": pd.Categorical.from_codes(np.where(code >= k, code - k + 1, 0), flags),
                "mixed_with": pd.Categorical.from_codes(np.where(mixed, other, -1), self.names[:k]),
                "fraction": share,
            }
        )

    def mixed_pixels(self, rows: slice = slice(None)):
        """Majority phase, second phase (-1: none) and share of each pixel of ``rows``, flat."""
        n = self.codes[rows].size
        if self.mixtures is None:
            return np.full(n, -1, np.int16), np.full(n, -1, np.int16), np.ones(n, np.float32)
        m = self.mixtures
        return m.major[rows].ravel(), m.other[rows].ravel(), m.fraction[rows].ravel()

    def write_pixels(self, path, rows_per_part: int = 512) -> Path:
        """Write :meth:`pixels` to Parquet part by part (memory bounded by ``rows_per_part`` map rows)."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        path = Path(path)
        writer = None
        try:
            for start in range(0, self.codes.shape[0], rows_per_part):
                part = pa.Table.from_pandas(self.pixels(slice(start, start + rows_per_part)), preserve_index=False)
                # dictionaries for the named columns only: numbers with a value a pixel gain nothing from one
                writer = writer or pq.ParquetWriter(path, part.schema, use_dictionary=["mineral", "flag", "mixed_with"])
                writer.write_table(part)
        finally:
            if writer is not None:
                writer.close()
        return path


def classify_block(table: pd.DataFrame, runtime, *, min_total: float = 80.0, max_total: float = 110.0):
    """Classify one block of pixels (rows of a table, one column per species): the step that
    :func:`classify_map` (and a lazy, per-chunk classification) runs on each block.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per pixel, oxide wt% columns (canonical names).
    runtime : Runtime
        From :func:`minml.classifier.predict.resolve_model`.
    min_total, max_total : float
        See :func:`classify_map`.

    Returns
    -------
    codes : numpy.ndarray of int16
        Class index, ``k`` unknown, ``k + 2`` masked (sum below ``min_total``), ``k + 3`` no
        analysis (sum above ``max_total``), with ``k = len(runtime.classes)``.
    probability : numpy.ndarray of float32
        Of the class (NaN where none).
    values : numpy.ndarray of float32
        The pixels as rows x ``runtime.oxides``.
    """
    return _classify_columns({name: table[name].to_numpy() for name in table.columns}, runtime, min_total, max_total)


def _classify_columns(columns: dict, runtime, min_total: float, max_total: float):
    """:func:`classify_block` of one block's pixels given as flat arrays by species."""
    from minml.classifier.predict import classify_values

    k = len(runtime.classes)
    n = len(next(iter(columns.values())))
    values = np.zeros((n, len(runtime.oxides)), dtype=np.float32)
    total = np.zeros(n, dtype=np.float32)
    finite = np.ones(n, dtype=bool)  # a pixel without a value in a channel is masked, whatever min_total
    for column in columns.values():  # in the columns' order, NaN as 0: a table's sum
        nan = np.isnan(column)
        if nan.any():
            finite &= ~nan
            total += np.where(nan, np.float32(0.0), column)
        else:
            total += column
    for j, name in enumerate(runtime.oxides):
        if name in columns:
            values[:, j] = columns[name]
    code = np.where(total > max_total, k + 3, k + 2).astype(np.int16)
    prob = np.full(n, np.nan, dtype=np.float32)
    analysed = (total >= min_total) & (total <= max_total) & finite
    if analysed.all():  # map values are numbers already: no table checks, straight to the model
        code, prob = classify_values(values, runtime)  # (the model copies what it changes)
    elif analysed.any():
        code[analysed], prob[analysed] = classify_values(values[analysed], runtime)
    return code, prob, values


@one_blas_thread
def classify_map(
    oxide_map: OxideMap,
    model=None,
    *,
    min_total: float = 80.0,
    max_total: float = 110.0,
    mixture_probability: float = 0.8,
    beam_width: float = DEFAULT_BEAM_WIDTH,
    max_chi2: float = 4.0,
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
        Pixels with a lower top probability are not confident: they, unknown pixels and pixels
        of a class none of their neighbours is are tested as mixtures of their neighbours.
    beam_width : float, default=2.0
        Micrometres over which the beam mixes neighbouring grains (the interaction volume's
        width); with the pixel size it sets the neighbourhood (1 µm pixels when the map
        gives no size).
    max_chi2 : float, default=4.0
        A mixture (or one phase) is accepted when its mean squared standardised residual over
        the oxides is below this.
    block_pixels : int
        Pixels per block (memory is proportional to it).
    progress : bool, default=False
        Report progress on stderr: a bar on a terminal, a line every 30 s off one (:mod:`minml._progress`).

    Returns
    -------
    MapResult
    """
    from minml.classifier.predict import resolve_model

    check_map_options(min_total=min_total, max_total=max_total, mixture_probability=mixture_probability)
    check_map_options(beam_width=beam_width, max_chi2=max_chi2)
    if min_total >= max_total:
        raise ValueError(f"min_total ({min_total:g}) must be below max_total ({max_total:g}).")
    runtime = resolve_model(model)
    _warn_absent_channels(oxide_map, runtime.oxides)
    codes, probability, moments = _classify_blocks(
        oxide_map, runtime, min_total, max_total, mixture_probability, block_pixels, progress
    )
    stage = MixtureStage(runtime, beam_width, oxide_map.pixel_size, mixture_probability, max_chi2)
    over_total = codes == stage.k + 3
    result = stage.resolve(oxide_map, codes, probability, stage.noise(moments))
    _warn_totals(result.codes, over_total, result.names, min_total, max_total, oxide_map)
    return result


@dataclass
class MixtureStage:
    """The second step of :func:`classify_map`, after every pixel is classified: the mixed
    pixels resolved with the analytical noise of the whole map (:meth:`noise`, from the
    moments the first step summed), pixels over ``max_total`` made unknown, the per-class
    probability sums.  Apart so that a map classified band by band (:mod:`minml.maps._lazy`)
    runs the same step with the same noise on each band and its :meth:`halo` rows."""

    runtime: Runtime
    beam_width: float
    pixel_size: float | None
    confident: float
    max_chi2: float

    @property
    def k(self) -> int:
        return len(self.runtime.classes)

    @property
    def radius(self) -> int:
        """The beam-overlap radius in pixels."""
        return max(1, int(np.ceil(self.beam_width / (self.pixel_size or 1.0) / 2)))

    def halo(self) -> int:
        """Rows of context above and below that a pixel's answer depends on."""
        return context_rows(self.radius)

    @staticmethod
    def noise(moments: np.ndarray) -> np.ndarray:
        """Classes x oxides: 1 sd of each oxide within each class, from the summed moments."""
        n = np.maximum(moments[0], 1)
        return np.sqrt(np.maximum(moments[2] / n - (moments[1] / n) ** 2, 0))

    def resolve(self, oxide_map: OxideMap, codes, probability, noise, row_offset: int = 0) -> MapResult:
        """The MapResult of the classified ``codes`` and ``probability`` (changed in place) of
        ``oxide_map``, whose first row is row ``row_offset`` of the whole map."""
        k = self.k
        names = [*(str(c) for c in self.runtime.classes), UNKNOWN, MIXTURE, MASKED]
        over_total = codes == k + 3
        codes_of = {"unknown": k, "mixture": k + 1, "masked": k + 2, "no_analysis": k + 3}
        mixtures = resolve_mixtures(
            lambda r0, r1: _stack_rows(oxide_map, self.runtime.oxides, r0, r1), codes, probability, k, codes_of,
            noise, radius=self.radius, confident=self.confident, max_chi2=self.max_chi2, row_offset=row_offset,
        )  # fmt: skip
        codes[over_total] = k  # no analysis: unknown, even between two grains
        p_sum, p_var = _probability_sums(codes, probability, k)
        return MapResult(codes, probability, names, p_sum, p_var, oxide_map.pixel_size, mixtures, self.beam_width)


def _classify_blocks(
    oxide_map: OxideMap, runtime, min_total, max_total, confident, block_pixels, progress, row_offset: int = 0
):
    """:func:`classify_block` over the map's blocks of rows: codes, probabilities, and per class
    the moments of its confident pixels' compositions (the noise of each oxide); the map's
    first row is row ``row_offset`` of the whole map (the pixels sampled for the moments are
    chosen by their place in the whole map)."""
    from minml._progress import bar

    k = len(runtime.classes)
    h, w = oxide_map.shape
    codes = np.empty((h, w), dtype=np.int16)
    probability = np.full((h, w), np.nan, dtype=np.float32)
    moments = np.zeros((3, k, len(runtime.oxides)))  # per class: count, sum, sum of squares (normalised)
    step = max(1, block_pixels // max(w, 1))
    blocks = bar(range(0, h, step), desc="classifying map", unit="block", enabled=progress)
    for start in blocks:
        stop = min(h, start + step)
        code, prob, values = _classify_columns(oxide_map.columns(start, stop), runtime, min_total, max_total)
        _add_moments(moments, code, prob, values, k, confident, (row_offset + start) * w)
        codes[start:stop] = code.reshape(stop - start, w)
        probability[start:stop] = prob.reshape(stop - start, w)
    return codes, probability, moments


def _stack_rows(oxide_map: OxideMap, oxides, r0: int, r1: int) -> np.ndarray:
    """Rows r0:r1 of the map as height x width x oxides (absent channels 0; NaN 0, infinities
    the largest float32, as :func:`numpy.nan_to_num`), a new array."""
    h, w = r1 - r0, oxide_map.shape[1]
    out = np.zeros((h, w, len(oxides)), dtype=np.float32)
    columns = oxide_map.columns(r0, r1)
    for j, name in enumerate(oxides):
        if name in columns:
            out[..., j] = columns[name].reshape(h, w)
    if not np.isfinite(out).all():  # one pass over the stack, not a copy of each channel
        np.nan_to_num(out, copy=False)
    return out


def _add_moments(moments, code, prob, values, k, confident, first: int = 0) -> None:
    """Per class, count, sum and sum of squares of the confident pixels' normalised
    compositions: the noise of each oxide within each class (in place).  One pixel in four is
    enough for a spread: chosen by a hash of the pixel's place in the whole map (``first`` +
    position; no lattice of columns that stage or scan artefacts could alias with), so that
    any cut of the map into blocks samples the same pixels."""
    keep = np.flatnonzero((code < k) & (prob >= confident))
    place = (keep + first).astype(np.uint64)
    keep = keep[((place * np.uint64(2654435761)) & np.uint64(0xFFFFFFFF)) >> np.uint64(30) == 0]  # Knuth's hash
    if not len(keep):
        return
    x = values[keep]
    x = 100.0 * x / np.maximum(x.sum(axis=1, keepdims=True), 1e-6)
    c = code[keep]
    moments[0] += np.bincount(c, minlength=k)[:, None]
    m = x.shape[1]
    every = (c[:, None].astype(np.intp) * m + np.arange(m)).ravel()  # (class, oxide): in pixel order, as per oxide
    moments[1] += np.bincount(every, weights=x.ravel(), minlength=k * m).reshape(k, m)
    moments[2] += np.bincount(every, weights=(x**2).ravel(), minlength=k * m).reshape(k, m)


def _probability_sums(codes, probability, k, rows: int = 256):
    """Per class, the sum of p and of p (1 - p) over its pixels, ``rows`` map rows at a time;
    each band's sums start from the bands' before, so they add in pixel order, as in one pass."""
    p_sum, p_var = np.zeros(k), np.zeros(k)
    start = np.arange(k)
    for first in range(0, len(codes), rows):
        band = codes[first : first + rows]
        keep = band < k
        p = np.nan_to_num(probability[first : first + rows][keep], nan=1.0).astype(float)
        c = np.r_[start, band[keep]]
        p_sum = np.bincount(c, weights=np.r_[p_sum, p], minlength=k)
        p_var = np.bincount(c, weights=np.r_[p_var, p * (1 - p)], minlength=k)
    return p_sum, p_var


def _warn_totals(codes, over_total, names, min_total, max_total, oxide_map) -> None:
    if (codes == names.index(MASKED)).all():
        if all(not np.any(grid) for grid in oxide_map.data.values()):  # looked at only when all is masked
            warnings.warn(
                "Every pixel holds 0 wt% in every channel: there is nothing to classify. A spectrum image "
                "quantified with too few counts in its lines gives this: bin it (e.g. 4 x 4 pixels) or count "
                "longer; lowering min_total does not help.",
                stacklevel=3,
            )
            return
        warnings.warn(
            f"Every pixel's oxide sum is below min_total={min_total:g} wt%: the whole map is masked. "
            "Check the channels' units (units=) or lower min_total.",
            stacklevel=3,
        )
    if over_total.sum() > 0.5 * (codes != names.index(MASKED)).sum():
        warnings.warn(
            f"{over_total.sum()} pixels, most of those not masked, have oxide sums above max_total="
            f"{max_total:g} wt% and are unknown: are the channels in wt% (not wt% x 100, counts or ppm)?",
            stacklevel=3,
        )


def _warn_absent_channels(oxide_map: OxideMap, oxides) -> None:
    """Warn of the model's oxides the map has no channel for: they are read as 0 wt%, which
    is right for an element below detection and wrong for one not mapped; a missing major oxide
    is named first, with what it costs (a map of a few elements, such as a metal's, is still
    classified: it is not refused as a table without such a column is)."""
    from minml.classifier.features import MINIMUM_OXIDES
    from minml.maps._eds import RAW_SUFFIXES

    absent = [name for name in oxides if name not in oxide_map.data]
    majors = [name for name in MINIMUM_OXIDES if name in absent]
    spectra = Path(str(oxide_map.source)).suffix.lower() in RAW_SUFFIXES
    if majors:
        how = (
            "give its element's k-factor (--k-factors) or a standard holding it (--standards)"
            if spectra
            else "an element map such as 'Si Ka.csv' is read as its oxide"
        )
        warnings.warn(
            f"The map has no channel for the major oxide{'s' if len(majors) > 1 else ''} {', '.join(majors)}: read "
            "as 0 wt% in every pixel, so silicate pixels are masked (their sum too low) or answered as if free of "
            f"{' and '.join(majors)}. Add the map of {' and '.join(majors)} ({how}) unless the sample holds none.",
            stacklevel=3,
        )
        absent = [name for name in absent if name not in majors]
    if absent:
        telling = [name for name in ("Al2O3", "Na2O", "CaO") if name in absent]
        why = f" (a map without {', '.join(telling)} cannot tell feldspars and pyroxenes well apart)" if telling else ""
        warnings.warn(
            f"The map has no channel for {', '.join(absent)}: read as 0 wt% in every pixel. Map the "
            f"elements of the minerals present{why}.",
            stacklevel=3,
        )


def check_map_options(
    *,
    min_total=None,
    max_total=None,
    mixture_probability=None,
    min_region=None,
    beam_width=None,
    min_area=None,
    max_chi2=None,
) -> None:
    """Refuse settings of :func:`classify_map` and :func:`clean` that cannot mean anything:
    ``min_total`` outside 0-100 wt%, ``max_total`` outside 100-1000 wt%,
    ``mixture_probability`` outside 0-1, ``min_region`` outside 1-8 neighbours, ``beam_width``
    (µm) outside 0-100, ``min_area`` (µm²) below 0, ``max_chi2`` not above 0."""
    if max_chi2 is not None and not (np.isfinite(max_chi2) and max_chi2 > 0):
        raise ValueError(f"max_chi2 must be a mean squared standardised residual above 0, got {max_chi2!r}.")
    if min_total is not None and not 0.0 <= float(min_total) <= 100.0:
        raise ValueError(f"min_total must be an oxide sum in wt% between 0 and 100, got {min_total!r}.")
    if max_total is not None and not 100.0 <= float(max_total) <= 1000.0:
        raise ValueError(f"max_total must be an oxide sum in wt% between 100 and 1000, got {max_total!r}.")
    if mixture_probability is not None and not 0.0 <= float(mixture_probability) <= 1.0:
        raise ValueError(f"mixture_probability must lie between 0 and 1, got {mixture_probability!r}.")
    if min_region is not None and (int(min_region) != min_region or not 1 <= min_region <= 8):
        raise ValueError(f"min_region must be a number of like neighbours from 1 to 8, got {min_region!r}.")
    if beam_width is not None and not (np.isfinite(beam_width) and 0 < beam_width <= 100):
        raise ValueError(f"beam_width must be a width in micrometres above 0 (at most 100), got {beam_width!r}.")
    if min_area is not None and not (np.isfinite(min_area) and min_area >= 0):
        raise ValueError(f"min_area must be an area in square micrometres, 0 or more, got {min_area!r}.")


def clean(result: MapResult, *, min_region: int = 3) -> MapResult:
    """Replace speckle: each mineral or unknown pixel with fewer than ``min_region`` neighbours
    (of 8) of its own answer takes the majority mineral of its neighbourhood, and that mineral's
    mean probability there (a noisy pixel inside a grain, which the mixture step leaves unknown
    when no mixture of its neighbours explains it).  Masked and mixed pixels are kept, and so is
    a pixel with no mineral around it.  Each pixel is judged on the map as it was (the order
    does not matter).  Returns a new result (the modes then describe the cleaned map)."""
    check_map_options(min_region=min_region)
    codes = result.codes.copy()
    probability = result.probability.copy()
    k = len(result.class_proba_sum)
    unknown = result.names.index(UNKNOWN)
    padded = np.pad(result.codes, 1, constant_values=-1)
    p_padded = np.pad(result.probability, 1, constant_values=np.nan)
    h, w = codes.shape
    windows = np.lib.stride_tricks.sliding_window_view(padded, (3, 3)).reshape(h, w, 9)
    p_windows = np.lib.stride_tricks.sliding_window_view(p_padded, (3, 3)).reshape(h, w, 9)
    same = (windows == result.codes[:, :, None]).sum(axis=2) - 1
    lonely = ((result.codes < k) | (result.codes == unknown)) & (same < min_region)
    r, c = np.nonzero(lonely)
    around, p_around = windows[r, c], p_windows[r, c]  # lonely pixels x 9
    minerals = (around >= 0) & (around < k)
    minerals[:, 4] = False  # the pixel itself
    row = np.broadcast_to(np.arange(len(r))[:, None], around.shape)
    counts = np.bincount(row[minerals] * k + around[minerals], minlength=len(r) * k).reshape(len(r), k)
    mineral = counts.argmax(axis=1)  # the lowest class on ties
    chosen = minerals & (around == mineral[:, None]) & np.isfinite(p_around)
    p_sum, p_count = np.where(chosen, p_around, 0.0).sum(axis=1), chosen.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        p_mean = np.where(p_count > 0, p_sum / p_count, np.nan)  # NaN: its like neighbours hold none
    replaced = counts.max(axis=1) > 0 if len(r) else np.zeros(0, dtype=bool)  # a mineral around it
    codes[r[replaced], c[replaced]] = mineral[replaced]
    probability[r[replaced], c[replaced]] = p_mean[replaced].astype(probability.dtype)
    return MapResult(
        codes,
        probability,
        result.names,
        result.class_proba_sum,
        result.class_proba_var,
        result.pixel_size,
        result.mixtures,
        result.beam_width,
    )
