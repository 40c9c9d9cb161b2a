"""Site limits in classify (minml.classifier._sites): a row whose cations overflow a site of the
class the network named loses that class, and is named the next class only where that class's
end-members explain it."""

import warnings

import numpy as np
import pandas as pd
import pytest

import minml
from minml.chemistry._stoichiometry import fewest_cations
from minml.chemistry.minerals import mineral_table
from minml.chemistry.misfit import member_compositions
from minml.classifier.features import MODEL_OXIDES
from minml.classifier.predict import classify_table, resolve_model
from minml.tables.reasons import Reason

SITE = np.uint16(Reason.SITE_LIMIT)


def _classify(table):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # LEPR's extra columns and absent ones are named in warnings
        return classify_table(table, keep_proba=True)


def _network_top(found) -> np.ndarray:
    """The class each row's network probabilities put first, before any judgement."""
    model = resolve_model(None)
    return model.calibrated_proba(model.scaled(np.nan_to_num(found.values))).argmax(axis=1)


@pytest.fixture(scope="module")
def lepr(shared_data):
    table = pd.read_csv(shared_data / "test" / "lepr_allphases_lim.csv")
    return table, _classify(table)


def test_every_end_member_of_a_limited_class_fits_its_sites():
    """A class's own end-members never exceed its limits: the rule cannot turn away an ideal member."""
    for mineral in mineral_table().values():
        if not mineral.site_limits:
            continue
        members = member_compositions(mineral.end_members, tuple(MODEL_OXIDES))
        for species, most in mineral.site_limits.items():
            counts = fewest_cations(members, MODEL_OXIDES, species, mineral.oxygens)
            assert (counts <= most).all(), (mineral.name, species, counts.max())


def test_fewest_cations_reads_iron_as_fe3():
    """Hedenbergite CaFeSi2O6 with its iron as FeOt: 1 Ca per 6 O as Fe2+, fewer with the oxygen of Fe3+."""
    hedenbergite = member_compositions(("hedenbergite",), tuple(MODEL_OXIDES))
    ca = fewest_cations(hedenbergite, MODEL_OXIDES, "CaO", 6)
    assert 0.9 < ca[0] < 0.95  # 6 / 6.5 of the Fe2+ reading's 1
    assert np.isnan(fewest_cations(np.full((1, len(MODEL_OXIDES)), np.nan), MODEL_OXIDES, "CaO", 6)[0])


def test_lepr_clinopyroxenes_the_network_calls_amphibole(lepr):
    """LEPR's Ca-rich aluminous clinopyroxenes that the network names amphibole at up to p 1.0
    hold 2.2-2.9 Ca per 23 O, beyond the B site's 2: none is answered amphibole; each is
    named clinopyroxene where its end-members explain it (measured: 10), else unknown."""
    table, found = lepr
    result = found.frame()
    network = np.asarray(resolve_model(None).classes)[_network_top(found)]
    calcium = fewest_cations(found.values, MODEL_OXIDES, "CaO", 23)
    beyond = (network == "amphibole") & (calcium > 2.2) & found.checked.ok.to_numpy()
    assert beyond.sum() >= 25  # measured: 31
    assert not (result["mineral"][beyond] == "amphibole").any()
    assert (found.reasons[beyond] & SITE).all()
    named = beyond & (result["mineral"] != "unknown").to_numpy()
    assert named.sum() >= 8
    assert (result["mineral"][named] == "clinopyroxene").all()
    assert (table["Mineral"][named] == "Clinopyroxene").all()
    assert result["flag"][named].str.contains("not amphibole: 2.").all()
    assert result["flag"][named].str.contains("clinopyroxene next, its end-members explain it").all()
    unknown = beyond & ~named
    assert (found.reasons[unknown] & np.uint16(Reason.NONE_OF_THE_CLASSES)).all()
    # the probabilities are the network's without amphibole, renormalised
    amphibole = list(resolve_model(None).classes).index("amphibole")
    assert (found.proba[beyond, amphibole] == 0).all()
    assert np.allclose(found.proba[beyond].sum(axis=1), 1, atol=1e-5)
    assert np.allclose(result["probability"][named], found.proba[named].max(axis=1))


def test_no_real_amphibole_or_clinopyroxene_is_turned_away(shared_data):
    """The training compilations of amphibole and clinopyroxene (thousands of analyses from many
    rocks): no row the network names its class is taken out of it by the limits (measured: none)."""
    for name in ("amphibole", "clinopyroxene"):
        table = minml.read_table(shared_data / "training" / f"{mineral_table()[name].training_file}.xlsx")
        found = _classify(table)
        network = np.asarray(resolve_model(None).classes)[_network_top(found)]
        own = (network == name) & found.checked.ok.to_numpy()
        assert own.sum() > 3000
        assert (found.reasons[own] & SITE).sum() <= 0.001 * own.sum(), name


def test_wollastonite_is_no_clinopyroxene():
    """Wollastonite (CaSiO3, a pyroxenoid) has 2 Ca per 6 O: the network names it clinopyroxene at
    p 0.99; its Ca makes it unknown, with wollastonite named from phases.toml."""
    wollastonite = pd.DataFrame(
        {"SiO2": [51.72, 51.0], "Al2O3": [0.0, 0.2], "CaO": [48.28, 47.5], "FeOt": [0, 0.8], "MgO": [0, 0.3]}
    )
    found = _classify(wollastonite)
    assert (np.asarray(resolve_model(None).classes)[_network_top(found)] == "clinopyroxene").all()
    result = found.frame()
    assert (result["mineral"] == "unknown").all()
    assert result["flag"].str.contains("not clinopyroxene: 1.9").all()
    assert result["flag"].str.contains("wollastonite").all()
    assert (found.reasons & SITE).all() and (found.reasons & np.uint16(Reason.NONE_OF_THE_CLASSES)).all()


def test_summary_counts_the_rows(lepr):
    """The summary's reasons name the rows the limits changed."""
    from minml.tables.reasons import reason_counts

    _, found = lepr
    counts = reason_counts(found.reasons)
    assert counts["beyond a site of the network's class"] == int(np.count_nonzero(found.reasons & SITE))


def test_a_map_holds_its_pixels_to_the_same_limits(lepr):
    """A map's pixels (``classify_values``) are held to the same limits: the LEPR clinopyroxenes
    the network calls amphibole get the same class codes as ``classify`` gives them."""
    from minml.classifier.predict import classify_values

    _, found = lepr
    model = resolve_model(None)
    classes = np.asarray(model.classes)
    network = classes[_network_top(found)]
    beyond = (network == "amphibole") & (fewest_cations(found.values, MODEL_OXIDES, "CaO", 23) > 2.2)
    beyond &= found.checked.ok.to_numpy() & np.isfinite(found.values).all(axis=1)
    codes, probability = classify_values(found.values[beyond], model)
    answers = np.append(classes, "unknown")[codes]
    assert "amphibole" not in answers
    assert (answers == "clinopyroxene").sum() >= 8
    assert np.isnan(probability[answers == "unknown"]).all()
