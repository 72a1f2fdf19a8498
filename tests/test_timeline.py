import datetime as dt

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from cartelsim.timeline import date_of, dates_of, week_of


def test_design_examples():
    assert week_of(dt.date(2022, 1, 1), 2012) == 520
    assert week_of(dt.date(2022, 3, 15), 2012) == 530
    assert week_of(dt.date(2012, 12, 31), 2012) == 51  # day 366 of a leap year still falls in week 51
    assert date_of(530, 2012) == dt.date(2022, 3, 12)


@given(st.integers(0, 5000))
def test_date_of_week_round_trips(w):
    assert week_of(date_of(w, 2012), 2012) == w


def test_dates_of_matches_date_of():
    weeks = np.array([0, 1, 51, 52, 530, 1039])
    got = dates_of(weeks, 2012).astype("datetime64[D]").tolist()
    assert got == [date_of(int(w), 2012) for w in weeks]
