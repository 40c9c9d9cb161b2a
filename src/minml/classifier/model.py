"""``MineralClassifier``: the scikit-learn estimator behind MIN-ML's models.

Two kinds behind one scikit-learn estimator:

* ``kind="bnn"`` -- a Bayesian neural network trained by variational inference (Bayes by
  backprop, :mod:`minml.training._torch`, needs the ``train`` extra to fit); inference in numpy.
* ``kind="gda"`` -- Gaussian discriminant analysis: one multivariate normal per class.

Both carry the per-class Gaussians, whose best log-density is the outlier score
(``score_samples``: lower is more abnormal); ``ood_score`` in :func:`minml.classify` is its
negative, with a threshold set at the 99.5th percentile of the training rows.  Both carry
each class's end-member compositions and a misfit threshold (a fence on the misfit of the
class's training rows, :mod:`minml.chemistry.misfit`), and after :meth:`MineralClassifier.calibrate`
a temperature and conformal quantiles fitted on held-out rows (:mod:`minml.classifier.calibration`).
Models are saved as one ``.npz`` (no pickle): arrays, class names, groups, oxide list,
scaler, thresholds, schema version.

Training labels that name a class of ``minerals.toml`` under another spelling or a synonym
(``Amphibole``, ``Cpx``, ``Tridymite``: :func:`minml.chemistry.labels.fitted_class`) are fitted
as that class, so that its end-members, group and species apply; other labels are a user's own
classes, fitted as given.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils import column_or_1d
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from minml.chemistry.labels import fitted_class
from minml.chemistry.minerals import class_groups, mineral_table
from minml.chemistry.misfit import end_member_compositions, end_member_misfit, fold_divalent
from minml.chemistry.oxides import map_columns
from minml.classifier import _gda
from minml.classifier._judge import sum_with_nominal
from minml.classifier._runtime import SCHEMA_VERSION, Runtime, standardise
from minml.classifier.calibration import Calibration, source_weights
from minml.classifier.features import MINIMUM_OXIDES, MODEL_OXIDES, missing_columns, model_inputs, usable_rows
from minml.tables.checks import OxideCheck, check_oxides
from minml.tables.reasons import Reason

__all__ = ["SCHEMA_VERSION", "MineralClassifier"]

OOD_QUANTILE = 0.995
MISFIT_FENCE = 4.0
MISFIT_QUANTILE = 0.999
"""Misfit threshold per class, from the class's training rows: the smaller of the 99.9th
percentile and median + MISFIT_FENCE x (90th percentile - median). The fence on the bulk
matters where the compilations hold a few mislabelled rows (alkali feldspar filed as biotite,
olivine as amphibole) that widen the 99.9th percentile to 20-35 wt%; the percentile where
the bulk spreads wide (tourmaline, whose B2O3, H2O and Li2O no model input sees)."""


def _targets(y, n_rows: int) -> np.ndarray:
    """``y`` as a 1-D array of class names, one per row of X; an error for missing or
    non-finite labels, targets that are no classes, or another length."""
    y = column_or_1d(y, warn=True)
    if np.issubdtype(y.dtype, np.number) and not np.isfinite(y).all():
        raise ValueError("Input y contains NaN or infinity; every analysis needs a class.")
    missing = pd.isna(y)
    if missing.any():
        raise ValueError(
            f"y has {int(np.sum(missing))} missing labels (None or NaN), first at position "
            f"{int(np.flatnonzero(missing)[0])}; every analysis needs a class: drop those rows."
        )
    check_classification_targets(y)
    if len(y) != n_rows:
        raise ValueError(f"X has {n_rows} rows but y has {len(y)}.")
    return y


_CLASS_WEIGHTS = ("sqrt_balanced", "balanced")  # or None
_SHOWN = 5  # positions named per reason in the refusal of flagged rows
_NO_ANALYSIS = (
    (Reason.EMPTY_ROW, "empty rows (no oxide values)"),
    (Reason.FRACTIONS, "fractions, not wt% (sums near 1)"),
    (Reason.COLUMN_SHIFT, "column shifts (one column holds the total, or one oxide is ~100)"),
)


def _renamed(y: np.ndarray, classes=None) -> tuple[np.ndarray, dict[str, str]]:
    """``y`` with each label that names a class of minerals.toml under another spelling or a
    synonym written as that class (:func:`minml.chemistry.labels.fitted_class`), and those
    labels with their class.  With ``classes`` (a fitted model's), only labels that are none of
    them and whose class is one are renamed."""
    if y.dtype.kind not in "OUS":  # numbers name no class
        return y, {}
    known = None if classes is None else set(np.asarray(classes).tolist())
    renamed = {}
    for label in pd.unique(y):
        if known is not None and label in known:
            continue
        name = fitted_class(label)
        if name is not None and name != label and (known is None or name in known):
            renamed[str(label)] = name
    if not renamed:
        return y, {}
    out = [renamed.get(label, label) if isinstance(label, str) else label for label in y.tolist()]
    return (np.array(out) if y.dtype.kind == "U" else np.array(out, dtype=object)), renamed


def _say_renamed(renamed: dict[str, str]) -> None:
    """One warning naming the labels fitted as a class of minerals.toml, grouped by class."""
    by_class: dict[str, list[str]] = {}
    for label, name in renamed.items():
        by_class.setdefault(name, []).append(label)
    shown = "; ".join(
        f"{', '.join(map(repr, sorted(labels)))} -> {name!r}" for name, labels in sorted(by_class.items())
    )
    warnings.warn(
        f"Labels fitted as the classes of minerals.toml they name: {shown}. The model answers in these names "
        "(predict, classify, validate), with their end-members, groups and species; score and calibrate rename "
        "the labels as fit does. To keep every label as a class of its own, pass rename_labels=False.",
        UserWarning,
        stacklevel=3,
    )


def _positions(rows: np.ndarray) -> str:
    """The first positions of ``rows`` (a boolean mask), and how many more."""
    where = np.flatnonzero(rows)
    text = ", ".join(str(int(i)) for i in where[:_SHOWN])
    return f"position{'s' if len(where) > 1 else ''} {text}" + (
        f" and {len(where) - _SHOWN} more" if len(where) > _SHOWN else ""
    )


def _refuse_flagged(values: np.ndarray, checked: OxideCheck | None, y: np.ndarray, what: str) -> None:
    """Raise a ValueError naming the training rows that are no usable analysis, by reason and
    position: unusable values (NaN) in any ``values``; in a checked table (``checked``) also
    the rows :func:`minml.check_oxides` flags as no analysis (empty, fractions, column shift)
    and the oxide sums outside its range -- judged with the label's class's nominal unanalysed
    species (tourmaline's B2O3 and H2O), as the training build and :func:`minml.classify` judge
    them, and not judged where the table has no column for an essential species of the label's
    class (ZrO2 of zircon: the sum cannot be weighed without it)."""
    bad = ~usable_rows(values)
    if bad.any():
        raise ValueError(
            f"{int(bad.sum())} training rows have unusable values (NaN or infinite), first at "
            f"position {int(np.flatnonzero(bad)[0])}. Run minml.check_oxides and drop flagged rows."
        )
    if checked is None:
        return
    reasons = np.asarray(checked.reasons)
    found: list[tuple[str, np.ndarray]] = []
    for bit, name in _NO_ANALYSIS:
        found.append((name, (reasons & np.uint16(bit)) != 0))
    other = np.asarray(checked.no_analysis) & ~np.logical_or.reduce([rows for _, rows in found])
    found.append(("rows that are no analysis", other))
    if checked.total_range is not None:
        outside = np.asarray(checked.total_outside) & ~np.asarray(checked.no_analysis)
        if outside.any():
            outside = outside & ~_total_explained(checked, y, outside)
        lo, hi = checked.total_range
        found.append((f"oxide sums outside {lo:g}-{hi:g} wt%", outside))
    found = [(name, rows) for name, rows in found if rows.any()]
    if not found:
        return
    count = int(np.logical_or.reduce([rows for _, rows in found]).sum())
    listed = "; ".join(f"{int(rows.sum())} {name} at {_positions(rows)}" for name, rows in found)
    raise ValueError(
        f"{what} refuses {count} rows that minml.check_oxides flags as no usable analysis: {listed} "
        "(positions count rows from 0). Drop them first (table[minml.check_oxides(table).ok] keeps the rows it "
        "does not flag) or correct them in the table. A phase whose true oxide sum lies outside that range (its "
        "H2O unanalysed, say) can be fitted from a numeric array of the model's oxides, which is taken as given."
    )


def _require_majors(checked: OxideCheck, oxides) -> None:
    """Raise a ValueError when the table has no column for a major oxide the model reads
    (:data:`~minml.classifier.features.MINIMUM_OXIDES`), with the fixes that work for the
    estimator (a misspelt header is left to :func:`~minml.classifier.features.model_inputs`,
    which names it)."""
    from minml.classifier.features import _iron_hint, _misspelt

    needed = [name for name in MINIMUM_OXIDES if name in missing_columns(checked, oxides)]
    if not needed or _misspelt(checked, needed):
        return
    hints = [f"{c!r} (did you mean {h!r}?)" for c, h in checked.mapping.hints.items()]
    hints += [f"{c!r} ({n})" for c, n in checked.mapping.notes.items()]
    unrecognised = f"\nUnrecognised: {', '.join(hints)}" if hints else ""
    zeros = ", ".join(f"{name}=0.0" for name in needed)
    raise ValueError(
        "Oxide columns do not match the model.\n"
        f"Missing: {needed}{unrecognised}{_iron_hint(checked, needed)}\n"
        f"The estimator reads at least the major oxides {', '.join(MINIMUM_OXIDES)} from a table (other oxides "
        f"without a column are read as not analysed). Add the missing columns (0.0 if below detection: "
        f"table.assign({zeros})), or classify with minml.classify(table, model=model, fill_missing=0.0), "
        "which reads them as 0."
    )


def _total_explained(checked: OxideCheck, y: np.ndarray, outside: np.ndarray) -> np.ndarray:
    """Rows of ``outside`` whose oxide sum the label's class accounts for: within the range with
    the class's nominal unanalysed species, or not to be judged (an essential species of the
    class has no column in the table)."""
    explained = np.zeros(len(outside), dtype=bool)
    table = mineral_table()
    columns = set(checked.mapping.mapped.values())
    labels = np.asarray(y, dtype=object)
    for name in pd.unique(labels[outside]):
        mineral = table.get(str(name))
        if mineral is None:
            continue
        rows = np.flatnonzero(outside & (labels == name))
        if any(species not in columns for species in mineral.essential):
            explained[rows] = True
            continue
        explained[rows] = sum_with_nominal(checked, rows, mineral)[1]
    return explained


class MineralClassifier(ClassifierMixin, BaseEstimator):
    """Mineral classifier with calibrated probabilities and an outlier score.

    Parameters
    ----------
    kind : {"bnn", "gda"}, default="bnn"
        Bayesian neural network, or the Gaussian discriminant baseline.
    hidden : tuple of int, default=(32, 32)
        Hidden layer widths (bnn).
    epochs : int, default=30
    batch_size : int, default=512
    learning_rate : float, default=3e-3
    prior_sigma : float, default=1.0
        Prior standard deviation of every weight (bnn).
    class_weight : {"sqrt_balanced", "balanced", None}, default="sqrt_balanced"
        Class imbalance: weight each class by (n / (k n_c)) ** 0.5, by n / (k n_c), or not at all
        (bnn; the Gaussians of both kinds are fitted per class). Other values are refused for
        every kind.
    gda_reg : float, default=1e-3
        Diagonal added to each class covariance (scaled units).
    samples : int, optional
        Monte Carlo draws for the predictive (bnn); None for the deterministic analytic one.
    random_state : int, default=0
    oxides : tuple of str, default=MODEL_OXIDES
        The inputs, when ``X`` is a DataFrame.
    progress : bool, default=False
    rename_labels : bool, default=True
        Fit each label that names a class of ``minerals.toml`` under another spelling or a
        synonym (``Amphibole``, ``Cpx``, ``Tridymite``; :func:`minml.chemistry.labels.fitted_class`)
        as that class (``amphibole``, ``clinopyroxene``, ``quartz``), named once in a warning,
        so that the class's end-members, group and species apply and :func:`minml.validate`
        compares in the model's names; labels that name no class or several (``FeTiOxide``) are
        fitted as given.  False fits every label as given (a scheme of your own, such as augite
        and pigeonite apart; such classes get no end-members).

    Attributes
    ----------
    classes_ : numpy.ndarray
        The classes: the labels of ``y`` (renamed as ``rename_labels`` says), sorted.
    groups_ : numpy.ndarray of str
    n_features_in_ : int
    scaler_mean_, scaler_scale_ : numpy.ndarray
    params_ : dict of str to numpy.ndarray
        Network posterior (bnn) and per-class Gaussians (both kinds).
    ood_threshold_ : float
    members_, member_class_, misfit_threshold_ : numpy.ndarray
        End-member compositions of the classes, their class, and per-class misfit thresholds.
    calibration_ : Calibration or None
        Set by :meth:`calibrate`.
    """

    def __init__(
        self,
        kind="bnn",
        hidden=(32, 32),
        epochs=30,
        batch_size=512,
        learning_rate=3e-3,
        prior_sigma=1.0,
        class_weight="sqrt_balanced",
        gda_reg=1e-3,
        samples=None,
        random_state=0,
        oxides=MODEL_OXIDES,
        progress=False,
        rename_labels=True,
    ):
        self.kind = kind
        self.hidden = hidden
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.prior_sigma = prior_sigma
        self.class_weight = class_weight
        self.gda_reg = gda_reg
        self.samples = samples
        self.random_state = random_state
        self.oxides = oxides
        self.progress = progress
        self.rename_labels = rename_labels

    # ---- input ----
    def _inputs(self, X, *, reset: bool) -> tuple[np.ndarray, OxideCheck | None]:
        """float32 inputs and, for tables with oxide columns, what the reader made of them.

        A DataFrame whose columns name oxides goes through :func:`minml.check_oxides`
        (unusable cells become NaN, flagged per row); anything else is a plain numeric
        array, validated the scikit-learn way.
        """
        if isinstance(X, pd.DataFrame) and map_columns(X.columns).mapped:
            checked = check_oxides(X, notes=False)
            _require_majors(checked, self.oxides)
            values, checked = model_inputs(checked, self.oxides, model_name="the model")
            if reset:
                self.n_features_in_ = values.shape[1]
            elif values.shape[1] != self.n_features_in_:
                raise ValueError(f"X has {values.shape[1]} features, but the model reads {self.n_features_in_}.")
            return values, checked
        return validate_data(self, X, reset=reset, dtype=np.float32), None

    def _runtime(self) -> Runtime:
        """The fitted model as plain arrays (what ``classify`` and ``.npz`` files use)."""
        check_is_fitted(self, "params_")
        return Runtime(
            kind=self.kind,
            classes=np.asarray(self.classes_),
            groups=np.asarray(self.groups_),
            oxides=tuple(self.oxides),
            scaler_mean=self.scaler_mean_,
            scaler_scale=self.scaler_scale_,
            params=self.params_,
            ood_threshold=getattr(self, "ood_threshold_", np.inf),
            hidden=tuple(self.hidden),
            members=self.members_,
            member_class=self.member_class_,
            misfit_threshold=self.misfit_threshold_,
            calibration=getattr(self, "calibration_", None),
            samples=self.samples,
            random_state=self.random_state,
        )

    def _scaled(self, values: np.ndarray) -> np.ndarray:
        return standardise(values, self.scaler_mean_, self.scaler_scale_)

    # ---- fit ----
    def fit(self, X, y, *, misfit_values=None):
        """Fit on analyses ``X`` (DataFrame with oxide columns, or array) and class names ``y``.

        Parameters
        ----------
        X : pandas.DataFrame or array-like
            A table of analyses in wt% (any column spelling :func:`minml.map_columns` knows;
            not modified), or a numeric array of the ``oxides`` in order, fitted as given.  The
            rows of a table that :func:`minml.check_oxides` flags as no usable analysis are
            refused with their positions: unusable values, empty rows, fractions, column
            shifts, and oxide sums outside 88-105 wt% (with the nominal unanalysed species of
            the label's class, tourmaline's B2O3 and H2O; not judged where the table has no
            column for an essential species of the class, ZrO2 of zircon).
        y : array-like
            The class of each row; labels that name a class of ``minerals.toml`` are fitted as
            it (``rename_labels``).
        misfit_values : numpy.ndarray, optional
            Rows x ``oxides`` (wt%): what the end-member misfit thresholds are set on instead of
            ``X``: ``X`` with NiO, CoO and ZnO folded into ``FeOt``
            (:func:`minml.chemistry.misfit.fold_divalent`), as :func:`minml.classify` folds them.
            A DataFrame ``X`` is folded from its own columns.

        Returns
        -------
        self
        """
        self._check_params()
        if y is None:
            raise ValueError(
                "MineralClassifier requires y to be passed, but the target y is None: give the class of each analysis."
            )
        values, checked = self._inputs(X, reset=True)
        if misfit_values is None:
            misfit_values = values if checked is None else fold_divalent(values, self.oxides, checked.oxides)
        elif np.shape(misfit_values) != values.shape:
            raise ValueError(
                f"misfit_values has shape {np.shape(misfit_values)}, X {values.shape}: one row per "
                "analysis, one column per model oxide."
            )
        y = _targets(y, len(values))
        y, renamed = _renamed(y) if self.rename_labels else (y, {})
        classes, codes = np.unique(y, return_inverse=True)
        if len(classes) < 2:
            raise ValueError(f"Need at least two classes to classify; y has 1 class: {list(classes)}.")
        counts = np.bincount(codes, minlength=len(classes))
        if (counts < 2).any():
            lonely = [repr(str(c)) for c in classes[counts < 2]]
            which = f"Class {lonely[0]} has" if len(lonely) == 1 else f"Classes {', '.join(lonely)} have"
            raise ValueError(
                f"{which} one analysis; a class needs at least 2 (its Gaussian has a covariance): "
                "add analyses or drop those rows."
            )
        _refuse_flagged(values, checked, y, "MineralClassifier.fit")
        if renamed:
            _say_renamed(renamed)
        self.classes_ = classes
        known = class_groups()
        self.groups_ = np.array([known.get(str(c), str(c)) for c in self.classes_])
        self.scaler_mean_ = values.mean(axis=0, dtype=np.float64).astype(np.float32)
        scale = values.std(axis=0, dtype=np.float64).astype(np.float32)
        self.scaler_scale_ = np.where(scale > 0, scale, 1.0).astype(np.float32)
        Z = self._scaled(values)

        params = _gda.fit_gaussians(Z, codes, len(self.classes_), reg=self.gda_reg)
        if self.kind == "bnn":
            from minml.training._torch import train_bnn

            params.update(
                train_bnn(
                    Z,
                    codes,
                    len(self.classes_),
                    hidden=tuple(self.hidden),
                    epochs=self.epochs,
                    batch_size=self.batch_size,
                    learning_rate=self.learning_rate,
                    prior_sigma=self.prior_sigma,
                    class_weights=self._class_weights(codes),
                    random_state=self.random_state,
                    progress=self.progress,
                )
            )
        self.params_ = params
        self.calibration_ = None
        self._fit_misfit(np.asarray(misfit_values, dtype=np.float64), codes)
        self.ood_threshold_ = float(np.quantile(-self._log_density(Z), OOD_QUANTILE))
        return self

    def _fit_misfit(self, values: np.ndarray, codes: np.ndarray) -> None:
        """End-member compositions of the classes minerals.toml knows, and the misfit
        threshold of each from its training rows (``MISFIT_FENCE``, ``MISFIT_QUANTILE``)."""
        known = mineral_table()
        members, owner = [], []
        self.misfit_threshold_ = np.full(len(self.classes_), np.inf)
        for code, name in enumerate(self.classes_):
            if str(name) not in known:
                continue
            table = end_member_compositions(str(name), tuple(self.oxides))
            members.append(table)
            owner += [code] * len(table)
            misfit = end_member_misfit(values[codes == code], table)[0]
            if np.isfinite(misfit).any():
                median, q90, high = np.nanquantile(misfit, [0.5, 0.9, MISFIT_QUANTILE])
                self.misfit_threshold_[code] = float(min(high, median + MISFIT_FENCE * (q90 - median)))
        self.members_ = np.vstack(members) if members else np.zeros((0, len(self.oxides)))
        self.member_class_ = np.array(owner, dtype=np.int64)

    def calibrate(self, X, y, *, groups=None, folds: int = 5, extra=None, progress: bool = False):
        """Fit the calibration on held-out probabilities of clones of this estimator.

        Parameters
        ----------
        X, y
            The data the model was fitted on (or data like it), refused as :meth:`fit` refuses
            them (rows that are no usable analysis); labels renamed as :meth:`fit` renames them.
        groups : array-like, optional
            Source of each row: folds by source, and each source weighs the same in the
            temperature's fit (recommended: new databases resemble unseen publications);
            stratified folds and equal rows without.
        folds : int, default=5
        extra : tuple of numpy.ndarray, optional
            ``(X, y)`` rows added to every training fold, never held out (synthetic analyses).
        progress : bool, default=False

        Returns
        -------
        self
            With ``calibration_`` (:class:`minml.classifier.calibration.Calibration`).
        """
        from minml.classifier._held_out import held_out_proba  # scikit-learn's folds load only here

        check_is_fitted(self, "params_")
        values, checked = self._inputs(X, reset=False)
        y = self._as_classes(_targets(y, len(values)))
        _refuse_flagged(values, checked, y, "MineralClassifier.calibrate")
        if extra is not None:
            extra = (extra[0], self._as_classes(column_or_1d(extra[1])))
        classes, proba = held_out_proba(self, values, y, groups=groups, folds=folds, extra=extra, progress=progress)
        if not np.array_equal(classes, self.classes_):
            raise ValueError(
                f"calibrate needs the classes the model was fitted on: {list(self.classes_)}; "
                f"y (with extra) has {list(classes)}."
            )
        weights = None if groups is None else source_weights(groups)
        self.calibration_ = Calibration.fit(proba, np.searchsorted(self.classes_, y), weights)
        return self

    def _as_classes(self, y: np.ndarray) -> np.ndarray:
        """Labels ``y`` in the model's classes, renamed as :meth:`fit` renames them (``rename_labels``)."""
        return _renamed(np.asarray(y), self.classes_)[0] if self.rename_labels else np.asarray(y)

    def score(self, X, y, sample_weight=None) -> float:
        """Mean accuracy of :meth:`predict` on ``X`` against ``y``, whose labels are read as
        :meth:`fit` reads them (``Amphibole`` counts as the class ``amphibole`` it was fitted as).

        Parameters
        ----------
        X : pandas.DataFrame or array-like
        y : array-like
        sample_weight : array-like, optional

        Returns
        -------
        float
        """
        from sklearn.metrics import accuracy_score

        check_is_fitted(self, "params_")
        return float(accuracy_score(self._as_classes(column_or_1d(y)), self.predict(X), sample_weight=sample_weight))

    def _check_params(self) -> None:
        """Refuse parameters that are none of the documented values, for every kind."""
        if self.kind not in ("bnn", "gda"):
            raise ValueError(f"kind must be 'bnn' or 'gda', got {self.kind!r}.")
        weight = self.class_weight
        if weight is not None and not (isinstance(weight, str) and weight in _CLASS_WEIGHTS):
            raise ValueError(f"class_weight must be 'sqrt_balanced', 'balanced' or None, got {self.class_weight!r}.")

    def _class_weights(self, codes: np.ndarray) -> np.ndarray | None:
        counts = np.bincount(codes, minlength=len(self.classes_)).astype(np.float64)
        balanced = counts.sum() / (len(counts) * counts)
        if self.class_weight == "balanced":
            return balanced
        if self.class_weight == "sqrt_balanced":
            return np.sqrt(balanced)
        return None

    # ---- predict ----
    def _log_density(self, Z: np.ndarray) -> np.ndarray:
        return self._runtime().log_density(Z)

    def _proba_scaled(self, Z: np.ndarray) -> np.ndarray:
        return self._runtime().calibrated_proba(Z)

    def _usable(self, X):
        check_is_fitted(self, "params_")
        values, _ = self._inputs(X, reset=False)
        ok = usable_rows(values)
        Z = self._scaled(np.where(ok[:, None], values, 0.0))
        return Z, ok

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities, shape (n, n_classes), columns in ``classes_`` order (calibrated
        after :meth:`calibrate`).

        The classifier's answer for every row with usable values, as :meth:`predict` gives it:
        the analysis itself is not judged (see :meth:`predict`).  Rows of an oxide table with
        unusable values get NaN.
        """
        Z, ok = self._usable(X)
        proba = self._proba_scaled(Z)
        proba[~ok] = np.nan
        return proba

    def predict(self, X) -> np.ndarray:
        """Most probable class per row: the classifier's answer, as scikit-learn's tools expect it.

        Every row with usable values is named one of ``classes_``, whatever it is: ``predict``
        does not judge the analysis (an empty row, fractions, an oxide sum of 53 wt%), nor
        whether it resembles the training data (:meth:`score_samples`), nor whether its
        class's end-members and sites explain it.  :func:`minml.classify` with ``model=`` this
        estimator judges all of these and answers ``unknown``, with the reason in ``flag``,
        where one fails.  Rows of an oxide table with unusable values (NaN, text) are
        ``"unknown"`` here too.

        Parameters
        ----------
        X : pandas.DataFrame or array-like

        Returns
        -------
        numpy.ndarray
            Of ``classes_``' dtype; of object dtype where a row is ``"unknown"``.
        """
        proba = self.predict_proba(X)
        ok = np.isfinite(proba).all(axis=1)
        out = self.classes_[np.nan_to_num(proba, nan=0.0).argmax(axis=1)]
        if not ok.all():
            out = out.astype(object)
            out[~ok] = "unknown"
        return out

    def score_samples(self, X) -> np.ndarray:
        """Outlier score: best class-conditional Gaussian log-density (lower is more abnormal)."""
        Z, ok = self._usable(X)
        score = self._log_density(Z)
        score[~ok] = -np.inf
        return score

    # ---- persistence ----
    def save(self, path) -> Path:
        """Write the fitted model to one ``.npz`` file (no pickle)."""
        return self._runtime().save(path)

    @classmethod
    def load(cls, path) -> MineralClassifier:
        """Read a model written by :meth:`save`: it predicts as the saved estimator did, bit for
        bit (``samples`` and ``random_state`` included), with classes of the same dtype."""
        return cls.from_runtime(Runtime.load(path))

    @classmethod
    def from_runtime(cls, runtime: Runtime) -> MineralClassifier:
        """The estimator of a fitted :class:`~minml.classifier._runtime.Runtime`."""
        model = cls(
            kind=runtime.kind,
            hidden=runtime.hidden,
            oxides=runtime.oxides,
            samples=runtime.samples,
            random_state=runtime.random_state,
        )
        model.classes_ = runtime.classes
        model.groups_ = runtime.groups
        model.scaler_mean_ = runtime.scaler_mean
        model.scaler_scale_ = runtime.scaler_scale
        model.n_features_in_ = len(runtime.scaler_mean)
        model.ood_threshold_ = runtime.ood_threshold
        model.params_ = runtime.params
        model.members_ = runtime.members
        model.member_class_ = runtime.member_class
        assert runtime.misfit_threshold is not None  # Runtime.__post_init__ fills it
        model.misfit_threshold_ = runtime.misfit_threshold
        model.calibration_ = runtime.calibration
        return model
