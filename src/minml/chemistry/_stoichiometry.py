"""Arithmetic on formulas: cation sums of oxide wt%, chemical formulas parsed to atoms, and
the indices of ``minerals.toml`` evaluated on cations per formula unit (no ``eval``)."""

from __future__ import annotations

import ast
import operator
import re
from collections import defaultdict
from typing import TYPE_CHECKING

import numpy as np

from minml.chemistry.oxides import species_table

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "carried_oxygen_share",
    "cation_brackets",
    "cation_oxygen_ratio",
    "cation_sum",
    "evaluate_index",
    "fewest_cations",
    "parse_formula",
]

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
    return oxygens * cation_oxygen_ratio(oxides[names].to_numpy(dtype=float), names)


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
    return cation_brackets(np.asarray(values, dtype=np.float64), oxides)[0]


def cation_brackets(values: np.ndarray, oxides) -> tuple[np.ndarray, np.ndarray]:
    """Cations per oxygen of each row, with all its iron (``FeOt``) as Fe2+ (the largest) and
    as Fe3+ (the smallest): where the analysis does not split its iron, its formula lies between.

    Parameters
    ----------
    values : numpy.ndarray
        Rows x ``oxides``, wt% (NaN reads as 0).
    oxides : sequence of str
        Canonical species of the columns.

    Returns
    -------
    high, low : numpy.ndarray
        In float32 for float32 ``values``, else float64; NaN for rows without oxygen.

    Examples
    --------
    Magnetite Fe3O4 as FeOt (93.1 wt%): 1 cation per oxygen read as FeO, 2/3 read as Fe2O3,
    and its formula's 3/4 lies between.

    >>> high, low = cation_brackets(np.array([[93.1]]), ["FeOt"])
    >>> round(float(high[0]), 3), round(float(low[0]), 3)
    (1.0, 0.667)
    """
    cations, anions, iron = _oxide_sums(values, oxides).T
    with np.errstate(invalid="ignore", divide="ignore"):
        high = cations / anions
        low = cations / (anions + 0.5 * iron)
    without = ~(anions > 0)  # no oxygen (NaN included): no ratio
    high[without] = np.nan
    low[without] = np.nan
    return high, low


def fewest_cations(values: np.ndarray, oxides, species: str, oxygens: float) -> np.ndarray:
    """Cations of one species per formula unit of ``oxygens`` oxygens, all iron read as Fe3+
    (the most oxygen, so the fewest cations: the reading a site limit is held to).

    Parameters
    ----------
    values : numpy.ndarray
        Rows x ``oxides``, wt% (NaN reads as 0).
    oxides : sequence of str
        Canonical species of the columns.
    species : str
        The oxide whose cations are counted (one of ``oxides``).
    oxygens : float
        The formula's oxygen basis.

    Returns
    -------
    numpy.ndarray
        NaN for rows without oxygen.

    Examples
    --------
    Wollastonite CaSiO3 (CaO 48.28, SiO2 51.72 wt%) has 2 Ca per 6 oxygens, where a
    clinopyroxene's M2 site holds 1:

    >>> fewest_cations(np.array([[51.72, 48.28]]), ["SiO2", "CaO"], "CaO", 6).round(3).tolist()
    [2.0]
    """
    table = species_table()
    at = list(oxides).index(species)
    sums = _oxide_sums(values, oxides)
    column = np.nan_to_num(np.asarray(values, dtype=sums.dtype)[:, at], nan=0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        count = (
            oxygens * column * (table[species].cations / table[species].molar_mass) / (sums[:, 1] + 0.5 * sums[:, 2])
        )
    count[~(sums[:, 1] > 0)] = np.nan
    return count


def _oxide_sums(values: np.ndarray, oxides) -> np.ndarray:
    """Rows x (moles of cations, moles of oxygen with iron as FeO, moles of iron) per 100 g of
    analysis (halogens and H2O carry none); NaN cells read as 0."""
    table = species_table()
    names = ["FeO" if ox == "FeOt" else ox for ox in oxides]
    unknown = [ox for ox in names if ox not in table]
    if unknown:
        raise ValueError(f"No species {unknown} in the oxide table.")
    used = np.array([not table[ox].halogen and ox != "H2O" for ox in names])
    per_wt = 1.0 / np.array([table[ox].molar_mass for ox in names])  # moles of each oxide per wt%
    weights = np.stack(
        [
            per_wt * np.where(used, [table[ox].cations for ox in names], 0.0),
            per_wt * np.where(used, [table[ox].oxygens for ox in names], 0.0),
            per_wt * np.array([ox == "FeO" for ox in names]),  # FeO -> FeO1.5: half an O more per Fe
        ],
        axis=1,
    )
    X = np.asarray(values)
    if X.dtype not in (np.float32, np.float64):
        X = X.astype(np.float64)
    weights = weights.astype(X.dtype)
    with np.errstate(invalid="ignore", over="ignore"):  # inf x 0 is NaN: such rows are read again
        sums = X @ weights  # one pass over the rows
        blank = np.flatnonzero(~np.isfinite(sums[:, 1]))  # a NaN or inf cell, even of weight 0, makes it NaN
        if len(blank):  # NaN cells read as 0
            sums[blank] = np.nan_to_num(X[blank], nan=0.0) @ weights
    return sums


def carried_oxygen_share(elements: dict, oxygen, atomic: bool = False) -> float | None:
    """How much of a table's measured oxygen its cations carry as their oxides: the median
    over rows of (O of each element's oxide, iron as FeO) / (the ``O`` column).

    About 1 for element wt% of a silicate, its oxygen measured or by stoichiometry (0.67 for
    hematite: Fe3+ carries more O than FeO); 0.4-0.62 for the atomic % of a silicate (oxygen
    is ~60 at% but ~45 wt%), whatever the column headers say.

    Parameters
    ----------
    elements : dict of str to array-like
        Element symbol -> its values; text reads as 0.
    oxygen : array-like
        The ``O`` column.
    atomic : bool, default=False
        Read the numbers as atomic %: each is weighed by its atomic mass first.

    Returns
    -------
    float or None
        None where no row has oxygen above 0.

    Examples
    --------
    Forsterite as element wt% (Mg 34.55, Si 19.96, O 45.49) and as atomic % (28.6, 14.3, 57.1):

    >>> round(carried_oxygen_share({"Mg": [34.55], "Si": [19.96]}, [45.49]), 2)
    1.0
    >>> round(carried_oxygen_share({"Mg": [28.6], "Si": [14.3]}, [57.1]), 2)
    0.62
    >>> round(carried_oxygen_share({"Mg": [28.6], "Si": [14.3]}, [57.1], atomic=True), 2)
    1.0
    """
    import pandas as pd

    from minml.chemistry.oxides import atomic_weight, element_oxides

    def numbers(cells, symbol) -> np.ndarray:
        values = np.nan_to_num(pd.to_numeric(pd.Series(cells), errors="coerce").to_numpy(dtype=float))
        return values * atomic_weight(symbol) if atomic else values

    measured = numbers(oxygen, "O")
    carried = np.zeros(len(measured))
    for symbol, cells in elements.items():
        carried += numbers(cells, symbol) * (element_oxides()[symbol][1] - 1.0)
    good = measured > 0
    return float(np.median(carried[good] / measured[good])) if good.any() else None


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
    stack: list[defaultdict[str, float]] = [defaultdict(float)]
    position = 0
    for match in _TOKEN.finditer(formula):
        if match.start() != position:
            raise ValueError(f"Cannot read formula {formula!r} at {formula[position:]!r}.")
        position = match.end()
        token, count = match.group(1), float(match.group(2) or 1)
        if token == "(":
            if match.group(2):
                raise ValueError(f"Cannot read formula {formula!r}: a count after '('.")
            stack.append(defaultdict(float))
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
