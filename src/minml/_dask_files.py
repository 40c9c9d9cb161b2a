"""Files past memory: ``classify_files`` and ``validate_files`` write partitioned Parquet on a Dask cluster.

The sources (one file, a glob, a folder, or a list of them; CSV or Parquet) are read in
partitions (CSV in ``blocksize`` byte ranges, so one file larger than memory is fine; Parquet
by row group), each partition is classified or validated on a worker with the in-memory
function (:mod:`minml._dask`) and written as one Parquet part: the input's columns, then the
result's (prefixed ``classify_`` / ``validate_`` where a name is taken, as ``minml classify``
does).  CSV columns are read as text, so a column that holds a ``bdl`` further down never
breaks the read, then typed as :func:`minml.read_table` reads the whole file, whatever
partition a cell is in: numbers as ``float64`` (``int64`` where every cell is a whole number),
text as written where any cell of the column is text (``bdl`` in an oxide column, ``007`` as a
sample's name).  Each partition's text is staged in the staging folder (``.input.*``) and says
what its columns hold; once all have, each is read back typed as the whole table
(:func:`_table_types`), classified or validated, and written: every part has the schema of the
one-file route's output, and the same values and results.

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

__all__ = ["FilesResult", "NoScheduler", "classify_files", "validate_files"]

_CSV = (".csv", ".tsv", ".txt")
_PARQUET = (".parquet", ".pq")
_BOOLS = {"True": True, "TRUE": True, "true": True, "False": False, "FALSE": False, "false": False}
"""The cells pandas reads as booleans."""


class NoScheduler(ConnectionError):
    """No Dask scheduler answers at the address given as ``scheduler``.

    Attributes
    ----------
    address : str
    seconds : float or None
        How long the client waited (Dask's ``distributed.comm.timeouts.connect``), None where
        the connection failed otherwise.
    reason : str
        Dask's own words, for a failure other than the wait.
    """

    def __init__(self, address: str, seconds: float | None, reason: str):
        self.address, self.seconds, self.reason = address, seconds, reason
        super().__init__(
            f"No Dask scheduler answers at {address} ({self.why()}): start one (dask scheduler) or pass "
            "scheduler=None to run on a local cluster."
        )

    def why(self, setting: str = "Dask's distributed.comm.timeouts.connect") -> str:
        """Why, in a few words: the wait and the ``setting`` that sets it, or Dask's reason."""
        if self.seconds is None:
            return self.reason
        return f"no answer in {self.seconds:g} s, the wait set by {setting}"


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
    """A Dask DataFrame of the sources (CSV columns as text, in ``blocksize`` byte ranges), and
    the CSV separator (None for Parquet).

    A cell is missing where :func:`minml.read_table` reads it so: an empty cell, and in an oxide
    (species) column a missing number as programs print it (``NaN``); other text (``NA`` as a
    sample's name, ``#N/A`` in an oxide column, noted by the checks) stays as written."""
    import dask.dataframe as dd
    import pandas as pd

    from minml.chemistry.oxides import species_names
    from minml.tables._values import NUMBER_MISSING

    files = source_files(sources)
    if files[0].suffix.lower() in _PARQUET:
        return dd.read_parquet([str(p) for p in files]), None
    sep = "\t" if files[0].suffix.lower() == ".tsv" else ","
    names = pd.read_csv(files[0], sep=sep, nrows=0).columns
    missing = {name: list(NUMBER_MISSING) if species_names([name]) else [""] for name in names}
    ddf = dd.read_csv(
        [str(p) for p in files], sep=sep, dtype=str, blocksize=blocksize, keep_default_na=False, na_values=missing
    )
    return ddf, sep


def _text_kinds(part, sep: str) -> dict:
    """What the text of each column of a CSV partition reads as: whether it has missing and
    filled cells, and whether every filled cell is a number, a whole number, a boolean, a
    number with a decimal comma (an oxide column of a file not separated by commas), and
    whether a number is written as an identifier (``007``; other columns)."""
    import pandas as pd

    from minml.chemistry.oxides import species_names
    from minml.io._csv import ID_AS_WRITTEN
    from minml.io._csv_arrow import COMMA_NUMBER

    kinds = {}
    for name in part.columns:
        text = part[name]
        filled = text.notna()
        cells = text[filled]
        try:
            numbers = pd.to_numeric(cells)
            number, whole = True, len(cells) == 0 or numbers.dtype.kind in "iu"
        except (ValueError, TypeError):
            number = whole = False
        species = bool(species_names([name]))
        commas = species and sep != ","
        kinds[name] = {
            "missing": bool((~filled).any()),
            "filled": bool(filled.any()),
            "number": number,
            "whole": whole,
            "bool": bool(cells.isin(list(_BOOLS)).all()),
            "commas": commas and bool(cells.str.strip().str.fullmatch(COMMA_NUMBER).all()),
            "comma": commas and bool(cells.str.contains(",", regex=False).any()),
            "id": number and not species and bool(cells.str.strip().str.contains(ID_AS_WRITTEN).any()),
        }
    return kinds


def _table_types(kinds: list) -> dict:
    """The type of each column of the whole table from its partitions' :func:`_text_kinds`,
    as :func:`minml.read_table` reads the file: ``"float"`` (numbers, or no cell filled),
    ``"int"`` (whole numbers, none missing), ``"bool"``, ``"comma"`` (numbers with decimal
    commas) or ``"text"`` (as written)."""
    types = {}
    for name in kinds[0]:
        every = {key: all(part[name][key] for part in kinds) for key in kinds[0][name]}
        some = {key: any(part[name][key] for part in kinds) for key in kinds[0][name]}
        if not some["filled"]:
            types[name] = "float"
        elif every["number"]:
            types[name] = "text" if some["id"] else "int" if every["whole"] and not some["missing"] else "float"
        elif every["bool"]:
            types[name] = "bool"
        elif every["commas"] and some["comma"]:
            types[name] = "comma"
        else:
            types[name] = "text"
    return types


def _typed(frame, types: dict):
    """``frame``, a staged partition's text, with its columns converted to ``types`` (the
    values :func:`minml.read_table` reads from the same cells; text as pandas holds text read
    from a file)."""
    import pandas as pd

    for name, kind in types.items():
        text = frame[name]
        if not pd.api.types.is_string_dtype(text.dtype):
            continue
        if kind == "text":  # the dtype pandas gives text read from a file (not Dask's string[pyarrow])
            frame[name] = pd.Series(text.to_numpy(dtype=object, na_value=np.nan), index=frame.index)
            continue
        if kind == "bool":
            values = text.map(_BOOLS)
            frame[name] = values.astype(bool) if values.notna().all() else values.astype(object)
            continue
        if kind == "comma":
            text = text.str.strip().str.replace(",", ".", regex=False)
        values = pd.to_numeric(text)
        frame[name] = values.to_numpy(dtype=np.int64 if kind == "int" else float)
    return frame


@contextmanager
def _client(scheduler, local_options):
    """A distributed client: the one given, one on the cluster at address ``scheduler``, the
    current one, or one on a new local cluster (closed at the end)."""
    from distributed import Client, LocalCluster

    if isinstance(scheduler, Client):
        yield scheduler
    elif scheduler is not None:
        with _connect(scheduler) as client:
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


def _connect(address: str):
    """A client of the scheduler at ``address``; :class:`NoScheduler` where none answers in
    Dask's ``distributed.comm.timeouts.connect`` (30 s unless set otherwise)."""
    import dask
    from dask.utils import parse_timedelta
    from distributed import Client

    try:
        return Client(address)
    except OSError as error:  # distributed: "Timed out trying to connect to ... after 30 s"
        wait = parse_timedelta(dask.config.get("distributed.comm.timeouts.connect"), default="seconds")
        timed_out = str(error).startswith("Timed out")
        raise NoScheduler(str(address), wait if timed_out else None, str(error)) from None


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
        for stray in staging.glob(".*"):  # staged inputs, and temporaries of a worker that died writing
            stray.unlink()
        if out_dir.exists():
            out_dir.rmdir()
        staging.rename(out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _part_name(number: int) -> str:
    return f"part.{number:05d}.parquet"


def _input_name(number: int) -> str:
    """A CSV partition's text, staged (hidden from Parquet readers; removed at the end)."""
    return f".input.{number:05d}.parquet"


def _write(frame, folder, number: int, name=_part_name) -> None:
    """Write one part atomically: a temporary name, then renamed."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = Path(folder)
    temporary = folder / f".{name(number)}.{uuid.uuid4().hex[:8]}.tmp"
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), temporary)
    os.replace(temporary, folder / name(number))


def _stage(part, folder, number: int, sep: str) -> dict:
    """Stage a CSV partition's text and say what its columns hold (:func:`_text_kinds`)."""
    _write(part, folder, number, _input_name)
    return _text_kinds(part, sep)


def _read_staged(types: dict, folder, number: int):
    """Partition ``number`` from its staged text, its columns of the whole table's ``types``."""
    import pyarrow.parquet as pq

    return _typed(pq.read_table(Path(folder) / _input_name(number)).to_pandas(), types)


def _partitions(ddf, sep: str | None, folder: str) -> list:
    """The partitions as the tasks classify or validate them: a CSV partition's text is staged
    in ``folder``, and read back typed as the whole table reads (:func:`_table_types`) once
    every partition is staged, so each part is written with the same types as the one-file
    route, and classified or validated from the same values; Parquet partitions as stored."""
    import dask

    parts = ddf.to_delayed()
    if sep is None:
        return parts
    kinds = [dask.delayed(_stage)(p, folder, i, sep) for i, p in enumerate(parts)]
    types = dask.delayed(_table_types)(kinds)
    return [dask.delayed(_read_staged)(types, folder, i) for i in range(len(parts))]


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
        e.g. ``{"n_workers": 2, "memory_limit": "1GiB"}``).  An address is waited for as long
        as Dask's ``distributed.comm.timeouts.connect`` says (30 s unless set otherwise:
        ``dask.config.set({"distributed.comm.timeouts.connect": "5s"})``, or the environment
        variable ``DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT=5s``).
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

    Raises
    ------
    NoScheduler
        A :class:`ConnectionError`: no scheduler answers at the address ``scheduler``; nothing
        is written.
    """
    import dask

    options.pop("progress", None)
    ddf, sep = read_sources(sources, blocksize=blocksize)
    arg, local = _dask._model_arg(model, "classifier")
    _dask._meta(_dask._classify_part, ddf, local, options)  # bad options fail here, before any work
    with _client(scheduler, local_cluster) as client, _staging(Path(out_dir)) as staging:
        tasks = [
            dask.delayed(_classify_write)(p, arg, options, str(staging), i)
            for i, p in enumerate(_partitions(ddf, sep, str(staging)))
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
    summed from per-partition counts.  A ``scheduler`` address where none answers raises
    :class:`NoScheduler`, as there.
    """
    import dask

    options.pop("progress", None)
    ddf, sep = read_sources(sources, blocksize=blocksize)
    arg, local = _dask._model_arg(model, "classifier")
    _dask._meta(_dask._validate_part, ddf, label_column, local, options)
    with _client(scheduler, local_cluster) as client, _staging(Path(out_dir)) as staging:
        written = [
            dask.delayed(_validate_write)(p, label_column, arg, options, str(staging), i)
            for i, p in enumerate(_partitions(ddf, sep, str(staging)))
        ]
        ranks = dask.delayed(_dask._global_rank)([w["keys"] for w in written])
        final = [dask.delayed(_rerank)(w, ranks, str(staging), i) for i, w in enumerate(written)]
        summary = dask.delayed(_dask._combine_summary)([w["summary"] for w in written])
        done, table = client.gather(client.compute([final, summary]))
        table.to_csv(staging / "_summary.csv", float_format="%.4f")
    return _result(Path(out_dir), done, table)
