"""On to thermobarometry: classified analyses as one sheet per mineral, named as Thermobar reads them.

Thermobarometers are calibrated for one phase: a clinopyroxene barometer fed an amphibole gives
a pressure with no meaning.  :func:`by_mineral` sorts a classified table into one sheet per
mineral with the column names of Thermobar (Wieser et al. 2022: ``SiO2_Cpx``, ``FeOt_Amp``,
``Na2O_Plag``, ``SiO2_Liq`` for glass; ``minml/data/thermobar.toml``), and keeps the rows the
model is unsure of, or whose published label it disputes, on a sheet of their own, so that none
of them reaches a thermobarometer unseen.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from minml._resources import load_toml

__all__ = ["REVIEW_SHEET", "by_mineral", "write_by_mineral"]

REVIEW_SHEET = "unsure or disputed"
"""The sheet of the rows no thermobarometer should take as they are."""

_MINML = ["mineral", "probability", "second_mineral", "second_probability", "prediction_set", "flag"]


def _review_reasons(classified: pd.DataFrame, validated: pd.DataFrame | None) -> np.ndarray:
    """Why each row goes to the review sheet ('' where it does not)."""
    if "prediction_set" not in classified:
        raise ValueError(
            "by_mineral needs the prediction sets: classify with coverage=, e.g. minml.classify(df, coverage=0.95)."
        )
    reasons = []
    sets = classified["prediction_set"].astype(str).to_numpy()
    minerals = classified["mineral"].astype(str).to_numpy()
    flags = classified["flag"].astype(str).to_numpy()
    verdicts = None if validated is None else validated["verdict"].astype(str).to_numpy()
    for i in range(len(classified)):
        why = []
        if minerals[i] == "unknown":  # its flag says why, most often starting "unknown:" itself
            why.append(flags[i] if flags[i].startswith("unknown") else f"unknown: {flags[i]}")
        else:
            if "|" in sets[i]:
                why.append("unsure: could be " + sets[i].replace("|", " or "))
            if flags[i]:
                why.append(f"flagged: {flags[i]}")
        if verdicts is not None and verdicts[i] in ("disagree", "uncertain"):
            why.append(f"label {verdicts[i]}")
        reasons.append("; ".join(why))
    return np.array(reasons, dtype=object)


def by_mineral(
    table: pd.DataFrame, classified: pd.DataFrame, *, validated: pd.DataFrame | None = None, **check_options
) -> dict[str, pd.DataFrame]:
    """One table per mineral with Thermobar's column names, and one of the rows to look at.

    Parameters
    ----------
    table : pandas.DataFrame or OxideCheck
        The analyses as read (not modified), or their check as ``classify`` worked from (then
        without ``check_options``: it is not checked again).
    classified : pandas.DataFrame
        ``minml.classify(table, coverage=...)`` (the prediction sets say which rows the model
        is unsure of: more than one class in the set).
    validated : pandas.DataFrame, optional
        ``minml.validate(table, ...)``: rows whose label is ``disagree`` or ``uncertain`` are
        disputed.
    **check_options
        How ``table`` was read by ``classify`` (``suffix``, ``elements``): see
        :func:`minml.check_oxides`.

    Returns
    -------
    dict of str to pandas.DataFrame
        Sheet name -> rows, in class order: the input's other columns (sample names, labels),
        the phase's oxides (``SiO2_Cpx``, ...; plain names for minerals Thermobar has no phase
        for), then MIN-ML's columns.  :data:`REVIEW_SHEET` last, with plain oxide names and a
        ``review_reason`` column: unknown rows, rows whose prediction set holds more than one
        class, flagged rows, disputed labels.  Minerals with no row are left out.
    """
    from minml.tables.checks import OxideCheck, check_oxides

    checked = table if isinstance(table, OxideCheck) else check_oxides(table, notes=False, **check_options)
    index = checked.index
    # the species the table reports (and FeOt, derived where iron came as FeO and Fe2O3): the
    # check's FeO and Fe2O3 columns hold 0 where the table gave total iron only
    reported = set(checked.mapping.mapped.values()) | {"FeOt"}
    oxides = checked.oxides[[s for s in checked.oxides.columns if s in reported]].set_axis(index)
    other = checked.other.set_axis(index)
    ours = classified[[name for name in _MINML if name in classified]].set_axis(index).add_prefix("minml_")
    reasons = _review_reasons(classified, validated)
    phases = load_toml("thermobar.toml")["suffix"]
    minerals = classified["mineral"].astype(str).to_numpy()
    sheets = {}
    for name in classified["mineral"].cat.categories:
        keep = (minerals == name) & (reasons == "")
        if name == "unknown" or not keep.any():
            continue
        phase = phases.get(name)
        if phase is None:
            chosen = oxides.loc[keep]
        else:
            present = [ox for ox in phase["oxides"] if ox in oxides]
            chosen = oxides.loc[keep, present].add_suffix(phase["suffix"])
        sheets[name] = pd.concat([other.loc[keep], chosen, ours.loc[keep]], axis=1)
    review = reasons != ""
    if review.any():
        why = pd.Series(reasons[review], index=index[review], name="review_reason")
        sheets[REVIEW_SHEET] = pd.concat([other.loc[review], oxides.loc[review], ours.loc[review], why], axis=1)
    return sheets


def _cell(value):
    """A value as openpyxl writes it: numpy numbers as Python numbers, text as text."""
    if isinstance(value, np.generic):
        return value.item()
    return value if value is None or isinstance(value, (int, float, str, bool)) else str(value)


def write_by_mineral(sheets: dict[str, pd.DataFrame], path) -> Path:
    """Write :func:`by_mineral`'s sheets to one Excel workbook, whole or not at all.

    Parameters
    ----------
    sheets : dict of str to pandas.DataFrame
    path : path-like
        An ``.xlsx`` file (replaced if it exists).

    Returns
    -------
    pathlib.Path
    """
    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        raise ValueError(f"The per-mineral workbook is an Excel file: name it .xlsx, got {str(path)!r}.")
    if not path.parent.is_dir():
        raise ValueError(f"{str(path.parent)!r} is not a folder; make it first or write the workbook elsewhere.")
    if not sheets:
        raise ValueError("No rows to write: the table has no analyses.")
    from openpyxl import Workbook

    handle, temporary = tempfile.mkstemp(suffix=".xlsx", dir=path.parent)
    os.close(handle)
    try:
        book = Workbook(write_only=True)  # streamed: pandas' to_excel takes ~50 times longer
        for name, rows in sheets.items():
            sheet = book.create_sheet(name[:31])
            sheet.append([str(column) for column in rows.columns])
            cells = rows.astype(object).where(rows.notna(), None)
            for row in cells.itertuples(index=False, name=None):
                sheet.append([_cell(value) for value in row])
        book.save(temporary)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)
    return path
