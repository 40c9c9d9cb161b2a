"""What the shipped classifier answers for mafic glasses that carry unanalysed water (issue 21).

Hydrous basaltic and basanitic glasses (2-4 wt% H2O, not analysed by EPMA, totals ~96-98) have a
pargasite's major elements, and the training glasses are natural, mostly degassed, volcanic
glasses.  This script takes the held-out half of ``glasses_df.csv`` (the glass test half, never
trained on), keeps the mafic ones (SiO2 40-53 wt%, MgO >= 4 wt%, in bands of MgO: the primitive
melts are the pargasite-like ones), and gives each the water an analysis would miss: its oxides
scaled to sum to 100 - H2O.  It prints, per band and water content, the share answered glass,
amphibole and other, the share answered amphibole with p >= 0.9, and the share whose flag notes
the amphibole / glass overlap (``OVERLAP_PROBABILITY``).  Nothing is
chosen on it: it measures what the shipped model does.

    python benchmarks/hydrous_glass_answers.py --shared ../shared/data
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

WATER = (0.0, 3.0, 5.0)
"""wt% H2O the analysis misses."""

BANDS = ((4, 8), (8, 10), (10, np.inf))
"""MgO (wt%) bands of the glasses, from evolved basalts to primitive melts."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shared", type=Path, required=True)
    args = parser.parse_args()

    import minml
    from minml.classifier._overlap import OVERLAP_PROBABILITY
    from minml.classifier.features import MODEL_OXIDES
    from minml.training.datasets import load_glass

    glass = load_glass(args.shared, "test")
    oxides = glass[list(MODEL_OXIDES)].fillna(0.0)
    print("command: python benchmarks/hydrous_glass_answers.py --shared ...")
    print(f"mafic glasses of the held-out half (SiO2 40-53 wt%); overlap note at p2 >= {OVERLAP_PROBABILITY}")
    print(
        f"{'MgO':>8} {'rows':>5} {'H2O':>4} {'glass':>7} {'amphibole':>10} {'other':>7} {'amph p>=0.9':>12} {'amph/glass noted':>17}"
    )
    for low, high in BANDS:
        band = oxides[oxides["SiO2"].between(40, 53) & (oxides["MgO"] >= low) & (oxides["MgO"] < high)]
        total = band.sum(axis=1)
        for water in WATER:
            result = minml.classify(band.mul((100.0 - water) / total, axis=0))
            mineral = result["mineral"].astype(str).to_numpy()
            second = result["second_mineral"].astype(str).to_numpy()
            sure = result["probability"].fillna(0).to_numpy() >= 0.9
            pair = np.isin(mineral, ["amphibole", "glass"]) & np.isin(second, ["amphibole", "glass"])
            noted = pair & (result["second_probability"].fillna(0).to_numpy() >= OVERLAP_PROBABILITY)
            glassy, amph = mineral == "glass", mineral == "amphibole"
            print(
                f"{f'{low}-{high:g}':>8} {len(band):5d} {water:4.0f} {glassy.mean():7.1%} {amph.mean():10.1%}"
                f" {(~glassy & ~amph).mean():7.1%} {(amph & sure).mean():12.1%} {noted.mean():17.1%}"
            )


if __name__ == "__main__":
    main()
