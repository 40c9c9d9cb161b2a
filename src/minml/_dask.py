"""The table functions on Dask DataFrames: lazy, partition by partition, the model sent once.

:func:`minml.classify`, :func:`minml.check_oxides`, :func:`minml.formula`,
:func:`minml.validate`, :func:`minml.latent` and
:func:`minml.validation.verdicts.label_summary` hand a Dask DataFrame to the function of the same
name here (``if _dask.is_dask(df): return _dask.classify(df, ...)``), which returns a Dask
DataFrame: nothing is computed until the caller asks.  Each partition is a pandas DataFrame
run through the in-memory function, so the two paths give the same rows.

* ``meta`` comes from the in-memory function run on Dask's two-row stand-in of the input
  (``_meta_nonempty``); categorical columns have fixed categories (the model's classes,
  ``VERDICTS``), so they are *known* in the result.
* The model: the shipped one (``model=None``) or a model file is named in the graph by a small
  reference and loaded once per worker process by :func:`_worker_model` (cached; ``LOADS``
  counts the loads); a model object is put in the graph once, as one key
  (``dask.delayed``), which each worker fetches once, never pickled into every task.
* ``validate``'s ``rank`` is global (1 = the most certain disagreement of the whole table).
  It is not a global sort of the rows: each partition is validated, its three sort numbers
  per row (17 bytes) go to one task, which orders them (a stable ``lexsort``, as in memory)
  and hands each partition back its ranks.  The rows stay where they are (on the workers,
  spilled to disk when memory runs short) until the ranks come back.  Ten million rows need
  about 0.5 GB (50 bytes a row: keys, order, ranks) on that one task's worker.
* ``label_summary``: per partition, counts per label and verdict and of the other answers
  (with where each was first seen, to break ties as ``value_counts`` does), summed in one
  task: a few hundred labels, whatever the rows.

This module imports neither dask nor pandas at import time: :func:`is_dask` is what the public
functions call on every table.
"""

from __future__ import annotations

import warnings
from collections import Counter
from functools import lru_cache
from pathlib import Path

import numpy as np

__all__ = ["LOADS", "check_oxides", "classify", "formula", "is_dask", "label_summary", "latent", "validate"]

LOADS: Counter = Counter()
"""Models loaded by :func:`_worker_model` in this process, by (kind, file): one each per worker."""


def is_dask(obj) -> bool:
    """Whether ``obj`` is a Dask DataFrame (checked by its type's module: dask is not imported)."""
    return type(obj).__module__.split(".")[0] in ("dask", "dask_expr") and hasattr(obj, "map_partitions")


# ---- the model, once per worker ----


def _loader(kind: str):
    if kind == "latent":
        from minml.unsupervised.latent import LatentModel, load_default_latent

        return load_default_latent, LatentModel.load
    from minml.classifier._runtime import Runtime
    from minml.classifier.predict import load_default

    return load_default, Runtime.load


@lru_cache(maxsize=8)
def _worker_model(kind: str, path: str | None, stamp: float | None):
    """The model ``path`` (None: the shipped one) of ``kind``, loaded once per process
    (``stamp``, the file's modification time, makes a rewritten file load again)."""
    LOADS[(kind, path)] += 1
    default, load = _loader(kind)
    return default() if path is None else load(path)


def _model_arg(model, kind: str):
    """What the graph carries for ``model``: a small reference to the shipped model or to a
    file, or the model object as one delayed key. Also returns the model, for ``meta``."""
    import dask

    if model is None or isinstance(model, (str, Path)):
        path = None if model is None else str(Path(model).resolve())
        stamp = None if path is None else Path(path).stat().st_mtime
        return ("minml-model", kind, path, stamp), _worker_model(kind, path, stamp)
    if kind == "classifier":
        from minml.classifier.predict import resolve_model

        model = resolve_model(model)
    return dask.delayed(model, pure=True), model


def _model(arg):
    """The model of a partition task: the delayed object as Dask handed it, or a reference loaded here."""
    if isinstance(arg, tuple) and len(arg) == 4 and arg[0] == "minml-model":
        return _worker_model(*arg[1:])
    return arg


def _meta(function, ddf, *args, **kwargs):
    """The empty result of ``function`` on the stand-in rows of ``ddf`` (its warnings are the
    partitions' business, not the meta's); ``ddf`` may be a pandas DataFrame of stand-in
    rows itself (the folder route's, one kind per file header)."""
    rows = getattr(ddf, "_meta_nonempty", ddf)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return function(rows, *args, **kwargs).iloc[:0]


def _quiet(function, part, *args, **kwargs):
    """``function`` on one partition; the warnings the in-memory path gives once are not
    repeated per partition on the workers (the caller gets them from ``meta``)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return function(part, *args, **kwargs)


# ---- classify, check_oxides, latent ----


def _classify_part(part, model, options):
    from minml.classifier.predict import classify as eager

    return _quiet(eager, part, _model(model), **options)


def _with_model(ddf, eager, part, model, kind: str, options: dict):
    """``part(partition, model, options)`` mapped over the partitions, the model sent to each
    worker once (``kind``: which shipped model ``None`` names), ``meta`` from ``eager`` run on
    an empty partition; ``progress`` is ignored."""
    options.pop("progress", None)
    arg, local = _model_arg(model, kind)
    return ddf.map_partitions(part, arg, options, meta=_meta(eager, ddf, local, **options))


def classify(ddf, model=None, **options):
    """:func:`minml.classify` of every partition (lazy); ``progress`` is ignored."""
    from minml.classifier.predict import classify as eager

    return _with_model(ddf, eager, _classify_part, model, "classifier", options)


def _check_part(part, options):
    from minml.tables.checks import check_oxides as eager

    checked = eager(part, **options)
    return checked.oxides.join(checked.flags)


def check_oxides(ddf, **options):
    """:func:`minml.check_oxides` of every partition (lazy): one Dask DataFrame of the
    ``oxides`` columns then the ``flags`` columns (``OxideCheck.oxides.join(OxideCheck.flags)``)."""
    return ddf.map_partitions(_check_part, options, meta=_meta(_check_part, ddf, options))


def _latent_part(part, model, options):
    from minml.unsupervised.latent import latent as eager

    return _quiet(eager, part, _model(model), **options)


def latent(ddf, model=None, **options):
    """:func:`minml.latent` of every partition (lazy); ``progress`` is ignored."""
    from minml.unsupervised.latent import latent as eager

    return _with_model(ddf, eager, _latent_part, model, "latent", options)


# ---- formula ----


def _formula_part(part, options, meta):
    from minml.chemistry.formulas import formula as eager

    out = _quiet(eager, part, **options).reindex(columns=meta.columns)
    return out.astype(meta.dtypes.to_dict())


def formula(ddf, mineral=None, **options):
    """:func:`minml.formula` of every partition (lazy).

    The in-memory result has the index columns of the classes present (``Fo`` for olivine,
    ``An`` for feldspar...); a partition cannot know which classes the others hold, so with
    ``mineral="auto"`` or ``mineral_column`` every partition has the columns of every class
    (NaN where the row's class has none), in the in-memory order.
    """
    from minml.chemistry.formulas import formula as eager

    options = dict(options, mineral=mineral)
    column = options.get("mineral_column")
    every = (mineral is None and column is not None) or (column is None and str(mineral).lower() == "auto")
    if not every:
        with warnings.catch_warnings():  # one class (or an error): its warnings once, as in memory
            meta = eager(ddf._meta_nonempty, **options).iloc[:0]
    else:
        meta = _meta(eager, _every_class(ddf, options), **dict(options, mineral=None, mineral_column="_minml_class"))
    # a row without a formula is NaN in every number: integer columns of the meta are float
    meta = meta.astype({c: float for c, d in meta.dtypes.items() if d.kind in "iu"})
    return ddf.map_partitions(_formula_part, options, meta, meta=meta)


class _Probe:
    """A stand-in with ``_meta_nonempty``: one row per class, at an end-member of it."""

    def __init__(self, frame):
        self._meta_nonempty = frame


def _every_class(ddf, options):
    """One row per class (its first end-member, in the caller's columns), naming the class in
    ``_minml_class``: its formula has the columns of every class."""
    import pandas as pd

    from minml.chemistry.minerals import mineral_table
    from minml.chemistry.misfit import end_member_compositions
    from minml.chemistry.oxides import map_columns
    from minml.classifier.features import MODEL_OXIDES

    names = sorted(mineral_table())
    mapped = map_columns(list(ddf.columns), suffix=options.get("suffix")).mapped
    rows = {}
    for name in names:
        members = end_member_compositions(name, MODEL_OXIDES)
        rows[name] = dict(zip(MODEL_OXIDES, members[0], strict=True)) if len(members) else {}
    probe = pd.DataFrame(index=range(len(names)), columns=list(ddf.columns), dtype=float)
    for column, species in mapped.items():
        probe[column] = [rows[name].get(species, 0.0) for name in names]
    probe["_minml_class"] = names
    return _Probe(probe)


# ---- validate and its summary ----


def _validate_part(part, label_column, model, options):
    from minml.validation.verdicts import validate as eager

    return _quiet(eager, part, label_column, model=_model(model), **options)


def _rank_keys(part) -> tuple:
    """The in-memory sort keys of :func:`minml.validate` (disagreements first, then the label's
    probability, then the label's misfit, larger first)."""
    return (
        -np.nan_to_num(part["label_misfit"].to_numpy(dtype=float)),
        np.nan_to_num(part["label_probability"].to_numpy(dtype=float), nan=2.0),
        (part["verdict"] != "disagree").to_numpy(),
    )


def _global_rank(keys: list) -> list:
    """Each partition's ranks (1 = first of the whole table), by one stable lexsort of the
    partitions' keys in partition order (so ties keep the table's order, as in memory)."""
    lengths = [len(k[0]) for k in keys]
    order = np.lexsort(tuple(np.concatenate([k[i] for k in keys]) for i in range(3)))
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(1, len(order) + 1)
    return np.split(rank, np.cumsum(lengths)[:-1])


def _with_rank(part, rank):
    return part.assign(rank=rank)


def validate(ddf, label_column: str = "Mineral", *, model=None, **options):
    """:func:`minml.validate` of every partition (lazy), with the table-wide ``rank``."""
    import dask
    import dask.dataframe as dd

    from minml.validation.verdicts import validate as eager

    options.pop("progress", None)
    arg, local = _model_arg(model, "classifier")
    meta = _meta(eager, ddf, label_column, model=local, **options)
    parts = ddf.map_partitions(_validate_part, label_column, arg, options, meta=meta).to_delayed()
    ranks = dask.delayed(_global_rank, nout=len(parts))([dask.delayed(_rank_keys)(p) for p in parts])
    ranked = [dask.delayed(_with_rank)(p, ranks[i]) for i, p in enumerate(parts)]
    return dd.from_delayed(ranked, meta=meta, divisions=ddf.divisions, verify_meta=False)


def _summary_part(part, number: int):
    """Counts per label and verdict, and per label of each other answer with where it was first
    seen (partition ``number``, row) in this partition."""
    import pandas as pd

    from minml.validation.verdicts import VERDICTS

    label = part["label"].astype(str).to_numpy(dtype=object)
    verdict = pd.Categorical(part["verdict"], categories=list(VERDICTS))
    counts = pd.crosstab(pd.Series(label, name="label"), pd.Series(verdict, name="verdict"), dropna=False)
    other = np.flatnonzero(np.isin(np.asarray(verdict.astype(object)), ["disagree", "uncertain"]))
    seen = pd.DataFrame(
        {"label": label[other], "mineral": part["mineral"].to_numpy(dtype=object)[other], "first": other}
    )
    alternatives = seen.groupby(["label", "mineral"], sort=False)["first"].agg(["size", "min"])
    alternatives["min"] = list(zip([number] * len(alternatives), alternatives["min"].tolist(), strict=True))
    return counts.reindex(columns=list(VERDICTS), fill_value=0), alternatives


def _combine_summary(parts: list):
    """:func:`minml.validation.verdicts.label_summary` from the partitions' counts."""
    import pandas as pd

    from minml.validation.verdicts import VERDICTS

    counts = pd.concat([c for c, _ in parts]).groupby(level=0).sum().sort_index()
    counts.columns.name = "verdict"
    rows = counts.sum(axis=1)
    shares = counts.div(rows, axis=0)
    seen = pd.concat([a for _, a in parts])
    alternative = pd.Series(dtype=object)
    if len(seen):
        seen = seen.groupby(level=[0, 1]).agg({"size": "sum", "min": "min"}).reset_index()
        seen["key"] = list(zip(-seen["size"], seen["min"], strict=True))
        best = seen.sort_values("key", kind="stable").drop_duplicates("label")
        alternative = best.set_index("label")["mineral"]
    summary = shares.assign(rows=rows.rename("count"), top_alternative=alternative)
    summary["top_alternative"] = summary["top_alternative"].fillna("")
    summary.index.name = "label"
    return summary[["rows", *VERDICTS, "top_alternative"]].sort_values("rows", ascending=False)


def label_summary(validated):
    """:func:`minml.validation.verdicts.label_summary` as a Dask aggregation: a one-partition
    Dask DataFrame (one row per label)."""
    import dask
    import dask.dataframe as dd

    from minml.validation.verdicts import label_summary as eager

    parts = validated.to_delayed()
    table = dask.delayed(_combine_summary)([dask.delayed(_summary_part)(p, i) for i, p in enumerate(parts)])
    return dd.from_delayed([table], meta=eager(validated._meta), verify_meta=False)
