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
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.metrics import f1_score, precision_recall_fscore_support
from sklearn.model_selection import StratifiedKFold

from minml.classifier._held_out import fit_clone, held_out_proba
from minml.classifier.calibration import expected_calibration_error
from minml.classifier.features import MODEL_OXIDES

__all__ = [
    "LEPR_ACCEPT",
    "LEPR_SAME_COMPOSITION",
    "LEPR_UNSETTLED",
    "UnsettledRule",
    "expected_calibration_error",
    "grouped_cv",
    "held_out_proba",
    "lepr_correct",
    "lepr_groups",
    "lepr_unsettled",
    "nested_cv",
    "per_class_scores",
]


def _protocol() -> dict:
    """``lepr.toml`` beside this module, parsed."""
    from importlib import resources

    from minml._resources import tomllib

    return tomllib.loads(resources.files("minml.training").joinpath("lepr.toml").read_text(encoding="utf-8"))


_PROTOCOL = _protocol()

LEPR_ACCEPT: dict[str, set[str]] = {label: set(classes) for label, classes in _PROTOCOL["accept"].items()}
"""LEPR label -> the classes that count as right (``lepr.toml``, ``[accept]``)."""

LEPR_SAME_COMPOSITION: dict[str, str] = dict(_PROTOCOL["same_composition"])
"""LEPR labels of ``lepr_allphases.csv`` that are no class but share a class's composition
(high-pressure polymorphs, the Ca-Tschermak pyroxene, pyroxenoids) or name no phase at all
("Oxide"): composition cannot tell them from the class, so the "none of the classes" target
leaves them out and the card reports them apart (``lepr.toml``, ``[same_composition]``)."""


@dataclass(frozen=True)
class UnsettledRule:
    """LEPR rows whose label composition alone cannot confirm (a reported limit, not a filter).

    Attributes
    ----------
    label : str
        The LEPR label the rule reads.
    quantity : str
        An oxide column (wt%), or a column of :func:`minml.formula` on ``basis``.
    basis : str or None
        The class whose formula gives ``quantity`` (None: an oxide column).
    below, above : float or None
        The row is unsettled where ``quantity`` is below / above this.
    reason : str
        Why composition cannot settle it.
    remedy : str
        What would.
    """

    label: str
    quantity: str
    reason: str
    remedy: str
    basis: str | None = None
    below: float | None = None
    above: float | None = None


LEPR_UNSETTLED = tuple(UnsettledRule(**rule) for rule in _PROTOCOL["unsettled"])
"""Compositions two classes share, or labels the composition contradicts, in the LEPR test
set (``lepr.toml``, ``[[unsettled]]``): the model card reports them apart, with the rows, so
that a missed target can be traced to physics or to the model."""


def lepr_unsettled(lepr: pd.DataFrame, label_column: str = "Mineral") -> np.ndarray:
    """The :data:`LEPR_UNSETTLED` reason of each row ('' for rows composition can settle)."""
    from minml.chemistry.formulas import formula

    out = np.full(len(lepr), "", dtype=object)
    for rule in LEPR_UNSETTLED:
        rows = np.flatnonzero((lepr[label_column] == rule.label).to_numpy())
        if not len(rows):
            continue
        part = lepr.iloc[rows]
        value = formula(part, rule.basis)[rule.quantity] if rule.basis else part[rule.quantity].fillna(0.0)
        value = pd.to_numeric(value, errors="coerce").to_numpy(dtype=float)
        hit = np.zeros(len(rows), dtype=bool)
        if rule.below is not None:
            hit |= value < rule.below
        if rule.above is not None:
            hit |= value > rule.above
        out[rows[hit]] = rule.reason
    return out


def lepr_groups() -> dict[str, str]:
    """LEPR label -> mineral group, for the labels whose accepted classes all share one group
    (:func:`minml.chemistry.minerals.class_groups`); FeTiOxide, which may be spinel group or
    Fe-Ti oxide, has none."""
    from minml.chemistry.minerals import class_groups

    groups = class_groups()
    named = {label: {groups[c] for c in classes} for label, classes in LEPR_ACCEPT.items()}
    return {label: group.pop() for label, group in named.items() if len(group) == 1}


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


def per_class_scores(y_true, y_pred, classes) -> pd.DataFrame:
    """Precision, recall, F1 and support per class."""
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=classes, zero_division=0)
    return pd.DataFrame({"precision": p, "recall": r, "f1": f, "support": s}, index=list(classes))


def nested_cv(
    estimator,
    X: np.ndarray,
    y: np.ndarray,
    grid: dict,
    *,
    outer: int = 5,
    inner: int = 3,
    random_state: int = 0,
    extra=None,
    progress: bool = False,
) -> dict:
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
    from minml._progress import bar

    start = time.perf_counter()
    classes = np.unique(y)
    candidates = [dict(zip(grid, values, strict=True)) for values in itertools.product(*grid.values())] or [{}]
    folds = StratifiedKFold(outer, shuffle=True, random_state=random_state)
    tables, accuracy, macro, chosen = [], [], [], []
    steps = outer * (inner * len(candidates) if len(candidates) > 1 else 0) + outer
    fits = bar(total=steps, desc="nested CV", unit="fit", enabled=progress)
    for train, test in folds.split(X, y):
        best = candidates[0]
        if len(candidates) > 1:
            inner_folds = StratifiedKFold(inner, shuffle=True, random_state=random_state + 1)
            scores = []
            for params in candidates:
                f1s = []
                for itrain, itest in inner_folds.split(X[train], y[train]):
                    candidate = clone(estimator).set_params(**params)  # never change the caller's estimator
                    pred = fit_clone(candidate, X[train], y[train], itrain, extra).predict(X[train][itest])
                    f1s.append(f1_score(y[train][itest], pred, average="macro"))
                    fits.update()
                scores.append(np.mean(f1s))
            best = candidates[int(np.argmax(scores))]
        chosen.append(best)
        pred = fit_clone(clone(estimator).set_params(**best), X, y, train, extra).predict(X[test])
        fits.update()
        tables.append(per_class_scores(y[test], pred, classes))
        accuracy.append(float((pred == y[test]).mean()))
        macro.append(float(f1_score(y[test], pred, average="macro")))
    fits.close()
    stacked = pd.concat(tables, keys=range(len(tables)))
    per_class = stacked.groupby(level=1).agg(["mean", "std"]).reindex(classes)
    return {
        "per_class": per_class,
        "accuracy": (float(np.mean(accuracy)), float(np.std(accuracy, ddof=1))),
        "macro_f1": (float(np.mean(macro)), float(np.std(macro, ddof=1))),
        "chosen": chosen,
        "seconds": time.perf_counter() - start,
    }


def grouped_cv(
    estimator, X: np.ndarray, y: np.ndarray, groups: np.ndarray, *, folds: int = 5, extra=None, progress: bool = False
) -> dict:
    """Cross-validation with folds by source: no publication is on both sides.

    ``extra`` = ``(X, y)`` rows join every training fold and are never tested on.

    Returns
    -------
    dict
        ``accuracy``, ``macro_f1`` (pooled over the held-out predictions), ``per_class``,
        ``confusions`` (the most frequent mistakes), ``classes``, ``proba`` (the held-out
        probabilities, rows x ``classes``; 0 for a class a training fold lacked: data to
        calibrate on, see :mod:`minml.classifier.calibration`), ``seconds``.
    """
    start = time.perf_counter()
    classes, proba = held_out_proba(estimator, X, y, groups=groups, folds=folds, extra=extra, progress=progress)
    pred = classes[proba.argmax(axis=1)]
    wrong = pred != y
    confusions = (
        pd.DataFrame({"label": y[wrong], "predicted": pred[wrong], "source": groups[wrong]}).value_counts().head(10)
    )
    return {
        "accuracy": float((~wrong).mean()),
        "macro_f1": float(f1_score(y, pred, average="macro")),
        "per_class": per_class_scores(y, pred, np.unique(y)),
        "confusions": confusions,
        "classes": classes,
        "proba": proba,
        "seconds": time.perf_counter() - start,
    }


def training_arrays(table: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Inputs, labels and source groups of a training table (see :mod:`minml.training.datasets`)."""
    X = table[list(MODEL_OXIDES)].to_numpy(dtype=np.float32)
    return X, table["mineral"].to_numpy(dtype=object), table["source"].astype(str).to_numpy()
