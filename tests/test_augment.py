import numpy as np
import pandas as pd
import pytest

from minml.chemistry.formulas import cation_sum
from minml.chemistry.minerals import mineral_table
from minml.classifier.features import MODEL_OXIDES
from minml.training.augment import augmented_classes, synthetic_analyses, synthetic_training_rows
from minml.training.data import CATION_SCREEN


@pytest.mark.parametrize("mineral", sorted(augmented_classes()))
def test_synthetic_analyses_keep_their_class_stoichiometry(mineral):
    rows = synthetic_analyses(mineral, 2000, random_state=1)
    assert list(rows.columns) == list(MODEL_OXIDES)
    assert (rows.to_numpy() >= 0).all()
    # total of the true composition 97.6-101.8 wt%; folding Fe2O3 into FeOt only lowers it
    assert rows.sum(axis=1).max() <= 101.8 + 1e-9
    fe3_rich = {"magnetite", "ilmenite", "spinel", "garnet", "clinopyroxene"}
    assert rows.sum(axis=1).min() >= (88.0 if mineral in fe3_rich else 97.6 - 1e-9)
    spec = mineral_table()[mineral]
    excess = cation_sum(rows, spec.oxygens) - spec.cations
    # counting all iron as Fe2+ can only raise the sum: never below the screen
    assert excess.min() > CATION_SCREEN[0], (mineral, excess.min())
    if spec.screen_cations:  # the rule natural rows of the class pass, but for Fe3+-rich
        inside = excess <= CATION_SCREEN[1]  # simple systems (andradite-rich garnet: ~1.5 %)
        assert inside.mean() > 0.98, (mineral, excess.max())


def test_clinopyroxene_keeps_calcium_and_orthopyroxene_little():
    cpx = synthetic_analyses("clinopyroxene", 2000, random_state=2)
    opx = synthetic_analyses("orthopyroxene", 2000, random_state=2)

    # Wo = Ca / (Ca + Mg + Fe) in mol
    def wo(df):
        ca, mg, fe = df["CaO"] / 56.077, df["MgO"] / 40.304, df["FeOt"] / 71.844
        return ca / (ca + mg + fe)

    assert wo(cpx).min() > 0.04  # pigeonite: Ca end-members >= 10 %
    assert wo(opx).max() < 0.06  # Wo end-member <= 5 %, plus 2 % analytical noise


def test_deterministic_and_stackable():
    a = synthetic_training_rows(random_state=5)
    b = synthetic_training_rows(random_state=5)
    pd.testing.assert_frame_equal(a, b)
    assert set(a["mineral"]) == set(augmented_classes())
    assert (a["source"] == "synthetic").all()
    counts = a["mineral"].value_counts()
    assert all(counts[name] == sum(p["rows"] for p in spec) for name, spec in augmented_classes().items())


def test_unknown_class_is_refused():
    with pytest.raises(ValueError, match="No augment entry for 'quartz'"):
        synthetic_analyses("quartz", 10)
    assert np.isfinite(synthetic_analyses("garnet", 5).to_numpy()).all()


def test_simple_systems_reach_the_end_members():
    # experimental petrology's simple systems: pure fayalite must be among the olivines
    olivine = synthetic_analyses("olivine", 2000, random_state=3)
    fayalite = (olivine["FeOt"] > 68) & (olivine["MgO"] < 0.5)
    assert fayalite.sum() > 10
    garnet = synthetic_analyses("garnet", 2000, random_state=3)
    knorringite_rich = (garnet["Cr2O3"] > 15) & (garnet["CaO"] < 1) & (garnet["FeOt"] < 1)
    assert knorringite_rich.sum() > 5


def test_mixtures_leave_water_unanalysed():
    # amphiboles mixed from the supergroup's end-members: the true composition sums to 99.7 ± 0.7
    # wt% and its ~2 wt% H2O is no model oxide, so the analysed oxides sum ~97.6 as real ones do
    # (up to 101.8 only where oxo kaersutite, with no H2O, dominates a simple mixture)
    from minml.chemistry.misfit import end_member_compositions, end_member_misfit
    from minml.training.augment import mixture_analyses

    names = list(mineral_table()["amphibole"].end_members)
    spec = [{"rows": 1, "simple": 0.4, "alpha": dict.fromkeys(names, 0.5)}]
    rows = mixture_analyses(names, spec, 2000, random_state=3)
    total = rows.sum(axis=1)
    assert 97.0 < total.mean() < 98.2 and total.max() <= 101.8 + 1e-9 and (total > 99.7).mean() < 0.05
    misfit = end_member_misfit(rows.to_numpy(), end_member_compositions("amphibole", MODEL_OXIDES))[0]
    assert np.median(misfit) < 1.5
    # a population's own total: anhydrous melts summing 96.5 wt% (H2O the analysis misses)
    melt = [{"rows": 1, "total": [96.5, 0.5], "alpha": {"anorthite": 10.0, "diopside": 10.0, "forsterite": 5.0}}]
    glass = mixture_analyses(["anorthite", "diopside", "forsterite"], melt, 500, random_state=4).sum(axis=1)
    assert abs(glass.mean() - 96.5) < 0.1 and glass.min() >= 96.5 - 1.5 - 1e-9
    with pytest.raises(ValueError, match="alpha lacks a positive weight"):
        mixture_analyses(["anorthite", "albite"], [{"rows": 1, "alpha": {"anorthite": 1.0}}], 10)
