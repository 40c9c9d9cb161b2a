"""A fitted model as plain arrays: what inference needs, in numpy only.

:class:`Runtime` is what ``classify`` runs and what a ``.npz`` model file holds (no pickle):
kind, classes and their groups, the oxide inputs, the scaler, the network posterior and
per-class Gaussians, the outlier threshold, the classes' end-member compositions with their
misfit thresholds, the calibration (temperature, conformal quantiles) and a schema version.  It imports neither
scikit-learn nor torch, so ``minml classify`` starts fast.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from minml._parallel import run_in_threads
from minml.chemistry.misfit import end_member_misfit
from minml.classifier import _gda, _nn
from minml.classifier.calibration import Calibration
from minml.io._npz import open_npz, save_npz

__all__ = ["SCHEMA_VERSION", "Runtime", "standardise"]

SCHEMA_VERSION = 2
"""Version 2 added the end-member misfit and the calibration; version 1 files still load
(without them).  Version 2 files written since also hold ``samples``, ``random_state`` and the
classes' dtype (numbers as numbers); files without them load as before (the analytic
predictive, seed 0, numbers as float, text as object)."""
_READABLE = (1, 2)
_SERIAL_ROWS = 2048  # fewer rows are fitted on the calling thread: starting threads costs more than they save
_REQUIRED = ("schema_version", "kind", "classes", "oxides", "scaler_mean", "hidden")  # in every schema version


def standardise(values: np.ndarray, mean: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """(values - mean) / scale as float32: the models' input scaling."""
    return ((values - mean) / scale).astype(np.float32)


@dataclass
class Runtime:
    """A fitted classifier, ready to predict.

    Attributes
    ----------
    kind : {"bnn", "gda"}
    classes, groups : numpy.ndarray
        Class names and the group of each.
    oxides : tuple of str
        The inputs, in order.
    scaler_mean, scaler_scale : numpy.ndarray of float32
    params : dict of str to numpy.ndarray
        Network posterior (``W{i}_mu`` ...) and per-class Gaussians (``gda_*``).
    ood_threshold : float
        ``ood_score`` above this is flagged (99.5th percentile of the training rows).
    hidden : tuple of int
    members : numpy.ndarray
        End-member compositions (wt% of ``oxides``) of all classes, stacked.
    member_class : numpy.ndarray of int
        The class (index into ``classes``) of each row of ``members``.
    misfit_threshold : numpy.ndarray
        Per class: misfit (wt%) above which a row is no member of it (from the class's
        training rows, see ``minml.classifier.model.MISFIT_FENCE``; infinite for classes without end-members).
    calibration : Calibration, optional
    samples : int, optional
        Monte Carlo draws for the predictive; None for the analytic one.
    random_state : int or None
        Seed of the Monte Carlo draws.
    """

    kind: str
    classes: np.ndarray
    groups: np.ndarray
    oxides: tuple
    scaler_mean: np.ndarray
    scaler_scale: np.ndarray
    params: dict = field(repr=False)
    ood_threshold: float = np.inf
    hidden: tuple = ()
    members: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)), repr=False)
    member_class: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64), repr=False)
    misfit_threshold: np.ndarray | None = field(default=None, repr=False)
    calibration: Calibration | None = field(default=None, repr=False)
    samples: int | None = None
    random_state: int | None = 0

    def __post_init__(self):
        if self.misfit_threshold is None:
            self.misfit_threshold = np.full(len(self.classes), np.inf)

    def scaled(self, values: np.ndarray) -> np.ndarray:
        """Standardised float32 inputs."""
        return standardise(values, self.scaler_mean, self.scaler_scale)

    def proba(self, Z: np.ndarray) -> np.ndarray:
        """Class probabilities of scaled inputs, shape (n, n_classes)."""
        if self.kind == "gda":
            return _gda.gaussian_posterior(self.params, Z).astype(np.float32)
        rng = None if self.samples is None else np.random.default_rng(self.random_state)
        return _nn.predictive_proba(self.params, Z, samples=self.samples, rng=rng)

    def calibrated_proba(self, Z: np.ndarray) -> np.ndarray:
        """:meth:`proba`, calibrated where the model carries a calibration."""
        if self.calibration is None:
            return self.proba(Z)
        if self.kind == "bnn":  # the network applies the temperature to its logits: no extra pass
            rng = None if self.samples is None else np.random.default_rng(self.random_state)
            return _nn.predictive_proba(
                self.params, Z, samples=self.samples, rng=rng, temperature=self.calibration.temperature
            )
        return self.calibration.apply(self.proba(Z))

    def misfit(self, values: np.ndarray, codes: np.ndarray) -> np.ndarray:
        """Stoichiometric misfit (wt%) of each row of unscaled ``values`` under class ``codes``
        (NaN for classes without end-members; see :mod:`minml.chemistry.misfit`)."""
        out = np.full(len(values), np.nan)

        def fit(code):  # one class's rows; the classes run on a few threads, largest first
            members = self.members[self.member_class == code]
            if len(members):
                rows = codes == code
                out[rows] = end_member_misfit(values[rows], members)[0]

        present, counts = np.unique(codes, return_counts=True)
        order = present[np.argsort(-counts, kind="stable")]
        if len(values) < _SERIAL_ROWS:  # a few rows: starting threads costs more than they save
            for code in order:
                fit(code)
        else:
            run_in_threads(fit, order)
        return out

    def log_density(self, Z: np.ndarray) -> np.ndarray:
        """Best class-conditional Gaussian log-density of scaled inputs (lower: more abnormal)."""
        return _gda.gaussian_log_density(self.params, Z).max(axis=1)

    def save(self, path) -> Path:
        """Write one ``.npz`` (no pickle): :meth:`load` gives back a runtime that predicts the
        same, bit for bit, with classes of the same dtype."""
        classes = np.asarray(self.classes)
        numeric = classes.dtype.kind in "biuf"  # numbers (and booleans) are kept as they are
        return save_npz(
            path,
            dict(
                schema_version=np.array(SCHEMA_VERSION),
                kind=np.array(self.kind),
                classes=classes if numeric else np.array(classes, dtype=str),
                classes_numeric=np.array(numeric),  # what readers before classes_dtype read
                classes_dtype=np.array(classes.dtype.str),
                samples=_optional_int(self.samples, "samples"),
                random_state=_optional_int(self.random_state, "random_state"),
                groups=np.array(self.groups, dtype=str),
                oxides=np.array(self.oxides, dtype=str),
                scaler_mean=self.scaler_mean,
                scaler_scale=self.scaler_scale,
                ood_threshold=np.array(self.ood_threshold),
                hidden=np.array(self.hidden, dtype=np.int64),
                members=np.asarray(self.members, dtype=np.float64),
                member_class=np.asarray(self.member_class, dtype=np.int64),
                misfit_threshold=np.asarray(self.misfit_threshold, dtype=np.float64),
                **({} if self.calibration is None else self.calibration.to_arrays()),
                **{f"param_{k}": v for k, v in self.params.items()},
            ),
        )

    @classmethod
    def load(cls, path) -> Runtime:
        """Read a ``.npz`` written by :meth:`save`."""
        path = Path(path)
        with open_npz(path, "MIN-ML classifier model", _REQUIRED) as data:
            version = int(data["schema_version"])
            if version not in _READABLE:
                raise ValueError(
                    f"{path.name} has model schema version {version}; this MIN-ML reads versions "
                    f"{', '.join(map(str, _READABLE))}. Retrain it with `minml train` or use a matching MIN-ML."
                )
            extra = (
                {}
                if version < 2
                else {
                    **_settings(data),
                    "members": data["members"],
                    "member_class": data["member_class"],
                    "misfit_threshold": data["misfit_threshold"],
                    "calibration": Calibration.from_arrays(data),
                }
            )
            runtime = cls(
                kind=str(data["kind"]),
                classes=_classes(data),
                groups=data["groups"].astype(object),
                oxides=tuple(str(o) for o in data["oxides"]),
                scaler_mean=data["scaler_mean"],
                scaler_scale=data["scaler_scale"],
                params={k[len("param_") :]: data[k] for k in data.files if k.startswith("param_")},
                ood_threshold=float(data["ood_threshold"]),
                hidden=tuple(int(h) for h in data["hidden"]),
                **extra,
            )
        problem = _problem(runtime)
        if problem is not None:
            entry, what = problem
            raise ValueError(
                f"{path.name!r} is not a usable MIN-ML classifier model: its entry {entry!r} {what}. The file was "
                "damaged or edited after it was written: copy it again from where it came (the shipped model: "
                "reinstall MIN-ML), or retrain it (minml train)."
            )
        return runtime


def _optional_int(value, name: str) -> np.ndarray:
    """An int, or None, as an array a ``.npz`` holds without pickle (None: empty)."""
    if value is None:
        return np.zeros(0, dtype=np.int64)
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise ValueError(
            f"{name} is {value!r}; a model is saved with an integer {name} or None: set_params({name}=...) "
            "with one before saving."
        )
    return np.array([value], dtype=np.int64)


def _settings(data) -> dict:
    """``samples`` and ``random_state`` of a file that holds them (older files: none)."""
    out = {}
    for name in ("samples", "random_state"):
        if name in data.files:
            stored = data[name]
            out[name] = int(stored[0]) if stored.size else None
    return out


def _classes(data) -> np.ndarray:
    """The classes in the dtype they were saved from; files without ``classes_dtype``: numbers
    as float, text as object."""
    classes = data["classes"]
    dtype = np.dtype(str(data["classes_dtype"])) if "classes_dtype" in data.files else None
    if dtype is not None and dtype.kind in "UObiuf":
        return classes.astype(dtype)
    return classes.astype(float if bool(data["classes_numeric"]) else object)


def _problem(runtime: Runtime) -> tuple[str, str] | None:
    """The first entry of a loaded model that cannot be right, and what is wrong with it: shapes
    that do not fit the oxides, classes and layers; weights that are not finite numbers;
    scales that are not positive.  None for a sound model."""
    n_in, n_classes = len(runtime.oxides), len(runtime.classes)
    if runtime.kind not in ("bnn", "gda"):
        return "kind", f"is {runtime.kind!r}, not 'bnn' or 'gda'"
    sizes = [n_in, *runtime.hidden, n_classes]
    shapes: dict[str, tuple[int, ...]] = {
        "groups": (n_classes,),
        "scaler_mean": (n_in,),
        "scaler_scale": (n_in,),
        "misfit_threshold": (n_classes,),
        "param_gda_mean": (n_classes, n_in),
        "param_gda_prec_chol": (n_classes, n_in, n_in),
        "param_gda_log_det": (n_classes,),
        "param_gda_log_prior": (n_classes,),
    }
    if runtime.kind == "bnn":
        for i in range(len(sizes) - 1):
            for part in ("mu", "var"):
                shapes[f"param_W{i}_{part}"] = (sizes[i], sizes[i + 1])
                shapes[f"param_b{i}_{part}"] = (sizes[i + 1],)
    arrays = {
        "groups": runtime.groups,
        "scaler_mean": runtime.scaler_mean,
        "scaler_scale": runtime.scaler_scale,
        "misfit_threshold": runtime.misfit_threshold,
        "members": runtime.members,
        "ood_threshold": np.asarray(runtime.ood_threshold),
        **{f"param_{k}": v for k, v in runtime.params.items()},
    }
    if n_in == 0 or n_classes == 0 or any(h <= 0 for h in runtime.hidden):
        return "oxides" if n_in == 0 else "classes" if n_classes == 0 else "hidden", "is empty or holds a size <= 0"
    for entry, shape in shapes.items():
        if entry not in arrays:
            return entry, "is missing"
        if np.shape(arrays[entry]) != shape:
            return entry, f"has shape {np.shape(arrays[entry])}, not {shape} (from the oxides, classes and layers)"
    for entry, values in arrays.items():
        values = np.asarray(values)
        if values.dtype.kind == "f" and np.isnan(values).any():
            return entry, "holds NaN (not a number)"
        infinite_ok = entry in ("ood_threshold", "misfit_threshold")  # infinite: no threshold
        if values.dtype.kind == "f" and not infinite_ok and np.isinf(values).any():
            return entry, "holds infinite values"
        if entry == "scaler_scale" and (values <= 0).any():
            return entry, "holds values <= 0 (a scale must be positive)"
        if entry.endswith("_var") and (values < 0).any():
            return entry, "holds negative variances"
    if len(runtime.members) and np.shape(runtime.members)[1:] != (n_in,):
        return "members", f"has shape {np.shape(runtime.members)}, not (n, {n_in})"
    if len(runtime.member_class) != len(runtime.members) or not np.isin(runtime.member_class, range(n_classes)).all():
        return "member_class", "does not give a class for each row of 'members'"
    calibration = runtime.calibration
    if calibration is not None and not (np.isfinite(calibration.temperature) and calibration.temperature > 0):
        return "calibration_temperature", f"is {calibration.temperature}, not a positive number"
    if calibration is not None and (
        len(calibration.quantiles) != n_classes or not np.isfinite(calibration.quantiles).all()
    ):
        return "calibration_quantiles", f"is not one row of finite numbers per class ({n_classes})"
    return None
