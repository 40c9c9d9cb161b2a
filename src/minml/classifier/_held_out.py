"""Held-out probabilities: what :meth:`MineralClassifier.calibrate` fits the calibration on.

Every row gets the probabilities of a clone of the estimator fitted without it (folds by
source when groups are given, stratified folds otherwise).  Here, not in :mod:`minml.training`,
because calibrating a model is part of the estimator: nothing the classifier needs imports the
maintainer tools (cross-validation reports in :mod:`minml.training.evaluation` reuse it).
"""

from __future__ import annotations

import numpy as np
from sklearn.base import clone
from sklearn.model_selection import GroupKFold, StratifiedKFold

__all__ = ["fit_clone", "held_out_proba"]


def fit_clone(estimator, X: np.ndarray, y: np.ndarray, train: np.ndarray, extra=None):
    """A clone of ``estimator`` fitted on rows ``train`` of ``X, y`` (plus the ``extra``
    ``(X, y)`` rows, e.g. synthetic analyses); the caller's estimator is left as it was."""
    X_train, y_train = X[train], y[train]
    if extra is not None:
        X_train, y_train = np.vstack([X_train, extra[0]]), np.concatenate([y_train, extra[1]])
    return clone(estimator).fit(X_train, y_train)


def held_out_proba(
    estimator,
    X: np.ndarray,
    y: np.ndarray,
    *,
    groups=None,
    folds: int = 5,
    extra=None,
    random_state: int = 0,
    progress: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Probabilities of every row from a clone fitted without it (cross-validation).

    Parameters
    ----------
    estimator : MineralClassifier
    X, y : numpy.ndarray
    groups : numpy.ndarray, optional
        Folds by group (source) when given; stratified folds otherwise.
    folds : int, default=5
    extra : tuple of numpy.ndarray, optional
        ``(X, y)`` rows added to every training fold, never held out.
    random_state : int, default=0
    progress : bool, default=False

    Returns
    -------
    classes : numpy.ndarray
        The classes of ``y`` and ``extra``.
    proba : numpy.ndarray
        Rows x classes; 0 for a class a training fold lacked.
    """
    from minml._progress import bar

    classes = np.unique(y if extra is None else np.concatenate([y, extra[1]]))
    proba = np.zeros((len(y), len(classes)))
    if groups is None:
        splits = StratifiedKFold(folds, shuffle=True, random_state=random_state).split(X, y)
    else:
        splits = GroupKFold(folds).split(X, y, groups)
    for train, test in bar(splits, total=folds, desc="held-out folds", unit="fit", enabled=progress):
        model = fit_clone(estimator, X, y, train, extra)
        proba[np.ix_(test, np.searchsorted(classes, model.classes_))] = model.predict_proba(X[test])
    return classes, proba
