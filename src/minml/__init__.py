"""MIN-ML: which mineral is this analysis, and can its database label be trusted?

Importing ``minml`` loads numpy and pandas only; the classifier (scikit-learn), training
(PyTorch) and plots (matplotlib) are loaded when first used.
"""

from minml._version import __version__
from minml.checks import OxideCheck, check_oxides
from minml.io import read_table, write_table
from minml.oxides import CORE_OXIDES, canonical_name, map_columns

__all__ = [
    "CORE_OXIDES",
    "MineralClassifier",
    "OxideCheck",
    "__version__",
    "canonical_name",
    "check_oxides",
    "classify",
    "map_columns",
    "read_table",
    "write_table",
]

_LAZY = {"MineralClassifier": "minml.model", "classify": "minml.model"}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'minml' has no attribute {name!r}")
