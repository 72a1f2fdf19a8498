"""The sweep glue: one outcome per design row from a bundle's tables, dates, windows, errors, and the method
chosen from the design (synthetic bundles with known answers; no model runs)."""

import datetime as dt

import numpy as np
import pytest

from cartelsim.analysis.sweeps import SweepError, sensitivity, sweep_outcome
from cartelsim.sampling import Factor, make_design

from .synthetic import bundle

D = dt.date
AT, SINCE, END = D(2026, 4, 2), D(2026, 1, 1), D(2027, 1, 1)  # week 13; the window start; the run's end
AB = [Factor("a", 0.0, 1.0), Factor("b", 10.0, 20.0)]


def linear_bundle(method: str, n: int, **options):
    d = make_design(method, AB, n, seed=4, **options)
    x = d.to_frame()
    base = 1000.0 + np.arange(d.n_rows)  # varies by replicate: pairing matters
    strikes = base + 5.0 * x["a"].to_numpy() + 0.0 * x["b"].to_numpy()
    return d, bundle(d, {"baseline": base, "strikes": strikes})


def test_paired_difference_and_window_sum():
    d, b = linear_bundle("lhs", 20)
    o = sweep_outcome(b, "new_deaths_all_est", AT, "strikes", vs="baseline")
    np.testing.assert_allclose(o.values, 5.0 * d.samples[:, 0], rtol=1e-12)
    np.testing.assert_allclose(o.vs_values, 1000.0 + np.arange(20))
    assert o.week == 13 and o.since_week is None and "at 2026-04-02 (week 13; the row sums weeks 13-25)" in o.period
    alone = sweep_outcome(b, "new_deaths_all_est", AT, "strikes")
    assert alone.vs is None and alone.vs_values is None
    np.testing.assert_allclose(alone.values, 1000.0 + np.arange(20) + 5.0 * d.samples[:, 0])
    # the whole year: four quarterly rows summed; END (the run's end) is allowed as the window's end
    w = sweep_outcome(b, "new_deaths_all_est", END, "strikes", vs="baseline", since=SINCE)
    np.testing.assert_allclose(w.values, 4 * 5.0 * d.samples[:, 0], rtol=1e-12)
    assert w.period == "summed over weeks 0-51 (2026-01-01 up to 2027-01-01, exclusive)"
    half = sweep_outcome(b, "new_deaths_all_est", D(2026, 7, 2), "strikes", since=SINCE)  # weeks 0 and 13
    np.testing.assert_allclose(half.values, 2 * (1000.0 + np.arange(20) + 5.0 * d.samples[:, 0]))
    assert "minus baseline (paired by replicate)" in w.description


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"variable": "n_drones"}, r"unknown variable 'n_drones'; the bundle records: n_members, new_deaths_all_est"),
        ({"policy": "drones"}, r"--policy 'drones': unknown policy; the bundle has: baseline, strikes"),
        ({"vs": "strikes"}, "another policy than 'strikes'"),
        ({"level": "state"}, r"no rows at level 'state'; levels: national"),
        ({"group": "N1"}, "no 'new_deaths_all_est' rows for group 'N1'"),
        (
            {"at": D(2026, 3, 1)},
            r"--at 2026-03-01 \(week 8\): not recorded .*nearest recorded dates: 2026-01-01 \(week 0\), "
            r"2026-04-02 \(week 13\), 2026-07-02 \(week 26\)",
        ),
        ({"at": D(2027, 1, 1)}, r"--at 2027-01-01: outside the run \(2026-01-01 to 2027-01-01, end exclusive\)"),
        ({"at": D(2025, 6, 1)}, "outside the run"),
        ({"since": D(2026, 2, 1)}, r"--since 2026-02-01 \(week 4\): not recorded"),
        ({"since": D(2026, 7, 2)}, "--at 2026-04-02 must come after --since 2026-07-02"),
        ({"since": SINCE, "at": D(2027, 3, 1)}, "end of a --since window"),
        ({"since": SINCE, "variable": "n_members"}, "'n_members' is a stock"),
    ],
)
def test_errors_name_what_is_allowed(kwargs, match):
    _, b = linear_bundle("lhs", 6)
    args = {"variable": "new_deaths_all_est", "at": AT, "policy": "strikes", "vs": None, **kwargs}
    with pytest.raises(SweepError, match=match):
        sweep_outcome(b, args.pop("variable"), args.pop("at"), args.pop("policy"), **args)


def test_morris_known_effects():
    _, b = linear_bundle("morris", 20)
    s = sensitivity(b, sweep_outcome(b, "new_deaths_all_est", AT, "strikes", vs="baseline"))
    assert s.method == "morris" and s.ranked_by == "mu_star" and s.n_rows == 60 and s.second_order is None
    t = s.table.set_index("factor")
    assert list(s.table["factor"]) == ["a", "b"] and list(s.table["rank"]) == [1, 2]
    # y = 5 a (a on [0, 1]): every elementary effect is 5 per factor range; b is inert
    assert t.loc["a", "mu_star"] == pytest.approx(5.0, rel=1e-9) and t.loc["a", "sigma"] == pytest.approx(0, abs=1e-9)
    assert t.loc["b", "mu_star"] == pytest.approx(0.0, abs=1e-9)


def test_sobol_known_shares_and_second_order():
    d = make_design("sobol", AB, 512, seed=1)
    x = d.to_frame()
    y = x["a"].to_numpy() + 0.2 * x["b"].to_numpy()  # variances 1/12 and 4/12: S1 = ST = 0.2 and 0.8
    b = bundle(d, {"baseline": np.zeros(d.n_rows), "strikes": y})
    s = sensitivity(b, sweep_outcome(b, "new_deaths_all_est", AT, "strikes", vs="baseline"))
    t = s.table.set_index("factor")
    assert s.method == "sobol" and s.ranked_by == "ST" and list(s.table["factor"]) == ["b", "a"]
    assert t.loc["a", "ST"] == pytest.approx(0.2, abs=0.03) and t.loc["b", "ST"] == pytest.approx(0.8, abs=0.03)
    assert t.loc["a", "S1"] == pytest.approx(0.2, abs=0.05) and t.loc["b", "S1"] == pytest.approx(0.8, abs=0.05)
    assert s.second_order is not None and abs(float(s.second_order["S2"].iloc[0])) < 0.05  # additive: no S2


def test_lhs_falls_back_to_rank_correlations():
    _, b = linear_bundle("lhs", 200)
    s = sensitivity(b, sweep_outcome(b, "new_deaths_all_est", AT, "strikes", vs="baseline"))
    assert s.method == "lhs" and s.ranked_by == "|prcc|" and list(s.table["factor"]) == ["a", "b"]
    t = s.table.set_index("factor")
    assert t.loc["a", "prcc"] == pytest.approx(1.0, abs=1e-9) and abs(t.loc["b", "prcc"]) < 0.2


def test_not_a_sweep_and_failed_experiments_are_named():
    _, b = linear_bundle("lhs", 6)
    plain = bundle(None, {"baseline": np.arange(6.0), "strikes": np.arange(6.0) + 1}, n_rep=6)
    o = sweep_outcome(plain, "new_deaths_all_est", AT, "strikes", vs="baseline")
    with pytest.raises(SweepError, match=r"not a sweep bundle.*cartelsim sweep"):
        sensitivity(plain, o)
    d = make_design("morris", AB, 4, seed=0)
    b = bundle(d, {"baseline": np.zeros(12), "strikes": np.ones(12)}, failed=[("strikes", 3), ("baseline", 7)])
    o = sweep_outcome(b, "new_deaths_all_est", AT, "strikes", vs="baseline")
    assert np.isnan(o.values[[3, 7]]).all() and np.isfinite(np.delete(o.values, [3, 7])).all()
    assert o.failed[["policy", "replicate"]].values.tolist() == [["baseline", 7], ["strikes", 3]]
    with pytest.raises(
        SweepError,
        match=r"2 of 12 design rows have no value.*experiment 7 \(baseline, replicate 7\): ValueError: synthetic "
        r"failure; experiment 15 \(strikes, replicate 3\).*morris indices need every design row",
    ):
        sensitivity(b, o)
