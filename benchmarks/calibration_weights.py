"""How the calibration's temperature weighs the held-out rows, chosen on source-grouped folds (no LEPR).

    PYTHONPATH=src python benchmarks/calibration_weights.py [--shared ../shared/data]
                                                            [--cache /tmp/held_out.npz]

The shipped model's held-out probabilities (``minml train``'s own: the network of
``DEFAULT_PARAMS`` fitted on four of the five source-grouped folds with the synthetic rows,
scored on the fifth; cached in ``--cache``, ~10 min to compute on 2 cores) are calibrated with a
temperature fitted on four folds' held-out rows and scored on the fifth's, for three rules:
no calibration (T = 1), each row weighing the same, each source (publication) weighing the same
(:func:`minml.classifier.calibration.source_weights`).  Printed per rule, over the five scored
folds: the temperature, negative log-likelihood per row and per source (each source's mean),
top-label ECE per row and per source, and wrong answers at p >= 0.9.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from sklearn.model_selection import GroupKFold

from minml.classifier._held_out import held_out_proba
from minml.classifier.calibration import apply_temperature, expected_calibration_error, fit_temperature, source_weights
from minml.classifier.model import MineralClassifier
from minml.training.datasets import load_training
from minml.training.evaluation import training_arrays
from minml.training.shipped import CALIBRATION_FOLDS, DEFAULT_PARAMS, _synthetic

ROOT = Path(__file__).resolve().parent.parent


def held_out(shared: Path, cache: Path) -> dict[str, np.ndarray]:
    """Held-out probabilities, true class columns, sources and fold of every natural row."""
    if cache.exists():
        with np.load(cache) as data:
            return {k: data[k] for k in data.files}
    table, _ = load_training(shared)
    X, y, groups = training_arrays(table)
    model = MineralClassifier(**DEFAULT_PARAMS)
    classes, proba = held_out_proba(model, X, y, groups=groups, folds=CALIBRATION_FOLDS, extra=_synthetic())
    fold = np.zeros(len(y), dtype=np.int64)
    for i, (_, test) in enumerate(GroupKFold(CALIBRATION_FOLDS).split(X, y, groups)):
        fold[test] = i
    out = {
        "proba": proba,
        "codes": np.searchsorted(classes, y),
        "groups": np.asarray(groups, dtype=str),
        "fold": fold,
    }
    np.savez(cache, **out)
    return out


def _weighted_ece(confidence, right, weights) -> float:
    """Top-label ECE (15 bins) with weighted rows."""
    which = np.clip(np.digitize(confidence, np.linspace(0, 1, 16)[1:-1], right=True), 0, 14)
    error = 0.0
    for b in np.unique(which):
        w = weights[which == b]
        gap = np.average(right[which == b], weights=w) - np.average(confidence[which == b], weights=w)
        error += w.sum() / weights.sum() * abs(gap)
    return float(error)


def scores(proba, codes, groups) -> dict[str, float]:
    """The measures of one scored fold."""
    right = proba.argmax(axis=1) == codes
    confidence = proba.max(axis=1)
    loss = -np.log(np.maximum(proba[np.arange(len(codes)), codes], 1e-12))
    weights = source_weights(groups)
    return {
        "nll_row": float(loss.mean()),
        "nll_source": float(np.average(loss, weights=weights)),
        "ece_row": expected_calibration_error(confidence, right),
        "ece_source": _weighted_ece(confidence, right, weights),
        "wrong_p09": float((~right & (confidence >= 0.9)).mean()),
    }


RULES = {
    "none (T = 1)": lambda proba, codes, groups: 1.0,
    "rows equal": lambda proba, codes, groups: fit_temperature(proba, codes),
    "sources equal": lambda proba, codes, groups: fit_temperature(proba, codes, source_weights(groups)),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--cache", type=Path, default=Path("/tmp/minml_held_out.npz"))
    args = parser.parse_args()
    data = held_out(args.shared, args.cache)
    proba, codes, groups, fold = data["proba"], data["codes"], data["groups"], data["fold"]
    print(f"{len(codes):,} held-out rows, {len(np.unique(groups)):,} sources, {fold.max() + 1} folds")
    print(f"{'rule':>14} {'T':>11} {'NLL/row':>8} {'NLL/src':>8} {'ECE/row':>8} {'ECE/src':>8} {'p>=0.9 wrong':>12}")
    for name, rule in RULES.items():
        rows, temperatures = [], []
        for f in np.unique(fold):
            fit, test = fold != f, fold == f
            temperature = rule(proba[fit], codes[fit], groups[fit])
            temperatures.append(temperature)
            rows.append(scores(apply_temperature(proba[test], temperature), codes[test], groups[test]))
        mean = {k: np.mean([r[k] for r in rows]) for k in rows[0]}
        span = f"{min(temperatures):.2f}-{max(temperatures):.2f}"
        print(
            f"{name:>14} {span:>11} {mean['nll_row']:8.4f} {mean['nll_source']:8.4f} {mean['ece_row']:8.4f} "
            f"{mean['ece_source']:8.4f} {100 * mean['wrong_p09']:11.3f}%"
        )
    print("means over the scored folds; command: PYTHONPATH=src python benchmarks/calibration_weights.py")


if __name__ == "__main__":
    main()
