"""Cations per formula unit of rows of one class, as the species rules read them
(:mod:`minml.chemistry.species`): the formula of :func:`minml.formula`, with total iron,
the cation sum, Al(IV)/Al(VI), halogens per formula unit, and each cation's charge."""

from __future__ import annotations

import numpy as np

from minml.chemistry._apfu import cation_charges, class_formula, element_moles
from minml.chemistry.minerals import mineral_table
from minml.chemistry.misfit import end_member_compositions, end_member_misfit, fold_divalent
from minml.chemistry.oxides import species_table

__all__ = ["class_values"]

_DEFAULTS = ("Si", "Ti", "Al", "Cr", "Fe2", "Fe3", "Mn", "Mg", "Ni", "Ca", "Na", "K", "P", "Li", "Zn")


def class_values(checked, rows: np.ndarray, name: str) -> tuple[dict, np.ndarray, np.ndarray, np.ndarray]:
    """The formula values of ``rows`` of ``checked`` under class ``name``.

    Returns
    -------
    values : dict of str to numpy.ndarray
        Cations per formula unit by element (``Fe2``, ``Fe3`` and their sum ``Fe``), ``AlIV``,
        ``AlVI``, ``sum``, halogens ``F`` and ``Cl`` per formula unit, ``_cations`` (the
        cation names) and ``_charges`` (cation -> charge).
    fe3_method : numpy.ndarray of str
        How each row's formula split iron (:func:`minml.formula` ``fe3_method``: "analysed",
        "charge balance (Droop 1987)", "all Fe2+", ...).
    misfit : numpy.ndarray
        wt% from the class's nearest end-member mixture.
    usable : numpy.ndarray of bool
        Rows with a formula (every model oxide a number).
    """
    from minml.classifier.features import MODEL_OXIDES

    mineral = mineral_table()[name]
    oxides = checked.oxides.iloc[rows]
    flags = checked.flags.iloc[rows]
    usable = np.isfinite(oxides[list(MODEL_OXIDES)].to_numpy(dtype=float)).all(axis=1)
    measured = ((flags["iron_rule"] == "FeO+Fe2O3") & oxides["FeO"].notna() & (oxides["Fe2O3"] > 0)).to_numpy()
    formula = class_formula(oxides, measured, mineral)
    n = len(rows)
    elements = {spec.element for spec in species_table().values()} | {"Fe2", "Fe3"}
    cations = [c for c in formula.columns if c in elements]
    values: dict = {c: formula[c].to_numpy(dtype=float) for c in cations}
    for e in _DEFAULTS:
        values.setdefault(e, np.zeros(n))
    cations = sorted(set(cations) | set(_DEFAULTS))
    values["Fe"] = values["Fe2"] + values["Fe3"]
    values["sum"] = sum(values[c] for c in cations)
    values["AlIV"] = formula["AlIV"].to_numpy(dtype=float) if "AlIV" in formula else np.zeros(n)
    values["AlVI"] = values["Al"] - values["AlIV"]
    values.update(_halogens(oxides, values))
    values["_cations"] = cations
    values["_charges"] = cation_charges(cations) | {"Fe2": 2.0, "Fe3": 3.0}
    fe3_method = formula["fe3_method"].to_numpy(dtype=object)
    model = fold_divalent(oxides[list(MODEL_OXIDES)].to_numpy(dtype=float), MODEL_OXIDES, oxides)
    misfit = end_member_misfit(model, end_member_compositions(name, MODEL_OXIDES))[0]
    return values, fe3_method, np.where(usable, misfit, np.nan), usable


def _halogens(oxides, values: dict) -> dict:
    """F and Cl atoms per formula unit (moles scaled as the cations were), and whether the
    table has a column for each (``F_analysed``, ``Cl_analysed``: 1.0 or 0.0)."""
    moles = element_moles(oxides, "Fe2")
    total_moles = sum(v for k, v in moles.items() if k != "O")
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(total_moles > 0, values["sum"] / total_moles, np.nan)
    out = {}
    table = species_table()
    for species in ("F", "Cl"):
        if species in oxides.columns:
            grams = np.nan_to_num(oxides[species].to_numpy(dtype=float), nan=0.0)
            out[species] = grams / table[species].molar_mass * table[species].cations * scale
        else:
            out[species] = np.zeros(len(oxides))
        out[f"{species}_analysed"] = np.full(len(oxides), float(species in oxides.columns))
    return out
