"""Column names understood: units, subscripts, aliases, phase affixes, element symbols, what is
printed beside a species and units other than wt% (re-exported by :mod:`minml.chemistry.oxides`,
whose :func:`~minml.chemistry.oxides.map_columns` reads a whole header with them)."""

from __future__ import annotations

import difflib
import re
import unicodedata
from functools import lru_cache

from minml._resources import load_toml
from minml.chemistry._oxide_table import element_oxides, species_table

__all__ = ["canonical_name", "digit_for_letter", "element_symbol", "lookalike_words", "species_names"]

# Unit annotations that may follow or precede an oxide name: "(wt%)", "[wt.%]", "wt %", "_wt%",
# "_wt", ", wt%", "(mass%)", "(%)", and a bare "%" at the end ("K2O%", "SiO2 %").
_UNITS = re.compile(
    r",?\s*_?[\(\[]?\s*(?:wt\.?\s*%?|mass\s*%)\s*[\)\]]?|[\(\[]\s*%\s*[\)\]]|_pct$|_wt$|\s*%$", re.IGNORECASE
)
_SPACES = re.compile(r"[\s\u00a0]+")
# where a phase affix may begin or end: "_", "-", ".", a space, or before a bracket ("SiO2(Cpx)")
_AFFIX_SEP = re.compile(r"[_\-\s.]|(?=[\(\[])")
# Units that are not wt%, after a name ("(ppm)", "[mol%]", "_apfu", " at%") or before it ("ppm "):
# a species or element column carrying one is kept and named, never read (nor taken for a phase
# suffix, as "SiO2_mol" was)
_ATOMS, _CATIONS = "atoms (at% or atomic proportions)", "cations per formula unit"
_OTHER_UNIT_WORDS = {
    "ppm": "ppm",
    "ppb": "ppb",
    "mol": "mol%",
    "mole": "mol%",
    "molar": "mol%",
    "molpct": "mol%",
    "at": _ATOMS,
    "atpct": _ATOMS,
    "atom": _ATOMS,
    "atomic": _ATOMS,
    "apfu": _CATIONS,
    "pfu": _CATIONS,
    "cation": _CATIONS,
    "cations": _CATIONS,
    "cat": "cation %",
}
_UNIT = r"(?:ppm|ppb|mol(?:e|ar|pct)?|at(?:om(?:ic)?|pct)?|a\.?p\.?f\.?u\.?|pfu|cations?|cat)\.?\s*%?"
_OTHER_UNIT = re.compile(
    rf"[\s_]*[\(\[]\s*(?P<a>{_UNIT})\s*[\)\]]\s*$|[\s_]+(?P<b>{_UNIT})\s*$|^\s*(?P<c>{_UNIT})[\s_]+", re.IGNORECASE
)


def _spaced(name) -> str:
    """Normalised form of a column name that keeps its words apart: Unicode compatibility forms
    read as the plain characters they stand for (NFKC: ``FeOᵀ`` -> ``FeOT``, ``SiO₂`` -> ``SiO2``,
    full-width letters, as copied from a PDF or a word processor), no units, one space between
    words, lower case (``Cpx SiO2`` -> ``cpx sio2``)."""
    text = _SPACES.sub(" ", unicodedata.normalize("NFKC", str(name))).strip()
    return _SPACES.sub(" ", _UNITS.sub("", text)).strip().lower()


def _key(name) -> str:
    """Normalised form of a column name: as :func:`_spaced`, without spaces."""
    return _spaced(name).replace(" ", "")


@lru_cache(maxsize=1)
def _alias_keys() -> dict[str, str]:
    raw = load_toml("oxides.toml")
    keys = {_key(name): name for name in species_table()}
    for name, spellings in raw["aliases"].items():
        for spelling in spellings:
            keys[_key(spelling)] = name
    return keys


# Affix words that make a column something printed beside a species, not the species: its
# spread (SiO2_sd, err_SiO2), detection limit (SiO2_DL), other statistics (SiO2_max) or the
# microprobe's counts (SiO2_cps). Kept, named, never read, never taken for a phase suffix.
_BESIDE_WORDS = {
    "the spread (sd, error)": (
        "sd",
        "se",
        "sem",
        "err",
        "error",
        "errors",
        "std",
        "stdev",
        "stddev",
        "sigma",
        "unc",
        "uncert",
        "uncertainty",
        "rsd",
        "mad",
        "ci",
        "pm",
        "relerr",
        "rse",
        "cv",
    ),
    "the detection limit": ("dl", "lod", "mdl", "lld", "detlim", "dlim", "detectionlimit"),
    "a statistic (min, max, count)": ("min", "max", "range", "n", "count"),
    "X-ray counts or k-ratio": ("cps", "counts", "net", "bg", "bkg", "peak", "kratio"),
}
_BESIDE = {word: what for what, words in _BESIDE_WORDS.items() for word in words}


def _affix_word(text: str) -> str:
    """An affix as one lower-case word, without the brackets around it or spaces: ``(cpx)`` ->
    ``cpx``, ``core rim`` -> ``corerim``; empty unless letters only."""
    text = text.strip()
    if text[:1] in "([" and text[-1:] in ")]":
        text = text[1:-1]
    word = text.replace(" ", "")
    return word if word.isalpha() else ""


def _affixes(name):
    """Each way to read a column name as a species with a phase affix: (species, affix, kind,
    word).  The affix is separated by ``_``, ``-``, ``.``, a space or brackets: ``SiO2_Cpx``,
    ``Cpx SiO2``, ``SiO2 (Cpx)``, ``Core SiO2``, ``SiO2 rim``."""
    keys = _alias_keys()
    spaced = _spaced(name)
    for match in _AFFIX_SEP.finditer(spaced):
        head, tail = spaced[: match.start()], spaced[match.end() :]
        species, word = keys.get(head.replace(" ", "")), _affix_word(tail)
        if species is not None and word:
            yield species, spaced[match.start() :], "suffix", word
        species, word = keys.get(tail.replace(" ", "")), _affix_word(head)
        if species is not None and word:
            yield species, spaced[: match.end()], "prefix", word


def _split_affix(name) -> tuple[str, str, str] | None:
    """``SiO2_Cpx`` -> (``SiO2``, ``_cpx``, 'suffix'); ``Clinopyroxene_SiO2`` or ``Cpx SiO2`` ->
    prefix; None for what is printed beside a species (``SiO2_sd``, ``err_SiO2``, ``SiO2_DL``:
    :func:`_beside_of`)."""
    for species, affix, kind, word in _affixes(name):
        if word not in _BESIDE:
            return species, affix, kind
    return None


def _beside_of(name) -> str | None:
    """What a column printed beside a species holds, as a note: ``SiO2_sd`` -> "the spread (sd,
    error) of SiO2, not read"; None for other columns."""
    return next(
        (f"{_BESIDE[word]} of {species}, not read" for species, _, _, word in _affixes(name) if word in _BESIDE),
        None,
    )


def _original_affix(column: str, affix: str, kind: str) -> str:
    """The affix as spelt in the column name (``_Cpx``, `` (Cpx)``), found from its normalised form."""
    text = _SPACES.sub(" ", unicodedata.normalize("NFKC", str(column))).strip()
    if kind == "suffix":
        start = text.lower().rfind(affix)
        return text[start:] if start >= 0 else affix
    return text[: len(affix)] if text.lower().startswith(affix) else affix


def canonical_name(name: str, suffix: str | None = None) -> str | None:
    """The canonical species a column name stands for, or None.

    Parameters
    ----------
    name : str
        A column name as found in a file.
    suffix : str, optional
        A phase suffix (``"_Cpx"``) or prefix (``"Core_"``) to strip first; matched
        case-insensitively.

    Returns
    -------
    str or None

    Examples
    --------
    >>> canonical_name("SIO2(WT%)"), canonical_name("FeO*"), canonical_name("Si02")
    ('SiO2', 'FeOt', None)
    >>> canonical_name("SiO2_Cpx"), canonical_name("Clinopyroxene_Al2O3"), canonical_name("SiO2 (Cpx)")
    ('SiO2', 'Al2O3', 'SiO2')
    >>> canonical_name("FeOᵀ"), canonical_name("Cpx SiO2", suffix="Cpx ")
    ('FeOt', 'SiO2')
    """
    key = _key(name)
    if suffix is not None:
        skey = _key(suffix)
        if key.endswith(skey):
            key = key[: len(key) - len(skey)]
        elif key.startswith(skey):  # a prefix, as the clash message may advise (Core_SiO2, Rim_SiO2)
            key = key[len(skey) :]
        else:
            return None
    keys = _alias_keys()
    if key in keys:
        return keys[key]
    if suffix is None:
        split = _split_affix(name)
        if split is not None:
            return split[0]
    return None


# The X-ray line EDS software prints after an element symbol: "O  K", "Si K", "Fe L", "Si Ka1"
# (EDAX's element labels; AZtec's "Line Type" column says "K series")
_XRAY_LINE = re.compile(r"^\s*([A-Za-z]{1,2})\s+[KLM](?:[a\u03b1b\u03b2]\d?)?(?:\s+series)?\s*$")


def element_symbol(name: str) -> str | None:
    """The element a column name stands for (``Si``, ``Fe (wt%)``, ``NA``, ``Si K`` with the
    X-ray line EDS software names it by), if it names one whose oxide the table knows, or
    oxygen; else None."""
    line = _XRAY_LINE.match(str(name))
    key = _key(line.group(1) if line else name)
    symbol = key[:1].upper() + key[1:]
    return symbol if symbol in element_oxides() or symbol == "O" else None


def species_names(cells, suffix: str | None = None) -> list[str]:
    """The text cells among ``cells`` that name a species as a column name would (a row of a
    sheet that may hold the column names, or a first column that may list the oxides).

    Examples
    --------
    >>> species_names(["Table S3", "SiO2 (wt%)", 40.2, "FeO*", None])
    ['SiO2 (wt%)', 'FeO*']
    """
    return [cell for cell in cells if isinstance(cell, str) and canonical_name(cell, suffix) is not None]


@lru_cache(maxsize=1)
def _lookalikes() -> dict[str, str]:
    """Each digit typed (or read by OCR) for a letter it looks like -> that letter
    (``oxides.toml``'s ``lookalikes``: 0 for O, 1 for l)."""
    return dict(load_toml("oxides.toml")["lookalikes"])


def _as_letters(key: str, digits) -> str:
    """``key`` with each of ``digits`` read as the letter it looks like (lower case, as keys are)."""
    letters = _lookalikes()
    table: dict[str, str | int | None] = {digit: letters[digit].lower() for digit in digits}
    return key.translate(str.maketrans(table))


@lru_cache(maxsize=1)
def _lookalike_keys() -> dict[str, str]:
    """Each known spelling of an oxide with its letters read as the digits that look like them
    undone (``al2o3``) -> its species.  Oxides only: a bare element symbol (``C1`` for Cl) is
    too short to tell from a label."""
    table = species_table()
    return {
        _as_letters(key, _lookalikes()): name
        for key, name in reversed(_alias_keys().items())
        if table[name].oxygens > 0
    }


def _misread(name, digits) -> str | None:
    """The oxide ``name`` spells with some of ``digits`` for the letters they look like."""
    key = _key(name)
    used = [digit for digit in digits if digit in key]
    return _lookalike_keys().get(_as_letters(key, used)) if used else None


def digit_for_letter(name) -> str | None:
    """The oxide a column name spells with a digit for the letter it looks like (0 for O:
    ``Si02``, ``Al203``, ``Fe0T``, ``Na20``; 1 for l: ``A12O3``), as typed by hand or read by
    OCR; None for any other name.  Such a column is never read as the oxide (a near miss,
    with a "did you mean"); the digits are data (``lookalikes`` in ``oxides.toml``).

    Examples
    --------
    >>> digit_for_letter("Na20"), digit_for_letter("A12O3"), digit_for_letter("A1203")
    ('Na2O', 'Al2O3', 'Al2O3')
    >>> digit_for_letter("SiO2"), digit_for_letter("C1"), digit_for_letter("SiO2_1")
    (None, None, None)
    """
    return _misread(name, _lookalikes())


def lookalike_words(name) -> str:
    """How a column name spells its oxide (:func:`digit_for_letter`), for a message: ``Al203``
    -> "the digit 0 for the letter O"; empty for a name that spells none so.

    Examples
    --------
    >>> lookalike_words("A1203")
    'the digits 1 for the letter l and 0 for the letter O'
    """
    if digit_for_letter(name) is None:
        return ""
    key = _key(name)
    used = [f"{digit} for the letter {letter}" for digit, letter in _lookalikes().items() if digit in key]
    used.sort(key=lambda words: key.index(words[0]))
    return ("the digits " if len(used) > 1 else "the digit ") + " and ".join(used)


def _hint(name: str) -> str | None:
    """A 'did you mean' for near misses such as ``Si02``, ``Al203`` (zero for O), ``A12O3``
    (one for l) or ``SiO2x``."""
    found = digit_for_letter(name)
    if found is not None:
        return found
    keys = _alias_keys()
    close = difflib.get_close_matches(_key(name), list(keys), n=1, cutoff=0.85)
    return keys[close[0]] if close else None


# Columns that are never species, whatever they look like.
_NOT_SPECIES = {"total", "totals", "sum", "mineral", "phase", "sample", "samplename", "comment"}


def _unit_note(name: str) -> str | None:
    """What to say of a species or element column in a unit other than wt% (``Cr2O3 (ppm)``,
    ``Ni_ppm``, ``SiO2 (mol%)``, ``Si_apfu``): it is not read.  None for other columns."""
    found = _OTHER_UNIT.search(str(name))
    if not found:
        return None
    word = re.sub(r"[^a-z]", "", next(g for g in found.groups() if g).lower())
    unit = _OTHER_UNIT_WORDS.get(word, word)
    bare = _OTHER_UNIT.sub("", str(name))
    species = canonical_name(bare)
    symbol = element_symbol(bare)
    if species is None and symbol in (None, "O"):
        return None
    if unit != "ppm":
        return f"in {unit}, not wt%: not read (give the analysis as oxide wt%)"
    if species is not None:
        return f"in ppm, not read: divide by 10,000 for wt% and name the column {species} to use it"
    assert symbol is not None  # species is None here, so the element names the column
    oxide, factor = element_oxides()[symbol]
    return (
        f"{symbol} in ppm, not read: {oxide} wt% is {symbol} ppm x {factor:.4g} / 10,000 "
        f"(a column named {oxide} in wt% is read)"
    )
