"""EDS/WDS maps: reading quantified grids and stacks, and quantifying raw spectra
(:mod:`~minml.maps.read`, :mod:`~minml.maps.quantify`), classifying them pixel by pixel
(:mod:`~minml.maps.classify`) with mixed boundary pixels (:mod:`~minml.maps.mixtures`) and
honest modes (:mod:`~minml.maps.modes`), the pictures (:mod:`~minml.maps.figures`) and files
(:mod:`~minml.maps.outputs`), synthetic maps with known truth (:mod:`~minml.maps.synthetic`), and
maps past memory read, classified and summed band by band with Dask (``open_lazy``,
``classify_lazy``: :mod:`minml.maps._lazy`).

Imports :mod:`minml.classifier`, :mod:`minml.chemistry` and :mod:`minml.plot`; rosettasciio
(optional, GPL) only in :mod:`~minml.maps._eds`, only when such a file is read.

The names below are what the command and other packages use (imported on first use).
"""

from __future__ import annotations

_NAMES = {
    "OxideMap": "read",
    "read_map": "read",
    "from_xarray": "read",
    "to_oxides": "read",
    "check_pixel_size": "read",
    "MapResult": "classify",
    "classify_map": "classify",
    "classify_block": "classify",
    "clean": "classify",
    "check_map_options": "classify",
    "MASKED": "classify",
    "MIXTURE": "classify",
    "UNKNOWN": "classify",
    "modal_table": "modes",
    "kept_unknown": "modes",
    "open_lazy": "_lazy",
    "classify_lazy": "_lazy",
    "LazyMapResult": "_lazy",
    "write_outputs": "outputs",
    "k_factors_from_standards": "quantify",
    "read_k_factors": "quantify",
    "standards_k_factors": "quantify",
    "synthetic_map": "synthetic",
    "map_scores": "synthetic",
}

__all__ = sorted(_NAMES)


_MODULES = {name: f"minml.maps.{module}" for name, module in _NAMES.items()}


def __getattr__(name: str):
    from minml._lazy import lazy_attribute

    return lazy_attribute(globals(), _MODULES, name)
