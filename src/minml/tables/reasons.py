"""Why a row is flagged, as data: one :class:`Reason` bit per kind of reason.

The per-row ``flag`` text that users read is rendered from the same checks; code that
decides (classify, validate, the command's summaries) reads these codes, never the text.
"""

from __future__ import annotations

import enum

import numpy as np

__all__ = ["REASON_NAMES", "Messages", "Reason", "kind_counts", "reason_counts"]


class Reason(enum.IntFlag):
    """The kinds of reason a row's ``flag`` gives, one bit each (a row may carry several).

    Set by :func:`minml.check_oxides` (the table's reading) and by :func:`minml.classify`
    (the classifier's judgement); held per row as an integer array beside the text.
    """

    NONE = 0
    UNUSABLE_VALUE = 1
    """A cell is not a number, negative or over 100 wt% (the text names the column and the value)."""
    IRON_MISMATCH = 2
    """FeOt and FeO + Fe2O3 disagree (the check's flag and the summaries: "iron mismatch")."""
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
    OVERLAP = 4096
    """Classifier: named, but the second class is probable too (``overlaps.toml``: where
    composition cannot decide between the two; accepted, named its top class)."""
    ABSENT_DECIDES = 8192
    """Classifier: the answer depends on oxides the table has no column for (the classes the
    reported oxides fit complete them differently and are named differently); accepted, with
    the probabilities of that mixture."""
    SITE_LIMIT = 16384
    """Classifier: the network's class holds fewer cations of a kind on a site than the row has
    (``site_limits`` in ``minerals.toml``): the class is taken out of the answer, and the row
    named the next class where its end-members explain it (else also
    :attr:`NONE_OF_THE_CLASSES`)."""
    STATISTICS_ROW = 32768
    """A cell of the row's leading text columns labels a statistic of the analyses (``Mean``,
    ``SD``, ``n``): no analysis (:mod:`minml.tables._statistics`)."""


REASON_NAMES: dict[Reason, str] = {
    Reason.UNUSABLE_VALUE: "unusable value",
    Reason.IRON_MISMATCH: "iron mismatch",
    Reason.EMPTY_ROW: "empty row",
    Reason.FRACTIONS: "fractions, not wt%",
    Reason.COLUMN_SHIFT: "column shift",
    Reason.TOTAL_OUTSIDE: "oxide sum outside the range",
    Reason.OTHER_CHECK: "other check",
    Reason.NOMINAL_TOTAL: "sum fine with nominal unanalysed species",
    Reason.UNUSUAL: "unusual, explained by end-members",
    Reason.NONE_OF_THE_CLASSES: "none of the classes",
    Reason.COMPLETED_TOTAL: "sum fine with completed oxides",
    Reason.ESSENTIAL_ABSENT: "essential species not analysed",
    Reason.OVERLAP: "composition of two classes",
    Reason.ABSENT_DECIDES: "depends on an absent column",
    Reason.SITE_LIMIT: "beyond a site of the network's class",
    Reason.STATISTICS_ROW: "statistics row",
}
"""What the summaries call the rows of each :class:`Reason` bit."""


def reason_counts(codes: np.ndarray) -> dict[str, int]:
    """Rows per :class:`Reason` bit set in ``codes`` (a row counts once per bit it carries),
    named as :data:`REASON_NAMES`, most frequent first (ties in bit order).

    Examples
    --------
    >>> reason_counts(np.array([0, 4096, 4096 | 256, 32], dtype=np.uint16))
    {'composition of two classes': 2, 'oxide sum outside the range': 1, 'unusual, explained by end-members': 1}
    """
    codes = np.asarray(codes, dtype=np.uint16)
    counted = [(name, int(np.count_nonzero(codes & np.uint16(bit)))) for bit, name in REASON_NAMES.items()]
    ranked = sorted((pair for pair in counted if pair[1]), key=lambda pair: -pair[1])  # stable: bit order on ties
    return dict(ranked)


def kind_counts(kinds) -> dict[str, int]:
    """Rows per kind of message, most frequent first (ties: in the order the messages appear
    row by row), from the (rows, kind per row) that :class:`Messages` recorded."""
    import pandas as pd

    if not kinds:
        return {}
    rows = np.concatenate([idx for idx, _ in kinds])
    seq = np.concatenate([np.full(len(idx), k) for k, (idx, _) in enumerate(kinds)])
    names = np.concatenate([np.broadcast_to(np.asarray(kind, dtype=object), idx.shape) for idx, kind in kinds])
    return pd.Series(names[np.lexsort((seq, rows))], dtype=object).value_counts().to_dict()


class Messages:
    """Per-row ';'-joined messages, with a :class:`Reason` code per row and the kind of each
    message (what the summary counts).  Text is built only for the rows a message concerns,
    so a clean table of a million rows costs no string work."""

    def __init__(self, n: int):
        self.text = np.full(n, "", dtype=object)
        self.codes = np.zeros(n, dtype=np.uint16)
        self.kinds: list[tuple[np.ndarray, object]] = []

    def add(self, mask: np.ndarray, text, code: Reason = Reason.OTHER_CHECK, kind=None) -> None:
        """Append ``text`` where ``mask``: a str, or a function of the row positions that
        returns one str per position; set ``code`` on those rows.  ``kind`` names the message
        in the summary (a str, or one per row); by default the text before its first ':'."""
        idx = np.flatnonzero(mask)
        if not len(idx):
            return
        new = np.full(len(idx), text, dtype=object) if isinstance(text, str) else np.array(text(idx), dtype=object)
        old = self.text[idx]
        self.text[idx] = np.where(old == "", new, old + "; " + new)
        self.codes[idx] |= np.uint16(code)
        if kind is None:  # the message's own head, as it was just written
            kind = text.split(":")[0] if isinstance(text, str) else np.array([t.split(":")[0] for t in new.tolist()])
        self.kinds.append((idx, kind))

    def add_patterns(self, columns: list[str], masks: list[np.ndarray], label: str) -> None:
        """Append ``label: A, B`` naming the columns whose mask is set, per row."""
        if not masks:
            return
        bits = np.zeros(len(self.text), dtype=np.int64)
        for i, mask in enumerate(masks):
            bits |= mask.astype(np.int64) << i
        if not bits.any():
            return
        patterns, inverse = np.unique(bits, return_inverse=True)
        for k, pattern in enumerate(patterns):
            if pattern:
                names = ", ".join(c for i, c in enumerate(columns) if pattern >> i & 1)
                self.add(inverse == k, f"{label}: {names}", kind=label)
