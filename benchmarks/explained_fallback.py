"""Would an unknown row be better answered by its most probable *explained* class? (issue 21)

A row unlike the training data (ood_score above the model's threshold) whose predicted class's
end-members do not explain it is answered *unknown* (``minml.classifier._judge``).  The rule
looks at the top class only: where the second class's end-members explain the row, one could
answer that class instead.  This script measures that alternative on the five source-grouped
folds of ``absent_folds.py`` (the fold networks it caches; LEPR is not read): of the held-out
training rows the rule rejects, how many the alternative would name rightly, wrongly, or leave
unknown, for floors on the explained class's probability.

Run: ``PYTHONPATH=src python benchmarks/explained_fallback.py SHARED_DATA --cache DIR``

Measured 2026-12-07 (fold networks of 2026-12-07 04:35): 232 held-out rows rejected; with any
floor from 0.01 to 0.2 the alternative names 2 of them rightly and 2-3 wrongly (floor 0: 2 and
8); the other 222-228 stay unknown (no class explains them).  It buys nothing on the folds and
would turn rejected rows into confident-looking names, so the rule stays with the top class.
Rerun on the training set built with tourmaline's supergroup end-members (ef22a39: one row fewer,
the same cached fold networks): 230 rejected, 2 named rightly and 4-6 wrongly (floor 0: 9).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from absent_folds import fold_models

from minml.classifier._judge import judge_outliers
from minml.training.datasets import load_training
from minml.training.evaluation import training_arrays

FLOORS = (0.0, 0.01, 0.05, 0.1, 0.2)


def explained_choice(runtime, values: np.ndarray, proba: np.ndarray, floor: float) -> np.ndarray:
    """Per row: the most probable class after the top one with probability >= ``floor`` whose
    end-members explain the row (-1: none), judged as ``classify`` judges its top class."""
    choice = np.full(len(values), -1)
    order = np.argsort(-proba, axis=1)[:, 1:]
    open_rows = np.ones(len(values), dtype=bool)
    for rank in range(order.shape[1]):
        code = order[:, rank]
        allowed = open_rows & (proba[np.arange(len(values)), code] >= floor)
        rows = np.flatnonzero(allowed)
        if not len(rows):
            break
        every = np.ones(len(rows), dtype=bool)
        explained = ~judge_outliers(runtime, values[rows], {"top": code[rows]}, every, None, far=every)
        choice[rows[explained]] = code[rows[explained]]
        open_rows[rows[explained]] = False
    return choice


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("shared", type=Path)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/minml-absent-folds"))
    args = parser.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    table, _ = load_training(args.shared)
    X, y, groups = training_arrays(table)
    print(f"command: PYTHONPATH=src python benchmarks/explained_fallback.py {args.shared} --cache {args.cache}")
    counts = {floor: np.zeros(3, dtype=int) for floor in FLOORS}  # right, wrong, still unknown
    rejected_rows = 0
    for runtime, test in fold_models(X, y, groups, args.cache):
        values = X[test].astype(float)
        truth = np.searchsorted(runtime.classes, y[test])
        Z = runtime.scaled(values.astype(np.float32))
        proba = runtime.calibrated_proba(Z)
        scores = {"top": proba.argmax(axis=1), "ood": -runtime.log_density(Z)}
        rejected = np.flatnonzero(judge_outliers(runtime, values, scores, np.ones(len(values), dtype=bool), None))
        rejected_rows += len(rejected)
        for floor in FLOORS:
            choice = explained_choice(runtime, values[rejected], proba[rejected], floor)
            named = choice >= 0
            right = int(np.sum(named & (choice == truth[rejected])))
            counts[floor] += (right, int(named.sum()) - right, int((~named).sum()))
    print(f"held-out training rows answered unknown as none of the classes: {rejected_rows}")
    print("floor   named right   named wrong   still unknown")
    for floor, (right, wrong, still) in counts.items():
        print(f"{floor:5.2f} {right:13d} {wrong:13d} {still:15d}")


if __name__ == "__main__":
    main()
