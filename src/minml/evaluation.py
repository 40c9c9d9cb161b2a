"""How good is a classifier: nested and source-grouped cross-validation, LEPR, calibration.

* Nested k-fold cross-validation: the outer folds report, the inner folds choose the
  hyperparameters (from a small grid) on the outer training part only.
* Source-grouped cross-validation: folds by publication (``source``), because random folds
  are saturated (~99.9 % for every model family) and say little about a new database.
* LEPR (external, never used for training or choices): the protocol of the issues: labels
  KFeldspar -> k-feldspar; Spinel -> spinel or magnetite; FeTiOxide -> magnetite, ilmenite
  or spinel; Quartz/Tridymite/Cristobalite -> quartz; "unknown" counts as wrong.
* Calibration: expected calibration error of the top label (15 equal-width bins).
"""

from __future__ import annotations

import itertools
import time

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.metrics import f1_score, precision_recall_fscore_support
from sklearn.model_selection import GroupKFold, StratifiedKFold

from minml.features import MODEL_OXIDES

__all__ = [
    "LEPR_ACCEPT",
    "expected_calibration_error",
    "grouped_cv",
    "lepr_correct",
    "nested_cv",
    "per_class_scores",
]

LEPR_ACCEPT = {
    "Amphibole": {"amphibole"}, "Apatite": {"apatite"}, "Biotite": {"biotite"},
    "Clinopyroxene": {"clinopyroxene"}, "Garnet": {"garnet"}, "KFeldspar": {"k-feldspar"},
    "Muscovite": {"muscovite"}, "Olivine": {"olivine"}, "Orthopyroxene": {"orthopyroxene"},
    "Plagioclase": {"plagioclase"}, "Rutile": {"rutile"}, "Zircon": {"zircon"},
    "Spinel": {"spinel", "magnetite"}, "FeTiOxide": {"magnetite", "ilmenite", "spinel"},
    "Quartz": {"quartz"}, "Tridymite": {"quartz"}, "Cristobalite": {"quartz"},
}
"""LEPR label -> the classes that count as right."""


def lepr_correct(labels: pd.Series, predicted: pd.Series) -> np.ndarray:
    """True where a prediction is right under the LEPR protocol."""
    return np.array([p in LEPR_ACCEPT.get(label, set()) for label, p in zip(labels, predicted, strict=True)])


def lepr_class(labels: pd.Series, predicted: pd.Series) -> np.ndarray:
    """The LEPR label as a class name for per-class scores: the prediction where it is
    accepted, else the label's first accepted class."""
    out = []
    for label, p in zip(labels, predicted, strict=True):
        accept = LEPR_ACCEPT.get(label, set())
        out.append(p if p in accept else sorted(accept)[0] if accept else str(label).lower())
    return np.array(out, dtype=object)


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


def per_class_scores(y_true, y_pred, classes) -> pd.DataFrame:
    """Precision, recall, F1 and support per class."""
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=classes, zero_division=0)
    return pd.DataFrame({"precision": p, "recall": r, "f1": f, "support": s}, index=list(classes))


def _fit_score(estimator, X, y, train, test, extra=None):
    """Fit on ``train`` (plus the ``extra`` rows, e.g. synthetic analyses), predict ``test``."""
    X_train, y_train = X[train], y[train]
    if extra is not None:
        X_train, y_train = np.vstack([X_train, extra[0]]), np.concatenate([y_train, extra[1]])
    model = clone(estimator).fit(X_train, y_train)
    pred = model.predict(X[test])
    return model, pred


def nested_cv(estimator, X: np.ndarray, y: np.ndarray, grid: dict, *, outer: int = 5, inner: int = 3,
              random_state: int = 0, extra=None, progress: bool = False) -> dict:
    """Nested stratified k-fold cross-validation.

    Parameters
    ----------
    estimator : MineralClassifier
    X, y : numpy.ndarray
    grid : dict of str to list
        Hyperparameters to choose from in the inner folds (by macro-F1).
    outer, inner : int
    random_state : int
    extra : tuple of numpy.ndarray, optional
        ``(X, y)`` added to every training fold and never tested on (synthetic analyses).

    Returns
    -------
    dict
        ``per_class`` (DataFrame of mean and sd across outer folds), ``accuracy``, ``macro_f1``
        (mean, sd), ``chosen`` (the parameters each outer fold chose), ``seconds``.
    """
    from tqdm.auto import tqdm

    start = time.perf_counter()
    classes = np.unique(y)
    candidates = [dict(zip(grid, values, strict=True)) for values in itertools.product(*grid.values())] or [{}]
    folds = StratifiedKFold(outer, shuffle=True, random_state=random_state)
    tables, accuracy, macro, chosen = [], [], [], []
    steps = outer * (inner * len(candidates) if len(candidates) > 1 else 0) + outer
    bar = tqdm(total=steps, desc="nested CV", unit="fit", disable=not progress)
    for train, test in folds.split(X, y):
        best = candidates[0]
        if len(candidates) > 1:
            inner_folds = StratifiedKFold(inner, shuffle=True, random_state=random_state + 1)
            scores = []
            for params in candidates:
                f1s = []
                for itrain, itest in inner_folds.split(X[train], y[train]):
                    candidate = clone(estimator).set_params(**params)  # never change the caller's estimator
                    _, pred = _fit_score(candidate, X[train], y[train], itrain, itest, extra)
                    f1s.append(f1_score(y[train][itest], pred, average="macro"))
                    bar.update()
                scores.append(np.mean(f1s))
            best = candidates[int(np.argmax(scores))]
        chosen.append(best)
        _, pred = _fit_score(clone(estimator).set_params(**best), X, y, train, test, extra)
        bar.update()
        tables.append(per_class_scores(y[test], pred, classes))
        accuracy.append(float((pred == y[test]).mean()))
        macro.append(float(f1_score(y[test], pred, average="macro")))
    bar.close()
    stacked = pd.concat(tables, keys=range(len(tables)))
    per_class = stacked.groupby(level=1).agg(["mean", "std"]).reindex(classes)
    return {
        "per_class": per_class,
        "accuracy": (float(np.mean(accuracy)), float(np.std(accuracy, ddof=1))),
        "macro_f1": (float(np.mean(macro)), float(np.std(macro, ddof=1))),
        "chosen": chosen,
        "seconds": time.perf_counter() - start,
    }


def grouped_cv(estimator, X: np.ndarray, y: np.ndarray, groups: np.ndarray, *, folds: int = 5,
               extra=None, progress: bool = False) -> dict:
    """Cross-validation with folds by source: no publication is on both sides.

    ``extra`` = ``(X, y)`` rows join every training fold and are never tested on.

    Returns
    -------
    dict
        ``accuracy``, ``macro_f1`` (pooled over the held-out predictions), ``per_class``,
        ``confusions`` (the most frequent mistakes), ``seconds``.
    """
    from tqdm.auto import tqdm

    start = time.perf_counter()
    pred = np.empty(len(y), dtype=object)
    splitter = GroupKFold(folds)
    for train, test in tqdm(splitter.split(X, y, groups), total=folds, desc="grouped CV", unit="fit",
                            disable=not progress):
        _, pred[test] = _fit_score(estimator, X, y, train, test, extra)
    wrong = pred != y
    confusions = (pd.DataFrame({"label": y[wrong], "predicted": pred[wrong], "source": groups[wrong]})
                  .value_counts().head(10))
    return {
        "accuracy": float((~wrong).mean()),
        "macro_f1": float(f1_score(y, pred, average="macro")),
        "per_class": per_class_scores(y, pred, np.unique(y)),
        "confusions": confusions,
        "seconds": time.perf_counter() - start,
    }


def training_arrays(table: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Inputs, labels and source groups of a training table (see :mod:`minml.datasets`)."""
    X = table[list(MODEL_OXIDES)].to_numpy(dtype=np.float32)
    return X, table["mineral"].to_numpy(dtype=object), table["source"].astype(str).to_numpy()
