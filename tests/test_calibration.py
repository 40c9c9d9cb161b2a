import numpy as np
import pytest

from minml.classifier._overlap import OVERLAP_PROBABILITY
from minml.classifier.calibration import (
    Calibration,
    apply_temperature,
    cross_conformal_sets,
    expected_calibration_error,
    fit_temperature,
    prediction_set_table,
    prediction_sets,
    set_members,
    source_weights,
)


def _overconfident(n=20_000, seed=0):
    """Three classes; the model says 0.95 for its top class but is right 80 % of the time."""
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, 3, n)
    wrong = rng.random(n) >= 0.8
    top = np.where(wrong, (codes + rng.integers(1, 3, n)) % 3, codes)
    proba = np.full((n, 3), 0.025)
    proba[np.arange(n), top] = 0.95
    return proba, codes


def test_temperature_recovers_the_known_answer():
    proba, codes = _overconfident()
    t = fit_temperature(proba, codes)
    # calibrated top probability must be 0.8: 0.95^(1/T) / (0.95^(1/T) + 2 * 0.025^(1/T)) = 0.8
    expected = np.log(0.95 / 0.025) / np.log(0.8 / 0.1)
    assert t == pytest.approx(expected, rel=0.02)
    calibrated = apply_temperature(proba, t)
    assert calibrated.max(axis=1).mean() == pytest.approx(0.8, abs=0.01)
    right = proba.argmax(axis=1) == codes
    assert expected_calibration_error(proba.max(axis=1), right) == pytest.approx(0.15, abs=0.01)
    assert expected_calibration_error(calibrated.max(axis=1), right) < 0.01


def test_source_weights_let_each_source_count_once():
    """One large source where the model is right 99 % of the time at p 0.95, and ten small
    ones where it is right 80 %: weighing rows equally, the large source sharpens the
    temperature; weighing sources equally (a small source's row weighs 100 of the large one's) is the same
    fit as a hundred copies of each small source's rows."""
    easy, easy_codes = _overconfident(10_000, seed=4)
    easy[np.arange(len(easy)), easy_codes] = 0.95  # right 99 % of the time
    wrong = np.random.default_rng(5).random(len(easy)) < 0.01
    easy[wrong] = 0.025
    easy[wrong, (easy_codes[wrong] + 1) % 3] = 0.95
    hard, hard_codes = _overconfident(1_000, seed=6)
    proba, codes = np.vstack([easy, hard]), np.concatenate([easy_codes, hard_codes])
    groups = np.array(["big"] * 10_000 + [f"small{i % 10}" for i in range(1_000)])
    weights = source_weights(groups)
    assert weights[:10_000].sum() == pytest.approx(1.0) and weights[10_000:].sum() == pytest.approx(10.0)
    by_source = fit_temperature(proba, codes, weights)
    copies = np.vstack([easy, *[hard] * 100]), np.concatenate([easy_codes, *[hard_codes] * 100])
    assert by_source == pytest.approx(fit_temperature(*copies), rel=1e-4)
    assert fit_temperature(proba, codes) < fit_temperature(hard, hard_codes)
    assert fit_temperature(proba, codes) < by_source < fit_temperature(hard, hard_codes)
    cal = Calibration.fit(proba, codes, weights)
    assert cal.temperature == by_source
    assert cal.counts.sum() == len(codes)  # the conformal quantiles count rows, not sources
    with pytest.raises(ValueError, match="weights must be 11000 finite non-negative numbers"):
        fit_temperature(proba, codes, weights[:-1])
    with pytest.raises(ValueError, match="not all 0"):
        fit_temperature(proba, codes, np.zeros(len(codes)))


def test_temperature_keeps_the_top_class_and_sums_to_one():
    proba = np.random.default_rng(1).dirichlet(np.ones(5), size=100)
    out = apply_temperature(proba, 3.0)
    assert (out.argmax(axis=1) == proba.argmax(axis=1)).all()
    np.testing.assert_allclose(out.sum(axis=1), 1.0)


def test_conformal_sets_reach_their_coverage_per_class():
    proba, codes = _overconfident(seed=2)
    cal = Calibration.fit(proba, codes)
    test_proba, test_codes = _overconfident(seed=3)
    for coverage in (0.8, 0.9, 0.95):
        inside = cal.apply(test_proba) >= cal.cutoffs(coverage)
        covered = inside[np.arange(len(test_codes)), test_codes]
        for c in range(3):
            assert covered[test_codes == c].mean() >= coverage - 0.015
    assert cal.summary["ece"] < cal.summary["ece_raw"]


def test_small_classes_and_bad_input():
    proba = np.array([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7]])
    cal = Calibration.fit(proba, np.array([0, 0, 1]))
    # one held-out row of class 1 cannot support 95 % coverage: it borrows the pooled quantile,
    # capped so that its own held-out row (p 0.7 after scaling) would still be covered
    own = cal.apply(proba)[2, 1]
    assert 0.0 < cal.cutoffs(0.95)[1] <= own + 1e-9
    assert Calibration.fit(proba, np.array([0, 0, 0])).cutoffs(0.5)[1] == 0.0  # no held-out row: every set
    with pytest.raises(ValueError, match="coverage must lie between 0 and 1"):
        cal.cutoffs(95)
    with pytest.raises(ValueError, match="class codes must lie in 0..1"):
        Calibration.fit(proba, np.array([0, 2, 1]))
    with pytest.raises(ValueError, match="NaN"):
        fit_temperature(np.array([[np.nan, 1.0]]), np.array([0]))


def test_round_trip_through_arrays():
    proba, codes = _overconfident(2000)
    cal = Calibration.fit(proba, codes)
    back = Calibration.from_arrays(cal.to_arrays())
    assert back.temperature == cal.temperature
    np.testing.assert_allclose(back.cutoffs(0.9), cal.cutoffs(0.9), atol=1e-6)
    assert back.summary == cal.summary
    assert Calibration.from_arrays({}) is None


def test_prediction_sets_order_and_empty():
    proba = np.array([[0.5, 0.45, 0.05], [0.05, 0.05, 0.9], [0.3, 0.3, 0.4]])
    sets = prediction_sets(proba, np.array([0.4, 0.4, 0.95]), ["a", "b", "c"])
    assert sets == ["a|b", "c", "c"]  # the top class always: never an empty set
    assert prediction_sets(proba, np.array([0.6, 0.01, 0.5]), ["a", "b", "c"]) == ["a|b", "c|b", "c|b"]


@pytest.mark.parametrize(
    "n_classes, cutoff, decimals",
    [
        (6, 0.4, None),  # sets keyed as numbers
        (6, 0.4, 1),  # ties in probability: class order decides
        (20, 0.02, 2),  # sets of more than 12 members: compared row by row
        (40, 0.03, None),  # more classes than a key holds
    ],
)
def test_prediction_sets_agree_with_their_definition_row_by_row(n_classes, cutoff, decimals):
    # the vectorised sets against the definition written out per row: members are the classes
    # at or above their cut-off plus the most probable one, by falling probability
    rng = np.random.default_rng(5)
    proba = rng.dirichlet(np.full(n_classes, 0.4), size=3000)
    if decimals is not None:
        proba = proba.round(decimals)
    cutoffs = rng.uniform(0.0, cutoff, n_classes)
    classes = ["ol", "cpx", "opx", "pl", "sp", "mag"] if n_classes == 6 else [f"c{k}" for k in range(n_classes)]
    expected = []
    for row in proba:
        members = [k for k in np.argsort(-row, kind="stable") if row[k] >= cutoffs[k] or k == row.argmax()]
        expected.append("|".join(classes[k] for k in members))
    got = prediction_sets(proba, cutoffs, classes)
    assert got == expected
    assert len(set(got)) > 50 and max(s.count("|") for s in got) >= (12 if n_classes == 20 else 3)  # long sets
    assert prediction_sets(proba[:0], cutoffs, classes) == []


def test_a_small_class_is_not_in_every_set_at_high_coverage():
    """38 held-out rows cannot give a class its own 99 % quantile; it used to get cut-off 0
    and so joined every prediction set (quartz in 14,067 of 14,067 LEPR sets at 0.99)."""
    rng = np.random.default_rng(1)
    codes = np.concatenate([np.zeros(5000, int), np.ones(5000, int), np.full(38, 2)])
    p_true = np.clip(1 - rng.exponential(0.02, len(codes)), 0.34, 1)
    proba = np.empty((len(codes), 3))
    for k in range(3):
        proba[:, k] = np.where(codes == k, p_true, (1 - p_true) / 2)
    cal = Calibration.fit(proba, codes)
    cut = cal.cutoffs(0.99)
    own = 1.0 - max(cal.quantiles[2, -1], cal.pooled_quantile(0.99))
    assert own > 0.5  # borrowed from the pooled scores, not 0
    assert cut[2] == pytest.approx(OVERLAP_PROBABILITY)  # then capped at the overlap note's probability
    assert not (cal.apply(proba)[codes < 2, 2] >= cut[2]).any()  # in no other class's set (p <= 0.1)
    calibrated = cal.apply(proba)
    assert (calibrated[codes == 2, 2] >= cut[2]).all()  # each of its own held-out rows is covered
    assert cal.pooled_quantile(0.99) == pytest.approx(np.quantile(1 - calibrated[codes < 2].max(1), 0.99), abs=0.01)


def test_prediction_set_table_on_source_grouped_folds():
    """Per-class coverage and set size of cross-conformal sets, on the held-out probabilities of
    the Gaussian baseline over source-grouped folds of real analyses (the label screen's fixture)."""
    from sklearn.model_selection import GroupKFold

    from minml.classifier._held_out import held_out_proba
    from minml.classifier.model import MineralClassifier
    from minml.training.data import collect_training_set
    from minml.training.evaluation import training_arrays

    from .conftest import DATA

    table, _ = collect_training_set(DATA / "screen")
    X, y, groups = training_arrays(table.assign(source=table["source"].fillna(table["source_file"])))
    classes, proba = held_out_proba(MineralClassifier(kind="gda"), X, y, groups=groups, folds=5)
    fold = np.zeros(len(y), int)
    for k, (_, test) in enumerate(GroupKFold(5).split(X, y, groups)):
        fold[test] = k
    codes = np.searchsorted(classes, y)
    out = prediction_set_table(proba, codes, fold, classes)
    assert list(out.index) == [*classes, "all"] and out.loc["all", "rows"] == len(y)
    assert list(out.columns) == [
        "rows",
        "coverage_90",
        "size_90",
        "coverage_95",
        "size_95",
        "coverage_99",
        "size_99",
    ]
    assert (out.filter(like="size") >= 1).all().all()  # the top class is always in
    assert out.loc["all", "size_99"] >= out.loc["all", "size_90"]  # wider sets for more coverage
    assert out.loc["all", "coverage_99"] >= out.loc["all", "coverage_90"] >= 0.85
    # each row's set comes from cut-offs fitted without its fold: the table's figures are those sets'
    inside = cross_conformal_sets(proba, codes, fold, 0.95)
    olivine = codes == list(classes).index("olivine")
    assert out.loc["olivine", "coverage_95"] == inside[olivine, codes[olivine]].mean()
    assert out.loc["olivine", "size_95"] == inside[olivine].sum(axis=1).mean()


def test_no_cut_off_leaves_out_a_class_of_an_overlap():
    # a class whose held-out rows are all near-certain gets a class-conditional cut-off near 1;
    # capped at the overlap note's probability, a 0.53 / 0.47 row holds both classes
    rng = np.random.default_rng(2)
    codes = np.repeat([0, 1], 3000)
    p_true = 1 - rng.exponential(0.001, len(codes)).clip(0, 0.5)
    proba = np.column_stack([np.where(codes == 0, p_true, 1 - p_true), np.where(codes == 1, p_true, 1 - p_true)])
    cal = Calibration.fit(proba, codes)
    assert (1.0 - cal.quantiles[:, -1] > 0.9).all()  # the uncapped cut-offs at 0.99 would be ~0.99
    for coverage in (0.9, 0.95, 0.99):
        assert (cal.cutoffs(coverage) <= OVERLAP_PROBABILITY).all()
    row = cal.apply(np.array([[0.53, 0.47]]))
    assert set_members(row, cal.cutoffs(0.99)).tolist() == [[True, True]]
