"""A fitted model as plain arrays: what inference needs, in numpy only.

:class:`Runtime` is what ``classify`` runs and what a ``.npz`` model file holds (no pickle):
kind, classes and their groups, the oxide inputs, the scaler, the network posterior and
per-class Gaussians, the outlier threshold and a schema version.  It imports neither
scikit-learn nor torch, so ``minml classify`` starts fast.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from minml import _gda, _nn

__all__ = ["SCHEMA_VERSION", "Runtime", "standardise"]

SCHEMA_VERSION = 1


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
    samples : int, optional
        Monte Carlo draws for the predictive; None for the analytic one.
    random_state : int
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
    samples: int | None = None
    random_state: int = 0

    def scaled(self, values: np.ndarray) -> np.ndarray:
        """Standardised float32 inputs."""
        return standardise(values, self.scaler_mean, self.scaler_scale)

    def proba(self, Z: np.ndarray) -> np.ndarray:
        """Class probabilities of scaled inputs, shape (n, n_classes)."""
        if self.kind == "gda":
            return _gda.gaussian_posterior(self.params, Z).astype(np.float32)
        rng = None if self.samples is None else np.random.default_rng(self.random_state)
        return _nn.predictive_proba(self.params, Z, samples=self.samples, rng=rng)

    def log_density(self, Z: np.ndarray) -> np.ndarray:
        """Best class-conditional Gaussian log-density of scaled inputs (lower: more abnormal)."""
        return _gda.gaussian_log_density(self.params, Z).max(axis=1)

    def save(self, path) -> Path:
        """Write one ``.npz`` (no pickle)."""
        path = Path(path)
        np.savez_compressed(
            path,
            schema_version=np.array(SCHEMA_VERSION),
            kind=np.array(self.kind),
            classes=np.array(self.classes, dtype=str),
            classes_numeric=np.array(np.issubdtype(np.asarray(self.classes).dtype, np.number)),
            groups=np.array(self.groups, dtype=str),
            oxides=np.array(self.oxides, dtype=str),
            scaler_mean=self.scaler_mean,
            scaler_scale=self.scaler_scale,
            ood_threshold=np.array(self.ood_threshold),
            hidden=np.array(self.hidden, dtype=np.int64),
            **{f"param_{k}": v for k, v in self.params.items()},
        )
        return path

    @classmethod
    def load(cls, path) -> Runtime:
        """Read a ``.npz`` written by :meth:`save`."""
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
            return cls(
                kind=str(data["kind"]),
                classes=data["classes"].astype(float if bool(data["classes_numeric"]) else object),
                groups=data["groups"].astype(object),
                oxides=tuple(str(o) for o in data["oxides"]),
                scaler_mean=data["scaler_mean"],
                scaler_scale=data["scaler_scale"],
                params={k[len("param_"):]: data[k] for k in data.files if k.startswith("param_")},
                ood_threshold=float(data["ood_threshold"]),
                hidden=tuple(int(h) for h in data["hidden"]),
            )
