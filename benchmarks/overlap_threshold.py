"""The second-class probability from which `classify` notes an overlap, chosen on held-out data.

The shipped configuration's source-grouped held-out probabilities of the training analyses
(5 fits of the network, cached in ``--cache`` as ``prediction_sets.py`` makes it) give, for
each threshold t, the rows whose second class has probability >= t: how many, how often their
top class is wrong, how often their second class is the true one, and the share of all
top-class errors among them.  The rule: the smallest t (0.01 steps) at which the noted rows'
second class is the true one at least ``--worth`` of the time (default 0.1, one time in ten).
The held-out probabilities are the raw network's; ``classify`` compares its *calibrated* ones
with the threshold, so they are first scaled by the shipped model's temperature (``--temperature``
to set another, 1 for none).  (The temperature was fitted on all five folds' rows, the held-apart fold's included, so the
per-fold stability below is a little optimistic.)  The same rule chosen on four folds and measured on the fifth shows how stable it is, and the
noted rows at the chosen t are listed per pair of classes.  The choice never looks at LEPR;
``--lepr`` then measures the shipped classifier's notes there (rows noted, how often their
label disputes the answer).

    python benchmarks/overlap_threshold.py --shared ../shared/data --cache /tmp/heldout.npz [--lepr]
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

import numpy as np
from prediction_sets import held_out

GRID = np.round(np.arange(0.01, 0.5, 0.01), 2)


def ranked(proba: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Top class, second class and the second's probability of each row."""
    order = np.argsort(-proba, axis=1, kind="stable")
    top, second = order[:, 0], order[:, 1]
    return top, second, proba[np.arange(len(proba)), second]


def choose(p2: np.ndarray, second_true: np.ndarray, worth: float) -> float:
    """The smallest threshold of :data:`GRID` whose noted rows' second class is true at least
    ``worth`` of the time (the largest of the grid if none)."""
    for t in GRID:
        noted = p2 >= t
        if noted.any() and second_true[noted].mean() >= worth:
            return float(t)
    return float(GRID[-1])


def measure_on_lepr(shared: Path) -> None:
    """The notes of the shipped classifier on LEPR (measured, never chosen on): rows named a
    class with a label of a class, those noted, and how often ``validate`` disputes them."""
    import pandas as pd

    import minml
    from minml.classifier._overlap import OVERLAP_PROBABILITY

    lepr = pd.read_csv(shared / "test" / "lepr_allphases_lim.csv").drop(columns=["Unnamed: 0"])
    validated = minml.validate(lepr, "Mineral")
    result = minml.classify(lepr)
    named = validated["verdict"].isin(["agree", "disagree", "uncertain"]).to_numpy()
    disputed = (validated["verdict"] != "agree").to_numpy()
    noted = named & (result["second_probability"] >= OVERLAP_PROBABILITY).to_numpy()
    print(
        f"\nLEPR: {named.sum()} rows named a class, labelled a class; {noted.sum()} noted ({noted.sum() / named.sum():.1%}),"
        f" {disputed[noted].mean():.1%} of them disputed ({(disputed & noted).sum() / (disputed & named).sum():.1%} of all"
        f" disputed rows); rows not noted disputed {disputed[named & ~noted].mean():.1%}"
    )
    top, second = result["mineral"].astype(str).to_numpy(), result["second_mineral"].astype(str).to_numpy()
    pairs = Counter(tuple(sorted(p)) for p in zip(top[noted], second[noted], strict=True))
    for pair, count in pairs.most_common(8):
        print(f"  {' / '.join(pair):<30} {count:5d}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shared", type=Path, required=True)
    parser.add_argument("--cache", type=Path, required=True)
    parser.add_argument("--worth", type=float, default=0.1)
    parser.add_argument("--lepr", action="store_true", help="then measure the shipped notes on LEPR")
    parser.add_argument("--temperature", type=float, help="calibration temperature (default: the shipped model's)")
    args = parser.parse_args()
    from minml.classifier.calibration import apply_temperature
    from minml.classifier.predict import load_default

    temperature = load_default().calibration.temperature if args.temperature is None else args.temperature
    data = held_out(args.shared, args.cache)
    classes, y, fold = data["classes"], data["y"], data["fold"]
    top, second, p2 = ranked(apply_temperature(data["proba"], temperature))
    wrong, second_true = classes[top] != y, classes[second] == y
    print(f"command: python benchmarks/overlap_threshold.py --shared ... --cache ... --temperature {temperature:.3f}")
    print(f"{len(y)} held-out rows, {wrong.sum()} top-class errors ({wrong.mean():.2%})")
    print(f"{'t':>5} {'noted':>7} {'share':>7} {'wrong':>7} {'2nd true':>8} {'caught':>7} {'wrong below':>11}")
    for t in (
        0.01,
        0.02,
        0.03,
        0.04,
        0.05,
        0.06,
        0.07,
        0.08,
        0.1,
        0.15,
        0.2,
        0.22,
        0.24,
        0.25,
        0.26,
        0.28,
        0.3,
        0.35,
        0.4,
        0.45,
    ):
        noted = p2 >= t
        print(
            f"{t:5.2f} {noted.sum():7d} {noted.mean():7.2%} {wrong[noted].mean():7.1%} {second_true[noted].mean():8.1%}"
            f" {wrong[noted].sum() / wrong.sum():7.1%} {wrong[~noted].mean():11.2%}"
        )
    chosen = choose(p2, second_true, args.worth)
    print(f"\nchosen on all folds: {chosen:.2f}")
    for k in np.unique(fold):
        apart = fold == k
        t = choose(p2[~apart], second_true[~apart], args.worth)
        noted = apart & (p2 >= t)
        print(
            f"  fold {k} held apart: t {t:.2f} from the others; on fold {k}: {noted.sum()} noted, "
            f"{wrong[noted].mean() if noted.any() else 0:.1%} wrong, {second_true[noted].mean() if noted.any() else 0:.1%} second true"
        )
    noted = p2 >= chosen
    pairs = Counter(tuple(sorted((classes[a], classes[b]))) for a, b in zip(top[noted], second[noted], strict=True))
    errors = Counter(
        tuple(sorted((classes[a], classes[b]))) for a, b in zip(top[noted & wrong], second[noted & wrong], strict=True)
    )
    print(f"\nnoted at {chosen:.2f}, per pair (rows, top class wrong):")
    for pair, count in pairs.most_common():
        print(f"  {' / '.join(pair):<30} {count:5d} {errors.get(pair, 0):5d}")
    feldspars = ["k-feldspar", "plagioclase"]
    others = noted & ~(np.isin(classes[top], feldspars) & np.isin(classes[second], feldspars))
    print(f"without k-feldspar / plagioclase: {others.sum()} noted, {wrong[others].mean():.1%} wrong")
    if args.lepr:
        measure_on_lepr(args.shared)


if __name__ == "__main__":
    main()
