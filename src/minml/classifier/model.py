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
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils import column_or_1d
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from minml.chemistry.minerals import class_groups, mineral_table
from minml.chemistry.misfit import end_member_compositions, end_member_misfit, fold_divalent
from minml.chemistry.oxides import map_columns
from minml.classifier import _gda
from minml.classifier._runtime import SCHEMA_VERSION, Runtime, standardise
from minml.classifier.calibration import Calibration, source_weights
from minml.classifier.features import MODEL_OXIDES, model_inputs, usable_rows
from minml.tables.checks import OxideCheck

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
        Class imbalance: weight each class by (n / (k n_c)) ** 0.5, by n / (k n_c), or not at all.
    gda_reg : float, default=1e-3
        Diagonal added to each class covariance (scaled units).
    samples : int, optional
        Monte Carlo draws for the predictive (bnn); None for the deterministic analytic one.
    random_state : int, default=0
    oxides : tuple of str, default=MODEL_OXIDES
        The inputs, when ``X`` is a DataFrame.
    progress : bool, default=False

    Attributes
    ----------
    classes_ : numpy.ndarray of str
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

    # ---- input ----
    def _inputs(self, X, *, reset: bool) -> tuple[np.ndarray, OxideCheck | None]:
        """float32 inputs and, for tables with oxide columns, what the reader made of them.

        A DataFrame whose columns name oxides goes through :func:`minml.check_oxides`
        (unusable cells become NaN, flagged per row); anything else is a plain numeric
        array, validated the scikit-learn way.
        """
        if isinstance(X, pd.DataFrame) and map_columns(X.columns).mapped:
            values, checked = model_inputs(X, self.oxides, model_name="the model")
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

        ``misfit_values`` (rows x ``oxides``, wt%), if given, are what the end-member misfit
        thresholds are set on instead of ``X``: ``X`` with NiO, CoO and ZnO folded into
        ``FeOt`` (:func:`minml.chemistry.misfit.fold_divalent`), as :func:`minml.classify` folds them.
        A DataFrame ``X`` is folded from its own columns.
        """
        if self.kind not in ("bnn", "gda"):
            raise ValueError(f"kind must be 'bnn' or 'gda', got {self.kind!r}.")
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
        bad = ~usable_rows(values)
        if bad.any():
            raise ValueError(
                f"{int(bad.sum())} training rows have unusable values (NaN or infinite), first at "
                f"position {int(np.flatnonzero(bad)[0])}. Run minml.check_oxides and drop flagged rows."
            )
        self.classes_, codes = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(f"Need at least two classes to classify; y has 1 class: {list(self.classes_)}.")
        counts = np.bincount(codes, minlength=len(self.classes_))
        if (counts < 2).any():
            lonely = [repr(str(c)) for c in self.classes_[counts < 2]]
            which = f"Class {lonely[0]} has" if len(lonely) == 1 else f"Classes {', '.join(lonely)} have"
            raise ValueError(
                f"{which} one analysis; a class needs at least 2 (its Gaussian has a covariance): "
                "add analyses or drop those rows."
            )
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
            The data the model was fitted on (or data like it).
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
        values, _ = self._inputs(X, reset=False)
        y = column_or_1d(y)
        classes, proba = held_out_proba(self, values, y, groups=groups, folds=folds, extra=extra, progress=progress)
        if not np.array_equal(classes, self.classes_):
            raise ValueError(
                f"calibrate needs the classes the model was fitted on: {list(self.classes_)}; "
                f"y (with extra) has {list(classes)}."
            )
        weights = None if groups is None else source_weights(groups)
        self.calibration_ = Calibration.fit(proba, np.searchsorted(self.classes_, y), weights)
        return self

    def _class_weights(self, codes: np.ndarray) -> np.ndarray | None:
        counts = np.bincount(codes, minlength=len(self.classes_)).astype(np.float64)
        balanced = counts.sum() / (len(counts) * counts)
        if self.class_weight == "balanced":
            return balanced
        if self.class_weight == "sqrt_balanced":
            return np.sqrt(balanced)
        if self.class_weight is None:
            return None
        raise ValueError(f"class_weight must be 'sqrt_balanced', 'balanced' or None, got {self.class_weight!r}.")

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
        after :meth:`calibrate`). Rows of an oxide table with unusable values get NaN."""
        Z, ok = self._usable(X)
        proba = self._proba_scaled(Z)
        proba[~ok] = np.nan
        return proba

    def predict(self, X) -> np.ndarray:
        """Most probable class per row (rows of an oxide table with unusable values: ``"unknown"``)."""
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
        """Read a model written by :meth:`save`."""
        return cls.from_runtime(Runtime.load(path))

    @classmethod
    def from_runtime(cls, runtime: Runtime) -> MineralClassifier:
        """The estimator of a fitted :class:`~minml.classifier._runtime.Runtime`."""
        model = cls(kind=runtime.kind, hidden=runtime.hidden, oxides=runtime.oxides)
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
