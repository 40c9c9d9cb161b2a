"""The cells of a workbook that hold no value to read: Excel error cells (``#DIV/0!``,
``#VALUE!``, ``#REF!``, ``#N/A``, ...) and formulas saved without their result.

The engines give both as empty cells (calamine and openpyxl alike), which would read as "not
analysed" with no word.  Here the sheet's XML is scanned for them (``t="e"`` cells, ``<f>``
without ``<v>``), so that the reader can put back what the cell shows: the error's text, or the
formula (``=B2/C2``), which the checks then flag per row, naming the column and the text.
Only the Office Open XML workbooks (``.xlsx``, ``.xlsm``) are scanned; ``.xls`` files are not.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path, PurePosixPath
from xml.etree import ElementTree

__all__ = ["unreadable_cells"]

_CELL = re.compile(rb'<(?:\w+:)?c r="([A-Z]+)(\d+)"([^>]*?)(?:/>|>(.*?)</(?:\w+:)?c>)', re.DOTALL)
_VALUE = re.compile(rb"<(?:\w+:)?v>([^<]*)</(?:\w+:)?v>")
_FORMULA = re.compile(rb"<(?:\w+:)?f(?:\s[^>]*)?(?:/>|>([^<]*)</(?:\w+:)?f>)")
_CHUNK = 1 << 22  # bytes of sheet XML read at a time
_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_RELATION = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"


def _column_number(letters: bytes) -> int:
    """0 for A, 25 for Z, 26 for AA."""
    number = 0
    for letter in letters:
        number = number * 26 + letter - 64
    return number - 1


def _sheet_parts(archive: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name to the archive member holding its cells."""
    book = ElementTree.fromstring(archive.read("xl/workbook.xml"))
    rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    targets = {rel.get("Id"): rel.get("Target", "") for rel in rels}
    parts = {}
    for sheet in book.iter(f"{_MAIN}sheet"):
        target = targets.get(sheet.get(_RELATION), "")
        member = target.lstrip("/") if target.startswith("/") else str(PurePosixPath("xl") / target)
        parts[sheet.get("name", "")] = member
    return parts


def _scan(chunk: bytes, found: dict[tuple[int, int], str]) -> None:
    """Add the error cells and formulas without a value in ``chunk`` (whole rows) to ``found``.
    Only the cells holding a formula or an error are parsed: most workbooks have a few, among
    millions of plain cells."""
    for marker in (b't="e"', b"<f", b":f>", b":f "):
        pos = chunk.find(marker)
        while pos >= 0:
            start = chunk.rfind(b'c r="', 0, pos)
            cell = _CELL.search(chunk, max(start - 4, 0)) if start >= 0 else None
            if cell is None:
                break
            _read_cell(cell, found)
            pos = chunk.find(marker, max(cell.end(), pos + 1))


def _read_cell(cell: re.Match, found: dict[tuple[int, int], str]) -> None:
    letters, row, attributes, body = cell.groups()
    body = body or b""
    value = _VALUE.search(body)
    if b't="e"' in attributes:
        found[int(row), _column_number(letters)] = (value.group(1) if value else b"#N/A").decode()
        return
    formula = _FORMULA.search(body)
    if formula is not None and (value is None or not value.group(1)):
        text = (formula.group(1) or b"").decode()
        found[int(row), _column_number(letters)] = f"={text}" if text else "=(formula without a saved value)"


def unreadable_cells(path: Path, sheet: str) -> dict[tuple[int, int], str]:
    """The error cells and formulas without a saved value of one sheet.

    Parameters
    ----------
    path : pathlib.Path
        An ``.xlsx`` or ``.xlsm`` workbook (anything else: an empty answer).
    sheet : str
        The sheet's name.

    Returns
    -------
    dict
        (row counted from 1, column counted from 0) to the text the cell shows: the error
        (``#DIV/0!``) or the formula (``=B2/C2``).
    """
    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        return {}
    found: dict[tuple[int, int], str] = {}
    try:
        with zipfile.ZipFile(path) as archive:
            member = _sheet_parts(archive).get(sheet)
            if member is None:
                return {}
            with archive.open(member) as cells:
                rest = b""
                while block := cells.read(_CHUNK):
                    data = rest + block
                    end = data.rfind(b"</row>")
                    if end < 0:
                        rest = data
                        continue
                    _scan(data[:end], found)
                    rest = data[end:]
                if rest:
                    _scan(rest, found)
    except (KeyError, zipfile.BadZipFile, ElementTree.ParseError):  # the engine read it: its cells stand
        return found
    return found
