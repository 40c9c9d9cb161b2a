"""Figures people look at: confusion matrices, probability histograms, pyroxene quadrilateral,
feldspar ternary, the latent space, reconstructed vs measured oxides (the maps' figures are
:mod:`minml.maps.figures`).  Needs the ``plot`` extra (matplotlib).  Every function draws on an
``Axes`` it is given (or a new one) and returns it; colours are the Okabe-Ito palette,
readable by colour-blind people.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = [
    "OKABE_ITO",
    "confusion_matrix",
    "feldspar_ternary",
    "import_pyplot_early",
    "latent_space",
    "probability_histogram",
    "pyroxene_quadrilateral",
    "reconstruction",
    "require_matplotlib",
    "save_figure",
]

OKABE_ITO = ["#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#000000"]
_SQRT3 = np.sqrt(3.0)


def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError("Figures need matplotlib: pip install 'min-ml[plot]'.") from error
    return plt


def require_matplotlib() -> None:
    """Raise ImportError, saying which extra to install, unless figures can be drawn."""
    _pyplot()


def import_pyplot_early():
    """Start importing matplotlib's pyplot on a thread, for figures drawn after other work.

    The import takes most of a second (matplotlib builds its artists' docstrings), time a
    command such as ``minml map`` can spend reading and classifying meanwhile.  Whether
    matplotlib is installed is known at once.

    Returns
    -------
    callable
        Waits for the import to end; raises its ImportError, if any.

    Raises
    ------
    ImportError
        matplotlib is not installed, saying which extra to install.
    """
    import importlib.util
    import threading

    if importlib.util.find_spec("matplotlib") is None:
        raise ImportError("Figures need matplotlib: pip install 'min-ml[plot]'.")
    failed: list[ImportError] = []

    def run() -> None:
        try:
            _pyplot()
        except ImportError as error:  # pragma: no cover - a broken install
            failed.append(error)

    thread = threading.Thread(target=run, name="minml-import-pyplot", daemon=True)
    thread.start()

    def wait() -> None:
        thread.join()
        if failed:
            raise failed[0]

    return wait


def _axes(ax, size=(5.0, 4.0)):
    if ax is not None:
        return ax
    return _pyplot().subplots(figsize=size, layout="constrained")[1]


def save_figure(ax, path) -> list:
    """Save the axes' figure as PNG (200 dpi) and SVG beside it; returns both paths."""
    from pathlib import Path

    from minml.io import atomic_path

    path = Path(path)
    paths = [path.with_suffix(".png"), path.with_suffix(".svg")]
    for p in paths:
        with atomic_path(p) as part:  # whole or not at all
            ax.figure.savefig(part, dpi=200)
    return paths


def confusion_matrix(truth, predicted, *, ax=None, title="Published label vs MIN-ML"):
    """Counts of (label, prediction) pairs on a log colour scale, counts written in the cells."""
    plt = _pyplot()
    table = pd.crosstab(pd.Series(truth, name="label"), pd.Series(predicted, name="predicted"))
    # room for the cells, and never less than the title, the slanted names and the colour bar need
    ax = _axes(ax, size=(max(1.0 + 0.45 * table.shape[1], 4.0), max(1.0 + 0.4 * table.shape[0], 3.0)))
    from matplotlib.colors import LogNorm

    image = ax.imshow(
        table.to_numpy() + 0.5, cmap="cividis", norm=LogNorm(vmin=0.5, vmax=max(table.to_numpy().max(), 1))
    )
    ax.set_xticks(range(table.shape[1]), table.columns, rotation=60, ha="right")
    ax.set_yticks(range(table.shape[0]), table.index)
    for (i, j), n in np.ndenumerate(table.to_numpy()):
        if n:
            ax.text(
                j,
                i,
                str(n),
                ha="center",
                va="center",
                fontsize=7,
                color="white" if n < table.to_numpy().max() ** 0.5 else "black",
            )
    ax.set_xlabel("MIN-ML mineral")
    ax.set_ylabel("published label (class)")
    ax.set_title(title)
    plt.colorbar(image, ax=ax, label="rows (log scale)")
    return ax


def probability_histogram(probability, groups, *, ax=None, xlabel="calibrated probability of the published label"):
    """Overlaid histograms of a probability, one per group (e.g. verdict)."""
    ax = _axes(ax)
    bins = np.linspace(0, 1, 26)
    for i, (name, values) in enumerate(pd.Series(probability).groupby(np.asarray(groups))):
        colour = _category_style(i, str(name))["color"]  # a mineral in its own colour
        ax.hist(values.dropna(), bins=bins, histtype="step", lw=1.8, color=colour, label=f"{name} ({len(values)})")
    ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("rows")
    ax.legend(frameon=False, fontsize=8)
    return ax


def _ternary_xy(left, right, top):
    total = left + right + top
    with np.errstate(invalid="ignore", divide="ignore"):
        r, t = right / total, top / total
    return r + t / 2, t * _SQRT3 / 2


def _scatter_groups(ax, x, y, groups):
    for i, name in enumerate(pd.unique(np.asarray(groups))):
        keep = np.asarray(groups) == name
        colour = _category_style(i, str(name))["color"]  # a mineral in its own colour
        ax.scatter(x[keep], y[keep], s=10, color=colour, label=f"{name} ({int(keep.sum())})", alpha=0.8, lw=0)
    ax.legend(frameon=False, fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))


def pyroxene_quadrilateral(wo, en, fs, groups, *, ax=None, title="Pyroxenes (mol%)"):
    """The Ca-Mg-Fe pyroxene quadrilateral (En-Fs base, Di-Hd at Wo 50) with Morimoto's (1988)
    Wo 5 and Wo 20 lines; points coloured by ``groups``."""
    ax = _axes(ax, size=(8.0, 4.2))
    x, y = _ternary_xy(np.asarray(en, float), np.asarray(fs, float), np.asarray(wo, float))
    half = _SQRT3 / 4  # Wo = 50
    ax.plot([0, 1, 0.75, 0.25, 0], [0, 0, half, half, 0], color="0.3", lw=1)
    for level in (5, 20, 45):
        h = level / 100 * _SQRT3 / 2
        ax.plot([h / _SQRT3, 1 - h / _SQRT3], [h, h], color="0.7", lw=0.8, ls="--")
        ax.text(1 - h / _SQRT3 + 0.01, h, f"Wo {level}", fontsize=7, va="center", color="0.4")
    _scatter_groups(ax, x, y, groups)
    for text, (tx, ty) in {
        "En": (0, -0.04),
        "Fs": (1, -0.04),
        "Di": (0.25, half + 0.02),
        "Hd": (0.75, half + 0.02),
    }.items():
        ax.text(tx, ty, text, ha="center", fontsize=9)
    ax.set_xlim(-0.05, 1.12)
    ax.set_ylim(-0.08, max(half, float(np.nanmax(y, initial=0.0))) + 0.08)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(title)
    return ax


def feldspar_ternary(an, ab, or_, groups, *, ax=None, title="Feldspars (mol%)"):
    """The An-Ab-Or ternary (Ab bottom left, Or bottom right, An top); points coloured by ``groups``."""
    ax = _axes(ax, size=(7.0, 4.4))
    x, y = _ternary_xy(np.asarray(ab, float), np.asarray(or_, float), np.asarray(an, float))
    ax.plot([0, 1, 0.5, 0], [0, 0, _SQRT3 / 2, 0], color="0.3", lw=1)
    _scatter_groups(ax, x, y, groups)
    for text, (tx, ty) in {"Ab": (0, -0.05), "Or": (1, -0.05), "An": (0.5, _SQRT3 / 2 + 0.02)}.items():
        ax.text(tx, ty, text, ha="center", fontsize=9)
    ax.set_xlim(-0.05, 1.05)
    ax.set_ylim(-0.1, _SQRT3 / 2 + 0.08)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(title)
    return ax


_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")


def _category_style(i: int, name: str = "") -> dict:
    """Colour and marker of the i-th category: a class (or unknown) has its colour of
    :func:`minml.palette.mineral_colours`, the same in every figure; other categories (clusters)
    the 8 Okabe-Ito colours, then the same colours with the next marker, so 18+ categories stay
    apart for colour-blind readers."""
    from minml.palette import mineral_colours

    marker = _MARKERS[(i // len(OKABE_ITO)) % len(_MARKERS)]
    return {"color": mineral_colours().get(name, OKABE_ITO[i % len(OKABE_ITO)]), "marker": marker}


def _point_size(n: int) -> float:
    """Marker area (points^2) for a scatter of ``n`` points: large enough to see a few dozen
    analyses, small enough that a million do not merge into one blot."""
    return float(np.clip(500.0 / np.sqrt(max(n, 1)), 4.0, 30.0))


def latent_space(result, by: str = "cluster", *, values=None, model=None, ax=None, title="", size: float | None = None):
    """Analyses in the latent plane (``LV1``, ``LV2``), over the training set's density.

    Parameters
    ----------
    result : pandas.DataFrame
        Output of :func:`minml.unsupervised.latent.latent` (``LV1``, ``LV2`` and the column ``by``).
    by : str, default="cluster"
        Colour by this column: categories (``cluster``, ``cluster_mineral``, ``mineral``) get
        colour and marker and a legend with counts; numbers (``probability``,
        ``reconstruction_error``) a colour scale.
    values : array-like, optional
        Colour by these values instead of a column (named ``by`` in the legend).
    model : LatentModel, optional
        Whose training density is drawn as grey contours behind the points (default: the
        shipped latent model; pass ``False`` for none).
    ax : matplotlib.axes.Axes, optional
    title : str
    size : float, optional
        Marker size (points^2); by default it shrinks as points grow in number
        (:func:`_point_size`: 30 for a few hundred analyses, 4 from about 15,000).

    Returns
    -------
    matplotlib.axes.Axes
    """
    plt = _pyplot()
    size = _point_size(len(result)) if size is None else size
    ax = _axes(ax, size=(8.0, 5.6))
    if model is None:
        from minml.unsupervised.latent import load_default_latent

        model = load_default_latent()
    if model is not False:
        density = np.log1p(model.density)
        levels = np.linspace(density.max() * 0.08, density.max(), 7)
        ax.contour(density, levels=levels, extent=model.extent, colors="0.65", linewidths=0.6, zorder=0)
    shown = np.asarray(values if values is not None else result[by])
    x, y = result["LV1"].to_numpy(), result["LV2"].to_numpy()
    numeric = np.issubdtype(shown.dtype, np.number) and by not in ("cluster",)
    if numeric:
        image = ax.scatter(x, y, c=shown, s=size, cmap="cividis", lw=0, zorder=2)
        plt.colorbar(image, ax=ax, label=by.replace("_", " "))
    else:
        _scatter_categories(ax, x, y, shown, by, size)
    if model is not False:  # frame the training set; say how many points lie beyond
        xmin, xmax, ymin, ymax = model.extent
        outside = int(((x < xmin) | (x > xmax) | (y < ymin) | (y > ymax)).sum())
        ax.set_xlim(xmin, xmax)
        ax.set_ylim(ymin, ymax)
        if outside:
            ax.text(
                0.99,
                0.01,
                f"{outside} points beyond the training set's frame",
                transform=ax.transAxes,
                ha="right",
                va="bottom",
                fontsize=7,
                color="0.4",
            )
    ax.set_xlabel("LV1 (latent axis 1)")
    ax.set_ylabel("LV2 (latent axis 2)")
    ax.set_title(title or f"Latent space, coloured by {by.replace('_', ' ')}")
    return ax


def _scatter_categories(ax, x: np.ndarray, y: np.ndarray, shown: np.ndarray, by: str, size: float) -> None:
    """Points coloured and marked by category (noise grey, the largest first), with a legend
    of the counts beside the axes."""
    names = pd.Series(shown).astype(str)
    counts = names.value_counts()
    order = sorted(counts.index, key=lambda n: (n in ("-1", "", "unknown", "noise"), -counts[n]))
    for i, name in enumerate(order):
        keep = (names == name).to_numpy()
        label = "noise" if name in ("-1", "") else name
        style = {"color": "0.6", "marker": "."} if label == "noise" else _category_style(i, label)
        ax.scatter(x[keep], y[keep], s=size, lw=0, zorder=2, label=f"{label} ({counts[name]})", **style)
    ax.legend(
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        frameon=False,
        fontsize=7,
        markerscale=8 / max(size, 1) ** 0.5,
        title=by.replace("_", " "),
        title_fontsize=8,
    )


def reconstruction(measured, rebuilt, *, axes=None, oxides=None, size: float | None = None, **check_options):
    """Rebuilt against measured wt%, one panel per oxide, with the 1:1 line and the median
    absolute error.

    Parameters
    ----------
    measured : pandas.DataFrame or OxideCheck
        The analyses as read, or as checked already (:func:`minml.check_oxides`).
    rebuilt : pandas.DataFrame
        Same rows; from :func:`minml.unsupervised.latent.reconstruct`.
    axes : array of matplotlib.axes.Axes, optional
        One per oxide.
    oxides : sequence of str, optional
        Default: the columns of ``rebuilt``.
    size : float, optional
        Marker size (points^2); by default as in :func:`latent_space`.
    **check_options
        How ``measured`` was read for ``reconstruct`` (``suffix``): see :func:`minml.check_oxides`.

    Returns
    -------
    numpy.ndarray of matplotlib.axes.Axes
    """
    from minml.tables.checks import OxideCheck, check_oxides

    oxides = list(oxides or rebuilt.columns)
    size = _point_size(len(rebuilt)) if size is None else size
    checked = measured if isinstance(measured, OxideCheck) else check_oxides(measured, notes=False, **check_options)
    truth = checked.oxides
    if axes is None:
        columns = 4
        rows = -(-len(oxides) // columns)
        axes = _pyplot().subplots(rows, columns, figsize=(2.6 * columns, 2.5 * rows), layout="constrained")[1]
    axes = np.asarray(axes).ravel()
    for ax, name in zip(axes, oxides, strict=False):
        a, b = truth[name].to_numpy(float), rebuilt[name].to_numpy(float)
        ok = np.isfinite(a) & np.isfinite(b)
        ax.scatter(a[ok], b[ok], s=size, lw=0, color=OKABE_ITO[4], alpha=0.5)
        top = max(float(np.nanmax(a[ok], initial=0.0)), float(np.nanmax(b[ok], initial=0.0)), 0.1) * 1.05
        ax.plot([0, top], [0, top], color="0.3", lw=0.8)
        ax.set_xlim(0, top)
        ax.set_ylim(0, top)
        ax.set_title(f"{name}: median |error| {np.median(np.abs(a[ok] - b[ok])):.2f}" if ok.any() else name, fontsize=8)
        ax.set_xlabel("measured (wt%)", fontsize=7)
        ax.set_ylabel("rebuilt (wt%)", fontsize=7)
        ax.tick_params(labelsize=7)
    for ax in axes[len(oxides) :]:
        ax.axis("off")
    return axes
