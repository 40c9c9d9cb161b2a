"""The ``map`` command."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from minml.cli._options import (
    _number,
)


def _map_option(option: str, check, convert=float, off=None):
    """An argparse type for a map setting: a number, checked by the API's rule ``check``
    (a function of the value that raises ValueError) before the map is read; ``off`` is
    taken as it is (``--clean 0``)."""

    def parse(text: str):
        value = _number(text, option)
        if convert is int and value != int(value):
            raise argparse.ArgumentTypeError(f"{option} must be a whole number, got {text!r}")
        value = convert(value)
        if value == off:
            return value
        try:
            check(value)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from None
        return value

    return parse


def _map_check(name: str):
    """The API's rule for map setting ``name`` (:func:`minml.maps.check_map_options`,
    :func:`minml.maps.check_pixel_size`), imported only when a map command runs."""

    def check(value):
        import minml.maps

        if name == "pixel_size":
            return minml.maps.check_pixel_size(value)
        return minml.maps.check_map_options(**{name: value})

    return check


def _map_profile(text: str) -> tuple[float, float, float, float]:
    """``--profile x0,y0,x1,y1``: four numbers, pixel columns and rows."""
    parts = text.split(",")
    if len(parts) != 4:
        raise argparse.ArgumentTypeError(f"--profile takes x0,y0,x1,y1 (four numbers, pixels), got {text!r}")
    x0, y0, x1, y1 = (_number(part, "--profile") for part in parts)
    return x0, y0, x1, y1


def _map_index(text: str) -> str:
    """``--index``: an index of ``minerals.toml`` (``Fo``, ``An``, ``Mg_number``, ...) in any
    spelling :func:`minml.maps.figures.index_name` reads (``fo``, ``Mg#``), as the file names
    it, checked before the map is read."""
    from minml.maps.figures import index_name

    try:
        return index_name(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _index_phase(index: str | None, phase: str | None) -> str | None:
    """The class ``--index-phase`` names (a class or a synonym: ``ol``, ``cpx``), checked to
    have ``index``, before the map is read; None when it is not given."""
    from minml.chemistry.formulas import resolve_mineral
    from minml.chemistry.minerals import classes_with_index, mineral_table

    if phase is None:
        return None
    if index is None:
        raise ValueError(f"--index-phase {phase} names the phase of an index map; give the index too, e.g. --index Fo.")
    try:
        name = resolve_mineral(phase)
    except ValueError:
        raise ValueError(
            f"--index-phase {phase!r} names no mineral class; give one of: {', '.join(mineral_table())}."
        ) from None
    owners = classes_with_index(index)
    if name not in owners:
        raise ValueError(
            f"{index!r} is no index of {name}; give --index-phase one of the classes with it ({', '.join(owners)}), "
            "or leave it out for the largest phase with it."
        )
    return name


def _check_profile(profile, shape: tuple[int, int]) -> None:
    """Refuse a ``--profile`` with a point outside a map of ``shape`` (rows, columns) or both
    ends on one pixel, before the map is classified (:func:`minml.maps.figures.check_profile`)."""
    from minml.maps.figures import check_profile

    if profile is not None:
        check_profile(profile, shape, label="--profile")


def _check_lengths(args, pixel_size: float | None) -> None:
    """Refuse ``--beam-width`` or ``--min-area`` (micrometres) for a map without a pixel size
    (neither --pixel-size nor the file gives one): they would be taken as pixels, unsaid."""
    given = [option for option, value in (("--beam-width", args.beam_width), ("--min-area", args.min_area)) if value]
    if given and not pixel_size:
        raise ValueError(
            f"{' and '.join(given)} {'are' if len(given) > 1 else 'is'} in micrometres and the map has no pixel "
            "size: give --pixel-size (µm per pixel; --pixel-size 1 to count in pixels)."
        )


def _raw_spectra(path: Path) -> bool:
    """Whether ``path`` is a raw spectrum image, as :func:`minml.maps.read_map` tells it: a
    ``.bcf``, ``.spx``, ``.rpl``, ``.msa`` or ``.emsa`` file, or a HyperSpy file of spectra
    (its metadata read, not its data)."""
    from minml.maps import _eds

    suffix = path.suffix.lower()
    if suffix in _eds.RAW_SUFFIXES:
        return True
    if suffix in (".hspy", ".zspy") and path.exists():
        from minml.maps.read import _holds_spectra

        return _holds_spectra(path)
    return False


def _check_spectra_options(args) -> None:
    """Refuse, before any work, the options that would be ignored unsaid: ``--k-factors``
    with ``--standards`` (the standards' k-factors won), either on a map that is not a raw
    spectrum image (its channels are read as they are), and ``--units`` on a raw spectrum image
    (quantified here, to oxide wt%)."""
    given = [option for option, value in (("--k-factors", args.k_factors), ("--standards", args.standards)) if value]
    if len(given) == 2:
        raise ValueError(
            "--k-factors and --standards both give the k-factors of a raw spectrum image (the standards' were used, "
            "the file's ignored); give one of them."
        )
    if (not given and args.units is None) or not args.input.exists():  # a missing map: read_map says so
        return
    raw = _raw_spectra(args.input)
    if given and not raw:
        raise ValueError(
            f"{given[0]} quantifies a raw spectrum image (.bcf, .spx, .rpl, .msa, .emsa, or a HyperSpy file of "
            f"spectra); {args.input.name} is a quantified map, read as it is: leave {given[0]} out."
        )
    if args.units is not None and raw:
        raise ValueError(
            f"--units gives the units of a quantified map's element channels; {args.input.name} is a raw spectrum "
            "image, quantified here to oxide wt% (with --k-factors or --standards): leave --units out."
        )


def _check_index_present(result, index: str | None, phase: str | None) -> None:
    """Refuse, before any output is written, an ``--index`` that the classified map cannot draw:
    no phase of it has the index, or the ``--index-phase`` has no pixel
    (:func:`minml.maps.figures.index_phase`)."""
    from minml.maps.figures import index_phase

    if index is not None:
        index_phase(result, index, phase)


def _add_map(sub) -> None:
    p = sub.add_parser(
        "map",
        help="classify a quantified EDS/WDS map pixel by pixel",
        description="Phase map, confidence map, modal bar chart, per-pixel table and modal abundances of a quantified "
        "map: a folder of per-element or per-oxide grids (CSV/TXT/TIFF/.hspy), a .npz, .npy (with --channels), .tif "
        "or HyperSpy .hspy/.zspy file, or a raw spectrum image (.bcf, .rpl, .msa) with --k-factors or --standards.",
    )
    p.add_argument("input", type=Path, help="map folder or file")
    p.add_argument(
        "-o",
        "--output",
        type=Path,
        required=True,
        help="folder for phase_map.png, confidence.png, modes.png, pixels.parquet and modes.csv",
    )
    p.add_argument("--channels", nargs="+", default=None, help="channel names of a .npy or multi-page TIFF, in order")
    p.add_argument(
        "--units",
        choices=["wt%", "at%"],
        default=None,
        help="units of a quantified map's element channels (default: the file's, or wt%%); not for raw spectra",
    )
    p.add_argument(
        "--pixel-size",
        type=_map_option("--pixel-size", _map_check("pixel_size")),
        default=None,
        help="micrometres per pixel (for the scale bar)",
    )
    p.add_argument(
        "--min-total",
        type=_map_option("--min-total", _map_check("min_total")),
        default=80.0,
        help="pixels with a lower oxide sum are masked: epoxy, holes, cracks; for at%% maps, the at%% sum of the "
        "mapped elements, O included (default: 80)",
    )
    p.add_argument(
        "--max-total",
        type=_map_option("--max-total", _map_check("max_total")),
        default=110.0,
        help="pixels with a higher oxide sum are unknown: no analysis (default: 110)",
    )
    p.add_argument(
        "--clean",
        type=_map_option("--clean", _map_check("min_region"), int, off=0),
        default=0,
        metavar="N",
        help="tidy speckle: a mineral or unknown pixel with fewer than N (1-8) like neighbours takes the "
        "majority mineral around it; mixed and masked pixels are kept (default: off)",
    )
    p.add_argument(
        "--beam-width",
        type=_map_option("--beam-width", _map_check("beam_width")),
        default=None,
        metavar="UM",
        help="micrometres over which the beam mixes neighbouring grains: sets the neighbourhood of mixed pixels; "
        "needs a pixel size (default: 2, or 1 pixel on a map without a pixel size)",
    )
    p.add_argument(
        "--min-area",
        type=_map_option("--min-area", _map_check("min_area")),
        default=None,
        metavar="UM2",
        help="phases whose own pixels cover less (µm²) are listed apart, not drawn as phases; needs a pixel size "
        "(default: 10 pixels, or 0.01 %% of the analysed pixels on a map of over 100 000)",
    )
    p.add_argument(
        "--index",
        type=_map_index,
        default=None,
        help="map of an index of one phase, as minerals.toml names them (any case, '#' for '_number'): Fo, An, "
        "Mg_number or Mg#, Wo, ...",
    )
    p.add_argument(
        "--index-phase",
        default=None,
        help="the phase of --index: a class or a synonym such as ol, cpx (default: the largest phase with it)",
    )
    p.add_argument(
        "--profile", type=_map_profile, default=None, metavar="X0,Y0,X1,Y1", help="oxides and phase along a line"
    )
    p.add_argument(
        "--k-factors",
        type=Path,
        default=None,
        help="CSV of element,k (relative to Si) for a raw spectrum image only; not with --standards",
    )
    p.add_argument(
        "--standards",
        type=Path,
        default=None,
        help="CSV of standards (spectrum file, oxide wt%%) for a raw spectrum image only; not with --k-factors",
    )
    p.set_defaults(run=_run_map)


def _run_map(args) -> int:
    import minml.maps
    from minml.plot import import_pyplot_early

    _check_spectra_options(args)  # before any work: a refused run reads and writes nothing
    pyplot_imported = import_pyplot_early()  # the pictures need it: known before the map is classified
    _writable_folder(args.output)
    index_phase = _index_phase(args.index, args.index_phase)
    k_factors = args.k_factors
    if args.standards is not None:
        k_factors, notes = minml.maps.standards_k_factors(args.standards)
        print("k-factors from the standards: " + ", ".join(f"{e} {k:.3f}" for e, k in k_factors.items()))
        for note in notes:
            print(note)
    oxide_map = minml.maps.read_map(
        args.input,
        channels=args.channels,
        units=args.units,
        pixel_size=args.pixel_size,
        k_factors=k_factors,
        progress=sys.stderr.isatty(),
    )
    for note in oxide_map.notes:
        print(note)
    h, w = oxide_map.shape
    _check_profile(args.profile, (h, w))  # before the map is classified: a refused run writes nothing
    _check_lengths(args, oxide_map.pixel_size)
    print(f"{h} x {w} pixels, species: {', '.join(oxide_map.data)}")
    if not oxide_map.pixel_size:
        print("no pixel size (--pixel-size): areas are in pixels, modes.csv's column area_pixels")
    beam = {} if args.beam_width is None else {"beam_width": args.beam_width}
    result = minml.maps.classify_map(
        oxide_map,
        min_total=args.min_total,
        max_total=args.max_total,
        progress=sys.stderr.isatty() or h * w >= 1_000_000,  # off a terminal: a line now and then, large maps only
        **beam,
    )
    if args.clean:
        result = minml.maps.clean(result, min_region=args.clean)
    _check_index_present(result, args.index, index_phase)
    # unknown pixels wider than the beam the map was classified with are an unknown region of their own
    modes = minml.maps.modal_table(result, min_area=args.min_area, beam_width=args.beam_width)
    pyplot_imported()
    written = minml.maps.write_outputs(
        result,
        args.output,
        title=args.input.name,
        oxide_map=oxide_map,
        min_area=args.min_area,
        index=args.index,
        index_phase=index_phase,
        profile=args.profile,
        modes=modes,
    )
    shown = ["pixels", "area_percent", "mode_percent", "sd_percent", "sd_map_percent", "listed_apart"]
    print(modes[shown].to_string(float_format=lambda x: f"{x:.2f}"))
    print("wrote " + ", ".join(str(p) for p in written))
    return 0


def _writable_folder(folder: Path) -> None:
    """Refuse, before any work, an output folder that is a file, lies under a file, or cannot
    be made or written in (:func:`minml.maps.outputs.check_output_folder`)."""
    from minml.maps.outputs import check_output_folder

    if folder.exists() and not folder.is_dir():
        raise ValueError(f"{str(folder)!r} is a file; -o names the folder the map's outputs go to.")
    check_output_folder(folder)
