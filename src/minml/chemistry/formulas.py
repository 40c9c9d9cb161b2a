"""Mineral formulas from oxide wt%: cations per formula unit, Fe3+, indices and misfit.

:func:`formula` works for every class of ``minerals.toml`` from the class's data (oxygen
basis, ideal cation sum, iron rule, tetrahedral site, indices, end-members): there is no
per-mineral code.  Iron:

* analysed FeO and Fe2O3 (both given): used as analysed (``fe3_method = "analysed"``);
* ``fe3 = "charge balance"`` classes: Droop (1987, Mineral. Mag. 51, 431): with S cations
  per X oxygens (all iron as Fe2+) and T the ideal sum, Fe3+ = 2X(1 - T/S) on the formula
  normalised to T cations, between 0 and total Fe;
* ``fe3 = "all"`` (feldspars): all iron as Fe3+; otherwise all iron as Fe2+.

Three independent physical checks of a label come with each row: ``cation_excess`` (S - T,
all iron as Fe2+; Fe3+ can only raise it, so a negative value is a real deficit),
``charge_deficit`` (positive charge missing for 2X after the iron split) and ``misfit``
(wt% distance to the nearest mixture of the class's end-members, :mod:`minml.chemistry.misfit`;
NiO, CoO and ZnO count as FeO there), beside ``misfit_limit``, the misfit within which the
shipped model's training analyses of the class lie: a formula beyond it is flagged.
The cation sum with all iron as Fe2+ (:func:`cation_sum`) is what the training build screens with.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from minml import _dask
from minml.chemistry._apfu import class_formula
from minml.chemistry._stoichiometry import cation_oxygen_ratio as cation_oxygen_ratio
from minml.chemistry._stoichiometry import cation_sum as cation_sum
from minml.chemistry._stoichiometry import evaluate_index as evaluate_index
from minml.chemistry._stoichiometry import parse_formula

__all__ = ["formula", "parse_formula"]


def resolve_mineral(name: str) -> str:
    """The class a mineral name or database label names (``"cpx"`` -> ``"clinopyroxene"``).

    Raises
    ------
    ValueError
        For names of no class, or of several (``FeTiOxide``).
    """
    from minml.chemistry.labels import match_label
    from minml.chemistry.minerals import mineral_table

    match = match_label(name)
    if len(match.classes) == 1 and match.classes[0] in mineral_table():
        return match.classes[0]
    detail = (
        f"it names several ({', '.join(match.classes)})"
        if len(match.classes) > 1
        else f"{match.classes[0]} has no formula (no stoichiometry in minerals.toml)"
        if match.classes
        else "it is none of the classes"
        if match.status == "not a class"
        else "it is not a known name"
    )
    raise ValueError(
        f"Cannot compute a formula for mineral {name!r}: {detail}. "
        f"Give one of {sorted(mineral_table())} (or a synonym such as cpx, opx, plag)."
    )


def formula(
    df,
    mineral: str | None = None,
    *,
    mineral_column: str | None = None,
    suffix: str | None = None,
    elements: bool = False,
) -> pd.DataFrame:
    """Mineral formulas: cations per formula unit, Fe3+/Fe2+, indices and stoichiometric misfit.

    Parameters
    ----------
    df : pandas.DataFrame or OxideCheck
        Analyses in wt% (any column spelling :func:`minml.map_columns` knows), not modified;
        or a table checked already by :func:`minml.check_oxides` (then without ``suffix``,
        ``elements``: they were given to the check).
    mineral : str, optional
        One class for every row (a class name or a synonym: ``"cpx"``, ``"plag"``), or
        ``"auto"`` for the class :func:`minml.classify` names (rows it calls unknown get none).
    mineral_column : str, optional
        Column of ``df`` naming each row's mineral (database labels are matched through
        ``labels.toml``); rows whose label names no single class get none.
    suffix : str, optional
        Phase suffix of the oxide columns (see :func:`minml.check_oxides`).
    elements : bool, default=False
        Columns named by an element hold element wt% (see :func:`minml.check_oxides`).

    Returns
    -------
    pandas.DataFrame
        On the caller's index: ``mineral``, the cations (``Si`` ... ``Fe3``, ``Fe2`` ...),
        ``AlIV``/``AlVI`` where the class has a tetrahedral site, ``cation_sum``, ``oxygens``,
        ``fe3_method``, ``cation_excess``, ``charge_deficit``, ``misfit`` (wt%) and
        ``misfit_limit`` (wt%: the class's analyses lie within it), the class's indices (``Fo``,
        ``Wo``, ``An``, ``Cr_number``, ...; columns of other classes are NaN), and ``flag`` (why
        a row has no formula; that it is far from its class; the reader's flags).

    Examples
    --------
    Olivine (SiO2 34.96, FeO 36.77, MnO 0.52, MgO 27.04 wt%; GeoClassroom's worked example):

    >>> import pandas as pd
    >>> ol = pd.DataFrame({"SiO2": [34.96], "FeO": [36.77], "MnO": [0.52], "MgO": [27.04]})
    >>> formula(ol, "olivine")[["Si", "Fe2", "Mn", "Mg", "Fo"]].round(3).values.tolist()
    [[0.989, 0.87, 0.012, 1.14, 56.726]]
    """
    if _dask.is_dask(df):
        return _dask.formula(df, mineral, mineral_column=mineral_column, suffix=suffix, elements=elements)
    return formula_rows(df, mineral, mineral_column=mineral_column, suffix=suffix, elements=elements)[0]


def formula_rows(
    df, mineral=None, *, mineral_column=None, suffix=None, elements=False
) -> tuple[pd.DataFrame, np.ndarray]:
    """:func:`formula`, and why each row has no formula (``""`` where it has one), as data
    beside the ``flag`` text that renders it."""
    from minml.chemistry.minerals import mineral_table
    from minml.chemistry.misfit import end_member_compositions, end_member_misfit, fold_divalent
    from minml.classifier.features import MODEL_OXIDES, missing_columns
    from minml.tables.checks import OxideCheck, check_oxides
    from minml.tables.reasons import Reason

    if (mineral is None) == (mineral_column is None):
        raise ValueError(
            "Give either mineral= (one class, or 'auto') or mineral_column= (a column naming each row's mineral)."
        )
    if isinstance(df, OxideCheck):
        if suffix is not None or elements:
            raise TypeError("suffix and elements apply when checking a table; this one is checked already.")
        checked, df = df, df.other  # the label column is among the columns that are not species
    else:
        checked = check_oxides(df, suffix=suffix, elements=elements)  # formulas of bad analyses are computed, flagged
    oxides, flags = checked.oxides, checked.flags
    classes, why = _row_classes(df, mineral, mineral_column, checked)
    codes, names = pd.factorize(classes.to_numpy(dtype=object))
    _warn_absent(missing_columns(checked), sorted(name for name in names if name))
    finite = np.isfinite(oxides[list(MODEL_OXIDES)].to_numpy(dtype=float)).all(axis=1)
    blank = (np.asarray(checked.reasons) & Reason.EMPTY_ROW).astype(bool)  # no analysis: no formula either
    cause = pd.Series("", index=df.index, dtype=object)
    cause[~finite] = "unusable values"
    no_class = finite & (classes == "").to_numpy()
    cause[no_class] = why[no_class]
    cause[finite & blank & ~no_class] = "empty row"
    usable = finite & ~blank
    reason = ("no formula: " + cause).where(cause != "", "")
    # ferric iron as analysed only where both forms were reported and Fe2O3 > 0 (a blank or 0
    # Fe2O3 in a database usually means "not determined")
    measured = ((flags["iron_rule"] == "FeO+Fe2O3") & oxides["FeO"].notna() & (oxides["Fe2O3"] > 0)).to_numpy()
    table = mineral_table()
    parts, positions = [], []
    for k in np.argsort(names).tolist():  # in class order
        name = names[k]
        if name == "":
            continue
        rows = usable & (codes == k)
        part = class_formula(oxides.loc[rows], measured[rows], table[name])
        values = fold_divalent(
            oxides.loc[rows, list(MODEL_OXIDES)].to_numpy(dtype=float), MODEL_OXIDES, oxides.loc[rows]
        )
        part["misfit"] = end_member_misfit(values, end_member_compositions(name, MODEL_OXIDES))[0]
        parts.append(part.assign(mineral=name))
        positions.append(np.flatnonzero(rows))
    out = pd.concat(parts) if parts else pd.DataFrame(index=df.index[:0])
    # back in the caller's row order by position: the caller's index may repeat a label
    out = out.set_axis(np.concatenate(positions) if positions else []).reindex(range(len(df))).set_axis(df.index)
    for column, empty in (("cation_sum", np.nan), ("oxygens", np.nan), ("fe3_method", ""), ("misfit", np.nan)):
        if column not in out:  # no row has a formula (fractions, nothing classified): the columns all the same
            out[column] = pd.Series(empty, index=out.index, dtype=object if empty == "" else float)
    out["mineral"] = classes.where(reason == "", "")
    out["fe3_method"] = out["fe3_method"].where(reason == "", "")  # no formula: NaN numbers, no method
    out.insert(out.columns.get_loc("misfit") + 1, "misfit_limit", _misfit_limits(out["mineral"]))
    note = flags["flag"].where(flags["flag"] != "", "")
    note = _with_far(note, out["mineral"], out["misfit"], out["misfit_limit"])
    out["flag"] = np.where(reason != "", reason + np.where(note != "", "; " + note, ""), note)
    front = ["mineral"]
    return out[front + [c for c in out.columns if c not in front]], cause.to_numpy(dtype=object)


def _misfit_limits(mineral: pd.Series) -> np.ndarray:
    """Per row, the misfit (wt%) within which the shipped model's training analyses of the
    row's class lie (``misfit_threshold``: the threshold of its unknown answer); NaN for rows
    without a class, or of a class the model does not hold."""
    from minml.classifier.predict import load_default

    runtime = load_default()
    limit = dict(zip(map(str, runtime.classes), np.asarray(runtime.misfit_threshold, dtype=float), strict=True))
    return mineral.map(lambda name: limit.get(name, np.nan)).to_numpy(dtype=float)


def _with_far(note: pd.Series, mineral: pd.Series, misfit: pd.Series, limit: pd.Series) -> pd.Series:
    """``note`` (the reader's flags) led by a word for each formula whose analysis lies beyond
    its class's misfit limit: the analysis may be of another mineral."""
    far = (misfit > limit).to_numpy()
    if not far.any():
        return note
    words = pd.Series("", index=note.index, dtype=object)
    words[far] = [
        f"far from {name}: {m:.1f} wt% from its end-members, where its analyses lie within {lim:.1f}"
        for name, m, lim in zip(mineral[far], misfit[far], limit[far], strict=True)
    ]
    return words.where(note == "", words + "; " + note).where(far, note)


def _warn_absent(absent: list[str], classes: list[str]) -> None:
    """Warn of the ``absent`` columns that end-members of the ``classes`` contain: their
    formulas take them as 0 wt% (an olivine table needs no K2O; one without iron, or a
    clinopyroxene table without Na2O, gives formulas of another mineral)."""
    from minml.chemistry.misfit import end_member_compositions
    from minml.classifier.features import MODEL_OXIDES

    needed: dict[str, list[str]] = {}
    for name in classes:
        held = end_member_compositions(name, MODEL_OXIDES).max(axis=0) > 0
        for oxide in absent:
            if held[MODEL_OXIDES.index(oxide)]:
                needed.setdefault(oxide, []).append(name)
    if needed:
        lines = "; ".join(
            f"{'FeOt (no form of iron)' if oxide == 'FeOt' else oxide}, in {', '.join(names)}"
            for oxide, names in needed.items()
        )
        warnings.warn(
            f"The table has no column for oxides the end-members hold ({lines}): the formulas take them "
            "as 0 wt%. Add the columns (0 where below detection) to say they were analysed.",
            stacklevel=4,  # formula -> formula_rows -> here
        )


def _row_classes(df, mineral, mineral_column, checked) -> tuple[pd.Series, pd.Series]:
    """The class of each row ("" where none), and why a row has none ("" where it has one);
    ``checked`` is the table's check, which ``mineral="auto"`` classifies from."""
    if mineral_column is not None:
        from minml.chemistry.labels import is_label, match_labels, require_label_column

        require_label_column(df, mineral_column, "mineral_column")
        from minml.chemistry.minerals import mineral_table

        matched = match_labels(df[mineral_column])
        known = set(mineral_table())
        single = {c: c[0] if len(c) == 1 and c[0] in known else "" for c in set(matched["label_classes"])}
        classes = matched["label_classes"].map(single).astype(object)  # labels that name one class with a formula
        why = np.full(len(df), "", dtype=object)
        rows = np.flatnonzero((classes == "").to_numpy())
        labels = df[mineral_column].to_numpy(dtype=object)[rows]
        codes, _ = pd.factorize(labels, use_na_sentinel=False)  # each distinct label explained once
        _, first, inverse = np.unique(codes, return_index=True, return_inverse=True)
        found, status = matched["label_classes"].to_numpy()[rows], matched["label_status"].to_numpy()[rows]
        said = np.array(
            [_no_class_reason(labels[i], found[i], status[i], is_label(labels[i])) for i in first.tolist()],
            dtype=object,
        )
        why[rows] = said[inverse.reshape(-1)]
        return classes, pd.Series(why, index=df.index, dtype=object)
    if str(mineral).lower() == "auto":
        from minml.classifier.predict import classify_columns

        result = classify_columns(checked)  # the table is not checked a second time
        coded = result["mineral"]
        named = pd.Series(np.asarray(coded.categories, dtype=object)[coded.codes], index=df.index, dtype=object)
        classes = named.where(named.ne("unknown") & named.ne("glass"), "").astype(object)
        # an unknown row says why (its first reason, e.g. "fractions?"), a glass says it is one
        first = (
            pd.Series(result["flag"], index=df.index, dtype=object).str.split("; ").str[0].str.removeprefix("unknown: ")
        )
        first = first.str.split(r":| \(", regex=True).str[0]
        said = ("classified " + named).where(named.ne("unknown") | first.eq(""), "classified unknown: " + first)
        return classes, said.where(classes == "", "").astype(object)
    return (
        pd.Series(resolve_mineral(mineral), index=df.index, dtype=object),
        pd.Series("", index=df.index, dtype=object),
    )


def _no_class_reason(label, found: tuple, status: str, given: bool) -> str:
    """Why a row labelled ``label`` (matched to the classes ``found``, with ``status``) gets
    no formula."""
    if not given:
        return "no label"
    if status == "ambiguous":
        return f"label {label!r} may be {' or '.join(found)} (name one)"
    if status == "unmapped":
        return f"label {label!r} is not in labels.toml"
    return f"label {label!r} names no class with a formula"  # glass, or a phase none of the classes covers
