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
from minml.maps import _eds, _mapped

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
    pages : minml.maps._mapped.PageRelease, optional
        Of a memory-mapped ``.npy`` the channels are views of: :meth:`columns` lets the rows
        above a block leave memory.
    """

    data: dict
    pixel_size: float | None = None
    source: str = ""
    notes: list = field(default_factory=list)
    pages: _mapped.PageRelease | None = field(default=None, repr=False, compare=False)

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

    def columns(self, start: int, stop: int) -> dict:
        """Pixels of rows ``start:stop``: one flat float32 array per species."""
        if self.pages is not None:
            self.pages.before(start)
        return {name: np.asarray(a[start:stop], dtype=np.float32).ravel() for name, a in self.data.items()}

    def rows(self, start: int, stop: int) -> pd.DataFrame:
        """Pixels of rows ``start:stop`` as a table (one row per pixel, one column per species)."""
        return pd.DataFrame(self.columns(start, stop))


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
        self.pages = None  # a memory-mapped file's PageRelease

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
_COMMA_CELL = re.compile(r"\s*[+-]?\d*,\d+(?:[eE][+-]?\d+)?\s*")  # a number with a decimal comma: 3,5553
_SEPARATORS = {";": "';'", "\t": "tabs", ",": "','", r"\s+": "spaces"}


def _grid_options(path: Path) -> dict:
    """How to read a grid: its separator (``;``, tab or ``,`` as its first line has them, else
    spaces) and decimal mark, a comma where the separator is not one and a cell of the first
    two lines (a line of labels may come first) is a number written with a comma (``3,5553``)."""
    with open(path, encoding="utf-8-sig") as handle:
        lines = [handle.readline(), handle.readline()]
    sep = next((s for s in (";", "\t", ",") if s in lines[0]), None)
    spaced = lines[0].split()
    if sep == "," and len(spaced) > 1 and all(_COMMA_CELL.fullmatch(cell) for cell in spaced):  # 3,5 4,2
        sep = None
    sep = sep if sep else r"\s+"
    cells = [cell for line in lines for cell in (line.split() if sep == r"\s+" else line.split(sep))]
    comma = sep != "," and any(_COMMA_CELL.fullmatch(cell) for cell in cells)
    return dict(sep=sep, header=None, engine="c", encoding="utf-8-sig", decimal="," if comma else ".")


def _read_grid(path: Path) -> np.ndarray:
    """One channel of a map as a grid of numbers: NaN where a cell says there is no value
    (``nan``, empty: such pixels are masked, as NaN pixels of a .npy map are); a first line of
    labels is skipped; decimal commas are read where the separator is not a comma
    (:func:`_grid_options`); any other text is refused.  Read by pandas' C engine straight to
    float32, whole (its chunks on threads cost a 2048-column grid 40-70 % more CPU time; two
    files are read at a time instead); a grid it refuses is read again cell by cell to say where."""
    options = _grid_options(path)
    whole = dict(dtype=np.float32, na_values=[*_NO_PIXEL, "NaN", "NA", "N/A", "NAN"], keep_default_na=False)
    try:
        return pd.read_csv(path, low_memory=False, **whole, **options).to_numpy(dtype=np.float32)
    except (ValueError, TypeError):
        return _read_grid_carefully(path, options)


def _read_grid_carefully(path: Path, options: dict) -> np.ndarray:
    """:func:`_read_grid` of a grid with text in it: a header line is skipped, cells saying
    "no value" are NaN, any other text is refused naming its cell, its text and the layout
    the grid was read with (``options``: :func:`_grid_options`)."""
    comma = options.get("decimal", ".") == ","

    def numbers(column: pd.Series) -> pd.Series:
        if comma and not pd.api.types.is_numeric_dtype(column.dtype):
            column = column.astype(str).str.replace(",", ".", regex=False)
        return pd.to_numeric(column, errors="coerce")

    grid = pd.read_csv(path, **options).apply(numbers).to_numpy(dtype=np.float32)
    no_pixel = np.zeros(grid.shape, dtype=bool)
    cells = None
    if np.isnan(grid).any():  # which of those cells say "no value", and which hold text: read them as written
        cells = pd.read_csv(path, dtype=str, keep_default_na=False, **options).to_numpy(dtype=object)
        no_pixel[np.isnan(grid)] = [str(cell).strip().lower() in _NO_PIXEL for cell in cells[np.isnan(grid)]]
    header = bool(len(grid) and (np.isnan(grid[0]) & ~no_pixel[0]).all())
    if header:  # a line of labels
        grid, no_pixel = grid[1:], no_pixel[1:]
    text_cells = np.isnan(grid) & ~no_pixel
    if text_cells.any():
        row, column = (int(i) for i in np.argwhere(text_cells)[0])
        text = "" if cells is None else cells[row + header, column]  # a text cell is one of the NaNs: read
        decimal = "decimal commas" if comma else "decimal points"
        raise ValueError(
            f"{path.name}: cell (row {row}, column {column}) is not a number: {text!r} (line "
            f"{row + header + 1} of the file, read as cells separated by {_SEPARATORS.get(options['sep'], options['sep'])} "
            f"with {decimal}). A map grid holds numbers only, with 'nan' or an empty cell where a pixel has no value "
            "(one line of labels at the top is skipped): replace that cell, or export the channel again as numbers."
        )
    return grid


def _tiff(path: Path) -> np.ndarray:
    try:
        import tifffile
    except ImportError as error:
        raise ImportError("Reading TIFF maps needs tifffile: pip install 'min-ml[maps]'.") from error
    return np.asarray(tifffile.imread(path), dtype=np.float32)


def read_map(
    path,
    *,
    channels=None,
    units: str | None = None,
    pixel_size: float | None = None,
    k_factors=None,
    progress: bool = False,
) -> OxideMap:
    """Read a quantified map, or quantify a raw EDS spectrum image.

    Parameters
    ----------
    path : path-like
        A folder of per-channel grids (CSV/TXT, TIFF, ``.hspy``), or one ``.npz``, ``.npy``,
        ``.tif``, ``.hspy``/``.zspy`` (quantified images: a stack (n, H, W) or one signal per
        element) file, or a raw spectrum image ``.bcf``, ``.rpl``, ``.msa``/``.spx`` (needs
        ``k_factors``).  Extensions in any case (``stack.TIF``).
    channels : list of str, optional
        Channel names for ``.npy`` (height x width x channels) and multi-page TIFF
        (channels x height x width) files, in order.
    units : {"wt%", "at%"}, optional
        Of element channels (oxide channels are always wt%); default: what a HyperSpy
        signal's metadata says, else wt%.
    pixel_size : float, optional
        Micrometres per pixel (default: from the file, where it says).
    k_factors : dict or path-like, optional
        Cliff-Lorimer k-factors relative to Si (``{"Mg": 1.1, ...}`` or a CSV of ``element,k``)
        for raw spectra (:mod:`minml.maps.quantify`).
    progress : bool, default=False
        A progress bar over the files of a folder.

    Returns
    -------
    OxideMap
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"No map at {str(path)!r}.")
    suffix = path.suffix.lower()
    notes: list[str] = []
    if path.is_dir() and suffix != ".zspy":  # a .zspy signal is a Zarr folder, not a folder of grids
        raw, others, found_units, found_size = _read_folder(path, progress)
        if others:
            notes.append(f"left out, as named by no element or oxide: {', '.join(others)}")
    elif suffix in _eds.RAW_SUFFIXES or (suffix in (".hspy", ".zspy") and _holds_spectra(path)):
        return _quantified_spectra(path, k_factors, pixel_size)
    else:
        raw, found_units, found_size = _read_file(path, suffix, channels)
    oxides, more = to_oxides(raw, units=units or found_units or "wt%")
    pages = getattr(raw, "pages", None)
    return OxideMap(oxides, pixel_size=pixel_size or found_size, source=str(path), notes=notes + more, pages=pages)


def _npy_grid(path: Path) -> np.ndarray:
    """One channel saved as a 2-D ``.npy`` array, memory-mapped (it stays on disk until read)."""
    grid = np.load(path, mmap_mode="r", allow_pickle=False)
    if grid.ndim != 2:
        raise ValueError(
            f"{path.name} holds an array of shape {grid.shape}: a folder's .npy files are one 2-D channel each "
            "(a height x width x channels stack is read as one file, with channels=[...])."
        )
    return grid


def _read_folder(path: Path, progress: bool):
    """Per-channel files of a folder: grids, TIFFs, 2-D ``.npy`` arrays (memory-mapped, as
    :func:`minml.maps.open_lazy` reads such a folder) or HyperSpy signals."""
    from concurrent.futures import ThreadPoolExecutor

    from minml._progress import bar

    suffixes = _GRID_SUFFIXES + _TIFF_SUFFIXES + (".npy", ".hspy", ".zspy")
    files = sorted(p for p in path.iterdir() if p.suffix.lower() in suffixes)
    if not files:
        raise ValueError(f"{path} holds no .csv, .txt, .tif, .npy or .hspy grids (one file per element or oxide).")
    raw, units, size = _Channels(), set(), None
    others = [p.name for p in files if p.suffix.lower() not in (".hspy", ".zspy") and not _is_channel(p.stem)]
    kept = [p for p in files if p.name not in others]

    def image(p: Path):  # a grid, a TIFF or an array; signals are read in order below
        kind = p.suffix.lower()
        if kind == ".npy":
            return _npy_grid(p)
        return None if kind in (".hspy", ".zspy") else _read_grid(p) if kind in _GRID_SUFFIXES else _tiff(p)

    pool = ThreadPoolExecutor(2)  # two files at a time (pandas' C parser parses without the GIL), kept in order
    try:
        for p, grid in bar(zip(kept, pool.map(image, kept)), desc="reading map channels", unit="file",
                           enabled=progress, total=len(kept)):  # fmt: skip
            if grid is not None:
                raw.add(p.stem, grid, repr(p.name))
                continue
            pairs, found, found_size = _eds.signal_channels(_eds.read_signals(p), p.name)
            units |= {found} if found else set()
            size = size or found_size
            for name, signal in pairs:
                raw.add(name, signal, repr(p.name))
    finally:
        pool.shutdown(cancel_futures=True)  # after an error, the files not begun are not read
    if not raw:
        raise ValueError(
            f"{path}: no file is named by an element or oxide ({', '.join(others[:6])}); name each "
            "grid by its channel: Si.csv or SiO2.csv."
        )
    if len(units) > 1:
        raise ValueError(f"{path}: its signals are in both wt% and at%; quantify them in one unit.")
    return raw, others, units.pop() if units else None, size


def _read_file(path: Path, suffix: str, channels):
    """One file of channels: ``.npz``, ``.npy``, TIFF, ``.hspy``/``.zspy``."""
    raw, units, size = _Channels(), None, None
    if suffix == ".npz":
        with open_npz(path, "map (one array per element or oxide)") as data:
            for k in data.files:
                if k != "pixel_size":
                    raw.add(k, data[k], repr(k))
            if "pixel_size" in data.files:
                size = float(data["pixel_size"])
    elif suffix in (".npy",) + _TIFF_SUFFIXES:
        stack, raw.pages = _mapped.open_npy(path) if suffix == ".npy" else (_tiff(path), None)
        axis = 2 if suffix == ".npy" else 0  # the channels: .npy height x width x channels, TIFF pages first
        if channels is None or stack.ndim != 3:
            raise ValueError(
                f"{path.name} is one array: give channels=[...] naming its {stack.shape[axis] if stack.ndim == 3 else '?'} "
                "channels in order (.npy: height x width x channels; TIFF: pages)."
            )
        if stack.shape[axis] != len(channels):
            raise ValueError(f"{path.name} has {stack.shape[axis]} channels but {len(channels)} names were given.")
        for i, c in enumerate(channels):
            raw.add(c, stack[..., i] if axis == 2 else stack[i], repr(c))  # views: a memory-mapped .npy stays on disk
    elif suffix in (".hspy", ".zspy"):
        pairs, units, size = _eds.signal_channels(_eds.read_signals(path), path.name)
        if not pairs:
            raise ValueError(
                f"{path.name} holds no quantified image (2-D images, or a stack of shape (n, H, W) named by "
                "metadata.Sample.elements)."
            )
        for name, grid in pairs:
            raw.add(name, grid, repr(name))
    else:
        raise ValueError(
            f"Cannot read {path.name}: give a folder of grids, .npz, .npy, .tif, .hspy/.zspy, or a spectrum "
            "image (.bcf, .rpl, .msa) with k-factors."
        )
    return raw, units, size


def _holds_spectra(path: Path) -> bool:
    signals = _eds.read_signals(path)
    return not _eds.signal_channels(signals, path.name)[0] and any(np.ndim(s["data"]) >= 1 for s in signals)


def _quantified_spectra(path: Path, k_factors, pixel_size) -> OxideMap:
    """A raw spectrum image quantified by Cliff-Lorimer, or refused naming the command."""
    from minml.maps.quantify import cliff_lorimer, line_intensities, read_k_factors

    counts, energy, named, found_size = _eds.spectra_of(_eds.read_signals(path), path.name)
    h, w, n = counts.shape
    if k_factors is None:
        raise ValueError(
            f"{path.name} is a raw EDS spectrum image ({h} x {w} pixels x {n} channels), not a quantified map. "
            f"Quantify it with k-factors (relative to Si): minml map {path.name} --k-factors kfactors.csv -o OUT "
            "(kfactors.csv: columns element,k), or from standards of known composition: minml map "
            f"{path.name} --standards standards.csv -o OUT (standards.csv: a spectrum column naming .msa files "
            "and oxide wt% columns)."
        )
    k = read_k_factors(k_factors) if isinstance(k_factors, str | Path) else dict(k_factors)
    elements = [e for e in k if e != "O"]
    oxides: dict[str, list] = {}
    for start in range(0, h, max(1, 65536 // max(w, 1))):  # rows in blocks: the cumulative sums stay small
        try:
            net = line_intensities(counts[start : start + 65536 // max(w, 1)], energy, elements)
        except ValueError as error:
            raise ValueError(f"{path.name}: {error}") from None
        block = cliff_lorimer(net, elements, k)
        for name, grid in block.items():
            oxides.setdefault(name, []).append(grid)
    data = {name: np.concatenate(parts, axis=0) for name, parts in oxides.items()}
    empty = sum(grid == 0 for grid in data.values()) == len(data)
    notes = [
        f"quantified from {n}-channel spectra: K-alpha net counts of {', '.join(elements)}, Cliff-Lorimer with the "
        "k-factors given, no matrix correction, oxide sums normalised to 100 wt% (holes: too few counts, 0 wt%)"
    ]
    left_out = sorted(set(named) - set(k) - {"O"})
    if left_out:
        notes.append(f"elements the file names but no k-factor was given for, left out: {', '.join(left_out)}")
    if empty.mean() > 0.5:
        notes.append(
            f"{int(empty.sum())} of {h * w} pixels have fewer than 50 net counts in the lines and are masked: "
            "bin the spectrum image (e.g. 4 x 4 pixels) or count longer"
        )
    return OxideMap(data, pixel_size=pixel_size or found_size, source=str(path), notes=notes)


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
        if "O" not in elements:
            raise ValueError(
                "Element maps in at% need every element, O included: an atom's share of all the atoms turns into "
                f"wt% only with all of them. No O channel among {', '.join(elements)}: export the O map too, or the "
                "maps in wt%."
            )
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
        oxides[species] = np.asarray(grid) * np.float32(factor)
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
