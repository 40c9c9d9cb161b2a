import re
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils.estimator_checks import check_estimator

from minml import classify, read_table
from minml.classifier._runtime import Runtime
from minml.classifier.features import MODEL_OXIDES
from minml.classifier.model import SCHEMA_VERSION, MineralClassifier
from minml.classifier.predict import classify_checked, load_default
from minml.training.data import collect_training_set
from minml.training.evaluation import lepr_correct

from .conftest import DATA, EXAMPLE, leaves_global_rng_alone, run_without_torch

OUTPUT_COLUMNS = [
    "mineral",
    "group",
    "probability",
    "uncertainty",
    "second_mineral",
    "second_probability",
    "ood_score",
    "flag",
]


@pytest.fixture(scope="module")
def small():
    """The cleaned fixture compilations: ~230 real analyses of the 17 minerals."""
    table, _ = collect_training_set(DATA / "training")
    return table[list(MODEL_OXIDES)], table["mineral"].to_numpy()


@pytest.fixture(scope="module")
def fitted(small):
    X, y = small
    return MineralClassifier(hidden=(16, 16), epochs=60, batch_size=64, random_state=3).fit(X, y)


@pytest.mark.train
def test_bnn_learns_the_fixture(fitted, small):
    X, y = small
    assert (fitted.predict(X) == y).mean() > 0.95
    assert list(fitted.classes_) == sorted(set(y))
    proba = fitted.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-5)


@pytest.mark.train
def test_training_is_deterministic_and_leaves_global_state(small):
    X, y = small
    with leaves_global_rng_alone():
        a = MineralClassifier(hidden=(8,), epochs=5, batch_size=64, random_state=7).fit(X, y)
        b = MineralClassifier(hidden=(8,), epochs=5, batch_size=64, random_state=7).fit(X, y)
    for key in a.params_:
        np.testing.assert_array_equal(a.params_[key], b.params_[key])


@pytest.mark.train
def test_monte_carlo_is_deterministic_and_close_to_analytic(fitted, small):
    X, _ = small
    mc = clone(fitted).set_params(samples=200)
    mc.__dict__.update({k: v for k, v in fitted.__dict__.items() if k.endswith("_")})
    p1, p2 = mc.predict_proba(X), mc.predict_proba(X)
    np.testing.assert_array_equal(p1, p2)
    analytic = fitted.predict_proba(X)
    assert (p1.argmax(1) == analytic.argmax(1)).mean() > 0.97
    assert np.abs(p1 - analytic).max() < 0.2


@pytest.mark.train
def test_numpy_inference_matches_torch(fitted, small):
    """The analytic predictive, computed again in torch from the same posterior."""
    import torch

    Z = torch.as_tensor(fitted._scaled(small[0].to_numpy(np.float32)))
    p = {k: torch.as_tensor(v) for k, v in fitted.params_.items() if k[0] in "Wb"}
    h = Z
    for i in range(2):
        h = torch.relu(h @ p[f"W{i}_mu"] + p[f"b{i}_mu"])
    mean = h @ p["W2_mu"] + p["b2_mu"]
    var = (h**2) @ p["W2_var"] + p["b2_var"]
    expected = torch.softmax(mean / torch.sqrt(1 + torch.pi * var / 8), dim=1).numpy()
    np.testing.assert_allclose(fitted.predict_proba(small[0]), expected, atol=1e-5)


@pytest.mark.train
def test_save_load_round_trip(fitted, small, tmp_path):
    path = fitted.save(tmp_path / "m.npz")
    back = MineralClassifier.load(path)
    np.testing.assert_array_equal(back.predict_proba(small[0]), fitted.predict_proba(small[0]))
    np.testing.assert_array_equal(back.score_samples(small[0]), fitted.score_samples(small[0]))
    assert back.ood_threshold_ == fitted.ood_threshold_ and list(back.groups_) == list(fitted.groups_)
    with np.load(path, allow_pickle=False) as data:  # readable without pickle
        assert int(data["schema_version"]) == SCHEMA_VERSION
    # the numpy runtime read from the file classifies exactly as the estimator
    lepr = read_table(EXAMPLE)
    pd.testing.assert_frame_equal(classify(lepr, fitted), classify(lepr, Runtime.load(path)))


def test_load_refuses_other_schema_and_missing_file(small, tmp_path):
    X, y = small
    model = MineralClassifier(kind="gda").fit(X, y)
    path = model.save(tmp_path / "m.npz")
    with np.load(path) as data:
        arrays = dict(data)
    arrays["schema_version"] = np.array(99)
    np.savez(tmp_path / "old.npz", **arrays)
    with pytest.raises(ValueError, match="schema version 99; this MIN-ML reads versions 1, 2"):
        MineralClassifier.load(tmp_path / "old.npz")
    with pytest.raises(FileNotFoundError, match="No MIN-ML classifier model file"):
        MineralClassifier.load(tmp_path / "none.npz")


def test_gda_baseline(small):
    X, y = small
    gda = MineralClassifier(kind="gda").fit(X, y)
    assert (gda.predict(X) == y).mean() > 0.95
    # the outlier score: real analyses score higher (less abnormal) than a glass or a zero row
    glass = pd.DataFrame([[50.0, 1.6, 14.0, 11.5, 0.2, 7.2, 11.9, 2.3, 0.3, 0.0, 0.2]], columns=list(MODEL_OXIDES))
    assert gda.score_samples(glass)[0] < np.median(gda.score_samples(X))


def test_misfit_thresholds_see_nickel_as_the_classifier_does():
    from minml.chemistry.misfit import fold_divalent

    table, _ = collect_training_set(DATA / "training")
    y = table["mineral"].to_numpy()
    assert table["NiO"].fillna(0).gt(0).any()  # the fixture's olivines carry NiO
    from_table = MineralClassifier(kind="gda").fit(table, y)  # folds its own NiO, CoO, ZnO
    X = table[list(MODEL_OXIDES)].to_numpy(np.float32)
    folded = MineralClassifier(kind="gda").fit(X, y, misfit_values=fold_divalent(X, MODEL_OXIDES, table))
    plain = MineralClassifier(kind="gda").fit(X, y)
    np.testing.assert_allclose(from_table.misfit_threshold_, folded.misfit_threshold_)
    olivine = list(plain.classes_).index("olivine")
    assert folded.misfit_threshold_[olivine] != plain.misfit_threshold_[olivine]
    with pytest.raises(ValueError, match="misfit_values has shape"):
        MineralClassifier(kind="gda").fit(X, y, misfit_values=X[:, :5])


def test_scikit_learn_contract_gda():
    check_estimator(
        MineralClassifier(kind="gda"),
        expected_failed_checks={
            "check_class_weight_classifiers": "class weights act on the network's likelihood, not on GDA",
        },
        on_skip=None,
    )


def test_clone_and_pipeline(small):
    X, y = small
    model = MineralClassifier(kind="gda", gda_reg=1e-2)
    assert clone(model).get_params() == model.get_params()
    pipe = make_pipeline(FunctionTransformer(lambda d: d.to_numpy(np.float32)), MineralClassifier(kind="gda"))
    assert (pipe.fit(X, y).predict(X) == y).mean() > 0.95


def test_bad_inputs(small):
    X, y = small
    with pytest.raises(ValueError, match="kind must be 'bnn' or 'gda'"):
        MineralClassifier(kind="svm").fit(X, y)
    with pytest.raises(ValueError, match="y has 1 class"):
        MineralClassifier(kind="gda").fit(X, np.full(len(y), "olivine"))
    broken = X.astype(object)
    broken.iloc[3, 0] = "abc"
    with pytest.raises(ValueError, match="1 training rows have unusable values"):
        MineralClassifier(kind="gda").fit(broken, y)
    with pytest.raises(ValueError, match="class_weight must be"):
        MineralClassifier(class_weight="heavy").fit(X, y)
    unlabelled = y.astype(object)
    unlabelled[[5, 9]] = [None, np.nan]  # was TypeError: '<' not supported between 'str' and 'float'
    with pytest.raises(ValueError, match="y has 2 missing labels .*, first at position 5; .* drop those rows"):
        MineralClassifier(kind="gda").fit(X, unlabelled)
    lonely = y.copy()
    lonely[7] = "perovskite"  # was "Class index 12 has 1 rows", naming no class
    with pytest.raises(ValueError, match="Class 'perovskite' has one analysis; a class needs at least 2"):
        MineralClassifier(kind="gda").fit(X, lonely)


# ---- classify with the shipped model ----


def test_classify_shipped_model_on_real_lepr_rows():
    lepr = read_table(EXAMPLE)
    before = lepr.copy(deep=True)
    result = classify(lepr)
    pd.testing.assert_frame_equal(lepr, before)
    assert list(result.columns) == OUTPUT_COLUMNS and result.index.equals(lepr.index)
    total = lepr.drop(columns=["entity_id", "Mineral", "method"]).fillna(0).sum(axis=1)
    sensible = total.between(95, 102)
    right = lepr_correct(lepr["Mineral"], result["mineral"])
    assert right[sensible].mean() >= 0.85  # the seed model's level on LEPR; the next issue raises it
    # empty rows, fractions and impossible values are no analyses; oxide sums outside 88-105 wt% are
    # bad analyses: all "unknown", with the reader's reason
    empty, fractions, impossible = total == 0, total.between(0.8, 1.2), lepr["SiO2"] > 104
    bad = result["flag"].str.contains("total outside 88-105")
    unknown = result["mineral"] == "unknown"
    assert (unknown[empty | fractions | impossible | bad]).all()
    assert bad.sum() >= 5 and (empty | fractions).sum() >= 2
    assert result.loc[empty, "flag"].str.startswith("empty row").all()
    assert result.loc[fractions, "flag"].str.startswith("fractions?").all()
    assert result.loc[impossible, "flag"].str.startswith("SiO2 over 100 wt%").all()
    # every other unknown is a row unlike the training data that its class's end-members do not explain
    others = unknown & ~(empty | fractions | impossible | bad)
    assert result.loc[others, "flag"].str.contains("unknown: unlike the training data").all()
    assert others.sum() <= 0.05 * sensible.sum()
    # bad analyses keep the network's answer as the second choice; no analysis at all has none
    assert (result.loc[bad & ~impossible, "second_mineral"] != "").all()
    assert (result.loc[empty | fractions, "second_mineral"] == "").all()
    assert result.loc[unknown, "probability"].isna().all()
    assert result.loc[~unknown, "probability"].between(0, 1).all()
    assert (result.loc[~unknown, "second_probability"] <= result.loc[~unknown, "probability"]).all()
    assert result["uncertainty"].dropna().between(0, 1).all()
    assert (result.loc[total > 105, "flag"] != "").all()


def test_ood_score_is_the_density_in_float32_judged_against_the_exact_threshold():
    import dataclasses

    lepr = read_table(EXAMPLE)
    model = load_default()
    result = classify(lepr, model)
    assert result["ood_score"].dtype == np.float32  # as computed: no digits the density does not have
    ood = result["ood_score"].to_numpy()
    row = int(np.nanargmax(np.where(result["flag"] == "", ood, -np.inf)))  # the least typical accepted row
    # a threshold a hair below the row's score, the same number in float32: a float32 comparison
    # would not see the row as above it
    threshold = np.nextafter(np.float64(ood[row]), -np.inf)
    assert np.float32(threshold) == ood[row]
    judged = classify(lepr, dataclasses.replace(model, ood_threshold=float(threshold)))  # the same batch:
    assert judged["ood_score"].iloc[row] == ood[row]  # float32 products differ in the last bit between batches
    assert "above" in judged["flag"].iloc[row]


def test_phases_outside_the_classes_are_unknown(shared_data):
    table = read_table(shared_data / "test" / "lepr_allphases.csv")
    phases = ["Nepheline", "Leucite", "Kalsilite", "Corundum", "Kyanite", "Perovskite", "Melilite"]
    result = classify(table[table["Mineral"].isin(phases)])
    share = (result["mineral"] == "unknown").groupby(table["Mineral"]).mean()
    assert (share >= 0.8).all(), share
    rejected = result.loc[result["mineral"] == "unknown", "flag"]
    # a physical reason: the class's end-members do not explain it, or its formula's sums do not
    # hold it and a phase outside the classes explains it
    misfit = rejected.str.contains(r"no [a-z-]+ \(misfit \d+\.\d wt%")
    sums = rejected.str.contains(r"no [a-z-]+: .+, and [a-z|-]+ explains it \(misfit \d+\.\d wt%\)")
    assert (misfit | sums).mean() > 0.9 and misfit.any()


def test_coverage_gives_prediction_sets_that_hold_the_answer():
    lepr = read_table(EXAMPLE)
    result = classify(lepr, coverage=0.95)
    named = result["mineral"] != "unknown"
    sets = result.loc[named, "prediction_set"].str.split("|")
    # the top class first, then others by probability; never a class twice
    assert all(len(s) == len(set(s)) for s in sets)
    assert [s[0] for s in sets] == result.loc[named, "mineral"].astype(str).tolist()
    assert (result.loc[~named, "prediction_set"] == "").all()
    wide = classify(lepr, coverage=0.999)["prediction_set"].str.count(r"\|")
    assert wide.sum() >= result["prediction_set"].str.count(r"\|").sum()
    with pytest.raises(ValueError, match="coverage must lie between 0 and 1"):
        classify(lepr, coverage=95)


def test_classify_takes_a_model_by_its_path(tmp_path):
    from pathlib import Path

    from minml._resources import data_path

    table = read_table(EXAMPLE)
    shipped = classify(table)
    for path in (str(data_path("default-v1.npz")), Path(str(data_path("default-v1.npz")))):
        pd.testing.assert_frame_equal(classify(table, model=path), shipped)
    with pytest.raises(FileNotFoundError, match="No MIN-ML classifier model file '.*none.npz'"):
        classify(table, model=tmp_path / "none.npz")
    with pytest.raises(
        TypeError, match="model must be a fitted MineralClassifier, a Runtime or the path of a model .npz; got dict"
    ):
        classify(table, model={"kind": "bnn"})


def test_classify_needs_the_major_oxides_only():
    lepr = read_table(EXAMPLE).rename(columns={"SiO2": "Si02"})
    advice = (
        r"Oxide columns do not match the shipped model.\n"
        r"Missing: \['SiO2'\]; the table has 'Si02', which looks like SiO2 but is not read as it.\n"
        r"Rename 'Si02' to 'SiO2' in the table's header"
    )
    with pytest.raises(ValueError, match=advice):
        classify(lepr)
    with pytest.raises(ValueError, match=advice):  # filling would read SiO2 as 0 and leave 'Si02' unread
        classify(lepr, fill_missing=0.0)
    # the advice, followed, classifies the table as it was
    renamed = classify(lepr.rename(columns={"Si02": "SiO2"}))
    assert renamed["mineral"].tolist() == classify(read_table(EXAMPLE))["mineral"].tolist()
    lepr = read_table(EXAMPLE).drop(columns=["SiO2"])
    with pytest.raises(
        ValueError,
        match=r"Oxide columns do not match the shipped model.\n"
        r"Missing: \['SiO2'\]\n"
        r"A table needs at least the major oxides SiO2, Al2O3, FeOt, MgO, CaO .*pass fill_missing=0.0",
    ):
        classify(lepr)
    # an absent minor oxide is not analysed: named once, in a warning, and per row in the notes
    full = read_table(EXAMPLE)
    ok = full.drop(columns=["Cr2O3", "P2O5"])
    with pytest.warns(UserWarning, match=r"No column for Cr2O3, P2O5: not analysed; the model's input completed"):
        result, _, checked = classify_checked(ok, notes=True)
    assert list(checked.absent) == ["Cr2O3", "P2O5"]
    assert checked.flags["notes"].str.contains("no column, not analysed; the model's input completed").all()
    same = (result["mineral"] == classify(full)["mineral"]).mean()
    assert same >= 0.95, same
    assert len(classify(ok, fill_missing=0.0)) == len(ok)  # the explicit override, without a warning
    # the advice, followed, classifies a table without a major oxide, and says what filling it costs
    with pytest.warns(
        UserWarning, match=r"No column for the major oxide MgO: filled with 0 \(fill_missing\) in every row"
    ):
        assert len(classify(full.drop(columns=["MgO"]), fill_missing=0.0)) == len(full)
    for bad in (float("nan"), -5.0, 150.0, "0", True, [0.0]):
        with pytest.raises(
            ValueError,
            match=r"fill_missing must be an amount in wt% between 0 and 100 \(0.0: below "
            f"detection\\), got {re.escape(repr(bad))}",
        ):
            classify(ok, fill_missing=bad)
    assert classify(ok, fill_missing=0.01)["mineral"].tolist() == classify(ok, fill_missing=0)["mineral"].tolist()


def test_shipped_model_runs_without_torch_or_scikit_learn():
    code = (
        "import pandas as pd, minml\n"
        "table = minml.read_table(sys.argv[1])\n"
        "result = minml.classify(table)\n"
        "print(len(minml.classifier.predict.load_default().classes), result['mineral'].iloc[1],\n"
        "      any(m in sys.modules for m in ('torch', 'sklearn')))\n"
    )
    assert run_without_torch(code, EXAMPLE).split() == ["18", "amphibole", "False"]
    assert "glass" in load_default().classes


def test_shipped_calibration_temperature_in_the_logits_equals_the_generic_one():
    from minml.classifier.calibration import apply_temperature
    from minml.classifier.predict import load_default

    model = load_default()
    assert model.calibration is not None and model.calibration.temperature != 1.0
    Z = np.random.default_rng(0).standard_normal((500, len(model.oxides))).astype(np.float32)
    np.testing.assert_allclose(
        model.calibrated_proba(Z), apply_temperature(model.proba(Z), model.calibration.temperature), atol=1e-5
    )


def test_tourmaline_without_boron_is_still_tourmaline(shared_data):
    # EPMA cannot measure B: raw tourmaline analyses sum to ~85 wt%; with the nominal B2O3 and
    # H2O of minerals.toml they are sane, and the flag says so
    from minml.training.datasets import load_training

    training, _ = load_training(shared_data)
    raw = training.loc[training["mineral"] == "tourmaline", list(MODEL_OXIDES)].head(300)
    assert raw.sum(axis=1).lt(88).mean() > 0.9
    result = classify(raw)
    assert (result["mineral"] == "tourmaline").mean() > 0.97
    assert (
        result["flag"].str.match(r"oxide sum \d+\.\d wt%, \d+\.\d with the nominal H2O, B2O3 of tourmaline").mean()
        > 0.9
    )
    # a silicate summing to 85 wt% that is no tourmaline stays a bad analysis
    olivine = training.loc[training["mineral"] == "olivine", list(MODEL_OXIDES)].head(50) * 0.85
    assert (classify(olivine)["mineral"] == "unknown").all()


def test_a_class_that_needs_an_absent_oxide_says_so(shared_data):
    apatite = read_table(shared_data / "training" / "Apatite.xlsx").head(200).drop(columns=["P2O5"])
    with pytest.warns(UserWarning, match="No column for P2O5"):
        result = classify(apatite)
    named = result["mineral"] == "apatite"
    assert named.mean() > 0.9
    assert result.loc[named, "flag"].str.contains("P2O5 not analysed (no column): apatite is told", regex=False).all()
    # in a table of many minerals without P2O5, the rows named apatite are flagged, and only they
    mixed = read_table(EXAMPLE).drop(columns=["P2O5"])
    with pytest.warns(UserWarning, match="No column for P2O5"):
        result = classify(mixed)
    flagged = result["flag"].str.contains("P2O5 not analysed")
    assert flagged.tolist() == (result["mineral"] == "apatite").tolist() and 0 < flagged.sum() < len(mixed)


def test_an_element_column_of_iron_is_named_when_iron_is_absent():
    table = read_table(EXAMPLE).rename(columns={"FeOt": "Fe"})
    with pytest.raises(ValueError, match=r"Missing: \['FeOt'\].*\nIron: column 'Fe' names the element.*elements=True"):
        classify(table)
    with pytest.warns(UserWarning, match=r"No column for FeOt: filled with 0 \(fill_missing\).*elements=True"):
        classify(table, fill_missing=0.0)


def test_a_completion_counts_up_to_what_the_class_holds(shared_data):
    """Real LEPR rows that the completion of an absent column turned into whole analyses: an
    olivine without MgO (SiO2 40.8, FeOt 8.76) took 44 wt% MnO, an oxide of 26.8 wt% 68 wt%.
    Capped at what the predicted class's analyses hold (completion.toml) they stay bad analyses;
    an apatite analysed without P2O5 (its 41 wt% within the cap) is still accepted, and a row
    named for a completion of its essential oxide says so."""
    from minml.classifier._judge import completion_cap

    lepr = read_table(shared_data / "test" / "lepr_allphases_lim.csv")
    no_mgo, oxide, empty = lepr.iloc[[8121]], lepr.iloc[[10577]], lepr.iloc[[8415]]
    assert no_mgo["SiO2"].iloc[0] == 40.8 and abs(oxide["MnO"].iloc[0] - 65.93) < 1e-4 and empty["CaO"].iloc[0] == 0.02
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the absent column is named in a warning
        for row in (no_mgo, oxide):
            result = classify(row.drop(columns=["MnO"]))
            assert result["mineral"].tolist() == ["unknown"]
            assert (
                result["flag"].iloc[0].startswith("total outside 88-105") and "completion" not in result["flag"].iloc[0]
            )
        rutile = classify(empty.drop(columns=["TiO2"]))  # 0.02 wt% CaO and nothing else
        apatite = lepr[lepr["Mineral"] == "Apatite"].drop(columns=["P2O5"])
        result = classify(apatite)
    # within rutile's cap (a rutile without TiO2 is such a row): named, and the row says on what it rests
    assert rutile["mineral"].tolist() == ["rutile"]
    assert "TiO2 not analysed (no column): rutile is told from the other oxides alone" in rutile["flag"].iloc[0]
    completed = result["flag"].str.contains("with the model's completion of P2O5", regex=False)
    assert completed.sum() >= 50 and (result.loc[completed, "mineral"] == "apatite").all()
    cap = completion_cap(["apatite", "olivine", "a class of one's own"], ["P2O5", "MnO"])
    assert 41.5 < cap[0, 0] < 46 and cap[1, 1] < 1.0 and np.isinf(cap[2]).all()


def test_an_answer_that_depends_on_an_absent_column_says_so(shared_data):
    """LEPR without its Na2O column: where the classes the other oxides fit complete Na2O
    differently and are named differently (their mixture gives no class half its weight), the
    row keeps the completion's answer with the mixture's probabilities, and says so (naming the
    class the mixture holds highest beside it); rows whose completions agree carry no such note."""
    from minml.classifier._absent import AGREEMENT
    from minml.classifier.predict import classify_table
    from minml.tables.reasons import Reason

    lepr = read_table(shared_data / "test" / "lepr_allphases_lim.csv")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the absent column is named in a warning
        found = classify_table(lepr.drop(columns=["Na2O"]), coverage=0.9)
    result = found.frame()
    decided = (found.reasons & np.uint16(Reason.ABSENT_DECIDES)) != 0
    assert 0 < decided.sum() < 0.01 * len(lepr)
    noted = result.loc[decided]
    assert noted["flag"].str.contains("depends on Na2O (no column): completed as each class", regex=False).all()
    named = noted["mineral"] != "unknown"
    assert (noted.loc[named, "probability"] < AGREEMENT).all()
    assert (noted.loc[named, "second_probability"] < AGREEMENT).all()
    for _, row in noted.loc[named].head(20).iterrows():
        shown = f"{row['mineral']} {row['probability']:.2f}, {row['second_mineral']} {row['second_probability']:.2f}"
        assert shown in row["flag"]
    # the answers are the network's on the completed inputs, its probabilities not shown
    from minml.classifier.predict import load_default

    runtime = load_default()
    proba = runtime.calibrated_proba(runtime.scaled(found.values[decided]))[named.to_numpy()]
    assert (noted.loc[named, "mineral"].to_numpy() == np.asarray(runtime.classes)[proba.argmax(axis=1)]).all()
    # the probability shown is the mixture's for that class (the absent inputs are ignored by the
    # completion, so the completed rows give back the same mixture), not the network's
    from minml.classifier._absent import complete_absent

    mixture = complete_absent(runtime, found.values[decided], ["Na2O"]).mixture[named.to_numpy()]
    answered = np.searchsorted(np.asarray(runtime.classes), noted.loc[named, "mineral"].to_numpy())
    shown = noted.loc[named, "probability"].to_numpy()
    np.testing.assert_allclose(shown, mixture[np.arange(len(answered)), answered], atol=1e-5)
    assert (np.abs(shown - proba.max(axis=1)) > 0.01).mean() > 0.5
    # the set of a row the mixture splits holds more than its top class at 90 % coverage
    assert (noted.loc[named, "prediction_set"].str.count(r"\|") >= 1).mean() > 0.5
    # the note is the absent column's: the full table and an explicit fill carry none
    full = classify_table(lepr)
    assert not ((full.reasons & np.uint16(Reason.ABSENT_DECIDES)) != 0).any()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        filled = classify_table(lepr.drop(columns=["Na2O"]), fill_missing=0.0)
    assert not ((filled.reasons & np.uint16(Reason.ABSENT_DECIDES)) != 0).any()
