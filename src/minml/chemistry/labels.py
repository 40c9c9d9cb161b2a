"""Database phase labels (``CPX``, ``Plag``, ``Titanomagnetite``, ``FeTiOxide``) -> MIN-ML classes.

The synonyms are data (``minml/data/labels.toml``). A label maps to one class, to several
(``FeTiOxide``: magnetite, ilmenite or spinel), to none of the classes (``Nepheline``: a
phase MIN-ML does not classify; such rows should come out "unknown"), or is unmapped (a
spelling the table does not know: reported, never guessed).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from minml._resources import load_toml

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "LabelMatch",
    "fitted_class",
    "label_columns",
    "label_phase",
    "label_species",
    "match_label",
    "match_labels",
    "names_a_phase",
    "species_agrees",
]

NOT_A_CLASS = "not a class"
UNMAPPED = "unmapped"


def _key(label) -> str:
    """Case, spaces, hyphens, underscores and a trailing plural 's' do not matter."""
    key = re.sub(r"[\s_\-]+", "", str(label).strip().lower())
    return key[:-1] if len(key) > 3 and key.endswith("s") and not key.endswith("ss") else key


@dataclass(frozen=True)
class LabelMatch:
    """What a label means.

    Attributes
    ----------
    label : str
    classes : tuple of str
        The classes the label names (empty when it names none, or is unmapped).
    status : {"class", "ambiguous", "not a class", "unmapped"}
    """

    label: str
    classes: tuple
    status: str


@cache
def _table() -> dict[str, tuple[tuple, str]]:
    raw = load_toml("labels.toml")
    table: dict[str, tuple[tuple, str]] = {}

    def add(label, classes, status):
        key = _key(label)
        if key in table and table[key] != (classes, status):
            raise ValueError(f"labels.toml: {label!r} maps to {table[key][0]} and to {classes}.")
        table[key] = (classes, status)

    for name, labels in raw["class"].items():
        for label in [name, *labels]:
            add(label, (name,), "class")
    for label, classes in raw["ambiguous"].items():
        add(label, tuple(classes), "ambiguous")
    for label in [*raw["not_a_class"]["labels"], *_phase_labels()]:
        add(label, (), NOT_A_CLASS)
    return table


@cache
def _phase_labels() -> dict[str, str]:
    """The phase of ``phases.toml`` by each normalised label that names it."""
    from minml.chemistry.phases import phase_spellings, phase_table

    found: dict[str, str] = {}
    for name, phase in phase_table().items():
        for spelling in phase_spellings(phase):
            if found.setdefault(_key(spelling), name) != name:
                raise ValueError(f"phases.toml: {spelling!r} names {found[_key(spelling)]!r} and {name!r}.")
    return found


def label_phase(label) -> str | None:
    """The phase of ``phases.toml`` (outside the classes) that a label names, if any: by the
    phase's name, an end-member's, a species' it names or a further label it lists, looked up
    as :func:`match_label` looks labels up.

    Examples
    --------
    >>> label_phase("Sphene"), label_phase("Ttn"), label_phase("Kyanite"), label_phase("Dol")
    ('titanite', 'titanite', 'Al2SiO5', 'carbonate')
    >>> label_phase("Titanite rim"), label_phase("Olivine") is None, label_phase("") is None
    ('titanite', True, True)
    """
    if not is_label(label):
        return None
    return _looked_up(label, _phase_labels(), _key)


def class_aliases() -> dict[str, tuple]:
    """Every known spelling (normalised) with the classes it names."""
    return {key: classes for key, (classes, _) in _table().items()}


# Words that say where or how a grain was analysed, not what it is ("Olivine core", "Cpx rim").
_QUALIFIERS = {
    "core",
    "rim",
    "mantle",
    "interior",
    "margin",
    "edge",
    "center",
    "centre",
    "zone",
    "microlite",
    "microphenocryst",
    "phenocryst",
    "xenocryst",
    "antecryst",
    "megacryst",
    "inclusion",
    "host",
    "grain",
    "crystal",
    "groundmass",
    "matrix",
}
_NOTE = re.compile(r"\([^()]*\)|\[[^\[\]]*\]")  # "(microlite)", "[Fo90]"
_WORDS = re.compile(r"[\s_\-,;:.]+")
# a composition written beside the phase ("Pl An60", "Fo90 olivine", "Cpx Wo45", "Sp Cr#40")
_COMPOSITION = re.compile(r"(?:fo|fa|an|ab|or|wo|en|fs|mg#?|cr#?|xmg)\d+(?:[.,]\d+)?%?", re.IGNORECASE)


def _bare_forms(label: str) -> list[str]:
    """The label without what it says of the grain, for a second look-up: without notes in
    brackets, a trailing "?", qualifier words and compositions (``Pl (microlite)``, ``Olivine
    core``, ``olivine?``, ``Pl An60``, ``Fo90 olivine``); then also without a grain number
    (``Ol-1``, ``cpx2``, ``Cpx 3a``)."""
    words = [
        w
        for w in _WORDS.split(_NOTE.sub(" ", label).strip().rstrip("?").strip())
        if w and w.lower() not in _QUALIFIERS and not _COMPOSITION.fullmatch(w)
    ]
    if not words:
        return []
    forms = [" ".join(words)]
    if re.fullmatch(r"\d+[a-z]?", words[-1], re.IGNORECASE) and len(words) > 1:
        forms.append(" ".join(words[:-1]))
    else:
        forms.append(" ".join(words[:-1] + [re.sub(r"\d+[a-z]?$", "", words[-1], flags=re.IGNORECASE)]))
    return forms


def match_label(label) -> LabelMatch:
    """The meaning of one label.

    A label the table does not know is looked up again without what it says of the grain
    (:func:`_bare_forms`: ``Olivine core``, ``Pl (microlite)``, ``Ol-1``), never otherwise
    guessed: ``Ol/Cpx`` or ``olivine-hosted melt`` stay unmapped.

    Examples
    --------
    >>> match_label("CPX").classes
    ('clinopyroxene',)
    >>> match_label("Titanomagnetite").classes
    ('magnetite',)
    >>> match_label("FeTiOxide").status, match_label("Nepheline").status, match_label("Xyz").status
    ('ambiguous', 'not a class', 'unmapped')
    >>> match_label("Cpx rim").classes, match_label("Ol-2").classes
    (('clinopyroxene',), ('olivine',))
    """
    if label is None or (isinstance(label, float) and label != label) or str(label).strip() == "":
        return LabelMatch("" if label is None else str(label), (), UNMAPPED)
    classes, status = _looked_up(label, _table(), _key) or ((), UNMAPPED)
    return LabelMatch(str(label), classes, status)


def _looked_up(label, table: dict, key):
    """``table``'s entry for ``label`` (by ``key``), or else for the first of its bare forms
    (:func:`_bare_forms`) it holds; None where it holds none."""
    found = table.get(key(str(label)))
    if found is not None:
        return found
    return next((table[key(bare)] for bare in _bare_forms(str(label)) if key(bare) in table), None)


def names_a_phase(label) -> bool:
    """Whether a label is, as written, a name or symbol of a phase in ``labels.toml`` (a class,
    several, or a phase outside the classes): without :func:`match_label`'s second look, so a
    point's name (``Ol-1``, ``Cpx rim``) is not one.

    Examples
    --------
    >>> names_a_phase("Sd"), names_a_phase("Cpx"), names_a_phase("Ol-1"), names_a_phase("Mean")
    (True, True, False, False)
    """
    return is_label(label) and _key(label) in _table()


def fitted_class(label) -> str | None:
    """The class of ``minerals.toml`` a training label names under another spelling or a
    synonym, which a model is fitted as; None where it names no class or several (a user's
    own class, fitted as given).

    Examples
    --------
    >>> fitted_class("Amphibole"), fitted_class("Cpx"), fitted_class("Tridymite")
    ('amphibole', 'clinopyroxene', 'quartz')
    >>> fitted_class("FeTiOxide") is None, fitted_class("Nepheline") is None, fitted_class("olivine")
    (True, True, 'olivine')
    """
    from minml.chemistry.minerals import class_groups

    if not isinstance(label, str):  # numbers and other objects name no class
        return None
    match = match_label(label)
    if match.status != "class" or match.classes[0] not in class_groups():
        return None
    return str(match.classes[0])


def _in_vocabulary(label: str, classes: tuple[str, ...], by_key: dict[str, str]) -> LabelMatch:
    """:func:`match_label` in a model's own ``classes`` (their text): the label itself or its
    spelling (``by_key``: normalised key -> class) first, then the classes its synonyms name
    that the model has; a label naming none of them is none of the model's classes."""
    if label in classes:
        return LabelMatch(label, (label,), "class")
    if is_label(label) and _key(label) in by_key:
        return LabelMatch(label, (by_key[_key(label)],), "class")
    match = match_label(label)
    if match.status in (NOT_A_CLASS, UNMAPPED):
        return match
    kept = tuple(c for c in match.classes if c in classes)
    return LabelMatch(match.label, kept, match.status if kept else NOT_A_CLASS)


def is_label(cell) -> bool:
    """Whether a cell of a label column holds a label: not missing, not blank."""
    if cell is None or (isinstance(cell, float) and cell != cell):  # None, NaN (no pandas: the Arrow routes)
        return False
    if not isinstance(cell, str):
        import pandas as pd

        if pd.isna(cell):  # NA, NaT
            return False
    return str(cell).strip() != ""


def match_labels(labels: pd.Series, classes=None) -> pd.DataFrame:
    """:func:`match_label` for a column, on the column's index (each distinct label is looked
    up once): ``label_classes`` (a tuple of classes), ``label_class`` (the same written as text,
    ``|``-joined) and ``label_status``.

    Parameters
    ----------
    labels : pandas.Series
    classes : array-like, optional
        A model's classes: labels are then matched in its own vocabulary.  A label that is one
        of them, or spells one otherwise (``Amphibole`` for ``amphibole``), names it; any other
        names the classes its synonyms name (``labels.toml``) that the model has, and a label
        naming none of them is ``"not a class"`` (of this model).  Classes are written as text.

    Examples
    --------
    >>> import pandas as pd
    >>> match_labels(pd.Series(["Cpx", "FeTiOxide", "Garnet"]), classes=["clinopyroxene", "FeTiOxide"])[
    ...     "label_class"
    ... ].tolist()
    ['clinopyroxene', 'FeTiOxide', '']
    """
    import pandas as pd

    keys = labels.astype(object).where(labels.notna(), "").astype(str)
    if classes is None:
        distinct = {label: match_label(label) for label in pd.unique(keys)}
    else:
        names = tuple(str(c) for c in classes)
        by_key: dict[str, str] = {}
        for name in names:  # a key two classes share names neither
            by_key[_key(name)] = name if _key(name) not in by_key else ""
        by_key = {k: v for k, v in by_key.items() if v}
        distinct = {label: _in_vocabulary(label, names, by_key) for label in pd.unique(keys)}
    return pd.DataFrame(
        {
            "label_class": keys.map({k: "|".join(m.classes) for k, m in distinct.items()}).astype(object),
            "label_status": keys.map({k: m.status for k, m in distinct.items()}).astype(object),
            "label_classes": keys.map({k: m.classes for k, m in distinct.items()}).astype(object),
        },
        index=labels.index,
    )


def label_columns(df: pd.DataFrame, sample: int = 2000) -> list[str]:
    """The columns of ``df`` whose cells are mostly phase labels: of their first ``sample``
    cells that hold text, at least half name a class, several classes or a phase that is
    none of the classes.  Columns of numbers are skipped.

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"Sample": ["A1", "A2"], "Phase": ["Cpx", "Ol core"], "SiO2": [51.2, 40.1]})
    >>> label_columns(table)
    ['Phase']
    """
    found = []
    for name in df.columns:
        cells = df[name].iloc[:sample]
        if cells.dtype.kind in "biufcmM":  # numbers, booleans, times: no labels
            continue
        text = cells[[isinstance(c, str) and c.strip() != "" for c in cells]]
        if len(text) and (match_labels(text)["label_status"] != UNMAPPED).mean() >= 0.5:
            found.append(name)
    return found


def require_label_column(df: pd.DataFrame, column, keyword: str) -> None:
    """Raise a ValueError unless ``df`` has ``column``, naming the columns that hold phase
    labels (:func:`label_columns`) and how to pass one (``keyword=``)."""
    if column in df.columns:
        return
    names = list(df.columns)
    shown = f"{names[:12]}" + (f" and {len(names) - 12} more" if len(names) > 12 else "")
    likely = label_columns(df)
    if likely:
        which = ", ".join(map(repr, likely))
        how = f"{which} {'holds' if len(likely) == 1 else 'hold'} phase names: pass {keyword}={str(likely[0])!r}."
    else:
        how = f"Pass {keyword}=NAME, the column with the phase of each row."
    raise ValueError(f"No label column {column!r}; columns: {shown}. {how}")


# ---- labels that name a species ----


def _species_key(name) -> str:
    """A species name or label without case, spaces, hyphens, accents or a trailing "(...)" qualifier."""
    import unicodedata

    text = re.sub(r"\s+\([^()]*\)$", "", str(name).strip())
    return _key(unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode())


@cache
def _species_table() -> dict[str, frozenset]:
    raw = load_toml("labels.toml").get("species", {})
    table = {_species_key(name): frozenset({_species_key(name)}) for name in raw.get("self", ())}
    for label, names in raw.get("names", {}).items():
        table[_species_key(label)] = frozenset(_species_key(n) for n in names)
    return table


def label_species(label) -> frozenset | None:
    """The species a label names (normalised keys), or None where it names none (``"cpx"``).

    Examples
    --------
    >>> sorted(label_species("Ferropericlase"))
    ['periclase', 'wustite']
    >>> label_species("Olivine") is None
    True
    """
    if not is_label(label):
        return None
    return _looked_up(label, _species_table(), _species_key)


def species_agrees(label, species) -> bool | None:
    """Whether a row's ``species`` (a tuple of names) holds one its ``label`` names; None where
    the label names no species or the row has none.

    Examples
    --------
    >>> species_agrees("Augite", ("augite (Wo42 En45 Fs13)",)), species_agrees("Kyanite", ("kyanite", "sillimanite"))
    (True, True)
    >>> species_agrees("Leucite", ("nepheline",)), species_agrees("Cpx", ("augite",))
    (False, None)
    """
    named = label_species(label)
    if named is None or not species:
        return None
    return any(_species_key(name) in named for name in species)
