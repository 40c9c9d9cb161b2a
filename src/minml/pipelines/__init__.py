"""One function per job: a file of analyses in, the results written beside its columns, a
summary back (what the ``minml`` command prints).  Each reads and checks the table once and
chooses its own fastest route (CSV to CSV runs on Arrow, without pandas, where it can).

May import every other part of the package; nothing but :mod:`minml.cli` and the public
names of :mod:`minml` imports it.

For example::

    from minml.pipelines import classify_file

    summary = classify_file("analyses.csv", "classified.csv")
    print("\\n".join(summary.lines()))
"""

from minml.pipelines._classify import ClassifySummary, check_option, classify_file
from minml.pipelines._jobs import (
    CheckSummary,
    FormulaSummary,
    LatentSummary,
    ValidateSummary,
    check_file,
    formula_file,
    latent_file,
    validate_file,
)

__all__ = [
    "CheckSummary",
    "ClassifySummary",
    "FormulaSummary",
    "LatentSummary",
    "ValidateSummary",
    "check_file",
    "check_option",
    "classify_file",
    "formula_file",
    "latent_file",
    "validate_file",
]
