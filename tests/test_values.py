import numpy as np
import pandas as pd
import pytest

from minml.tables._values import Status, parse_column


@pytest.mark.parametrize(
    ("cell", "value", "status"),
    [
        ("12.5", 12.5, Status.OK),
        ("12,5", 12.5, Status.OK),
        (" 38.52\u00a0", 38.52, Status.OK),
        ("<0.01", 0.0, Status.BELOW_DETECTION),
        ("< 0.03", 0.0, Status.BELOW_DETECTION),
        ("bdl", 0.0, Status.BELOW_DETECTION),
        ("b.d.l.", 0.0, Status.BELOW_DETECTION),
        ("bdl.", 0.0, Status.BELOW_DETECTION),
        ("n.d.", 0.0, Status.BELOW_DETECTION),
        ("-", 0.0, Status.BELOW_DETECTION),
        ("BDL", 0.0, Status.BELOW_DETECTION),
        ("", 0.0, Status.EMPTY),
        (None, 0.0, Status.EMPTY),
        # not measured: read as an empty cell is, but told apart (the note names the text)
        ("n.a.", 0.0, Status.NOT_ANALYSED),
        ("NA", 0.0, Status.NOT_ANALYSED),
        ("not analysed", 0.0, Status.NOT_ANALYSED),
        ("Not analyzed", 0.0, Status.NOT_ANALYSED),
        # what pandas reads as missing in a CSV file, given as text in Python (df.astype(str) makes 'nan')
        ("nan", 0.0, Status.NOT_ANALYSED),
        ("#N/A", 0.0, Status.NOT_ANALYSED),
        ("N/A", 0.0, Status.NOT_ANALYSED),
        ("None", 0.0, Status.NOT_ANALYSED),
        ("null", 0.0, Status.NOT_ANALYSED),
        ("-0.05", 0.0, Status.SMALL_NEGATIVE),
        ("-0.1", 0.0, Status.SMALL_NEGATIVE),
        ("-0.2", np.nan, Status.LARGE_NEGATIVE),
        ("101", np.nan, Status.OVER_100),
        ("abc", np.nan, Status.JUNK),
        ("12.5.3", np.nan, Status.JUNK),
        ("1,234,5", np.nan, Status.JUNK),
        # a mean and its spread, as experimental papers print them: the mean is read
        ("40.52(32)", 40.52, Status.WITH_UNCERTAINTY),
        ("40.52 (0.32)", 40.52, Status.WITH_UNCERTAINTY),
        ("40,52 (0,32)", 40.52, Status.WITH_UNCERTAINTY),
        ("0.08 \u00b1 0.02", 0.08, Status.WITH_UNCERTAINTY),
        ("40.52\u00b10.32", 40.52, Status.WITH_UNCERTAINTY),
        ("40.52 +/- .32", 40.52, Status.WITH_UNCERTAINTY),
        ("-0.5(2)", np.nan, Status.LARGE_NEGATIVE),
        ("104(2)", np.nan, Status.OVER_100),
        ("40.52 (n=5)", np.nan, Status.JUNK),
        ("(0.32)", np.nan, Status.JUNK),
        ("40.5(3)x", np.nan, Status.JUNK),
        ("40.52 \u00b1", np.nan, Status.JUNK),
    ],
)
def test_text_cells(cell, value, status):
    values, statuses = parse_column(pd.Series([cell], dtype=object))
    np.testing.assert_equal(values[0], value)
    assert statuses[0] == status


def test_numeric_column_keeps_numbers_and_marks_bad_ones():
    values, statuses = parse_column(pd.Series([40.1, np.nan, -0.03, -3.0, 150.0]))
    np.testing.assert_equal(values, [40.1, 0.0, 0.0, np.nan, np.nan])
    assert statuses.tolist() == [Status.OK, Status.EMPTY, Status.SMALL_NEGATIVE, Status.LARGE_NEGATIVE, Status.OVER_100]


def test_pure_phase_limit():
    values, statuses = parse_column(pd.Series([103.15, 104.5]), max_value=104.0)
    np.testing.assert_equal(values, [103.15, np.nan])
    assert statuses.tolist() == [Status.OK, Status.OVER_100]


def test_a_repeated_value_over_the_limit_is_a_bad_value_not_a_code(shared_data):
    """Five LEPR rows hold Al2O3 = 655.9 wt%: one bad analysis copied, not a code for "not
    analysed" (codes are negative or written with nines: -0.99, -999, 9999).  They stay flagged
    for the value; a 9999 repeated down a column is read as not analysed."""
    import pandas as pd

    from minml import check_oxides

    lepr = pd.read_csv(shared_data / "test" / "lepr_allphases_lim.csv")
    rows = lepr[lepr["Al2O3"] == 655.9]
    assert len(rows) >= 3
    checked = check_oxides(rows)
    assert checked.flags["flag"].str.contains("Al2O3 over 100 wt%: 655.9").all()
    coded = rows.assign(K2O=9999.0)
    assert "K2O" in check_oxides(coded).codes
    assert not check_oxides(coded).flags["flag"].str.contains("K2O").any()
