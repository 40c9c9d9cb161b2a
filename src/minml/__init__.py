"""MIN-ML: which mineral is this analysis, and can its database label be trusted?

``import minml`` is cheap: the public names below are loaded on first use (numpy and pandas
for reading and checking tables; scikit-learn with the classifier; PyTorch only to train;
matplotlib only for plots).
"""

from minml._version import __version__

__all__ = [
    "CORE_OXIDES",
    "DEFAULT_TOTAL_RANGE",
    "MineralClassifier",
    "NoScheduler",
    "OxideCheck",
    "Reason",
    "__version__",
    "canonical_name",
    "check_file",
    "check_oxides",
    "classify",
    "classify_file",
    "classify_files",
    "classify_map",
    "formula",
    "formula_file",
    "latent",
    "latent_file",
    "map_columns",
    "name_species",
    "read_map",
    "read_table",
    "validate",
    "validate_file",
    "validate_files",
    "write_table",
]

_LAZY = {
    "name_species": "minml.chemistry.species",
    "CORE_OXIDES": "minml.chemistry.oxides",
    "canonical_name": "minml.chemistry.oxides",
    "map_columns": "minml.chemistry.oxides",
    "OxideCheck": "minml.tables.checks",
    "DEFAULT_TOTAL_RANGE": "minml.tables.checks",
    "Reason": "minml.tables.reasons",
    "classify_file": "minml.pipelines",
    "validate_file": "minml.pipelines",
    "formula_file": "minml.pipelines",
    "latent_file": "minml.pipelines",
    "check_file": "minml.pipelines",
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
    "NoScheduler": "minml._dask_files",
}


def __getattr__(name):
    from minml._lazy import lazy_attribute

    return lazy_attribute(globals(), _LAZY, name)


def __dir__():
    return sorted(__all__)
