"""LEPR accuracy with each minor oxide column removed in turn (issue 20, item 1).

LEPR is only measured here, never used to choose anything.  Each run drops one column of
``lepr_allphases_lim.csv`` and classifies the rest with no options: the absent oxide is read
as not analysed (as an empty cell is).  Rows with an oxide sum 88-105 wt% of the full table
are scored under the LEPR protocol (:func:`minml.training.evaluation.lepr_correct`).

Run: ``PYTHONPATH=src python benchmarks/absent_columns.py [SHARED]``
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np

from minml.classifier.features import MODEL_OXIDES
from minml.classifier.predict import classify_checked, classify_table
from minml.io import read_table
from minml.tables.reasons import Reason
from minml.training.evaluation import lepr_correct

MINOR = ("TiO2", "MnO", "Na2O", "K2O", "Cr2O3", "P2O5", "NiO")


def main(shared: Path) -> None:
    lepr = read_table(shared / "data" / "test" / "lepr_allphases_lim.csv")
    full, _, checked = classify_checked(lepr)
    sensible = checked.flags["total"].between(88, 105).to_numpy()
    base = lepr_correct(lepr["Mineral"], full["mineral"])[sensible].mean()
    print(f"command: PYTHONPATH=src python benchmarks/absent_columns.py {shared}")
    print(f"LEPR rows {len(lepr)}, scored (sum 88-105 wt%) {int(sensible.sum())}; model oxides {MODEL_OXIDES}")
    print(f"{'removed':<10} {'accuracy':>9} {'change':>8} {'answers changed':>16} {'unflagged':>10} {'change':>8}")
    print(f"{'(none)':<10} {base:>9.4f} {0:>8.4f} {0:>16}")
    right_full = lepr_correct(lepr["Mineral"], full["mineral"])
    worst = 0.0
    for column in MINOR:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the absent column is named in a warning
            found = classify_table(lepr.drop(columns=[column]))
        result = found.frame()
        right = lepr_correct(lepr["Mineral"], result["mineral"])
        acc = right[sensible].mean()
        changed = int((result["mineral"].to_numpy() != full["mineral"].to_numpy())[sensible].sum())
        # rows not flagged as a class that needs the removed oxide (apatite without P2O5) or as an
        # answer that depends on it
        kept = sensible & (found.reasons & np.uint16(Reason.ESSENTIAL_ABSENT | Reason.ABSENT_DECIDES) == 0)
        unflagged = right[kept].mean()
        worst = max(worst, base - acc)
        print(
            f"{column:<10} {acc:>9.4f} {acc - base:>+8.4f} {changed:>16} {unflagged:>10.4f} "
            f"{unflagged - right_full[kept].mean():>+8.4f}"
        )
    print(f"largest loss: {100 * worst:.2f} points (target: within 0.5)")
    print("unflagged: the rows not flagged as a class that needs the removed oxide or as an answer that")
    print("depends on it (its change: against the full table's answers on the same rows)")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[1] / ".." / "shared")
