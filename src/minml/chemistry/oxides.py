"""The oxide table and the one place where column names are understood.

Every species MIN-ML reads (oxides in wt%, plus F and Cl) is described once, in
``minml/data/oxides.toml``: its element, cations and oxygens per formula unit, and the
other spellings databases use for it.  Molar masses are computed from the standard
atomic weights in the same file.  :func:`map_columns` turns the column names of a real
table (``FeOT``, ``SiO2 (wt%)``, ``SIO2(WT%)``, ``SiO2_Cpx``, ``Clinopyroxene_SiO2``,
...) into the canonical names, and reports what it could not place.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache

from minml._resources import load_toml

__all__ = [
    "CORE_OXIDES",
    "FEO_PER_FE2O3",
    "ColumnMapping",
    "Species",
    "atomic_weight",
    "canonical_name",
    "element_oxides",
    "element_symbol",
    "map_columns",
    "molar_mass",
    "species_names",
    "species_table",
]


@dataclass(frozen=True)
class Species:
    """One analysed species (an oxide, or a halogen as the element).

    Attributes
    ----------
    name : str
        Canonical name, e.g. ``"Al2O3"``.
    element : str
        The cation (or, for halogens, the anion) symbol.
    cations, oxygens : int
        Atoms per formula unit of the species.
    molar_mass : float
        g/mol, from the standard atomic weights of the table.
    core : bool
        Part of the canonical oxide list of the models.
    pure_phase : bool
        Forms a natural phase on its own (≈100 wt% of it is not a column shift).
    halogen : bool
        Counted in the total less its oxygen equivalent.
    total_iron : bool
        Reports all iron as one oxide (``FeOt``, ``Fe2O3t``).
    """

    name: str
    element: str
    cations: int
    oxygens: int
    molar_mass: float
    core: bool = False
    pure_phase: bool = False
    halogen: bool = False
    total_iron: bool = False

    @property
    def charge(self) -> float:
        """Charge of one cation (oxygens balance it); ``-1`` for a halogen."""
        if self.halogen:
            return -1.0
        return 2.0 * self.oxygens / self.cations


@lru_cache(maxsize=1)
def species_table() -> dict[str, Species]:
    """All known species by canonical name, in the table's order.

    Returns
    -------
    dict of str to Species

    Examples
    --------
    >>> round(species_table()["SiO2"].molar_mass, 3)
    60.083
    """
    raw = load_toml("oxides.toml")
    weights = raw["atomic_weight"]
    table = {}
    for name, spec in raw["species"].items():
        mass = spec["cations"] * weights[spec["element"]] + spec["oxygens"] * weights["O"]
        table[name] = Species(
            name=name,
            element=spec["element"],
            cations=spec["cations"],
            oxygens=spec["oxygens"],
            molar_mass=mass,
            core=spec.get("core", False),
            pure_phase=spec.get("pure_phase", False),
            halogen=spec.get("halogen", False),
            total_iron=spec.get("total_iron", False),
        )
    return table


def atomic_weight(symbol: str) -> float:
    """Standard atomic weight of an element (g/mol), from the oxide table.

    Examples
    --------
    >>> atomic_weight("O")
    15.999
    """
    weights = load_toml("oxides.toml")["atomic_weight"]
    try:
        return weights[symbol]
    except KeyError:
        raise KeyError(f"No atomic weight for {symbol!r}; known: {sorted(weights)}") from None


def molar_mass(name: str) -> float:
    """Molar mass of a canonical species in g/mol.

    Examples
    --------
    >>> round(molar_mass("FeO"), 3)
    71.844
    """
    try:
        return species_table()[name].molar_mass
    except KeyError:
        raise KeyError(f"Unknown species {name!r}; known: {sorted(species_table())}") from None


CORE_OXIDES: tuple[str, ...] = tuple(n for n, s in species_table().items() if s.core)
"""The canonical oxides, in model order: SiO2 TiO2 Al2O3 Cr2O3 FeOt FeO Fe2O3 MnO MgO NiO CaO
Na2O K2O P2O5."""

FEO_PER_FE2O3: float = 2.0 * molar_mass("FeO") / molar_mass("Fe2O3")
"""wt% FeO equivalent to 1 wt% Fe2O3 (2 FeO / Fe2O3 = 0.8998)."""

# Unit annotations that may follow or precede an oxide name: "(wt%)", "[wt.%]", "wt %", "_wt%",
# "_wt", ", wt%", "(mass%)", "(%)", and a bare "%" at the end ("K2O%", "SiO2 %").
_UNITS = re.compile(
    r",?\s*_?[\(\[]?\s*(?:wt\.?\s*%?|mass\s*%)\s*[\)\]]?|[\(\[]\s*%\s*[\)\]]|_pct$|_wt$|\s*%$", re.IGNORECASE
)
# subscript digits, as in SiO₂ copied from a PDF or a word processor
_SUBSCRIPTS = str.maketrans("\u2080\u2081\u2082\u2083\u2084\u2085\u2086\u2087\u2088\u2089", "0123456789")
_SPACES = re.compile(r"[\s\u00a0]+")
_AFFIX_SEP = re.compile(r"[_\-\s.]")
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


def _key(name: str) -> str:
    """Normalised form of a column name: no units, no spaces, lower case."""
    text = _SPACES.sub(" ", str(name).translate(_SUBSCRIPTS)).strip()
    text = _UNITS.sub("", text)
    return _SPACES.sub("", text).lower()


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


def _affixes(key: str):
    """Each way to read ``key`` as a species with a phase affix: (species, affix, kind, word)."""
    keys = _alias_keys()
    for match in _AFFIX_SEP.finditer(key):
        head, tail = key[: match.start()], key[match.end() :]
        if head in keys and tail.isalpha():
            yield keys[head], key[match.start() :], "suffix", tail
        if tail in keys and head.replace(" ", "").isalpha():
            yield keys[tail], key[: match.end()], "prefix", head


def _split_affix(key: str) -> tuple[str, str, str] | None:
    """``sio2_cpx`` -> (``sio2``, ``_cpx``, 'suffix'); ``clinopyroxene_sio2`` -> prefix;
    None for what is printed beside a species (``sio2_sd``, ``err_sio2``, ``sio2_dl``: :func:`_beside_of`)."""
    for species, affix, kind, word in _affixes(key):
        if word not in _BESIDE:
            return species, affix, kind
    return None


def _beside_of(key: str) -> str | None:
    """What a column printed beside a species holds, as a note: ``sio2_sd`` -> "the spread (sd,
    error) of SiO2, not read"; None for other columns."""
    return next(
        (f"{_BESIDE[word]} of {species}, not read" for species, _, _, word in _affixes(key) if word in _BESIDE), None
    )


def _original_affix(column: str, affix: str, kind: str) -> str:
    """The affix as spelt in the column name (``_Cpx``), found from its normalised form."""
    text = str(column).strip()
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
    >>> canonical_name("SiO2_Cpx"), canonical_name("Clinopyroxene_Al2O3")
    ('SiO2', 'Al2O3')
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
        split = _split_affix(key)
        if split is not None:
            return split[0]
    return None


@lru_cache(maxsize=1)
def element_oxides() -> dict[str, tuple[str, float]]:
    """Each element's oxide as analyses report it, and wt% of that oxide per wt% of the element.

    The oxide is the element's first species in ``oxides.toml`` (iron as ``FeOt``); the
    halogens F and Cl are reported as elements already and are not in the result.

    Returns
    -------
    dict of str to (str, float)

    Examples
    --------
    >>> species, factor = element_oxides()["Si"]
    >>> species, round(factor, 4)
    ('SiO2', 2.1393)
    """
    out: dict[str, tuple[str, float]] = {}
    weights = load_toml("oxides.toml")["atomic_weight"]
    for name, spec in species_table().items():
        if spec.halogen or (spec.element == "Fe" and name != "FeOt"):
            continue
        out.setdefault(spec.element, (name, spec.molar_mass / (spec.cations * weights[spec.element])))
    return out


def element_symbol(name: str) -> str | None:
    """The element a column name stands for (``Si``, ``Fe (wt%)``, ``NA``), if it names one
    whose oxide the table knows, or oxygen; else None."""
    key = _key(name)
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


def _hint(name: str) -> str | None:
    """A 'did you mean' for near misses such as ``Si02`` or ``Al203`` (zero for O)."""
    keys = _alias_keys()
    key = _key(name)
    repaired = key.replace("0", "o")
    # put the digits back where a formula has them: "al2o3" from "al2o3", "sio2" from "sio2"
    for candidate_key, canonical in keys.items():
        if candidate_key.replace("0", "o") == repaired:
            return canonical
    close = difflib.get_close_matches(key, list(keys), n=1, cutoff=0.85)
    return keys[close[0]] if close else None


@dataclass
class ColumnMapping:
    """What the reader understood of a table's column names.

    Attributes
    ----------
    mapped : dict of str to str
        Original column -> canonical species.
    how : dict of str to str
        Original column -> how it was matched (``"exact"``, ``"alias"``, ``"suffix '_cpx'"``, ...).
    unrecognised : list of str
        Columns that are not species; kept, untouched, beside the result.
    hints : dict of str to str
        Unrecognised columns that look like a misspelt species -> that species.
    factors : dict of str to float
        Mapped columns not in wt% of their species -> the factor to it (element wt% when
        read with ``elements=True``: ``Si`` x 2.139 is ``SiO2``).
    notes : dict of str to str
        Unrecognised columns that are kept for a reason worth saying (ppm, oxygen).
    clashes : dict of str to list of str
        Species named by several columns (``NiO`` and ``NiO_Cpx``) -> those columns, when
        :func:`map_columns` was asked to leave them to the reader (``merge=True``).
    merged : dict of str to list of str
        A mapped column -> the columns of its species merged into it by the reader (never
        both holding a value in a row: a compilation of sources).
    """

    mapped: dict[str, str] = field(default_factory=dict)
    how: dict[str, str] = field(default_factory=dict)
    unrecognised: list[str] = field(default_factory=list)
    hints: dict[str, str] = field(default_factory=dict)
    factors: dict[str, float] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)
    clashes: dict[str, list[str]] = field(default_factory=dict)
    merged: dict[str, list[str]] = field(default_factory=dict)

    def affix_groups(self) -> dict[str, list[str]]:
        """The species read under each phase affix (``''`` for columns named without one),
        largest group first."""
        groups: dict[str, list[str]] = {}
        for col, name in self.mapped.items():
            how = self.how.get(col) or ""
            affix = how.split(" ", 1)[1].strip("'\"") if how.startswith(("suffix", "prefix")) else ""
            if name not in groups.setdefault(affix, []):
                groups[affix].append(name)
        return dict(sorted(groups.items(), key=lambda item: -len(item[1])))

    def affix_advice(self) -> str:
        """Which ``suffix=`` reads the most species: a phase affix's columns, with the columns
        named without one for the species the affix lacks (or ``''``: those alone)."""
        groups = self.affix_groups()
        for cols in self.clashes.values() or [[]]:
            affixes = [self.how[c] for c in cols if not str(self.how[c]).startswith(("suffix", "prefix"))]
            if len(affixes) > 1 or len(set(map(str, cols))) < len(cols):
                return "Rename or drop all but one of each."
        plain = set(groups.get("", []))
        reads = {a: len(set(names) | plain) for a, names in groups.items()}
        best = max(reads, key=lambda a: (reads[a], a != ""))  # ties: a phase affix, in column order
        sizes = "; ".join(f"{a!r}: {len(names)}" for a, names in groups.items())
        return (
            f"Pass suffix={best!r}: it reads {reads[best]} species, the most of any choice. Species per affix: {sizes}."
        )

    def describe(self) -> list[str]:
        """One readable line per column."""
        lines = [
            f"{col!s:>24} -> {can:<7} ({self.how[col]}"
            + (f"; merged with {', '.join(map(str, self.merged[col]))})" if col in self.merged else ")")
            for col, can in self.mapped.items()
        ]
        for col in self.unrecognised:
            hint = f"  did you mean {self.hints[col]!r}?" if col in self.hints else ""
            note = f"  {self.notes[col]}" if col in self.notes else ""
            kept = "(kept)" if note else "(kept, not a species)"
            lines.append(f"{col!s:>24} -> {kept}{hint}{note}")
        return lines


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
    oxide, factor = element_oxides()[symbol]
    return (
        f"{symbol} in ppm, not read: {oxide} wt% is {symbol} ppm x {factor:.4g} / 10,000 "
        f"(a column named {oxide} in wt% is read)"
    )


_REPEATED = re.compile(r"^(.+)\.(\d+)$")  # pandas' name for a repeated column: FeO, FeO.1, FeO.2


def _refuse_repeats(columns, mapping: ColumnMapping) -> None:
    """Raise when a header repeats a species' name: pandas reads the second ``FeO`` column as
    ``FeO.1``, which would be left unread without a word (which of them is total iron?)."""
    read = {str(col) for col in mapping.mapped}
    repeated = {}
    for col in mapping.unrecognised:
        found = _REPEATED.match(str(col))
        if found and found.group(1) in read:
            repeated.setdefault(found.group(1), [found.group(1)]).append(str(col))
    if repeated:
        lines = [
            f"  {name!r} ({len(cols)} times; pandas named the others {cols[1:]})" for name, cols in repeated.items()
        ]
        raise ValueError(
            "The header names a species more than once:\n" + "\n".join(lines) + "\nRename them so "
            "that each says what it holds (FeO and FeOt; FeO_core and FeO_rim, then suffix=...), "
            "or drop all but one."
        )


def _read_plain_beside(mapping: ColumnMapping, keys: dict) -> None:
    """With a phase ``suffix``, columns named without any affix (``NiO`` beside ``SiO2_Cpx``,
    as a compilation that merged sources holds) are read for the species the suffix's columns
    lack (in place)."""
    chosen = set(mapping.mapped.values())
    for col in list(mapping.unrecognised):
        name = keys.get(_key(col))
        if name is None or name in chosen or _key(col) in _NOT_SPECIES or _unit_note(col) is not None:
            continue
        chosen.add(name)
        mapping.unrecognised.remove(col)
        mapping.notes.pop(col, None)
        mapping.hints.pop(col, None)
        mapping.mapped[col] = name
        mapping.how[col] = "exact (no phase affix)" if str(col).strip() == name else "alias (no phase affix)"


def map_columns(columns, suffix: str | None = None, elements: bool = False, merge: bool = False) -> ColumnMapping:
    """Map a table's column names to canonical species.

    Parameters
    ----------
    columns : iterable of str
        Column names as found in a file.
    suffix : str, optional
        Strip this phase suffix (``"_Cpx"``) or prefix (``"Core_"``) and ignore other
        columns that carry one; a species it has no column for is read from a column named
        without any affix, if there is one (``suffix=""`` reads only those).
        Without it, suffixes and prefixes are detected (``SiO2_Cpx``, ``Clinopyroxene_SiO2``)
        as long as each species is named once.
    elements : bool, default=False
        Columns named by an element symbol (``Si``, ``Fe``, ``Mg``, ``Si (wt%)``) hold that
        element in wt%, as EDS software reports analyses without oxides: each is read as
        its oxide (:func:`element_oxides`; iron as ``FeOt``), and an ``O`` column is left
        out (oxygen follows from the oxides).  Never guessed: element columns are otherwise
        left unread (they may hold at%, cations per formula unit, or a pressure ``P``).
    merge : bool, default=False
        Leave species named by several columns in ``clashes`` (for the reader to merge by
        their values, :func:`minml.check_oxides`) instead of raising.

    Returns
    -------
    ColumnMapping

    Raises
    ------
    ValueError
        When two columns name the same species (e.g. ``SiO2_Cpx`` and ``SiO2_Liq``),
        saying which ``suffix=`` would choose between them.

    Examples
    --------
    >>> m = map_columns(["SiO2 (wt%)", "FeOT", "Al203", "Sample"])
    >>> m.mapped, m.unrecognised, m.hints
    ({'SiO2 (wt%)': 'SiO2', 'FeOT': 'FeOt'}, ['Al203', 'Sample'], {'Al203': 'Al2O3'})
    """
    if elements and suffix is not None:
        raise ValueError(
            "elements=True reads columns named by an element symbol (Si, Fe, ...); it does not combine with suffix=."
        )
    keys = _alias_keys()
    mapping = ColumnMapping()
    for col in columns:
        key = _key(col)
        canonical, how = None, None
        unit_note = _unit_note(col)
        if key in _NOT_SPECIES or unit_note is not None:
            pass
        elif suffix is not None:
            canonical = canonical_name(col, suffix=suffix)
            how = f"suffix {suffix!r}" if canonical else None
        elif key in keys:
            canonical = keys[key]
            how = "exact" if str(col).strip() == canonical else "alias"
        elif elements and element_symbol(col) is not None:
            symbol = element_symbol(col)
            if symbol == "O":
                mapping.notes[col] = "oxygen, not read: it follows from the oxides"
            else:
                canonical, factor = element_oxides()[symbol]
                mapping.factors[col] = factor
                how = f"element {symbol} wt% x {factor:.4f}"
        else:
            split = _split_affix(key)
            if split is not None:
                canonical, affix, kind = split
                how = f"{kind} {_original_affix(col, affix, kind)!r}"
        if canonical is None:
            mapping.unrecognised.append(col)
            note = unit_note
            if note is None and key not in _NOT_SPECIES:
                note = _beside_of(key)
            if note is not None:
                mapping.notes[col] = note
            if suffix is not None and key not in _NOT_SPECIES and col not in mapping.notes and canonical_name(col):
                mapping.notes[col] = f"{canonical_name(col)}, not read: suffix={suffix!r} reads the columns with it"
            hint = _hint(col) if key not in _NOT_SPECIES and col not in mapping.notes else None
            if hint is not None:
                mapping.hints[col] = hint
        else:
            mapping.mapped[col] = canonical
            mapping.how[col] = how
    if suffix:
        _read_plain_beside(mapping, keys)
    _refuse_repeats(columns, mapping)
    named = [col for col in columns if col in mapping.mapped]  # a name given twice counts twice
    counts = Counter(mapping.mapped[col] for col in named)
    clashes = {can: [c for c in named if mapping.mapped[c] == can] for can, n in counts.items() if n > 1}
    repeated = any(len(set(map(str, cols))) < len(cols) for cols in clashes.values())  # one name twice
    mapping.clashes = clashes
    if clashes and (repeated or not merge):
        lines = [f"  {can}: {cols}" for can, cols in clashes.items()]
        raise ValueError("Several columns name the same species:\n" + "\n".join(lines) + "\n" + mapping.affix_advice())
    return mapping
