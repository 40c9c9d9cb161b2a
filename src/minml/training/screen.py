"""The training-label screen: rows whose own evidence contradicts their label.

A compilation filed under one mineral holds a few analyses of another (olivine, garnet or
plagioclase filed as amphibole; white micas filed as k-feldspar; an amphibole filed as
plagioclase).  The data build (:func:`minml.training.data.collect_training_set`) drops a row
when two independent lines of evidence both say its label is wrong:

* **chemistry** -- its stoichiometric misfit under the label's class
  (:func:`minml.chemistry.misfit.end_member_misfit`: wt% from the nearest mixture of the
  class's end-members) lies far above the class's spread: above
  ``median + SCREEN_FENCE x (90th percentile - median)`` of the class's rows;
* **the other analyses** -- a classifier fitted without the row's source (the Gaussian
  baseline, ``MineralClassifier(kind="gda")``, on source-grouped folds) gives the label a
  probability below :data:`SCREEN_PROBABILITY`.

Either alone is no proof: an unusual but real member of a class can sit outside its
end-members' simplex (misfit from minor elements), and a source unlike every other one can
get a low held-out probability.  Both together, on the team's 85.5k rows, pick 48 rows:
garnets, augites and an olivine in the amphibole compilation, white micas in the k-feldspar
one, amphiboles in the plagioclase one, a chromium oxide in the magnetite one, ...

The thresholds were chosen on the training data (never on LEPR), with the five igneous
amphibole end-members of the time: the count was flat in the probability cut (44-45 rows for
0.001-0.2 at a fence of 4) and fell slowly with the fence (53, 45, 34, 31 rows at 3, 4, 6, 8);
a fence of 4 is the one the classifier's own misfit threshold uses on the bulk of a class
(``minml.classifier.model.MISFIT_FENCE``).  With the amphibole supergroup's 13 end-members
the amphibole fence fell from 14.1 to 6.7 wt%: three augites filed as amphibole joined the
list, and an orthopyroxene filed as amphibole left it (it lies near cummingtonite).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["SCREEN_FENCE", "SCREEN_FOLDS", "SCREEN_MIN_ROWS", "SCREEN_PROBABILITY", "screen_labels"]

SCREEN_FENCE = 4.0
"""A row's misfit must exceed its class's median + SCREEN_FENCE x (90th percentile - median)."""

SCREEN_PROBABILITY = 0.01
"""... and the held-out probability of its label must be below this."""

SCREEN_FOLDS = 5
"""Source-grouped folds of the held-out probabilities."""

SCREEN_MIN_ROWS = 20
"""Rows a class needs (in all, for its fence; in a training fold, for its probability) before
any of its rows is judged: fewer leave the class's spread unknown."""

COLUMNS = ("misfit", "fence", "label_probability", "answer", "answer_probability", "mislabelled", "reason")
"""The columns :func:`screen_labels` returns."""


def _held_out(X: np.ndarray, y: np.ndarray, groups: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Classes, held-out GDA probabilities (rows x classes) and whether each row's label was
    among the classes of the clone that scored it (fitted without the row's source, on the
    classes with at least :data:`SCREEN_MIN_ROWS` rows in the fold)."""
    from sklearn.model_selection import GroupKFold

    from minml.classifier._held_out import fit_clone
    from minml.classifier.model import MineralClassifier

    classes = np.unique(y)
    proba = np.zeros((len(y), len(classes)))
    judged = np.zeros(len(y), dtype=bool)
    folds = min(SCREEN_FOLDS, len(np.unique(groups)))
    if folds < 2:
        return classes, proba, judged
    for train, test in GroupKFold(folds).split(X, y, groups):
        names, counts = np.unique(y[train], return_counts=True)
        enough = names[counts >= SCREEN_MIN_ROWS]
        if len(enough) < 2:
            continue
        model = fit_clone(MineralClassifier(kind="gda"), X, y, train[np.isin(y[train], enough)])
        proba[np.ix_(test, np.searchsorted(classes, model.classes_))] = model.predict_proba(X[test])
        judged[test] = np.isin(y[test], model.classes_)
    return classes, proba, judged


def _misfit(table: pd.DataFrame, X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each row's misfit under its label's class, and the class's fence (inf for classes
    without end-members or with fewer than :data:`SCREEN_MIN_ROWS` rows)."""
    from minml.chemistry.minerals import mineral_table
    from minml.chemistry.misfit import end_member_compositions, end_member_misfit, fold_divalent
    from minml.classifier.features import MODEL_OXIDES

    values = fold_divalent(X.astype(np.float64), MODEL_OXIDES, table)
    misfit = np.full(len(y), np.nan)
    fence = np.full(len(y), np.inf)
    for name in np.unique(y):
        rows = y == name
        if str(name) not in mineral_table() or not mineral_table()[str(name)].end_members:
            continue
        misfit[rows] = end_member_misfit(values[rows], end_member_compositions(str(name), MODEL_OXIDES))[0]
        if np.isfinite(misfit[rows]).sum() >= SCREEN_MIN_ROWS:
            median, q90 = np.nanquantile(misfit[rows], [0.5, 0.9])
            fence[rows] = median + SCREEN_FENCE * (q90 - median)
    return misfit, fence


def screen_labels(table: pd.DataFrame) -> pd.DataFrame:
    """Judge every row's label by its chemistry and by the other sources' analyses.

    Parameters
    ----------
    table : pandas.DataFrame
        Rows with ``mineral`` (the label), ``source`` (the publication: the folds' groups;
        blank reads as ``source_file``) and the model oxides in wt%
        (:data:`minml.classifier.features.MODEL_OXIDES`; blank reads as 0), plus NiO, CoO
        and ZnO where analysed (folded into FeOt for the misfit). Not modified.

    Returns
    -------
    pandas.DataFrame
        On ``table``'s index: ``misfit`` (wt%, under the label's class), ``fence`` (the
        class's limit), ``label_probability`` (held out; NaN where the label could not be
        judged: too few rows of its class outside the row's source), ``answer`` and
        ``answer_probability`` (the held-out classifier's most probable class),
        ``mislabelled`` (both lines of evidence against the label) and ``reason`` (in words,
        for mislabelled rows; ``""`` otherwise).
    """
    from minml.classifier.features import MODEL_OXIDES

    X = table[list(MODEL_OXIDES)].fillna(0.0).to_numpy(dtype=np.float32)
    y = table["mineral"].astype(str).to_numpy(dtype=object)
    groups = table["source"].astype("string").fillna(table["source_file"].astype("string")).astype(str).to_numpy()
    classes, proba, judged = _held_out(X, y, groups)
    misfit, fence = _misfit(table, X, y)
    label_p = np.where(judged, proba[np.arange(len(y)), np.searchsorted(classes, y)], np.nan)
    top = proba.argmax(axis=1)
    answer_p = proba[np.arange(len(y)), top]
    mislabelled = judged & (label_p < SCREEN_PROBABILITY) & (misfit > fence)
    out = pd.DataFrame(
        {
            "misfit": misfit,
            "fence": fence,
            "label_probability": label_p,
            "answer": np.where(judged, classes[top], ""),
            "answer_probability": np.where(judged, answer_p, np.nan),
            "mislabelled": mislabelled,
            "reason": "",
        },
        index=table.index,
    )
    rows = np.flatnonzero(mislabelled)
    out.iloc[rows, out.columns.get_loc("reason")] = [
        f"labelled {y[i]}, but {misfit[i]:.1f} wt% from every mixture of {y[i]} end-members "
        f"(the class's fence: {fence[i]:.1f}) and, fitted without its source, the classifier gives "
        f"{y[i]} p {label_p[i]:.3f} and {classes[top[i]]} p {answer_p[i]:.2f}"
        for i in rows
    ]
    return out
