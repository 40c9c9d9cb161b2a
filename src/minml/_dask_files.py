"""Files past memory: ``classify_files`` and ``validate_files`` write partitioned Parquet on a Dask cluster.

The sources (one file, a glob, a folder, or a list of them; CSV or Parquet) are read in
partitions (CSV in ``blocksize`` byte ranges, so one file larger than memory is fine; Parquet
by row group), each partition is classified or validated on a worker with the in-memory
function (:mod:`minml._dask`) and written as one Parquet part: the input's columns, then the
result's (prefixed ``classify_`` / ``validate_`` where a name is taken, as ``minml classify``
does).  Files whose columns differ are one table: every part has the union of the files'
columns, in the order first seen, empty in the rows of a file without one; a file whose
header names no oxide column where the others' do (a title line above it) is refused, naming
it, before any work.  CSV columns are read as text, so a column that holds a ``bdl`` further
down never breaks the read, then typed as :func:`minml.read_table` reads the whole file,
whatever partition a cell is in: numbers as ``float64`` (``int64`` where every cell is a whole
number), text as written where any cell of the column is text (``bdl`` in an oxide column,
``007`` as a sample's name).  Each partition's text is staged in the staging folder
(``.input.*``) and says what its columns hold; once all have, each is read back typed as the
whole table (:func:`_table_types`), classified or validated, and written: every part has the
schema of the one-file route's output, and the same values and results.  Parquet columns
whose types differ between files follow the same rule (:func:`_parquet_schema`): one type
for all parts, text where one file holds text.

Writing is whole or nothing: the parts go to a staging folder beside ``out_dir``
(``<out_dir>.incomplete-<pid>@<host>.<random>``), each written under a temporary name and
renamed (a worker that dies mid-write leaves only a temporary file, removed at the end, and
the part is written again by another worker, under the same name: no row lost, none twice);
when every part is there the staging folder becomes ``out_dir`` in one rename, which never
replaces another run's output.  On an error, Ctrl-C or SIGTERM (the command) the staging
folder is removed; one left by a process killed outright is removed by the next run into the
same folder (:func:`minml.io._paths.sweep_stale`).  Workers on other machines need ``out_dir``
and the sources on a file system they share.
"""

from __future__ import annotations

import errno
import glob as globbing
import logging
import os
import shutil
import time
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


@dataclass
class _Sources:
    """The sources as the tasks read them: one piece per partition, every partition with the
    union of the files' columns (:func:`read_sources`).

    Attributes
    ----------
    kind : str
        ``"csv"`` or ``"parquet"``.
    columns : list
        Every file's columns, in the order first seen (file by file).
    pieces : list of tuple
        A partition each: CSV ``(path, offset, length, names, sep, missing)``, a byte range of
        a file; Parquet ``(path, row group, names, index names)``, a row group.
    schema : dict or None
        Parquet: the Arrow type every part gives each column (:func:`_parquet_schema`); CSV
        columns are typed once their text is seen (:func:`_table_types`).
    stand_in : pandas.DataFrame
        Rows as the partitions hold them, one kind per header, for checking the options
        before any work (``meta``).
    """

    kind: str
    columns: list
    pieces: list
    schema: dict | None
    stand_in: object


def read_sources(sources, *, blocksize="64MB", elements: bool = False) -> _Sources:
    """The partitions of the sources, each with every file's columns (:class:`_Sources`).

    Files whose columns differ are read as one table: each partition has the union of the
    columns, in the order first seen, a column empty in the rows of a file without it.  A
    file whose header names no oxide column where the others' do (a title line above its
    header) is refused, naming it, before any work; empty files (no header) hold no rows
    and are passed over.  CSV files are read in ``blocksize`` byte ranges, their cells as
    text (typed later as the whole table reads: :func:`_table_types`): a cell is missing
    where :func:`minml.read_table` reads it so, an empty cell, and in an oxide (species)
    column a missing number as programs print it (``NaN``); other text (``NA`` as a
    sample's name, ``#N/A`` in an oxide column, noted by the checks) stays as written.
    Parquet files are read by row group, the index put back among the columns as
    :func:`minml.read_table` puts it, each column of one type over all files
    (:func:`_parquet_schema`).
    """
    from dask.utils import parse_bytes

    files = source_files(sources)
    if files[0].suffix.lower() in _PARQUET:
        headers = [_parquet_header(path) for path in files]
        headers = [h for h in headers if h is not None]
        if not headers:
            raise ValueError(f"The Parquet files {_listed(files)} hold no columns: give files of analyses.")
        columns = _union([names for _, names, _, _ in headers])
        _refuse_strangers([(path, names) for path, names, _, _ in headers], elements)
        schema = _parquet_schema([types for _, _, types, _ in headers], columns)
        groups: list[tuple] = [
            (path, group, names, index) for path, names, _, index in headers for group in range(_row_groups(path))
        ]
        return _Sources("parquet", columns, groups, schema, _parquet_stand_in(headers, columns, schema))
    headers = [h for h in (_csv_header(path) for path in files) if h is not None]
    if not headers:
        raise ValueError(f"The files {_listed(files)} are empty: give files of analyses, a header line first.")
    columns = _union([names for _, names, _ in headers])
    _refuse_strangers([(path, names) for path, names, _ in headers], elements)
    step = parse_bytes(blocksize) if isinstance(blocksize, str) else int(blocksize)
    pieces: list[tuple] = []
    for path, names, sep in headers:
        missing = _missing_text(names)
        size = path.stat().st_size
        pieces += [(path, offset, step, names, sep, missing) for offset in range(0, size, step)]
    return _Sources("csv", columns, pieces, None, _csv_stand_in([names for _, names, _ in headers], columns))


def _listed(files) -> str:
    names = [str(p) for p in files]
    return ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")


def _union(headers: list) -> list:
    """The columns of all ``headers``, each once, in the order first seen."""
    return list(dict.fromkeys(name for names in headers for name in names))


def _refuse_strangers(headers: list, elements: bool) -> None:
    """Refuse the files (``(path, names)``) whose header names no oxide column where other
    files' do: a title or notes above the header, read as the column names."""
    from minml.chemistry._column_names import species_names
    from minml.chemistry.oxides import map_columns

    def oxides(names) -> bool:
        text = [str(name) for name in names]
        if species_names(text):
            return True
        try:
            return elements and bool(map_columns(text, elements=True).mapped)
        except ValueError:  # species named twice: oxide columns all the same
            return True

    strangers = [(path, names) for path, names in headers if not oxides(names)]
    if not strangers or len(strangers) == len(headers):  # none, or all: the checks of the table say what is wrong
        return
    path, names = strangers[0]
    shown = [str(name) for name in names[:3]] + (["..."] if len(names) > 3 else [])
    more = f" (and {len(strangers) - 1} more: {_listed([p for p, _ in strangers[1:]])})" if len(strangers) > 1 else ""
    raise ValueError(
        f"{path}{more} cannot be read as the other files: its first line, read as the column names, names no "
        f"oxide column ({shown}), as theirs do. Remove the lines above its column names (a title, notes), or move "
        "it out of the sources and read it alone with header_row=N (the line that holds them, counted from 1)."
    )


def _csv_header(path: Path):
    """``(path, names, sep)``: a CSV file's column names as pandas names them, and its
    separator (tab for ``.tsv``); None for an empty file."""
    import pandas as pd

    sep = "\t" if path.suffix.lower() == ".tsv" else ","
    try:
        names = pd.read_csv(path, sep=sep, nrows=0, dtype=str).columns
    except pd.errors.EmptyDataError:  # no header, no rows: nothing to read
        return None
    except (ValueError, pd.errors.ParserError) as error:  # UnicodeDecodeError is a ValueError
        raise ValueError(
            f"{path} cannot be read as a CSV table ({str(error).splitlines()[0]}): save it as UTF-8 CSV, or move it "
            "out of the sources."
        ) from None
    return path, list(names), sep


def _missing_text(names) -> dict:
    """``na_values`` of a CSV file with columns ``names``: empty cells, and in an oxide column
    a missing number as programs print it."""
    from minml.chemistry.oxides import species_names
    from minml.tables._values import NUMBER_MISSING

    return {name: list(NUMBER_MISSING) if species_names([name]) else [""] for name in names}


def _csv_stand_in(headers: list, columns: list):
    """Two rows of text per kind of header, as the partitions hold them: filled in the
    header's columns, empty in the others."""
    import pandas as pd

    kinds = list(dict.fromkeys(tuple(names) for names in headers))
    rows = [{name: "foo" for name in names} for names in kinds for _ in range(2)]
    return pd.DataFrame(rows, columns=columns, dtype=str)


def _read_block(path, offset: int, length: int, names: list, sep: str, missing: dict):
    """The rows of ``path`` from the line after byte ``offset`` (the first line: the header,
    at 0) to the end of the line at byte ``offset + length``, as text.  A block that cannot
    be parsed is refused naming the file."""
    import io

    import pandas as pd
    from fsspec.utils import read_block

    with open(path, "rb") as handle:
        data = read_block(handle, offset, length, delimiter=b"\n")
    if not data.strip():
        return pd.DataFrame({name: pd.Series([], dtype=str) for name in names})
    header = {"header": 0} if offset == 0 else {"header": None, "names": names}
    try:
        frame = pd.read_csv(io.BytesIO(data), sep=sep, dtype=str, keep_default_na=False, na_values=missing, **header)
        if not isinstance(frame.index, pd.RangeIndex):  # pandas took the first cells as an index
            raise ValueError(f"rows have more cells than the {len(names)} column names")
    except (ValueError, pd.errors.ParserError) as error:
        raise ValueError(
            f"{path} cannot be read past byte {offset} ({str(error).splitlines()[0]}): mend the row, or move the "
            "file out of the sources."
        ) from None
    frame.columns = names
    return frame


def _widened(frame, columns: list):
    """``frame`` with every column of ``columns``, in that order: those it lacks empty."""
    import pandas as pd

    lacking = [name for name in columns if name not in frame.columns]
    if lacking:
        empty = {name: pd.Series(np.nan, index=frame.index, dtype=str) for name in lacking}
        frame = pd.concat([frame, pd.DataFrame(empty, index=frame.index)], axis=1)
    return frame[columns]


def _parquet_header(path: Path):
    """``(path, names, types, index)`` of a Parquet file: its columns as
    :func:`minml.read_table` reads them (a stored index first, as columns), their Arrow
    types, and the names of the index columns (None where the index is a plain range, left
    out); None for a file with no column."""
    import json

    import pyarrow as pa
    import pyarrow.parquet as pq

    from minml.io._parquet import _refuse_unreadable

    _refuse_unreadable(path)
    schema = pq.read_schema(path)
    meta = json.loads((schema.metadata or {}).get(b"pandas", b"{}"))
    levels = meta.get("index_columns", [])
    stored = [level for level in levels if isinstance(level, str)]
    fields = [field for field in schema if field.name not in stored]
    plain = all(isinstance(level, dict) and level.get("name") is None for level in levels)
    if not fields and plain:
        return None
    empty = schema.empty_table().to_pandas()
    if plain:
        return path, list(empty.columns), {name: f.type for name, f in zip(empty.columns, fields)}, None
    empty = empty.reset_index()
    index = list(empty.columns[: len(levels)])
    types = {
        name: schema.field(level).type if isinstance(level, str) else pa.int64() for name, level in zip(index, levels)
    }
    types.update({name: f.type for name, f in zip(empty.columns[len(levels) :], fields)})
    return path, list(empty.columns), types, index


def _row_groups(path: Path) -> int:
    import pyarrow.parquet as pq

    return pq.ParquetFile(path).num_row_groups


def _parquet_schema(headers: list, columns: list) -> dict:
    """The Arrow type of each column over all files (``headers``: each file's types), the
    rule :func:`_table_types` follows for CSV: one type where the files agree (null where a
    file lacks the column); numbers of several kinds, or whole numbers some file lacks, as
    ``float64``; text (as written; numbers as they print) where files disagree otherwise, as
    a column that holds ``bdl`` in one file and numbers in another; text as ``large_string``
    (as pandas writes its ``str`` columns)."""
    import pyarrow as pa

    schema = {}
    for name in columns:
        found = [types[name] for types in headers if name in types and not pa.types.is_null(types[name])]
        lacking = len(found) < len(headers)
        schema[name] = _common_type(found, lacking)
    return schema


def _common_type(found: list, lacking: bool):
    """One Arrow type for a column stored as ``found`` (some file ``lacking`` it)."""
    import pyarrow as pa

    if not found:
        return pa.float64()
    if all(pa.types.is_string(t) or pa.types.is_large_string(t) for t in found):
        return pa.large_string()
    if all(pa.types.is_integer(t) for t in found):
        return pa.int64() if not lacking else pa.float64()
    if all(pa.types.is_integer(t) or pa.types.is_floating(t) for t in found):
        return pa.float64()
    if all(pa.types.is_dictionary(t) for t in found) and len({t.value_type for t in found}) == 1:
        return pa.dictionary(pa.int32(), found[0].value_type)
    if len(set(found)) == 1:
        return found[0]
    return pa.large_string()


def _parquet_stand_in(headers: list, columns: list, schema: dict):
    """Two rows per kind of header, as :func:`_read_group` gives the partitions (Dask's
    stand-in values, of each column's type)."""
    import pandas as pd
    import pyarrow as pa
    from dask.dataframe.utils import meta_nonempty

    frames = []
    kinds = {(tuple(names), tuple(types[name] for name in names)): names for _, names, types, _ in headers}
    for (names, types), _ in kinds.items():
        empty = pa.schema([pa.field(str(n), t) for n, t in zip(names, types)]).empty_table().to_pandas()
        empty.columns = list(names)
        frames.append(_conformed(meta_nonempty(empty), columns, schema))
    return pd.concat(frames, ignore_index=True)


def _read_group(path, group: int, names: list, index, columns: list, schema: dict):
    """Row group ``group`` of the Parquet file ``path``, its index among the columns (as
    :func:`minml.read_table` reads it) and every column of ``columns`` of the type of
    ``schema`` (:func:`_conformed`)."""
    import pyarrow.parquet as pq

    frame = pq.ParquetFile(path).read_row_group(group).to_pandas()
    frame = frame.reset_index() if index is not None else frame.reset_index(drop=True)
    frame.columns = names
    return _conformed(frame, columns, schema)


def _conformed(frame, columns: list, schema: dict):
    """``frame`` with the ``columns`` of every file, each of the pandas type that gives its
    Arrow type in ``schema``: empty where it lacks one, numbers as float where the files mix
    whole and decimal numbers, values as text where they mix text and others."""
    import pandas as pd
    import pyarrow as pa

    out = {}
    for name in columns:
        target = schema[name]
        if name not in frame.columns:
            floating = pa.types.is_floating(target)
            out[name] = pd.Series(np.nan if floating else None, index=frame.index, dtype=float if floating else object)
            continue
        values = frame[name]
        if pa.types.is_large_string(target) and pd.api.types.infer_dtype(values, skipna=True) not in (
            "string",
            "empty",
        ):
            values = pd.Series([None if _missing(v) else str(v) for v in values], index=frame.index, dtype=object)
        elif pa.types.is_floating(target) and values.dtype.kind in "iu":
            values = values.astype(float)
        out[name] = values
    return pd.DataFrame(out, index=frame.index)


def _missing(value) -> bool:
    import pandas as pd

    return value is None or (not isinstance(value, str) and bool(np.ndim(value) == 0 and pd.isna(value)))


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
        # the workers' own logs of a failed task (a traceback) are left out: the error comes back here
        options = {"processes": True, "dashboard_address": ":0", "silence_logs": logging.CRITICAL}
        options.update(local_options or {})
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
    """A staging folder beside ``out_dir`` that becomes it at the end (removed on an error,
    Ctrl-C or SIGTERM).  Named for this process (:func:`minml.io._paths.owner_tag`), so that
    the next run sweeps it away where the process was killed outright; the staging folders
    of a process still running are left alone."""
    from minml.io._paths import cannot_write, sweep_stale

    out_dir = Path(out_dir)
    try:
        if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
            raise FileExistsError(
                f"{str(out_dir)!r} exists and is not an empty folder: remove it, or name a new folder for the parts."
            )
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        sweep_stale(out_dir.parent)
        staging = _new_staging(out_dir)
    except OSError as error:
        refused = cannot_write(error, out_dir)
        if refused is error:
            raise
        raise refused from None
    try:
        yield staging
        for stray in staging.glob(".*"):  # staged inputs, and temporaries of a worker that died writing
            stray.unlink()
        _publish(staging, out_dir)
    except BaseException:
        _remove(staging)
        raise


def _new_staging(out_dir: Path) -> Path:
    """A new folder ``<out_dir>.incomplete-<pid>@<host>.<random>`` beside ``out_dir``."""
    from minml.io._paths import owner_tag

    while True:
        staging = out_dir.with_name(f"{out_dir.name}.incomplete-{owner_tag()}.{uuid.uuid4().hex[:8]}")
        try:
            staging.mkdir()
        except FileExistsError:  # another run drew the same name
            continue
        return staging


def _publish(staging: Path, out_dir: Path) -> None:
    """Rename ``staging`` to ``out_dir`` in one step; refused, this run's parts removed, where
    another run's output took ``out_dir`` meanwhile (it stays whole)."""
    try:
        staging.rename(out_dir)  # onto a missing or empty folder; never onto one with files
    except OSError as error:
        if error.errno not in (errno.ENOTEMPTY, errno.EEXIST, errno.ENOTDIR, errno.EISDIR):
            raise
        raise FileExistsError(
            f"{str(out_dir)!r} was written by another run while this one ran: its output is kept, and this run's "
            "parts removed; name a new folder for the parts, or remove that one and run again."
        ) from None


def _remove(folder: Path) -> None:
    """Remove ``folder``, again while a worker still finishing a task puts a file in it."""
    for _ in range(20):
        shutil.rmtree(folder, ignore_errors=True)
        if not folder.exists():
            return
        time.sleep(0.1)


@contextmanager
def _refused_writes(out_dir: Path, staging: Path):
    """The system's refusals to write the parts (a full disk on a worker) raised as
    :class:`minml.io._paths.CannotWrite` naming ``out_dir``, not the staging folder."""
    from minml.io._paths import write_refusal

    try:
        yield
    except OSError as error:
        refused = write_refusal(error, out_dir, staging)
        if refused is error:
            raise
        raise refused from None


def _part_name(number: int) -> str:
    return f"part.{number:05d}.parquet"


def _input_name(number: int) -> str:
    """A CSV partition's text, staged (hidden from Parquet readers; removed at the end)."""
    return f".input.{number:05d}.parquet"


def _write(frame, folder, number: int, name=_part_name, schema: dict | None = None) -> None:
    """Write one part atomically: a temporary name, then renamed.  The columns named in
    ``schema`` are written of the Arrow type it gives (a column with no value in this part,
    of no type of its own, as in the others)."""
    import pyarrow as pa

    table = pa.Table.from_pandas(frame, preserve_index=False)
    for i, column in enumerate(table.schema):
        target = (schema or {}).get(column.name)
        if target is not None and column.type != target:
            table = table.set_column(i, pa.field(column.name, target), table.column(i).cast(target))
    _write_arrow(table, Path(folder) / name(number))


def _write_arrow(table, path: Path) -> None:
    """Write an Arrow table to ``path`` as Parquet, atomically: a temporary name beside it,
    then renamed."""
    import pyarrow.parquet as pq

    temporary = path.parent / f".{path.name}.{uuid.uuid4().hex[:8]}.tmp"
    pq.write_table(table, temporary)
    os.replace(temporary, path)


def _stage(piece: tuple, columns: list, folder, number: int) -> dict:
    """Read a CSV partition's text (every column of ``columns``), stage it, and say what its
    columns hold (:func:`_text_kinds`)."""
    part = _widened(_read_block(*piece), columns)
    _write(part, folder, number, _input_name)
    return _text_kinds(part, piece[4])


def _read_staged(types: dict, folder, number: int):
    """Partition ``number`` from its staged text, its columns of the whole table's ``types``."""
    import pyarrow.parquet as pq

    return _typed(pq.read_table(Path(folder) / _input_name(number)).to_pandas(), types)


_ARROW = {"float": "float64", "comma": "float64", "int": "int64", "bool": "bool_", "text": "large_string"}
"""The Arrow type of each of :func:`_table_types`' types, as the one-file route writes it."""


def _csv_schema(types: dict) -> dict:
    """The Arrow type of each CSV column, from the whole table's ``types``."""
    import pyarrow as pa

    return {name: getattr(pa, _ARROW[kind])() for name, kind in types.items()}


def _partitions(sources: _Sources, folder: str) -> tuple[list, object]:
    """The partitions as the tasks classify or validate them, and the Arrow type of each
    input column in every part (a delayed object for CSV).  A CSV partition's text is staged
    in ``folder`` and read back typed as the whole table reads (:func:`_table_types`) once
    every partition is staged, so each part is written with the same types as the one-file
    route, and classified or validated from the same values; a Parquet row group is read
    with the columns of every file, of one type each (:func:`_read_group`)."""
    import dask

    if sources.kind == "parquet":
        parts = [dask.delayed(_read_group)(*piece, sources.columns, sources.schema) for piece in sources.pieces]
        return parts, sources.schema
    kinds = [dask.delayed(_stage)(piece, sources.columns, folder, i) for i, piece in enumerate(sources.pieces)]
    types = dask.delayed(_table_types)(kinds)
    parts = [dask.delayed(_read_staged)(types, folder, i) for i in range(len(sources.pieces))]
    return parts, dask.delayed(_csv_schema)(types)


def _apart(columns, names, prefix: str) -> list:
    """The result's column names, all prefixed when one would replace an input column."""
    if not set(columns) & set(names):
        return list(names)
    prefixed = [prefix + name for name in names]
    clash = sorted(set(prefixed) & set(columns))
    if clash:
        raise ValueError(f"The input already has columns {clash}; rename them so the results do not overwrite them.")
    return prefixed


def _classify_write(part, model, options, folder, number: int, schema: dict) -> dict:
    """Classify one partition, write it beside its input, and count its minerals."""
    import pandas as pd

    result = _dask._classify_part(part, model, options)
    result.columns = _apart(part.columns, result.columns, "classify_")
    _write(pd.concat([part, result], axis=1), folder, number, schema=schema)
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
    found = read_sources(sources, blocksize=blocksize, elements=options.get("elements", False))
    arg, local = _dask._model_arg(model, "classifier")
    _dask._meta(_dask._classify_part, found.stand_in, local, options)  # bad options fail here, before any work
    out_dir = Path(out_dir)
    with _staging(out_dir) as staging, _refused_writes(out_dir, staging), _client(scheduler, local_cluster) as client:
        parts, schema = _partitions(found, str(staging))
        tasks = [dask.delayed(_classify_write)(p, arg, options, str(staging), i, schema) for i, p in enumerate(parts)]
        done = client.gather(client.compute(tasks))
    return _result(out_dir, done)


def _result(out_dir: Path, done: list, summary=None) -> FilesResult:
    counts: dict = {}
    for d in done:
        for key, value in d["counts"].items():
            if value:
                counts[str(key)] = counts.get(str(key), 0) + int(value)
    parts = [out_dir / _part_name(i) for i in range(len(done))]
    return FilesResult(out_dir, parts, sum(d["rows"] for d in done), counts, summary)


def _validate_write(part, label_column, model, options, folder, number: int, schema: dict) -> dict:
    """Validate one partition and write it (its rank still the partition's own); hand back its
    sort keys and summary counts."""
    import pandas as pd

    result = _dask._validate_part(part, label_column, model, options)
    found = result.drop(columns=["label"]).add_prefix("validate_")
    found["validate_row"] = np.zeros(len(found), dtype=np.int64)
    found.columns = _apart(part.columns, found.columns, "validate_")
    _write(pd.concat([part, found], axis=1), folder, number, schema=schema)
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
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = Path(folder)
    table = pq.read_table(folder / _part_name(number))  # as Arrow: every column keeps its type
    offset = sum(len(r) for r in ranks[:number])
    rows = np.arange(offset + 1, offset + len(table) + 1)
    for name, values in ((written["rank_column"], ranks[number]), (written["row_column"], rows)):
        values = pa.array(np.asarray(values))
        table = table.set_column(table.schema.get_field_index(name), pa.field(name, values.type), values)
    _write_arrow(table, folder / _part_name(number))
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
    found = read_sources(sources, blocksize=blocksize, elements=options.get("elements", False))
    arg, local = _dask._model_arg(model, "classifier")
    _dask._meta(_dask._validate_part, found.stand_in, label_column, local, options)
    out_dir = Path(out_dir)
    with _staging(out_dir) as staging, _refused_writes(out_dir, staging), _client(scheduler, local_cluster) as client:
        parts, schema = _partitions(found, str(staging))
        written = [
            dask.delayed(_validate_write)(p, label_column, arg, options, str(staging), i, schema)
            for i, p in enumerate(parts)
        ]
        ranks = dask.delayed(_dask._global_rank)([w["keys"] for w in written])
        final = [dask.delayed(_rerank)(w, ranks, str(staging), i) for i, w in enumerate(written)]
        summary = dask.delayed(_dask._combine_summary)([w["summary"] for w in written])
        done, table = client.gather(client.compute([final, summary]))
        table.to_csv(staging / "_summary.csv", float_format="%.4f")
    return _result(out_dir, done, table)
