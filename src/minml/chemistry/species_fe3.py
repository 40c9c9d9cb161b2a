"""Fe3+ of a formula bounded by cation criteria (amphibole: Schumacher 1997, in Leake et al. 1997).

An analysis that gives total iron only has, on its oxygen basis with all iron as Fe2+, the
most cations it can have.  Multiplying that formula by a factor ``f <= 1`` removes cations and
leaves charge for Fe3+: ``Fe3 = charge - f * charge`` (``charge``: twice the oxygens).  Each
criterion of ``species.toml`` bounds ``f``: a sum the formula cannot exceed (Si <= 8, all
cations <= 16, cations but Na and K <= 15) gives an upper bound, the least Fe3+; a sum the
formula must reach (Si + Al >= 8, cations but K >= 15, cations but Ca, Na and K >= 13) a lower
bound, the most Fe3+; Fe3+ <= Fe a further lower bound.  The estimate is the most restrictive
lower bound (``estimate = "maximum"``) or the mean of the two most restrictive bounds
(``"mean"``), never beyond the upper bound.
"""

from __future__ import annotations

import numpy as np

__all__ = ["fe3_factor", "rescaled"]

_ESTIMATES = ("maximum", "mean")


def _criterion_sum(values: dict, criterion: dict) -> np.ndarray:
    """The cation sum a criterion names: ``of`` those cations, or all of them but ``excluding``
    (iron as its total ``Fe``)."""
    if "of" in criterion:
        return sum(values["Fe"] if e == "Fe" else values[e] for e in criterion["of"])
    excluding = set(criterion.get("excluding", ())) | {"Fe2", "Fe3"}
    return sum(values[e] for e in values["_cations"] if e not in excluding) + values["Fe"]


def _bound(values: dict, criteria, pick) -> np.ndarray:
    """Per row, the most restrictive factor of ``criteria`` (``pick``: np.fmin or np.fmax);
    NaN where none applies."""
    out = np.full(len(values["Si"]), np.nan)
    for criterion in criteria:
        with np.errstate(divide="ignore", invalid="ignore"):
            factor = criterion["cations"] / _criterion_sum(values, criterion)
        out = pick(out, np.where(np.isfinite(factor), factor, np.nan))
    return out


def _charge(values: dict) -> np.ndarray:
    """Cation charge of the formula with all iron as Fe2+."""
    charges = values["_charges"]
    return sum(values[e] * c for e, c in charges.items() if e not in ("Fe2", "Fe3")) + 2.0 * values["Fe"]


def fe3_factor(values: dict, spec: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The factor on the all-Fe2+ formula that gives the Fe3+ estimate, and its limits.

    Parameters
    ----------
    values : dict of str to numpy.ndarray
        Cations per formula unit on the oxygen basis with all iron as Fe2+ (``Fe`` the total),
        ``_cations`` and ``_charges`` (see :func:`minml.chemistry.species.class_species`).
    spec : dict
        ``estimate`` ("maximum" or "mean"), ``at_most`` and ``at_least``: criteria, each
        ``cations`` and ``of`` (cation names) or ``excluding``.

    Returns
    -------
    factor, low, high : numpy.ndarray
        The estimate's factor (1 where nothing bounds it), and the factors of all iron Fe3+
        (the least the formula allows) and all iron Fe2+.

    Examples
    --------
    >>> v = {"Si": np.array([8.2]), "Fe": np.array([2.0]), "Mg": np.array([5.0]),
    ...      "_cations": ["Si", "Mg", "Fe2", "Fe3"], "_charges": {"Si": 4.0, "Mg": 2.0}}
    >>> spec = {"at_most": [{"cations": 8, "of": ["Si"]}], "at_least": [{"cations": 14.8, "excluding": []}]}
    >>> f, low, high = fe3_factor(v, spec)  # Si <= 8: f <= 0.9756; 14.8 cations: f >= 0.9737
    >>> round(float(f[0]), 4), round(float((1 - f[0]) * 46.8), 2)  # the factor, Fe3+ (charge 46.8)
    (0.9737, 1.23)
    >>> round(float(fe3_factor(v, spec | {"estimate": "mean"})[0][0]), 4)
    0.9746
    """
    estimate = spec.get("estimate", "maximum")
    if estimate not in _ESTIMATES:
        raise ValueError(f"species.toml: Fe3+ estimate {estimate!r} is none of {list(_ESTIMATES)}.")
    charge = _charge(values)
    with np.errstate(divide="ignore", invalid="ignore"):
        low = np.where(charge > 0, charge / (charge + values["Fe"]), 1.0)  # all iron Fe3+
    high = np.full(len(low), 1.0)  # all iron Fe2+
    upper = np.fmin(high, _bound(values, spec.get("at_most", ()), np.fmin))
    lower = np.fmax(low, _bound(values, spec.get("at_least", ()), np.fmax))
    factor = np.minimum(lower, upper) if estimate == "maximum" else np.where(lower <= upper, (lower + upper) / 2, upper)
    factor = np.clip(np.where(np.isfinite(factor), factor, 1.0), low, high)
    return factor, low, high


def rescaled(values: dict, factor: np.ndarray, rows: np.ndarray, tetrahedral: float | None) -> dict:
    """``values`` with the cations of ``rows`` multiplied by ``factor`` and the charge they then
    lack given to Fe3+ (a new dict; Al(IV), Al(VI), the cation sum and F, Cl follow)."""
    out = dict(values)
    scale = np.where(rows, factor, 1.0)
    charge = _charge(values)
    for e in [*values["_cations"], "Fe", "F", "Cl"]:
        if e in values and e not in ("Fe2", "Fe3"):
            out[e] = values[e] * scale
    fe3 = np.clip(charge - scale * charge, 0.0, out["Fe"])
    out["Fe3"] = np.where(rows, fe3, values["Fe3"])
    out["Fe2"] = np.where(rows, out["Fe"] - fe3, values["Fe2"])
    out["sum"] = sum(out[e] for e in values["_cations"])
    if tetrahedral is not None:
        out["AlIV"] = np.where(rows, np.clip(tetrahedral - out["Si"], 0.0, out["Al"]), values["AlIV"])
        out["AlVI"] = out["Al"] - out["AlIV"]
    return out
