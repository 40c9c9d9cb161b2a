"""One class's formulas: cations per formula unit on the class's oxygen basis, Fe3+ by charge
balance (Droop 1987) or by the class's rule, the tetrahedral site, the stoichiometric checks
and the class's indices (:func:`minml.chemistry.formulas.formula` runs it per class)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from minml.chemistry._stoichiometry import evaluate_index
from minml.chemistry.oxides import species_table

__all__ = ["FE3_ANALYSED", "FE3_CHARGE_BALANCE", "cation_charges", "class_formula", "element_moles"]

FE3_ANALYSED = "analysed"
"""``fe3_method`` of a row whose FeO and Fe2O3 are both given: used as analysed."""
FE3_CHARGE_BALANCE = "charge balance (Droop 1987)"
"""``fe3_method`` of a row whose Fe3+ is estimated by charge balance."""


def element_moles(oxides: pd.DataFrame, iron: str) -> dict[str, np.ndarray]:
    """Cation and oxygen moles per 100 g by element; ``iron``: "Fe2", "Fe3" or "analysed"."""
    table = species_table()
    cations: dict[str, np.ndarray] = {}
    oxygen = np.zeros(len(oxides))
    for name in oxides.columns:
        spec = table.get(name)
        if spec is None or name in ("H2O", "Fe2O3t") or (spec.total_iron and name != "FeOt"):
            continue
        if name in ("FeO", "Fe2O3") and iron != "analysed":
            continue
        if name == "FeOt" and iron == "analysed":
            continue
        moles = np.nan_to_num(oxides[name].to_numpy(dtype=np.float64), nan=0.0) / spec.molar_mass
        if spec.halogen:
            oxygen -= 0.5 * moles * spec.cations  # O = F2, O = Cl2 equivalent
            continue
        element = spec.element
        if name == "FeOt":
            element = "Fe3" if iron == "Fe3" else "Fe2"
            oxygen += moles * (1.5 if iron == "Fe3" else 1.0)
        else:
            element = {"FeO": "Fe2", "Fe2O3": "Fe3"}.get(name, element)
            oxygen += moles * spec.oxygens
        cations[element] = cations.get(element, 0.0) + moles * spec.cations
    cations["O"] = oxygen
    return cations


def class_formula(oxides: pd.DataFrame, measured_iron: np.ndarray, mineral) -> pd.DataFrame:
    """Formulas of rows that all belong to one class."""
    X, T = mineral.oxygens, mineral.cations
    scalar_t = T is not None and not isinstance(T, tuple)
    excluded = [c for c in mineral.basis_excludes if c in oxides.columns]
    oxides = oxides.drop(columns=excluded)
    default_iron = "Fe3" if mineral.fe3 == "all" else "Fe2"
    moles = element_moles(oxides, default_iron)
    measured = element_moles(oxides, "analysed")
    elements = sorted((set(moles) | set(measured)) - {"O", "Fe2", "Fe3"})
    n = len(oxides)
    get = lambda table, key: table.get(key, np.zeros(n))  # noqa: E731
    with np.errstate(divide="ignore", invalid="ignore"):  # rows without oxygen: NaN
        factor = np.where(measured_iron, X / get(measured, "O"), X / get(moles, "O"))
        factor = np.where(np.isfinite(factor), factor, np.nan)
        apfu = {e: np.where(measured_iron, get(measured, e), get(moles, e)) * factor for e in elements}
        apfu["Fe2"] = np.where(measured_iron, get(measured, "Fe2"), get(moles, "Fe2")) * factor
        apfu["Fe3"] = np.where(measured_iron, get(measured, "Fe3"), get(moles, "Fe3")) * factor
    # cation sum with all iron as Fe2+ on X oxygens: the stoichiometric check (Droop's S)
    all_fe2 = element_moles(oxides, "Fe2")
    with np.errstate(divide="ignore", invalid="ignore"):
        s_fe2 = sum(all_fe2[e] for e in all_fe2 if e != "O") * X / all_fe2["O"]
    s_fe2 = np.where(np.isfinite(s_fe2), s_fe2, np.nan)
    method = np.where(
        measured_iron,
        FE3_ANALYSED,
        {"charge balance": "Fe2+ only (no balance)", "all": "all Fe3+"}.get(mineral.fe3, "all Fe2+"),
    ).astype(object)
    if mineral.fe3 == "charge balance" and scalar_t:
        balance = ~measured_iron & np.isfinite(s_fe2) & (s_fe2 > 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            f = 2 * X * (1 - T / s_fe2)
        total_fe = apfu["Fe2"] + apfu["Fe3"]
        scale = np.where(balance & (f > 0), T / s_fe2, 1.0)
        for e in elements:
            apfu[e] = apfu[e] * scale
        fe_scaled = total_fe * scale
        fe3 = np.where(balance, np.clip(np.nan_to_num(f), 0.0, fe_scaled), apfu["Fe3"])
        apfu["Fe3"] = fe3
        apfu["Fe2"] = np.where(balance, fe_scaled - fe3, apfu["Fe2"])
        method[balance] = FE3_CHARGE_BALANCE
    out = pd.DataFrame(apfu, index=oxides.index)
    order = [e for e in ("Si", "Ti", "Al", "Cr", "Fe3", "Fe2", "Mn", "Mg", "Ni", "Ca", "Na", "K", "P") if e in out]
    out = out[order + [c for c in out.columns if c not in order]]
    cation_cols = list(out.columns)
    values = {c: out[c].to_numpy() for c in cation_cols}
    values["Fe"] = values["Fe2"] + values["Fe3"]
    values["sum"] = out[cation_cols].sum(axis=1).to_numpy()
    for e in ("Si", "Al", "Ti", "Cr", "Mn", "Mg", "Ca", "Na", "K", "Ni", "P"):
        values.setdefault(e, np.zeros(n))
    if mineral.tetrahedral is not None:
        values["AlIV"] = np.clip(mineral.tetrahedral - values["Si"], 0.0, values["Al"])
        values["AlVI"] = values["Al"] - values["AlIV"]
        out["AlIV"], out["AlVI"] = values["AlIV"], values["AlVI"]
    else:
        values["AlIV"], values["AlVI"] = np.zeros(n), values["Al"]
    out["cation_sum"] = values["sum"]
    charge = sum(values[e] * species_charge for e, species_charge in cation_charges(cation_cols).items())
    out["oxygens"] = X
    out["fe3_method"] = method
    if scalar_t:
        out["cation_excess"] = s_fe2 - T
    elif isinstance(T, tuple):
        out["cation_excess"] = np.where(s_fe2 > T[1], s_fe2 - T[1], np.where(s_fe2 < T[0], s_fe2 - T[0], 0.0))
    else:
        out["cation_excess"] = np.nan
    out["charge_deficit"] = 2 * X - charge
    for name, expression in mineral.indices.items():
        out[name] = evaluate_index(expression, values)
    return out


def cation_charges(elements) -> dict[str, float]:
    """Charge of each cation column (Fe2/Fe3 explicit; the others from their oxide)."""
    table = species_table()
    charge = {"Fe2": 2.0, "Fe3": 3.0}
    for spec in table.values():
        if not spec.halogen and spec.cations and spec.element not in charge:
            charge[spec.element] = 2.0 * spec.oxygens / spec.cations
    return {e: charge[e] for e in elements if e in charge}
