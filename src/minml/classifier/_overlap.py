"""Where composition cannot decide between two classes, say so in words (``data/overlaps.toml``).

A row that :func:`minml.classify` names, but whose second class has a calibrated probability of
at least :data:`OVERLAP_PROBABILITY`, keeps its top class; its reason codes get
:attr:`~minml.tables.reasons.Reason.OVERLAP` and its ``flag`` the pair's words from
``overlaps.toml`` (what a user reads, and what would tell the two apart), or "composition of
both X and Y" for a pair the file does not list.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

from minml.classifier._judge import append_note
from minml.tables.reasons import Reason

__all__ = ["OVERLAP_PROBABILITY", "Overlap", "note_overlaps", "overlap_note", "overlap_table", "parse_overlaps"]

OVERLAP_PROBABILITY = 0.07
"""Second-class probability from which a named row is noted as an overlap.

Chosen on the shipped configuration's source-grouped held-out probabilities of the 88,139
training analyses (5 folds, scaled by the shipped calibration temperature as ``classify``
scales them; ``benchmarks/overlap_threshold.py``), never on LEPR: the smallest threshold (0.01
steps) at which the noted rows' second class is their true class at least one time in ten, so
that the note's "could be Y" comes true often enough to be worth reading.  The trade-off for the
64 x 64 network (rows noted; their top class wrong; their second class the true one; share of
all 227 top-class errors noted):

=========  ======  ======  ======  ======
threshold  noted   wrong   second  caught
=========  ======  ======  ======  ======
0.03       4.50 %   4.0 %   2.7 %  70.0 %
0.05       1.80 %   8.7 %   5.9 %  60.8 %
0.07       0.82 %  16.6 %  11.3 %  52.9 %
0.10       0.44 %  28.1 %  19.5 %  47.6 %
0.25       0.13 %  48.7 %  38.1 %  24.2 %
=========  ======  ======  ======  ======

Rows below 0.07 are wrong 0.12 % of the time, against 0.26 % for all rows.  Chosen on four folds
and measured on the fifth, the rule gives 0.07-0.08, or 0.02 with the fold of sodic plagioclases
(~1.3 wt% K2O) held apart.  Of the 725 rows noted, 363 are k-feldspar / plagioclase (5 wrong):
without that pair the noted rows are wrong 32 % of the time.  (The 32 x 32 network's raw
held-out probabilities had given 0.25 by the same rule.)
"""

_KEYS = {"classes", "words", "settle", "source"}


@dataclass(frozen=True)
class Overlap:
    """Two classes an oxide analysis cannot always tell apart.

    Attributes
    ----------
    name : str
        The entry's key in ``overlaps.toml``.
    classes : frozenset of str
    words : str
        What a user reads ("composition of both amphibole and hydrous basaltic glass ...").
    settle : str
        The evidence that would tell the two apart.
    source : str
    """

    name: str
    classes: frozenset
    words: str
    settle: str
    source: str

    def note(self) -> str:
        """The text a row's flag carries."""
        return f"{self.words}; to tell them apart: {self.settle}"


def parse_overlaps(raw: dict, classes) -> dict[frozenset, Overlap]:
    """The overlaps of a parsed ``overlaps.toml`` by their pair of classes, checked.

    Parameters
    ----------
    raw : dict
        The parsed file (its ``overlap`` table of entries).
    classes : iterable of str
        The class names an entry may name.

    Raises
    ------
    ValueError
        Naming the entry: a class that is none of ``classes``, not two distinct classes, a pair
        listed twice, a missing or empty field, or a field the file does not know.
    """
    known = sorted(classes)
    out: dict[frozenset, Overlap] = {}
    for name, spec in raw.get("overlap", {}).items():
        where = f"overlaps.toml, entry {name!r}"
        unknown_keys = sorted(set(spec) - _KEYS)
        if unknown_keys:
            raise ValueError(f"{where}: unknown field(s) {unknown_keys}; an entry has {sorted(_KEYS)}.")
        missing = [k for k in sorted(_KEYS) if not spec.get(k)]
        if missing:
            raise ValueError(f"{where}: missing or empty {missing}; an entry has {sorted(_KEYS)}.")
        pair = spec["classes"]
        strange = [c for c in pair if c not in known]
        if strange:
            raise ValueError(f"{where}: {strange} not among the classes {known}.")
        if len(pair) != 2 or pair[0] == pair[1]:
            raise ValueError(f"{where}: classes must be two different classes, got {pair}.")
        key = frozenset(pair)
        if key in out:
            raise ValueError(f"{where}: the pair {sorted(key)} is listed already, as {out[key].name!r}.")
        out[key] = Overlap(name, key, spec["words"], spec["settle"], spec["source"])
    return out


@cache
def overlap_table() -> dict[frozenset, Overlap]:
    """The overlaps of ``minml/data/overlaps.toml`` by their pair of classes (checked against
    the classes of ``minerals.toml`` and glass).

    Examples
    --------
    >>> overlap_table()[frozenset({"amphibole", "glass"})].words[:50]
    'composition of both amphibole and hydrous basaltic'
    """
    from minml._resources import load_toml
    from minml.chemistry.minerals import class_groups

    return parse_overlaps(load_toml("overlaps.toml"), class_groups())


def overlap_note(first: str, second: str) -> str:
    """What a row's flag says of its top class ``first`` and second class ``second``.

    Examples
    --------
    >>> overlap_note("olivine", "quartz")
    'composition of both olivine and quartz'
    """
    found = overlap_table().get(frozenset((first, second)))
    return found.note() if found is not None else f"composition of both {first} and {second}"


def note_overlaps(classes, top, second, p2, named, flag, reasons) -> None:
    """Note the ``named`` rows whose second class's probability ``p2`` is at least
    :data:`OVERLAP_PROBABILITY`: :attr:`Reason.OVERLAP` in ``reasons`` and the pair's words in
    ``flag`` (both in place).  ``top`` and ``second`` are class codes into ``classes``.  One
    comparison per row; text only for the noted rows, one string per pair of classes."""
    rows = np.flatnonzero(named & (p2 >= np.float32(OVERLAP_PROBABILITY)))
    if not len(rows):
        return
    reasons[rows] |= np.uint16(Reason.OVERLAP)
    k = len(classes)
    pair = top[rows] * k + second[rows]
    for code in np.flatnonzero(np.bincount(pair)).tolist():  # the pairs present, as np.unique (no numpy.ma import)
        append_note(flag, rows[pair == code], overlap_note(str(classes[code // k]), str(classes[code % k])))
