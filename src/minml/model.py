"""``MineralClassifier`` and ``classify``: which mineral is each analysis?

Two kinds behind one scikit-learn estimator:

* ``kind="bnn"`` -- a Bayesian neural network trained by variational inference (Bayes by
  backprop, :mod:`minml._train`, needs the ``train`` extra to fit); inference in numpy.
* ``kind="gda"`` -- Gaussian discriminant analysis: one multivariate normal per class.

Both carry the per-class Gaussians, whose best log-density is the outlier score
(``score_samples``: lower is more abnormal); ``ood_score`` in :func:`classify` is its
negative, with a threshold set at the 99.5th percentile of the training rows.
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

from minml import _gda, _nn
from minml._resources import data_path
from minml.features import MODEL_OXIDES, model_inputs
from minml.minerals import class_groups
from minml.oxides import map_columns

__all__ = ["DEFAULT_MODEL", "MineralClassifier", "SCHEMA_VERSION", "classify", "load_default"]

SCHEMA_VERSION = 1
DEFAULT_MODEL = "default-v1.npz"
OOD_QUANTILE = 0.995
_CHUNK = 32_768  # rows per step: keeps the temporaries in cache
# reader flags after which a row is no analysis at all: it gets "unknown", never a mineral
_NOT_AN_ANALYSIS = r"^(?:empty row|fractions\?|column shift\?)|; (?:empty row|fractions\?|column shift\?)"


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
    def _inputs(self, X, *, reset: bool) -> tuple[np.ndarray, pd.DataFrame | None]:
        """float32 inputs and, for tables with oxide columns, the reader's per-row flags.

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
            return values, checked.flags
        return validate_data(self, X, reset=reset, dtype=np.float32), None

    def _scaled(self, values: np.ndarray) -> np.ndarray:
        return ((values - self.scaler_mean_) / self.scaler_scale_).astype(np.float32)

    # ---- fit ----
    def fit(self, X, y):
        """Fit on analyses ``X`` (DataFrame with oxide columns, or array) and class names ``y``."""
        if self.kind not in ("bnn", "gda"):
            raise ValueError(f"kind must be 'bnn' or 'gda', got {self.kind!r}.")
        if y is None:
            raise ValueError("MineralClassifier requires y to be passed, but the target y is None: "
                             "give the class of each analysis.")
        values, _ = self._inputs(X, reset=True)
        y = column_or_1d(y, warn=True)
        if np.issubdtype(y.dtype, np.number) and not np.isfinite(y).all():
            raise ValueError("Input y contains NaN or infinity; every analysis needs a class.")
        check_classification_targets(y)
        if len(y) != len(values):
            raise ValueError(f"X has {len(values)} rows but y has {len(y)}.")
        bad = ~np.isfinite(values).all(axis=1)
        if bad.any():
            raise ValueError(
                f"{int(bad.sum())} training rows have unusable values (NaN or infinite), first at "
                f"position {int(np.flatnonzero(bad)[0])}. Run minml.check_oxides and drop flagged rows."
            )
        self.classes_, codes = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(f"Need at least two classes to classify; y has 1 class: {list(self.classes_)}.")
        known = class_groups()
        self.groups_ = np.array([known.get(str(c), str(c)) for c in self.classes_])
        self.scaler_mean_ = values.mean(axis=0, dtype=np.float64).astype(np.float32)
        scale = values.std(axis=0, dtype=np.float64).astype(np.float32)
        self.scaler_scale_ = np.where(scale > 0, scale, 1.0).astype(np.float32)
        Z = self._scaled(values)

        params = _gda.fit_gaussians(Z, codes, len(self.classes_), reg=self.gda_reg)
        if self.kind == "bnn":
            from minml._train import train_bnn

            params.update(
                train_bnn(
                    Z, codes, len(self.classes_), hidden=tuple(self.hidden), epochs=self.epochs,
                    batch_size=self.batch_size, learning_rate=self.learning_rate,
                    prior_sigma=self.prior_sigma, class_weights=self._class_weights(codes),
                    random_state=self.random_state, progress=self.progress,
                )
            )
        self.params_ = params
        self.ood_threshold_ = float(np.quantile(-self._log_density(Z), OOD_QUANTILE))
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
        return _gda.gaussian_log_density(self.params_, Z).max(axis=1)

    def _proba_scaled(self, Z: np.ndarray) -> np.ndarray:
        if self.kind == "gda":
            return _gda.gaussian_posterior(self.params_, Z).astype(np.float32)
        rng = None if self.samples is None else np.random.default_rng(self.random_state)
        return _nn.predictive_proba(self.params_, Z, samples=self.samples, rng=rng)

    def _usable(self, X):
        check_is_fitted(self, "params_")
        values, _ = self._inputs(X, reset=False)
        ok = np.isfinite(values).all(axis=1)
        Z = self._scaled(np.where(ok[:, None], values, 0.0))
        return Z, ok

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities, shape (n, n_classes), columns in ``classes_`` order.
        Rows of an oxide table with unusable values get NaN."""
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
        check_is_fitted(self, "params_")
        path = Path(path)
        arrays = {f"param_{k}": v for k, v in self.params_.items()}
        np.savez_compressed(
            path,
            schema_version=np.array(SCHEMA_VERSION),
            kind=np.array(self.kind),
            classes=np.array(self.classes_, dtype=str),
            classes_numeric=np.array(np.issubdtype(np.asarray(self.classes_).dtype, np.number)),
            groups=np.array(self.groups_, dtype=str),
            oxides=np.array(self.oxides, dtype=str),
            scaler_mean=self.scaler_mean_,
            scaler_scale=self.scaler_scale_,
            ood_threshold=np.array(self.ood_threshold_),
            hidden=np.array(self.hidden, dtype=np.int64),
            **arrays,
        )
        return path

    @classmethod
    def load(cls, path) -> MineralClassifier:
        """Read a model written by :meth:`save`."""
        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(f"No model file {str(path)!r}.")
        with np.load(path, allow_pickle=False) as data:
            version = int(data["schema_version"])
            if version != SCHEMA_VERSION:
                raise ValueError(
                    f"{path.name} has model schema version {version}; this MIN-ML reads version "
                    f"{SCHEMA_VERSION}. Retrain it with `minml train` or use a matching MIN-ML."
                )
            model = cls(kind=str(data["kind"]), hidden=tuple(int(h) for h in data["hidden"]),
                        oxides=tuple(str(o) for o in data["oxides"]))
            classes = data["classes"]
            model.classes_ = classes.astype(float if bool(data["classes_numeric"]) else object)
            model.groups_ = data["groups"].astype(object)
            model.scaler_mean_ = data["scaler_mean"]
            model.scaler_scale_ = data["scaler_scale"]
            model.n_features_in_ = len(model.scaler_mean_)
            model.ood_threshold_ = float(data["ood_threshold"])
            model.params_ = {k[len("param_"):]: data[k] for k in data.files if k.startswith("param_")}
        return model


_DEFAULT = {}


def load_default() -> MineralClassifier:
    """The shipped model (``minml/data/default-v1.npz``), loaded once."""
    if "model" not in _DEFAULT:
        path = data_path(DEFAULT_MODEL)
        if not path.is_file():
            raise FileNotFoundError(
                f"The shipped model {DEFAULT_MODEL} is missing from the package; rebuild it with `minml train`."
            )
        _DEFAULT["model"] = MineralClassifier.load(path)
    return _DEFAULT["model"]


def classify(df: pd.DataFrame, model: MineralClassifier | None = None, *, fill_missing=None,
             progress: bool = False, **check_options) -> pd.DataFrame:
    """Classify every analysis of a table.

    Parameters
    ----------
    df : pandas.DataFrame
        Analyses in wt% (any column spelling :func:`minml.map_columns` knows). Not modified.
    model : MineralClassifier, optional
        Defaults to the shipped model.
    fill_missing : float, optional
        Value for model oxides the table has no column for (by default: an error).
    progress : bool, default=False
        Show a progress bar (for tables of more than one chunk of 32,768 rows).
    **check_options
        ``suffix``, ``total_range``: see :func:`minml.check_oxides`.

    Returns
    -------
    pandas.DataFrame
        On the caller's index: ``mineral``, ``group``, ``probability``, ``uncertainty``
        (predictive entropy / log of the number of classes: 0 sure, 1 no idea),
        ``second_mineral``, ``second_probability``, ``ood_score`` (higher is less like the
        training data), ``flag`` (empty when accepted; else ';'-joined reasons).
        Rows with unusable values, empty rows, fractions and column shifts get
        ``mineral = "unknown"``.

    Examples
    --------
    >>> import pandas as pd
    >>> olivine = pd.DataFrame({"SiO2": [40.5], "TiO2": [0.0], "Al2O3": [0.03], "FeOt": [9.6],
    ...     "MnO": [0.14], "MgO": [49.3], "CaO": [0.1], "Na2O": [0.0], "K2O": [0.0],
    ...     "Cr2O3": [0.02], "P2O5": [0.0]})
    >>> classify(olivine)[["mineral", "group"]].to_numpy().tolist()
    [['olivine', 'olivine']]
    """
    model = load_default() if model is None else model
    check_is_fitted(model, "params_")
    values, checked = model_inputs(df, model.oxides, fill_missing=fill_missing,
                                   model_name="the shipped model" if model is _DEFAULT.get("model") else "the model",
                                   **check_options)
    from tqdm.auto import tqdm

    n = len(values)
    classes = np.asarray(model.classes_, dtype=object)
    groups = np.asarray(model.groups_, dtype=object)
    out = {name: np.empty(n, dtype=dtype) for name, dtype in
           [("top", np.int64), ("second", np.int64), ("p1", np.float32), ("p2", np.float32),
            ("uncertainty", np.float32), ("ood", np.float64)]}
    flags = checked.flags["flag"]
    ok = np.isfinite(values).all(axis=1)
    flagged = np.flatnonzero(flags.to_numpy() != "")
    ok[flagged] &= ~flags.iloc[flagged].str.contains(_NOT_AN_ANALYSIS).to_numpy(dtype=bool)
    log_k = np.log(len(classes))
    for start in tqdm(range(0, n, _CHUNK), desc="classifying", unit="chunk", disable=not progress or n <= _CHUNK):
        part = slice(start, start + _CHUNK)
        Z = model._scaled(np.where(ok[part, None], values[part], 0.0))
        proba = model._proba_scaled(Z)
        by_class = np.ascontiguousarray(proba.T)  # (classes, rows): reductions over classes vectorise
        rows = np.arange(proba.shape[0])
        top = by_class.argmax(axis=0)
        out["top"][part], out["p1"][part] = top, by_class[top, rows]
        entropy = -(by_class * np.log(np.maximum(by_class, 1e-12))).sum(axis=0)
        out["uncertainty"][part] = entropy / log_k
        by_class[top, rows] = -1.0
        second = by_class.argmax(axis=0)
        out["second"][part], out["p2"][part] = second, by_class[second, rows]
        out["ood"][part] = -model._log_density(Z)

    flag = flags.to_numpy(dtype=object).copy()
    far = ok & (out["ood"] > model.ood_threshold_)
    if far.any():
        note = f"unlike the training data: ood_score above {model.ood_threshold_:.1f}"
        flag[far] = np.where(flag[far] == "", note, flag[far] + "; " + note)
    n_classes = len(classes)
    group_names = sorted(set(groups))
    group_of = np.array([group_names.index(g) for g in groups] + [len(group_names)])
    top = np.where(ok, out["top"], n_classes)  # n_classes: "unknown"
    second = np.where(ok, out["second"], n_classes)
    result = pd.DataFrame(
        {
            "mineral": pd.Categorical.from_codes(top, [*classes, "unknown"]),
            "group": pd.Categorical.from_codes(group_of[top], [*group_names, ""]),
            "probability": np.where(ok, out["p1"], np.nan),
            "uncertainty": np.where(ok, out["uncertainty"], np.nan),
            "second_mineral": pd.Categorical.from_codes(second, [*classes, ""]),
            "second_probability": np.where(ok, out["p2"], np.nan),
            "ood_score": np.where(ok, out["ood"], np.nan),
            "flag": flag,
        },
        index=df.index,
    )
    return result
