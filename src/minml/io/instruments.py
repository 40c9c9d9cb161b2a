"""Instrument exports: the tables microprobe and EDS software print, read as they come.

A plain table has its column names on the first row and one analysis per row below.  The
software of the instruments prints something else around the same numbers:

* **Oxford AZtec** (EDS): a results table whose first column names each point (``Spectrum 1``,
  ``Spectrum 2``, ...) under a blank header cell, oxide wt% or element wt% (with ``O``) and a
  ``Total``, then summary rows (``Mean``, ``Std. deviation``, ``Max.``, ``Min.``); title rows
  may stand above it (pandas then names the columns ``Unnamed: 1`` ...).  A sheet may hold the
  points twice, as oxide wt% and, below, as element wt%: the oxides are read, and the element
  table is named in a warning.
* **Cameca SX / PeakSight** result exports: a ``DataSet/Point`` column (``1 / 1``), the oxides,
  ``Total``, then ``Average``/``Minimum``/``Maximum``/``Sigma`` rows.
* **JEOL** summary reports: ``No.``, the oxides, ``Total``, a ``Comment``, aligned with spaces
  or saved as CSV under a title (``Weight percent, Group : ..., Sample : ..., Page, 1``);
  ``Minimum``/``Maximum``/``Average``/``Sigma`` rows below, after a blank line.  Its reports of
  counting errors or detection limits are refused, naming them.
* **Probe for EPMA** logs and exports: several tables per file, one per sample (``Un  3 ol-1``,
  ``St  263 ...`` for a standard), each under a section title (``Oxide Weight Percents:``) with
  an ``ELEM:`` header line, one row per point (its line number) and a total (``SUM``), then
  statistics rows (``AVER:``, ``SDEV:``, ``SERR:``, ``%RSD:``, ``PUBL:``, ``%VAR:``,
  ``DIFF:``, ``STDS:``: every ``WORD:`` line); its custom and CalcZAF exports (``SAMPLE``,
  ``LINE``, ``Si WT%`` ...), of any extension.
* **EDS results one element a row** (AZtec's spectrum blocks, EDAX's single-spectrum export):
  see :mod:`minml.io._element_blocks`; one row per analysis.

These are recognised from their content (a header row naming at least three species or
elements, with point labels, statistics rows or several tables around it), never from the
file's name alone; a table with rows of numbers below rows labelled like statistics (a
published table's "Average" and "SD" after each grain, a sample named "Mean") is a plain table,
read whole: an export prints its statistics below all its points.  The result is one table: a ``sample`` column where the export names the
sample of each table, the point label, the species columns as the header names them, the
total, and any other columns; statistics rows are left out (they are no analyses).  Element
wt% tables whose ``O`` column is the oxygen their cations carry are marked to be read as
element wt% (``attrs["minml_elements"]``), which :func:`minml.check_oxides` honours.  Atomic
percent and formula tables are never read.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import TYPE_CHECKING

from minml.chemistry._stoichiometry import carried_oxygen_share
from minml.chemistry.oxides import canonical_name, element_symbol
from minml.io._element_blocks import blocks_frame, blocks_kind, element_blocks, number

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["INSTRUMENTS", "exported_sheet", "looks_like_instrument", "read_instrument"]

INSTRUMENTS = ("Oxford AZtec", "Cameca SX / PeakSight", "JEOL", "Probe for EPMA", "EDS element wt%")
"""The exports :func:`read_instrument` recognises."""

_SNIFF_BYTES = 256 * 1024  # a text file's first bytes, enough for its first tables
_SNIFF_ROWS = 60  # a workbook's first rows
_MIN_SPECIES = 3  # a header row names at least this many species or elements
# statistics rows printed below the points: no analyses
_STATISTICS = re.compile(
    r"^(mean|average|aver|avg|sdev|std\.?\s*dev(iation)?\.?|standard\s+deviation|sigma|serr|%?\s*rsd|"
    r"stds|min(imum)?\.?|max(imum)?\.?|range|median|n|count|total\s+mean|publ|%\s*var|diff)\s*:?$"
    r"|^%?[a-z][a-z.]*:$",  # Probe for EPMA prints every line below the points under a word and a colon
    re.IGNORECASE,
)
_SAMPLE_LINE = re.compile(r"^\s*(?:un|st)\s+(\d+)\s+(.*\S)\s*$", re.IGNORECASE)  # Probe for EPMA: "Un   3 ol-1"
_SAMPLE_FIELD = re.compile(r"^\s*(?:sample|sample\s+name|specimen|group|comment)\s*[:=]\s*(.*\S)\s*$", re.IGNORECASE)
_NOT_WT = re.compile(
    r"atomic|at\s*%|at\.%|formula|cations?\b|k-?ratio|counts|cps|detection|%\s*err|error\s*\(?\s*%|mol(e)?\s*%",
    re.IGNORECASE,
)  # JEOL's other reports: "Counting error(%) of X-ray intensities", "Detection Limit (ppm)"
_LABEL_WORDS = re.compile(r"^(spectrum|dataset/point|elem:?|no\.?|point|line|label|spectrum\s+label)$", re.IGNORECASE)
_POINT = re.compile(r"^spectrum\s*\d+", re.IGNORECASE)
_NUMBERED = re.compile(r"^(spectrum|point|pt|spot|analysis)$", re.IGNORECASE)  # a word and the point's number
_TOTAL = re.compile(r"^(total|totals|sum|sum:)$", re.IGNORECASE)
_HALOGENS = ("F", "Cl")


def _species_cell(cell) -> bool:
    """Whether a header cell names a species or an element (oxygen included)."""
    if not isinstance(cell, str) or not cell.strip():
        return False
    if _number(cell):  # a value names nothing (and is looked up slowly)
        return False
    return canonical_name(cell) is not None or element_symbol(cell) is not None


def _is_header(cells: list) -> bool:
    return sum(_species_cell(c) for c in cells) >= _MIN_SPECIES


def _separator(lines: list[str]) -> str | None:
    """The file's separator: tab, semicolon or comma, the first found on at least half of its
    lines (a log aligned with spaces may hold a comma in a title: ``Un 3 ol-1, Results in``)."""
    filled = [line for line in lines if line.strip()]
    for sep in ("\t", ";", ","):
        if filled and sum(sep in line for line in filled) >= len(filled) / 2:
            return sep
    return None


def _split(line: str, sep: str | None) -> list[str]:
    """A text line's cells: by the file's separator (a line without one is one cell: a title,
    AZtec's ``Spectrum 1``, JEOL's ``"No. of data"   5``), else by spaces."""
    if sep is None:
        return line.split()
    if sep not in line:
        return [line.strip()]
    return [c.strip() for c in next(csv.reader([line], delimiter=sep))]


def _number(cell) -> bool:
    if isinstance(cell, (int, float)) and not isinstance(cell, bool):
        return True
    return number(cell) is not None


def _header_parts(cells: list, spaced: bool) -> tuple[str, list[str]]:
    """The label column's name and the names of the columns after it.  Aligned with spaces, the
    words before the first species name one label (``Spectrum Label``); in a delimited export
    each cell is a column (Probe for EPMA's custom formats: ``SAMPLE``, ``LINE``, then the oxides)."""
    cells = [str(c).strip() if c is not None else "" for c in cells]
    while cells and cells[-1] == "":
        cells.pop()
    first = next(i for i, c in enumerate(cells) if _species_cell(c))
    if not spaced and first > 1:
        first = 1
    label = " ".join(c for c in cells[:first] if c) or "point"
    return ("point" if label.lower().rstrip(":") == "elem" else label), cells[first:]


def _data_row(cells: list, names: list[str], spaced: bool) -> tuple[str, list] | None:
    """(label, cells) of a row under a header naming ``names`` after its label; None for no row."""
    width = len(names)
    cells = list(cells)
    while cells and (cells[-1] is None or str(cells[-1]).strip() == ""):
        cells.pop()
    if len(cells) < 2:
        return None
    if not spaced:
        label, values = cells[0], cells[1 : width + 1]
        return ("" if label is None else str(label).strip()), values + [None] * (width - len(values))
    # aligned with spaces: a label (a number, "Spectrum 1", "Std.Dev."), the values, text at the end
    numeric = width - _text_columns(names)
    j = next((k for k, c in enumerate(cells) if _number(c)), len(cells))
    if j == 0:
        j = 1  # a point's number (JEOL's No., Probe for EPMA's line number)
    elif _NUMBERED.match(" ".join(str(c) for c in cells[:j])):
        j += 1  # "Spectrum 1"
    label = " ".join(str(c) for c in cells[:j])
    values = cells[j : j + numeric]
    rest = " ".join(str(c) for c in cells[j + numeric :])
    values = values + [None] * (numeric - len(values)) + ([rest] if width > numeric else [])
    return label, values + [None] * (width - len(values))


def _text_columns(names: list[str]) -> int:
    """How many of the last header names are text columns (``Comment``), not values."""
    count = 0
    while count < len(names) and not _species_cell(names[-1 - count]) and not _TOTAL.match(names[-1 - count]):
        count += 1
    return count


def _sample_of(line: str, cells: list) -> str | None:
    """The sample a line names: Probe for EPMA's ``Un   3 ol-1, Results in ...`` (``ol-1``), a
    ``Sample : name`` line or cell (JEOL's report title holds one); None for no sample."""
    fields = [m for m in (_SAMPLE_FIELD.match(str(c)) for c in cells if c is not None) if m]
    fields.sort(key=lambda m: not m.group(0).strip().lower().startswith("sample"))  # before "Group :"
    found = _SAMPLE_LINE.match(line) or _SAMPLE_FIELD.match(line) or (fields[0] if fields else None)
    if not found:
        return None
    sample = found.group(found.lastindex or 1).split(",")[0].strip()
    return re.sub(r"\s+results\s+in\s+.*$", "", sample, flags=re.IGNORECASE)


def _statistic(row: list) -> bool:
    return bool(row) and bool(_STATISTICS.match(str(row[0]).strip()))


def _body(rows: list[list], i: int, names: list[str], spaced: bool) -> tuple[list[tuple[str, list]], int]:
    """The rows of a table from row ``i`` (below its header) and the row after them: its points,
    then its statistics rows, which may follow a blank line (JEOL's Minimum ... Sigma)."""
    body: list[tuple[str, list]] = []
    while i < len(rows) and not _is_header(rows[i]):
        if not rows[i]:
            after = next((j for j in range(i, len(rows)) if rows[j]), len(rows))
            if not (body and after < len(rows) and _statistic(rows[after])):
                break
            i = after
        if body and _STATISTICS.match(body[-1][0].strip()) and not _statistic(rows[i]):
            break  # below the statistics: "No. of data", notes
        row = _data_row(rows[i], names, spaced)
        i += 1
        if row is None or not any(_number(v) for v in row[1] if v is not None):
            if body:
                break
            continue  # a line between the header and the points (Probe for EPMA's XRAY:)
        body.append(row)
    return body, i


def _tables(rows: list[list], spaced: bool) -> list[dict]:
    """Every table of a file's rows: its header, sample, section title and rows.  A table under
    a title naming another unit (atomic %, counting errors, detection limits) is marked
    ``unit`` with that title; ``stray`` counts the rows of numbers below it under no header."""
    tables: list[dict] = []
    sample, section, title = "", "", ""
    i = 0
    while i < len(rows):
        cells = rows[i]
        if not _is_header(cells):
            if tables and sum(_number(c) for c in cells[1:] if c is not None) >= _MIN_SPECIES:
                tables[-1]["stray"] += 1  # a row of numbers below a table's statistics, under no header
            line = " ".join(str(c) for c in cells if c is not None and str(c).strip())
            named = _sample_of(line, cells)
            sample = sample if named is None else named
            lone = sum(1 for c in cells if c is not None and str(c).strip()) == 1
            if line and not _number(cells[0] if cells else "") and not (named is not None and lone):
                section = line
                # a report's title starts its line (JEOL's "Detection Limit (ppm)"); words over the
                # columns (a category row) say nothing of the whole table
                title = line if spaced else str(cells[0] if cells[0] is not None else "").strip()
            i += 1
            continue
        label, names = _header_parts(cells, spaced)
        body, i = _body(rows, i + 1, names, spaced)
        unit = title if _NOT_WT.search(title) else ""
        tables.append(
            {
                "label": label,
                "names": names,
                "sample": sample,
                "section": section,
                "rows": body,
                "unit": unit,
                "stray": 0,
            }
        )
    return tables


def _kind(rows: list[list], tables: list[dict]) -> str | None:
    """Which export the rows look like, or None for a plain table."""
    if not tables or not any(t["rows"] for t in tables):
        return None
    if any(t["stray"] for t in tables):
        # analyses go on below rows labelled like statistics ("Average", "SD" after each grain of
        # a published table, or a sample named so): an export prints its statistics below all
        # its points, so this is a plain table, every row of which is kept
        return None
    labels = [r[0] for t in tables for r in t["rows"]]
    heads = {t["label"].lower() for t in tables}
    if any(_POINT.match(str(x)) for x in labels):
        return "Oxford AZtec"
    if "dataset/point" in heads:
        return "Cameca SX / PeakSight"
    statistics = any(_STATISTICS.match(str(x).strip()) for x in labels)
    first_header = next(i for i, r in enumerate(rows) if r and _is_header(r))
    if heads <= {"no.", "no"} and (statistics or first_header > 0):
        return "JEOL"  # its settings above the table, its statistics below the points (a table a page)
    if len(tables) > 1 or any(_SAMPLE_LINE.match(" ".join(map(str, r))) for r in rows if r):
        return "Probe for EPMA"
    if not statistics:
        return None  # a plain table (a title above its names is read_table's to judge)
    names = [n for t in tables for n in t["names"] if _species_cell(n)]
    return "EDS element wt%" if all(canonical_name(n) is None for n in names) else "JEOL"


def _frame(tables: list[dict], kind: str, name: str = "") -> pd.DataFrame:
    """One DataFrame of the points of all tables (statistics rows left out); where tables of
    oxide wt% stand beside tables of element wt% (AZtec prints a sheet's points both ways), the
    oxides only, the element tables named in a warning (:func:`_oxides_only`).  ``name`` is
    the file's name, for the warning."""
    import pandas as pd

    parts = []
    tables = [t for t in tables if not t["unit"]]
    if any("oxide" in t["section"].lower() for t in tables):  # the same points as elements and as oxides
        tables = [t for t in tables if "element" not in t["section"].lower()]
    tables = _oxides_only(tables, name)
    for t in tables:
        points = _points(t)
        if not points:
            continue
        names = _unique(t["names"])
        part = pd.DataFrame([v for _, v in points], columns=names, dtype=object)
        part.insert(0, t["label"], [label for label, _ in points])
        if t["sample"]:
            part.insert(0, "sample", t["sample"])
        parts.append(part)
    out = pd.concat(parts, ignore_index=True, sort=False) if parts else pd.DataFrame()
    return _finish(out, kind)


def _points(table: dict) -> list[tuple[str, list]]:
    """A table's rows of analyses: its rows but the statistics rows."""
    return [(label, values) for label, values in table["rows"] if not _STATISTICS.match(label.strip())]


def _oxides_only(tables: list[dict], name: str) -> list[dict]:
    """``tables`` without those of element wt% where others hold oxide wt% (with points): an
    export that prints its points as oxides and as elements, one table below the other (AZtec's
    "All results in oxide weight%" and "All results in weight%" on one sheet), would otherwise
    stack the element table beside the oxides as columns of empty rows.  The tables left out are
    named in a warning (their title, first header names and rows)."""
    import warnings

    def oxides(table: dict) -> bool:
        return any(canonical_name(n) not in (None, *_HALOGENS) for n in table["names"] if _species_cell(n))

    read = [t for t in tables if oxides(t) and _points(t)]
    left = [t for t in tables if not oxides(t) and _points(t)]
    if not read or not left:
        return tables
    labels = {label for t in read for label, _ in _points(t)}

    def told(table: dict) -> str:
        points = _points(table)
        same = all(label in labels for label, _ in points)
        species = [n for n in table["names"] if _species_cell(n)]
        title = f" under {table['section']!r}" if table["section"] else ""
        return (
            f"{'the same ' if same else ''}{len(points)} point{'s' if len(points) > 1 else ''} as element wt%"
            f"{title} ({', '.join(species[:4])}{', ...' if len(species) > 4 else ''})"
        )

    warnings.warn(
        f"{name or 'the export'}: {sum(len(_points(t)) for t in read)} analyses read from the table of oxide wt%; "
        f"left out: {'; '.join(told(t) for t in left)}. To read the elements instead, save their table alone "
        "and read that file.",
        stacklevel=6,  # read_table's caller
    )
    return [t for t in tables if not any(t is other for other in left)]


def _finish(out: pd.DataFrame, kind: str) -> pd.DataFrame:
    """Numbers as numbers, the kind of export and of values in ``attrs``."""
    import pandas as pd

    blank = out.map(lambda c: isinstance(c, str) and not c.strip())  # an element not found in a spectrum
    out = out.mask(blank).dropna(axis=1, how="all")
    for col in out.columns:  # numbers as numbers where every filled cell is one
        cells = out[col].dropna()
        if len(cells) and all(_number(c) for c in cells):
            out[col] = pd.to_numeric(out[col].map(lambda c: None if pd.isna(c) else str(c).replace(",", ".")))
    if _element_wt(out):
        out.attrs["minml_elements"] = True
    out.attrs["minml_instrument"] = kind
    return out


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for name in names:
        name = name or "Unnamed"
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name}.{seen[name] - 1}")
    return out


def _element_wt(table: pd.DataFrame) -> bool:
    """Whether the columns are element symbols whose ``O`` column is the oxygen their cations
    carry as oxides (element wt%, not at%): the median ratio within 10 %."""
    if any(canonical_name(c) not in (None, *_HALOGENS) for c in table.columns):
        return False  # oxides (Cl and F are printed by element in both kinds of table)
    symbols = {c: element_symbol(c) for c in table.columns if element_symbol(c) is not None}
    oxygen = [c for c, s in symbols.items() if s == "O"]
    if not oxygen or len(symbols) < _MIN_SPECIES:
        return False
    share = carried_oxygen_share({s: table[c] for c, s in symbols.items() if s != "O"}, table[oxygen[0]])
    return share is not None and 0.9 <= share <= 1.1


def _text_rows(path: Path, limit: int | None) -> tuple[list[list], bool] | None:
    with path.open("rb") as handle:
        raw = handle.read(-1 if limit is None else limit)
    if b"\x00" in raw[:4096]:
        return None
    for codec in ("utf-8-sig", "cp1252", "latin-1"):
        try:
            text = raw.decode(codec)
            break
        except UnicodeDecodeError:
            continue
    if limit is not None and len(raw) == limit:
        text = text.rsplit("\n", 1)[0]  # a cut line is no row
    lines = text.splitlines()
    sep = _separator(lines[:200])
    if limit is not None:
        lines = lines[:_SNIFF_ROWS]
    return [_split(line, sep) if line.strip() else [] for line in lines], sep is None


def _excel_rows(path: Path, limit: int | None) -> list[list] | None:
    import pandas as pd

    from minml.io._excel import _excel_reader

    try:
        sheet = pd.read_excel(path, header=None, nrows=limit, engine=_excel_reader(), dtype=object)
    except Exception:
        return None
    return [[None if pd.isna(c) else c for c in row] for row in sheet.itertuples(index=False)]


def _rows(path: Path, limit: int | None):
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm", ".xls"):
        rows = _excel_rows(path, limit)
        return None if rows is None else (rows, False)
    if suffix in (".parquet", ".pq"):
        return None
    return _text_rows(path, None if limit is None else _SNIFF_BYTES)


def exported_sheet(table: pd.DataFrame) -> bool:
    """Whether a sheet read with its first row as the header is an export to read again with
    :func:`read_instrument`: its first column names points ``Spectrum 1`` ... or ends in
    statistics rows (``Mean``, ``Std. deviation``) below a header naming species, or its first
    rows, the header's cells among them, are recognised as a text file's first lines are
    (:func:`looks_like_instrument`): an AZtec workbook of element wt% holds its names
    (``O``, ``Si``, ...) on a row below its title, where the header of the sheet holds the title
    only.  (Reading a workbook's first rows costs as much as reading it: a workbook is read
    first, then judged.)"""
    if table.shape[1] < 2 or not len(table):
        return False
    first = table.iloc[:, 0].astype(str).str.strip()
    named = sum(_species_cell(str(c)) for c in table.columns) >= _MIN_SPECIES
    points = first.str.match(_POINT).any()
    blocks = first.str.fullmatch(r"(?i)element").any()  # EDS results one element a row
    if blocks or (named and (points or first.tail(8).str.match(_STATISTICS).any())):
        return True
    return _kind_of(_sheet_rows(table), False) is not None


def _sheet_rows(table: pd.DataFrame) -> list[list]:
    """The first rows of a sheet read with its first row as the header, as :func:`_excel_rows`
    gives them: the header's cells (a blank one, which pandas names ``Unnamed: 1``, as None),
    then the cells below, a blank cell as None."""
    import pandas as pd

    header = [None if str(c).startswith("Unnamed:") else c for c in table.columns]
    head = table.head(_SNIFF_ROWS - 1).astype(object).to_numpy().tolist()
    return [header, *([None if pd.isna(c) else c for c in row] for row in head)]


def _kind_of(rows: list[list], spaced: bool) -> str | None:
    blocks = element_blocks(rows)
    return blocks_kind(blocks) if blocks else _kind(rows, _tables(rows, spaced))


def looks_like_instrument(path) -> str | None:
    """The export a file looks like (one of :data:`INSTRUMENTS`), from its first rows; None for
    a plain table (or a file that is neither text nor a workbook)."""
    path = Path(path)
    if not path.is_file():
        return None
    found = _rows(path, _SNIFF_ROWS)
    if found is None:
        return None
    rows, spaced = found
    return _kind_of(rows[:_SNIFF_ROWS], spaced)


def read_instrument(path) -> pd.DataFrame | None:
    """An instrument export (see the module's description) as one table; None for a plain table.

    Parameters
    ----------
    path : str or path-like
        A text file (any extension) or a workbook (first sheet).

    Returns
    -------
    pandas.DataFrame or None
        ``sample`` (where the export names samples), the point label, the columns of the
        header as named, statistics rows left out; ``attrs["minml_instrument"]`` names the
        export, ``attrs["minml_elements"]`` marks element wt%.  Where tables of oxide wt% and
        of element wt% stand in one file (AZtec's two tables of the same points), the oxide
        tables, the others named in a warning.  EDS results printed one element
        a row (:mod:`minml.io._element_blocks`) give one row per analysis.

    Raises
    ------
    ValueError
        An export of another unit only (a JEOL report of counting errors or detection limits,
        atomic percents), naming the unit and what to export instead.
    """
    path = Path(path)
    kind = looks_like_instrument(path)
    if kind is None:
        return None
    rows, spaced = _rows(path, None)
    blocks = element_blocks(rows)
    if blocks:
        return _finish(blocks_frame(blocks, path.stem), kind)
    tables = _tables(rows, spaced)
    if not any(t["rows"] for t in tables if not t["unit"]):
        unit = next(t["unit"] for t in tables if t["unit"])
        raise ValueError(
            f"{path.name!r} is a {kind} report of {unit!r}, not of weight percents: export the "
            "oxide (or element) weight-percent results of these points and read that file."
        )
    return _frame(tables, kind, path.name)
