"""What a text file is before it is read: its codec, its separator, the row of its column names;
and the rows around a published table that are no analyses: a units row under the column names
(:func:`units_row`), notes and references below the last analysis (:func:`trailing_notes`).

Shared by the CSV readers (:mod:`minml.io._csv`, :mod:`minml.io._csv_arrow`) and, for the
column names below a title, the units row and the notes, the Excel reader.
"""

from __future__ import annotations

import codecs
import collections
import csv
import functools
import math
import numbers
import re
from pathlib import Path

from minml.chemistry.oxides import species_names

_HEADER_SEARCH = 50  # rows searched for column names when the first row holds none


_FALLBACK = "cp1252"  # what Excel on Windows saves as "CSV"; GEOROC's files are in it
_SAMPLE = 64 * 1024  # bytes looked at to tell text from binary
_MAX_FIELDS = 16_384  # columns of an Excel sheet: no table of analyses is wider


def _text_encoding(encoding: str | None, path: Path | None = None) -> str:
    """The codec a text file is read with: UTF-8 (a byte-order mark dropped) by default, or
    UTF-16 when ``path`` starts with its byte-order mark (Excel's "Unicode Text"), or cp1252
    when the file is not UTF-8 but every byte of it is cp1252 text (Excel's "CSV" on Windows;
    :func:`read_csv` says so in a warning)."""
    if encoding is None:
        if path is not None and path.is_file():
            with open(path, "rb") as handle:
                if handle.read(2) in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
                    return "utf-16"
            stat = path.stat()
            return _detected(str(path), stat.st_size, stat.st_mtime_ns)
        return "utf-8-sig"
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        raise ValueError(
            f"Unknown encoding {encoding!r}; e.g. 'utf-8', 'cp1252' (Excel on Windows), 'latin-1'."
        ) from None
    return "utf-8-sig" if name in ("utf-8", "utf-8-sig") else encoding


@functools.lru_cache(maxsize=16)
def _detected(path: str, size: int, mtime_ns: int) -> str:
    """ "utf-8-sig", or cp1252 for a file that is not UTF-8 but decodes as cp1252 (checked
    once per file and version: size and time are part of the key)."""
    if _decodes(Path(path), "utf-8") or not _decodes(Path(path), _FALLBACK):
        return "utf-8-sig"  # a file in neither is refused by the reader, with the first foreign byte
    return _FALLBACK


def _decodes(path: Path, codec: str) -> bool:
    """Whether the whole file decodes in ``codec`` (read a megabyte at a time)."""
    decoder = codecs.getincrementaldecoder(codec)()
    try:
        with open(path, "rb") as handle:
            while block := handle.read(1 << 20):
                if block.isascii() and not decoder.getstate()[0]:
                    continue  # ASCII is text in both codecs (and checked a hundred times faster)
                decoder.decode(block)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _refuse_binary(path: Path, codec: str) -> None:
    """Raise when the file's first bytes hold NUL or many control bytes: it is no text file
    (a workbook or an image named .csv), and no encoding would make it one."""
    if codec.lower().replace("-", "").replace("_", "").startswith(("utf16", "utf32")):
        return  # their NUL bytes are text
    with open(path, "rb") as handle:
        sample = handle.read(_SAMPLE)
    control = sum(sample.count(bytes([b])) for b in range(32) if b not in b"\t\n\r\x0c\x1a")
    if b"\x00" in sample or control > len(sample) // 20:
        kind = "a zip archive (an .xlsx workbook?)" if sample.startswith(b"PK\x03\x04") else "not text"
        raise ValueError(
            f"{path.name!r} looks binary, {kind}: its first bytes hold NUL or control bytes, as no CSV or text "
            "file does. If it is a workbook or a Parquet file, give it that extension (.xlsx, .parquet)."
        )


def _first_foreign_byte(data: bytes, codec: str = "utf-8", shown: str | None = None) -> str:
    """Where ``data`` first fails to decode in ``codec``: ": byte 0x.. on line N ('the line')",
    the line decoded in ``shown`` (by default ``codec``), or "" when it decodes."""
    try:
        data.decode(codec)
    except UnicodeDecodeError as first:
        line = data.count(b"\n", 0, first.start) + 1
        start = data.rfind(b"\n", 0, first.start) + 1
        end = data.find(b"\n", first.start)
        text = data[start : end if end >= 0 else len(data)].decode(shown or codec, errors="replace").strip()
        return f": byte 0x{data[first.start]:02x} on line {line} ({text[:60]!r})"
    return ""


def _not_utf8(path: Path, error: UnicodeDecodeError, given: bool = False) -> ValueError:
    """What to tell a user whose text file is not UTF-8: where the first foreign byte is,
    and how to read the file.  ``given``: UTF-8 was the encoding the caller named, so cp1252
    was not tried (the line is shown as cp1252 reads it, where it can)."""
    data = path.read_bytes()
    if given:
        where = _first_foreign_byte(data, shown=_FALLBACK)
        cp1252 = not _first_foreign_byte(data, _FALLBACK)
        advice = (
            "it reads as cp1252 (Excel's 'CSV' on Windows): pass encoding='cp1252' (or no encoding: a file "
            "that is not UTF-8 but is cp1252 text is then read as cp1252, with a warning)"
            if cp1252
            else "pass its encoding, e.g. encoding='latin-1', or save the file as 'CSV UTF-8'"
        )
        return ValueError(f"{path.name!r} is not UTF-8 text{where or f' ({error.reason})'}: {advice}.")
    where = _first_foreign_byte(data)
    return ValueError(
        f"{path.name!r} is not UTF-8 text{where or f' ({error.reason})'}, nor cp1252. Pass its encoding, e.g. "
        "encoding='latin-1', or save the file as 'CSV UTF-8'."
    )


def _refuse_wide_header(path: Path, codec: str, sep: str) -> None:
    """Raise, before any parser sees it, when the first line holds more fields than
    :data:`_MAX_FIELDS` (a 25-million-field line kept pandas busy for ever)."""
    limit = _MAX_FIELDS
    with open(path, newline="", encoding=codec, errors="replace") as handle:
        head = handle.readline(limit * 256)  # fields of up to 256 characters: enough to pass the limit
    line = head.split("\n", 1)[0]
    fields = len(line.split()) if sep == _WHITESPACE else line.count(sep) + 1
    if fields > limit:
        least = "" if "\n" in head else "at least "
        raise ValueError(
            f"{path.name!r}: its first line holds {least}{fields:,} fields; "
            f"no table of analyses is that wide (a sheet holds {limit:,} columns). Is it one line of values, "
            "or a file of another kind?"
        )


_WHITESPACE = r"\s+"  # columns aligned with spaces, as microprobe software prints them


def _sniff_separator(path: Path, encoding: str = "utf-8-sig") -> str:
    """``,``, ``;`` or tab, detected; or :data:`_WHITESPACE` when the file's first 64 kB hold
    none of them and its first line several words (``Sample   SiO2   MgO``)."""
    with open(path, newline="", encoding=encoding, errors="replace") as handle:
        sample = handle.read(64 * 1024)
    first = next((line for line in sample.splitlines() if line.strip()), "")
    if not any(sep in sample for sep in ",;\t") and len(first.split()) >= 2:
        return _WHITESPACE
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t").delimiter
    except csv.Error:
        return ","


def _cells_of(handle, sep: str):
    """The cells of each line of an open text file, split on ``sep`` (:data:`_WHITESPACE`:
    on runs of spaces)."""
    return (line.split() for line in handle) if sep == _WHITESPACE else csv.reader(handle, delimiter=sep)


def _separator_name(sep: str) -> str:
    return "spaces" if sep == _WHITESPACE else repr(sep)


def _first_lines(path: Path, codec: str, sep: str) -> list[list[str]]:
    """The cells of the first :data:`_HEADER_SEARCH` lines of a text file (blank lines
    kept, so that positions are line numbers)."""
    with open(path, newline="", encoding=codec, errors="replace") as handle:
        reader = _cells_of(handle, sep)
        return [cells for _, cells in zip(range(_HEADER_SEARCH), reader)]


def _names_row(rows) -> int | None:
    """The row (counted from 1) of ``rows`` that holds the column names below a title: the first
    naming two species or more, where the first row names none; None where the first row names
    one or no row names two."""
    if species_names(rows[0] if rows else []):
        return None
    for number, cells in enumerate(rows[1:], start=2):
        if len(species_names(cells)) >= 2:
            return number
    return None


def _refuse_names_below(name: str, rows) -> None:
    """Raise when the first of ``rows`` names no species but a later one names several: the
    column names sit below a title. Returns when no row looks like column names."""
    number = _names_row(rows)
    if number is None:
        return
    found = species_names(rows[number - 1])
    raise ValueError(
        f"{name}: row 1 holds no oxide names but row {number} does ({', '.join(found[:5])}"
        f"{', ...' if len(found) > 5 else ''}): if the column names are there, pass header_row={number}."
    )


def _text_of(cell) -> str:
    """A cell's text, stripped; "" for an empty cell (None, NaN, pandas' NA)."""
    if cell is None or (isinstance(cell, float) and math.isnan(cell)) or type(cell).__name__ in ("NAType", "NaTType"):
        return ""
    return str(cell).strip()


_PLAIN_NUMBER = re.compile(r"[+\-\u2212]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][+-]?\d+)?")


def _is_number(cell) -> bool:
    """Whether a cell holds a number (a numeric cell, or text that is one: ``49.54``, ``49,54``)."""
    if isinstance(cell, bool):
        return False
    if isinstance(cell, numbers.Number):
        return _text_of(cell) != ""
    return bool(_PLAIN_NUMBER.fullmatch(_text_of(cell)))


# A units row's cells (lower case, without spaces or brackets) -> the unit; "wt%" is what is read
_WT_PERCENT = re.compile(r"wt\.?%?|wt\.?pct|wt\.?percent|weight%|mass%|%|oxidewt\.?%|wt\.?%oxides?")
_OTHER_UNITS = {
    "ppm": "ppm",
    "ppmw": "ppm",
    "\u00b5g/g": "ppm",
    "\u03bcg/g": "ppm",
    "ug/g": "ppm",
    "mg/kg": "ppm",
    "ppb": "ppb",
    "ng/g": "ppb",
    "mol%": "mol%",
    "mol.%": "mol%",
    "mole%": "mol%",
    "at%": "at%",
    "at.%": "at%",
    "atom%": "at%",
    "apfu": "apfu",
    "a.p.f.u.": "apfu",
    "pfu": "apfu",
    "cpfu": "apfu",
    "cations": "apfu",
}
_UNIT_LABELS = {"unit", "units", "unit:", "units:"}  # a units row's own label ("Units", wt%, wt%, ...)


def _unit_of(text: str) -> str | None:
    """The unit a units row's cell names ("wt%", "ppm", ...; "" for a label such as ``Units``),
    or None for a cell that is not a unit."""
    key = re.sub(r"\s+", "", text.lower()).strip("()[]")
    if key in _UNIT_LABELS:
        return ""
    if _WT_PERCENT.fullmatch(key):
        return "wt%"
    return _OTHER_UNITS.get(key)


def units_row(cells: list, names: list) -> list[str] | None:
    """The unit of each column, where ``cells`` (the row below the column ``names``) is a units
    row: its every filled cell a unit (``wt%``, ``wt.%``, ``(wt%)``, ``%``, ``ppm``, ``apfu``...),
    one of them under a species; None for a row that is not (an analysis, a row of text).

    Parameters
    ----------
    cells : list
        The row's cells, in the order of ``names`` (empty cells None, NaN or "").
    names : list
        The column names above them.

    Returns
    -------
    list of str or None
        One unit per column ("" where the cell is empty or a label such as ``Units``).
    """
    units = []
    for cell in cells:
        text = _text_of(cell)
        unit = _unit_of(text) if text else ""
        if unit is None:
            return None
        units.append(unit)
    named = [name for name, unit in zip(names, units, strict=False) if unit and species_names([name])]
    return units if named else None


def with_units(names: list, units: list[str]) -> list:
    """``names`` with the unit of a units row added where it is not wt% (``NiO`` over ``ppm``:
    ``NiO (ppm)``), so that the column is read as a header naming its unit is (kept, not read
    as wt%, and named by :func:`minml.check_oxides`).

    Raises
    ------
    ValueError
        Where such a name is already a column's.
    """
    renamed = [
        f"{name} ({unit})" if unit not in ("", "wt%") else name
        for name, unit in zip(names, list(units) + [""] * (len(names) - len(units)), strict=True)
    ]
    clash = sorted({new for new, old in zip(renamed, names, strict=True) if new != old and new in names})
    if clash:
        raise ValueError(
            f"The units row names columns {clash}, which the table already has: rename one of each pair, "
            "or delete the units row and name each column's unit in its name."
        )
    return renamed


def units_note(where: str, row: int, units: list[str], names: list, renamed: list) -> str:
    """What to tell of a units row read with the column names."""
    kinds = ", ".join(dict.fromkeys(unit for unit in units if unit))
    moved = [new for new, old in zip(renamed, names, strict=True) if new != old]
    read = f"; columns in another unit than wt% renamed, so not read as wt%: {moved}" if moved else ""
    return (
        f"{where}: row {row} holds the columns' units ({kinds}), not an analysis: read with the column names, "
        f"and left out of the rows{read}."
    )


# Notes below a table: "a: analysed at 15 kV", "* below detection", "Notes: ...", "[1] SMITH J. ..."
_NOTE_START = re.compile(
    r"^(?:\[\d+\]|\(?[a-z]\)|[a-z]\s*[:=]|[*\u2020\u2021\u00a7\u00b6#]|notes?\b|footnotes?\b|"
    r"references?\b|sources?\b|data\s+(?:from|source))",
    re.IGNORECASE,
)
_REFERENCES = re.compile(r"(?:references?|sources?|bibliography)\s*:?", re.IGNORECASE)  # GEOROC's "References:"
_ANALYSIS_NUMBERS = 3  # a row of a references block holds fewer numbers than an analysis


def _note_row(cells: list) -> bool:
    """Whether a row is no analysis: blank, one cell of text, or text led by a note's mark
    (``a:``, ``*``, ``Notes:``, ``[1]``) without a number."""
    texts = [_text_of(cell) for cell in cells]
    filled = [text for text in texts if text]
    if not filled:
        return True
    if any(_is_number(cell) for cell, text in zip(cells, texts, strict=True) if text):
        return False
    return len(filled) == 1 or bool(_NOTE_START.match(texts[0]))


def _may_end_in_notes(last: list) -> bool:
    """Whether a table's last row may begin its notes: a note's row (:func:`_note_row`), or one
    led by a note's mark (``[1] Smith 2001, J. Petrol. 42``) with fewer than three numbers (a
    point named ``#2`` with its analysis is no note)."""
    if _note_row(last):
        return True
    numbers = sum(_is_number(cell) for cell in last if _text_of(cell))
    return bool(last) and bool(_NOTE_START.match(_text_of(last[0]))) and numbers < 3


def _references_start(rows: list[list]) -> int:
    """Where a references block ends ``rows`` (GEOROC's ``References:`` row, then a reference a
    row, which may hold a number or two: a volume, a year); ``len(rows)`` for none."""
    for i in range(len(rows) - 1, -1, -1):
        cells = rows[i]
        lone = sum(1 for cell in cells if _text_of(cell)) == 1
        if cells and lone and _REFERENCES.fullmatch(_text_of(cells[0])):
            return i
        if sum(_is_number(cell) for cell in cells) >= _ANALYSIS_NUMBERS:
            break
    return len(rows)


_NOTES_SEARCH = 10_000  # rows at the end of a table searched for its notes and references


def notes_below(table) -> int:
    """How many rows at the end of a DataFrame are notes, not analyses (:func:`trailing_notes`);
    only its last row is looked at where that is an analysis."""
    if not len(table):
        return 0
    if not _may_end_in_notes(table.iloc[-1].tolist()):
        return 0
    return trailing_notes(table.iloc[-_NOTES_SEARCH:].astype(object).to_numpy().tolist())


def trailing_notes(rows: list[list]) -> int:
    """How many of the last ``rows`` of a table are notes, not analyses: blank rows, rows of
    one text cell or led by a note's mark (:func:`_note_row`), a references block; 0 where the
    last row is an analysis, or where no analysis is left above them (nothing is then cut).

    Parameters
    ----------
    rows : list of list
        The table's last rows (all of them, or enough to hold its notes), each a list of cells.

    Returns
    -------
    int
    """
    if not rows:
        return 0
    if not _may_end_in_notes(rows[-1]):
        return 0  # the common case: the table ends with an analysis
    end = _references_start(rows)
    i = end
    while i > 0 and _note_row(rows[i - 1]):
        i -= 1
    return 0 if i == 0 else len(rows) - i


def quoted(text: str, limit: int = 80) -> str:
    """``text`` quoted for a message, cut after ``limit`` characters."""
    return f"{text[:limit]!r}{'...' if len(text) > limit else ''}"


def notes_note(where: str, count: int, kind: str, first: int, rows: list[list]) -> str:
    """What to tell of ``count`` lines (``kind``: "lines" or "rows") left out below a table,
    from ``first``; ``rows``: those that pandas read (their first text is shown)."""
    shown = next((" ".join(t for t in map(_text_of, cells) if t) for cells in rows if any(map(_text_of, cells))), "")
    what = f" ({quoted(shown)})" if shown else ""
    return (
        f"{where}: {count} {kind if count != 1 else kind[:-1]} below the last analysis left out, from "
        f"{kind[:-1]} {first}{what}: notes or references, not analyses."
    )


def note_lines(path: Path, codec: str, count: int) -> tuple[int, int]:
    """Where the last ``count`` rows of a text file start, as (line number, lines from there to
    the end): blank lines (which no reader takes for a row) are counted among the lines."""
    last: collections.deque = collections.deque(maxlen=count + 1)
    total = 0
    with open(path, newline="", encoding=codec, errors="replace") as handle:
        for total, line in enumerate(handle, start=1):
            if line.strip():
                last.append(total)
    above = last[0] if len(last) == count + 1 else 0
    return above + 1, total - above


_TAIL_BYTES = 64 * 1024  # a text file's last bytes, enough for its last line


def rows_left_out(path: Path, sep: str, codec: str = "utf-8-sig") -> bool:
    """Whether a text file holds rows that :func:`minml.read_table` leaves out, with a warning:
    a units row under its column names (:func:`units_row`), or a last line that is a note
    (:func:`trailing_notes`).  For readers that do not leave them out (pyarrow's): they
    should let :func:`minml.read_table` read such a file.

    Parameters
    ----------
    path : pathlib.Path
    sep : str
        The file's separator, as sniffed (:func:`_sniff_separator`).
    codec : str, default="utf-8-sig"

    Returns
    -------
    bool
    """
    filled = [cells for cells in _first_lines(path, codec, sep) if len(cells) > 1 or any(c.strip() for c in cells)]
    if sep != _WHITESPACE and len(filled) > 1 and units_row(filled[1], filled[0]) is not None:
        return True
    with open(path, "rb") as handle:
        handle.seek(max(path.stat().st_size - _TAIL_BYTES, 0))
        tail = handle.read().decode(codec, errors="replace")
    last = next((line for line in reversed(tail.splitlines()) if line.strip()), "")
    cells: list = next(_cells_of([last], sep), [])
    return len(filled) > 1 and bool(cells) and _may_end_in_notes(cells)
