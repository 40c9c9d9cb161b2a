"""``classify_file``: a file of analyses in, the same rows with their minerals out."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from minml.pipelines._files import Source, analyses, named_apart, prefixed_note, prepare_outputs, write_beside
from minml.tables.checks import DEFAULT_TOTAL_RANGE
from minml.tables.reasons import Reason, reason_counts

__all__ = ["ClassifySummary", "check_option", "classify_file"]


def check_option(name: str, value) -> None:
    """Refuse, before any work, a value the pipelines would refuse for keyword ``name``
    (``fill_missing``: an amount in wt% between 0 and 100); a ValueError says why, in the
    keyword's name."""
    if name == "fill_missing":
        from minml.classifier.features import check_fill

        check_fill(value)
    else:
        raise ValueError(f"check_option knows fill_missing, not {name!r}.")


@dataclass
class ClassifySummary:
    """What :func:`classify_file` did.

    Attributes
    ----------
    rows : int
        Analyses classified.
    counts : list of (str, int)
        Rows per mineral (``unknown`` included), most frequent first (ties in class order).
    unknown, without_analysis, bad_analyses, none_of_the_classes : int
        Rows called ``unknown``; of them, the rows that hold no analysis (empty rows: no oxide
        value, such as a database's trace-element-only rows; statistics rows), the bad analyses
        (unusable values, fractions, a column shift, a sum outside the range) and those whose
        composition is none of the classes.
    flagged : int
        Rows with a flag.
    by_reason : dict of str to int
        Flagged rows per kind of reason (:func:`minml.tables.reasons.reason_counts`: a row
        counts once per reason it carries), most frequent first.
    output : pathlib.Path
    prefixed : bool
        Whether the result columns were written with the prefix ``classify_`` (the input
        had columns of the same names).
    route : str
        ``"arrow"`` (CSV to CSV, or Parquet to Parquet, without pandas) or ``"pandas"``.
    by_mineral : pathlib.Path or None
        The workbook of one sheet per mineral, when asked (:mod:`minml.thermobar`).
    sheets, review : int
        Its sheets, and the rows on its sheet of rows to review.
    """

    rows: int
    counts: list = field(default_factory=list)
    unknown: int = 0
    without_analysis: int = 0
    bad_analyses: int = 0
    none_of_the_classes: int = 0
    flagged: int = 0
    by_reason: dict = field(default_factory=dict)
    output: Path | None = None
    prefixed: bool = False
    route: str = "pandas"
    by_mineral: Path | None = None
    sheets: int = 0
    review: int = 0

    def lines(self) -> list[str]:
        """The summary as the ``minml classify`` command prints it."""
        found = ", ".join(f"{name} {count}" for name, count in self.counts)
        out = [
            f"{analyses(self.rows)} classified"
            + (f": {found}" if found else "")
            + (prefixed_note("classify_") if self.prefixed else "")
        ]
        if self.unknown:
            bad = self.bad_analyses
            empty = (
                f"{self.without_analysis} without an analysis (empty or statistics rows), "
                if self.without_analysis
                else ""
            )
            out.append(
                f"unknown {self.unknown}: {empty}{bad} bad {'analysis' if bad == 1 else 'analyses'}, "
                f"{self.none_of_the_classes} none of the classes"
            )
        reasons = ", ".join(f"{name} {count}" for name, count in self.by_reason.items())
        out += [
            f"{self.flagged} flagged (see the flag column)" + (f": {reasons}" if reasons else ""),
            f"wrote {self.output}",
        ]
        if self.by_mineral is not None:
            from minml.thermobar import REVIEW_SHEET

            rows = f"{self.review} row" + ("" if self.review == 1 else "s")
            out.append(f"wrote {self.by_mineral} ({self.sheets} sheets; {rows} to review on {REVIEW_SHEET!r})")
        return out


def classify_file(
    src,
    dst=None,
    *,
    sheet=None,
    header_row: int | None = None,
    encoding: str | None = None,
    suffix: str | None = None,
    elements: bool = False,
    model=None,
    fill_missing: float | None = None,
    coverage: float | None = None,
    total_range: tuple[float, float] = DEFAULT_TOTAL_RANGE,
    by_mineral=None,
    species: bool = False,
    progress: bool = False,
) -> ClassifySummary:
    """Classify every analysis of a file and write the input's columns with the results.

    CSV to CSV (or TSV), and Parquet to Parquet, run without pandas, on Arrow, where the file
    allows (a CSV file's rows are written back as read); other files are read with
    :func:`minml.read_table`.  Either way the table is checked once and the
    network runs once; the output is written whole, and checked for being writable before
    any work.

    Parameters
    ----------
    src : path-like
        CSV, TSV, XLSX or Parquet file of analyses in wt%.
    dst : path-like, optional
        Output file (CSV, XLSX or Parquet by extension); default: INPUT_classified.csv beside
        the input.
    sheet, header_row, encoding
        How to read ``src``: see :func:`minml.read_table`.
    suffix, elements, total_range
        How to read the oxide columns: see :func:`minml.check_oxides`.
    model, fill_missing, coverage, progress
        See :func:`minml.classify`.
    species : bool, default=False
        Add ``species``, ``species_basis`` and ``species_misfit`` (see :func:`minml.classify`).
    by_mineral : path-like, optional
        Also write this ``.xlsx``: one sheet per mineral with the column names Thermobar reads,
        and the rows the model is unsure of or flags on a sheet of their own
        (:func:`minml.thermobar.by_mineral`; prediction sets at ``coverage``, default 0.95,
        which the main output carries only when ``coverage`` is given).

    Returns
    -------
    ClassifySummary
    """
    from minml.classifier.predict import resolve_model

    source = Source(src, sheet=sheet, header_row=header_row, encoding=encoding)
    output = source.default_output(dst, "_classified.csv")
    prepare_outputs(source, output)
    loaded = resolve_model(model)  # a model that cannot be read is refused before the table is
    runtime = None if model is None else loaded  # None: named "the shipped model" in messages
    options = dict(fill_missing=fill_missing, coverage=coverage, progress=progress)
    reading = dict(suffix=suffix, elements=elements, total_range=tuple(total_range))
    pandas_only = by_mineral is not None or species
    found = None
    if not pandas_only:
        found = _classify_arrow(source, output, runtime, reading, options)
        found = found or _classify_parquet(source, output, runtime, reading, options)
    route, workbook = "arrow", None
    if found is None:
        found, prefixed, workbook = _classify_pandas(
            source, output, runtime, reading, options, by_mineral=by_mineral, species=species
        )
        route = "pandas"
    else:
        found, prefixed = found
    return _summary(found, output, prefixed, route, workbook, by_mineral)


def _summary(found, output: Path, prefixed, route: str, workbook, by_mineral) -> ClassifySummary:
    """What :func:`classify_file` did, counted from the classifier's pass ``found``."""
    mineral = found.columns["mineral"]
    counts = np.bincount(mineral.codes, minlength=len(mineral.categories))
    order = [k for k in np.argsort(-counts, kind="stable") if counts[k]]  # most frequent first, ties in class order
    unknown = found.unknown()
    novel = int((unknown & found.none_of_the_classes()).sum())
    blank = int((unknown & ((found.reasons & np.uint16(Reason.EMPTY_ROW | Reason.STATISTICS_ROW)) != 0)).sum())
    review = 0
    if workbook is not None:
        from minml.thermobar import REVIEW_SHEET  # pandas: only where the workbook was written

        review = len(workbook.get(REVIEW_SHEET, ()))
    return ClassifySummary(
        rows=len(mineral.codes),
        counts=[(str(mineral.categories[k]), int(counts[k])) for k in order],
        unknown=int(unknown.sum()),
        without_analysis=blank,
        bad_analyses=int(unknown.sum()) - novel - blank,
        none_of_the_classes=novel,
        flagged=int((found.columns["flag"] != "").sum()),
        by_reason=reason_counts(found.reasons),
        output=output,
        prefixed=prefixed,
        route=route,
        by_mineral=None if workbook is None else Path(by_mineral),
        sheets=0 if workbook is None else len(workbook),
        review=review,
    )


def _classify_pandas(
    source: Source, output: Path, runtime, reading: dict, options: dict, *, by_mineral=None, species=False
):
    """Any file: read with pandas, written beside the input's columns; with ``by_mineral``,
    the same pass (prediction sets at least at 0.95) also fills the workbook of one sheet per
    mineral, whose sheets are returned (None without)."""
    from minml.classifier.predict import classify_table
    from minml.tables.checks import check_oxides

    table = source.read(output)
    checked = check_oxides(table, notes=False, **reading)
    asked = options["coverage"]
    if by_mineral is not None and asked is None:
        options = {**options, "coverage": 0.95}
    found = classify_table(checked, runtime, **options)
    frame = found.frame()
    if species:
        from minml.classifier.predict import with_species

        frame = with_species(frame, checked)
    written = frame if asked is not None or by_mineral is None else frame.drop(columns="prediction_set")
    prefixed = write_beside(table, written, output, bom=source.bom, prefix="classify_", progress=options["progress"])
    if by_mineral is None:
        return found, prefixed, None
    from minml.thermobar import by_mineral as sheets_by_mineral
    from minml.thermobar import write_by_mineral

    sheets = sheets_by_mineral(checked, frame)  # the same check: the table is not checked again
    write_by_mineral(sheets, by_mineral)
    return found, prefixed, sheets


def _classify_arrow(source: Source, output: Path, runtime, reading: dict, options: dict):
    """CSV to CSV without pandas (:func:`minml.io.read_csv_arrow`): the classifier's pass and
    whether the result columns were prefixed; None for other files (the pandas route).  Where
    the input's rows are its lines and the separators agree, they are written back as read
    (:func:`minml.io.write_beside_lines`), the results rendered beside them."""
    from minml.io import is_csv, read_csv_rows

    if source.sheet is not None or source.header_row not in (None, 1) or not is_csv(output):
        return None
    sep = "\t" if output.suffix.lower() == ".tsv" else ","
    read = read_csv_rows(
        source.path, sep, encoding=source.encoding, suffix=reading["suffix"], elements=reading["elements"]
    )
    if read is None:
        return None
    from minml.classifier.predict import classify_table
    from minml.io import write_beside_lines, write_csv_arrow
    from minml.io._arrow import arrow_array, release_unused
    from minml.tables.checks import check_columns

    table, lines = read
    del read
    typed = set(table.column_names)  # every column, or the species and label columns where the rows are carried as text
    input_names = table.column_names if lines is None else lines.names
    columns = {name: table.column(name) if name in typed else None for name in input_names}
    checked = check_columns(columns, table.num_rows, notes=False, **reading)
    del columns
    if lines is not None:  # the check holds the values: the typed columns are not needed again
        table = table.select([])
        release_unused()
    found = classify_table(checked, runtime, **options)
    names = named_apart(input_names, list(found.columns), "classify_")
    results = dict(zip(names, found.columns.values(), strict=True))
    if lines is not None:
        write_beside_lines(lines, results, output, bom=source.bom)
    else:
        for name, column in results.items():
            table = table.append_column(name, arrow_array(column))
        write_csv_arrow(table, output, sep, bom=source.bom)
    return found, names != list(found.columns)


def _classify_parquet(source: Source, output: Path, runtime, reading: dict, options: dict):
    """Parquet to Parquet on Arrow, without pandas: the input's columns as stored, the results
    typed as the pandas route writes them (:func:`minml.io._arrow.stored_array`); the
    classifier's pass and whether the result columns were prefixed, or None (the pandas
    route: another format, or a stored index that :func:`minml.read_table` puts back among
    the columns)."""
    parquet = {".parquet", ".pq"}
    if source.path.suffix.lower() not in parquet or output.suffix.lower() not in parquet:
        return None
    if source.sheet is not None or source.header_row is not None or source.encoding is not None:
        return None  # read_table refuses options that do not apply to Parquet
    from minml.io._parquet import read_parquet_arrow

    table = read_parquet_arrow(source.path)
    if table is None:
        return None
    from minml.classifier.predict import classify_table
    from minml.io._arrow import stored_array
    from minml.io._parquet import write_parquet_arrow
    from minml.tables.checks import check_columns

    columns = {name: table.column(name) for name in table.column_names}
    checked = check_columns(columns, table.num_rows, notes=False, **reading)
    del columns
    found = classify_table(checked, runtime, **options)
    names = named_apart(table.column_names, list(found.columns), "classify_")
    for name, column in zip(names, found.columns.values(), strict=True):
        table = table.append_column(name, stored_array(column))
    write_parquet_arrow(table, output)
    return found, names != list(found.columns)
