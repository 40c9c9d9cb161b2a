"""Honest probabilities: temperature scaling and class-conditional conformal prediction sets.

Both are fitted on *held-out* probabilities: those a model gave to rows it was not trained
on (``minml train`` uses source-grouped cross-validation, folds by publication, because a
new database resembles an unseen publication more than a random fold).

* Temperature scaling: one number ``T``; calibrated probabilities are ``p ** (1/T)``,
  renormalised (a softmax of ``log p / T``).  ``T`` minimises the negative log-likelihood
  of the held-out rows, each source weighing as much as any other (:func:`source_weights`):
  a new database resembles an unseen publication, not the largest publications of the
  training data.  It never changes the top class.  Chosen on the five source-grouped folds
  of the shipped model's own held-out rows (``benchmarks/calibration_weights.py``: the
  temperature fitted on four folds' held-out rows and scored on the fifth's; means over the
  five).  Weighing rows equally, the largest sources, where the network is almost never wrong,
  sharpened it (T 0.75-1.03): the fifth fold's log-likelihood was worse than with no
  calibration, per row (0.0134 against 0.0122 nats) and per source (0.0275 against 0.0253),
  with more wrong answers at p >= 0.9 (0.110 % against 0.078 %).  Weighing sources equally
  softens it (T 1.10-1.21): best per source (0.0250) and fewest wrong at p >= 0.9 (0.058 %), at
  some cost per row (0.0143 nats; top-label ECE 0.0063 against 0.0038 uncalibrated).
* Conformal prediction sets (split conformal, one quantile per class, "Mondrian"): the set
  of a row holds every class ``c`` with ``p_c >= 1 - q_c(coverage)``, where ``q_c`` is the
  finite-sample quantile of ``1 - p_true`` over held-out rows of class ``c``.  A row of
  class ``c`` then lands in a set containing ``c`` with probability >= ``coverage``, if new
  data resemble the held-out data (exchangeability; Vovk et al. 2005, Algorithmic Learning
  in a Random World; Angelopoulos & Bates 2023, Found. Trends Mach. Learn. 16, 494).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["Calibration", "cross_conformal_sets", "prediction_set_table", "prediction_sets", "source_weights"]

_LEVELS = 1001  # stored quantiles of each class's held-out scores
_EPS = 1e-12


def expected_calibration_error(confidence: np.ndarray, correct: np.ndarray, bins: int = 15) -> float:
    """Top-label expected calibration error with equal-width bins.

    Parameters
    ----------
    confidence : numpy.ndarray
        Probability of the predicted class.
    correct : numpy.ndarray of bool
    bins : int, default=15

    Returns
    -------
    float
        sum over bins of (rows in bin / rows) * |accuracy - mean confidence|.

    Examples
    --------
    >>> expected_calibration_error(np.array([0.9, 0.9, 0.6, 0.6]), np.array([True, True, True, False]))
    0.1
    """
    confidence = np.asarray(confidence, dtype=float)
    correct = np.asarray(correct, dtype=float)
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, bins - 1)
    error = 0.0
    for b in range(bins):
        in_bin = which == b
        if in_bin.any():
            error += in_bin.mean() * abs(correct[in_bin].mean() - confidence[in_bin].mean())
    return round(float(error), 12)


def apply_temperature(proba: np.ndarray, temperature: float) -> np.ndarray:
    """Probabilities ``p ** (1/T)``, renormalised per row.

    Examples
    --------
    >>> apply_temperature(np.array([[0.8, 0.2]]), 1.0).round(3).tolist()
    [[0.8, 0.2]]
    >>> apply_temperature(np.array([[0.8, 0.2]]), 2.0).round(3).tolist()
    [[0.667, 0.333]]
    """
    logp = np.log(np.maximum(proba, _EPS)) / temperature
    logp -= logp.max(axis=1, keepdims=True)
    out = np.exp(logp)
    return (out / out.sum(axis=1, keepdims=True)).astype(proba.dtype, copy=False)


def source_weights(groups) -> np.ndarray:
    """Weights giving each source (publication) of held-out rows the same total weight.

    Examples
    --------
    >>> source_weights(np.array(["a", "a", "a", "b"])).tolist()
    [0.3333333333333333, 0.3333333333333333, 0.3333333333333333, 1.0]
    """
    _, which, counts = np.unique(np.asarray(groups), return_inverse=True, return_counts=True)
    return 1.0 / counts[which]


def fit_temperature(proba: np.ndarray, codes: np.ndarray, weights=None) -> float:
    """The temperature that minimises the (weighted) negative log-likelihood of the true classes.

    Parameters
    ----------
    proba : numpy.ndarray
        Held-out probabilities, rows x classes.
    codes : numpy.ndarray of int
        Column of the true class per row.
    weights : numpy.ndarray, optional
        Weight of each row (e.g. :func:`source_weights`); equal weights without.

    Returns
    -------
    float
        ``T`` (> 1: the model was overconfident; < 1: underconfident).
    """
    from scipy.optimize import minimize_scalar

    proba, codes = _checked(proba, codes)
    weights = _checked_weights(weights, len(codes))
    logp = np.log(np.maximum(proba, _EPS))
    rows = np.arange(len(codes))

    def nll(log_t):
        z = logp / np.exp(log_t)
        z = z - z.max(axis=1, keepdims=True)
        return float(np.average(np.log(np.exp(z).sum(axis=1)) - z[rows, codes], weights=weights))

    return float(np.exp(minimize_scalar(nll, bounds=(-3.0, 3.0), method="bounded").x))


def _checked_weights(weights, rows: int) -> np.ndarray | None:
    if weights is None:
        return None
    weights = np.asarray(weights, dtype=np.float64)
    if weights.shape != (rows,) or not np.isfinite(weights).all() or (weights < 0).any() or weights.sum() <= 0:
        raise ValueError(f"weights must be {rows} finite non-negative numbers, not all 0; got shape {weights.shape}.")
    return weights


def _checked(proba, codes):
    proba = np.asarray(proba, dtype=np.float64)
    codes = np.asarray(codes)
    if proba.ndim != 2 or len(proba) != len(codes):
        raise ValueError(
            f"proba must be rows x classes with one class code per row; got {proba.shape} and {codes.shape}."
        )
    if not np.isfinite(proba).all():
        raise ValueError("proba holds NaN or infinite values; calibrate on usable rows only.")
    if len(codes) and (codes.min() < 0 or codes.max() >= proba.shape[1]):
        raise ValueError(f"class codes must lie in 0..{proba.shape[1] - 1}.")
    return proba, codes.astype(np.int64)


@dataclass
class Calibration:
    """A fitted calibration: temperature and per-class conformal score quantiles.

    Attributes
    ----------
    temperature : float
    quantiles : numpy.ndarray
        Classes x 1001: quantiles (levels 0, 0.001, ..., 1) of ``1 - p_true`` over each
        class's held-out rows, after temperature scaling.
    counts : numpy.ndarray of int
        Held-out rows per class.
    summary : dict of str to float
        On the held-out rows: ``accuracy`` of the top class, ``ece_raw`` and ``ece`` (top-label
        expected calibration error, 15 bins, before and after temperature scaling).
    """

    temperature: float
    quantiles: np.ndarray
    counts: np.ndarray
    summary: dict = field(default_factory=dict)

    @classmethod
    def fit(cls, proba: np.ndarray, codes: np.ndarray, weights=None) -> Calibration:
        """Fit on held-out probabilities ``proba`` (rows x classes) and true class columns ``codes``;
        ``weights`` (one per row, e.g. :func:`source_weights`) weigh the rows in the temperature's
        fit.  The conformal quantiles count every row once: their coverage is per row.

        Examples
        --------
        A model that says 0.9 for the top class but is right only 70 % of the time:

        >>> rng = np.random.default_rng(0)
        >>> codes = rng.integers(0, 2, 10_000)
        >>> top = np.where(rng.random(10_000) < 0.7, codes, 1 - codes)
        >>> proba = np.where(np.arange(2) == top[:, None], 0.9, 0.1)
        >>> cal = Calibration.fit(proba, codes)
        >>> round(float(cal.apply(proba).max(axis=1).mean()), 2)
        0.7
        """
        proba, codes = _checked(proba, codes)
        temperature = fit_temperature(proba, codes, weights)
        calibrated = apply_temperature(proba, temperature)
        scores = 1.0 - calibrated[np.arange(len(codes)), codes]
        right = proba.argmax(axis=1) == codes
        summary = {
            "accuracy": float(right.mean()),
            "ece_raw": expected_calibration_error(proba.max(axis=1), right),
            "ece": expected_calibration_error(calibrated.max(axis=1), right),
        }
        k = proba.shape[1]
        counts = np.bincount(codes, minlength=k)
        levels = np.linspace(0.0, 1.0, _LEVELS)
        quantiles = np.ones((k, _LEVELS))
        for c in np.flatnonzero(counts):
            quantiles[c] = np.quantile(scores[codes == c], levels, method="inverted_cdf")
        return cls(temperature=temperature, quantiles=quantiles, counts=counts, summary=summary)

    def apply(self, proba: np.ndarray) -> np.ndarray:
        """Calibrated probabilities (temperature scaling)."""
        return apply_temperature(proba, self.temperature)

    def cutoffs(self, coverage: float) -> np.ndarray:
        """Per-class probability cut-offs for prediction sets of the given coverage.

        A class enters a row's set where its calibrated probability is at least its
        cut-off.  A class with too few held-out rows for the coverage asked (fewer than
        ``coverage / (1 - coverage)``: quartz's 38 rows at 0.98 and above) cannot have a
        class-conditional quantile of its own; rather than cut-off 0 (in every set), it
        borrows the quantile of the pooled scores of all classes, each class weighing the
        same (:meth:`pooled_quantile`), and never a cut-off above its own worst held-out
        row's probability, so each of its held-out rows would still be covered.  The
        guarantee for such a class is the pooled (marginal) one, not a class-conditional
        one.  A class without held-out rows is in every set.

        No cut-off exceeds :data:`minml.classifier._overlap.OVERLAP_PROBABILITY` (0.07), the
        probability at which ``classify`` notes that composition cannot decide between two
        classes: a class whose held-out rows are nearly all certain gets a class-conditional
        cut-off near 1 (clinopyroxene's was 0.990 at coverage 0.99), and a Wo 5 pyroxene
        answered orthopyroxene 0.53 / clinopyroxene 0.47 had the set ``orthopyroxene``.  With
        the cap such a row's set holds both.  Adding classes to a set never lowers its
        coverage: the guarantee stands, the sets are at most that much larger.
        """
        from minml.classifier._overlap import OVERLAP_PROBABILITY

        if not 0.0 < coverage < 1.0:
            raise ValueError(f"coverage must lie between 0 and 1 (e.g. 0.95), got {coverage!r}.")
        n = np.maximum(self.counts, 1)
        level = np.ceil((n + 1) * coverage) / n  # finite-sample correction
        grid = np.linspace(0.0, 1.0, self.quantiles.shape[1])
        q = np.array([np.interp(min(lv, 1.0), grid, row) for lv, row in zip(level, self.quantiles, strict=True)])
        few = (level > 1.0) & (self.counts > 0)
        if few.any():
            q[few] = np.maximum(self.quantiles[few, -1], self.pooled_quantile(coverage))
        q[self.counts == 0] = 1.0
        return np.minimum(1.0 - q, OVERLAP_PROBABILITY)

    def pooled_quantile(self, coverage: float) -> float:
        """The ``coverage`` quantile of the held-out scores (``1 - p_true``) of all classes
        pooled, each class with held-out rows weighing the same, from the stored quantiles.

        Examples
        --------
        Two classes whose scores are uniform on [0, 0.1] and on [0, 0.3]:

        >>> levels = np.linspace(0.0, 1.0, 1001)
        >>> cal = Calibration(1.0, np.vstack([0.1 * levels, 0.3 * levels]), np.array([500, 500]))
        >>> round(cal.pooled_quantile(0.5), 3)  # F(s) = (s / 0.1 + s / 0.3) / 2 = 0.5
        0.075
        """
        grid = np.linspace(0.0, 1.0, self.quantiles.shape[1])
        rows = self.quantiles[self.counts > 0]
        scores = np.unique(rows)
        # each class's CDF at every stored score: the highest level whose quantile is <= it
        cdf = np.mean([grid[np.searchsorted(row, scores, side="right") - 1] for row in rows], axis=0)
        n = int(self.counts.sum())
        level = min(np.ceil((n + 1) * coverage) / n, 1.0)
        return float(scores[min(np.searchsorted(cdf, level - 1e-12), len(scores) - 1)])

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The arrays a model file stores (prefix ``calibration_``)."""
        return {
            "calibration_temperature": np.array(self.temperature),
            "calibration_quantiles": self.quantiles.astype(np.float32),
            "calibration_counts": self.counts.astype(np.int64),
            "calibration_summary_keys": np.array(list(self.summary), dtype=str),
            "calibration_summary_values": np.array(list(self.summary.values()), dtype=np.float64),
        }

    @classmethod
    def from_arrays(cls, data) -> Calibration | None:
        """Read what :meth:`to_arrays` wrote; None when the file has no calibration."""
        if "calibration_temperature" not in data:
            return None
        return cls(
            temperature=float(data["calibration_temperature"]),
            quantiles=np.asarray(data["calibration_quantiles"], dtype=np.float64),
            counts=np.asarray(data["calibration_counts"], dtype=np.int64),
            summary={
                str(k): float(v)
                for k, v in zip(data["calibration_summary_keys"], data["calibration_summary_values"], strict=True)
            },
        )


def set_members(proba: np.ndarray, cutoffs: np.ndarray) -> np.ndarray:
    """Which classes are in each row's prediction set (rows x classes, bool): those whose
    probability reaches their cut-off, and always the most probable one.

    Examples
    --------
    >>> set_members(np.array([[0.7, 0.25, 0.05]]), np.array([0.9, 0.2, 0.1])).tolist()
    [[True, True, False]]
    """
    inside = proba >= cutoffs
    inside[np.arange(len(proba)), proba.argmax(axis=1)] = True
    return inside


def cross_conformal_sets(proba: np.ndarray, codes: np.ndarray, fold: np.ndarray, coverage: float) -> np.ndarray:
    """Out-of-sample prediction sets of held-out rows (rows x classes, bool): for each fold, a
    :class:`Calibration` fitted on the other folds' rows sets the cut-offs of this fold's rows
    (cross-conformal), so that no row's set depends on its own probability.

    Parameters
    ----------
    proba : numpy.ndarray
        Held-out probabilities (rows x classes), e.g. of source-grouped folds.
    codes : numpy.ndarray of int
        Each row's true class column.
    fold : numpy.ndarray of int
        Each row's fold.
    coverage : float
    """
    inside = np.zeros(proba.shape, dtype=bool)
    for f in np.unique(fold):
        test = fold == f
        calibration = Calibration.fit(proba[~test], codes[~test])
        inside[test] = set_members(calibration.apply(proba[test]), calibration.cutoffs(coverage))
    return inside


def prediction_set_table(proba, codes, fold, classes, coverages=(0.90, 0.95, 0.99)):
    """Per class: held-out rows, and at each coverage the share of its rows whose set holds
    their class (empirical coverage) and their mean set size (:func:`cross_conformal_sets`);
    a last row ``all`` pools every row.

    Returns
    -------
    pandas.DataFrame
        Index: classes, then ``all``; columns ``rows``, ``coverage_<c>`` and ``size_<c>`` per
        coverage, ``c`` in percent (``coverage_90``, ``size_90``, ...).
    """
    import pandas as pd

    codes = np.asarray(codes)
    names = [*map(str, classes), "all"]
    table = pd.DataFrame({"rows": [*np.bincount(codes, minlength=len(classes)), len(codes)]}, index=names)
    for coverage in coverages:
        inside = cross_conformal_sets(proba, codes, fold, coverage)
        covered = inside[np.arange(len(codes)), codes]
        size = inside.sum(axis=1)
        per_class = [(covered[codes == k].mean(), size[codes == k].mean()) for k in range(len(classes))]
        per_class.append((covered.mean(), size.mean()))
        table[f"coverage_{round(100 * coverage)}"] = [c for c, _ in per_class]
        table[f"size_{round(100 * coverage)}"] = [s for _, s in per_class]
    return table.rename_axis("class")


def prediction_sets(proba: np.ndarray, cutoffs: np.ndarray, classes) -> list[str]:
    """Each row's prediction set as class names joined by ``|``, most probable first.

    The most probable class is always in the set (conformal sets may otherwise be empty
    for the least confident rows; adding it only raises the coverage).

    Examples
    --------
    >>> prediction_sets(np.array([[0.7, 0.25, 0.05]]), np.array([0.1, 0.2, 0.1]), ["cpx", "opx", "amp"])
    ['cpx|opx']
    >>> prediction_sets(np.array([[0.7, 0.25, 0.05]]), np.array([0.9, 0.2, 0.1]), ["cpx", "opx", "amp"])
    ['cpx|opx']
    """
    classes = np.asarray(classes, dtype=object)
    inside = set_members(proba, cutoffs)
    size = inside.sum(axis=1)
    out = classes[inside.argmax(axis=1)].astype(object)  # sets of one: their member
    multi = np.flatnonzero(size > 1)
    if len(multi):  # members by falling probability (ties: class order), each distinct set written once
        order = np.argsort(np.where(inside[multi], -proba[multi], np.inf), axis=1, kind="stable")
        ranked = np.where(np.arange(proba.shape[1]) < size[multi, None], order, -1)  # members, then -1
        distinct, inverse = _distinct_rows(ranked)
        text = np.array(["|".join(classes[row[row >= 0]]) for row in distinct], dtype=object)
        out[multi] = text[inverse]
    return out.tolist()


_KEY_BITS = 5  # bits per class index in a set's key: up to 31 classes
_KEY_PLACES = 12  # members a key holds: 5 x 12 bits fit an int64


def _distinct_rows(ranked: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct rows of a small-integer matrix (entries -1 .. classes - 1) and where each
    row is among them, as ``np.unique(axis=0, return_inverse=True)`` gives them.  Each row
    becomes one int64 key (a number in base 32) where the rows allow, which is many times
    faster than comparing rows."""
    width = ranked.shape[1]
    if ranked.max(initial=-1) + 1 >= 2**_KEY_BITS or (width > _KEY_PLACES and (ranked[:, _KEY_PLACES:] >= 0).any()):
        distinct, inverse = np.unique(ranked, axis=0, return_inverse=True)
        return distinct, inverse.reshape(-1)
    places = min(width, _KEY_PLACES)
    weights = np.left_shift(np.int64(1), _KEY_BITS * np.arange(places, dtype=np.int64))
    keys = (ranked[:, :places].astype(np.int64) + 1) @ weights
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    return ranked[first], inverse.reshape(-1)
