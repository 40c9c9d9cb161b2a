"""The steps of :func:`minml.training.latent_fit.fit_latent`: the training rows, the autoencoder,
HDBSCAN in its latent space with the assignment radius, the training points kept for
assignment, and the plotting plane with the training density."""

from __future__ import annotations

import numpy as np
import pandas as pd

from minml.classifier._runtime import standardise
from minml.classifier.features import MODEL_OXIDES
from minml.unsupervised.latent import _forward

__all__ = [
    "autoencoder",
    "cluster_names",
    "density_grid",
    "hdbscan_clusters",
    "keep_points",
    "principal_axes",
    "training_rows",
]

RADIUS_QUANTILE = 0.99
"""A new row is assigned to a cluster when it lies as close to a clustered training point as
99 % of the training rows do."""

MAX_POINTS = 10_000
"""Clustered training points kept in the model file for assignment (stratified by cluster, at
least 200 of each): a KD-tree over 10,000 points in the 4-D latent space answers 1 M rows in
~1.1 s (40,000: ~2.5 s) and changed LEPR's named-cluster ARI by 0.003."""

_GRID = 200


def column_scaler(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean = X.mean(axis=0).astype(np.float32)
    scale = X.std(axis=0).astype(np.float32)
    scale[scale == 0] = 1.0
    return mean, scale


def keep_points(cluster: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Indices of clustered rows to keep: all when few, else a share of each cluster."""
    clustered = np.flatnonzero(cluster >= 0)
    if len(clustered) <= MAX_POINTS:
        return clustered
    share = MAX_POINTS / len(clustered)
    keep = []
    for k in np.unique(cluster[clustered]):
        rows = clustered[cluster[clustered] == k]
        keep.append(rng.choice(rows, size=max(min(len(rows), 200), round(share * len(rows))), replace=False))
    return np.sort(np.concatenate(keep))


def principal_axes(coords: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and the two principal axes (columns) of latent coordinates; signs fixed so that
    each axis's largest loading is positive (the same plane every time)."""
    mean = coords.mean(axis=0)
    if coords.shape[1] == 2:
        return np.zeros(2, np.float32), np.eye(2, dtype=np.float32)
    axes = np.linalg.svd((coords - mean).astype(np.float64), full_matrices=False)[2][:2].T
    axes *= np.sign(axes[np.abs(axes).argmax(axis=0), [0, 1]])
    return mean.astype(np.float32), axes.astype(np.float32)


def density_grid(coords: np.ndarray) -> tuple[np.ndarray, tuple]:
    from scipy.ndimage import gaussian_filter

    low, high = np.percentile(coords, [0.1, 99.9], axis=0)
    pad = 0.08 * (high - low)
    low, high = low - pad, high + pad
    counts, xedges, yedges = np.histogram2d(
        coords[:, 0], coords[:, 1], bins=_GRID, range=[[low[0], high[0]], [low[1], high[1]]]
    )
    return gaussian_filter(counts.T, 1.5).astype(np.float32), (xedges[0], xedges[-1], yedges[0], yedges[-1])


def cluster_names(cluster: np.ndarray, labels: np.ndarray | None) -> np.ndarray:
    """Each cluster's majority label ('' without labels): for reporting only."""
    names = np.full(int(cluster.max()) + 1, "", dtype=object)
    if labels is not None:
        clustered = cluster >= 0
        names[:] = pd.crosstab(cluster[clustered], labels[clustered]).idxmax(axis=1).to_numpy()
    return names


def autoencoder(X, hidden, latent, epochs, batch_size, random_state, progress):
    """Scaler, encoder and decoder layers ``[(W, b), ...]`` of an autoencoder trained on
    ``X`` (:func:`minml.training._torch.train_autoencoder`), and the latent coordinates of ``X``."""
    try:
        from minml.training._torch import train_autoencoder
    except ImportError as error:
        raise ImportError('Fitting the latent model needs PyTorch: pip install "min-ml[train]"') from error

    mean, scale = column_scaler(X)
    weights = train_autoencoder(
        (X - mean) / scale,
        hidden=hidden,
        latent=latent,
        epochs=epochs,
        batch_size=batch_size,
        random_state=random_state,
        progress=progress,
    )
    layers = {
        name: [(weights[f"{name}{i}_W"], weights[f"{name}{i}_b"]) for i in range(len(hidden) + 1)]
        for name in ("enc", "dec")
    }
    return mean, scale, layers, _forward(standardise(X, mean, scale), layers["enc"])


def training_rows(X, labels, extra) -> tuple[np.ndarray, np.ndarray | None]:
    """The training rows (``X`` and the ``extra`` rows) as float32 and their labels; refuses
    anything but a finite (n, len(MODEL_OXIDES)) array."""
    X = np.asarray(X, dtype=np.float32)
    if extra is not None:
        X = np.vstack([X, np.asarray(extra[0], dtype=np.float32)])
        labels = None if labels is None else np.concatenate([np.asarray(labels, dtype=object), extra[1]])
    if X.ndim != 2 or X.shape[1] != len(MODEL_OXIDES) or not np.isfinite(X).all():
        raise ValueError(
            f"X must be a finite array of shape (n, {len(MODEL_OXIDES)}) (columns {MODEL_OXIDES}); "
            f"got shape {X.shape}" + ("" if np.isfinite(X).all() else " with NaN or inf") + "."
        )
    return X, None if labels is None else np.asarray(labels, dtype=object)


def hdbscan_clusters(coords: np.ndarray, min_cluster_fraction: float, min_samples: int):
    """HDBSCAN on latent coordinates: each row's cluster (-1: noise) and membership
    probability, and the assignment radius (:data:`RADIUS_QUANTILE` of the distances from
    each training row to the nearest *other* clustered row)."""
    from scipy.spatial import cKDTree
    from sklearn.cluster import HDBSCAN

    clusterer = HDBSCAN(
        min_cluster_size=max(5, round(min_cluster_fraction * len(coords))), min_samples=min_samples, copy=True
    ).fit(coords)
    cluster = clusterer.labels_.astype(np.int16)
    clustered = cluster >= 0
    if not clustered.any():
        raise ValueError("HDBSCAN found no cluster in the latent space; lower min_cluster_fraction.")
    distance = np.empty(len(coords))
    tree = cKDTree(coords[clustered])
    distance[clustered] = tree.query(coords[clustered], k=2, workers=-1)[0][:, 1]
    distance[~clustered] = tree.query(coords[~clustered], k=1, workers=-1)[0]
    probability = clusterer.probabilities_.astype(np.float32)
    return cluster, probability, float(np.quantile(distance, RADIUS_QUANTILE))
