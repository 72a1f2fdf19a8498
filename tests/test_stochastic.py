"""Stochastic ecosystem runs: integer draws, common random numbers, and the ensemble mean (issue 3)."""

import numpy as np
import pytest
from scipy import stats

import cartelsim
from cartelsim.ecosystem import EcosystemModel, Flows, load_network
from cartelsim.experiments import experiment_specs
from cartelsim.rng import Streams, replicate_seeds
from cartelsim.scenario import ScenarioError
from cartelsim.simulation import simulate_batch
from cartelsim.stochastic import FLOW_STREAMS, INITIAL_STREAM, StochasticFlows, poisson_inverse

P = dict(rho=2.527474e-3, eta=110.0, theta=1.549231e-8, omega=4e-8)

TEXT = """
[scenario]
name = "stoch"
start = {start}
end = {end}
seed = 11
replicates = {n}
stochastic = {stochastic}
record = {{ national = 1, groups = {groups} }}
{extra}
"""


def scenario(n=1, start="2012-01-01", end="2014-01-01", stochastic="true", groups="52", extra=""):
    return cartelsim.Scenario.from_text(
        TEXT.format(n=n, start=start, end=end, stochastic=stochastic, groups=groups, extra=extra)
    )


def national(res, var):
    o = res.outcomes
    o = o[(o["level"] == "national") & (o["variable"] == var)]
    return o.pivot_table(index=["policy", "replicate"], columns="week", values="value", observed=True)


def arrays(e, **kw):
    p = {**P, **kw}
    return [np.full(e, p[k]) for k in ("rho", "eta", "theta", "omega")]


@pytest.mark.parametrize("mean", [0.0, 1e-4, 0.3, 2.0, 29.99, 30.0, 75.0, 1234.5, 2e5])
def test_poisson_inverse_is_the_exact_quantile(mean):
    u = np.random.default_rng(1).random(20_000 if mean < 1000 else 2_000)
    np.testing.assert_array_equal(poisson_inverse(u, np.full(u.size, mean)), stats.poisson.ppf(u, mean))


def test_poisson_inverse_edge_cases():
    out = poisson_inverse(np.array([0.5, 0.5, 0.0, 1 - 1e-16]), np.array([-1.0, np.nan, 5.0, 5.0]))
    assert out[0] == 0.0 and np.isnan(out[1]) and out[2] == 0.0 and 20 < out[3] < 40


@pytest.mark.parametrize("name", [*FLOW_STREAMS, INITIAL_STREAM])
def test_uniforms_are_those_of_the_named_streams(name):
    seeds = replicate_seeds(3, 4)
    sampler, streams = StochasticFlows(seeds), Streams(seeds)
    for week in (0, 1, 519, 10**6):
        for n in (1, 3, 150, 151):
            mine = sampler.uniforms(name, week, n)
            ref = np.array([streams.generator(name, week, e).random(n) for e in range(len(seeds))])
            np.testing.assert_array_equal(mine, ref)


def test_draws_are_integers_and_removals_never_exceed_members():
    m = EcosystemModel(load_network())
    sampler = StochasticFlows([5, 6, 7])
    c = sampler.initial_state(m.initial_state(np.full(3, 2000.0)))  # tiny cartels
    assert (c == np.round(c)).all() and (c >= 0).all()
    for week in range(20):
        f = m.flows(c, *arrays(3, eta=3000.0, theta=1e-6), out=None)  # far more removals than members
        sampler.sample(f, c, week)
        for x in (f.recruits, f.incapacitated, f.deaths, f.exits):
            assert (x == np.round(x)).all() and (x >= 0).all()
        assert (f.incapacitated + f.deaths + f.exits <= c + f.recruits).all()
        f.apply(c)
        assert (c >= 0).all() and (c == np.round(c)).all()
    assert (c == 0).sum() > 100  # the huge budget empties most cartels


def test_capped_cartel_loses_exactly_what_it_has():
    n = 150
    c = np.full((1, n), 3.0)
    f = Flows(np.full((1, n), 0.5), np.full((1, n), 30.0), np.full((1, n), 20.0), np.full((1, n), 10.0))
    StochasticFlows([1]).sample(f, c, 0)
    np.testing.assert_array_equal(f.incapacitated + f.deaths + f.exits, c + f.recruits)
    # shared out by size of the draws: incapacitations, the largest mean, take the largest part on average
    assert f.incapacitated.mean() > f.deaths.mean() > f.exits.mean()
    empty = np.zeros((1, n))
    f = Flows(*(np.zeros((1, n)) for _ in range(4)))
    StochasticFlows([1]).sample(f, empty, 0)
    assert not any(x.any() for x in (f.recruits, f.incapacitated, f.deaths, f.exits))


def test_incapacitations_keep_the_budget_in_expectation():
    m = EcosystemModel(load_network())
    sampler = StochasticFlows(replicate_seeds(2, 50))
    c = m.initial_state(np.full(50, 115000.0))
    tot = []
    for week in range(40):
        f = m.flows(c, *arrays(50))
        sampler.sample(f, c, week)
        tot.append(f.incapacitated.sum(1))
    tot = np.concatenate(tot)
    # sum of independent Poisson(eta C_i / C) ~ Poisson(eta): mean and variance 110 (2,000 draws)
    assert tot.mean() == pytest.approx(110.0, abs=4 * np.sqrt(110 / tot.size))
    assert tot.var() == pytest.approx(110.0, rel=0.15)


def test_poisson_start():
    m = EcosystemModel(load_network())
    expected = m.initial_state(np.full(300, 115000.0))
    c = StochasticFlows(replicate_seeds(9, 300)).initial_state(expected)
    assert (c == np.round(c)).all()
    # each cartel's mean over 300 replicates is its Zipf value within 5 standard errors
    se = np.sqrt(expected[0] / 300)
    assert (np.abs(c.mean(0) - expected[0]) < 5 * se + 0.05).all()
    assert c.sum(1).std() == pytest.approx(np.sqrt(115000.0), rel=0.15)


@pytest.fixture(scope="module")
def ensemble():
    """200 stochastic replicates and the deterministic run to 2023 (spec: the mean matches within 1%)."""
    det = cartelsim.run(scenario(end="2023-01-01", stochastic="false", groups='"none"'), progress=False)
    sto = cartelsim.run(scenario(200, end="2023-01-01", groups='"none"'), progress=False)
    return national(det, "n_members"), national(det, "new_conflict_deaths"), sto


def test_ensemble_mean_matches_the_deterministic_run(ensemble):
    det_m, det_d, sto = ensemble
    m, d = national(sto, "n_members").to_numpy(), national(sto, "new_conflict_deaths").to_numpy()
    assert m.shape == (200, 572)
    # members at week 520 within 1% (measured: +0.01%, 173,817 against 173,800)
    assert m[:, 520].mean() == pytest.approx(det_m.to_numpy()[0, 520], rel=0.01)
    # weekly deaths at week 520: Poisson noise sd ~11 per replicate (0.7% on the mean of 200); 3% tolerance
    assert d[:, 520].mean() == pytest.approx(det_d.to_numpy()[0, 520], rel=0.03)  # measured: +0.5%, 124.9 vs 124.3
    # mean weekly deaths over 2021 (weeks 468..519) and the sum over weeks 0..519 within 1%
    assert d[:, 468:520].mean() == pytest.approx(det_d.to_numpy()[0, 468:520].mean(), rel=0.01)
    assert d[:, :520].sum(1).mean() == pytest.approx(det_d.to_numpy()[0, :520].sum(), rel=0.01)
    # demographic noise is there: replicates differ, and the spread of members is of Poisson order
    assert 300 < m[:, 520].std() < 3000


def test_outcomes_are_whole_numbers(ensemble):
    o = ensemble[2].outcomes
    flows = o[o["variable"].isin(["n_members", "new_recruits", "new_incapacitated", "new_conflict_deaths"])]
    v = flows["value"].to_numpy()
    np.testing.assert_array_equal(v, np.round(v))


def test_noop_intervention_is_bit_identical():
    extra = """
[[policy]]
name = "noop"
  [[policy.intervention]]
  type = "recruitment"
  start = 2013-01-01
  factor = 1.0

[[policy]]
name = "halve"
  [[policy.intervention]]
  type = "recruitment"
  start = 2013-01-01
  factor = 0.5
"""
    res = cartelsim.run(scenario(3, extra=extra), progress=False)
    o = res.outcomes
    cols = ["replicate", "week", "level", "group", "variable", "value"]

    def rows(policy):
        return o[o["policy"] == policy][cols].sort_values(cols[:5]).reset_index(drop=True)

    base, noop, halve = rows("baseline"), rows("noop"), rows("halve")
    np.testing.assert_array_equal(base["value"].to_numpy(), noop["value"].to_numpy())
    # before the intervention starts, a real policy leaves every draw unchanged; after, it changes recruits
    before = (base["week"] < 52).to_numpy()
    np.testing.assert_array_equal(base["value"].to_numpy()[before], halve["value"].to_numpy()[before])
    rec = (base["variable"] == "new_recruits").to_numpy() & (base["level"] == "national").to_numpy() & ~before
    assert (halve["value"].to_numpy()[rec] < base["value"].to_numpy()[rec]).mean() > 0.9


def test_a_replicate_is_the_same_alone_or_in_a_batch():
    sc = scenario(
        3, extra='[uncertainty]\nrecruitment_per_member_per_week = { dist = "uniform", low = 2.4e-3, high = 2.6e-3 }'
    )
    specs = experiment_specs(sc)
    batch = simulate_batch(sc, specs)
    for k in (0, 2):
        alone = simulate_batch(sc, [specs[k]])
        for level, (_, _, arrs) in batch.levels.items():
            for var, a in arrs.items():
                np.testing.assert_array_equal(a[k], alone.levels[level][2][var][0], err_msg=f"{level}/{var}")
    # replicates differ from one another
    m = batch.levels["national"][2]["n_members"]
    assert not np.array_equal(m[0], m[1])


def test_same_seed_same_numbers_other_seed_other_numbers():
    a = national(cartelsim.run(scenario(2), progress=False), "new_conflict_deaths").to_numpy()
    b = national(cartelsim.run(scenario(2), progress=False), "new_conflict_deaths").to_numpy()
    other = cartelsim.run(scenario(2).replace(seed=12), progress=False)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, national(other, "new_conflict_deaths").to_numpy())


def test_spin_up_uses_the_same_streams():
    """A later start is spun up from 2012 with the same random streams (DESIGN.md, Time)."""
    full = national(cartelsim.run(scenario(2, end="2015-01-01"), progress=False), "n_members").to_numpy()
    late = national(cartelsim.run(scenario(2, start="2014-01-01", end="2015-01-01"), progress=False), "n_members")
    np.testing.assert_array_equal(full[:, 104:], late.to_numpy())


def test_stochastic_needs_the_weekly_step():
    text = TEXT.format(n=1, start="2012-01-01", end="2013-01-01", stochastic="true", groups="52", extra="")
    cartelsim.Scenario.from_text(text)  # accepted
    with pytest.raises(ScenarioError, match=r"key 'solver'.*stochastic runs use the weekly step"):
        cartelsim.Scenario.from_text(text.replace("stochastic = true", 'stochastic = true\nsolver = "adaptive"'))


def test_fused_loop_refuses_stochastic():
    sc = scenario()
    with pytest.raises(ValueError, match="fused loop"):
        simulate_batch(sc, experiment_specs(sc), fused=True)
