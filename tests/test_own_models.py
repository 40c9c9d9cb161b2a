"""Models trained on a user's own labelled table: label spellings, flagged rows, save/load, settings.

Each test fits a small Gaussian model (``kind="gda"``) on the bundled LEPR example
(``examples/lepr_sample.csv``, which spells its labels as LEPR does: ``Amphibole``,
``KFeldspar``, ``FeTiOxide``), except where the network itself is what is tested.
"""

import re

import numpy as np
import pandas as pd
import pytest

import minml
from minml import check_oxides, classify, read_table, validate
from minml.classifier.model import MineralClassifier

from .conftest import EXAMPLE

RENAMED = "Labels fitted as the classes of minerals.toml they name"


@pytest.fixture(scope="module")
def lepr():
    """The example's 64 analyses that check_oxides does not flag, 4 per LEPR label."""
    table = read_table(EXAMPLE)
    return table[check_oxides(table).ok.to_numpy()]


@pytest.fixture(scope="module")
def codes(lepr):
    """The example's labels as integers: classes no label table renames."""
    return pd.factorize(lepr["Mineral"])[0]


@pytest.fixture(scope="module")
def lepr_model(lepr):
    with pytest.warns(UserWarning, match=RENAMED):
        model = MineralClassifier(kind="gda").fit(lepr, lepr["Mineral"])
    return model.calibrate(lepr, lepr["Mineral"], folds=3)


# ---- 1. labels spelt as the table spells them ----


def test_labels_of_a_class_are_fitted_as_the_class(lepr):
    before = lepr.copy(deep=True)
    with pytest.warns(UserWarning, match=RENAMED) as caught:
        model = MineralClassifier(kind="gda").fit(lepr, lepr["Mineral"])
    pd.testing.assert_frame_equal(lepr, before)  # the caller's labels are left as they were
    said = str(caught[0].message)
    assert "'Amphibole' -> 'amphibole'" in said and "'KFeldspar' -> 'k-feldspar'" in said
    assert "'Cristobalite', 'Quartz', 'Tridymite' -> 'quartz'" in said  # silica's names, one class
    assert "rename_labels=False" in said
    classes = list(model.classes_)
    assert "FeTiOxide" in classes  # names three classes: the user's own, as given
    assert {"amphibole", "clinopyroxene", "k-feldspar", "quartz"} <= set(classes)
    assert not {"Amphibole", "Quartz", "Tridymite"} & set(classes)
    groups = dict(zip(classes, model.groups_, strict=True))
    assert groups["clinopyroxene"] == "pyroxene" and groups["FeTiOxide"] == "FeTiOxide"
    thresholds = dict(zip(classes, model.misfit_threshold_, strict=True))
    assert np.isfinite(thresholds["amphibole"]) and np.isinf(thresholds["FeTiOxide"])  # end-members: classes only
    owners = set(model.classes_[model.member_class_])
    assert "amphibole" in owners and "FeTiOxide" not in owners
    # the model answers in the classes' names; score reads the labels as fit did
    assert set(model.predict(lepr)) <= set(classes)
    assert model.score(lepr, lepr["Mineral"]) > 0.9


def test_validate_with_a_model_of_the_table_s_own_labels(lepr, lepr_model):
    """Was: disagree for every row, "an Amphibole (p 0.99), not an amphibole (p nan)"."""
    checked = validate(lepr, label_column="Mineral", model=lepr_model)
    verdicts = checked["verdict"].value_counts()
    assert verdicts["agree"] >= 0.9 * len(lepr) and verdicts["disagree"] <= 2
    judged = checked["verdict"].isin(["agree", "disagree", "uncertain"])
    assert checked.loc[judged, "label_probability"].notna().all()
    assert not checked["reason"].str.contains("p nan").any()
    first = checked.groupby("label")["label_class"].first()
    assert first["Amphibole"] == "amphibole" and first["Tridymite"] == "quartz"
    assert first["FeTiOxide"] == "FeTiOxide"  # compared in the model's own vocabulary
    assert (checked.loc[checked["label"] == "FeTiOxide", "verdict"] == "agree").all()


def test_species_of_a_model_of_the_table_s_own_labels(lepr, lepr_model):
    """Was: "minerals holds ['Amphibole', ...], which are no class names"; a class of the user's
    own (FeTiOxide) names no species."""
    checked = validate(lepr, label_column="Mineral", model=lepr_model, species=True)
    amphibole = checked["mineral"] == "amphibole"
    assert amphibole.any() and (checked.loc[amphibole, "species"] != "").all()
    assert (checked.loc[checked["mineral"] == "FeTiOxide", "species"] == "").all()
    # classify --species with the same model: it stopped on the class of the user's own
    classified = minml.classify(lepr, model=lepr_model, species=True)
    own = classified["mineral"] == "FeTiOxide"
    assert own.any() and (classified.loc[own, "species"] == "").all()
    assert (classified.loc[classified["mineral"] == "amphibole", "species"] != "").all()


def test_own_labels_kept_as_given_and_compared_as_written(lepr):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no renaming, nothing to say
        model = MineralClassifier(kind="gda", rename_labels=False).fit(lepr, lepr["Mineral"])
    model.calibrate(lepr, lepr["Mineral"], folds=3)
    assert list(model.classes_) == sorted(set(lepr["Mineral"]))
    checked = validate(lepr, label_column="Mineral", model=model)
    assert (checked["label_class"] == checked["label"]).all()
    judged = checked["verdict"].isin(["agree", "disagree", "uncertain"])
    assert checked.loc[judged, "label_probability"].notna().all()
    assert (checked["verdict"] == "agree").sum() > 0.6 * len(lepr)  # the silica polymorphs stay apart


def test_a_label_naming_none_of_the_model_s_classes_is_unknown_phase(lepr):
    """A garnet in a table validated with a model of three other classes: no class of the model
    to disagree with (was: disagree, with the label's probability NaN)."""
    three = lepr[lepr["Mineral"].isin(["Olivine", "Clinopyroxene", "Plagioclase"])]
    with pytest.warns(UserWarning, match=RENAMED):
        model = MineralClassifier(kind="gda").fit(three, three["Mineral"]).calibrate(three, three["Mineral"], folds=2)
    checked = validate(lepr, label_column="Mineral", model=model)
    garnet = checked[checked["label"] == "Garnet"]
    assert (garnet["verdict"] == "unknown_phase").all() and (garnet["label_class"] == "").all()
    assert not garnet["reason"].str.contains("p nan").any()
    assert (checked.loc[checked["label"] == "Olivine", "label_class"] == "olivine").all()


def test_fitted_class_of_labels():
    from minml.chemistry.labels import fitted_class

    assert [fitted_class(x) for x in ["Amphibole", "Cpx", "KFeldspar", "Tridymite", "olivine"]] == [
        "amphibole",
        "clinopyroxene",
        "k-feldspar",
        "quartz",
        "olivine",
    ]
    assert fitted_class("FeTiOxide") is None and fitted_class("Nepheline") is None and fitted_class("Xyz") is None
    assert fitted_class(3) is None


# ---- 2. flagged rows ----


def test_fit_refuses_the_rows_check_oxides_flags(lepr, codes):
    """The example without its one unusable value: 3 empty rows, 2 fractions, 6 bad sums (1.5 to
    116.6 wt%) that fit used to learn from."""
    table = read_table(EXAMPLE)
    usable = table.drop(index=71)
    message = (
        r"MineralClassifier.fit refuses 11 rows that minml.check_oxides flags as no usable analysis: "
        r"3 empty rows \(no oxide values\) at positions 64, 65, 66; 2 fractions, not wt% \(sums near 1\) at "
        r"positions 67, 68; 6 oxide sums outside 88-105 wt% at positions 69, 70, 71, 72, 73 and 1 more .*"
        r"Drop them first \(table\[minml.check_oxides\(table\).ok\]"
    )
    with pytest.raises(ValueError, match=message):
        MineralClassifier(kind="gda").fit(usable, usable["Mineral"])
    with pytest.raises(ValueError, match="MineralClassifier.calibrate refuses 11 rows"):
        MineralClassifier(kind="gda").fit(lepr, codes).calibrate(usable, pd.factorize(usable["Mineral"])[0], folds=3)
    # one row summing to 48 wt% among good ones is refused by its position
    half = lepr.copy()
    oxides = list(check_oxides(half).mapping.mapped)
    half.loc[half.index[5], oxides] *= 0.48  # an apatite at 48 wt%
    assert 45 < check_oxides(half).flags["total"].iloc[5] < 50
    with pytest.raises(ValueError, match=r"refuses 1 rows .*1 oxide sums outside 88-105 wt% at position 5 "):
        MineralClassifier(kind="gda").fit(half, codes)


def test_sums_judged_with_the_label_s_class_as_the_training_build_does(lepr):
    """A tourmaline without B2O3 and H2O sums to ~85 wt%: fine for its class (nominal B2O3 and
    H2O), refused under a label of the user's own."""
    olivines = lepr[lepr["Mineral"] == "Olivine"]
    tourmaline = pd.DataFrame(
        {"SiO2": [35.5, 35.9, 36.2], "Al2O3": [33.1, 32.8, 33.6], "FeOt": [8.9, 9.6, 7.8], "MgO": [4.9, 4.5, 5.6]}
        | {"CaO": [0.6, 0.4, 0.8], "Na2O": [2.0, 1.9, 2.1], "TiO2": [0.5, 0.6, 0.4]}
    )
    assert check_oxides(tourmaline).flags["total"].between(84, 87).all()
    table = pd.concat([olivines, tourmaline], ignore_index=True)
    named = np.array(["olivine"] * len(olivines) + ["tourmaline"] * 3)
    model = MineralClassifier(kind="gda").fit(table, named)
    assert list(model.classes_) == ["olivine", "tourmaline"]
    with pytest.raises(ValueError, match=r"3 oxide sums outside 88-105 wt% at positions 4, 5, 6"):
        MineralClassifier(kind="gda").fit(table, np.array(["olivine"] * len(olivines) + ["my schorl"] * 3))


def test_predict_names_what_classify_judges(lepr, lepr_model):
    """predict is the classifier's answer (documented); classify judges the analysis."""
    low = lepr.head(2).copy()
    low.iloc[0, low.columns.get_loc("SiO2")] = 2.0  # an amphibole at 53 wt%
    assert 50 < check_oxides(low).flags["total"].iloc[0] < 56
    assert lepr_model.predict(low)[0] == "amphibole"
    result = classify(low, model=lepr_model)
    assert result["mineral"].iloc[0] == "unknown" and result["flag"].iloc[0].startswith("total outside 88-105")
    assert "does not judge the analysis" in MineralClassifier.predict.__doc__


# ---- 3. save and load ----


def test_saved_model_predicts_the_same_with_its_labels_dtype(lepr, codes, tmp_path):
    X = check_oxides(lepr).oxides[list(MineralClassifier().oxides)].to_numpy()
    model = MineralClassifier(kind="gda").fit(X, codes)  # integer labels
    back = MineralClassifier.load(model.save(tmp_path / "int.npz"))
    assert back.classes_.dtype == model.classes_.dtype == np.int64
    assert back.predict(X[:3]).dtype == model.predict(X[:3]).dtype
    np.testing.assert_array_equal(back.predict(X), model.predict(X))
    text = MineralClassifier(kind="gda").fit(X, np.array([f"class {c}" for c in codes]))
    back = MineralClassifier.load(text.save(tmp_path / "text.npz"))
    assert back.classes_.dtype == text.classes_.dtype and back.classes_.dtype.kind == "U"


@pytest.mark.train
def test_saved_network_keeps_its_monte_carlo_draws(lepr, codes, tmp_path):
    """samples and random_state were dropped: samples 30 -> None, probabilities off by 2e-4."""
    pytest.importorskip("torch")
    model = MineralClassifier(kind="bnn", epochs=2, hidden=(8,), samples=30, random_state=3).fit(lepr, codes)
    back = MineralClassifier.load(model.save(tmp_path / "mc.npz"))
    assert (back.samples, back.random_state) == (30, 3)
    np.testing.assert_array_equal(back.predict_proba(lepr), model.predict_proba(lepr))


# ---- 4. settings and messages ----


@pytest.mark.parametrize("kind", ["gda", "bnn"])
def test_class_weight_refused_for_every_kind(lepr, codes, kind):
    with pytest.raises(
        ValueError, match=re.escape("class_weight must be 'sqrt_balanced', 'balanced' or None, got 'x'")
    ):
        MineralClassifier(kind=kind, class_weight="x").fit(lepr, codes)


def test_missing_major_column_advice_works_for_the_estimator(lepr, codes):
    model = MineralClassifier(kind="gda").fit(lepr, codes)
    with pytest.raises(ValueError, match=r"Missing: \['MgO'\]") as raised:
        model.predict(lepr.drop(columns=["MgO"]))
    message = str(raised.value)
    assert "table.assign(MgO=0.0)" in message and "minml.classify(table, model=model, fill_missing=0.0)" in message
    assert "pass fill_missing" not in message  # predict takes no fill_missing
