"""Quantified EDS/WDS maps in: per-element or per-oxide grids, as oxide wt% per pixel.

Readers (:func:`read_map`): a folder of per-channel CSV/TXT grids (the usual AZtec/Esprit
export, one matrix per element or oxide, the channel named by the file: ``Si.csv``,
``Fe Ka.txt``, ``MgO_wt%.csv``), a multi-page TIFF or a folder of per-channel TIFFs
(``tifffile``), ``.npz`` (one array per channel), ``.npy`` (height x width x channels, with
``channels=``), an ``xarray.Dataset`` (:func:`from_xarray`), and HyperSpy ``.hspy`` files when
``rosettasciio`` is installed.  ``.npy`` files are memory-mapped, so maps larger than memory
are read block by block.

Units (:func:`to_oxides`): element wt% -> oxide wt% by stoichiometry (oxygen is not needed:
it follows from the oxides; an O channel is dropped), at% -> wt% first, and iron -> FeOt.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from minml.chemistry.oxides import (
    FEO_PER_FE2O3,
    atomic_weight,
    canonical_name,
    element_oxides,
    element_symbol,
    species_table,
)
from minml.io._npz import open_npz

__all__ = ["OxideMap", "from_xarray", "read_map", "to_oxides"]

_GRID_SUFFIXES = (".csv", ".txt", ".tsv")
_TIFF_SUFFIXES = (".tif", ".tiff")
_LINE = re.compile(r"[\s_-]*(?:k[aαβb]\d?|l[aαβb]\d?|m[aαβb]\d?|wt%?|at%?|weight|atomic|%|map|quant)$", re.IGNORECASE)


@dataclass
class OxideMap:
    """A quantified map: oxide wt% per pixel.

    Attributes
    ----------
    data : dict of str to array
        Canonical species (``SiO2``, ``FeOt``, ...) -> height x width array (numpy, memory-mapped
        or dask: anything that slices by rows).
    pixel_size : float, optional
        Micrometres per pixel (for the scale bar).
    source : str
    notes : list of str
        What the reader did (unit conversions, dropped channels).
    """

    data: dict
    pixel_size: float | None = None
    source: str = ""
    notes: list = field(default_factory=list)

    def __post_init__(self):
        shapes = {tuple(np.shape(a)) for a in self.data.values()}
        if not self.data:
            raise ValueError("A map needs at least one channel.")
        if len(shapes) != 1 or len(next(iter(shapes))) != 2:
            raise ValueError(f"Every channel must be one 2-D grid of the same shape; got {sorted(shapes)}.")
        if self.pixel_size is not None:
            check_pixel_size(self.pixel_size)

    @property
    def shape(self) -> tuple[int, int]:
        return tuple(np.shape(next(iter(self.data.values()))))

    def rows(self, start: int, stop: int) -> pd.DataFrame:
        """Pixels of rows ``start:stop`` as a table (one row per pixel, one column per species)."""
        return pd.DataFrame(
            {name: np.asarray(a[start:stop], dtype=np.float32).ravel() for name, a in self.data.items()}
        )


def check_pixel_size(value) -> None:
    """Refuse a pixel size that is no length: micrometres per pixel, above 0."""
    if not (np.isfinite(value) and value > 0):
        raise ValueError(f"pixel_size must be a length above 0 (micrometres per pixel), got {value!r}.")


def _is_channel(stem: str) -> bool:
    """Whether a file stem names an element or a species (``Fe Ka``, ``SiO2``), not an image
    saved beside the maps (``BSE``, ``SE``, ``Total``)."""
    name = _channel(stem)
    return canonical_name(name) is not None or element_symbol(name) is not None


class _Channels(dict):
    """Grids by the element or species they hold, refusing a second grid of one (``Fe Ka.csv``
    and ``Fe La.csv``: which of them is the analysis is not ours to pick)."""

    def __init__(self):
        super().__init__()
        self.sources: dict[str, str] = {}

    def add(self, name: str, grid, source: str) -> None:
        channel = _channel(name)
        if channel in self:
            raise ValueError(f"{source} and {self.sources[channel]} both give {channel}; keep one.")
        self[channel], self.sources[channel] = grid, source


def _channel(stem: str) -> str:
    """A file stem -> the element or species it holds (``Fe Ka`` -> ``Fe``, ``MgO_wt%`` -> ``MgO``)."""
    name = stem.strip()
    while True:
        stripped = _LINE.sub("", name).strip()
        if stripped == name:
            return stripped
        name = stripped


_NO_PIXEL = {"", "nan", "na", "n/a"}  # cells of a grid that say "no value here", as NaN in a .npy map


def _read_grid(path: Path) -> np.ndarray:
    """One channel of a map as a grid of numbers: NaN where a cell says there is no value
    (``nan``, empty: such pixels are masked, as NaN pixels of a .npy map are); a first line of
    labels is skipped; any other text is refused."""
    text = path.read_text(encoding="utf-8-sig")
    sep = next((s for s in (";", "\t", ",") if s in text.splitlines()[0]), None)
    options = dict(sep=sep if sep else r"\s+", header=None, engine="python")
    grid = pd.read_csv(path, **options).apply(pd.to_numeric, errors="coerce").to_numpy(dtype=np.float32)
    no_pixel = np.zeros(grid.shape, dtype=bool)
    if np.isnan(grid).any():  # which of those cells say "no value", and which hold text: read them as written
        cells = pd.read_csv(path, dtype=str, keep_default_na=False, **options).to_numpy(dtype=object)
        no_pixel[np.isnan(grid)] = [str(cell).strip().lower() in _NO_PIXEL for cell in cells[np.isnan(grid)]]
    if len(grid) and (np.isnan(grid[0]) & ~no_pixel[0]).all():  # a header line
        grid, no_pixel = grid[1:], no_pixel[1:]
    text_cells = np.isnan(grid) & ~no_pixel
    if text_cells.any():
        bad = np.argwhere(text_cells)[0]
        raise ValueError(
            f"{path.name}: cell (row {bad[0]}, column {bad[1]}) is not a number; a map grid holds "
            "numbers only (export it without labels)."
        )
    return grid


def _tiff(path: Path) -> np.ndarray:
    try:
        import tifffile
    except ImportError as error:
        raise ImportError("Reading TIFF maps needs tifffile: pip install 'min-ml[maps]'.") from error
    return np.asarray(tifffile.imread(path), dtype=np.float32)


_MICROMETRES = {"µm": 1.0, "um": 1.0, "micron": 1.0, "nm": 1e-3, "mm": 1e3}


def _hspy_pixel_size(axes) -> float | None:
    """Micrometres per pixel from rosettasciio axes (``scale`` in ``units``), when both image
    axes agree and their unit is a length."""
    scales = {
        float(a["scale"]) * _MICROMETRES[a.get("units", "")]
        for a in axes
        if "scale" in a and a.get("units", "") in _MICROMETRES
    }
    return scales.pop() if len(scales) == 1 and len(axes) == 2 else None


def read_map(path, *, channels=None, units: str = "wt%", pixel_size: float | None = None) -> OxideMap:
    """Read a quantified map.

    Parameters
    ----------
    path : path-like
        A folder of per-channel grids (CSV/TXT or TIFF), or one ``.npz``, ``.npy``, ``.tif`` or
        ``.hspy`` file.
    channels : list of str, optional
        Channel names for ``.npy`` (height x width x channels) and multi-page TIFF
        (channels x height x width) files, in order.
    units : {"wt%", "at%"}, default="wt%"
        Of element channels (oxide channels are always wt%).
    pixel_size : float, optional
        Micrometres per pixel.

    Returns
    -------
    OxideMap
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"No map at {str(path)!r}.")
    raw, others = _Channels(), []
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in _GRID_SUFFIXES + _TIFF_SUFFIXES)
        if not files:
            raise ValueError(f"{path} holds no .csv, .txt or .tif grids (one file per element or oxide).")
        others = [p.name for p in files if not _is_channel(p.stem)]  # BSE.tif, SE.tif, Total.csv beside the maps
        for p in files:
            if p.name not in others:
                raw.add(p.stem, _read_grid(p) if p.suffix.lower() in _GRID_SUFFIXES else _tiff(p), repr(p.name))
        if not raw:
            raise ValueError(
                f"{path}: no file is named by an element or oxide ({', '.join(others[:6])}); name each "
                "grid by its channel: Si.csv or SiO2.csv."
            )
    elif path.suffix == ".npz":
        with open_npz(path, "map (one array per element or oxide)") as data:
            for k in data.files:
                if k != "pixel_size":
                    raw.add(k, data[k], repr(k))
            if pixel_size is None and "pixel_size" in data.files:
                pixel_size = float(data["pixel_size"])
    elif path.suffix in (".npy",) + _TIFF_SUFFIXES:
        stack = np.load(path, mmap_mode="r") if path.suffix == ".npy" else _tiff(path)
        if channels is None or stack.ndim != 3:
            raise ValueError(
                f"{path.name} is one array: give channels=[...] naming its {stack.shape[-1] if stack.ndim == 3 else '?'} "
                "channels in order (.npy: height x width x channels; TIFF: pages)."
            )
        axis = 2 if path.suffix == ".npy" else 0
        if stack.shape[axis] != len(channels):
            raise ValueError(f"{path.name} has {stack.shape[axis]} channels but {len(channels)} names were given.")
        for i, c in enumerate(channels):
            raw.add(c, np.take(stack, i, axis=axis), repr(c))
    elif path.suffix == ".hspy":
        try:
            from rsciio.hspy import file_reader
        except ImportError as error:
            raise ImportError("Reading .hspy maps needs rosettasciio: pip install rosettasciio.") from error
        signals = file_reader(str(path))
        if isinstance(signals, dict):
            signals = [signals]
        for i, signal in enumerate(signals):
            data = np.asarray(signal["data"])
            if data.ndim != 2:
                raise ValueError(
                    f"{path.name}: signal {i} has shape {data.shape}; a quantified map holds one "
                    "2-D image per element or oxide (quantify the spectrum image in HyperSpy first)."
                )
            title = signal.get("metadata", {}).get("General", {}).get("title") or f"channel{i}"
            raw.add(str(title), data, repr(str(title)))
        if pixel_size is None:
            pixel_size = _hspy_pixel_size(signals[0].get("axes", []))
    else:
        raise ValueError(f"Cannot read {path.name}: give a folder of grids, .npz, .npy, .tif or .hspy.")
    oxides, notes = to_oxides(raw, units=units)
    if path.is_dir() and others:
        notes.insert(0, f"left out, as named by no element or oxide: {', '.join(others)}")
    return OxideMap(oxides, pixel_size=pixel_size, source=str(path), notes=notes)


def from_xarray(dataset, *, units: str = "wt%", pixel_size: float | None = None) -> OxideMap:
    """An ``xarray.Dataset`` with one 2-D variable per element or oxide (dask-backed is fine)."""
    raw = _Channels()
    for name in dataset.data_vars:
        raw.add(str(name), dataset[name].data, repr(str(name)))
    oxides, notes = to_oxides(raw, units=units)
    return OxideMap(oxides, pixel_size=pixel_size, source="xarray.Dataset", notes=notes)


def to_oxides(channels: dict, *, units: str = "wt%") -> tuple[dict, list]:
    """Channels named by element or oxide -> oxide wt%.

    Parameters
    ----------
    channels : dict of str to array
    units : {"wt%", "at%"}

    Returns
    -------
    oxides : dict of str to array
    notes : list of str

    Examples
    --------
    Si 21.0 wt% is SiO2 44.9 wt%; an O channel is dropped (oxygen follows from stoichiometry):

    >>> oxides, notes = to_oxides({"Si": np.array([[21.0]]), "O": np.array([[43.0]])})
    >>> round(float(oxides["SiO2"][0, 0]), 1), notes
    (44.9, ['O channel dropped: oxygen follows from the oxides'])
    """
    if units not in ("wt%", "at%"):
        raise ValueError(f"units must be 'wt%' or 'at%', got {units!r}.")
    oxide_of = element_oxides()  # element -> (its oxide, wt% of the oxide per wt% of it)
    elements: dict[str, object] = {}
    oxides: dict[str, object] = {}
    notes: list[str] = []
    for name, grid in channels.items():
        species = canonical_name(name)
        if species is not None and not species_table()[species].halogen and name not in oxide_of:
            if species in oxides:
                raise ValueError(f"Two channels give {species}; keep one.")
            oxides[species] = grid
            continue
        symbol = name[:1].upper() + name[1:].lower()
        try:
            atomic_weight(symbol)
        except KeyError:
            raise ValueError(
                f"Channel {name!r} is neither an oxide nor an element symbol; rename its file "
                "(e.g. 'Si.csv' or 'SiO2.csv')."
            ) from None
        elements[symbol] = grid
    if units == "at%" and elements:
        mass = {e: np.asarray(g, dtype=np.float32) * atomic_weight(e) for e, g in elements.items()}
        total = sum(mass.values())
        with np.errstate(invalid="ignore", divide="ignore"):
            elements = {e: np.where(total > 0, 100.0 * m / total, 0.0).astype(np.float32) for e, m in mass.items()}
        notes.append("at% converted to wt% with the standard atomic weights")
    if "O" in elements:
        elements.pop("O")
        notes.append("O channel dropped: oxygen follows from the oxides")
    for element, grid in elements.items():
        if element not in oxide_of:
            raise ValueError(f"No oxide of {element} in the oxide table; drop that channel.")
        species, factor = oxide_of[element]
        if species in oxides:
            raise ValueError(f"{element} and {species} channels both given; keep one.")
        oxides[species] = grid * np.float32(factor)
    _total_iron(oxides, notes)
    return oxides, notes


def _total_iron(oxides: dict, notes: list) -> None:
    """Iron of FeO, Fe2O3 or Fe2O3t channels as FeOt (in place), which the classes are told by:
    a map cannot tell Fe2+ from Fe3+, so each channel holds all the iron (FeO and Fe2O3 both:
    summed as FeOt)."""
    if "FeOt" in oxides or not {"FeO", "Fe2O3", "Fe2O3t"} & set(oxides):
        return
    if "Fe2O3t" in oxides and {"FeO", "Fe2O3"} & set(oxides):
        raise ValueError("Fe2O3t (total iron) and FeO or Fe2O3 channels both given; keep the total or the parts.")
    parts = [oxides.pop("FeO")] if "FeO" in oxides else []
    parts += [oxides.pop(name) * np.float32(FEO_PER_FE2O3) for name in ("Fe2O3", "Fe2O3t") if name in oxides]
    oxides["FeOt"] = parts[0] if len(parts) == 1 else parts[0] + parts[1]
    notes.append("iron read as total iron, FeOt (FeO + 0.8998 Fe2O3): a map cannot tell Fe2+ from Fe3+")
