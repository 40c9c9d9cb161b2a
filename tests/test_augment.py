import numpy as np
import pandas as pd
import pytest

from minml.chemistry.formulas import cation_sum
from minml.chemistry.minerals import mineral_table
from minml.classifier.features import MODEL_OXIDES
from minml.training.augment import augmented_classes, synthetic_analyses, synthetic_training_rows
from minml.training.data import CATION_SCREEN


def _analysed_share(mineral: str) -> tuple[float, float]:
    """The least and largest mass share of the model oxides among the class's end-members
    that its synthetic rows draw (alpha > 0), ferric iron folded into FeOt or not."""
    from minml.chemistry.minerals import end_member_table
    from minml.chemistry.oxides import FEO_PER_FE2O3, species_table

    table, members = species_table(), end_member_table()
    drawn = {name for p in augmented_classes()[mineral] for name, a in p["alpha"].items() if a > 0}
    shares = []
    for name in drawn:
        mass = {s: m * table[s].molar_mass for s, m in members[name].oxides.items()}
        model = sum(v for s, v in mass.items() if s in MODEL_OXIDES or s == "FeO")
        lowest = model + FEO_PER_FE2O3 * mass.get("Fe2O3", 0.0)  # Fe2O3 folded into FeOt
        shares.extend([lowest / sum(mass.values()), (model + mass.get("Fe2O3", 0.0)) / sum(mass.values())])
    return min(shares), max(shares)


@pytest.mark.parametrize("mineral", sorted(augmented_classes()))
def test_synthetic_analyses_keep_their_class_stoichiometry(mineral):
    rows = synthetic_analyses(mineral, 2000, random_state=1)
    assert list(rows.columns) == list(MODEL_OXIDES)
    assert (rows.to_numpy() >= 0).all()
    # the true composition sums to its population's total (default 99.7 +- 0.7, within 3 sd);
    # species no model oxide holds (H2O of micas and amphiboles, ZrO2 of zircon) go unanalysed,
    # and folding Fe2O3 into FeOt only lowers the sum
    low, high = _analysed_share(mineral)
    mean, sd = (max(p.get("total", (99.7, 0.7))[i] for p in augmented_classes()[mineral]) for i in (0, 1))
    assert rows.sum(axis=1).max() <= (mean + 3 * sd) * high + 1e-9
    fe3_rich = {"magnetite", "ilmenite", "spinel", "garnet", "clinopyroxene"}
    assert rows.sum(axis=1).min() >= (88.0 if mineral in fe3_rich else (mean - 3 * sd) * low - 1e-9)
    spec = mineral_table()[mineral]
    excess = cation_sum(rows, spec.oxygens) - np.min(spec.cations)  # amphibole: 15-16 (A site)
    # counting all iron as Fe2+ can only raise the sum: below the screen only by analytical
    # noise (2 % relative on SiO2 of a glaucophane: 2 in 2,000 amphiboles)
    assert np.quantile(excess, 0.002) > CATION_SCREEN[0], (mineral, excess.min())
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


def test_a_class_entry_changed_leaves_the_other_classes_rows_alone(monkeypatch):
    """Each class draws from its own stream: with one entry gone (or a population added to it),
    every other class's synthetic rows are the same rows, so an experiment on one class's
    coverage changes that class alone."""
    import minml.training.augment as augment

    full = synthetic_training_rows(random_state=0)
    entries = augmented_classes()
    monkeypatch.setattr(augment, "augmented_classes", lambda: {k: v for k, v in entries.items() if k != "amphibole"})
    without = synthetic_training_rows(random_state=0)
    kept = full[full["mineral"] != "amphibole"].reset_index(drop=True)
    pd.testing.assert_frame_equal(without, kept)


def test_unknown_class_is_refused():
    with pytest.raises(ValueError, match="No augment entry for 'rutile'"):
        synthetic_analyses("rutile", 10)
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
    with pytest.raises(ValueError, match="alpha lacks a weight for \\['albite'\\]"):
        mixture_analyses(["anorthite", "albite"], [{"rows": 1, "alpha": {"anorthite": 1.0}}], 10)
    with pytest.raises(ValueError, match="at least one positive"):
        mixture_analyses(["anorthite", "albite"], [{"rows": 1, "alpha": {"anorthite": 0, "albite": 0}}], 10)


def test_zero_weight_leaves_an_end_member_out():
    # amphibole's synthetic rows draw only the members the igneous compilation lacks
    amphibole = synthetic_analyses("amphibole", 2000, random_state=4)
    assert amphibole["TiO2"].max() < 0.2  # no kaersutite (~10 wt% TiO2)
    assert amphibole["K2O"].max() < 0.2
    # zircon: ZrO2 unanalysed leaves ~33 wt% SiO2 and traces
    zircon = synthetic_analyses("zircon", 500, random_state=4)
    assert zircon["SiO2"].min() > 30 and zircon["SiO2"].max() < 35.5
    assert zircon.drop(columns="SiO2").to_numpy().max() < 0.2
