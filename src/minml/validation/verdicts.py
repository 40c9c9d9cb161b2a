"""``validate``: which published phase labels of a table can be trusted, ranked and explained.

Each row's label is matched to the classes (``labels.toml``), the analysis is classified,
and the two are compared on three kinds of evidence: the network's calibrated probability
of the label's class, the conformal prediction set (the classes that hold the true one with
probability ``coverage``, fitted on held-out publications), and the stoichiometric misfit of
the analysis under the label's class and under the predicted one (:mod:`minml.chemistry.misfit`).

Verdicts
--------
``agree``            the predicted mineral is (one of) the label's class(es)
``disagree``         the label's class is outside the prediction set: on data like the held-out
                     publications, a true label lands there for fewer than 1 - coverage of rows
``uncertain``        the label's class is in the set but is not the top class
``unknown_phase``    the analysis is none of the classes (or the label names none of them)
``bad_analysis``     no analysis, or a bad one (oxide sum outside the range, junk values)
``unmapped_label``   the label is not in ``labels.toml`` (listed; never guessed)

Rows are ranked by how improbable their label is (the label class's probability, lowest
first), so the most certain disagreements come first.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from minml import _dask
from minml.chemistry.labels import NOT_A_CLASS, UNMAPPED, is_label, match_labels, require_label_column
from minml.chemistry.misfit import fold_divalent
from minml.classifier.features import usable_rows
from minml.tables.checks import require_table

__all__ = ["VERDICTS", "label_summary", "validate"]

VERDICTS = ("agree", "disagree", "uncertain", "unknown_phase", "bad_analysis", "unmapped_label")
DEFAULT_COVERAGE = 0.99


def validate(
    df: pd.DataFrame,
    label_column: str = "Mineral",
    *,
    model=None,
    coverage: float = DEFAULT_COVERAGE,
    fill_missing=None,
    suffix=None,
    elements: bool = False,
    total_range=(88.0, 105.0),
    progress: bool = False,
) -> pd.DataFrame:
    """Check every row's published label against its analysis.

    Parameters
    ----------
    df : pandas.DataFrame
        Analyses in wt% with a label column. Not modified.
    label_column : str, default="Mineral"
    model : MineralClassifier, Runtime or path, optional
        A calibrated model, or the path of one (default: the shipped one).
    coverage : float, default=0.99
        Coverage of the prediction sets: a true label is called ``disagree`` for about
        ``1 - coverage`` of rows like the held-out data.
    fill_missing, suffix, elements, total_range
        As in :func:`minml.classify`.
    progress : bool, default=False

    Returns
    -------
    pandas.DataFrame
        On the caller's index: ``label``, ``label_class``, ``mineral``, ``probability``,
        ``label_probability`` (calibrated probability of the label's class), ``prediction_set``,
        ``verdict``, ``label_misfit`` and ``mineral_misfit`` (wt% from the end-members of the
        label's class and of the predicted mineral), ``rank`` (1 = the most certain
        disagreement) and ``reason`` (one line a person can read).
    """
    from minml.classifier.predict import classify_checked, none_of_the_classes, resolve_model

    if _dask.is_dask(df):
        return _dask.validate(
            df,
            label_column,
            model=model,
            coverage=coverage,
            fill_missing=fill_missing,
            suffix=suffix,
            elements=elements,
            total_range=total_range,
        )
    require_table(df)
    require_label_column(df, label_column, "label_column", "--label-column")
    runtime = resolve_model(model)
    if runtime.calibration is None:
        raise ValueError("validate needs a calibrated model (prediction sets); calibrate it first.")
    result, values, checked = classify_checked(
        df,
        runtime,
        fill_missing=fill_missing,
        coverage=coverage,
        suffix=suffix,
        elements=elements,
        total_range=total_range,
        progress=progress,
    )
    labels = match_labels(df[label_column])
    classes = np.asarray(runtime.classes, dtype=object)
    code = {c: i for i, c in enumerate(classes)}
    usable = usable_rows(values)
    Z = runtime.scaled(np.where(usable[:, None], values, 0.0))
    proba = runtime.calibrated_proba(Z)
    stoichiometry = fold_divalent(values, runtime.oxides, checked.oxides)

    label_class = labels["label_class"].to_numpy(dtype=object)
    status = labels["label_status"].to_numpy(dtype=object)
    label_p = np.full(len(df), np.nan)
    first_label = np.full(len(df), -1)
    kinds, kind_of = np.unique(label_class.astype(str), return_inverse=True)
    for k, kind in enumerate(kinds):  # a few distinct label classes ("spinel|magnetite", ...)
        codes = [code[c] for c in kind.split("|") if c in code]
        if codes:
            rows = kind_of.reshape(-1) == k
            label_p[rows] = proba[np.ix_(rows, codes)].sum(axis=1)
            first_label[rows] = codes[0]
    mineral = result["mineral"].astype(str).to_numpy(dtype=object)
    top = np.array([code.get(m, -1) for m in mineral])
    sets = result["prediction_set"].to_numpy(dtype=object)

    label_misfit = _misfit(runtime, stoichiometry, usable, first_label)
    mineral_misfit = np.where(
        top == first_label, label_misfit, _misfit(runtime, stoichiometry, usable & (top != first_label), top)
    )

    agree = _per_distinct_pair(mineral, label_class, lambda m, lc: m in str(lc).split("|"))
    in_set = _per_distinct_pair(label_class, sets, lambda lc, s: bool(set(str(lc).split("|")) & set(str(s).split("|"))))
    flag = result["flag"].to_numpy(dtype=object)
    bad = (mineral == "unknown") & ~none_of_the_classes(flag)
    verdict = np.select(
        [status == UNMAPPED, bad, (mineral == "unknown") | (status == NOT_A_CLASS), agree, in_set],
        ["unmapped_label", "bad_analysis", "unknown_phase", "agree", "uncertain"],
        default="disagree",
    ).astype(object)
    reason = _reasons(
        runtime,
        values,
        verdict,
        df[label_column].to_numpy(dtype=object),
        label_class,
        mineral,
        result["probability"].to_numpy(),
        label_p,
        label_misfit,
        mineral_misfit,
        first_label,
        top,
        flag,
    )
    order = np.lexsort((-np.nan_to_num(label_misfit), np.nan_to_num(label_p, nan=2.0), verdict != "disagree"))
    rank = np.empty(len(df), dtype=np.int64)
    rank[order] = np.arange(1, len(df) + 1)
    return pd.DataFrame(
        {
            "label": df[label_column].to_numpy(dtype=object),
            "label_class": label_class,
            "mineral": mineral,
            "probability": result["probability"].to_numpy(),
            "label_probability": label_p,
            "prediction_set": sets,
            "verdict": pd.Categorical(verdict, categories=list(VERDICTS)),
            "label_misfit": label_misfit,
            "mineral_misfit": mineral_misfit,
            "rank": rank,
            "reason": reason,
        },
        index=df.index,
    )


def _per_distinct_pair(a: np.ndarray, b: np.ndarray, rule) -> np.ndarray:
    """``rule(a[i], b[i])`` for every row, evaluated once per distinct pair of values (a few
    hundred pairs of labels and answers, where a database has millions of rows)."""
    codes_a, values_a = pd.factorize(a, use_na_sentinel=False)
    codes_b, values_b = pd.factorize(b, use_na_sentinel=False)
    pairs, row_pair = np.unique(codes_a.astype(np.int64) * len(values_b) + codes_b, return_inverse=True)
    outcome = np.array(
        [rule(values_a[k // len(values_b)], values_b[k % len(values_b)]) for k in pairs.tolist()], dtype=bool
    )
    return outcome[row_pair.reshape(-1)]


def _misfit(runtime, values, rows, codes) -> np.ndarray:
    out = np.full(len(values), np.nan)
    pick = np.flatnonzero(rows & (codes >= 0))
    if len(pick):
        out[pick] = runtime.misfit(values[pick], codes[pick])
    return out


def _typical(runtime):
    """Per class and oxide: mean and sd in wt% of the class's training Gaussian."""
    mean = runtime.params["gda_mean"] * runtime.scaler_scale + runtime.scaler_mean
    chol = runtime.params["gda_prec_chol"].astype(np.float64)
    cov = np.linalg.inv(chol @ np.swapaxes(chol, 1, 2))
    sd = np.sqrt(np.diagonal(cov, axis1=1, axis2=2)) * runtime.scaler_scale
    return mean, sd


def _reasons(
    runtime,
    values,
    verdict,
    label,
    label_class,
    mineral,
    p,
    label_p,
    label_misfit,
    mineral_misfit,
    first_label,
    top,
    flag,
) -> np.ndarray:
    """One readable line per row."""
    mean, sd = _typical(runtime)
    oxides = list(runtime.oxides)
    thresholds = np.asarray(runtime.misfit_threshold)
    out = np.empty(len(verdict), dtype=object)
    agree = np.flatnonzero(verdict == "agree")  # most rows: one format each, no branching
    out[agree] = [f"{m} (p {q:.2f})" for m, q in zip(mineral[agree].tolist(), p[agree].tolist(), strict=True)]
    as_flagged = np.flatnonzero((verdict == "bad_analysis") | ((verdict == "unknown_phase") & (mineral == "unknown")))
    out[as_flagged] = [str(f) for f in flag[as_flagged].tolist()]
    rest = np.ones(len(verdict), dtype=bool)
    rest[agree] = rest[as_flagged] = False
    for i in np.flatnonzero(rest).tolist():
        v = verdict[i]
        if v == "unmapped_label":
            named = f"label {label[i]!r} is not in labels.toml" if is_label(label[i]) else "no label"
            out[i] = f"{named}; the analysis reads as {mineral[i]}"
        elif v == "unknown_phase":
            out[i] = f"label {label[i]!r} is none of the classes; the analysis resembles {mineral[i]} (p {p[i]:.2f})"
        else:
            lab, pred = first_label[i], top[i]
            cue = ""
            if lab >= 0 and pred >= 0:
                # the oxide (in wt%) that is farthest from the label's class and nearest the
                # predicted one: the contrast a petrologist would check first
                j = int(np.argmax(np.abs(values[i] - mean[lab]) - np.abs(values[i] - mean[pred])))
                cue = (
                    f"{oxides[j]} {values[i, j]:.1f} wt% ({label_class[i].split('|')[0]} typically "
                    f"{mean[lab, j]:.1f} ± {sd[lab, j]:.1f}): "
                )
            stoich = ""
            if lab >= 0 and np.isfinite(label_misfit[i]):
                beyond = label_misfit[i] > thresholds[lab]
                stoich = f"; {label_misfit[i]:.1f} wt% from the {label_class[i].split('|')[0]} end-members" + (
                    f" (beyond its {thresholds[lab]:.1f})" if beyond else ""
                )
            out[i] = (
                f"{cue}{_a(mineral[i])} (p {p[i]:.2f}), not {_a(label_class[i].replace('|', ' or '))} "
                f"(p {label_p[i]:.3f}){stoich}"
            )
    return out


def _a(noun: str) -> str:
    return ("an " if noun[:1].lower() in "aeiou" else "a ") + noun


def label_summary(validated: pd.DataFrame) -> pd.DataFrame:
    """Per published label: rows, share of each verdict, and the most frequent other answer.

    Parameters
    ----------
    validated : pandas.DataFrame
        The output of :func:`validate`.
    """
    if _dask.is_dask(validated):
        return _dask.label_summary(validated)
    counts = pd.crosstab(validated["label"].astype(str), validated["verdict"], normalize="index")
    counts = counts.reindex(columns=list(VERDICTS), fill_value=0.0)
    other = validated[validated["verdict"].isin(["disagree", "uncertain"])]
    alternative = other.groupby(other["label"].astype(str))["mineral"].agg(
        lambda s: s.value_counts().index[0] if len(s) else ""
    )
    summary = counts.assign(rows=validated["label"].astype(str).value_counts(), top_alternative=alternative)
    summary["top_alternative"] = summary["top_alternative"].fillna("")
    return summary[["rows", *VERDICTS, "top_alternative"]].sort_values("rows", ascending=False)
