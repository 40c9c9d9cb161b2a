"""The result of :func:`minml.tables.checks.check_oxides`: arrays first, DataFrames built when
asked for, and the readable account of what was read (re-exported by :mod:`minml.tables.checks`)."""

from __future__ import annotations

from functools import cached_property

import numpy as np

from minml.chemistry.iron import IRON_RULES
from minml.chemistry.oxides import ColumnMapping, digit_for_letter, lookalike_words
from minml.tables.reasons import kind_counts

__all__ = ["OxideCheck"]


class OxideCheck:
    """The result of :func:`check_oxides` (or :func:`check_columns`).

    The results are held as arrays; the DataFrames are built when first asked for, so
    callers that need only the arrays (``minml classify`` on a file) never import pandas.

    Attributes
    ----------
    oxides : pandas.DataFrame
        Canonical species in wt% on the caller's index: every core oxide (0.0 when not
        analysed), then any further species found.  FeOt is total iron by the row's
        ``iron_rule``; FeO and Fe2O3 are as reported.  NaN marks an unusable value
        (the row's ``flag`` says which).
    flags : pandas.DataFrame
        ``iron_rule``, ``total``, ``notes`` (unless ``notes=False``), ``flag`` per row, on the
        caller's index.
    mapping : ColumnMapping
        Which column was read as which species, and what was not recognised.
    other : pandas.DataFrame
        The caller's columns that are not species (sample names, labels, ...), unchanged.
    total_range : tuple of float or None
        The accepted oxide sum (None: not judged).
    no_analysis : numpy.ndarray of bool
        Rows that are no analysis at all: empty, fractions, or a column shift (flagged).
    total_outside : numpy.ndarray of bool
        Analyses whose oxide sum lies outside ``total_range`` (flagged).
    codes : dict of str to dict
        Columns holding a code for "not analysed" (a value such as -0.99 repeated down the
        column, :data:`minml.tables._values.CODE_MIN_ROWS`, or a text such as ``#N/A``, ``NA``,
        ``null``) -> each code as shown -> its rows; read as 0, noted per row.
    below_detection : dict of str to dict
        Columns holding detection-limit texts (``<0.01``, ``bdl``, ``n.d.``) -> each text as
        shown -> its rows; read as 0, noted per row.
    absent : dict of str to str
        Oxides a model reads that the table has no column for -> what was read instead
        (filled in by :func:`minml.classifier.features.model_inputs`).
    species : list of str
        The columns of ``oxides``, in order.
    values : numpy.ndarray of float, shape (n_rows, len(species))
        ``oxides`` as an array (column-major).
    total : numpy.ndarray of float
        The ``total`` column of ``flags``.
    flag_text, notes_text : numpy.ndarray of object
        The ``flag`` and ``notes`` columns of ``flags`` (``notes_text`` is None with
        ``notes=False``).
    reasons : numpy.ndarray of uint16
        Per row, the :class:`~minml.tables.reasons.Reason` bits of its flags (0: not flagged):
        the codes that ``flag_text`` renders.
    """

    def __init__(
        self,
        *,
        species,
        values,
        iron_rule,
        total,
        flag_text,
        notes_text,
        mapping: ColumnMapping,
        other,
        total_range,
        no_analysis,
        total_outside,
        index=None,
        reasons=None,
        flag_kinds=None,
        note_kinds=None,
    ):
        self.species = list(species)
        self.values = values
        self.iron_rule = iron_rule
        self.total = total
        self.flag_text = flag_text
        self.notes_text = notes_text
        self.mapping = mapping
        self._other = other  # a DataFrame, or a function that makes one
        self.total_range = total_range
        self.no_analysis = no_analysis
        self.total_outside = total_outside
        self.index = index
        n = len(values)
        self.reasons = np.zeros(n, dtype=np.uint16) if reasons is None else reasons
        self._kinds = {"flag": flag_kinds, "notes": note_kinds}  # (rows, kind per row) per message added
        self.codes: dict[str, dict[str, int]] = {}  # column -> each code for "not analysed" -> its rows
        self.below_detection: dict[str, dict[str, int]] = {}  # column -> each detection-limit text -> its rows
        self.absent: dict[str, str] = {}  # model oxides without a column -> what was read (set by the model's reader)

    def __len__(self) -> int:
        return len(self.values)

    def species_values(self, name: str) -> np.ndarray:
        """One species' column of :attr:`values` (a view)."""
        return self.values[:, self.species.index(name)]

    @cached_property
    def oxides(self):
        import pandas as pd

        return pd.DataFrame(self.values, index=self.index, columns=self.species, copy=False)

    @cached_property
    def flags(self):
        import pandas as pd

        frame = pd.DataFrame(
            {
                "iron_rule": pd.Categorical.from_codes(self.iron_rule, IRON_RULES),
                "total": self.total,
                "flag": pd.Series(self.flag_text, index=self.index, dtype=object),
            },
            index=self.index,
            copy=False,
        )
        if self.notes_text is not None:
            frame.insert(2, "notes", pd.Series(self.notes_text, index=self.index, dtype=object))
        return frame

    @cached_property
    def other(self):
        return self._other() if callable(self._other) else self._other

    @property
    def ok(self):
        """True for rows with no flag (a pandas Series)."""
        return self.flags["flag"] == ""

    def columns_read(self):
        """What was read, one row per header: the species it was read as (or ``(kept)``), how
        and why; columns merged into another, codes for "not analysed" found in a column, and
        the model oxides the table has no column for (:attr:`absent`).  The table the summary
        (and ``minml check``) prints, as a DataFrame.

        Returns
        -------
        pandas.DataFrame
            ``column``, ``read_as``, ``how``, ``codes``.
        """
        import pandas as pd

        m = self.mapping
        rows = []
        for col, name in m.mapped.items():
            how = m.how[col] + (f"; merged with {', '.join(map(str, m.merged[col]))}" if col in m.merged else "")
            how += " (chosen: the most species)" if m.chosen and m.how[col].startswith(("suffix", "prefix")) else ""
            rows.append((col, name, how))
            rows += [(other, name, f"merged into {col}") for other in m.merged.get(col, [])]
        for col in m.unrecognised:
            why = m.notes.get(col) or (f"did you mean {m.hints[col]!r}?" if col in m.hints else "not a species")
            if col in m.hints and digit_for_letter(col) == m.hints[col]:  # never read: classify refuses it
                why += f" Spelt with {lookalike_words(col)}, never read: classify refuses the table until it is renamed"
            rows.append((col, "(kept)", why))
        rows += [("(no column)", name, how) for name, how in self.absent.items()]
        codes = [
            "; ".join(
                [f"{code} in {count} rows: not analysed" for code, count in self.codes.get(col, {}).items()]
                + [
                    f"{text} in {count} rows: below detection"
                    for text, count in self.below_detection.get(col, {}).items()
                ]
            )
            for col, _, _ in rows
        ]
        return pd.DataFrame(
            {
                "column": [str(c) for c, _, _ in rows],
                "read_as": [r for _, r, _ in rows],
                "how": [h for _, _, h in rows],
                "codes": codes,
            }
        )

    def flag_counts(self):
        """Rows flagged per kind of reason, most frequent first, as the checks recorded them
        (what the summary lists under "Flagged rows").

        Returns
        -------
        pandas.DataFrame
            ``reason``, ``rows``.
        """
        import pandas as pd

        counts = kind_counts(self._kinds["flag"])
        return pd.DataFrame({"reason": list(counts), "rows": list(counts.values())})

    def summary(self) -> str:
        """A readable account of what was understood: one table of the columns (see
        :meth:`columns_read`), the iron rule, the oxide sum, the rows flagged and noted by reason."""
        n = len(self.flags)
        lines = [
            f"{n} rows, {len(self.mapping.mapped)} species columns, {len(self.mapping.unrecognised)} other columns",
            "",
            "Columns (header -> read as):",
        ]
        if self.mapping.chosen:
            lines[1:1] = ["", self.mapping.chosen[0].upper() + self.mapping.chosen[1:] + "."]
        for row in self.columns_read().itertuples(index=False):
            codes = f"  codes: {row.codes}" if row.codes else ""
            lines.append(f"  {row.column:>24} -> {row.read_as:<7} ({row.how}){codes}")
        lines += ["", "Iron (rule used per row):"]
        for rule, count in self.flags["iron_rule"].value_counts().items():
            if count:
                lines.append(f"  {rule:<10} {count:>8} rows")
        total = self.flags["total"]
        lines += [
            "",
            f"Oxide sum (iron as FeOt): median {total.median():.1f} wt%, "
            f"5-95 % of rows {total.quantile(0.05):.1f}-{total.quantile(0.95):.1f} wt%",
        ]
        flagged = self.flags["flag"] != ""
        lines += ["", f"Flagged rows: {int(flagged.sum())} of {n}"]
        lines += [f"  {row.rows:>8}  {row.reason}" for row in self.flag_counts().itertuples(index=False)]
        noted = kind_counts(self._kinds["notes"]) if self.notes_text is not None else {}
        if noted:
            lines += ["", "Read as 0 or noted (notes):"]
            lines += [f"  {count:>8}  {reason}" for reason, count in noted.items()]
        return "\n".join(lines)
