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
                     publications, a true label lands there for fewer than 1 - coverage of rows;
                     or the label names a phase outside the classes (``phases.toml``) whose
                     end-members lie more than :data:`PHASE_CONTRADICTED` wt% from an analysis
                     that the classifier names a class
``uncertain``        the label's class is in the set but is not the top class (a class with
                     probability 0.07 or more always is: the overlaps ``classify`` notes)
``unknown_phase``    the analysis is none of the classes (or the label names none of them, and
                     is not contradicted as above)
``bad_analysis``     no analysis, or a bad one (oxide sum outside the range, junk values)
``unmapped_label``   the label is not in ``labels.toml`` (listed; never guessed)

Labels are compared in the model's own vocabulary: a label that is one of the model's classes
or spells one otherwise (``Amphibole``, for a model fitted on LEPR's labels) names it; any other
names the model's classes among those its synonyms name (``labels.toml``), and a label that
names none of them (``garnet``, for a model without garnets) is none of the model's classes.

Rows are ranked by how improbable their label is (the label class's probability, lowest
first), so the most certain disagreements come first.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from minml import _dask
from minml.chemistry.labels import NOT_A_CLASS, UNMAPPED, is_label, label_phase, match_labels, require_label_column
from minml.chemistry.misfit import fold_divalent
from minml.classifier._overlap import overlap_note
from minml.classifier.features import usable_rows
from minml.tables.checks import DEFAULT_TOTAL_RANGE, OxideCheck, require_table
from minml.tables.reasons import Reason

__all__ = ["PHASE_CONTRADICTED", "VERDICTS", "label_summary", "validate"]

VERDICTS = ("agree", "disagree", "uncertain", "unknown_phase", "bad_analysis", "unmapped_label")
DEFAULT_COVERAGE = 0.99

PHASE_CONTRADICTED = 10.0
"""wt% from the nearest mixture of a phase's end-members (``phases.toml``) beyond which a label
naming that phase is contradicted by an analysis the classifier names a class.  A phase is
*named* within 2.7 wt% (its ``misfit_limit``: the analytical scatter the classes' own analyses
show); minor substitutions its end-members leave out (Fe3+, Cr, Na in a periclase or an
epidote) can add a few wt% more, so a label is called wrong only where a tenth of the analysis
lies outside the phase's formulas: an olivine labelled titanite is 62 wt% away, a plagioclase
labelled leucite 18.  Set from that reasoning, not tuned: nearer rows stay ``unknown_phase``."""


def validate(
    df,
    label_column: str = "Mineral",
    *,
    model=None,
    coverage: float = DEFAULT_COVERAGE,
    fill_missing=None,
    suffix=None,
    elements: bool = False,
    total_range=DEFAULT_TOTAL_RANGE,
    species: bool = False,
    progress: bool = False,
) -> pd.DataFrame:
    """Check every row's published label against its analysis.

    Parameters
    ----------
    df : pandas.DataFrame or OxideCheck
        Analyses in wt% with a label column, not modified; or a table checked already by
        :func:`minml.check_oxides` (the label column among its ``other`` columns; then without
        ``suffix``, ``elements``, ``total_range``: they were given to the check).
    label_column : str, default="Mineral"
    model : MineralClassifier, Runtime or path, optional
        A calibrated model, or the path of one (default: the shipped one).
    coverage : float, default=0.99
        Coverage of the prediction sets: a true label is called ``disagree`` for about
        ``1 - coverage`` of rows like the held-out data.
    fill_missing, suffix, elements, total_range
        As in :func:`minml.classify`.
    species : bool, default=False
        Add ``species`` (as :func:`minml.classify` names it) and ``species_verdict``: where the
        label names a species ("augite", "Fo90 olivine", "nepheline"), ``agree`` or
        ``disagree`` with the species named from the formula; empty where the label names
        none ("cpx") or the row has no species.
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
    from minml.classifier.predict import classify_table, resolve_model

    if _dask.is_dask(df):
        if species:
            raise ValueError("species=True is not available on Dask tables yet; validate in memory for species.")
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
    table, check_options = _source(df, suffix=suffix, elements=elements, total_range=total_range)
    require_label_column(table, label_column, "label_column")
    runtime = resolve_model(model)
    if runtime.calibration is None:
        raise ValueError("validate needs a calibrated model (prediction sets); calibrate it first.")
    # the probabilities of every class come with the answers (the prediction sets' members)
    found = classify_table(
        df, runtime, fill_missing=fill_missing, coverage=coverage, progress=progress, keep_proba=True, **check_options
    )
    labels = match_labels(table[label_column], classes=runtime.classes)  # in the model's own vocabulary
    label = table[label_column].to_numpy(dtype=object)
    verdict, ev = _verdicts(runtime, found, labels, coverage, label)
    label_class = labels["label_class"].to_numpy(dtype=object)
    ev.update(verdict=verdict, label=label, label_class=label_class, flag=found.columns["flag"])
    validated = _validated_frame(runtime, found, ev, verdict, label, label_class)
    return _with_species(validated, found.checked, label) if species else validated


def _validated_frame(runtime, found, ev: dict, verdict: np.ndarray, label: np.ndarray, label_class) -> pd.DataFrame:
    """The DataFrame of :func:`validate`: the evidence ``ev`` per row, ranked (1 = the most
    certain disagreement), with the reason a person reads."""
    # a label a phase's formulas contradict has no class probability: it ranks as one of 0
    by_phase = (verdict == "disagree") & (ev["first_label"] < 0)
    label_p = np.where(by_phase, 0.0, np.nan_to_num(ev["label_p"], nan=2.0))
    order = np.lexsort((-np.nan_to_num(ev["label_misfit"]), label_p, verdict != "disagree"))
    rank = np.empty(len(label), dtype=np.int64)
    rank[order] = np.arange(1, len(label) + 1)
    columns = {
        "label": label,
        "label_class": label_class,
        "mineral": ev["mineral"],
        "probability": ev["p"],
        "label_probability": ev["label_p"],
        "prediction_set": found.columns["prediction_set"],
        "verdict": pd.Categorical(verdict, categories=list(VERDICTS)),
        "label_misfit": ev["label_misfit"],
        "mineral_misfit": ev["mineral_misfit"],
        "rank": rank,
        "reason": _reasons(runtime, found.values, ev),
    }
    return pd.DataFrame(columns, index=found.checked.index)


def _with_species(validated: pd.DataFrame, checked, label: np.ndarray) -> pd.DataFrame:
    """``validated`` with ``species`` and ``species_verdict`` (the label's species, where it
    names one, against the species named from the formula within the answered class)."""
    from minml.chemistry.labels import species_agrees
    from minml.chemistry.species import classes_with_species, name_species, species_text

    named = name_species(checked, classes_with_species(validated["mineral"]))["species"]  # own classes: none
    agrees = [species_agrees(text, names) for text, names in zip(label, named, strict=True)]
    verdict = ["" if a is None else ("agree" if a else "disagree") for a in agrees]
    return validated.assign(species=species_text(named), species_verdict=verdict)


def _source(df, **check_options) -> tuple[pd.DataFrame, dict]:
    """The table that holds the label column (a checked table's ``other`` columns), and the
    check options to pass on: none for a checked table, unless given (then refused)."""
    if isinstance(df, OxideCheck):
        defaults = {"suffix": None, "elements": False, "total_range": DEFAULT_TOTAL_RANGE}
        return df.other, {k: v for k, v in check_options.items() if v != defaults[k]}
    require_table(df)
    return df, check_options


def _verdicts(runtime, found, labels: pd.DataFrame, coverage: float, label: np.ndarray) -> tuple[np.ndarray, dict]:
    """Each row's verdict, and the evidence it rests on: the label's classes (tuples, as
    :func:`match_labels` gives them), or the phase outside the classes that the ``label``
    names, against the classifier's pass ``found``."""
    from minml.classifier.calibration import set_members

    n_classes = len(runtime.classes)
    code = {str(c): i for i, c in enumerate(runtime.classes)}  # match_labels writes the classes as text
    values = found.values
    usable = usable_rows(values)
    proba = found.proba  # the classifier's own pass: the network runs once per validate
    stoichiometry = fold_divalent(values, runtime.oxides, found.checked.oxides)
    status = labels["label_status"].to_numpy(dtype=object)
    kind_of, kinds = pd.factorize(labels["label_classes"].to_numpy(dtype=object), use_na_sentinel=False)
    member = np.zeros((len(kinds), n_classes + 1), dtype=bool)  # the label's classes; the last column: unknown
    label_p = np.full(len(kind_of), np.nan)
    first_label = np.full(len(kind_of), -1)
    for k, kind in enumerate(kinds):  # a few distinct label classes (("spinel", "magnetite"), ...)
        codes = [code[c] for c in kind if c in code]
        member[k, codes] = True
        if codes:
            rows = kind_of == k
            label_p[rows] = proba[np.ix_(rows, codes)].sum(axis=1)
            first_label[rows] = codes[0]
    mineral = found.columns["mineral"]
    top = np.where(found.unknown(), -1, mineral.codes)
    label_misfit = _misfit(runtime, stoichiometry, usable, first_label)
    mineral_misfit = np.where(
        top == first_label, label_misfit, _misfit(runtime, stoichiometry, usable & (top != first_label), top)
    )
    agree = member[kind_of, np.where(top >= 0, top, n_classes)]
    named = top >= 0
    in_set = np.zeros(len(top), dtype=bool)
    inside = set_members(found.proba[named], runtime.calibration.cutoffs(coverage))  # the sets written
    in_set[named] = (inside & member[kind_of[named], :n_classes]).any(axis=1)
    # composition cannot decide between the top class and the label's (classify's note, by code);
    # such a label is in the set (no class cut-off exceeds the note's probability): uncertain
    overlap = ((found.reasons & np.uint16(Reason.OVERLAP)) != 0) & (
        found.columns["second_mineral"].codes == first_label
    )
    unknown = found.unknown()
    bad = unknown & ~found.none_of_the_classes()
    phase = _label_phases(found.checked, label, (status == NOT_A_CLASS) & ~bad)
    label_misfit = np.where(np.isfinite(phase["misfit"]), phase["misfit"], label_misfit)
    contradicted = named & phase["judged"] & (phase["misfit"] > PHASE_CONTRADICTED)  # a phase's formulas, far off
    verdict = np.select(
        [status == UNMAPPED, bad, contradicted, unknown | (status == NOT_A_CLASS), agree, in_set],
        ["unmapped_label", "bad_analysis", "disagree", "unknown_phase", "agree", "uncertain"],
        default="disagree",
    ).astype(object)
    evidence = {
        "mineral": np.asarray(mineral.categories, dtype=object)[mineral.codes],
        "p": found.columns["probability"],
        "label_p": label_p,
        "label_misfit": label_misfit,
        "mineral_misfit": mineral_misfit,
        "first_label": first_label,
        "top": top,
        "label_classes": labels["label_classes"].to_numpy(dtype=object),
        "overlap": overlap,
        "phase": phase,
    }
    return verdict, evidence


def _label_phases(checked, label: np.ndarray, rows: np.ndarray) -> dict:
    """For the ``rows`` whose label names a phase of ``phases.toml`` (outside the classes),
    that phase's fit (:func:`minml.chemistry.phases.phase_fit`): ``name`` (None where the
    label names no such phase), ``misfit`` (wt%), ``explains`` and ``judged`` (whether the
    phase could be tried: the species it requires analysed)."""
    from minml.chemistry.phases import phase_fit

    n = len(label)
    out = {
        "name": np.full(n, None, dtype=object),
        "misfit": np.full(n, np.nan),
        "explains": np.zeros(n, dtype=bool),
        "judged": np.zeros(n, dtype=bool),
        "total": np.asarray(checked.total, dtype=float),
    }
    at = np.flatnonzero(rows)
    names = np.array([label_phase(text) for text in label[at].tolist()], dtype=object)
    for name in {n_ for n_ in names.tolist() if n_ is not None}:
        where = at[names == name]
        out["name"][where] = name
        out["misfit"][where], out["explains"][where], out["judged"][where] = phase_fit(checked, where, name)
    return out


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


def _reasons(runtime, values, evidence: dict) -> np.ndarray:
    """One readable line per row, from the ``evidence`` of :func:`_verdicts` with the row's
    ``verdict``, ``label``, ``label_class`` and ``flag``."""
    verdict, label, mineral, p, flag = (evidence[k] for k in ("verdict", "label", "mineral", "p", "flag"))
    label_classes, label_p, label_misfit = evidence["label_classes"], evidence["label_p"], evidence["label_misfit"]
    first_label, top, overlap = evidence["first_label"], evidence["top"], evidence["overlap"]
    phase = evidence["phase"]
    mean, sd = _typical(runtime)
    oxides = list(runtime.oxides)
    thresholds = np.asarray(runtime.misfit_threshold)
    out = np.empty(len(verdict), dtype=object)
    agree = np.flatnonzero(verdict == "agree")  # most rows: one format each, no branching
    out[agree] = [f"{m} (p {q:.2f})" for m, q in zip(mineral[agree].tolist(), p[agree].tolist(), strict=True)]
    as_flagged = np.flatnonzero((verdict == "bad_analysis") | ((verdict == "unknown_phase") & (mineral == "unknown")))
    out[as_flagged] = [str(f) for f in flag[as_flagged].tolist()]
    for i in np.flatnonzero((verdict == "unknown_phase") & (mineral == "unknown") & (phase["name"] != None)).tolist():  # noqa: E711
        words = _phase_words(phase, i)
        out[i] += f"; label {label[i]!r}: {words}" if words else ""
    rest = np.ones(len(verdict), dtype=bool)
    rest[agree] = rest[as_flagged] = False
    for i in np.flatnonzero(rest).tolist():
        v = verdict[i]
        if v == "unmapped_label":
            named = f"label {label[i]!r} is not in labels.toml" if is_label(label[i]) else "no label"
            out[i] = f"{named}; the analysis reads as {mineral[i]}"
        elif v == "unknown_phase":
            words = _phase_words(phase, i)
            out[i] = f"label {label[i]!r} is none of the model's classes" + (f"; {words}" if words else "")
            out[i] += f"; the analysis resembles {mineral[i]} (p {p[i]:.2f})"
        elif first_label[i] < 0:  # a phase outside the classes, whose end-members lie far from it
            out[i] = f"{_a(mineral[i])} (p {p[i]:.2f}), not {label[i]}: {_phase_words(phase, i)}"
        else:
            lab, pred = first_label[i], top[i]
            cue = ""
            if lab >= 0 and pred >= 0:
                # the oxide (in wt%) that is farthest from the label's class and nearest the
                # predicted one: the contrast a petrologist would check first
                j = int(np.argmax(np.abs(values[i] - mean[lab]) - np.abs(values[i] - mean[pred])))
                cue = (
                    f"{oxides[j]} {values[i, j]:.1f} wt% ({label_classes[i][0]} typically "
                    f"{mean[lab, j]:.1f} ± {sd[lab, j]:.1f}): "
                )
            stoich = ""
            if lab >= 0 and np.isfinite(label_misfit[i]):
                beyond = label_misfit[i] > thresholds[lab]
                stoich = f"; {label_misfit[i]:.1f} wt% from the {label_classes[i][0]} end-members" + (
                    f" (beyond its {thresholds[lab]:.1f})"
                    if beyond
                    else f" (within its {thresholds[lab]:.1f}: its formulas alone allow it)"
                )
            out[i] = (
                f"{cue}{_a(mineral[i])} (p {p[i]:.2f}), not {_a(' or '.join(label_classes[i]))} "
                f"(p {label_p[i]:.3f}){stoich}"
            )
            if overlap[i]:  # the label's class is the overlap classify noted (Reason.OVERLAP)
                out[i] += "; " + overlap_note(mineral[i], runtime.classes[lab])
    return out


def _phase_words(phase: dict, i: int) -> str:
    """What the fit of the phase a label names (:func:`_label_phases`) says of row ``i``: that
    its formulas fit, or how far they lie (beside the limit within which the phase is named);
    "" where the label names no phase or the phase could not be tried."""
    from minml.chemistry.phases import phase_table

    name = phase["name"][i]
    if name is None or not phase["judged"][i]:
        return ""
    misfit, limit = phase["misfit"][i], phase_table()[name].misfit_limit
    if phase["explains"][i]:
        return f"its formula fits ({misfit:.1f} wt% from the {name} end-members, phases.toml)"
    if misfit <= limit:  # the composition fits, the oxide sum does not
        return f"its end-members fit ({misfit:.1f} wt%), but not an oxide sum of {phase['total'][i]:.1f} wt%"
    return f"{misfit:.1f} wt% from the {name} end-members (phases.toml; it is named within {limit:.1f})"


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
