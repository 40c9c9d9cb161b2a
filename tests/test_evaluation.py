import numpy as np
import pandas as pd
import pytest

from minml.classifier.model import MineralClassifier
from minml.training.data import collect_training_set
from minml.training.evaluation import (
    expected_calibration_error,
    grouped_cv,
    lepr_class,
    lepr_correct,
    lepr_unsettled,
    nested_cv,
    training_arrays,
)

from .conftest import DATA


def test_ece_known_answers():
    # perfectly calibrated: 80 % confidence, 80 % right
    conf = np.full(10, 0.8)
    right = np.array([True] * 8 + [False] * 2)
    assert expected_calibration_error(conf, right) == pytest.approx(0.0)
    # always 100 % sure, half right: error 0.5
    assert expected_calibration_error(np.ones(4), np.array([True, False, True, False])) == pytest.approx(0.5)
    # two bins: (0.95, 1/2 right) and (0.55, all right): 0.5 * 0.45 + 0.5 * 0.45
    conf = np.array([0.95, 0.95, 0.55, 0.55])
    assert expected_calibration_error(conf, np.array([True, False, True, True])) == pytest.approx(0.45)


def test_lepr_protocol():
    labels = pd.Series(["Spinel", "Spinel", "FeTiOxide", "Tridymite", "KFeldspar", "Clinopyroxene", "Olivine"])
    pred = pd.Series(["magnetite", "ilmenite", "spinel", "quartz", "k-feldspar", "amphibole", "unknown"])
    assert lepr_correct(labels, pred).tolist() == [True, False, True, True, True, False, False]
    assert lepr_class(labels, pred).tolist() == [
        "magnetite",
        "magnetite",
        "spinel",
        "quartz",
        "k-feldspar",
        "clinopyroxene",
        "olivine",
    ]


def test_unsettled_lepr_rows_follow_their_rules():
    from minml import read_table
    from minml.chemistry.formulas import formula

    from .conftest import SHARED

    path = SHARED / "test" / "lepr_allphases_lim.csv"
    if not path.is_file():
        pytest.skip("shared data not found")
    lepr = read_table(path)
    reason = lepr_unsettled(lepr)
    hit = reason != ""
    # only the labels the rules read; every K2Si2O5-like "KFeldspar" and no real one
    assert set(lepr["Mineral"][hit]) == {"KFeldspar", "Clinopyroxene", "Garnet", "Olivine"}
    kfs = (lepr["Mineral"] == "KFeldspar").to_numpy()
    assert (hit[kfs] == (lepr["Al2O3"].fillna(0) < 1).to_numpy()[kfs]).all()
    assert hit[kfs].sum() == 158
    cpx = (lepr["Mineral"] == "Clinopyroxene").to_numpy()
    wo = formula(lepr[cpx], "clinopyroxene")["Wo"].to_numpy()
    assert (wo[hit[cpx]] < 5).all() and (np.nan_to_num(wo[~hit[cpx]], nan=50) >= 5).all()
    garnet = (lepr["Mineral"] == "Garnet").to_numpy()
    si = formula(lepr[garnet], "garnet")["Si"].to_numpy()
    assert (si[hit[garnet]] > 3.05).all() and 200 < hit[garnet].sum() < 400
    olivine = (lepr["Mineral"] == "Olivine").to_numpy()
    cations = formula(lepr[olivine], "olivine")["cation_sum"].to_numpy()
    assert (cations[hit[olivine]] > 3.05).all() and (np.nan_to_num(cations[~hit[olivine]]) <= 3.05).all()
    assert 100 < hit[olivine].sum() < 200  # 153; 61 of them with oxide sums of 88-105 wt% (the model card's rows)
    # the caller's frame is left alone; a table without those labels has nothing unsettled
    assert "reason" not in lepr.columns
    assert (lepr_unsettled(lepr[lepr["Mineral"] == "Plagioclase"]) == "").all()


def test_unsettled_olivine_rule_is_beyond_every_natural_olivine(shared_data):
    # the rule's reason quotes the training set: 21,497 natural olivines, at most 3.05 cations per 4 O
    from minml.chemistry.formulas import formula
    from minml.training.datasets import load_training
    from minml.training.evaluation import LEPR_UNSETTLED

    rule = next(r for r in LEPR_UNSETTLED if r.label == "Olivine")
    training, _ = load_training(shared_data)
    olivine = training[training["mineral"] == "olivine"]
    cations = formula(olivine, "olivine")["cation_sum"]
    assert f"{len(olivine):,} natural olivines" in rule.reason
    assert round(cations.max(), 2) == rule.above and f"reach {rule.above:g}" in rule.reason
    assert cations.quantile(0.9999) < rule.above


def test_model_card_accounts_for_the_unsettled_rows_and_the_bound_they_set():
    from minml import read_table
    from minml.training.card import _unsettled_section, unsettled_results
    from minml.training.shipped import lepr_results

    from .conftest import SHARED

    if not (SHARED / "test" / "lepr_allphases_lim.csv").is_file():
        pytest.skip("shared data not found")
    lepr = lepr_results(None, SHARED)
    rows = lepr["unsettled"]
    section = _unsettled_section(
        {**{k: v for k, v in lepr.items() if k != "unsettled"}, "unsettled": unsettled_results(lepr)}
    )
    lines = section.splitlines()
    for label, count in rows["label"].value_counts().items():
        line = next(line for line in lines if line.startswith(f"| {label} |"))
        assert f"| {count} |" in line
    # the bound: these rows as answered, every other row right
    wrong = int((~rows["right"]).sum())
    confident = int((~rows["right"] & (rows["probability"] >= 0.9)).sum())
    assert 0 < confident < wrong < len(rows) < lepr["rows_88_105"]
    best = 1 - wrong / lepr["rows_88_105"]
    assert f"accuracy would be at most {best:.4f}" in section and best >= lepr["accuracy"]
    assert f"at least {confident / lepr['rows_88_105']:.4f}" in section
    assert confident / lepr["rows_88_105"] <= lepr["wrong_at_0.9"]
    assert len(read_table(SHARED / "test" / "lepr_allphases_lim.csv")) == lepr["rows"]


@pytest.fixture(scope="module")
def arrays():
    table, _ = collect_training_set(DATA / "training")
    table["source"] = table["source"].fillna(table["source_file"])
    return training_arrays(table)


def test_nested_cv_reports_per_class_mean_and_sd(arrays):
    X, y, _ = arrays
    keep = pd.Series(y).map(pd.Series(y).value_counts()) >= 6  # classes with enough rows for 3 folds
    model = MineralClassifier(kind="gda", gda_reg=0.5)
    result = nested_cv(model, X[keep], y[keep], {"gda_reg": [1e-3, 1e-1]}, outer=3, inner=2)
    assert model.gda_reg == 0.5  # the caller's estimator keeps its parameters
    assert result["per_class"].columns.tolist()[:2] == [("precision", "mean"), ("precision", "std")]
    assert len(result["chosen"]) == 3 and all(c["gda_reg"] in (1e-3, 1e-1) for c in result["chosen"])
    assert 0.8 < result["accuracy"][0] <= 1.0 and result["accuracy"][1] >= 0


def test_grouped_cv_keeps_sources_apart(arrays):
    X, y, groups = arrays
    keep = pd.Series(groups).map(pd.Series(groups).value_counts()) >= 6  # sources with enough rows
    X, y, groups = X[keep], y[keep], groups[keep]
    result = grouped_cv(MineralClassifier(kind="gda"), X, y, groups, folds=3)
    assert 0 <= result["accuracy"] <= 1
    assert set(result["per_class"].index) == set(y)
    assert set(result["confusions"].index.names) == {"label", "predicted", "source"}


def test_extra_rows_train_but_are_never_tested(arrays):
    X, y, groups = arrays
    keep = pd.Series(groups).map(pd.Series(groups).value_counts()) >= 6
    X, y, groups = X[keep], y[keep], groups[keep]
    from minml.training.augment import synthetic_analyses

    extra_X = synthetic_analyses("garnet", 50, random_state=0).to_numpy(np.float32)
    extra = (extra_X, np.full(50, "garnet", dtype=object))
    result = grouped_cv(MineralClassifier(kind="gda"), X, y, groups, folds=3, extra=extra)
    assert result["per_class"]["support"].sum() == len(y)  # only natural rows are scored


def test_lepr_protocol_is_data_naming_known_classes():
    # lepr.toml names classes of minerals.toml only: a new class is added there and in lepr.toml, not in code
    from minml.chemistry.minerals import class_groups
    from minml.training.evaluation import LEPR_ACCEPT, LEPR_SAME_COMPOSITION, LEPR_UNSETTLED, lepr_groups

    known = set(class_groups())
    assert set().union(*LEPR_ACCEPT.values()) <= known
    assert set(LEPR_SAME_COMPOSITION.values()) <= known
    assert not set(LEPR_SAME_COMPOSITION) & set(LEPR_ACCEPT)
    assert all(rule.label in LEPR_ACCEPT and (rule.below is None) != (rule.above is None) for rule in LEPR_UNSETTLED)
    assert all(rule.basis is None or rule.basis in known for rule in LEPR_UNSETTLED)
    groups = lepr_groups()  # one group per label where its classes share one; FeTiOxide spans two
    assert groups["Spinel"] == "spinel group" and groups["Tridymite"] == "silica" and "FeTiOxide" not in groups


def test_grouped_prediction_sets_are_those_of_the_grouped_folds():
    # the model card's table: cross-conformal sets on grouped_cv's held-out probabilities, its folds
    from minml.classifier.calibration import prediction_set_table
    from minml.classifier.model import MineralClassifier
    from minml.training.evaluation import grouped_cv, training_arrays
    from minml.training.shipped import grouped_prediction_sets

    table, _ = collect_training_set(DATA / "screen")
    X, y, groups = training_arrays(table.assign(source=table["source"].fillna(table["source_file"])))
    grouped = grouped_cv(MineralClassifier(kind="gda"), X, y, groups, folds=4)
    sets = grouped_prediction_sets(grouped, y, groups, 4)
    assert sets.loc["all", "rows"] == len(y) and set(sets.index) == {*np.unique(y), "all"}
    assert 0.9 <= sets.loc["all", "coverage_95"] <= 1.0 and sets["size_99"].min() >= 1.0
    from sklearn.model_selection import GroupKFold

    fold = np.zeros(len(y), int)  # grouped_cv's folds: GroupKFold by source
    for k, (_, test) in enumerate(GroupKFold(4).split(X, y, groups)):
        fold[test] = k
    again = prediction_set_table(grouped["proba"], np.searchsorted(grouped["classes"], y), fold, grouped["classes"])
    pd.testing.assert_frame_equal(again, sets)
