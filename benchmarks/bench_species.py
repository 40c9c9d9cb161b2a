"""Species and phases named from the formula, measured on LEPR (shared/data/test/lepr_allphases.csv).

LEPR is only measured here: no threshold or rule was chosen on it (see docs/guide/species.md).

* Phases outside the classes: rows whose label names a phase that is none of the 17 classes
  (labels.toml ``not_a_class``), counted among those the classifier calls ``unknown`` (where
  phases are named) and among all: named right (the label names one of the species), named
  wrong (species that the label does not name), unnamed.
* Rows labelled one of the classes that the classifier calls unknown and that get a phase's
  name: all wrong.
* Species agreement: rows whose label names a species (labels.toml ``[species]``) and that get
  a species: the share whose species the label names.

Run: ``PYTHONPATH=src python benchmarks/bench_species.py [path/to/lepr_allphases.csv]``
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

import minml
from minml.chemistry.labels import label_species, match_labels, species_agrees
from minml.chemistry.species import name_species, species_text


def main(path: Path) -> None:
    lepr = pd.read_csv(path)
    result = minml.classify(lepr)
    start = time.perf_counter()
    named = name_species(lepr, result["mineral"].astype(str).to_numpy())
    seconds = time.perf_counter() - start
    labels = lepr["Mineral"].astype(str)
    outside = (match_labels(labels)["label_status"] == "not a class").to_numpy()
    unknown = (result["mineral"].astype(str) == "unknown").to_numpy()
    has_species = np.array([bool(s) for s in named["species"]])
    agrees = np.array([species_agrees(lab, s) for lab, s in zip(labels, named["species"], strict=True)], dtype=object)
    names_species = np.array([label_species(lab) is not None for lab in labels])
    print(f"command: PYTHONPATH=src python benchmarks/bench_species.py {path}")
    print(f"rows {len(lepr)}; name_species {seconds:.1f} s")
    print("\nphases outside the classes (label not a class)")
    print(f"{'rows':<28}{'n':>6}{'right':>8}{'wrong':>8}{'unnamed':>9}")
    for title, rows in (("classified unknown", outside & unknown), ("all", outside)):
        n = rows.sum()
        right = (rows & has_species & (agrees == True)).sum()  # noqa: E712 (object array of True/False/None)
        wrong = (rows & has_species & (agrees != True)).sum()  # noqa: E712
        print(f"{title:<28}{n:>6}{right / n:>8.1%}{wrong / n:>8.1%}{(n - right - wrong) / n:>9.1%}")
    status = match_labels(labels)["label_status"].to_numpy()
    of_class = unknown & np.isin(status, ["class", "ambiguous"])
    print(
        f"rows labelled one of the classes that the classifier calls unknown: {of_class.sum()}, "
        f"named a phase outside the classes: {(of_class & has_species).sum()} (all of them wrong)"
    )
    rows = outside & unknown
    table = pd.DataFrame({"label": labels[rows], "species": species_text(named["species"][rows])})
    counts = table.groupby("label")["species"].value_counts().rename("n").reset_index()
    print("\nby label (classified unknown):")
    print(counts.to_string(index=False))
    checked = names_species & has_species
    share = (agrees[checked] == True).mean() if checked.any() else float("nan")  # noqa: E712
    print(f"\nspecies agreement, labels naming a species: {share:.1%} of {checked.sum()} rows")
    wrong = pd.DataFrame({"label": labels[checked], "species": species_text(named["species"][checked])})[
        agrees[checked] != True  # noqa: E712
    ]
    if len(wrong):
        print(wrong.value_counts().head(15).to_string())


if __name__ == "__main__":
    default = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "test" / "lepr_allphases.csv"
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else default)
