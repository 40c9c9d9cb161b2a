"""The classifier's second look at a row: an oxide sum outside the range under the predicted
class's nominal unanalysed species or the model's completion of absent oxides, rows unlike the
training data under the class's end-members, and classes named without a column for their
essential species.  Each outcome sets a :class:`~minml.tables.reasons.Reason` bit and adds its text
to the row's flag."""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

import numpy as np

from minml._text import one_decimal
from minml.chemistry.misfit import fold_divalent
from minml.tables.reasons import Reason

__all__ = [
    "OutlierVerdict",
    "append_note",
    "find_outliers",
    "flag_essential",
    "judge_outliers",
    "note_absent_decides",
    "note_outliers",
    "rejudge_completed",
    "rejudge_totals",
    "sum_with_nominal",
]


def rejudge_totals(checked, classes, top, analysis, ok, flag, reasons) -> None:
    """Rows rejected for their oxide sum alone get a second look under the predicted class:
    with the class's nominal unanalysed species (tourmaline's B2O3 and H2O, which EPMA does
    not measure) the sum may be fine. Such rows are accepted, and ``flag`` says so, with
    their ``reasons`` (both in place)."""
    if checked.total_range is None:
        return
    from minml.chemistry.minerals import mineral_table

    table = mineral_table()
    suspects = np.flatnonzero(analysis & ~ok)
    if not len(suspects):
        return
    only_total = reasons[suspects] == np.uint16(Reason.TOTAL_OUTSIDE)  # flagged for the sum and nothing else
    for code in np.flatnonzero(np.bincount(top[suspects[only_total]], minlength=len(classes))):
        mineral = table.get(str(classes[code]))
        if mineral is None or not mineral.unanalysed:
            continue
        rows = suspects[only_total & (top[suspects] == code)]
        total = checked.total[rows]
        fixed, good = sum_with_nominal(checked, rows, mineral)
        names = ", ".join(mineral.unanalysed)
        ok[rows[good]] = True
        reasons[rows[good]] = np.uint16(Reason.NOMINAL_TOTAL)
        flag[rows[good]] = [
            f"oxide sum {t:.1f} wt%, {f:.1f} with the nominal {names} of {mineral.name}"
            for t, f in zip(total[good], fixed[good], strict=True)
        ]


def sum_with_nominal(checked, rows: np.ndarray, mineral) -> tuple[np.ndarray, np.ndarray]:
    """The oxide sums of ``rows`` of ``checked`` with ``mineral``'s nominal unanalysed species
    where the row does not report them (tourmaline's B2O3 and H2O), and whether each lies in
    the check's range."""
    from minml.chemistry.minerals import nominal_total

    reported = {s: checked.species_values(s)[rows] for s in mineral.unanalysed if s in checked.species}
    fixed = nominal_total(checked.total[rows], reported, mineral)
    lo, hi = checked.total_range
    return fixed, (fixed >= lo) & (fixed <= hi)


def append_note(flag: np.ndarray, rows: np.ndarray, notes) -> None:
    """Add ``notes`` (one string, or one per row) to the flags of ``rows`` in place."""
    notes = np.broadcast_to(np.asarray(notes, dtype=object), rows.shape)
    flag[rows] = np.where(flag[rows] == "", notes, flag[rows] + "; " + notes)


class OutlierVerdict(NamedTuple):
    """What :func:`find_outliers` found."""

    rows: np.ndarray
    """The rows judged: named and unlike the training data."""
    explained: np.ndarray
    """Per judged row: its predicted class's end-members explain it."""
    misfit: np.ndarray
    """Per judged row: wt% from the class's nearest end-member mixture (NaN: no end-members)."""
    limit: np.ndarray
    """Per judged row: the class's misfit limit."""
    rejected: np.ndarray
    """Over all rows: judged and not explained."""


def find_outliers(model, values, out, ok, analyses=None, far=None) -> OutlierVerdict:
    """Rows unlike the training data, and whether the predicted class's end-members explain
    them (rejected where they do not).  ``analyses`` (the rows' checked NiO, CoO and ZnO by
    name) lends them to the fit (:func:`minml.chemistry.misfit.fold_divalent`).  ``far``: which
    rows are unlike the training data, when the caller knows it without every row's ood score
    (:func:`minml.classifier._top.top_scores`)."""
    if far is None:  # in float64: numpy compares a float32 array with a Python float in float32 (NEP 50)
        far = out["ood"] > np.float64(model.ood_threshold)
    far = np.flatnonzero(ok & far)
    rejected = np.zeros(len(values), dtype=bool)
    if not len(far):
        empty = np.zeros(0)
        return OutlierVerdict(far, empty.astype(bool), empty, empty, rejected)
    top = out["top"][far]
    far_values = fold_divalent(
        values[far], model.oxides, None if analyses is None else {s: v[far] for s, v in analyses.items()}
    )
    misfit = model.misfit(far_values, top)
    limit = np.asarray(model.misfit_threshold)[top]
    explained = misfit <= limit  # False for NaN: classes without end-members (glass)
    rejected[far[~explained]] = True
    return OutlierVerdict(far, explained, misfit, limit, rejected)


def note_outliers(model, out, verdict: OutlierVerdict, notes, spared=None) -> None:
    """The notes of :func:`find_outliers`' ``verdict`` in ``notes`` (flag text, reason codes), in
    place: "unusual ..." for the rows explained, "unknown: unlike the training data ..." for the
    others; none for the rows ``spared`` (bool over all rows: answered unknown for another reason)."""
    keep = np.ones(len(verdict.rows), dtype=bool) if spared is None else ~spared[verdict.rows]
    far, explained = verdict.rows[keep], verdict.explained[keep]
    if not len(far):
        return
    misfit, limit, top = verdict.misfit[keep], verdict.limit[keep], out["top"][far]
    flag, reasons = notes
    reasons[far[explained]] |= np.uint16(Reason.UNUSUAL)
    reasons[far[~explained]] |= np.uint16(Reason.NONE_OF_THE_CLASSES)
    names = np.asarray(model.classes, dtype=object)[top].tolist()
    ood = one_decimal(out["ood"][far]).tolist()
    threshold = f"{model.ood_threshold:.1f}"
    text = one_decimal(np.nan_to_num(misfit)).tolist()
    limit_text = one_decimal(np.where(np.isfinite(limit), limit, 0.0)).tolist()
    fitted = np.isfinite(misfit).tolist()
    unlike = "unknown: unlike the training data (ood_score {} above " + threshold + ")"
    append_note(
        flag,
        far[explained],
        [
            f"unusual {names[i]}: ood_score {ood[i]} above {threshold}, but its end-members explain it (misfit {text[i]} wt%)"
            for i in np.flatnonzero(explained).tolist()
        ],
    )
    rejected_text = [
        unlike.format(ood[i])
        + (
            f" and no {names[i]} (misfit {text[i]} wt% from its end-members, limit {limit_text[i]})"
            if fitted[i]
            else ""
        )
        for i in np.flatnonzero(~explained).tolist()
    ]
    append_note(flag, far[~explained], rejected_text)


def judge_outliers(model, values, out, ok, notes, analyses=None, far=None) -> np.ndarray:
    """Rows unlike the training data: rejected (True) unless the predicted class's
    end-members explain them; both outcomes are noted in ``notes``, the (flag text, reason
    codes) of the rows, in place (None: no notes).  :func:`find_outliers` then
    :func:`note_outliers`; ``analyses`` and ``far`` as there (no ``notes`` with ``far``: they
    quote each row's ood score)."""
    if far is not None and notes is not None:
        raise ValueError("judge_outliers: notes quote each row's ood score; give out['ood'], not far.")
    verdict = find_outliers(model, values, out, ok, analyses=analyses, far=far)
    if notes is not None:
        note_outliers(model, out, verdict, notes)
    return verdict.rejected


@lru_cache(maxsize=1)
def _completion_caps() -> dict[str, dict[str, float]]:
    """``minml/data/completion.toml``: per class and oxide, the most a completion may add (wt%)."""
    from minml._resources import load_toml

    return load_toml("completion.toml")


def completion_cap(classes, names) -> np.ndarray:
    """Classes x ``names``: the most the model's completion of each absent oxide may add to a
    row of the class (the 99.5th percentile of its training analyses; no cap for a class the
    table does not know, as a user's own model may have)."""
    caps = _completion_caps()
    return np.array([[caps.get(str(c), {}).get(name, np.inf) for name in names] for c in classes], dtype=float)


def rejudge_completed(checked, values, completed, names, analysis, ok, flag, reasons, classes, top) -> None:
    """Rows rejected for their oxide sum alone, in a table without a column for some oxides:
    with the model's completion of those oxides the sum may be fine.  The completion counts up
    to what the predicted class's analyses hold (:func:`completion_cap`).  Such rows are
    accepted and ``flag`` says so, with their ``reasons`` (both in place); the others keep
    their flag (total outside).  (Counting it only up to the sum the row reports was tried: on
    source-grouped folds of the training data it turned 2 % of the rows unknown when TiO2 had no
    column -- the rutiles, whose every other oxide sums to ~1 wt%.)"""
    if checked.total_range is None:
        return
    lo, hi = checked.total_range
    suspects = np.flatnonzero(analysis & ~ok)
    if not len(suspects):
        return
    only_total = reasons[suspects] == np.uint16(Reason.TOTAL_OUTSIDE)  # flagged for the sum and nothing else
    rows = suspects[only_total]
    total = checked.total[rows]
    added = np.nansum(np.minimum(values[np.ix_(rows, completed)], completion_cap(classes, names)[top[rows]]), axis=1)
    fixed = total + added
    good = (fixed >= lo) & (fixed <= hi)
    ok[rows[good]] = True
    reasons[rows[good]] = np.uint16(Reason.COMPLETED_TOTAL)
    what = ", ".join(names)
    flag[rows[good]] = [
        f"oxide sum {t:.1f} wt%, {f:.1f} with the model's completion of {what} (no column)"
        for t, f in zip(total[good], fixed[good], strict=True)
    ]


def note_absent_decides(mixture, out, ok, names, classes, flag, reasons, cutoffs=None) -> None:
    """Rows whose answer depends on the absent oxides ``names``: the ``ok`` rows to which the
    ``mixture`` (:class:`minml.classifier._absent.Completion`) gives less than
    :data:`~minml.classifier._absent.AGREEMENT`.  Their scores in ``out`` (the columns of
    ``predict._scores``: the top class's probability, the second class and its probability,
    uncertainty, prediction set and all probabilities) become the mixture's; the top class stays
    the completion's answer (the mixture may hold another class higher: the flag then shows it).
    :attr:`Reason.ABSENT_DECIDES` is set in ``reasons`` and ``flag`` says why (all in place)."""
    from minml.classifier._absent import AGREEMENT
    from minml.classifier._top import fill_scores

    if mixture is None:
        return
    rows = np.flatnonzero(ok & (np.nan_to_num(mixture.max(axis=1), nan=1.0) < AGREEMENT))
    if not len(rows):
        return
    top = out["top"][rows]  # the completion's answer stays
    fill_scores(out, rows, mixture[rows].astype(np.float32), cutoffs, classes, top=top)
    reasons[rows] |= np.uint16(Reason.ABSENT_DECIDES)
    what = " and ".join(names)
    first, second = classes[top].tolist(), classes[out["second"][rows]].tolist()
    p1, p2 = out["p1"][rows].tolist(), out["p2"][rows].tolist()
    append_note(
        flag,
        rows,
        [
            f"depends on {what} (no column): completed as each class the other oxides fit, "
            f"{first[i]} {p1[i]:.2f}, {second[i]} {p2[i]:.2f}"
            for i in range(len(rows))
        ],
    )


def flag_essential(checked, classes, top, named, flag, reasons) -> None:
    """Flag rows named a class whose essential species (``essential`` in minerals.toml: P2O5 of
    apatite, ZrO2 of zircon) the table has no column for: the answer is a guess from the rest."""
    from minml.chemistry.minerals import mineral_table

    found = set(checked.mapping.mapped.values())
    for code, name in enumerate(classes.tolist()):
        mineral = mineral_table().get(str(name))
        lacking = [s for s in (mineral.essential if mineral else ()) if s not in found]
        if not lacking:  # most classes: no pass over the rows
            continue
        rows = np.flatnonzero(named & (top == code))
        if len(rows):
            reasons[rows] |= np.uint16(Reason.ESSENTIAL_ABSENT)
            append_note(
                flag,
                rows,
                f"{' and '.join(lacking)} not analysed (no column): {name} is told from the other oxides alone",
            )
