"""MIN-ML: which mineral is this analysis, and can its database label be trusted?

Importing ``minml`` loads numpy and pandas only; PyTorch (training) and matplotlib
(plots) are loaded by the functions that need them.
"""

from minml._version import __version__
from minml.checks import OxideCheck, check_oxides
from minml.io import read_table, write_table
from minml.oxides import CORE_OXIDES, canonical_name, map_columns

__all__ = [
    "CORE_OXIDES",
    "OxideCheck",
    "__version__",
    "canonical_name",
    "check_oxides",
    "map_columns",
    "read_table",
    "write_table",
]
