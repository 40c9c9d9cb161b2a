import numpy as np
import pytest

from minml.chemistry.minerals import end_member_table, mineral_table
from minml.chemistry.misfit import _nearest_mixture, _simplex, end_member_compositions, end_member_misfit
from minml.chemistry.oxides import species_table
from minml.classifier.features import MODEL_OXIDES
from minml.training.augment import augmented_classes, synthetic_analyses


def _ideal_wt(formula_oxides: dict) -> np.ndarray:
    """An end-member's wt% over the model oxides, iron as FeOt (written independently of misfit.py)."""
    table = species_table()
    out = dict.fromkeys(MODEL_OXIDES, 0.0)
    for species, moles in formula_oxides.items():
        grams = moles * table[species].molar_mass
        if species == "FeO":
            out["FeOt"] += grams
        elif species == "Fe2O3":
            out["FeOt"] += grams * 2 * table["FeO"].molar_mass / table["Fe2O3"].molar_mass
        elif species in out:
            out[species] += grams
    return np.array(list(out.values()))


@pytest.mark.parametrize("mineral", sorted(mineral_table()))
def test_every_end_member_lies_on_its_class(mineral):
    members = end_member_compositions(mineral, MODEL_OXIDES)
    np.testing.assert_allclose(members.sum(axis=1), 100.0)
    rows = np.array([_ideal_wt(end_member_table()[name].oxides) for name in mineral_table()[mineral].end_members])
    rows = rows[rows.sum(axis=1) > 0]
    misfit, fractions = end_member_misfit(rows, members)
    assert misfit.max() < 0.05, (mineral, misfit)
    np.testing.assert_allclose(fractions.sum(axis=1), 1.0)
    assert (fractions >= 0).all()


@pytest.mark.parametrize("mineral", sorted(augmented_classes()))
def test_synthetic_mixtures_sit_near_their_end_members(mineral):
    # 2 % relative noise and trace oxides: a misfit of a wt% or two, never more
    rows = synthetic_analyses(mineral, 500, random_state=4).to_numpy()
    misfit, _ = end_member_misfit(rows, end_member_compositions(mineral, MODEL_OXIDES))
    assert np.median(misfit) < 1.5 and misfit.max() < 5.0


def test_phases_outside_the_classes_are_far():
    # ideal nepheline NaAlSiO4, leucite KAlSi2O6, corundum Al2O3 against the classes they resemble
    def wt(**moles):
        return _ideal_wt(moles)

    cases = [
        (wt(Na2O=0.5, Al2O3=0.5, SiO2=1), "plagioclase"),
        (wt(K2O=0.5, Al2O3=0.5, SiO2=2), "k-feldspar"),
        (wt(Al2O3=1), "spinel"),
        (wt(CaO=1, TiO2=1, SiO2=1), "clinopyroxene"),  # titanite CaTiSiO5
    ]
    for row, mineral in cases:
        misfit, _ = end_member_misfit(row[None, :], end_member_compositions(mineral, MODEL_OXIDES))
        assert misfit[0] > 8.0, (mineral, misfit)


def test_bad_input():
    members = end_member_compositions("olivine", MODEL_OXIDES)
    misfit, _ = end_member_misfit(np.zeros((2, len(MODEL_OXIDES))), members)
    assert np.isnan(misfit).all()  # nothing to normalise: no answer, not 0
    with pytest.raises(ValueError, match="No mineral 'olivin'"):
        end_member_compositions("olivin", MODEL_OXIDES)


def test_nickel_cobalt_and_zinc_stand_in_for_ferrous_iron():
    import pandas as pd

    from minml.chemistry.misfit import fold_divalent

    olivine = end_member_compositions("olivine", MODEL_OXIDES)
    # liebenbergite Ni2SiO4 and Co2SiO4 olivines: far from Fo-Fa-Tep until Ni, Co count as Fe2+
    for oxide in ("NiO", "CoO"):
        ideal = _ideal_wt({"SiO2": 1.0})  # their SiO2; NiO/CoO are no model oxide
        table = pd.DataFrame([dict(zip(MODEL_OXIDES, ideal, strict=True))])
        table[oxide] = 2 * species_table()[oxide].molar_mass
        before = table.copy()
        folded = fold_divalent(table[list(MODEL_OXIDES)].to_numpy(), MODEL_OXIDES, table)
        pd.testing.assert_frame_equal(table, before)  # the caller's table is untouched
        assert end_member_misfit(table[list(MODEL_OXIDES)].to_numpy(), olivine)[0][0] > 20
        assert end_member_misfit(folded, olivine)[0][0] < 0.05
    # gahnite ZnAl2O4 is a spinel once Zn counts as Fe2+ (hercynite's place)
    gahnite = pd.DataFrame([dict(zip(MODEL_OXIDES, _ideal_wt({"Al2O3": 1.0}), strict=True))]).assign(
        ZnO=species_table()["ZnO"].molar_mass
    )
    folded = fold_divalent(gahnite[list(MODEL_OXIDES)].to_numpy(), MODEL_OXIDES, gahnite)
    assert end_member_misfit(folded, end_member_compositions("spinel", MODEL_OXIDES))[0][0] < 0.05
    # nothing to fold: the very same array; blanks and negative cells add nothing
    values = gahnite[list(MODEL_OXIDES)].to_numpy()
    assert fold_divalent(values, MODEL_OXIDES, gahnite.drop(columns="ZnO")) is values
    assert fold_divalent(values, MODEL_OXIDES, None) is values
    assert fold_divalent(values, ("SiO2", "MgO"), gahnite) is values
    blank = gahnite.assign(ZnO=[np.nan], NiO=[-0.02])
    np.testing.assert_array_equal(fold_divalent(values, MODEL_OXIDES, blank), values)


def test_nickel_rich_lepr_olivine_is_named_and_orthopyroxene_lies_on_its_class():
    from minml import classify, read_table

    from .conftest import SHARED

    path = SHARED / "test" / "lepr_allphases_lim.csv"
    if not path.is_file():
        pytest.skip("shared data not found")
    lepr = read_table(path)
    # a nickel-partitioning olivine (NiO 12.1 wt%) and orthopyroxene (NiO 7.9 wt%): 4.0 and 3.5 wt%
    # from their end-members with the nickel left out, beyond the class limits (about 2 and 2.7)
    rows = lepr[lepr["entity_id"].isin([60376, 54189])].set_index("entity_id")
    result = classify(rows)
    assert result.loc[60376, "mineral"] == "olivine"
    assert "its end-members explain it" in result.loc[60376, "flag"]
    # the orthopyroxene's nickel, lent to FeOt, brings it within orthopyroxene's limit; the
    # shipped network of 2026-12-07 ranks it amphibole first (0.57), and the unknown rule judges
    # the top class only (benchmarks/explained_fallback.py), so it is answered unknown
    from minml.chemistry.misfit import fold_divalent
    from minml.classifier.features import model_inputs
    from minml.classifier.predict import load_default

    model = load_default()
    opx = list(model.classes).index("orthopyroxene")
    values, checked = model_inputs(rows.loc[[54189]])
    folded = model.misfit(fold_divalent(values, model.oxides, checked.oxides), np.array([opx]))[0]
    bare = model.misfit(values, np.array([opx]))[0]
    assert folded <= model.misfit_threshold[opx] < bare


@pytest.mark.parametrize("mineral", ["clinopyroxene", "garnet", "spinel", "amphibole"])
def test_exact_fit_meets_the_optimality_conditions(mineral):
    from minml import read_table

    from .conftest import SHARED

    path = SHARED / "test" / "lepr_allphases_lim.csv"
    if not path.is_file():
        pytest.skip("shared data not found")
    lepr = read_table(path)
    values = lepr[list(MODEL_OXIDES)].fillna(0).to_numpy()[::7]
    values = values[values.sum(axis=1) > 50]
    E = end_member_compositions(mineral, MODEL_OXIDES)
    misfit, W = end_member_misfit(values, E)
    X = 100 * values / values.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(np.sqrt(((X - W @ E) ** 2).sum(axis=1)), misfit, atol=1e-6)
    assert (W >= 0).all()
    np.testing.assert_allclose(W.sum(axis=1), 1.0, atol=1e-6)
    # KKT of min |x - wE|^2 on the simplex: the gradient is equal (mu) on the used end-members
    # and no lower on the others, so no feasible direction descends
    gradient = W @ (E @ E.T) - X @ E.T
    used = W > 1e-7
    mu = np.where(used, gradient, np.inf).min(axis=1)
    spread = np.where(used, gradient, -np.inf).max(axis=1) - mu
    assert (spread < 1e-5 * np.abs(gradient).max()).all()
    assert (gradient - mu[:, None] > -1e-5 * np.abs(gradient).max()).all()
    # the active-set search and its fallback (every face, alone with rounds=0) agree
    X = np.nan_to_num(X)
    searched, fallback = _nearest_mixture(X, E)[0], _nearest_mixture(X, E, rounds=0)[0]
    np.testing.assert_allclose(np.sqrt(searched), misfit, atol=1e-9)
    np.testing.assert_allclose(np.sqrt(fallback), misfit, atol=1e-6)
    # and the search certifies nearly every row by itself; two rounds certify fewer, the rest fall back
    simplex = _simplex(E.tobytes(), E.shape)
    assert simplex.active_set(X @ E.T, 2 * len(E) + 2)[1].mean() > 0.99
    assert simplex.active_set(X @ E.T, 2)[1].mean() < 0.99
    np.testing.assert_allclose(np.sqrt(_nearest_mixture(X, E, rounds=2)[0]), misfit, atol=1e-6)


def test_active_set_search_is_exact_on_random_and_degenerate_simplices():
    # random end-members (1-8 of them, some duplicated or inside the others' hull, where the
    # fractions are not unique but the distance is) and rows inside and outside their simplex:
    # the search with its fallback gives the distance of trying every face
    rng = np.random.default_rng(1)
    for trial in range(60):
        k = int(rng.integers(1, 9))
        E = rng.dirichlet(np.full(11, 0.5), size=k) * 100
        if k > 2 and trial % 3 == 0:
            E[-1] = E[0]
        if k > 3 and trial % 5 == 0:
            E[-2] = 0.5 * (E[0] + E[1])
        X = np.vstack([rng.dirichlet(np.full(11, 0.5), size=100) * 100, rng.dirichlet(np.ones(k), size=30) @ E])
        searched, W = _nearest_mixture(X, E)
        np.testing.assert_allclose(np.sqrt(searched), np.sqrt(_nearest_mixture(X, E, rounds=0)[0]), atol=1e-8)
        assert (W >= 0).all() and np.allclose(W.sum(axis=1), 1.0)
        assert np.sqrt(searched[100:]).max() < 1e-6  # mixtures lie on their simplex


def _mixture(fractions: dict, minor: dict, total: float) -> np.ndarray:
    """wt% over the model oxides of a mixture of end-members (mole fractions of formula units,
    H2O unanalysed) plus minor oxides, scaled to ``total``."""
    major = sum(x * _ideal_wt(end_member_table()[name].oxides) for name, x in fractions.items())
    extra = np.array([minor.get(ox, 0.0) for ox in MODEL_OXIDES])
    return major / major.sum() * (total - extra.sum()) + extra


# Members of the classes outside the igneous rocks the compilations hold (issue 21): amphiboles
# of metamorphic and ultramafic rocks, pigeonite, a majoritic garnet.  The glaucophane is the
# analysed crystal of Comodi et al. (1991) Eur. J. Mineral. 3, 485-499 (AMCSD 0006415:
# Na1.98 Li0.02 Mg1.98 Fe1.42 Al1.6 Si8 O22(OH)2, iron as FeO, Li not seen by a microprobe);
# the others are built from the end-members of Hawthorne et al. (2012), Morimoto (1988) and
# Grew et al. (2013) with the minor oxides natural analyses carry (K2O in richterite and
# kaersutite, MnO, Cr2O3 and Na2O in a mantle garnet), oxide sums as analysed (amphiboles ~98).
OUTSIDE_THE_COMPILATIONS = {
    "glaucophane (Comodi et al. 1991)": (
        "amphibole",
        np.array([dict(SiO2=58.37, Al2O3=9.91, FeOt=12.39, MgO=9.69, Na2O=7.45).get(ox, 0.0) for ox in MODEL_OXIDES]),
    ),
    "tremolite": (
        "amphibole",
        _mixture(
            {"tremolite": 0.85, "ferro-actinolite": 0.1, "magnesio-hornblende": 0.05},
            {"MnO": 0.15, "Na2O": 0.2, "K2O": 0.05, "TiO2": 0.05, "Cr2O3": 0.1},
            97.8,
        ),
    ),
    "richterite": (
        "amphibole",
        _mixture({"richterite": 0.8, "tremolite": 0.1, "ferro-actinolite": 0.1}, {"K2O": 1.2, "TiO2": 0.5}, 97.6),
    ),
    "cummingtonite": (
        "amphibole",
        _mixture({"cummingtonite": 0.55, "grunerite": 0.45}, {"MnO": 0.6, "CaO": 0.7, "Al2O3": 0.5}, 97.9),
    ),
    "kaersutite": (
        "amphibole",
        _mixture({"kaersutite": 0.7, "pargasite": 0.2, "hastingsite": 0.1}, {"K2O": 1.1, "MnO": 0.1}, 98.5),
    ),
    "pigeonite (Wo ~8)": (
        "clinopyroxene",
        _mixture(
            {"enstatite": 0.55, "ferrosilite": 0.3, "diopside": 0.1, "hedenbergite": 0.05},
            {"Al2O3": 0.8, "TiO2": 0.2, "MnO": 0.4},
            99.8,
        ),
    ),
    "majoritic garnet": (
        "garnet",
        _mixture(
            {"pyrope": 0.55, "majorite": 0.25, "almandine": 0.12, "grossular": 0.08},
            {"TiO2": 0.3, "Cr2O3": 0.4, "MnO": 0.2, "Na2O": 0.15},
            99.9,
        ),
    ),
}


@pytest.mark.parametrize("name", sorted(OUTSIDE_THE_COMPILATIONS))
def test_members_outside_the_compilations_lie_on_their_class(name):
    # within 2 wt% of their class's end-members (the misfit that decides "unknown": class
    # thresholds from the training rows are 2-17 wt%), where the five igneous amphibole
    # end-members alone left glaucophane and cummingtonite 15 wt% away
    mineral, row = OUTSIDE_THE_COMPILATIONS[name]
    misfit = end_member_misfit(row[None, :], end_member_compositions(mineral, MODEL_OXIDES))[0][0]
    assert misfit < 2.0, (name, misfit)
    if name.startswith(("glaucophane", "cummingtonite")):
        igneous = ("tremolite", "ferro-actinolite", "magnesio-hornblende", "edenite", "pargasite")
        members = np.array([_ideal_wt(end_member_table()[m].oxides) for m in igneous])
        assert end_member_misfit(row[None, :], 100 * members / members.sum(axis=1, keepdims=True))[0][0] > 10
