"""The cation- and oxide-sum judge of ``minml.classify`` (:mod:`minml.classifier._cations`, issue
21): its tolerance and sum gap chosen on the training data and on synthetic analyses of the phases outside the
classes; LEPR measured only.

* **training rows** (``load_training``: the compilations and the training glasses), each judged
  as its *label*: how many real members of a judged class the rule would answer unknown (their
  cation sum misses their class's by more than the tolerance, or their oxide sum falls more than
  the sum gap below their class's, and a phase of ``phases.toml`` explains them).  The rule must leave real members alone.
* **phases outside the classes**: for each phase of ``phases.toml``, 40 random mixtures of its
  end-members (Dirichlet 0.5), their volatiles unanalysed (the oxide sum falls as the formula
  says), 2 % relative noise plus up to ~0.05 wt% on each oxide present; ``minml.classify`` with
  no options: the share answered a class, and at p >= 0.9, per setting (``inf``: that trigger
  off; both: the judge off, as before it).
* **LEPR** (measured only, never chosen on): rows whose answer changes, and how many of those
  the label called right.

Run: ``PYTHONPATH=src python benchmarks/cation_judge.py [SHARED_DATA]``
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from minml.chemistry.phases import _fitted, name_phases, phase_table
from minml.classifier import _cations
from minml.classifier.features import MODEL_OXIDES
from minml.classifier.predict import classify_checked
from minml.io import read_table
from minml.tables.checks import check_oxides
from minml.training.datasets import load_training
from minml.training.evaluation import lepr_correct

SETTINGS = (
    (0.01, 6.0),
    (0.02, 6.0),
    (0.03, 6.0),
    (0.05, 6.0),
    (0.02, 4.0),
    (0.02, 8.0),
    (0.02, np.inf),
    (np.inf, np.inf),
)
"""(tolerance, sum gap) pairs tried; (inf, inf) is the judge off, as before it."""
ROWS_PER_PHASE = 40


def phase_analyses(seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """Synthetic analyses of the phases outside the classes (see the module docstring)."""
    rng = np.random.default_rng(seed)
    oxides = tuple(MODEL_OXIDES)
    rows, names = [], []
    for name, phase in phase_table().items():
        members, compositions, share, mass = _fitted(phase.name, oxides)
        for _ in range(ROWS_PER_PHASE if members else 0):
            weight = rng.dirichlet(np.full(len(members), 0.5)) * mass  # grams of each end-member
            analysed = weight.sum() / (weight / share).sum()  # the mixture's share the oxides report
            x = (weight[:, None] * compositions).sum(axis=0) / weight.sum() * analysed
            present = x > 0
            x = x * (1 + rng.normal(0, 0.02, len(x))) + np.abs(rng.normal(0, 0.05, len(x))) * present
            rows.append(np.maximum(x, 0.0))
            names.append(name)
    return pd.DataFrame(rows, columns=list(oxides)), np.array(names)


def classified(table: pd.DataFrame, tolerance: float, sum_gap: float) -> pd.DataFrame:
    """``classify`` of ``table`` with the judge set to ``tolerance`` and ``sum_gap``."""
    shipped = _cations.TOLERANCE, _cations.SUM_GAP
    _cations.TOLERANCE, _cations.SUM_GAP = tolerance, sum_gap
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return classify_checked(table)[0]
    finally:
        _cations.TOLERANCE, _cations.SUM_GAP = shipped


def training_rejections(shared: Path) -> None:
    """Per tolerance, training rows of the judged classes the rule would answer unknown."""
    table, _ = load_training(shared)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        checked = check_oxides(table[list(MODEL_OXIDES)])
    values = checked.oxides[list(MODEL_OXIDES)].to_numpy(dtype=float)
    classes = np.array(sorted(set(table["mineral"])), dtype=object)
    top = np.searchsorted(classes, table["mineral"].to_numpy())
    named = np.isfinite(values).all(axis=1) & ~checked.no_analysis & ~checked.total_outside  # as classify judges
    print(f"training rows {len(table)}, {int(named.sum())} of them with a sum classify judges (judged as their label)")
    print(f"{'tolerance':>9} {'sum gap':>7} {'answered unknown':>17}  by class (the phase that explains them)")
    for tolerance, sum_gap in SETTINGS[:-1]:
        flag = np.full(len(table), "", dtype=object)
        reasons = np.zeros(len(table), dtype=np.uint16)
        rejected = _cations.judge_cation_sums(
            values, MODEL_OXIDES, checked, classes, top, named, (flag, reasons), tolerance=tolerance, sum_gap=sum_gap
        )
        rows = np.flatnonzero(rejected)
        phases = ["|".join(p) for p in name_phases(checked, rows)[0]]
        by_class = pd.Series([f"{classes[top[r]]} ({p})" for r, p in zip(rows, phases, strict=True)]).value_counts()
        print(f"{tolerance:>9g} {sum_gap:>7g} {len(rows):>17}  {by_class.to_dict()}")


def outside_phases() -> None:
    """Per tolerance, how the synthetic analyses of the phases outside the classes are answered."""
    analyses, names = phase_analyses()
    print(f"\nsynthetic analyses of {len(set(names))} phases outside the classes, {len(names)} rows")
    print(
        f"{'tolerance':>9} {'sum gap':>7} {'unknown':>8} {'a class':>8} {'p >= 0.9':>9}  "
        "phases still answered a class at p >= 0.9"
    )
    for tolerance, sum_gap in SETTINGS:
        found = classified(analyses, tolerance, sum_gap)
        named = (found["mineral"] != "unknown").to_numpy()
        sure = named & (found["probability"] >= 0.9).to_numpy()
        worst = pd.Series(names[sure]).value_counts().head(6).to_dict()
        print(
            f"{tolerance:>9g} {sum_gap:>7g} {1 - named.mean():>8.3f} {named.mean():>8.3f} {sure.mean():>9.3f}  {worst}"
        )


def lepr(shared: Path) -> None:
    """LEPR, measured only: rows whose answer the judge changes (at the shipped tolerance)."""
    table = read_table(shared / "test" / "lepr_allphases_lim.csv")
    off = classified(table, np.inf, np.inf)
    on = classified(table, _cations.TOLERANCE, _cations.SUM_GAP)
    changed = (off["mineral"] != on["mineral"]).to_numpy()
    right = lepr_correct(table["Mineral"], off["mineral"])
    labels = table["Mineral"][changed].value_counts().to_dict()
    print(
        f"\nLEPR (measured only), tolerance {_cations.TOLERANCE:g}, sum gap {_cations.SUM_GAP:g}: "
        f"{int(changed.sum())} of {len(table)} rows "
        f"answered otherwise (now unknown), {int(right[changed].sum())} of them right before; labels {labels}"
    )


def main(shared: Path) -> None:
    print(f"command: PYTHONPATH=src python benchmarks/cation_judge.py {shared}")
    training_rejections(shared)
    outside_phases()
    lepr(shared)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[2] / "shared" / "data")
