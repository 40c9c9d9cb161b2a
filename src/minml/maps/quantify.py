"""EDS spectra -> oxide wt%: a small Cliff-Lorimer quantification.

A raw spectrum image (Bruker ``.bcf``, Ripple ``.rpl``/``.raw``, EMSA ``.msa``, a HyperSpy
EDS signal) holds X-ray counts per energy channel, not wt%.  This module turns counts into
oxide wt% the way a standardless-with-k-factors quantification does, and no more:

1. **Net line intensities** (:func:`line_intensities`): for each element its K-alpha line
   (energies in ``xray_lines.toml``, Bearden 1967) is integrated over +-1 FWHM of the detector
   (FWHM(E)^2 = FWHM(Mn Ka)^2 + 2.49 eV x (E - 5.894 keV), the Fano law), and a linear
   background, interpolated between the mean counts of two windows of half a FWHM just
   outside the peak, is subtracted.  Overlaps (K Kb on Ca Ka, Mn Kb on Fe Ka) are not
   deconvolved.
2. **Cliff-Lorimer** (:func:`cliff_lorimer`): element wt% in proportion to ``k_i x I_i``
   (Cliff & Lorimer 1975, J. Microsc. 103, 203), oxides by stoichiometry, oxide sum
   normalised to 100 wt% (counts give ratios, not totals).  Pixels with too few counts in
   the lines are set to 0 wt% (masked by the map classifier's ``min_total``).
3. **k-factors** (:func:`k_factors_from_standards`): relative to Si (k_Si = 1), solved by least
   squares on the log ratios ``log(C_e / C_f) - log(I_e / I_f)`` of every pair of elements in
   every standard of known composition (standards without Si chain through shared elements);
   an element no standard holds gets its k from a straight-line fit of log k against line energy
   through the others (said in the notes), or is refused when fewer than 3 are known.  So does an
   element the spectrum image names that the standards file has no column for: the k-factors
   (:class:`StandardsKFactors`) keep which were measured, and :func:`minml.maps.read_map`
   extends them to the image's elements.

There is no ZAF / phi-rho-z matrix correction: expect relative errors of several % on major
elements, which is the noise level the map classifier is trained to accept for EDS maps, and
check the result against standards of your own.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from minml.chemistry.oxides import element_oxides

__all__ = [
    "StandardsKFactors",
    "cliff_lorimer",
    "k_factors_from_standards",
    "line_energy",
    "line_intensities",
    "read_k_factors",
    "standards_k_factors",
]

_FANO_KEV = 2.49e-3  # keV: FWHM^2 grows by 2.49 eV per eV of line energy (Si(Li)/SDD, Fano factor 0.12)
_MN_KA = 5.8988


@cache
def _lines() -> dict:
    import tomllib

    text = resources.files("minml.maps").joinpath("xray_lines.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)["lines"]


def line_energy(element: str) -> float:
    """K-alpha energy (keV) of ``element``; refuses an element without a listed line.

    >>> line_energy("Si")
    1.74
    """
    lines = _lines()
    if element not in lines:
        raise ValueError(
            f"No X-ray line listed for {element!r}; quantifiable elements: {', '.join(lines)} (K lines, xray_lines.toml)."
        )
    return float(lines[element]["ka"])


def fwhm(energy, fwhm_mn_ka: float = 0.130):
    """Detector resolution (keV, FWHM) at ``energy`` keV, from its FWHM at Mn Ka."""
    return np.sqrt(np.maximum(fwhm_mn_ka**2 + _FANO_KEV * (np.asarray(energy) - _MN_KA), 1e-6))


def line_intensities(counts, energy, elements, *, fwhm_mn_ka: float = 0.130) -> np.ndarray:
    """Background-subtracted K-alpha counts of each element.

    Parameters
    ----------
    counts : array, shape (..., channels)
        Spectra (one, or a spectrum image).
    energy : array, shape (channels,)
        Energy of each channel, keV.
    elements : list of str
    fwhm_mn_ka : float, default=0.130
        Detector resolution at Mn Ka, keV (the detector's data sheet; 0.121-0.135 for SDDs).

    Returns
    -------
    numpy.ndarray, shape (..., len(elements))
        Net counts (negative values clipped to 0).
    """
    energy = np.asarray(energy, dtype=float)
    if energy.ndim != 1 or np.shape(counts)[-1] != len(energy):
        raise ValueError(
            f"The energy axis ({energy.shape}) must give one energy per channel of the spectra {np.shape(counts)}."
        )
    step = float(np.median(np.diff(energy)))
    if not step > 0:
        raise ValueError("The energy axis must increase from channel to channel.")
    cumulative = np.cumsum(np.asarray(counts, dtype=np.float32), axis=-1, dtype=np.float32)
    cumulative = np.concatenate([np.zeros((*cumulative.shape[:-1], 1), np.float32), cumulative], axis=-1)

    def window(lo: float, hi: float):
        a, b = (int(np.clip(np.round((e - energy[0]) / step), 0, len(energy))) for e in (lo, hi))
        return cumulative[..., max(b, a + 1)] - cumulative[..., a], max(b - a, 1)

    out = []
    for element in elements:
        centre = line_energy(element)
        if not energy[0] < centre < energy[-1]:
            raise ValueError(
                f"{element} Ka ({centre} keV) lies outside the spectra ({energy[0]:.2f}-{energy[-1]:.2f} keV)."
            )
        width = float(fwhm(centre, fwhm_mn_ka))
        peak, n_peak = window(centre - width, centre + width)
        low, n_low = window(centre - 1.5 * width, centre - width)
        high, n_high = window(centre + width, centre + 1.5 * width)
        background = 0.5 * (low / n_low + high / n_high) * n_peak
        out.append(np.clip(peak - background, 0.0, None))
    return np.stack(out, axis=-1)


def cliff_lorimer(intensities, elements, k_factors: dict, *, min_counts: float = 50.0) -> dict:
    """Net line intensities -> oxide wt%, normalised to 100.

    Parameters
    ----------
    intensities : array, shape (..., len(elements))
    elements : list of str
    k_factors : dict of str to float
        Relative to Si; every element needs one.
    min_counts : float, default=50
        Spectra with fewer net counts in all lines together are no analysis: 0 wt% everywhere.

    Returns
    -------
    dict of str to array
        Oxide (canonical name, iron as FeOt) -> wt%.

    Examples
    --------
    Equal k-factors and counts of Mg and Si in the ratio of forsterite's atoms by mass:

    >>> oxides = cliff_lorimer(np.array([34.55, 19.96]), ["Mg", "Si"], {"Mg": 1.0, "Si": 1.0})
    >>> round(float(oxides["MgO"]), 1), round(float(oxides["SiO2"]), 1)
    (57.3, 42.7)
    """
    if "O" in elements:
        raise ValueError("Leave O out of the elements: oxygen follows from the oxides' stoichiometry.")
    missing = [e for e in elements if e not in k_factors]
    if missing:
        raise ValueError(
            f"No k-factor for {', '.join(missing)}: give one per element (k_factors, or standards holding it)."
        )
    oxide_of = element_oxides()
    intensities = np.asarray(intensities, dtype=np.float32)
    mass = intensities * np.array([k_factors[e] for e in elements], dtype=np.float32)
    oxide = mass * np.array([oxide_of[e][1] for e in elements], dtype=np.float32)
    total = oxide.sum(axis=-1, keepdims=True)
    enough = intensities.sum(axis=-1, keepdims=True) >= min_counts
    with np.errstate(invalid="ignore", divide="ignore"):
        oxide = np.where(enough & (total > 0), 100.0 * oxide / total, 0.0).astype(np.float32)
    return {oxide_of[e][0]: oxide[..., i] for i, e in enumerate(elements)}


def _element_wt(composition: pd.Series) -> dict:
    """Oxide wt% of a standard -> element wt% (FeO, Fe2O3 and FeOt as Fe)."""
    from minml.chemistry.oxides import atomic_weight, canonical_name, species_table

    out: dict[str, float] = {}
    for name, value in composition.items():
        species = canonical_name(str(name))
        if species is None or not np.isfinite(value) or value <= 0:
            continue
        spec = species_table()[species]
        element = spec.element
        out[element] = out.get(element, 0.0) + value * spec.cations * atomic_weight(element) / spec.molar_mass
    return out


class StandardsKFactors(dict):
    """k-factors (element -> k, relative to Si) measured on standards, which remember which
    were measured (``measured``), so that an element no standard holds gets its k from the same
    straight line of log k against line energy (:meth:`extended`)."""

    def __init__(self, k_factors: dict, measured):
        super().__init__(k_factors)
        self.measured = tuple(measured)

    def extended(self, elements) -> tuple[StandardsKFactors, list]:
        """These k-factors and those of ``elements`` no standard holds, from the line through
        the measured ones, and the note that says so (refused where fewer than 3 are measured).

        Parameters
        ----------
        elements : list of str

        Returns
        -------
        k_factors : StandardsKFactors
        notes : list of str
        """
        wanted = list(dict.fromkeys([*self, *elements]))
        measured = {e: self[e] for e in self.measured}
        if all(e in self for e in wanted):
            return self, []
        k, notes = _fill_by_energy(measured, wanted)
        return StandardsKFactors(k, self.measured), notes


def k_factors_from_standards(intensities, compositions: pd.DataFrame, elements) -> tuple[dict, list]:
    """k-factors (relative to Si) from spectra of standards of known composition.

    Parameters
    ----------
    intensities : array, shape (standards, len(elements))
        Net counts of each standard (:func:`line_intensities`).
    compositions : pandas.DataFrame
        One row per standard, oxide wt% columns.
    elements : list of str

    Returns
    -------
    k_factors : StandardsKFactors
        A dict of str to float.
    notes : list of str
        Elements whose k came from the fit against line energy.
    """
    intensities = np.asarray(intensities, dtype=float)
    if len(intensities) != len(compositions):
        raise ValueError(f"{len(intensities)} spectra but {len(compositions)} compositions of standards.")
    index = {e: i for i, e in enumerate(elements)}
    rows, rhs = [], []
    for s, (_, composition) in enumerate(compositions.iterrows()):
        wt = _element_wt(composition)
        present = [e for e in elements if wt.get(e, 0.0) >= 0.5 and intensities[s, index[e]] >= 20]
        for e in present[1:]:  # log k_e - log k_f = log(C_e/C_f) - log(I_e/I_f)
            f = present[0]
            row = np.zeros(len(elements))
            row[index[e]], row[index[f]] = 1.0, -1.0
            rows.append(row)
            rhs.append(np.log(wt[e] / wt[f]) - np.log(intensities[s, index[e]] / intensities[s, index[f]]))
    if "Si" not in elements:
        raise ValueError("k-factors are relative to Si: quantify Si among the elements.")
    anchor = np.zeros(len(elements))
    anchor[index["Si"]] = 1.0
    a = np.array([*rows, anchor])
    solution = np.linalg.lstsq(a, np.array([*rhs, 0.0]), rcond=None)[0]
    known = _connected(a[:-1], index["Si"], len(elements))
    k = {e: float(np.exp(solution[index[e]])) for e in elements if known[index[e]]}
    filled, notes = _fill_by_energy(k, elements)
    return StandardsKFactors(filled, measured=k), notes


def _connected(pairs: np.ndarray, start: int, n: int) -> np.ndarray:
    """Which elements the pair equations tie to element ``start``."""
    seen = np.zeros(n, dtype=bool)
    seen[start] = True
    changed = True
    while changed:
        changed = False
        for row in pairs:
            ends = np.flatnonzero(row)
            if seen[ends].any() and not seen[ends].all():
                seen[ends] = True
                changed = True
    return seen


def _fill_by_energy(k: dict, elements) -> tuple[dict, list]:
    """k of the elements without a standard, from log k against line energy (a straight line: a curve extrapolates wildly)."""
    absent = [e for e in elements if e not in k]
    if not absent:
        return k, []
    known = list(k)
    if len(known) < 3:
        raise ValueError(
            f"No standard holds {', '.join(absent)}, and {len(known)} k-factors are too few to interpolate "
            "them: add standards holding them (a column of their oxide in the standards file), or give their "
            "k-factors."
        )
    x = np.array([line_energy(e) for e in known])
    coef = np.polyfit(x, np.log([k[e] for e in known]), deg=1)
    out = dict(k)
    for e in absent:
        out[e] = float(np.exp(np.polyval(coef, line_energy(e))))
    return out, [f"k-factors of {', '.join(absent)} (no standard holds them) from log k against line energy"]


def read_k_factors(path) -> dict:
    """k-factors from a CSV file of two columns, ``element`` and ``k`` (relative to Si)."""
    path = Path(path)
    table = pd.read_csv(path)
    if list(table.columns[:2]) != ["element", "k"]:
        raise ValueError(
            f"{path.name}: a k-factor file has the columns 'element' and 'k' (got {list(table.columns)}), "
            "one row per element, k relative to Si."
        )
    k = pd.to_numeric(table["k"], errors="coerce")
    if k.isna().any() or (k <= 0).any():
        raise ValueError(f"{path.name}: every k must be a number above 0.")
    return dict(zip(table["element"].astype(str).str.strip(), k.astype(float)))


def standards_k_factors(path, *, fwhm_mn_ka: float = 0.130) -> tuple[dict, list]:
    """k-factors from a CSV file naming spectra of standards and their compositions.

    Parameters
    ----------
    path : path-like
        CSV with a ``spectrum`` column (EMSA ``.msa``, Bruker ``.spx``/``.bcf``: a spectrum
        image is summed over its pixels; paths relative to the CSV) and oxide wt% columns.
    fwhm_mn_ka : float, default=0.130

    Returns
    -------
    k_factors : StandardsKFactors
        A dict of str to float; :func:`minml.maps.read_map` extends it to the elements of the
        spectrum image that the standards file has no column for (:meth:`StandardsKFactors.extended`).
    notes : list of str
    """
    from minml.chemistry.oxides import canonical_name, species_table
    from minml.maps import _eds

    path = Path(path)
    table = pd.read_csv(path)
    if "spectrum" not in table.columns:
        raise ValueError(f"{path.name}: a standards file has a 'spectrum' column naming each standard's spectrum file.")
    species = {c: canonical_name(str(c)) for c in table.columns if c != "spectrum"}
    oxides = [c for c, name in species.items() if name is not None]
    lines = _lines()
    elements = sorted(
        {species_table()[str(species[c])].element for c in oxides} & (set(lines) - {"O"}),
        key=line_energy,
    )
    if "Si" not in elements:
        raise ValueError(f"{path.name}: k-factors are relative to Si; give an SiO2 column (and standards holding Si).")
    net = []
    for name in table["spectrum"].astype(str):
        spectrum = (path.parent / name) if not Path(name).is_absolute() else Path(name)
        if not spectrum.exists():
            raise FileNotFoundError(f"{path.name}: no spectrum file {str(spectrum)!r}.")
        counts, energy, _, _ = _eds.spectra_of(_eds.read_signals(spectrum), spectrum.name)
        net.append(line_intensities(counts.sum(axis=(0, 1)), energy, elements, fwhm_mn_ka=fwhm_mn_ka))
    compositions = table[oxides].apply(pd.to_numeric, errors="coerce").fillna(0.0)
    return k_factors_from_standards(np.array(net), compositions, elements)
