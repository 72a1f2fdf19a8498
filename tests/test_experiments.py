import numpy as np
import pandas as pd
import pytest

import cartelsim
from cartelsim import simulation
from cartelsim.experiments import experiment_specs, run_experiments
from cartelsim.rng import replicate_seeds

from .conftest import UNCERTAIN, small_text


def national(res, var, policy=None):
    o = res.outcomes
    m = (o["level"] == "national") & (o["variable"] == var)
    if policy:
        m &= o["policy"] == policy
    return o[m].sort_values(["experiment_id", "week"])


def test_experiment_ids_and_seeds(small_uncertain):
    specs = experiment_specs(small_uncertain)
    assert [s.experiment_id for s in specs] == list(range(12))
    assert [s.policy_index * 4 + s.replicate for s in specs] == [s.experiment_id for s in specs]
    seeds = replicate_seeds(7, 4)
    assert [s.seed for s in specs] == seeds * 3
    sub = experiment_specs(small_uncertain, policies=["double-incapacitation"])
    assert [s.experiment_id for s in sub] == [0, 1, 2, 3, 8, 9, 10, 11]
    with pytest.raises(KeyError, match="unknown policies nope"):
        experiment_specs(small_uncertain, policies=["nope"])


def test_uncertain_draws_paired_across_policies(small_uncertain):
    ex = run_experiments(small_uncertain, progress=False).experiments
    assert list(ex.columns[:7]) == [
        "experiment_id",
        "scenario",
        "policy",
        "replicate",
        "seed",
        "status",
        "message",
    ]
    draws = ex.pivot(index="replicate", columns="policy", values="recruitment_per_member_per_week")
    assert (draws.nunique(axis=1) == 1).all()  # same draw under every policy
    assert draws["baseline"].nunique() == 4  # different per replicate
    assert draws.to_numpy().min() >= 2.45e-3 and draws.to_numpy().max() <= 2.6e-3


def test_batching_does_not_change_numbers(small_uncertain):
    a = run_experiments(small_uncertain, progress=False, batch_size=1)
    b = run_experiments(small_uncertain, progress=False, batch_size=100)
    pd.testing.assert_frame_equal(a.outcomes, b.outcomes)
    one = run_experiments(small_uncertain, policies=[], progress=False)
    pd.testing.assert_frame_equal(
        national(one, "n_members").reset_index(drop=True),
        national(a, "n_members", "baseline").reset_index(drop=True),
        check_categorical=False,
    )


def test_noop_intervention_is_bit_identical():
    noop = small_text(3, UNCERTAIN) + (
        '\n[[policy]]\nname = "noop"\n  [[policy.intervention]]\n  type = "recruitment"\n'
        "  start = 2013-01-01\n  factor = 1.0\n"
        '  [[policy.intervention]]\n  type = "incapacitation"\n  start = 2012-01-01\n  factor = 1.0\n'
    )
    res = run_experiments(cartelsim.Scenario.from_text(noop), progress=False)
    o = res.outcomes
    base = o[o["policy"] == "baseline"]["value"].to_numpy()
    same = o[o["policy"] == "noop"]["value"].to_numpy()
    np.testing.assert_array_equal(base, same)


def test_interventions_act_from_their_start(small):
    res = run_experiments(small, progress=False)
    b = national(res, "new_recruits", "baseline")["value"].to_numpy()
    h = national(res, "new_recruits", "halve-recruitment")["value"].to_numpy()
    np.testing.assert_array_equal(b[:104], h[:104])
    assert h[104] == pytest.approx(b[104] / 2, rel=1e-12)  # same state at week 104, half the rate
    d = national(res, "new_incapacitated", "double-incapacitation")["value"].to_numpy()
    np.testing.assert_allclose(d[:104], 110.0)
    np.testing.assert_allclose(d[104:], 220.0)


def test_ramp_and_end():
    text = small_text(1).replace("  factor = 0.5\n", "  factor = 0.5\n  ramp_weeks = 4\n  end = 2015-01-01\n", 1)
    res = run_experiments(cartelsim.Scenario.from_text(text), progress=False)
    b = national(res, "new_recruits", "baseline")
    h = national(res, "new_recruits", "halve-recruitment")
    mb = national(res, "n_members", "baseline")["value"].to_numpy()
    mh = national(res, "n_members", "halve-recruitment")["value"].to_numpy()
    rate = h["value"].to_numpy() / mh
    base_rate = b["value"].to_numpy() / mb
    np.testing.assert_allclose(rate[104:108] / base_rate[104:108], [0.875, 0.75, 0.625, 0.5])
    np.testing.assert_allclose(rate[108:156] / base_rate[108:156], 0.5)
    np.testing.assert_allclose(rate[156:] / base_rate[156:], 1.0)


def test_failed_experiment_recorded_as_failed(small, monkeypatch):
    real = simulation.simulate_batch

    def flaky(scenario, experiments, progress=None):
        if any(s.policy == "halve-recruitment" for s in experiments):
            raise FloatingPointError("boom")
        return real(scenario, experiments, progress)

    monkeypatch.setattr("cartelsim.experiments.simulate_batch", flaky)
    res = run_experiments(small, progress=False)
    ex = res.experiments.set_index("policy")
    assert ex.loc["halve-recruitment", "status"] == "failed"
    assert "FloatingPointError: boom" in ex.loc["halve-recruitment", "message"]
    assert ex.loc["baseline", "status"] == "ok" and ex.loc["baseline", "message"] == ""
    assert 1 not in set(res.outcomes["experiment_id"])  # no rows, never zeros
    assert {0, 2} <= set(res.outcomes["experiment_id"])


def test_recording_intervals_sum_flows(small):
    weekly = run_experiments(small, progress=False)
    four = run_experiments(small.replace(record=cartelsim.scenario.Record(national=4, groups=26)), progress=False)
    w = national(weekly, "new_conflict_deaths", "baseline")["value"].to_numpy()
    f = national(four, "new_conflict_deaths", "baseline")
    assert f["week"].tolist() == list(range(0, 208, 4))
    np.testing.assert_allclose(f["value"].to_numpy(), w.reshape(-1, 4).sum(1), rtol=1e-12)
    stock_w = national(weekly, "n_members", "baseline")["value"].to_numpy()[::4]
    np.testing.assert_allclose(national(four, "n_members", "baseline")["value"].to_numpy(), stock_w)
    o = four.outcomes
    cart = o[(o["level"] == "cartel") & (o["variable"] == "new_conflict_deaths") & (o["policy"] == "baseline")]
    by_week = cart.groupby("week")["value"].sum()
    np.testing.assert_allclose(by_week.to_numpy(), w.reshape(-1, 26).sum(1), rtol=1e-9)


def test_spinup_matches_long_run():
    long = cartelsim.Scenario.from_text('[scenario]\nname = "a"\nstart = 2012-01-01\nend = 2016-01-01\n')
    late = cartelsim.Scenario.from_text('[scenario]\nname = "a"\nstart = 2014-01-01\nend = 2016-01-01\n')
    a = national(run_experiments(long, progress=False), "n_members")["value"].to_numpy()
    b = national(run_experiments(late, progress=False), "n_members")
    np.testing.assert_array_equal(a[104:], b["value"].to_numpy())
    assert b["date"].iloc[0].isoformat() == "2014-01-01" and b["week"].iloc[0] == 0


def test_victims_and_cartels(small):
    res = run_experiments(small, progress=False)
    d = national(res, "new_conflict_deaths", "baseline")["value"].to_numpy()
    v = national(res, "new_victims_est", "baseline")["value"].to_numpy()
    np.testing.assert_allclose(v, d / 0.10)
    n = national(res, "n_cartels", "baseline")["value"].to_numpy()
    assert n.max() <= 148 and n.min() >= 140


def test_summary_quantiles(small_uncertain):
    res = run_experiments(small_uncertain, progress=False)
    s = res.summary(variables=["n_members"])
    assert list(s.columns) == ["policy", "variable", "week", "date", "q10", "q50", "q90"]
    assert (s["q10"] <= s["q50"]).all() and (s["q50"] <= s["q90"]).all()
    assert s["policy"].iloc[0] == "baseline"
    assert (s.loc[s["week"] > 10, "q90"] > s.loc[s["week"] > 10, "q10"]).all()


def test_general_loop_equals_fused(small_uncertain):
    from cartelsim.experiments import experiment_specs
    from cartelsim.simulation import simulate_batch

    specs = experiment_specs(small_uncertain)
    a = simulate_batch(small_uncertain, specs, fused=True)
    b = simulate_batch(small_uncertain, specs, fused=False)
    assert a.levels.keys() == b.levels.keys()
    for lev in a.levels:
        assert a.levels[lev][0] == b.levels[lev][0]
        for v, arr in a.levels[lev][2].items():
            np.testing.assert_allclose(b.levels[lev][2][v], arr, rtol=1e-11, atol=1e-9, err_msg=f"{lev} {v}")
