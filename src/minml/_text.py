"""Numbers as text for the per-row messages (flags) of large tables."""

from __future__ import annotations

import numpy as np

__all__ = ["one_decimal"]


def one_decimal(values: np.ndarray, template: str = "{}") -> np.ndarray:
    """Numbers as text with one decimal, as an object array (for joining into flags); each
    distinct tenth is formatted once, so a million flags cost a few thousand formats.

    Parameters
    ----------
    values : array-like of float
        Finite numbers.
    template : str, default="{}"
        Each number's text goes into its ``{}`` (once per distinct tenth too).

    Returns
    -------
    numpy.ndarray of str objects
        Same length as ``values``.

    Examples
    --------
    >>> one_decimal([87.04, 105.96, -0.26, 0.0, 76.45, 0.35, 0.05]).tolist()
    ['87.0', '106.0', '-0.3', '0.0', '76.5', '0.3', '0.1']
    >>> one_decimal([80.04, 80.0], "oxide sum {} wt%").tolist()
    ['oxide sum 80.0 wt%', 'oxide sum 80.0 wt%']
    """
    values = np.asarray(values, dtype=np.float64).reshape(-1)
    scaled = values * 10.0
    tenths = np.rint(scaled)
    # near a half, rounding the product may differ from rounding the number: there, Python's
    # own formatting decides, so the text is always f"{value:.1f}" (but never "-0.0")
    tie = np.abs(np.abs(scaled - np.trunc(scaled)) - 0.5) < 1e-6
    if tie.any():
        tenths[tie] = [round(float(f"{v:.1f}") * 10.0) for v in values[tie].tolist()]
    tenths = tenths.astype(np.int64)
    distinct, inverse = np.unique(tenths, return_inverse=True)
    text = np.array(
        [template.format(f"{'-' if t < 0 else ''}{abs(t) // 10}.{abs(t) % 10}") for t in distinct.tolist()],
        dtype=object,
    )
    return text[inverse.reshape(-1)]
