"""Gaussian discriminant analysis in numpy: one multivariate normal per class.

Used as the baseline classifier (``MineralClassifier(kind="gda")``) and, for every model,
as the class-conditional density behind ``ood_score``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["fit_gaussians", "gaussian_log_density"]

_LOG_2PI = np.log(2.0 * np.pi)


def fit_gaussians(X: np.ndarray, y: np.ndarray, n_classes: int, reg: float = 1e-3) -> dict:
    """Mean and Cholesky factor of the precision per class.

    Parameters
    ----------
    X : numpy.ndarray, shape (n, d)
        Scaled inputs.
    y : numpy.ndarray of int, shape (n,)
        Class indices ``0 .. n_classes-1``; every class needs at least two rows.
    n_classes : int
    reg : float, default=1e-3
        Added to the covariance diagonal (in scaled units), so that classes with a constant
        input (an oxide never analysed) keep a proper density.

    Returns
    -------
    dict
        ``gda_mean`` (k, d), ``gda_prec_chol`` (k, d, d), ``gda_log_det`` (k,), ``gda_log_prior`` (k,).
    """
    d = X.shape[1]
    means = np.zeros((n_classes, d))
    chol = np.zeros((n_classes, d, d))
    log_det = np.zeros(n_classes)
    counts = np.bincount(y, minlength=n_classes)
    for k in range(n_classes):
        rows = X[y == k].astype(np.float64)
        if len(rows) < 2:
            raise ValueError(f"Class index {k} has {len(rows)} rows; a Gaussian needs at least 2.")
        means[k] = rows.mean(axis=0)
        cov = np.cov(rows, rowvar=False) + reg * np.eye(d)
        precision = np.linalg.inv(cov)
        chol[k] = np.linalg.cholesky(precision)
        log_det[k] = 2.0 * np.log(np.diag(chol[k])).sum()  # log |precision|
    return {
        "gda_mean": means,
        "gda_prec_chol": chol,
        "gda_log_det": log_det,
        "gda_log_prior": np.log(counts / counts.sum()),
    }


def gaussian_log_density(params: dict, X: np.ndarray) -> np.ndarray:
    """log N(x | mean_k, cov_k) for every row and class, shape (n, k).

    All classes in one matrix product: z_k = L_k^T x - L_k^T mean_k, with L_k the Cholesky
    factor of class k's precision, so that the Mahalanobis distance is |z_k|^2.  Computed
    classes x rows (each class's sum over its d squares then adds whole rows) and returned as
    the transposed view (column-major).
    """
    means, chol, log_det = params["gda_mean"], params["gda_prec_chol"], params["gda_log_det"]
    k, d = means.shape
    factors = np.ascontiguousarray(chol.transpose(0, 2, 1).reshape(k * d, d), dtype=np.float32)
    offsets = np.einsum("kd,kde->ke", means, chol).reshape(k * d, 1).astype(np.float32)
    z = factors @ np.asarray(X, dtype=np.float32).T
    z -= offsets
    z *= z
    density = z.reshape(k, d, -1).sum(axis=1)
    density *= np.float32(-0.5)
    density += (0.5 * log_det - 0.5 * d * _LOG_2PI).astype(np.float32)[:, None]
    return density.T


def gaussian_posterior(params: dict, X: np.ndarray) -> np.ndarray:
    """Class probabilities under the Gaussian model (Bayes' rule with the class priors)."""
    from scipy.special import logsumexp

    joint = gaussian_log_density(params, X) + params["gda_log_prior"]
    return np.exp(joint - logsumexp(joint, axis=1, keepdims=True))


def class_log_density(params: dict, X: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """log N(x | mean_k, cov_k) of each row under its own class ``classes[i]`` only (float32):
    the one column of :func:`gaussian_log_density` each row needs, at a class's cost instead
    of all of them (the rounding may differ from that function's in the last bits).  The rows
    are sorted by class, and each class's rows go through one matrix product, features x rows."""
    means, chol, log_det = params["gda_mean"], params["gda_prec_chol"], params["gda_log_det"]
    k, d = means.shape
    order = np.argsort(classes, kind="stable")
    bounds = np.searchsorted(classes[order], np.arange(k + 1))
    X = np.asarray(X, dtype=np.float32)[order]
    sorted_out = np.empty(len(X), dtype=np.float32)
    for c in np.flatnonzero(np.diff(bounds)).tolist():
        a, b = bounds[c], bounds[c + 1]
        z = chol[c].T.astype(np.float32) @ X[a:b].T  # L_c^T x, features x rows
        z -= (means[c] @ chol[c]).astype(np.float32)[:, None]
        z *= z
        sorted_out[a:b] = np.float32(-0.5) * z.sum(axis=0) + np.float32(0.5 * log_det[c] - 0.5 * d * _LOG_2PI)
    out = np.empty_like(sorted_out)
    out[order] = sorted_out
    return out
