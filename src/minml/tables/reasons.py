"""Why a row is flagged, as data: one :class:`Reason` bit per kind of reason.

The per-row ``flag`` text that users read is rendered from the same checks; code that
decides (classify, validate, the command's summaries) reads these codes, never the text.
"""

from __future__ import annotations

import enum

__all__ = ["Reason"]


class Reason(enum.IntFlag):
    """The kinds of reason a row's ``flag`` gives, one bit each (a row may carry several).

    Set by :func:`minml.check_oxides` (the table's reading) and by :func:`minml.classify`
    (the classifier's judgement); held per row as an integer array beside the text.
    """

    NONE = 0
    UNUSABLE_VALUE = 1
    """A cell is not a number, negative or over 100 wt% (the text names the column and the value)."""
    IRON_MISMATCH = 2
    """FeOt and FeO + Fe2O3 disagree."""
    EMPTY_ROW = 4
    """No oxide values."""
    FRACTIONS = 8
    """The oxides sum to about 1: fractions, not wt%."""
    COLUMN_SHIFT = 16
    """One column holds the total, or one oxide is ~100 with the rest ~0."""
    TOTAL_OUTSIDE = 32
    """The oxide sum lies outside the accepted range."""
    OTHER_CHECK = 64
    """A flag of the table's check with no code of its own."""
    NOMINAL_TOTAL = 128
    """Classifier: the sum was outside the range, but fine with the predicted class's nominal
    unanalysed species (accepted)."""
    UNUSUAL = 256
    """Classifier: unlike the training data, but the predicted class's end-members explain it (accepted)."""
    NONE_OF_THE_CLASSES = 512
    """Classifier: unlike the training data and unexplained by the class's end-members (unknown)."""
    COMPLETED_TOTAL = 1024
    """Classifier: the sum was outside the range, but fine with the model's completion of the
    oxides the table has no column for (accepted)."""
    ESSENTIAL_ABSENT = 2048
    """Classifier: named a class whose essential species (P2O5 of apatite) has no column."""
