"""The labelled data the models learn from and are tested on, read from the shared folder.

* training: the cleaned per-mineral compilations (:func:`minml.training.data.collect_training_set`)
  plus half of the volcanic glasses, as the ``glass`` class;
* tests: the other half of the glasses, and LEPR (never used for training or tuning).

The glass split is by sample name (a stable hash), so no sample is on both sides.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd

from minml.chemistry.minerals import class_groups
from minml.io import read_table
from minml.tables.checks import check_oxides

__all__ = ["GLASS_FILE", "LEPR_ALL_FILE", "LEPR_FILE", "glass_split", "load_glass", "load_training"]

GLASS_FILE = Path("test") / "glasses_df.csv"
LEPR_FILE = Path("test") / "lepr_allphases_lim.csv"
LEPR_ALL_FILE = Path("test") / "lepr_allphases.csv"  # all 62 labels: the unknown answer's test


def glass_split(sample_names: pd.Series) -> np.ndarray:
    """True for glass rows used in training: samples whose name hashes to an even number."""

    def even(name) -> bool:
        return hashlib.sha256(str(name).encode("utf-8")).digest()[0] % 2 == 0

    return sample_names.map(even).to_numpy(dtype=bool)


def load_glass(shared, part: str) -> pd.DataFrame:
    """The volcanic glasses, half of them: ``part`` is ``"train"`` or ``"test"``.

    Rows the reader flags (bad totals) are left out.  Columns: canonical oxides, ``mineral``
    (``"glass"``), ``group``, ``source`` (``"glass:<sample>"``), ``sample_name``.
    """
    if part not in ("train", "test"):
        raise ValueError(f"part must be 'train' or 'test', got {part!r}.")
    raw = read_table(Path(shared) / GLASS_FILE)
    checked = check_oxides(raw)
    in_train = glass_split(raw["Sample Name"])
    keep = checked.ok.to_numpy() & (in_train if part == "train" else ~in_train)
    out = checked.oxides.loc[keep].copy()
    out["mineral"] = "glass"
    out["group"] = class_groups()["glass"]
    out["sample_name"] = raw.loc[keep, "Sample Name"].astype(str)
    out["source"] = "glass:" + out["sample_name"]
    return out.reset_index(drop=True)


def load_training(shared, *, progress: bool = False) -> tuple[pd.DataFrame, dict]:
    """Minerals (cleaned compilations) + the training half of the glasses.

    Returns
    -------
    table : pandas.DataFrame
        Canonical oxides, ``mineral``, ``group``, ``source``, ``sample_name``.
    report : dict
        The training-set report (counts, drop reasons, content hash) with a ``glass`` entry.
    """
    from minml.training.data import collect_training_set, content_hash

    shared = Path(shared)
    minerals, report = collect_training_set(shared / "training", progress=progress)
    glass = load_glass(shared, "train")
    table = pd.concat([minerals, glass], ignore_index=True)
    table["source"] = table["source"].astype("string").fillna(table["source_file"].astype("string"))
    report = dict(report)
    report["glass"] = {"rows_train": len(glass), "content_sha256": content_hash(glass)}
    return table, report
