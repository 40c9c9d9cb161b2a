"""Total iron: one FeOt per row from however the analysis reported iron.

Databases report iron as FeOt (all iron as FeO), as FeO + Fe2O3, or as Fe2O3t (all iron
as Fe2O3), and some rows carry several of these.  :func:`total_iron` chooses one rule per
row, in this order, so iron is never counted twice:

1. ``FeOt``       -- the row has an FeOt value;
2. ``FeO+Fe2O3``  -- FeOt = FeO + 0.8998 Fe2O3 (either may be absent, read as 0); named
   ``FeO`` (FeOt = FeO) where the table has no Fe2O3 column;
3. ``Fe2O3t``     -- FeOt = 0.8998 Fe2O3t;
4. ``none``       -- no iron was reported; FeOt = 0.

The rules are coded by their position in :data:`IRON_RULES`; ``FeO`` comes last, so the codes
of the others stay as they were.
"""

from __future__ import annotations

import numpy as np

from minml.chemistry.oxides import FEO_PER_FE2O3

__all__ = ["IRON_FORMS", "IRON_RULES", "total_iron"]

IRON_FORMS = ("FeOt", "FeO", "Fe2O3", "Fe2O3t")
"""The ways an analysis may report iron."""

IRON_RULES = ("FeOt", "FeO+Fe2O3", "Fe2O3t", "none", "FeO")
"""The rule used per row (see the module's text), coded by position."""
_PAIR, _FEO_ALONE = IRON_RULES.index("FeO+Fe2O3"), IRON_RULES.index("FeO")

_RELATIVE_TOLERANCE = 0.02
_ABSOLUTE_TOLERANCE = 0.1  # wt%: rounding of published FeO and Fe2O3


def total_iron(values: dict, present: dict, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """FeOt per row, the rule used, and where two reported forms disagree.

    Parameters
    ----------
    values : dict of str to numpy.ndarray
        wt% of ``FeOt``, ``FeO``, ``Fe2O3``, ``Fe2O3t`` (any may be missing).
    present : dict of str to numpy.ndarray of bool
        Where each of those was reported (a value, or below detection).
    n : int
        Number of rows.

    Returns
    -------
    feot : numpy.ndarray of float
    rule : numpy.ndarray of int8
        Index into :data:`IRON_RULES` per row (``FeO`` where ``values`` holds no ``Fe2O3``).
    mismatch : numpy.ndarray of float
        The FeOt implied by the other forms where it disagrees with the reported FeOt
        (beyond 2 % relative and 0.1 wt%); NaN elsewhere.

    Examples
    --------
    >>> import numpy as np
    >>> feot, rule, _ = total_iron(
    ...     {"FeO": np.array([8.0, np.nan]), "Fe2O3": np.array([2.0, np.nan]),
    ...      "Fe2O3t": np.array([np.nan, 10.0])},
    ...     {"FeO": np.array([True, False]), "Fe2O3": np.array([True, False]),
    ...      "Fe2O3t": np.array([False, True])}, n=2)
    >>> feot.round(4).tolist(), [IRON_RULES[r] for r in rule]
    ([9.7996, 8.9981], ['FeO+Fe2O3', 'Fe2O3t'])
    """

    if set(values) <= {"FeOt"}:  # iron as FeOt only (or none), as most tables give it: nothing to choose
        has_feot = present["FeOt"] if values else np.zeros(n, dtype=bool)
        feot = np.where(has_feot, values["FeOt"], 0.0) if values else np.zeros(n)
        return feot, np.where(has_feot, 0, 3).astype(np.int8), np.full(n, np.nan)

    def get(name):
        v = values.get(name)
        p = present.get(name)
        if v is None:
            return np.zeros(n), np.zeros(n, dtype=bool)
        return np.where(np.isnan(v), 0.0, v), p

    feot, has_feot = get("FeOt")
    feo, has_feo = get("FeO")
    fe2o3, has_fe2o3 = get("Fe2O3")
    fe2o3t, has_fe2o3t = get("Fe2O3t")
    if "FeOt" in values:
        feot = np.where(has_feot, values["FeOt"], 0.0)  # keep NaN of unusable cells
    from_pair = feo + FEO_PER_FE2O3 * fe2o3
    from_t = FEO_PER_FE2O3 * fe2o3t
    has_pair = has_feo | has_fe2o3

    code = np.full(n, 3, dtype=np.int8)  # index into IRON_RULES
    code[has_fe2o3t] = 2
    code[has_pair] = _PAIR if "Fe2O3" in values else _FEO_ALONE  # no Fe2O3 column: FeOt is FeO
    code[has_feot] = 0
    result = np.select([has_feot, has_pair, has_fe2o3t], [feot, from_pair, from_t], 0.0)

    implied = np.where(has_pair, from_pair, np.where(has_fe2o3t, from_t, np.nan))
    with np.errstate(invalid="ignore"):
        tolerance = np.maximum(_ABSOLUTE_TOLERANCE, _RELATIVE_TOLERANCE * np.abs(feot))
        disagree = has_feot & ~np.isnan(implied) & (np.abs(feot - implied) > tolerance)
    mismatch = np.where(disagree, implied, np.nan)
    return result, code, mismatch
