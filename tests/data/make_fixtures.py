"""Cut the small test fixtures (this folder, and examples/lepr_sample.csv) from the shared data.

    python tests/data/make_fixtures.py ../shared/data

The rows are chosen by rule (seeded), so the fixtures can be re-cut and checked. They are
published analyses (see ../shared/data/README.md for their sources), kept here only as the
few rows the tests need.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

from minml import check_oxides

HERE = Path(__file__).parent


def _oxide_sum(df: pd.DataFrame) -> pd.Series:
    cols = [c for c in df.columns if c not in ("Unnamed: 0", "entity_id", "Mineral", "method")]
    return df[cols].apply(pd.to_numeric, errors="coerce").sum(axis=1)


def cut_lepr(shared: Path) -> None:
    lepr = pd.read_csv(shared / "test" / "lepr_allphases_lim.csv")
    total = _oxide_sum(lepr)
    rng = np.random.default_rng(0)
    good = lepr[(total > 95) & (total < 102)]
    picks = [g.sample(min(len(g), 4), random_state=rng.integers(1 << 31)) for _, g in good.groupby("Mineral")]
    bad = [
        lepr[total == 0].head(3),  # empty rows
        lepr[(total > 0) & (total < 1.5)].head(3),  # fractions
        lepr[(total > 105)].head(3),  # totals far above 100
        lepr[(total > 1.5) & (total < 88)].head(3),  # low totals
    ]
    out = pd.concat(picks + bad).drop(columns=["Unnamed: 0"])
    out.to_csv(HERE.parent.parent / "examples" / "lepr_sample.csv", index=False)


def cut_training(shared: Path) -> None:
    """Twelve rows per class, plus every row of a few kinds the build must drop or repair."""
    out = HERE / "training"
    out.mkdir(exist_ok=True)
    for path in sorted((shared / "training").glob("*.xlsx")):
        df = pd.read_excel(path, engine="openpyxl")
        total = pd.to_numeric(df["Total"], errors="coerce")
        keep = list(df.index[:12])
        keep += list(df.index[(total < 88) | (total > 105)][:3])  # totals out of range
        keep += list(df.index[df.duplicated(keep=False)][:4])  # duplicated rows
        if "Fe2O3" in df and "FeOT" in df and "FeO" in df:  # FeOT + Fe2O3 without FeO: an iron mismatch
            keep += list(df.index[df["FeOT"].notna() & df["Fe2O3"].notna() & df["FeO"].isna()][:2])
        if path.stem == "Garnet":  # numbers stored as text with a no-break space
            keep += list(df.index[df["SiO2"].map(lambda v: isinstance(v, str))][:2])
        if path.stem == "Rutile":  # TiO2 above 100 wt% (a pure phase) and a 'bdl.' cell
            keep += list(df.index[df["TiO2"] > 100][:2]) + list(df.index[df["Nb2O5"] == "bdl."][:1])
        if path.stem == "Orthopyroxene":  # corrupt rows (SiO2 ~0.2, MnO ~32, MgO ~54): cation sum off
            keep += list(df.index[pd.to_numeric(df["SiO2"], errors="coerce") < 5][:3])
        if path.stem == "Tourmaline":  # H2O not analysed: oxide sums 84.5-88 that pass with nominal H2O
            oxide_sum = check_oxides(df, total_range=None).flags["total"]
            keep += list(df.index[df["H2O"].isna() & oxide_sum.between(84.5, 88)][:3])
        df.loc[sorted(set(keep))].to_excel(out / path.name, index=False)


def cut_screen(shared: Path) -> None:
    """A hundred rows per class with oxide sums 95-102 wt% (seeded draw), for the label screen's
    tests, which plant mislabels in a copy; rows the screen drops from the full compilations
    (their listing, ``mislabelled.csv`` of ``minml data build``) are left out."""
    from minml.training.data import collect_training_set

    _, report = collect_training_set(shared / "training")
    flagged = {(row["source_file"], row["source_row"]) for row in report["label_screen"]["rows"]}
    out = HERE / "screen"
    out.mkdir(exist_ok=True)
    for path in sorted((shared / "training").glob("*.xlsx")):
        df = pd.read_excel(path, engine="openpyxl")
        total = pd.to_numeric(df["Total"], errors="coerce")
        clean = np.array([(path.name, i + 2) not in flagged for i in range(len(df))])  # Excel row numbers
        good = df[total.between(95, 102) & clean]
        good.sample(min(100, len(good)), random_state=0).sort_index().to_excel(out / path.name, index=False)


if __name__ == "__main__":
    shared = Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/data")
    cut_lepr(shared)
    cut_training(shared)
    cut_screen(shared)
