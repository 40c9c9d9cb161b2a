"""The oxide table and the one place where column names are understood.

Every species MIN-ML reads (oxides in wt%, plus F and Cl) is described once, in
``minml/data/oxides.toml``: its element, cations and oxygens per formula unit, and the
other spellings databases use for it.  Molar masses are computed from the standard
atomic weights in the same file.  :func:`map_columns` turns the column names of a real
table (``FeOT``, ``SiO2 (wt%)``, ``SIO2(WT%)``, ``SiO2_Cpx``, ``Clinopyroxene_SiO2``,
...) into the canonical names, and reports what it could not place.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from minml.chemistry._column_names import (
    _NOT_SPECIES,
    _affixes,
    _alias_keys,
    _beside_of,
    _hint,
    _key,
    _original_affix,
    _split_affix,
    _unit_note,
    canonical_name,
    digit_for_letter,
    element_symbol,
    lookalike_words,
    species_names,
)
from minml.chemistry._oxide_table import (
    CORE_OXIDES,
    FEO_PER_FE2O3,
    Species,
    atomic_weight,
    element_oxides,
    molar_mass,
    species_table,
)

__all__ = [
    "CORE_OXIDES",
    "FEO_PER_FE2O3",
    "ColumnMapping",
    "Species",
    "atomic_weight",
    "canonical_name",
    "digit_for_letter",
    "element_oxides",
    "element_symbol",
    "lookalike_words",
    "map_columns",
    "molar_mass",
    "species_names",
    "species_table",
]


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
        Unrecognised columns that are kept for a reason worth saying (ppm, oxygen; an oxide
        spelt with a digit for a letter beside columns read as it, :func:`minml.check_oxides`).
    clashes : dict of str to list of str
        Species named by several columns (``NiO`` and ``NiO_Cpx``) -> those columns, when
        :func:`map_columns` was asked to leave them to the reader (``merge=True``).
    merged : dict of str to list of str
        A mapped column -> the columns of its species merged into it by the reader (never
        both holding a value in a row: a compilation of sources).
    chosen : str
        Why the reader chose the phase affix it reads, where phases stood side by side and
        no ``suffix=`` was given (empty otherwise).
    """

    mapped: dict[str, str] = field(default_factory=dict)
    how: dict[str, str] = field(default_factory=dict)
    unrecognised: list[str] = field(default_factory=list)
    hints: dict[str, str] = field(default_factory=dict)
    factors: dict[str, float] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)
    clashes: dict[str, list[str]] = field(default_factory=dict)
    merged: dict[str, list[str]] = field(default_factory=dict)
    chosen: str = ""

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

    def affix_reads(self) -> dict[str, int]:
        """Species each ``suffix=`` choice reads: a phase affix's columns with the columns named
        without one for the species the affix lacks (``''``: those alone), most first."""
        groups = self.affix_groups()
        plain = set(groups.get("", []))
        reads = {a: len(set(names) | plain) for a, names in groups.items()}
        return dict(sorted(reads.items(), key=lambda item: -item[1]))

    def affix_advice(self) -> str:
        """Which ``suffix=`` reads the most species, naming every choice that reads as many
        (each works: the table classifies with it)."""
        for cols in self.clashes.values() or [[]]:
            affixes = [self.how[c] for c in cols if not str(self.how[c]).startswith(("suffix", "prefix"))]
            if len(affixes) > 1 or len(set(map(str, cols))) < len(cols):
                return "Rename or drop all but one of each."
        reads = self.affix_reads()
        most = max(reads.values())
        best = [a for a, n in reads.items() if n == most and a != ""] or [""]
        sizes = "; ".join(f"{a!r}: {len(names)}" for a, names in self.affix_groups().items())
        if len(best) == 1:
            return (
                f"Pass suffix={best[0]!r}: it reads {most} species, the most of any choice. Species per affix: {sizes}."
            )
        return (
            f"Pass {' or '.join(f'suffix={a!r}' for a in best)}: each reads "
            f"{most} species, so neither is chosen for you. Species per affix: {sizes}."
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


_REPEATED = re.compile(r"^(.+)\.(\d+)$")  # pandas' name for a repeated column: FeO, FeO.1, FeO.2


def _refuse_repeats(columns, mapping: ColumnMapping) -> None:
    """Raise when a header repeats a species' name: pandas reads the second ``FeO`` column as
    ``FeO.1``, which would be left unread without a word (which of them is total iron?)."""
    read = {str(col) for col in mapping.mapped}
    repeated: dict[str, list[str]] = {}
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
        as long as each species is named once; one set apart by a space or brackets only
        (``Cpx SiO2``, ``SiO2 (Cpx)``, ``SiO2 rim``) where it names more species than the
        columns named without one (``FeO (calc)`` beside ``FeO``, ``SiO2``, ... is kept, not read).
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
        unit_note = _unit_note(col)
        found = None if key in _NOT_SPECIES or unit_note is not None else _match(col, key, suffix, elements, mapping)
        if found is None:
            _leave_unread(mapping, col, key, unit_note, suffix)
        else:
            mapping.mapped[col], mapping.how[col] = found
    if suffix is None:
        _min_as_phase(columns, mapping)
        _drop_loose_affixes(columns, mapping)
    if suffix:
        _read_plain_beside(mapping, keys)
    _refuse_repeats(columns, mapping)
    _refuse_clashes(columns, mapping, merge)
    return mapping


_BESIDE_MIN = frozenset({"max", "mean", "avg", "average", "ave", "median"})
"""Affix words of the columns a minimum is printed beside (``SiO2_mean``, ``SiO2_min``, ``SiO2_max``)."""


def _min_as_phase(columns, mapping: ColumnMapping) -> None:
    """Read ``SiO2_Min`` as the phase suffix ``_Min`` (a mineral beside its liquid, ``_Liq``, as
    LEPR and Thermobar name them) unless the table holds what a minimum is printed beside: a
    column of the species without an affix, its mean or its maximum (``SiO2_max``).  In place."""
    plain = {name for col, name in mapping.mapped.items() if not mapping.how[col].startswith(("suffix", "prefix"))}
    found: dict = {}  # column -> (species, affix, kind)
    beside = set()
    for col in columns:
        for species, affix, kind, word in _affixes(col):
            if word == "min" and col in mapping.unrecognised:
                found[col] = (species, affix, kind)
            elif word in _BESIDE_MIN:
                beside.add(species)
    if not found or any(species in plain or species in beside for species, _, _ in found.values()):
        return
    for col, (species, affix, kind) in found.items():
        mapping.unrecognised.remove(col)
        mapping.notes.pop(col, None)
        mapping.mapped[col] = species
        mapping.how[col] = f"{kind} {_original_affix(col, affix, kind)!r}"
    mapping.mapped = {col: mapping.mapped[col] for col in columns if col in mapping.mapped}  # in the table's order


def _is_loose(affix: str) -> bool:
    """Whether a phase affix is set apart by a space or brackets only (``Cpx ``, `` (Cpx)``,
    `` rim``), not by ``_``, ``-`` or ``.``."""
    return affix[:1] in " ([" or affix[-1:] in " )]"


def _drop_loose_affixes(columns, mapping: ColumnMapping) -> None:
    """Keep a phase affix set apart by a space or brackets (``Cpx SiO2``, ``SiO2 (Cpx)``,
    ``Core SiO2``, ``SiO2 rim``) only where it names more species than the columns named without
    one: words beside a species name (``FeO (calc)`` beside ``FeO``, ``Fe2O3 recalc``) often say
    how it was obtained, not its phase.  The others are kept, not read, with a note naming the
    ``suffix=`` that reads them.  In place."""
    groups = mapping.affix_groups()
    plain = len(groups.get("", []))
    dropped = {affix for affix, names in groups.items() if affix and _is_loose(affix) and len(names) <= plain}
    if not dropped:
        return
    for col in [c for c in mapping.mapped if mapping.how[c].split(" ", 1)[-1].strip("'\"") in dropped]:
        affix = mapping.how.pop(col).split(" ", 1)[1].strip("'\"")
        mapping.notes[col] = (
            f"{mapping.mapped.pop(col)} with {affix!r}, not read beside the columns named without it "
            f"(suffix={affix!r} reads it)"
        )
        mapping.unrecognised.append(col)
    unread = set(mapping.unrecognised)
    mapping.unrecognised = [col for col in columns if col in unread]  # in the table's order


def _match(col, key: str, suffix: str | None, elements: bool, mapping: ColumnMapping) -> tuple[str, str] | None:
    """The species a column is read as, and how it was matched (None: it is not read); notes
    an oxygen column of element wt% in ``mapping``."""
    keys = _alias_keys()
    if suffix is not None:
        canonical = canonical_name(col, suffix=suffix)
        return None if canonical is None else (canonical, f"suffix {suffix!r}")
    if key in keys:
        return keys[key], "exact" if str(col).strip() == keys[key] else "alias"
    symbol = element_symbol(col) if elements else None
    if symbol is not None:
        if symbol == "O":
            mapping.notes[col] = "oxygen, not read: it follows from the oxides"
            return None
        oxide, factor = element_oxides()[symbol]
        mapping.factors[col] = factor
        return oxide, f"element {symbol} wt% x {factor:.4f}"
    split = _split_affix(col)
    if split is None:
        return None
    canonical, affix, kind = split
    return canonical, f"{kind} {_original_affix(col, affix, kind)!r}"


def _leave_unread(mapping: ColumnMapping, col, key: str, unit_note: str | None, suffix: str | None) -> None:
    """Keep a column that is not read, with what is worth saying of it: its unit, what it is
    printed beside, a species that ``suffix`` leaves out, or a near miss."""
    mapping.unrecognised.append(col)
    note = unit_note
    if note is None and key not in _NOT_SPECIES:
        note = _beside_of(col)
    if note is not None:
        mapping.notes[col] = note
    if suffix is not None and key not in _NOT_SPECIES and col not in mapping.notes and canonical_name(col):
        mapping.notes[col] = f"{canonical_name(col)}, not read: suffix={suffix!r} reads the columns with it"
    hint = _hint(col) if key not in _NOT_SPECIES and col not in mapping.notes else None
    if hint is not None:
        mapping.hints[col] = hint


def _refuse_clashes(columns, mapping: ColumnMapping, merge: bool) -> None:
    """Record the species named by several columns in ``mapping.clashes``; raise, with the
    ``suffix=`` that would choose, unless ``merge`` leaves them to the reader (never for one
    name given twice)."""
    named = [col for col in columns if col in mapping.mapped]  # a name given twice counts twice
    counts = Counter(mapping.mapped[col] for col in named)
    clashes = {can: [c for c in named if mapping.mapped[c] == can] for can, n in counts.items() if n > 1}
    repeated = any(len(set(map(str, cols))) < len(cols) for cols in clashes.values())  # one name twice
    mapping.clashes = clashes
    if clashes and (repeated or not merge):
        lines = [f"  {can}: {cols}" for can, cols in clashes.items()]
        raise ValueError("Several columns name the same species:\n" + "\n".join(lines) + "\n" + mapping.affix_advice())
