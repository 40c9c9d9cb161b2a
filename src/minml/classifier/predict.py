"""``classify``: which mineral is each analysis of a table, with the shipped model or yours.

Runs on numpy (see :mod:`minml.classifier._runtime`): neither scikit-learn nor torch is imported, and
pandas only to hand back a DataFrame (:func:`classify_columns` does without), so the
command line starts fast.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from minml import _dask
from minml._parallel import one_blas_thread, run_in_threads
from minml._resources import load_shipped
from minml.chemistry.misfit import DIVALENT_SUBSTITUTES
from minml.classifier._absent import complete_absent
from minml.classifier._cations import MAP_TOLERANCE, judge_cation_sums
from minml.classifier._judge import (
    find_outliers,
    flag_essential,
    judge_outliers,
    note_absent_decides,
    note_outliers,
    rejudge_completed,
    rejudge_totals,
)
from minml.classifier._overlap import note_overlaps
from minml.classifier._runtime import Runtime
from minml.classifier._sites import exclude_by_sites
from minml.classifier._top import fill_scores, top_scores
from minml.classifier.features import model_inputs, usable_rows
from minml.io._npz import model_from
from minml.tables.checks import OxideCheck
from minml.tables.reasons import Reason

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["classify"]

DEFAULT_MODEL = "default-v1.npz"
_COMPLETED = "not analysed; the model's input completed from the class it fits best"
_CHUNK = 8_192  # rows per step: the class distances of a chunk (6.5 MB) stay in cache; fastest of 4k-64k


def load_default() -> Runtime:
    """The shipped model (``minml/data/default-v1.npz``), loaded once."""
    return load_shipped(DEFAULT_MODEL, Runtime.load, "minml train --which classifier")


def resolve_model(model=None) -> Runtime:
    """The model to run: the shipped one for None, a fitted ``MineralClassifier``'s arrays, a
    Runtime, or the one saved at a path (``.npz``)."""
    if hasattr(model, "_runtime"):
        return model._runtime()
    return model_from(
        model, default=load_default, load=Runtime.load, types=Runtime, what="a fitted MineralClassifier, a Runtime"
    )


class Coded(NamedTuple):
    """A column of text held as integer codes into its categories (a pandas Categorical's parts)."""

    codes: np.ndarray
    categories: list


@dataclass
class Classified:
    """What one pass of the classifier over a checked table gives.

    Attributes
    ----------
    columns : dict of str to numpy.ndarray or Coded
        The columns of :func:`classify`, in order (``mineral``, ``group``, ``second_mineral``
        as :class:`Coded`).
    reasons : numpy.ndarray of uint16
        Per row, the :class:`~minml.tables.reasons.Reason` bits that its ``flag`` renders.
    values : numpy.ndarray
        The model inputs (:func:`minml.classifier.features.model_inputs`).
    checked : OxideCheck
    proba : numpy.ndarray or None
        Calibrated probabilities (rows x classes) of the usable rows (zeros scored for the
        others), when asked for.
    """

    columns: dict
    reasons: np.ndarray
    values: np.ndarray
    checked: OxideCheck
    proba: np.ndarray | None = None

    def frame(self) -> pd.DataFrame:
        """The DataFrame of :func:`classify`."""
        return _frame(self.columns, self.checked.index)

    def unknown(self) -> np.ndarray:
        """Rows whose mineral is ``unknown``."""
        mineral = self.columns["mineral"]
        return mineral.codes == len(mineral.categories) - 1

    def none_of_the_classes(self) -> np.ndarray:
        """Rows that are unknown for their composition (none of the classes), not for being
        bad analyses."""
        return (self.reasons & np.uint16(Reason.NONE_OF_THE_CLASSES)) != 0


@one_blas_thread
def classify(
    df: pd.DataFrame,
    model=None,
    *,
    fill_missing=None,
    coverage: float | None = None,
    species: bool = False,
    progress: bool = False,
    **check_options,
) -> pd.DataFrame:
    """Classify every analysis of a table.

    Parameters
    ----------
    df : pandas.DataFrame or OxideCheck
        Analyses in wt% (any column spelling :func:`minml.map_columns` knows), not modified;
        or a table checked already by :func:`minml.check_oxides` (then without ``suffix``,
        ``total_range``: they were given to the check).
    model : MineralClassifier, Runtime or path, optional
        A fitted estimator, a model read with ``Runtime.load``, or the path of a model file
        (``.npz``, as ``MineralClassifier.save`` and ``minml train`` write); defaults to the
        shipped model.
    fill_missing : float, optional
        Value for model oxides the table has no column for (by default: an error).
    coverage : float, optional
        Add ``prediction_set``: the classes (``|``-joined, most probable first) that hold a
        row's true class with this probability (e.g. 0.95), by conformal prediction on
        held-out data (:mod:`minml.classifier.calibration`), and every class with probability
        0.07 or more (no cut-off exceeds the overlap note's probability:
        :meth:`~minml.classifier.calibration.Calibration.cutoffs`).
    species : bool, default=False
        Add ``species`` (the finest name the formula supports within the answered class, e.g.
        ``augite``, ``forsterite (Fo88)``; for ``unknown`` rows, a phase outside the classes
        whose end-members explain the analysis, e.g. ``nepheline``; names joined by ``|``
        where two fit), ``species_basis`` and ``species_misfit``
        (:func:`minml.chemistry.species.name_species`).  Off by default: it computes every
        row's formula, several times the classifier's own time.
    progress : bool, default=False
        Show a progress bar (for tables of more than one chunk of 8,192 rows).
    **check_options
        ``suffix``, ``total_range``: see :func:`minml.check_oxides`.

    Returns
    -------
    pandas.DataFrame
        On the caller's index: ``mineral``, ``group``, ``probability`` (calibrated),
        ``uncertainty`` (predictive entropy / log of the number of classes: 0 sure, 1 no
        idea), ``second_mineral``, ``second_probability``, ``ood_score`` (higher is less like
        the training data), ``flag`` (empty when accepted with nothing to note; else
        ';'-joined reasons or notes, such as "composition of both orthopyroxene and
        clinopyroxene ..." where ``second_probability`` is 0.07 or more:
        :mod:`minml.classifier._overlap`), and ``prediction_set`` when ``coverage`` is given.

        ``mineral = "unknown"`` (with the reason in ``flag``) for: rows with unusable values,
        empty rows, fractions and column shifts (no analysis: every other column empty);
        oxide sums outside the accepted range (bad analyses); and rows unlike the training
        data (``ood_score`` above the model's threshold) that the predicted class's
        end-members do not explain either (misfit above the class's threshold, see
        :mod:`minml.chemistry.misfit`; glass has no end-members).  For the last two,
        ``second_mineral`` and ``second_probability`` hold the class the network would name.

    Examples
    --------
    >>> import pandas as pd
    >>> olivine = pd.DataFrame({"SiO2": [40.5], "TiO2": [0.0], "Al2O3": [0.03], "FeOt": [9.6],
    ...     "MnO": [0.14], "MgO": [49.3], "CaO": [0.1], "Na2O": [0.0], "K2O": [0.0],
    ...     "Cr2O3": [0.02], "P2O5": [0.0]})
    >>> classify(olivine)[["mineral", "group"]].to_numpy().tolist()
    [['olivine', 'olivine']]
    """
    if _dask.is_dask(df):
        if species:
            raise ValueError(
                "species=True is not available on Dask tables yet; classify, then name_species per partition."
            )
        return _dask.classify(df, model, fill_missing=fill_missing, coverage=coverage, **check_options)
    result, _, checked = classify_checked(
        df, model, fill_missing=fill_missing, coverage=coverage, progress=progress, **check_options
    )
    return with_species(result, checked) if species else result


def with_species(result: pd.DataFrame, checked: OxideCheck) -> pd.DataFrame:
    """``result`` (of :func:`classify`) with ``species``, ``species_basis`` and
    ``species_misfit`` after its columns, the species rendered as text."""
    import pandas as pd

    from minml.chemistry.species import classes_with_species, name_species, species_text

    named = name_species(checked, classes_with_species(result["mineral"]))  # a model's own classes: none
    named["species"] = species_text(named["species"])
    return pd.concat([result, named.set_axis(result.index)], axis=1)


def classify_checked(
    df: pd.DataFrame,
    model=None,
    *,
    fill_missing=None,
    coverage: float | None = None,
    progress: bool = False,
    **check_options,
) -> tuple[pd.DataFrame, np.ndarray, OxideCheck]:
    """:func:`classify`, and the model inputs and table check it worked from (for callers
    that go on with them, such as :func:`minml.validate`, instead of checking the table again).

    Returns
    -------
    result : pandas.DataFrame
        As :func:`classify`.
    values : numpy.ndarray
        The model inputs (:func:`minml.classifier.features.model_inputs`).
    checked : OxideCheck
    """
    found = classify_table(df, model, fill_missing=fill_missing, coverage=coverage, progress=progress, **check_options)
    return found.frame(), found.values, found.checked


def classify_columns(
    checked: OxideCheck, model=None, *, fill_missing=None, coverage: float | None = None, progress: bool = False
) -> dict:
    """:func:`classify` for a table checked already (:func:`minml.tables.checks.check_columns`),
    returning plain columns instead of a DataFrame: for callers that write them on without
    pandas (``minml classify`` on CSV files).

    Returns
    -------
    dict of str to numpy.ndarray or Coded
        The columns of :func:`classify`, in order; ``mineral``, ``group`` and
        ``second_mineral`` as :class:`Coded`.
    """
    return classify_table(checked, model, fill_missing=fill_missing, coverage=coverage, progress=progress).columns


def classify_table(
    table,
    model=None,
    *,
    fill_missing=None,
    coverage: float | None = None,
    progress: bool = False,
    keep_proba: bool = False,
    **check_options,
) -> Classified:
    """One pass of the classifier over a DataFrame or an :class:`OxideCheck`: the result
    columns with their reason codes, the model inputs, the check (and, with ``keep_proba``,
    the calibrated probabilities, for :func:`minml.validate`)."""
    name = "the shipped model" if model is None else "the model"
    runtime = resolve_model(model)
    values, checked = model_inputs(
        table,
        runtime.oxides,
        fill_missing=fill_missing,
        model_name=name,
        absent_as=None if fill_missing is not None else _COMPLETED,
        **check_options,
    )
    completed, mixture = None, None
    if checked.absent and fill_missing is None:
        values, mixture = complete_absent(runtime, values, checked.absent)
        completed = [runtime.oxides.index(s) for s in checked.absent if s in runtime.oxides]
    return _classify(runtime, name, values, checked, coverage, progress, keep_proba, completed, mixture)


def _frame(columns: dict, index) -> pd.DataFrame:
    """The DataFrame of :func:`classify` from its columns."""
    import pandas as pd

    text_dtype = pd.Series([""]).dtype  # what pandas makes of text: str (pandas >= 3) or object

    def column(value):
        if isinstance(value, Coded):
            return pd.Categorical.from_codes(*value)
        if value.dtype == object and text_dtype != object:  # noqa: E721 (numpy dtypes compare with ==)
            # that string dtype built from Arrow buffers: pandas would otherwise read every
            # str of the column (0.1 s per million rows)
            from minml.io._arrow import arrow_array

            return pd.array(arrow_array(value), dtype=text_dtype)
        return value

    return pd.DataFrame(
        {key: column(value) for key, value in columns.items()}, index=index, copy=False
    )  # fresh arrays: no need to stack them into blocks


def _classify(
    model, name, values, checked: OxideCheck, coverage, progress, keep_proba=False, completed=None, mixture=None
) -> Classified:
    """The result columns of :func:`classify` for checked model inputs (``completed``: the
    columns of ``values`` completed for want of a column, with the ``mixture`` of their
    completions, :func:`minml.classifier._absent.complete_absent`)."""
    classes = np.asarray(model.classes, dtype=object)
    if coverage is not None:
        if model.calibration is None:
            raise ValueError(
                f"coverage needs a calibrated model; {name} has none: fit it with "
                "MineralClassifier(...).fit(X, y).calibrate(X, y, groups=...)."
            )
    cutoffs = model.calibration.cutoffs(coverage) if coverage is not None else None
    groups = np.asarray(model.groups, dtype=object)
    # bad analyses get the network's answer as second choice; sane ones may get a mineral
    usable = usable_rows(values)
    analysis = usable & ~checked.no_analysis
    ok = analysis & ~checked.total_outside
    out = _scores(
        model,
        values,
        usable,  # the rows that are no analysis are scored too, but their scores are not shown
        cutoffs=cutoffs,
        progress=progress,
        keep_proba=keep_proba,
    )
    flag = checked.flag_text.copy()
    reasons = checked.reasons.copy()
    if completed:
        names = [model.oxides[j] for j in completed]
        rejudge_completed(checked, values, completed, names, analysis, ok, flag, reasons, classes, out["top"])
    rejudge_totals(checked, classes, out["top"], analysis, ok, flag, reasons)
    if completed:
        note_absent_decides(mixture, out, ok, names, classes, flag, reasons, cutoffs)
    divalent = {s: checked.species_values(s) for s in DIVALENT_SUBSTITUTES if s in checked.species}
    # a class whose sites cannot hold the row's cations leaves its answer first: the tests
    # below then judge the class that is left
    by_sites = exclude_by_sites(model, values, out, ok, (flag, reasons), cutoffs, analyses=divalent, checked=checked)
    outliers = find_outliers(model, values, out, ok & ~by_sites, analyses=divalent)
    # the sums the class's formula fixes, on the rows the outlier test left named; a row they
    # reject gets their note, not the outlier test's "unusual"
    by_sums = judge_cation_sums(
        values, model.oxides, checked, classes, out["top"], ok & ~outliers.rejected & ~by_sites, (flag, reasons)
    )
    note_outliers(model, out, outliers, (flag, reasons), spared=by_sums)
    rejected = outliers.rejected | by_sums | by_sites
    n_classes = len(classes)
    group_names = sorted(set(groups))
    group_of = np.array([group_names.index(g) for g in groups] + [len(group_names)])
    named = ok & ~rejected
    flag_essential(checked, classes, out["top"], named, flag, reasons)
    note_overlaps(classes, out["top"], out["second"], out["p2"], named, flag, reasons)
    top = np.where(named, out["top"], n_classes)  # n_classes: "unknown"
    second = np.where(named, out["second"], np.where(analysis, out["top"], n_classes))
    columns = {
        "mineral": Coded(top, [*classes, "unknown"]),
        "group": Coded(group_of[top], [*group_names, ""]),
        "probability": np.where(named, out["p1"], np.nan),
        "uncertainty": np.where(named, out["uncertainty"], np.nan),
        "second_mineral": Coded(second, [*classes, ""]),
        "second_probability": np.where(named, out["p2"], np.where(analysis, out["p1"], np.nan)),
        "ood_score": np.where(analysis, out["ood"], np.nan),
        "flag": flag,
    }
    if coverage is not None:
        columns["prediction_set"] = np.where(named, out["sets"], "")
    return Classified(columns, reasons, values, checked, out.get("proba"))


def _score_chunk(model, values, analysis, out, part, cutoffs, classes) -> None:
    """Fill ``out[...][part]`` for one chunk of rows (disjoint slices: safe from threads)."""
    Z = model.scaled(np.where(analysis[part, None], values[part], 0.0))
    fill_scores(out, part, model.calibrated_proba(Z), cutoffs, classes)
    out["ood"][part] = -model.log_density(Z)


def _scores(model, values, analysis, *, cutoffs=None, progress=False, keep_proba=False) -> dict:
    """Top and second class, their probabilities, uncertainty, ood score (and prediction sets
    with ``cutoffs``, all probabilities with ``keep_proba``) of every row, in chunks on a few
    threads; rows that are no ``analysis`` are scored on zeros."""
    n = len(values)
    classes = np.asarray(model.classes, dtype=object)
    out = {
        name: np.empty(n, dtype=dtype)
        for name, dtype in [
            ("top", np.int64),
            ("second", np.int64),
            ("p1", np.float32),
            ("p2", np.float32),
            ("uncertainty", np.float32),
            ("ood", np.float32),
        ]
    }  # the network and density work in float32
    if cutoffs is not None:
        out["sets"] = np.empty(n, dtype=object)
    if keep_proba:
        out["proba"] = np.empty((n, len(classes)), dtype=np.float32)
    run_in_threads(
        lambda part: _score_chunk(model, values, analysis, out, part, cutoffs, classes),
        [slice(start, start + _CHUNK) for start in range(0, n, _CHUNK)],
        progress=progress,
        desc="classifying",
    )
    return out


def classify_values(values: np.ndarray, model) -> tuple[np.ndarray, np.ndarray]:
    """The class of each row of a clean numeric array, for callers that need no table checks
    (:func:`minml.maps.classify.classify_map`): rows with NaN, rows unlike the training data that
    their class's end-members do not explain, and rows whose cation sum their class's formula
    cannot hold and a phase outside the classes explains (:mod:`minml.classifier._cations`) get
    code ``len(model.classes)`` ("unknown"); a row whose cations overflow a site of its class is
    named the next class where that class's end-members explain it (:mod:`minml.classifier._sites`).

    Parameters
    ----------
    values : numpy.ndarray
        Rows x ``model.oxides``, wt%.
    model : Runtime

    Returns
    -------
    codes : numpy.ndarray of int16
    probability : numpy.ndarray of float32
        Of the class (NaN for unknown).
    """
    values = np.asarray(values, dtype=np.float32)
    analysis = usable_rows(values)
    out = top_scores(model, values, analysis)
    # a class whose sites cannot hold the pixel's cations leaves its answer first (a
    # clinopyroxene-plagioclase boundary pixel named amphibole), as classify does
    by_sites = exclude_by_sites(model, values, out, analysis, None)
    rejected = by_sites | judge_outliers(model, values, out, analysis & ~by_sites, None, far=out["unlike"])
    # then the sums the class's formula fixes, on the rows left (as classify does, at the tolerance
    # of a map's noisier pixels)
    rejected |= judge_cation_sums(
        values, model.oxides, None, np.asarray(model.classes), out["top"], analysis & ~rejected, None, MAP_TOLERANCE
    )
    named = analysis & ~rejected
    codes = np.where(named, out["top"], len(model.classes)).astype(np.int16)
    return codes, np.where(named, out["p1"], np.nan).astype(np.float32)
