import numpy as np

from minml._text import one_decimal

from .conftest import EXAMPLE


def test_one_decimal_writes_what_python_writes():
    rng = np.random.default_rng(0)
    values = np.concatenate(
        [
            rng.uniform(-200, 2000, 20_000),
            np.round(rng.uniform(0, 200, 20_000), 2),  # two decimals: many halves of a tenth
            rng.integers(-2000, 20_000, 20_000) / 20,  # exact multiples of 0.05
        ]
    )
    expected = [f"{v:.1f}" for v in values.tolist()]
    expected = ["0.0" if e == "-0.0" else e for e in expected]
    assert one_decimal(values).tolist() == expected
    assert one_decimal(np.array([])).tolist() == []


def test_one_decimal_on_real_oxide_sums():
    from minml import check_oxides, read_table

    total = check_oxides(read_table(EXAMPLE)).flags["total"].to_numpy()
    assert one_decimal(total).tolist() == [f"{t:.1f}" for t in total.tolist()]
