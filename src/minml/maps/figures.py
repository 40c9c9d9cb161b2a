"""Pictures of a classified map: phase map, confidence map, modal bar chart, index map of one
phase, line profile.  Needs matplotlib (the ``plot`` or ``maps`` extra).

Each function draws on a new figure and returns its ``Axes``.  Colours: the Okabe-Ito palette
(readable by colour-blind people) and its extension, unknown grey, mixtures light grey,
phases listed apart (under the minimum area) dark grey, masked black.  Scale bars are white
on a black box, legible on any phase colour.  Maps over 1024 pixels across are drawn
subsampled (the files written keep every pixel).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from minml.plot import OKABE_ITO, require_matplotlib

__all__ = ["confidence_map", "index_map", "index_values", "line_profile", "modes_chart", "phase_map", "profile_plot"]

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


def _figure(h: int, w: int, width: float = 7.5):
    height = min(max(6.0 * h / max(w, 1) + 0.8, 2.5), 12.0)
    return _plt().subplots(figsize=(width, height), layout="constrained")


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
    """Codes to draw and their colours: mixtures by their majority phase's colour when asked
    (no: light grey), phases listed apart in one dark grey."""
    k = len(result.class_proba_sum)
    colours = [_phase_colour(result.names[i], i) for i in range(k)]
    colours += [_phase_colour(name, k) for name in ("unknown", "mixture", "masked")] + [_APART]
    listed_apart = modes["listed_apart"] if "listed_apart" in modes else pd.Series(False, index=modes.index)
    apart = [result.names.index(p) for p in modes.index[listed_apart.fillna(False).astype(bool)]]
    return apart, colours


def phase_map(result, *, modes: pd.DataFrame | None = None, title: str = ""):
    """One colour per phase, a legend with each mode ± sd (% of the analysed pixels), the
    unknown, mixed and masked area %, phases under the minimum area drawn together apart."""
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    modes = result.modes() if modes is None else modes
    h, w = result.codes.shape
    _fig, ax = _figure(h, w)
    apart, colours = _phase_codes(result, modes)
    n = _stride((h, w))
    codes = result.codes[::n, ::n].copy()
    codes[np.isin(codes, apart)] = len(colours) - 1
    ax.imshow(codes, cmap=ListedColormap(colours), vmin=-0.5, vmax=len(colours) - 0.5, interpolation="nearest",
              extent=(-0.5, w - 0.5, h - 0.5, -0.5))  # fmt: skip
    k = len(result.class_proba_sum)
    handles = []
    for name, row in modes.iterrows():
        code = result.names.index(name)
        if code < k and code not in apart:
            label = f"{name} {row['mode_percent']:.1f} ± {row['sd_percent']:.1f} %"
            handles.append(Patch(color=colours[code], label=label))
        elif code >= k and row["pixels"] > 0:
            handles.append(Patch(color=colours[code], label=f"{name} {row['area_percent']:.1f} % of area"))
    if apart:
        listed = ", ".join(result.names[c] for c in apart)
        handles.append(Patch(color=_APART, label=f"under min. area: {listed}"))
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=8)
    scale_bar(ax, w, h, result.pixel_size)
    ax.set(xticks=[], yticks=[], title=title or "Phase map")
    return ax


def confidence_map(result, *, title: str = ""):
    """Probability of each pixel's mineral, with its colour bar; mixed pixels show the
    majority phase's share; unknown and masked pixels blank."""
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
    ax.set_facecolor("#ffffff")
    image = ax.imshow(shown, cmap="cividis", vmin=0.5, vmax=1.0, interpolation="nearest",
                      extent=(-0.5, w - 0.5, h - 0.5, -0.5))  # fmt: skip
    plt.colorbar(image, ax=ax, label="probability of the pixel's mineral (mixed: share of the majority phase)")
    scale_bar(ax, w, h, result.pixel_size)
    ax.set(xticks=[], yticks=[], title=title or "Confidence")
    return ax


def modes_chart(modes: pd.DataFrame, *, title: str = ""):
    """Horizontal bars of the modes with error bars of 2 sd (the map's error darker, the
    rock's from this map lighter); phases listed apart marked."""
    plt = _plt()
    rows = modes[modes["mode_percent"].notna()].sort_values("mode_percent")
    _fig, ax = plt.subplots(figsize=(6.5, 0.45 * len(rows) + 1.2), layout="constrained")
    y = np.arange(len(rows))
    colours = [_APART if apart else OKABE_ITO[4] for apart in rows["listed_apart"].fillna(False)]
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


def index_phase(result, index: str, phase: str | None = None) -> str:
    """The phase whose ``index`` :func:`index_values` maps: ``phase``, or by default the largest
    phase of the map with that index.

    Raises
    ------
    ValueError
        No phase of the map has ``index``; ``index`` is no index of ``phase``; or the map has no
        pixel of ``phase`` (its map would be empty).
    """
    from minml.chemistry.minerals import classes_with_index, index_names

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
    plt = _plt()
    values, phase, n = index_values(oxide_map, result, index, phase)
    h, w = result.codes.shape
    _fig, ax = _figure(h, w, 7.0)
    ax.imshow(result.codes[::n, ::n] >= 0, cmap="Greys", vmin=0, vmax=4, interpolation="nearest",
              extent=(-0.5, w - 0.5, h - 0.5, -0.5))  # fmt: skip
    finite = values[np.isfinite(values)]
    low, high = np.percentile(finite, [1, 99]) if len(finite) else (0.0, 1.0)
    image = ax.imshow(values, cmap="viridis", vmin=low, vmax=max(high, low + 1e-6), interpolation="nearest",
                      extent=(-0.5, w - 0.5, h - 0.5, -0.5))  # fmt: skip
    plt.colorbar(image, ax=ax, label=f"{index} of {phase}")
    scale_bar(ax, w, h, result.pixel_size)
    ax.set(xticks=[], yticks=[], title=title or f"{index} of {phase}")
    return ax


def line_profile(oxide_map, result, points) -> pd.DataFrame:
    """Oxides and phase along the straight line from ``(x0, y0)`` to ``(x1, y1)`` (pixel
    columns and rows), one sample per pixel of its length (nearest pixel)."""
    x0, y0, x1, y1 = (float(v) for v in points)
    h, w = result.codes.shape
    for x, y in ((x0, y0), (x1, y1)):
        if not (0 <= x <= w - 1 and 0 <= y <= h - 1):
            raise ValueError(f"Profile point ({x:g}, {y:g}) lies outside the map (x 0-{w - 1}, y 0-{h - 1}).")
    n = max(2, int(np.ceil(np.hypot(x1 - x0, y1 - y0))) + 1)
    xs, ys = np.linspace(x0, x1, n), np.linspace(y0, y1, n)
    c, r = np.rint(xs).astype(int), np.rint(ys).astype(int)
    step = (result.pixel_size or 1.0) * np.hypot(x1 - x0, y1 - y0) / (n - 1)
    frame = pd.DataFrame({"distance": np.arange(n) * step, "x": c, "y": r})
    for name, grid in oxide_map.data.items():
        frame[name] = np.asarray(grid[r, c], dtype=np.float64) if hasattr(grid, "__getitem__") else np.nan
    pixels = result.pixels()
    at = r * w + c
    frame["phase"] = pixels["mineral"].to_numpy()[at]
    frame["flag"] = pixels["flag"].to_numpy()[at]
    frame["mixed_with"] = pixels["mixed_with"].to_numpy()[at]
    frame["fraction"] = pixels["fraction"].to_numpy()[at]
    return frame


def profile_plot(frame: pd.DataFrame, *, unit: str = "µm", title: str = ""):
    """Oxides along a profile (above) and the phase of each point (a strip below)."""
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
    strip.set(yticks=[], xlabel=f"distance ({unit})")
    return top
