import numpy as np
import pandas as pd
import pytest

from minml import classify, read_table
from minml.classifier.features import MODEL_OXIDES
from minml.training.data import collect_training_set
from minml.unsupervised.latent import LatentModel, latent, load_default_latent, reconstruct

from .conftest import DATA, EXAMPLE, leaves_global_rng_alone, run_without_torch

COLUMNS = ["LV1", "LV2", "cluster", "cluster_probability", "cluster_mineral", "reconstruction_error", "flag"]
SMALL = {
    "hidden": (32, 16),
    "epochs": 150,
    "batch_size": 32,
    "min_cluster_fraction": 0.04,
    "min_samples": 5,
    "random_state": 1,
}


@pytest.fixture(scope="module")
def small():
    """The cleaned fixture compilations: ~230 real analyses of the 17 minerals."""
    table, _ = collect_training_set(DATA / "training")
    return table[list(MODEL_OXIDES)].to_numpy(np.float32), table["mineral"].to_numpy()


@pytest.fixture(scope="module")
def fitted(small):
    from minml.training.latent_fit import fit_latent

    return fit_latent(*small, **SMALL)


@pytest.mark.train
def test_autoencoder_learns_the_fixture(fitted, small):
    X, y = small
    rebuilt = fitted.decode(fitted.encode(X))
    baseline = np.abs(X - X.mean(axis=0)).mean()
    assert np.abs(rebuilt - X).mean() < 0.3 * baseline  # far better than the mean analysis
    assert fitted.n_clusters >= 3
    assert set(fitted.cluster_names) <= set(y)
    cluster, _ = fitted.assign(fitted.encode(X))
    # the clusters are no label's business, yet each holds mostly one mineral
    table = pd.crosstab(cluster[cluster >= 0], y[cluster >= 0])
    assert (table.max(axis=1) / table.sum(axis=1)).mean() > 0.7


@pytest.mark.train
def test_fit_is_deterministic_and_leaves_global_state(small):
    from minml.training.latent_fit import fit_latent

    X, _ = small
    params = {**SMALL, "epochs": 5}
    with leaves_global_rng_alone():
        a, b = fit_latent(X, **params), fit_latent(X, **params)
    for (Wa, ba), (Wb, bb) in zip(a.encoder + a.decoder, b.encoder + b.decoder, strict=True):
        np.testing.assert_array_equal(Wa, Wb)
        np.testing.assert_array_equal(ba, bb)
    np.testing.assert_array_equal(a.point_cluster, b.point_cluster)
    assert set(a.cluster_names) == {""}  # no labels given: clusters stay unnamed


@pytest.mark.train
def test_save_load_round_trip(fitted, small, tmp_path):
    X, _ = small
    path = fitted.save(tmp_path / "latent.npz")
    loaded = LatentModel.load(path)
    table = pd.DataFrame(X[:50], columns=list(MODEL_OXIDES))
    pd.testing.assert_frame_equal(latent(table, loaded), latent(table, fitted), atol=1e-3)
    assert loaded.info["hidden"] == list(SMALL["hidden"])
    with np.load(path) as f:
        assert f["points"].dtype == np.float32  # plain arrays, no pickle


@pytest.mark.train
def test_wider_latent_space_is_shown_on_its_principal_axes(small, tmp_path):
    from minml.training.latent_fit import fit_latent

    X, y = small
    model = fit_latent(X, y, **{**SMALL, "latent": 3})
    assert model.points.shape[1] == 3 and model.view_axes.shape == (3, 2)
    np.testing.assert_allclose(model.view_axes.T @ model.view_axes, np.eye(2), atol=1e-5)  # orthonormal
    table = pd.DataFrame(X[:20], columns=list(MODEL_OXIDES))
    placed = latent(table, model)
    np.testing.assert_allclose(placed[["LV1", "LV2"]].to_numpy(), model.view(model.encode(X[:20])), rtol=1e-5)
    spread = model.view(model.encode(X)).var(axis=0)
    assert spread[0] >= spread[1]  # the first axis carries the most variance
    loaded = LatentModel.load(model.save(tmp_path / "m3.npz"))
    pd.testing.assert_frame_equal(latent(table, loaded), placed, atol=1e-3)  # probabilities kept as float16


@pytest.mark.train
def test_latent_takes_a_model_by_its_path(fitted, tmp_path):
    table = read_table(EXAMPLE)
    path = fitted.save(tmp_path / "mine.npz")
    loaded = LatentModel.load(path)
    pd.testing.assert_frame_equal(latent(table, str(path)), latent(table, loaded))
    pd.testing.assert_frame_equal(reconstruct(table, path), reconstruct(table, loaded))
    with pytest.raises(TypeError, match="model must be a LatentModel or the path of a model .npz; got int"):
        latent(table, 42)


@pytest.mark.train
def test_schema_1_files_still_load(fitted, small, tmp_path):
    path = fitted.save(tmp_path / "v2.npz")
    with np.load(path) as f:
        arrays = {k: f[k] for k in f.files if k not in ("view_mean", "view_axes")}
    arrays["schema_version"] = np.array(1)
    np.savez(tmp_path / "v1.npz", **arrays)
    old = LatentModel.load(tmp_path / "v1.npz")
    np.testing.assert_array_equal(old.view_axes, np.eye(2))  # a 2-D latent space is its own plane
    table = pd.DataFrame(small[0][:10], columns=list(MODEL_OXIDES))
    pd.testing.assert_frame_equal(latent(table, old), latent(table, fitted), atol=1e-3)
    arrays["schema_version"] = np.array(9)
    np.savez(tmp_path / "v9.npz", **arrays)
    with pytest.raises(ValueError, match="schema version 9"):
        LatentModel.load(tmp_path / "v9.npz")


@pytest.mark.train
def test_fit_refuses_bad_arrays(small):
    from minml.training.latent_fit import fit_latent

    X, _ = small
    with pytest.raises(ValueError, match="shape"):
        fit_latent(X[:, :5])
    broken = X.copy()
    broken[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        fit_latent(broken)


@pytest.mark.train
def test_cross_validation_and_card_section(small, shared_data):
    import json

    from minml._resources import data_path
    from minml.training.card import _latent_section, latent_card_results
    from minml.training.latent_fit import cross_validate_latent, lepr_latent_results

    X, y = small
    keep = (pd.Series(y).map(pd.Series(y).value_counts()) >= 4).to_numpy()  # stratified folds need a few of each
    result = cross_validate_latent(X[keep], y[keep], folds=2, **{**SMALL, "epochs": 60})
    scores = result["scores"]
    assert len(scores) == 4 and set(scores["truth"]) == {"mineral", "group"}
    assert scores["ari"].between(-1, 1).all() and scores["nmi"].between(0, 1).all()
    assert (scores["ari_named"] > 0.2).all()  # clusters carry mineral information on held-out rows
    assert result["reconstruction"].loc["all majors", "major_rows"] == (X[keep] >= 1).sum()

    lepr = lepr_latent_results(load_default_latent(), shared_data)
    assert lepr["rows"] > 10_000 and 0 <= lepr["noise"] < 0.2
    assert lepr["scores"]["ari_named"] > 0.6  # the shipped clusters, named, follow LEPR's mineral groups
    assert lepr["anomaly_auc"]["reconstruction_error"] > 0.8  # foreign phases are rebuilt worse
    meta = json.loads(data_path("latent-v1.json").read_text())
    lines = _latent_section(latent_card_results({"cv": result, "lepr": lepr, "meta": meta})).splitlines()
    assert lines[0].startswith("## Latent space") and any(line.startswith("| mineral |") for line in lines)
    assert sum(line.startswith("| SiO2 |") for line in lines) == 1


def test_shipped_model_places_real_analyses():
    table = read_table(EXAMPLE)
    before = table.copy()
    result = latent(table)
    pd.testing.assert_frame_equal(table, before)  # the caller's table is untouched
    assert list(result.columns) == COLUMNS and result.index.equals(table.index)
    assert result["cluster_probability"].between(0, 1).all()
    named = classify(table)
    # the clusters were found without labels; named afterwards, they agree with the classifier
    from minml.chemistry.minerals import class_groups

    groups = class_groups()
    both = (result["cluster"] >= 0) & (named["mineral"] != "unknown")
    agree = [groups[c] == groups[m] for c, m in zip(result["cluster_mineral"][both], named["mineral"][both])]
    assert both.sum() > 40 and np.mean(agree) > 0.85
    olivine = (table["Mineral"] == "Olivine").to_numpy() & (result["flag"] == "").to_numpy()
    assert (result["cluster_mineral"][olivine] == "olivine").all()
    # empty rows and fractions are no analyses: not placed
    no_analysis = result["flag"].str.contains("empty row|fractions")
    assert no_analysis.sum() == 5 and result.loc[no_analysis, "LV1"].isna().all()
    assert (result.loc[no_analysis, "cluster"] == -1).all()


def test_latent_is_deterministic_and_runs_without_torch():
    code = (
        "import minml\n"
        "from minml.unsupervised.latent import latent\n"
        "print(latent(minml.read_table(sys.argv[1]))['LV1'].round(4).tolist()[:3], 'torch' in sys.modules)\n"
    )
    runs = [run_without_torch(code, EXAMPLE) for _ in range(2)]
    assert runs[0] == runs[1] and runs[0].strip().endswith("False")


def test_bad_rows_are_flagged_not_guessed():
    table = read_table(EXAMPLE).head(4).copy()
    table["SiO2"] = table["SiO2"].astype(object)
    table.loc[table.index[1], "SiO2"] = "n.d.x"  # unreadable
    table.loc[table.index[2], list(MODEL_OXIDES[:3])] = [5.0, 0.0, 0.0]  # sum far too low
    result = latent(table)
    assert np.isnan(result["LV1"].iloc[1]) and result["cluster"].iloc[1] == -1
    assert result["cluster_probability"].iloc[1] == 0 and "SiO2" in result["flag"].iloc[1]
    assert "total" in result["flag"].iloc[2]
    assert result["flag"].iloc[0] == ""
    # a bad analysis is placed, but the autoencoder cannot rebuild it: many times the typical
    # error of the example's analyses (some odd LEPR amphiboles are off by a few wt% too)
    typical = latent(read_table(EXAMPLE))["reconstruction_error"].median()
    assert result["reconstruction_error"].iloc[2] > 10 * typical


def test_missing_columns_and_empty_table():
    table = read_table(EXAMPLE).drop(columns=["P2O5"])
    with pytest.warns(UserWarning, match=r"No column for P2O5: not analysed, read as 0 in every row"):
        assert len(latent(table)) == len(table)  # a minor oxide without a column is not analysed
    with pytest.raises(ValueError, match=r"(?s)latent model.*Missing: \['MgO'\].*fill_missing=0.0"):
        latent(read_table(EXAMPLE).drop(columns=["MgO"]))
    assert len(latent(table, fill_missing=0.0)) == len(table)
    empty = latent(read_table(EXAMPLE).iloc[:0])
    assert list(empty.columns) == COLUMNS and len(empty) == 0


def test_far_away_points_are_noise():
    model = load_default_latent()
    inside = model.points[:3]
    far = np.full((2, model.points.shape[1]), 1e3, dtype=np.float32)
    far[1, 0] = np.nan
    cluster, probability = model.assign(np.vstack([inside, far]))
    np.testing.assert_array_equal(cluster[:3], model.point_cluster[:3])
    assert list(cluster[3:]) == [-1, -1] and (probability[3:] == 0).all()


def test_reconstruct_gives_wt_percent_close_to_the_analysis():
    table = read_table(EXAMPLE)
    rebuilt = reconstruct(table)
    assert list(rebuilt.columns) == list(MODEL_OXIDES) and rebuilt.index.equals(table.index)
    assert np.nanmedian(np.abs(rebuilt["SiO2"] - table["SiO2"])) < 3.0


def test_reconstruction_error_scores_phases_outside_the_classes_higher(shared_data):
    everything = read_table(shared_data / "test" / "lepr_allphases.csv")
    error = latent(everything, fill_missing=0.0)["reconstruction_error"]
    label = everything["Mineral"]
    foreign = error[label.isin(["Nepheline", "Leucite", "Melilite", "Kyanite", "Corundum"])].median()
    assert foreign > 2 * error[label.isin(["Olivine", "Orthopyroxene", "Plagioclase"])].median()


def test_plots_return_axes_and_write_files(tmp_path):
    pytest.importorskip("matplotlib")
    from minml.plot import latent_space, reconstruction, save_figure

    table = read_table(EXAMPLE)
    result = latent(table)
    ax = latent_space(result)
    assert ax.get_xlabel().startswith("LV1") and ax.get_legend() is not None
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert sum(int(t.rsplit("(", 1)[1].rstrip(")")) for t in labels) == len(table)  # counts add up
    shown = result.assign(probability=classify(table)["probability"])
    ax = latent_space(shown, "probability", model=False)
    assert ax.collections and ax.figure.axes[-1].get_ylabel() == "probability"  # colour bar
    written = save_figure(ax, tmp_path / "latent.png")
    assert all(p.stat().st_size > 1000 for p in written) and {p.suffix for p in written} == {".png", ".svg"}
    axes = reconstruction(table, reconstruct(table))
    assert axes[0].get_title().startswith("SiO2: median |error|")
    assert axes[0].get_xlabel() == "measured (wt%)"
    assert axes[0].collections[0].get_sizes()[0] == 30.0  # 76 analyses drawn large enough to see


def test_point_size_shrinks_with_the_number_of_points():
    from minml.plot import _point_size

    sizes = [_point_size(n) for n in (0, 76, 1_000, 10_000, 1_000_000)]
    assert sizes[:2] == [30.0, 30.0] and sizes[-1] == 4.0  # LEPR's 14,909 rows: 4, as before
    assert sizes[1] > sizes[2] > sizes[3] > sizes[4]
