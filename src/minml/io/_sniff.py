"""What a text file is before it is read: its codec, its separator, the row of its column names.

Shared by the CSV readers (:mod:`minml.io._csv`, :mod:`minml.io._csv_arrow`) and, for the
column names below a title, the Excel reader.
"""

from __future__ import annotations

import codecs
import csv
from pathlib import Path

from minml.chemistry.oxides import species_names

_HEADER_SEARCH = 50  # rows searched for column names when the first row holds none


def _text_encoding(encoding: str | None, path: Path | None = None) -> str:
    """The codec a text file is read with: UTF-8 (a byte-order mark dropped) by default, or
    UTF-16 when ``path`` starts with its byte-order mark (Excel's "Unicode Text"): a mark
    declares the encoding, nothing is guessed."""
    if encoding is None:
        if path is not None and path.is_file():
            with open(path, "rb") as handle:
                if handle.read(2) in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
                    return "utf-16"
        return "utf-8-sig"
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        raise ValueError(
            f"Unknown encoding {encoding!r}; e.g. 'utf-8', 'cp1252' (Excel on Windows), 'latin-1'."
        ) from None
    return "utf-8-sig" if name in ("utf-8", "utf-8-sig") else encoding


def _not_utf8(path: Path, error: UnicodeDecodeError) -> ValueError:
    """What to tell a user whose text file is not UTF-8: where the first foreign byte is,
    and how to read the file."""
    data = path.read_bytes()
    try:
        data.decode("utf-8")
        where = ""
    except UnicodeDecodeError as first:  # the reader's error counts bytes from its own buffer
        line = data.count(b"\n", 0, first.start) + 1
        start = data.rfind(b"\n", 0, first.start) + 1
        end = data.find(b"\n", first.start)
        text = data[start : end if end >= 0 else len(data)].decode("utf-8", errors="replace").strip()
        where = f": byte 0x{data[first.start]:02x} on line {line} ({text[:60]!r})"
    return ValueError(
        f"{path.name!r} is not UTF-8 text{where or f' ({error.reason})'}. Files saved as 'CSV' by Excel on "
        "Windows are usually cp1252: pass encoding='cp1252' (on the command line: --encoding cp1252), "
        "or save the file as 'CSV UTF-8'."
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


def _refuse_names_below(name: str, rows) -> None:
    """Raise when the first of ``rows`` names no species but a later one names several: the
    column names sit below a title. Returns when no row looks like column names."""
    if species_names(rows[0] if rows else []):
        return
    for number, cells in enumerate(rows[1:], start=2):
        found = species_names(cells)
        if len(found) >= 2:
            raise ValueError(
                f"{name}: row 1 holds no oxide names but row {number} does ({', '.join(found[:5])}"
                f"{', ...' if len(found) > 5 else ''}): if the column names are there, pass header_row={number} "
                f"(on the command line: --header-row {number})."
            )
