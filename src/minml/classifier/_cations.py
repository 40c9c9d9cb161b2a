"""Rows whose cation sum or oxide sum no formula of their named class allows, and which a
phase outside the classes explains: answered unknown, naming the phase.

A talc (Mg3Si4O10(OH)2) reads like a magnesian amphibole to the network and to the class
Gaussians (its oxides lie within the amphiboles' spread), and its end-member misfit from
amphibole is a few wt% (4.1 for the ideal formula, within amphibole's limit); but it has 14.6
cations per 23 oxygens where every amphibole has 15-16 (Hawthorne et al. 2012).  An armalcolite
((Fe,Mg)Ti2O5) named ilmenite has 1.8 cations per 3 oxygens where ilmenite has 2.  A lawsonite has anorthite's composition, but sums to ~88.5 wt% where an
anhydrous plagioclase sums to 100.  The cation sum and the oxide sum are evidence the network
does not weigh: a crystal's formula fixes them, whatever the composition's proportions.

For the classes marked ``judge_cations`` in ``minerals.toml`` (one ideal cation sum, or a range,
on an oxygen basis that the model oxides fill), a named row's cation sum is bracketed by the two
readings of its iron (all Fe2+: the largest sum; all Fe3+: the smallest).  Where the bracket
misses the class's ideal sum by more than :data:`TOLERANCE` (relative), or the row's oxide sum
falls more than :data:`SUM_GAP` below the least its class's end-members give, the row is tested
against the phases of ``phases.toml`` (:func:`minml.chemistry.phases.name_phases`: their
end-members explain the composition within their misfit limit, and the oxide sum within their
window); where one explains it, the row is answered unknown, as none of the classes, with the
phase in its flag.  Rows no phase explains keep their answer: sums off by a few per cent are
also what a poor analysis or a beam overlapping two grains gives.
"""

from __future__ import annotations

from functools import cache
from typing import NamedTuple

import numpy as np

from minml.chemistry._stoichiometry import cation_brackets
from minml.chemistry.minerals import mineral_table
from minml.classifier._judge import append_note
from minml.tables.reasons import Reason

__all__ = ["MAP_TOLERANCE", "SUM_EXCESS", "SUM_GAP", "TOLERANCE", "judge_cation_sums"]

TOLERANCE = 0.01
"""How far (relative) a row's cation-sum bracket may miss its class's ideal sum before the phases
outside the classes are tried.  Chosen on the training data and on synthetic analyses of the
phases of ``phases.toml`` (``benchmarks/cation_judge.py``; LEPR measured only): the training
rows' cation sums scatter by 0.2 % (robust sd; olivine, orthopyroxene, plagioclase), so 1 % is
4-5 sd for them; at 0.01, 3 of the 88,139 training rows, judged as their label, are answered
unknown (an olivine that serpentine explains, two ilmenites that armalcolite explains), 2 at
0.02.  0.02 lets most synthetic vesuvianites (named garnet) and some humite-group analyses (named
olivine) through, whose sums lie ~2 % from their class's (clinohumite's 13 cations per 17 O is
1.96 % above olivine's 3 per 4); 0.03 lets talc through."""


MAP_TOLERANCE = 0.02
""":data:`TOLERANCE` for the pixels of a map (:func:`minml.classifier.predict.classify_values`).
EDS pixels scatter more than microprobe analyses: on the synthetic maps of
``benchmarks/bench_maps.py`` (3 % relative noise on each oxide) the noise moves a pixel's cation
sum by 0.4-0.6 % (robust sd, measured two ways; ~2 % at the 99th percentile), so 2 % is 3-5 sd,
as 1 % is 4-5 sd for the training analyses of olivine, orthopyroxene and plagioclase.  At 1 % the
judge also tried most boundary mixtures: 0.72 s per Mpixel against 0.15 s, with the same answers
on the bench maps.  At 2 % an ideal clinohumite pixel is still named olivine."""


SUM_GAP = 6.0
"""How far (wt%) a named row's oxide sum may fall below the least its class's end-members give
(iron as FeOt, H2O unanalysed: 100 for plagioclase, 92 for magnetite) before the phases outside
the classes are tried.  A lawsonite (CaAl2Si2O7(OH)2.H2O) has anorthite's composition and sums to
~88.5 wt%; only the sum tells them.  Chosen on the training data (``benchmarks/cation_judge.py``):
at 6 the sum adds no training row of the judged classes to those the cation sum answers unknown
(at 4 it adds one plagioclase, that meionite explains)."""


SUM_EXCESS = 2.0
"""The most (wt%) a row's oxide sum may exceed what a phase outside the classes would give for
the phase to claim it here (``name_phases`` allows 5 when it names unknown rows).  A hydrous
phase's analyses sum low (humite-group minerals ~96 wt%, their H2O unanalysed): an anhydrous
class's analysis summing 100-102 wt% is no such phase, however near its composition (two
experimental forsterites of LEPR, 3.03-3.04 cations per 4 O, that humite claimed at 5).  Good
analyses' sums scatter by 1-2 wt%."""


@cache
def _ideal(name: str, oxides: tuple) -> tuple[float, float, float, float] | None:
    """(low, high) ideal cations per oxygen of class ``name``, its oxygen basis and the least
    oxide sum its end-members give in ``oxides`` (iron as FeOt, H2O unanalysed), where the
    class is judged (``judge_cations``); None otherwise."""
    from minml.chemistry.phases import analysed_share

    mineral = mineral_table().get(name)
    if mineral is None or not mineral.judge_cations or mineral.oxygens is None or mineral.cations is None:
        return None
    sums = np.atleast_1d(np.asarray(mineral.cations, dtype=float))
    least = min(analysed_share(m, oxides, "minerals.toml")[0] for m in mineral.end_members)
    return float(sums.min() / mineral.oxygens), float(sums.max() / mineral.oxygens), float(mineral.oxygens), 100 * least


def judge_cation_sums(
    values, oxides, checked, classes, top, named, notes, tolerance: float | None = None, sum_gap: float | None = None
) -> np.ndarray:
    """The ``named`` rows (answered ``classes[top]``) that no formula of their class allows and a
    phase outside the classes explains (True): their ``notes`` (flag text, reason codes) say
    so, in place.

    Parameters
    ----------
    values : numpy.ndarray
        The model inputs (rows x ``oxides``, wt%).
    oxides : sequence of str
    checked : OxideCheck or None
        The table's check, for the phases' fit (:func:`minml.chemistry.phases.name_phases`);
        None for clean arrays (a map's pixels): the rows tried are checked from ``values``.
    classes : numpy.ndarray of str
    top : numpy.ndarray of int
        Each row's class.
    named : numpy.ndarray of bool
        The rows answered a class so far.
    notes : tuple of (numpy.ndarray, numpy.ndarray) or None
        The rows' flag text and reason codes, changed in place (None: no notes).
    tolerance : float, optional
        Relative; :data:`TOLERANCE` by default.
    sum_gap : float, optional
        wt%; :data:`SUM_GAP` by default.
    """
    tolerance = TOLERANCE if tolerance is None else tolerance
    sum_gap = SUM_GAP if sum_gap is None else sum_gap
    rejected = np.zeros(len(values), dtype=bool)
    ideals = {code: _ideal(str(name), tuple(oxides)) for code, name in enumerate(classes.tolist())}
    judged = {code: ideal for code, ideal in ideals.items() if ideal is not None}
    if not judged:  # a model of other classes
        return rejected
    lows = np.full(len(classes) + 1, -np.inf)  # the last: codes past the classes (none judged)
    highs = np.full(len(classes) + 1, np.inf)
    least_sums = np.full(len(classes) + 1, -np.inf)
    for c, (ideal_low, ideal_high, _, least) in judged.items():
        lows[c], highs[c], least_sums[c] = ideal_low * (1 - tolerance), ideal_high * (1 + tolerance), least - sum_gap
    code = np.minimum(top, len(classes))
    high, low = cation_brackets(values, oxides)  # every row: cheaper than picking the named ones first
    with np.errstate(invalid="ignore", over="ignore"):  # unusable rows (inf) are not named: no matter
        total = np.asarray(values) @ np.ones(len(oxides), dtype=np.asarray(values).dtype)  # one pass
        by_cations = (high < lows[code]) | (low > highs[code])
        rows = np.flatnonzero(named & (by_cations | (total < least_sums[code])))
    if not len(rows):
        return rejected
    from minml.chemistry.phases import name_phases

    if checked is None:  # the map's clean arrays: the rows tried, as name_phases reads a check
        tried = np.asarray(values[rows], dtype=np.float64)
        checked = _Clean(list(oxides), tried, np.zeros(len(rows), dtype=bool), tried.sum(axis=1), None)
        at = np.arange(len(rows))
    else:
        at = rows
    phases, misfit = name_phases(checked, at, excess=SUM_EXCESS)
    explained = np.array([bool(p) for p in phases])
    rejected[rows[explained]] = True
    if notes is not None and explained.any():
        flag, reasons = notes
        kept = rows[explained]
        reasons[kept] |= np.uint16(Reason.NONE_OF_THE_CLASSES)
        why = [
            _why(classes[c], judged[c], high[i], low[i], total[i], by_cations[i])
            for i, c in zip(kept.tolist(), code[kept].tolist(), strict=True)
        ]
        names = ["|".join(p) for p, e in zip(phases, explained, strict=True) if e]  # as species_text writes them
        append_note(
            flag,
            kept,
            [
                f"unknown: no {w}, and {n} explains it (misfit {m:.1f} wt%)"
                for w, n, m in zip(why, names, misfit[explained].tolist(), strict=True)
            ],
        )
    return rejected


class _Clean(NamedTuple):
    """Clean rows (a map's pixels) as :func:`~minml.chemistry.phases.name_phases` reads an
    :class:`~minml.tables.checks.OxideCheck`: no table to check, no pandas."""

    species: list
    values: np.ndarray
    no_analysis: np.ndarray
    total: np.ndarray
    total_range: tuple | None


def _why(name, ideal, high, low, total, by_cations) -> str:
    """Why a row is no ``name``: its cation sum (``high``, ``low`` per oxygen) or its oxide sum
    ``total`` against the class's ``ideal`` (:func:`_ideal`)."""
    ideal_low, ideal_high, basis, least = ideal
    if not by_cations:
        return f"{name}: oxide sum {total:.1f} wt% (its formulas {least:.1f} or more, iron as FeOt)"
    formulas = f"{ideal_low * basis:g}" if ideal_low == ideal_high else f"{ideal_low * basis:g}-{ideal_high * basis:g}"
    return (
        f"{name}: {low * basis:.2f}-{high * basis:.2f} cations per {basis:g} oxygens (iron as Fe3+ to Fe2+; "
        f"its formulas {formulas})"
    )
