"""Synthetic quantified maps with known truth, for tests, demos and benchmarks.

Grains are Voronoi cells; each takes a mineral and one real analysis of it (drawn from the
``compositions`` table you give, e.g. the training compilations).  Pixels get EDS-level
noise (sd ``noise x sqrt(wt% / 50)``: 1.5 wt% absolute at 50 wt%, ~0.3 wt% at 2 wt%),
boundaries are blurred (a Gaussian of ``blur`` pixels mixes neighbouring grains, as the
electron beam's interaction volume does), and cracks filled with epoxy (oxide sums of a few
wt%) cross the map.  The truth returned beside the map: the mineral of each pixel's grain,
the boundary pixels (within ``2 x blur`` of another mineral) and the cracks.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from minml.maps.read import OxideMap

__all__ = ["map_scores", "synthetic_map"]


def synthetic_map(
    compositions: pd.DataFrame,
    shape=(256, 256),
    *,
    grains: int = 40,
    noise: float = 1.5,
    blur: float = 1.0,
    cracks: int = 2,
    pixel_size: float = 1.0,
    random_state=0,
    relative_noise: float | None = None,
    noise_floor: float = 0.3,
    mix_boundaries: bool = False,
):
    """A synthetic map and its truth.

    Parameters
    ----------
    compositions : pandas.DataFrame
        Real analyses: oxide columns (canonical names) and a ``mineral`` column.
    shape : tuple of int
    grains : int
    noise : float
        EDS noise at 50 wt% (1 sd, wt% absolute).
    blur : float
        Gaussian blur of the boundaries, in pixels (0: sharp).
    cracks : int
        Epoxy-filled cracks.
    pixel_size : float
        Micrometres per pixel.
    random_state : int or numpy.random.Generator
    relative_noise : float, optional
        Noise as a share of each value (0.03: 3 % relative), at least ``noise_floor`` wt%,
        instead of ``noise``'s square-root law.
    noise_floor : float, default=0.3
    mix_boundaries : bool, default=False
        Pixels whose right or lower neighbour lies in another grain are a 50/50 mix of the two
        grains (a beam straddling the boundary), on top of any ``blur``.

    Returns
    -------
    oxide_map : OxideMap
    truth : dict
        ``mineral`` (height x width names), ``boundary`` and ``crack`` (bool masks), ``grain``
        (height x width grain ids), ``grain_values`` (grains x oxides: each grain's analysis)
        and ``oxides`` (their names).
    """
    from scipy.ndimage import gaussian_filter

    if "mineral" not in compositions.columns:
        raise ValueError("compositions needs a 'mineral' column naming each analysis.")
    oxides = [c for c in compositions.columns if c != "mineral" and pd.api.types.is_numeric_dtype(compositions[c])]
    rng = np.random.default_rng(random_state)
    h, w = shape
    grain, minerals, grain_mineral, grain_values = _grains(rng, compositions, oxides, shape, grains)
    clean = grain_values[grain]  # h x w x oxides
    if mix_boundaries:
        clean = _mix_boundaries(clean, grain)
    if blur > 0:
        clean = np.stack([gaussian_filter(clean[..., j], blur) for j in range(len(oxides))], axis=-1)
    if relative_noise is None:
        sd = noise * np.sqrt(np.maximum(clean, 0.0) / 50.0)
    else:
        sd = np.maximum(relative_noise * np.maximum(clean, 0.0), noise_floor)
    noisy = clean + rng.standard_normal(clean.shape) * sd
    crack = _cracks(rng, h, w, cracks)
    noisy[crack] *= 0.03  # epoxy: a few wt% of oxide at most
    mineral = minerals[grain_mineral[grain]]
    other = _near_another_mineral(grain_mineral[grain], len(minerals), max(2 * blur, 1.0))
    data = {ox: np.clip(noisy[..., j], 0.0, None).astype(np.float32) for j, ox in enumerate(oxides)}
    truth = {
        "mineral": mineral,
        "boundary": other & ~crack,
        "crack": crack,
        "grain": grain,
        "grain_values": grain_values,
        "oxides": oxides,
    }
    return OxideMap(data, pixel_size=pixel_size, source="synthetic"), truth


def _grains(rng, compositions: pd.DataFrame, oxides: list, shape, grains: int):
    """Voronoi grains (``grains`` random seeds), each given a mineral and one real analysis of
    it: the grain of each pixel, the minerals, each grain's mineral and its analysis."""
    from scipy.spatial import cKDTree

    h, w = shape
    seeds = rng.uniform([0, 0], [h, w], size=(grains, 2))
    rows, cols = np.mgrid[0:h, 0:w]
    grain = cKDTree(seeds).query(np.column_stack([rows.ravel(), cols.ravel()]))[1].reshape(h, w)
    minerals = np.array(sorted(compositions["mineral"].unique()), dtype=object)
    grain_mineral = rng.integers(0, len(minerals), size=grains)
    by_mineral = {
        m: compositions.loc[compositions["mineral"] == m, oxides].fillna(0.0).to_numpy(float) for m in minerals
    }
    grain_values = np.array(
        [by_mineral[minerals[m]][rng.integers(len(by_mineral[minerals[m]]))] for m in grain_mineral]
    )
    return grain, minerals, grain_mineral, grain_values


def _near_another_mineral(codes: np.ndarray, count: int, distance: float) -> np.ndarray:
    """Pixels within ``distance`` of a pixel of another mineral (the boundary pixels)."""
    from scipy.ndimage import distance_transform_edt

    other = np.zeros(codes.shape, dtype=bool)
    for m in range(count):
        inside = codes == m
        if inside.any() and (~inside).any():
            other |= inside & (distance_transform_edt(inside) <= distance)
    return other


def _cracks(rng, h: int, w: int, count: int) -> np.ndarray:
    """``count`` straight one-pixel cracks across an h x w map (a mask)."""
    crack = np.zeros((h, w), dtype=bool)
    for _ in range(count):
        r0, c0 = rng.uniform(0, h), rng.uniform(0, w)
        angle = rng.uniform(0, np.pi)
        t = np.linspace(-max(h, w), max(h, w), 4 * max(h, w))
        rr = np.round(r0 + t * np.sin(angle)).astype(int)
        cc = np.round(c0 + t * np.cos(angle)).astype(int)
        keep = (rr >= 0) & (rr < h) & (cc >= 0) & (cc < w)
        crack[rr[keep], cc[keep]] = True
    return crack


def _mix_boundaries(clean: np.ndarray, grain: np.ndarray) -> np.ndarray:
    """Pixels whose right (else lower) neighbour is in another grain: 50/50 of the two."""
    out = clean.copy()
    right = np.zeros(grain.shape, dtype=bool)
    right[:, :-1] = grain[:, :-1] != grain[:, 1:]
    below = np.zeros(grain.shape, dtype=bool)
    below[:-1] = grain[:-1] != grain[1:]
    below &= ~right
    r, c = np.nonzero(right)
    out[r, c] = 0.5 * (clean[r, c] + clean[r, c + 1])
    r, c = np.nonzero(below)
    out[r, c] = 0.5 * (clean[r, c] + clean[r + 1, c])
    return out


def map_scores(result, truth: dict) -> dict:
    """How a classified map compares with the truth of :func:`synthetic_map`.

    Returns
    -------
    dict
        ``interior_accuracy`` (grain interiors, cracks excluded), ``boundary_ok`` (boundary
        pixels unknown, given one of the phases within 2 pixels, or a mixture of two of them),
        ``crack_masked``, and ``mode_error`` (largest absolute difference, % points, between
        the mineral modes and the true area % of the pixels that are no crack).
    """
    mineral = result.mineral()
    grain = truth["mineral"]
    interior = ~truth["boundary"] & ~truth["crack"]
    boundary = np.argwhere(truth["boundary"])
    padded = np.pad(np.asarray(grain, dtype=object), 2, mode="constant", constant_values=np.array(None))
    ok = []
    major, other, _ = result.mixed_pixels()
    names = np.asarray(result.names, dtype=object)
    w = grain.shape[1]
    for r, c in boundary:
        near = set(padded[r : r + 5, c : c + 5].ravel()) - {None}
        if mineral[r, c] == "mixture" and major[r * w + c] >= 0:
            ok.append({names[major[r * w + c]], names[other[r * w + c]]} <= near)
        else:
            ok.append(mineral[r, c] in near or mineral[r, c] == "unknown")
    true_modes = pd.Series(grain[~truth["crack"]]).value_counts(normalize=True) * 100
    modes = result.modes()["mode_percent"]
    error = max(
        abs(modes.get(m, 0.0) - true_modes.get(m, 0.0)) for m in set(true_modes.index) | set(modes.dropna().index)
    )
    return {
        "interior_accuracy": float((mineral[interior] == grain[interior]).mean()),
        "boundary_ok": float(np.mean(ok)) if ok else 1.0,
        "crack_masked": float((mineral[truth["crack"]] == "masked").mean()) if truth["crack"].any() else 1.0,
        "mode_error": float(error),
    }
