"""Rows whose cations overflow a site of the class the network named: that class is taken out
of their answer.

The network weighs oxide proportions; a formula's sites bound how many cations of a kind a
member can hold, whatever the proportions.  An amphibole's B site holds 2 Ca per 23 O
(Hawthorne et al. 2012), a clinopyroxene's M2 site 1 per 6 O (Morimoto 1988).  A Ca-rich
aluminous clinopyroxene of an experiment, with ~2.5 Ca per 23 O, can still read as a pargasite
to a network that has seen few such pyroxenes; its Ca tells that it is none.

For the classes with ``site_limits`` in ``minerals.toml``, a row named the class whose cations of
a species exceed a limit (counted with all iron as Fe3+, the fewest cations) loses the class: its
probabilities are renormalised without it (and without any other class whose limits the row
exceeds).  The row is named the class that then comes first only where that class's end-members
explain it (misfit within the class's limit, as for rows unlike the training data); otherwise,
and for glass, which has no end-members to confirm it, it is answered unknown, as none of the
classes.  The flag says which.
"""

from __future__ import annotations

from functools import cache

import numpy as np

from minml.chemistry._stoichiometry import fewest_cations
from minml.chemistry.minerals import mineral_table
from minml.classifier._judge import append_note
from minml.classifier._top import fill_scores
from minml.tables.reasons import Reason

__all__ = ["exclude_by_sites", "site_limits"]


@cache
def site_limits(classes: tuple, oxides: tuple) -> tuple[tuple[int, str, float, float], ...]:
    """(class code, species, most cations, oxygen basis) of each site limit of ``classes``
    (``minerals.toml``) whose species is one of the model's ``oxides``."""
    table = mineral_table()
    found = []
    for code, name in enumerate(classes):
        mineral = table.get(str(name))
        if mineral is None or mineral.oxygens is None:
            continue
        for species, most in sorted(mineral.site_limits.items()):
            if species in oxides:
                found.append((code, species, float(most), float(mineral.oxygens)))
    return tuple(found)


def exclude_by_sites(model, values, out, ok, notes, cutoffs=None, analyses=None, checked=None) -> np.ndarray:
    """Take out of each ``ok`` row's answer the classes whose site limits it exceeds, where
    the network named one of them (see the module's text).

    Parameters
    ----------
    model : Runtime
    values : numpy.ndarray
        The model inputs (rows x ``model.oxides``, wt%).
    out : dict
        The scores of ``predict._scores`` (top, p1, second, p2, uncertainty, ood; sets and
        proba where present) or of :func:`minml.classifier._top.top_scores` (top, p1): the
        rows changed get their renormalised scores, in place.
    ok : numpy.ndarray of bool
        The rows that may be named.
    notes : tuple of (numpy.ndarray, numpy.ndarray) or None
        The rows' flag text and reason codes, changed in place (None: no notes, as for a
        map's pixels).
    cutoffs : numpy.ndarray, optional
        The prediction sets' class cut-offs, where ``out`` holds sets.
    analyses : dict of str to numpy.ndarray, optional
        The rows' checked NiO, CoO and ZnO, lent to the end-member fit
        (:func:`minml.chemistry.misfit.fold_divalent`).
    checked : OxideCheck, optional
        The table's check: the rows answered unknown are tried against the phases of
        ``phases.toml``, and one that explains a row is named in its flag.

    Returns
    -------
    numpy.ndarray of bool
        The rows answered unknown: no class left that their cations fit and its end-members
        explain.
    """
    classes = np.asarray(model.classes, dtype=object)
    rejected = np.zeros(len(values), dtype=bool)
    limits = site_limits(tuple(classes.tolist()), tuple(model.oxides))
    over_top = np.zeros(len(values), dtype=bool)
    for code, species, most, oxygens in limits:
        named = np.flatnonzero(ok & (out["top"] == code))
        if len(named):
            over_top[named[fewest_cations(values[named], model.oxides, species, oxygens) > most]] = True
    rows = np.flatnonzero(over_top)
    if not len(rows):
        return rejected
    part = np.asarray(values[rows])
    allowed = np.ones((len(rows), len(classes)), dtype=bool)
    counts = {}
    for code, species, most, oxygens in limits:
        counts[code, species] = fewest_cations(part, model.oxides, species, oxygens)
        allowed[counts[code, species] > most, code] = False
    proba = model.calibrated_proba(model.scaled(part)).astype(np.float32)
    left = np.where(allowed, proba, 0.0).astype(np.float32)
    mass = left.sum(axis=1, keepdims=True)
    left = np.divide(left, mass, out=np.zeros_like(left), where=mass > 0)
    was = out["top"][rows].copy()
    fill_scores(out, rows, left, cutoffs, classes)
    misfit, limit = _fit(model, part, out["top"][rows], analyses, rows)
    named = (mass[:, 0] > 0) & (misfit <= limit)  # False for NaN: glass has no end-members to confirm it
    rejected[rows[~named]] = True
    if notes is not None:
        _note(
            notes,
            rows,
            named,
            (misfit, limit, mass[:, 0]),
            [_why(classes, was[i], limits, counts, i) for i in range(len(rows))],
            classes[out["top"][rows]].tolist(),
            checked,
        )
    return rejected


def _note(notes, rows, named, fit, why, nexts, checked) -> None:
    """The flag text and reason codes of the ``rows`` the limits changed (see :func:`exclude_by_sites`)."""
    misfit, limit, mass = fit
    flag, reasons = notes
    reasons[rows] |= np.uint16(Reason.SITE_LIMIT)
    reasons[rows[~named]] |= np.uint16(Reason.NONE_OF_THE_CLASSES)
    texts = []
    for i in range(len(rows)):
        if named[i]:
            texts.append(f"{why[i]}; {nexts[i]} next, its end-members explain it (misfit {misfit[i]:.1f} wt%)")
        elif mass[i] <= 0:
            texts.append(f"unknown: {why[i]}, and no class is left")
        elif np.isnan(misfit[i]):
            texts.append(f"unknown: {why[i]}, and {nexts[i]} next has no end-members to confirm it")
        else:
            texts.append(
                f"unknown: {why[i]}, and no {nexts[i]} (misfit {misfit[i]:.1f} wt% from its "
                f"end-members, limit {limit[i]:.1f})"
            )
    if checked is not None and (~named).any():
        from minml.chemistry.phases import name_phases
        from minml.classifier._cations import SUM_EXCESS

        unknown = np.flatnonzero(~named)
        phases, fits = name_phases(checked, rows[unknown], excess=SUM_EXCESS)
        for i, found, fit in zip(unknown.tolist(), phases, fits.tolist(), strict=True):
            if found:
                texts[i] += f"; {'|'.join(found)} explains it (misfit {fit:.1f} wt%)"
    append_note(flag, rows, texts)


def _fit(model, part, top, analyses, rows) -> tuple[np.ndarray, np.ndarray]:
    """Each row's misfit (wt%) from its class's end-members (NaN: none, as glass) and the class's limit."""
    from minml.chemistry.misfit import fold_divalent

    folded = fold_divalent(part, model.oxides, None if analyses is None else {s: v[rows] for s, v in analyses.items()})
    return np.asarray(model.misfit(folded, top), dtype=float), np.asarray(model.misfit_threshold)[top]


def _why(classes, code, limits, counts, i) -> str:
    """Why row ``i`` is no ``classes[code]``: the first limit of the class it exceeds, in words."""
    from minml.chemistry.oxides import species_table

    species, most, oxygens = next((s, m, o) for c, s, m, o in limits if c == code and counts[c, s][i] > m)
    element = species_table()[species].element
    return (
        f"not {classes[code]}: {counts[code, species][i]:.3f} {element} per {oxygens:g} O (iron as Fe3+), "
        f"more than its formula's sites hold (limit {most:g})"
    )
