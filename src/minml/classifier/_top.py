"""The class of each row of a clean numeric array, its probability, and whether the row is
unlike the training data: all that a map's pixels need of the classifier
(:func:`minml.classifier.predict.classify_values`), without the second class, the
uncertainty and the ood score of every row that a table's result shows.

Whether a row is unlike the training data is whether its ood score (minus its best
class-conditional log-density over all classes) is above the model's threshold.  The density
of the row's predicted class alone is a lower bound on that best density, so a row whose
predicted class's density clears the threshold by :data:`_MARGIN` (far more than float32
rounding) is settled at the cost of one class instead of all; the others (a fifth of a
map's pixels: grain boundaries, unusual analyses) get the full density, as a table's rows do.
"""

from __future__ import annotations

import numpy as np

from minml._parallel import run_in_threads
from minml.classifier import _gda

__all__ = ["fill_scores", "largest", "normalised_entropy", "top_scores"]

_CHUNK = 8_192  # rows per step, as minml.classifier.predict scores them
_MARGIN = 0.01  # log-density units, times (1 + the threshold): a bound far from float32 rounding


def largest(by_class: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index (the first, on ties, as argmax) and value of each column's largest entry.
    ``argmax(axis=0)`` copies the array to move the axis; one max and one comparison per
    class do not (3x faster on a chunk)."""
    best = by_class.max(axis=0)
    index = np.zeros(by_class.shape[1], dtype=np.intp)
    hit = np.empty(by_class.shape[1], dtype=bool)
    for k in range(len(by_class) - 1, -1, -1):  # the lowest index written last
        np.equal(by_class[k], best, out=hit)
        np.copyto(index, k, where=hit)
    return index, best


def fill_scores(out: dict, where, proba: np.ndarray, cutoffs=None, classes=None, top=None) -> None:
    """Fill ``out``'s scores of the rows ``where`` (a slice or row numbers) from their calibrated
    probabilities ``proba`` (rows x classes), in place: those of ``proba``, ``sets`` (with
    ``cutoffs``), ``uncertainty``, ``top``, ``p1``, ``second`` and ``p2`` that ``out`` holds.
    ``top``: each row's class where the caller has settled it (else the most probable);
    ``proba`` may be changed (it is read no more)."""
    if "proba" in out:
        out["proba"][where] = proba
    if "sets" in out and cutoffs is not None:
        from minml.classifier.calibration import prediction_sets

        out["sets"][where] = prediction_sets(proba, cutoffs, classes)
    by_class = np.ascontiguousarray(proba.T)  # (classes, rows), no copy: the runtimes return this layout
    rows = np.arange(by_class.shape[1])
    if "uncertainty" in out:
        out["uncertainty"][where] = normalised_entropy(by_class)
    if top is None:
        top, p1 = largest(by_class)
    else:
        p1 = by_class[top, rows]
    out["top"][where], out["p1"][where] = top, p1
    if "second" in out:
        by_class[top, rows] = -1.0  # proba (a view of by_class) is not read after this
        out["second"][where], out["p2"][where] = largest(by_class)


def normalised_entropy(by_class: np.ndarray) -> np.ndarray:
    """Entropy of each column's probabilities (classes x rows) over log(classes): 0 for a
    certain row, 1 for one spread evenly over every class."""
    terms = np.maximum(by_class, 1e-12)
    np.log(terms, out=terms)
    terms *= by_class
    return -terms.sum(axis=0) / np.log(len(by_class))


def _unlike(model, Z: np.ndarray, top: np.ndarray) -> np.ndarray:
    """Whether each scaled row's ood score is above the model's threshold (see the module)."""
    threshold = float(model.ood_threshold)
    bound = _gda.class_log_density(model.params, Z, top)
    unsettled = np.flatnonzero(bound <= -threshold + _MARGIN * (1.0 + abs(threshold)))
    unlike = np.zeros(len(Z), dtype=bool)
    if len(unsettled):
        # in float64: numpy compares a float32 array with a Python float in float32 (NEP 50)
        unlike[unsettled] = -model.log_density(Z[unsettled]) > np.float64(threshold)
    return unlike


def top_scores(model, values: np.ndarray, analysis: np.ndarray) -> dict:
    """``top`` (class index), ``p1`` (its probability, float32) and ``unlike`` (ood score above
    the threshold) of every row, in chunks on a few threads; rows that are no ``analysis``
    are scored on zeros and are never ``unlike``."""
    n = len(values)
    out: dict[str, np.ndarray] = {
        "top": np.empty(n, dtype=np.int64),
        "p1": np.empty(n, dtype=np.float32),
        "unlike": np.zeros(n, dtype=bool),
    }

    def score(part: slice) -> None:  # disjoint slices: safe from threads
        Z = model.scaled(np.where(analysis[part, None], values[part], 0.0))
        by_class = np.ascontiguousarray(model.calibrated_proba(Z).T)  # no copy: the runtimes return this layout
        top, out["p1"][part] = largest(by_class)
        out["top"][part] = top
        out["unlike"][part] = _unlike(model, Z, top) & analysis[part]

    run_in_threads(score, [slice(start, start + _CHUNK) for start in range(0, n, _CHUNK)])
    return out
