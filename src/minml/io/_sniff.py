"""What a text file is before it is read: its codec, its separator, the row of its column names.

Shared by the CSV readers (:mod:`minml.io._csv`, :mod:`minml.io._csv_arrow`) and, for the
column names below a title, the Excel reader.
"""

from __future__ import annotations

import codecs
import csv
import functools
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
                f"{', ...' if len(found) > 5 else ''}): if the column names are there, pass header_row={number}."
            )
