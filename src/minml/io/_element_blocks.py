"""EDS results printed one element a row: a block per analysis, read as one row per analysis.

EDS software prints the quantitative result of one spectrum as a small table under its name,
one element a row, the concentrations in columns, a total below:

* Oxford AZtec's spectrum results: the spectrum's name (``Spectrum 1``), a header ``Element``,
  ``Line Type``, ``Apparent Concentration``, ``k Ratio``, ``Wt%``, ``Wt% Sigma``, ``Atomic %``,
  ``Oxide``, ``Oxide %``, ``Oxide % Sigma`` ..., one row per element (``Si``, ``K series``, ...)
  and a ``Total`` row; one such block after the other when several spectra are exported.
* EDAX APEX / TEAM single-spectrum exports: ``key,value`` lines (``Project``, ``kV``,
  ``Live Time``), then ``Element,Weight %,Error %`` and one row per element named with its X-ray
  line (``O  K``, ``Si K``, ``Fe K``), without a total.

Each block becomes one row: its name, the oxide wt% (from ``Oxide %``, named by the ``Oxide``
column) or else the element wt% (``Wt%``, ``Weight %``, oxygen included), and the total.
Sigma, error, atomic and k-ratio columns are not read.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from minml.chemistry.oxides import canonical_name

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["blocks_frame", "blocks_kind", "element_blocks", "number"]

_MIN_ELEMENTS = 1  # element rows in a block (a quartz prints Si and O only)
_SPACES = re.compile(r"\s+")
_ELEMENT = re.compile(r"^element$", re.IGNORECASE)
_OXIDE_WT = re.compile(r"^(oxide|compound)\s*(wt\.?\s*)?%$", re.IGNORECASE)
_ELEMENT_WT = re.compile(r"^(wt\.?|weight|mass|conc\.?)\s*%$", re.IGNORECASE)
_OXIDE_NAME = re.compile(r"^(oxide|formula|compound)$", re.IGNORECASE)
_TOTAL = re.compile(r"^totals?\s*:?$", re.IGNORECASE)
_NAME_KEYS = re.compile(r"^(spectrum(\s+label)?|label|sample(\s+name)?|project|specimen|name)\s*:?$", re.IGNORECASE)
_AZTEC_WORDS = re.compile(r"^(line\s+type|wt%\s+sigma|oxide\s*%\s+sigma|standard\s+label|apparent\s+concentration)$")
# an element row's label: the symbol, maybe with its X-ray line ("O  K", "Fe L", "Si Ka1")
_ELEMENT_ROW = re.compile(r"^([A-Z][a-z]?)(?:\s+[KLM](?:[a\u03b1b\u03b2]\d?)?(?:\s+series)?)?$")
_SYMBOLS = frozenset(  # the elements, H to Pu, one capital letter each
    re.findall(
        r"[A-Z][a-z]?",
        "HHeLiBeBCNOFNeNaMgAlSiPSClArKCaScTiVCrMnFeCoNiCuZnGaGeAsSeBrKrRbSrYZrNbMoTcRuRhPdAgCdInSn"
        "SbTeIXeCsBaLaCePrNdPmSmEuGdTbDyHoErTmYbLuHfTaWReOsIrPtAuHgTlPbBiPoAtRnFrRaAcThPaUNpPu",
    )
)


def _text(cell) -> str:
    return "" if cell is None else _SPACES.sub(" ", str(cell)).strip()


def _filled(row: list) -> list[str]:
    return [_text(c) for c in row if _text(c)]


_NUMBER = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$")


def number(cell) -> float | None:
    """The number a cell of an instrument export holds (a decimal comma read as a point), or
    None.  Only a plain decimal: Python's ``float`` also takes ``24_081`` (a sample name),
    ``nan`` and ``inf``, which no instrument writes for a measured value."""
    text = _text(cell).replace(",", ".")
    return float(text) if _NUMBER.match(text) else None


def _symbol(cell: str) -> str | None:
    """The element an element row names (carbon and gold coats included), or None."""
    found = _ELEMENT_ROW.match(cell)
    return found.group(1) if found and found.group(1) in _SYMBOLS else None


def _columns(header: list[str]) -> dict[str, int] | None:
    """Where the block's values are: ``value`` (oxide or element wt%), ``oxide`` (the oxide's
    name), ``kind`` ("oxide" or "element"); None for a row that heads no block."""
    if not header or not _ELEMENT.match(header[0]):
        return None
    oxide_wt = next((i for i, h in enumerate(header) if _OXIDE_WT.match(h)), None)
    oxide_name = next((i for i, h in enumerate(header) if _OXIDE_NAME.match(h)), None)
    if oxide_wt is not None and oxide_name is not None:
        return {"value": oxide_wt, "oxide": oxide_name, "oxides": 1}
    element_wt = next((i for i, h in enumerate(header) if _ELEMENT_WT.match(h)), None)
    return None if element_wt is None else {"value": element_wt, "oxides": 0}


def _name_above(rows: list[list], header_at: int, since: int) -> str:
    """A block's name: the lone cell on the row above its header (AZtec's ``Spectrum 1``), else
    the value of a ``Spectrum``/``Project``/``Sample`` line above it."""
    above = [_filled(rows[i]) for i in range(header_at - 1, since - 1, -1)]
    above = [cells for cells in above if cells]
    if above and len(above[0]) == 1 and _symbol(above[0][0]) is None and not _NAME_KEYS.match(above[0][0]):
        return above[0][0]
    for cells in above:
        if len(cells) >= 2 and _NAME_KEYS.match(cells[0]):
            return cells[1]
    return ""


def element_blocks(rows: list[list]) -> list[dict]:
    """Every block of ``rows`` (cells as read): its name, header words, values by name and total."""
    blocks: list[dict] = []
    i, since = 0, 0
    while i < len(rows):
        header = [_text(c) for c in rows[i]]
        columns = _columns(header)
        if columns is None:
            i += 1
            continue
        name, values, total = _name_above(rows, i, since), {}, None
        i += 1
        while i < len(rows):
            cells = [_text(c) for c in rows[i]] + [""] * len(header)
            if _TOTAL.match(cells[0]):
                total = number(cells[columns["value"]])
                i += 1
                break
            symbol = _symbol(cells[0])
            if symbol is None:
                break
            label = cells[columns["oxide"]] if columns["oxides"] else symbol
            if columns["oxides"] and canonical_name(label) is None:
                label = symbol  # oxygen, or an element printed without its oxide
            value = number(cells[columns["value"]])
            if value is not None:  # oxygen by stoichiometry prints no oxide %
                values[label] = value
            i += 1
        if len(values) >= _MIN_ELEMENTS:
            blocks.append({"name": name, "header": header, "values": values, "total": total})
        since = i
    return blocks


def blocks_kind(blocks: list[dict]) -> str:
    """The software that printed the blocks, from their header words."""
    words = {h.lower() for block in blocks for h in block["header"]}
    return "Oxford AZtec" if any(_AZTEC_WORDS.match(w) for w in words) else "EDS element wt%"


def blocks_frame(blocks: list[dict], fallback: str) -> pd.DataFrame:
    """One row per block: ``point`` (its name, ``fallback`` where it has none), the values as
    named, ``Total`` where the blocks print one."""
    import pandas as pd

    records = []
    for k, block in enumerate(blocks):
        name = block["name"] or (fallback if len(blocks) == 1 else f"{fallback} {k + 1}")
        record = {"point": name, **block["values"]}
        if block["total"] is not None:
            record["Total"] = block["total"]
        records.append(record)
    return pd.DataFrame.from_records(records)
