"""Quantified EDS/WDS maps in: per-element or per-oxide grids, as oxide wt% per pixel.

Readers (:func:`read_map`): a folder of per-channel CSV/TXT grids (the usual AZtec/Esprit
export, one matrix per element or oxide, the channel named by the file: ``Si.csv``,
``Fe Ka.txt``, ``MgO_wt%.csv``), a multi-page TIFF or a folder of per-channel TIFFs
(``tifffile``), ``.npz`` (one array per channel), ``.npy`` (height x width x channels, with
``channels=``), an ``xarray.Dataset`` (:func:`from_xarray`), and HyperSpy ``.hspy`` files when
``rosettasciio`` is installed.  ``.npy`` files are memory-mapped, so maps larger than memory
are read block by block.

Channels are named by element or oxide, with the X-ray line and units EDS software writes
after them (:func:`channel_name`: ``Al K series``, ``Al-K``, ``Si At%``); units named so are
read as such.  A pixel with no value (empty, NaN) or an infinite one in a channel is masked.

Units (:func:`to_oxides`): element wt% -> oxide wt% by stoichiometry (oxygen is not needed:
it follows from the oxides; an O channel is dropped), at% -> wt% first (each pixel keeping its
analysed total), and iron -> FeOt.
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

__all__ = ["OxideMap", "channel_name", "from_xarray", "read_map", "to_oxides"]

_GRID_SUFFIXES = (".csv", ".txt", ".tsv")
_TIFF_SUFFIXES = (".tif", ".tiff")
# Words EDS software writes after the element or oxide in a channel's name, by what they say:
# its units, or its X-ray line (Oxford AZtec: "Si Ka1", "Si K series", "Si Wt%", "Si (wt%)"; Bruker
# Esprit: "Si-K", "Si_K", "Si Wt.%"; "Fe Kα1,2"), stripped from the end of the name one at a time
_NAME_WORDS = {
    "at": r"at\.?\s*%|atomic\s*%?|atom\s*%|at",
    "wt": r"wt\.?\s*%?|weight\s*%?|mass\s*%",
    "line": r"[klm](?:[a\u03b1b\u03b2]\d?(?:,\d)?)?|series|line|%|map|quant",
}
_NAME_UNITS = {"at": "at%", "wt": "wt%"}
_NAME_TAIL = re.compile(
    r"(?P<sep>[\s_-]*[(\[]?)\s*(?:" + "|".join(f"(?P<{k}>{v})" for k, v in _NAME_WORDS.items()) + r")\s*[)\]]?\s*$",
    re.IGNORECASE,
)
_JOINED_ONLY_IF_LONG = re.compile(r"[klm]|at", re.IGNORECASE)  # "Al K", "Si at": apart from the name, never "Alk"


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
        """Pixels of rows ``start:stop``: one flat float32 array per species; a pixel with no
        value (NaN) or an infinite one in any channel is NaN in every channel, so that its oxide
        sum is 0 and the classifier masks it (one channel missing is no analysis)."""
        if self.pages is not None:
            self.pages.before(start)
        return _without_partial_pixels(
            {name: np.asarray(a[start:stop], dtype=np.float32).ravel() for name, a in self.data.items()}
        )

    def rows(self, start: int, stop: int) -> pd.DataFrame:
        """Pixels of rows ``start:stop`` as a table (one row per pixel, one column per species)."""
        return pd.DataFrame(self.columns(start, stop))


def _without_partial_pixels(columns: dict) -> dict:
    """``columns`` (flat float32 arrays) with every channel NaN at the pixels where one is not
    finite (new arrays there: the arrays given may be views of the map's)."""
    bad = None
    for column in columns.values():
        finite = np.isfinite(column)
        if not finite.all():
            bad = ~finite if bad is None else bad | ~finite
    if bad is None:
        return columns
    return {name: np.where(bad, np.float32(np.nan), column) for name, column in columns.items()}


def _non_finite_note(raw: dict, sources: dict) -> str | None:
    """What to say of the pixels with no value (empty, NaN) or an infinite one in a channel of
    ``raw`` (numpy arrays in memory; a memory-mapped file is not read here, which would read a
    map larger than memory twice: its pixels are masked all the same, and counted among the
    masked ones of the modes): masked, how many, in which channels.  Read in blocks of rows."""
    grids = {
        name: grid
        for name, grid in raw.items()
        if isinstance(grid, np.ndarray) and grid.dtype.kind in "fc" and not _mapped_file(grid)
    }
    shapes = {np.shape(grid) for grid in raw.values()}
    if not grids or len(shapes) != 1 or len(next(iter(shapes))) != 2:
        return None  # nothing to scan, or not one 2-D shape (refused by OxideMap)
    h, w = shapes.pop()
    step = max(1, (1 << 20) // max(w, 1))
    pixels, named = 0, set()
    for start in range(0, h, step):
        bad = None
        for name, grid in grids.items():
            here = ~np.isfinite(grid[start : start + step])
            if here.any():
                named.add(name)
                bad = here if bad is None else bad | here
        pixels += 0 if bad is None else int(np.count_nonzero(bad))
    if not pixels:
        return None
    channels = ", ".join(sources.get(name, repr(name)) for name in grids if name in named)
    pixels_said = f"{pixels} pixel{'s' if pixels > 1 else ''}"
    return (
        f"masked: {pixels_said} with no value (an empty or 'nan' cell, NaN) or an infinite one in {channels}; a "
        "pixel missing a channel is no analysis"
    )


def _mapped_file(grid: np.ndarray) -> bool:
    """Whether an array (or the array it is a view of) is a memory-mapped file."""
    seen: np.ndarray | None = grid
    while seen is not None:
        if isinstance(seen, np.memmap):
            return True
        seen = seen.base if isinstance(seen.base, np.ndarray) else None
    return False


def check_pixel_size(value) -> None:
    """Refuse a pixel size that is no length: micrometres per pixel, above 0."""
    if not (np.isfinite(value) and value > 0):
        raise ValueError(f"pixel_size must be a length above 0 (micrometres per pixel), got {value!r}.")


def _is_channel(stem: str) -> bool:
    """Whether a file stem names an element or a species (``Fe Ka``, ``SiO2``), not an image
    saved beside the maps (``BSE``, ``SE``, ``Total``)."""
    name = channel_name(stem)[0]
    return canonical_name(name) is not None or element_symbol(name) is not None


class _Channels(dict):
    """Grids by the element or species they hold, refusing a second grid of one (``Fe Ka.csv``
    and ``Fe La.csv``: which of them is the analysis is not ours to pick); the units a channel's
    name gives (``Si At%``) are kept by channel in ``units``."""

    def __init__(self):
        super().__init__()
        self.sources: dict[str, str] = {}
        self.units: dict[str, str] = {}
        self.pages = None  # a memory-mapped file's PageRelease

    def add(self, name: str, grid, source: str) -> None:
        channel, unit = channel_name(name)
        if channel in self:
            raise ValueError(f"{source} and {self.sources[channel]} both give {channel}; keep one.")
        self[channel], self.sources[channel] = grid, source
        if unit is not None:
            self.units[channel] = unit

    def named_units(self) -> dict[str, list[str]]:
        """The units the channels' names give -> the sources named so."""
        named: dict[str, list[str]] = {}
        for channel, unit in self.units.items():
            named.setdefault(unit, []).append(self.sources[channel])
        return named


def channel_name(stem: str) -> tuple[str, str | None]:
    """The element or species a channel's name (a file stem) holds, and the units it names.

    The X-ray line and the units that EDS software writes after the name are stripped: Oxford
    AZtec's ``Al Ka``, ``Al Ka1``, ``Al K series``, ``Al Wt%``, ``Al (wt%)``, ``Si At%``; Bruker
    Esprit's ``Al-K``, ``Al_K``, ``Al Wt.%``; ``Si_atomic%``, ``MgO_wt%``.

    Parameters
    ----------
    stem : str

    Returns
    -------
    name : str
        What is left (``Al``, ``MgO``; a name of no element is left as it is, to be refused or
        left out by the caller).
    units : {"wt%", "at%"} or None
        As the name says; None where it says neither.

    Examples
    --------
    >>> channel_name("Al K series"), channel_name("Si At%"), channel_name("MgO_wt%"), channel_name("BSE")
    (('Al', None), ('Si', 'at%'), ('MgO', 'wt%'), ('BSE', None))
    """
    name, units = stem.strip(), None
    while (found := _NAME_TAIL.search(name)) and found.start() > 0:
        word = next(k for k in _NAME_WORDS if found.group(k) is not None)
        if not found.group("sep") and _JOINED_ONLY_IF_LONG.fullmatch(found.group(word)):
            break  # "Alk", "Cat": no line or unit joined to the name without a separator
        units = units or _NAME_UNITS.get(word)
        name = name[: found.start()].strip()
    return name, units


_NAMED_BY = {  # how a file that names its own channels names them
    "folder": "by its files' names",
    "spectra": "a spectrum image: its elements are those of the k-factors",
    ".npz": "by its arrays' names",
}
_LOW_ATOMIC_TOTAL = 80.0  # at%: an implausible analysed total, classify_map's default min_total
_NO_PIXEL = {"", "nan", "na", "n/a"}  # cells of a grid that say "no value here", as NaN in a .npy map
_COMMA_CELL = re.compile(r"\s*[+-]?\d*,\d+(?:[eE][+-]?\d+)?\s*")  # a number with a decimal comma: 3,5553
_SEPARATORS = {";": "';'", "\t": "tabs", ",": "','", r"\s+": "spaces"}


def _grid_layout(path: Path) -> tuple[dict, bool]:
    """How to read a grid, and whether its lines end with the separator (``1,2,3,``: some
    exports write one after each cell), which gives the grid an empty last column.  The
    options (pandas') give its separator (``;``, tab or ``,`` as its first line has them, else
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
    options = dict(sep=sep, header=None, engine="c", encoding="utf-8-sig", decimal="," if comma else ".")
    data_line = (lines[1] or lines[0]).rstrip("\r\n")
    return options, sep != r"\s+" and data_line.endswith(sep) and len(data_line) > len(sep)


def _without_trailing_column(grid: np.ndarray, trailing: bool) -> np.ndarray:
    """``grid`` without its last column where the lines end with the separator and that column
    is empty (NaN) in every row: a column with values stays."""
    if trailing and grid.ndim == 2 and grid.shape[1] > 1 and np.isnan(grid[:, -1]).all():
        return grid[:, :-1]
    return grid


def _read_grid(path: Path) -> np.ndarray:
    """One channel of a map as a grid of numbers: NaN where a cell says there is no value
    (``nan``, empty: such pixels are masked, as NaN pixels of a .npy map are); a first line of
    labels is skipped; decimal commas are read where the separator is not a comma
    (:func:`_grid_layout`); any other text is refused.  Read by pandas' C engine straight to
    float32, whole (its chunks on threads cost a 2048-column grid 40-70 % more CPU time; two
    files are read at a time instead); a grid it refuses is read again cell by cell to say where.
    An empty last column left by a separator at the end of each line (``1,2,3,``) is dropped."""
    options, trailing = _grid_layout(path)
    whole = dict(dtype=np.float32, na_values=[*_NO_PIXEL, "NaN", "NA", "N/A", "NAN"], keep_default_na=False)
    try:
        grid = pd.read_csv(path, low_memory=False, **whole, **options).to_numpy(dtype=np.float32)
    except (ValueError, TypeError):
        return _read_grid_carefully(path, options, trailing)
    return _without_trailing_column(grid, trailing)


def _read_grid_carefully(path: Path, options: dict, trailing: bool = False) -> np.ndarray:
    """:func:`_read_grid` of a grid with text in it: a header line is skipped, cells saying
    "no value" are NaN, any other text is refused naming its cell, its text and the layout
    the grid was read with (``options``: :func:`_grid_layout`'s; ``trailing``: the lines end
    with the separator, :func:`_without_trailing_column`)."""
    comma = options.get("decimal", ".") == ","

    def numbers(column: pd.Series) -> pd.Series:
        if comma and not pd.api.types.is_numeric_dtype(column.dtype):
            column = column.astype(str).str.replace(",", ".", regex=False)
        return pd.to_numeric(column, errors="coerce")

    grid = _without_trailing_column(pd.read_csv(path, **options).apply(numbers).to_numpy(dtype=np.float32), trailing)
    no_pixel = np.zeros(grid.shape, dtype=bool)
    cells = None
    if np.isnan(grid).any():  # which of those cells say "no value", and which hold text: read them as written
        cells = pd.read_csv(path, dtype=str, keep_default_na=False, **options).to_numpy(dtype=object)
        cells = cells[:, : grid.shape[1]]
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


def _tifffile():
    try:
        import tifffile
    except ImportError as error:
        raise ImportError("Reading TIFF maps needs tifffile: pip install 'min-ml[maps]'.") from error
    return tifffile


def _tiff(path: Path) -> np.ndarray:
    return np.asarray(_tifffile().imread(path), dtype=np.float32)


def _tiff_stack(path: Path) -> tuple[np.ndarray, int]:
    """A TIFF's image (its first series) and the axis of its channels: the samples of one page
    (``YXS``: height x width x channels, photometric minisblack with one sample per channel),
    or ImageJ's channel axis, else the pages."""
    with _tifffile().TiffFile(path) as tif:
        series = tif.series[0]
        stack, axes = np.asarray(series.asarray(), dtype=np.float32), str(series.axes)
    if stack.ndim == 3 and len(axes) == 3:
        return stack, next((axes.index(a) for a in "SC" if a in axes), 0)
    return stack, 0


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
        Channel names for ``.npy`` (height x width x channels) and TIFF (pages, or one page of
        height x width x channels samples) files, in order; one name for a single 2-D image.
        Refused for the files that name their channels themselves (folders, ``.npz``,
        ``.hspy``, spectra).
    units : {"wt%", "at%"}, optional
        Of element channels (oxide channels are always wt%); default: what the channels' names
        say (``Si At%.csv``, ``Si_Wt%.csv``; a folder naming both is refused), else what a
        HyperSpy signal's metadata says, else wt%.  An at% map's pixels keep their analysed
        total (:func:`to_oxides`): ``min_total`` of :func:`minml.maps.classify_map`
        (``--min-total``) is then the lowest at% sum of the mapped elements, O included.
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
        Its ``notes`` say what was read how: channels left out, units, pixels masked for a
        channel without a value (empty, NaN or infinite cells).
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"No map at {str(path)!r}.")
    suffix = path.suffix.lower()
    folder = path.is_dir() and suffix != ".zspy"  # a .zspy signal is a Zarr folder, not a folder of grids
    spectra = not folder and (suffix in _eds.RAW_SUFFIXES or (suffix in (".hspy", ".zspy") and _holds_spectra(path)))
    _check_channels_apply(path, channels, folder, spectra)
    notes: list[str] = []
    if folder:
        raw, others, found_units, found_size = _read_folder(path, progress)
        if others:
            notes.append(f"left out, as named by no element or oxide: {', '.join(others)}")
    elif spectra:
        return _quantified_spectra(path, k_factors, pixel_size)
    else:
        raw, found_units, found_size = _read_file(path, suffix, channels)
    chosen = _units_of(raw, units, found_units, path.name, notes)
    missing = None if raw.pages is not None else _non_finite_note(raw, raw.sources)  # a mapped .npy: not read twice
    oxides, more = to_oxides(raw, units=chosen)
    notes += more + ([missing] if missing else [])
    return OxideMap(oxides, pixel_size=pixel_size or found_size, source=str(path), notes=notes, pages=raw.pages)


def _check_channels_apply(path: Path, channels, folder: bool, spectra: bool) -> None:
    """Refuse ``channels`` for a file or folder that names its channels itself."""
    kind = "folder" if folder else "spectra" if spectra else path.suffix.lower()
    if channels is None or kind in (".npy", *_TIFF_SUFFIXES):
        return
    itself = _NAMED_BY.get(kind, "by its metadata")
    raise ValueError(
        f"{path.name} names its channels itself ({itself}): leave channels= out (it names the channels of a .npy "
        "or TIFF stack only)."
    )


def _units_of(raw: _Channels, units: str | None, found: str | None, source: str, notes: list) -> str:
    """The units of the element channels: ``units`` where given, else what the channels' names
    say (one unit: a mixture is refused naming its files), else ``found`` (a signal's metadata),
    else wt%; oxide channels named at% are refused (a map gives oxides in wt%)."""
    named = raw.named_units()
    if len(named) > 1:
        listed = "; ".join(f"{unit}: {', '.join(files[:4])}{' ...' if len(files) > 4 else ''}"
                           for unit, files in sorted(named.items()))  # fmt: skip
        raise ValueError(
            f"{source}: the channels' names give two units ({listed}). Export every channel in one unit "
            "(all wt% or all at%)."
        )
    oxides_at = [raw.sources[c] for c, unit in raw.units.items() if unit == "at%" and _oxide_of(c) is not None]
    if oxides_at:
        raise ValueError(
            f"{source}: {', '.join(oxides_at)} named at% but holding an oxide: oxide channels are read as wt%. "
            "Export the oxides in wt%, or the elements in at%."
        )
    said = next(iter(named), None)
    if units is not None:
        if said is not None and said != units:
            notes.append(f"read in {units} as units= says, though the channels' names say {said}")
        return units
    if said is not None and found is not None and said != found:
        raise ValueError(
            f"{source}: the channels' names say {said} but the files' metadata say {found}: give units= to say which."
        )
    if said is not None:
        notes.append(f"element channels read in {said}, as their names say ({', '.join(named[said][:4])}"
                     f"{' ...' if len(named[said]) > 4 else ''})")  # fmt: skip
    return said or found or "wt%"


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
        if suffix == ".npy":
            (stack, raw.pages), axis = _mapped.open_npy(path), 2  # height x width x channels
        else:
            stack, axis = _tiff_stack(path)  # pages, or one page's samples
        for c, grid in zip(channels or [], _stack_channels(path, stack, axis, channels)):
            raw.add(c, grid, repr(c))
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


def _stack_channels(path: Path, stack, axis: int, channels) -> list:
    """The channels of one array (views: a memory-mapped .npy stays on disk), as many as
    ``channels`` names, or a refusal saying what does not fit."""
    shape = " x ".join(str(n) for n in stack.shape)
    if stack.ndim == 2:
        if channels is not None and len(channels) == 1:
            return [stack]
        given = "" if channels is None else f", but channels= names {len(channels)}"
        raise ValueError(
            f"{path.name} is one 2-D image ({shape} pixels: one channel){given}: give channels= one name, the "
            "element or oxide it holds (e.g. SiO2), or give a stack of images (.npy: height x width x channels; TIFF: "
            "pages)."
        )
    if stack.ndim != 3:
        raise ValueError(
            f"{path.name} holds an array of shape {stack.shape}: a map is height x width x channels (.npy) or a "
            "stack of 2-D images (TIFF)."
        )
    if channels is None:
        raise ValueError(
            f"{path.name} is one array: give channels=[...] naming its {stack.shape[axis]} channels in order "
            "(.npy: height x width x channels; TIFF: pages, or one page's samples)."
        )
    if stack.shape[axis] != len(channels):
        hint = ""
        if axis == 0 and stack.shape[2] == len(channels) and path.suffix.lower() in _TIFF_SUFFIXES:
            hint = (
                f" Its pages are images of {stack.shape[1]} x {stack.shape[2]}: if it is height x width x channels, "
                "write it as one page with a sample per channel (tifffile.imwrite(path, array, "
                "photometric='minisblack')), or as .npy."
            )
        raise ValueError(f"{path.name} has {stack.shape[axis]} channels but {len(channels)} names were given.{hint}")
    index = (slice(None),) * axis
    return [stack[(*index, i)] for i in range(len(channels))]


def _holds_spectra(path: Path) -> bool:
    signals = _eds.read_signals(path)
    return not _eds.signal_channels(signals, path.name)[0] and any(np.ndim(s["data"]) >= 1 for s in signals)


def _quantified_spectra(path: Path, k_factors, pixel_size) -> OxideMap:
    """A raw spectrum image quantified by Cliff-Lorimer, or refused naming the command."""
    from minml.maps.quantify import cliff_lorimer, line_intensities

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
    k, notes = _k_factors_for(k_factors, named, energy)
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
    notes.insert(
        0,
        f"quantified from {n}-channel spectra: K-alpha net counts of {', '.join(elements)}, Cliff-Lorimer with the "
        "k-factors given, no matrix correction, oxide sums normalised to 100 wt% (holes: too few counts, 0 wt%)",
    )
    left_out = sorted(set(named) - set(k) - {"O"})
    if left_out:
        notes.append(
            f"elements the file names but no k-factor was given for, left out: {', '.join(left_out)} (to quantify "
            "one, give its k-factor, or standards holding it)"
        )
    if empty.mean() > 0.5:
        notes.append(
            f"{int(empty.sum())} of {h * w} pixels have fewer than 50 net counts in the lines and are masked: "
            "bin the spectrum image (e.g. 4 x 4 pixels) or count longer"
        )
    return OxideMap(data, pixel_size=pixel_size or found_size, source=str(path), notes=notes)


def _k_factors_for(k_factors, named: list, energy) -> tuple[dict, list]:
    """The k-factors to quantify with: those given (a dict or a CSV file), and where they came
    from standards (:func:`minml.maps.quantify.standards_k_factors`) the k of each element the
    spectra name that no standard holds, from the line of log k against line energy (said in
    the notes; refused where too few k-factors are measured).  Elements without a K line in the
    spectra's range or an oxide stay without one (left out, said by the caller)."""
    from minml.maps.quantify import StandardsKFactors, line_energy, read_k_factors

    if isinstance(k_factors, str | Path):
        return read_k_factors(k_factors), []
    if not isinstance(k_factors, StandardsKFactors):
        return dict(k_factors), []
    oxide_of = element_oxides()

    def measurable(element: str) -> bool:
        try:
            return element in oxide_of and energy[0] < line_energy(element) < energy[-1]
        except ValueError:  # no K line listed
            return False

    wanted = [e for e in named if e not in k_factors and e != "O" and measurable(e)]
    return k_factors.extended(wanted)


def from_xarray(dataset, *, units: str | None = None, pixel_size: float | None = None) -> OxideMap:
    """An ``xarray.Dataset`` with one 2-D variable per element or oxide (dask-backed is fine).

    ``units`` as in :func:`read_map`: default what the variables' names say, else wt%.
    """
    raw = _Channels()
    for name in dataset.data_vars:
        raw.add(str(name), dataset[name].data, repr(str(name)))
    notes: list[str] = []
    chosen = _units_of(raw, units, None, "xarray.Dataset", notes)
    missing = _non_finite_note(raw, raw.sources)
    oxides, more = to_oxides(raw, units=chosen)
    notes += more + ([missing] if missing else [])
    return OxideMap(oxides, pixel_size=pixel_size, source="xarray.Dataset", notes=notes)


def _oxide_of(name: str) -> str | None:
    """The oxide (canonical species) a channel named ``name`` holds; None for an element or neither."""
    species = canonical_name(name)
    if species is not None and not species_table()[species].halogen and name not in element_oxides():
        return species
    return None


def to_oxides(channels: dict, *, units: str = "wt%") -> tuple[dict, list]:
    """Channels named by element or oxide -> oxide wt%.

    Element channels in at% need every element, O included: each pixel's atoms are turned
    into masses with the standard atomic weights, and its element wt% scaled so that its oxides
    sum to its analysed at% total, the sum of its element channels (what the analysis found of
    the pixel: ~100 in a mineral, low in a crack or epoxy whose carbon is not mapped), so that
    :func:`minml.maps.classify_map`'s ``min_total`` masks cracks in at% maps as in wt% maps.

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
        species = _oxide_of(name)
        if species is not None:
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
        elements, low = _atomic_to_weight(elements)
        notes.append("at% converted to wt% with the standard atomic weights")
        if low:
            notes.append(
                f"{low} pixels sum to under {_LOW_ATOMIC_TOTAL:g} at% over the mapped elements, O included (cracks, "
                "epoxy, holes): each pixel's oxides sum to its analysed at% total, so min_total masks them"
            )
    if "O" in elements:
        elements.pop("O")
        notes.append("O channel dropped: oxygen follows from the oxides")
    for element, grid in elements.items():
        if element not in oxide_of:
            raise ValueError(f"No oxide of {element} in the oxide table; drop that channel.")
        species, factor = oxide_of[element]
        if species in oxides:
            raise ValueError(f"{element} and {species} channels both given; keep one.")
        with np.errstate(over="ignore"):  # a value past float32 is infinite: masked (OxideMap.columns)
            oxides[species] = np.asarray(grid) * np.float32(factor)
    _total_iron(oxides, notes)
    return oxides, notes


def _atomic_to_weight(atoms: dict) -> tuple[dict, int]:
    """Element at% grids -> element wt% grids scaled to each pixel's analysed at% total (see
    :func:`to_oxides`), and the number of pixels whose total is under ``_LOW_ATOMIC_TOTAL``."""
    atoms = {e: np.asarray(g, dtype=np.float32) for e, g in atoms.items()}
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        analysed = sum(atoms.values())
        mass = {e: a * np.float32(atomic_weight(e)) for e, a in atoms.items()}
        total = sum(mass.values())
        scale = np.where(total > 0, analysed / total, 0.0).astype(np.float32)
        weights = {e: (m * scale).astype(np.float32) for e, m in mass.items()}
    return weights, int(np.count_nonzero(analysed < _LOW_ATOMIC_TOTAL))


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
