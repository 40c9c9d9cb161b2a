"""The cleaned training set: one reproducible table from the per-mineral compilations.

:func:`build_training_set` reads one workbook per mineral class (``Olivine.xlsx``, ...,
named in ``minerals.toml``), reads every row with :func:`minml.check_oxides`, drops what
cannot be trusted for a stated reason, and writes

* ``training.parquet`` -- the kept rows: ``mineral``, ``group``, provenance (``source_file``,
  ``source_row``, ``sample_name``, ``source``, ...), ``iron_rule``, ``total``, ``notes`` and
  the canonical species in wt%;
* ``report.json`` -- rows in and out per class, why each dropped row went, the sha256 of
  every input file and of the kept table's content, so that model cards can cite it;
* ``mislabelled.csv`` -- the rows the label screen dropped (:mod:`minml.training.screen`:
  their chemistry and a classifier fitted without their source both contradict the label),
  one per line with its source, label, the classifier's answer, misfit and reason in words.

Running it twice on the same files gives the same bytes.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from minml.chemistry.formulas import cation_sum
from minml.chemistry.minerals import Mineral, mineral_table, nominal_total
from minml.io import atomic_path, read_table
from minml.tables.checks import DEFAULT_TOTAL_RANGE, check_oxides
from minml.tables.reasons import Reason

__all__ = [
    "DROP_REASONS",
    "MISLABELLED_FILE",
    "BuildResult",
    "build_training_set",
    "collect_training_set",
    "content_hash",
    "file_hash",
]

DROP_REASONS = (
    "empty row",
    "column shift",
    "unusable value",
    "fractions",
    "required species missing",
    "total outside range",
    "cation sum off",
    "duplicate",
    "mislabelled",
)
"""Why a row leaves the training set, checked in this order (a row counts under the first)."""

MISLABELLED_FILE = "mislabelled.csv"
"""The rows the label screen dropped, written beside ``training.parquet``."""

_LISTING = {
    "source_file": "source_file",
    "source_row": "source_row",
    "source": "source",
    "sample_name": "sample_name",
    "mineral": "label",
    "answer": "answer",
    "answer_probability": "answer_probability",
    "label_probability": "label_probability",
    "misfit": "misfit_wt%",
    "fence": "fence_wt%",
    "reason": "reason",
}

CATION_SCREEN = (-0.15, 0.35)
"""Accepted cation sum minus the ideal, on the class's oxygen basis with all iron as Fe2+
(Fe3+ makes this sum high, never low)."""

CATION_FLOOR = -1.0
"""For classes without ``screen_cations`` (vacancies, H and Fe3+ move their sums): the
lowest accepted cation sum minus the (lowest) ideal, all iron as Fe2+.  Vacancies and H
lower a biotite's or an amphibole's sum by a few tenths; a whole cation less is another
mineral under the label (feldspars and quartz in one biotite compilation: SiO2 98 wt% is
5.6 cations per 11 O)."""

# flag kinds from check_oxides -> drop reason
_FLAG_KIND = {  # the check's reason codes that drop a row, and the drop reason reported
    Reason.EMPTY_ROW: "empty row",
    Reason.COLUMN_SHIFT: "column shift",
    Reason.FRACTIONS: "fractions",
}

_PROVENANCE = {
    "Sample Name": "sample_name",
    "Source": "source",
    "Tectonic Setting": "tectonic_setting",
    "Sample Type": "sample_type",
    "Volcano": "volcano",
    "Mineral": "label",
    "Submineral": "sublabel",
}


@dataclass
class BuildResult:
    """What :func:`build_training_set` wrote and found.

    Attributes
    ----------
    table : pandas.DataFrame
        The kept rows.
    report : dict
        The content of ``report.json``.
    table_path, report_path : pathlib.Path
        ``mislabelled.csv`` (:data:`MISLABELLED_FILE`) lies beside them.
    """

    table: pd.DataFrame
    report: dict
    table_path: Path
    report_path: Path


def file_hash(path) -> str:
    """sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def content_hash(table: pd.DataFrame) -> str:
    """sha256 of a table's content (CSV text with 10 significant digits), independent of
    the Parquet writer's version."""
    text = table.to_csv(index=False, float_format="%.10g", lineterminator="\n")
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _drop_reasons(checked, mineral: Mineral, total_range) -> np.ndarray:
    """The first drop reason per row ('' to keep), before de-duplication."""
    flags = checked.flags["flag"]
    codes = np.asarray(checked.reasons)
    n = len(flags)
    reason = np.full(n, "", dtype=object)

    def mark(mask, why):
        mask = np.asarray(mask, dtype=bool) & (reason == "")
        reason[mask] = why

    for code, why in _FLAG_KIND.items():
        mark((codes & np.uint16(code)) != 0, why)
    mark(flags != "", "unusable value")  # a bad cell or an iron mismatch
    for species in mineral.requires:
        has = checked.oxides[species].to_numpy() > 0 if species in checked.oxides else np.zeros(n, bool)
        mark(~has, "required species missing")
    total = nominal_total(checked.flags["total"].to_numpy(), checked.oxides, mineral)
    lo, hi = total_range
    mark((total < lo) | (total > hi), "total outside range")
    if mineral.screen_cations and mineral.oxygens is not None:  # screened classes have one ideal cation sum
        excess = cation_sum(checked.oxides, mineral.oxygens) - mineral.cations
        mark(~((excess >= CATION_SCREEN[0]) & (excess <= CATION_SCREEN[1])), "cation sum off")
    elif mineral.oxygens is not None and mineral.cations is not None:
        excess = cation_sum(checked.oxides, mineral.oxygens) - np.min(mineral.cations)
        mark(~(excess >= CATION_FLOOR), "cation sum off")
    return reason


def _read_class(path: Path, mineral: Mineral, total_range) -> tuple[pd.DataFrame, dict]:
    raw = read_table(path)
    checked = check_oxides(raw, total_range=None)
    reason = _drop_reasons(checked, mineral, total_range)

    table = pd.DataFrame(
        {
            "mineral": mineral.name,
            "group": mineral.group,
            "source_file": path.name,
            "source_row": np.arange(len(raw)) + 2,
        },  # the Excel row number (row 1 is the header)
        index=raw.index,
    )
    for column, name in _PROVENANCE.items():
        if column in raw:
            table[name] = raw[column].astype("string").str.strip()
    table = pd.concat([table, checked.flags[["iron_rule", "total", "notes"]], checked.oxides], axis=1)

    kept = reason == ""
    species = list(checked.oxides.columns)
    duplicate = table[species].round(6).duplicated(keep="first").to_numpy() & kept
    reason[duplicate] = "duplicate"
    kept &= ~duplicate

    kept_table = table.loc[kept].reset_index(drop=True)
    counts = {
        "rows_in": len(raw),
        "dropped": {why: int((reason == why).sum()) for why in DROP_REASONS if (reason == why).any()},
        **_kept_counts(kept_table),
        "input_sha256": file_hash(path),
    }
    return kept_table, counts


def _kept_counts(kept: pd.DataFrame) -> dict:
    """The report's counts of a class's kept rows (their ``notes`` and ``iron_rule``)."""
    notes = kept["notes"].astype(str)
    return {
        "rows_kept": len(kept),
        "kept_with_small_negatives_clipped": int(notes.str.contains("small negative").sum()),
        "kept_with_values_below_detection": int(notes.str.contains("below detection").sum()),
        "iron_rule": kept["iron_rule"].value_counts().sort_index().to_dict(),
    }


def _screen(table: pd.DataFrame, per_class: dict) -> tuple[pd.DataFrame, dict]:
    """``table`` without the rows the label screen finds mislabelled (:mod:`minml.training.screen`),
    ``per_class`` counts updated, and the screen's part of the report (its rule and the rows)."""
    from minml.training import screen

    judged = screen.screen_labels(table)
    out = judged["mislabelled"].to_numpy()
    listing = pd.concat([table, judged], axis=1).loc[out, [c for c in _LISTING if c in table or c in judged]]
    listing = listing.rename(columns=_LISTING).round(4)
    kept = table.loc[~out].reset_index(drop=True)
    for name, count in listing["label"].value_counts().items():
        counts = per_class[name]
        counts["dropped"]["mislabelled"] = int(count)
        counts.update(_kept_counts(kept[kept["mineral"] == name]))
    part = {
        "rule": f"misfit under the label's class above its median + {screen.SCREEN_FENCE:g} x (90th percentile "
        f"- median), and a label probability below {screen.SCREEN_PROBABILITY:g} from the Gaussian baseline "
        f"fitted without the row's source ({screen.SCREEN_FOLDS} source-grouped folds; classes with at least "
        f"{screen.SCREEN_MIN_ROWS} rows)",
        "judged_rows": int(judged["label_probability"].notna().sum()),
        "rows": json.loads(listing.to_json(orient="records", double_precision=10)),
    }
    return kept, part


def build_training_set(source, out_dir, *, total_range=DEFAULT_TOTAL_RANGE, progress: bool = False) -> BuildResult:
    """Build the cleaned training table and its report, and write them.

    Parameters
    ----------
    source : str or path-like
        Folder holding one ``<training_file>.xlsx`` per class of ``minerals.toml``.
    out_dir : str or path-like
        Where ``training.parquet`` and ``report.json`` go (created if needed).
    total_range : tuple of float, default=(88.0, 105.0)
        Accepted oxide sum, iron as FeOt, after each class's nominal unanalysed species.
    progress : bool, default=False
        Show a progress bar (one step per file).

    Returns
    -------
    BuildResult

    Raises
    ------
    FileNotFoundError
        If the folder, or a class's file, is missing.
    """
    table, report = collect_training_set(source, total_range=total_range, progress=progress)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    table_path = out_dir / "training.parquet"
    report_path = out_dir / "report.json"
    listing = pd.DataFrame(report["label_screen"]["rows"], columns=list(_LISTING.values()))
    with atomic_path(table_path) as part:
        table.to_parquet(part, index=False)
    with atomic_path(out_dir / MISLABELLED_FILE) as part:
        listing.to_csv(part, index=False, lineterminator="\n")
    with atomic_path(report_path) as part:
        part.write_text(json.dumps(report, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    return BuildResult(table, report, table_path, report_path)


def collect_training_set(source, *, total_range=DEFAULT_TOTAL_RANGE, progress: bool = False):
    """The cleaned training table and its report, in memory (see :func:`build_training_set`).

    Returns
    -------
    table : pandas.DataFrame
    report : dict
    """
    source = Path(source)
    if not source.is_dir():
        raise FileNotFoundError(f"No training data folder {str(source)!r} (expected one .xlsx per mineral).")
    minerals = list(mineral_table().values())
    missing = [m.training_file + ".xlsx" for m in minerals if not (source / f"{m.training_file}.xlsx").exists()]
    if missing:
        raise FileNotFoundError(f"{str(source)!r} lacks {missing}.")

    from minml._progress import bar

    frames, per_class = [], {}
    for mineral in bar(minerals, desc="reading", unit="file", enabled=progress):
        frame, counts = _read_class(source / f"{mineral.training_file}.xlsx", mineral, total_range)
        frames.append(frame)
        per_class[mineral.name] = counts
    table, screened = _screen(pd.concat(frames, ignore_index=True), per_class)
    table = _order_columns(table)

    dropped = {why: sum(c["dropped"].get(why, 0) for c in per_class.values()) for why in DROP_REASONS}
    report = {
        "total_range_wt%": list(total_range),
        "rows_in": sum(c["rows_in"] for c in per_class.values()),
        "rows_kept": len(table),
        "dropped": {k: v for k, v in dropped.items() if v},
        "drop_rules": {
            "empty row": "no oxide values",
            "column shift": "one oxide equals the sum of the others, or ~100 wt% of an oxide that is no phase alone",
            "unusable value": "a cell that is text, below -0.1, over 100, or FeOt disagreeing with FeO + Fe2O3",
            "fractions": "oxide sum 0.8-1.2 with every value <= 1",
            "required species missing": "a species the class cannot be judged without (zircon: ZrO2)",
            "total outside range": "oxide sum (iron as FeOt, plus the class's nominal unanalysed species) "
            "outside total_range",
            "cation sum off": "cations per formula unit (class's oxygen basis, all iron as Fe2+) outside "
            f"ideal {CATION_SCREEN[0]:+g}/{CATION_SCREEN[1]:+g} for classes marked screen_cations, "
            f"below ideal {CATION_FLOOR:+g} for the others",
            "duplicate": "the same oxide values as an earlier row of the same class",
            "mislabelled": "its chemistry and the other sources' analyses both contradict its label "
            f"(listed in {MISLABELLED_FILE})",
        },
        "label_screen": screened,
        "content_sha256": content_hash(table),
        "columns": list(table.columns),
        "classes": per_class,
    }
    return table, report


def _order_columns(table: pd.DataFrame) -> pd.DataFrame:
    """Provenance first, then the canonical species (core oxides, then the rest)."""
    from minml.chemistry.oxides import species_table

    species = [s for s in species_table() if s in table.columns]
    first = [c for c in table.columns if c not in species]
    out = table[first + species].copy()
    for col in first:
        if out[col].dtype == object:
            out[col] = out[col].astype("string")
    return out
