"""Phases outside the classes, named by their formulas (``data/phases.toml``).

An analysis that none of the classes explains is named a phase when the phase's end-members
explain it: the distance from their nearest mixture (:mod:`minml.chemistry.misfit`, in wt%
over the model oxides and the further species the phases hold) is within the phase's
``misfit_limit``, and the oxide sum lies in the accepted window moved to the sum that mixture
gives with H2O, CO2 and the species the table lacks unanalysed (calcite ~56 wt%).  Where
several phases fit, all are named, the closest first; within a phase the dominant end-member
(in moles) gives the name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

import numpy as np

from minml._resources import load_toml
from minml.chemistry.minerals import end_member_table
from minml.chemistry.misfit import end_member_misfit, fold_divalent, member_compositions
from minml.chemistry.oxides import FEO_PER_FE2O3, species_table

__all__ = ["Phase", "analysed_share", "name_phases", "phase_fit", "phase_spellings", "phase_table"]

_FILE = "phases.toml"
_VOLATILE = ("H2O",)  # species of the oxide table never in the fit (CO2 is not in the table at all)


@dataclass(frozen=True)
class Phase:
    """A phase outside the classes.

    Attributes
    ----------
    name : str
    group : str
    end_members : tuple of str
        Names in ``end_member_table("phases.toml")``.
    names : dict of str to tuple of str
        Species named where an end-member dominates (default: the phase's name).
    requires : tuple of tuple of str
        Species that must be analysed (> 0), each as alternatives.
    misfit_limit : float
        wt%.
    source : str
    rules : tuple of dict
        Where given, name the species instead of ``names``: rules as ``species.toml``'s, on
        the end-members' mole fractions by name.
    labels : tuple of str
        Further spellings a database label may give the phase (synonyms, abbreviations).
    """

    name: str
    group: str
    end_members: tuple
    names: dict = field(default_factory=dict)
    requires: tuple = ()
    misfit_limit: float = 2.7
    source: str = ""
    rules: tuple = ()
    labels: tuple = ()


@cache
def phase_table() -> dict[str, Phase]:
    """The phases of ``phases.toml`` by name.

    Examples
    --------
    >>> phase_table()["leucite"].end_members
    ('leucite', 'Na-leucite', 'ferrileucite')
    >>> phase_table()["Al2SiO5"].names["Al2SiO5"]
    ('kyanite', 'sillimanite', 'andalusite')
    """
    raw = load_toml(_FILE)
    limit = float(raw["misfit_limit"])
    out = {}
    for name, spec in raw["phase"].items():
        names = {m: (name,) for m in spec["end_members"]}
        for member, given in spec.get("names", {}).items():
            names[member] = tuple(given) if isinstance(given, list) else (given,)
        out[name] = Phase(
            name=name,
            group=spec["group"],
            end_members=tuple(spec["end_members"]),
            names=names,
            requires=tuple(tuple(r.split("|")) for r in spec.get("requires", ())),
            misfit_limit=float(spec.get("misfit_limit", limit)),
            source=spec.get("source", ""),
            rules=tuple(spec.get("rules", ())),
            labels=tuple(spec.get("labels", ())),
        )
    return out


def phase_spellings(phase: Phase) -> list[str]:
    """Every name a label may give ``phase``: its own, its end-members', the species it names
    (by ``names`` or by its rules) and its further ``labels``.

    Examples
    --------
    >>> spellings = phase_spellings(phase_table()["carbonate"])
    >>> "dolomite" in spellings, "cal" in spellings
    (True, True)
    """
    named = [n for species in phase.names.values() for n in species]
    for rule in phase.rules:
        named += [rule["name"]] if "name" in rule else []
        named += list(rule.get("names", ())) + list(rule.get("dominant", {}).values())
    return list(dict.fromkeys([phase.name, *phase.end_members, *named, *phase.labels]))


def analysed_share(member: str, oxides: tuple, file: str = _FILE) -> tuple[float, float]:
    """How much of an end-member an analysis of ``oxides`` reports.

    Parameters
    ----------
    member : str
        An end-member of the data table ``file``.
    oxides : tuple of str
        The analysed species; iron of FeO and Fe2O3 counts as ``FeOt`` where it is one of them.
    file : str
        ``phases.toml`` (default) or ``minerals.toml``.

    Returns
    -------
    share : float
        Of the end-member's mass (H2O, CO2 and species outside ``oxides`` unanalysed): its
        analysed oxide sum / 100.
    mass : float
        Its mass in ``oxides`` per formula unit (g/mol).

    Examples
    --------
    >>> round(analysed_share("talc", ("SiO2", "MgO"))[0], 3)  # Mg3Si4O10(OH)2: 4.8 wt% H2O
    0.952
    """
    table, spec = species_table(), end_member_table(file)[member]
    volatile = load_toml(file).get("molar_mass", {})
    full = reported = 0.0
    for species, moles in spec.oxides.items():
        mass = moles * (volatile[species] if species in volatile else table[species].molar_mass)
        full += mass
        if species in ("FeO", "Fe2O3") and "FeOt" in oxides:
            reported += mass * (FEO_PER_FE2O3 if species == "Fe2O3" else 1.0)
        elif species in oxides:
            reported += mass
    return reported / full, reported


@cache
def _fitted(name: str, oxides: tuple) -> tuple:
    """The end-members of phase ``name`` that hold any of ``oxides``, their compositions there,
    analysed shares and masses per formula unit (the same for every call: once per phase)."""
    phase = phase_table()[name]
    members = [m for m in phase.end_members if analysed_share(m, oxides)[1] > 0]
    shares = np.array([analysed_share(m, oxides) for m in members]).reshape(-1, 2)
    return members, member_compositions(tuple(members), oxides, _FILE), shares[:, 0], shares[:, 1]


def _phase_oxides(checked) -> tuple:
    """The model oxides and the further analysed species that phases' end-members hold."""
    from minml.classifier.features import MODEL_OXIDES

    held = {s for m in end_member_table(_FILE).values() for s in m.oxides} - set(_VOLATILE)
    extra = [s for s in checked.species if s in held and s not in MODEL_OXIDES and s not in ("FeO", "Fe2O3")]
    return tuple(MODEL_OXIDES) + tuple(extra)


def _species(phase: Phase, members: list, moles: np.ndarray) -> list:
    """Per row, the species of ``phase`` for end-member ``moles`` (rows x ``members``): by its
    rules on the mole fractions, or by the dominant end-member."""
    if not phase.rules:
        return [phase.names[members[k]] for k in moles.argmax(axis=1).tolist()]
    from minml.chemistry.species import SpeciesRules, _rule_names

    with np.errstate(divide="ignore", invalid="ignore"):
        fractions = moles / moles.sum(axis=1, keepdims=True)
    values = {m: np.zeros(len(moles)) for m in phase.end_members}
    values.update({m: fractions[:, k] for k, m in enumerate(members)})
    return _rule_names(SpeciesRules(rules=phase.rules), values, len(moles))[0]


def _box_distance(normalised: np.ndarray, members: np.ndarray) -> np.ndarray:
    """A lower bound of each row's misfit from ``members`` (wt%, rows normalised to 100 as
    :func:`~minml.chemistry.misfit.end_member_misfit` normalises them): its distance from the
    box that the end-members' oxides span, which holds every mixture of them."""
    below = np.maximum(members.min(axis=0) - normalised, 0.0)
    above = np.maximum(normalised - members.max(axis=0), 0.0)
    return np.sqrt((below * below + above * above).sum(axis=1))


@dataclass(frozen=True)
class _Rows:
    """What every phase's fit reads of the rows tried: their values over the phases' oxides
    (FeO and Fe2O3 folded in), the species by name, which rows can be tried, their oxide sums
    and the window the sums must lie in."""

    values: np.ndarray
    frame: dict
    usable: np.ndarray
    total: np.ndarray
    normalised: np.ndarray
    below: float
    above: float
    oxides: tuple


def _rows(checked, rows: np.ndarray, excess: float | None) -> _Rows:
    oxides = _phase_oxides(checked)
    species = list(checked.species)
    frame = {s: np.asarray(checked.values[rows, species.index(s)], dtype=float) for s in species}  # no pandas
    values = fold_divalent(np.stack([frame[s] for s in oxides], axis=1), oxides, frame)
    usable = np.isfinite(values).all(axis=1) & ~np.asarray(checked.no_analysis)[rows]
    low, high = checked.total_range if checked.total_range is not None else (88.0, 105.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        normalised = np.nan_to_num(100.0 * values / np.nansum(values, axis=1, keepdims=True))
    total = np.asarray(checked.total, dtype=float)[rows]
    return _Rows(
        values, frame, usable, total, normalised, 100.0 - low, high - 100.0 if excess is None else excess, oxides
    )


def _analysed(phase: Phase, tried: _Rows) -> np.ndarray:
    """Whether each row holds the species the phase requires (each as alternatives)."""
    analysed = np.ones(len(tried.values), dtype=bool)
    for alternatives in phase.requires:
        present = [np.nan_to_num(tried.frame[s]) > 0 for s in alternatives if s in tried.frame]
        analysed &= np.any(present, axis=0) if present else False
    return analysed


def _fit_phase(phase: Phase, tried: _Rows, exact: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The phase's fit to the rows: misfit (wt%; inf where not computed: rows it cannot be
    tried on, and, unless ``exact``, rows whose lower bound already exceeds its limit), whether
    it explains each row (misfit and oxide sum), and the end-members' weights."""
    members, E, share, _ = _fitted(phase.name, tried.oxides)
    n = len(tried.values)
    misfit, W = np.full(n, np.inf), np.zeros((n, len(members)))
    if not members:
        return misfit, np.zeros(n, dtype=bool), W
    analysed = tried.usable & _analysed(phase, tried)
    near = analysed if exact else analysed & (_box_distance(tried.normalised, E) <= phase.misfit_limit)
    at = np.flatnonzero(near)
    if len(at):  # most phases are tried on none of a few rows: no fit to set up
        misfit[at], W[at] = end_member_misfit(tried.values[at], E)
    with np.errstate(divide="ignore", invalid="ignore"):
        expected = 100.0 / (W / share).sum(axis=1)
    fits = analysed & (misfit <= phase.misfit_limit)
    fits &= (tried.total >= expected - tried.below) & (tried.total <= expected + tried.above)
    return misfit, fits, W


def phase_fit(checked, rows: np.ndarray, name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """How well phase ``name`` of ``phases.toml`` explains ``rows`` of ``checked``.

    Parameters
    ----------
    checked : OxideCheck
    rows : array-like of int
    name : str
        A key of :func:`phase_table`.

    Returns
    -------
    misfit : numpy.ndarray
        wt% from the nearest mixture of the phase's end-members (NaN where it cannot be
        judged: no usable analysis, or a species the phase requires is not analysed).
    explains : numpy.ndarray of bool
        Within the phase's ``misfit_limit``, with an oxide sum the phase allows (as
        :func:`name_phases` names phases).
    judged : numpy.ndarray of bool
        Where the phase could be tried at all.
    """
    rows = np.asarray(rows, dtype=int)
    phase = phase_table()[name]
    tried = _rows(checked, rows, None)
    misfit, fits, _ = _fit_phase(phase, tried, exact=True)
    judged = tried.usable & _analysed(phase, tried) & np.isfinite(misfit)
    return np.where(judged, misfit, np.nan), fits, judged


def name_phases(checked, rows: np.ndarray, excess: float | None = None) -> tuple[list, np.ndarray]:
    """Phases of ``phases.toml`` that explain ``rows`` of ``checked`` (an :class:`OxideCheck`).

    ``excess``: the most (wt%) a row's oxide sum may exceed the sum the phase's mixture would
    give; by default what the accepted range allows above 100 (5 wt% for 88-105).

    Returns
    -------
    names : list of tuple of str
        Per row, the species of every phase within its limits, closest first (empty: none).
    misfit : numpy.ndarray
        wt% from the closest such phase (NaN: none).
    """
    rows = np.asarray(rows, dtype=int)
    names: list = [()] * len(rows)
    best = np.full(len(rows), np.nan)
    if not len(rows):
        return names, best
    tried = _rows(checked, rows, excess)
    found = []  # (misfit, species) per phase
    for phase in phase_table().values():
        misfit, fits, W = _fit_phase(phase, tried)
        if not W.shape[1]:  # no end-member holds an analysed oxide
            continue
        named_rows: list = [()] * len(rows)  # the phase's species, for the rows it fits only
        hit = np.flatnonzero(fits)
        if len(hit):
            members, _, _, mass = _fitted(phase.name, tried.oxides)
            for i, named in zip(hit.tolist(), _species(phase, members, W[hit] / mass), strict=True):
                named_rows[i] = named
        found.append((np.where(fits, misfit, np.nan), named_rows))
    order = np.argsort(np.vstack([np.where(np.isnan(m), np.inf, m) for m, _ in found]), axis=0)
    for i in np.flatnonzero(np.any([np.isfinite(m) for m, _ in found], axis=0)).tolist():
        chosen: tuple = ()
        for k in order[:, i].tolist():
            misfit, species = found[k]
            if np.isfinite(misfit[i]):
                chosen += tuple(s for s in species[i] if s not in chosen)
                best[i] = misfit[i] if np.isnan(best[i]) else best[i]
        names[i] = chosen
    return names, best
