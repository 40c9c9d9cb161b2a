"""From a table of analyses to the model's input matrix.

The models see oxides in wt% as analysed, not normalised to 100 %: the missing mass (H2O in
micas and amphibole, B2O3 in tourmaline, ZrO2 in zircon when it was not analysed) is
information.  Any form of iron enters as FeOt (see :mod:`minml.chemistry.iron`).
"""

from __future__ import annotations

import warnings

import numpy as np

from minml.chemistry.iron import IRON_FORMS
from minml.chemistry.oxides import digit_for_letter, element_symbol
from minml.tables.checks import OxideCheck, check_oxides

__all__ = ["MINIMUM_OXIDES", "MODEL_OXIDES", "missing_columns", "model_inputs"]

MODEL_OXIDES: tuple[str, ...] = (
    "SiO2",
    "TiO2",
    "Al2O3",
    "FeOt",
    "MnO",
    "MgO",
    "CaO",
    "Na2O",
    "K2O",
    "Cr2O3",
    "P2O5",
)
"""The oxides the shipped models read, in input order."""

MINIMUM_OXIDES: tuple[str, ...] = ("SiO2", "Al2O3", "FeOt", "MgO", "CaO")
"""The major oxides of silicates and oxides a table needs columns for to be classified
without ``fill_missing``.  Any other model oxide without a column is read as not analysed
(0, as an empty cell is): the training compilations leave minor oxides unanalysed too, and
removing any one of them from LEPR moves accuracy by less than 0.5 point
(``benchmarks/absent_columns.py``), while removing one of these moves it by several."""


def missing_columns(checked: OxideCheck, oxides=MODEL_OXIDES) -> list[str]:
    """The ``oxides`` a checked table has no column for (``FeOt``: no form of iron at all)."""
    found = set(checked.mapping.mapped.values())
    missing = []
    for name in oxides:
        if name == "FeOt":
            if not found.intersection(IRON_FORMS):
                missing.append(name)
        elif name not in found:
            missing.append(name)
    return missing


def check_fill(fill_missing) -> None:
    """Refuse a ``fill_missing`` that is no amount in wt% (NaN would turn whole tables unknown
    without a reason; a negative value is no analysis)."""
    if fill_missing is None:
        return
    try:
        value = float(fill_missing)
    except (TypeError, ValueError):
        value = None
    if value is None or isinstance(fill_missing, (str, bytes, bool)) or not 0.0 <= value <= 100.0:
        raise ValueError(
            f"fill_missing must be an amount in wt% between 0 and 100 (0.0: below detection), got {fill_missing!r}."
        )


def model_inputs(
    df,
    oxides=MODEL_OXIDES,
    *,
    fill_missing: float | None = None,
    model_name: str = "the model",
    absent_as: str | None = None,
    **check_options,
) -> tuple[np.ndarray, OxideCheck]:
    """The model input matrix of a table, and what the reader made of it.

    Parameters
    ----------
    df : pandas.DataFrame or OxideCheck
        Analyses in wt% (any column spelling :func:`minml.map_columns` knows), not
        modified; or a table checked already (:func:`minml.tables.checks.check_columns`).
    oxides : sequence of str
        The inputs, in order.
    fill_missing : float, optional
        Value for oxides the table has no column for.  By default an absent column is read
        as not analysed (0) -- named once in a warning and in ``checked.absent`` (and in each
        row's notes where they were asked for, ``notes=True``) -- unless it is one of
        :data:`MINIMUM_OXIDES`, which is an error.
    model_name : str
        Named in the error message.
    absent_as : str, optional
        What the caller makes of an absent column's input, for the notes (by default
        "not analysed, read as 0").
    **check_options
        Passed to :func:`minml.check_oxides` (``suffix``, ``total_range``; ``notes`` is off
        unless asked for).

    Returns
    -------
    X : numpy.ndarray of float32, shape (n_rows, len(oxides))
        NaN where a cell was unusable (its row is flagged).
    checked : OxideCheck

    Raises
    ------
    ValueError
        When a column of :data:`MINIMUM_OXIDES` is missing and ``fill_missing`` is None; and,
        whatever ``fill_missing``, when a column left unread looks like an oxide the table has
        no column for (a near miss of a major oxide, ``Si02``; any oxide spelt with a digit for
        a letter, ``Na20``, ``Fe203``, ``A12O3``), naming the rename.
    """
    if isinstance(df, OxideCheck):
        if check_options:
            raise TypeError(f"{sorted(check_options)} apply when checking a table; this one is checked already.")
        checked = df
    else:
        check_options.setdefault("notes", False)
        checked = check_oxides(df, **check_options)
    check_fill(fill_missing)
    missing = missing_columns(checked, oxides)
    needed = [name for name in MINIMUM_OXIDES if name in missing]
    misspelt = _misspelt(checked, needed)
    if misspelt:  # filling would read the oxide as 0 and leave its column unread: refuse even then
        inputs = ["FeOt" if hint in IRON_FORMS else hint for hint in misspelt.values()]  # iron enters as FeOt
        wanted = [name for name in oxides if name in needed or (name in missing and name in inputs)]
        wanted += [name for name in dict.fromkeys(inputs) if name not in oxides]  # read beside the model's oxides
        names = ", ".join(f"{column!r} to {hint!r}" for column, hint in misspelt.items())
        one = len(misspelt) == 1
        looks = "which looks like {} but is not read as it" if one else "which look like {} but are not read as them"
        raise ValueError(
            f"Oxide columns do not match {model_name}.\n"
            f"Missing: {wanted}; the table has {', '.join(repr(c) for c in misspelt)}, "
            f"{looks.format(', '.join(misspelt.values()))}.\n"
            f"Rename {names} in the table's header (as it is, {'that column' if one else 'those columns'} would be "
            "left unread, and filling the missing columns would read them as 0 in every row)."
        )
    if needed and fill_missing is None:
        hints = [f"{c!r} (did you mean {h!r}?)" for c, h in checked.mapping.hints.items()]
        hints += [f"{c!r} ({n})" for c, n in checked.mapping.notes.items()]
        unrecognised = f"\nUnrecognised: {', '.join(hints)}" if hints else ""
        raise ValueError(
            f"Oxide columns do not match {model_name}.\n"
            f"Missing: {needed}{unrecognised}{_iron_hint(checked, needed)}\n"
            f"A table needs at least the major oxides {', '.join(MINIMUM_OXIDES)} (other oxides without a "
            "column are read as not analysed). Add the missing columns (0.0 if below detection) or pass "
            "fill_missing=0.0 to read them as 0 too."
        )
    if missing:
        _note_absent(checked, missing, fill_missing, absent_as)
    X = np.empty((len(checked), len(oxides)), dtype=np.float32)
    for j, name in enumerate(oxides):
        X[:, j] = (fill_missing or 0.0) if name in missing else checked.species_values(name)
    return X, checked


def _misspelt(checked: OxideCheck, needed) -> dict[str, str]:
    """The columns left unread that a table's reader must rename before it is classified: a near
    miss of a major oxide with no column (``needed``: ``Si02``, ``SiO2x``), and any column that
    spells an oxide with a digit for a letter (``Na20``, ``Fe203``, ``A12O3``:
    :func:`~minml.chemistry.oxides.digit_for_letter`) while no column is read as that oxide,
    major or minor: read as it is, or with ``fill_missing``, the table would take the oxide as
    not analysed in every row and leave its measured values unread.  (Beside a column read as
    its oxide, such a column is refused or kept with a note by :func:`minml.check_oxides`.)"""
    read = set(checked.mapping.mapped.values())
    return {
        column: hint
        for column, hint in checked.mapping.hints.items()
        if hint in needed or (hint not in read and digit_for_letter(column) == hint)
    }


def _iron_hint(checked: OxideCheck, missing) -> str:
    """Why iron has no column when an element column ``Fe`` is there, and what reads it."""
    if "FeOt" not in missing:
        return ""
    symbols = [c for c in checked.mapping.unrecognised if element_symbol(c) == "Fe"]
    if not symbols:
        return ""
    return (
        f"\nIron: column {symbols[0]!r} names the element, which is not read as iron unless the table "
        "holds element wt%: then pass elements=True."
    )


def _note_absent(checked: OxideCheck, missing: list[str], fill_missing, absent_as: str | None) -> None:
    """Say once (a warning, ``checked.absent``) and per row (the notes) which model oxides the
    table has no column for, and what was read for them."""
    how = absent_as or "not analysed, read as 0"
    if fill_missing is not None:
        how = f"filled with {float(fill_missing):g} (fill_missing)"
    checked.absent = {name: how for name in missing}
    if checked.notes_text is not None:
        note = f"no column, {how}: {', '.join(missing)}"
        text = checked.notes_text
        checked.notes_text = np.where(text == "", note, text + "; " + note).astype(object)
        checked.__dict__.pop("flags", None)  # built again with the note
    iron = _iron_hint(checked, missing)
    majors = [name for name in MINIMUM_OXIDES if name in missing]
    if fill_missing is not None and majors and not iron:
        warnings.warn(
            f"No column for the major oxide{'s' if len(majors) > 1 else ''} {', '.join(majors)}: {how} in every "
            "row; analyses of minerals that hold it read as bad analyses or unknown. Add the column if the "
            "table has it under another name.",
            UserWarning,
            stacklevel=4,
        )
        return
    if fill_missing is not None and not iron:
        return  # asked for (minor oxides): no need to say it
    warnings.warn(
        f"No column for {', '.join(missing)}: {how} in every row.{iron.replace(chr(10), ' ')}",
        UserWarning,
        stacklevel=4,
    )


def usable_rows(X: np.ndarray) -> np.ndarray:
    """Rows of a checked input matrix whose every value is usable (finite; NaN marks a cell
    the reader refused).

    One matrix-vector product carries any NaN or infinity of a row into its sum, several times
    faster than ``np.isfinite(X).all(axis=1)`` on a row-major matrix; the values are checked
    wt% (none above a few hundred), so no finite row overflows.

    Examples
    --------
    >>> usable_rows(np.array([[40.0, 9.5], [np.nan, 9.5], [40.0, np.inf]], dtype=np.float32)).tolist()
    [True, False, False]
    """
    X = np.asarray(X)
    with np.errstate(invalid="ignore", over="ignore"):  # inf - inf: NaN, as wanted
        return np.isfinite(X @ np.ones(X.shape[1], dtype=X.dtype))
