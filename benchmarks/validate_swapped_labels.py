"""Does `minml.validate` find deliberately swapped labels in publications it has never seen?

    python benchmarks/validate_swapped_labels.py [--shared ../shared/data] [--swap 0.02]

1. The training compilations are split by source (publication) into 5 groups; one group is
   held out (~20 % of the analyses, publications the model never sees).
2. A network with the shipped hyperparameters is trained on the other sources (+ the
   synthetic rows) and calibrated on source-grouped folds of them, as `minml train` does.
3. In the held-out rows, a share of labels (default 2 %) is swapped between similar
   classes: cpx <-> amphibole, opx -> cpx, spinel <-> magnetite, plagioclase <-> k-feldspar.
4. `validate` runs on the held-out table; the script prints the share of swapped rows it
   calls "disagree" (target >= 0.95) and the share of untouched rows it calls "disagree"
   (target <= 0.01), and the time of `validate` on 100k LEPR rows (target < 5 s).

Takes ~4 min on 2 cores (7 network fits).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

SWAPS = {
    "clinopyroxene": "amphibole",
    "amphibole": "clinopyroxene",
    "orthopyroxene": "clinopyroxene",
    "spinel": "magnetite",
    "magnetite": "spinel",
    "plagioclase": "k-feldspar",
    "k-feldspar": "plagioclase",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--swap", type=float, default=0.02)
    args = parser.parse_args()

    from sklearn.model_selection import GroupKFold

    from minml.classifier.features import MODEL_OXIDES
    from minml.classifier.model import MineralClassifier
    from minml.training.datasets import load_training
    from minml.training.evaluation import training_arrays
    from minml.training.shipped import DEFAULT_PARAMS, _synthetic
    from minml.validation.verdicts import validate

    table, _ = load_training(args.shared)
    X, y, groups = training_arrays(table)
    train, test = next(GroupKFold(5).split(X, y, groups))
    synthetic = _synthetic()
    start = time.perf_counter()
    model = MineralClassifier(**DEFAULT_PARAMS).fit(
        np.vstack([X[train], synthetic[0]]), np.concatenate([y[train], synthetic[1]])
    )
    model.calibrate(X[train], y[train], groups=groups[train], extra=synthetic)
    print(
        f"trained and calibrated on {len(train)} rows of {len(set(groups[train]))} sources "
        f"in {time.perf_counter() - start:.0f} s"
    )

    held = table.iloc[test]
    held = held[held["mineral"] != "glass"]
    labels = held["mineral"].to_numpy(dtype=object).copy()
    rng = np.random.default_rng(0)
    candidates = np.flatnonzero(np.isin(labels, list(SWAPS)))
    swapped = rng.choice(candidates, size=round(args.swap * len(labels)), replace=False)
    labels[swapped] = [SWAPS[label] for label in labels[swapped]]
    frame = held[list(MODEL_OXIDES)].assign(Mineral=labels)
    result = validate(frame, model=model)
    is_swapped = np.zeros(len(frame), dtype=bool)
    is_swapped[swapped] = True
    disagree = (result["verdict"] == "disagree").to_numpy()
    print(f"held-out rows: {len(frame)} from {len(set(groups[test]))} sources; swapped {is_swapped.sum()}")
    print(f"swapped rows called disagree: {disagree[is_swapped].mean():.4f} (target >= 0.95)")
    print(f"untouched rows called disagree: {disagree[~is_swapped].mean():.4f} (target <= 0.01)")
    print("verdicts of the swapped rows:", result.loc[is_swapped, "verdict"].value_counts().to_dict())
    missed = result[is_swapped & ~disagree]
    print(
        "missed swaps (label -> mineral):",
        pd.crosstab(missed["label"], missed["mineral"]).stack().loc[lambda s: s > 0].to_dict(),
    )
    untouched = result[~is_swapped & disagree]
    print(
        "untouched rows disputed (label -> mineral):",
        pd.crosstab(untouched["label"], untouched["mineral"]).stack().loc[lambda s: s > 0].to_dict(),
    )

    lepr = pd.read_csv(args.shared / "test" / "lepr_allphases.csv")
    big = pd.concat([lepr] * (-(-100_000 // len(lepr))), ignore_index=True).iloc[:100_000]
    validate(big.head(1000))  # load the model once
    start = time.perf_counter()
    validate(big)
    print(f"validate on {len(big)} LEPR rows: {time.perf_counter() - start:.2f} s (target < 5 s)")


if __name__ == "__main__":
    main()
