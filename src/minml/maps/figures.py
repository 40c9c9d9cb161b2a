"""Pictures of a classified map: phase map, confidence map, modal bar chart, index map of one
phase, line profile.  Needs matplotlib (the ``plot`` or ``maps`` extra).

Each function draws on a new figure and returns its ``Axes``.  Colours: the Okabe-Ito palette
(readable by colour-blind people) and its extension, unknown grey, mixtures light grey,
phases listed apart (under the minimum area) dark grey, masked black; on the confidence map
(cividis) unknown magenta and masked blank.  A figure is as wide as its map and what is beside
it (a tall map has no blank margins).  Scale bars are white
on a black box, legible on any phase colour, drawn where they fit (a map at most 3 times as
long as wide); elsewhere the axis says the pixel size.  A strip more than 10 times as long as
wide is drawn stretched across (and says so), 1/10 as thick as long, never a hairline.  Maps
over 1024 pixels across are drawn subsampled (the files written keep every pixel).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from minml.plot import OKABE_ITO, require_matplotlib

__all__ = [
    "check_profile",
    "confidence_map",
    "index_map",
    "index_name",
    "index_values",
    "line_profile",
    "modes_chart",
    "phase_map",
    "profile_plot",
]

_COLOURS = OKABE_ITO[:7] + ["#882255", "#44AA99", "#999933", "#117733", "#332288", "#AA4499", "#88CCEE", "#DDCC77"]
_COLOURS += ["#CC6677", "#661100", "#6699CC"]
_APART = "#404040"


def _phase_colour(name: str, i: int) -> str:
    """A phase's colour: the palette's, the same in every picture MIN-ML draws
    (:mod:`minml.palette`); a class of a user's own model the palette lacks cycles through
    the figure colours."""
    from minml.palette import mineral_colours

    return mineral_colours().get(name, _COLOURS[i % len(_COLOURS)])


def _plt():
    require_matplotlib()
    import matplotlib.pyplot as plt

    return plt


_MOST_ELONGATED = 10
"""A map longer than this many times its width is drawn stretched across to this ratio."""

_BAR_RATIO = 3
"""A scale bar is drawn on maps at most this many times as long as wide (it covers a strip)."""


def _aspect(h: int, w: int) -> float:
    """How many times taller than wide a pixel is drawn: 1, but a strip more than
    :data:`_MOST_ELONGATED` times as long as wide is stretched across to that ratio."""
    if w > _MOST_ELONGATED * h:
        return w / (_MOST_ELONGATED * h)
    if h > _MOST_ELONGATED * w:
        return _MOST_ELONGATED * w / h
    return 1.0


def _figure(h: int, w: int, width: float = 7.5, entries: int = 0):
    """A figure for a map of ``h`` x ``w`` pixels drawn with :func:`_aspect`, tall enough for
    a legend of ``entries`` lines beside it (narrowed to what it draws by :func:`_fit_to_content`)."""
    height = min(max(6.0 * h * _aspect(h, w) / max(w, 1) + 0.8, 2.5), 12.0)
    height = max(height, 0.22 * entries + 1.0)
    return _plt().subplots(figsize=(width, height), layout="constrained")


def _fit_to_content(fig, ax) -> None:
    """Cut from ``fig`` the blank beside its map ``ax``: a tall map was drawn in the middle of
    a figure as wide as a square map's, between wide blank margins (and a map narrowed by its
    legend between blank bands above and below).  The layout is worked out (text measured,
    nothing drawn), the room the map was given but does not fill (its aspect is fixed) cut from
    the figure, and again (a colour bar's width follows the room's); never narrower than the map's
    title or caption and its legend beside it, or than the widest thing drawn apart from it (a
    colour bar and its label below a strip, a legend below), nor under 3 x 2 inches.  A size the layout cannot
    fill (decorations wider than the figure) is undone."""
    import warnings

    renderer = fig.canvas.get_renderer()
    apart = [other for other in fig.axes if other is not ax] + list(fig.legends)
    beside = ax.get_legend()
    previous = tuple(fig.get_size_inches())
    for _ in range(3):
        width, height = fig.get_size_inches()
        with warnings.catch_warnings(record=True) as said:
            warnings.simplefilter("always")
            fig.get_layout_engine().execute(fig)
        if said:  # the layout collapsed: the last cut was too much
            fig.set_size_inches(*previous)
            fig.get_layout_engine().execute(fig)
            return
        ax.apply_aspect()
        room, drawn = ax.get_position(original=True), ax.get_position(original=False)
        widest = max([a.get_tightbbox(renderer).width / fig.dpi for a in apart], default=0.0) + 0.3
        words = max(text.get_window_extent(renderer).width for text in (ax.title, ax.xaxis.label)) / fig.dpi
        if beside is not None:  # the map's title and caption, centred on it, and the legend beside
            words += beside.get_window_extent(renderer).width / fig.dpi
        widest = max(widest, words + 0.5)
        wanted = (max(width - (room.width - drawn.width) * width, widest, 3.0),
                  max(height - (room.height - drawn.height) * height, 2.0))  # fmt: skip
        if abs(wanted[0] - width) < 0.02 and abs(wanted[1] - height) < 0.02:
            break
        previous = (width, height)
        fig.set_size_inches(*wanted)


def _show(ax, image, h: int, w: int, **options):
    """``ax.imshow(image)`` over the map's pixel coordinates, with :func:`_aspect`."""
    extent = (-0.5, w - 0.5, h - 0.5, -0.5)
    return ax.imshow(image, interpolation="nearest", extent=extent, aspect=_aspect(h, w), **options)


def _frame(ax, h: int, w: int, pixel_size: float | None, title: str) -> None:
    """Title, no ticks, and the scale: a bar where it fits (:func:`scale_bar`), else the pixel
    size and any stretch in words below the map."""
    aspect = _aspect(h, w)
    fits = aspect == 1.0 and max(h, w) <= _BAR_RATIO * min(h, w)
    if fits:
        scale_bar(ax, w, h, pixel_size)
    else:
        said = [f"{h} x {w} pixels" + (f" of {pixel_size:g} µm" if pixel_size else "")]
        if aspect > 1:
            said.append(f"each pixel drawn {aspect:.3g} x taller than wide")
        elif aspect < 1:
            said.append(f"each pixel drawn {1 / aspect:.3g} x wider than tall")
        ax.set_xlabel(", ".join(said), fontsize=8)
    ax.set(xticks=[], yticks=[], title=title)


def _colour_bar(image, ax, h: int, w: int, label: str):
    """The colour bar of a map's ``image``: beside it, or below a map drawn over twice as wide
    as tall (beside such a strip, the bar's label ran off the figure)."""
    wide = h * _aspect(h, w) < 0.5 * w
    return _plt().colorbar(image, ax=ax, label=label, orientation="horizontal" if wide else "vertical")


def _percent(value: float) -> str:
    """A share in % for a legend: one decimal, or two significant digits under 0.1 (a small
    phase read 0.0 ± 0.0 %)."""
    return f"{value:.1f}" if value == 0 or abs(value) >= 0.1 or not np.isfinite(value) else f"{value:.2g}"


def _stride(shape, most: int = 1024) -> int:
    return max(1, -(-max(shape) // most))


def scale_bar(ax, width_px: int, height_px: int, pixel_size: float | None) -> None:
    """A round length (1, 2 or 5 x 10^n µm, about a fifth of the map) in the lower left,
    white on a black box: legible on any background.  None without a pixel size."""
    if not pixel_size:
        return
    from matplotlib.patches import Rectangle

    target = width_px * pixel_size / 5
    length = 10 ** np.floor(np.log10(target))
    length *= 5 if target / length >= 5 else 2 if target / length >= 2 else 1
    px = length / pixel_size
    x0, y0 = 0.04 * width_px, height_px - 0.5 - 0.05 * height_px
    pad = 0.015 * width_px
    box_h = 0.09 * height_px
    ax.add_patch(Rectangle((x0 - pad, y0 - box_h), px + 2 * pad, box_h + pad * 0.5, color="black", alpha=0.7, lw=0))
    ax.plot([x0, x0 + px], [y0 - 0.01 * height_px] * 2, color="white", lw=3, solid_capstyle="butt")
    ax.text(x0 + px / 2, y0 - 0.025 * height_px, f"{length:g} µm", color="white", ha="center", va="bottom", fontsize=8)


def _phase_codes(result, modes: pd.DataFrame):
    """Codes to draw apart, whether every phase is under the minimum area, and the colours:
    phases listed apart in one dark grey, unless every phase of the map is (a small map of one
    phase): then each is drawn as a phase."""
    k = len(result.class_proba_sum)
    colours = [_phase_colour(result.names[i], i) for i in range(k)]
    colours += [_phase_colour(name, k) for name in ("unknown", "mixture", "masked")] + [_APART]
    listed_apart = modes["listed_apart"] if "listed_apart" in modes else pd.Series(False, index=modes.index)
    apart = [result.names.index(p) for p in modes.index[listed_apart.fillna(False).astype(bool)]]
    phases = [result.names.index(p) for p in modes.index if result.names.index(p) < k]
    every = bool(phases) and set(phases) <= set(apart)
    return ([] if every else apart), every, colours


def _phase_handles(result, modes: pd.DataFrame, apart: list, every: bool, colours: list) -> list:
    """The phase map's legend: each phase drawn with its mode ± sd, unknown too where it has a
    mode (the pixels of unknown regions: the modes then sum to 100 % with it), else its area %
    and that its pixels are in the modes of the minerals near; the mixed and masked area %; then
    the phases under the minimum area with their modes."""
    from matplotlib.patches import Patch

    k = len(result.class_proba_sum)
    said = {"mixture": " (in its phases' modes)", "masked": " (not analysed)", "unknown": " (in the minerals' modes)"}
    handles = []
    for name, row in modes.iterrows():
        code = result.names.index(name)
        if code < k and code not in apart:
            label = f"{name} {_percent(row['mode_percent'])} ± {_percent(row['sd_percent'])} %"
            handles.append(Patch(color=colours[code], label=label + (" (under min. area)" if every else "")))
        elif code >= k and np.isfinite(row["mode_percent"]):  # unknown, keeping pixels of its own
            label = f"{name} {_percent(row['mode_percent'])} ± {_percent(row['sd_percent'])} %"
            handles.append(Patch(color=colours[code], label=label))
        elif code >= k and row["pixels"] > 0:
            label = f"{name} {_percent(row['area_percent'])} % of area{said.get(name, '')}"
            handles.append(Patch(color=colours[code], label=label))
    if apart:
        listed = ", ".join(f"{result.names[c]} {_percent(modes.loc[result.names[c], 'mode_percent'])} %" for c in apart)
        handles.append(Patch(color=_APART, label=f"under min. area: {listed}"))
    return handles


def _draw_profile(ax, profile) -> list:
    """The line of a profile on a map, its start A (circle) and end B (square), white edged in
    black (legible on any phase colour); its legend entry."""
    from matplotlib import patheffects
    from matplotlib.lines import Line2D

    x0, y0, x1, y1 = (float(v) for v in profile)
    edge = [patheffects.withStroke(linewidth=3.5, foreground="black")]
    ax.plot([x0, x1], [y0, y1], color="white", lw=1.6, path_effects=edge, zorder=3)
    for label, x, y, marker in (("A", x0, y0, "o"), ("B", x1, y1, "s")):
        ax.plot([x], [y], marker=marker, ms=6, mfc="white", mec="black", ls="none", zorder=4)
        ax.annotate(label, (x, y), xytext=(5, 5), textcoords="offset points", color="white", fontsize=9,
                    fontweight="bold", path_effects=edge, zorder=5)  # fmt: skip
    return [Line2D([], [], color="black", lw=1.6, marker="o", mfc="white", label="profile A-B")]


def phase_map(result, *, modes: pd.DataFrame | None = None, title: str = "", profile=None):
    """One colour per phase, a legend with each mode ± sd (% of the analysed pixels), the
    unknown, mixed and masked area %, phases under the minimum area drawn together apart (in
    their colours when every phase is), and the line of ``profile`` = (x0, y0, x1, y1) from A
    to B when given."""
    from matplotlib.colors import ListedColormap

    modes = result.modes() if modes is None else modes
    h, w = result.codes.shape
    apart, every, colours = _phase_codes(result, modes)
    handles = _phase_handles(result, modes, apart, every, colours)
    _fig, ax = _figure(h, w, entries=len(handles) + (profile is not None))
    n = _stride((h, w))
    codes = result.codes[::n, ::n].copy()
    codes[np.isin(codes, apart)] = len(colours) - 1
    _show(ax, codes, h, w, cmap=ListedColormap(colours), vmin=-0.5, vmax=len(colours) - 0.5)
    if profile is not None:
        handles += _draw_profile(ax, profile)
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=8)
    _frame(ax, h, w, result.pixel_size, title or "Phase map")
    _fit_to_content(ax.figure, ax)
    return ax


_UNKNOWN_SHOWN = "#EE33EE"
"""Unknown pixels on the confidence map: a magenta no colour of its scale (cividis) is near, for
normal vision and the common colour-vision deficiencies (CIEDE2000 over 23 from every one)."""

_MASKED_SHOWN = "#FFFFFF"


def confidence_map(result, *, title: str = ""):
    """Probability of each pixel's mineral, with its colour bar, which reaches down to the
    lowest value drawn; mixed pixels show the majority phase's share; unknown pixels (no class:
    no probability) in magenta, masked pixels blank, each in the legend below with its share."""
    from matplotlib.patches import Patch

    plt = _plt()
    h, w = result.codes.shape
    _fig, ax = _figure(h, w, 7.0)
    n = _stride((h, w))
    k = len(result.class_proba_sum)
    codes = result.codes[::n, ::n]
    shown = np.where(codes < k, result.probability[::n, ::n], np.nan)
    if result.mixtures is not None:
        mixed = result.mixtures.major[::n, ::n] >= 0
        shown = np.where(mixed, result.mixtures.fraction[::n, ::n], shown)
    ax.set_facecolor(_MASKED_SHOWN)  # masked: NaN, not drawn
    finite = shown[np.isfinite(shown)]
    lowest = float(finite.min()) if len(finite) else 0.5
    floor = min(0.5, np.floor(lowest * 20) / 20)  # the bar covers every value drawn (a top probability: >= 1/k)
    shown[codes == result.names.index("unknown")] = -1.0  # under the scale: its own colour, in one image
    scale = plt.get_cmap("cividis").with_extremes(under=_UNKNOWN_SHOWN)
    image = _show(ax, shown, h, w, cmap=scale, vmin=floor, vmax=1.0)
    _colour_bar(image, ax, h, w, "probability of the pixel's mineral (mixed: share of the majority phase)")
    _frame(ax, h, w, result.pixel_size, title or "Confidence")
    total = max(result.codes.size, 1)
    entries = []
    for name, colour, what in (("unknown", _UNKNOWN_SHOWN, "no class: no probability"),
                               ("masked", _MASKED_SHOWN, "not analysed")):  # fmt: skip
        pixels = int(np.count_nonzero(result.codes == result.names.index(name)))
        if pixels:
            label = f"{name}: {_percent(100.0 * pixels / total)} % of area ({what})"
            entries.append(Patch(facecolor=colour, edgecolor="#999999", label=label))
    if entries:
        ax.figure.legend(handles=entries, loc="outside lower center", fontsize=8, frameon=False)
    _fit_to_content(ax.figure, ax)
    return ax


def modes_chart(modes: pd.DataFrame, *, title: str = ""):
    """Horizontal bars of the modes with error bars of 2 sd (the map's error darker, the
    rock's from this map lighter); phases listed apart marked."""
    plt = _plt()
    rows = modes[modes["mode_percent"].notna()].sort_values("mode_percent")
    _fig, ax = plt.subplots(figsize=(6.5, 0.45 * len(rows) + 1.2), layout="constrained")
    y = np.arange(len(rows))
    colours = [
        _APART if apart else _phase_colour(name, 0) if name == "unknown" else OKABE_ITO[4]
        for name, apart in zip(rows.index, rows["listed_apart"].fillna(False), strict=True)
    ]
    ax.barh(y, rows["mode_percent"], color=colours, alpha=0.85)
    ax.errorbar(rows["mode_percent"], y, xerr=2 * rows["sd_percent"], fmt="none", ecolor="#999999", capsize=4,
                label="± 2 sd, rock (sampling included)")  # fmt: skip
    ax.errorbar(rows["mode_percent"], y, xerr=2 * rows["sd_map_percent"], fmt="none", ecolor="black", capsize=2,
                label="± 2 sd, this map")  # fmt: skip
    labels = [f"{p} (under min. area)" if a else p for p, a in zip(rows.index, rows["listed_apart"].fillna(False))]
    ax.set_yticks(y, labels)
    ax.set_xlabel("mode, % of analysed pixels")
    ax.set_xlim(left=0)
    _fig.legend(loc="outside lower center", ncol=2, fontsize=8, frameon=False)  # below the bars: it hid an error bar
    ax.set_title(title or "Modal abundance")
    return ax


def _index_key(text: str) -> str:
    """An index's name as :func:`index_name` compares it: lower case, ``_`` for spaces and
    hyphens, ``_number`` for a final ``#``."""
    import re

    key = re.sub(r"[\s-]+", "_", str(text).strip().lower())
    return re.sub(r"_?#$", "_number", key)


def index_name(text: str) -> str:
    """The index of ``minerals.toml`` that ``text`` names: its name in any case, ``#`` for
    ``_number`` (``Mg#``, ``mg#``: ``Mg_number``), spaces or hyphens for ``_``.

    Raises
    ------
    ValueError
        ``text`` names no index; the message lists them and their spellings.

    Examples
    --------
    >>> index_name("Mg#"), index_name("fo"), index_name("cr_number")
    ('Mg_number', 'Fo', 'Cr_number')
    """
    from minml.chemistry.minerals import index_names

    known = index_names()
    same = [name for name in known if _index_key(name) == _index_key(text)]
    if len(same) != 1:  # the names differ in more than these spellings, so one matches at most
        shown = [f"{name} ({name.removesuffix('_number')}#)" if name.endswith("_number") else name for name in known]
        raise ValueError(
            f"{text!r} is no index of minerals.toml; give one of: {', '.join(shown)} (any case; '#' for '_number')."
        )
    return same[0]


def index_phase(result, index: str, phase: str | None = None) -> str:
    """The phase whose ``index`` (any spelling :func:`index_name` reads) :func:`index_values`
    maps: ``phase``, or by default the largest phase of the map with that index.

    Raises
    ------
    ValueError
        ``index`` names no index; no phase of the map has ``index``; ``index`` is no index of
        ``phase``; or the map has no pixel of ``phase`` (its map would be empty).
    """
    from minml.chemistry.minerals import classes_with_index, index_names

    index = index_name(index)
    owners = classes_with_index(index)
    pixels = {p: int((result.codes == result.names.index(p)).sum()) for p in owners if p in result.names}
    present = [p for p, count in pixels.items() if count]
    if phase is None:
        if not present:
            known = index_names()
            raise ValueError(
                f"No phase of the map has index {index} (it is an index of {', '.join(owners) or 'none'}; "
                f"indices: {', '.join(known)})."
            )
        return max(present, key=pixels.__getitem__)
    if phase not in owners:
        raise ValueError(f"{index!r} is no index of {phase} (phases with it: {', '.join(owners) or 'none'}).")
    if phase not in present:
        held = f"one the map holds: {', '.join(present)}" if present else "none the map holds"
        raise ValueError(
            f"The map has no pixel of {phase}: its {index} map would be empty. Of the phases with {index!r}, "
            f"{held}; give index_phase one of them, or leave it out."
        )
    return phase


def index_values(oxide_map, result, index: str, phase: str | None = None) -> tuple[np.ndarray, str, int]:
    """An index (``Fo``, ``An``, ``Mg_number``, ``Wo``: as ``minerals.toml`` defines them per
    class) for the pixels of one phase, NaN elsewhere; subsampled as the pictures are.

    Returns
    -------
    values : numpy.ndarray
    phase : str
    stride : int
    """
    from minml import formula

    index = index_name(index)
    phase = index_phase(result, index, phase)
    n = _stride(result.codes.shape)
    codes = result.codes[::n, ::n]
    where = codes == result.names.index(phase)
    rows = pd.DataFrame(
        {name: np.asarray(grid[::n, ::n], dtype=np.float64)[where] for name, grid in oxide_map.data.items()}
    )
    out = np.full(codes.shape, np.nan)
    if len(rows):
        out[where] = formula(rows, mineral=phase)[index].to_numpy(dtype=float)
    return out, phase, n


def index_map(oxide_map, result, index: str, phase: str | None = None, *, title: str = ""):
    """The map of ``index`` over the pixels of ``phase`` (default: the largest phase with it)."""
    index = index_name(index)
    values, phase, n = index_values(oxide_map, result, index, phase)
    h, w = result.codes.shape
    _fig, ax = _figure(h, w, 7.0)
    _show(ax, result.codes[::n, ::n] >= 0, h, w, cmap="Greys", vmin=0, vmax=4)
    finite = values[np.isfinite(values)]
    low, high = np.percentile(finite, [1, 99]) if len(finite) else (0.0, 1.0)
    image = _show(ax, values, h, w, cmap="viridis", vmin=low, vmax=max(high, low + 1e-6))
    _colour_bar(image, ax, h, w, f"{index} of {phase}")
    _frame(ax, h, w, result.pixel_size, title or f"{index} of {phase}")
    return ax


def check_profile(points, shape: tuple[int, int], *, label: str = "Profile") -> tuple[float, float, float, float]:
    """``points`` = (x0, y0, x1, y1) (pixel columns and rows) as four floats, once they are
    known to draw a line on a map of ``shape`` (rows, columns).

    Parameters
    ----------
    points : sequence of 4 numbers
    shape : tuple of int
    label : str, default="Profile"
        What the messages call the profile (the command: ``--profile``).

    Raises
    ------
    ValueError
        Not four numbers; a point outside the map; or both ends on one pixel (the profile
        would be one pixel's analysis, twice).
    """
    try:
        x0, y0, x1, y1 = (float(v) for v in points)
    except (TypeError, ValueError):
        raise ValueError(f"{label} is four numbers x0, y0, x1, y1 (pixel columns and rows), got {points!r}.") from None
    h, w = shape
    for x, y in ((x0, y0), (x1, y1)):
        if not (0 <= x <= w - 1 and 0 <= y <= h - 1):
            raise ValueError(
                f"{label} point ({x:g}, {y:g}) lies outside the map of {h} x {w} pixels; give x (column) "
                f"from 0 to {w - 1} and y (row) from 0 to {h - 1}."
            )
    if round(x0) == round(x1) and round(y0) == round(y1):
        raise ValueError(
            f"{label} ends ({x0:g}, {y0:g}) and ({x1:g}, {y1:g}) lie on one pixel; give two points at least "
            "a pixel apart."
        )
    return x0, y0, x1, y1


def line_profile(oxide_map, result, points) -> pd.DataFrame:
    """Oxides and phase along the straight line from A ``(x0, y0)`` to B ``(x1, y1)`` (pixel
    columns and rows; :func:`check_profile`), one sample per pixel of its length (nearest
    pixel); ``phase`` as ``pixels.parquet`` gives it (a masked pixel's is ``masked``)."""
    x0, y0, x1, y1 = check_profile(points, result.codes.shape)
    w = result.codes.shape[1]
    n = max(2, int(np.ceil(np.hypot(x1 - x0, y1 - y0))) + 1)
    xs, ys = np.linspace(x0, x1, n), np.linspace(y0, y1, n)
    c, r = np.rint(xs).astype(int), np.rint(ys).astype(int)
    step = (result.pixel_size or 1.0) * np.hypot(x1 - x0, y1 - y0) / (n - 1)
    frame = pd.DataFrame({"distance": np.arange(n) * step, "x": c, "y": r})
    for name, grid in oxide_map.data.items():
        frame[name] = np.asarray(grid[r, c], dtype=np.float64) if hasattr(grid, "__getitem__") else np.nan
    first = int(r.min())
    pixels = result.pixels(slice(first, int(r.max()) + 1))  # the rows the line crosses
    at = (r - first) * w + c
    frame["phase"] = pixels["mineral"].to_numpy()[at]
    frame["flag"] = pixels["flag"].to_numpy()[at]
    frame["mixed_with"] = pixels["mixed_with"].to_numpy()[at]
    frame["fraction"] = pixels["fraction"].to_numpy()[at]
    return frame


def profile_plot(frame: pd.DataFrame, *, unit: str = "µm", title: str = ""):
    """Oxides along a profile (above) and the phase of each point (a strip below), by the
    distance from its start A (the phase map marks A and B)."""
    plt = _plt()
    _fig, (top, strip) = plt.subplots(2, 1, figsize=(7.5, 4.8), sharex=True, height_ratios=[5, 1], layout="constrained")
    oxides = [c for c in frame.columns if c not in ("distance", "x", "y", "phase", "flag", "mixed_with", "fraction")]
    for i, name in enumerate(sorted(oxides, key=lambda o: -np.nanmax(frame[o]))):
        top.plot(frame["distance"], frame[name], label=name, color=_COLOURS[i % len(_COLOURS)], lw=1.2)
    top.set_ylabel("wt%")
    top.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    top.set_title(title or "Profile")
    flags = [str(f) for f in frame["flag"]]
    # a mixed or masked point drawn as such (a masked crack's pixel was drawn as unknown)
    phases = [f if f in ("mixture", "masked") else str(p) for p, f in zip(frame["phase"], flags, strict=True)]
    names = sorted(set(phases))
    for j, p in enumerate(phases):
        left = frame["distance"].iloc[max(j - 1, 0)] if j else 0.0
        strip.axvspan(left, frame["distance"].iloc[j], color=_phase_colour(p, names.index(p)), lw=0)
    from matplotlib.patches import Patch

    special = ("mixture", "unknown", "masked")
    handles = [Patch(color=_phase_colour(p, names.index(p)), label=p) for p in names if p not in special]
    handles += [Patch(color=_phase_colour(name, 0), label=name) for name in special if name in names]
    strip.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.3), fontsize=7, frameon=False)
    strip.set(yticks=[], xlabel=f"distance from A ({unit})")
    return top
