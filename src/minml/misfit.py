"""Stoichiometric misfit: how far an analysis lies from its class's end-member compositions.

Every analysis of a mineral is, to within analytical error and minor substitutions, a
mixture of the class's end-members (``minerals.toml``): a point inside their simplex.  The
misfit of a row under a class is the distance (wt%, after normalising the analysis to 100)
from the row to the nearest such mixture: the best of the closed-form fits on each face of
the simplex of mixing fractions (a class has at most 8 end-members: at most 255 faces).
Mixing in wt% space is exact: mass fractions of end-members are convex weights, and dropping unanalysed species (H2O, B2O3, ZrO2) and folding iron into
``FeOt`` before renormalising keeps mixtures convex.

A nepheline (NaAlSiO4) is no mixture of albite, anorthite and orthoclase; a leucite
(KAlSi2O6) no k-feldspar; corundum no spinel.  :mod:`minml.predict` uses the misfit as the
physical half of its "unknown" answer: a row unlike the training data is rejected unless
its predicted class's end-members explain it (experimental simple-system minerals are
unlike natural ones, but stoichiometric).

Ni2+, Co2+ and Zn2+ take Fe2+'s place (same charge, same sites: liebenbergite Ni2SiO4 and
Co2SiO4 olivines, gahnite ZnAl2O4 spinel), and the model oxides leave them out: an olivine
of a nickel-partitioning experiment with 5 wt% NiO would read as no olivine.
:func:`fold_divalent` adds them to ``FeOt`` as the same number of moles of FeO before the fit.
"""

from __future__ import annotations

import itertools
from functools import lru_cache

import numpy as np

from minml.minerals import end_member_table, mineral_table
from minml.oxides import FEO_PER_FE2O3, species_table

__all__ = ["DIVALENT_SUBSTITUTES", "end_member_compositions", "end_member_misfit", "fold_divalent"]

DIVALENT_SUBSTITUTES = ("NiO", "CoO", "ZnO")
"""Oxides of cations that substitute for Fe2+, folded into ``FeOt`` for the misfit."""

_ITERATIONS = 200
_TOLERANCE = 1e-4  # stop when no mass fraction moves more than this (0.01 %) in an iteration


@lru_cache(maxsize=None)
def _compositions(mineral: str, oxides: tuple) -> np.ndarray:
    table, members = species_table(), end_member_table()
    folded = {"FeO": 1.0, "Fe2O3": FEO_PER_FE2O3} if "FeOt" in oxides else {}
    rows = []
    for name in mineral_table()[mineral].end_members:
        mass = np.zeros(len(oxides))
        for species, moles in members[name].oxides.items():
            grams = moles * table[species].molar_mass
            if species in folded:
                mass[oxides.index("FeOt")] += grams * folded[species]
            elif species in oxides:
                mass[oxides.index(species)] += grams
        if mass.sum() > 0:
            rows.append(100.0 * mass / mass.sum())
    return np.array(rows).reshape(len(rows), len(oxides))


def end_member_compositions(mineral: str, oxides) -> np.ndarray:
    """The class's end-members as wt% of ``oxides``, each row summing to 100.

    Iron of the end-members enters as ``FeOt`` where ``oxides`` has it; species outside
    ``oxides`` are dropped before normalising. End-members with none of ``oxides`` are left out.

    Examples
    --------
    >>> end_member_compositions("olivine", ("SiO2", "FeOt", "MgO")).round(1).tolist()
    [[42.7, 0.0, 57.3], [29.5, 70.5, 0.0], [100.0, 0.0, 0.0]]

    (Tephroite is pure SiO2 once MnO, outside the list, is dropped.)
    """
    if mineral not in mineral_table():
        raise ValueError(f"No mineral {mineral!r} in minerals.toml; classes: {sorted(mineral_table())}.")
    return _compositions(mineral, tuple(oxides)).copy()


def fold_divalent(values: np.ndarray, oxides, analyses) -> np.ndarray:
    """``values`` with the analyses' NiO, CoO and ZnO added to ``FeOt`` as moles of FeO.

    Parameters
    ----------
    values : numpy.ndarray
        Rows x ``oxides``, wt% (the model inputs). Not modified.
    oxides : sequence of str
        The columns of ``values``.
    analyses : pandas.DataFrame or None
        The same rows with canonical oxide columns (``OxideCheck.oxides``); columns of
        :data:`DIVALENT_SUBSTITUTES` it lacks, and blank cells, count as 0.

    Returns
    -------
    numpy.ndarray
        A new array where anything was added, else ``values`` itself (no ``FeOt`` in
        ``oxides``, or none of the substitutes analysed).

    Examples
    --------
    >>> import pandas as pd
    >>> ni_olivine = pd.DataFrame({"SiO2": [33.0], "FeOt": [12.0], "MgO": [46.0], "NiO": [7.47]})
    >>> fold_divalent(ni_olivine[["SiO2", "FeOt", "MgO"]].to_numpy(), ("SiO2", "FeOt", "MgO"),
    ...               ni_olivine).round(2).tolist()
    [[33.0, 19.19, 46.0]]
    """
    oxides = tuple(oxides)
    present = [] if analyses is None else [s for s in DIVALENT_SUBSTITUTES if s in analyses.columns]
    if "FeOt" not in oxides or not present:
        return values
    table = species_table()
    moles = sum(np.nan_to_num(analyses[s].to_numpy(dtype=np.float64), nan=0.0).clip(min=0.0)
                / table[s].molar_mass for s in present)
    out = np.array(values, copy=True)
    out[:, oxides.index("FeOt")] += (moles * table["FeO"].molar_mass).astype(out.dtype)
    return out


@lru_cache(maxsize=64)
def _faces(members: bytes, shape: tuple) -> tuple:
    """Per face of the simplex (a subset S of the end-members): S, the map from a row's
    products with the end-members (x E^T) to the fractions of the nearest point of S's
    affine hull (fractions summing to 1; the pseudo-inverse of the KKT system), and S's
    Gram matrix."""
    E = np.frombuffer(members, dtype=np.float64).reshape(shape)
    gram = E @ E.T
    faces = []
    for size in range(1, len(E) + 1):
        for subset in itertools.combinations(range(len(E)), size):
            S = list(subset)
            kkt = np.zeros((size + 1, size + 1))
            kkt[:size, :size] = gram[np.ix_(S, S)]
            kkt[:size, size] = kkt[size, :size] = 1.0
            inverse = np.linalg.pinv(kkt)
            faces.append((S, np.ascontiguousarray(inverse[:size, :size].T), inverse[:size, size].copy(),
                          gram[np.ix_(S, S)]))
    return tuple(faces)


def _nearest_mixture(X: np.ndarray, E: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Exact squared distance of each row of ``X`` to the simplex of ``E``'s rows, and the
    fractions there: the optimum lies inside one face, where it is that face's affine fit,
    and every feasible affine fit is a mixture, so the best feasible one is the optimum."""
    products = X @ E.T
    squares = (X * X).sum(axis=1)
    best = np.full(len(X), np.inf)
    W = np.zeros((len(X), len(E)))
    for S, linear, offset, gram in _faces(E.tobytes(), E.shape):
        w = products[:, S] @ linear + offset
        feasible = (w >= -1e-9).all(axis=1) & (np.abs(w.sum(axis=1) - 1.0) < 1e-6)
        f = squares - 2.0 * (w * products[:, S]).sum(axis=1) + ((w @ gram) * w).sum(axis=1)
        better = feasible & (f < best)
        if better.any():
            best[better] = f[better]
            W[better] = 0.0
            W[np.ix_(np.flatnonzero(better), S)] = np.maximum(w[better], 0.0)
    return np.maximum(best, 0.0), W


def _project_to_simplex(V: np.ndarray) -> np.ndarray:
    """Euclidean projection of each row onto the probability simplex (sort-based)."""
    n, m = V.shape
    U = -np.sort(-V, axis=1)
    cumulative = np.cumsum(U, axis=1) - 1.0
    positive = U - cumulative / np.arange(1, m + 1) > 0
    rho = m - 1 - np.argmax(positive[:, ::-1], axis=1)
    theta = cumulative[np.arange(n), rho] / (rho + 1)
    return np.maximum(V - theta[:, None], 0.0)


def end_member_misfit(values: np.ndarray, members: np.ndarray, limit=None) -> tuple[np.ndarray, np.ndarray]:
    """Distance of each analysis from the nearest mixture of ``members``.

    Parameters
    ----------
    values : numpy.ndarray
        Rows x oxides, wt% (NaN reads as 0); normalised to 100 here.
    members : numpy.ndarray
        End-members x oxides, wt% summing to 100 (:func:`end_member_compositions`).
    limit : float or numpy.ndarray, optional
        When only ``misfit <= limit`` matters: the fit is iterative instead (accelerated
        projected gradient), and a row stops as soon as that is settled, either way (its
        current mixture is already within ``limit``, or the Frank-Wolfe duality gap proves
        that none is).  Its misfit is then that of its current mixture, an upper bound on
        the distance that is right about the side of ``limit``.  Cheaper than the exact fit
        when most rows are settled within a few iterations (EDS maps).

    Returns
    -------
    misfit : numpy.ndarray
        Euclidean distance in wt% (NaN for rows summing to 0).
    fractions : numpy.ndarray
        Rows x end-members: the mass fractions of the nearest mixture.

    Examples
    --------
    Fo90 olivine lies on the forsterite-fayalite join; nepheline is far from every feldspar:

    >>> ox = ("SiO2", "Al2O3", "FeOt", "MgO", "CaO", "Na2O", "K2O")
    >>> fo90 = np.array([[40.87, 0.0, 9.77, 49.35, 0.0, 0.0, 0.0]])
    >>> float(end_member_misfit(fo90, end_member_compositions("olivine", ox))[0].round(1)[0])
    0.0
    >>> nepheline = np.array([[42.3, 35.9, 0.0, 0.0, 0.0, 21.8, 0.0]])
    >>> float(end_member_misfit(nepheline, end_member_compositions("plagioclase", ox))[0].round(1)[0])
    24.4
    """
    X = np.nan_to_num(np.asarray(values, dtype=np.float64), nan=0.0)
    total = X.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        X = 100.0 * X / total
    X_clean = np.nan_to_num(X)  # rows summing to 0 are fitted as zeros, and reported NaN
    E = np.ascontiguousarray(members, dtype=np.float64)
    if limit is None:
        best, W = _nearest_mixture(X_clean, E)
        return np.where(total[:, 0] > 0, np.sqrt(best), np.nan), W
    gram = E @ E.T
    step = 1.0 / max(np.linalg.eigvalsh(gram).max(), 1e-12)
    target = X_clean @ E.T
    W = np.full((len(X), len(E)), 1.0 / len(E))
    Y, t = W.copy(), 1.0
    active = np.arange(len(X))  # rows still moving; converged or settled rows keep their fractions
    half_square = 0.5 * np.broadcast_to(np.asarray(limit, dtype=np.float64), (len(X),)) ** 2
    for i in range(_ITERATIONS):  # accelerated projected gradient (FISTA)
        W_next = _project_to_simplex(Y - step * (Y @ gram - target[active]))
        t_next = (1.0 + np.sqrt(1.0 + 4.0 * t * t)) / 2.0
        Y = W_next + ((t - 1.0) / t_next) * (W_next - W[active])
        if i % 10 == 9:
            moving = np.abs(W_next - W[active]).max(axis=1) >= _TOLERANCE
            # settled rows stop: f <= limit^2/2, or f - gap > limit^2/2
            residual = X_clean[active] - W_next @ E
            f = 0.5 * (residual * residual).sum(axis=1)
            gradient = W_next @ gram - target[active]
            gap = (gradient * W_next).sum(axis=1) - gradient.min(axis=1)
            moving &= (f > half_square[active]) & (f - gap <= half_square[active])
            W[active] = W_next
            active, Y = active[moving], Y[moving]
            if not len(active):
                break
        else:
            W[active] = W_next
        t = t_next
    misfit = np.sqrt(((X - W @ E) ** 2).sum(axis=1))
    return np.where(total[:, 0] > 0, misfit, np.nan), W
