import numpy as np
import pytest

from minml.chemistry.iron import IRON_RULES, total_iron


def _arrays(**columns):
    values = {k: np.array(v, dtype=float) for k, v in columns.items()}
    present = {k: ~np.isnan(v) for k, v in values.items()}
    return values, present


def test_rules_in_order_with_hand_computed_values():
    nan = np.nan
    values, present = _arrays(
        FeOt=[10.0, nan, nan, nan, 47.4172],
        FeO=[nan, 8.0, nan, nan, 38.35],
        Fe2O3=[nan, 2.0, nan, nan, 10.07],
        Fe2O3t=[nan, nan, 10.0, nan, nan],
    )
    feot, rule, mismatch = total_iron(values, present, len(next(iter(values.values()))))
    # 8 + 0.89981 x 2 = 9.7996; 0.89981 x 10 = 8.9981; ilmenite row: FeOt reported and consistent
    np.testing.assert_allclose(feot, [10.0, 9.7996, 8.9981, 0.0, 47.4172], atol=1e-4)
    assert [IRON_RULES[r] for r in rule] == ["FeOt", "FeO+Fe2O3", "Fe2O3t", "none", "FeOt"]
    assert np.isnan(mismatch).all()


def test_feo_alone_is_total_iron():
    values, present = _arrays(FeO=[9.1])
    feot, rule, _ = total_iron(values, present, len(next(iter(values.values()))))
    assert feot.tolist() == [9.1] and IRON_RULES[rule[0]] == "FeO"


def test_reported_feot_that_disagrees_is_reported_not_double_counted():
    # Spinel.xlsx (Ishimaru et al. 2018): 'FeOT' 21.17 beside Fe2O3 7.16 and no FeO
    values, present = _arrays(FeOt=[21.17], FeO=[np.nan], Fe2O3=[7.16])
    feot, rule, mismatch = total_iron(values, present, len(next(iter(values.values()))))
    assert feot.tolist() == [21.17] and IRON_RULES[rule[0]] == "FeOt"
    assert mismatch[0] == pytest.approx(0.89981 * 7.16, abs=1e-3)


def test_rows_without_any_iron():
    feot, rule, _mismatch = total_iron({}, {}, 3)
    assert feot.tolist() == [0.0, 0.0, 0.0] and [IRON_RULES[r] for r in rule] == ["none"] * 3


def test_a_table_with_feot_only_gets_what_the_rules_give_with_every_form_present(shared_data):
    """FeOt alone (most tables) takes a short way: the same FeOt, rules and mismatches as the
    rules in order give when the other forms are columns with no value (real LEPR iron)."""
    import pandas as pd

    feot = pd.read_csv(shared_data / "test" / "lepr_allphases_lim.csv", usecols=["FeOt"])["FeOt"].to_numpy(
        float, copy=True
    )
    feot[::7] = -1.0  # a value present but unusable stays as read
    feot[1::11] = np.nan  # and rows without iron
    present = {"FeOt": ~np.isnan(feot)}
    n = len(feot)
    blank = {name: np.full(n, np.nan) for name in ("FeO", "Fe2O3", "Fe2O3t")}
    alone = total_iron({"FeOt": feot}, present, n)
    ruled = total_iron({"FeOt": feot, **blank}, {**present, **{k: np.zeros(n, bool) for k in blank}}, n)
    for short, long in zip(alone, ruled, strict=True):
        assert short.dtype == long.dtype
        np.testing.assert_array_equal(short, long)
    assert {IRON_RULES[r] for r in alone[1]} == {"FeOt", "none"}
    none = total_iron({}, {}, 3)
    assert none[0].tolist() == [0.0] * 3 and [IRON_RULES[r] for r in none[1]] == ["none"] * 3
