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
    "named_apart",
    "ranked_table",
    "read_as",
    "say_absent",
    "validate_file",
]

_CLASSIFY = {"ClassifySummary", "check_option", "classify_file"}  # the rest are in _jobs
_MODULES = {name: "minml.pipelines._classify" if name in _CLASSIFY else "minml.pipelines._jobs" for name in __all__}
_MODULES["named_apart"] = "minml.pipelines._files"  # the rule that names result columns apart, for the app


def __getattr__(name):
    """Each name from its module on first use: ``minml classify`` imports the other jobs' module not at all."""
    from minml._lazy import lazy_attribute

    return lazy_attribute(globals(), _MODULES, name)


def __dir__():
    return sorted(__all__)
