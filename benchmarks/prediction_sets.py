"""Prediction sets on source-grouped folds: per-class coverage, set size, quartz in sets.

The shipped configuration's held-out probabilities on its own calibration folds (5 fits of the
network, cached in ``--cache``) are split by fold: the calibration is fitted on four folds' rows
and the sets are measured on the fifth (cross-conformal), so every figure is out of sample and
nothing here looks at LEPR.

    python benchmarks/prediction_sets.py --shared ../shared/data --cache /tmp/heldout.npz

Computing the held-out probabilities takes the five fits of the shipped calibration (about 2
minutes on an idle 2-core machine); later runs read the cache.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np


def held_out(shared: Path, cache: Path, extra=None) -> dict[str, np.ndarray]:
    """The cached held-out probabilities, computed first if ``cache`` does not exist, with the
    shipped synthetic rows, or the ``extra`` ``(X, y)`` rows given instead, in every training fold;
    a cache of another network width than the shipped one is refused."""
    from minml.training.shipped import DEFAULT_PARAMS

    if not cache.exists():
        from sklearn.model_selection import GroupKFold

        from minml.classifier.model import MineralClassifier
        from minml.training.datasets import load_training
        from minml.training.evaluation import held_out_proba, training_arrays
        from minml.training.shipped import CALIBRATION_FOLDS, _synthetic

        start = time.perf_counter()
        table, _ = load_training(shared)
        X, y, groups = training_arrays(table)
        model = MineralClassifier(**DEFAULT_PARAMS)
        classes, proba = held_out_proba(
            model,
            X,
            y,
            groups=groups,
            folds=CALIBRATION_FOLDS,
            extra=_synthetic() if extra is None else extra,
            progress=True,
        )
        fold = np.zeros(len(y), int)
        for k, (_, test) in enumerate(GroupKFold(CALIBRATION_FOLDS).split(X, y, groups)):
            fold[test] = k
        np.savez(
            cache,
            proba=proba,
            y=np.asarray(y, dtype=str),
            classes=np.asarray(classes, dtype=str),
            fold=fold,
            X=X,
            hidden=np.asarray(DEFAULT_PARAMS["hidden"]),
        )
        print(f"held-out probabilities: {time.perf_counter() - start:.0f} s")
    with np.load(cache, allow_pickle=False) as data:
        found = {name: data[name] for name in data.files}
    if "hidden" not in found or tuple(found["hidden"]) != tuple(DEFAULT_PARAMS["hidden"]):
        width = tuple(found["hidden"]) if "hidden" in found else "not recorded"
        raise SystemExit(
            f"{cache} holds held-out probabilities of hidden layers {width}, the shipped network has "
            f"{tuple(DEFAULT_PARAMS['hidden'])}: delete it (it is rebuilt in a few minutes) or name another --cache."
        )
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shared", type=Path, required=True)
    parser.add_argument("--cache", type=Path, required=True)
    args = parser.parse_args()

    from minml.classifier.calibration import cross_conformal_sets, prediction_set_table

    data = held_out(args.shared, args.cache)
    proba, y, classes, fold = data["proba"], data["y"], list(data["classes"]), data["fold"]
    codes = np.searchsorted(classes, y)
    print("command: python benchmarks/prediction_sets.py --shared ... --cache ...")
    print(f"{'coverage':>8} {'mean size':>9} {'quartz in':>9} {'worst class coverage':>24}")
    for coverage in (0.9, 0.95, 0.98, 0.99):
        inside = cross_conformal_sets(proba, codes, fold, coverage)
        covered, size, quartz = inside[np.arange(len(y)), codes], inside.sum(1), inside[:, classes.index("quartz")]
        per_class = {c: covered[codes == k].mean() for k, c in enumerate(classes)}
        worst = min(per_class, key=per_class.get)
        print(
            f"{coverage:>8} {size.mean():>9.3f} {100 * quartz[y != 'quartz'].mean():>8.2f}% "
            f"{worst + ' ' + format(per_class[worst], '.4f'):>24}"
        )
        print("    per class: " + ", ".join(f"{c} {v:.3f}" for c, v in per_class.items()))
    print("\nper class (the model card's table):")
    print(prediction_set_table(proba, codes, fold, classes).round(3).to_string())


if __name__ == "__main__":
    main()
