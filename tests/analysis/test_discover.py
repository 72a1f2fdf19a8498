"""PRIM glue on synthetic sweep bundles: a known box, pairing by replicate, margins, failed experiments."""

import datetime as dt

import numpy as np
import pytest

from cartelsim.analysis.discover import Margin, discover, discover_cases, factor_frame
from cartelsim.analysis.sweeps import SweepError, sweep_outcome
from cartelsim.sampling import Factor, make_design

from .synthetic import bundle

AT = dt.date(2026, 4, 2)
FACTORS = [Factor("a", 0.0, 1.0), Factor("b", 0.0, 1.0), Factor("c", 5.0, 10.0)]


def box_bundle(n: int = 1000, failed=(), extra=None):
    """Strikes are 10 below prevention inside a > 0.6 and c < 6.5 (mass 0.4 x 0.3 = 0.12), 10 above outside."""
    d = make_design("lhs", FACTORS, n, seed=11)
    x = d.to_frame()
    inside = ((x["a"] > 0.6) & (x["c"] < 6.5)).to_numpy()
    prevention = 500.0 + 7.0 * np.arange(n)  # varies by replicate: a wrong pairing would scramble the cases
    strikes = prevention + np.where(inside, -10.0, 10.0)
    values = {"baseline": prevention + 50, "strikes": strikes, "prevention": prevention}
    return d, inside, bundle(d, values, failed=failed, extra_columns=extra)


def test_finds_known_box():
    _, inside, b = box_bundle()
    o = sweep_outcome(b, "new_deaths_all_est", AT, "strikes", vs="prevention")
    r = discover(b, o, threshold=0.95)
    assert r.n == 1000 and r.n_interest == int(inside.sum()) and r.dropped == ()
    assert r.share == pytest.approx(inside.mean())
    np.testing.assert_array_equal(r.y, inside)  # case r is replicate r: values paired by replicate
    assert r.result is not None and r.result.meets_threshold
    lim = r.result.limits.set_index("factor")
    assert sorted(lim.index) == ["a", "c"]  # b is not restricted
    assert lim.loc["a", "restricted"] == "low" and lim.loc["a", "low"] == pytest.approx(0.6, abs=0.03)
    assert lim.loc["c", "restricted"] == "high" and lim.loc["c", "high"] == pytest.approx(6.5, abs=0.15)
    assert r.result.coverage >= 0.95 and r.result.density >= 0.95
    assert r.result.mass == pytest.approx(0.12, abs=0.02)


def test_pairing_is_by_replicate_not_by_row_order():
    _, inside, b = box_bundle(200)
    shuffled = b.experiments.sample(frac=1.0, random_state=3).reset_index(drop=True)
    b2 = type(b).from_tables(shuffled, b.outcomes, b.manifest)
    o = sweep_outcome(b2, "new_deaths_all_est", AT, "strikes", vs="prevention")
    np.testing.assert_allclose(o.values, np.where(inside, -10.0, 10.0))
    r = discover(b2, o)
    np.testing.assert_array_equal(r.y, inside)
    x = factor_frame(b2, "strikes", "prevention")
    assert list(x.index) == list(range(200))
    d = make_design("lhs", FACTORS, 200, seed=11)
    np.testing.assert_array_equal(x[["a", "b", "c"]].to_numpy(), d.samples)


def test_failed_experiments_are_left_out_and_named():
    _, inside, b = box_bundle(300, failed=[("strikes", 4), ("prevention", 9), ("baseline", 12)])
    o = sweep_outcome(b, "new_deaths_all_est", AT, "strikes", vs="prevention")
    assert [(p, int(r)) for p, r in o.failed[["policy", "replicate"]].to_numpy()] == [("strikes", 4), ("prevention", 9)]
    r = discover(b, o)
    assert r.dropped == (4, 9) and r.n == 298  # baseline's failure does not touch this comparison
    assert 4 not in r.X.index and 9 not in r.X.index
    np.testing.assert_array_equal(r.y, np.delete(inside, [4, 9]))
    assert any("experiment 304 (strikes, replicate 4)" in line for line in o.failed_lines())


def test_margin_counts_cases_at_most_that_much_worse():
    _, inside, b = box_bundle(300)
    o = sweep_outcome(b, "new_deaths_all_est", AT, "strikes", vs="prevention")
    assert discover(b, o, margin=Margin(amount=10.5)).share == 1.0  # every case within 10.5 of prevention
    everything = discover(b, o, margin=Margin(amount=10.5))
    assert everything.result is None  # all cases of interest: no box to find
    # a share of vs's own value: 2% of prevention's 500 + 7 r is exactly 10 at replicate 0 (not counted: strictly
    # below), more from replicate 1 on
    r = discover(b, o, margin=Margin(share=0.02))
    vs = 500.0 + 7.0 * np.arange(300)
    np.testing.assert_array_equal(r.y, inside | (10.0 < 0.02 * vs))
    assert Margin.parse(" 2% ") == Margin(share=0.02) and Margin.parse("-5000") == Margin(amount=-5000.0)
    for bad in ("2x", "", "nan", "inf%"):
        with pytest.raises(SweepError, match="write an amount"):
            Margin.parse(bad)


def test_no_case_of_interest_is_an_answer_not_an_error():
    _, _, b = box_bundle(100)
    o = sweep_outcome(b, "new_deaths_all_est", AT, "baseline", vs="prevention")  # always 50 above
    r = discover(b, o)
    assert r.result is None and r.n_interest == 0 and r.share == 0.0 and r.n == 100
    with pytest.raises(SweepError, match="give --vs"):
        discover(b, sweep_outcome(b, "new_deaths_all_est", AT, "strikes"))


def test_drawn_keys_join_the_factors_and_constant_ones_do_not():
    n = 100
    rng = np.random.default_rng(0)
    strikes_per_week = rng.uniform(0.5, 4.0, n)
    extra = {
        "strike_campaign.strikes_per_week": {"strikes": strikes_per_week},
        "strike_campaign.target_fixed": {"strikes": np.full(n, 2.0)},
        "recruitment.factor": {"prevention": rng.uniform(0.4, 0.6, n)},
    }
    _, _, b = box_bundle(n, extra=extra)
    x = factor_frame(b, "strikes", "prevention")
    assert list(x.columns) == ["a", "b", "c", "strike_campaign.strikes_per_week", "recruitment.factor"]
    np.testing.assert_array_equal(x["strike_campaign.strikes_per_week"], strikes_per_week)
    assert list(factor_frame(b, "strikes").columns) == ["a", "b", "c", "strike_campaign.strikes_per_week"]
    plain = bundle(None, {"baseline": np.zeros(5), "strikes": np.ones(5)}, n_rep=5)
    with pytest.raises(SweepError, match="samples no assumption"):
        factor_frame(plain, "strikes", "baseline")


def test_discover_cases_checks_shapes_and_nan_factors():
    import pandas as pd

    x = pd.DataFrame({"a": [0.1, 0.2, np.nan, 0.4]})
    r = discover_cases(x, np.array([-1.0, 1.0, -1.0, np.nan]))
    assert r.dropped == (2, 3) and r.y.tolist() == [True, False]
    with pytest.raises(SweepError, match="one difference per case"):
        discover_cases(x, np.zeros(3))
    with pytest.raises(SweepError, match="no case left"):
        discover_cases(x.iloc[:1], np.array([np.nan]))
