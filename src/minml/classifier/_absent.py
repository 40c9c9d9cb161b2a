"""Model inputs for oxides a table has no column for.

A minor oxide without a column was not analysed.  Reading it as 0 shows the network a row it
rarely saw in training where the oxide is essential to a class (TiO2 of ilmenite, K2O of
micas, Na2O of clinopyroxene and amphibole), and it answers otherwise: on a sample of the
training compilations (250 rows a class), 0 for an absent column changes 0.7 (MnO) to 20
(TiO2) % of the answers.  Instead the row is classified as a mixture over the classes: for each
class, the absent inputs are completed with their expected value under the class's Gaussian
(the model's own, :mod:`minml.classifier._gda`) given the oxides the row reports, the network's
probabilities of that completion are weighed by the class's posterior on the reported oxides
alone (flattened: their log-densities divided by :data:`TEMPERATURE`), and the completion of
the class the mixture finds most probable becomes the model's input.  The temperature was
chosen on source-grouped folds of the training data (``benchmarks/absent_folds.py``): without
it (1) the broad glass Gaussian took the completion of Na-bearing minerals, 0.6 point of
accuracy lost with Na2O removed; at 32 none of the minor oxides costs more than 0.02 point
there (TiO2 0.16, its rutiles).  A product of the fit and the network's endorsement of each
class's completion (:data:`RULE` ``"product"``) did as well on the folds.  The table's values are not
changed: only the model's input.

The mixture also says whether the answer depends on the absent oxides: where the completions
the reported oxides allow give the answer less than :data:`AGREEMENT` of the mixture's weight,
the row is flagged and its probabilities are the mixture's (:func:`minml.classify`).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = ["AGREEMENT", "RULE", "TEMPERATURE", "Completion", "class_trials", "complete_absent"]

RULE = "mixture"
"""How the class whose completion is used is chosen: ``"mixture"`` (the network's answers on
every class's completion, weighed by the tempered class posteriors of the fit), or
``"product"`` (class k scores fit_k / TEMPERATURE + log p_network(k | completion_k); as good on
the folds, kept for the study).  The benchmark sets both to compare them."""

TEMPERATURE = 32.0
"""What the class Gaussians' log-densities on the reported oxides are divided by before they weigh
the classes' completions (1: the plain posterior).  Chosen on five source-grouped folds of the
training data, the whole of ``classify`` run on the held-out sources with each minor oxide
removed in turn (``benchmarks/absent_folds.py --pipeline``): with Na2O removed 1 lost 0.60
point of accuracy, 16-32 none (+0.03, +0.04); no other oxide moved by more than 0.02 point
(TiO2 -0.16 at every temperature)."""


AGREEMENT = 0.5
"""Below this share of the mixture's weight for its top class, the answer depends on the absent
oxides: the classes the reported oxides fit complete them differently, and their completions are
named differently.  A majority, not tuned.  On five source-grouped folds of the training data
(``benchmarks/absent_folds.py --agreement``: fold networks of the shipped configuration at the
shipped temperature) it flagged 0.03-0.09 % of the held-out rows per removed oxide (Na2O 79
rows, TiO2 23, K2O 78, MnO 54, Cr2O3 32, P2O5 26), of which 37-58 % were named wrongly, against
0.2-0.3 % of the other rows; 0.6 flagged 0.13-1.18 % (K2O 1,043 rows, 7 % of them wrong).  The
flagged rows keep the completion's answer, with the mixture's probabilities: on those folds the
completion's answer was right for 155 of the 292, the mixture's top class for 148 (on the
networks of 2026-12-06, 94 and 100 of 233): a tie, so the rule chosen before stays."""


class Completion(NamedTuple):
    """What :func:`complete_absent` returns."""

    values: np.ndarray
    """The model inputs, the absent columns completed (float32)."""
    mixture: np.ndarray | None
    """Rows x classes: the network's probabilities over the classes' completions, weighed by
    the classes' tempered fit to the reported oxides (NaN rows: NaN); None where no model input
    was absent."""


def _conditional(mean: np.ndarray, chol: np.ndarray, missing: list[int], seen: list[int]) -> tuple:
    """Offset and coefficients of E[z_missing | z_seen] under N(mean, (chol chol^T)^-1)."""
    precision = chol @ chol.T
    coef = -np.linalg.solve(precision[np.ix_(missing, missing)], precision[np.ix_(missing, seen)])
    return mean[missing] - coef @ mean[seen], coef


def _seen_log_density(mean, chol, seen, Z_seen) -> np.ndarray:
    """log N(z_seen | mean_seen, cov_seen), the class Gaussian's marginal on the seen inputs."""
    cov = np.linalg.inv(chol @ chol.T)[np.ix_(seen, seen)]
    factor = np.linalg.cholesky(np.linalg.inv(cov))
    z = (Z_seen - mean[seen]) @ factor
    return -0.5 * (z * z).sum(axis=1) + np.log(np.diag(factor)).sum() - 0.5 * len(seen) * np.log(2 * np.pi)


def class_trials(model, values: np.ndarray, absent) -> tuple[np.ndarray, list[np.ndarray]]:
    """Each class's completion of the ``absent`` columns, and how well each class fits the rest.

    Returns
    -------
    fit : numpy.ndarray, shape (n_rows, n_classes)
        log N(reported oxides | class) + log prior, less each row's largest (-inf for rows with
        an unusable value).
    trials : list of numpy.ndarray of float32
        Per class, ``values`` with the absent columns set to their expected value (>= 0 wt%)
        under that class's Gaussian given the reported oxides.
    """
    oxides = list(model.oxides)
    missing = [oxides.index(name) for name in absent if name in oxides]
    seen = [j for j in range(len(oxides)) if j not in missing]
    scale = np.asarray(model.scaler_scale, dtype=np.float64)
    centre = np.asarray(model.scaler_mean, dtype=np.float64)
    Z = (np.asarray(values, dtype=np.float64) - centre) / scale
    means, chols = model.params["gda_mean"], model.params["gda_prec_chol"]
    log_prior = model.params["gda_log_prior"]
    with np.errstate(invalid="ignore"):
        fit = np.stack(
            [_seen_log_density(means[k], chols[k], seen, Z[:, seen]) + log_prior[k] for k in range(len(model.classes))],
            axis=1,
        )
        fit = np.nan_to_num(fit, nan=-np.inf)  # rows with an unusable value: left as they are by the caller
        fit -= np.maximum(fit.max(axis=1, keepdims=True), -1e300)
    trials = []
    for k in range(len(model.classes)):
        offset, coef = _conditional(means[k], chols[k], missing, seen)
        trial = np.array(values, dtype=np.float32)
        trial[:, missing] = np.maximum((Z[:, seen] @ coef.T + offset) * scale[missing] + centre[missing], 0.0)
        trials.append(trial)
    return fit, trials


def complete_absent(model, values: np.ndarray, absent) -> Completion:
    """``values`` (rows x ``model.oxides``, wt%) with the ``absent`` oxides' columns completed.

    Parameters
    ----------
    model : Runtime
        Carries the class Gaussians (``gda_mean``, ``gda_prec_chol``) and the scaler.
    values : numpy.ndarray of float32
        The model inputs (absent columns hold any value); NaN rows stay NaN.
    absent : iterable of str
        Oxides the table has no column for (those that are no model input are ignored).

    Returns
    -------
    Completion
        ``values``: a new array whose absent columns hold the completion (>= 0 wt%) of the
        class whose completion the network most endorses, its fit to the reported oxides
        tempered by :data:`TEMPERATURE`; ``mixture``: the network's answers over all the
        classes' completions, so weighed.
    """
    if not any(name in model.oxides for name in absent) or not len(values):
        return Completion(values, None)
    fit, trials = class_trials(model, values, absent)
    weight = np.exp(fit / TEMPERATURE)
    weight /= np.maximum(weight.sum(axis=1, keepdims=True), 1e-300)
    mixture = np.zeros_like(fit)
    own = (
        None if RULE == "mixture" else np.empty_like(fit)
    )  # each class's completion, as far as the network endorses it
    for k, trial in enumerate(trials):
        with np.errstate(invalid="ignore"):
            proba = model.calibrated_proba(model.scaled(np.nan_to_num(trial)))
        mixture += weight[:, [k]] * proba
        if own is not None:
            own[:, k] = fit[:, k] / TEMPERATURE + np.log(np.maximum(proba[:, k], 1e-30))
    score = mixture if own is None else own
    out = np.stack(trials)[score.argmax(axis=1), np.arange(len(values))]
    unusable = ~np.isfinite(values).all(axis=1)
    out[unusable] = values[unusable]
    mixture[unusable] = np.nan
    return Completion(out, mixture)
