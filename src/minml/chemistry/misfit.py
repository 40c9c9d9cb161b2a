"""Stoichiometric misfit: how far an analysis lies from its class's end-member compositions.

Every analysis of a mineral is, to within analytical error and minor substitutions, a
mixture of the class's end-members (``minerals.toml``): a point inside their simplex.  The
misfit of a row under a class is the distance (wt%, after normalising the analysis to 100)
from the row to the nearest such mixture, found exactly: the closed-form fit on one face of
the simplex of mixing fractions, the face found by an active-set search and certified by the
optimality (KKT) conditions, or else the best of the fits on every face (a class has at most
8 end-members: at most 255 faces).  Mixing in wt% space is exact: mass fractions of
end-members are convex weights, and dropping unanalysed species (H2O, B2O3, ZrO2) and
folding iron into ``FeOt`` before renormalising keeps mixtures convex.

A nepheline (NaAlSiO4) is no mixture of albite, anorthite and orthoclase; a leucite
(KAlSi2O6) no k-feldspar; corundum no spinel.  :mod:`minml.classifier.predict` uses the misfit as the
physical half of its "unknown" answer: a row unlike the training data is rejected unless
its predicted class's end-members explain it (experimental simple-system minerals are
unlike natural ones, but stoichiometric).

Ni2+, Co2+ and Zn2+ take Fe2+'s place (same charge, same sites: liebenbergite Ni2SiO4 and
Co2SiO4 olivines, gahnite ZnAl2O4 spinel), and the model oxides leave them out: an olivine
of a nickel-partitioning experiment with 5 wt% NiO would read as no olivine.
:func:`fold_divalent` adds them to ``FeOt`` as the same number of moles of FeO before the fit.
"""

from __future__ import annotations

from functools import cache, lru_cache

import numpy as np

from minml.chemistry.minerals import end_member_table, mineral_table
from minml.chemistry.oxides import FEO_PER_FE2O3, species_table

__all__ = [
    "DIVALENT_SUBSTITUTES",
    "end_member_compositions",
    "end_member_misfit",
    "fold_divalent",
    "member_compositions",
]

DIVALENT_SUBSTITUTES = ("NiO", "CoO", "ZnO")
"""Oxides of cations that substitute for Fe2+, folded into ``FeOt`` for the misfit."""

_STEP_ROWS = 8192  # rows fitted together in a step of the active-set search (bounds its memory)
_KKT_TOLERANCE = 1e-7  # wt%^2: a gradient this far below the multiplier still certifies


@cache
def _compositions(mineral: str, oxides: tuple) -> np.ndarray:
    return member_compositions(mineral_table()[mineral].end_members, oxides)


@cache
def member_compositions(names: tuple, oxides: tuple, file: str = "minerals.toml") -> np.ndarray:
    """End-members ``names`` of the data table ``file`` as wt% of ``oxides`` (rows summing to
    100; iron as ``FeOt`` where ``oxides`` has it; species outside ``oxides`` dropped before
    normalising; end-members with none of ``oxides`` left out). Cached: do not modify.

    Examples
    --------
    >>> member_compositions(("forsterite",), ("SiO2", "MgO")).round(1).tolist()
    [[42.7, 57.3]]
    """
    table, members = species_table(), end_member_table(file)
    folded = {"FeO": 1.0, "Fe2O3": FEO_PER_FE2O3} if "FeOt" in oxides else {}
    rows = []
    for name in names:
        mass = np.zeros(len(oxides))
        for species, moles in members[name].oxides.items():
            if species in folded:
                mass[oxides.index("FeOt")] += moles * table[species].molar_mass * folded[species]
            elif species in oxides:
                mass[oxides.index(species)] += moles * table[species].molar_mass
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
    analyses : pandas.DataFrame, dict of str to numpy.ndarray, or None
        The same rows' canonical oxides (``OxideCheck.oxides``) by name; species of
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
    present = [] if analyses is None else [s for s in DIVALENT_SUBSTITUTES if s in analyses]
    if "FeOt" not in oxides or not present:
        return values
    table = species_table()
    moles = np.zeros(len(values))
    for s in present:
        moles += np.nan_to_num(np.asarray(analyses[s], dtype=np.float64), nan=0.0).clip(min=0.0) / table[s].molar_mass
    out = np.array(values, copy=True)
    out[:, oxides.index("FeOt")] += (moles * table["FeO"].molar_mass).astype(out.dtype)
    return out


class _Simplex:
    """The end-members of one class and the closed-form fit on each face of their simplex
    (a face: a subset of the end-members, as a bit mask).  A face is solved when first
    needed: the active-set search visits few of a class's 2^k - 1 faces (amphibole's 13
    end-members have 8,191, whose solving together took 0.12 s of every run that met one far
    amphibole); trying every face solves those of one size in one stacked pseudo-inverse."""

    def __init__(self, E: np.ndarray):
        self.E = E
        self.gram = E @ E.T
        self._faces: dict[int, tuple] = {}
        self._padded: dict[int, tuple] = {}

    def face(self, mask: int) -> tuple:
        """The face's members S, the map from a row's products with S (x E_S^T) to the
        fractions of the nearest point of S's affine hull (fractions summing to 1: the
        pseudo-inverse of the KKT system), and the offset of that map."""
        if mask not in self._faces:
            self.solve([mask])
        return self._faces[mask]

    def solve(self, masks) -> None:
        """Solve the faces ``masks`` not solved yet, those of one size together."""
        k = len(self.E)
        by_size: dict[int, list[list[int]]] = {}
        for mask in masks:
            if mask not in self._faces:
                by_size.setdefault(mask.bit_count(), []).append([j for j in range(k) if mask >> j & 1])
        for faces in by_size.values():
            self._store(faces)

    def _store(self, faces: list[list[int]]) -> None:
        """Solve ``faces`` (lists of end-member indices, all of one size) together."""
        S = np.array(faces)
        size = S.shape[1]
        kkt = np.ones((len(S), size + 1, size + 1))
        kkt[:, :-1, :-1] = self.gram[S[:, :, None], S[:, None, :]]
        kkt[:, -1, -1] = 0.0
        inverse = np.linalg.pinv(kkt)
        for subset, inv in zip(faces, inverse, strict=True):
            mask = sum(1 << j for j in subset)
            self._faces[mask] = (subset, np.ascontiguousarray(inv[:-1, :-1].T), inv[:-1, -1].copy())

    def fractions(self, products: np.ndarray, mask: int) -> np.ndarray:
        """Rows x end-members: each row's affine fit on the face ``mask`` (0 off the face)."""
        S, linear, offset = self.face(mask)
        W = np.zeros((len(products), len(self.E)))
        W[:, S] = products[:, S] @ linear + offset
        return W

    def padded(self, masks: list[int]) -> tuple[np.ndarray, np.ndarray]:
        """The maps of the faces ``masks`` (see :meth:`face`) padded to every end-member, zero
        off the face: shapes (len(masks), k, k) and (len(masks), k).  Each face is padded once
        (the search meets the same faces step after step)."""
        self.solve(masks)
        k = len(self.E)
        for mask in masks:
            if mask not in self._padded:
                S, face_linear, face_offset = self._faces[mask]
                linear, offset = np.zeros((k, k)), np.zeros(k)
                linear[np.ix_(S, S)] = face_linear
                offset[S] = face_offset
                self._padded[mask] = (linear, offset)
        return np.stack([self._padded[m][0] for m in masks]), np.stack([self._padded[m][1] for m in masks])

    def active_set(self, products: np.ndarray, rounds: int) -> tuple[np.ndarray, np.ndarray]:
        """Fractions of the nearest mixture for the rows that an active-set search certifies
        within ``rounds`` steps, and those rows.

        Every row starts on the whole simplex; each step fits it on its face: a fit with a
        negative fraction drops that end-member, a feasible fit whose gradient is lower on
        some end-member off the face adds it, and a feasible fit with no such end-member
        meets the KKT conditions of this convex problem: it is the optimum (certified).
        Each step fits all pending rows at once, each through its face's padded map.
        """
        n, k = products.shape
        W = np.zeros((n, k))
        certified = np.zeros(n, dtype=bool)
        mask = np.full(n, (1 << k) - 1)
        for _ in range(rounds):
            pending = np.flatnonzero(~certified)
            if not len(pending):
                break
            for chunk in np.array_split(pending, -(-len(pending) // _STEP_ROWS)):
                mask[chunk] = self._step(products[chunk], mask[chunk], W, certified, chunk)
        return W, certified

    def _step(self, products, masks, W, certified, rows) -> np.ndarray:
        """One step of :meth:`active_set` for ``rows``: the optimal ones written to ``W`` and
        marked ``certified``; returns every row's next face."""
        k = products.shape[1]
        faces, which = np.unique(masks, return_inverse=True)
        linear, offset = self.padded(faces.tolist())
        w = np.matmul(products[:, None, :], linear[which])[:, 0] + offset[which]
        on_face = (masks[:, None] >> np.arange(k)) & 1 == 1
        gradient = w @ self.gram - products  # half the gradient of |x - wE|^2
        mean = np.where(on_face, gradient, 0.0).sum(axis=1) / on_face.sum(axis=1)
        slack = np.where(on_face, np.inf, gradient - mean[:, None])
        feasible = np.where(on_face, w, 0.0).min(axis=1) >= 0.0
        steepest = slack.argmin(axis=1)
        optimal = feasible & (slack[np.arange(len(rows)), steepest] >= -_KKT_TOLERANCE)
        W[rows[optimal]] = w[optimal]
        certified[rows[optimal]] = True
        bits = 1 << np.arange(k)
        most_negative = np.where(on_face, w, np.inf).argmin(axis=1)
        return np.where(feasible, masks | bits[steepest], masks & ~bits[most_negative])

    def every_face(self, products: np.ndarray, squares: np.ndarray) -> np.ndarray:
        """Fractions of the nearest mixture by trying every face: the optimum lies inside one
        face, where it is that face's affine fit, and every feasible affine fit is a mixture,
        so the best feasible fit is the optimum.  (The fallback: 2^k - 1 faces.)"""
        self.solve(range(1, 1 << len(self.E)))
        best = np.full(len(products), np.inf)
        W = np.zeros(products.shape)
        for mask in range(1, 1 << len(self.E)):
            w = self.fractions(products, mask)
            feasible = (w >= -1e-9).all(axis=1)
            f = squares - 2.0 * (w * products).sum(axis=1) + ((w @ self.gram) * w).sum(axis=1)
            better = feasible & (f < best)
            best[better], W[better] = f[better], w[better]
        return W


@lru_cache(maxsize=64)
def _simplex(members: bytes, shape: tuple) -> _Simplex:
    return _Simplex(np.frombuffer(members, dtype=np.float64).reshape(shape))


def _nearest_mixture(X: np.ndarray, E: np.ndarray, rounds: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Exact squared distance of each row of ``X`` to the simplex of ``E``'s rows, and the
    fractions there: by the active-set search (at most ``rounds`` steps, by default twice
    the number of end-members and two), and by trying every face for rows it leaves
    uncertified."""
    simplex = _simplex(E.tobytes(), E.shape)
    products = X @ E.T
    W, certified = simplex.active_set(products, 2 * len(E) + 2 if rounds is None else rounds)
    left = np.flatnonzero(~certified)
    if len(left):
        W[left] = simplex.every_face(products[left], (X[left] * X[left]).sum(axis=1))
    W = np.maximum(W, 0.0)
    residual = X - W @ E
    return (residual * residual).sum(axis=1), W


def end_member_misfit(values: np.ndarray, members: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distance of each analysis from the nearest mixture of ``members``.

    Parameters
    ----------
    values : numpy.ndarray
        Rows x oxides, wt% (NaN reads as 0); normalised to 100 here.
    members : numpy.ndarray
        End-members x oxides, wt% summing to 100 (:func:`end_member_compositions`).

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
        X = np.nan_to_num(100.0 * X / total)  # rows summing to 0 are fitted as zeros, and reported NaN
    best, W = _nearest_mixture(X, np.ascontiguousarray(members, dtype=np.float64))
    return np.where(total[:, 0] > 0, np.sqrt(best), np.nan), W
