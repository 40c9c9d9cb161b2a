"""Synthetic analyses of solid solutions: end-member mixtures as oxide wt% with analytical noise.

Natural compilations cover the common part of each solid solution (igneous augite, not
sodic or aluminous clinopyroxene; Al-Cr spinel, not the spinel-magnetite join).  For the
classes that carry an ``augment`` entry in ``minerals.toml``, :func:`synthetic_analyses`
draws mixtures of the class's end-members (Dirichlet weights, with the class's limits on
sums of fractions, e.g. clinopyroxene keeps enough Ca to stay out of orthopyroxene),
converts them to wt%, adds relative analytical noise and small amounts of unanalysed minor
oxides, and scales the analytical total of the true composition (ferric iron as Fe2O3) to a
realistic 99.7 ± 0.7 wt%; iron then enters as FeOt, so Fe3+-rich rows come out with the low
sums real analyses have (magnetite ~93 wt%).

A share of the mixtures (the entry's ``simple``, default 0) uses only one to three of the
end-members: experimental petrology works in simple systems (CMAS, MAS, FMAS: pure
fayalite, pyrope-knorringite, diopside-Ca-Tschermak), which natural rocks never sample.
"""

from __future__ import annotations

import zlib

import numpy as np
import pandas as pd

from minml._resources import load_toml
from minml.chemistry.minerals import end_member_table, mineral_table
from minml.chemistry.oxides import FEO_PER_FE2O3, species_table
from minml.classifier.features import MODEL_OXIDES

__all__ = ["augmented_classes", "mixture_analyses", "synthetic_analyses", "synthetic_arrays", "synthetic_training_rows"]

_RELATIVE_NOISE = 0.02  # 1 sd of each oxide, relative (EPMA major elements)
_MINOR_NOISE = 0.03  # wt%: scale of trace amounts of oxides the end-members lack
_TOTAL = (99.7, 0.7)  # wt%: mean and sd of analytical totals (natural anhydrous minerals: 98-101)
_SIMPLE_MAX = 3  # end-members in a simple-system mixture: 1 to this many


def augmented_classes() -> dict[str, list[dict]]:
    """The ``augment`` entries of ``minerals.toml`` by class: a list of populations each (one
    table, or an array of tables such as clinopyroxene's augite and pigeonite)."""
    raw = load_toml("minerals.toml")["mineral"]
    return {
        name: spec["augment"] if isinstance(spec["augment"], list) else [spec["augment"]]
        for name, spec in sorted(raw.items())
        if "augment" in spec
    }


def _dirichlet(rng, alpha, n, simple) -> np.ndarray:
    """Dirichlet(alpha) draws; a share ``simple`` of them on 1 to 3 end-members only, picked
    with probability proportional to alpha (weighted sampling without replacement)."""
    gamma = rng.gamma(np.broadcast_to(alpha, (n, len(alpha))))
    few = rng.random(n) < simple
    if few.any():
        size = rng.integers(1, min(_SIMPLE_MAX, len(alpha)) + 1, size=int(few.sum()))
        keys = rng.random((len(size), len(alpha))) ** (1.0 / alpha)
        rank = np.argsort(np.argsort(-keys, axis=1), axis=1)
        gamma[few] *= rank < size[:, None]
    return gamma / gamma.sum(axis=1, keepdims=True)


def _fractions(rng, names, spec, n) -> np.ndarray:
    missing = [name for name in names if name not in spec["alpha"]]
    if missing:
        raise ValueError(f"augment.alpha lacks a weight for {missing} (0 leaves an end-member out).")
    alpha = np.array([spec["alpha"][name] for name in names], dtype=float)
    if (alpha < 0).any() or not (alpha > 0).any():
        raise ValueError(f"augment.alpha weights must be >= 0 with at least one positive; got {spec['alpha']}.")
    kept: list[np.ndarray] = []
    tries = 0
    while sum(len(k) for k in kept) < n:
        tries += 1
        if tries > 100:
            raise ValueError(f"augment limits reject almost every mixture of {names}; loosen them.")
        draw = np.zeros((2 * n, len(alpha)))
        draw[:, alpha > 0] = _dirichlet(rng, alpha[alpha > 0], 2 * n, spec.get("simple", 0.0))
        ok = np.ones(len(draw), dtype=bool)
        for limit in spec.get("limits", []):
            share = draw[:, [names.index(e) for e in limit["end_members"]]].sum(axis=1)
            ok &= (share >= limit.get("min", 0.0)) & (share <= limit.get("max", 1.0))
        kept.append(draw[ok])
    return np.concatenate(kept)[:n]


def synthetic_analyses(mineral: str, n: int, random_state=0) -> pd.DataFrame:
    """``n`` synthetic analyses of a class, in wt% of the model oxides.

    Parameters
    ----------
    mineral : str
        A class with an ``augment`` entry in ``minerals.toml``.
    n : int
        Rows, split between the class's populations in proportion to their ``rows``.
    random_state : int or numpy.random.Generator

    Returns
    -------
    pandas.DataFrame
        Columns :data:`minml.classifier.features.MODEL_OXIDES`.

    Examples
    --------
    >>> cpx = synthetic_analyses("clinopyroxene", 3)
    >>> bool(cpx["SiO2"].between(40, 60).all())
    True
    """
    specs = augmented_classes()
    if mineral not in specs:
        raise ValueError(f"No augment entry for {mineral!r}; classes with one: {sorted(specs)}.")
    return mixture_analyses(list(mineral_table()[mineral].end_members), specs[mineral], n, random_state)


def mixture_analyses(names: list[str], populations: list[dict], n: int, random_state=0) -> pd.DataFrame:
    """``n`` analyses of mixtures of the end-members ``names`` (of ``minerals.toml``), drawn as
    :func:`synthetic_analyses` draws a class's: each population a table with ``rows`` (its
    share), ``alpha`` (Dirichlet weights by end-member), optional ``simple``, ``limits`` and
    ``total`` ([mean, sd] of the analytical sum of the true composition, wt%; default
    99.7 ± 0.7; species outside the model oxides, such as H2O, count in the composition and
    go unanalysed, as in a hydrous mineral or glass).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`minml.classifier.features.MODEL_OXIDES`.
    """
    rng = np.random.default_rng(random_state)
    members = end_member_table()
    table = species_table()
    share = np.array([float(p["rows"]) for p in populations])
    counts = np.diff(np.round(np.concatenate([[0.0], np.cumsum(share)]) * n / share.sum()).astype(int))
    weights = np.vstack([_fractions(rng, names, p, int(k)) for p, k in zip(populations, counts, strict=True)])
    oxides = sorted({ox for name in names for ox in members[name].oxides})
    moles = np.array([[members[name].oxides.get(ox, 0.0) for ox in oxides] for name in names])
    mass = (weights @ moles) * np.array([table[ox].molar_mass for ox in oxides])
    wt = pd.DataFrame(100.0 * mass / mass.sum(axis=1, keepdims=True), columns=oxides)
    # the analytical total belongs to the true composition (Fe2O3 as such); folding ferric iron
    # into FeOt afterwards lowers the sum as it does in real analyses (magnetite ~93 wt%)
    out = pd.DataFrame(0.0, index=range(n), columns=[*MODEL_OXIDES, "Fe2O3"])
    for ox in oxides:
        if ox in out:
            out[ox] = wt[ox]
    out["FeOt"] = wt.get("FeO", 0.0)
    values = out.to_numpy()
    analysed = values.sum(axis=1) / 100.0  # the share of the true composition the oxides hold
    analysed[np.abs(analysed - 1.0) < 1e-9] = 1.0  # anhydrous: exactly as drawn
    values *= rng.normal(1.0, _RELATIVE_NOISE, size=values.shape)
    absent = values == 0
    absent[:, -1] = False  # no trace "Fe2O3": iron traces enter as FeOt
    values[absent] = np.abs(rng.normal(0.0, _MINOR_NOISE, size=int(absent.sum())))
    mean, sd = (np.repeat([p.get("total", _TOTAL)[i] for p in populations], counts) for i in (0, 1))
    total = np.clip(rng.normal(mean, sd), mean - 3 * sd, mean + 3 * sd)
    values *= (total * analysed / values.sum(axis=1))[:, None]
    values[:, list(out.columns).index("FeOt")] += FEO_PER_FE2O3 * values[:, -1]
    return pd.DataFrame(np.clip(values[:, :-1], 0.0, None), columns=list(MODEL_OXIDES))


def synthetic_training_rows(random_state=0) -> pd.DataFrame:
    """Synthetic rows of every augmented class, with ``mineral``, ``group`` and a ``source``
    of ``"synthetic"``, ready to stack under the natural training table.  Each class draws
    from its own stream (seeded by ``random_state`` and its name), so that editing one class's
    ``augment`` entry leaves every other class's rows as they were."""
    frames = []
    groups = {name: m.group for name, m in mineral_table().items()}
    for name, populations in augmented_classes().items():
        rng = np.random.default_rng([random_state, zlib.crc32(name.encode())])
        rows = synthetic_analyses(name, sum(int(p["rows"]) for p in populations), rng)
        frames.append(rows.assign(mineral=name, group=groups[name], source="synthetic"))
    return pd.concat(frames, ignore_index=True)


def synthetic_arrays(random_state=0) -> tuple[np.ndarray, np.ndarray]:
    """:func:`synthetic_training_rows` as the models take them: (X in the order of
    :data:`minml.classifier.features.MODEL_OXIDES`, float32; labels)."""
    rows = synthetic_training_rows(random_state=random_state)
    return rows[list(MODEL_OXIDES)].to_numpy(dtype=np.float32), rows["mineral"].to_numpy(dtype=object)
