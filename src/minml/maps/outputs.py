"""A classified map's files: the pixel table, the modes, and the pictures, each written whole
or not at all (to a temporary file in the target folder, then moved into place).

Every argument is checked before the first file is written, and a run's folder holds that run's
files only, among the names written here (:data:`FIXED_NAMES`, ``index_<index>.png``): those
of an earlier run are removed first, other files left alone.
"""

from __future__ import annotations

import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from minml.io import atomic_path

__all__ = ["FIXED_NAMES", "check_output_folder", "output_names", "write_outputs"]

FIXED_NAMES = (
    "pixels.parquet",
    "modes.csv",
    "phase_map.png",
    "confidence.png",
    "modes.png",
    "profile.csv",
    "profile.png",
)
"""The files :func:`write_outputs` writes, but the index maps (``index_<index>.png``)."""


def output_names() -> list[str]:
    """Every file name :func:`write_outputs` may write: :data:`FIXED_NAMES` and an
    ``index_<index>.png`` per index of ``minerals.toml``.

    Examples
    --------
    >>> "index_Fo.png" in output_names() and "modes.csv" in output_names()
    True
    """
    from minml.chemistry.minerals import index_names

    return [*FIXED_NAMES, *(f"index_{name}.png" for name in index_names())]


def check_output_folder(folder) -> Path:
    """``folder`` as a :class:`~pathlib.Path` once the outputs are known to be able to go
    there: it is a folder or can be made, and a file can be written in it.  Leaves nothing
    behind (a folder made to try is removed again).

    Raises
    ------
    ValueError
        ``folder`` or one of its parents is a file, or the folder cannot be made or written in
        (a read-only disk, ``/proc``); one line saying which.
    """
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"{str(folder)!r} is a file, not a folder; give a folder for the map's outputs.")
    existing = next(p for p in [folder, *folder.parents] if p.exists())
    if not existing.is_dir():
        raise ValueError(
            f"Cannot make the folder {str(folder)!r}: {str(existing)!r} is a file, not a folder; give a path of folders only."
        )
    made = [p for p in [folder, *folder.parents] if not p.exists()]  # the deepest first
    step = "make"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        step = "write in"
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        reason = error.strerror or str(error)
        raise ValueError(
            f"Cannot {step} the folder {str(folder)!r} ({reason}); give a folder you can write to."
        ) from None
    finally:
        for path in made:
            try:
                path.rmdir()
            except OSError:
                break
    return folder


def _atomic(path: Path, write) -> Path:
    """``write(temporary_path)``, then the file moved to ``path`` in one step
    (:func:`minml.io.atomic_path`: a reader never sees half a file; a failure leaves none)."""
    with atomic_path(path) as part:
        write(part)
    return path


_PNG_LEVEL = 1
"""zlib's fastest level: a 2048² map's confidence picture encodes in 0.05 s instead of 0.12 s
(PIL's default, 6) for a file 6 % larger (1.12 against 1.06 MB); the phase map 23 % larger,
the demo map's small pictures 10-36 % (the same pixels)."""


def _save(ax, path: Path) -> Path:
    import matplotlib.pyplot as plt

    try:
        return _atomic(
            path, lambda p: ax.figure.savefig(p, dpi=150, format="png", pil_kwargs={"compress_level": _PNG_LEVEL})
        )
    finally:
        plt.close(ax.figure)


def _modes_csv(modes, pixel_size: float | None):
    """The modes as ``modes.csv`` holds them: without a pixel size the areas are pixels, and
    their column says so (``area_pixels``, not ``area_um2``)."""
    return modes if pixel_size else modes.rename(columns={"area_um2": "area_pixels"})


def _checked(result, oxide_map, min_area, index, index_phase, profile):
    """The index (its name as ``minerals.toml`` spells it) and the phase it is drawn for, and
    the profile's points, once every argument of :func:`write_outputs` is known to be good."""
    from minml.maps import figures
    from minml.maps.classify import check_map_options

    check_map_options(min_area=min_area)
    if (index or profile is not None) and oxide_map is None:
        raise ValueError("An index map or a profile needs the oxide map (oxide_map=).")
    if oxide_map is not None and tuple(oxide_map.shape) != tuple(result.codes.shape):
        raise ValueError(
            f"oxide_map is {oxide_map.shape[0]} x {oxide_map.shape[1]} pixels and the classified map "
            f"{result.codes.shape[0]} x {result.codes.shape[1]}: give the map that was classified."
        )
    if index_phase is not None and not index:
        raise ValueError(f"index_phase={index_phase!r} names the phase of an index map; give index= too.")
    if index:
        index = figures.index_name(index)
        index_phase = figures.index_phase(result, index, index_phase)
    if profile is not None:
        profile = figures.check_profile(profile, result.codes.shape)
    return index, index_phase, profile


def _remove_earlier(outdir: Path) -> None:
    """Remove the files of :func:`output_names` in ``outdir`` (an earlier run's: a profile or
    an index map this run does not draw again would be left beside its modes); nothing else."""
    for name in output_names():
        path = outdir / name
        if path.is_file() or path.is_symlink():
            path.unlink()


def write_outputs(
    result,
    outdir,
    *,
    title: str = "",
    oxide_map=None,
    min_area: float | None = None,
    index: str | None = None,
    index_phase: str | None = None,
    profile=None,
    modes=None,
) -> list[Path]:
    """Write ``pixels.parquet``, ``modes.csv``, ``phase_map.png``, ``confidence.png``,
    ``modes.png``; with ``oxide_map``, ``index_<name>.png`` for ``index`` (of ``index_phase``)
    and ``profile.csv`` / ``profile.png`` for ``profile`` = (x0, y0, x1, y1), its line drawn
    from A to B on the phase map.

    Every argument is checked before any file is written (a refused call changes nothing).
    Then the files of the names written here that ``outdir`` holds (:func:`output_names`: an
    earlier run's, such as a ``profile.csv`` this run does not write) are removed, so that the
    folder holds this run's outputs only; other files are left alone.  Each file is written
    whole or not at all: an error while writing leaves the files written before it.

    Parameters
    ----------
    result : MapResult
    outdir : path-like
        Made if needed.
    title : str
    oxide_map : OxideMap, optional
        The map classified (the index map and the profile read its oxides).
    min_area : float, optional
        µm² (pixels without a pixel size): a phase whose own pixels cover less is listed apart;
        default :func:`minml.maps.modes.default_min_area`.
    index : str, optional
        An index of ``minerals.toml`` in any spelling :func:`minml.maps.figures.index_name`
        reads (``Fo``, ``Mg#``); the file is named by its name there (``index_Mg_number.png``).
    index_phase : str, optional
        The phase of ``index`` (default: the largest phase with it).
    profile : sequence of 4 numbers, optional
        Pixel columns and rows of its ends, inside the map and not on one pixel.
    modes : pandas.DataFrame, optional
        ``result.modes(min_area=min_area)``, when the caller has it already (it is the
        costliest table to compute: a block bootstrap).  Written to ``modes.csv``, where without
        a pixel size ``area_um2`` is named ``area_pixels`` (the areas are pixels).

    Returns
    -------
    list of Path

    Raises
    ------
    ValueError
        An argument that cannot be drawn or written (before any file is written).
    """
    from minml.maps import figures
    from minml.plot import require_matplotlib

    index, index_phase, profile = _checked(result, oxide_map, min_area, index, index_phase, profile)
    outdir = check_output_folder(outdir)
    require_matplotlib()
    modes = result.modes(min_area=min_area) if modes is None else modes
    frame = None if profile is None else figures.line_profile(oxide_map, result, profile)
    outdir.mkdir(parents=True, exist_ok=True)
    _remove_earlier(outdir)
    table = _modes_csv(modes, result.pixel_size)
    with ThreadPoolExecutor(1) as pool:  # the pixel table is written (Arrow, no GIL) while the pictures are drawn
        pixels = pool.submit(_atomic, outdir / "pixels.parquet", result.write_pixels)
        written = [
            _atomic(outdir / "modes.csv", lambda p: table.to_csv(p, float_format="%.4f")),
            _save(figures.phase_map(result, modes=modes, title=title, profile=profile), outdir / "phase_map.png"),
            _save(figures.confidence_map(result, title=title), outdir / "confidence.png"),
            _save(figures.modes_chart(modes, title=title), outdir / "modes.png"),
        ]
        written.insert(0, pixels.result())
    if index:
        ax = figures.index_map(oxide_map, result, index, index_phase, title=title)
        written.append(_save(ax, outdir / f"index_{index}.png"))
    if frame is not None:
        written.append(_atomic(outdir / "profile.csv", lambda p: frame.to_csv(p, index=False, float_format="%.4f")))
        unit = "µm" if result.pixel_size else "pixels"
        written.append(_save(figures.profile_plot(frame, unit=unit, title=title), outdir / "profile.png"))
    return written
