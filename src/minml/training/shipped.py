"""Training the shipped model from the shared data, and writing its model card.

``minml train`` and ``minml evaluate`` call these.  The shipped model is this project's own
training output: ``minml/data/default-v1.npz`` with a sidecar ``default-v1.json`` (data hashes,
hyperparameters, training time); :func:`evaluate_model` gives what the model card reports
(:func:`minml.training.card.write_model_card` writes it).
"""

from __future__ import annotations

import json
import platform
import time
from pathlib import Path

import numpy as np
import pandas as pd

from minml._version import __version__
from minml.chemistry.misfit import fold_divalent
from minml.classifier.features import MODEL_OXIDES
from minml.classifier.model import MineralClassifier
from minml.classifier.predict import classify, classify_checked
from minml.io import read_table
from minml.training.augment import synthetic_arrays
from minml.training.datasets import LEPR_ALL_FILE, LEPR_FILE, load_glass, load_training
from minml.training.evaluation import (
    expected_calibration_error,
    grouped_cv,
    lepr_class,
    lepr_correct,
    lepr_unsettled,
    nested_cv,
    per_class_scores,
    training_arrays,
)

__all__ = ["DEFAULT_PARAMS", "NESTED_GRID", "evaluate_model", "train_default"]

DEFAULT_PARAMS = {"kind": "bnn", "hidden": (64, 64), "epochs": 20, "random_state": 0}
"""Hyperparameters of the shipped network.  The width was chosen on source-grouped folds, three
seeds each (``benchmarks/width_folds.py``, 2026-12-07): at (32, 32) two trainings in three left a
small class half learnt, as a change of one training row or of the seed decided (a fold's
network answered 187 held-out zircons, and 11 of its own synthetic ones, glass at p ~0.5;
another lost 28 of the 38 quartzes; the third 8 zircons); at (64, 64) none did, and accuracy and
macro-F1 were higher for every seed (0.9974-0.9985 and 0.9941-0.9975, against 0.9958-0.9984 and
0.9622-0.9964).  The wider network costs ~0.3 s more CPU per million rows."""

NESTED_GRID = {"hidden": [(32, 32), (64, 64)]}
"""What the inner folds of the nested cross-validation choose from."""

CALIBRATION_FOLDS = 5
"""Source-grouped folds whose held-out probabilities fit the shipped calibration."""

AUGMENT = True
"""Train on natural + synthetic solid-solution analyses (:mod:`minml.training.augment`); chosen on
source-grouped CV, where synthetic rows join every training fold and are never scored."""


def _synthetic() -> tuple[np.ndarray, np.ndarray] | None:
    """The synthetic rows as (X, y), or None without augmentation."""
    if not AUGMENT:
        return None
    return synthetic_arrays(random_state=DEFAULT_PARAMS["random_state"])


def train_default(shared, out_path, *, progress: bool = False) -> dict:
    """Train the shipped model on all training data and save it with its metadata.

    Parameters
    ----------
    shared : path-like
        The shared data folder (``training/``, ``test/``).
    out_path : path-like
        The ``.npz`` to write; a ``.json`` sidecar goes beside it.

    Returns
    -------
    dict
        The sidecar's content.
    """
    table, report = load_training(shared, progress=progress)
    X_natural, y_natural, groups = training_arrays(table)
    X, y = X_natural, y_natural
    stoichiometry = fold_divalent(X_natural, MODEL_OXIDES, table)  # NiO, CoO, ZnO as FeO for the misfit
    synthetic = _synthetic()
    if synthetic is not None:
        X, y = np.vstack([X, synthetic[0]]), np.concatenate([y, synthetic[1]])
        stoichiometry = np.vstack([stoichiometry, synthetic[0]])
    start = time.perf_counter()
    model = MineralClassifier(**DEFAULT_PARAMS, progress=progress).fit(X, y, misfit_values=stoichiometry)
    seconds = time.perf_counter() - start
    model.calibrate(X_natural, y_natural, groups=groups, folds=CALIBRATION_FOLDS, extra=synthetic, progress=progress)
    calibration_seconds = time.perf_counter() - start - seconds
    out_path = Path(out_path)
    model.save(out_path)
    meta = {
        "model": out_path.name,
        "minml_version": __version__,
        "params": {k: list(v) if isinstance(v, tuple) else v for k, v in DEFAULT_PARAMS.items()},
        "training_rows": len(y),
        "synthetic_rows": 0 if synthetic is None else len(synthetic[1]),
        "rows_per_class": {str(k): int(v) for k, v in pd.Series(y).value_counts().sort_index().items()},
        "training_set_sha256": report["content_sha256"],
        "glass_sha256": report["glass"]["content_sha256"],
        "input_files_sha256": {k: v["input_sha256"] for k, v in report["classes"].items()},
        "train_seconds": round(seconds, 1),
        "calibration_seconds": round(calibration_seconds, 1),
        "calibration": {
            "folds": f"{CALIBRATION_FOLDS} source-grouped",
            "weights": "each source the same",
            "temperature": model.calibration_.temperature,
            **{f"held_out_{k}": v for k, v in model.calibration_.summary.items()},
        },
        "misfit_threshold": {
            str(c): (None if not np.isfinite(t) else round(float(t), 3))
            for c, t in zip(model.classes_, model.misfit_threshold_, strict=True)
        },
        "ood_threshold": model.ood_threshold_,
        "machine": f"{platform.machine()}, {platform.python_implementation()} {platform.python_version()}",
    }
    out_path.with_suffix(".json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    return meta


def lepr_results(model, shared) -> dict:
    """The LEPR protocol on one model (rows with oxide sum 88-105 wt%, and the others).

    "unknown" counts as wrong; in the calibration error an unknown row has confidence 0
    (it names no class), so abstaining is never rewarded as a right answer.
    """
    from sklearn.metrics import f1_score

    lepr = read_table(Path(shared) / LEPR_FILE)
    result, _, checked = classify_checked(lepr, model)  # the oxide sums of the check classify made
    sensible = checked.flags["total"].between(88, 105).to_numpy()
    right = lepr_correct(lepr["Mineral"], result["mineral"])
    conf = np.nan_to_num(result["probability"].to_numpy())
    truth = lepr_class(lepr["Mineral"], result["mineral"])
    named = (result["mineral"] != "unknown").to_numpy()
    labels = sorted(set(truth[sensible]))
    inside = sensible & named
    return {
        "rows": len(lepr),
        "rows_88_105": int(sensible.sum()),
        "accuracy": float(right[sensible].mean()),
        "macro_f1": float(
            f1_score(truth[sensible], result["mineral"].to_numpy()[sensible], labels=labels, average="macro")
        ),
        "unknown": float((~named[sensible]).mean()),
        "accuracy_named": float(right[inside].mean()),
        "ece": expected_calibration_error(conf[sensible], right[sensible]),
        "ece_named": expected_calibration_error(conf[inside], right[inside]),
        "wrong_at_0.9": float((~right[sensible] & (conf[sensible] >= 0.9)).mean()),
        "flagged_outside": float((result["flag"].to_numpy()[~sensible] != "").mean()),
        "unknown_outside": float((~named[~sensible]).mean()),
        "per_class": per_class_scores(truth[sensible], result["mineral"].to_numpy()[sensible], labels),
        "confusions": pd.crosstab(lepr["Mineral"][sensible & ~right], result["mineral"][sensible & ~right]),
        **_settled_results(lepr, result, sensible, right, conf, truth),
    }


def _settled_results(lepr, result, sensible, right, conf, truth) -> dict:
    """The LEPR rows composition cannot settle (:data:`minml.training.evaluation.LEPR_UNSETTLED`), and
    the protocol's figures on the others (rows 88-105 wt%)."""
    from sklearn.metrics import f1_score

    reason = lepr_unsettled(lepr)
    settled = sensible & (reason == "")
    answer = result["mineral"].astype(str).to_numpy()
    labels = sorted(set(truth[settled]))
    rows = pd.DataFrame(
        {
            "entity_id": lepr["entity_id"].to_numpy() if "entity_id" in lepr else lepr.index.to_numpy(),
            "label": lepr["Mineral"].to_numpy(),
            "answer": answer,
            "probability": result["probability"].round(3).to_numpy(),
            "right": right,
            "reason": reason,
        }
    )[sensible & (reason != "")]
    return {
        "settled_rows": int(settled.sum()),
        "settled_accuracy": float(right[settled].mean()),
        "settled_macro_f1": float(f1_score(truth[settled], answer[settled], labels=labels, average="macro")),
        "settled_wrong_at_0.9": float((~right[settled] & (conf[settled] >= 0.9)).mean()),
        "settled_ece": expected_calibration_error(conf[settled], right[settled]),
        "unsettled": rows,
    }


def unknown_results(model, shared) -> dict:
    """The unknown answer on phases that are none of the classes (``lepr_allphases.csv``)."""
    from minml.training.evaluation import LEPR_ACCEPT, LEPR_SAME_COMPOSITION

    table = read_table(Path(shared) / LEPR_ALL_FILE)
    label = table["Mineral"].astype(str)
    other = ~label.isin(list(LEPR_ACCEPT)).to_numpy()
    result = classify(table[other], model)
    same = label[other].isin(list(LEPR_SAME_COMPOSITION)).to_numpy()
    unknown = (result["mineral"] == "unknown").to_numpy()
    per_label = pd.DataFrame(
        {"label": label[other].to_numpy(), "unknown": unknown, "named": result["mineral"].astype(str).to_numpy()}
    )
    summary = per_label.groupby("label").agg(
        rows=("unknown", "size"), unknown=("unknown", "mean"), most_named=("named", lambda s: s.value_counts().index[0])
    )
    return {
        "rows": int((~same).sum()),
        "unknown": float(unknown[~same].mean()),
        "same_composition_rows": int(same.sum()),
        "same_composition_unknown": float(unknown[same].mean()),
        "per_label": summary.sort_values("rows", ascending=False),
    }


def grouped_prediction_sets(grouped: dict, y: np.ndarray, groups: np.ndarray, folds: int):
    """Per-class set size and empirical coverage at 0.90, 0.95 and 0.99 of cross-conformal
    prediction sets on the source-grouped held-out probabilities of :func:`grouped_cv`
    (:func:`minml.classifier.calibration.prediction_set_table`; the folds are its folds)."""
    from sklearn.model_selection import GroupKFold

    from minml.classifier.calibration import prediction_set_table

    fold = np.zeros(len(y), dtype=int)
    for k, (_, test) in enumerate(GroupKFold(folds).split(y, y, groups)):
        fold[test] = k
    classes = grouped["classes"]
    return prediction_set_table(grouped["proba"], np.searchsorted(classes, y), fold, classes)


def evaluate_model(shared, model_path, *, latent_path=None, quick: bool = False, progress: bool = False) -> dict:
    """Everything the model card reports.

    Parameters
    ----------
    shared : path-like
    model_path : path-like
        The shipped ``.npz`` (its ``.json`` sidecar is read too).
    latent_path : path-like, optional
        The latent model (default: the shipped ``latent-v1.npz``), scored by
        :func:`minml.training.latent_fit.latent_results`.
    quick : bool, default=False
        3 outer folds, no inner choice, fewer epochs: a smoke run, not the card's figures.
    """
    table, report = load_training(shared, progress=progress)
    X, y, groups = training_arrays(table)
    params = dict(DEFAULT_PARAMS)
    grid = dict(NESTED_GRID)
    outer, inner = 5, 2
    if quick:
        params["epochs"], grid, outer = 3, {}, 3
    bnn = MineralClassifier(**params)
    gda = MineralClassifier(kind="gda")
    model = MineralClassifier.load(model_path)
    extra = _synthetic()
    gda_all = (X, y) if extra is None else (np.vstack([X, extra[0]]), np.concatenate([y, extra[1]]))
    results = {
        "report": report,
        "meta": json.loads(Path(model_path).with_suffix(".json").read_text()),
        "nested": nested_cv(bnn, X, y, grid, outer=outer, inner=inner, extra=extra, progress=progress),
        "nested_gda": nested_cv(gda, X, y, {}, outer=outer, extra=extra, progress=progress),
        "grouped": grouped_cv(bnn, X, y, groups, folds=outer, extra=extra, progress=progress),
        "grouped_gda": grouped_cv(gda, X, y, groups, folds=outer, extra=extra, progress=progress),
        "lepr": lepr_results(model, shared),
        "lepr_gda": lepr_results(gda.fit(*gda_all), shared),
        "quick": quick,
    }
    results["prediction_sets"] = grouped_prediction_sets(results["grouped"], y, groups, outer)
    results["unknown"] = unknown_results(model, shared)
    glass = load_glass(shared, "test")
    glass_pred = classify(glass, model)["mineral"]
    results["glass_test"] = {
        "rows": len(glass),
        "glass": float((glass_pred == "glass").mean()),
        "glass_or_unknown": float(glass_pred.isin(["glass", "unknown"]).mean()),
    }
    from minml.chemistry.oxides import species_table

    minerals = table["mineral"] != "glass"
    species = [c for c in table.columns if c in species_table() and c not in ("FeO", "Fe2O3")]  # FeOt: total iron
    named = classify(table.loc[minerals, species], model)["mineral"]
    results["training_rejected"] = float((named == "unknown").mean())
    from minml.training.latent_fit import latent_results

    results["latent"] = latent_results(shared, X, y, latent_path, quick=quick, progress=progress)
    return results
