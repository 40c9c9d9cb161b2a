"""The numpy runtime of the Bayesian network: no torch at inference.

A network is a dict of arrays: for layer ``i``, ``W{i}_mu``, ``W{i}_var`` (shape in x out),
``b{i}_mu``, ``b{i}_var``: the means and variances of the factorised Gaussian posterior
over its weights (Bayes by backprop).  Hidden layers use ReLU.

Two ways to the posterior predictive:

* analytic (default, deterministic): hidden features at the posterior-mean weights; the
  output layer's weight uncertainty is propagated exactly to Gaussian logits
  (mean ``h W_mu + b_mu``, variance ``h^2 W_var + b_var``), and the softmax of a Gaussian
  is approximated by the probit rule ``softmax(mu / sqrt(1 + pi var / 8))``
  (MacKay 1992; Daxberger et al. 2021, "Laplace redux", NeurIPS).  Cost: one forward pass
  and one extra small matrix product.
* Monte Carlo (``samples=N``): N networks drawn from the whole posterior with a local
  random generator; the probabilities are averaged.
"""

from __future__ import annotations

import numpy as np

__all__ = ["n_layers", "predictive_proba"]

_PROBIT = np.float32(np.pi / 8.0)


def n_layers(params: dict) -> int:
    """Number of layers in a parameter dict."""
    return sum(1 for key in params if key.startswith("W") and key.endswith("_mu"))


def _softmax(z: np.ndarray) -> np.ndarray:
    """Softmax over the classes of logits laid out classes x rows, in place."""
    z -= z.max(axis=0)
    np.exp(z, out=z)
    z /= z.sum(axis=0)
    return z


def _hidden(params: dict, X: np.ndarray, weights=None) -> np.ndarray:
    """The last hidden layer's features, features x rows, of inputs X (rows x inputs)."""
    h = X.T
    for i in range(n_layers(params) - 1):
        W, b = weights[i] if weights else (params[f"W{i}_mu"], params[f"b{i}_mu"])
        h = W.T @ h
        h += b[:, None]
        np.maximum(h, 0.0, out=h)
    return h


def predictive_proba(
    params: dict, X: np.ndarray, samples: int | None = None, rng=None, temperature: float = 1.0
) -> np.ndarray:
    """Posterior predictive class probabilities.

    Parameters
    ----------
    params : dict of str to numpy.ndarray
        The network (see module docstring).
    X : numpy.ndarray of float32, shape (n, d)
        Scaled inputs, no NaN.
    samples : int, optional
        Monte Carlo draws from the full weight posterior; None for the analytic predictive.
    rng : numpy.random.Generator or int, optional
        Random generator (or seed) for ``samples``; a fixed seed gives the same answer
        every time.  The global numpy state is never used.
    temperature : float, default=1.0
        Calibration temperature (:mod:`minml.classifier.calibration`): the analytic predictive divides
        its logits by it, which equals ``p ** (1/T)`` renormalised, at no extra cost.

    Returns
    -------
    numpy.ndarray of float32, shape (n, n_classes)
    """
    X = np.asarray(X, dtype=np.float32)
    last = n_layers(params) - 1
    # classes x rows throughout (the reductions over classes then combine whole rows); the
    # result is returned as the transposed view, rows x classes
    if samples is None:
        h = _hidden(params, X)
        mean = params[f"W{last}_mu"].T @ h
        mean += params[f"b{last}_mu"][:, None]
        var = params[f"W{last}_var"].T @ (h * h)
        var += params[f"b{last}_var"][:, None]
        var *= _PROBIT
        var += 1.0
        np.sqrt(var, out=var)
        var *= np.float32(temperature)
        mean /= var
        return _softmax(mean).T
    if samples < 1:
        raise ValueError(f"samples must be a positive number of Monte Carlo draws, got {samples}.")
    rng = np.random.default_rng(rng)
    total = np.zeros((params[f"b{last}_mu"].shape[0], len(X)), dtype=np.float32)
    for _ in range(samples):
        weights = []
        for i in range(last + 1):
            W = params[f"W{i}_mu"] + np.sqrt(params[f"W{i}_var"]) * rng.standard_normal(
                params[f"W{i}_mu"].shape, dtype=np.float32
            )
            b = params[f"b{i}_mu"] + np.sqrt(params[f"b{i}_var"]) * rng.standard_normal(
                params[f"b{i}_mu"].shape, dtype=np.float32
            )
            weights.append((W, b))
        h = _hidden(params, X, weights)
        logits = weights[last][0].T @ h
        logits += weights[last][1][:, None]
        total += _softmax(logits)
    total /= samples
    if temperature != 1.0:
        from minml.classifier.calibration import apply_temperature

        return apply_temperature(total.T, temperature)
    return total.T
