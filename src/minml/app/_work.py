"""What the app does with a table or a map, without Streamlit: read an upload, describe what was
read, classify by chunks, and turn results into files to download.  Only the library's public
functions are called.  Uploads are written to a temporary folder that is removed as soon as the
file has been read: nothing the user uploads stays on the disk.
"""

from __future__ import annotations

import io
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

import minml

TABLE_TYPES = ["csv", "tsv", "txt", "xlsx", "xlsm", "xls", "parquet"]
MAP_TYPES = ["npz", "tif", "tiff", "hspy", "zip"]
CHUNK_ROWS = 10_000
EXAMPLE = "lepr_sample.csv"


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


def mapping_table(checked) -> pd.DataFrame:
    """One row per column of the table: what it was read as, how, and a 'did you mean'."""
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
    """The input's columns and the result's, the result's prefixed where a name is taken (as the
    command line writes them)."""
    if set(table.columns) & set(result.columns):
        result = result.add_prefix(prefix)
    return pd.concat([table, result], axis=1)


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
