"""What the app does with a table or a map, without Streamlit: read an upload, describe what was
read, classify by chunks, and turn results into files to download.  The library's public
functions are called, and the command line's own rules where the page must say or write what a
command does (result columns named apart from the input's; the model oxides without a column, as
``minml check`` names them).  Uploads are written to a temporary folder that is removed as soon as
the file has been read: nothing the user uploads stays on the disk.
"""

from __future__ import annotations

import io
import tempfile
import threading
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

import minml
import minml.io
from minml.pipelines import named_apart

TABLE_TYPES = [suffix.lstrip(".") for suffix, kind in minml.io.FORMATS.items() if kind.read is not None]
"""The extensions an upload may have: those :func:`minml.read_table` reads (``.pq`` too)."""
MAP_TYPES = ["npz", "tif", "tiff", "hspy", "zip"]
CHUNK_ROWS = 10_000
EXAMPLE = "lepr_sample.csv"


FLAG_COLUMNS = ["flag", "total", "iron_rule", "notes"]
"""The check's columns shown beside the flagged rows (named apart as ``minml check -o`` writes them)."""


_CAUGHT = threading.RLock()
"""Held while a step's warnings are caught: :class:`warnings.catch_warnings` changes the warning
filters of the whole process, and Streamlit runs each browser tab's page on a thread of its own."""


class Outcome(NamedTuple):
    """What a step of the page gave: its ``value`` (None when it failed), the ``warnings`` the
    library raised on the way (each message once, in order) and the ``error`` it ended with
    ("" when none).  Kept with the value, so that a page drawn again says the same."""

    value: Any
    warnings: tuple[str, ...] = ()
    error: str = ""


def failure_text(what: str, error: Exception) -> str:
    """A failure in words: what failed and the library's message (a KeyError's without quotes);
    for an error that is none of the library's own, what the file probably is."""
    message = error.args[0] if isinstance(error, KeyError) and error.args else str(error)
    if not isinstance(error, (ValueError, KeyError, FileNotFoundError, ImportError)):
        message = (
            f"{message} ({type(error).__name__}). The file may be damaged, or not of the type its name says: "
            "open it in the program that made it and save it again as CSV or .xlsx."
        )
    return f"**{what}.** {message}"


def attempt(run: Callable[[], Any], what: str) -> Outcome:
    """``run()`` as an :class:`Outcome`: its warnings caught (they reach the page, not the
    server's log; a warning raised once per chunk is said once) and a failure turned into
    words (:func:`failure_text`) under ``what``, never a stack trace.  One step at a time in
    the process (:data:`_CAUGHT`): the warnings of one tab's step are never another's.

    Parameters
    ----------
    run : callable
        The step, without arguments.
    what : str
        What failed, when it fails ("Classification failed").

    Returns
    -------
    Outcome
    """
    with _CAUGHT, warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        try:
            value, error = run(), ""
        except Exception as failure:  # every failure becomes a message a person can act on
            value, error = None, failure_text(what, failure)
    return Outcome(value, tuple(dict.fromkeys(str(w.message) for w in seen)), error)


def joined(*outcomes: Outcome) -> tuple[str, ...]:
    """The warnings of several outcomes, each message once, in order."""
    return tuple(dict.fromkeys(text for outcome in outcomes for text in outcome.warnings))


def example_bytes() -> bytes:
    """The bundled example table (76 LEPR analyses of 17 minerals and glass, with labels)."""
    from importlib import resources

    return (resources.files("minml") / "data" / "examples" / EXAMPLE).read_bytes()


def _safe_name(name: str) -> str:
    """The upload's file name without folders (a name is never a path on this machine)."""
    return Path(name.replace("\\", "/")).name or "upload"


def sheet_names(name: str, data: bytes) -> list[str]:
    """The sheets of an uploaded Excel workbook ([] for other files)."""
    if Path(name).suffix.lower() not in (".xlsx", ".xlsm", ".xls"):
        return []
    from python_calamine import CalamineWorkbook

    return list(CalamineWorkbook.from_filelike(io.BytesIO(data)).sheet_names)


def read_upload(name: str, data: bytes, *, sheet=None, header_row: int | None = None) -> pd.DataFrame:
    """An uploaded table as :func:`minml.read_table` reads it (CSV, TSV, Excel, Parquet)."""
    with tempfile.TemporaryDirectory(prefix="minml-app-") as folder:
        path = Path(folder) / _safe_name(name)
        path.write_bytes(data)
        return minml.read_table(path, sheet=sheet, header_row=header_row)


def read_map_upload(name: str, data: bytes, *, pixel_size: float | None = None):
    """An uploaded map as :func:`minml.read_map` reads it; a .zip holds a folder of grids."""
    with tempfile.TemporaryDirectory(prefix="minml-app-") as folder:
        path = Path(folder) / _safe_name(name)
        path.write_bytes(data)
        if path.suffix.lower() == ".zip":
            grids = Path(folder) / "grids"
            with zipfile.ZipFile(path) as archive:
                for member in archive.infolist():
                    if not member.is_dir():  # flat: every grid in one folder, whatever the zip's folders
                        (grids / _safe_name(member.filename)).parent.mkdir(exist_ok=True)
                        (grids / _safe_name(member.filename)).write_bytes(archive.read(member))
            path = grids
        return minml.read_map(path, pixel_size=pixel_size)


def check(table: pd.DataFrame, *, fill_missing: float | None = None, **options):
    """:func:`minml.check_oxides` of ``table``, with the model oxides it has no column for named
    in ``absent`` as ``minml check`` names them (``(no column) -> P2O5`` in the summary); with
    ``fill_missing``, as classify will read them.

    Parameters
    ----------
    table : pandas.DataFrame
        Not modified.
    fill_missing : float, optional
        The amount (wt%) the page reads an oxide without a column as, if asked.
    **options
        ``suffix``, ``elements``, ``total_range``: see :func:`minml.check_oxides`.

    Returns
    -------
    minml.OxideCheck
    """
    from minml.pipelines import say_absent

    checked = minml.check_oxides(table, **options)
    say_absent(checked, fill_missing)  # the words of minml check
    return checked


def flagged_rows(checked) -> pd.DataFrame:
    """The flagged rows: the table's other columns, then the check's (:data:`FLAG_COLUMNS`),
    prefixed ``check_`` where the table has one of their names, as ``minml check -o`` writes them.

    Raises
    ------
    ValueError
        When the prefixed names are taken too.
    """
    flags = checked.flags
    names = named_apart(checked.other.columns, FLAG_COLUMNS, "check_")
    both = pd.concat([checked.other, flags[FLAG_COLUMNS].set_axis(names, axis=1)], axis=1)
    return both[(flags["flag"] != "").to_numpy()]


def mapping_table(checked) -> pd.DataFrame:
    """One row per column of the table: what it was read as, how, and a 'did you mean'; then
    the model oxides the table has no column for (column ``(no column)``)."""
    mapping = checked.mapping
    rows = [
        {"column": col, "read as": species, "how": mapping.how.get(col, ""), "did you mean": "", "note": ""}
        for col, species in mapping.mapped.items()
    ]
    rows += [
        {
            "column": col,
            "read as": "(kept, not a species)",
            "how": "",
            "did you mean": mapping.hints.get(col, ""),
            "note": mapping.notes.get(col, ""),
        }
        for col in mapping.unrecognised
    ]
    rows += [
        {"column": "(no column)", "read as": name, "how": "", "did you mean": "", "note": how}
        for name, how in checked.absent.items()
    ]
    return pd.DataFrame(rows, columns=["column", "read as", "how", "did you mean", "note"])


def classify_in_chunks(table: pd.DataFrame, on_progress: Callable[[float], None] | None = None, **options):
    """:func:`minml.classify` run ``CHUNK_ROWS`` rows at a time (each row is classified on its
    own), calling ``on_progress`` with the share done, so that a large table shows progress."""
    parts = []
    for start in range(0, max(len(table), 1), CHUNK_ROWS):
        parts.append(minml.classify(table.iloc[start : start + CHUNK_ROWS], **options))
        if on_progress is not None:
            on_progress(min(1.0, (start + CHUNK_ROWS) / max(len(table), 1)))
    result = pd.concat(parts) if len(parts) > 1 else parts[0]
    for name in ("mineral", "second_mineral", "group"):  # the same categories in every chunk
        if name in result and not isinstance(result[name].dtype, pd.CategoricalDtype):
            result[name] = result[name].astype(parts[0][name].dtype)
    return result


def beside(table: pd.DataFrame, result: pd.DataFrame, prefix: str) -> pd.DataFrame:
    """The input's columns and the result's, all the result's prefixed where a name is taken,
    as the command line writes them (:func:`minml.pipelines.named_apart`).

    Raises
    ------
    ValueError
        When the prefixed names are taken too (the command line refuses the table alike).
    """
    names = named_apart(table.columns, result.columns, prefix)
    return pd.concat([table, result.set_axis(names, axis=1)], axis=1)


def ranked(table: pd.DataFrame, validated: pd.DataFrame) -> pd.DataFrame:
    """The input's columns and the verdicts of :func:`minml.validate`, as ``minml validate``
    writes them (:func:`minml.pipelines.ranked_table`)."""
    from minml.pipelines import ranked_table

    return ranked_table(table, validated)[0]


def table_bytes(df: pd.DataFrame, suffix: str) -> bytes:
    """``df`` as :func:`minml.write_table` writes it (``.csv`` or ``.xlsx``)."""
    with tempfile.TemporaryDirectory(prefix="minml-app-") as folder:
        path = minml.write_table(df, Path(folder) / f"result{suffix}")
        return path.read_bytes()


def by_mineral_bytes(table: pd.DataFrame, classified: pd.DataFrame, validated=None, **reading) -> bytes:
    """The per-mineral workbook for Thermobar (:mod:`minml.thermobar`)."""
    from minml.thermobar import by_mineral, write_by_mineral

    sheets = by_mineral(table, classified, validated=validated, **reading)
    with tempfile.TemporaryDirectory(prefix="minml-app-") as folder:
        return write_by_mineral(sheets, Path(folder) / "by_mineral.xlsx").read_bytes()


def report_html(table: pd.DataFrame, validated: pd.DataFrame, title: str, **reading) -> str:
    """The validation report (:func:`minml.validation.report.write_report`) as HTML text."""
    from minml.validation.report import write_report

    with tempfile.TemporaryDirectory(prefix="minml-app-") as folder:
        return write_report(table, validated, Path(folder) / "report.html", title=title, **reading).read_text("utf-8")


def end_member_rows(formulas: pd.DataFrame, minerals, columns) -> pd.DataFrame:
    """The rows of ``formulas`` (:func:`minml.formula`'s) of one of ``minerals`` with every one
    of ``columns`` (end-members, e.g. ``Wo``, ``En``, ``Fs``) computed.

    Parameters
    ----------
    formulas : pandas.DataFrame
        Its ``mineral`` column names the formula of each row ("" where none was computed).
        A table with no row of ``minerals`` has no ``columns`` either: then no rows.
    minerals : list of str
    columns : list of str

    Returns
    -------
    pandas.DataFrame
        Possibly empty, with the columns of ``formulas``.
    """
    if not set(columns) <= set(formulas.columns):
        return formulas.iloc[:0]
    return formulas[formulas["mineral"].isin(list(minerals))].dropna(subset=list(columns))


def figure_png(ax) -> bytes:
    """A matplotlib figure as PNG bytes; the figure is closed."""
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    ax.figure.savefig(buffer, format="png", dpi=150, bbox_inches="tight")
    plt.close(ax.figure)
    return buffer.getvalue()


def counts_figure(minerals: pd.Series):
    """Rows per mineral as horizontal bars, each in the mineral's palette colour."""
    import matplotlib.pyplot as plt

    from minml.palette import mineral_colours

    counts = minerals.astype(str).value_counts().sort_values()
    colours = mineral_colours()
    ax = plt.subplots(figsize=(5.0, 0.3 * len(counts) + 1.0), layout="constrained")[1]
    bars = ax.barh(counts.index, counts.to_numpy(), color=[colours.get(n, "#777777") for n in counts.index])
    ax.bar_label(bars, padding=2, fontsize=8)
    ax.set_xlabel("analyses")
    ax.spines[["top", "right"]].set_visible(False)
    return ax


def demo_map(shape=(96, 96)):
    """A small synthetic map made from the bundled example's analyses (for trying the Maps tab)."""
    from minml.maps.synthetic import synthetic_map

    table = read_upload(EXAMPLE, example_bytes())
    checked = minml.check_oxides(table, notes=False)
    classified = minml.classify(table)
    keep = (classified["mineral"].astype(str) != "unknown").to_numpy()
    compositions = checked.oxides.loc[keep].assign(mineral=classified["mineral"].astype(str).to_numpy()[keep])
    return synthetic_map(compositions, shape, grains=14, random_state=np.random.default_rng(1))[0]
