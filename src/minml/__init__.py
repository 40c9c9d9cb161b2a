"""MIN-ML: which mineral is this analysis, and can its database label be trusted?

``import minml`` is cheap: the public names below are loaded on first use (numpy and pandas
for reading and checking tables; scikit-learn with the classifier; PyTorch only to train;
matplotlib only for plots).
"""

from minml._version import __version__

__all__ = [
    "CORE_OXIDES",
    "MineralClassifier",
    "OxideCheck",
    "__version__",
    "canonical_name",
    "check_oxides",
    "classify",
    "formula",
    "map_columns",
    "read_table",
    "validate",
    "write_table",
]

_LAZY = {
    "CORE_OXIDES": "minml.oxides",
    "canonical_name": "minml.oxides",
    "map_columns": "minml.oxides",
    "OxideCheck": "minml.checks",
    "check_oxides": "minml.checks",
    "read_table": "minml.io",
    "write_table": "minml.io",
    "MineralClassifier": "minml.model",
    "classify": "minml.predict",
    "formula": "minml.stoichiometry",
    "validate": "minml.validation",
}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'minml' has no attribute {name!r}")


def __dir__():
    return sorted(__all__)
