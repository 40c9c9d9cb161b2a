"""Species within each class, and the phases outside the classes, named from the formula.

The rules are data (``data/species.toml`` for the classes, ``data/phases.toml`` for the
phases outside them, each boundary with its source): Morimoto (1988) for pyroxenes, An-Ab-Or
fields for feldspars, Fo for olivine, dominant end-members for garnet, spinel and ilmenite,
Hawthorne et al. (2012) for amphibole root names, Rieder et al. (1998) for micas.

A species is a tuple of names: one where the analysis decides, several where it cannot (the
SiO2 polymorphs; Fe3+ unknown near a boundary: :data:`minml.data` ``fe3_step``), none where
no name applies.  :func:`species_text` renders them ``|``-joined, as prediction sets are.
"""

from __future__ import annotations

import ast
import string
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING

import numpy as np

from minml._resources import load_toml
from minml.chemistry._stoichiometry import evaluate_index

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["SpeciesRules", "classes_with_species", "name_species", "species_rules", "species_text"]

_COMPARE = {ast.Lt: np.less, ast.LtE: np.less_equal, ast.Gt: np.greater, ast.GtE: np.greater_equal}
_DEFAULTS = ("Si", "Ti", "Al", "Cr", "Fe2", "Fe3", "Mn", "Mg", "Ni", "Ca", "Na", "K", "P", "Li", "F", "Cl")


@dataclass(frozen=True)
class SpeciesRules:
    """How the species of one class are named (a table of ``species.toml``).

    Attributes
    ----------
    rules : tuple of dict
        In order: ``when`` (a condition; none: always), and ``name``, ``names`` or
        ``dominant`` (key -> quantity), ``qualifier``, ``source``.
    quantities : dict of str to str
        Derived quantities (arithmetic on cations, indices, sites, earlier quantities).
    sites : tuple of dict
        Site allocation: ``site``, ``size``, ``fill`` (cations in order).
    fe3 : dict
        Fe3+ of rows that give total iron only, bounded by cation criteria
        (:func:`minml.chemistry.species_fe3.fe3_factor`: amphibole); empty: the formula's own.
    fe3_step : float
        Fe3+ (apfu) up and down within which the name is asked again (0: not).
    qualifier : str
        Default qualifier template of the class's rules.
    """

    rules: tuple
    quantities: dict = field(default_factory=dict)
    sites: tuple = ()
    fe3: dict = field(default_factory=dict)
    fe3_step: float = 0.0
    qualifier: str = ""


@cache
def species_rules() -> dict[str, SpeciesRules]:
    """The rules of every class of ``species.toml`` by class name.

    Examples
    --------
    >>> species_rules()["olivine"].rules[1]["name"]
    'forsterite'
    """
    raw = load_toml("species.toml")["class"]
    out = {}
    for name, spec in raw.items():
        spec = raw[spec["same_as"]] if "same_as" in spec else spec
        out[name] = SpeciesRules(
            rules=tuple(spec["rules"]),
            quantities=dict(spec.get("quantities", {})),
            sites=tuple(spec.get("sites", ())),
            fe3=dict(spec.get("fe3", {})),
            fe3_step=float(spec.get("fe3_step", 0.0)),
            qualifier=spec.get("qualifier", ""),
        )
    return out


def evaluate_condition(expression: str, values: dict) -> np.ndarray:
    """Evaluate comparisons (``< <= > >=``, chained), ``and``, ``or`` of arithmetic on
    ``values`` (see :func:`minml.chemistry.formulas.evaluate_index`); NaN compares False.

    Examples
    --------
    >>> evaluate_condition("Wo >= 20 and Wo < 45", {"Wo": np.array([10.0, 30.0, np.nan])}).tolist()
    [False, True, False]
    """

    def walk(node):
        if isinstance(node, ast.Expression):
            return walk(node.body)
        if isinstance(node, ast.BoolOp):
            parts = [walk(v) for v in node.values]
            combine = np.logical_and if isinstance(node.op, ast.And) else np.logical_or
            out = parts[0]
            for part in parts[1:]:
                out = combine(out, part)
            return out
        if isinstance(node, ast.Compare) and all(type(op) in _COMPARE for op in node.ops):
            left, out = evaluate_index(ast.unparse(node.left), values), True
            for op, right_node in zip(node.ops, node.comparators, strict=True):
                right = evaluate_index(ast.unparse(right_node), values)
                with np.errstate(invalid="ignore"):
                    out = out & _COMPARE[type(op)](left, right)
                left = right
            return np.asarray(out, dtype=bool)
        raise ValueError(f"Condition {expression!r}: only comparisons joined by and/or are allowed.")

    return walk(ast.parse(expression, mode="eval"))


# ---- the values a class's rules read ----


def _allocate(values: dict, sites: tuple) -> None:
    """Site occupancies SITE_CATION, filled in order (in place)."""
    left = {e: np.nan_to_num(values[e]).copy() for site in sites for e in site["fill"]}
    for site in sites:
        room = np.full(len(values["Si"]), float(site["size"]))
        for e in site["fill"]:
            take = np.clip(np.minimum(left[e], room), 0.0, None)
            values[f"{site['site']}_{e}"] = values.get(f"{site['site']}_{e}", 0.0) + take
            left[e] = left[e] - take
            room = room - take


def _derive(base: dict, mineral, rules: SpeciesRules) -> dict:
    """The class's indices, sites and quantities on top of ``base`` (cations per formula unit)."""
    values = dict(base)
    for name, expression in mineral.indices.items():
        values[name] = evaluate_index(expression, values)
    _allocate(values, rules.sites)
    for name, expression in rules.quantities.items():
        values[name] = evaluate_index(expression, values)
    return values


def _rule_names(rules: SpeciesRules, values: dict, n: int) -> tuple[list, np.ndarray]:
    """Per row: the names its first matching rule gives (a tuple), and that rule's number (-1: none)."""
    names: list = [()] * n
    which = np.full(n, -1)
    open_rows = np.ones(n, dtype=bool)
    for k, rule in enumerate(rules.rules):
        hold = open_rows & (evaluate_condition(rule["when"], values) if "when" in rule else True)
        rows = np.flatnonzero(hold)
        if "dominant" in rule:
            keys = list(rule["dominant"])
            amounts = np.vstack([evaluate_index(e, values) for e in rule["dominant"].values()])
            amounts = np.where(np.isfinite(amounts), amounts, -np.inf)
            best = amounts.argmax(axis=0)
            rows = rows[np.isfinite(amounts[best[rows], rows])]
            for i in rows.tolist():
                names[i] = (keys[best[i]],)
        else:
            given = tuple(rule["names"]) if "names" in rule else (rule["name"],)
            for i in rows.tolist():
                names[i] = given
        which[rows] = k
        open_rows[rows] = False
    return names, which


def _qualified(names: list, which: np.ndarray, rules: SpeciesRules, values: dict) -> list:
    """``names`` with each rule's qualifier, formatted on the row's quantities."""
    out = list(names)
    for k, rule in enumerate(rules.rules):
        template = rule.get("qualifier", rules.qualifier)
        if not template:
            continue
        fields = [f for _, f, _, _ in string.Formatter().parse(template) if f]
        for i in np.flatnonzero(which == k).tolist():
            row = {f: float(values[f][i]) for f in fields}
            if all(np.isfinite(v) for v in row.values()):
                text = template.format(**row)
                out[i] = tuple(f"{name} ({text})" for name in names[i])
    return out


def _fe3_moved(values: dict, mineral, rules: SpeciesRules, rows: np.ndarray, step: float) -> dict:
    """``values`` with Fe3+ estimated (``rules.fe3``) where ``rows`` give total iron only, moved
    by ``step`` apfu: along the estimate's own normalisation factor (``rules.fe3``: a factor
    ``step / charge`` lower, the 0.5 % error in the cation sum ``fe3_step`` stands for), else
    by moving iron between Fe2+ and Fe3+ (charge balance, Droop 1987)."""
    from minml.chemistry.species_fe3 import fe3_factor, rescaled

    if rules.fe3:
        factor, low, high = fe3_factor(values, rules.fe3)
        charge = 2.0 * mineral.oxygens
        return rescaled(values, np.clip(factor - step / charge, low, high), rows, mineral.tetrahedral)
    moved = dict(values)
    moved["Fe3"] = np.where(rows, np.clip(values["Fe3"] + step, 0.0, values["Fe"]), values["Fe3"])
    moved["Fe2"] = values["Fe"] - moved["Fe3"]
    return moved


def class_species(values: dict, mineral, rules: SpeciesRules, fe3_method: np.ndarray) -> list:
    """Species (tuples of names) of rows of one class from their cations per formula unit.

    ``values`` holds the cations (``Si`` ... ``Fe2``, ``Fe3``, ``Fe``), ``AlIV``, ``AlVI``,
    ``sum`` and the private ``_cations`` (their names) and ``_charges``; ``fe3_method`` is
    each row's (:func:`minml.formula` ``fe3_method``): Fe3+ "analysed" is kept; the others get
    the class's Fe3+ estimate (``rules.fe3``; charge balance where the formula made one) and
    are named again with it ``fe3_step`` apfu lower and higher."""
    from minml.chemistry._apfu import FE3_ANALYSED, FE3_CHARGE_BALANCE  # (pandas: only where classes are named)

    analysed = np.asarray(fe3_method) == FE3_ANALYSED
    estimated = ~analysed if rules.fe3 else np.asarray(fe3_method) == FE3_CHARGE_BALANCE
    base = _fe3_moved(values, mineral, rules, estimated, 0.0) if rules.fe3 else dict(values)
    n = len(base["Si"])
    derived = _derive(base, mineral, rules)
    names, which = _rule_names(rules, derived, n)
    out = _qualified(names, which, rules, derived)
    if rules.fe3_step > 0 and estimated.any():
        for step in (-rules.fe3_step, rules.fe3_step):
            moved = _fe3_moved(values if rules.fe3 else base, mineral, rules, estimated, step)
            other, _ = _rule_names(rules, _derive(moved, mineral, rules), n)
            for i in [i for i, (o, m) in enumerate(zip(other, names, strict=True)) if o and o != m]:
                extra = tuple(name for name in other[i] if name not in names[i])
                out[i] = out[i] + extra
                names[i] = names[i] + extra
    return out


def species_text(species) -> list[str]:
    """Species tuples as text: names ``|``-joined ("" for none).

    Examples
    --------
    >>> species_text([("augite (Wo42 En45 Fs13)",), ("kyanite", "sillimanite"), ()])
    ['augite (Wo42 En45 Fs13)', 'kyanite|sillimanite', '']
    """
    return ["|".join(names) if isinstance(names, tuple) else str(names or "") for names in species]


def classes_with_species(minerals) -> np.ndarray:
    """``minerals`` (a model's answers) with the classes ``minerals.toml`` does not know (a user's
    own model's: ``FeTiOxide``) blanked, so that :func:`name_species` names no species for them,
    as for glass; the classes it knows and "unknown" as they are."""
    from minml.chemistry.minerals import class_groups

    minerals = np.asarray(minerals, dtype=object).astype(str)
    return np.where(np.isin(minerals, [*class_groups(), "unknown"]), minerals, "")


def name_species(table, minerals, *, suffix: str | None = None, elements: bool = False) -> pd.DataFrame:
    """Name the species of every analysis: within its class, or among the phases outside the classes.

    Parameters
    ----------
    table : pandas.DataFrame or OxideCheck
        The analyses (any column spelling :func:`minml.map_columns` knows; not modified), or
        their check (:func:`minml.check_oxides`), as :func:`minml.classify` worked from.
    minerals : array-like of str
        Each row's class (``classify(...)["mineral"]``): a class of ``minerals.toml``, "glass"
        (no species) or "unknown" (named among ``phases.toml`` where a phase's end-members
        explain the analysis within the analytical misfit and its oxide sum).
    suffix, elements
        As :func:`minml.check_oxides` (for a DataFrame).

    Returns
    -------
    pandas.DataFrame
        On the table's index: ``species`` (tuples of names, see :func:`species_text`),
        ``species_basis`` ("formula+network": the network's class, named within it by the
        formula; "formula": a phase outside the classes, by its formula alone; "" none) and
        ``species_misfit`` (wt% from the class's or phase's nearest end-member mixture).

    Examples
    --------
    >>> import pandas as pd
    >>> ol = pd.DataFrame({"SiO2": [40.8], "TiO2": [0.0], "Al2O3": [0.0], "FeOt": [11.0],
    ...     "MnO": [0.0], "MgO": [48.2], "CaO": [0.0], "Na2O": [0.0], "K2O": [0.0],
    ...     "Cr2O3": [0.0], "P2O5": [0.0]})
    >>> name_species(ol, ["olivine"])["species"].tolist()
    [('forsterite (Fo89)',)]
    """
    from minml.chemistry.minerals import mineral_table
    from minml.chemistry.phases import name_phases
    from minml.chemistry.species_formula import class_values

    checked = _checked(table, suffix, elements)
    minerals = np.asarray(minerals, dtype=object).astype(str)
    if len(minerals) != len(checked.index):
        raise ValueError(
            f"minerals has {len(minerals)} entries, the table {len(checked.index)} rows: give one per row."
        )
    from minml.chemistry.minerals import class_groups

    strange = sorted(set(minerals.tolist()) - set(class_groups()) - {"unknown", ""})
    if strange:
        raise ValueError(
            f"minerals holds {strange[:5]}, which are no class names; give classify(...)['mineral'] "
            f"(classes: {sorted(class_groups())}, 'unknown' or '')."
        )
    species: list = [()] * len(minerals)
    basis = np.full(len(minerals), "", dtype=object)
    misfit = np.full(len(minerals), np.nan)
    table_rules = species_rules()
    for name in sorted(set(minerals.tolist()) & set(table_rules)):
        rows = np.flatnonzero(minerals == name)
        values, fe3_method, fit, usable = class_values(checked, rows, name)
        named = class_species(values, mineral_table()[name], table_rules[name], fe3_method)
        for i, row in enumerate(rows.tolist()):
            if usable[i] and named[i]:
                species[row], basis[row] = named[i], "formula+network"
        misfit[rows] = fit
    unknown = np.flatnonzero(minerals == "unknown")
    phase_names, phase_misfit = name_phases(checked, unknown)
    for i, row in enumerate(unknown.tolist()):
        if phase_names[i]:
            species[row], basis[row], misfit[row] = phase_names[i], "formula", phase_misfit[i]
    import pandas as pd

    column = pd.Series(species, index=checked.index, dtype=object)
    return pd.DataFrame({"species": column, "species_basis": basis, "species_misfit": misfit}, index=checked.index)


def _checked(table, suffix, elements):
    """``table``'s :class:`~minml.tables.checks.OxideCheck` (itself where it is one)."""
    if hasattr(table, "oxides") and hasattr(table, "species_values"):
        return table
    import pandas as pd

    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"table must be a DataFrame of analyses or an OxideCheck, not {type(table).__name__}.")
    from minml.tables.checks import check_oxides

    return check_oxides(table, suffix=suffix, elements=elements)
