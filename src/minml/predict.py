"""``classify``: which mineral is each analysis of a table, with the shipped model or yours.

Runs on numpy and pandas only (see :mod:`minml._runtime`): neither scikit-learn nor torch
is imported, so the command line starts fast.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from minml._resources import data_path
from minml._runtime import Runtime
from minml.features import model_inputs

__all__ = ["DEFAULT_MODEL", "classify", "load_default"]

DEFAULT_MODEL = "default-v1.npz"
_CHUNK = 32_768  # rows per step: keeps the temporaries in cache
# reader flags after which a row is no analysis at all: it gets "unknown", never a mineral
_NOT_AN_ANALYSIS = r"^(?:empty row|fractions\?|column shift\?)|; (?:empty row|fractions\?|column shift\?)"

_DEFAULT = {}


def load_default() -> Runtime:
    """The shipped model (``minml/data/default-v1.npz``), loaded once."""
    if "model" not in _DEFAULT:
        path = data_path(DEFAULT_MODEL)
        if not path.is_file():
            raise FileNotFoundError(
                f"The shipped model {DEFAULT_MODEL} is missing from the package; rebuild it with `minml train`."
            )
        _DEFAULT["model"] = Runtime.load(path)
    return _DEFAULT["model"]


def classify(df: pd.DataFrame, model=None, *, fill_missing=None,
             progress: bool = False, **check_options) -> pd.DataFrame:
    """Classify every analysis of a table.

    Parameters
    ----------
    df : pandas.DataFrame
        Analyses in wt% (any column spelling :func:`minml.map_columns` knows). Not modified.
    model : MineralClassifier or Runtime, optional
        A fitted estimator, or a model read with ``Runtime.load``; defaults to the shipped model.
    fill_missing : float, optional
        Value for model oxides the table has no column for (by default: an error).
    progress : bool, default=False
        Show a progress bar (for tables of more than one chunk of 32,768 rows).
    **check_options
        ``suffix``, ``total_range``: see :func:`minml.check_oxides`.

    Returns
    -------
    pandas.DataFrame
        On the caller's index: ``mineral``, ``group``, ``probability``, ``uncertainty``
        (predictive entropy / log of the number of classes: 0 sure, 1 no idea),
        ``second_mineral``, ``second_probability``, ``ood_score`` (higher is less like the
        training data), ``flag`` (empty when accepted; else ';'-joined reasons).
        Rows with unusable values, empty rows, fractions and column shifts get
        ``mineral = "unknown"``.

    Examples
    --------
    >>> import pandas as pd
    >>> olivine = pd.DataFrame({"SiO2": [40.5], "TiO2": [0.0], "Al2O3": [0.03], "FeOt": [9.6],
    ...     "MnO": [0.14], "MgO": [49.3], "CaO": [0.1], "Na2O": [0.0], "K2O": [0.0],
    ...     "Cr2O3": [0.02], "P2O5": [0.0]})
    >>> classify(olivine)[["mineral", "group"]].to_numpy().tolist()
    [['olivine', 'olivine']]
    """
    if model is None:
        model, name = load_default(), "the shipped model"
    else:
        model, name = (model._runtime() if hasattr(model, "_runtime") else model), "the model"
    values, checked = model_inputs(df, model.oxides, fill_missing=fill_missing, model_name=name, **check_options)
    from tqdm.auto import tqdm

    n = len(values)
    classes = np.asarray(model.classes, dtype=object)
    groups = np.asarray(model.groups, dtype=object)
    out = {name: np.empty(n, dtype=dtype) for name, dtype in
           [("top", np.int64), ("second", np.int64), ("p1", np.float32), ("p2", np.float32),
            ("uncertainty", np.float32), ("ood", np.float64)]}
    flags = checked.flags["flag"]
    ok = np.isfinite(values).all(axis=1)
    flagged = np.flatnonzero(flags.to_numpy() != "")
    ok[flagged] &= ~flags.iloc[flagged].str.contains(_NOT_AN_ANALYSIS).to_numpy(dtype=bool)
    log_k = np.log(len(classes))
    for start in tqdm(range(0, n, _CHUNK), desc="classifying", unit="chunk", disable=not progress or n <= _CHUNK):
        part = slice(start, start + _CHUNK)
        Z = model.scaled(np.where(ok[part, None], values[part], 0.0))
        proba = model.proba(Z)
        by_class = np.ascontiguousarray(proba.T)  # (classes, rows): reductions over classes vectorise
        rows = np.arange(proba.shape[0])
        top = by_class.argmax(axis=0)
        out["top"][part], out["p1"][part] = top, by_class[top, rows]
        entropy = -(by_class * np.log(np.maximum(by_class, 1e-12))).sum(axis=0)
        out["uncertainty"][part] = entropy / log_k
        by_class[top, rows] = -1.0
        second = by_class.argmax(axis=0)
        out["second"][part], out["p2"][part] = second, by_class[second, rows]
        out["ood"][part] = -model.log_density(Z)

    flag = flags.to_numpy(dtype=object).copy()
    far = ok & (out["ood"] > model.ood_threshold)
    if far.any():
        note = f"unlike the training data: ood_score above {model.ood_threshold:.1f}"
        flag[far] = np.where(flag[far] == "", note, flag[far] + "; " + note)
    n_classes = len(classes)
    group_names = sorted(set(groups))
    group_of = np.array([group_names.index(g) for g in groups] + [len(group_names)])
    top = np.where(ok, out["top"], n_classes)  # n_classes: "unknown"
    second = np.where(ok, out["second"], n_classes)
    result = pd.DataFrame(
        {
            "mineral": pd.Categorical.from_codes(top, [*classes, "unknown"]),
            "group": pd.Categorical.from_codes(group_of[top], [*group_names, ""]),
            "probability": np.where(ok, out["p1"], np.nan),
            "uncertainty": np.where(ok, out["uncertainty"], np.nan),
            "second_mineral": pd.Categorical.from_codes(second, [*classes, ""]),
            "second_probability": np.where(ok, out["p2"], np.nan),
            "ood_score": np.where(ok, out["ood"], np.nan),
            "flag": flag,
        },
        index=df.index,
    )
    return result
