"""The unsupervised view: an autoencoder's latent space and density clusters in it.

An autoencoder (trained with PyTorch, :mod:`minml.training.latent_fit`) squeezes the oxides
through a few latent variables (4 in the shipped model) and rebuilds them; HDBSCAN
(scikit-learn's) finds dense clusters of the training rows in that latent space without
looking at their labels.  ``LV1``, ``LV2`` are the latent space's two principal axes (of the
training rows), the plane the plots show; a model with a 2-D latent space shows it as it is.
:class:`LatentModel` holds what inference needs as plain arrays (one ``.npz``, no pickle)
and runs in numpy: encoder, decoder, and the clustered training points, against which a
new row is assigned to the cluster of its nearest clustered training point (when it lies
within the model's radius; else ``-1``, noise) with that point's membership strength as
``cluster_probability``.  Clusters are named after their training rows' majority label
only afterwards, for reporting (``cluster_mineral``).

``reconstruction_error`` (root mean square over the oxides of rebuilt minus measured wt%)
is an anomaly score of its own: an analysis the autoencoder cannot rebuild is unlike the
training data.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from minml import _dask
from minml._parallel import one_blas_thread
from minml._resources import load_shipped
from minml.classifier._runtime import standardise
from minml.classifier.features import model_inputs, usable_rows
from minml.io._npz import model_from, open_npz, save_npz

if TYPE_CHECKING:
    from scipy.spatial import cKDTree

__all__ = ["LatentModel", "latent", "reconstruct"]

DEFAULT_LATENT_MODEL = "latent-v1.npz"
SCHEMA_VERSION = 2
"""Version 2 added the plotting plane (``view_mean``, ``view_axes``) for latent spaces of more
than two dimensions; version 1 files (2-D latent space) still load."""
_READABLE = (1, 2)
_REQUIRED = ("schema_version", "oxides", "scaler_mean", "enc0_W", "points", "cluster_names")  # in every version
_CHUNK = 16_384


def _forward(x: np.ndarray, layers) -> np.ndarray:
    """Dense layers, ReLU between them, linear output."""
    for i, (W, b) in enumerate(layers):
        x = x @ W
        x += b
        if i < len(layers) - 1:
            np.maximum(x, 0.0, out=x)
    return x


@dataclass
class LatentModel:
    """A fitted latent space and its clusters, ready to run in numpy.

    Attributes
    ----------
    oxides : tuple of str
        The inputs, in order (wt%).
    scaler_mean, scaler_scale : numpy.ndarray of float32
    encoder, decoder : list of (W, b)
        Dense layers (W: in x out), ReLU between them, linear output.
    points : numpy.ndarray of float32, shape (m, latent dimensions)
        Latent coordinates of clustered training rows (a stratified subsample).
    point_cluster : numpy.ndarray of int16
        Their cluster.
    point_probability : numpy.ndarray of float32
        Their HDBSCAN membership strength (0-1).
    radius : float
        A new row farther than this from every clustered point is noise (``-1``).
    cluster_names : numpy.ndarray of str
        Majority training label of each cluster ("" where none was given).
    density : numpy.ndarray of float32, shape (ny, nx)
        Training rows per cell of a grid over ``extent`` of the plotting plane (smoothed), for
        contours.
    extent : tuple of float
        ``(xmin, xmax, ymin, ymax)`` of the density grid.
    view_mean, view_axes : numpy.ndarray
        The plotting plane: ``LV = (latent - view_mean) @ view_axes`` (the training rows'
        principal axes; identity for a 2-D latent space).
    info : dict
        Hyperparameters and training figures (JSON-safe).
    """

    oxides: tuple
    scaler_mean: np.ndarray
    scaler_scale: np.ndarray
    encoder: list
    decoder: list
    points: np.ndarray
    point_cluster: np.ndarray
    point_probability: np.ndarray
    radius: float
    cluster_names: np.ndarray
    density: np.ndarray
    extent: tuple
    view_mean: np.ndarray = field(default_factory=lambda: np.zeros(2, np.float32))
    view_axes: np.ndarray = field(default_factory=lambda: np.eye(2, dtype=np.float32))
    info: dict = field(default_factory=dict)
    _tree: cKDTree | None = field(default=None, repr=False, compare=False)

    @property
    def n_clusters(self) -> int:
        """Number of clusters (noise, ``-1``, not counted)."""
        return len(self.cluster_names)

    def scaled(self, values: np.ndarray) -> np.ndarray:
        """Standardised inputs (float32)."""
        return standardise(np.asarray(values, dtype=np.float32), self.scaler_mean, self.scaler_scale)

    def encode(self, values: np.ndarray) -> np.ndarray:
        """Latent coordinates (n, latent dimensions) of rows of wt% values (columns ``oxides``)."""
        return _forward(self.scaled(values), self.encoder)

    def view(self, coords: np.ndarray) -> np.ndarray:
        """``LV1``, ``LV2`` (n, 2): latent coordinates in the plotting plane."""
        return (np.asarray(coords, dtype=np.float32) - self.view_mean) @ self.view_axes

    def decode(self, coords: np.ndarray) -> np.ndarray:
        """Rebuilt wt% values of latent coordinates."""
        return _forward(np.asarray(coords, dtype=np.float32), self.decoder) * self.scaler_scale + self.scaler_mean

    def assign(self, coords: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Cluster (``-1``: noise) and membership of latent coordinates: those of the nearest
        clustered training point within ``radius``."""
        if self._tree is None:
            from scipy.spatial import cKDTree

            self._tree = cKDTree(self.points)
        coords = np.asarray(coords, dtype=np.float64)
        cluster = np.full(len(coords), -1, dtype=np.int16)
        probability = np.zeros(len(coords), dtype=np.float32)
        finite = np.isfinite(coords).all(axis=1)
        _, index = self._tree.query(coords[finite], distance_upper_bound=self.radius, workers=-1)
        near = index < len(self.points)
        rows = np.flatnonzero(finite)[near]
        cluster[rows] = self.point_cluster[index[near]]
        probability[rows] = self.point_probability[index[near]]
        return cluster, probability

    def save(self, path) -> Path:
        """Write the model as one ``.npz`` (no pickle)."""
        path = Path(path)
        arrays = {
            "schema_version": np.array(SCHEMA_VERSION),
            "oxides": np.array(self.oxides, dtype=str),
            "scaler_mean": self.scaler_mean,
            "scaler_scale": self.scaler_scale,
            "points": self.points.astype(np.float32),
            "point_cluster": self.point_cluster.astype(np.int16),
            "point_probability": self.point_probability.astype(np.float16),
            "radius": np.array(self.radius),
            "cluster_names": np.array(self.cluster_names, dtype=str),
            "density": self.density.astype(np.float32),
            "extent": np.array(self.extent, dtype=np.float64),
            "view_mean": self.view_mean.astype(np.float32),
            "view_axes": self.view_axes.astype(np.float32),
            "info": np.array(json.dumps(self.info)),
        }
        for name, layers in (("enc", self.encoder), ("dec", self.decoder)):
            for i, (W, b) in enumerate(layers):
                arrays[f"{name}{i}_W"], arrays[f"{name}{i}_b"] = W, b
        return save_npz(path, arrays)

    @classmethod
    def load(cls, path) -> LatentModel:
        """Read a model written by :meth:`save`."""
        with open_npz(path, "MIN-ML latent model", _REQUIRED) as f:
            version = int(f["schema_version"])
            if version not in _READABLE:
                raise ValueError(
                    f"{path} is a latent model of schema version {version}; this MIN-ML reads "
                    f"version {SCHEMA_VERSION}. Retrain it with `minml train --which latent`."
                )

            def layers(name):
                count = sum(1 for key in f.files if key.startswith(name) and key.endswith("_W"))
                return [(f[f"{name}{i}_W"], f[f"{name}{i}_b"]) for i in range(count)]

            return cls(
                oxides=tuple(str(o) for o in f["oxides"]),
                scaler_mean=f["scaler_mean"],
                scaler_scale=f["scaler_scale"],
                encoder=layers("enc"),
                decoder=layers("dec"),
                points=f["points"],
                point_cluster=f["point_cluster"],
                point_probability=f["point_probability"].astype(np.float32),
                radius=float(f["radius"]),
                cluster_names=f["cluster_names"].astype(object),
                density=f["density"],
                extent=tuple(float(v) for v in f["extent"]),
                info=json.loads(str(f["info"])),
                **({"view_mean": f["view_mean"], "view_axes": f["view_axes"]} if "view_axes" in f.files else {}),
            )


def load_default_latent() -> LatentModel:
    """The shipped latent model (``minml/data/latent-v1.npz``), loaded once."""
    return load_shipped(DEFAULT_LATENT_MODEL, LatentModel.load, "minml train --which latent")


def _inputs(df, model, fill_missing, check_options):
    name = "the shipped latent model" if model is None else "the latent model"
    model = model_from(
        model, default=load_default_latent, load=LatentModel.load, types=LatentModel, what="a LatentModel"
    )
    values, checked = model_inputs(df, model.oxides, fill_missing=fill_missing, model_name=name, **check_options)
    return model, values, checked


def _usable(values: np.ndarray, checked) -> np.ndarray:
    """Rows with finite values that are analyses (not empty rows, fractions, column shifts)."""
    return usable_rows(values) & ~checked.no_analysis


@one_blas_thread
def latent(
    df, model: LatentModel | None = None, *, fill_missing=None, progress: bool = False, **check_options
) -> pd.DataFrame:
    """Place every analysis of a table in the latent space and its clusters.

    Parameters
    ----------
    df : pandas.DataFrame or OxideCheck
        Analyses in wt% (any column spelling :func:`minml.map_columns` knows), not modified;
        or a table checked already by :func:`minml.check_oxides` (then without ``**check_options``).
    model : LatentModel or path, optional
        Defaults to the shipped model.
    fill_missing : float, optional
        Value for model oxides the table has no column for (by default: an error).
    progress : bool, default=False
        Show a progress bar (tables of more than 16,384 rows).
    **check_options
        ``suffix``, ``total_range``: see :func:`minml.check_oxides`.

    Returns
    -------
    pandas.DataFrame
        On the caller's index: ``LV1``, ``LV2`` (the plotting plane), ``cluster`` (``-1``:
        noise, far from every cluster in the latent space), ``cluster_probability`` (membership strength, 0-1), ``cluster_mineral``
        (the majority training label of the cluster, for reporting; "" for noise),
        ``reconstruction_error`` (wt%, root mean square over the oxides), ``flag`` (the
        reader's flags).  Rows without usable values, and rows that are no analysis (empty
        rows, fractions, column shifts), get NaN and cluster ``-1``; bad analyses (totals
        outside the range) are placed, with their flag, and are seldom rebuilt well.

    Examples
    --------
    >>> import pandas as pd
    >>> olivine = pd.DataFrame({"SiO2": [40.5], "TiO2": [0.0], "Al2O3": [0.03], "FeOt": [9.6],
    ...     "MnO": [0.14], "MgO": [49.3], "CaO": [0.1], "Na2O": [0.0], "K2O": [0.0],
    ...     "Cr2O3": [0.02], "P2O5": [0.0]})
    >>> latent(olivine)["cluster_mineral"].tolist()
    ['olivine']
    """
    if _dask.is_dask(df):
        return _dask.latent(df, model, fill_missing=fill_missing, **check_options)
    model, values, checked = _inputs(df, model, fill_missing, check_options)
    from minml._parallel import run_in_threads

    n = len(values)
    coords = np.full((n, model.points.shape[1]), np.nan, dtype=np.float32)
    error = np.full(n, np.nan, dtype=np.float32)
    usable = _usable(values, checked)

    def place(part):  # one chunk; chunks run on a few threads
        ok = usable[part]
        block = np.where(ok[:, None], values[part], 0.0)
        z = model.encode(block)
        rebuilt = model.decode(z)
        rebuilt -= block
        coords[part] = np.where(ok[:, None], z, np.nan)
        error[part] = np.where(ok, np.sqrt((rebuilt * rebuilt).mean(axis=1)), np.nan)

    run_in_threads(
        place, [slice(start, start + _CHUNK) for start in range(0, n, _CHUNK)], progress=progress, desc="latent"
    )
    cluster, probability = model.assign(coords)
    names = np.append(np.asarray(model.cluster_names, dtype=object), "")
    shown = model.view(coords)
    return pd.DataFrame(
        {
            "LV1": shown[:, 0],
            "LV2": shown[:, 1],
            "cluster": cluster,
            "cluster_probability": probability,
            "cluster_mineral": pd.Categorical(names[cluster], categories=list(dict.fromkeys(names))),
            "reconstruction_error": error,
            "flag": checked.flags["flag"].to_numpy(dtype=object),
        },
        index=checked.index,
    )


def reconstruct(df, model: LatentModel | None = None, *, fill_missing=None, **check_options) -> pd.DataFrame:
    """The oxides as the autoencoder rebuilds them from the latent space (wt%) of a table
    (a DataFrame, or an OxideCheck: see :func:`latent`).

    Returns
    -------
    pandas.DataFrame
        One column per model oxide, on the caller's index; NaN for rows without usable values.
    """
    model, values, checked = _inputs(df, model, fill_missing, check_options)
    usable = _usable(values, checked)
    rebuilt = model.decode(model.encode(np.where(usable[:, None], values, 0.0)))
    rebuilt[~usable] = np.nan
    return pd.DataFrame(rebuilt, columns=list(model.oxides), index=checked.index)
