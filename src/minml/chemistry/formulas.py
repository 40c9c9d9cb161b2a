"""Mineral formulas from oxide wt%: cations per formula unit, Fe3+, indices and misfit.

:func:`formula` works for every class of ``minerals.toml`` from the class's data (oxygen
basis, ideal cation sum, iron rule, tetrahedral site, indices, end-members): there is no
per-mineral code.  Iron:

* analysed FeO and Fe2O3 (both given): used as analysed (``fe3_method = "analysed"``);
* ``fe3 = "charge balance"`` classes: Droop (1987, Mineral. Mag. 51, 431): with S cations
  per X oxygens (all iron as Fe2+) and T the ideal sum, Fe3+ = 2X(1 - T/S) on the formula
  normalised to T cations, between 0 and total Fe;
* ``fe3 = "all"`` (feldspars): all iron as Fe3+; otherwise all iron as Fe2+.

Three independent physical checks of a label come with each row: ``cation_excess`` (S - T,
all iron as Fe2+; Fe3+ can only raise it, so a negative value is a real deficit),
``charge_deficit`` (positive charge missing for 2X after the iron split) and ``misfit``
(wt% distance to the nearest mixture of the class's end-members, :mod:`minml.chemistry.misfit`;
NiO, CoO and ZnO count as FeO there).
The cation sum with all iron as Fe2+ (:func:`cation_sum`) is what the training build screens with.
"""

from __future__ import annotations

import ast
import operator
import re
import warnings
from collections import Counter

import numpy as np
import pandas as pd

from minml import _dask
from minml.chemistry.oxides import species_table

__all__ = ["formula", "parse_formula"]

_SKIP = {"FeO", "Fe2O3", "Fe2O3t", "H2O"}  # iron enters as FeOt; H is not a cation of these formulas


def cation_sum(oxides: pd.DataFrame, oxygens: float) -> np.ndarray:
    """Cations per formula unit of ``oxygens`` oxygens, all iron as Fe2+.

    Parameters
    ----------
    oxides : pandas.DataFrame
        Canonical species in wt% (as :func:`minml.check_oxides` returns them); NaN reads as 0.
        Halogens are ignored.
    oxygens : float
        The formula's oxygen basis (olivine 4, pyroxene 6, feldspar 8, garnet 12, ...).

    Returns
    -------
    numpy.ndarray
        NaN for rows without oxygen.

    Examples
    --------
    Forsterite Mg2SiO4 (SiO2 42.71, MgO 57.29 wt%) has 3 cations per 4 oxygens:

    >>> import pandas as pd
    >>> cation_sum(pd.DataFrame({"SiO2": [42.71], "MgO": [57.29]}), 4).round(3).tolist()
    [3.0]
    """
    table = species_table()
    names = [c for c in oxides.columns if c in table and c not in _SKIP and not table[c].halogen]
    values = np.nan_to_num(oxides[names].to_numpy(dtype=float), nan=0.0)
    moles = values / np.array([table[c].molar_mass for c in names])
    cations = moles @ np.array([table[c].cations for c in names], dtype=float)
    anions = moles @ np.array([table[c].oxygens for c in names], dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(anions > 0, cations * oxygens / anions, np.nan)


def cation_oxygen_ratio(values: np.ndarray, oxides) -> np.ndarray:
    """Cations per oxygen of each row of a wt% array, all iron as Fe2+ (``FeOt``).

    The cation sum on any oxygen basis is this ratio times the basis, so one number per row
    gives the stoichiometric misfit under every class at once.

    Parameters
    ----------
    values : numpy.ndarray
        Rows x ``oxides``, wt% (NaN reads as 0).
    oxides : sequence of str
        Canonical species of the columns (``FeOt`` counts as FeO).

    Returns
    -------
    numpy.ndarray of float64
        NaN for rows without oxygen.

    Examples
    --------
    >>> cation_oxygen_ratio(np.array([[42.71, 57.29]]), ["SiO2", "MgO"]).round(3).tolist()  # forsterite
    [0.75]
    """
    table = species_table()
    names = ["FeO" if ox == "FeOt" else ox for ox in oxides]
    unknown = [ox for ox in names if ox not in table]
    if unknown:
        raise ValueError(f"No species {unknown} in the oxide table.")
    used = np.array([not table[ox].halogen and ox != "H2O" for ox in names])
    moles = np.nan_to_num(np.asarray(values, dtype=np.float64), nan=0.0) / np.array(
        [table[ox].molar_mass for ox in names]
    )
    cations = moles @ np.where(used, [table[ox].cations for ox in names], 0.0)
    anions = moles @ np.where(used, [table[ox].oxygens for ox in names], 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(anions > 0, cations / anions, np.nan)


_TOKEN = re.compile(r"([A-Z][a-z]?|\(|\))(\d+(?:\.\d+)?)?")


def parse_formula(formula: str) -> dict[str, float]:
    """Atoms per formula unit of a chemical formula, with parentheses and decimal counts.

    Parameters
    ----------
    formula : str
        E.g. ``"KMg3AlSi3O10(OH)2"`` or ``"Na(Li1.5Al1.5)Al6Si6O18(BO3)3(OH)4"``.

    Returns
    -------
    dict of str to float

    Raises
    ------
    ValueError
        For characters that are no part of a formula, or unbalanced parentheses.

    Examples
    --------
    >>> parse_formula("KMg3AlSi3O10(OH)2")
    {'K': 1.0, 'Mg': 3.0, 'Al': 1.0, 'Si': 3.0, 'O': 12.0, 'H': 2.0}
    """
    stack = [Counter()]
    position = 0
    for match in _TOKEN.finditer(formula):
        if match.start() != position:
            raise ValueError(f"Cannot read formula {formula!r} at {formula[position:]!r}.")
        position = match.end()
        token, count = match.group(1), float(match.group(2) or 1)
        if token == "(":
            if match.group(2):
                raise ValueError(f"Cannot read formula {formula!r}: a count after '('.")
            stack.append(Counter())
        elif token == ")":
            if len(stack) == 1:
                raise ValueError(f"Unbalanced ')' in formula {formula!r}.")
            group = stack.pop()
            for element, n in group.items():
                stack[-1][element] += n * count
        else:
            stack[-1][token] += count
    if position != len(formula) or len(stack) != 1:
        raise ValueError(f"Cannot read formula {formula!r}.")
    return {element: float(n) for element, n in stack[0].items()}


# ---- indices: arithmetic on cations per formula unit, read from minerals.toml ----

_OPERATORS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv}
_FUNCTIONS = {"min": np.minimum, "max": np.maximum}


def evaluate_index(expression: str, values: dict) -> np.ndarray:
    """Evaluate ``+ - * /``, numbers, ``min``/``max`` and names from ``values`` (no ``eval``).

    Examples
    --------
    >>> evaluate_index("100 * Mg / (Mg + Fe)", {"Mg": np.array([1.8, 0.0]), "Fe": np.array([0.2, 0.0])}).tolist()
    [90.0, nan]
    """

    def walk(node):
        if isinstance(node, ast.Expression):
            return walk(node.body)
        if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
            return _OPERATORS[type(node.op)](walk(node.left), walk(node.right))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -walk(node.operand)
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
            return float(node.value)
        if isinstance(node, ast.Name):
            if node.id not in values:
                raise ValueError(f"Index {expression!r} names {node.id!r}; known: {sorted(values)}.")
            return values[node.id]
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in _FUNCTIONS
            and len(node.args) == 2
            and not node.keywords
        ):
            return _FUNCTIONS[node.func.id](walk(node.args[0]), walk(node.args[1]))
        raise ValueError(f"Index {expression!r}: only numbers, names, + - * /, min and max are allowed.")

    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.asarray(walk(ast.parse(expression, mode="eval")), dtype=np.float64)
    return np.where(np.isfinite(out), out, np.nan)


# ---- the formula ----


def resolve_mineral(name: str) -> str:
    """The class a mineral name or database label names (``"cpx"`` -> ``"clinopyroxene"``).

    Raises
    ------
    ValueError
        For names of no class, or of several (``FeTiOxide``).
    """
    from minml.chemistry.labels import match_label
    from minml.chemistry.minerals import mineral_table

    match = match_label(name)
    if len(match.classes) == 1 and match.classes[0] in mineral_table():
        return match.classes[0]
    detail = (
        f"it names several ({', '.join(match.classes)})"
        if len(match.classes) > 1
        else f"{match.classes[0]} has no formula (no stoichiometry in minerals.toml)"
        if match.classes
        else "it is none of the classes"
        if match.status == "not a class"
        else "it is not a known name"
    )
    raise ValueError(
        f"Cannot compute a formula for mineral {name!r}: {detail}. "
        f"Give one of {sorted(mineral_table())} (or a synonym such as cpx, opx, plag)."
    )


def _moles(oxides: pd.DataFrame, iron: str) -> dict[str, np.ndarray]:
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


def _class_formula(oxides: pd.DataFrame, measured_iron: np.ndarray, mineral) -> pd.DataFrame:
    """Formulas of rows that all belong to one class."""
    X, T = mineral.oxygens, mineral.cations
    scalar_t = T is not None and not isinstance(T, tuple)
    excluded = [c for c in mineral.basis_excludes if c in oxides.columns]
    oxides = oxides.drop(columns=excluded)
    default_iron = "Fe3" if mineral.fe3 == "all" else "Fe2"
    moles = _moles(oxides, default_iron)
    measured = _moles(oxides, "analysed")
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
    all_fe2 = _moles(oxides, "Fe2")
    with np.errstate(divide="ignore", invalid="ignore"):
        s_fe2 = sum(all_fe2[e] for e in all_fe2 if e != "O") * X / all_fe2["O"]
    s_fe2 = np.where(np.isfinite(s_fe2), s_fe2, np.nan)
    method = np.where(
        measured_iron,
        "analysed",
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
        method[balance] = "charge balance (Droop 1987)"
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
    charge = sum(values[e] * species_charge for e, species_charge in _charges(cation_cols).items())
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


def _charges(elements) -> dict[str, float]:
    """Charge of each cation column (Fe2/Fe3 explicit; the others from their oxide)."""
    table = species_table()
    charge = {"Fe2": 2.0, "Fe3": 3.0}
    for spec in table.values():
        if not spec.halogen and spec.cations and spec.element not in charge:
            charge[spec.element] = 2.0 * spec.oxygens / spec.cations
    return {e: charge[e] for e in elements if e in charge}


def formula(
    df,
    mineral: str | None = None,
    *,
    mineral_column: str | None = None,
    suffix: str | None = None,
    elements: bool = False,
) -> pd.DataFrame:
    """Mineral formulas: cations per formula unit, Fe3+/Fe2+, indices and stoichiometric misfit.

    Parameters
    ----------
    df : pandas.DataFrame or OxideCheck
        Analyses in wt% (any column spelling :func:`minml.map_columns` knows), not modified;
        or a table checked already by :func:`minml.check_oxides` (then without ``suffix``,
        ``elements``: they were given to the check).
    mineral : str, optional
        One class for every row (a class name or a synonym: ``"cpx"``, ``"plag"``), or
        ``"auto"`` for the class :func:`minml.classify` names (rows it calls unknown get none).
    mineral_column : str, optional
        Column of ``df`` naming each row's mineral (database labels are matched through
        ``labels.toml``); rows whose label names no single class get none.
    suffix : str, optional
        Phase suffix of the oxide columns (see :func:`minml.check_oxides`).
    elements : bool, default=False
        Columns named by an element hold element wt% (see :func:`minml.check_oxides`).

    Returns
    -------
    pandas.DataFrame
        On the caller's index: ``mineral``, the cations (``Si`` ... ``Fe3``, ``Fe2`` ...),
        ``AlIV``/``AlVI`` where the class has a tetrahedral site, ``cation_sum``, ``oxygens``,
        ``fe3_method``, ``cation_excess``, ``charge_deficit``, ``misfit`` (wt%), the class's
        indices (``Fo``, ``Wo``, ``An``, ``Cr_number``, ...; columns of other classes are NaN),
        and ``flag`` (why a row has no formula, or the reader's flags).

    Examples
    --------
    Olivine (SiO2 34.96, FeO 36.77, MnO 0.52, MgO 27.04 wt%; GeoClassroom's worked example):

    >>> import pandas as pd
    >>> ol = pd.DataFrame({"SiO2": [34.96], "FeO": [36.77], "MnO": [0.52], "MgO": [27.04]})
    >>> formula(ol, "olivine")[["Si", "Fe2", "Mn", "Mg", "Fo"]].round(3).values.tolist()
    [[0.989, 0.87, 0.012, 1.14, 56.726]]
    """
    if _dask.is_dask(df):
        return _dask.formula(df, mineral, mineral_column=mineral_column, suffix=suffix, elements=elements)
    return formula_rows(df, mineral, mineral_column=mineral_column, suffix=suffix, elements=elements)[0]


def formula_rows(
    df, mineral=None, *, mineral_column=None, suffix=None, elements=False
) -> tuple[pd.DataFrame, np.ndarray]:
    """:func:`formula`, and why each row has no formula (``""`` where it has one), as data
    beside the ``flag`` text that renders it."""
    from minml.chemistry.minerals import mineral_table
    from minml.chemistry.misfit import end_member_compositions, end_member_misfit, fold_divalent
    from minml.classifier.features import MODEL_OXIDES, missing_columns
    from minml.tables.checks import OxideCheck, check_oxides

    if (mineral is None) == (mineral_column is None):
        raise ValueError(
            "Give either mineral= (one class, or 'auto') or mineral_column= (a column naming each row's mineral)."
        )
    if isinstance(df, OxideCheck):
        if suffix is not None or elements:
            raise TypeError("suffix and elements apply when checking a table; this one is checked already.")
        checked, df = df, df.other  # the label column is among the columns that are not species
    else:
        checked = check_oxides(df, suffix=suffix, elements=elements)  # formulas of bad analyses are computed, flagged
    oxides, flags = checked.oxides, checked.flags
    classes, why = _row_classes(df, mineral, mineral_column, checked)
    codes, names = pd.factorize(classes.to_numpy(dtype=object))
    _warn_absent(missing_columns(checked), sorted(name for name in names if name))
    usable = np.isfinite(oxides[list(MODEL_OXIDES)].to_numpy(dtype=float)).all(axis=1)
    cause = pd.Series("", index=df.index, dtype=object)
    cause[~usable] = "unusable values"
    no_class = usable & (classes == "").to_numpy()
    cause[no_class] = why[no_class]
    reason = ("no formula: " + cause).where(cause != "", "")
    # ferric iron as analysed only where both forms were reported and Fe2O3 > 0 (a blank or 0
    # Fe2O3 in a database usually means "not determined")
    measured = ((flags["iron_rule"] == "FeO+Fe2O3") & oxides["FeO"].notna() & (oxides["Fe2O3"] > 0)).to_numpy()
    table = mineral_table()
    parts, positions = [], []
    for k in np.argsort(names).tolist():  # in class order
        name = names[k]
        if name == "":
            continue
        rows = usable & (codes == k)
        part = _class_formula(oxides.loc[rows], measured[rows], table[name])
        values = fold_divalent(
            oxides.loc[rows, list(MODEL_OXIDES)].to_numpy(dtype=float), MODEL_OXIDES, oxides.loc[rows]
        )
        part["misfit"] = end_member_misfit(values, end_member_compositions(name, MODEL_OXIDES))[0]
        parts.append(part.assign(mineral=name))
        positions.append(np.flatnonzero(rows))
    out = pd.concat(parts) if parts else pd.DataFrame(index=df.index[:0])
    # back in the caller's row order by position: the caller's index may repeat a label
    out = out.set_axis(np.concatenate(positions) if positions else []).reindex(range(len(df))).set_axis(df.index)
    for column, empty in (("cation_sum", np.nan), ("oxygens", np.nan), ("fe3_method", ""), ("misfit", np.nan)):
        if column not in out:  # no row has a formula (fractions, nothing classified): the columns all the same
            out[column] = pd.Series(empty, index=out.index, dtype=object if empty == "" else float)
    out["mineral"] = classes.where(reason == "", "")
    note = flags["flag"].where(flags["flag"] != "", "")
    out["flag"] = np.where(reason != "", reason + np.where(note != "", "; " + note, ""), note)
    front = ["mineral"]
    return out[front + [c for c in out.columns if c not in front]], cause.to_numpy(dtype=object)


def _warn_absent(absent: list[str], classes: list[str]) -> None:
    """Warn of the ``absent`` columns that end-members of the ``classes`` contain: their
    formulas take them as 0 wt% (an olivine table needs no K2O; one without iron, or a
    clinopyroxene table without Na2O, gives formulas of another mineral)."""
    from minml.chemistry.misfit import end_member_compositions
    from minml.classifier.features import MODEL_OXIDES

    needed = {}
    for name in classes:
        held = end_member_compositions(name, MODEL_OXIDES).max(axis=0) > 0
        for oxide in absent:
            if held[MODEL_OXIDES.index(oxide)]:
                needed.setdefault(oxide, []).append(name)
    if needed:
        lines = "; ".join(
            f"{'FeOt (no form of iron)' if oxide == 'FeOt' else oxide}, in {', '.join(names)}"
            for oxide, names in needed.items()
        )
        warnings.warn(
            f"The table has no column for oxides the end-members hold ({lines}): the formulas take them "
            "as 0 wt%. Add the columns (0 where below detection) to say they were analysed.",
            stacklevel=4,  # formula -> formula_rows -> here
        )


def _row_classes(df, mineral, mineral_column, checked) -> tuple[pd.Series, pd.Series]:
    """The class of each row ("" where none), and why a row has none ("" where it has one);
    ``checked`` is the table's check, which ``mineral="auto"`` classifies from."""
    if mineral_column is not None:
        from minml.chemistry.labels import is_label, match_labels, require_label_column

        require_label_column(df, mineral_column, "mineral_column")
        from minml.chemistry.minerals import mineral_table

        matched = match_labels(df[mineral_column])
        known = set(mineral_table())
        single = {c: c[0] if len(c) == 1 and c[0] in known else "" for c in set(matched["label_classes"])}
        classes = matched["label_classes"].map(single).astype(object)  # labels that name one class with a formula
        why = np.full(len(df), "", dtype=object)
        rows = np.flatnonzero((classes == "").to_numpy())
        labels = df[mineral_column].to_numpy(dtype=object)[rows]
        codes, _ = pd.factorize(labels, use_na_sentinel=False)  # each distinct label explained once
        _, first, inverse = np.unique(codes, return_index=True, return_inverse=True)
        found, status = matched["label_classes"].to_numpy()[rows], matched["label_status"].to_numpy()[rows]
        said = np.array(
            [_no_class_reason(labels[i], found[i], status[i], is_label(labels[i])) for i in first.tolist()],
            dtype=object,
        )
        why[rows] = said[inverse.reshape(-1)]
        return classes, pd.Series(why, index=df.index, dtype=object)
    if str(mineral).lower() == "auto":
        from minml.classifier.predict import classify_columns

        result = classify_columns(checked)  # the table is not checked a second time
        coded = result["mineral"]
        named = pd.Series(np.asarray(coded.categories, dtype=object)[coded.codes], index=df.index, dtype=object)
        classes = named.where(named.ne("unknown") & named.ne("glass"), "").astype(object)
        # an unknown row says why (its first reason, e.g. "fractions?"), a glass says it is one
        first = (
            pd.Series(result["flag"], index=df.index, dtype=object).str.split("; ").str[0].str.removeprefix("unknown: ")
        )
        first = first.str.split(r":| \(", regex=True).str[0]
        said = ("classified " + named).where(named.ne("unknown") | first.eq(""), "classified unknown: " + first)
        return classes, said.where(classes == "", "").astype(object)
    return (
        pd.Series(resolve_mineral(mineral), index=df.index, dtype=object),
        pd.Series("", index=df.index, dtype=object),
    )


def _no_class_reason(label, found: tuple, status: str, given: bool) -> str:
    """Why a row labelled ``label`` (matched to the classes ``found``, with ``status``) gets
    no formula."""
    if not given:
        return "no label"
    if status == "ambiguous":
        return f"label {label!r} may be {' or '.join(found)} (name one)"
    if status == "unmapped":
        return f"label {label!r} is not in labels.toml"
    return f"label {label!r} names no class with a formula"  # glass, or a phase none of the classes covers
