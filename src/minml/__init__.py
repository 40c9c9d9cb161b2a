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
    "classify_files",
    "classify_map",
    "formula",
    "latent",
    "map_columns",
    "read_map",
    "read_table",
    "validate",
    "validate_files",
    "write_table",
]

_LAZY = {
    "CORE_OXIDES": "minml.chemistry.oxides",
    "canonical_name": "minml.chemistry.oxides",
    "map_columns": "minml.chemistry.oxides",
    "OxideCheck": "minml.tables.checks",
    "check_oxides": "minml.tables.checks",
    "read_table": "minml.io",
    "write_table": "minml.io",
    "MineralClassifier": "minml.classifier.model",
    "classify": "minml.classifier.predict",
    "formula": "minml.chemistry.formulas",
    "validate": "minml.validation.verdicts",
    "latent": "minml.unsupervised.latent",
    "read_map": "minml.maps.read",
    "classify_map": "minml.maps.classify",
    "classify_files": "minml._dask_files",
    "validate_files": "minml._dask_files",
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
