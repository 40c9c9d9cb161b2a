"""Files past memory: ``classify_files`` and ``validate_files`` write partitioned Parquet on a Dask cluster.

The sources (one file, a glob, a folder, or a list of them; CSV or Parquet) are read in
partitions (CSV in ``blocksize`` byte ranges, so one file larger than memory is fine; Parquet
by row group), each partition is classified or validated on a worker with the in-memory
function (:mod:`minml._dask`) and written as one Parquet part: the input's columns, then the
result's (prefixed ``classify_`` / ``validate_`` where a name is taken, as ``minml classify``
does).  CSV columns are read as text (written as they stand in the file; the oxide cells are
parsed by the table checks, as in memory), so a column that holds a ``bdl`` further down never
breaks the read.

Writing is whole or nothing: the parts go to a staging folder beside ``out_dir``
(``<out_dir>.incomplete-<id>``), each written under a temporary name and renamed (a worker that
dies mid-write leaves only a temporary file, removed at the end, and the part is written again
by another worker, under the same name: no row lost, none twice); when every part is there the
staging folder becomes ``out_dir``.  On an error the staging folder is removed.  Workers on
other machines need ``out_dir`` and the sources on a file system they share.
"""

from __future__ import annotations

import glob as globbing
import os
import shutil
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from minml import _dask

__all__ = ["FilesResult", "classify_files", "validate_files"]

_CSV = (".csv", ".tsv", ".txt")
_PARQUET = (".parquet", ".pq")


@dataclass
class FilesResult:
    """What :func:`classify_files` or :func:`validate_files` wrote.

    Attributes
    ----------
    out_dir : pathlib.Path
    parts : list of pathlib.Path
        The Parquet parts, in the sources' order (``part.00000.parquet`` ...).
    rows : int
    counts : dict of str to int
        Rows per mineral (classify) or per verdict (validate).
    summary : pandas.DataFrame or None
        :func:`minml.validation.verdicts.label_summary` (validate; also in ``_summary.csv``).
    """

    out_dir: Path
    parts: list
    rows: int
    counts: dict = field(default_factory=dict)
    summary: object = None


def source_files(sources) -> list[Path]:
    """The files named by ``sources``: a file, a glob, a folder (its CSV and Parquet files), or a list."""
    items = [sources] if isinstance(sources, (str, Path)) else list(sources)
    files: list[Path] = []
    for item in items:
        path = Path(item)
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.suffix.lower() in _CSV + _PARQUET)
            if not found:
                raise FileNotFoundError(f"No CSV or Parquet file in the folder {path}.")
            files += found
        elif path.is_file():
            files.append(path)
        else:
            found = sorted(Path(p) for p in globbing.glob(str(item)))
            if not found:
                raise FileNotFoundError(
                    f"No file matches {str(item)!r}: give a file, a folder or a glob such as 'data/*.csv'."
                )
            files += found
    kinds = {
        "csv" if p.suffix.lower() in _CSV else "parquet" if p.suffix.lower() in _PARQUET else p.suffix for p in files
    }
    if len(kinds) > 1 or not kinds <= {"csv", "parquet"}:
        raise ValueError(
            f"The sources must all be CSV (.csv, .tsv, .txt) or all Parquet (.parquet); got {sorted(kinds)}. "
            "Run the kinds separately."
        )
    return files


def read_sources(sources, *, blocksize="64MB"):
    """A Dask DataFrame of the sources (CSV columns as text, in ``blocksize`` byte ranges)."""
    import dask.dataframe as dd

    files = source_files(sources)
    if files[0].suffix.lower() in _PARQUET:
        return dd.read_parquet([str(p) for p in files])
    sep = "\t" if files[0].suffix.lower() == ".tsv" else ","
    return dd.read_csv([str(p) for p in files], sep=sep, dtype=str, blocksize=blocksize)


@contextmanager
def _client(scheduler, local_options):
    """A distributed client: the one given, one on the cluster at address ``scheduler``, the
    current one, or one on a new local cluster (closed at the end)."""
    from distributed import Client, LocalCluster

    if isinstance(scheduler, Client):
        yield scheduler
    elif scheduler is not None:
        with Client(scheduler) as client:
            yield client
    else:
        try:
            current = Client.current()
        except ValueError:  # no client in this process: a local cluster of our own
            current = None
        if current is not None:
            yield current
            return
        options = {"processes": True, "dashboard_address": ":0", **(local_options or {})}
        with LocalCluster(**options) as cluster, Client(cluster) as client:
            yield client


@contextmanager
def _staging(out_dir: Path):
    """A staging folder beside ``out_dir`` that becomes it at the end (removed on an error)."""
    out_dir = Path(out_dir)
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise FileExistsError(f"{out_dir} exists and is not an empty folder; name a new folder for the parts.")
    staging = out_dir.with_name(f"{out_dir.name}.incomplete-{uuid.uuid4().hex[:8]}")
    staging.mkdir(parents=True)
    try:
        yield staging
        for stray in staging.glob(".*.tmp"):  # left by a worker that died while writing
            stray.unlink()
        if out_dir.exists():
            out_dir.rmdir()
        staging.rename(out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _part_name(number: int) -> str:
    return f"part.{number:05d}.parquet"


def _write(frame, folder, number: int) -> None:
    """Write one part atomically: a temporary name, then renamed."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = Path(folder)
    temporary = folder / f".{_part_name(number)}.{uuid.uuid4().hex[:8]}.tmp"
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), temporary)
    os.replace(temporary, folder / _part_name(number))


def _apart(columns, names, prefix: str) -> list:
    """The result's column names, all prefixed when one would replace an input column."""
    if not set(columns) & set(names):
        return list(names)
    prefixed = [prefix + name for name in names]
    clash = sorted(set(prefixed) & set(columns))
    if clash:
        raise ValueError(f"The input already has columns {clash}; rename them so the results do not overwrite them.")
    return prefixed


def _classify_write(part, model, options, folder, number: int) -> dict:
    """Classify one partition, write it beside its input, and count its minerals."""
    import pandas as pd

    result = _dask._classify_part(part, model, options)
    result.columns = _apart(part.columns, result.columns, "classify_")
    _write(pd.concat([part, result], axis=1), folder, number)
    mineral = result.iloc[:, 0]
    return {"rows": len(part), "counts": mineral.value_counts(sort=False).to_dict()}


def classify_files(
    sources, out_dir, *, scheduler=None, model=None, blocksize="64MB", local_cluster: dict | None = None, **options
) -> FilesResult:
    """Classify tables of any size into partitioned Parquet, on a Dask cluster.

    Parameters
    ----------
    sources : str, path or list of them
        A CSV or Parquet file (larger than memory is fine), a glob (``"db/*.csv"``), a folder
        (its ``.csv``/``.tsv``/``.txt`` or ``.parquet`` files), or a list of these.
    out_dir : str or path
        A new (or empty) folder for ``part.00000.parquet`` ...: each part holds the input rows
        of one partition with the columns of :func:`minml.classify` beside them.
    scheduler : str or distributed.Client, optional
        The address of a running cluster (``"tcp://host:8786"``), or a client. By default the
        current client, else a local cluster for the run (``local_cluster``: its options,
        e.g. ``{"n_workers": 2, "memory_limit": "1GiB"}``).
    model : path, MineralClassifier or Runtime, optional
        Defaults to the shipped model.
    blocksize : str or int, default="64MB"
        Bytes of CSV per partition.
    **options
        As :func:`minml.classify` (``fill_missing``, ``coverage``, ``suffix``, ``total_range``...).

    Returns
    -------
    FilesResult
        ``counts``: rows per mineral.
    """
    import dask

    options.pop("progress", None)
    ddf = read_sources(sources, blocksize=blocksize)
    arg, local = _dask._model_arg(model, "classifier")
    _dask._meta(_dask._classify_part, ddf, local, options)  # bad options fail here, before any work
    with _client(scheduler, local_cluster) as client, _staging(Path(out_dir)) as staging:
        tasks = [
            dask.delayed(_classify_write)(p, arg, options, str(staging), i) for i, p in enumerate(ddf.to_delayed())
        ]
        done = client.gather(client.compute(tasks))
    return _result(Path(out_dir), done)


def _result(out_dir: Path, done: list, summary=None) -> FilesResult:
    counts: dict = {}
    for d in done:
        for key, value in d["counts"].items():
            if value:
                counts[str(key)] = counts.get(str(key), 0) + int(value)
    parts = [out_dir / _part_name(i) for i in range(len(done))]
    return FilesResult(out_dir, parts, sum(d["rows"] for d in done), counts, summary)


def _validate_write(part, label_column, model, options, folder, number: int) -> dict:
    """Validate one partition and write it (its rank still the partition's own); hand back its
    sort keys and summary counts."""
    import pandas as pd

    result = _dask._validate_part(part, label_column, model, options)
    found = result.drop(columns=["label"]).add_prefix("validate_")
    found["validate_row"] = np.zeros(len(found), dtype=np.int64)
    found.columns = _apart(part.columns, found.columns, "validate_")
    _write(pd.concat([part, found], axis=1), folder, number)
    return {
        "rows": len(part),
        "counts": result["verdict"].value_counts(sort=False).to_dict(),
        "keys": _dask._rank_keys(result),
        "summary": _dask._summary_part(result, number),
        "rank_column": found.columns[list(result.columns).index("rank") - 1],  # "label" is left out
        "row_column": found.columns[-1],
    }


def _rerank(written: dict, ranks: list, folder, number: int) -> dict:
    """Put the table-wide rank and row number into part ``number`` (rewritten atomically)."""
    import pyarrow.parquet as pq

    frame = pq.read_table(Path(folder) / _part_name(number)).to_pandas()
    offset = sum(len(r) for r in ranks[:number])
    frame[written["rank_column"]] = ranks[number]
    frame[written["row_column"]] = np.arange(offset + 1, offset + len(frame) + 1)
    _write(frame, folder, number)
    return {key: written[key] for key in ("rows", "counts")}


def validate_files(
    sources,
    out_dir,
    label_column: str = "Mineral",
    *,
    scheduler=None,
    model=None,
    blocksize="64MB",
    local_cluster: dict | None = None,
    **options,
) -> FilesResult:
    """Validate the labels of tables of any size into partitioned Parquet, and ``_summary.csv``.

    As :func:`classify_files`, with :func:`minml.validate`'s columns (prefixed ``validate_``,
    as ``minml validate`` writes them); ``validate_rank`` is table-wide (1 = the most certain
    disagreement of all the sources) and ``validate_row`` the row's place in the input. The
    parts keep the input's order (sort by ``validate_rank`` to read the disagreements first):
    each part is written once validated, the sort keys of all rows (17 bytes each) are ranked in
    one task, and each part is then rewritten with its ranks, so no worker ever holds more than
    a partition and the keys. ``_summary.csv``: :func:`minml.validation.verdicts.label_summary`,
    summed from per-partition counts.
    """
    import dask

    options.pop("progress", None)
    ddf = read_sources(sources, blocksize=blocksize)
    arg, local = _dask._model_arg(model, "classifier")
    _dask._meta(_dask._validate_part, ddf, label_column, local, options)
    with _client(scheduler, local_cluster) as client, _staging(Path(out_dir)) as staging:
        written = [
            dask.delayed(_validate_write)(p, label_column, arg, options, str(staging), i)
            for i, p in enumerate(ddf.to_delayed())
        ]
        ranks = dask.delayed(_dask._global_rank)([w["keys"] for w in written])
        final = [dask.delayed(_rerank)(w, ranks, str(staging), i) for i, w in enumerate(written)]
        summary = dask.delayed(_dask._combine_summary)([w["summary"] for w in written])
        done, table = client.gather(client.compute([final, summary]))
        table.to_csv(staging / "_summary.csv", float_format="%.4f")
    return _result(Path(out_dir), done, table)
